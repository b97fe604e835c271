//! JSONL (`--format jsonl`): one compact JSON object per decided connection,
//! with Zeek's `history` and `conn_state`, Wireshark's completeness bits, and
//! its conversation's verdict. `check` writes them at the end, sorted by
//! first packet; `live` writes each as it is decided ([`write_connection`]).

use std::io::{self, Write};

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::lang::Lang;
use super::{Addr, AsText, Exporter, Outcome};
use crate::classify::{ConvKey, Verdict};
use crate::decode::Transport;
use crate::flow::{CommunityId, ConnRecord};
use crate::time::Rfc3339;

/// The JSONL exporter.
pub struct Jsonl;

impl Exporter for Jsonl {
    fn write(&self, out: &mut dyn Write, outcome: &Outcome<'_>) -> io::Result<()> {
        let conversations = &outcome.classification.conversations;
        if outcome.connections.is_empty() {
            return Ok(());
        }
        // Looked up once per connection: a hash index, built once.
        let index: FxHashMap<ConvKey, u32> = conversations
            .iter()
            .enumerate()
            .map(|(i, c)| (c.conv.key, i as u32))
            .collect();
        for rec in &outcome.connections {
            let conversation = index
                .get(&ConvKey::of(rec))
                .map(|&i| &conversations[i as usize]);
            let verdict = conversation.map(|c| Decided {
                verdict: c.verdict,
                rule: c.rule.map(|r| outcome.catalogs.rule_by_id(r).id.as_str()),
                reason_code: c.reason.reason_code(),
            });
            let fix = conversation
                .filter(|_| carries_fix(rec.state))
                .and_then(|c| super::fix::Fix::of(outcome, c));
            let directions = outcome.record_notes.directions(rec);
            write_line(out, rec, verdict, fix.as_ref(), directions, outcome.lang)?;
        }
        Ok(())
    }
}

/// Does a connection in this state carry its blocked conversation's fix?
/// (The ones that failed; `unanswered` counts, as the rule made it a block.)
pub(crate) fn carries_fix(state: crate::flow::State) -> bool {
    state.is_failure() || state == crate::flow::State::Unanswered
}

#[derive(Serialize)]
struct ConnectionLine<'a> {
    client: AsText<Addr>,
    client_port: u16,
    server: AsText<Addr>,
    server_port: u16,
    protocol: &'static str,
    state: &'static str,
    /// Zeek's `history` and `conn_state`, in Zeek's orientation (absent
    /// for connections read from flow records, which have no packets to
    /// derive them from).
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conn_state: Option<&'static str>,
    /// Only when Zeek calls the server the originator (a connection seen
    /// without its opening, a UDP answer first): Zeek's `id.*`, so the
    /// record joins Zeek's conn.log.
    #[serde(skip_serializing_if = "Option::is_none")]
    zeek_orig_h: Option<AsText<Addr>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zeek_orig_p: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zeek_resp_h: Option<AsText<Addr>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zeek_resp_p: Option<u16>,
    /// Wireshark's tcp.completeness bits (TCP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    completeness: Option<u8>,
    /// 0 or 1: the JSON report's field of the same name counts connections.
    started_before_capture: u8,
    /// Every packet of the connection (both sides and the ICMP errors about
    /// it) and their IP-level bytes, as the JSON report counts them.
    packets: u64,
    bytes: u64,
    /// Zeek's per-direction counters (originator and responder as Zeek
    /// sees them): packets, and payload bytes (TCP: the sequence space
    /// used, as Zeek counts it).
    /// From flow records: what they gave (Zeek's own counters; nfdump's
    /// packets per direction, no payload bytes). Absent where unknown,
    /// never a made-up 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    orig_pkts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resp_pkts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    orig_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resp_bytes: Option<u64>,
    /// The Community ID v1 flow hash (seed 0), as Zeek, Suricata and
    /// Wireshark write it.
    community_id: AsText<CommunityId>,
    /// The kinds of tunnel the connection came through ("gre+vxlan"), when
    /// it came through any.
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel: Option<String>,
    first_seen: AsText<Rfc3339>,
    last_seen: AsText<Rfc3339>,
    /// Seconds from the first packet to the last (Zeek's `duration`).
    duration: f64,
    verdict: Option<&'static str>,
    rule: Option<&'a str>,
    /// The conversation's `reason_code`, as in the JSON report.
    reason_code: Option<&'static str>,
    /// As in the JSON report: the third party (a router or firewall) that
    /// sent the ICMP unreachable, never the server itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_by: Option<AsText<Addr>>,
    /// The next step, as the JSON report's `fix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<super::fix::FixView<'a>>,
}

