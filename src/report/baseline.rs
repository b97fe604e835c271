//! Comparison with an earlier report (`--baseline`, SPEC "Baseline comparison").
//!
//! Owns: reading an earlier JSON report — once, into the conversations'
//! identities and verdicts — and comparing the current outcome with it:
//! findings that are new or worse, findings that are gone, rules that
//! matched traffic before and match none now.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::json::SCHEMA;
use super::lang::{IoText, Lang};
use crate::catalog::{parse_transport, CatalogSet};
use crate::classify::{Classification, ConvKey, Verdict};
use crate::tr;

/// An earlier report that cannot be used (status 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct BaselineError {
    pub path: String,
    pub kind: BaselineErrorKind,
}

impl BaselineError {
    /// The whole line: which report, what is wrong.
    pub fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::Ja => format!("ベースライン {}: {}", self.path, self.kind.render(lang)),
        }
    }
}

/// Why an earlier report cannot be used as a baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaselineErrorKind {
    Read(IoText),
    /// Not JSON of a report's shape; `detail` is serde_json's sentence.
    NotAReport {
        line: usize,
        column: usize,
        detail: String,
    },
    Schema {
        schema: String,
    },
    Address {
        index: usize,
        field: &'static str,
        value: String,
    },
    Protocol {
        index: usize,
        value: String,
    },
}

impl BaselineErrorKind {
    pub fn render(&self, lang: Lang) -> String {
        use BaselineErrorKind::*;
        match self {
            Read(e) => tr!(
                lang,
                "cannot read: {e}",
                "読めません: {e}",
                e = e.render(lang)
            ),
            NotAReport {
                line,
                column,
                detail,
            } => tr!(
                lang,
                "not a flowlint JSON report (line {line}, column {column}: {detail})",
                "flowlint の JSON レポートではありません（{line} 行目 {column} 文字目: {detail}）。\
                 --format json で書いたレポートを指定してください",
                line = line,
                column = column,
                detail = detail
            ),
            Schema { schema } => tr!(
                lang,
                "schema '{schema}' is not {expected}",
                "schema '{schema}' は {expected} ではありません",
                schema = schema,
                expected = SCHEMA
            ),
            Address {
                index,
                field,
                value,
            } => tr!(
                lang,
                "conversations[{index}].{field} '{value}' is not an IP address",
                "conversations[{index}].{field} の '{value}' は IP アドレスではありません",
                index = index,
                field = field,
                value = value
            ),
            Protocol { index, value } => tr!(
                lang,
                "conversations[{index}].protocol '{value}' is not tcp or udp",
                "conversations[{index}].protocol の '{value}' は tcp でも udp でもありません",
                index = index,
                value = value
            ),
        }
    }
}

impl std::fmt::Display for BaselineErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// A conversation as an earlier report wrote it: kept whole, since a
/// finding that is gone now is listed as the baseline had it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OldConversation {
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
    #[serde(default)]
    pub started_before_capture: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub folded_connections: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Deserialize)]
struct OldRule {
    id: String,
    conversations: u64,
}

/// The parts of a report a comparison reads; the others must be there.
#[derive(Deserialize)]
#[allow(dead_code)]
struct OldReport {
    schema: String,
    tool: IgnoredAny,
    inputs: IgnoredAny,
    summary: IgnoredAny,
    hosts: IgnoredAny,
    conversations: Vec<OldConversation>,
    rules: Vec<OldRule>,
    baseline: IgnoredAny,
}

/// An earlier report, read.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    conversations: Vec<(ConvKey, Option<Verdict>, OldConversation)>,
    /// Rule id → conversations it matched.
    rules: Vec<(String, u64)>,
}

