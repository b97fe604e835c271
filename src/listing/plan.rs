//! `flowlint plan`: the firewall openings an inventory needs.
//!
//! One **opening** is (client host or block, server host or block, protocol,
//! port range) as a firewall rule says it; every catalog rule that needs the
//! same opening is listed with it (on 9352/tcp between two Systemwalker
//! servers, three rules share one opening). Ports are the effective ones
//! (after `[ports]` and `--services` changes). Openings are sorted by server
//! address, first port, protocol, then client address (numeric order, IPv4
//! before IPv6).
//!
//! Traffic within one host needs no firewall opening: a rule whose two ends
//! are the same inventory host (a Systemwalker server is its own job
//! requester and executor) and the internal-only ports of a rule with
//! `scope = "same-host"` are left out of the openings and listed apart
//! (`within_host`).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Serialize, Serializer};

use super::condition::{distinct, Condition};
use super::table::Table;
use crate::catalog::{CatalogSet, Os, PortSet, Rule, Scope, Side};
use crate::inventory::{HostEntry, Inventory};
use crate::report::fix::{self, Netsh, Nft, Opening, Powershell};
use crate::report::lang::Lang;
use crate::{term, tr, trw};

/// How `flowlint plan` writes its list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    /// Aligned columns for a terminal.
    Text,
    /// `{"flows": [...], "within_host": [...]}`.
    Json,
    /// RFC 4180 CSV (UTF-8 with a byte order mark, CRLF line ends) for a spreadsheet.
    Csv,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// `New-NetFirewallRule` lines, one script per Windows server host.
    Powershell,
    /// `netsh advfirewall` lines (a batch file), one script per Windows server host.
    Netsh,
    /// nftables, one `inet filter` input chain per Unix server host.
    Nft,
}

/// One rule an opening serves.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PlanRule {
    /// Qualified rule id ("catalog/rule").
    pub id: String,
    /// What the rule is for (English).
    pub purpose: String,
    /// What the rule is for, as the vendor table says it (Japanese).
    pub ja: String,
    /// What the opening is needed for only (a companion connection first,
    /// a feature): data, worded when written (JSON: its fixed English text).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "json_condition"
    )]
    pub condition: Option<Condition>,
}

fn json_condition<S: Serializer>(c: &Option<Condition>, s: S) -> Result<S::Ok, S::Error> {
    match c {
        Some(c) => s.serialize_str(&c.json_text()),
        None => s.serialize_none(),
    }
}

fn json_conditions<S: Serializer>(c: &[Condition], s: S) -> Result<S::Ok, S::Error> {
    let texts: Vec<String> = c.iter().map(Condition::json_text).collect();
    s.serialize_str(&texts.join("; "))
}

/// One opening a firewall must allow, with the rules that need it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PlanFlow {
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    pub ports: String,
    pub protocol: &'static str,
    /// The first of `rules` (kept from the one-rule-per-flow form).
    pub rule: String,
    /// The purposes of `rules`, joined with "; ".
    pub purpose: String,
    /// The rules' distinct conditions, set when every rule of the opening
    /// has one (JSON: their English texts joined with "; "; empty: none).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "json_conditions"
    )]
    pub condition: Vec<Condition>,
    /// Every rule that needs this opening, in catalog order.
    pub rules: Vec<PlanRule>,
    /// The client's and the server's inventory blocks, and the server's OS
    /// (for the firewall scripts).
    #[serde(skip)]
    pub client_net: ipnet::IpNet,
    #[serde(skip)]
    pub server_net: ipnet::IpNet,
    #[serde(skip)]
    pub server_os: Option<Os>,
    #[serde(skip)]
    pub port_set: PortSet,
}

/// What an inventory needs: the openings, and the traffic that stays within one host.
#[derive(Serialize, Debug, Clone, Default)]
pub struct Plan {
    pub flows: Vec<PlanFlow>,
    /// Same shape as `flows`, client and server the same host: no firewall opening needed.
    pub within_host: Vec<PlanFlow>,
}

