//! Zeek's `conn.log`, TSV and JSON-lines forms, read into [`ZeekConn`] and
//! mapped onto flowlint's states.
//!
//! Owns: the TSV header lines (`#separator`, `#fields`, `#unset_field`,
//! `#empty_field`; columns in any order; several `#open`/`#close` blocks,
//! `#close` missing while a log is written), the JSON field names
//! (`id.orig_h`, …), the field syntaxes (`ts` as seconds or ISO 8601),
//! and the mapping. The mapping follows the packet path rather than
//! Zeek's `conn_state` alone: the history letters say which side sent the
//! SYN or the SYN-ACK (so a SYN-ACK without its SYN is an opening, as it
//! is for packets), who answered and who reset; `conn_state` is used where
//! a record has no history (S0/SH/RSTOS0 → no_reply or pending by the end
//! of the records, REJ → refused, S1/SF/S2/S3 → established, RSTO/RSTR →
//! reset, OTH/SHR/RSTRH → midstream). Zeek's originator is not always
//! flowlint's client: a connection without an opening is oriented by
//! flowlint's own port rule (catalog port, else the lower one), from the
//! first packet's sender (Zeek's responder when the history starts with
//! `^`, Zeek's flip).

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;

use super::{
    bad, blank, BadRecord, Builder, Directions, LineProblem, Lines, Note, Pending, Unreachable,
    Want, Warnings,
};
use crate::decode::Transport;
use crate::flow::{State, ZeekState};

/// The transport of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// Zeek's `unknown_transport` (SCTP, OSPF, …): not a port check's.
    Other,
}

impl Proto {
    fn parse(s: &str) -> Option<Proto> {
        Some(match s {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "icmp" => Proto::Icmp,
            "unknown_transport" => Proto::Other,
            _ => return None,
        })
    }
}

/// History letters of one side (Zeek: upper case the originator, lower
/// case the responder).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Letters(u16);

impl Letters {
    pub const SYN: u16 = 1;
    pub const SYN_ACK: u16 = 2;
    pub const ACK: u16 = 4;
    pub const DATA: u16 = 8;
    pub const FIN: u16 = 16;
    pub const RST: u16 = 32;
    pub const BAD_CHECKSUM: u16 = 64;
    /// Anything at all (retransmissions, gaps, zero windows, …).
    pub const ANY: u16 = 128;

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
}

/// A parsed `history`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// `^`: Zeek flipped originator and responder.
    pub flipped: bool,
    pub orig: Letters,
    pub resp: Letters,
}

impl History {
    pub fn parse(s: &str) -> History {
        let mut h = History::default();
        for c in s.chars() {
            if c == '^' {
                h.flipped = true;
                continue;
            }
            let bit = match c.to_ascii_uppercase() {
                'S' => Letters::SYN,
                'H' => Letters::SYN_ACK,
                'A' => Letters::ACK,
                'D' => Letters::DATA,
                'F' => Letters::FIN,
                'R' => Letters::RST,
                'C' => Letters::BAD_CHECKSUM,
                _ => 0,
            } | Letters::ANY;
            if c.is_ascii_uppercase() {
                h.orig.0 |= bit;
            } else if c.is_ascii_lowercase() {
                h.resp.0 |= bit;
            }
        }
        h
    }
}

/// One conn.log record: the fields a port check needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeekConn {
    /// Time of the connection's first packet (ns since the epoch).
    pub ts_ns: i64,
    /// A hash of `uid` (records with the same uid are the same connection).
    pub uid: Option<u64>,
    pub orig: (IpAddr, u16),
    pub resp: (IpAddr, u16),
    pub proto: Proto,
    /// Zeek's `service` names a tunnel (the packet path decapsulates it).
    pub tunnel: bool,
    pub duration_ns: Option<i64>,
    pub conn_state: Option<ZeekState>,
    pub history: Option<History>,
    pub orig_pkts: Option<u64>,
    pub resp_pkts: Option<u64>,
    pub orig_ip_bytes: Option<u64>,
    pub resp_ip_bytes: Option<u64>,
    /// Payload bytes each way (TCP: the sequence space used).
    pub orig_bytes: Option<u64>,
    pub resp_bytes: Option<u64>,
}

