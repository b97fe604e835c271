//! Reports: what an analysis found, for people (text) and machines (JSON, JSONL).
//!
//! Owns: the JSON report schema `flowlint.report.v1` (SPEC "JSON report"),
//! per-connection JSONL records, the text report, baseline comparison, the
//! exit status, and writing a report atomically.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;
use crate::catalog::CatalogSet;
use crate::classify::{Classification, Classified, ConvKey, Verdict};
use crate::flow::{ConnRecord, State};

pub const SCHEMA: &str = "flowlint.report.v1";

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub inputs: Vec<InputJson>,
    pub summary: Summary,
    pub hosts: Vec<HostJson>,
    pub conversations: Vec<ConversationJson>,
    pub rules: Vec<RuleJson>,
    pub baseline: Option<BaselineJson>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct InputJson {
    pub path: String,
    pub format: String,
    pub linktypes: Vec<u32>,
    pub packets: u64,
    pub bytes: u64,
    pub warnings: Vec<String>,
    /// Records that made no connection packet, by reason (only non-zero ones).
    #[serde(default)]
    pub skipped: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Summary {
    pub packets: u64,
    pub connections: u64,
    pub conversations: u64,
    pub verdicts: BTreeMap<String, u64>,
    /// Packets seen twice (two taps) and counted once.
    #[serde(default)]
    pub duplicate_packets: u64,
    /// Connections decided early because the connection table was full.
    #[serde(default)]
    pub evicted_connections: u64,
    /// Connections folded into per-port conversations because there were too many conversations.
    #[serde(default)]
    pub folded_connections: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct HostJson {
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub os: Option<String>,
    pub roles: Vec<String>,
    pub inferred: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ConversationJson {
    pub client: String,
    pub server: String,
    pub server_port: u16,
    pub protocol: String,
    pub client_roles: Vec<String>,
    pub server_roles: Vec<String>,
    pub verdict: String,
    pub rule: Option<String>,
    pub reason: String,
    pub connections: u64,
    pub states: BTreeMap<String, u64>,
    pub packets: u64,
    pub bytes: u64,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blocked_by: Option<String>,
    /// Connections whose opening was not captured (client side guessed).
    #[serde(default)]
    pub started_before_capture: u64,
    /// Connections of other clients folded into this conversation (client 0.0.0.0 or ::).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub folded_connections: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RuleJson {
    pub id: String,
    pub conversations: u64,
    pub blocked: u64,
    #[serde(default)]
    pub reversed: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct BaselineJson {
    pub new: Vec<ConversationJson>,
    pub resolved: Vec<ConversationJson>,
    pub missing_rules: Vec<String>,
}

/// RFC 3339 UTC with the fraction trimmed: `2026-11-20T10:00:09.5Z`.
pub fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn conversation_json(c: &Classified) -> ConversationJson {
    let conv = &c.conv;
    ConversationJson {
        client: conv.key.client.to_string(),
        server: conv.key.server.to_string(),
        server_port: conv.key.server_port,
        protocol: conv.key.transport.as_str().to_string(),
        client_roles: c.client_roles.clone(),
        server_roles: c.server_roles.clone(),
        verdict: c.verdict.as_str().to_string(),
        rule: c.rule.clone(),
        reason: c.reason.clone(),
        connections: conv.connections,
        states: State::ALL
            .iter()
            .filter(|s| conv.count(**s) > 0)
            .map(|s| (s.as_str().to_string(), conv.count(*s)))
            .collect(),
        packets: conv.packets,
        bytes: conv.bytes,
        first_seen: rfc3339(conv.first_ns),
        last_seen: rfc3339(conv.last_ns),
        blocked_by: c.blocked_by.map(|a| a.to_string()),
        started_before_capture: conv.started_before_capture,
        folded_connections: conv.folded,
    }
}

/// Builds the report of an analysis.
pub fn build(analysis: &Analysis, classification: &Classification) -> Report {
    let mut verdicts: BTreeMap<String, u64> = Verdict::ALL
        .iter()
        .map(|v| (v.as_str().to_string(), 0))
        .collect();
    for c in &classification.conversations {
        *verdicts.entry(c.verdict.as_str().to_string()).or_default() += 1;
    }
    Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: "flowlint".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        inputs: analysis
            .inputs
            .iter()
            .map(|i| {
                let s = &i.skipped;
                let skipped = [
                    ("unsupported_linktype", s.unsupported_linktype),
                    ("not_ip", s.not_ip),
                    ("other_protocol", s.other_protocol),
                    ("later_fragment", s.later_fragment),
                    ("malformed", s.malformed),
                ]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| (k.to_string(), n))
                .collect();
                InputJson {
                    path: i.path.clone(),
                    format: i.format.as_str().to_string(),
                    linktypes: i.linktypes.clone(),
                    packets: i.packets,
                    bytes: i.bytes,
                    warnings: i
                        .warnings
                        .iter()
                        .map(|w| format!("at byte {}: {}", w.offset, w.message))
                        .collect(),
                    skipped,
                }
            })
            .collect(),
        summary: Summary {
            packets: analysis.packets(),
            connections: analysis.table.connections,
            conversations: classification.conversations.len() as u64,
            verdicts,
            duplicate_packets: analysis.flow_stats.duplicates,
            evicted_connections: analysis.flow_stats.evicted_early,
            folded_connections: analysis.table.folded_connections,
        },
        hosts: classification
            .hosts
            .iter()
            .map(|h| HostJson {
                address: h.address.to_string(),
                name: h.name.clone(),
                os: h.os.clone(),
                roles: h.roles.clone(),
                inferred: h.inferred,
            })
            .collect(),
        conversations: classification
            .conversations
            .iter()
            .map(conversation_json)
            .collect(),
        rules: classification
            .rules
            .iter()
            .map(|r| RuleJson {
                id: r.id.clone(),
                conversations: r.conversations,
                blocked: r.blocked,
                reversed: r.reversed,
            })
            .collect(),
        baseline: None,
    }
}

/// An earlier report that cannot be used (status 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct BaselineError {
    pub path: String,
    pub message: String,
}

/// Reads an earlier JSON report.
pub fn load_baseline(path: &Path) -> Result<Report, BaselineError> {
    let err = |message: String| BaselineError {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        err(format!(
            "not a flowlint JSON report (line {}, column {}: {e})",
            e.line(),
            e.column()
        ))
    })?;
    if report.schema != SCHEMA {
        return Err(err(format!("schema '{}' is not {SCHEMA}", report.schema)));
    }
    Ok(report)
}