fn os_excluded(rule: &Rule, client: &HostEntry, server: &HostEntry) -> bool {
    let Some(x) = &rule.exclude_os else {
        return false;
    };
    let hit = |e: &HostEntry| e.os == Some(x.os);
    match x.side {
        Side::Client => hit(client),
        Side::Server => hit(server),
        Side::Either => hit(client) || hit(server),
    }
}

fn is_single(e: &HostEntry) -> bool {
    e.net.prefix_len() == e.net.max_prefix_len()
}

fn host_text(e: &HostEntry) -> String {
    if is_single(e) {
        e.net.addr().to_string()
    } else {
        e.net.to_string()
    }
}

/// Sort and merge key of an opening: server, first port, ports, protocol, client.
type Key = (ipnet::IpNet, u16, String, &'static str, ipnet::IpNet);

#[derive(Default)]
struct Merger {
    openings: BTreeMap<Key, PlanFlow>,
}

impl Merger {
    fn add(&mut self, rule: &Rule, client: &HostEntry, server: &HostEntry, server_os: Option<Os>) {
        let first = rule.ports.ranges.first().map_or(0, |r| r.0);
        let key = (
            server.net,
            first,
            rule.ports.to_string(),
            rule.protocol.as_str(),
            client.net,
        );
        let entry = self.openings.entry(key).or_insert_with(|| PlanFlow {
            client: host_text(client),
            client_name: client.name.clone(),
            server: host_text(server),
            server_name: server.name.clone(),
            ports: rule.ports.to_string(),
            protocol: rule.protocol.as_str(),
            rule: rule.id.clone(),
            purpose: String::new(),
            condition: Vec::new(),
            rules: Vec::new(),
            client_net: client.net,
            server_net: server.net,
            server_os,
            port_set: rule.ports.clone(),
        });
        if entry.rules.iter().all(|r| r.id != rule.id) {
            entry.rules.push(PlanRule {
                id: rule.id.clone(),
                purpose: rule.en.clone(),
                ja: rule.ja.clone(),
                condition: Condition::for_plan(rule),
            });
        }
    }

    fn finish(self) -> Vec<PlanFlow> {
        let mut flows: Vec<PlanFlow> = self.openings.into_values().collect();
        for f in &mut flows {
            f.rule = f.rules[0].id.clone();
            let mut purposes: Vec<&str> = Vec::new();
            for r in &f.rules {
                if !purposes.contains(&r.purpose.as_str()) {
                    purposes.push(&r.purpose);
                }
            }
            f.purpose = purposes.join("; ");
            if f.rules.iter().all(|r| r.condition.is_some()) {
                f.condition = distinct(f.rules.iter().filter_map(|r| r.condition.clone()));
            }
        }
        flows
    }
}

/// Every opening the inventory must allow, and the traffic within one host.
pub fn plan(catalogs: &CatalogSet, inventory: &Inventory) -> Plan {
    let roles: Vec<Vec<String>> = inventory
        .hosts
        .iter()
        .map(|h| catalogs.expand_roles(&h.roles))
        .collect();
    let holds = |i: usize, wanted: &[String]| roles[i].iter().any(|r| wanted.contains(r));
    // A block without `os` inherits it from a less specific one (as lookups do).
    let os: Vec<Option<Os>> = inventory
        .hosts
        .iter()
        .map(|h| {
            h.os.or_else(|| {
                inventory
                    .hosts
                    .iter()
                    .filter(|o| o.os.is_some() && o.net.contains(&h.net))
                    .max_by_key(|o| o.net.prefix_len())
                    .and_then(|o| o.os)
            })
        })
        .collect();
    let mut open = Merger::default();
    let mut local = Merger::default();
    for rule in catalogs.rules() {
        if let Some(f) = &rule.requires_feature {
            if !inventory.feature_enabled(&rule.catalog, f) {
                continue;
            }
        }
        for (ci, client) in inventory.hosts.iter().enumerate() {
            if !holds(ci, &rule.clients) {
                continue;
            }
            for (si, server) in inventory.hosts.iter().enumerate() {
                if !holds(si, &rule.servers) || os_excluded(rule, client, server) {
                    continue;
                }
                let same_host = ci == si && is_single(client);
                match (rule.scope, same_host) {
                    (Scope::Network, false) => open.add(rule, client, server, os[si]),
                    (_, true) => local.add(rule, client, server, os[si]),
                    // Internal-only ports never cross the network.
                    (Scope::SameHost, false) => {}
                }
            }
        }
    }
    Plan {
        flows: open.finish(),
        within_host: local.finish(),
    }
}

fn named(addr: &str, name: &Option<String>) -> String {
    match name {
        Some(n) => format!("{n} ({addr})"),
        None => addr.to_string(),
    }
}

/// Rule ids as one cell: the catalog named once per run of rules of the same
/// catalog ("systemwalker-om/jmnet-job-kill, jmnet-job-end").
fn rules_cell(rules: &[PlanRule]) -> String {
    let mut out = String::new();
    let mut catalog = "";
    for r in rules {
        let (cat, local) = r.id.split_once('/').unwrap_or(("", &r.id));
        if !out.is_empty() {
            out.push_str(", ");
        }
        if cat == catalog {
            out.push_str(local);
        } else {
            out.push_str(&r.id);
            catalog = cat;
        }
    }
    out
}

/// The purpose cell: the rules' distinct purposes in the language (the
/// vendor tables' own words in Japanese), then the conditions of those
/// rules that have one, worded in the language: "purpose [condition]".
fn purpose_cell(f: &PlanFlow, lang: Lang) -> String {
    let purposes = distinct(f.rules.iter().map(|r| match lang {
        Lang::Ja if !r.ja.is_empty() => r.ja.as_str(),
        _ => r.purpose.as_str(),
    }));
    let mut cell = purposes.join("; ");
    let conds = conditions_text(f.rules.iter().filter_map(|r| r.condition.as_ref()), lang);
    if !conds.is_empty() {
        cell.push_str(&format!(" [{conds}]"));
    }
    cell
}

/// Distinct conditions in `lang`, joined with "; ".
fn conditions_text<'a>(conds: impl IntoIterator<Item = &'a Condition>, lang: Lang) -> String {
    distinct(conds)
        .iter()
        .map(|c| c.worded(lang).to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line naming what stays within each host: "itdm-mgr (192.0.2.10): 31006-31012/tcp, …".
fn within_host_lines(plan: &Plan) -> Vec<String> {
    let mut hosts: Vec<(String, Vec<String>)> = Vec::new();
    for f in &plan.within_host {
        let host = named(&f.server, &f.server_name);
        let port = format!("{}/{}", f.ports, f.protocol);
        match hosts.iter_mut().find(|(h, _)| *h == host) {
            Some((_, ports)) => {
                if !ports.contains(&port) {
                    ports.push(port)
                }
            }
            None => hosts.push((host, vec![port])),
        }
    }
    hosts
        .into_iter()
        .map(|(h, ports)| format!("{h}: {}", ports.join(", ")))
        .collect()
}

/// `flowlint plan`: the openings as aligned text, JSON, CSV or Markdown.
pub fn write_plan(
    out: &mut dyn Write,
    plan: &Plan,
    format: PlanFormat,
    lang: Lang,
) -> io::Result<()> {
    match format {
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, plan).map_err(io::Error::other)?;
            writeln!(out)
        }
        PlanFormat::Text => write_text(out, plan, lang),
        PlanFormat::Csv => write_csv(out, plan),
        PlanFormat::Markdown => write_markdown(out, plan, lang),
        PlanFormat::Powershell | PlanFormat::Netsh | PlanFormat::Nft => {
            write_scripts(out, plan, format, lang)
        }
    }
}