pub fn parse_state(s: &str) -> Option<ZeekState> {
    use ZeekState::*;
    Some(match s {
        "S0" => S0,
        "S1" => S1,
        "SF" => SF,
        "REJ" => REJ,
        "S2" => S2,
        "S3" => S3,
        "RSTO" => RSTO,
        "RSTR" => RSTR,
        "RSTOS0" => RSTOS0,
        "RSTRH" => RSTRH,
        "SH" => SH,
        "SHR" => SHR,
        "OTH" => OTH,
        _ => return None,
    })
}

/// Seconds since the epoch with a decimal fraction ("1300475167.096535")
/// in ns, exactly (no float rounding).
pub fn parse_seconds(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut ns: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        ns += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    let total = secs.checked_mul(1_000_000_000)?.checked_add(ns)?;
    Some(if neg { -total } else { total })
}

/// A `ts` as Zeek writes it: seconds, or ISO 8601 (`JSON::TS_ISO8601`).
fn parse_ts(s: &str) -> Option<i64> {
    parse_seconds(s).or_else(|| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
    })
}

/// Does a `service` value (a comma list) name a tunnel protocol?
fn names_tunnel(service: &str) -> bool {
    service
        .split(',')
        .any(|s| matches!(s.trim(), "teredo" | "vxlan" | "geneve" | "gtpv1" | "ayiya"))
}

/// UDP ports of the tunnels the packet path decapsulates (VXLAN, Geneve,
/// GTP-U, Teredo): their outer datagrams are no conversation there.
const TUNNEL_PORTS: [u16; 4] = [4789, 6081, 2152, 3544];

fn hash_uid(uid: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(uid.as_bytes())
}

/// Columns of a TSV block, by their index in `#fields`.
#[derive(Clone, Debug, Default)]
struct Columns {
    ts: Option<usize>,
    uid: Option<usize>,
    orig_h: Option<usize>,
    orig_p: Option<usize>,
    resp_h: Option<usize>,
    resp_p: Option<usize>,
    proto: Option<usize>,
    service: Option<usize>,
    duration: Option<usize>,
    conn_state: Option<usize>,
    history: Option<usize>,
    orig_pkts: Option<usize>,
    resp_pkts: Option<usize>,
    orig_ip_bytes: Option<usize>,
    resp_ip_bytes: Option<usize>,
    orig_bytes: Option<usize>,
    resp_bytes: Option<usize>,
    count: usize,
}

impl Columns {
    fn of(names: &[&str]) -> Columns {
        let at = |n: &str| names.iter().position(|f| *f == n);
        Columns {
            ts: at("ts"),
            uid: at("uid"),
            orig_h: at("id.orig_h"),
            orig_p: at("id.orig_p"),
            resp_h: at("id.resp_h"),
            resp_p: at("id.resp_p"),
            proto: at("proto"),
            service: at("service"),
            duration: at("duration"),
            conn_state: at("conn_state"),
            history: at("history"),
            orig_pkts: at("orig_pkts"),
            resp_pkts: at("resp_pkts"),
            orig_ip_bytes: at("orig_ip_bytes"),
            resp_ip_bytes: at("resp_ip_bytes"),
            orig_bytes: at("orig_bytes"),
            resp_bytes: at("resp_bytes"),
            count: names.len(),
        }
    }

    /// The first required column missing, if any.
    fn missing(&self) -> Option<&'static str> {
        [
            (self.ts, "ts"),
            (self.orig_h, "id.orig_h"),
            (self.orig_p, "id.orig_p"),
            (self.resp_h, "id.resp_h"),
            (self.resp_p, "id.resp_p"),
            (self.proto, "proto"),
        ]
        .into_iter()
        .find(|(c, _)| c.is_none())
        .map(|(_, n)| n)
    }
}

/// State of a TSV reader between lines: the current block's header.
#[derive(Debug)]
pub struct TsvParser {
    separator: u8,
    unset: Vec<u8>,
    empty: Vec<u8>,
    columns: Option<Columns>,
    /// A block without the required columns: its records are skipped (one warning).
    unusable: bool,
    spans: Vec<(usize, usize)>,
}

impl Default for TsvParser {
    fn default() -> Self {
        TsvParser {
            separator: b'\t',
            unset: b"-".to_vec(),
            empty: b"(empty)".to_vec(),
            columns: None,
            unusable: false,
            spans: Vec::new(),
        }
    }
}

