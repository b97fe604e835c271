//! Conversations, roles and verdicts.
//!
//! Owns: grouping decided connections into conversations (client address,
//! server address, server port, protocol), the roles of each host (from the
//! inventory, or inferred from the ports a host is seen serving), matching
//! conversations against catalog rules and their conditions, the verdict, and
//! the sentence that tells a person what to do about it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::catalog::{CatalogSet, Rule, Scope, Side};
use crate::decode::Transport;
use crate::flow::{ConnRecord, State};
use crate::inventory::Inventory;

/// The verdict of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    Blocked,
    WrongDirection,
    Unexpected,
    Expected,
    Unlisted,
}

impl Verdict {
    /// In the order reports list them (most severe first).
    pub const ALL: [Verdict; 5] = [
        Verdict::Blocked,
        Verdict::WrongDirection,
        Verdict::Unexpected,
        Verdict::Expected,
        Verdict::Unlisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Blocked => "blocked",
            Verdict::WrongDirection => "wrong_direction",
            Verdict::Unexpected => "unexpected",
            Verdict::Expected => "expected",
            Verdict::Unlisted => "unlisted",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Severity for baseline comparison: higher is worse. `expected` and
    /// `unlisted` are not findings and rank alike.
    pub fn severity(self) -> u8 {
        match self {
            Verdict::Blocked => 3,
            Verdict::WrongDirection => 2,
            Verdict::Unexpected => 1,
            Verdict::Expected | Verdict::Unlisted => 0,
        }
    }

    pub fn is_finding(self) -> bool {
        self.severity() > 0
    }
}

/// Identity of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConvKey {
    pub client: IpAddr,
    pub server: IpAddr,
    pub server_port: u16,
    pub transport: Transport,
}

/// The connections of one conversation, added up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub key: ConvKey,
    pub connections: u64,
    pub states: [u64; State::ALL.len()],
    pub packets: u64,
    pub bytes: u64,
    pub first_ns: i64,
    pub last_ns: i64,
    /// Connections whose opening was not captured.
    pub started_before_capture: u64,
    /// SYNs of the failed TCP attempts, unanswered datagrams of UDP ones.
    pub failed_attempts: u64,
    pub attempt_first_ns: i64,
    pub attempt_last_ns: i64,
    /// Third parties that sent an ICMP unreachable for it.
    pub icmp_reporters: BTreeSet<IpAddr>,
    /// The server itself sent an ICMP unreachable.
    pub icmp_from_server: bool,
    /// TTLs of the RSTs that refused it.
    pub refusal_ttls: BTreeSet<u8>,
    /// Connections of other clients folded into this one because the
    /// conversation table was full (its client is then the unspecified address).
    pub folded: u64,
}

impl Conversation {
    fn new(key: ConvKey, first_ns: i64) -> Conversation {
        Conversation {
            key,
            connections: 0,
            states: [0; State::ALL.len()],
            packets: 0,
            bytes: 0,
            first_ns,
            last_ns: first_ns,
            started_before_capture: 0,
            failed_attempts: 0,
            attempt_first_ns: i64::MAX,
            attempt_last_ns: i64::MIN,
            icmp_reporters: BTreeSet::new(),
            icmp_from_server: false,
            refusal_ttls: BTreeSet::new(),
            folded: 0,
        }
    }

    pub fn count(&self, state: State) -> u64 {
        self.states[state as usize]
    }

    fn add(&mut self, rec: &ConnRecord) {
        self.connections += 1;
        self.states[rec.state as usize] += 1;
        self.packets += rec.packets;
        self.bytes += rec.bytes;
        self.first_ns = self.first_ns.min(rec.first_ns);
        self.last_ns = self.last_ns.max(rec.last_ns);
        self.started_before_capture += u64::from(rec.started_before_capture);
        match rec.state {
            State::NoReply | State::Refused | State::Unreachable | State::Unanswered => {
                self.failed_attempts += u64::from(match rec.transport {
                    Transport::Tcp => rec.syns.max(1),
                    Transport::Udp => rec.unanswered_datagrams.max(1),
                });
                self.attempt_first_ns = self.attempt_first_ns.min(rec.attempt_first_ns);
                self.attempt_last_ns = self.attempt_last_ns.max(rec.attempt_last_ns);
            }
            _ => {}
        }
        if rec.state == State::Unreachable {
            if let Some(by) = rec.failed_by {
                if by == rec.server {
                    self.icmp_from_server = true;
                } else {
                    self.icmp_reporters.insert(by);
                }
            }
        }
        if rec.state == State::Refused {
            if let Some(ttl) = rec.rst_ttl {
                self.refusal_ttls.insert(ttl);
            }
        }
    }

