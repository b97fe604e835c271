//! Reasons in English: the sentence that tells a person what a verdict
//! means and what to do about it, made from the [`Reason`]'s facts when a
//! report is written.
//!
//! Owns: how hosts, roles, rules, ports and durations are called in
//! sentences, and one sentence shape per kind of reason. Written straight
//! into the report's writer (no string per conversation).

use std::fmt::{self, Display, Formatter};
use std::net::IpAddr;

use super::Addr;
use crate::catalog::{CatalogSet, RoleSet, Rule};
use crate::classify::{Blocked, Classified, Host, Hosts, IcmpBlock, Reason, Refusal};
use crate::decode::Transport;

/// What sentences about one analysis need to name hosts and rules.
#[derive(Clone, Copy)]
pub struct Words<'a> {
    pub catalogs: &'a CatalogSet,
    pub hosts: &'a Hosts,
}

/// "agent 10.1.2.3 (pc-01)" or "host 10.1.2.3". A host of several roles is
/// called by one that matters here: the first (in name order) that is, or
/// implies, a role of `prefer` (the roles the rule names on its side), else
/// the first.
struct HostName<'a>(Words<'a>, IpAddr, Option<&'a Host>, RoleSet);

impl Display for HostName<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let catalogs = self.0.catalogs;
        let (addr, host, prefer) = (self.1, self.2, self.3);
        let first = host.and_then(|h| {
            catalogs
                .roles_in_name_order(h.roles)
                .find(|&r| {
                    catalogs
                        .expand(std::iter::once(r).collect())
                        .intersects(prefer)
                })
                .or_else(|| catalogs.roles_in_name_order(h.roles).next())
        });
        let addr = Addr(addr);
        match first {
            Some(role) => write!(f, "{} {addr}", catalogs.role_label_of(role))?,
            None => write!(f, "host {addr}")?,
        }
        if let Some(name) = host.and_then(|h| h.name.as_deref()) {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

/// A rule's purpose: its English text (or id) and its service name.
struct Purpose<'a>(&'a Rule);

impl Display for Purpose<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let rule = self.0;
        f.write_str(if rule.en.is_empty() {
            &rule.id
        } else {
            &rule.en
        })?;
        if let Some(service) = &rule.service {
            write!(f, " [{service}]")?;
        }
        Ok(())
    }
}

/// "agent or site server".
struct RoleList<'a>(&'a CatalogSet, &'a [String]);

impl Display for RoleList<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, role) in self.1.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            f.write_str(&self.0.role_label(role))?;
        }
        Ok(())
    }
}

/// "31000/tcp".
struct Port(u16, Transport);

impl Display for Port {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0, self.1.as_str())
    }
}

/// A duration: "12 s", "2.5 s", "0 s" for none.
struct Seconds(i64);

impl Display for Seconds {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 <= 0 {
            return f.write_str("0 s");
        }
        let s = self.0 as f64 / 1e9;
        if s >= 10.0 {
            write!(f, "{s:.0} s")
        } else {
            write!(f, "{s:.1} s")
        }
    }
}

/// " over 12 s", or nothing when the time span is zero.
struct Over(i64);

impl Display for Over {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 > 0 {
            write!(f, " over {}", Seconds(self.0))
        } else {
            Ok(())
        }
    }
}

/// "1 packet", "2 packets".
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An input as the report headers state it: "path: pcapng, link type 1,
/// 216 packets", and the tunnels that carried its connections.
pub(crate) fn input_summary(input: &crate::analysis::InputSummary) -> String {
    let links: Vec<String> = input.linktypes.iter().map(u32::to_string).collect();
    let mut line = format!(
        "{}: {}, link type{} {}, {}",
        input.path,
        input.format.as_str(),
        if links.len() == 1 { "" } else { "s" },
        links.join(", "),
        counted(input.packets, "packet", "packets"),
    );
    let tunnels: Vec<String> = input
        .tunnels
        .nonzero()
        .map(|(kind, packets)| format!("{kind} {packets}"))
        .collect();
    if !tunnels.is_empty() {
        // The connections are the ones inside; say what carried them.
        line.push_str("; through tunnels (packets): ");
        line.push_str(&tunnels.join(", "));
    }
    line
}

