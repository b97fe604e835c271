//! Reasons in English and Japanese: the sentence that tells a person what
//! a verdict means and what to do about it, made from the [`Reason`]'s
//! facts when a report is written.
//!
//! Owns: how hosts, roles, rules, ports, durations, verdicts and states are
//! called in sentences (the fixed Japanese terms of the README's glossary
//! are here, in [`verdict`] and [`state`]), and one sentence shape per kind
//! of reason, both languages side by side ([`crate::trw!`]). Written
//! straight into the report's writer (no string per conversation).

use std::borrow::Cow;
use std::fmt::{self, Display, Formatter};
use std::net::IpAddr;

use super::lang::Lang;
use super::Addr;
use crate::catalog::{CatalogSet, RoleId, RoleSet, Rule};
use crate::classify::{Blocked, Classified, Host, Hosts, IcmpBlock, Reason, Refusal, Verdict};
use crate::decode::Transport;
use crate::flow::State;
use crate::{term, tr, trw};

/// What sentences about one analysis need to name hosts and rules.
#[derive(Clone, Copy)]
pub struct Words<'a> {
    pub catalogs: &'a CatalogSet,
    pub hosts: &'a Hosts,
    pub lang: Lang,
}

/// A verdict as people read it: the JSON name in English (what scripts and
/// the summary line have always said), the glossary's term in Japanese.
pub fn verdict(v: Verdict, lang: Lang) -> &'static str {
    match lang {
        Lang::En => v.as_str(),
        Lang::Ja => match v {
            Verdict::Expected => "想定どおり",
            Verdict::Blocked => "遮断の疑い",
            Verdict::WrongDirection => "逆方向",
            Verdict::Unexpected => "想定外",
            Verdict::Unlisted => "対象外",
        },
    }
}

/// A connection state as people read it (as [`verdict`]).
pub fn state(s: State, lang: Lang) -> &'static str {
    match lang {
        Lang::En => s.as_str(),
        Lang::Ja => match s {
            State::Established => "確立",
            State::Reset => "リセット",
            State::Midstream => "途中から",
            State::Pending => "応答待ち",
            State::NoReply => "無応答",
            State::Refused => "拒否",
            State::Unreachable => "到達不能",
            State::Answered => "応答あり",
            State::Unanswered => "応答なし",
        },
    }
}

/// What flow records could not tell about a conversation, as the report
/// says it under the conversation.
pub fn record_note(note: crate::records::Note, lang: Lang) -> &'static str {
    use crate::records::Note;
    match note {
        Note::IcmpLinked => term!(
            lang,
            "an ICMP unreachable was linked to this flow by its addresses and time: \
             flow records do not carry the quoted header",
            "ICMP 到達不能をアドレスと時刻からこのフローに結び付けました\
             （フローレコードには ICMP が引用したヘッダがありません）"
        ),
        Note::NoHistory => term!(
            lang,
            "a record had no history: its state comes from conn_state alone",
            "history のないレコードがありました。状態は conn_state だけから判断しています"
        ),
        Note::OneDirection => term!(
            lang,
            "only one direction was recorded: which side opened it was guessed from the ports",
            "片方向しか記録されていません。どちらが開始したかはポート番号から推定しています"
        ),
        Note::BadChecksums => term!(
            lang,
            "Zeek ignored packets with bad checksums (history C): they are not counted",
            "Zeek はチェックサムが誤ったパケットを無視しました（history C）。それらは数えていません"
        ),
    }
}

/// How a role is called in sentences: the catalog's Japanese label in
/// Japanese (where it has one), else its English label.
pub fn role_label(catalogs: &CatalogSet, id: RoleId, lang: Lang) -> Cow<'_, str> {
    let def = catalogs.role_def(id);
    match lang {
        Lang::Ja if !def.ja.is_empty() => Cow::Borrowed(&def.ja),
        _ => catalogs.role_label_of(id),
    }
}

/// [`role_label`] of a qualified role name ("jp1-itdm.agent").
pub fn role_label_named(catalogs: &CatalogSet, qualified: &str, lang: Lang) -> String {
    match catalogs.role_id(qualified) {
        Some(id) => role_label(catalogs, id, lang).into_owned(),
        None => catalogs.role_label(qualified),
    }
}

/// A rule's purpose in `lang` (the catalog's text, else its id), without
/// the service name.
pub fn purpose_text(rule: &Rule, lang: Lang) -> &str {
    match lang {
        Lang::Ja if !rule.ja.is_empty() => &rule.ja,
        _ if !rule.en.is_empty() => &rule.en,
        _ => &rule.id,
    }
}

/// "agent 10.1.2.3 (pc-01)" or "host 10.1.2.3". A host of several roles is
/// called by one that matters here: the first (in name order) that is, or
/// implies, a role of `prefer` (the roles the rule names on its side), else
/// the first.
struct HostName<'a>(Words<'a>, IpAddr, Option<&'a Host>, RoleSet);

