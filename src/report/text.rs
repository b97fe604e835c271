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

use super::words::{self, counted as plural, ReasonText};
use super::{Addr, Exporter, Outcome, STATES_BY_NAME};
use crate::catalog::{CatalogSet, RoleId, RoleSet, Rule};
use crate::classify::{Classified, Hosts, Reason, Refusal, Verdict};
use crate::decode::Transport;
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
        self.paint(code, v.as_str())
    }
}

fn heading(v: Verdict) -> &'static str {
    match v {
        Verdict::Blocked => "a rule allows these, and connections failed",
        Verdict::WrongDirection => "only the reverse direction is allowed",
        Verdict::Unexpected => "catalog ports, but no rule allows them in either direction",
        Verdict::Expected => "allowed by a rule, and working",
        Verdict::Unlisted => {
            "not judged: ports in no catalog, shared ports where no host shows the product"
        }
    }
}

/// A duration in seconds: "42.5 s", "12 s", "350 ms".
fn duration(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s >= 10.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.0} ms", s * 1e3)
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

/// A rule's purpose: its English text (or id) and its service name.
fn purpose(rule: &Rule) -> String {
    let mut s = if rule.en.is_empty() {
        rule.id.clone()
    } else {
        rule.en.clone()
    };
    if let Some(service) = &rule.service {
        let _ = write!(s, " [{service}]");
    }
    s
}

