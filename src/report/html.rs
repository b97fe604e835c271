//! The HTML report (`--format html`): one self-contained page for the
//! people who act on a finding — a network team, a server's administrator,
//! a project lead.
//!
//! Owns the page: the header, summary cards per verdict, the findings
//! grouped as the text report groups them ([`super::text::group`], with
//! the text report's sentence for each entry) and their fixes
//! ([`super::fix`]), a role-to-role matrix per catalog, a timeline of
//! failed attempts per server port (SVG), the hosts, a conversations table
//! (filter and sort in plain script), rule coverage, the baseline
//! comparison and the broadcasts. CSS and script are inline and allowed by
//! their hashes in the page's Content-Security-Policy, which forbids
//! loading or sending anything else. Every value from a capture, an
//! inventory or a catalog is escaped ([`Esc`]). The page is bounded
//! whatever the capture: past the limits below, it counts what it leaves
//! out and points to the JSON report.

mod sha256;

use std::collections::HashMap;
use std::fmt::{self, Display, Write as _};
use std::io::{self, Write};
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::fix::{self, FirewallCmd, Fix, Netsh, Nft, Powershell};
use super::lang::Lang;
use super::text::group::{self, Group};
use super::words::{self, counted as plural, ReasonText};
use super::{Addr, Exporter, Outcome, STATES_BY_NAME};
use crate::catalog::{Catalog, RoleSet, Rule, RuleId};
use crate::classify::{Classified, Verdict};
use crate::term;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Finding entries per verdict.
const ENTRIES: usize = 100;
/// Conversations listed in one entry.
const MEMBERS: usize = 50;
/// Rows of the conversations table.
const ROWS: usize = 2000;
/// Rows of the hosts table.
const HOSTS: usize = 2000;
/// Conversations a matrix cell lists.
const CELL_LIST: usize = 50;
/// Lanes (server ports) and time bins of the timeline.
const LANES: usize = 16;
const BINS: usize = 72;
/// Lines of each kind of baseline change, and broadcast groups.
const CHANGES: usize = 200;
const BROADCASTS: usize = 200;

/// The HTML exporter.
pub struct Html;

/// Writes its text HTML-escaped (`& < > " '`): safe in element content
/// and in quoted attribute values.
pub struct Esc<T>(pub T);

struct Escaper<'a>(&'a mut String);

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let rep = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            self.0.push_str(&s[last..i]);
            self.0.push_str(rep);
            last = i + 1;
        }
        self.0.push_str(&s[last..]);
        Ok(())
    }
}

impl<T: Display> Display for Esc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write!(Escaper(&mut s), "{}", self.0)?;
        f.write_str(&s)
    }
}

/// "2026-11-20 10:00:00.125 UTC".
fn when(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// "10:00:00", or with the date where it is not `day_of`'s.
fn time(ns: i64, day_of: i64) -> String {
    let (t, d) = (
        DateTime::<Utc>::from_timestamp_nanos(ns),
        DateTime::<Utc>::from_timestamp_nanos(day_of),
    );
    if t.date_naive() == d.date_naive() {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

fn span(first: i64, last: i64, day_of: i64) -> String {
    let (a, b) = (time(first, day_of), time(last, day_of));
    if a == b {
        a
    } else {
        format!("{a}–{b}")
    }
}

/// A sort key for an address: IPv4 before IPv6, numeric order.
fn addr_key(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v4) => format!("4:{:08x}", u32::from(v4)),
        IpAddr::V6(v6) => format!("6:{:032x}", u128::from(v6)),
    }
}

/// "client|server|port|protocol": how the page names a conversation
/// (`data-key`), as the JSON report's fields spell it.
fn conv_key(c: &Classified) -> String {
    let k = c.conv.key;
    format!(
        "{}|{}|{}|{}",
        Addr(k.client),
        Addr(k.server),
        k.server_port,
        k.transport.as_str()
    )
}

/// What a matrix cell shows: its rules, and the conversations that ran
/// on them between hosts of its two roles.
#[derive(Default)]
struct Cell {
    rules: Vec<RuleId>,
    /// Per rule of `rules`: worked, blocked, wrong way.
    counts: Vec<[u64; 3]>,
    /// Conversation indices (the first [`CELL_LIST`]).
    listed: Vec<usize>,
    total: u64,
}

/// The matrix of one catalog: its client roles × server roles (as its
/// rules name them, in catalog order) and the cells that have rules.
struct Matrix<'c> {
    catalog: &'c Catalog,
    clients: Vec<String>,
    servers: Vec<String>,
    cells: HashMap<(usize, usize), Cell>,
}

/// The first of a rule's roles (`sets`) the host holds, else the first
/// (a host whose role is unknown may be anything).
fn pick(sets: &[RoleSet], expanded: RoleSet) -> usize {
    sets.iter()
        .position(|s| s.intersects(expanded))
        .unwrap_or(0)
}

/// Where a rule sits: its matrix, its client and server role columns,
/// and those roles as sets.
type RulePlace = (usize, Vec<usize>, Vec<usize>, Vec<RoleSet>, Vec<RoleSet>);