/// `\x09` and the like, as Zeek writes its separator.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() + 1 && b.get(i + 1) == Some(&b'x') {
            if let Some(v) = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

impl TsvParser {
    pub(crate) fn next(&mut self, lines: &mut Lines, warnings: &mut Warnings) -> Option<ZeekConn> {
        loop {
            let (line, offset, number) = lines.next_line()?;
            if line.is_empty() {
                continue;
            }
            if line[0] == b'#' {
                let text = String::from_utf8_lossy(line).into_owned();
                self.header(&text, offset, number, warnings);
                continue;
            }
            if self.unusable {
                continue;
            }
            let Some(columns) = &self.columns else {
                warnings.at_line(offset, number, LineProblem::BeforeFields);
                self.unusable = true;
                continue;
            };
            // Field boundaries, in a buffer reused from line to line.
            let mut spans = std::mem::take(&mut self.spans);
            spans.clear();
            let mut start = 0;
            for (i, b) in line.iter().enumerate() {
                if *b == self.separator {
                    spans.push((start, i));
                    start = i + 1;
                }
            }
            spans.push((start, line.len()));
            let parsed = self.record(columns, line, &spans);
            self.spans = spans;
            match parsed {
                Ok(conn) => return Some(conn),
                Err(e) => {
                    warnings.at_line(offset, number, LineProblem::Skipped(e));
                }
            }
        }
    }

    fn header(&mut self, text: &str, offset: u64, number: u64, warnings: &mut Warnings) {
        // `#separator` is separated from its value by a space (the
        // separator itself is not known yet); the others by the separator.
        if let Some(rest) = text.strip_prefix("#separator") {
            let value = unescape(rest.trim());
            match value.as_slice() {
                [b] => self.separator = *b,
                _ => warnings.at_line(
                    offset,
                    number,
                    LineProblem::Separator(rest.trim().to_string()),
                ),
            }
            return;
        }
        let sep = self.separator as char;
        let mut parts = text.split(sep);
        let name = parts.next().unwrap_or("");
        let values: Vec<&str> = parts.collect();
        match name {
            "#fields" => {
                let columns = Columns::of(&values);
                if let Some(missing) = columns.missing() {
                    warnings.at_line(offset, number, LineProblem::MissingColumn(missing));
                    self.unusable = true;
                    self.columns = None;
                } else {
                    self.unusable = false;
                    self.columns = Some(columns);
                }
            }
            "#unset_field" => {
                if let Some(v) = values.first() {
                    self.unset = v.as_bytes().to_vec();
                }
            }
            "#empty_field" => {
                if let Some(v) = values.first() {
                    self.empty = v.as_bytes().to_vec();
                }
            }
            "#path" => {
                if let Some(v) = values.first() {
                    if *v != "conn" {
                        warnings.at_line(offset, number, LineProblem::PathNotConn(v.to_string()));
                    }
                }
            }
            // #open, #close, #types, #set_separator, comments.
            _ => {}
        }
    }

    fn record(
        &self,
        c: &Columns,
        line: &[u8],
        spans: &[(usize, usize)],
    ) -> Result<ZeekConn, BadRecord> {
        if spans.len() != c.count {
            return Err(BadRecord::FieldCount {
                have: spans.len(),
                named: c.count,
                csv: false,
            });
        }
        let get = |i: Option<usize>| -> Option<&str> {
            let (a, b) = *spans.get(i?)?;
            let f = line.get(a..b)?;
            if f == self.unset.as_slice() || f == self.empty.as_slice() {
                None
            } else {
                std::str::from_utf8(f).ok()
            }
        };
        let need = |i: Option<usize>, name: &'static str| -> Result<&str, BadRecord> {
            get(i).ok_or(BadRecord::Unset(name))
        };
        Fields {
            ts: need(c.ts, "ts")?,
            uid: get(c.uid),
            orig_h: need(c.orig_h, "id.orig_h")?,
            orig_p: need(c.orig_p, "id.orig_p")?,
            resp_h: need(c.resp_h, "id.resp_h")?,
            resp_p: need(c.resp_p, "id.resp_p")?,
            proto: need(c.proto, "proto")?,
            service: get(c.service),
            duration: get(c.duration),
            conn_state: get(c.conn_state),
            history: get(c.history),
            orig_pkts: get(c.orig_pkts),
            resp_pkts: get(c.resp_pkts),
            orig_ip_bytes: get(c.orig_ip_bytes),
            resp_ip_bytes: get(c.resp_ip_bytes),
            orig_bytes: get(c.orig_bytes),
            resp_bytes: get(c.resp_bytes),
        }
        .parse()
    }
}

