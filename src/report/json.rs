//! The JSON report (`--format json`): the schema `flowlint.report.v1`
//! (SPEC "JSON report"), serialized straight from the outcome to the
//! writer — serialize-only views that borrow from the model, so the report
//! never exists a second time in memory.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::{self, Write};

use rayon::prelude::*;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::baseline::Comparison;
use super::words::ReasonText;
use super::{Addr, AsText, Exporter, LiveStats, Outcome, STATES_BY_NAME};
use crate::classify::{Classified, Host, Verdict};
use crate::time::Rfc3339;

pub const SCHEMA: &str = "flowlint.report.v1";

/// The JSON exporter.
pub struct Json;

/// Conversations serialized per task, and tasks per round: a round's
/// buffers (a few MB) are all that is held besides the model.
const CHUNK: usize = 1024;
const CHUNKS_PER_ROUND: usize = 16;

impl Exporter for Json {
    /// The top-level object is written here member by member, so that its
    /// largest member, `conversations`, can be serialized in parallel (chunks
    /// of conversations into buffers, written in order); the bytes are those
    /// `serde_json`'s pretty printer would write for the whole report.
    fn write(&self, out: &mut dyn Write, o: &Outcome<'_>) -> io::Result<()> {
        let mut first = true;
        let mut member = |out: &mut dyn Write, key: &str| -> io::Result<()> {
            out.write_all(if first { b"{\n  \"" } else { b",\n  \"" })?;
            first = false;
            out.write_all(key.as_bytes())?;
            out.write_all(b"\": ")
        };
        member(out, "schema")?;
        SCHEMA.write_at(out, 1)?;
        member(out, "tool")?;
        Tool {
            name: "flowlint",
            version: env!("CARGO_PKG_VERSION"),
        }
        .write_at(out, 1)?;
        member(out, "inputs")?;
        Seq(|| o.inputs.iter().map(InputView)).write_at(out, 1)?;
        member(out, "summary")?;
        SummaryView(o).write_at(out, 1)?;
        member(out, "hosts")?;
        Seq(|| o.classification.hosts.with_roles().map(|h| HostView(o, h))).write_at(out, 1)?;
        member(out, "conversations")?;
        write_conversations(out, o)?;
        member(out, "broadcasts")?;
        Seq(|| o.broadcasts.groups.iter().map(BroadcastView)).write_at(out, 1)?;
        member(out, "rules")?;
        Seq(|| rule_views(o)).write_at(out, 1)?;
        member(out, "baseline")?;
        o.baseline
            .as_ref()
            .map(|b| BaselineView(o, b))
            .write_at(out, 1)?;
        if let Some(live) = &o.live {
            member(out, "live")?;
            LiveView(live).write_at(out, 1)?;
        }
        out.write_all(b"\n}\n")
    }
}

/// `conversations`: an array at depth 1, its elements at depth 2.
fn write_conversations(out: &mut dyn Write, o: &Outcome<'_>) -> io::Result<()> {
    let all = &o.classification.conversations;
    if all.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); CHUNKS_PER_ROUND];
    for (round, window) in all.chunks(CHUNK * CHUNKS_PER_ROUND).enumerate() {
        window
            .par_chunks(CHUNK)
            .zip(buffers.par_iter_mut())
            .enumerate()
            .try_for_each(|(i, (chunk, buf))| -> io::Result<()> {
                buf.clear();
                for (j, c) in chunk.iter().enumerate() {
                    let very_first = round == 0 && i == 0 && j == 0;
                    buf.extend_from_slice(if very_first { b"\n    " } else { b",\n    " });
                    ConversationView(o, c).write_at(buf, 2)?;
                }
                Ok(())
            })?;
        for buf in buffers.iter().take(window.len().div_ceil(CHUNK)) {
            out.write_all(buf)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// serde_json's pretty printer (two spaces a level), starting at a depth.
struct Pretty {
    depth: usize,
    has_value: bool,
}

fn indent<W: ?Sized + Write>(w: &mut W, depth: usize) -> io::Result<()> {
    const SPACES: &[u8; 64] = b"                                                                ";
    let mut n = depth * 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        w.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            indent(w, self.depth)?;
        }
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.depth)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            indent(w, self.depth)?;
        }
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.depth)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Any serializable value, pretty-printed at a depth.
trait WriteAt {
    fn write_at<W: ?Sized + Write>(&self, out: &mut W, depth: usize) -> io::Result<()>;
}

