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
use super::lang::Lang;
use super::words::ReasonText;
use super::{Addr, AsText, Exporter, LiveStats, Outcome, STATES_BY_NAME};
use crate::classify::{Classified, Host, Verdict};
use crate::time::Rfc3339;

pub const SCHEMA: &str = "flowlint.report.v1";

/// The JSON exporter.
pub struct Json;

/// Conversations serialized per task, and tasks per round: a round's
/// buffers are all that is held besides the model. A conversation is about
/// 1 KB of JSON, so a round holds 2 MB; 8 tasks keep two cores busy, and 16
/// rounds took no less time but 16 MB more memory (peak RSS, high-cardinality
/// bench mix).
const CHUNK: usize = 256;
const CHUNKS_PER_ROUND: usize = 8;

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
        Seq(|| o.inputs.iter().map(|i| InputView(i, o.lang))).write_at(out, 1)?;
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
        match &o.baseline {
            Some(b) => {
                let mut buf = Vec::new();
                BaselineView(o, b).write_to(&mut buf, 1)?;
                out.write_all(&buf)?;
            }
            None => out.write_all(b"null")?,
        }
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
                    ConversationView(o, c).write_to(buf, 2)?;
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

struct InputView<'o>(&'o crate::analysis::InputSummary, Lang);

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
            &Seq(|| i.warnings.iter().map(|w| AsText(WarningText(w, self.1)))),
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

/// "at byte 24: record cut short": words for people, so in the report's
/// language, like `reason`.
struct WarningText<'w>(&'w crate::capture::Warning, Lang);

impl Display for WarningText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::trw!(
            f,
            self.1,
            "at byte {offset}: {message}",
            "{offset} バイト目: {message}",
            offset = self.0.offset,
            message = self.0.render(self.1)
        )
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

impl ConversationView<'_, '_> {
    /// Writes the object at `depth`, by hand rather than through serde:
    /// conversations are nearly all of a large report's bytes, and serde's
    /// per-byte string escaping and per-entry formatter calls were half of
    /// the time spent writing it (`perf record`, high-cardinality bench mix).
    /// The bytes are the pretty printer's (the golden tests compare them).
    fn write_to(&self, buf: &mut Vec<u8>, depth: usize) -> io::Result<()> {
        let (o, c) = (self.0, self.1);
        let conv = &c.conv;
        let key = conv.key;
        let hosts = &o.classification.hosts;
        let mut m = ObjectOut::begin(buf, depth);
        m.text("client", Addr(key.client));
        m.text("server", Addr(key.server));
        m.uint("server_port", u64::from(key.server_port));
        m.str("protocol", key.transport.as_str());
        m.roles("client_roles", o, hosts.roles_of(c.hosts[0]));
        m.roles("server_roles", o, hosts.roles_of(c.hosts[1]));
        m.str("verdict", c.verdict.as_str());
        match c.rule {
            Some(r) => m.str("rule", o.catalogs.rule_by_id(r).id.as_str()),
            None => m.raw("rule", b"null"),
        }
        m.text(
            "reason",
            ReasonText {
                words: o.words(),
                conv: c,
            },
        );
        m.str("reason_code", c.reason.reason_code());
        m.uint("connections", conv.connections());
        m.value("states", &StatesView(conv))?;
        m.uint("packets", conv.packets);
        m.uint("bytes", conv.bytes);
        m.text("first_seen", Rfc3339(conv.first_ns));
        m.text("last_seen", Rfc3339(conv.last_ns));
        if let Some(by) = conv.icmp_reporter() {
            m.text("blocked_by", Addr(by));
        }
        m.uint(
            "started_before_capture",
            u64::from(conv.started_before_capture),
        );
        if conv.folded() > 0 {
            m.uint("folded_connections", u64::from(conv.folded()));
        }
        // Only for flow records: what they could not tell.
        // In the report's language, as `reason`; the codes for scripts.
        if o.record_notes.of(&key).next().is_some() {
            m.value(
                "record_notes",
                &Seq(|| {
                    o.record_notes
                        .of(&key)
                        .map(|n| super::words::record_note(n, o.lang))
                }),
            )?;
            m.value(
                "record_note_codes",
                &Seq(|| o.record_notes.of(&key).map(crate::records::Note::as_str)),
            )?;
        }
        if let Some(fix) = super::fix::Fix::of(o, c) {
            m.value("fix", &super::fix::FixView(&fix, o.lang))?;
        }
        // Live only: unanswered connections whose answer may have been lost
        // at the capture point (drops, an outage).
        if let Some(u) = o.live.as_ref().and_then(|l| l.uncertain.get(&key)) {
            m.raw("uncertain", b"true");
            m.str("uncertain_reason", u.cause.as_str());
            m.uint("uncertain_connections", u.connections);
        }
        m.end();
        Ok(())
    }
}

