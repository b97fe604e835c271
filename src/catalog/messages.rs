//! What is wrong with a catalog, a services file or a port change, as data,
//! worded in both languages side by side. The English rendering is the
//! `Display` text (tests and scripts compare it).

use std::fmt;

use crate::report::lang::{list, IoText, Lang};
use crate::{term, tr};

/// The input an error is about: the line names it before the place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Catalog,
    Services,
    /// A port change of the inventory (`[ports]`).
    Inventory,
}

/// A port entry of a rule that is not a port or a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortEntry {
    OutOfRange { port: i64 },
    NotANumber { text: String },
    Reversed { range: String, low: u16, high: u16 },
    WrongType { type_name: &'static str },
}

impl PortEntry {
    fn render(&self, lang: Lang) -> String {
        match self {
            PortEntry::OutOfRange { port } => tr!(
                lang,
                "port {port} is out of range (1-65535)",
                "ポート {port} が範囲（1-65535）の外です",
                port = port
            ),
            PortEntry::NotANumber { text } => tr!(
                lang,
                "'{text}' is not a port number",
                "'{text}' はポート番号ではありません",
                text = text
            ),
            PortEntry::Reversed { range, low, high } => tr!(
                lang,
                "port range '{range}' is reversed ({low} > {high})",
                "ポート範囲 '{range}' が逆順です（{low} > {high}）",
                range = range,
                low = low,
                high = high
            ),
            PortEntry::WrongType { type_name } => tr!(
                lang,
                "a port must be a number or a \"a-b\" range string, not {type_name}",
                "ポートは数値か \"a-b\" の範囲の文字列で書いてください（{type_name} ではなく）",
                type_name = type_name
            ),
        }
    }
}

/// Why a catalog, a services file or a port change cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    UnknownCatalog {
        spec: String,
    },
    ReadCatalog(IoText),
    LoadedTwice {
        name: String,
    },
    TooManyRoles {
        max: usize,
    },
    /// TOML that does not parse or does not fit the catalog's shape: the
    /// toml crate's sentence, on one line.
    Toml(String),
    CatalogName {
        name: String,
    },
    RoleName {
        name: String,
    },
    RoleTwice {
        name: String,
    },
    UnknownRole {
        role: String,
        catalog: String,
        known: Vec<String>,
    },
    FeatureName {
        name: String,
    },
    FeatureTwice {
        name: String,
    },
    EmptyNoteId,
    NoteTwice {
        id: String,
    },
    RuleId {
        id: String,
    },
    RuleIdTwice {
        id: String,
    },
    RuleProtocol {
        rule: String,
        protocol: String,
    },
    NoPorts {
        rule: String,
    },
    Port {
        rule: String,
        entry: PortEntry,
    },
    ServiceName {
        rule: String,
        service: String,
    },
    /// `what` is the TOML key: `clients` or `servers`.
    NoRoles {
        rule: String,
        what: &'static str,
    },
    Scope {
        rule: String,
        scope: String,
    },
    ExpectsReplyTcp {
        rule: String,
    },
    UnknownFeature {
        rule: String,
        feature: String,
        catalog: String,
        known: Vec<String>,
    },
    ExcludeSide {
        rule: String,
        side: String,
    },
    ExcludeOs {
        rule: String,
        os: String,
    },
    OwnCompanion {
        rule: String,
    },
    NoCompanion {
        rule: String,
        companion: String,
    },
    UnknownNote {
        rule: String,
        note: String,
    },
    ReadServices(IoText),
    ServiceWithoutPort {
        name: String,
    },
    ServiceWithoutProtocol {
        name: String,
        field: String,
    },
    ServicePort {
        name: String,
        port: String,
    },
    PortChangeNoCatalog {
        key: String,
        catalog: String,
    },
    PortChangeNoPort {
        key: String,
        catalog: String,
        port: u16,
        protocol: &'static str,
    },
    PortChangeNoService {
        key: String,
        catalog: String,
        service: String,
    },
}

fn builtins() -> Vec<String> {
    super::BUILTIN.iter().map(|b| b.to_string()).collect()
}

/// `none` when the list is empty.
fn known(names: &[String], lang: Lang) -> String {
    if names.is_empty() {
        term!(lang, "none", "なし").to_string()
    } else {
        list(names, lang)
    }
}