impl<T: Serialize + ?Sized> WriteAt for T {
    fn write_at<W: ?Sized + Write>(&self, out: &mut W, depth: usize) -> io::Result<()> {
        let mut ser = serde_json::Serializer::with_formatter(
            out,
            Pretty {
                depth,
                has_value: false,
            },
        );
        self.serialize(&mut ser).map_err(io::Error::other)
    }
}

/// Serializes an iterator's items as a sequence.
struct Seq<F>(F);

impl<I, F> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

struct InputView<'o>(&'o crate::analysis::InputSummary);

impl Serialize for InputView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &i.path)?;
        m.serialize_entry("format", i.format.as_str())?;
        m.serialize_entry("linktypes", &i.linktypes)?;
        m.serialize_entry("packets", &i.packets)?;
        m.serialize_entry("bytes", &i.bytes)?;
        m.serialize_entry(
            "warnings",
            &Seq(|| i.warnings.iter().map(|w| AsText(WarningText(w)))),
        )?;
        // Only the reasons that occurred, in name order.
        let skipped: BTreeMap<&str, u64> = i.skipped.nonzero().collect();
        m.serialize_entry("skipped", &skipped)?;
        // Only when some packet came through a tunnel: kind → packets.
        let tunnels: BTreeMap<&str, u64> = i.tunnels.nonzero().collect();
        if !tunnels.is_empty() {
            m.serialize_entry("tunnels", &tunnels)?;
        }
        m.end()
    }
}

/// "at byte 24: record cut short".
struct WarningText<'w>(&'w crate::capture::Warning);

impl Display for WarningText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.0.offset, self.0.message)
    }
}

struct SummaryView<'o, 'a>(&'o Outcome<'a>);

impl Serialize for SummaryView<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let t = &o.totals;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("packets", &t.packets)?;
        m.serialize_entry("connections", &t.connections)?;
        m.serialize_entry(
            "conversations",
            &(o.classification.conversations.len() as u64),
        )?;
        let verdicts: BTreeMap<&str, u64> = Verdict::ALL
            .iter()
            .map(|v| (v.as_str(), o.count(*v)))
            .collect();
        m.serialize_entry("verdicts", &verdicts)?;
        m.serialize_entry("duplicate_packets", &t.duplicate_packets)?;
        m.serialize_entry("evicted_connections", &t.evicted_connections)?;
        m.serialize_entry("folded_connections", &t.folded_connections)?;
        m.serialize_entry("broadcast_packets", &t.broadcast_packets)?;
        if t.folded_broadcast_packets > 0 {
            m.serialize_entry("folded_broadcast_packets", &t.folded_broadcast_packets)?;
        }
        m.end()
    }
}

/// Role names of a set, in name order.
struct RoleNames<'o, 'a>(&'o Outcome<'a>, crate::catalog::RoleSet);

impl Serialize for RoleNames<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.catalogs.role_names(self.1))
    }
}

struct HostView<'o, 'a>(&'o Outcome<'a>, &'o Host);

impl Serialize for HostView<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = self.1;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("address", &AsText(h.address))?;
        if let Some(name) = &h.name {
            m.serialize_entry("name", name)?;
        }
        if let Some(os) = h.os {
            m.serialize_entry("os", os.as_str())?;
        }
        m.serialize_entry("roles", &RoleNames(self.0, h.roles))?;
        m.serialize_entry("inferred", &h.inferred)?;
        m.end()
    }
}

/// The states with connections, in name order.
struct StatesView<'o>(&'o crate::classify::Conversation);