impl Baseline {
    /// Reads an earlier JSON report.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let err = |kind: BaselineErrorKind| BaselineError {
            path: path.display().to_string(),
            kind,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(BaselineErrorKind::Read(IoText::new(&e))))?;
        Baseline::parse(&text).map_err(err)
    }

    /// Parses an earlier JSON report's text (errors without the file name).
    pub fn parse(text: &str) -> Result<Baseline, BaselineErrorKind> {
        let report: OldReport =
            serde_json::from_str(text).map_err(|e| BaselineErrorKind::NotAReport {
                line: e.line(),
                column: e.column(),
                detail: e.to_string(),
            })?;
        if report.schema != SCHEMA {
            return Err(BaselineErrorKind::Schema {
                schema: report.schema,
            });
        }
        let mut conversations = Vec::with_capacity(report.conversations.len());
        for (i, c) in report.conversations.into_iter().enumerate() {
            let addr = |field: &'static str, s: &str| {
                s.parse::<IpAddr>().map_err(|_| BaselineErrorKind::Address {
                    index: i,
                    field,
                    value: s.to_string(),
                })
            };
            let key = ConvKey {
                client: addr("client", &c.client)?,
                server: addr("server", &c.server)?,
                server_port: c.server_port,
                transport: parse_transport(&c.protocol).ok_or_else(|| {
                    BaselineErrorKind::Protocol {
                        index: i,
                        value: c.protocol.clone(),
                    }
                })?,
            };
            conversations.push((key, Verdict::parse(&c.verdict), c));
        }
        Ok(Baseline {
            conversations,
            rules: report
                .rules
                .into_iter()
                .map(|r| (r.id, r.conversations))
                .collect(),
        })
    }
}

/// What changed since the baseline.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Current conversations whose verdict is a finding worse than before
    /// (indices into the outcome's conversations, in report order).
    pub new: Vec<u32>,
    /// Findings of the baseline that are `expected` now (indices into the
    /// outcome's conversations), in the baseline's order.
    pub resolved: Vec<u32>,
    /// Findings of the baseline absent now, as the baseline had them: the
    /// new capture says nothing about them (they are not resolved).
    pub not_seen: Vec<OldConversation>,
    /// Rules that matched conversations before and none now.
    pub missing_rules: Vec<String>,
}

fn severity(v: Option<Verdict>) -> u8 {
    v.map_or(0, Verdict::severity)
}