impl Display for HostName<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let catalogs = self.0.catalogs;
        let (addr, host, prefer) = (self.1, self.2, self.3);
        let first = host.and_then(|h| {
            catalogs
                .roles_in_name_order(h.roles)
                .find(|&r| {
                    catalogs
                        .expand(std::iter::once(r).collect())
                        .intersects(prefer)
                })
                .or_else(|| catalogs.roles_in_name_order(h.roles).next())
        });
        let addr = Addr(addr);
        match first {
            Some(role) => write!(f, "{} {addr}", role_label(catalogs, role, self.0.lang))?,
            None => trw!(f, self.0.lang, "host {addr}", "ホスト {addr}", addr = addr)?,
        }
        if let Some(name) = host.and_then(|h| h.name.as_deref()) {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

/// A rule's purpose: its text in the language (or id) and its service name.
struct Purpose<'a>(&'a Rule, Lang);

impl Display for Purpose<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let rule = self.0;
        f.write_str(purpose_text(rule, self.1))?;
        if let Some(service) = &rule.service {
            write!(f, " [{service}]")?;
        }
        Ok(())
    }
}

/// "agent or site server" (「エージェントまたはサイトサーバ」).
struct RoleList<'a>(&'a CatalogSet, &'a [String], Lang);

impl Display for RoleList<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, role) in self.1.iter().enumerate() {
            if i > 0 {
                f.write_str(term!(self.2, " or ", "または"))?;
            }
            f.write_str(&role_label_named(self.0, role, self.2))?;
        }
        Ok(())
    }
}

/// "31000/tcp".
struct Port(u16, Transport);

impl Display for Port {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0, self.1.as_str())
    }
}

/// A duration: "12 s", "2.5 s", "0 s" for none (「12 秒」).
struct Seconds(i64, Lang);

impl Display for Seconds {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let unit = term!(self.1, "s", "秒");
        if self.0 <= 0 {
            return write!(f, "0 {unit}");
        }
        let s = self.0 as f64 / 1e9;
        if s >= 10.0 {
            write!(f, "{s:.0} {unit}")
        } else {
            write!(f, "{s:.1} {unit}")
        }
    }
}

/// " over 12 s" (「、12 秒間」), or nothing when the time span is zero.
struct Over(i64, Lang);

impl Display for Over {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 > 0 {
            let s = Seconds(self.0, self.1);
            trw!(f, self.1, " over {s}", "、{s}間", s = s)
        } else {
            Ok(())
        }
    }
}

/// "1 packet", "2 packets".
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A count in `lang`: "1 packet", "2 packets" in English; 「パケット 2 個」
/// in Japanese (`what` then the number and its counter word).
pub(crate) fn count(lang: Lang, n: u64, one: &str, many: &str, ja: &str, counter: &str) -> String {
    match lang {
        Lang::En => counted(n, one, many),
        Lang::Ja => format!("{ja} {n} {counter}"),
    }
}

/// An input as the report headers state it: "path: pcapng, link type 1,
/// 216 packets", and the tunnels that carried its connections.
pub(crate) fn input_summary(input: &crate::analysis::InputSummary, lang: Lang) -> String {
    let links: Vec<String> = input.linktypes.iter().map(u32::to_string).collect();
    let packets = count(lang, input.packets, "packet", "packets", "パケット", "個");
    let mut line = match lang {
        Lang::En => format!(
            "{}: {}, link type{} {}, {packets}",
            input.path,
            input.format.as_str(),
            if links.len() == 1 { "" } else { "s" },
            links.join(", "),
        ),
        Lang::Ja => format!(
            "{}: {}、リンクタイプ {}、{packets}",
            input.path,
            input.format.as_str(),
            links.join(", "),
        ),
    };
    let tunnels: Vec<String> = input
        .tunnels
        .nonzero()
        .map(|(kind, packets)| format!("{kind} {packets}"))
        .collect();
    if !tunnels.is_empty() {
        // The connections are the ones inside; say what carried them.
        line.push_str(term!(
            lang,
            "; through tunnels (packets): ",
            "。トンネル経由（パケット数）: "
        ));
        line.push_str(&tunnels.join(", "));
    }
    line
}

/// Where the roles came from, as the report headers state it.
pub(crate) fn inventory_summary(o: &super::Outcome<'_>) -> String {
    let hosts = &o.classification.hosts;
    let lang = o.lang;
    let n = hosts.with_roles().count() as u64;
    let with_roles = count(lang, n, "host", "hosts", "ホスト", "台");
    match (o.inventory.map(|i| &i.file), hosts.from_inventory()) {
        (Some(file), true) => tr!(
            lang,
            "{file}: {hosts} with roles seen",
            "{file}: 役割のある{hosts}を検出",
            file = file,
            hosts = with_roles
        ),
        (None, true) => tr!(
            lang,
            "{hosts} with roles seen",
            "役割のある{hosts}を検出",
            hosts = with_roles
        ),
        (_, false) => tr!(
            lang,
            "none, roles inferred from traffic ({hosts})",
            "なし。役割は通信から推定（{hosts}）",
            hosts = with_roles
        ),
    }
}

/// The traffic counts the report headers state.
pub(crate) fn traffic_summary(o: &super::Outcome<'_>) -> String {
    let t = &o.totals;
    let lang = o.lang;
    let convs = o.classification.conversations.len() as u64;
    let mut traffic = match lang {
        Lang::En => format!(
            "{}, {}, {}",
            counted(t.packets, "packet", "packets"),
            counted(t.connections, "connection", "connections"),
            counted(convs, "conversation", "conversations")
        ),
        Lang::Ja => format!(
            "パケット {} 個、接続 {} 件、通信 {} 件",
            t.packets, t.connections, convs
        ),
    };
    if t.broadcast_packets > 0 {
        traffic.push_str(&tr!(
            lang,
            ", {packets} (not judged)",
            "、{packets}（判定対象外）",
            packets = count(
                lang,
                t.broadcast_packets,
                "broadcast/multicast packet",
                "broadcast/multicast packets",
                "ブロードキャスト/マルチキャストのパケット",
                "個"
            )
        ));
    }
    traffic
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The reason of a classified conversation, as a sentence.
pub struct ReasonText<'a> {
    pub words: Words<'a>,
    pub conv: &'a Classified,
}

