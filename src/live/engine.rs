//! The engine thread: the flow table of `check`, fed packets as they come,
//! deciding connections as their fate settles and saying so at once.
//!
//! Memory stays flat: connections leave the flow table when decided; what
//! stays are conversation aggregates (one per distinct client, server, port,
//! protocol), the verdict cache (one per conversation), per-host evidence for
//! inferred roles (at most one entry per catalog port a host serves) and
//! short-lived tombstones of decided attempts (bounded in number and time).

use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::broadcast::{BroadcastConfig, BroadcastTable};
use crate::catalog::{CatalogSet, PortBitmap, RuleId};
use crate::classify::{self, Classification, ConvKey, ConversationTable, Reason, Verdict};
use crate::decode::{PacketKind, PacketMeta, Transport};
use crate::flow::{ConnKey, ConnRecord, FlowConfig, FlowTable, State};
use crate::inventory::Inventory;
use crate::report::jsonl;
use crate::report::words::{ReasonText, Words};
use crate::report::{LossCause, Uncertain};
use crate::time::Rfc3339;

/// Connections the live flow table has room for from the start.
const LIVE_TABLE_RESERVE: usize = 1 << 18;

const SECOND: i64 = 1_000_000_000;

/// A finding of the same conversation, verdict and state is printed again
/// at most this often (an agent retrying every minute for days would
/// otherwise flood the terminal).
const REPEAT_NS: i64 = 600 * SECOND;

/// Loss intervals kept to judge connections against: a few per interval of
/// drops; when full the two oldest merge (wider, never forgotten early).
const MAX_LOSSES: usize = 4096;
/// A loss this old can no longer overlap an unanswered attempt's window.
const LOSS_KEEP_NS: i64 = 3600 * SECOND;

/// A time when packets were not seen (`to_ns` = `i64::MAX`: still going on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Loss {
    pub from_ns: i64,
    pub to_ns: i64,
    pub cause: LossCause,
}

/// What the engine prints as it decides.
pub(crate) enum Emit {
    /// Nothing until the final report (`--format json`).
    Nothing,
    /// One line per finding (`--format text`).
    Findings {
        color: bool,
        lang: crate::report::lang::Lang,
    },
    /// One JSON object per connection (`--format jsonl`); `lang` is that of
    /// a fix's sentence.
    Connections { lang: crate::report::lang::Lang },
}

/// A decided attempt or closed connection whose key stays reserved for a
/// while, so its late packets (SYN retransmissions, a last ACK) are not
/// taken for new connections: `check` would have counted them in the same one.
#[derive(Clone, Copy, Debug)]
struct Tombstone {
    client: (IpAddr, u16),
    isn: Option<u32>,
    /// The connection was a failed attempt (absorb only the client's retries).
    attempt: bool,
    until_ns: i64,
}

/// The verdict of a conversation as last computed, and what it depended on.
#[derive(Clone, Debug)]
struct Cached {
    /// Which states the conversation had (bit per [`State`]).
    mask: u16,
    /// Evidence entries of the client and the server then.
    evidence: (usize, usize),
    companion_gen: u64,
    verdict: Verdict,
    rule: Option<RuleId>,
    /// The reason's `reason_code` (for the JSONL lines).
    reason_code: &'static str,
}

/// When a finding was last printed.
#[derive(Clone, Copy, Debug)]
struct Printed {
    verdict: Verdict,
    state: State,
    /// Printed as possibly lost at the capture point (a certain finding of
    /// the same conversation is news).
    uncertain: bool,
    at_ns: i64,
}

/// Conversations given back between two shrinks of the report's list.
const GIVE_BACK_SHRINK: usize = 1 << 14;