fn conv_identity(c: &ConversationJson) -> (String, String, u16, String) {
    (
        c.client.clone(),
        c.server.clone(),
        c.server_port,
        c.protocol.clone(),
    )
}

fn severity(verdict: &str) -> u8 {
    Verdict::parse(verdict).map_or(0, Verdict::severity)
}

/// Compares with an earlier report (SPEC "Baseline comparison").
pub fn compare(current: &Report, baseline: &Report) -> BaselineJson {
    let old: BTreeMap<_, &ConversationJson> = baseline
        .conversations
        .iter()
        .map(|c| (conv_identity(c), c))
        .collect();
    let now: BTreeMap<_, &ConversationJson> = current
        .conversations
        .iter()
        .map(|c| (conv_identity(c), c))
        .collect();
    let new = current
        .conversations
        .iter()
        .filter(|c| {
            let before = old
                .get(&conv_identity(c))
                .map_or(0, |o| severity(&o.verdict));
            c.verdict != "expected" && severity(&c.verdict) > before
        })
        .cloned()
        .collect();
    let resolved = baseline
        .conversations
        .iter()
        .filter(|o| severity(&o.verdict) > 0)
        .filter_map(|o| match now.get(&conv_identity(o)) {
            None => Some(o),
            Some(c) if c.verdict == "expected" => Some(*c),
            Some(_) => None,
        })
        .cloned()
        .collect();
    let current_rules: BTreeMap<&str, u64> = current
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.conversations))
        .collect();
    let missing_rules = baseline
        .rules
        .iter()
        .filter(|r| {
            r.conversations > 0 && current_rules.get(r.id.as_str()).copied().unwrap_or(0) == 0
        })
        .map(|r| r.id.clone())
        .collect();
    BaselineJson {
        new,
        resolved,
        missing_rules,
    }
}

/// Exit status per SPEC: 1 when a verdict of `fail_on` was found or the
/// baseline comparison found something new or missing (unless `fail_on` is empty).
pub fn exit_status(report: &Report, fail_on: &[Verdict]) -> i32 {
    if fail_on.is_empty() {
        return 0;
    }
    let found = report
        .conversations
        .iter()
        .any(|c| Verdict::parse(&c.verdict).is_some_and(|v| fail_on.contains(&v)));
    let regressed = report
        .baseline
        .as_ref()
        .is_some_and(|b| !b.new.is_empty() || !b.missing_rules.is_empty());
    i32::from(found || regressed)
}

