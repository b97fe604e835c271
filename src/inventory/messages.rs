//! What is wrong with an inventory, as data, worded in both languages side
//! by side. The English rendering is the `Display` text (tests and scripts
//! compare it).

use std::fmt;

use crate::report::lang::{list, IoText, Lang};
use crate::{term, tr};

/// Why an inventory cannot be used (status 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Read(IoText),
    NotUtf8 {
        /// The decoder's own description (English).
        detail: String,
        /// Bytes of valid UTF-8 before the first invalid one.
        valid_up_to: usize,
    },
    /// TOML that does not parse, or does not fit the inventory's shape: the
    /// toml crate's sentence, on one line.
    Toml(String),
    SamePort {
        key: String,
        first_key: String,
        first_line: usize,
    },
    UnknownFeature {
        feature: String,
        catalog: String,
        known: Vec<String>,
    },
    UnknownKey {
        key: String,
        catalogs: Vec<String>,
    },
    HostBits {
        address: String,
        block: ipnet::IpNet,
        host: std::net::IpAddr,
    },
    MalformedAddress {
        address: String,
    },
    UnknownOs {
        os: String,
    },
    RoleNotQualified {
        role: String,
    },
    UnknownRole {
        role: String,
        catalog: String,
        known: Vec<String>,
    },
    /// A role of a built-in catalog the run does not load (`--catalog`).
    RoleOfUnloadedCatalog {
        role: String,
        catalog: String,
        catalogs: Vec<String>,
    },
    RoleOfUnknownCatalog {
        role: String,
        catalog: String,
        catalogs: Vec<String>,
    },
    MalformedPortKey {
        key: String,
    },
    PortKeyProtocol {
        key: String,
        protocol: String,
    },
    PortKeyPort {
        key: String,
        port: String,
    },
    PortKeyCatalog {
        key: String,
        catalog: String,
        catalogs: Vec<String>,
    },
    NewPortRange {
        key: String,
        value: i64,
    },
    NewPortType {
        key: String,
        type_name: &'static str,
    },
}