/// Where the roles came from, as the report headers state it.
pub(crate) fn inventory_summary(o: &super::Outcome<'_>) -> String {
    let hosts = &o.classification.hosts;
    let with_roles = counted(hosts.with_roles().count() as u64, "host", "hosts");
    match (o.inventory.map(|i| &i.file), hosts.from_inventory()) {
        (Some(file), true) => format!("{file}: {with_roles} with roles seen"),
        (None, true) => format!("{with_roles} with roles seen"),
        (_, false) => format!("none, roles inferred from traffic ({with_roles})"),
    }
}

/// The traffic counts the report headers state.
pub(crate) fn traffic_summary(o: &super::Outcome<'_>) -> String {
    let t = &o.totals;
    let mut traffic = format!(
        "{}, {}, {}",
        counted(t.packets, "packet", "packets"),
        counted(t.connections, "connection", "connections"),
        counted(
            o.classification.conversations.len() as u64,
            "conversation",
            "conversations"
        )
    );
    if t.broadcast_packets > 0 {
        traffic.push_str(&format!(
            ", {} (not judged)",
            counted(
                t.broadcast_packets,
                "broadcast/multicast packet",
                "broadcast/multicast packets"
            )
        ));
    }
    traffic
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The reason of a classified conversation, as a sentence.
pub struct ReasonText<'a> {
    pub words: Words<'a>,
    pub conv: &'a Classified,
}

impl Display for ReasonText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let conv = &self.conv.conv;
        if conv.folded() > 0 {
            let n = u64::from(conv.folded());
            write!(
                f,
                "{n} connection{} from clients beyond the conversation limit {} folded into this line \
                 (client {}): a flood or scan? ",
                plural(n),
                if n == 1 { "is" } else { "are" },
                conv.key.client
            )?;
        }
        self.words.reason(f, self.conv)
    }
}