/// One server host's (or block's) inbound openings.
struct HostScript {
    server: ipnet::IpNet,
    name: Option<String>,
    os: Option<Os>,
    /// One per port set and protocol, with every client and rule.
    openings: Vec<Opening>,
}

/// The openings per server host, de-duplicated: the clients of the same
/// ports and protocol on one host are one opening. In the plan's order.
fn host_scripts(plan: &Plan) -> Vec<HostScript> {
    let mut hosts: Vec<HostScript> = Vec::new();
    for f in &plan.flows {
        if hosts.last().is_none_or(|h| h.server != f.server_net) {
            hosts.push(HostScript {
                server: f.server_net,
                name: f.server_name.clone(),
                os: f.server_os,
                openings: Vec::new(),
            });
        }
        let Some(host) = hosts.last_mut() else {
            continue;
        };
        let at = match host
            .openings
            .iter()
            .position(|o| o.ports == f.port_set && o.protocol.as_str() == f.protocol)
        {
            Some(at) => at,
            None => {
                let protocol = crate::catalog::parse_transport(f.protocol)
                    .unwrap_or(crate::decode::Transport::Tcp);
                host.openings.push(Opening {
                    server: f.server_net,
                    server_name: f.server_name.clone(),
                    os: f.server_os,
                    protocol,
                    ports: f.port_set.clone(),
                    remotes: Vec::new(),
                    rules: Vec::new(),
                });
                host.openings.len() - 1
            }
        };
        let o = &mut host.openings[at];
        if let Err(i) = o.remotes.binary_search(&f.client_net) {
            o.remotes.insert(i, f.client_net);
        }
        for r in &f.rules {
            let rule = (r.id.clone(), r.purpose.clone());
            if !o.rules.contains(&rule) {
                o.rules.push(rule);
            }
        }
    }
    hosts
}