fn matrices<'c>(o: &'c Outcome<'_>) -> Vec<Matrix<'c>> {
    let catalogs = o.catalogs;
    let mut out: Vec<Matrix<'c>> = Vec::new();
    // Rule id → (matrix, its client and server role columns, their sets).
    let mut at: HashMap<RuleId, RulePlace> = HashMap::new();
    for catalog in &catalogs.catalogs {
        let mut clients: Vec<String> = Vec::new();
        let mut servers: Vec<String> = Vec::new();
        for role in &catalog.roles {
            if catalog.rules.iter().any(|r| r.clients.contains(&role.name)) {
                clients.push(role.name.clone());
            }
            if catalog.rules.iter().any(|r| r.servers.contains(&role.name)) {
                servers.push(role.name.clone());
            }
        }
        // Roles a rule names that the catalog does not define (a user's file).
        for r in &catalog.rules {
            for c in &r.clients {
                if !clients.contains(c) {
                    clients.push(c.clone());
                }
            }
            for s in &r.servers {
                if !servers.contains(s) {
                    servers.push(s.clone());
                }
            }
        }
        let mi = out.len();
        let mut cells: HashMap<(usize, usize), Cell> = HashMap::new();
        for r in &catalog.rules {
            let cs: Vec<usize> = r
                .clients
                .iter()
                .filter_map(|c| clients.iter().position(|x| x == c))
                .collect();
            let ss: Vec<usize> = r
                .servers
                .iter()
                .filter_map(|s| servers.iter().position(|x| x == s))
                .collect();
            for &ci in &cs {
                for &si in &ss {
                    let cell = cells.entry((ci, si)).or_default();
                    if !cell.rules.contains(&r.rid) {
                        cell.rules.push(r.rid);
                        cell.counts.push([0; 3]);
                    }
                }
            }
            let sets = |names: &[String]| -> Vec<RoleSet> {
                names
                    .iter()
                    .map(|n| catalogs.role_set(std::slice::from_ref(n)))
                    .collect()
            };
            at.insert(r.rid, (mi, cs, ss, sets(&r.clients), sets(&r.servers)));
        }
        out.push(Matrix {
            catalog,
            clients,
            servers,
            cells,
        });
    }
    let hosts = &o.classification.hosts;
    for (i, c) in o.classification.conversations.iter().enumerate() {
        let which = match c.verdict {
            Verdict::Expected => 0,
            Verdict::Blocked => 1,
            Verdict::WrongDirection => 2,
            _ => continue,
        };
        let Some(rule) = c.rule else { continue };
        let Some((mi, cs, ss, csets, ssets)) = at.get(&rule) else {
            continue;
        };
        if cs.is_empty() || ss.is_empty() {
            continue;
        }
        let expanded =
            |side: usize| c.hosts[side].map_or(RoleSet::EMPTY, |id| hosts.host(id).expanded);
        // A reversed conversation's client holds the rule's server role.
        let (client_side, server_side) = if which == 2 { (1, 0) } else { (0, 1) };
        let ci = cs[pick(csets, expanded(client_side)).min(cs.len() - 1)];
        let si = ss[pick(ssets, expanded(server_side)).min(ss.len() - 1)];
        let Some(cell) = out[*mi].cells.get_mut(&(ci, si)) else {
            continue;
        };
        if let Some(ri) = cell.rules.iter().position(|r| *r == rule) {
            cell.counts[ri][which] += 1;
        }
        cell.total += 1;
        if cell.listed.len() < CELL_LIST {
            cell.listed.push(i);
        }
    }
    out
}

/// The page being written: a bounded string, written out at the end.
struct Page<'o, 'a> {
    o: &'o Outcome<'a>,
    s: String,
    t0: i64,
    t1: i64,
}

impl Page<'_, '_> {
    fn host_label(&self, c: &Classified, side: usize) -> String {
        let k = c.conv.key;
        let addr = Addr(if side == 0 { k.client } else { k.server });
        let name = c.hosts[side]
            .map(|id| self.o.classification.hosts.host(id))
            .and_then(|h| h.name.as_deref());
        match name {
            Some(n) => format!("{n} {addr}"),
            None => addr.to_string(),
        }
    }

    fn states(&self, c: &Classified) -> String {
        let mut s = String::new();
        for state in STATES_BY_NAME {
            let n = c.conv.count(state);
            if n > 0 {
                if !s.is_empty() {
                    s.push_str(", ");
                }
                let _ = write!(s, "{n} {}", state.as_str());
            }
        }
        s
    }

    fn header(&mut self) {
        let o = self.o;
        let counts: Vec<String> = Verdict::ALL.iter().map(|v| verdict_count(o, *v)).collect();
        let _ = write!(
            self.s,
            "<header><h1>{}</h1><p class=\"muted\">{}</p><dl class=\"facts\">",
            term!(o.lang, "flowlint report", "flowlint レポート"),
            Esc(counts.join(", "))
        );
        let lang = o.lang;
        for input in &o.inputs {
            let _ = write!(
                self.s,
                "<dt>{}</dt><dd>{}</dd>",
                term!(lang, "input", "入力"),
                Esc(words::input_summary(input, lang))
            );
            for w in &input.warnings {
                let _ = write!(
                    self.s,
                    "<dt>{}</dt><dd>{}</dd>",
                    term!(lang, "warning", "警告"),
                    Esc(crate::tr!(
                        lang,
                        "{path}: at byte {offset}: {message}",
                        "{path}: {offset} バイト目: {message}",
                        path = input.path,
                        offset = w.offset,
                        message = w.render(lang)
                    ))
                );
            }
        }
        if self.t1 >= self.t0 && !o.classification.conversations.is_empty()
            || !o.broadcasts.groups.is_empty()
        {
            let _ = crate::trw!(
                self.s,
                lang,
                "<dt>time</dt><dd>{t0} to {t1} UTC ({secs:.1} s)</dd>",
                "<dt>期間</dt><dd>{t0} から {t1}（UTC、{secs:.1} 秒）</dd>",
                t0 = when(self.t0),
                t1 = when(self.t1),
                secs = (self.t1 - self.t0) as f64 / 1e9
            );
        } else {
            self.s.push_str(term!(
                lang,
                "<dt>time</dt><dd>no packets</dd>",
                "<dt>期間</dt><dd>パケットなし</dd>"
            ));
        }
        let catalogs: Vec<String> = o
            .catalogs
            .catalogs
            .iter()
            .map(|c| match lang {
                Lang::En => format!(
                    "{} — {} ({})",
                    c.name,
                    c.title,
                    plural(c.rules.len() as u64, "rule", "rules")
                ),
                Lang::Ja => format!("{} — {}（ルール {} 件）", c.name, c.title, c.rules.len()),
            })
            .collect();
        let _ = write!(
            self.s,
            "<dt>{}</dt><dd>{}</dd>",
            term!(lang, "catalogs", "カタログ"),
            Esc(catalogs.join(term!(lang, "; ", "、")))
        );
        let _ = write!(
            self.s,
            "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
            term!(lang, "inventory", "インベントリ"),
            Esc(words::inventory_summary(o)),
            term!(lang, "traffic", "通信"),
            Esc(words::traffic_summary(o))
        );
        if let Some(live) = &o.live {
            let _ = crate::trw!(
                self.s,
                lang,
                "<dt>live</dt><dd>{iface} for {secs:.0} s, {packets}; dropped: kernel {kernel}, interface {interface}, flowlint {app}</dd>",
                "<dt>ライブ</dt><dd>{iface} で {secs:.0} 秒、{packets}。取りこぼし: カーネル {kernel}、インタフェース {interface}、flowlint {app}</dd>",
                iface = Esc(&live.interface),
                secs = live.duration_s,
                packets = words::count(lang, live.packets, "packet", "packets", "パケット", "個"),
                kernel = live.kernel_dropped,
                interface = live.interface_dropped,
                app = live.app_dropped
            );
            // What makes some of its verdicts uncertain, and whether the run goes on.
            let mut extra = Vec::new();
            if !live.outages.is_empty() {
                let secs: f64 = live
                    .outages
                    .iter()
                    .map(|o| (o.end_ns.unwrap_or(live.ended_ns) - o.start_ns).max(0) as f64 / 1e9)
                    .sum();
                let n = live.outages.len() as u64;
                extra.push(match lang {
                    Lang::En => format!("{} down for {secs:.1} s", plural(n, "outage", "outages")),
                    Lang::Ja => format!("停止 {n} 回、計 {secs:.1} 秒"),
                });
            }
            let uncertain: u64 = live.uncertain.values().map(|u| u.connections).sum();
            if uncertain > 0 {
                extra.push(match lang {
                    Lang::En => format!(
                        "{} possibly lost at the capture point",
                        plural(uncertain, "unanswered connection", "unanswered connections")
                    ),
                    Lang::Ja => format!(
                        "応答のない接続 {uncertain} 件はキャプチャ地点で取りこぼした可能性があります"
                    ),
                });
            }
            if live.checkpoint {
                extra.push(crate::tr!(
                    lang,
                    "checkpoint of a capture still running ({n} open)",
                    "実行中のキャプチャのチェックポイント（未決の接続 {n} 件）",
                    n = live.open_connections
                ));
            }
            if !extra.is_empty() {
                let _ = write!(
                    self.s,
                    "<dd>{}</dd>",
                    Esc(&extra.join(term!(lang, "; ", "、")))
                );
            }
        }
        let _ = write!(
            self.s,
            "</dl><nav class=\"toc\">{}{}{}</nav></header>",
            term!(
                lang,
                "<a href=\"#findings\">findings</a><a href=\"#matrix\">role matrix</a>\
                 <a href=\"#timeline\">timeline</a><a href=\"#hosts\">hosts</a>\
                 <a href=\"#conversations\">conversations</a><a href=\"#rules\">rule coverage</a>",
                "<a href=\"#findings\">検出</a><a href=\"#matrix\">役割間マトリクス</a>\
                 <a href=\"#timeline\">時間経過</a><a href=\"#hosts\">ホスト</a>\
                 <a href=\"#conversations\">通信</a><a href=\"#rules\">ルールの網羅</a>"
            ),
            if o.baseline.is_some() {
                term!(
                    lang,
                    "<a href=\"#baseline\">baseline</a>",
                    "<a href=\"#baseline\">ベースライン</a>"
                )
            } else {
                ""
            },
            if o.broadcasts.groups.is_empty() {
                ""
            } else {
                term!(
                    lang,
                    "<a href=\"#broadcasts\">broadcasts</a>",
                    "<a href=\"#broadcasts\">ブロードキャスト</a>"
                )
            }
        );
    }