/// "agent or site server".
fn role_list(catalogs: &CatalogSet, roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| catalogs.role_label(r))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// "a, b, c and 4 more".
fn named_list(items: &[String], named: usize) -> String {
    let mut s = items[..items.len().min(named)].join(", ");
    if items.len() > named {
        let _ = write!(s, " and {} more", items.len() - named);
    }
    s
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
        match (name, role) {
            (Some(name), _) => format!("{name} {addr}"),
            (None, Some(r)) => format!("{} {addr}", self.catalogs.role_label_of(r)),
            (None, None) => format!("host {addr}"),
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
        let what = match roles.as_slice() {
            [Some(r)] => format!("{}s", self.catalogs.role_label_of(*r)),
            _ => "hosts".to_string(),
        };
        let names: Vec<String> = first.iter().map(|a| Addr(*a).to_string()).collect();
        format!("{} {what} ({})", first.len(), named_list(&names, NAMED))
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
        format!(
            "; {} from clients beyond the conversation limit are folded under {} (a flood or scan?)",
            plural(folded, "connection", "connections"),
            members.iter().find(|c| c.conv.folded() > 0).map_or(String::new(), |c| c.conv.key.client.to_string())
        )
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
            if let Some(line) = super::fix::text_line(&fixes) {
                para(out, self.width, "      fix: ", 6, &line)?;
            }
        }
        Ok(())
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
        let (what, advice) = match failure {
            Failure::Unreachable => match blocker {
                Some(by) => (
                    format!("ICMP unreachable from {by}"),
                    format!("a firewall or router there blocks {p}"),
                ),
                None => (
                    "ICMP unreachable from the server".to_string(),
                    format!("nothing listens on {p} there, or its firewall rejects it"),
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
                let eg = if m.len() > 1 { "e.g. " } else { "" };
                (
                    format!("reset (RST) with {eg}TTL {rst}, not the server's {usual}"),
                    "a firewall between them probably sent it".to_string(),
                )
            }
            Failure::Refused => (
                "refused (RST)".to_string(),
                format!("is the service listening on {p}, does its host firewall allow it?"),
            ),
            Failure::NoReply => ("no reply".to_string(), format!("is {p} open between them?")),
            Failure::Unanswered => (
                "unanswered".to_string(),
                format!("is {p} open between them, the service running?"),
            ),
        };
        let mut s = format!(
            "{clients} → {servers} {p}: {what}, {}, {}; {advice}",
            self.span(m),
            plural(attempts, "attempt", "attempts"),
        );
        if got > 0 {
            let _ = write!(s, " ({got} of {conns} connections got through)");
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
        let mut s = format!(
            "{clients} → {servers} {}: {}",
            named_list(&ports, NAMED),
            self.span(m)
        );
        if m.len() > 1 {
            let _ = write!(s, ", {} conversations", m.len());
        }
        let _ = write!(
            s,
            "; only {} → {} is allowed ({}): check which host is which{}",
            role_list(self.catalogs, &r.clients),
            role_list(self.catalogs, &r.servers),
            r.service.clone().unwrap_or_else(|| purpose(r)),
            if self.hosts.from_inventory() {
                ""
            } else {
                " (roles here are inferred from traffic; an --inventory states them)"
            },
        );
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
            let _ = write!(s, " and {} more", m.len() - NAMED);
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
        let more = |n: usize| {
            if n > NAMED {
                format!("; and {} more", n - NAMED)
            } else {
                String::new()
            }
        };
        let n = if m.len() > 1 {
            format!(", {} conversations", m.len())
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
                    let mut s = format!(
                        "{} is not used when {host} is a {} server",
                        purpose(self.catalogs.rule_by_id(rule)),
                        os.as_str().to_uppercase()
                    );
                    if let Some(note) = note {
                        let _ = write!(s, " ({})", self.catalogs.note_by_id(note).id);
                    }
                    s
                })
                .collect();
                (
                    format!("an OS the catalog excludes{n}"),
                    format!(
                        "{}; check the host, or its os in the inventory",
                        notes.join("; ")
                    ),
                )
            }
            "feature_not_enabled" => {
                let list: Vec<String> = rules
                    .iter()
                    .take(NAMED)
                    .map(|(r, p)| {
                        format!(
                            "{p} needs '{}'",
                            r.requires_feature.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                (
                    format!("a feature not enabled{n}"),
                    format!(
                        "{}{}; {}",
                        list.join("; "),
                        more(rules.len()),
                        if inventory {
                            "enable it in the inventory if in use"
                        } else {
                            "features are off without an inventory: give one whose features list it, if in use"
                        }
                    ),
                )
            }
            "internal_port" => {
                let list: Vec<String> = rules
                    .iter()
                    .take(NAMED)
                    .map(|(r, p)| format!("{p} is {}", purpose(r)))
                    .collect();
                (
                    format!("internal ports between two hosts{n}"),
                    format!(
                        "{}{}: block it between hosts",
                        list.join("; "),
                        more(rules.len())
                    ),
                )
            }
            "fits_no_rule" => {
                let list: Vec<String> = rules
                    .iter()
                    .take(NAMED)
                    .map(|(r, p)| {
                        format!(
                            "{p} is for {} → {}",
                            role_list(self.catalogs, &r.clients),
                            role_list(self.catalogs, &r.servers),
                        )
                    })
                    .collect();
                (
                    format!("hosts that fit no rule{n}"),
                    format!(
                        "{}{}; {}",
                        list.join("; "),
                        more(rules.len()),
                        if inventory {
                            "check their roles in the inventory"
                        } else {
                            "the roles here are inferred from traffic: give an --inventory that lists the hosts' roles"
                        }
                    ),
                )
            }
            other => (format!("{other}{n}"), String::new()),
        };
        let mut s = format!("{title}: {}, {}", self.pairs(m), self.span(m));
        if !advice.is_empty() {
            let _ = write!(s, "; {advice}");
        }
        s.push_str(&self.folded(m));
        s
    }
}

impl Exporter for Text {
    fn write(&self, out: &mut dyn Write, o: &Outcome<'_>) -> io::Result<()> {
        let style = Style {
            color: self.options.color,
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
                    style.paint("1", &verdict.as_str().to_uppercase()),
                    list.len(),
                    heading(verdict)
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
                    format!(" in {}", plural(groups.len() as u64, "entry", "entries"))
                };
                let fixes = if verdict == Verdict::Blocked && ctx.width.is_some() {
                    "; fixes: piped, or --format html|json"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{} ({}{entries}): {}{fixes}",
                    style.paint("1", &verdict.as_str().to_uppercase()),
                    list.len(),
                    heading(verdict)
                )?;
                for g in groups.iter().take(ENTRIES) {
                    ctx.entry(out, verdict, g)?;
                }

                if groups.len() > ENTRIES {
                    let rest: usize = groups[ENTRIES..].iter().map(|g| g.members.len()).sum();
                    let n = groups.len() - ENTRIES;
                    writeln!(
                        out,
                        "  … and {n} more {} ({}; --all or the JSON report lists them)",
                        if n == 1 { "entry" } else { "entries" },
                        plural(rest as u64, "conversation", "conversations")
                    )?;
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
            writeln!(
                out,
                "Live capture on {}: {}, {}; dropped: kernel {}, interface {}, flowlint {}",
                live.interface,
                duration((live.duration_s * 1e9) as i64),
                plural(live.packets, "packet", "packets"),
                live.kernel_dropped,
                live.interface_dropped,
                live.app_dropped,
            )?;
        }
        Ok(())
    }
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
    let t = &o.totals;
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| format!("{} {}", o.count(*v), v.as_str()))
        .collect();
    writeln!(
        out,
        "{}: {}",
        style.paint("1", "flowlint report"),
        counts.join(", ")
    )?;
    let label = |name: &str| format!("  {name:<10} ");
    for input in &o.inputs {
        let mut line = words::input_summary(input, o.lang);
        // With one input, the time line below is its range.
        if let (Some((first, last)), true) = (input.time_range, o.inputs.len() > 1) {
            let _ = write!(
                line,
                ", {} to {}",
                ctx.clock.date_time(first),
                ctx.clock.time_ms(last, first)
            );
        }
        para(out, ctx.width, &label("input"), 13, &line)?;
        for w in &input.warnings {
            para(
                out,
                ctx.width,
                &format!("  {}    ", style.paint("33", "warning")),
                13,
                &format!("{}: at byte {}: {}", input.path, w.offset, w.message),
            )?;
        }
    }
    match range {
        Some((first, last)) => writeln!(
            out,
            "{}{} to {} {} ({})",
            label("time"),
            ctx.clock.date_time(first),
            ctx.clock.time_ms(last, first),
            ctx.clock.zone(first),
            duration(last - first)
        )?,
        None => writeln!(out, "{}no packets", label("time"))?,
    }
    let catalogs: Vec<String> = o
        .catalogs
        .catalogs
        .iter()
        .map(|c| {
            format!(
                "{} ({})",
                c.name,
                plural(c.rules.len() as u64, "rule", "rules")
            )
        })
        .collect();
    para(out, ctx.width, &label("catalogs"), 13, &catalogs.join(", "))?;
    para(
        out,
        ctx.width,
        &label("inventory"),
        13,
        &words::inventory_summary(o),
    )?;
    let traffic = words::traffic_summary(o);
    writeln!(out, "{}{traffic}", label("traffic"))?;
    if t.duplicate_packets > 0 {
        writeln!(
            out,
            "{}{} seen by two captures (taps) and counted once",
            label(""),
            plural(t.duplicate_packets, "packet was", "packets were")
        )?;
    }
    if t.evicted_connections > 0 {
        para(
            out,
            ctx.width,
            &format!("  {}    ", style.paint("33", "warning")),
            13,
            &format!(
                "{} decided early because too many were open at once (raise --max-connections); their states may be incomplete",
                plural(t.evicted_connections, "connection was", "connections were")
            ),
        )?;
    }
    if let Some(b) = &o.baseline {
        let worse = !b.new.is_empty() || !b.missing_rules.is_empty();
        writeln!(
            out,
            "{}{}: {}, {}, {}, {}",
            label("baseline"),
            if worse {
                style.paint("1;31", "worse")
            } else {
                style.paint("32", "not worse")
            },
            plural(b.new.len() as u64, "new finding", "new findings"),
            plural(
                b.missing_rules.len() as u64,
                "missing rule",
                "missing rules"
            ),
            plural(b.resolved.len() as u64, "resolved", "resolved"),
            plural(b.not_seen.len() as u64, "not seen", "not seen"),
        )?;
    }
    Ok(())
}