    fn merge(&mut self, other: Conversation) {
        self.connections += other.connections;
        for (a, b) in self.states.iter_mut().zip(other.states) {
            *a += b;
        }
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        self.started_before_capture += other.started_before_capture;
        self.failed_attempts += other.failed_attempts;
        self.attempt_first_ns = self.attempt_first_ns.min(other.attempt_first_ns);
        self.attempt_last_ns = self.attempt_last_ns.max(other.attempt_last_ns);
        self.icmp_reporters.extend(other.icmp_reporters);
        self.icmp_from_server |= other.icmp_from_server;
        self.refusal_ttls.extend(other.refusal_ttls);
        self.folded += other.folded;
    }
}

/// Conversations kept one by one at most, by default; beyond, new clients
/// of a server port are folded into one conversation (see [`ConversationTable`]).
pub const DEFAULT_MAX_CONVERSATIONS: usize = 250_000;

/// Connections grouped into conversations, plus what hosts revealed about themselves.
///
/// Memory follows the number of conversations; a flood from millions of
/// spoofed sources would make millions. Beyond `limit`, a connection of a
/// conversation not seen yet is folded into the conversation of its server
/// port whose client is the unspecified address (`0.0.0.0` or `::`), and
/// counted in [`Conversation::folded`].
#[derive(Clone, Debug)]
pub struct ConversationTable {
    pub conversations: FxHashMap<ConvKey, Conversation>,
    /// TTLs each host's own packets carried (other than RSTs): a few distinct values.
    pub host_ttls: FxHashMap<IpAddr, BTreeSet<u8>>,
    pub connections: u64,
    /// Connections folded because the table was full.
    pub folded_connections: u64,
    limit: usize,
}

impl Default for ConversationTable {
    fn default() -> Self {
        ConversationTable::with_limit(DEFAULT_MAX_CONVERSATIONS)
    }
}

impl ConversationTable {
    pub fn with_limit(limit: usize) -> ConversationTable {
        ConversationTable {
            conversations: FxHashMap::default(),
            host_ttls: FxHashMap::default(),
            connections: 0,
            folded_connections: 0,
            limit: limit.max(1),
        }
    }

    /// The key a conversation is counted under: itself, or its fold when full.
    fn slot(&self, key: ConvKey) -> (ConvKey, bool) {
        if self.conversations.len() < self.limit || self.conversations.contains_key(&key) {
            return (key, false);
        }
        let client = match key.server {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        };
        (ConvKey { client, ..key }, true)
    }

    pub fn add(&mut self, rec: &ConnRecord) {
        self.connections += 1;
        let (key, folded) = self.slot(ConvKey {
            client: rec.client,
            server: rec.server,
            server_port: rec.server_port,
            transport: rec.transport,
        });
        let conv = self
            .conversations
            .entry(key)
            .or_insert_with(|| Conversation::new(key, rec.first_ns));
        conv.add(rec);
        if folded {
            conv.folded += 1;
            self.folded_connections += 1;
        }
        for (host, ttl) in [(rec.server, rec.server_ttl), (rec.client, rec.client_ttl)] {
            if let Some(ttl) = ttl {
                self.note_ttl(host, ttl);
            }
        }
    }

    fn note_ttl(&mut self, host: IpAddr, ttl: u8) {
        if self.host_ttls.len() >= self.limit && !self.host_ttls.contains_key(&host) {
            return;
        }
        let set = self.host_ttls.entry(host).or_default();
        if set.len() < 8 {
            set.insert(ttl);
        }
    }