impl Display for ReasonText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let conv = &self.conv.conv;
        if conv.folded() > 0 {
            let n = u64::from(conv.folded());
            let client = conv.key.client;
            match self.words.lang {
                Lang::En => write!(
                    f,
                    "{n} connection{} from clients beyond the conversation limit {} folded into this line \
                     (client {client}): a flood or scan? ",
                    plural(n),
                    if n == 1 { "is" } else { "are" },
                )?,
                Lang::Ja => write!(
                    f,
                    "通信数の上限を超えたクライアントからの接続 {n} 件をこの行にまとめています\
                     （クライアント {client}）。フラッドかスキャンでは？"
                )?,
            }
        }
        self.words.reason(f, self.conv)
    }
}

impl<'a> Words<'a> {
    /// How the client (`side` 0) or the server (1) of `c` is called, by
    /// one of `prefer` where it holds several roles.
    fn host(&self, c: &'a Classified, side: usize, prefer: RoleSet) -> HostName<'a> {
        let key = c.conv.key;
        let addr = if side == 0 { key.client } else { key.server };
        HostName(
            *self,
            addr,
            c.hosts[side].map(|id| self.hosts.host(id)),
            prefer,
        )
    }

    /// The roles that matter for each side of `c`: those its rule names on
    /// that side (for a reversed conversation, on the other side).
    fn sides(&self, c: &Classified) -> [RoleSet; 2] {
        let rule = match &c.reason {
            Reason::NotInCatalog | Reason::FitsNoRule { rule: None } => None,
            Reason::Allowed { rule }
            | Reason::Blocked { rule, .. }
            | Reason::WrongWay { rule }
            | Reason::OsCondition { rule, .. }
            | Reason::FeatureOff { rule }
            | Reason::InternalPort { rule }
            | Reason::FitsNoRule { rule: Some(rule) }
            | Reason::SharedPort { rule, .. }
            | Reason::NoCompanion { rule } => Some(self.catalogs.rule_by_id(*rule)),
        };
        match (rule, &c.reason) {
            (Some(r), Reason::WrongWay { .. }) => [r.server_set, r.client_set],
            (Some(r), _) => [r.client_set, r.server_set],
            (None, _) => [RoleSet::EMPTY; 2],
        }
    }

    /// Writes the sentence of `c`'s reason.
    pub fn reason(&self, f: &mut dyn fmt::Write, c: &'a Classified) -> fmt::Result {
        let key = c.conv.key;
        let lang = self.lang;
        let port = Port(key.server_port, key.transport);
        let [client_roles, server_roles] = self.sides(c);
        let client = self.host(c, 0, client_roles);
        let server = self.host(c, 1, server_roles);
        let rule = |id| self.catalogs.rule_by_id(id);
        let purpose = |r| Purpose(r, lang);
        let roles = |list| RoleList(self.catalogs, list, lang);
        let inventory = self.hosts.from_inventory();
        match &c.reason {
            Reason::NotInCatalog => trw!(
                f,
                lang,
                "{port} is in no loaded catalog: {client} to {server} is outside the products' port lists.",
                "{port} は読み込んだどのカタログにもありません。{client} から {server} への通信は製品のポート一覧の対象外です。",
                port = port,
                client = client,
                server = server
            ),
            Reason::Allowed { rule: id } => trw!(
                f,
                lang,
                "{client} → {server} on {port}: {purpose}.",
                "{client} → {server} {port}: {purpose}。",
                client = client,
                server = server,
                port = port,
                purpose = purpose(rule(*id))
            ),
            Reason::Blocked { evidence, .. } => self.blocked(f, c, evidence),
            Reason::WrongWay { rule: id } => {
                let rule = rule(*id);
                trw!(
                    f,
                    lang,
                    "{client} opened {port} to {server}, but the catalog has {clients} connect to {servers} on that port ({purpose}): \
                     the connection goes the wrong way; check which host is which ({hint}).",
                    "{client} が {server} の {port} に接続しましたが、カタログではこのポートは {clients} から {servers} への接続です（{purpose}）。\
                     接続の向きが逆です。どのホストがどの役割か確認してください（{hint}）。",
                    client = client,
                    server = server,
                    port = port,
                    clients = roles(&rule.clients),
                    servers = roles(&rule.servers),
                    purpose = purpose(rule),
                    hint = if inventory {
                        term!(lang, "or the inventory's roles", "またはインベントリの役割")
                    } else {
                        term!(
                            lang,
                            "the roles here are inferred from traffic; an --inventory states them",
                            "ここでの役割は通信から推定したものです。--inventory で明示できます"
                        )
                    }
                )
            }
            Reason::OsCondition {
                rule: id,
                host,
                os,
                note,
            } => {
                trw!(
                    f,
                    lang,
                    "{client} → {server} on {port} ({purpose}): not used when {host} is a {os} server",
                    "{client} → {server} {port}（{purpose}）: {host} が {os} サーバの場合は使用しません",
                    client = client,
                    server = server,
                    port = port,
                    purpose = purpose(rule(*id)),
                    host = host,
                    os = os.as_str().to_uppercase(),
                )?;
                if let Some(note) = note {
                    let note = &self.catalogs.note_by_id(*note).id;
                    trw!(f, lang, " ({note})", "（{note}）", note = note)?;
                }
                f.write_str(term!(
                    lang,
                    ", yet it ran; check the host's configuration or the inventory's os.",
                    "が、通信がありました。ホストの構成またはインベントリの os を確認してください。"
                ))
            }
            Reason::FeatureOff { rule: id } => {
                let rule = rule(*id);
                let feature = rule.requires_feature.as_deref().unwrap_or("");
                if inventory {
                    trw!(
                        f,
                        lang,
                        "{client} → {server} on {port} ({purpose}) is used only with the feature '{feature}', which the \
                         inventory does not enable for {catalog}; enable it in the inventory if it is in use, or find out \
                         what opens {port}.",
                        "{client} → {server} {port}（{purpose}）は機能 '{feature}' を使う場合だけ使用しますが、\
                         インベントリは {catalog} のこの機能を有効にしていません。使用しているならインベントリで有効にし、\
                         そうでなければ何が {port} を開いているか調べてください。",
                        client = client,
                        server = server,
                        port = port,
                        purpose = purpose(rule),
                        feature = feature,
                        catalog = rule.catalog
                    )
                } else {
                    trw!(
                        f,
                        lang,
                        "{client} → {server} on {port} ({purpose}) is used only with the feature '{feature}', which is off \
                         without an inventory; if it is in use, give an --inventory whose [{catalog}] features list it, or \
                         find out what opens {port}.",
                        "{client} → {server} {port}（{purpose}）は機能 '{feature}' を使う場合だけ使用しますが、\
                         インベントリがないためこの機能は無効とみなします。使用しているなら [{catalog}] の features に\
                         この機能を挙げたインベントリを --inventory で指定し、そうでなければ何が {port} を開いているか調べてください。",
                        client = client,
                        server = server,
                        port = port,
                        purpose = purpose(rule),
                        feature = feature,
                        catalog = rule.catalog
                    )
                }
            }
            Reason::InternalPort { rule: id } => trw!(
                f,
                lang,
                "{port} is internal to one host ({purpose}) but ran between {client} and {server}: \
                 something exposes an internal port; block it between hosts.",
                "{port} は1台のホストの内部で使うポート（{purpose}）ですが、{client} と {server} の間で通信がありました。\
                 内部用のポートが外に公開されています。ホスト間では遮断してください。",
                port = port,
                purpose = purpose(rule(*id)),
                client = client,
                server = server
            ),
            Reason::FitsNoRule { rule: Some(id) } => {
                let rule = rule(*id);
                trw!(
                    f,
                    lang,
                    "{port} is a {catalog} port ({purpose}) for {clients} → {servers}, but {client} → {server} fits no rule in either direction: \
                     {hint}, or what opens {port}.",
                    "{port} は {catalog} の {clients} → {servers} 用のポート（{purpose}）ですが、{client} → {server} は\
                     どちら向きでもどのルールにも当てはまりません。{hint}。または何が {port} を開いているか調べてください。",
                    port = port,
                    catalog = rule.catalog,
                    purpose = purpose(rule),
                    clients = roles(&rule.clients),
                    servers = roles(&rule.servers),
                    client = client,
                    server = server,
                    hint = if inventory {
                        term!(
                            lang,
                            "check the hosts' roles in the inventory",
                            "インベントリでホストの役割を確認してください"
                        )
                    } else {
                        term!(
                            lang,
                            "the roles here are inferred from traffic; give an --inventory that lists the hosts' roles",
                            "ここでの役割は通信から推定したものです。ホストの役割を挙げたインベントリを --inventory で指定してください"
                        )
                    }
                )
            }
            Reason::SharedPort {
                rule: id,
                not_shown,
            } => {
                let rule = rule(*id);
                trw!(
                    f,
                    lang,
                    "{port} is a shared port (other software uses it too), in {catalog} for {clients} → {servers} ({purpose}); ",
                    "{port} は共用ポート（ほかのソフトウェアも使用）で、{catalog} では {clients} → {servers} 用です（{purpose}）。",
                    port = port,
                    catalog = rule.catalog,
                    clients = roles(&rule.clients),
                    servers = roles(&rule.servers),
                    purpose = purpose(rule),
                )?;
                if *not_shown {
                    trw!(
                        f,
                        lang,
                        "neither {client} nor {server} shows a role of it, so {client} → {server} is not judged; \
                         if it is {catalog}'s traffic, {hint}.",
                        "{client} も {server} もこの製品の役割を示していないため、{client} → {server} は判定しません。\
                         {catalog} の通信であれば、{hint}。",
                        client = client,
                        server = server,
                        catalog = rule.catalog,
                        hint = if inventory {
                            term!(
                                lang,
                                "give the hosts their roles in the inventory",
                                "インベントリでホストに役割を与えてください"
                            )
                        } else {
                            term!(
                                lang,
                                "give an --inventory that lists the hosts' roles",
                                "ホストの役割を挙げたインベントリを --inventory で指定してください"
                            )
                        }
                    )
                } else {
                    trw!(
                        f,
                        lang,
                        "{client} → {server} fits no rule of it either way, so it is not judged (other software, \
                         not {catalog}).",
                        "{client} → {server} はどちら向きでもこの製品のルールに当てはまらないため、判定しません\
                         （{catalog} ではない、ほかのソフトウェアの通信）。",
                        client = client,
                        server = server,
                        catalog = rule.catalog
                    )
                }
            }
            Reason::NoCompanion { rule: id } => {
                let rule = rule(*id);
                let companion = Companion(
                    rule.companion_rule.map(|c| self.catalogs.rule_by_id(c)),
                    lang,
                );
                trw!(
                    f,
                    lang,
                    "{port} counts as a {catalog} port ({purpose}) only after {companion}was answered between {client} and {server}, \
                     earlier; there was no such connection, so it is not judged (a port scan, or other software's RPC).",
                    "{port} が {catalog} のポート（{purpose}）とみなされるのは、先に {client} と {server} の間で\
                     {companion}接続が応答された場合だけです。そのような接続がなかったため、判定しません\
                     （ポートスキャン、またはほかのソフトウェアの RPC）。",
                    port = port,
                    catalog = rule.catalog,
                    purpose = purpose(rule),
                    companion = companion,
                    client = client,
                    server = server
                )
            }
            Reason::FitsNoRule { rule: None } => trw!(
                f,
                lang,
                "{port} is a catalog port, but {client} → {server} fits no rule in either direction.",
                "{port} はカタログのポートですが、{client} → {server} はどちら向きでもどのルールにも当てはまりません。",
                port = port,
                client = client,
                server = server
            ),
        }
    }

    /// The parts of a blocked reason. English joins them with "; " and
    /// ends in "." unless the last part is a question; each Japanese part
    /// is a sentence of its own (。 or ？).
    fn blocked(&self, f: &mut dyn fmt::Write, c: &'a Classified, b: &Blocked) -> fmt::Result {
        let key = c.conv.key;
        let lang = self.lang;
        let port = Port(key.server_port, key.transport);
        let [client_roles, server_roles] = self.sides(c);
        let client = self.host(c, 0, client_roles);
        let server = self.host(c, 1, server_roles);
        let mut first = true;
        let mut question = false;
        let mut part = |f: &mut dyn fmt::Write, text: fmt::Arguments<'_>, asks: bool| {
            if !first && lang == Lang::En {
                f.write_str("; ")?;
            }
            first = false;
            question = asks;
            f.write_fmt(text)
        };
        match b.icmp {
            Some(IcmpBlock::ThirdParty(reporter)) => part(
                f,
                format_args!(
                    "{}",
                    tr!(
                        lang,
                        "{reporter} answered {client}'s attempts to reach {server} on {port} with ICMP destination \
                         unreachable: a firewall or router at {reporter} blocks {port}; open it there",
                        "{reporter} が、{client} から {server} の {port} への試行に ICMP 到達不能（destination unreachable）で\
                         応答しました。{reporter} のファイアウォールまたはルータが {port} を遮断しています。そこで開放してください。",
                        reporter = reporter,
                        client = client,
                        server = server,
                        port = port
                    )
                ),
                false,
            )?,
            Some(IcmpBlock::Server) => part(
                f,
                format_args!(
                    "{}",
                    tr!(
                        lang,
                        "{server} answered {client} on {port} with ICMP destination unreachable: nothing listens on \
                         {port} there, or its host firewall rejects it; is the service running?",
                        "{server} が {client} に {port} で ICMP 到達不能を返しました。そこで {port} を待ち受けているものがないか、\
                         ホストのファイアウォールが拒否しています。サービスは動いていますか？",
                        server = server,
                        client = client,
                        port = port
                    )
                ),
                true,
            )?,
            None => {}
        }
        match b.refused {
            Some(Refusal::Middlebox { rst_ttl, usual_ttl }) => part(
                f,
                format_args!(
                    "{}",
                    tr!(
                        lang,
                        "{client} was refused (RST) on {port} by {server}'s address, but the RST's TTL {rst_ttl} differs \
                         from {server}'s other packets (TTL {usual_ttl}): a middlebox (firewall) probably sent it; check \
                         the firewall between them for {port}",
                        "{client} は {port} で {server} のアドレスから拒否（RST）されましたが、RST の TTL {rst_ttl} は \
                         {server} のほかのパケット（TTL {usual_ttl}）と異なります。途中の機器（ファイアウォール）が送った可能性が\
                         高いので、両者の間のファイアウォールで {port} を確認してください。",
                        client = client,
                        port = port,
                        server = server,
                        rst_ttl = rst_ttl,
                        usual_ttl = usual_ttl
                    )
                ),
                false,
            )?,
            Some(Refusal::Server) => part(
                f,
                format_args!(
                    "{}",
                    tr!(
                        lang,
                        "{server} refused {port} from {client} (RST): is the service running and listening on {port}, \
                         and does the host firewall allow it?",
                        "{server} が {client} からの {port} を拒否しました（RST）。サービスは動いていて {port} を待ち受けていますか？\
                         ホストのファイアウォールは許可していますか？",
                        server = server,
                        port = port,
                        client = client
                    )
                ),
                true,
            )?,
            None => {}
        }
        // " over 2.0 s"; nothing for a single instant ("over 0 s" says nothing).
        let span = Over(b.span_ns, lang);
        if b.no_reply {
            part(
                f,
                format_args!(
                    "{}",
                    tr!(
                        lang,
                        "{client} got no answer from {server} on {port} ({n} SYN{s}{span}): is {port} open between them?",
                        "{client} は {server} の {port} から応答を得られませんでした（SYN {n} 回{span}{s}）。\
                         両者の間で {port} は開いていますか？",
                        client = client,
                        server = server,
                        port = port,
                        n = b.attempts,
                        // Japanese has no plural: nothing to add.
                        s = match lang {
                            Lang::En => plural(b.attempts),
                            Lang::Ja => "",
                        },
                        span = span
                    )
                ),
                true,
            )?;
        }
        if b.unanswered {
            part(
                f,
                format_args!(
                    "{}",
                    tr!(
                        lang,
                        "{server} never answered {client} on {port} ({n} datagram{s}{span}): is {port} open between \
                         them and the service running?",
                        "{server} は {client} に {port} で一度も応答しませんでした（データグラム {n} 個{span}{s}）。\
                         両者の間で {port} は開いていて、サービスは動いていますか？",
                        server = server,
                        client = client,
                        port = port,
                        n = b.attempts,
                        s = match lang {
                            Lang::En => plural(b.attempts),
                            Lang::Ja => "",
                        },
                        span = span
                    )
                ),
                true,
            )?;
        }
        if !question && lang == Lang::En {
            f.write_char('.')?;
        }
        if b.got_through > 0 {
            trw!(
                f,
                lang,
                " ({got} of {n} connections did get through.)",
                "（接続 {n} 件のうち {got} 件は通りました。）",
                got = b.got_through,
                n = b.connections
            )?;
        }
        Ok(())
    }
}