/// One JSONL record: a decided connection with its conversation's verdict.
#[derive(Serialize, Debug)]
pub struct ConnectionJson<'a> {
    pub client: String,
    pub client_port: u16,
    pub server: String,
    pub server_port: u16,
    pub protocol: &'static str,
    pub state: &'static str,
    pub history: &'a str,
    /// Zeek's conn_state for the same connection.
    pub conn_state: &'static str,
    /// Wireshark's tcp.completeness bits (TCP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completeness: Option<u8>,
    pub started_before_capture: bool,
    pub packets: u64,
    pub bytes: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub verdict: Option<&'a str>,
    pub rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_by: Option<String>,
}

pub fn connection_json<'a>(
    rec: &'a ConnRecord,
    verdict: Option<&'a Classified>,
) -> ConnectionJson<'a> {
    ConnectionJson {
        client: rec.client.to_string(),
        client_port: rec.client_port,
        server: rec.server.to_string(),
        server_port: rec.server_port,
        protocol: rec.transport.as_str(),
        state: rec.state.as_str(),
        history: rec.history.as_str(),
        conn_state: rec.zeek_state.as_str(),
        completeness: (rec.transport == crate::decode::Transport::Tcp).then_some(rec.completeness),
        started_before_capture: rec.started_before_capture,
        packets: rec.packets,
        bytes: rec.bytes,
        first_seen: rfc3339(rec.first_ns),
        last_seen: rfc3339(rec.last_ns),
        verdict: verdict.map(|c| c.verdict.as_str()),
        rule: verdict.and_then(|c| c.rule.as_deref()),
        failed_by: rec.failed_by.map(|a| a.to_string()),
    }
}

/// JSONL: one object per connection (sorted by first packet), then nothing else.
pub fn write_jsonl(
    out: &mut dyn Write,
    connections: &[ConnRecord],
    classification: &Classification,
) -> io::Result<()> {
    let by_key: std::collections::HashMap<ConvKey, &Classified> = classification
        .conversations
        .iter()
        .map(|c| (c.conv.key, c))
        .collect();
    for rec in connections {
        let key = ConvKey {
            client: rec.client,
            server: rec.server,
            server_port: rec.server_port,
            transport: rec.transport,
        };
        let line = serde_json::to_string(&connection_json(rec, by_key.get(&key).copied()))
            .map_err(io::Error::other)?;
        writeln!(out, "{line}")?;
    }
    Ok(())
}

pub fn write_json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    writeln!(out)
}

/// Terminal colours, only when writing to a terminal.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn verdict(&self, v: &str) -> String {
        let code = match v {
            "blocked" => "1;31",
            "wrong_direction" => "1;35",
            "unexpected" => "1;33",
            "expected" => "32",
            _ => "2",
        };
        self.paint(code, v)
    }
}

fn heading(v: &str) -> &'static str {
    match v {
        "blocked" => "BLOCKED: a rule allows these, and at least one connection failed",
        "wrong_direction" => "WRONG DIRECTION: only the reverse is allowed",
        "unexpected" => "UNEXPECTED: a catalog port, but no rule allows it in either direction",
        "expected" => "EXPECTED: allowed by a rule, and working",
        _ => "UNLISTED: ports in no catalog",
    }
}