    fn cards(&mut self) {
        let o = self.o;
        self.s.push_str("<section id=\"summary\" class=\"cards\">");
        for v in Verdict::ALL {
            let n = o.count(v);
            let target = if v.is_finding() {
                format!("#f-{}", v.as_str())
            } else {
                "#conversations".to_string()
            };
            let _ = write!(
                self.s,
                "<a class=\"card v-{v}{zero}\" href=\"{target}\" data-verdict=\"{v}\"><b>{n}</b>{}<small>{}</small></a>",
                words::verdict(v, o.lang),
                words::verdict_heading(v, o.lang),
                v = v.as_str(),
                zero = if n == 0 { " zero" } else { "" },
            );
        }
        if o.totals.broadcast_packets > 0 {
            let _ = crate::trw!(
                self.s,
                o.lang,
                "<a class=\"card\" href=\"#broadcasts\"><b>{n}</b>broadcast packets<small>listed apart, never judged</small></a>",
                "<a class=\"card\" href=\"#broadcasts\"><b>{n}</b>ブロードキャストのパケット<small>別に一覧し、判定しません</small></a>",
                n = o.totals.broadcast_packets
            );
        }
        self.s.push_str("</section>");
    }

    fn fix_block(&mut self, fixes: &[Fix]) {
        for f in fixes.iter().take(3) {
            let _ = write!(
                self.s,
                "<div class=\"fix\"><p><b>{}</b> {}</p>",
                term!(self.o.lang, "Fix:", "対処:"),
                Esc(fix::Sentence(f, self.o.lang))
            );
            if let Fix::HostFirewall { opening, .. } = f {
                if fix::is_windows(opening.os) {
                    let _ = write!(
                        self.s,
                        "<pre class=\"cmd\" data-tool=\"PowerShell\">{}</pre><pre class=\"cmd\" data-tool=\"netsh\">{}</pre>",
                        Esc(Powershell(opening)),
                        Esc(Netsh(opening))
                    );
                } else {
                    let _ = write!(
                        self.s,
                        "<pre class=\"cmd\" data-tool=\"nft\">{}</pre><pre class=\"cmd\" data-tool=\"firewall-cmd\">{}</pre>",
                        Esc(Nft(opening)),
                        Esc(FirewallCmd(opening))
                    );
                }
            }
            self.s.push_str("</div>");
        }
        if fixes.len() > 3 {
            let _ = crate::trw!(
                self.s,
                self.o.lang,
                "<p class=\"note\">… and {n} more fixes like these (the JSON report has each conversation's fix).</p>",
                "<p class=\"note\">…ほかに同様の対処が {n} 件あります（各通信の対処は JSON レポートにあります）。</p>",
                n = fixes.len() - 3
            );
        }
    }

    fn entry(&mut self, verdict: Verdict, g: &Group<'_>) {
        let o = self.o;
        let _ = write!(
            self.s,
            "<article class=\"finding v-{}\" data-verdict=\"{}\"><p><span class=\"badge {}\">{}</span> {}</p>",
            verdict.as_str(),
            verdict.as_str(),
            verdict.as_str(),
            words::verdict(verdict, o.lang),
            Esc(super::text::entry_sentence(o, self.t0, g))
        );
        if verdict == Verdict::Blocked {
            let fixes = fix::merge(g.members.iter().filter_map(|c| Fix::of(o, c)));
            self.fix_block(&fixes);
        }
        self.s.push_str(term!(
            self.o.lang,
            "<table class=\"members\"><thead><tr><th>client</th><th>server</th><th>port</th>\
             <th>states</th><th>time (UTC)</th><th>reason</th></tr></thead><tbody>",
            "<table class=\"members\"><thead><tr><th>クライアント</th><th>サーバ</th><th>ポート</th>\
             <th>状態</th><th>時刻（UTC）</th><th>理由</th></tr></thead><tbody>"
        ));
        for c in g.members.iter().take(MEMBERS) {
            let k = c.conv.key;
            let _ = write!(
                self.s,
                "<tr data-key=\"{}\"><td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td>{}",
                Esc(conv_key(c)),
                Esc(self.host_label(c, 0)),
                Esc(self.host_label(c, 1)),
                k.server_port,
                k.transport.as_str(),
                Esc(self.states(c)),
                span(c.conv.first_ns, c.conv.last_ns, self.t0),
                Esc(ReasonText {
                    words: o.words(),
                    conv: c
                })
            );
            // What flow records could not tell, under the reason.
            for note in o.record_notes.of(&k) {
                let _ = write!(
                    self.s,
                    "<br><small class=\"record-note\">{}</small>",
                    Esc(super::words::record_note(note, o.lang))
                );
            }
            self.s.push_str("</td></tr>");
        }
        self.s.push_str("</tbody></table>");
        if g.members.len() > MEMBERS {
            let _ = crate::trw!(
                self.s,
                o.lang,
                "<p class=\"note\">… and {n} more conversations in this entry (the JSON report lists them).</p>",
                "<p class=\"note\">…この項目にはほかに {n} 件の通信があります（JSON レポートに一覧があります）。</p>",
                n = g.members.len() - MEMBERS
            );
        }
        self.s.push_str("</article>");
    }