/// The companion connection a rule needs first: "135/tcp (purpose) ", or
/// nothing where the catalog names none.
struct Companion<'a>(Option<&'a Rule>, Lang);

impl Display for Companion<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Some(rule) = self.0 else {
            return Ok(());
        };
        let (ports, protocol, purpose) =
            (&rule.ports, rule.protocol.as_str(), Purpose(rule, self.1));
        trw!(
            f,
            self.1,
            "{ports}/{protocol} ({purpose}) ",
            "{ports}/{protocol}（{purpose}）の",
            ports = ports,
            protocol = protocol,
            purpose = purpose
        )
    }
}

/// A kind of change in the baseline comparison (`--baseline`), as the text
/// and HTML reports label its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A finding worse than in the baseline, or absent there.
    New,
    /// A rule that matched traffic in the baseline and matches none now.
    Missing,
    /// A finding of the baseline that is `expected` now.
    Resolved,
    /// A finding of the baseline that this capture does not have.
    NotSeen,
}

impl Change {
    pub const ALL: [Change; 4] = [
        Change::New,
        Change::Missing,
        Change::Resolved,
        Change::NotSeen,
    ];

    /// The line's label: "new" (「新規」).
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Change::New => term!(lang, "new", "新規"),
            Change::Missing => term!(lang, "missing", "消失"),
            Change::Resolved => term!(lang, "resolved", "解消"),
            Change::NotSeen => term!(lang, "not seen", "未観測"),
        }
    }

    /// How many of them, as the comparison's summary counts them: "3 new
    /// findings" (「新規の検出 3 件」).
    pub fn count(self, n: u64, lang: Lang) -> String {
        match self {
            Change::New => count(lang, n, "new finding", "new findings", "新規の検出", "件"),
            Change::Missing => count(
                lang,
                n,
                "missing rule",
                "missing rules",
                "消えたルール",
                "件",
            ),
            Change::Resolved => count(lang, n, "resolved", "resolved", "解消", "件"),
            Change::NotSeen => count(lang, n, "not seen", "not seen", "未観測", "件"),
        }
    }
}