impl<'a> Words<'a> {
    /// How the client (`side` 0) or the server (1) of `c` is called, by
    /// one of `prefer` where it holds several roles.
    fn host(&self, c: &'a Classified, side: usize, prefer: RoleSet) -> HostName<'a> {
        let key = c.conv.key;
        let addr = if side == 0 { key.client } else { key.server };
        HostName(
            *self,
            addr,
            c.hosts[side].map(|id| self.hosts.host(id)),
            prefer,
        )
    }

    /// The roles that matter for each side of `c`: those its rule names on
    /// that side (for a reversed conversation, on the other side).
    fn sides(&self, c: &Classified) -> [RoleSet; 2] {
        let rule = match &c.reason {
            Reason::NotInCatalog | Reason::FitsNoRule { rule: None } => None,
            Reason::Allowed { rule }
            | Reason::Blocked { rule, .. }
            | Reason::WrongWay { rule }
            | Reason::OsCondition { rule, .. }
            | Reason::FeatureOff { rule }
            | Reason::InternalPort { rule }
            | Reason::FitsNoRule { rule: Some(rule) }
            | Reason::SharedPort { rule, .. }
            | Reason::NoCompanion { rule } => Some(self.catalogs.rule_by_id(*rule)),
        };
        match (rule, &c.reason) {
            (Some(r), Reason::WrongWay { .. }) => [r.server_set, r.client_set],
            (Some(r), _) => [r.client_set, r.server_set],
            (None, _) => [RoleSet::EMPTY; 2],
        }
    }

    /// Writes the sentence of `c`'s reason.
    pub fn reason(&self, f: &mut dyn fmt::Write, c: &'a Classified) -> fmt::Result {
        let key = c.conv.key;
        let port = Port(key.server_port, key.transport);
        let [client_roles, server_roles] = self.sides(c);
        let client = self.host(c, 0, client_roles);
        let server = self.host(c, 1, server_roles);
        let rule = |id| self.catalogs.rule_by_id(id);
        let inventory = self.hosts.from_inventory();
        match &c.reason {
            Reason::NotInCatalog => write!(
                f,
                "{port} is in no loaded catalog: {client} to {server} is outside the products' port lists."
            ),
            Reason::Allowed { rule: id } => write!(
                f,
                "{client} → {server} on {port}: {}.",
                Purpose(rule(*id))
            ),
            Reason::Blocked { evidence, .. } => self.blocked(f, c, evidence),
            Reason::WrongWay { rule: id } => {
                let rule = rule(*id);
                write!(
                    f,
                    "{client} opened {port} to {server}, but the catalog has {} connect to {} on that port ({}): \
                     the connection goes the wrong way; check which host is which ({}).",
                    RoleList(self.catalogs, &rule.clients),
                    RoleList(self.catalogs, &rule.servers),
                    Purpose(rule),
                    if inventory {
                        "or the inventory's roles"
                    } else {
                        "the roles here are inferred from traffic; an --inventory states them"
                    }
                )
            }
            Reason::OsCondition {
                rule: id,
                host,
                os,
                note,
            } => {
                write!(
                    f,
                    "{client} → {server} on {port} ({}): not used when {host} is a {} server",
                    Purpose(rule(*id)),
                    os.as_str().to_uppercase(),
                )?;
                if let Some(note) = note {
                    write!(f, " ({})", self.catalogs.note_by_id(*note).id)?;
                }
                f.write_str(", yet it ran; check the host's configuration or the inventory's os.")
            }
            Reason::FeatureOff { rule: id } => {
                let rule = rule(*id);
                let feature = rule.requires_feature.as_deref().unwrap_or("");
                if inventory {
                    write!(
                        f,
                        "{client} → {server} on {port} ({}) is used only with the feature '{feature}', which the \
                         inventory does not enable for {}; enable it in the inventory if it is in use, or find out \
                         what opens {port}.",
                        Purpose(rule),
                        rule.catalog
                    )
                } else {
                    write!(
                        f,
                        "{client} → {server} on {port} ({}) is used only with the feature '{feature}', which is off \
                         without an inventory; if it is in use, give an --inventory whose [{}] features list it, or \
                         find out what opens {port}.",
                        Purpose(rule),
                        rule.catalog
                    )
                }
            }
            Reason::InternalPort { rule: id } => write!(
                f,
                "{port} is internal to one host ({}) but ran between {client} and {server}: \
                 something exposes an internal port; block it between hosts.",
                Purpose(rule(*id))
            ),
            Reason::FitsNoRule { rule: Some(id) } => {
                let rule = rule(*id);
                write!(
                    f,
                    "{port} is a {} port ({}) for {} → {}, but {client} → {server} fits no rule in either direction: \
                     {}, or what opens {port}.",
                    rule.catalog,
                    Purpose(rule),
                    RoleList(self.catalogs, &rule.clients),
                    RoleList(self.catalogs, &rule.servers),
                    if inventory {
                        "check the hosts' roles in the inventory"
                    } else {
                        "the roles here are inferred from traffic; give an --inventory that lists the hosts' roles"
                    }
                )
            }
            Reason::SharedPort {
                rule: id,
                not_shown,
            } => {
                let rule = rule(*id);
                write!(
                    f,
                    "{port} is a shared port (other software uses it too), in {} for {} → {} ({}); ",
                    rule.catalog,
                    RoleList(self.catalogs, &rule.clients),
                    RoleList(self.catalogs, &rule.servers),
                    Purpose(rule),
                )?;
                if *not_shown {
                    write!(
                        f,
                        "neither {client} nor {server} shows a role of it, so {client} → {server} is not judged; \
                         if it is {}'s traffic, {}.",
                        rule.catalog,
                        if inventory {
                            "give the hosts their roles in the inventory"
                        } else {
                            "give an --inventory that lists the hosts' roles"
                        }
                    )
                } else {
                    write!(
                        f,
                        "{client} → {server} fits no rule of it either way, so it is not judged (other software, \
                         not {}).",
                        rule.catalog
                    )
                }
            }
            Reason::NoCompanion { rule: id } => {
                let rule = rule(*id);
                write!(
                    f,
                    "{port} counts as a {} port ({}) only after ",
                    rule.catalog,
                    Purpose(rule)
                )?;
                if let Some(companion) = rule.companion_rule.map(|c| self.catalogs.rule_by_id(c)) {
                    write!(
                        f,
                        "{}/{} ({}) ",
                        companion.ports,
                        companion.protocol.as_str(),
                        Purpose(companion)
                    )?;
                }
                write!(
                    f,
                    "was answered between {client} and {server}, earlier; there was no such connection, so it is \
                     not judged (a port scan, or other software's RPC)."
                )
            }
            Reason::FitsNoRule { rule: None } => write!(
                f,
                "{port} is a catalog port, but {client} → {server} fits no rule in either direction."
            ),
        }
    }

    /// The parts of a blocked reason, joined by "; ", ending in "." unless
    /// the last part is a question.
    fn blocked(&self, f: &mut dyn fmt::Write, c: &'a Classified, b: &Blocked) -> fmt::Result {
        let key = c.conv.key;
        let port = Port(key.server_port, key.transport);
        let [client_roles, server_roles] = self.sides(c);
        let client = self.host(c, 0, client_roles);
        let server = self.host(c, 1, server_roles);
        let mut first = true;
        let mut question = false;
        let mut part = |f: &mut dyn fmt::Write, args: fmt::Arguments<'_>, asks: bool| {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            question = asks;
            f.write_fmt(args)
        };
        match b.icmp {
            Some(IcmpBlock::ThirdParty(reporter)) => part(
                f,
                format_args!(
                    "{reporter} answered {client}'s attempts to reach {server} on {port} with ICMP destination \
                     unreachable: a firewall or router at {reporter} blocks {port}; open it there"
                ),
                false,
            )?,
            Some(IcmpBlock::Server) => part(
                f,
                format_args!(
                    "{server} answered {client} on {port} with ICMP destination unreachable: nothing listens on \
                     {port} there, or its host firewall rejects it; is the service running?"
                ),
                true,
            )?,
            None => {}
        }
        match b.refused {
            Some(Refusal::Middlebox { rst_ttl, usual_ttl }) => part(
                f,
                format_args!(
                    "{client} was refused (RST) on {port} by {server}'s address, but the RST's TTL {rst_ttl} differs \
                     from {server}'s other packets (TTL {usual_ttl}): a middlebox (firewall) probably sent it; check \
                     the firewall between them for {port}"
                ),
                false,
            )?,
            Some(Refusal::Server) => part(
                f,
                format_args!(
                    "{server} refused {port} from {client} (RST): is the service running and listening on {port}, \
                     and does the host firewall allow it?"
                ),
                true,
            )?,
            None => {}
        }
        // " over 2.0 s"; nothing for a single instant ("over 0 s" says nothing).
        let span = Over(b.span_ns);
        if b.no_reply {
            part(
                f,
                format_args!(
                    "{client} got no answer from {server} on {port} ({} SYN{}{span}): is {port} open between them?",
                    b.attempts,
                    plural(b.attempts)
                ),
                true,
            )?;
        }
        if b.unanswered {
            part(
                f,
                format_args!(
                    "{server} never answered {client} on {port} ({} datagram{}{span}): is {port} open between \
                     them and the service running?",
                    b.attempts,
                    plural(b.attempts)
                ),
                true,
            )?;
        }
        if !question {
            f.write_char('.')?;
        }
        if b.got_through > 0 {
            write!(
                f,
                " ({} of {} connections did get through.)",
                b.got_through, b.connections
            )?;
        }
        Ok(())
    }
}