impl ErrorKind {
    /// Which input the error is about.
    pub fn input(&self) -> Input {
        use ErrorKind::*;
        match self {
            ReadServices(_)
            | ServiceWithoutPort { .. }
            | ServiceWithoutProtocol { .. }
            | ServicePort { .. } => Input::Services,
            PortChangeNoCatalog { .. } | PortChangeNoPort { .. } | PortChangeNoService { .. } => {
                Input::Inventory
            }
            _ => Input::Catalog,
        }
    }

    /// The description, without the file and line.
    pub fn render(&self, lang: Lang) -> String {
        use ErrorKind::*;
        match self {
            UnknownCatalog { spec } => tr!(
                lang,
                "unknown catalog '{spec}': not a built-in ({builtins}) nor a readable file",
                "カタログ '{spec}' がありません。組み込み（{builtins}）でも読めるファイルでもありません",
                spec = spec,
                builtins = list(&builtins(), lang)
            ),
            ReadCatalog(e) => tr!(
                lang,
                "cannot read catalog file: {e}",
                "カタログファイルを読めません: {e}",
                e = e.render(lang)
            ),
            LoadedTwice { name } => tr!(
                lang,
                "catalog '{name}' is loaded twice",
                "カタログ '{name}' が 2 回読み込まれています",
                name = name
            ),
            TooManyRoles { max } => tr!(
                lang,
                "the loaded catalogs define more than {max} roles; load fewer catalogs",
                "読み込んだカタログの役割が {max} 個を超えています。読み込むカタログを減らしてください",
                max = max
            ),
            Toml(message) => match lang {
                Lang::En => message.clone(),
                // The toml crate words its errors in English only.
                Lang::Ja => format!("TOML として正しくありません: {message}"),
            },
            CatalogName { name } => tr!(
                lang,
                "catalog name '{name}' must be non-empty, without spaces, '.' or '/'",
                "カタログ名 '{name}' は空でなく、空白・'.'・'/' を含まない名前にしてください",
                name = name
            ),
            RoleName { name } => tr!(
                lang,
                "invalid role name '{name}'",
                "役割名 '{name}' が正しくありません",
                name = name
            ),
            RoleTwice { name } => tr!(
                lang,
                "role '{name}' is defined twice",
                "役割 '{name}' が 2 回定義されています",
                name = name
            ),
            UnknownRole {
                role,
                catalog,
                known: names,
            } => tr!(
                lang,
                "unknown role '{role}' (roles of {catalog}: {known})",
                "不明な役割 '{role}' です（{catalog} の役割: {known}）",
                role = role,
                catalog = catalog,
                known = known(names, lang)
            ),
            FeatureName { name } => tr!(
                lang,
                "invalid feature name '{name}'",
                "機能名 '{name}' が正しくありません",
                name = name
            ),
            FeatureTwice { name } => tr!(
                lang,
                "feature '{name}' is defined twice",
                "機能 '{name}' が 2 回定義されています",
                name = name
            ),
            EmptyNoteId => term!(
                lang,
                "a note id must not be empty",
                "注記の id を空にはできません"
            )
            .into(),
            NoteTwice { id } => tr!(
                lang,
                "note '{id}' is defined twice",
                "注記 '{id}' が 2 回定義されています",
                id = id
            ),
            RuleId { id } => tr!(
                lang,
                "invalid rule id '{id}'",
                "ルール id '{id}' が正しくありません",
                id = id
            ),
            RuleIdTwice { id } => tr!(
                lang,
                "rule id '{id}' is used twice",
                "ルール id '{id}' が 2 回使われています",
                id = id
            ),
            RuleProtocol { rule, protocol } => tr!(
                lang,
                "rule '{rule}': protocol '{protocol}' is neither tcp nor udp",
                "ルール '{rule}': プロトコル '{protocol}' は tcp でも udp でもありません",
                rule = rule,
                protocol = protocol
            ),
            NoPorts { rule } => tr!(
                lang,
                "rule '{rule}' has no ports",
                "ルール '{rule}' にポートがありません",
                rule = rule
            ),
            Port { rule, entry } => tr!(
                lang,
                "rule '{rule}': {entry}",
                "ルール '{rule}': {entry}",
                rule = rule,
                entry = entry.render(lang)
            ),
            ServiceName { rule, service } => tr!(
                lang,
                "rule '{rule}': invalid service name '{service}'",
                "ルール '{rule}': サービス名 '{service}' が正しくありません",
                rule = rule,
                service = service
            ),
            NoRoles { rule, what } => tr!(
                lang,
                "rule '{rule}' has no {what}",
                "ルール '{rule}' の {what} が空です",
                rule = rule,
                what = what
            ),
            Scope { rule, scope } => tr!(
                lang,
                "rule '{rule}': scope '{scope}' is neither \"network\" nor \"same-host\"",
                "ルール '{rule}': scope '{scope}' は \"network\" でも \"same-host\" でもありません",
                rule = rule,
                scope = scope
            ),
            ExpectsReplyTcp { rule } => tr!(
                lang,
                "rule '{rule}': expects_reply is only meaningful for udp rules",
                "ルール '{rule}': expects_reply は udp のルールにだけ書けます",
                rule = rule
            ),
            UnknownFeature {
                rule,
                feature,
                catalog,
                known: names,
            } => tr!(
                lang,
                "rule '{rule}': unknown feature '{feature}' (features of {catalog}: {known})",
                "ルール '{rule}': 不明な機能 '{feature}' です（{catalog} の機能: {known}）",
                rule = rule,
                feature = feature,
                catalog = catalog,
                known = known(names, lang)
            ),
            ExcludeSide { rule, side } => tr!(
                lang,
                "rule '{rule}': exclude_os side '{side}' is not client, server or either",
                "ルール '{rule}': exclude_os の side '{side}' は client、server、either のどれでもありません",
                rule = rule,
                side = side
            ),
            ExcludeOs { rule, os } => tr!(
                lang,
                "rule '{rule}': exclude_os os '{os}' is not windows or unix",
                "ルール '{rule}': exclude_os の os '{os}' は windows でも unix でもありません",
                rule = rule,
                os = os
            ),
            OwnCompanion { rule } => tr!(
                lang,
                "rule '{rule}' cannot be its own companion",
                "ルール '{rule}' は自分自身を companion にできません",
                rule = rule
            ),
            NoCompanion { rule, companion } => tr!(
                lang,
                "rule '{rule}': companion rule '{companion}' does not exist",
                "ルール '{rule}': companion のルール '{companion}' がありません",
                rule = rule,
                companion = companion
            ),
            UnknownNote { rule, note } => tr!(
                lang,
                "rule '{rule}': note '{note}' is not defined in [[notes]]",
                "ルール '{rule}': 注記 '{note}' が [[notes]] に定義されていません",
                rule = rule,
                note = note
            ),
            ReadServices(e) => tr!(
                lang,
                "cannot read services file: {e}",
                "サービスファイルを読めません: {e}",
                e = e.render(lang)
            ),
            ServiceWithoutPort { name } => tr!(
                lang,
                "service '{name}' has no port/protocol (expected e.g. \"{name} 1234/tcp\")",
                "サービス '{name}' にポート/プロトコルがありません（例: \"{name} 1234/tcp\"）",
                name = name
            ),
            ServiceWithoutProtocol { name, field } => tr!(
                lang,
                "service '{name}': '{field}' has no protocol (expected port/tcp or port/udp)",
                "サービス '{name}': '{field}' にプロトコルがありません（ポート/tcp か ポート/udp と書いてください）",
                name = name,
                field = field
            ),
            ServicePort { name, port } => tr!(
                lang,
                "service '{name}': '{port}' is not a port number (1-65535)",
                "サービス '{name}': '{port}' はポート番号（1-65535）ではありません",
                name = name,
                port = port
            ),
            PortChangeNoCatalog { key, catalog } => tr!(
                lang,
                "port change '{key}': no catalog '{catalog}' is loaded",
                "ポート変更 '{key}': カタログ '{catalog}' は読み込まれていません",
                key = key,
                catalog = catalog
            ),
            PortChangeNoPort {
                key,
                catalog,
                port,
                protocol,
            } => tr!(
                lang,
                "port change '{key}': no rule of {catalog} uses {port}/{protocol}",
                "ポート変更 '{key}': {catalog} に {port}/{protocol} を使うルールはありません",
                key = key,
                catalog = catalog,
                port = port,
                protocol = protocol
            ),
            PortChangeNoService {
                key,
                catalog,
                service,
            } => tr!(
                lang,
                "port change '{key}': no rule of {catalog} has the service name '{service}'",
                "ポート変更 '{key}': {catalog} にサービス名 '{service}' のルールはありません",
                key = key,
                catalog = catalog,
                service = service
            ),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}