    fn findings(&mut self) {
        let o = self.o;
        self.s.push_str(term!(
            o.lang,
            "<section id=\"findings\"><h2>Findings</h2>",
            "<section id=\"findings\"><h2>検出</h2>"
        ));
        let mut any = false;
        for verdict in [
            Verdict::Blocked,
            Verdict::WrongDirection,
            Verdict::Unexpected,
        ] {
            let list = o.classification.with_verdict(verdict);
            if list.is_empty() {
                continue;
            }
            any = true;
            let groups = group::groups(o.catalogs, &o.classification.hosts, verdict, list);
            let entries = if groups.len() == list.len() {
                String::new()
            } else {
                match o.lang {
                    Lang::En => format!(" in {}", plural(groups.len() as u64, "entry", "entries")),
                    Lang::Ja => format!("、{} 項目", groups.len()),
                }
            };
            let _ = write!(
                self.s,
                "<h3 id=\"f-{}\">{} ({}{}): {}</h3>",
                verdict.as_str(),
                words::verdict(verdict, o.lang),
                list.len(),
                entries,
                words::verdict_heading(verdict, o.lang)
            );
            for g in groups.iter().take(ENTRIES) {
                self.entry(verdict, g);
            }
            if groups.len() > ENTRIES {
                let rest: usize = groups[ENTRIES..].iter().map(|g| g.members.len()).sum();
                let _ = crate::trw!(
                    self.s,
                    o.lang,
                    "<p class=\"note\">… and {n} more entries ({convs}; the JSON report lists them).</p>",
                    "<p class=\"note\">…ほかに {n} 項目あります（通信 {convs} 件。JSON レポートに一覧があります）。</p>",
                    n = groups.len() - ENTRIES,
                    convs = match o.lang {
                        Lang::En => plural(rest as u64, "conversation", "conversations"),
                        Lang::Ja => rest.to_string(),
                    }
                );
            }
        }
        if !any {
            self.s.push_str(term!(
                o.lang,
                "<p>No findings: every conversation a rule allows worked.</p>",
                "<p>検出はありません。ルールが許可する通信はすべて動いていました。</p>"
            ));
        }
        self.s.push_str("</section>");
    }

    fn matrix(&mut self) {
        let o = self.o;
        self.s.push_str(term!(
            o.lang,
            "<section id=\"matrix\"><h2>Role-to-role matrix</h2><p class=\"note\">Rows are client roles, \
             columns server roles, as each catalog's rules name them; a cell holds the rules (ports) for that \
             pair and how many conversations on them worked, were blocked or went the wrong way. Click a cell \
             to list its conversations.</p><p class=\"legend\"><span class=\"s-worked\">worked</span>\
             <span class=\"s-blocked\">blocked</span><span class=\"s-wrong\">wrong way</span>\
             <span class=\"s-idle\">no traffic</span></p>",
            "<section id=\"matrix\"><h2>役割間マトリクス</h2><p class=\"note\">行はクライアントの役割、\
             列はサーバの役割です（各カタログのルールの名前のとおり）。セルには、その組のルール（ポート）と、\
             その上の通信のうち動いたもの、遮断されたもの、逆方向だったものの数があります。セルをクリックすると\
             その通信を一覧します。</p><p class=\"legend\"><span class=\"s-worked\">動いた</span>\
             <span class=\"s-blocked\">遮断</span><span class=\"s-wrong\">逆方向</span>\
             <span class=\"s-idle\">通信なし</span></p>"
        ));
        for (mi, m) in matrices(o).iter().enumerate() {
            let label = |name: &str| o.catalogs.role_label(name);
            let _ = write!(
                self.s,
                "<h3>{} — {}</h3><table class=\"matrix\" data-catalog=\"{}\"><thead><tr><th class=\"corner\">{}</th>",
                Esc(&m.catalog.name),
                Esc(&m.catalog.title),
                Esc(&m.catalog.name),
                term!(o.lang, "client ↓ server →", "クライアント ↓ サーバ →")
            );
            for s in &m.servers {
                let _ = write!(
                    self.s,
                    "<th class=\"srv\" title=\"{}\">{}</th>",
                    Esc(s),
                    Esc(label(s))
                );
            }
            self.s.push_str("</tr></thead><tbody>");
            for (ci, c) in m.clients.iter().enumerate() {
                let _ = write!(
                    self.s,
                    "<tr><th class=\"cli\" title=\"{}\">{}</th>",
                    Esc(c),
                    Esc(label(c))
                );
                for (si, s) in m.servers.iter().enumerate() {
                    let Some(cell) = m.cells.get(&(ci, si)) else {
                        self.s.push_str("<td></td>");
                        continue;
                    };
                    self.cell(mi, m, cell, c, s);
                }
                self.s.push_str("</tr>");
            }
            let _ = crate::trw!(
                self.s,
                o.lang,
                "</tbody></table><div class=\"panel\" id=\"panel-{mi}\" aria-live=\"polite\"><p class=\"note\">Click a cell of the {name} matrix to list its conversations.</p></div>",
                "</tbody></table><div class=\"panel\" id=\"panel-{mi}\" aria-live=\"polite\"><p class=\"note\">{name} のマトリクスのセルをクリックすると、その通信を一覧します。</p></div>",
                mi = mi,
                name = Esc(&m.catalog.name)
            );
        }
        self.s.push_str("</section>");
    }