/// "1 established, 2 no_reply".
fn states_text(conv: &crate::classify::Conversation) -> String {
    let mut s = String::new();
    for state in STATES_BY_NAME {
        let n = conv.count(state);
        if n == 0 {
            continue;
        }
        if !s.is_empty() {
            s.push_str(", ");
        }
        let _ = write!(s, "{n} {}", state.as_str());
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
    let k = c.conv.key;
    let mut line = format!(
        "{} → {} {}/{}  [{}]  {}",
        k.client,
        k.server,
        k.server_port,
        k.transport.as_str(),
        states_text(&c.conv),
        ctx.clock.span(c.conv.first_ns, c.conv.last_ns, ctx.t0),
    );
    if let Some(rule) = c.rule {
        let _ = write!(line, "  rule {}", o.catalogs.rule_by_id(rule).id);
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
    if let Some(by) = c.conv.icmp_reporter() {
        writeln!(out, "      blocked by {by}")?;
    }
    if let Some(fix) = super::fix::Fix::of(o, c) {
        if let Some(line) = super::fix::text_line(&[fix]) {
            para(out, ctx.width, "      fix: ", 6, &line)?;
        }
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
        style: Style { color: false },
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
        &items.join(", "),
    )
}

/// Unlisted conversations per port: the busiest ten, then how many more.
fn unlisted(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let list = ctx.o.classification.with_verdict(Verdict::Unlisted);
    if list.is_empty() {
        return Ok(());
    }
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
        items.push(format!(
            "and {n} more {} ({})",
            if n == 1 { "port" } else { "ports" },
            plural(rest, "conversation", "conversations")
        ));
    }
    summary(
        out,
        ctx,
        &format!("UNLISTED ({}), not judged, per port", list.len()),
        &items,
    )
}

/// Broadcast and multicast packets per port.
fn broadcasts(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let b = &ctx.o.broadcasts;
    if b.groups.is_empty() {
        return Ok(());
    }
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
        .map(|((p, t), (n, senders))| {
            format!(
                "{} {} from {}",
                port(*p, *t),
                plural(*n, "packet", "packets"),
                plural(senders.len() as u64, "sender", "senders")
            )
        })
        .collect();
    if ports.len() > TOP {
        items.push(format!(
            "and {} more",
            plural((ports.len() - TOP) as u64, "port", "ports")
        ));
    }
    if b.folded_packets > 0 {
        items.push(format!(
            "{} of further senders folded under 0.0.0.0/::",
            plural(b.folded_packets, "packet", "packets")
        ));
    }
    summary(
        out,
        ctx,
        &format!(
            "BROADCAST and multicast ({}), not judged, per port",
            plural(b.packets, "packet", "packets")
        ),
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
                s.push_str(" (inferred)");
            }
            items.push(s);
        }
        if !items.is_empty() {
            parts.push(format!("{}: {}", catalog.name, items.join(", ")));
        }
    }
    if named > HOSTS {
        parts.push(format!(
            "and {} more (all are in the JSON report)",
            named - HOSTS
        ));
    }
    para(
        out,
        ctx.width,
        &format!(
            "{}: ",
            ctx.style
                .paint("1", &format!("HOSTS with roles ({})", all.len()))
        ),
        4,
        &parts.join("; "),
    )
}

