//! NetFlow/IPFIX through nfdump: `nfdump -o json` (an array of
//! unidirectional records) and `nfdump -o csv`, read into [`FlowHalf`]s
//! and paired with their reverse 5-tuple into connections.
//!
//! Owns: the JSON object splitter (streamed: objects are cut out of the
//! byte stream one by one, so the array is never held whole, and the
//! not-quite-JSON of `nfdump -q -o json` is read too), the CSV columns by
//! their header names, nfdump's times (printed in the collector's local
//! time without a zone: read as UTC, hence `TZ=UTC nfdump …`), the
//! aggregated TCP flags (`...AP.SF`), and the pairing. A flow record says
//! which flags one direction sent in all, never in what order, so:
//! SYN only and no reverse → no_reply; a reverse with RST and no SYN →
//! refused; both directions with SYN → established (reset with a RST);
//! UDP with a reverse → answered; ICMP unreachables are linked by address
//! and time (see `Builder`). Records wait for their reverse only as long
//! as one can still come (see [`Pairer`]), so memory follows the flows
//! open at once, not the length of the input.

use std::borrow::Cow;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::{
    bad, blank, BadRecord, Builder, Directions, LineProblem, Lines, Note, Pending, Unreachable,
    Want, Warnings,
};
use crate::decode::Transport;
use crate::flow::State;

/// TCP flag bits as on the wire.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// One unidirectional flow record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowHalf {
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    pub proto: u8,
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    pub first_ns: i64,
    pub last_ns: i64,
    /// TCP flags seen in this direction, ORed.
    pub flags: u8,
    pub packets: u64,
    pub bytes: u64,
    /// ICMP type and code.
    pub icmp: Option<(u8, u8)>,
}

/// What nfdump writes inside the brackets when no flow matched.
const NO_FLOWS: &str = "No matching flows";

/// Does a JSON input look like nfdump's (its first object's field names)?
pub(crate) fn looks_like_json(start: &str) -> bool {
    let after = start.trim_start_matches('[').trim_start();
    if after.starts_with(']') || after.starts_with(NO_FLOWS) {
        // nfdump's output for no records.
        return true;
    }
    after.starts_with('{')
        && (after.contains("\"src4_addr\"")
            || after.contains("\"src6_addr\"")
            || (after.contains("\"first\"") && after.contains("\"proto\"")))
}

/// Is this the header line of `nfdump -o csv`?
pub(crate) fn is_csv_header(line: &str) -> bool {
    let names: Vec<&str> = line.trim().split(',').collect();
    ["ts", "te", "sa", "da", "sp", "dp", "pr"]
        .iter()
        .all(|n| names.contains(n))
}

/// `...AP.SF`, `0x12` or `18`.
pub fn parse_flags(s: &str) -> Option<u8> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16).ok();
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let mut f = 0u8;
    for c in s.chars() {
        f |= match c {
            'F' => flags::FIN,
            'S' => flags::SYN,
            'R' => flags::RST,
            'P' => flags::PSH,
            'A' => flags::ACK,
            'U' => flags::URG,
            'E' => flags::ECE,
            'C' => flags::CWR,
            '.' => 0,
            _ => return None,
        };
    }
    Some(f)
}

/// nfdump's time, with or without fraction, `T` or space (read as UTC).
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return t.and_utc().timestamp_nanos_opt();
        }
    }
    // Some versions print epoch milliseconds.
    s.parse::<i64>()
        .ok()
        .and_then(|ms| ms.checked_mul(1_000_000))
}

#[derive(Deserialize)]
struct NfJson<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    first: Cow<'a, str>,
    #[serde(borrow)]
    last: Cow<'a, str>,
    proto: u8,
    #[serde(borrow, default)]
    tcp_flags: Option<Cow<'a, str>>,
    #[serde(default)]
    src_port: Option<u16>,
    #[serde(default)]
    dst_port: Option<u16>,
    #[serde(borrow, default)]
    src4_addr: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    src6_addr: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dst4_addr: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dst6_addr: Option<Cow<'a, str>>,
    #[serde(default)]
    in_packets: Option<u64>,
    #[serde(default)]
    in_bytes: Option<u64>,
    #[serde(default)]
    icmp_type: Option<u8>,
    #[serde(default)]
    icmp_code: Option<u8>,
}