/// An array of conversations at `depth`, in the pretty printer's layout.
fn write_conversation_list<'o>(
    buf: &mut Vec<u8>,
    depth: usize,
    o: &'o Outcome<'_>,
    list: impl Iterator<Item = &'o Classified>,
) -> io::Result<()> {
    let mut empty = true;
    for c in list {
        buf.extend_from_slice(if empty { b"[\n" } else { b",\n" });
        empty = false;
        indent(buf, depth + 1)?;
        ConversationView(o, c).write_to(buf, depth + 1)?;
    }
    if empty {
        buf.extend_from_slice(b"[]");
    } else {
        buf.push(b'\n');
        indent(buf, depth)?;
        buf.push(b']');
    }
    Ok(())
}

/// A JSON object being written by hand in [`Pretty`]'s layout (two spaces a
/// level, `"key": value`, no trailing comma), values escaped as serde_json
/// escapes them.
struct ObjectOut<'b> {
    buf: &'b mut Vec<u8>,
    depth: usize,
    empty: bool,
}

thread_local! {
    /// Where a value's text is formatted before it is escaped.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl<'b> ObjectOut<'b> {
    fn begin(buf: &'b mut Vec<u8>, depth: usize) -> ObjectOut<'b> {
        buf.push(b'{');
        ObjectOut {
            buf,
            depth,
            empty: true,
        }
    }

    fn key(&mut self, key: &str) {
        self.buf
            .extend_from_slice(if self.empty { b"\n" } else { b",\n" });
        self.empty = false;
        // Writing to a Vec cannot fail.
        let _ = indent(self.buf, self.depth + 1);
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\": ");
    }

    fn raw(&mut self, key: &str, json: &[u8]) {
        self.key(key);
        self.buf.extend_from_slice(json);
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        json_string(self.buf, value);
    }

    /// A value's `Display`, as a JSON string.
    fn text(&mut self, key: &str, value: impl Display) {
        use std::fmt::Write as _;
        self.key(key);
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut text) => {
                text.clear();
                // Writing to a String cannot fail.
                let _ = write!(text, "{value}");
                json_string(self.buf, &text);
            }
            // A Display that writes JSON itself (never here): its own buffer.
            Err(_) => json_string(self.buf, &value.to_string()),
        });
    }

    fn uint(&mut self, key: &str, n: u64) {
        self.key(key);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    /// The role names of a set, in name order.
    fn roles(&mut self, key: &str, o: &Outcome<'_>, roles: crate::catalog::RoleSet) {
        self.key(key);
        let mut empty = true;
        for name in o.catalogs.role_names(roles) {
            self.buf
                .extend_from_slice(if empty { b"[\n" } else { b",\n" });
            empty = false;
            let _ = indent(self.buf, self.depth + 2);
            json_string(self.buf, name);
        }
        if empty {
            self.buf.extend_from_slice(b"[]");
        } else {
            self.buf.push(b'\n');
            let _ = indent(self.buf, self.depth + 1);
            self.buf.push(b']');
        }
    }

    /// Any serializable value, through serde (for the rarer nested parts).
    fn value(&mut self, key: &str, value: &impl Serialize) -> io::Result<()> {
        self.key(key);
        value.write_at(self.buf, self.depth + 1)
    }

    fn end(self) {
        if !self.empty {
            self.buf.push(b'\n');
            let _ = indent(self.buf, self.depth);
        }
        self.buf.push(b'}');
    }
}

/// `s` as a JSON string: copied whole when nothing in it needs escaping (a
/// check the compiler vectorizes), else escaped by serde_json itself, so the
/// bytes are always serde_json's.
fn json_string(buf: &mut Vec<u8>, s: &str) {
    let plain = |b: u8| b >= 0x20 && b != b'"' && b != b'\\';
    let bytes = s.as_bytes();
    let mut chunks = bytes.chunks_exact(16);
    let mut clean = true;
    for chunk in &mut chunks {
        if !chunk.iter().fold(true, |all, &b| all & plain(b)) {
            clean = false;
            break;
        }
    }
    if clean && chunks.remainder().iter().all(|&b| plain(b)) {
        buf.reserve(bytes.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(bytes);
        buf.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, s);
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

impl BaselineView<'_, '_> {
    /// By hand, as its conversation lists are ([`ConversationView`]).
    fn write_to(&self, buf: &mut Vec<u8>, depth: usize) -> io::Result<()> {
        let (o, b) = (self.0, self.1);
        let conversations = &o.classification.conversations;
        let mut m = ObjectOut::begin(buf, depth);
        for (key, list) in [("new", &b.new), ("resolved", &b.resolved)] {
            m.key(key);
            write_conversation_list(
                m.buf,
                depth + 1,
                o,
                list.iter().map(|&i| &conversations[i as usize]),
            )?;
        }
        m.value("not_seen", &b.not_seen)?;
        m.value("missing_rules", &b.missing_rules)?;
        m.end();
        Ok(())
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