/// Expected conversations per rule and rule coverage: the rules that saw
/// traffic with their counts, then one line naming those that saw none.
fn rules(out: &mut dyn Write, ctx: &Ctx<'_, '_>) -> io::Result<()> {
    let o = ctx.o;
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
                    ctx.style.paint("31", &format!("{} blocked", u.blocked))
                );
            }
            if u.reversed > 0 {
                let _ = write!(
                    item,
                    " +{}",
                    ctx.style.paint("35", &format!("{} reversed", u.reversed))
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
    para(
        out,
        ctx.width,
        &format!(
            "{}: ",
            ctx.style.paint(
                "1",
                &format!(
                    "RULES that saw traffic ({n_seen} of {}), with their expected conversations",
                    n_seen + n_idle
                )
            )
        ),
        4,
        &join(&seen),
    )?;
    if n_idle > 0 {
        let lead = format!(
            "{}: ",
            ctx.style
                .paint("1", &format!("RULES with no traffic ({n_idle})"))
        );
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
            text = format!(
                "{} … and {} more (the JSON report's rules[] lists them all)",
                join(&first),
                n_idle - shown
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
    let conversations = &ctx.o.classification.conversations;
    writeln!(out)?;
    writeln!(out, "{}", style.paint("1", "COMPARED WITH THE BASELINE"))?;
    let more = |out: &mut dyn Write, n: usize, what: &str| -> io::Result<()> {
        if n > CHANGES {
            writeln!(
                out,
                "  … and {} more {what} (all are in the JSON report)",
                n - CHANGES
            )?;
        }
        Ok(())
    };
    for &i in b.new.iter().take(CHANGES) {
        let c = &conversations[i as usize];
        let k = c.conv.key;
        writeln!(
            out,
            "  {} {} {} → {} {}",
            style.paint("31", "new"),
            style.verdict(c.verdict),
            k.client,
            k.server,
            port(k.server_port, k.transport)
        )?;
    }
    more(out, b.new.len(), "new")?;
    for r in b.missing_rules.iter().take(CHANGES) {
        writeln!(
            out,
            "  {} rule {r} matched traffic before, none now",
            style.paint("31", "missing")
        )?;
    }
    more(out, b.missing_rules.len(), "missing rules")?;
    for &i in b.resolved.iter().take(CHANGES) {
        let k = conversations[i as usize].conv.key;
        writeln!(
            out,
            "  {} {} → {} {}",
            style.paint("32", "resolved"),
            k.client,
            k.server,
            port(k.server_port, k.transport)
        )?;
    }
    more(out, b.resolved.len(), "resolved")?;
    for c in b.not_seen.iter().take(CHANGES) {
        writeln!(
            out,
            "  {} {} {} → {} {}/{} (not in this capture: neither better nor worse)",
            style.paint("33", "not seen"),
            c.verdict,
            c.client,
            c.server,
            c.server_port,
            c.protocol
        )?;
    }
    more(out, b.not_seen.len(), "not seen")?;
    if b.new.is_empty()
        && b.resolved.is_empty()
        && b.not_seen.is_empty()
        && b.missing_rules.is_empty()
    {
        writeln!(out, "  no change")?;
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
    fn colour_codes_and_wide_characters_count_as_seen() {
        assert_eq!(visible_width("\x1b[1;31mblocked\x1b[0m"), 7);
        assert_eq!(visible_width("(注1)"), 5);
    }

    #[test]
    fn durations_and_lists_read_well() {
        assert_eq!(duration(42_400_000_000), "42 s");
        assert_eq!(duration(2_500_000_000), "2.5 s");
        assert_eq!(duration(350_000_000), "350 ms");
        assert_eq!(plural(1, "connection", "connections"), "1 connection");
        let items: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
        assert_eq!(named_list(&items, 3), "1, 2, 3 and 2 more");
    }
}