fn parse_object(obj: &[u8]) -> Result<Option<FlowHalf>, BadRecord> {
    let j: NfJson<'_> = serde_json::from_slice(obj).map_err(|e| BadRecord::NotJson {
        nfdump: true,
        detail: e.to_string(),
    })?;
    if j.kind.as_deref().is_some_and(|k| k != "FLOW") {
        return Ok(None);
    }
    let time = |name: &str, s: &str| parse_time(s).ok_or_else(|| bad(name, s, Want::NfdumpTime));
    let addr = |name: &'static str, a: &Option<Cow<'_, str>>, b: &Option<Cow<'_, str>>| {
        let s = a
            .as_deref()
            .or(b.as_deref())
            .ok_or(BadRecord::NoAddress(name))?;
        s.parse::<IpAddr>().map_err(|_| BadRecord::Address {
            side: name,
            value: s.to_string(),
        })
    };
    let flags = match j.tcp_flags.as_deref() {
        None => 0,
        Some(f) => parse_flags(f).ok_or_else(|| bad("tcp_flags", f, Want::TcpFlags))?,
    };
    let icmp = match (j.proto, j.icmp_type) {
        (1 | 58, Some(t)) => Some((t, j.icmp_code.unwrap_or(0))),
        (1 | 58, None) => {
            // Older versions put type and code in the destination port.
            j.dst_port.map(|p| ((p >> 8) as u8, (p & 0xff) as u8))
        }
        _ => None,
    };
    Ok(Some(FlowHalf {
        proto: j.proto,
        src: (
            addr("src", &j.src4_addr, &j.src6_addr)?,
            j.src_port.unwrap_or(0),
        ),
        dst: (
            addr("dst", &j.dst4_addr, &j.dst6_addr)?,
            j.dst_port.unwrap_or(0),
        ),
        first_ns: time("first", &j.first)?,
        last_ns: time("last", &j.last)?,
        flags,
        packets: j.in_packets.unwrap_or(0),
        bytes: j.in_bytes.unwrap_or(0),
        icmp,
    }))
}

/// Cuts JSON objects out of the stream, one at a time.
#[derive(Default)]
pub struct JsonSplitter {
    /// Bytes of the object being read.
    object: Vec<u8>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Offset and line where the current object began.
    start: (u64, u64),
    /// Objects cut out but not yet handed out (several may end on one line).
    ready: std::collections::VecDeque<(Vec<u8>, u64, u64)>,
}

/// Objects nested deeper than this are not nfdump's.
const MAX_DEPTH: u32 = 64;
/// An object larger than this is not a flow record.
const MAX_OBJECT: usize = 1 << 20;

impl JsonSplitter {
    pub(crate) fn next(&mut self, lines: &mut Lines, warnings: &mut Warnings) -> Option<FlowHalf> {
        loop {
            while let Some((obj, offset, number)) = self.ready.pop_front() {
                match parse_object(&obj) {
                    Ok(Some(half)) => return Some(half),
                    Ok(None) => {}
                    Err(e) => warnings.at_line(offset, number, LineProblem::Skipped(e)),
                }
            }
            let (line, offset, number) = lines.next_line()?;
            if self.depth == 0 && line.trim_ascii() == NO_FLOWS.as_bytes() {
                continue;
            }
            let line = line.to_vec();
            self.scan(&line, offset, number, warnings);
        }
    }

    fn scan(&mut self, line: &[u8], offset: u64, number: u64, warnings: &mut Warnings) {
        let mut stray = false;
        for &b in line {
            if self.depth == 0 {
                match b {
                    b'{' => {
                        self.depth = 1;
                        self.object.clear();
                        self.object.push(b);
                        self.start = (offset, number);
                    }
                    b'[' | b']' | b',' | b' ' | b'\t' | b'\r' => {}
                    _ => stray = true,
                }
                continue;
            }
            if self.object.len() < MAX_OBJECT {
                self.object.push(b);
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        warnings.at_line(self.start.0, self.start.1, LineProblem::NestedTooDeep);
                        self.reset();
                        return;
                    }
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let obj = std::mem::take(&mut self.object);
                        if obj.len() >= MAX_OBJECT {
                            warnings.at_line(self.start.0, self.start.1, LineProblem::TooLong);
                        } else {
                            self.ready.push_back((obj, self.start.0, self.start.1));
                        }
                    }
                }
                _ => {}
            }
        }
        if self.depth > 0 && self.object.len() < MAX_OBJECT {
            self.object.push(b'\n');
        }
        if stray {
            warnings.at_line(offset, number, LineProblem::TextOutside);
        }
    }

    fn reset(&mut self) {
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.object.clear();
    }

    pub(crate) fn finish(&mut self, lines: &Lines, warnings: &mut Warnings) {
        if self.depth > 0 {
            warnings.at_line(
                self.start.0,
                self.start.1,
                LineProblem::EndsInside {
                    at: lines.position(),
                },
            );
            self.reset();
        }
    }
}