/// Compares the current classification with the baseline.
pub fn compare(current: &Classification, catalogs: &CatalogSet, baseline: &Baseline) -> Comparison {
    let old: FxHashMap<ConvKey, Option<Verdict>> = baseline
        .conversations
        .iter()
        .map(|(k, v, _)| (*k, *v))
        .collect();
    let new = current
        .conversations
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let before = old.get(&c.conv.key).map_or(0, |v| severity(*v));
            c.verdict != Verdict::Expected && c.verdict.severity() > before
        })
        .map(|(i, _)| i as u32)
        .collect();
    let mut resolved = Vec::new();
    let mut not_seen = Vec::new();
    for (key, _, old) in baseline
        .conversations
        .iter()
        .filter(|(_, v, _)| severity(*v) > 0)
    {
        match current.position(key) {
            None => not_seen.push(old.clone()),
            Some(i) if current.conversations[i].verdict == Verdict::Expected => {
                resolved.push(i as u32)
            }
            Some(_) => {}
        }
    }
    let matched: FxHashMap<&str, u64> = catalogs
        .rules()
        .map(|r| {
            (
                r.id.as_str(),
                current.rules[usize::from(r.rid.0)].conversations,
            )
        })
        .collect();
    let missing_rules = baseline
        .rules
        .iter()
        .filter(|(id, n)| *n > 0 && matched.get(id.as_str()).copied().unwrap_or(0) == 0)
        .map(|(id, _)| id.clone())
        .collect();
    Comparison {
        new,
        resolved,
        not_seen,
        missing_rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{classify, ConversationTable};
    use crate::flow::{ConnRecord, State};

    fn conn(client: &str, port: u16, state: State) -> ConnRecord {
        ConnRecord {
            transport: crate::decode::Transport::Tcp,
            client: client.parse().unwrap(),
            client_port: 40000,
            server: "10.0.0.1".parse().unwrap(),
            server_port: port,
            state,
            started_before_capture: false,
            first_ns: 0,
            last_ns: 1,
            packets: 1,
            bytes: 60,
            syns: 1,
            unanswered_datagrams: 0,
            attempt_first_ns: 0,
            attempt_last_ns: 0,
            failed_by: None,
            rst_ttl: None,
            server_ttl: None,
            client_ttl: None,
            zeek: None,
            completeness: 1,
        }
    }

    fn old_conv(client: &str, port: u16, verdict: &str) -> String {
        format!(
            r#"{{"client":"{client}","server":"10.0.0.1","server_port":{port},"protocol":"tcp",
            "client_roles":[],"server_roles":[],"verdict":"{verdict}","rule":null,"reason":"r",
            "connections":1,"states":{{}},"packets":1,"bytes":60,"first_seen":"x","last_seen":"x"}}"#
        )
    }

    #[test]
    fn new_resolved_and_missing_rules() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        // A plain one-port TCP rule of the built-in catalogs.
        let rule = catalogs
            .rules()
            .find(|r| {
                r.protocol == crate::decode::Transport::Tcp
                    && r.ports.width() == 1
                    && r.companion.is_none()
                    && r.scope == crate::catalog::Scope::Network
            })
            .unwrap();
        let port = rule.ports.ranges[0].0;
        let other_rule = catalogs.rules().find(|r| r.id != rule.id).unwrap();
        let mut table = ConversationTable::default();
        table.add(&conn("10.0.1.1", port, State::NoReply));
        table.add(&conn("10.0.1.2", port, State::Established));
        let current = classify(table, &catalogs, None);
        let text = format!(
            r#"{{"schema":"{SCHEMA}","tool":{{}},"inputs":[],"summary":{{}},"hosts":[],
            "conversations":[{},{},{}],
            "rules":[{{"id":"{}","conversations":3}},{{"id":"{}","conversations":1}}],
            "baseline":null}}"#,
            old_conv("10.0.1.1", port, "expected"),
            old_conv("10.0.1.2", port, "blocked"),
            old_conv("10.0.1.3", port, "unexpected"),
            rule.id,
            other_rule.id,
        );
        let baseline = Baseline::parse(&text).unwrap();
        let cmp = compare(&current, &catalogs, &baseline);
        let new: Vec<_> = cmp
            .new
            .iter()
            .map(|&i| {
                current.conversations[i as usize]
                    .conv
                    .key
                    .client
                    .to_string()
            })
            .collect();
        assert_eq!(new, ["10.0.1.1"]);
        // Expected now: resolved. Absent now: not seen, which is not resolved.
        assert_eq!(cmp.resolved.len(), 1);
        assert_eq!(
            current.conversations[cmp.resolved[0] as usize]
                .conv
                .key
                .client
                .to_string(),
            "10.0.1.2"
        );
        assert_eq!(cmp.not_seen.len(), 1);
        assert_eq!(cmp.not_seen[0].client, "10.0.1.3");
        assert_eq!(cmp.missing_rules, std::slice::from_ref(&other_rule.id));
    }

    #[test]
    fn a_report_that_is_not_one_says_where() {
        let err = Baseline::parse("{\"schema\": 1}").unwrap_err().to_string();
        assert!(
            err.starts_with("not a flowlint JSON report (line 1, column"),
            "{err}"
        );
        let err = Baseline::parse(
            r#"{"schema":"other","tool":0,"inputs":0,"summary":0,"hosts":0,"conversations":[],"rules":[],"baseline":0}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "schema 'other' is not flowlint.report.v1");
        let err = Baseline::parse(&format!(
            r#"{{"schema":"{SCHEMA}","tool":0,"inputs":0,"summary":0,"hosts":0,"conversations":[{}],"rules":[],"baseline":0}}"#,
            old_conv("nonsense", 1, "blocked")
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "conversations[0].client 'nonsense' is not an IP address"
        );
        assert_eq!(
            err.render(Lang::Ja),
            "conversations[0].client の 'nonsense' は IP アドレスではありません"
        );
    }
}