/// What a connection line says about its conversation.
#[derive(Clone, Copy, Debug)]
pub struct Decided<'a> {
    pub verdict: Verdict,
    /// The rule's id.
    pub rule: Option<&'a str>,
    /// [`crate::classify::Reason::reason_code`].
    pub reason_code: &'static str,
}

/// Writes one connection line; `verdict` is its conversation's verdict,
/// rule id and reason code, when known.
pub fn write_connection(
    out: &mut dyn Write,
    rec: &ConnRecord,
    verdict: Option<Decided<'_>>,
) -> io::Result<()> {
    write_connection_with_fix(out, rec, verdict, None, Lang::En)
}

/// [`write_connection`], with the fix of a failed connection of a blocked
/// conversation.
pub fn write_connection_with_fix(
    out: &mut dyn Write,
    rec: &ConnRecord,
    verdict: Option<Decided<'_>>,
    fix: Option<&super::fix::Fix>,
    lang: Lang,
) -> io::Result<()> {
    write_line(out, rec, verdict, fix, None, lang)
}

/// One line; `directions`: the counters flow records gave (connections
/// from records have no Zeek view of packets).
fn write_line(
    out: &mut dyn Write,
    rec: &ConnRecord,
    verdict: Option<Decided<'_>>,
    fix: Option<&super::fix::Fix>,
    directions: Option<&crate::records::Directions>,
    lang: Lang,
) -> io::Result<()> {
    let zeek = rec.zeek.as_deref();
    let flipped = zeek.is_some_and(|z| z.flipped) || directions.is_some_and(|d| !d.orig_is_client);
    let counter = |z: fn(&crate::flow::ZeekRecord) -> u64,
                   d: fn(&crate::records::Directions) -> Option<u64>| {
        zeek.map(z).or_else(|| directions.and_then(d))
    };
    let line = ConnectionLine {
        client: AsText(Addr(rec.client)),
        client_port: rec.client_port,
        server: AsText(Addr(rec.server)),
        server_port: rec.server_port,
        protocol: rec.transport.as_str(),
        state: rec.state.as_str(),
        history: zeek.map(|z| z.history()),
        conn_state: zeek.map(|z| z.conn_state.as_str()),
        zeek_orig_h: flipped.then_some(AsText(Addr(rec.server))),
        zeek_orig_p: flipped.then_some(rec.server_port),
        zeek_resp_h: flipped.then_some(AsText(Addr(rec.client))),
        zeek_resp_p: flipped.then_some(rec.client_port),
        completeness: (rec.transport == Transport::Tcp).then_some(rec.completeness),
        started_before_capture: u8::from(rec.started_before_capture),
        packets: rec.packets,
        bytes: rec.bytes,
        orig_pkts: counter(|z| z.orig_pkts, |d| d.orig_pkts),
        resp_pkts: counter(|z| z.resp_pkts, |d| d.resp_pkts),
        orig_bytes: counter(|z| z.orig_bytes, |d| d.orig_bytes),
        resp_bytes: counter(|z| z.resp_bytes, |d| d.resp_bytes),
        community_id: AsText(CommunityId::new(
            rec.transport,
            (rec.client, rec.client_port),
            (rec.server, rec.server_port),
            0,
        )),
        tunnel: zeek.filter(|z| !z.tunnels.is_empty()).map(|z| {
            z.tunnels
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join("+")
        }),
        first_seen: AsText(Rfc3339(rec.first_ns)),
        last_seen: AsText(Rfc3339(rec.last_ns)),
        duration: rec.last_ns.saturating_sub(rec.first_ns).max(0) as f64 / 1e9,
        verdict: verdict.map(|d| d.verdict.as_str()),
        rule: verdict.and_then(|d| d.rule),
        reason_code: verdict.map(|d| d.reason_code),
        blocked_by: rec
            .failed_by
            .filter(|&by| by != rec.server)
            .map(|a| AsText(Addr(a))),
        fix: fix.map(|f| super::fix::FixView(f, lang)),
    };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