/// Column positions of a CSV header.
#[derive(Default)]
struct CsvColumns {
    ts: usize,
    te: usize,
    sa: usize,
    da: usize,
    sp: usize,
    dp: usize,
    pr: usize,
    flg: Option<usize>,
    ipkt: Option<usize>,
    ibyt: Option<usize>,
    count: usize,
}

/// State of a CSV reader: the header's columns.
#[derive(Default)]
pub struct CsvParser {
    columns: Option<CsvColumns>,
}

fn proto_number(s: &str) -> Option<u8> {
    match s.trim().to_ascii_uppercase().as_str() {
        "TCP" => Some(6),
        "UDP" => Some(17),
        "ICMP" => Some(1),
        "ICMP6" | "IPV6-ICMP" => Some(58),
        other => other.parse().ok(),
    }
}

impl CsvParser {
    pub(crate) fn next(&mut self, lines: &mut Lines, warnings: &mut Warnings) -> Option<FlowHalf> {
        loop {
            let (line, offset, number) = lines.next_line()?;
            let text = String::from_utf8_lossy(line).into_owned();
            if text.trim().is_empty() {
                continue;
            }
            if is_csv_header(&text) {
                let names: Vec<&str> = text.trim().split(',').collect();
                let at = |n: &str| names.iter().position(|f| *f == n);
                self.columns = Some(CsvColumns {
                    ts: at("ts").unwrap_or(0),
                    te: at("te").unwrap_or(0),
                    sa: at("sa").unwrap_or(0),
                    da: at("da").unwrap_or(0),
                    sp: at("sp").unwrap_or(0),
                    dp: at("dp").unwrap_or(0),
                    pr: at("pr").unwrap_or(0),
                    flg: at("flg"),
                    ipkt: at("ipkt"),
                    ibyt: at("ibyt"),
                    count: names.len(),
                });
                continue;
            }
            // nfdump ends CSV output with a summary block.
            if text.starts_with("Summary") || text.starts_with("flows,") {
                break None;
            }
            let Some(c) = &self.columns else {
                warnings.at_line(offset, number, LineProblem::BeforeCsvHeader);
                continue;
            };
            match Self::record(c, &text) {
                Ok(Some(half)) => return Some(half),
                Ok(None) => {}
                Err(e) => warnings.at_line(offset, number, LineProblem::Skipped(e)),
            }
        }
        .or_else(|| {
            // Skip the rest (the summary), so the reader ends cleanly.
            while lines.next_line().is_some() {}
            None
        })
    }

    fn record(c: &CsvColumns, text: &str) -> Result<Option<FlowHalf>, BadRecord> {
        let f: Vec<&str> = text.trim_end().split(',').collect();
        if f.len() < c.count {
            return Err(BadRecord::FieldCount {
                have: f.len(),
                named: c.count,
                csv: true,
            });
        }
        let time =
            |i: usize, name: &str| parse_time(f[i]).ok_or_else(|| bad(name, f[i], Want::Time));
        let addr = |i: usize, name: &str| {
            f[i].trim()
                .parse::<IpAddr>()
                .map_err(|_| bad(name, f[i], Want::IpAddress))
        };
        let proto = proto_number(f[c.pr]).ok_or_else(|| bad("pr", f[c.pr], Want::Protocol))?;
        let count = |i: Option<usize>, name: &str| -> Result<u64, BadRecord> {
            match i {
                None => Ok(0),
                Some(i) => f[i]
                    .trim()
                    .parse()
                    .map_err(|_| bad(name, f[i], Want::Count)),
            }
        };
        // ICMP: the destination port is "type.code".
        let (dp, icmp) = match f[c.dp].trim().split_once('.') {
            Some((t, code)) => {
                let t: u8 = t.parse().map_err(|_| bad("dp", f[c.dp], Want::Port))?;
                let code: u8 = code.parse().map_err(|_| bad("dp", f[c.dp], Want::Port))?;
                (u16::from(t) << 8 | u16::from(code), Some((t, code)))
            }
            None => {
                let p: u16 = f[c.dp]
                    .trim()
                    .parse()
                    .map_err(|_| bad("dp", f[c.dp], Want::Port))?;
                let icmp = matches!(proto, 1 | 58).then_some(((p >> 8) as u8, (p & 0xff) as u8));
                (p, icmp)
            }
        };
        let sp: u16 = f[c.sp]
            .trim()
            .parse()
            .map_err(|_| bad("sp", f[c.sp], Want::Port))?;
        let flags = match c.flg {
            Some(i) => parse_flags(f[i]).ok_or_else(|| bad("flg", f[i], Want::TcpFlags))?,
            None => 0,
        };
        Ok(Some(FlowHalf {
            proto,
            src: (addr(c.sa, "sa")?, sp),
            dst: (addr(c.da, "da")?, dp),
            first_ns: time(c.ts, "ts")?,
            last_ns: time(c.te, "te")?,
            flags,
            packets: count(c.ipkt, "ipkt")?,
            bytes: count(c.ibyt, "ibyt")?,
            icmp,
        }))
    }
}