    pub fn merge(&mut self, other: ConversationTable) {
        self.connections += other.connections;
        self.folded_connections += other.folded_connections;
        for (key, conv) in other.conversations {
            let (key, folded) = self.slot(key);
            match self.conversations.entry(key) {
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if folded {
                        e.get_mut().folded += conv.connections - conv.folded;
                        self.folded_connections += conv.connections - conv.folded;
                    }
                    e.get_mut().merge(conv);
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    let mut conv = conv;
                    if folded {
                        conv.key = key;
                        self.folded_connections += conv.connections - conv.folded;
                        conv.folded = conv.connections;
                    }
                    e.insert(conv);
                }
            }
        }
        for (host, ttls) in other.host_ttls {
            for ttl in ttls {
                self.note_ttl(host, ttl);
            }
        }
    }
}

/// A host that holds at least one role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRoles {
    pub address: IpAddr,
    pub name: Option<String>,
    pub os: Option<String>,
    /// As the inventory (or inference) gives them; implied roles not listed.
    pub roles: Vec<String>,
    pub inferred: bool,
}

/// A conversation with its verdict.
#[derive(Clone, Debug)]
pub struct Classified {
    pub conv: Conversation,
    pub verdict: Verdict,
    pub rule: Option<String>,
    pub client_roles: Vec<String>,
    pub server_roles: Vec<String>,
    pub reason: String,
    pub blocked_by: Option<IpAddr>,
}

/// Rule usage for the coverage table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleUse {
    pub id: String,
    pub conversations: u64,
    pub blocked: u64,
    pub reversed: u64,
}

/// Everything classification found.
#[derive(Clone, Debug)]
pub struct Classification {
    /// Sorted by verdict severity, then client, server, port, protocol.
    pub conversations: Vec<Classified>,
    pub hosts: Vec<HostRoles>,
    pub rules: Vec<RuleUse>,
}

/// What is known about the hosts: roles, names, OS.
struct Roles<'a> {
    catalogs: &'a CatalogSet,
    inventory: Option<&'a Inventory>,
    /// Roles as given (inventory or inference), per address.
    given: FxHashMap<IpAddr, HostRoles>,
    /// Expanded with implied roles.
    expanded: FxHashMap<IpAddr, Vec<String>>,
}