    fn cell(&mut self, mi: usize, _m: &Matrix<'_>, cell: &Cell, client: &str, server: &str) {
        let o = self.o;
        let sum = |i: usize| cell.counts.iter().map(|c| c[i]).sum::<u64>();
        let (worked, blocked, reversed) = (sum(0), sum(1), sum(2));
        let state = if blocked > 0 {
            "blocked"
        } else if reversed > 0 {
            "wrong"
        } else if worked > 0 {
            "worked"
        } else {
            "idle"
        };
        let mut ports: Vec<String> = Vec::new();
        for r in &cell.rules {
            let r = o.catalogs.rule_by_id(*r);
            let p = format!("{}/{}", r.ports, r.protocol.as_str());
            if !ports.contains(&p) {
                ports.push(p);
            }
        }
        let shown_ports = if ports.len() > 3 {
            format!("{} +{}", ports[..3].join(" "), ports.len() - 3)
        } else {
            ports.join(" ")
        };
        let title = crate::tr!(
            o.lang,
            "{client} → {server}: {worked} worked, {blocked} blocked, {reversed} wrong way",
            "{client} → {server}: 動いた {worked}、遮断 {blocked}、逆方向 {reversed}",
            client = o.catalogs.role_label(client),
            server = o.catalogs.role_label(server),
            worked = worked,
            blocked = blocked,
            reversed = reversed
        );
        // The panel's note past the listed conversations: report.js shows
        // it as it stands, so it is worded here, in the report's language.
        let more = if cell.total as usize > cell.listed.len() {
            crate::tr!(
                o.lang,
                "… and {n} more (the JSON report lists them).",
                "…ほかに {n} 件あります（JSON レポートに一覧があります）。",
                n = cell.total as usize - cell.listed.len()
            )
        } else {
            String::new()
        };
        let _ = write!(
            self.s,
            "<td class=\"cell s-{state}\" tabindex=\"0\" data-panel=\"panel-{mi}\" data-client=\"{}\" data-server=\"{}\" \
             data-worked=\"{worked}\" data-blocked=\"{blocked}\" data-reversed=\"{reversed}\" data-total=\"{}\" \
             data-title=\"{}\" data-more=\"{}\" title=\"{}\"><div class=\"ports\">{}</div><div class=\"counts\">",
            Esc(client),
            Esc(server),
            cell.total,
            Esc(&title),
            Esc(more),
            Esc(&title),
            Esc(shown_ports)
        );
        if worked + blocked + reversed == 0 {
            self.s.push_str(term!(o.lang, "no traffic", "通信なし"));
        } else {
            let mut parts = Vec::new();
            if worked > 0 {
                parts.push(format!("✓{worked}"));
            }
            if blocked > 0 {
                parts.push(format!("✗{blocked}"));
            }
            if reversed > 0 {
                parts.push(format!("⇄{reversed}"));
            }
            self.s.push_str(&parts.join(" "));
        }
        self.s.push_str("</div><ul class=\"rules\">");
        for (r, n) in cell.rules.iter().zip(&cell.counts) {
            let rule = o.catalogs.rule_by_id(*r);
            let _ = crate::trw!(
                self.s,
                o.lang,
                "<li data-rule=\"{id}\" data-worked=\"{w}\" data-blocked=\"{b}\" data-reversed=\"{r}\">{id} {ports}/{proto}: {purpose}; {w} worked, {b} blocked, {r} wrong way</li>",
                "<li data-rule=\"{id}\" data-worked=\"{w}\" data-blocked=\"{b}\" data-reversed=\"{r}\">{id} {ports}/{proto}: {purpose}。動いた {w}、遮断 {b}、逆方向 {r}</li>",
                id = Esc(&rule.id),
                w = n[0],
                b = n[1],
                r = n[2],
                ports = rule.ports,
                proto = rule.protocol.as_str(),
                purpose = Esc(purpose(rule, o.lang))
            );
        }
        self.s.push_str("</ul>");
        if !cell.listed.is_empty() {
            self.s.push_str("<ol class=\"convs\" hidden>");
            for &i in &cell.listed {
                let c = &o.classification.conversations[i];
                let k = c.conv.key;
                let _ = write!(
                    self.s,
                    "<li data-key=\"{}\"><span class=\"badge {}\">{}</span> {} → {} {}/{} ({})</li>",
                    Esc(conv_key(c)),
                    c.verdict.as_str(),
                    words::verdict(c.verdict, o.lang),
                    Esc(self.host_label(c, 0)),
                    Esc(self.host_label(c, 1)),
                    k.server_port,
                    k.transport.as_str(),
                    Esc(self.states(c))
                );
            }
            self.s.push_str("</ol>");
        }
        self.s.push_str("</td>");
    }

    fn timeline(&mut self) {
        let o = self.o;
        self.s.push_str(term!(
            o.lang,
            "<section id=\"timeline\"><h2>Failed attempts over time</h2>",
            "<section id=\"timeline\"><h2>失敗した試行の時間経過</h2>"
        ));
        let blocked = o.classification.with_verdict(Verdict::Blocked);
        if blocked.is_empty() {
            self.s.push_str(term!(
                o.lang,
                "<p>No failed attempts: nothing was blocked.</p></section>",
                "<p>失敗した試行はありません。遮断されたものはありませんでした。</p></section>"
            ));
            return;
        }
        let (t0, t1) = (self.t0, self.t1.max(self.t0 + 1));
        let width = (t1 - t0) as f64;
        let bin = |ns: i64| (((ns - t0) as f64 / width * BINS as f64) as usize).min(BINS - 1);
        let mut lanes: HashMap<(u16, &'static str), (u64, Vec<u64>)> = HashMap::new();
        for c in blocked {
            let (attempts, first, last) = match &c.conv.rare {
                Some(r) if r.attempts > 0 => (r.attempts, r.first_ns, r.last_ns),
                _ => (1, c.conv.first_ns, c.conv.last_ns),
            };
            let lane = lanes
                .entry((c.conv.key.server_port, c.conv.key.transport.as_str()))
                .or_insert_with(|| (0, vec![0; BINS]));
            lane.0 += attempts;
            let (a, b) = (bin(first), bin(last));
            let n = (b - a + 1) as u64;
            // Spread evenly over the bins from first to last failed attempt.
            for (j, slot) in lane.1[a..=b].iter_mut().enumerate() {
                *slot += attempts / n + u64::from((j as u64) < attempts % n);
            }
        }
        let mut lanes: Vec<_> = lanes.into_iter().collect();
        lanes.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        let more = lanes.len().saturating_sub(LANES);
        lanes.truncate(LANES);
        let (left, lane_h, plot_w) = (90.0, 26.0, 900.0);
        let height = lanes.len() as f64 * lane_h + 30.0;
        let _ = crate::trw!(
            self.s,
            o.lang,
            "<p class=\"note\">Failed attempts (SYNs or datagrams that failed) per server port, from the first packet to the last; \
             each conversation's attempts are spread over its first to last failed attempt.</p>\
             <svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"failed attempts over time\">",
            "<p class=\"note\">サーバのポートごとの失敗した試行（失敗した SYN やデータグラム）を、最初のパケットから最後まで示します。\
             各通信の試行は、その最初から最後の失敗した試行までに均して置いています。</p>\
             <svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"失敗した試行の時間経過\">",
            w = left + plot_w + 10.0,
            height = height
        );
        for (li, ((port, proto), (total, bins))) in lanes.iter().enumerate() {
            let y = li as f64 * lane_h + 4.0;
            let max = *bins.iter().max().unwrap_or(&1).max(&1) as f64;
            let _ = write!(
                self.s,
                "<g data-port=\"{port}/{proto}\" data-attempts=\"{total}\"><text x=\"4\" y=\"{}\" font-size=\"12\" fill=\"#333\">{port}/{proto}</text>\
                 <rect x=\"{left}\" y=\"{y}\" width=\"{plot_w}\" height=\"{}\" fill=\"#f5f5f5\"/>",
                y + 15.0,
                lane_h - 6.0
            );
            for (bi, &n) in bins.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let h = (lane_h - 6.0) * (0.25 + 0.75 * n as f64 / max);
                let x = left + bi as f64 * plot_w / BINS as f64;
                let a = t0 + (width * bi as f64 / BINS as f64) as i64;
                let b = t0 + (width * (bi + 1) as f64 / BINS as f64) as i64;
                let _ = write!(
                    self.s,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#c62828\"><title>{port}/{proto} {}: {}</title></rect>",
                    y + (lane_h - 6.0 - h),
                    plot_w / BINS as f64 - 1.0,
                    span(a, b, t0),
                    match o.lang {
                        Lang::En => plural(n, "failed attempt", "failed attempts"),
                        Lang::Ja => format!("失敗した試行 {n} 回"),
                    }
                );
            }
            self.s.push_str("</g>");
        }
        let axis_y = lanes.len() as f64 * lane_h + 20.0;
        for (frac, anchor) in [(0.0, "start"), (0.5, "middle"), (1.0, "end")] {
            let _ = write!(
                self.s,
                "<text x=\"{:.1}\" y=\"{axis_y}\" font-size=\"11\" fill=\"#555\" text-anchor=\"{anchor}\">{}</text>",
                left + plot_w * frac,
                time(t0 + ((t1 - t0) as f64 * frac) as i64, t0)
            );
        }
        self.s.push_str("</svg>");
        if more > 0 {
            let _ = crate::trw!(
                self.s,
                o.lang,
                "<p class=\"note\">… and {more} more server ports with failed attempts (the JSON report lists their conversations).</p>",
                "<p class=\"note\">…失敗した試行のあるサーバのポートはほかに {more} 個あります（その通信は JSON レポートに一覧があります）。</p>",
                more = more
            );
        }
        self.s.push_str("</section>");
    }

