//! The text report (`--format text`): for a person, findings first.
//!
//! Owns the layout: a header (inputs, time range, catalogs, inventory,
//! counts), the findings grouped so that one problem is one entry
//! ([`group`]), the baseline comparison, then short summaries (unlisted per
//! port, broadcasts per port, hosts, expected conversations and coverage
//! per rule). `--all` lists every conversation one by one instead, with the
//! full reason of each ([`super::words`]). Colour and wrapping only when
//! writing to a terminal: piped, every entry is one line (grep-friendly).
//! Times in local time with the UTC offset, or UTC ([`clock`]).

mod clock;
pub mod group;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use super::lang::Lang;
use super::words::{self, counted as plural, ReasonText};
use super::{Addr, Exporter, Outcome, STATES_BY_NAME};
use crate::catalog::{CatalogSet, RoleId, RoleSet, Rule};
use crate::classify::{Classified, Hosts, Reason, Refusal, Verdict};
use crate::decode::Transport;
use crate::{term, tr};
use clock::Clock;
use group::{Failure, Group, Key};

/// How the text report is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// ANSI colours (writing to a terminal).
    pub color: bool,
    /// Wrap lines to this many columns (a terminal); `None`: never wrap.
    pub width: Option<usize>,
    /// List every conversation one by one (`--all`).
    pub all: bool,
    /// Times in UTC (`--utc`) rather than local time.
    pub utc: bool,
}

/// The width of the terminal standard output is, if it is one.
pub fn terminal_width() -> Option<usize> {
    terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0))
}

/// The text exporter.
pub struct Text {
    pub options: Options,
}

/// Entries of one verdict, the largest first, before "and N more".
const ENTRIES: usize = 25;
/// Clients (or servers) an entry names before "and N more".
const NAMED: usize = 3;
/// Ports, groups and hosts a summary names before "and N more".
const TOP: usize = 10;
/// Hosts the host summary names.
const HOSTS: usize = 40;
/// Lines the names of the rules with no traffic take on a terminal.
const IDLE_LINES: usize = 3;
/// Lines of each kind of baseline change.
const CHANGES: usize = 10;

/// Terminal colours, only when writing to a terminal.
#[derive(Clone, Copy, Debug)]
struct Style {
    color: bool,
    lang: Lang,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Blocked => "1;31",
            Verdict::WrongDirection => "1;35",
            Verdict::Unexpected => "1;33",
            Verdict::Expected => "32",
            Verdict::Unlisted => "2",
        };
        self.paint(code, words::verdict(v, self.lang))
    }

    /// A verdict's heading word: "BLOCKED" (its JSON name in capitals), 「遮断の疑い」.
    fn title(&self, v: Verdict) -> String {
        match self.lang {
            Lang::En => v.as_str().to_uppercase(),
            Lang::Ja => words::verdict(v, self.lang).to_string(),
        }
    }
}

/// A duration in seconds: "42.5 s", "12 s", "350 ms" (「42.5 秒」).
fn duration(ns: i64, lang: Lang) -> String {
    let s = ns as f64 / 1e9;
    let (sec, ms) = (term!(lang, "s", "秒"), term!(lang, "ms", "ミリ秒"));
    if s >= 10.0 {
        format!("{s:.0} {sec}")
    } else if s >= 1.0 {
        format!("{s:.1} {sec}")
    } else {
        format!("{:.0} {ms}", s * 1e3)
    }
}

/// "31000/tcp".
fn port(p: u16, t: Transport) -> String {
    format!("{p}/{}", t.as_str())
}

/// A rule's id without its catalog's name.
fn short_id(rule: &Rule) -> &str {
    rule.id
        .strip_prefix(&rule.catalog)
        .and_then(|s| s.strip_prefix('/'))
        .unwrap_or(&rule.id)
}

/// A rule's purpose: its text in the language (or id) and its service name.
fn purpose(rule: &Rule, lang: Lang) -> String {
    let mut s = words::purpose_text(rule, lang).to_string();
    if let Some(service) = &rule.service {
        let _ = write!(s, " [{service}]");
    }
    s
}

/// "agent or site server".
fn role_list(catalogs: &CatalogSet, roles: &[String], lang: Lang) -> String {
    roles
        .iter()
        .map(|r| words::role_label_named(catalogs, r, lang))
        .collect::<Vec<_>>()
        .join(term!(lang, " or ", "または"))
}

/// "a, b, c and 4 more" (「a, b, c ほか 4 件」).
fn named_list(items: &[String], named: usize, lang: Lang) -> String {
    let mut s = items[..items.len().min(named)].join(", ");
    if items.len() > named {
        s.push_str(&more(lang, items.len() - named));
    }
    s
}

/// " and 4 more" (「 ほか 4 件」).
fn more(lang: Lang, n: usize) -> String {
    tr!(lang, " and {n} more", " ほか {n} 件", n = n)
}

/// Distinct values in first-seen order.
fn distinct<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Visible width of text that may hold ANSI colour codes.
fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut escape = false;
    for ch in s.chars() {
        if escape {
            escape = ch != 'm';
        } else if ch == '\x1b' {
            escape = true;
        } else {
            width += unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        }
    }
    width
}