/// The byte order mark of UTF-8.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// The firewall scripts: one section per server host whose OS the format
/// serves (Windows for PowerShell and netsh, Unix for nft; a host whose
/// OS the inventory does not give gets all three), each ready to review
/// and paste on that host.
///
/// Comments are in `lang`, each rule's with its purpose and condition,
/// except in the batch file (netsh): cmd.exe reads a batch file in the
/// console's code page (CP932 on a Japanese Windows), not as UTF-8, and
/// its `rem` lines still expand `%` and continue at a final `^`, so its
/// comments stay English and ASCII ([`fix::safe`]). A PowerShell script
/// that has any character beyond ASCII (Japanese comments, a Japanese host
/// name) starts with the UTF-8 byte order mark: Windows PowerShell 5.1
/// reads a `.ps1` without one in the ANSI code page (CP932 on a Japanese
/// Windows) and would mangle it; PowerShell 7 reads both. nft files stay
/// UTF-8 without a mark (nft reads them as bytes).
fn write_scripts(
    out: &mut dyn Write,
    plan: &Plan,
    format: PlanFormat,
    lang: Lang,
) -> io::Result<()> {
    let mut buf = Vec::new();
    script_body(&mut buf, plan, format, lang)?;
    if format == PlanFormat::Powershell && !buf.is_ascii() {
        out.write_all(BOM)?;
    }
    out.write_all(&buf)
}