/// A record's fields as text, from either form.
struct Fields<'a> {
    ts: &'a str,
    uid: Option<&'a str>,
    orig_h: &'a str,
    orig_p: &'a str,
    resp_h: &'a str,
    resp_p: &'a str,
    proto: &'a str,
    service: Option<&'a str>,
    duration: Option<&'a str>,
    conn_state: Option<&'a str>,
    history: Option<&'a str>,
    orig_pkts: Option<&'a str>,
    resp_pkts: Option<&'a str>,
    orig_ip_bytes: Option<&'a str>,
    resp_ip_bytes: Option<&'a str>,
    orig_bytes: Option<&'a str>,
    resp_bytes: Option<&'a str>,
}

impl Fields<'_> {
    fn parse(&self) -> Result<ZeekConn, BadRecord> {
        let ts_ns = parse_ts(self.ts).ok_or_else(|| bad("ts", self.ts, Want::ZeekTime))?;
        let addr = |name: &str, s: &str| -> Result<IpAddr, BadRecord> {
            s.parse().map_err(|_| bad(name, s, Want::IpAddress))
        };
        let port = |name: &str, s: &str| -> Result<u16, BadRecord> {
            s.parse().map_err(|_| bad(name, s, Want::PortNumber))
        };
        let count = |name: &str, s: Option<&str>| -> Result<Option<u64>, BadRecord> {
            s.map(|v| v.parse().map_err(|_| bad(name, v, Want::Count)))
                .transpose()
        };
        let proto =
            Proto::parse(self.proto).ok_or_else(|| bad("proto", self.proto, Want::ZeekProto))?;
        let duration_ns = match self.duration {
            None => None,
            Some(d) => Some(
                parse_seconds(d)
                    .filter(|d| *d >= 0)
                    .ok_or_else(|| bad("duration", d, Want::Seconds))?,
            ),
        };
        let conn_state = match self.conn_state {
            None => None,
            Some(s) => Some(parse_state(s).ok_or_else(|| bad("conn_state", s, Want::ZeekState))?),
        };
        Ok(ZeekConn {
            ts_ns,
            uid: self.uid.map(hash_uid),
            orig: (
                addr("id.orig_h", self.orig_h)?,
                port("id.orig_p", self.orig_p)?,
            ),
            resp: (
                addr("id.resp_h", self.resp_h)?,
                port("id.resp_p", self.resp_p)?,
            ),
            proto,
            tunnel: self.service.is_some_and(names_tunnel),
            duration_ns,
            conn_state,
            history: self.history.map(History::parse),
            orig_pkts: count("orig_pkts", self.orig_pkts)?,
            resp_pkts: count("resp_pkts", self.resp_pkts)?,
            orig_ip_bytes: count("orig_ip_bytes", self.orig_ip_bytes)?,
            resp_ip_bytes: count("resp_ip_bytes", self.resp_ip_bytes)?,
            orig_bytes: count("orig_bytes", self.orig_bytes)?,
            resp_bytes: count("resp_bytes", self.resp_bytes)?,
        })
    }
}