/// The key both directions of a flow share.
type PairKey = (u8, (IpAddr, u16), (IpAddr, u16));

fn pair_key(h: &FlowHalf) -> (PairKey, bool) {
    if h.src <= h.dst {
        ((h.proto, h.src, h.dst), true)
    } else {
        ((h.proto, h.dst, h.src), false)
    }
}

/// Records waiting for their reverse, by 5-tuple: the open connection of
/// each (its records, and the latest end among them).
///
/// Streaming: a connection is decided once the input's clock has passed
/// its last record by the idle gap (a later record of the 5-tuple closer
/// than that would belong to it) plus [`super::RECORD_SLACK_NS`] (an
/// exporter writes the two directions of a flow at different times, up to
/// its inactive timeout apart). At most `max_open` wait; beyond, the
/// oldest eighth is decided early and counted (`evicted_connections`).
pub struct Pairer {
    open: FxHashMap<PairKey, Open>,
    max_open: usize,
}

struct Open {
    halves: Vec<FlowHalf>,
    last_ns: i64,
}

/// A UDP exchange ends after this much silence (SPEC: 60 s); a TCP
/// 5-tuple quiet this long and then used again is a new connection.
const IDLE_NS: i64 = 60 * 1_000_000_000;

/// One direction of a connection, added up.
#[derive(Clone, Copy)]
struct Side {
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    first_ns: i64,
    last_ns: i64,
    flags: u8,
    packets: u64,
    bytes: u64,
}

impl Pairer {
    pub(crate) fn new(max_open: usize) -> Pairer {
        Pairer {
            open: FxHashMap::default(),
            max_open: max_open.max(1),
        }
    }

    pub(crate) fn add(&mut self, half: FlowHalf, _input: u16, builder: &mut Builder) {
        let (key, _) = pair_key(&half);
        if let Some(open) = self.open.get_mut(&key) {
            if half.first_ns > open.last_ns.saturating_add(IDLE_NS) {
                // The 5-tuple used again after a pause: a new connection.
                let done = std::mem::replace(
                    open,
                    Open {
                        last_ns: half.last_ns,
                        halves: vec![half],
                    },
                );
                decide_all(done.halves, builder);
            } else {
                open.last_ns = open.last_ns.max(half.last_ns);
                open.halves.push(half);
            }
            return;
        }
        if self.open.len() >= self.max_open {
            self.evict(builder);
        }
        self.open.insert(
            key,
            Open {
                last_ns: half.last_ns,
                halves: vec![half],
            },
        );
        builder.note_peak(self.open.len());
    }

    /// Decides the oldest eighth early (memory stays bounded).
    fn evict(&mut self, builder: &mut Builder) {
        let mut ends: Vec<i64> = self.open.values().map(|o| o.last_ns).collect();
        let n = (ends.len() / 8).max(1);
        let (_, nth, _) = ends.select_nth_unstable(n - 1);
        let cut = *nth;
        let before = self.open.len();
        self.decide_where(builder, |o| o.last_ns <= cut);
        builder.stats.evicted_early += (before - self.open.len()) as u64;
    }

    /// Decides the connections the input's clock has passed by.
    pub(crate) fn sweep(&mut self, clock: i64, builder: &mut Builder) {
        let cut = clock.saturating_sub(IDLE_NS.saturating_add(super::RECORD_SLACK_NS));
        self.decide_where(builder, |o| o.last_ns < cut);
    }