impl ErrorKind {
    /// The description, without the file and line.
    pub fn render(&self, lang: Lang) -> String {
        use ErrorKind::*;
        match self {
            Read(e) => tr!(
                lang,
                "cannot read inventory: {e}",
                "インベントリを読めません: {e}",
                e = e.render(lang)
            ),
            NotUtf8 {
                detail,
                valid_up_to,
            } => match lang {
                Lang::En => format!("inventory is not UTF-8 text: {detail}"),
                Lang::Ja => format!(
                    "インベントリが UTF-8 のテキストではありません（{valid_up_to} バイト目から）。UTF-8 で保存し直してください"
                ),
            },
            Toml(message) => match lang {
                Lang::En => message.clone(),
                // The toml crate words its errors in English only.
                Lang::Ja => format!("TOML として正しくありません: {message}"),
            },
            SamePort {
                key,
                first_key,
                first_line,
            } => tr!(
                lang,
                "port key '{key}' changes the same port as '{first_key}' on line {first_line}",
                "ポートキー '{key}' は {first_line} 行目の '{first_key}' と同じポートを変更しています",
                key = key,
                first_key = first_key,
                first_line = first_line
            ),
            UnknownFeature {
                feature,
                catalog,
                known,
            } => {
                let known = if known.is_empty() {
                    term!(lang, "none", "なし").to_string()
                } else {
                    list(known, lang)
                };
                tr!(
                    lang,
                    "unknown feature '{feature}' of {catalog} (known features: {known})",
                    "{catalog} に機能 '{feature}' はありません（使える機能: {known}）",
                    feature = feature,
                    catalog = catalog,
                    known = known
                )
            }
            UnknownKey { key, catalogs } => tr!(
                lang,
                "unknown key '{key}' (expected hosts, ports or a catalog name: {catalogs})",
                "不明なキー '{key}' です（hosts、ports またはカタログ名 {catalogs} を書いてください）",
                key = key,
                catalogs = list(catalogs, lang)
            ),
            HostBits {
                address,
                block,
                host,
            } => tr!(
                lang,
                "'{address}' has host bits set: write {block} for the block, or {host} for the host",
                "'{address}' にはホスト部のビットが立っています。ブロックなら {block}、ホストなら {host} と書いてください",
                address = address,
                block = block,
                host = host
            ),
            MalformedAddress { address } => tr!(
                lang,
                "malformed address '{address}' (expected an IPv4/IPv6 address or CIDR block)",
                "アドレス '{address}' が正しくありません（IPv4/IPv6 アドレスか CIDR ブロックを書いてください）",
                address = address
            ),
            UnknownOs { os } => tr!(
                lang,
                "unknown os '{os}' (expected \"windows\" or \"unix\")",
                "不明な os '{os}' です（\"windows\" か \"unix\" を書いてください）",
                os = os
            ),
            RoleNotQualified { role } => tr!(
                lang,
                "role '{role}' must be written catalog.role (e.g. jp1-itdm.manager, systemwalker-om.server)",
                "役割 '{role}' は カタログ.役割 の形で書いてください（例: jp1-itdm.manager、systemwalker-om.server）",
                role = role
            ),
            UnknownRole {
                role,
                catalog,
                known,
            } => tr!(
                lang,
                "unknown role '{role}' (known roles of {catalog}: {known})",
                "不明な役割 '{role}' です（{catalog} の役割: {known}）",
                role = role,
                catalog = catalog,
                known = list(known, lang)
            ),
            RoleOfUnloadedCatalog {
                role,
                catalog,
                catalogs,
            } => tr!(
                lang,
                "role '{role}' is of catalog {catalog}, which this run does not load \
                 (catalogs: {catalogs}): add --catalog {catalog}",
                "役割 '{role}' はカタログ {catalog} のものですが、この実行では読み込んでいません\
                 （カタログ: {catalogs}）。--catalog {catalog} を追加してください",
                role = role,
                catalog = catalog,
                catalogs = list(catalogs, lang)
            ),
            RoleOfUnknownCatalog {
                role,
                catalog,
                catalogs,
            } => tr!(
                lang,
                "unknown role '{role}': no catalog '{catalog}' (catalogs: {catalogs})",
                "不明な役割 '{role}' です。カタログ '{catalog}' はありません（カタログ: {catalogs}）",
                role = role,
                catalog = catalog,
                catalogs = list(catalogs, lang)
            ),
            MalformedPortKey { key } => tr!(
                lang,
                "malformed port key '{key}' (expected \"catalog/port/protocol\" or \"catalog/service-name\")",
                "ポートキー '{key}' が正しくありません（\"カタログ/ポート/プロトコル\" か \"カタログ/サービス名\" の形で書いてください）",
                key = key
            ),
            PortKeyProtocol { key, protocol } => tr!(
                lang,
                "port key '{key}': protocol '{protocol}' is neither tcp nor udp",
                "ポートキー '{key}': プロトコル '{protocol}' は tcp でも udp でもありません",
                key = key,
                protocol = protocol
            ),
            PortKeyPort { key, port } => tr!(
                lang,
                "port key '{key}': '{port}' is not a port number (1-65535)",
                "ポートキー '{key}': '{port}' はポート番号（1-65535）ではありません",
                key = key,
                port = port
            ),
            PortKeyCatalog {
                key,
                catalog,
                catalogs,
            } => tr!(
                lang,
                "port key '{key}': unknown catalog '{catalog}' (catalogs: {catalogs})",
                "ポートキー '{key}': カタログ '{catalog}' はありません（カタログ: {catalogs}）",
                key = key,
                catalog = catalog,
                catalogs = list(catalogs, lang)
            ),
            NewPortRange { key, value } => tr!(
                lang,
                "port key '{key}': {value} is not a port number (1-65535)",
                "ポートキー '{key}': {value} はポート番号（1-65535）ではありません",
                key = key,
                value = value
            ),
            NewPortType { key, type_name } => tr!(
                lang,
                "port key '{key}': the new port must be a number, not {type_name}",
                "ポートキー '{key}': 新しいポートは数値で書いてください（{type_name} ではなく）",
                key = key,
                type_name = type_name
            ),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// A mistake in an inventory that does not stop the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// An address or block listed in two `[[hosts]]` entries.
    ListedAgain {
        file: String,
        line: usize,
        net: ipnet::IpNet,
        first_line: usize,
    },
    /// No `[[hosts]]` at all.
    NoHosts { file: String },
}

impl Warning {
    /// The whole line, naming the file (and line).
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Warning::ListedAgain {
                file,
                line,
                net,
                first_line,
            } => tr!(
                lang,
                "{file}:{line}: {net} is listed again (first on line {first_line}); the entries' roles are merged",
                "インベントリ {file} {line} 行目: {net} が再び書かれています（最初は {first_line} 行目）。両方の役割を合わせて使います",
                file = file,
                line = line,
                net = net,
                first_line = first_line
            ),
            Warning::NoHosts { file } => tr!(
                lang,
                "{file}: no [[hosts]]: no host has a role, so every catalog port is unexpected (list the hosts, \
                 or leave out --inventory to infer roles)",
                "インベントリ {file}: [[hosts]] がありません。役割を持つホストがないので、カタログのポートはすべて想定外になります\
                 （ホストを書くか、--inventory を外して役割を推定させてください）",
                file = file
            ),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}