    fn hosts(&mut self) {
        let o = self.o;
        let all: Vec<_> = o.classification.hosts.with_roles().collect();
        let _ = write!(
            self.s,
            "<section id=\"hosts\"><h2>{} ({})</h2>",
            term!(o.lang, "Hosts with roles", "役割のあるホスト"),
            all.len()
        );
        if all.is_empty() {
            self.s.push_str(term!(
                o.lang,
                "<p>No host holds a role.</p></section>",
                "<p>役割のあるホストはありません。</p></section>"
            ));
            return;
        }
        self.s.push_str(term!(
            o.lang,
            "<table><thead><tr><th>address</th><th>name</th><th>os</th><th>roles</th><th>from</th></tr></thead><tbody>",
            "<table><thead><tr><th>アドレス</th><th>名前</th><th>OS</th><th>役割</th><th>出所</th></tr></thead><tbody>"
        ));
        for h in all.iter().take(HOSTS) {
            let roles: Vec<String> = o
                .catalogs
                .role_names(h.roles)
                .map(|r| format!("{} ({})", r, o.catalogs.role_label(r)))
                .collect();
            let _ = write!(
                self.s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                Addr(h.address),
                Esc(h.name.as_deref().unwrap_or("")),
                h.os.map_or("", |os| os.as_str()),
                Esc(roles.join(term!(o.lang, ", ", "、"))),
                if h.inferred {
                    term!(o.lang, "inferred from traffic", "通信から推定")
                } else {
                    term!(o.lang, "inventory", "インベントリ")
                }
            );
        }
        self.s.push_str("</tbody></table>");
        if all.len() > HOSTS {
            let _ = crate::trw!(
                self.s,
                o.lang,
                "<p class=\"note\">… and {n} more hosts (the JSON report lists them).</p>",
                "<p class=\"note\">…ほかに {n} 台のホストがあります（JSON レポートに一覧があります）。</p>",
                n = all.len() - HOSTS
            );
        }
        self.s.push_str("</section>");
    }

    fn conversations(&mut self) {
        let o = self.o;
        let all = &o.classification.conversations;
        let rows = all.len().min(ROWS);
        let _ = crate::trw!(
            self.s,
            o.lang,
            "<section id=\"conversations\"><h2>Conversations ({n})</h2><div class=\"controls\">\
             <input type=\"search\" id=\"conv-filter\" placeholder=\"filter: address, name, port, rule, state…\" aria-label=\"filter\">\
             <select id=\"conv-verdict\" aria-label=\"verdict\"><option value=\"\">every verdict</option>",
            "<section id=\"conversations\"><h2>通信 ({n})</h2><div class=\"controls\">\
             <input type=\"search\" id=\"conv-filter\" placeholder=\"絞り込み: アドレス、名前、ポート、ルール、状態…\" aria-label=\"絞り込み\">\
             <select id=\"conv-verdict\" aria-label=\"判定\"><option value=\"\">すべての判定</option>",
            n = all.len()
        );
        // The value is the JSON name, which report.js compares with each
        // row's data-verdict; only the label is in the language.
        for v in Verdict::ALL {
            let _ = write!(
                self.s,
                "<option value=\"{}\">{}</option>",
                v.as_str(),
                words::verdict(v, o.lang)
            );
        }
        let _ = crate::trw!(
            self.s,
            o.lang,
            "</select><span><span id=\"conv-shown\">{rows}</span> of {rows} rows shown</span></div>\
             <table id=\"conv-table\"><thead><tr><th>verdict</th><th>client</th><th>server</th><th class=\"num\">port</th>\
             <th>protocol</th><th>rule</th><th class=\"num\">connections</th><th>states</th><th class=\"num\">packets</th>\
             <th class=\"num\">bytes</th><th class=\"num\">first seen (UTC)</th><th class=\"num\">last seen</th></tr></thead><tbody>",
            "</select><span>{rows} 行中 <span id=\"conv-shown\">{rows}</span> 行を表示</span></div>\
             <table id=\"conv-table\"><thead><tr><th>判定</th><th>クライアント</th><th>サーバ</th><th class=\"num\">ポート</th>\
             <th>プロトコル</th><th>ルール</th><th class=\"num\">接続</th><th>状態</th><th class=\"num\">パケット</th>\
             <th class=\"num\">バイト</th><th class=\"num\">最初（UTC）</th><th class=\"num\">最後</th></tr></thead><tbody>",
            rows = rows
        );
        for c in all.iter().take(ROWS) {
            let k = c.conv.key;
            let _ = write!(
                self.s,
                "<tr data-verdict=\"{v}\" data-key=\"{}\"><td data-v=\"{}\"><span class=\"badge {v}\">{}</span></td>\
                 <td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td>\
                 <td class=\"num\">{}</td><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td></tr>",
                Esc(conv_key(c)),
                c.verdict as u8,
                words::verdict(c.verdict, o.lang),
                addr_key(k.client),
                Esc(self.host_label(c, 0)),
                addr_key(k.server),
                Esc(self.host_label(c, 1)),
                k.server_port,
                k.transport.as_str(),
                Esc(c.rule.map_or("", |r| o.catalogs.rule_by_id(r).id.as_str())),
                c.conv.connections(),
                Esc(self.states(c)),
                RecordNoteTags(o, &k),
                c.conv.packets,
                c.conv.bytes,
                c.conv.first_ns,
                time(c.conv.first_ns, self.t0),
                c.conv.last_ns,
                time(c.conv.last_ns, self.t0),
                v = c.verdict.as_str(),
            );
        }
        self.s.push_str("</tbody></table>");
        if all.len() > ROWS {
            let _ = crate::trw!(
                self.s,
                o.lang,
                "<p class=\"note\" id=\"conv-more\">… and {n} more conversations, not in this page (the most severe come first); \
                 the JSON report (<code>--format json</code>) lists every one.</p>",
                "<p class=\"note\" id=\"conv-more\">…ほかに {n} 件の通信があり、このページには載せていません（重いものから載せています）。\
                 JSON レポート（<code>--format json</code>）にはすべてあります。</p>",
                n = all.len() - ROWS
            );
        }
        self.s.push_str("</section>");
    }