    fn decide_where(&mut self, builder: &mut Builder, done: impl Fn(&Open) -> bool) {
        let mut keys: Vec<PairKey> = self
            .open
            .iter()
            .filter(|(_, o)| done(o))
            .map(|(k, _)| *k)
            .collect();
        // In key order, so the result does not depend on hashing.
        keys.sort_unstable();
        for k in keys {
            if let Some(o) = self.open.remove(&k) {
                decide_all(o.halves, builder);
            }
        }
    }

    pub(crate) fn finish(mut self, builder: &mut Builder) {
        self.decide_where(builder, |_| true);
    }
}

/// Decides the connections of one 5-tuple's records: in time order, a new
/// one after each idle gap.
fn decide_all(mut halves: Vec<FlowHalf>, builder: &mut Builder) {
    halves.sort_by_key(|h| (h.first_ns, h.last_ns));
    let mut group: Vec<FlowHalf> = Vec::new();
    let mut group_last = i64::MIN;
    for h in halves {
        let new = !group.is_empty() && h.first_ns > group_last.saturating_add(IDLE_NS);
        if new {
            decide(std::mem::take(&mut group), builder);
            group_last = i64::MIN;
        }
        group_last = group_last.max(h.last_ns);
        group.push(h);
    }
    if !group.is_empty() {
        decide(group, builder);
    }
}