/// The engine's state; see the module docs for what grows with what.
pub(crate) struct Engine<'a> {
    catalogs: &'a CatalogSet,
    inventory: Option<&'a Inventory>,
    server_ports: Arc<PortBitmap>,
    companion_ports: PortBitmap,
    config: FlowConfig,
    pub(crate) flows: FlowTable,
    pub(crate) convs: ConversationTable,
    /// Broadcast and multicast datagrams and their replies, apart.
    pub(crate) broadcasts: BroadcastTable,
    /// Packets by the kinds of tunnel they came through (decoded packets
    /// only: live does not see the skipped ones).
    pub(crate) tunnels: crate::analysis::TunnelCounts,
    /// Per host, conversations proving it serves a catalog port (one per port).
    evidence: FxHashMap<IpAddr, Vec<ConvKey>>,
    companion_gen: u64,
    cache: FxHashMap<ConvKey, Cached>,
    tombstones: FxHashMap<ConnKey, Tombstone>,
    max_tombstones: usize,
    linger_ns: i64,
    printed: FxHashMap<ConvKey, Printed>,
    emit: Emit,
    out: Box<dyn Write + 'a>,
    /// Connections decided so far.
    pub(crate) decided: u64,
    /// Late packets of decided connections, absorbed by tombstones.
    pub(crate) late_packets: u64,
    /// Packets handed to the flow table.
    pub(crate) processed: u64,
    /// Writing findings failed (e.g. stdout closed): stop trying.
    out_failed: bool,
    /// When packets were lost (drops, outages), oldest first.
    losses: std::collections::VecDeque<Loss>,
    /// Conversations with unanswered connections open during a loss.
    pub(crate) uncertain: std::collections::BTreeMap<ConvKey, Uncertain>,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(
        catalogs: &'a CatalogSet,
        inventory: Option<&'a Inventory>,
        mut config: FlowConfig,
        emit: Emit,
        out: Box<dyn Write + 'a>,
    ) -> Engine<'a> {
        // One source: no packet is seen twice.
        config.dedup = false;
        if matches!(emit, Emit::Connections { .. }) && config.zeek_ports.is_none() {
            // The JSONL stream writes Zeek's view of every connection.
            config = config.with_zeek_view();
        }
        let server_ports = Arc::new(catalogs.server_ports());
        let mut companion_ports = PortBitmap::default();
        for rule in catalogs.rules() {
            if let Some(c) = rule.companion.as_deref().and_then(|id| catalogs.rule(id)) {
                for &(a, b) in &c.ports.ranges {
                    for p in a..=b {
                        companion_ports.insert(c.protocol, p);
                    }
                }
            }
        }
        Engine {
            catalogs,
            inventory,
            flows: {
                let mut flows = FlowTable::new(config.clone(), Arc::clone(&server_ports));
                // Days on a mirror port: size the table for a busy link up
                // front, so it neither pauses to rehash while packets queue up
                // nor steps up in memory at the first peak.
                flows.reserve(LIVE_TABLE_RESERVE.min(config.max_connections));
                flows
            },
            server_ports,
            companion_ports,
            max_tombstones: (config.max_connections / 4).max(1024),
            linger_ns: config.reply_timeout_ns.max(2 * SECOND),
            broadcasts: BroadcastTable::new(BroadcastConfig::new(config.reply_timeout_ns)),
            tunnels: Default::default(),
            config,
            convs: ConversationTable::default(),
            evidence: FxHashMap::default(),
            companion_gen: 0,
            cache: FxHashMap::default(),
            tombstones: FxHashMap::default(),
            printed: FxHashMap::default(),
            emit,
            out,
            decided: 0,
            late_packets: 0,
            processed: 0,
            out_failed: false,
            losses: Default::default(),
            uncertain: Default::default(),
        }
    }

    /// Packets were lost between `from_ns` and `to_ns` (`i64::MAX`: until
    /// [`Engine::loss_ends`]).
    pub(crate) fn lost(&mut self, from_ns: i64, to_ns: i64, cause: LossCause) {
        if self.losses.len() >= MAX_LOSSES {
            if let (Some(a), Some(b)) = (self.losses.pop_front(), self.losses.pop_front()) {
                self.losses.push_front(Loss {
                    from_ns: a.from_ns.min(b.from_ns),
                    to_ns: a.to_ns.max(b.to_ns),
                    cause: b.cause,
                });
            }
        }
        self.losses.push_back(Loss {
            from_ns,
            to_ns,
            cause,
        });
    }

    /// An open-ended loss (an outage) ends at `at_ns`.
    pub(crate) fn loss_ends(&mut self, at_ns: i64, cause: LossCause) {
        if let Some(l) = self
            .losses
            .iter_mut()
            .rev()
            .find(|l| l.cause == cause && l.to_ns == i64::MAX)
        {
            l.to_ns = at_ns;
        }
    }

    /// Replaces the connection stream's writer (SIGHUP: the file was rotated).
    pub(crate) fn reopen_output(&mut self, out: Box<dyn Write + 'a>) {
        self.flush();
        self.out = out;
        self.out_failed = false;
    }

    /// The loss that may have hidden this unanswered connection's answer:
    /// one overlapping the time from its first attempt to its reply
    /// timeout after the last. Answered, refused, reset connections are
    /// certain whatever was lost: what decided them was seen.
    fn loss_of(&self, rec: &ConnRecord) -> Option<LossCause> {
        if !matches!(rec.state, State::NoReply | State::Unanswered) {
            return None;
        }
        let from = rec.first_ns;
        let to = rec.last_ns.saturating_add(self.config.reply_timeout_ns);
        self.losses
            .iter()
            .rev()
            .find(|l| l.from_ns <= to && l.to_ns >= from)
            .map(|l| l.cause)
    }

    /// Applies one packet.
    pub(crate) fn packet(&mut self, pkt: &PacketMeta) {
        if !pkt.tunnels.is_empty() {
            self.tunnels.add(pkt.tunnels);
        }
        // Broadcasts and their replies never reach the flow table (as in `check`).
        if self.broadcasts.take(pkt, 0) {
            return;
        }
        if !self.tombstones.is_empty() {
            let key = ConnKey::of(pkt);
            if let Some(t) = self.tombstones.get(&key).copied() {
                if pkt.ts_ns <= t.until_ns && absorbs(&t, pkt) {
                    self.late_packets += 1;
                    return;
                }
                self.tombstones.remove(&key);
            }
        }
        self.processed += 1;
        let mut decided = Vec::new();
        self.flows
            .process(pkt, 0, &mut |rec| decided.push((rec, None)));
        for (rec, isn) in decided {
            self.decide(rec, isn, false);
        }
    }

    /// Decides what has settled by `now_ns` (see [`FlowTable::decide_settled`])
    /// and forgets expired tombstones.
    pub(crate) fn settle(&mut self, now_ns: i64) {
        let mut decided = Vec::new();
        self.flows
            .decide_settled(now_ns, self.linger_ns, &mut |rec, isn| {
                decided.push((rec, isn))
            });
        for (rec, isn) in decided {
            self.decide(rec, isn, true);
        }
        let now = self.flows.clock_ns();
        self.tombstones.retain(|_, t| t.until_ns >= now);
        while self
            .losses
            .front()
            .is_some_and(|l| l.to_ns < now.saturating_sub(LOSS_KEEP_NS))
        {
            self.losses.pop_front();
        }
        self.flush();
    }

    /// Decides everything still open (the capture ends at `end_ns`).
    pub(crate) fn finish(&mut self, end_ns: i64) {
        let mut decided = Vec::new();
        self.flows
            .finish(end_ns.max(self.flows.clock_ns()), &mut |rec| {
                decided.push(rec)
            });
        for rec in decided {
            self.decide(rec, None, false);
        }
        self.flush();
    }

    pub(crate) fn flush(&mut self) {
        if !self.out_failed && self.out.flush().is_err() {
            self.out_failed = true;
        }
    }

    /// Conversations by verdict, as last classified.
    pub(crate) fn verdict_counts(&self) -> [u64; 5] {
        let mut counts = [0u64; 5];
        for c in self.cache.values() {
            counts[c.verdict as usize] += 1;
        }
        counts
    }

    /// One connection is decided: count it, remember its key for a while,
    /// classify its conversation and say so.
    fn decide(&mut self, rec: ConnRecord, isn: Option<u32>, early: bool) {
        self.decided += 1;
        let key = ConvKey::of(&rec);
        if !self.convs.conversations.contains_key(&key)
            && self
                .companion_ports
                .contains(key.transport, key.server_port)
        {
            self.companion_gen += 1;
        }
        self.convs.add(&rec);
        if rec.state.is_served()
            && rec.client != rec.server
            && self.server_ports.contains(key.transport, key.server_port)
        {
            let list = self.evidence.entry(rec.server).or_default();
            if !list
                .iter()
                .any(|k| k.server_port == key.server_port && k.transport == key.transport)
            {
                list.push(key);
            }
        }
        if early {
            self.bury(&rec, isn);
        }
        let loss = self.loss_of(&rec);
        if let Some(cause) = loss {
            let u = self.uncertain.entry(key).or_insert(Uncertain {
                cause,
                connections: 0,
            });
            u.cause = cause;
            u.connections += 1;
        }
        let (verdict, _) = self.verdict(key);
        match self.emit {
            Emit::Nothing => {}
            Emit::Connections { lang } => {
                let cached = self.cache.get(&key);
                let rule = cached
                    .and_then(|c| c.rule)
                    .map(|r| self.catalogs.rule_by_id(r).id.as_str());
                let reason_code = cached.map_or("not_in_catalog", |c| c.reason_code);
                // A failed connection of a blocked conversation carries its
                // fix, as in `check`'s JSONL.
                let fix = (verdict == Verdict::Blocked && jsonl::carries_fix(rec.state))
                    .then(|| self.fix(key))
                    .flatten();
                let mut line = Vec::with_capacity(256);
                if jsonl::write_connection_with_fix(
                    &mut line,
                    &rec,
                    Some(jsonl::Decided {
                        verdict,
                        rule,
                        reason_code,
                    }),
                    fix.as_ref(),
                    lang,
                )
                .is_ok()
                {
                    if let Some(cause) = loss {
                        mark_uncertain(&mut line, cause);
                    }
                    self.write_bytes(&line);
                }
            }
            Emit::Findings { color, lang } => {
                if verdict.is_finding() && self.should_print(key, verdict, &rec, loss.is_some()) {
                    if let Some((classification, i)) = self.classify_one(key) {
                        let line = finding_line(
                            &rec,
                            self.catalogs,
                            &classification,
                            i,
                            color,
                            lang,
                            loss,
                        );
                        self.write_line(&line);
                    }
                }
            }
        }
    }

    fn write_line(&mut self, line: &str) {
        if self.out_failed {
            return;
        }
        if writeln!(self.out, "{line}").is_err() {
            self.out_failed = true;
        }
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        if !self.out_failed && self.out.write_all(bytes).is_err() {
            self.out_failed = true;
        }
    }

    fn should_print(
        &mut self,
        key: ConvKey,
        verdict: Verdict,
        rec: &ConnRecord,
        uncertain: bool,
    ) -> bool {
        let now = rec.last_ns;
        match self.printed.get(&key) {
            Some(p)
                if p.verdict == verdict
                    && p.state == rec.state
                    && p.uncertain == uncertain
                    && now - p.at_ns < REPEAT_NS =>
            {
                false
            }
            _ => {
                self.printed.insert(
                    key,
                    Printed {
                        verdict,
                        state: rec.state,
                        uncertain,
                        at_ns: now,
                    },
                );
                true
            }
        }
    }

    /// Keeps the key of a connection decided before its idle timeout, so its
    /// stragglers are recognised.
    fn bury(&mut self, rec: &ConnRecord, isn: Option<u32>) {
        if self.tombstones.len() >= self.max_tombstones {
            return;
        }
        let attempt = !rec.state.is_served() && rec.state != State::Midstream;
        let hold = match rec.transport {
            Transport::Udp => self.config.udp_idle_ns,
            Transport::Tcp if attempt => self.config.attempt_idle_ns,
            Transport::Tcp => self.config.closed_idle_ns,
        };
        let key = ConnKey::from_sockets(
            (rec.client, rec.client_port),
            (rec.server, rec.server_port),
            rec.transport,
        );
        self.tombstones.insert(
            key,
            Tombstone {
                client: (rec.client, rec.client_port),
                isn,
                attempt,
                until_ns: self.flows.clock_ns().saturating_add(hold),
            },
        );
    }

    /// The verdict of a conversation with the roles known now (cached while
    /// nothing it depends on changed).
    fn verdict(&mut self, key: ConvKey) -> (Verdict, Option<RuleId>) {
        let Some(conv) = self.convs.conversations.get(&key) else {
            return (Verdict::Unlisted, None);
        };
        let mask = State::ALL
            .iter()
            .enumerate()
            .filter(|(_, s)| conv.count(**s) > 0)
            .fold(0u16, |m, (i, _)| m | (1 << i));
        let evidence = (
            self.evidence.get(&key.client).map_or(0, Vec::len),
            self.evidence.get(&key.server).map_or(0, Vec::len),
        );
        if let Some(c) = self.cache.get(&key) {
            if c.mask == mask && c.evidence == evidence && c.companion_gen == self.companion_gen {
                return (c.verdict, c.rule);
            }
        }
        let (verdict, rule, reason_code) = match self.classify_one(key) {
            Some((classification, i)) => {
                let c = &classification.conversations[i];
                (c.verdict, c.rule, c.reason.reason_code())
            }
            None => (Verdict::Unlisted, None, Reason::NotInCatalog.reason_code()),
        };
        self.cache.insert(
            key,
            Cached {
                mask,
                evidence,
                companion_gen: self.companion_gen,
                verdict,
                rule,
                reason_code,
            },
        );
        (verdict, rule)
    }

    /// Classifies one conversation exactly as the full classification would,
    /// on a small table: the conversation, the evidence of both hosts' roles
    /// and its companion conversations are all a verdict depends on.
    /// The fix of the blocked conversation on `key`, as the reports give it.
    fn fix(&self, key: ConvKey) -> Option<crate::report::fix::Fix> {
        let (classification, i) = self.classify_one(key)?;
        let mut outcome = crate::report::Outcome::new(
            self.catalogs,
            Vec::new(),
            crate::report::Totals::default(),
            classification,
        );
        outcome.inventory = self.inventory;
        crate::report::fix::Fix::of(&outcome, &outcome.classification.conversations[i])
    }

    /// The conversations decided so far, moved out for a report (not
    /// copied: see `Snapshot::outcome`); the counts and the hosts' TTLs
    /// (a few bytes a host) stay, and [`Engine::give_back_conversations`]
    /// puts the conversations back. Until then the engine must not run.
    pub(crate) fn take_conversations(&mut self) -> ConversationTable {
        let mut table = ConversationTable::default();
        table.conversations = std::mem::take(&mut self.convs.conversations);
        table.host_ttls = self.convs.host_ttls.clone();
        table.connections = self.convs.connections;
        table.folded_connections = self.convs.folded_connections;
        table
    }

    /// The conversations of a report back into the table, after it was
    /// written. Taken from the end, and the list shrunk as it goes, so the
    /// list and the table rebuilt from it are never both whole: memory
    /// stays at one table. The order of the table is not that of before,
    /// and needs not be: reports sort conversations by verdict and key.
    pub(crate) fn give_back_conversations(&mut self, mut list: Vec<classify::Classified>) {
        debug_assert!(self.convs.conversations.is_empty());
        let mut store = std::mem::take(&mut self.convs.conversations);
        let mut moved = 0usize;
        while let Some(c) = list.pop() {
            let conv = c.conv;
            store.get_or_insert_with(conv.key, move || conv);
            moved += 1;
            if moved % GIVE_BACK_SHRINK == 0 {
                list.shrink_to_fit();
            }
        }
        self.convs.conversations = store;
    }

    fn classify_one(&self, key: ConvKey) -> Option<(Classification, usize)> {
        let table = &self.convs;
        let mut sub = ConversationTable::default();
        let mut take = |k: &ConvKey| {
            if let Some(c) = table.conversations.get(k) {
                if !sub.conversations.contains_key(k) {
                    sub.insert(c.clone());
                }
            }
        };
        take(&key);
        for host in [key.client, key.server] {
            for k in self.evidence.get(&host).into_iter().flatten() {
                take(k);
            }
        }
        for rule in self.catalogs.rules_for(key.server_port, key.transport) {
            let Some(c) = rule
                .companion
                .as_deref()
                .and_then(|id| self.catalogs.rule(id))
            else {
                continue;
            };
            for &(a, b) in &c.ports.ranges {
                for port in a..=b {
                    take(&ConvKey {
                        client: key.client,
                        server: key.server,
                        server_port: port,
                        transport: c.protocol,
                    });
                }
            }
        }
        for host in [key.client, key.server] {
            if let Some(t) = table.host_ttls.get(&host) {
                sub.host_ttls.insert(host, *t);
            }
        }
        let classification = classify::classify(sub, self.catalogs, self.inventory);
        let i = classification.position(&key)?;
        Some((classification, i))
    }
}