impl<'a> Roles<'a> {
    fn build(
        catalogs: &'a CatalogSet,
        inventory: Option<&'a Inventory>,
        table: &ConversationTable,
    ) -> Roles<'a> {
        let mut given: FxHashMap<IpAddr, HostRoles> = FxHashMap::default();
        let mut addresses: BTreeSet<IpAddr> = BTreeSet::new();
        for key in table.conversations.keys() {
            addresses.insert(key.client);
            addresses.insert(key.server);
        }
        match inventory {
            Some(inv) => {
                for &addr in &addresses {
                    if let Some(info) = inv.lookup(addr) {
                        given.insert(
                            addr,
                            HostRoles {
                                address: addr,
                                name: info.name,
                                os: info.os,
                                roles: info.roles,
                                inferred: false,
                            },
                        );
                    }
                }
            }
            None => {
                let mut inferred: BTreeMap<IpAddr, BTreeSet<String>> = BTreeMap::new();
                for conv in table.conversations.values() {
                    let served = conv.count(State::Established)
                        + conv.count(State::Reset)
                        + conv.count(State::Answered);
                    if served == 0 || same_host(conv.key.client, conv.key.server) {
                        continue;
                    }
                    for rule in catalogs.rules_for(conv.key.server_port, conv.key.transport) {
                        if rule.scope == Scope::Network && rule.companion.is_none() {
                            inferred
                                .entry(conv.key.server)
                                .or_default()
                                .extend(rule.servers.iter().cloned());
                        }
                    }
                }
                for (addr, roles) in inferred {
                    let roles: Vec<String> = roles.into_iter().collect();
                    // List only the roles no other listed role implies.
                    let listed: Vec<String> = roles
                        .iter()
                        .filter(|r| {
                            !roles.iter().any(|o| {
                                o != *r
                                    && catalogs.expand_roles(std::slice::from_ref(o)).contains(r)
                            })
                        })
                        .cloned()
                        .collect();
                    given.insert(
                        addr,
                        HostRoles {
                            address: addr,
                            name: None,
                            os: None,
                            roles: listed,
                            inferred: true,
                        },
                    );
                }
            }
        }
        given.retain(|_, h| !h.roles.is_empty() || h.name.is_some() || h.os.is_some());
        let expanded = given
            .iter()
            .map(|(addr, h)| (*addr, catalogs.expand_roles(&h.roles)))
            .collect();
        Roles {
            catalogs,
            inventory,
            given,
            expanded,
        }
    }

    fn given(&self, addr: IpAddr) -> &[String] {
        self.given
            .get(&addr)
            .map(|h| h.roles.as_slice())
            .unwrap_or(&[])
    }

    fn expanded(&self, addr: IpAddr) -> &[String] {
        self.expanded
            .get(&addr)
            .map(|r| r.as_slice())
            .unwrap_or(&[])
    }

    fn os(&self, addr: IpAddr) -> Option<&str> {
        self.given.get(&addr).and_then(|h| h.os.as_deref())
    }

    /// Without an inventory, a host with no known role may be anything.
    fn is_wildcard(&self, addr: IpAddr) -> bool {
        self.inventory.is_none() && self.expanded(addr).is_empty()
    }

    fn holds_any(&self, addr: IpAddr, roles: &[String]) -> bool {
        self.is_wildcard(addr) || self.expanded(addr).iter().any(|r| roles.contains(r))
    }

    fn feature(&self, catalog: &str, feature: &str) -> bool {
        self.inventory
            .is_some_and(|inv| inv.feature_enabled(catalog, feature))
    }

    /// How a host is called in sentences: "agent 10.1.2.3" or "host 10.1.2.3".
    fn describe(&self, addr: IpAddr) -> String {
        let roles = self.given(addr);
        let name = self
            .given
            .get(&addr)
            .and_then(|h| h.name.as_deref())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        match roles.first() {
            Some(role) => format!("{} {addr}{name}", self.role_label(role)),
            None => format!("host {addr}{name}"),
        }
    }

    fn role_label(&self, qualified: &str) -> String {
        self.catalogs
            .role(qualified)
            .filter(|r| !r.en.is_empty())
            .map(|r| r.en.clone())
            .unwrap_or_else(|| {
                qualified
                    .rsplit('.')
                    .next()
                    .unwrap_or(qualified)
                    .replace('_', " ")
            })
    }

    fn role_list(&self, roles: &[String]) -> String {
        let labels: Vec<String> = roles.iter().map(|r| self.role_label(r)).collect();
        labels.join(" or ")
    }
}

fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a == b || (a.is_loopback() && b.is_loopback())
}

/// Why a rule on the conversation's port does not allow it.
enum Mismatch {
    Roles,
    SameHostOnly,
    Feature(String),
    Os { host: IpAddr, os: String },
    Companion,
}