/// Decides one connection from the records of its two directions.
fn decide(group: Vec<FlowHalf>, builder: &mut Builder) {
    let Some(first) = group.first() else {
        return;
    };
    let proto = first.proto;
    if matches!(proto, 1 | 58) {
        for h in &group {
            let unreachable = matches!((proto, h.icmp), (1, Some((3, _))) | (58, Some((1, _))));
            if unreachable {
                builder.push_unreachable(Unreachable {
                    from: h.src.0,
                    to: h.dst.0,
                    ts_ns: h.first_ns,
                    packets: h.packets,
                    bytes: h.bytes,
                });
            } else {
                builder.saw_time(h.last_ns);
            }
        }
        return;
    }
    let transport = match proto {
        6 => Transport::Tcp,
        17 => Transport::Udp,
        _ => {
            for h in &group {
                builder.saw_time(h.last_ns);
            }
            return;
        }
    };
    // Add up each direction.
    let mut sides: Vec<Side> = Vec::with_capacity(2);
    for h in &group {
        match sides.iter_mut().find(|s| s.src == h.src) {
            Some(s) => {
                s.first_ns = s.first_ns.min(h.first_ns);
                s.last_ns = s.last_ns.max(h.last_ns);
                s.flags |= h.flags;
                s.packets += h.packets;
                s.bytes += h.bytes;
            }
            None => sides.push(Side {
                src: h.src,
                dst: h.dst,
                first_ns: h.first_ns,
                last_ns: h.last_ns,
                flags: h.flags,
                packets: h.packets,
                bytes: h.bytes,
            }),
        }
    }
    sides.sort_by_key(|s| (s.first_ns, s.src));
    let ports = &*builder.server_ports;
    let mut notes = 0u8;
    let syn = |s: &Side| s.flags & flags::SYN != 0;
    let (client, server, state, opening_seen): (Side, Option<Side>, State, bool) = match sides
        .as_slice()
    {
        [one] => {
            let s = *one;
            match transport {
                Transport::Tcp => {
                    if syn(&s) && s.flags & flags::ACK == 0 {
                        (s, None, State::NoReply, true)
                    } else {
                        notes |= Note::OneDirection.bit();
                        let src_is_client =
                            super::a_is_client_guess(ports, transport, s.src.1, s.dst.1);
                        let opening = syn(&s);
                        let state = if opening {
                            State::Established
                        } else {
                            State::Midstream
                        };
                        if src_is_client {
                            (s, None, state, opening)
                        } else {
                            (reverse_of(&s), Some(s), state, opening)
                        }
                    }
                }
                Transport::Udp => {
                    if super::udp_first_sender_is_client(ports, s.src.1, s.dst.1) {
                        (s, None, State::Unanswered, true)
                    } else {
                        (reverse_of(&s), Some(s), State::Answered, false)
                    }
                }
            }
        }
        [a, b, ..] => {
            let (a, b) = (*a, *b);
            // The earlier direction opened it; at the same millisecond, the
            // one with a SYN and no ACK, else the port rule.
            let a_first = if a.first_ns != b.first_ns {
                true
            } else if transport == Transport::Tcp && syn(&a) != syn(&b) {
                syn(&a)
            } else if transport == Transport::Tcp
                && (a.flags & flags::ACK == 0) != (b.flags & flags::ACK == 0)
            {
                a.flags & flags::ACK == 0
            } else {
                super::a_is_client_guess(ports, transport, a.src.1, a.dst.1)
            };
            let (first, second) = if a_first { (a, b) } else { (b, a) };
            match transport {
                Transport::Tcp => {
                    if !syn(&first) && !syn(&second) {
                        let first_is_client =
                            super::a_is_client_guess(ports, transport, first.src.1, first.dst.1);
                        let (c, s) = if first_is_client {
                            (first, second)
                        } else {
                            (second, first)
                        };
                        (c, Some(s), State::Midstream, false)
                    } else {
                        // The SYN sender is the client: the side with a SYN
                        // first, or the only side with one.
                        let (c, s) = if syn(&first) {
                            (first, second)
                        } else {
                            (second, first)
                        };
                        let any_rst = (c.flags | s.flags) & flags::RST != 0;
                        let state = if syn(&s) || c.flags & flags::ACK != 0 {
                            if any_rst {
                                State::Reset
                            } else {
                                State::Established
                            }
                        } else if s.flags & flags::RST != 0 {
                            State::Refused
                        } else {
                            State::Established
                        };
                        (c, Some(s), state, true)
                    }
                }
                Transport::Udp => {
                    if super::udp_first_sender_is_client(ports, first.src.1, first.dst.1) {
                        (first, Some(second), State::Answered, true)
                    } else {
                        (second, Some(first), State::Answered, false)
                    }
                }
            }
        }
        [] => return,
    };
    let mut rec = blank(transport, client.src, client.dst);
    rec.state = state;
    rec.started_before_capture = !opening_seen;
    let sides_iter = sides.iter();
    rec.first_ns = sides_iter.clone().map(|s| s.first_ns).min().unwrap_or(0);
    rec.last_ns = sides_iter.clone().map(|s| s.last_ns).max().unwrap_or(0);
    rec.packets = sides_iter.clone().map(|s| s.packets).sum();
    rec.bytes = sides_iter.map(|s| s.bytes).sum();
    let client_packets = if server.is_some_and(|s| s.src == client.src) {
        0
    } else {
        client.packets
    };
    rec.attempt_first_ns = client.first_ns.min(rec.first_ns);
    rec.attempt_last_ns = client.last_ns;
    match transport {
        Transport::Tcp => rec.syns = u32::try_from(client_packets.max(1)).unwrap_or(u32::MAX),
        Transport::Udp if server.is_none() => {
            rec.unanswered_datagrams = u32::try_from(client_packets.max(1)).unwrap_or(u32::MAX)
        }
        Transport::Udp => {}
    }
    if state == State::Refused {
        rec.failed_by = Some(rec.server);
    }
    let replies = server
        .filter(|s| s.src != client.src)
        .map_or(0, |s| s.packets);
    // The client's side is the originator; a flow record counts packets
    // and IP bytes, not payload.
    let server_side = server.filter(|s| s.src != client.src);
    let directions = Directions {
        orig_is_client: true,
        orig_pkts: Some(client_packets),
        resp_pkts: Some(server_side.map_or(0, |s| s.packets)),
        orig_bytes: None,
        resp_bytes: None,
    };
    builder.push(Pending {
        rec,
        replies,
        notes,
        directions: Some(directions),
    });
}

/// The other direction of a side that alone was recorded (no packets).
fn reverse_of(s: &Side) -> Side {
    Side {
        src: s.dst,
        dst: s.src,
        flags: 0,
        packets: 0,
        bytes: 0,
        ..*s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_in_every_spelling() {
        assert_eq!(parse_flags("......S."), Some(flags::SYN));
        assert_eq!(parse_flags("...A.R.."), Some(flags::ACK | flags::RST));
        assert_eq!(parse_flags("...AP.SF"), Some(0x1b));
        assert_eq!(parse_flags("0x12"), Some(0x12));
        assert_eq!(parse_flags("18"), Some(18));
        assert_eq!(parse_flags("xyz"), None);
    }

    #[test]
    fn times_parse_as_utc() {
        assert_eq!(
            parse_time("2026-11-20T10:00:00.030"),
            Some(1_795_168_800_030_000_000)
        );
        assert_eq!(
            parse_time("2026-11-20 10:00:00"),
            Some(1_795_168_800_000_000_000)
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn csv_header_is_recognised() {
        assert!(is_csv_header(
            "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt"
        ));
        assert!(!is_csv_header("a,b,c"));
    }
}