/// Adds `"uncertain": true` and its reason to one JSONL connection line
/// (an object on one line, ending in `}` and a newline).
fn mark_uncertain(line: &mut Vec<u8>, cause: LossCause) {
    let end = line.iter().rposition(|&b| b == b'}');
    if let Some(end) = end {
        let tail = line.split_off(end);
        line.extend_from_slice(b",\"uncertain\":true,\"uncertain_reason\":\"");
        line.extend_from_slice(cause.as_str().as_bytes());
        line.push(b'"');
        line.extend_from_slice(&tail);
    }
}

/// Is this packet a straggler of the buried connection?
fn absorbs(t: &Tombstone, pkt: &PacketMeta) -> bool {
    let from_client = (pkt.src, pkt.src_port) == t.client;
    if let PacketKind::Unreachable { .. } = pkt.kind {
        return true;
    }
    let pure_syn = pkt.tcp_flags.is_pure_syn();
    match pkt.transport {
        Transport::Tcp => {
            if pure_syn {
                // The same SYN again is a retransmission; another ISN is a new connect().
                from_client && t.isn.is_some_and(|isn| isn == pkt.seq)
            } else {
                // A failed attempt ends at a late answer (it becomes a connection
                // of its own); a closed one absorbs its last ACKs and RSTs.
                !t.attempt || from_client
            }
        }
        // More unanswered datagrams belong to the decided exchange; an answer does not.
        Transport::Udp => t.attempt && from_client,
    }
}