/// A JSON-lines record as Zeek's JSON writer spells it.
#[derive(Deserialize)]
struct JsonConn<'a> {
    #[serde(borrow)]
    ts: JsonScalar<'a>,
    #[serde(borrow, default)]
    uid: Option<Cow<'a, str>>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Cow<'a, str>,
    #[serde(rename = "id.orig_p")]
    orig_p: JsonScalar<'a>,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Cow<'a, str>,
    #[serde(rename = "id.resp_p")]
    resp_p: JsonScalar<'a>,
    #[serde(borrow)]
    proto: Cow<'a, str>,
    #[serde(borrow, default)]
    service: Option<Cow<'a, str>>,
    #[serde(default)]
    duration: Option<JsonScalar<'a>>,
    #[serde(borrow, default)]
    conn_state: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    history: Option<Cow<'a, str>>,
    #[serde(default)]
    orig_pkts: Option<JsonScalar<'a>>,
    #[serde(default)]
    resp_pkts: Option<JsonScalar<'a>>,
    #[serde(default)]
    orig_ip_bytes: Option<JsonScalar<'a>>,
    #[serde(default)]
    resp_ip_bytes: Option<JsonScalar<'a>>,
    #[serde(default)]
    orig_bytes: Option<JsonScalar<'a>>,
    #[serde(default)]
    resp_bytes: Option<JsonScalar<'a>>,
}

/// A number or a string, kept as its text (so `ts` keeps all its digits).
#[derive(Deserialize)]
#[serde(untagged)]
enum JsonScalar<'a> {
    #[serde(borrow)]
    Text(Cow<'a, str>),
    Number(serde_json::Number),
}

impl JsonScalar<'_> {
    fn text(&self) -> Cow<'_, str> {
        match self {
            JsonScalar::Text(t) => Cow::Borrowed(t.as_ref()),
            JsonScalar::Number(n) => Cow::Owned(n.to_string()),
        }
    }
}

pub(crate) fn next_json(lines: &mut Lines, warnings: &mut Warnings) -> Option<ZeekConn> {
    loop {
        let (line, offset, number) = lines.next_line()?;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        match parse_json_line(trimmed) {
            Ok(conn) => return Some(conn),
            Err(e) => warnings.at_line(offset, number, LineProblem::Skipped(e)),
        }
    }
}

fn parse_json_line(line: &[u8]) -> Result<ZeekConn, BadRecord> {
    let j: JsonConn<'_> = serde_json::from_slice(line).map_err(|e| BadRecord::NotJson {
        nfdump: false,
        detail: e.to_string(),
    })?;
    let ts = j.ts.text();
    let orig_p = j.orig_p.text();
    let resp_p = j.resp_p.text();
    let duration = j.duration.as_ref().map(JsonScalar::text);
    let counts: Vec<Option<Cow<'_, str>>> = [
        &j.orig_pkts,
        &j.resp_pkts,
        &j.orig_ip_bytes,
        &j.resp_ip_bytes,
        &j.orig_bytes,
        &j.resp_bytes,
    ]
    .into_iter()
    .map(|c| c.as_ref().map(JsonScalar::text))
    .collect();
    Fields {
        ts: &ts,
        uid: j.uid.as_deref(),
        orig_h: &j.orig_h,
        orig_p: &orig_p,
        resp_h: &j.resp_h,
        resp_p: &resp_p,
        proto: &j.proto,
        service: j.service.as_deref(),
        duration: duration.as_deref(),
        conn_state: j.conn_state.as_deref(),
        history: j.history.as_deref(),
        orig_pkts: counts[0].as_deref(),
        resp_pkts: counts[1].as_deref(),
        orig_ip_bytes: counts[2].as_deref(),
        resp_ip_bytes: counts[3].as_deref(),
        orig_bytes: counts[4].as_deref(),
        resp_bytes: counts[5].as_deref(),
    }
    .parse()
}

/// Is this ICMP/ICMPv6 type (Zeek's `id.orig_p` for ICMP) a destination unreachable?
fn is_unreachable(addr: IpAddr, icmp_type: u16) -> bool {
    match addr {
        IpAddr::V4(_) => icmp_type == 3,
        IpAddr::V6(_) => icmp_type == 1,
    }
}