fn script_body(
    out: &mut dyn Write,
    plan: &Plan,
    format: PlanFormat,
    asked: Lang,
) -> io::Result<()> {
    let lang = if format == PlanFormat::Netsh {
        Lang::En
    } else {
        asked
    };
    let (comment, for_os) = match format {
        PlanFormat::Powershell => ("#", Os::Windows),
        PlanFormat::Netsh => ("rem", Os::Windows),
        _ => ("#", Os::Unix),
    };
    let tool = match format {
        PlanFormat::Powershell => term!(
            lang,
            "PowerShell (Windows Defender Firewall)",
            "PowerShell（Windows Defender ファイアウォール）"
        ),
        PlanFormat::Netsh => "netsh advfirewall (a batch file)",
        _ => term!(
            lang,
            "nftables (table inet filter, chain input)",
            "nftables（table inet filter の chain input）"
        ),
    };
    // A batch file's `rem` line still expands % and continues at a final ^.
    let text = |t: &str, max: usize| {
        if format == PlanFormat::Netsh {
            fix::safe(t, max)
        } else {
            fix::comment(t, max)
        }
    };
    // Each rule's purpose (in the language) and condition, by id.
    let rules: BTreeMap<&str, &PlanRule> = plan
        .flows
        .iter()
        .flat_map(|f| &f.rules)
        .map(|r| (r.id.as_str(), r))
        .collect();
    let hosts = host_scripts(plan);
    let (serve, skip): (Vec<&HostScript>, Vec<&HostScript>) = hosts
        .iter()
        .partition(|h| h.os.is_none_or(|os| os == for_os));
    if format == PlanFormat::Netsh {
        writeln!(out, "@echo off")?;
    }
    write!(out, "{comment} ")?;
    trw!(
        out,
        lang,
        "flowlint plan: the inbound openings each server host needs, as {tool}.",
        "flowlint plan: 各サーバホストが受信を許可すべき通信を {tool} で書いたものです。",
        tool = tool
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{comment} {}",
        term!(
            lang,
            "One section per server host: review it, then run it on that host.",
            "サーバホストごとに 1 節です。内容を確認してから、そのホストで実行してください。"
        )
    )?;
    match format {
        PlanFormat::Nft => {
            writeln!(
                out,
                "{comment} {}",
                term!(
                    lang,
                    "Each section appends to the input chain of table inet filter (nft -f FILE);",
                    "各節は table inet filter の input チェーンに追加します（nft -f FILE）。"
                )
            )?;
            writeln!(
                out,
                "{comment} {}",
                term!(
                    lang,
                    "the rules must come before any final drop rule of that chain.",
                    "ルールはそのチェーンの最後の drop ルールより前に置いてください。"
                )
            )?;
        }
        PlanFormat::Netsh if asked == Lang::Ja => writeln!(
            out,
            "{comment} Comments in English (ASCII): cmd.exe reads a batch file in the console's code page \
             (CP932 on a Japanese Windows), not as UTF-8."
        )?,
        PlanFormat::Powershell if lang == Lang::Ja => writeln!(
            out,
            "{comment} 文字コードは UTF-8（BOM 付き）です。Windows PowerShell 5.1 でも日本語のコメントが正しく読めます。"
        )?,
        _ => {}
    }
    if !skip.is_empty() {
        let names: Vec<String> = skip.iter().map(|h| host_title(h, lang)).collect();
        let (os, other) = if for_os == Os::Windows {
            ("unix", "nft")
        } else {
            (
                "windows",
                term!(lang, "powershell or netsh", "powershell または netsh"),
            )
        };
        write!(out, "{comment} ")?;
        trw!(
            out,
            lang,
            "Left out ({os}, see --format {other}): {names}",
            "対象外（{os}。--format {other} を参照）: {names}",
            os = os,
            other = other,
            names = text(&crate::report::lang::list(&names, lang), 2000)
        )?;
        writeln!(out)?;
    }
    if serve.is_empty() {
        writeln!(
            out,
            "{comment} {}",
            term!(
                lang,
                "No server host to write a script for.",
                "スクリプトを書くサーバホストがありません。"
            )
        )?;
    }
    for h in serve {
        writeln!(out)?;
        let os = h.os.map_or(
            term!(lang, "not in the inventory", "インベントリに記載なし"),
            Os::as_str,
        );
        write!(out, "{comment} ===== ")?;
        trw!(
            out,
            lang,
            "{host}, os {os}",
            "{host}、os {os}",
            host = text(&host_title(h, lang), 200),
            os = os
        )?;
        writeln!(out, " =====")?;
        if format == PlanFormat::Nft {
            writeln!(out, "table inet filter {{")?;
            writeln!(out, "\tchain input {{")?;
            writeln!(out, "\t\ttype filter hook input priority filter;")?;
        }
        for o in &h.openings {
            let lead = if format == PlanFormat::Nft {
                "\t\t"
            } else {
                ""
            };
            for (id, purpose) in &o.rules {
                let rule = rules.get(id.as_str());
                let mut about = match (lang, rule) {
                    (Lang::Ja, Some(r)) if !r.ja.is_empty() => r.ja.clone(),
                    _ => purpose.clone(),
                };
                if let Some(c) = rule.and_then(|r| r.condition.as_ref()) {
                    about.push_str(&format!(" [{}]", c.worded(lang)));
                }
                writeln!(
                    out,
                    "{lead}{comment} {}: {}",
                    text(id, 120),
                    text(&about, 300)
                )?;
            }
            match format {
                PlanFormat::Powershell => writeln!(out, "{}", Powershell(o))?,
                PlanFormat::Netsh => writeln!(out, "{}", Netsh(o))?,
                _ => {
                    for rule in Nft(o).rules() {
                        writeln!(out, "{lead}{rule}")?;
                    }
                }
            }
        }
        if format == PlanFormat::Nft {
            writeln!(out, "\t}}")?;
            writeln!(out, "}}")?;
        }
    }
    Ok(())
}