/// One stdout line for a finding, e.g.
/// `2026-11-20T10:00:09.5Z BLOCKED 192.0.2.130:50000 -> 192.0.2.10:31000/tcp no_reply rule jp1-itdm/x: reason`.
fn finding_line(
    rec: &ConnRecord,
    catalogs: &CatalogSet,
    classification: &Classification,
    index: usize,
    color: bool,
    lang: crate::report::lang::Lang,
    loss: Option<LossCause>,
) -> String {
    use crate::report::words;
    let c = &classification.conversations[index];
    let verdict = match (lang, loss) {
        // Not a certain `blocked`: the answer may have come and gone unseen.
        (crate::report::lang::Lang::En, Some(_)) => "POSSIBLY-LOST".to_string(),
        (crate::report::lang::Lang::Ja, Some(_)) => "取りこぼしの可能性".to_string(),
        (crate::report::lang::Lang::En, None) => c.verdict.as_str().to_uppercase(),
        (crate::report::lang::Lang::Ja, None) => words::verdict(c.verdict, lang).to_string(),
    };
    let verdict = if color {
        let code = match c.verdict {
            Verdict::Blocked => "1;31",
            Verdict::WrongDirection => "1;35",
            _ => "1;33",
        };
        format!("\x1b[{code}m{verdict}\x1b[0m")
    } else {
        verdict
    };
    let sock = |a: IpAddr, p: u16| match a {
        IpAddr::V4(_) => format!("{a}:{p}"),
        IpAddr::V6(_) => format!("[{a}]:{p}"),
    };
    let reason = match loss {
        Some(cause) => cause.possibly_lost(lang).to_string(),
        None => ReasonText {
            words: Words {
                catalogs,
                hosts: &classification.hosts,
                lang,
            },
            conv: c,
        }
        .to_string(),
    };
    format!(
        "{} {verdict} {} -> {}/{} {}{}: {reason}",
        Rfc3339(rec.last_ns),
        sock(rec.client, rec.client_port),
        sock(rec.server, rec.server_port),
        rec.transport.as_str(),
        words::state(rec.state, lang),
        c.rule
            .map(|r| crate::tr!(
                lang,
                " rule {id}",
                " ルール {id}",
                id = catalogs.rule_by_id(r).id
            ))
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// What the engine printed, shared with the test.
    #[derive(Clone, Default)]
    struct Printed(Rc<RefCell<Vec<u8>>>);

    impl Write for Printed {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Printed {
        fn lines(&self) -> Vec<String> {
            String::from_utf8_lossy(&self.0.borrow())
                .lines()
                .map(str::to_string)
                .collect()
        }
    }

    /// A one-port TCP rule between hosts of the built-in catalogs.
    fn tcp_rule(catalogs: &CatalogSet) -> (String, u16) {
        let rule = catalogs
            .rules()
            .find(|r| {
                r.protocol == Transport::Tcp
                    && r.ports.width() == 1
                    && r.companion.is_none()
                    && r.scope == crate::catalog::Scope::Network
            })
            .expect("a tcp rule");
        (rule.id.clone(), rule.ports.ranges[0].0)
    }

    fn syn(ts_ns: i64, port: u16, seq: u32) -> PacketMeta {
        PacketMeta {
            ts_ns,
            kind: PacketKind::Transport,
            transport: Transport::Tcp,
            src: "10.0.0.5".parse().unwrap(),
            dst: "10.0.0.1".parse().unwrap(),
            src_port: 40000,
            dst_port: port,
            tcp_flags: TcpFlags::SYN,
            seq,
            ack: 0,
            payload_len: 0,
            wire_len: 60,
            ttl: 64,
            link_dest: Default::default(),
            tunnels: Default::default(),
        }
    }

    const T0: i64 = 1_700_000_000 * SECOND;

    fn engine<'a>(
        catalogs: &'a CatalogSet,
        reply_timeout_ns: i64,
        emit: Emit,
        out: &Printed,
    ) -> Engine<'a> {
        Engine::new(
            catalogs,
            None,
            FlowConfig::new(reply_timeout_ns),
            emit,
            Box::new(out.clone()),
        )
    }

    #[test]
    fn an_unanswered_syn_is_printed_once_its_reply_timeout_passed() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let (rule, port) = tcp_rule(&catalogs);
        let out = Printed::default();
        let mut engine = engine(
            &catalogs,
            3 * SECOND,
            Emit::Findings {
                color: false,
                lang: crate::report::lang::Lang::En,
            },
            &out,
        );
        engine.packet(&syn(T0, port, 7));
        engine.settle(T0 + 2 * SECOND);
        assert!(out.lines().is_empty(), "decided before its timeout");
        engine.settle(T0 + 4 * SECOND);
        let lines = out.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(&format!(
                "2023-11-14T22:13:20Z BLOCKED 10.0.0.5:40000 -> 10.0.0.1:{port}/tcp no_reply rule {rule}: "
            )),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("got no answer"), "{}", lines[0]);
        assert_eq!(engine.verdict_counts()[Verdict::Blocked as usize], 1);
        assert_eq!(engine.decided, 1);

        // The same SYN again is a late retransmission of the decided attempt.
        engine.packet(&syn(T0 + 5 * SECOND, port, 7));
        assert_eq!((engine.late_packets, engine.processed), (1, 1));
        // A new ISN is a new connect(): a connection of its own, and the
        // same finding within ten minutes is not printed again.
        engine.packet(&syn(T0 + 6 * SECOND, port, 99));
        assert_eq!(engine.processed, 2);
        engine.settle(T0 + 10 * SECOND);
        assert_eq!(engine.decided, 2);
        assert_eq!(out.lines().len(), 1);
    }

    #[test]
    fn an_unanswered_attempt_open_during_a_drop_is_possibly_lost_not_blocked() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let (_, port) = tcp_rule(&catalogs);
        let out = Printed::default();
        let mut engine = engine(
            &catalogs,
            3 * SECOND,
            Emit::Findings {
                color: false,
                lang: crate::report::lang::Lang::En,
            },
            &out,
        );
        // Dropped while the first attempt waited; the second began after.
        engine.lost(T0 + SECOND, T0 + 2 * SECOND, LossCause::KernelDropped);
        engine.packet(&syn(T0, port, 7));
        engine.packet(&PacketMeta {
            src_port: 40001,
            ..syn(T0 + 6 * SECOND, port, 8)
        });
        engine.settle(T0 + 20 * SECOND);
        let lines = out.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let lost = lines
            .iter()
            .find(|l| l.contains(" POSSIBLY-LOST 10.0.0.5:40000 "))
            .unwrap_or_else(|| panic!("{lines:?}"));
        assert!(
            lost.contains("possibly lost at the capture point: the kernel dropped packets"),
            "{lost}"
        );
        assert!(
            lines.iter().any(|l| l.contains(" BLOCKED 10.0.0.5:40001 ")),
            "{lines:?}"
        );
        let u = engine.uncertain.values().next().copied().unwrap();
        assert_eq!((u.cause, u.connections), (LossCause::KernelDropped, 1));
    }

    #[test]
    fn an_outage_marks_attempts_until_it_ends_and_answered_ones_never() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let (_, port) = tcp_rule(&catalogs);
        let out = Printed::default();
        let mut engine = engine(
            &catalogs,
            3 * SECOND,
            Emit::Connections {
                lang: crate::report::lang::Lang::En,
            },
            &out,
        );
        engine.lost(T0 + SECOND, i64::MAX, LossCause::Outage);
        engine.packet(&syn(T0, port, 7));
        // Refused: the RST was seen, the verdict is certain.
        engine.packet(&PacketMeta {
            src_port: 40002,
            ..syn(T0, port, 9)
        });
        engine.packet(&PacketMeta {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.5".parse().unwrap(),
            src_port: port,
            dst_port: 40002,
            tcp_flags: TcpFlags::from_bits(0x14),
            ack: 10,
            ts_ns: T0 + SECOND / 100,
            ..syn(T0, port, 0)
        });
        engine.loss_ends(T0 + 30 * SECOND, LossCause::Outage);
        // After the outage: certain again.
        engine.packet(&PacketMeta {
            src_port: 40003,
            ..syn(T0 + 40 * SECOND, port, 11)
        });
        engine.finish(T0 + 60 * SECOND);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let by_port = |p: u64| {
            lines
                .iter()
                .find(|l| l["client_port"] == p)
                .unwrap_or_else(|| panic!("{lines:?}"))
        };
        assert_eq!(by_port(40000)["state"], "no_reply");
        assert_eq!(by_port(40000)["uncertain"], true);
        assert_eq!(by_port(40000)["uncertain_reason"], "outage");
        assert_eq!(by_port(40002)["state"], "refused");
        assert!(by_port(40002).get("uncertain").is_none());
        assert!(by_port(40003).get("uncertain").is_none());
    }

    #[test]
    fn connections_stream_as_jsonl_with_their_verdict() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let (rule, port) = tcp_rule(&catalogs);
        let out = Printed::default();
        let mut engine = engine(
            &catalogs,
            SECOND,
            Emit::Connections {
                lang: crate::report::lang::Lang::En,
            },
            &out,
        );
        engine.packet(&syn(T0, port, 1));
        engine.finish(T0 + 5 * SECOND);
        let lines = out.lines();
        assert_eq!(lines.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["state"], "no_reply");
        assert_eq!(v["conn_state"], "S0");
        assert_eq!(v["verdict"], "blocked");
        assert_eq!(v["rule"], rule.as_str());
        assert_eq!(v["first_seen"], "2023-11-14T22:13:20Z");
        // The blocked attempt carries its fix, as check's JSONL does.
        assert!(v["fix"].is_object(), "{v}");
    }

    #[test]
    fn tunnelled_packets_are_counted_and_their_connections_name_the_tunnel() {
        use crate::decode::{TunnelKind, Tunnels};
        let catalogs = CatalogSet::load(&[]).unwrap();
        let (_, port) = tcp_rule(&catalogs);
        let out = Printed::default();
        let mut engine = engine(
            &catalogs,
            SECOND,
            Emit::Connections {
                lang: crate::report::lang::Lang::En,
            },
            &out,
        );
        let mut gre = Tunnels::NONE;
        gre.insert(TunnelKind::Gre);
        engine.packet(&PacketMeta {
            tunnels: gre,
            ..syn(T0, port, 1)
        });
        engine.finish(T0 + 5 * SECOND);
        assert_eq!(engine.tunnels.get(TunnelKind::Gre), 1);
        assert_eq!(engine.tunnels.get(TunnelKind::Vxlan), 0);
        let v: serde_json::Value = serde_json::from_str(&out.lines()[0]).unwrap();
        assert_eq!(v["tunnel"], "gre");
    }

    /// The conversations of a table, in key order.
    fn sorted(table: &ConversationTable) -> Vec<crate::classify::Conversation> {
        let mut list: Vec<_> = table.conversations.clone().into_iter_chunks().collect();
        list.sort_by_key(|c| c.key);
        list
    }

    #[test]
    fn a_checkpoint_takes_the_conversations_and_gives_every_one_back() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let (_, port) = tcp_rule(&catalogs);
        let out = Printed::default();
        let mut engine = engine(&catalogs, SECOND, Emit::Nothing, &out);
        // More conversations than a chunk of the store and than the list is
        // shrunk by: the give-back crosses both.
        let n = (GIVE_BACK_SHRINK + GIVE_BACK_SHRINK / 2) as u32;
        let client = |i: u32| IpAddr::from([10, 1, (i >> 8) as u8, i as u8]);
        for i in 0..n {
            engine.packet(&PacketMeta {
                src: client(i),
                ..syn(T0 + i64::from(i) * 1000, port, i)
            });
        }
        engine.settle(T0 + 10 * SECOND);
        let before = sorted(&engine.convs);
        assert_eq!(before.len(), n as usize);
        let (connections, ttls) = (engine.convs.connections, engine.convs.host_ttls.len());

        let table = engine.take_conversations();
        assert!(engine.convs.conversations.is_empty());
        assert_eq!(table.conversations.len(), n as usize);
        assert_eq!(table.connections, connections);
        let classification = classify::classify(table, &catalogs, None);
        assert_eq!(classification.conversations.len(), n as usize);
        engine.give_back_conversations(classification.conversations);
        assert_eq!(sorted(&engine.convs), before);
        assert_eq!(engine.convs.connections, connections);
        assert_eq!(engine.convs.host_ttls.len(), ttls);

        // The index found them again: a later attempt of a conversation
        // given back adds to it, not a second one.
        engine.packet(&PacketMeta {
            src: client(7),
            src_port: 40001,
            ..syn(T0 + 20 * SECOND, port, 1)
        });
        engine.finish(T0 + 30 * SECOND);
        assert_eq!(engine.convs.conversations.len(), n as usize);
        assert_eq!(engine.convs.connections, connections + 1);
    }

    #[test]
    fn nothing_is_printed_for_json_and_the_table_holds_the_conversation() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let (_, port) = tcp_rule(&catalogs);
        let out = Printed::default();
        let mut engine = engine(&catalogs, SECOND, Emit::Nothing, &out);
        engine.packet(&syn(T0, port, 1));
        engine.finish(T0 + 5 * SECOND);
        assert!(out.lines().is_empty());
        assert_eq!(engine.convs.conversations.len(), 1);
        assert_eq!(engine.convs.connections, 1);
    }

    #[test]
    fn broadcasts_and_their_replies_never_reach_the_flow_table() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let out = Printed::default();
        let mut engine = engine(
            &catalogs,
            3 * SECOND,
            Emit::Findings {
                color: false,
                lang: crate::report::lang::Lang::En,
            },
            &out,
        );
        let query = PacketMeta {
            transport: Transport::Udp,
            tcp_flags: TcpFlags::NONE,
            src_port: 137,
            dst_port: 137,
            dst: "10.0.0.255".parse().unwrap(),
            link_dest: crate::decode::LinkDest::Broadcast,
            tunnels: Default::default(),
            ..syn(T0, 137, 0)
        };
        engine.packet(&query);
        let answer = PacketMeta {
            src: "10.0.0.9".parse().unwrap(),
            dst: query.src,
            link_dest: crate::decode::LinkDest::Unicast,
            tunnels: Default::default(),
            ts_ns: T0 + SECOND / 2,
            ..query
        };
        engine.packet(&answer);
        engine.finish(T0 + 10 * SECOND);
        assert_eq!((engine.processed, engine.decided), (0, 0));
        assert!(out.lines().is_empty());
        assert_eq!(engine.broadcasts.packets(), 2);
        let b = std::mem::replace(
            &mut engine.broadcasts,
            BroadcastTable::new(BroadcastConfig::new(SECOND)),
        )
        .finish();
        assert_eq!((b.groups.len(), b.groups[0].replies), (1, 1));
    }
}