/// Writes `text` after `lead` (its first line's indent); on a terminal,
/// wrapped at spaces to the width, continued under `hang` spaces.
fn para(
    out: &mut dyn Write,
    width: Option<usize>,
    lead: &str,
    hang: usize,
    text: &str,
) -> io::Result<()> {
    for line in wrap(width, lead, hang, text) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The lines [`para`] writes.
fn wrap(width: Option<usize>, lead: &str, hang: usize, text: &str) -> Vec<String> {
    let Some(width) = width else {
        return vec![format!("{lead}{text}")];
    };
    if text
        .chars()
        .any(|c| unicode_width::UnicodeWidthChar::width(c) == Some(2))
    {
        return wrap_wide(width, lead, hang, text);
    }
    let mut lines = Vec::new();
    let mut line = String::from(lead);
    let mut used = visible_width(lead);
    let mut empty = true;
    for word in text.split(' ') {
        let w = visible_width(word);
        if !empty && used + 1 + w > width {
            lines.push(line.trim_end().to_string());
            line = " ".repeat(hang);
            used = hang;
            empty = true;
        }
        if !empty {
            line.push(' ');
            used += 1;
        }
        line.push_str(word);
        used += w;
        empty = false;
    }
    lines.push(line.trim_end().to_string());
    lines
}

/// Closing punctuation: never the first character of a line (it stays
/// with what it closes).
const NO_LINE_START: &str = "、。，．）」』】！？：；・ー";
/// Opening punctuation: never the last character of a line.
const NO_LINE_END: &str = "（「『【";

/// [`wrap`] for text with East Asian wide characters (Japanese): a line may
/// break at a blank or between two wide characters, but never inside a run
/// of narrow ones — a number, an address, a port, a time range or an
/// English word stays whole — and never before closing or after opening
/// punctuation.
fn wrap_wide(width: usize, lead: &str, hang: usize, text: &str) -> Vec<String> {
    // Units that cannot be split, each with whether a blank comes before it.
    let mut units: Vec<(String, bool)> = Vec::new();
    let mut blank = false;
    let mut narrow_run = false;
    for ch in text.chars() {
        if ch == ' ' {
            blank = true;
            narrow_run = false;
            continue;
        }
        let wide = unicode_width::UnicodeWidthChar::width(ch) == Some(2);
        let glue = match units.last() {
            None => false,
            Some(_) if blank => false,
            Some((last, _)) => {
                NO_LINE_START.contains(ch)
                    || last
                        .chars()
                        .next_back()
                        .is_some_and(|c| NO_LINE_END.contains(c))
                    || (!wide && narrow_run)
            }
        };
        match units.last_mut() {
            Some((last, _)) if glue => last.push(ch),
            _ => units.push((ch.to_string(), blank)),
        }
        blank = false;
        narrow_run = !wide;
    }
    let mut lines = Vec::new();
    let mut line = String::from(lead);
    let mut used = visible_width(lead);
    let mut empty = true;
    for (unit, blank) in units {
        let w = visible_width(&unit);
        let sep = usize::from(blank && !empty);
        if !empty && used + sep + w > width {
            lines.push(line.trim_end().to_string());
            line = " ".repeat(hang);
            used = hang;
            empty = true;
        }
        if blank && !empty {
            line.push(' ');
            used += 1;
        }
        line.push_str(&unit);
        used += w;
        empty = false;
    }
    lines.push(line.trim_end().to_string());
    lines
}

/// What the entries need to name hosts and times.
struct Ctx<'o, 'a> {
    o: &'o Outcome<'a>,
    catalogs: &'a CatalogSet,
    hosts: &'o Hosts,
    clock: Clock,
    style: Style,
    width: Option<usize>,
    /// The capture's first packet: times of that day are written without the date.
    t0: i64,
}

impl Ctx<'_, '_> {
    /// "pc-01 10.1.2.3" by the inventory's name, else "agent 10.1.2.3" by
    /// its role, else "host 10.1.2.3" (the hosts summary has the roles).
    fn host_name(&self, c: &Classified, side: usize, role: Option<RoleId>) -> String {
        let k = c.conv.key;
        let addr = Addr(if side == 0 { k.client } else { k.server });
        let name = c.hosts[side]
            .map(|id| self.hosts.host(id))
            .and_then(|h| h.name.as_deref());
        let lang = self.style.lang;
        match (name, role) {
            (Some(name), _) => format!("{name} {addr}"),
            (None, Some(r)) => format!("{} {addr}", words::role_label(self.catalogs, r, lang)),
            (None, None) => tr!(lang, "host {addr}", "ホスト {addr}", addr = addr),
        }
    }

    /// One side of an entry's conversations: one host by its name, several
    /// as "40 agents (a, b, c and 37 more)".
    fn side(
        &self,
        members: &[&Classified],
        side: usize,
        prefer: impl Fn(&Classified) -> RoleSet,
    ) -> String {
        let addr = |c: &Classified| {
            if side == 0 {
                c.conv.key.client
            } else {
                c.conv.key.server
            }
        };
        let first = distinct(members.iter().map(|c| addr(c)));
        let role = |c: &Classified| group::role_of(self.catalogs, self.hosts, c, side, prefer(c));
        if first.len() == 1 {
            return self.host_name(members[0], side, role(members[0]));
        }
        let roles = distinct(members.iter().map(|c| role(c)));
        let lang = self.style.lang;
        let names: Vec<String> = first.iter().map(|a| Addr(*a).to_string()).collect();
        let names = named_list(&names, NAMED, lang);
        match lang {
            Lang::En => {
                let what = match roles.as_slice() {
                    [Some(r)] => format!("{}s", self.catalogs.role_label_of(*r)),
                    _ => "hosts".to_string(),
                };
                format!("{} {what} ({names})", first.len())
            }
            Lang::Ja => {
                let what = match roles.as_slice() {
                    [Some(r)] => words::role_label(self.catalogs, *r, lang).into_owned(),
                    _ => "ホスト".to_string(),
                };
                format!("{what} {} 台（{names}）", first.len())
            }
        }
    }

    /// First to last failed attempt (or packet) of the members.
    fn span(&self, members: &[&Classified]) -> String {
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for c in members {
            let (a, b) = match &c.conv.rare {
                Some(r) if r.attempts > 0 => (r.first_ns, r.last_ns),
                _ => (c.conv.first_ns, c.conv.last_ns),
            };
            first = first.min(a);
            last = last.max(b);
        }
        self.clock.span(first, last, self.t0)
    }

    fn folded(&self, members: &[&Classified]) -> String {
        let folded: u64 = members.iter().map(|c| u64::from(c.conv.folded())).sum();
        if folded == 0 {
            return String::new();
        }
        let under = members
            .iter()
            .find(|c| c.conv.folded() > 0)
            .map_or(String::new(), |c| c.conv.key.client.to_string());
        match self.style.lang {
            Lang::En => format!(
                "; {} from clients beyond the conversation limit are folded under {under} (a flood or scan?)",
                plural(folded, "connection", "connections"),
            ),
            Lang::Ja => format!(
                "。通信数の上限を超えたクライアントからの接続 {folded} 件を {under} にまとめています（フラッドかスキャンでは？）"
            ),
        }
    }

    fn entry(&self, out: &mut dyn Write, verdict: Verdict, g: &Group<'_>) -> io::Result<()> {
        let text = self.entry_text(g);
        let lead = format!("  {} ", self.style.verdict(verdict));
        para(out, self.width, &lead, 6, &text)?;
        // On a terminal the findings stay one screen: the heading says
        // where the fixes are.
        if verdict == Verdict::Blocked && self.width.is_none() {
            let fixes = super::fix::merge(
                g.members
                    .iter()
                    .filter_map(|c| super::fix::Fix::of(self.o, c)),
            );
            if let Some(line) = super::fix::text_line(&fixes, self.style.lang) {
                para(out, self.width, fix_lead(self.style.lang), 6, &line)?;
            }
        }
        record_notes(
            out,
            self.width,
            self.o,
            g.members.iter().copied(),
            self.style.lang,
        )
    }

    /// The entry's sentence, as the report writes it after the verdict.
    fn entry_text(&self, g: &Group<'_>) -> String {
        match g.key {
            Key::Blocked {
                failure, blocker, ..
            } => self.blocked(g, failure, blocker),
            Key::WrongWay { rule, roles } => self.wrong_way(g, rule, roles),
            Key::Unexpected { code } => self.unexpected(g, code),
        }
    }

    fn blocked(&self, g: &Group<'_>, failure: Failure, blocker: Option<IpAddr>) -> String {
        let m = &g.members;
        let rule_set = |c: &Classified, side: usize| {
            c.rule.map_or(RoleSet::EMPTY, |r| {
                let r = self.catalogs.rule_by_id(r);
                if side == 0 {
                    r.client_set
                } else {
                    r.server_set
                }
            })
        };
        let k = m[0].conv.key;
        let p = port(k.server_port, k.transport);
        let (mut attempts, mut got, mut conns) = (0, 0, 0);
        for c in m {
            if let Reason::Blocked { evidence, .. } = &c.reason {
                attempts += evidence.attempts;
                got += evidence.got_through;
                conns += evidence.connections;
            }
        }
        let clients = self.side(m, 0, |c| rule_set(c, 0));
        let servers = self.side(m, 1, |c| rule_set(c, 1));
        let lang = self.style.lang;
        let (what, advice) = match failure {
            Failure::Unreachable => match blocker {
                Some(by) => (
                    tr!(lang, "ICMP unreachable from {by}", "{by} から ICMP 到達不能", by = by),
                    tr!(
                        lang,
                        "a firewall or router there blocks {p}",
                        "そこのファイアウォールまたはルータが {p} を遮断しています",
                        p = p
                    ),
                ),
                None => (
                    term!(
                        lang,
                        "ICMP unreachable from the server",
                        "サーバから ICMP 到達不能"
                    )
                    .to_string(),
                    tr!(
                        lang,
                        "nothing listens on {p} there, or its firewall rejects it",
                        "そこで {p} を待ち受けているものがないか、ファイアウォールが拒否しています",
                        p = p
                    ),
                ),
            },
            Failure::MiddleboxReset => {
                let ttls = m.iter().find_map(|c| match &c.reason {
                    Reason::Blocked { evidence, .. } => match evidence.refused {
                        Some(Refusal::Middlebox { rst_ttl, usual_ttl }) => {
                            Some((rst_ttl, usual_ttl))
                        }
                        _ => None,
                    },
                    _ => None,
                });
                let (rst, usual) = ttls.unwrap_or_default();
                let eg = if m.len() > 1 {
                    term!(lang, "e.g. ", "例: ")
                } else {
                    ""
                };
                (
                    tr!(
                        lang,
                        "reset (RST) with {eg}TTL {rst}, not the server's {usual}",
                        "リセット（RST）の TTL が {eg}{rst} で、サーバの {usual} と異なる",
                        eg = eg,
                        rst = rst,
                        usual = usual
                    ),
                    term!(
                        lang,
                        "a firewall between them probably sent it",
                        "両者の間のファイアウォールが送った可能性が高いです"
                    )
                    .to_string(),
                )
            }
            Failure::Refused => (
                term!(lang, "refused (RST)", "拒否（RST）").to_string(),
                tr!(
                    lang,
                    "is the service listening on {p}, does its host firewall allow it?",
                    "サービスは {p} を待ち受けていますか？ホストのファイアウォールは許可していますか？",
                    p = p
                ),
            ),
            Failure::NoReply => (
                term!(lang, "no reply", "無応答").to_string(),
                tr!(
                    lang,
                    "is {p} open between them?",
                    "両者の間で {p} は開いていますか？",
                    p = p
                ),
            ),
            Failure::Unanswered => (
                term!(lang, "unanswered", "応答なし").to_string(),
                tr!(
                    lang,
                    "is {p} open between them, the service running?",
                    "両者の間で {p} は開いていて、サービスは動いていますか？",
                    p = p
                ),
            ),
        };
        let mut s = match lang {
            Lang::En => format!(
                "{clients} → {servers} {p}: {what}, {}, {}; {advice}",
                self.span(m),
                plural(attempts, "attempt", "attempts"),
            ),
            Lang::Ja => format!(
                "{clients} → {servers} {p}: {what}、{}、試行 {attempts} 回。{advice}",
                self.span(m),
            ),
        };
        if got > 0 {
            s.push_str(&tr!(
                lang,
                " ({got} of {conns} connections got through)",
                "（接続 {conns} 件のうち {got} 件は通りました）",
                got = got,
                conns = conns
            ));
        }
        s.push_str(&self.folded(m));
        s
    }

    fn wrong_way(
        &self,
        g: &Group<'_>,
        rule: crate::catalog::RuleId,
        roles: [Option<RoleId>; 2],
    ) -> String {
        let m = &g.members;
        let r = self.catalogs.rule_by_id(rule);
        let clients = self.side(m, 0, |_| r.server_set);
        let servers = self.side(m, 1, |_| r.client_set);
        let ports: Vec<String> = distinct(
            m.iter()
                .map(|c| port(c.conv.key.server_port, c.conv.key.transport)),
        );
        let _ = roles;
        let lang = self.style.lang;
        let mut s = format!(
            "{clients} → {servers} {}: {}",
            named_list(&ports, NAMED, lang),
            self.span(m)
        );
        if m.len() > 1 {
            s.push_str(&conversations(lang, m.len()));
        }
        let inferred = if self.hosts.from_inventory() {
            ""
        } else {
            term!(
                lang,
                " (roles here are inferred from traffic; an --inventory states them)",
                "（ここでの役割は通信から推定したものです。--inventory で明示できます）"
            )
        };
        s.push_str(&tr!(
            lang,
            "; only {clients} → {servers} is allowed ({purpose}): check which host is which{inferred}",
            "。許可されているのは {clients} → {servers} だけです（{purpose}）。どのホストがどの役割か確認してください{inferred}",
            clients = role_list(self.catalogs, &r.clients, lang),
            servers = role_list(self.catalogs, &r.servers, lang),
            purpose = r.service.clone().unwrap_or_else(|| purpose(r, lang)),
            inferred = inferred
        ));
        s
    }

    /// "host 10.0.0.1 → management server 10.0.0.2 (mgr) 31000/tcp" for the
    /// first few members, then "and N more".
    fn pairs(&self, m: &[&Classified]) -> String {
        let names: Vec<String> = m
            .iter()
            .take(NAMED + 1)
            .map(|c| {
                let [cs, ss] = self.rule_sides(c);
                format!(
                    "{} → {} {}",
                    self.host_name(c, 0, group::role_of(self.catalogs, self.hosts, c, 0, cs)),
                    self.host_name(c, 1, group::role_of(self.catalogs, self.hosts, c, 1, ss)),
                    port(c.conv.key.server_port, c.conv.key.transport)
                )
            })
            .collect();
        let mut s = names[..names.len().min(NAMED)].join(", ");
        if m.len() > NAMED {
            s.push_str(&more(self.style.lang, m.len() - NAMED));
        }
        s
    }

    /// The roles a conversation's rule names on each side.
    fn rule_sides(&self, c: &Classified) -> [RoleSet; 2] {
        let rule = match &c.reason {
            Reason::OsCondition { rule, .. }
            | Reason::FeatureOff { rule }
            | Reason::InternalPort { rule }
            | Reason::FitsNoRule { rule: Some(rule) } => Some(self.catalogs.rule_by_id(*rule)),
            _ => None,
        };
        rule.map_or([RoleSet::EMPTY; 2], |r| [r.client_set, r.server_set])
    }

    /// Distinct rules of the members' reasons, with the member's port.
    fn reason_rules<'r>(&'r self, m: &[&Classified]) -> Vec<(&'r Rule, String)> {
        let ids = distinct(m.iter().filter_map(|c| {
            let rule = match &c.reason {
                Reason::OsCondition { rule, .. }
                | Reason::FeatureOff { rule }
                | Reason::InternalPort { rule }
                | Reason::FitsNoRule { rule: Some(rule) } => *rule,
                _ => return None,
            };
            Some((rule, port(c.conv.key.server_port, c.conv.key.transport)))
        }));
        ids.into_iter()
            .map(|(r, p)| (self.catalogs.rule_by_id(r), p))
            .collect()
    }

    fn unexpected(&self, g: &Group<'_>, code: &str) -> String {
        let m = &g.members;
        let inventory = self.hosts.from_inventory();
        let rules = self.reason_rules(m);
        let lang = self.style.lang;
        let more = |n: usize| {
            if n > NAMED {
                tr!(lang, "; and {n} more", "。ほか {n} 件", n = n - NAMED)
            } else {
                String::new()
            }
        };
        let n = if m.len() > 1 {
            conversations(lang, m.len())
        } else {
            String::new()
        };
        let (title, advice) = match code {
            "os_condition" => {
                let notes: Vec<String> = distinct(m.iter().filter_map(|c| match &c.reason {
                    Reason::OsCondition {
                        rule,
                        host,
                        os,
                        note,
                    } => Some((*rule, *host, *os, *note)),
                    _ => None,
                }))
                .into_iter()
                .take(NAMED)
                .map(|(rule, host, os, note)| {
                    let mut s = tr!(
                        lang,
                        "{purpose} is not used when {host} is a {os} server",
                        "{purpose} は {host} が {os} サーバの場合は使用しません",
                        purpose = purpose(self.catalogs.rule_by_id(rule), lang),
                        host = host,
                        os = os.as_str().to_uppercase()
                    );
                    if let Some(note) = note {
                        let note = &self.catalogs.note_by_id(note).id;
                        s.push_str(&tr!(lang, " ({note})", "（{note}）", note = note));
                    }
                    s
                })
                .collect();
                (
                    tr!(
                        lang,
                        "an OS the catalog excludes{n}",
                        "カタログが除外している OS{n}",
                        n = n
                    ),
                    tr!(
                        lang,
                        "{notes}; check the host, or its os in the inventory",
                        "{notes}。ホスト、またはインベントリの os を確認してください",
                        notes = notes.join(term!(lang, "; ", "。"))
                    ),
                )
            }
            "feature_not_enabled" => {
                let list: Vec<String> = rules
                    .iter()
                    .take(NAMED)
                    .map(|(r, p)| {
                        tr!(
                            lang,
                            "{p} needs '{feature}'",
                            "{p} には '{feature}' が必要",
                            p = p,
                            feature = r.requires_feature.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                let advice = if inventory {
                    term!(
                        lang,
                        "enable it in the inventory if in use",
                        "使用しているならインベントリで有効にしてください"
                    )
                } else {
                    term!(
                        lang,
                        "features are off without an inventory: give one whose features list it, if in use",
                        "インベントリがないと機能は無効です。使用しているなら features にその機能を挙げたインベントリを指定してください"
                    )
                };
                (
                    tr!(
                        lang,
                        "a feature not enabled{n}",
                        "有効になっていない機能{n}",
                        n = n
                    ),
                    format!(
                        "{}{}{}{advice}",
                        list.join(term!(lang, "; ", "。")),
                        more(rules.len()),
                        term!(lang, "; ", "。"),
                    ),
                )
            }
            "internal_port" => {
                let list: Vec<String> = rules
                    .iter()
                    .take(NAMED)
                    .map(|(r, p)| {
                        tr!(
                            lang,
                            "{p} is {purpose}",
                            "{p} は {purpose}",
                            p = p,
                            purpose = purpose(r, lang)
                        )
                    })
                    .collect();
                (
                    tr!(
                        lang,
                        "internal ports between two hosts{n}",
                        "2 台のホスト間の内部用ポート{n}",
                        n = n
                    ),
                    tr!(
                        lang,
                        "{list}{more}: block it between hosts",
                        "{list}{more}。ホスト間では遮断してください",
                        list = list.join(term!(lang, "; ", "。")),
                        more = more(rules.len())
                    ),
                )
            }
            "fits_no_rule" => {
                let list: Vec<String> = rules
                    .iter()
                    .take(NAMED)
                    .map(|(r, p)| {
                        tr!(
                            lang,
                            "{p} is for {clients} → {servers}",
                            "{p} は {clients} → {servers} 用",
                            p = p,
                            clients = role_list(self.catalogs, &r.clients, lang),
                            servers = role_list(self.catalogs, &r.servers, lang),
                        )
                    })
                    .collect();
                let advice = if inventory {
                    term!(
                        lang,
                        "check their roles in the inventory",
                        "インベントリで役割を確認してください"
                    )
                } else {
                    term!(
                        lang,
                        "the roles here are inferred from traffic: give an --inventory that lists the hosts' roles",
                        "ここでの役割は通信から推定したものです。ホストの役割を挙げた --inventory を指定してください"
                    )
                };
                (
                    tr!(
                        lang,
                        "hosts that fit no rule{n}",
                        "どのルールにも当てはまらないホスト{n}",
                        n = n
                    ),
                    format!(
                        "{}{}{}{advice}",
                        list.join(term!(lang, "; ", "。")),
                        more(rules.len()),
                        term!(lang, "; ", "。"),
                    ),
                )
            }
            other => (format!("{other}{n}"), String::new()),
        };
        let mut s = match lang {
            Lang::En => format!("{title}: {}, {}", self.pairs(m), self.span(m)),
            Lang::Ja => format!("{title}: {}、{}", self.pairs(m), self.span(m)),
        };
        if !advice.is_empty() {
            s.push_str(term!(lang, "; ", "。"));
            s.push_str(&advice);
        }
        s.push_str(&self.folded(m));
        s
    }
}

/// ", 3 conversations" (「、3 件」).
fn conversations(lang: Lang, n: usize) -> String {
    tr!(lang, ", {n} conversations", "、{n} 件", n = n)
}

/// The lead of a fix line.
fn fix_lead(lang: Lang) -> &'static str {
    term!(lang, "      fix: ", "      対処: ")
}

impl Exporter for Text {
    fn write(&self, out: &mut dyn Write, o: &Outcome<'_>) -> io::Result<()> {
        let lang = o.lang;
        let style = Style {
            color: self.options.color,
            lang,
        };
        let clock = Clock {
            utc: self.options.utc,
        };
        let range = time_range(o);
        let ctx = Ctx {
            o,
            catalogs: o.catalogs,
            hosts: &o.classification.hosts,
            clock,
            style,
            width: self.options.width,
            t0: range.map_or(0, |r| r.0),
        };
        header(out, &ctx, range)?;
        if self.options.all {
            for verdict in Verdict::ALL {
                let list = o.classification.with_verdict(verdict);
                if list.is_empty() {
                    continue;
                }
                writeln!(out)?;
                writeln!(
                    out,
                    "{} ({}): {}",
                    style.paint("1", &style.title(verdict)),
                    list.len(),
                    words::verdict_heading(verdict, lang)
                )?;
                let painted = style.verdict(verdict);
                for c in list {
                    conversation(out, &ctx, c, &painted)?;
                }
            }
        } else {
            for verdict in [
                Verdict::Blocked,
                Verdict::WrongDirection,
                Verdict::Unexpected,
            ] {
                let list = o.classification.with_verdict(verdict);
                if list.is_empty() {
                    continue;
                }
                let groups = group::groups(o.catalogs, ctx.hosts, verdict, list);
                writeln!(out)?;
                let entries = if groups.len() == list.len() {
                    String::new()
                } else {
                    match lang {
                        Lang::En => {
                            format!(" in {}", plural(groups.len() as u64, "entry", "entries"))
                        }
                        Lang::Ja => format!("、{} 項目", groups.len()),
                    }
                };
                let fixes = if verdict == Verdict::Blocked && ctx.width.is_some() {
                    term!(
                        lang,
                        "; fixes: piped, or --format html|json",
                        "。対処はパイプ出力か --format html|json で"
                    )
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{} ({}{entries}): {}{fixes}",
                    style.paint("1", &style.title(verdict)),
                    list.len(),
                    words::verdict_heading(verdict, lang)
                )?;
                for g in groups.iter().take(ENTRIES) {
                    ctx.entry(out, verdict, g)?;
                }

                if groups.len() > ENTRIES {
                    let rest: usize = groups[ENTRIES..].iter().map(|g| g.members.len()).sum();
                    let n = groups.len() - ENTRIES;
                    match lang {
                        Lang::En => writeln!(
                            out,
                            "  … and {n} more {} ({}; --all or the JSON report lists them)",
                            if n == 1 { "entry" } else { "entries" },
                            plural(rest as u64, "conversation", "conversations")
                        )?,
                        Lang::Ja => writeln!(
                            out,
                            "  … ほか {n} 項目（通信 {rest} 件。--all または JSON レポートにすべてあります）"
                        )?,
                    }
                }
            }
        }
        baseline(out, &ctx)?;
        writeln!(out)?;
        if !self.options.all {
            unlisted(out, &ctx)?;
        }
        broadcasts(out, &ctx)?;
        hosts(out, &ctx)?;
        rules(out, &ctx)?;
        if let Some(live) = &o.live {
            writeln!(out)?;
            let line = tr!(
                lang,
                "Live capture on {interface}: {duration}, {packets}; dropped: kernel {kernel}, interface {nic}, flowlint {app}",
                "{interface} のライブキャプチャ: {duration}、{packets}。取りこぼし: カーネル {kernel}、インタフェース {nic}、flowlint {app}",
                interface = live.interface,
                duration = duration((live.duration_s * 1e9) as i64, lang),
                packets = words::count(lang, live.packets, "packet", "packets", "パケット", "個"),
                kernel = live.kernel_dropped,
                nic = live.interface_dropped,
                app = live.app_dropped,
            );
            writeln!(out, "{line}")?;
            live_details(out, live, lang)?;
        }
        Ok(())
    }
}

/// What else a live report says: outages, the intervals with drops, the
/// verdicts they make uncertain, and whether this is a checkpoint.
fn live_details(out: &mut dyn Write, live: &super::LiveStats, lang: Lang) -> io::Result<()> {
    if live.checkpoint {
        let line = tr!(
            lang,
            "Checkpoint of a capture still running ({open} connections open, not in this report yet)",
            "実行中のキャプチャのチェックポイントです（追跡中の接続 {open} 件はまだ含まれません）",
            open = live.open_connections
        );
        writeln!(out, "{line}")?;
    }
    for o in &live.outages {
        let line = match o.end_ns {
            Some(end) => tr!(
                lang,
                "Outage from {start} for {secs:.1} s ({reason}; reopened after {attempts} attempts)",
                "停止: {start} から {secs:.1} 秒（{reason}。開き直し {attempts} 回）",
                start = crate::time::Rfc3339(o.start_ns),
                secs = (end - o.start_ns) as f64 / 1e9,
                reason = o.reason,
                attempts = o.attempts
            ),
            None => tr!(
                lang,
                "Outage from {start}, still going on ({reason})",
                "停止: {start} から継続中（{reason}）",
                start = crate::time::Rfc3339(o.start_ns),
                reason = o.reason
            ),
        };
        writeln!(out, "{line}")?;
    }
    for d in &live.drop_intervals {
        let line = tr!(
            lang,
            "Dropped {start} – {end}: kernel {kernel}, interface {nic}, flowlint {app}",
            "取りこぼし {start} – {end}: カーネル {kernel}、インタフェース {nic}、flowlint {app}",
            start = crate::time::Rfc3339(d.start_ns),
            end = crate::time::Rfc3339(d.end_ns),
            kernel = d.kernel,
            nic = d.interface,
            app = d.app
        );
        writeln!(out, "{line}")?;
    }
    let uncertain: u64 = live.uncertain.values().map(|u| u.connections).sum();
    if uncertain > 0 {
        let line = tr!(
            lang,
            "Uncertain: {n} unanswered connections in {convs} conversations may have lost their answer at the capture point",
            "不確か: 通信 {convs} 件の無応答の接続 {n} 件は、キャプチャ地点で応答を取りこぼした可能性があります",
            n = uncertain,
            convs = live.uncertain.len()
        );
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// First and last packet of the analysis (conversations and broadcasts).
pub(crate) fn time_range(o: &Outcome<'_>) -> Option<(i64, i64)> {
    let convs = o
        .classification
        .conversations
        .iter()
        .map(|c| (c.conv.first_ns, c.conv.last_ns));
    let casts = o.broadcasts.groups.iter().map(|g| (g.first_ns, g.last_ns));
    convs
        .chain(casts)
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

fn header(out: &mut dyn Write, ctx: &Ctx<'_, '_>, range: Option<(i64, i64)>) -> io::Result<()> {
    let (o, style) = (ctx.o, ctx.style);
    let lang = style.lang;
    let t = &o.totals;
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| match lang {
            Lang::En => format!("{} {}", o.count(*v), v.as_str()),
            Lang::Ja => format!("{} {}", words::verdict(*v, lang), o.count(*v)),
        })
        .collect();
    writeln!(
        out,
        "{}: {}",
        style.paint("1", term!(lang, "flowlint report", "flowlint レポート")),
        counts.join(term!(lang, ", ", "、"))
    )?;
    // Labels padded to the same display width (インベントリ is 12 columns).
    let (label_width, hang): (usize, usize) = match lang {
        Lang::En => (10, 13),
        Lang::Ja => (12, 15),
    };
    let label = |name: &str| {
        let pad = label_width.saturating_sub(visible_width(name));
        format!("  {name}{} ", " ".repeat(pad))
    };
    let warning = format!(
        "  {}{} ",
        style.paint("33", term!(lang, "warning", "警告")),
        " ".repeat(label_width - visible_width(term!(lang, "warning", "警告")))
    );
    for input in &o.inputs {
        let mut line = words::input_summary(input, o.lang);
        // With one input, the time line below is its range.
        if let (Some((first, last)), true) = (input.time_range, o.inputs.len() > 1) {
            line.push_str(&tr!(
                lang,
                ", {first} to {last}",
                "、{first}〜{last}",
                first = ctx.clock.date_time(first),
                last = ctx.clock.time_ms(last, first)
            ));
        }
        para(
            out,
            ctx.width,
            &label(term!(lang, "input", "入力")),
            hang,
            &line,
        )?;
        for w in &input.warnings {
            para(
                out,
                ctx.width,
                &warning,
                hang,
                &tr!(
                    lang,
                    "{path}: at byte {offset}: {message}",
                    "{path}: {offset} バイト目: {message}",
                    path = input.path,
                    offset = w.offset,
                    message = w.render(lang)
                ),
            )?;
        }
    }
    let time = label(term!(lang, "time", "期間"));
    match range {
        Some((first, last)) => writeln!(
            out,
            "{time}{}",
            tr!(
                lang,
                "{first} to {last} {zone} ({duration})",
                "{first}〜{last} {zone}（{duration}）",
                first = ctx.clock.date_time(first),
                last = ctx.clock.time_ms(last, first),
                zone = ctx.clock.zone(first),
                duration = duration(last - first, lang)
            )
        )?,
        None => writeln!(out, "{time}{}", term!(lang, "no packets", "パケットなし"))?,
    }
    let catalogs: Vec<String> = o
        .catalogs
        .catalogs
        .iter()
        .map(|c| match lang {
            Lang::En => format!(
                "{} ({})",
                c.name,
                plural(c.rules.len() as u64, "rule", "rules")
            ),
            Lang::Ja => format!("{}（ルール {} 件）", c.name, c.rules.len()),
        })
        .collect();
    para(
        out,
        ctx.width,
        &label(term!(lang, "catalogs", "カタログ")),
        hang,
        &catalogs.join(term!(lang, ", ", "、")),
    )?;
    para(
        out,
        ctx.width,
        &label(term!(lang, "inventory", "インベントリ")),
        hang,
        &words::inventory_summary(o),
    )?;
    let traffic = words::traffic_summary(o);
    writeln!(out, "{}{traffic}", label(term!(lang, "traffic", "通信量")))?;
    if t.duplicate_packets > 0 {
        let line = match lang {
            Lang::En => format!(
                "{} seen by two captures (taps) and counted once",
                plural(t.duplicate_packets, "packet was", "packets were")
            ),
            Lang::Ja => format!(
                "2 つのキャプチャ（タップ）で重複したパケット {} 個は 1 回と数えました",
                t.duplicate_packets
            ),
        };
        writeln!(out, "{}{line}", label(""))?;
    }
    if t.evicted_connections > 0 {
        let line = match lang {
            Lang::En => format!(
                "{} decided early because too many were open at once (raise --max-connections); their states may be incomplete",
                plural(t.evicted_connections, "connection was", "connections were")
            ),
            Lang::Ja => format!(
                "同時に開いている接続が多すぎたため、接続 {} 件を早めに判定しました（--max-connections を増やしてください）。状態が不完全な場合があります",
                t.evicted_connections
            ),
        };
        para(out, ctx.width, &warning, hang, &line)?;
    }
    if let Some(b) = &o.baseline {
        let worse = !b.new.is_empty() || !b.missing_rules.is_empty();
        let verdict = if worse {
            style.paint("1;31", term!(lang, "worse", "悪化"))
        } else {
            style.paint("32", term!(lang, "not worse", "悪化なし"))
        };
        let counts = match lang {
            Lang::En => format!(
                "{}, {}, {}, {}",
                plural(b.new.len() as u64, "new finding", "new findings"),
                plural(
                    b.missing_rules.len() as u64,
                    "missing rule",
                    "missing rules"
                ),
                plural(b.resolved.len() as u64, "resolved", "resolved"),
                plural(b.not_seen.len() as u64, "not seen", "not seen"),
            ),
            Lang::Ja => format!(
                "新しい検出 {}、消えたルール {}、解消 {}、未観測 {}",
                b.new.len(),
                b.missing_rules.len(),
                b.resolved.len(),
                b.not_seen.len()
            ),
        };
        writeln!(
            out,
            "{}{verdict}: {counts}",
            label(term!(lang, "baseline", "ベースライン"))
        )?;
    }
    Ok(())
}

/// "1 established, 2 no_reply".
fn states_text(conv: &crate::classify::Conversation, lang: Lang) -> String {
    let mut s = String::new();
    for state in STATES_BY_NAME {
        let n = conv.count(state);
        if n == 0 {
            continue;
        }
        if !s.is_empty() {
            s.push_str(", ");
        }
        let _ = match lang {
            Lang::En => write!(s, "{n} {}", state.as_str()),
            Lang::Ja => write!(s, "{} {n}", words::state(state, lang)),
        };
    }
    s
}

/// One conversation of `--all`: a line, then its reason.
fn conversation(
    out: &mut dyn Write,
    ctx: &Ctx<'_, '_>,
    c: &Classified,
    painted: &str,
) -> io::Result<()> {
    let o = ctx.o;
    let lang = ctx.style.lang;
    let k = c.conv.key;
    let mut line = format!(
        "{} → {} {}/{}  [{}]  {}",
        k.client,
        k.server,
        k.server_port,
        k.transport.as_str(),
        states_text(&c.conv, lang),
        ctx.clock.span(c.conv.first_ns, c.conv.last_ns, ctx.t0),
    );
    if let Some(rule) = c.rule {
        let id = &o.catalogs.rule_by_id(rule).id;
        line.push_str(&tr!(lang, "  rule {id}", "  ルール {id}", id = id));
    }
    para(out, ctx.width, &format!("  {painted} "), 6, &line)?;
    if c.verdict != Verdict::Unlisted {
        let reason = ReasonText {
            words: o.words(),
            conv: c,
        }
        .to_string();
        para(out, ctx.width, "      ", 6, &reason)?;
    }
    // Live only: the answer may have come and gone unseen.
    if let Some(u) = o.live.as_ref().and_then(|l| l.uncertain.get(&k)) {
        para(out, ctx.width, "      ", 6, u.cause.possibly_lost(lang))?;
    }
    if let Some(by) = c.conv.icmp_reporter() {
        let line = tr!(lang, "      blocked by {by}", "      遮断元 {by}", by = by);
        writeln!(out, "{line}")?;
    }
    if let Some(fix) = super::fix::Fix::of(o, c) {
        if let Some(line) = super::fix::text_line(&[fix], lang) {
            para(out, ctx.width, fix_lead(lang), 6, &line)?;
        }
    }
    record_notes(out, ctx.width, o, std::iter::once(c), lang)
}

/// What flow records could not tell about these conversations, one
/// indented line each (under the conversation, as its fix).
fn record_notes<'c>(
    out: &mut dyn Write,
    width: Option<usize>,
    o: &Outcome<'_>,
    members: impl Iterator<Item = &'c Classified>,
    lang: Lang,
) -> io::Result<()> {
    if o.record_notes.is_empty() {
        return Ok(());
    }
    let mut notes = std::collections::BTreeSet::new();
    for c in members {
        notes.extend(o.record_notes.of(&c.conv.key));
    }
    for note in notes {
        para(
            out,
            width,
            term!(lang, "      note: ", "      注記: "),
            6,
            words::record_note(note, lang),
        )?;
    }
    Ok(())
}

/// One finding entry's sentence as the text report writes it (times in
/// UTC, no colour; `t0` the first packet, [`time_range`]): what the HTML
/// report shows for the same group.
pub(crate) fn entry_sentence(o: &Outcome<'_>, t0: i64, g: &Group<'_>) -> String {
    let ctx = Ctx {
        o,
        catalogs: o.catalogs,
        hosts: &o.classification.hosts,
        clock: Clock { utc: true },
        style: Style {
            color: false,
            lang: o.lang,
        },
        width: None,
        t0,
    };
    ctx.entry_text(g)
}

/// A summary: a bold title, then items joined on one line (wrapped on a terminal).
fn summary(
    out: &mut dyn Write,
    ctx: &Ctx<'_, '_>,
    title: &str,
    items: &[String],
) -> io::Result<()> {
    para(
        out,
        ctx.width,
        &format!("{}: ", ctx.style.paint("1", title)),
        4,
        &items.join(term!(ctx.style.lang, ", ", "、")),
    )
}

/// Unlisted conversations per port: the busiest ten, then how many more.
fn unlisted(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let list = ctx.o.classification.with_verdict(Verdict::Unlisted);
    if list.is_empty() {
        return Ok(());
    }
    let lang = ctx.style.lang;
    let mut per: HashMap<(u16, Transport), u64> = HashMap::new();
    for c in list {
        *per.entry((c.conv.key.server_port, c.conv.key.transport))
            .or_default() += 1;
    }
    let mut ports: Vec<((u16, Transport), u64)> = per.into_iter().collect();
    ports.sort_by_key(|&((p, t), n)| (std::cmp::Reverse(n), t, p));
    let mut items: Vec<String> = ports
        .iter()
        .take(TOP)
        .map(|&((p, t), n)| format!("{} {n}", port(p, t)))
        .collect();
    if ports.len() > TOP {
        let rest: u64 = ports[TOP..].iter().map(|x| x.1).sum();
        let n = ports.len() - TOP;
        items.push(match lang {
            Lang::En => format!(
                "and {n} more {} ({})",
                if n == 1 { "port" } else { "ports" },
                plural(rest, "conversation", "conversations")
            ),
            Lang::Ja => format!("ほか {n} ポート（通信 {rest} 件）"),
        });
    }
    summary(
        out,
        ctx,
        &tr!(
            lang,
            "UNLISTED ({n}), not judged, per port",
            "対象外（{n} 件）: 判定せず、ポートごと",
            n = list.len()
        ),
        &items,
    )
}

/// Broadcast and multicast packets per port.
fn broadcasts(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let b = &ctx.o.broadcasts;
    if b.groups.is_empty() {
        return Ok(());
    }
    let lang = ctx.style.lang;
    let mut per: HashMap<(u16, Transport), (u64, Vec<IpAddr>)> = HashMap::new();
    for g in &b.groups {
        let e = per.entry((g.key.port, g.key.transport)).or_default();
        e.0 += g.packets;
        if !e.1.contains(&g.key.client) {
            e.1.push(g.key.client);
        }
    }
    let mut ports: Vec<_> = per.into_iter().collect();
    ports.sort_by_key(|((p, t), (n, _))| (std::cmp::Reverse(*n), *t, *p));
    let mut items: Vec<String> = ports
        .iter()
        .take(TOP)
        .map(|((p, t), (n, senders))| match lang {
            Lang::En => format!(
                "{} {} from {}",
                port(*p, *t),
                plural(*n, "packet", "packets"),
                plural(senders.len() as u64, "sender", "senders")
            ),
            Lang::Ja => format!(
                "{} パケット {n} 個（送信元 {} 台）",
                port(*p, *t),
                senders.len()
            ),
        })
        .collect();
    if ports.len() > TOP {
        items.push(match lang {
            Lang::En => format!(
                "and {} more",
                plural((ports.len() - TOP) as u64, "port", "ports")
            ),
            Lang::Ja => format!("ほか {} ポート", ports.len() - TOP),
        });
    }
    if b.folded_packets > 0 {
        items.push(match lang {
            Lang::En => format!(
                "{} of further senders folded under 0.0.0.0/::",
                plural(b.folded_packets, "packet", "packets")
            ),
            Lang::Ja => format!(
                "それ以降の送信元のパケット {} 個は 0.0.0.0/:: にまとめました",
                b.folded_packets
            ),
        });
    }
    summary(
        out,
        ctx,
        &match lang {
            Lang::En => format!(
                "BROADCAST and multicast ({}), not judged, per port",
                plural(b.packets, "packet", "packets")
            ),
            Lang::Ja => format!(
                "ブロードキャストとマルチキャスト（パケット {} 個）: 判定せず、ポートごと",
                b.packets
            ),
        },
        &items,
    )
}

/// Hosts with roles, per catalog: address, name, roles.
fn hosts(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let all: Vec<_> = ctx.hosts.with_roles().collect();
    if all.is_empty() {
        return Ok(());
    }
    let mut parts: Vec<String> = Vec::new();
    let mut named = 0;
    for catalog in &ctx.catalogs.catalogs {
        let prefix = format!("{}.", catalog.name);
        let mut items: Vec<String> = Vec::new();
        for h in &all {
            let roles: Vec<&str> = ctx
                .catalogs
                .role_names(h.roles)
                .filter_map(|r| r.strip_prefix(&prefix))
                .collect();
            if roles.is_empty() {
                continue;
            }
            named += 1;
            if named > HOSTS {
                continue;
            }
            let mut s = h.address.to_string();
            if let Some(name) = &h.name {
                let _ = write!(s, " {name}");
            }
            let _ = write!(s, " {}", roles.join("+"));
            if h.inferred {
                s.push_str(term!(ctx.style.lang, " (inferred)", "（推定）"));
            }
            items.push(s);
        }
        if !items.is_empty() {
            parts.push(format!("{}: {}", catalog.name, items.join(", ")));
        }
    }
    if named > HOSTS {
        parts.push(tr!(
            ctx.style.lang,
            "and {n} more (all are in the JSON report)",
            "ほか {n} 台（すべて JSON レポートにあります）",
            n = named - HOSTS
        ));
    }
    let title = tr!(
        ctx.style.lang,
        "HOSTS with roles ({n})",
        "役割のあるホスト（{n} 台）",
        n = all.len()
    );
    para(
        out,
        ctx.width,
        &format!("{}: ", ctx.style.paint("1", &title)),
        4,
        &parts.join("; "),
    )
}

/// Expected conversations per rule and rule coverage: the rules that saw
/// traffic with their counts, then one line naming those that saw none.
fn rules(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let o = ctx.o;
    let lang = ctx.style.lang;
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    let mut idle: Vec<(String, Vec<String>)> = Vec::new();
    let (mut n_seen, mut n_idle) = (0, 0);
    for rule in o.catalogs.rules() {
        let u = o.classification.rules[usize::from(rule.rid.0)];
        let traffic = u.conversations > 0 || u.reversed > 0;
        let list = if traffic {
            n_seen += 1;
            &mut seen
        } else {
            n_idle += 1;
            &mut idle
        };
        if list.last().is_none_or(|(c, _)| *c != rule.catalog) {
            list.push((rule.catalog.clone(), Vec::new()));
        }
        let mut item = short_id(rule).to_string();
        if traffic {
            let _ = write!(item, " {}", u.conversations - u.blocked);
            if u.blocked > 0 {
                let _ = write!(
                    item,
                    " +{}",
                    ctx.style.paint(
                        "31",
                        &tr!(lang, "{n} blocked", "遮断の疑い {n}", n = u.blocked)
                    )
                );
            }
            if u.reversed > 0 {
                let _ = write!(
                    item,
                    " +{}",
                    ctx.style.paint(
                        "35",
                        &tr!(lang, "{n} reversed", "逆方向 {n}", n = u.reversed)
                    )
                );
            }
        }
        if let Some((_, items)) = list.last_mut() {
            items.push(item);
        }
    }
    let join = |lists: &[(String, Vec<String>)]| {
        lists
            .iter()
            .map(|(c, items)| format!("{c}: {}", items.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let title = tr!(
        lang,
        "RULES that saw traffic ({seen} of {all}), with their expected conversations",
        "通信のあったルール（{all} 件中 {seen} 件）と想定どおりの通信の数",
        seen = n_seen,
        all = n_seen + n_idle
    );
    para(
        out,
        ctx.width,
        &format!("{}: ", ctx.style.paint("1", &title)),
        4,
        &join(&seen),
    )?;
    if n_idle > 0 {
        let title = tr!(
            lang,
            "RULES with no traffic ({n})",
            "通信のなかったルール（{n} 件）",
            n = n_idle
        );
        let lead = format!("{}: ", ctx.style.paint("1", &title));
        // On a terminal the names of idle rules would fill the screen that
        // the findings need: as many as fit in a few lines, then how many
        // more. Piped, the line names them all.
        let mut shown = n_idle;
        let mut text = join(&idle);
        while shown > 0 && wrap(ctx.width, &lead, 4, &text).len() > IDLE_LINES {
            shown -= 1;
            let mut left = shown;
            let first: Vec<(String, Vec<String>)> = idle
                .iter()
                .filter_map(|(c, items)| {
                    let take = left.min(items.len());
                    left -= take;
                    (take > 0).then(|| (c.clone(), items[..take].to_vec()))
                })
                .collect();
            text = tr!(
                lang,
                "{first} … and {n} more (the JSON report's rules[] lists them all)",
                "{first} … ほか {n} 件（JSON レポートの rules[] にすべてあります）",
                first = join(&first),
                n = n_idle - shown
            );
        }
        para(out, ctx.width, &lead, 4, &text)?;
    }
    Ok(())
}

/// The baseline comparison, new findings first.
fn baseline(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let Some(b) = &ctx.o.baseline else {
        return Ok(());
    };
    let style = ctx.style;
    let lang = style.lang;
    let conversations = &ctx.o.classification.conversations;
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        style.paint(
            "1",
            term!(lang, "COMPARED WITH THE BASELINE", "ベースラインとの比較")
        )
    )?;
    let more = |out: &mut dyn Write, n: usize, what: &str| -> io::Result<()> {
        if n > CHANGES {
            let line = tr!(
                lang,
                "  … and {n} more {what} (all are in the JSON report)",
                "  … {what}ほか {n} 件（すべて JSON レポートにあります）",
                n = n - CHANGES,
                what = what
            );
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    let [new, missing, resolved, not_seen] = words::Change::ALL.map(|c| c.label(lang));
    for &i in b.new.iter().take(CHANGES) {
        let c = &conversations[i as usize];
        let k = c.conv.key;
        writeln!(
            out,
            "  {} {} {} → {} {}",
            style.paint("31", new),
            style.verdict(c.verdict),
            k.client,
            k.server,
            port(k.server_port, k.transport)
        )?;
    }
    more(out, b.new.len(), new)?;
    for r in b.missing_rules.iter().take(CHANGES) {
        let line = words::missing_rule(r, lang);
        writeln!(out, "  {} {line}", style.paint("31", missing))?;
    }
    more(
        out,
        b.missing_rules.len(),
        term!(lang, "missing rules", "消えたルール"),
    )?;
    for &i in b.resolved.iter().take(CHANGES) {
        let k = conversations[i as usize].conv.key;
        writeln!(
            out,
            "  {} {} → {} {}",
            style.paint("32", resolved),
            k.client,
            k.server,
            port(k.server_port, k.transport)
        )?;
    }
    more(out, b.resolved.len(), resolved)?;
    for c in b.not_seen.iter().take(CHANGES) {
        // The baseline's verdict is its JSON name: the glossary's term in Japanese.
        let line = words::not_seen(c, lang);
        writeln!(out, "  {} {line}", style.paint("33", not_seen))?;
    }
    more(out, b.not_seen.len(), not_seen)?;
    if b.new.is_empty()
        && b.resolved.is_empty()
        && b.not_seen.is_empty()
        && b.missing_rules.is_empty()
    {
        writeln!(out, "  {}", term!(lang, "no change", "変化なし"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_and_indents_continuations() {
        let mut out = Vec::new();
        para(
            &mut out,
            Some(20),
            "  x ",
            6,
            "one two three four five six seven",
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "  x one two three\n      four five six\n      seven\n"
        );
        let mut out = Vec::new();
        para(
            &mut out,
            None,
            "  x ",
            6,
            "one two three four five six seven",
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 1);
    }

    #[test]
    fn japanese_wraps_between_characters_but_never_inside_numbers_or_addresses() {
        let text = "エージェント 192.0.2.130 → itdm-mgr 192.0.2.10 31000/tcp: 無応答、試行 4 回。\
                    両者の間で 31000/tcp は開いていますか？（接続 2 件のうち 1 件は通りました）";
        for width in 12..60 {
            let lines = wrap(Some(width), "  x ", 6, text);
            let joined: String = lines.iter().map(|l| l.trim_start()).collect();
            // Nothing lost but blanks.
            assert_eq!(
                joined.replace(' ', ""),
                format!("x{text}").replace(' ', ""),
                "{width}"
            );
            for (i, l) in lines.iter().enumerate() {
                let rest = l.trim_start();
                // No line is wider than asked, unless one unit alone is.
                assert!(
                    visible_width(l) <= width || !rest.contains(' '),
                    "{width}: {l:?}"
                );
                assert!(
                    !NO_LINE_START.contains(rest.chars().next().unwrap()),
                    "{l:?}"
                );
                if i + 1 < lines.len() {
                    let last = l.chars().next_back().unwrap();
                    let next = lines[i + 1].trim_start().chars().next().unwrap();
                    // Never a break inside a run of narrow characters.
                    assert!(
                        !(last.is_ascii_alphanumeric()
                            && next.is_ascii_alphanumeric()
                            && !l.ends_with(' ')
                            && text.contains(&format!("{last}{next}"))
                            && !text.contains(&format!("{last} {next}"))),
                        "{width}: {l:?} / {next}"
                    );
                }
            }
            for unit in ["192.0.2.130", "192.0.2.10", "31000/tcp", "itdm-mgr"] {
                assert!(
                    lines.iter().any(|l| l.contains(unit)),
                    "{width}: {unit} split"
                );
            }
        }
        // Narrow text keeps the old word wrapping exactly.
        assert_eq!(
            wrap(Some(20), "  x ", 6, "one two three four five six seven"),
            ["  x one two three", "      four five six", "      seven"]
        );
    }

    #[test]
    fn colour_codes_and_wide_characters_count_as_seen() {
        assert_eq!(visible_width("\x1b[1;31mblocked\x1b[0m"), 7);
        assert_eq!(visible_width("(注1)"), 5);
    }

    #[test]
    fn durations_and_lists_read_well() {
        assert_eq!(duration(42_400_000_000, Lang::En), "42 s");
        assert_eq!(duration(2_500_000_000, Lang::En), "2.5 s");
        assert_eq!(duration(350_000_000, Lang::En), "350 ms");
        assert_eq!(duration(2_500_000_000, Lang::Ja), "2.5 秒");
        assert_eq!(plural(1, "connection", "connections"), "1 connection");
        let items: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
        assert_eq!(named_list(&items, 3, Lang::En), "1, 2, 3 and 2 more");
        assert_eq!(named_list(&items, 3, Lang::Ja), "1, 2, 3 ほか 2 件");
    }
}