/// Does `rule` allow `client` to open the connection to `server`?
fn check_rule(
    rule: &Rule,
    client: IpAddr,
    server: IpAddr,
    roles: &Roles<'_>,
    table: &ConversationTable,
) -> Result<(), Mismatch> {
    if rule.scope == Scope::SameHost {
        return if same_host(client, server) {
            Ok(())
        } else {
            Err(Mismatch::SameHostOnly)
        };
    }
    if let Some(companion) = &rule.companion {
        if !has_companion(companion, client, server, roles.catalogs, table) {
            return Err(Mismatch::Companion);
        }
    }
    if !roles.holds_any(client, &rule.clients) || !roles.holds_any(server, &rule.servers) {
        return Err(Mismatch::Roles);
    }
    if let Some(feature) = &rule.requires_feature {
        if !roles.feature(&rule.catalog, feature) {
            return Err(Mismatch::Feature(feature.clone()));
        }
    }
    if let Some(excl) = &rule.exclude_os {
        let sides: &[IpAddr] = match excl.side {
            Side::Client => &[client],
            Side::Server => &[server],
            Side::Either => &[client, server],
        };
        for &host in sides {
            if roles
                .os(host)
                .is_some_and(|os| os.eq_ignore_ascii_case(&excl.os))
            {
                return Err(Mismatch::Os {
                    host,
                    os: excl.os.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Is there a conversation of the companion rule between the same two hosts?
fn has_companion(
    companion: &str,
    client: IpAddr,
    server: IpAddr,
    catalogs: &CatalogSet,
    table: &ConversationTable,
) -> bool {
    let Some(rule) = catalogs.rule(companion) else {
        return false;
    };
    rule.ports.ranges.iter().any(|&(a, b)| {
        (a..=b).any(|port| {
            table.conversations.contains_key(&ConvKey {
                client,
                server,
                server_port: port,
                transport: rule.protocol,
            })
        })
    })
}

/// The most specific of several rules: a same-host rule (its condition is the
/// strictest), then the fewest ports, then the fewest role pairs, then catalog
/// order (the iterator's order).
fn most_specific<'r>(rules: impl Iterator<Item = &'r Rule>) -> Option<&'r Rule> {
    rules.min_by_key(|r| {
        (
            r.scope != Scope::SameHost,
            r.ports.width(),
            r.clients.len() * r.servers.len(),
        )
    })
}

/// Classifies every conversation.
pub fn classify(
    table: &ConversationTable,
    catalogs: &CatalogSet,
    inventory: Option<&Inventory>,
) -> Classification {
    let roles = Roles::build(catalogs, inventory, table);
    let mut out: Vec<Classified> = table
        .conversations
        .values()
        .map(|conv| classify_one(conv, &roles, table))
        .collect();
    out.sort_by_key(|c| (c.verdict, c.conv.key));

    let mut uses: Vec<RuleUse> = catalogs
        .rules()
        .map(|r| RuleUse {
            id: r.id.clone(),
            conversations: 0,
            blocked: 0,
            reversed: 0,
        })
        .collect();
    let index: FxHashMap<&str, usize> = uses
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.as_str(), i))
        .collect();
    let mut counts = vec![(0u64, 0u64, 0u64); uses.len()];
    for c in &out {
        let Some(&i) = c.rule.as_deref().and_then(|id| index.get(id)) else {
            continue;
        };
        match c.verdict {
            Verdict::Expected => counts[i].0 += 1,
            Verdict::Blocked => {
                counts[i].0 += 1;
                counts[i].1 += 1;
            }
            Verdict::WrongDirection => counts[i].2 += 1,
            _ => {}
        }
    }
    for (u, (c, b, r)) in uses.iter_mut().zip(counts) {
        u.conversations = c;
        u.blocked = b;
        u.reversed = r;
    }

    let mut hosts: Vec<HostRoles> = roles
        .given
        .values()
        .filter(|h| !h.roles.is_empty())
        .cloned()
        .collect();
    hosts.sort_by_key(|h| h.address);
    Classification {
        conversations: out,
        hosts,
        rules: uses,
    }
}

fn classify_one(conv: &Conversation, roles: &Roles<'_>, table: &ConversationTable) -> Classified {
    let mut result = classify_key(conv, roles, table);
    if conv.folded > 0 {
        result.reason = format!(
            "{} connections from clients beyond the conversation limit are folded into this line \
             (client {}): a flood or scan? {}",
            conv.folded, conv.key.client, result.reason
        );
    }
    result
}

fn classify_key(conv: &Conversation, roles: &Roles<'_>, table: &ConversationTable) -> Classified {
    let key = conv.key;
    let catalogs = roles.catalogs;
    let candidates: Vec<&Rule> = catalogs
        .rules_for(key.server_port, key.transport)
        .filter(|r| match &r.companion {
            Some(c) => has_companion(c, key.client, key.server, catalogs, table),
            None => true,
        })
        .collect();
    let client_roles = roles.given(key.client).to_vec();
    let server_roles = roles.given(key.server).to_vec();
    let mut result = Classified {
        conv: conv.clone(),
        verdict: Verdict::Unlisted,
        rule: None,
        client_roles,
        server_roles,
        reason: String::new(),
        blocked_by: conv.icmp_reporters.iter().next().copied(),
    };
    if candidates.is_empty() {
        result.reason = format!(
            "{}/{} is in no loaded catalog: {} to {} is outside the products' port lists.",
            key.server_port,
            key.transport.as_str(),
            roles.describe(key.client),
            roles.describe(key.server)
        );
        return result;
    }
    let mut mismatches = Vec::new();
    let mut allowed = Vec::new();
    for rule in &candidates {
        match check_rule(rule, key.client, key.server, roles, table) {
            Ok(()) => allowed.push(*rule),
            Err(m) => mismatches.push((*rule, m)),
        }
    }
    if let Some(rule) = most_specific(allowed.iter().copied()) {
        result.rule = Some(rule.id.clone());
        let failed = conv.count(State::NoReply)
            + conv.count(State::Refused)
            + conv.count(State::Unreachable)
            + if rule.expects_reply {
                conv.count(State::Unanswered)
            } else {
                0
            };
        if failed > 0 {
            result.verdict = Verdict::Blocked;
            result.reason = blocked_reason(conv, rule, roles, table);
        } else {
            result.verdict = Verdict::Expected;
            result.reason = format!(
                "{} → {} on {}/{}: {}.",
                roles.describe(key.client),
                roles.describe(key.server),
                key.server_port,
                key.transport.as_str(),
                rule_purpose(rule)
            );
        }
        return result;
    }
    let reversed = candidates.iter().copied().filter(|rule| {
        rule.scope == Scope::Network
            && check_rule(rule, key.server, key.client, roles, table).is_ok()
    });
    if let Some(rule) = most_specific(reversed) {
        result.verdict = Verdict::WrongDirection;
        result.rule = Some(rule.id.clone());
        result.reason = format!(
            "{} opened {}/{} to {}, but the catalog has {} connect to {} on that port ({}): \
             the connection goes the wrong way; check which host is which (or the inventory's roles).",
            roles.describe(key.client),
            key.server_port,
            key.transport.as_str(),
            roles.describe(key.server),
            roles.role_list(&rule.clients),
            roles.role_list(&rule.servers),
            rule_purpose(rule)
        );
        return result;
    }
    result.verdict = Verdict::Unexpected;
    result.reason = unexpected_reason(conv, &mismatches, roles);
    result
}

/// The note of the rule that states its OS condition, e.g. "注1".
fn os_note<'c>(catalogs: &'c CatalogSet, rule: &Rule, os: &str) -> Option<&'c str> {
    let catalog = catalogs.catalogs.iter().find(|c| c.name == rule.catalog)?;
    let os = os.to_ascii_lowercase();
    rule.notes.iter().find_map(|id| {
        catalog
            .notes
            .iter()
            .find(|n| &n.id == id && n.en.to_ascii_lowercase().contains(&os))
            .map(|n| n.id.as_str())
    })
}