fn states_text(states: &BTreeMap<String, u64>) -> String {
    states
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text report.
pub fn write_text(
    out: &mut dyn Write,
    report: &Report,
    catalogs: &CatalogSet,
    style: Style,
) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "{}", style.paint("1", "flowlint report"))?;
    for input in &report.inputs {
        writeln!(
            out,
            "  input  {} ({}, link types {:?}, {} packets)",
            input.path, input.format, input.linktypes, input.packets
        )?;
        for w in &input.warnings {
            writeln!(
                out,
                "  {} {}: {w}",
                style.paint("33", "warning"),
                input.path
            )?;
        }
    }
    let count = |v: &str| s.verdicts.get(v).copied().unwrap_or(0);
    writeln!(
        out,
        "  {} packets, {} connections, {} conversations: {} blocked, {} wrong direction, {} unexpected, {} expected, {} unlisted",
        s.packets,
        s.connections,
        s.conversations,
        count("blocked"),
        count("wrong_direction"),
        count("unexpected"),
        count("expected"),
        count("unlisted")
    )?;
    if s.duplicate_packets > 0 {
        writeln!(
            out,
            "  {} packets were seen by two captures (taps) and counted once",
            s.duplicate_packets
        )?;
    }
    if s.evicted_connections > 0 {
        writeln!(
            out,
            "  {} {} connections were decided early because too many were open at once \
             (raise --max-connections); their states may be incomplete",
            style.paint("33", "warning"),
            s.evicted_connections
        )?;
    }
    if !report.hosts.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.paint("1", "Hosts"))?;
        for h in &report.hosts {
            writeln!(
                out,
                "  {:<39} {:<16} {}{}",
                h.address,
                h.name.as_deref().unwrap_or(""),
                h.roles.join(", "),
                if h.inferred { "  (inferred)" } else { "" }
            )?;
        }
    }
    for verdict in Verdict::ALL {
        let v = verdict.as_str();
        let list: Vec<&ConversationJson> = report
            .conversations
            .iter()
            .filter(|c| c.verdict == v)
            .collect();
        if list.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{} ({})", style.paint("1", heading(v)), list.len())?;
        for c in list {
            writeln!(
                out,
                "  {} {} → {} {}/{}  [{}]{}",
                style.verdict(v),
                c.client,
                c.server,
                c.server_port,
                c.protocol,
                states_text(&c.states),
                c.rule
                    .as_deref()
                    .map(|r| format!("  rule {r}"))
                    .unwrap_or_default()
            )?;
            if verdict != Verdict::Unlisted {
                writeln!(out, "      {}", c.reason)?;
            }
            if let Some(by) = &c.blocked_by {
                writeln!(out, "      blocked by {by}")?;
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", style.paint("1", "Rule coverage"))?;
    for r in &report.rules {
        let rule = catalogs.rule(&r.id);
        let what = rule
            .map(|rule| {
                format!(
                    "{}/{} {}",
                    rule.ports,
                    rule.protocol.as_str(),
                    if rule.en.is_empty() { "" } else { &rule.en }
                )
            })
            .unwrap_or_default();
        let mark = if r.conversations == 0 && r.reversed == 0 {
            style.paint("2", "  no traffic")
        } else {
            format!(
                "  {} conversation{}{}{}",
                r.conversations,
                if r.conversations == 1 { "" } else { "s" },
                if r.blocked > 0 {
                    style.paint("31", &format!(", {} blocked", r.blocked))
                } else {
                    String::new()
                },
                if r.reversed > 0 {
                    style.paint("35", &format!(", {} reversed", r.reversed))
                } else {
                    String::new()
                }
            )
        };
        writeln!(out, "  {:<44} {:<50}{mark}", r.id, what)?;
    }
    if let Some(b) = &report.baseline {
        writeln!(out)?;
        writeln!(out, "{}", style.paint("1", "Compared with the baseline"))?;
        for c in &b.new {
            writeln!(
                out,
                "  {} {} {} → {} {}/{}",
                style.paint("31", "new"),
                style.verdict(&c.verdict),
                c.client,
                c.server,
                c.server_port,
                c.protocol
            )?;
        }
        for c in &b.resolved {
            writeln!(
                out,
                "  {} {} → {} {}/{}",
                style.paint("32", "resolved"),
                c.client,
                c.server,
                c.server_port,
                c.protocol
            )?;
        }
        for r in &b.missing_rules {
            writeln!(
                out,
                "  {} rule {r} matched traffic before, none now",
                style.paint("31", "missing")
            )?;
        }
        if b.new.is_empty() && b.resolved.is_empty() && b.missing_rules.is_empty() {
            writeln!(out, "  no change")?;
        }
    }
    Ok(())
}

/// Writes to `path` atomically when it is a regular file (or does not exist
/// yet): into a temporary file beside it, then renamed over it. Devices and
/// pipes are written directly.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let regular = match std::fs::metadata(path) {
        Ok(meta) => meta.is_file(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => return Err(e),
    };
    if !regular {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        let mut buf = io::BufWriter::with_capacity(1 << 20, file);
        write(&mut buf)?;
        return buf.flush();
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut buf = io::BufWriter::with_capacity(1 << 20, file);
        write(&mut buf)?;
        buf.flush()?;
        // No fsync: the rename alone guarantees that a reader sees the old
        // report or the whole new one, and a sync of a large report would
        // cost more than the analysis of many captures.
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Parses `--fail-on`: a comma list of verdicts, or `none`.
pub fn parse_fail_on(s: &str) -> Result<Vec<Verdict>, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            Verdict::parse(p).ok_or_else(|| {
                format!("unknown verdict '{p}' (blocked, wrong_direction, unexpected, expected, unlisted, or none)")
            })
        })
        .collect()
}