    fn rules(&mut self) {
        let o = self.o;
        let used = o.catalogs.rules().filter(|r| {
            let u = o.classification.rules[usize::from(r.rid.0)];
            u.conversations > 0 || u.reversed > 0
        });
        let _ = write!(
            self.s,
            "<section id=\"rules\"><h2>{}</h2>",
            crate::tr!(
                o.lang,
                "Rule coverage ({used} of {all} rules saw traffic)",
                "ルールの網羅（{all} 件中 {used} 件に通信あり）",
                used = used.count(),
                all = o.catalogs.rules().count()
            )
        );
        for catalog in &o.catalogs.catalogs {
            let _ = write!(
                self.s,
                "<h3>{}</h3><table class=\"coverage\"><thead><tr>{}</tr></thead><tbody>",
                Esc(&catalog.name),
                term!(
                    o.lang,
                    "<th>rule</th><th>port</th><th>client → server</th>\
                     <th>purpose</th><th class=\"num\">worked</th><th class=\"num\">blocked</th><th class=\"num\">wrong way</th>",
                    "<th>ルール</th><th>ポート</th><th>クライアント → サーバ</th>\
                     <th>用途</th><th class=\"num\">動いた</th><th class=\"num\">遮断</th><th class=\"num\">逆方向</th>"
                )
            );
            for r in &catalog.rules {
                let u = o.classification.rules[usize::from(r.rid.0)];
                let idle = u.conversations == 0 && u.reversed == 0;
                let roles = |names: &[String]| {
                    names
                        .iter()
                        .map(|n| o.catalogs.role_label(n))
                        .collect::<Vec<_>>()
                        .join(term!(o.lang, " or ", " または "))
                };
                let _ = write!(
                    self.s,
                    "<tr data-rule=\"{}\"{}><td>{}</td><td>{}/{}</td><td>{} → {}</td><td>{}</td>\
                     <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    Esc(&r.id),
                    if idle { " class=\"idle\"" } else { "" },
                    Esc(&r.id),
                    r.ports,
                    r.protocol.as_str(),
                    Esc(roles(&r.clients)),
                    Esc(roles(&r.servers)),
                    Esc(purpose(r, o.lang)),
                    u.conversations - u.blocked,
                    u.blocked,
                    u.reversed
                );
            }
            self.s.push_str("</tbody></table>");
        }
        self.s.push_str("</section>");
    }

    fn baseline(&mut self) {
        use words::Change;
        let o = self.o;
        let lang = o.lang;
        let Some(b) = &o.baseline else { return };
        let worse = !b.new.is_empty() || !b.missing_rules.is_empty();
        let counts = [
            Change::New.count(b.new.len() as u64, lang),
            Change::Missing.count(b.missing_rules.len() as u64, lang),
            Change::Resolved.count(b.resolved.len() as u64, lang),
            Change::NotSeen.count(b.not_seen.len() as u64, lang),
        ];
        let _ = crate::trw!(
            self.s,
            lang,
            "<section id=\"baseline\"><h2>Compared with the baseline: {outcome}</h2><p>{counts}.</p><ul class=\"changes\">",
            "<section id=\"baseline\"><h2>ベースラインとの比較: {outcome}</h2><p>{counts}。</p><ul class=\"changes\">",
            outcome = words::baseline_outcome(worse, lang),
            counts = Esc(counts.join(term!(lang, ", ", "、")))
        );
        let [new, missing, resolved, not_seen] = Change::ALL.map(|c| c.label(lang));
        let conversations = &o.classification.conversations;
        for &i in b.new.iter().take(CHANGES) {
            let c = &conversations[i as usize];
            let k = c.conv.key;
            let _ = write!(
                self.s,
                "<li data-change=\"new\" data-key=\"{}\"><span class=\"badge blocked\">{new}</span> <span class=\"badge {v}\">{}</span> {} → {} {}/{}</li>",
                Esc(conv_key(c)),
                words::verdict(c.verdict, lang),
                Esc(self.host_label(c, 0)),
                Esc(self.host_label(c, 1)),
                k.server_port,
                k.transport.as_str(),
                v = c.verdict.as_str()
            );
        }
        for r in b.missing_rules.iter().take(CHANGES) {
            let _ = write!(
                self.s,
                "<li data-change=\"missing\"><span class=\"badge blocked\">{missing}</span> {}</li>",
                Esc(words::missing_rule(r, lang))
            );
        }
        for &i in b.resolved.iter().take(CHANGES) {
            let c = &conversations[i as usize];
            let k = c.conv.key;
            let _ = write!(
                self.s,
                "<li data-change=\"resolved\" data-key=\"{}\"><span class=\"badge expected\">{resolved}</span> {} → {} {}/{}</li>",
                Esc(conv_key(c)),
                Esc(self.host_label(c, 0)),
                Esc(self.host_label(c, 1)),
                k.server_port,
                k.transport.as_str()
            );
        }
        for c in b.not_seen.iter().take(CHANGES) {
            let _ = write!(
                self.s,
                "<li data-change=\"not_seen\"><span class=\"badge\">{not_seen}</span> {}</li>",
                Esc(words::not_seen(c, lang))
            );
        }
        self.s.push_str("</ul>");
        let longest = b
            .new
            .len()
            .max(b.resolved.len())
            .max(b.not_seen.len())
            .max(b.missing_rules.len());
        if longest > CHANGES {
            let _ = crate::trw!(
                self.s,
                lang,
                "<p class=\"note\">Each kind lists its first {n}; the JSON report lists all.</p>",
                "<p class=\"note\">種類ごとに最初の {n} 件を示します。すべては JSON レポートにあります。</p>",
                n = CHANGES
            );
        }
        if !worse && b.resolved.is_empty() && b.not_seen.is_empty() {
            self.s
                .push_str(term!(lang, "<p>No change.</p>", "<p>変化なし。</p>"));
        }
        self.s.push_str("</section>");
    }