/// A missing rule's line: "rule X matched traffic before, none now".
pub fn missing_rule(rule: &str, lang: Lang) -> String {
    tr!(
        lang,
        "rule {r} matched traffic before, none now",
        "ルール {r} は以前は通信に一致しましたが、今回は一致しません",
        r = rule
    )
}

/// A verdict the baseline report gives by its JSON name, in `lang` (a name
/// this flowlint does not know stays as it is).
pub fn verdict_named(name: &str, lang: Lang) -> Cow<'_, str> {
    match Verdict::parse(name) {
        Some(v) if lang == Lang::Ja => Cow::Borrowed(verdict(v, lang)),
        _ => Cow::Borrowed(name),
    }
}

/// A finding of the baseline this capture does not have: "blocked a → b
/// 31000/tcp (not in this capture: neither better nor worse)".
pub fn not_seen(c: &super::baseline::OldConversation, lang: Lang) -> String {
    tr!(
        lang,
        "{verdict} {client} → {server} {port}/{protocol} (not in this capture: neither better nor worse)",
        "{verdict} {client} → {server} {port}/{protocol}（今回のキャプチャになし: 良くも悪くもなっていません）",
        verdict = verdict_named(&c.verdict, lang),
        client = c.client,
        server = c.server,
        port = c.server_port,
        protocol = c.protocol
    )
}