/// "itdm-mgr (192.0.2.10)", "each host of 192.0.2.128/25" (「192.0.2.128/25
/// の各ホスト」).
fn host_title(h: &HostScript, lang: Lang) -> String {
    let net = fix::Net(h.server).to_string();
    let addr = if h.server.prefix_len() == h.server.max_prefix_len() {
        net
    } else {
        tr!(lang, "each host of {net}", "{net} の各ホスト", net = net)
    };
    match &h.name {
        Some(n) => format!("{n} ({addr})"),
        None => addr,
    }
}

fn write_text(out: &mut dyn Write, plan: &Plan, lang: Lang) -> io::Result<()> {
    let mut t = Table::new([
        term!(lang, "from (client)", "接続元（クライアント）"),
        term!(lang, "to (server)", "接続先（サーバ）"),
        term!(lang, "port", "ポート"),
        term!(lang, "rules", "ルール"),
        term!(lang, "purpose", "用途"),
    ]);
    for f in &plan.flows {
        t.row([
            named(&f.client, &f.client_name),
            named(&f.server, &f.server_name),
            format!("{}/{}", f.ports, f.protocol),
            rules_cell(&f.rules),
            purpose_cell(f, lang),
        ]);
    }
    t.write(out, "")?;
    let rule_flows: usize = plan.flows.iter().map(|f| f.rules.len()).sum();
    match lang {
        Lang::En => writeln!(
            out,
            "{} to allow ({}).",
            plural(plan.flows.len(), "opening", "openings"),
            plural(rule_flows, "rule flow", "rule flows")
        )?,
        Lang::Ja => writeln!(
            out,
            "許可すべき通信 {} 件（ルール単位では {} 件）。",
            plan.flows.len(),
            rule_flows
        )?,
    }
    let lines = within_host_lines(plan);
    if !lines.is_empty() {
        writeln!(
            out,
            "{}",
            term!(
                lang,
                "Within one host, no firewall opening needed (not listed above):",
                "1 台のホスト内だけの通信（ファイアウォールの開放は不要。上の表にはありません）:"
            )
        )?;
        for l in lines {
            writeln!(out, "  {l}")?;
        }
    }
    Ok(())
}