fn rule_purpose(rule: &Rule) -> String {
    let mut s = if rule.en.is_empty() {
        rule.id.clone()
    } else {
        rule.en.clone()
    };
    if let Some(service) = &rule.service {
        let _ = write!(s, " [{service}]");
    }
    s
}

fn seconds(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s >= 10.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

fn blocked_reason(
    conv: &Conversation,
    rule: &Rule,
    roles: &Roles<'_>,
    table: &ConversationTable,
) -> String {
    let key = conv.key;
    let port = format!("{}/{}", key.server_port, key.transport.as_str());
    let client = roles.describe(key.client);
    let server = roles.describe(key.server);
    let span = if conv.attempt_last_ns > conv.attempt_first_ns {
        seconds(conv.attempt_last_ns - conv.attempt_first_ns)
    } else {
        "0 s".to_string()
    };
    let mut parts = Vec::new();
    if let Some(reporter) = conv.icmp_reporters.iter().next() {
        parts.push(format!(
            "{reporter} answered {client}'s attempts to reach {server} on {port} with ICMP destination unreachable: \
             a firewall or router at {reporter} blocks {port}; open it there"
        ));
    } else if conv.icmp_from_server {
        parts.push(format!(
            "{server} answered {client} on {port} with ICMP destination unreachable: nothing listens on {port} \
             there, or its host firewall rejects it; is the service running?"
        ));
    }
    if conv.count(State::Refused) > 0 {
        let known = table.host_ttls.get(&key.server);
        let odd_ttl = conv
            .refusal_ttls
            .iter()
            .find(|ttl| known.is_some_and(|k| !k.is_empty() && !k.contains(ttl)));
        match (odd_ttl, known.and_then(|k| k.iter().next())) {
            (Some(rst), Some(usual)) => parts.push(format!(
                "{client} was refused (RST) on {port} by {server}'s address, but the RST's TTL {rst} differs from \
                 {server}'s other packets (TTL {usual}): a middlebox (firewall) probably sent it; check the firewall \
                 between them for {port}"
            )),
            _ => parts.push(format!(
                "{server} refused {port} from {client} (RST): is the service running and listening on {port}, \
                 and does the host firewall allow it?"
            )),
        }
    }
    if conv.count(State::NoReply) > 0 {
        parts.push(format!(
            "{client} got no answer from {server} on {port} ({} SYN{} over {span}): is {port} open between them?",
            conv.failed_attempts,
            if conv.failed_attempts == 1 { "" } else { "s" }
        ));
    }
    if rule.expects_reply && conv.count(State::Unanswered) > 0 && conv.count(State::NoReply) == 0 {
        parts.push(format!(
            "{server} never answered {client} on {port} ({} datagram{} over {span}): is {port} open between them \
             and the service running?",
            conv.failed_attempts,
            if conv.failed_attempts == 1 { "" } else { "s" }
        ));
    }
    let ok =
        conv.count(State::Established) + conv.count(State::Reset) + conv.count(State::Answered);
    let mut reason = parts.join("; ");
    if !reason.ends_with('?') {
        reason.push('.');
    }
    if ok > 0 {
        let _ = write!(
            reason,
            " ({ok} of {} connections did get through.)",
            conv.connections
        );
    }
    reason
}

fn unexpected_reason(
    conv: &Conversation,
    mismatches: &[(&Rule, Mismatch)],
    roles: &Roles<'_>,
) -> String {
    let key = conv.key;
    let port = format!("{}/{}", key.server_port, key.transport.as_str());
    let client = roles.describe(key.client);
    let server = roles.describe(key.server);
    for (rule, m) in mismatches {
        match m {
            Mismatch::Os { host, os } => {
                let note = os_note(roles.catalogs, rule, os)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                return format!(
                    "{client} → {server} on {port} ({}): not used when {host} is a {} server{note}, \
                     yet it ran; check the host's configuration or the inventory's os.",
                    rule_purpose(rule),
                    os.to_uppercase(),
                );
            }
            Mismatch::Feature(feature) => {
                return format!(
                    "{client} → {server} on {port} ({}) is used only with the feature '{feature}', which the \
                     inventory does not enable for {}; enable it in the inventory if it is in use, or find out \
                     what opens {port}.",
                    rule_purpose(rule),
                    rule.catalog
                );
            }
            _ => {}
        }
    }
    if let Some((rule, _)) = mismatches
        .iter()
        .find(|(r, m)| matches!(m, Mismatch::SameHostOnly) && r.scope == Scope::SameHost)
    {
        if mismatches
            .iter()
            .all(|(_, m)| !matches!(m, Mismatch::Roles))
            || mismatches.len() == 1
        {
            return format!(
                "{port} is internal to one host ({}) but ran between {client} and {server}: \
                 something exposes an internal port; block it between hosts.",
                rule_purpose(rule)
            );
        }
    }
    let network: Vec<&&Rule> = mismatches
        .iter()
        .filter(|(r, _)| r.scope == Scope::Network)
        .map(|(r, _)| r)
        .collect();
    match network.first() {
        Some(rule) => format!(
            "{port} is a {} port ({}) for {} → {}, but {client} → {server} fits no rule in either direction: \
             check the hosts' roles in the inventory, or what opens {port}.",
            rule.catalog,
            rule_purpose(rule),
            roles.role_list(&rule.clients),
            roles.role_list(&rule.servers),
        ),
        None => format!("{port} is a catalog port, but {client} → {server} fits no rule in either direction."),
    }
}