/// The comparison as its heading says it: "worse" (「悪化あり」).
pub fn baseline_outcome(worse: bool, lang: Lang) -> &'static str {
    if worse {
        term!(lang, "worse", "悪化あり")
    } else {
        term!(lang, "not worse", "悪化なし")
    }
}

/// What a verdict's group of findings is, as the text and HTML reports
/// head it.
pub fn verdict_heading(v: Verdict, lang: Lang) -> &'static str {
    match v {
        Verdict::Blocked => term!(
            lang,
            "a rule allows these, and connections failed",
            "ルールが許可しているのに、接続が失敗した通信"
        ),
        Verdict::WrongDirection => term!(
            lang,
            "only the reverse direction is allowed",
            "逆向きだけが許可されている通信"
        ),
        Verdict::Unexpected => term!(
            lang,
            "catalog ports, but no rule allows them in either direction",
            "カタログのポートだが、どちら向きでもルールが許可しない通信"
        ),
        Verdict::Expected => term!(
            lang,
            "allowed by a rule, and working",
            "ルールが許可し、動いている通信"
        ),
        Verdict::Unlisted => term!(
            lang,
            "not judged: ports in no catalog, shared ports where no host shows the product",
            "判定対象外: どのカタログにもないポート、製品の役割を示すホストがない共用ポート"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{NoteId, Os};
    use crate::classify::{ConvKey, Conversation, REASON_CODES};

    const CLIENT: &str = "192.0.2.7";
    const SERVER: &str = "198.51.100.9";
    const REPORTER: &str = "203.0.113.5";

    fn catalogs() -> CatalogSet {
        CatalogSet::load(&[]).unwrap()
    }

    fn rule<'c>(set: &'c CatalogSet, id: &str) -> &'c Rule {
        set.rules()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
    }

    fn evidence(f: impl FnOnce(&mut Blocked)) -> Box<Blocked> {
        let mut b = Blocked {
            icmp: None,
            refused: None,
            no_reply: false,
            unanswered: false,
            attempts: 7,
            span_ns: 4_500_000_000,
            got_through: 3,
            connections: 5,
        };
        f(&mut b);
        Box::new(b)
    }

    /// One reason of every kind (and every kind of blocking evidence), with
    /// the values each sentence must name whatever its language.
    fn samples(set: &CatalogSet) -> Vec<(Reason, Vec<String>)> {
        let id = |r: &str| rule(set, r).rid;
        let agent = id("jp1-itdm/agent-to-manager");
        let jmevt1 = rule(set, "systemwalker-om/jmevt1");
        let note = set.os_note(jmevt1, Os::Unix).map(|n: NoteId| n);
        let feature = rule(set, "systemwalker-om/mpnjsocl");
        let internal = id("jp1-itdm/manager-internal-single");
        let shared = id("jp1-itdm/agentless-smb-udp");
        let dynamic = id("systemwalker-om/jobschmsgevent-dynamic");
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        vec![
            (Reason::NotInCatalog, v(&[])),
            (Reason::Allowed { rule: agent }, v(&[])),
            (
                Reason::Blocked {
                    rule: agent,
                    evidence: evidence(|b| {
                        b.icmp = Some(IcmpBlock::ThirdParty(REPORTER.parse().unwrap()))
                    }),
                },
                v(&[REPORTER, "3", "5"]),
            ),
            (
                Reason::Blocked {
                    rule: agent,
                    evidence: evidence(|b| b.icmp = Some(IcmpBlock::Server)),
                },
                v(&["3", "5"]),
            ),
            (
                Reason::Blocked {
                    rule: agent,
                    evidence: evidence(|b| {
                        b.refused = Some(Refusal::Middlebox {
                            rst_ttl: 250,
                            usual_ttl: 128,
                        })
                    }),
                },
                v(&["250", "128"]),
            ),
            (
                Reason::Blocked {
                    rule: agent,
                    evidence: evidence(|b| b.refused = Some(Refusal::Server)),
                },
                v(&[]),
            ),
            (
                Reason::Blocked {
                    rule: agent,
                    evidence: evidence(|b| b.no_reply = true),
                },
                v(&["7", "4.5"]),
            ),
            (
                Reason::Blocked {
                    rule: agent,
                    evidence: evidence(|b| b.unanswered = true),
                },
                v(&["7", "4.5"]),
            ),
            (Reason::WrongWay { rule: agent }, v(&[])),
            (
                Reason::OsCondition {
                    rule: jmevt1.rid,
                    host: SERVER.parse().unwrap(),
                    os: Os::Unix,
                    note,
                },
                v(&["UNIX", "注1", "JMEVT1"]),
            ),
            (
                Reason::FeatureOff { rule: feature.rid },
                v(&[
                    feature.requires_feature.as_deref().unwrap(),
                    "systemwalker-om",
                ]),
            ),
            (Reason::InternalPort { rule: internal }, v(&[])),
            (Reason::FitsNoRule { rule: Some(agent) }, v(&["jp1-itdm"])),
            (Reason::FitsNoRule { rule: None }, v(&[])),
            (
                Reason::SharedPort {
                    rule: shared,
                    not_shown: true,
                },
                v(&["jp1-itdm"]),
            ),
            (
                Reason::SharedPort {
                    rule: shared,
                    not_shown: false,
                },
                v(&["jp1-itdm"]),
            ),
            (Reason::NoCompanion { rule: dynamic }, v(&["135/tcp"])),
        ]
    }

    fn render(set: &CatalogSet, hosts: &Hosts, reason: &Reason, lang: Lang) -> String {
        let key = ConvKey {
            client: CLIENT.parse().unwrap(),
            server: SERVER.parse().unwrap(),
            server_port: 31000,
            transport: Transport::Tcp,
        };
        let c = Classified {
            conv: Conversation::new(key, 0),
            verdict: Verdict::Expected,
            rule: None,
            reason: reason.clone(),
            hosts: [None, None],
        };
        ReasonText {
            words: Words {
                catalogs: set,
                hosts,
                lang,
            },
            conv: &c,
        }
        .to_string()
    }

    #[test]
    fn every_reason_is_said_in_both_languages_with_all_its_values() {
        let set = catalogs();
        let hosts = Hosts::default();
        let samples = samples(&set);
        for (reason, values) in &samples {
            let en = render(&set, &hosts, reason, Lang::En);
            let ja = render(&set, &hosts, reason, Lang::Ja);
            assert_ne!(en, ja, "untranslated: {reason:?}");
            assert!(
                ja.chars()
                    .any(|c| unicode_width::UnicodeWidthChar::width(c) == Some(2)),
                "no Japanese in {ja}"
            );
            assert!(!en.contains(char::is_control) && !ja.contains(char::is_control));
            for value in [CLIENT, SERVER, "31000/tcp"]
                .iter()
                .map(|s| s.to_string())
                .chain(values.iter().cloned())
            {
                // A reason about a port names the port and both hosts.
                assert!(
                    en.contains(&value),
                    "{value} missing from the English: {en}"
                );
                assert!(
                    ja.contains(&value),
                    "{value} missing from the Japanese: {ja}"
                );
            }
        }
        // Every reason code has its sample, so no kind goes untested.
        let mut codes: Vec<&str> = samples.iter().map(|(r, _)| r.reason_code()).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut all = REASON_CODES.to_vec();
        all.sort_unstable();
        assert_eq!(codes, all);
    }

    #[test]
    fn baseline_changes_are_said_in_both_languages_with_their_values() {
        let old: crate::report::baseline::OldConversation =
            serde_json::from_value(serde_json::json!({
                "client": CLIENT, "server": SERVER, "server_port": 31000,
                "protocol": "tcp", "client_roles": [], "server_roles": [],
                "verdict": "blocked", "rule": null, "reason": "", "connections": 1,
                "states": {}, "packets": 1, "bytes": 60,
                "first_seen": "2024-01-01T00:00:00Z", "last_seen": "2024-01-01T00:00:00Z"
            }))
            .unwrap();
        let mut said: Vec<(String, String, Vec<String>)> = Vec::new();
        for c in Change::ALL {
            said.push((c.label(Lang::En).into(), c.label(Lang::Ja).into(), vec![]));
            said.push((c.count(7, Lang::En), c.count(7, Lang::Ja), vec!["7".into()]));
        }
        let rule = "jp1-itdm/agent-to-manager".to_string();
        said.push((
            missing_rule(&rule, Lang::En),
            missing_rule(&rule, Lang::Ja),
            vec![rule.clone()],
        ));
        said.push((
            not_seen(&old, Lang::En),
            not_seen(&old, Lang::Ja),
            vec![CLIENT.into(), SERVER.into(), "31000/tcp".into()],
        ));
        for worse in [true, false] {
            said.push((
                baseline_outcome(worse, Lang::En).into(),
                baseline_outcome(worse, Lang::Ja).into(),
                vec![],
            ));
        }
        for (en, ja, values) in &said {
            assert_ne!(en, ja, "untranslated");
            assert!(en.is_ascii() || en.contains('→'), "{en}");
            assert!(
                ja.chars()
                    .any(|c| unicode_width::UnicodeWidthChar::width(c) == Some(2)),
                "no Japanese in {ja}"
            );
            for v in values {
                assert!(
                    en.contains(v.as_str()) && ja.contains(v.as_str()),
                    "{v}: {en} / {ja}"
                );
            }
        }
        // The baseline's verdict (a JSON name) in the glossary's term.
        assert!(not_seen(&old, Lang::Ja).starts_with("遮断の疑い "));
        assert!(not_seen(&old, Lang::En).starts_with("blocked "));
        assert_eq!(verdict_named("someday", Lang::Ja), "someday");
    }

    #[test]
    fn roles_and_terms_come_from_the_catalog_and_the_glossary() {
        let set = catalogs();
        let manager = set.role_id("jp1-itdm.manager").unwrap();
        assert_eq!(role_label(&set, manager, Lang::Ja), "管理用サーバ");
        assert_eq!(role_label(&set, manager, Lang::En), "management server");
        let executor = set.role_id("systemwalker-om.job_executor").unwrap();
        assert_eq!(role_label(&set, executor, Lang::Ja), "ジョブ実行サーバ");
        for v in Verdict::ALL {
            assert_eq!(verdict(v, Lang::En), v.as_str());
            assert_ne!(verdict(v, Lang::Ja), v.as_str());
        }
        for s in State::ALL {
            assert_eq!(state(s, Lang::En), s.as_str());
            assert_ne!(state(s, Lang::Ja), s.as_str());
        }
    }
}