/// Maps one record onto a connection (or an ICMP unreachable) and hands it on.
pub(crate) fn feed(conn: &ZeekConn, builder: &mut Builder) {
    let end = conn.ts_ns.saturating_add(conn.duration_ns.unwrap_or(0));
    let transport = match conn.proto {
        Proto::Tcp => Transport::Tcp,
        Proto::Udp => {
            // The outer datagrams of a tunnel: the packet path looks inside
            // them, and Zeek logs what is inside as records of their own.
            if conn.tunnel
                || TUNNEL_PORTS.contains(&conn.orig.1)
                || TUNNEL_PORTS.contains(&conn.resp.1)
            {
                builder.saw_time(end);
                return;
            }
            Transport::Udp
        }
        Proto::Icmp => {
            // Zeek writes ICMP type and code as the ports; an unreachable
            // goes from its sender to the client of what it answers.
            if is_unreachable(conn.orig.0, conn.orig.1) {
                builder.push_unreachable(Unreachable {
                    from: conn.orig.0,
                    to: conn.resp.0,
                    ts_ns: conn.ts_ns,
                    packets: conn.orig_pkts.unwrap_or(1),
                    bytes: conn.orig_ip_bytes.unwrap_or(0),
                });
            } else {
                builder.saw_time(end);
            }
            return;
        }
        Proto::Other => {
            builder.saw_time(end);
            return;
        }
    };
    let history = conn.history;
    let h = history.unwrap_or_default();
    let orig_pkts = conn.orig_pkts.unwrap_or(0);
    let resp_pkts = conn.resp_pkts.unwrap_or(0);
    let mut notes = 0u8;
    if history.is_none() && transport == Transport::Tcp {
        notes |= Note::NoHistory.bit();
    }
    if h.orig.has(Letters::BAD_CHECKSUM) || h.resp.has(Letters::BAD_CHECKSUM) {
        notes |= Note::BadChecksums.bit();
    }
    // The first packet's sender: Zeek's responder after a flip.
    let (first, second) = if h.flipped {
        (conn.resp, conn.orig)
    } else {
        (conn.orig, conn.resp)
    };
    let ports = &*builder.server_ports;
    let (orig_is_client, opening_seen, state);
    match transport {
        Transport::Tcp => {
            let (o, r) = (h.orig, h.resp);
            let (client_is_orig, opening) = if o.has(Letters::SYN) {
                (true, true)
            } else if r.has(Letters::SYN) {
                (false, true)
            } else if r.has(Letters::SYN_ACK) {
                (true, true)
            } else if o.has(Letters::SYN_ACK) {
                (false, true)
            } else if history.is_none() {
                // No letters: the state says what Zeek saw.
                match conn.conn_state {
                    Some(ZeekState::OTH | ZeekState::SHR | ZeekState::RSTRH) | None => {
                        let first_is_client =
                            super::a_is_client_guess(ports, transport, first.1, second.1);
                        (first_is_client != h.flipped, false)
                    }
                    Some(_) => (true, true),
                }
            } else {
                let first_is_client = super::a_is_client_guess(ports, transport, first.1, second.1);
                (first_is_client != h.flipped, false)
            };
            let (cl, sv) = if client_is_orig { (o, r) } else { (r, o) };
            let sv_pkts = if client_is_orig { resp_pkts } else { orig_pkts };
            orig_is_client = client_is_orig;
            opening_seen = opening;
            state = if !opening {
                State::Midstream
            } else if history.is_none() {
                match conn.conn_state {
                    Some(ZeekState::S0 | ZeekState::SH | ZeekState::RSTOS0) => {
                        if sv_pkts > 0 {
                            State::Established
                        } else {
                            State::NoReply
                        }
                    }
                    Some(ZeekState::REJ) => State::Refused,
                    Some(ZeekState::RSTO | ZeekState::RSTR) => State::Reset,
                    _ => State::Established,
                }
            } else {
                let opened = sv.has(Letters::SYN_ACK)
                    || cl.has(Letters::ACK)
                    || cl.has(Letters::DATA)
                    || cl.has(Letters::FIN);
                let any_rst = cl.has(Letters::RST) || sv.has(Letters::RST);
                let server_spoke =
                    sv.0 & !(Letters::RST | Letters::BAD_CHECKSUM | Letters::ANY) != 0;
                if opened {
                    if any_rst {
                        State::Reset
                    } else {
                        State::Established
                    }
                } else if sv.has(Letters::RST) {
                    State::Refused
                } else if server_spoke {
                    State::Established
                } else {
                    State::NoReply
                }
            };
        }
        Transport::Udp => {
            let first_is_client = super::udp_first_sender_is_client(ports, first.1, second.1);
            // Zeek's originator is the first sender unless it flipped.
            orig_is_client = first_is_client != h.flipped;
            opening_seen = first_is_client;
            let sv_pkts = if orig_is_client { resp_pkts } else { orig_pkts };
            state = if sv_pkts > 0 {
                State::Answered
            } else {
                State::Unanswered
            };
        }
    }
    let (client, server) = if orig_is_client {
        (conn.orig, conn.resp)
    } else {
        (conn.resp, conn.orig)
    };
    let mut rec = blank(transport, client, server);
    rec.state = state;
    rec.started_before_capture = !opening_seen;
    rec.first_ns = conn.ts_ns;
    rec.last_ns = end;
    rec.packets = orig_pkts + resp_pkts;
    rec.bytes = conn.orig_ip_bytes.unwrap_or(0) + conn.resp_ip_bytes.unwrap_or(0);
    let (cl_pkts, sv_pkts) = if orig_is_client {
        (orig_pkts, resp_pkts)
    } else {
        (resp_pkts, orig_pkts)
    };
    rec.attempt_first_ns = conn.ts_ns;
    rec.attempt_last_ns = end;
    match transport {
        Transport::Tcp => rec.syns = u32::try_from(cl_pkts.max(1)).unwrap_or(u32::MAX),
        Transport::Udp if sv_pkts == 0 => {
            rec.unanswered_datagrams = u32::try_from(cl_pkts.max(1)).unwrap_or(u32::MAX)
        }
        Transport::Udp => {}
    }
    if state == State::Refused {
        rec.failed_by = Some(rec.server);
    }
    // Zeek's own orientation and counters, for JSONL (unknown ones stay unknown).
    let directions = Directions {
        orig_is_client,
        orig_pkts: conn.orig_pkts,
        resp_pkts: conn.resp_pkts,
        orig_bytes: conn.orig_bytes,
        resp_bytes: conn.resp_bytes,
    };
    builder.push(Pending {
        rec,
        replies: sv_pkts,
        notes,
        directions: Some(directions),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_exactly() {
        assert_eq!(
            parse_seconds("1300475167.096535"),
            Some(1_300_475_167_096_535_000)
        );
        assert_eq!(parse_seconds("0.000001"), Some(1000));
        assert_eq!(parse_seconds("5"), Some(5_000_000_000));
        assert_eq!(parse_seconds("XXXXXXXXXX.XXXXXX"), None);
        assert_eq!(parse_seconds("."), None);
        assert_eq!(parse_seconds(""), None);
        assert_eq!(parse_seconds("99999999999999999999"), None);
    }

    #[test]
    fn history_letters_by_side() {
        let h = History::parse("^hADdfR");
        assert!(h.flipped);
        assert!(h.resp.has(Letters::SYN_ACK));
        assert!(h.orig.has(Letters::ACK) && h.orig.has(Letters::DATA) && h.orig.has(Letters::RST));
        assert!(h.resp.has(Letters::DATA) && h.resp.has(Letters::FIN));
        assert!(!h.orig.has(Letters::SYN));
    }

    #[test]
    fn separators_unescape() {
        assert_eq!(unescape("\\x09"), b"\t");
        assert_eq!(unescape("\\x2c"), b",");
        assert_eq!(unescape("\\x"), b"\\x");
        assert_eq!(unescape("ab"), b"ab");
    }

    #[test]
    fn json_records_parse() {
        let line = br#"{"ts":1300475167.096535,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":50000,"id.resp_h":"10.0.0.2","id.resp_p":31000,"proto":"tcp","conn_state":"S0","history":"S","orig_pkts":2,"resp_pkts":0}"#;
        let c = parse_json_line(line).expect("parses");
        assert_eq!(c.ts_ns, 1_300_475_167_096_535_000);
        assert_eq!(c.resp.1, 31000);
        assert_eq!(c.conn_state, Some(ZeekState::S0));
        let iso = br#"{"ts":"2011-03-18T19:06:07.096535Z","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"udp"}"#;
        assert_eq!(
            parse_json_line(iso).expect("parses").ts_ns,
            1_300_475_167_096_535_000
        );
        let bad = br#"{"ts":"XXXXXXXXXX.XXXXXX","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"udp"}"#;
        let e = parse_json_line(bad).expect_err("bad ts");
        assert!(
            e.to_string()
                .contains("ts \"XXXXXXXXXX.XXXXXX\" is not a time"),
            "{e}"
        );
    }
}