impl Serialize for StatesView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for state in STATES_BY_NAME {
            let n = self.0.count(state);
            if n > 0 {
                m.serialize_entry(state.as_str(), &n)?;
            }
        }
        m.end()
    }
}

/// One conversation, as `conversations[]` and the baseline lists write it.
pub(super) struct ConversationView<'o, 'a>(pub &'o Outcome<'a>, pub &'o Classified);

impl Serialize for ConversationView<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (o, c) = (self.0, self.1);
        let conv = &c.conv;
        let key = conv.key;
        let hosts = &o.classification.hosts;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("client", &AsText(Addr(key.client)))?;
        m.serialize_entry("server", &AsText(Addr(key.server)))?;
        m.serialize_entry("server_port", &key.server_port)?;
        m.serialize_entry("protocol", key.transport.as_str())?;
        m.serialize_entry("client_roles", &RoleNames(o, hosts.roles_of(c.hosts[0])))?;
        m.serialize_entry("server_roles", &RoleNames(o, hosts.roles_of(c.hosts[1])))?;
        m.serialize_entry("verdict", c.verdict.as_str())?;
        m.serialize_entry(
            "rule",
            &c.rule.map(|r| o.catalogs.rule_by_id(r).id.as_str()),
        )?;
        m.serialize_entry(
            "reason",
            &AsText(ReasonText {
                words: o.words(),
                conv: c,
            }),
        )?;
        m.serialize_entry("reason_code", c.reason.reason_code())?;
        m.serialize_entry("connections", &conv.connections())?;
        m.serialize_entry("states", &StatesView(conv))?;
        m.serialize_entry("packets", &conv.packets)?;
        m.serialize_entry("bytes", &conv.bytes)?;
        m.serialize_entry("first_seen", &AsText(Rfc3339(conv.first_ns)))?;
        m.serialize_entry("last_seen", &AsText(Rfc3339(conv.last_ns)))?;
        if let Some(by) = conv.icmp_reporter() {
            m.serialize_entry("blocked_by", &AsText(Addr(by)))?;
        }
        m.serialize_entry(
            "started_before_capture",
            &u64::from(conv.started_before_capture),
        )?;
        if conv.folded() > 0 {
            m.serialize_entry("folded_connections", &u64::from(conv.folded()))?;
        }
        // Only for flow records: what they could not tell.
        if o.record_notes.of(&key).next().is_some() {
            m.serialize_entry(
                "record_notes",
                &Seq(|| o.record_notes.of(&key).map(crate::records::Note::as_str)),
            )?;
        }
        if let Some(fix) = super::fix::Fix::of(o, c) {
            m.serialize_entry("fix", &super::fix::FixView(&fix))?;
        }
        // Live only: unanswered connections whose answer may have been lost
        // at the capture point (drops, an outage).
        if let Some(u) = o.live.as_ref().and_then(|l| l.uncertain.get(&key)) {
            m.serialize_entry("uncertain", &true)?;
            m.serialize_entry("uncertain_reason", u.cause.as_str())?;
            m.serialize_entry("uncertain_connections", &u.connections)?;
        }
        m.end()
    }
}

/// One group of `broadcasts[]`: a sender's datagrams to a broadcast or
/// multicast address and port, with the unicast replies they got.
struct BroadcastView<'o>(&'o crate::broadcast::BroadcastGroup);

impl Serialize for BroadcastView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("client", &AsText(Addr(g.key.client)))?;
        m.serialize_entry("destination", &AsText(Addr(g.key.destination)))?;
        m.serialize_entry("port", &g.key.port)?;
        m.serialize_entry("protocol", g.key.transport.as_str())?;
        m.serialize_entry("packets", &g.packets)?;
        m.serialize_entry("replies", &g.replies)?;
        m.serialize_entry("first_seen", &AsText(Rfc3339(g.first_ns)))?;
        m.serialize_entry("last_seen", &AsText(Rfc3339(g.last_ns)))?;
        m.end()
    }
}