    fn broadcasts(&mut self) {
        let b = &self.o.broadcasts;
        if b.groups.is_empty() {
            return;
        }
        let _ =
            write!(
            self.s,
            "<section id=\"broadcasts\"><h2>{} ({})</h2><table><thead><tr>{}</tr></thead><tbody>",
            term!(
                self.o.lang,
                "Broadcast and multicast",
                "ブロードキャストとマルチキャスト"
            ),
            words::count(self.o.lang, b.packets, "packet", "packets", "パケット", "個"),
            term!(
                self.o.lang,
                "<th>sender</th><th>destination</th><th>port</th><th class=\"num\">packets</th>\
                 <th class=\"num\">replies</th><th>time (UTC)</th>",
                "<th>送信元</th><th>宛先</th><th>ポート</th><th class=\"num\">パケット</th>\
                 <th class=\"num\">応答</th><th>時刻（UTC）</th>"
            )
        );
        for g in b.groups.iter().take(BROADCASTS) {
            let _ = write!(
                self.s,
                "<tr><td>{}</td><td>{}</td><td>{}/{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                Addr(g.key.client),
                Addr(g.key.destination),
                g.key.port,
                g.key.transport.as_str(),
                g.packets,
                g.replies,
                span(g.first_ns, g.last_ns, self.t0)
            );
        }
        self.s.push_str("</tbody></table>");
        if b.groups.len() > BROADCASTS {
            let _ = crate::trw!(
                self.s,
                self.o.lang,
                "<p class=\"note\">… and {n} more groups (the JSON report lists them).</p>",
                "<p class=\"note\">…ほかに {n} グループあります（JSON レポートに一覧があります）。</p>",
                n = b.groups.len() - BROADCASTS
            );
        }
        self.s.push_str("</section>");
    }
}

/// What a rule is for, in the catalog's words for the language (its
/// English ones where it has no Japanese), else its id.
fn purpose(rule: &Rule, lang: Lang) -> String {
    let words = match lang {
        Lang::Ja if !rule.ja.is_empty() => &rule.ja,
        _ => &rule.en,
    };
    let mut s = if words.is_empty() {
        rule.id.clone()
    } else {
        words.clone()
    };
    if let Some(service) = &rule.service {
        let _ = write!(s, " [{service}]");
    }
    s
}

/// The Content-Security-Policy: nothing may load or be sent; the inline
/// style and script run by their hashes.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
        sha256::base64(&sha256::digest(CSS.as_bytes())),
        sha256::base64(&sha256::digest(JS.as_bytes()))
    )
}

/// "6 blocked" (「遮断の疑い 6」).
fn verdict_count(o: &Outcome<'_>, v: Verdict) -> String {
    match o.lang {
        Lang::En => format!("{} {}", o.count(v), v.as_str()),
        Lang::Ja => format!("{} {}", words::verdict(v, o.lang), o.count(v)),
    }
}

impl Exporter for Html {
    fn write(&self, out: &mut dyn Write, o: &Outcome<'_>) -> io::Result<()> {
        let (t0, t1) = super::text::time_range(o).unwrap_or((0, 0));
        let mut page = Page {
            o,
            s: String::with_capacity(1 << 16),
            t0,
            t1,
        };
        let counts: Vec<String> = Verdict::ALL
            .iter()
            .filter(|v| v.is_finding())
            .map(|v| verdict_count(o, *v))
            .collect();
        let _ = write!(
            page.s,
            "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
             <meta name=\"referrer\" content=\"no-referrer\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"flowlint {}\">\n<title>{} {}</title>\n<style>{CSS}</style></head>\n<body><main>",
            o.lang.as_str(),
            content_security_policy(),
            env!("CARGO_PKG_VERSION"),
            term!(o.lang, "flowlint report:", "flowlint レポート:"),
            Esc(counts.join(term!(o.lang, ", ", "、")))
        );
        page.header();
        page.cards();
        page.findings();
        page.baseline();
        page.matrix();
        page.timeline();
        page.hosts();
        page.conversations();
        page.rules();
        page.broadcasts();
        let _ = crate::trw!(
            page.s,
            o.lang,
            "<footer>Written by flowlint {version} from the capture(s) above. Self-contained: it loads nothing and sends nothing. \
             Times are UTC. The JSON report (<code>--format json</code>) holds every conversation.</footer></main>\n<script>{js}</script>\n</body></html>\n",
            "<footer>上記の入力から flowlint {version} が書きました。このページだけで完結し、何も読み込まず、何も送りません。\
             時刻は UTC です。JSON レポート（<code>--format json</code>）にはすべての通信があります。</footer></main>\n<script>{js}</script>\n</body></html>\n",
            version = env!("CARGO_PKG_VERSION"),
            js = JS
        );
        out.write_all(page.s.as_bytes())
    }
}

/// What flow records could not tell about a conversation, as small lines
/// under its states (nothing for captures).
struct RecordNoteTags<'o, 'a>(&'o Outcome<'a>, &'o crate::classify::ConvKey);

impl std::fmt::Display for RecordNoteTags<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for note in self.0.record_notes.of(self.1) {
            write!(
                f,
                "<br><small class=\"record-note\">{}</small>",
                Esc(super::words::record_note(note, self.0.lang))
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            Esc("<script>alert(1)</script> \"x\" 'y' & z").to_string(),
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot; &#39;y&#39; &amp; z"
        );
    }

    #[test]
    fn the_page_allows_only_its_own_style_and_script() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(!csp.contains("unsafe"));
        // The inline parts cannot end their own element early.
        assert!(!CSS.contains("</style") && !JS.contains("</script"));
    }
}