/// One CSV field, quoted when RFC 4180 needs it (comma, quote, CR or LF).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

const CSV_HEADER: [&str; 10] = [
    "client",
    "client_name",
    "server",
    "server_name",
    "ports",
    "protocol",
    "rules",
    "purpose",
    "purpose_ja",
    "condition",
];

fn csv_row(f: &PlanFlow) -> [String; 10] {
    let ids: Vec<&str> = f.rules.iter().map(|r| r.id.as_str()).collect();
    let mut ja: Vec<&str> = Vec::new();
    for r in &f.rules {
        if !r.ja.is_empty() && !ja.contains(&r.ja.as_str()) {
            ja.push(&r.ja);
        }
    }
    let conds: Vec<String> = f
        .rules
        .iter()
        .filter_map(|r| r.condition.as_ref().map(Condition::json_text))
        .collect();
    [
        f.client.clone(),
        f.client_name.clone().unwrap_or_default(),
        f.server.clone(),
        f.server_name.clone().unwrap_or_default(),
        f.ports.clone(),
        f.protocol.to_string(),
        ids.join("; "),
        f.purpose.clone(),
        ja.join("; "),
        conds.join("; "),
    ]
}

fn write_csv(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    // The byte order mark makes Excel read the file as UTF-8 (without it,
    // Japanese names and purposes turn into mojibake on a Japanese Windows).
    out.write_all("\u{feff}".as_bytes())?;
    let line = |cells: &[String]| {
        let mut l = cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",");
        l.push_str("\r\n");
        l
    };
    let header: Vec<String> = CSV_HEADER.iter().map(|s| s.to_string()).collect();
    out.write_all(line(&header).as_bytes())?;
    for f in &plan.flows {
        out.write_all(line(&csv_row(f)).as_bytes())?;
    }
    Ok(())
}

/// One Markdown table cell: pipes and backslashes escaped, line breaks as spaces.
fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// A table for people (a wiki page, a ticket): headers and sentences in
/// the language, like the text form.
fn write_markdown(out: &mut dyn Write, plan: &Plan, lang: Lang) -> io::Result<()> {
    let header = match lang {
        Lang::En => ["client", "server", "port", "rules", "purpose"],
        Lang::Ja => [
            "接続元（クライアント）",
            "接続先（サーバ）",
            "ポート",
            "ルール",
            "用途",
        ],
    };
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(header.len()))?;
    for f in &plan.flows {
        let ids: Vec<String> = f.rules.iter().map(|r| format!("`{}`", r.id)).collect();
        let cells = [
            md_cell(&named(&f.client, &f.client_name)),
            md_cell(&named(&f.server, &f.server_name)),
            md_cell(&format!("{}/{}", f.ports, f.protocol)),
            md_cell(&ids.join(", ")),
            md_cell(&purpose_cell(f, lang)),
        ];
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    let rule_flows: usize = plan.flows.iter().map(|f| f.rules.len()).sum();
    writeln!(out)?;
    match lang {
        Lang::En => writeln!(
            out,
            "{} to allow ({}).",
            plural(plan.flows.len(), "opening", "openings"),
            plural(rule_flows, "rule flow", "rule flows")
        )?,
        Lang::Ja => writeln!(
            out,
            "許可すべき通信 {} 件（ルール単位では {} 件）。",
            plan.flows.len(),
            rule_flows
        )?,
    }
    let lines = within_host_lines(plan);
    if !lines.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            term!(
                lang,
                "Within one host, no firewall opening needed (not listed above):",
                "1 台のホスト内だけの通信（ファイアウォールの開放は不要。上の表にはありません）:"
            )
        )?;
        writeln!(out)?;
        for l in lines {
            writeln!(out, "- {}", md_cell(&l))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn markdown_cells_escape_pipes() {
        assert_eq!(md_cell("a|b"), "a\\|b");
        assert_eq!(md_cell("a\nb"), "a b");
    }
}