#[derive(Serialize)]
struct RuleView<'o> {
    id: &'o str,
    conversations: u64,
    blocked: u64,
    reversed: u64,
}

fn rule_views<'o>(o: &'o Outcome<'_>) -> impl Iterator<Item = RuleView<'o>> {
    o.catalogs.rules().map(move |r| {
        let u = o.classification.rules[usize::from(r.rid.0)];
        RuleView {
            id: &r.id,
            conversations: u.conversations,
            blocked: u.blocked,
            reversed: u.reversed,
        }
    })
}

struct BaselineView<'o, 'a>(&'o Outcome<'a>, &'o Comparison);

impl Serialize for BaselineView<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (o, b) = (self.0, self.1);
        let conversations = &o.classification.conversations;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(
            "new",
            &Seq(|| {
                b.new
                    .iter()
                    .map(|&i| ConversationView(o, &conversations[i as usize]))
            }),
        )?;
        m.serialize_entry(
            "resolved",
            &Seq(|| {
                b.resolved
                    .iter()
                    .map(|&i| ConversationView(o, &conversations[i as usize]))
            }),
        )?;
        m.serialize_entry("not_seen", &b.not_seen)?;
        m.serialize_entry("missing_rules", &b.missing_rules)?;
        m.end()
    }
}

/// The `live` object: keys in name order.
struct LiveView<'o>(&'o LiveStats);

impl Serialize for LiveView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("app_dropped", &l.app_dropped)?;
        m.serialize_entry("checkpoint", &l.checkpoint)?;
        m.serialize_entry(
            "drop_intervals",
            &Seq(|| {
                l.drop_intervals.iter().map(|d| {
                    serde_json::json!({
                        "start": Rfc3339(d.start_ns).to_string(),
                        "end": Rfc3339(d.end_ns).to_string(),
                        "kernel": d.kernel,
                        "interface": d.interface,
                        "app": d.app,
                    })
                })
            }),
        )?;
        m.serialize_entry("drop_intervals_omitted", &l.drop_intervals_omitted)?;
        m.serialize_entry("duration_s", &l.duration_s)?;
        m.serialize_entry("ended", &AsText(Rfc3339(l.ended_ns)))?;
        m.serialize_entry("filter", &l.filter)?;
        m.serialize_entry("interface", &l.interface)?;
        m.serialize_entry("interface_dropped", &l.interface_dropped)?;
        m.serialize_entry("kernel_dropped", &l.kernel_dropped)?;
        m.serialize_entry("kernel_received", &l.kernel_received)?;
        m.serialize_entry("late_packets", &l.late_packets)?;
        m.serialize_entry("linktype", &l.linktype)?;
        m.serialize_entry("open_connections", &l.open_connections)?;
        m.serialize_entry(
            "outages",
            &Seq(|| {
                l.outages.iter().map(|o| {
                    let end = o.end_ns.unwrap_or(l.ended_ns);
                    serde_json::json!({
                        "start": Rfc3339(o.start_ns).to_string(),
                        "end": o.end_ns.map(|e| Rfc3339(e).to_string()),
                        "duration_s": ((end - o.start_ns).max(0) as f64 / 1e6).round() / 1e3,
                        "reason": o.reason,
                        "reopen_attempts": o.attempts,
                    })
                })
            }),
        )?;
        let p = &l.privileges;
        m.serialize_entry(
            "privileges",
            &serde_json::json!({
                "user": p.user,
                "uid": p.uid,
                "gid": p.gid,
                "reopen_capabilities": p.reopen_capabilities,
                "seccomp_syscalls": p.seccomp_syscalls,
            }),
        )?;
        m.serialize_entry("started", &AsText(Rfc3339(l.started_ns)))?;
        m.serialize_entry("stopped_by", l.stopped_by.as_str())?;
        m.serialize_entry(
            "uncertain_connections",
            &l.uncertain.values().map(|u| u.connections).sum::<u64>(),
        )?;
        m.end()
    }
}
