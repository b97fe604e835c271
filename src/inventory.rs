//! The site inventory: which host (address or CIDR block) holds which roles,
//! its OS, the optional features in use, and ports changed at setup.
//!
//! Owns: parsing and validating the inventory TOML (every mistake is one error
//! naming the file and line), and looking hosts up by address (union of the
//! roles of every matching entry; the most specific entry gives `name`/`os`,
//! a more specific entry without them inheriting from a less specific one).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;

use serde::Deserialize;
use toml::de::{DeTable, ValueDeserializer};
use toml::Spanned;

use crate::catalog::{parse_transport, CatalogSet, Os, PortChange, PortTarget, BUILTIN};
use crate::report::lang::{IoText, Lang};

mod messages;
pub use messages::{ErrorKind, Warning};

/// One `[[hosts]]` entry.
#[derive(Clone, Debug)]
pub struct HostEntry {
    pub name: Option<String>,
    /// The block, host bits cleared; an IPv4-mapped IPv6 block is stored as IPv4.
    pub net: ipnet::IpNet,
    /// Qualified role names as written (validated), without duplicates.
    pub roles: Vec<String>,
    pub os: Option<Os>,
    /// Line of the `[[hosts]]` header.
    pub line: usize,
}

/// What the inventory says about one address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostInfo {
    pub name: Option<String>,
    pub os: Option<Os>,
    /// Qualified role names as the inventory gives them (not expanded), sorted, deduplicated.
    pub roles: Vec<String>,
}

/// A parsed, validated inventory.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub file: String,
    pub hosts: Vec<HostEntry>,
    /// catalog name → enabled feature names, e.g. "systemwalker-om" → ["business-linkage"].
    pub features: Vec<(String, Vec<String>)>,
    pub port_changes: Vec<PortChange>,
    /// Mistakes that do not stop the run (an address listed twice, no
    /// hosts at all).
    pub warnings: Vec<Warning>,
}

/// An invalid inventory (status 2): file, line, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {kind}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct InventoryError {
    pub file: String,
    pub line: Option<usize>,
    pub kind: ErrorKind,
}

impl InventoryError {
    /// The whole line: which inventory, where, what is wrong.
    pub fn render(&self, lang: Lang) -> String {
        match (lang, self.line) {
            (Lang::En, _) => self.to_string(),
            (Lang::Ja, Some(line)) => format!(
                "インベントリ {} {line} 行目: {}",
                self.file,
                self.kind.render(lang)
            ),
            (Lang::Ja, None) => format!("インベントリ {}: {}", self.file, self.kind.render(lang)),
        }
    }
}

impl Inventory {
    /// Reads and validates an inventory against the catalogs (role names,
    /// feature names, port keys; roles and ports of a built-in catalog that is
    /// not loaded are accepted and ignored).
    pub fn load(
        path: &std::path::Path,
        catalogs: &CatalogSet,
    ) -> Result<Inventory, InventoryError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| InventoryError {
            file: file.clone(),
            line: None,
            kind: ErrorKind::Read(IoText::new(&e)),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| InventoryError {
            file: file.clone(),
            line: None,
            kind: ErrorKind::NotUtf8 {
                detail: e.to_string(),
                valid_up_to: e.utf8_error().valid_up_to(),
            },
        })?;
        Self::parse(&text, &file, catalogs)
    }

    /// Parses and validates inventory TOML; `file` names it in errors.
    pub fn parse(
        text: &str,
        file: &str,
        catalogs: &CatalogSet,
    ) -> Result<Inventory, InventoryError> {
        // Notepad on Windows writes a BOM; it carries no line break, so
        // stripping it keeps every line number.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Parser {
            text,
            file,
            catalogs,
        }
        .parse()
    }

    /// Everything the inventory says about `addr`; `None` if no entry matches.
    ///
    /// Roles are the union over every matching entry; `name` and `os` come
    /// from the most specific (longest prefix) matching entry that sets them,
    /// the first in file order among equally specific ones. An IPv4-mapped
    /// IPv6 address (`::ffff:a.b.c.d`) is looked up as the IPv4 address.
    pub fn lookup(&self, addr: IpAddr) -> Option<HostInfo> {
        let addr = canonical_addr(addr);
        let mut matched: Vec<&HostEntry> = self
            .hosts
            .iter()
            .filter(|h| h.net.contains(&addr))
            .collect();
        if matched.is_empty() {
            return None;
        }
        // Stable: equal prefixes keep file order.
        matched.sort_by_key(|h| std::cmp::Reverse(h.net.prefix_len()));
        let mut roles: Vec<String> = matched
            .iter()
            .flat_map(|h| h.roles.iter().cloned())
            .collect();
        roles.sort();
        roles.dedup();
        Some(HostInfo {
            name: matched.iter().find_map(|h| h.name.clone()),
            os: matched.iter().find_map(|h| h.os),
            roles,
        })
    }

    /// The broadcast addresses of its IPv4 blocks of /30 or wider (SPEC
    /// "Broadcast and multicast"): a datagram to one is sent to the whole
    /// block, not to a host of it. A /31 or /32 has no broadcast address.
    pub fn subnet_broadcasts(&self) -> Vec<std::net::Ipv4Addr> {
        self.hosts
            .iter()
            .filter_map(|h| match h.net {
                ipnet::IpNet::V4(n) if n.prefix_len() <= 30 => Some(n.broadcast()),
                _ => None,
            })
            .collect()
    }

    /// Is `feature` enabled for `catalog`?
    pub fn feature_enabled(&self, catalog: &str, feature: &str) -> bool {
        self.features
            .iter()
            .any(|(c, fs)| c == catalog && fs.iter().any(|f| f == feature))
    }
}

/// `::ffff:a.b.c.d` → `a.b.c.d`; every other address unchanged.
fn canonical_addr(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => addr,
        },
        v4 => v4,
    }
}

/// An IPv4-mapped IPv6 block (`::ffff:a.b.c.d/≥96`) becomes the IPv4 block,
/// so that it matches the IPv4 addresses captures show.
fn canonical_net(net: ipnet::IpNet) -> ipnet::IpNet {
    if let ipnet::IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            if let Ok(n) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96) {
                return ipnet::IpNet::V4(n.trunc());
            }
        }
    }
    net.trunc()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: Option<Spanned<String>>,
    address: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    os: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    #[serde(default)]
    features: Vec<Spanned<String>>,
}

struct Parser<'a> {
    text: &'a str,
    file: &'a str,
    catalogs: &'a CatalogSet,
}

impl Parser<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn err<T>(&self, span: Range<usize>, kind: ErrorKind) -> Result<T, InventoryError> {
        Err(InventoryError {
            file: self.file.to_string(),
            line: Some(self.line(span.start)),
            kind,
        })
    }

    /// A toml error as one line: the toml crate's message may span several.
    fn toml_err(&self, e: toml::de::Error) -> InventoryError {
        InventoryError {
            file: self.file.to_string(),
            line: e.span().map(|s| self.line(s.start)),
            kind: ErrorKind::Toml(e.message().split_whitespace().collect::<Vec<_>>().join(" ")),
        }
    }

    fn known_catalogs(&self) -> Vec<String> {
        let mut names: Vec<&str> = self
            .catalogs
            .catalogs
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        for b in BUILTIN {
            if !names.contains(b) {
                names.push(b);
            }
        }
        names.into_iter().map(str::to_string).collect()
    }

    /// The loaded catalog's name for `name` (any case), or `Err(true)` if it
    /// is a built-in that is not loaded, `Err(false)` if it is unknown.
    fn catalog_name(&self, name: &str) -> Result<String, bool> {
        if let Some(c) = self
            .catalogs
            .catalogs
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
        {
            return Ok(c.name.clone());
        }
        Err(BUILTIN.iter().any(|b| b.eq_ignore_ascii_case(name)))
    }

    fn parse(self) -> Result<Inventory, InventoryError> {
        let doc = DeTable::parse(self.text).map_err(|e| self.toml_err(e))?;
        let mut inv = Inventory {
            file: self.file.to_string(),
            ..Inventory::default()
        };
        // Sort by position so that the first error in the file is reported.
        let mut items: Vec<_> = doc.get_ref().iter().collect();
        items.sort_by_key(|(k, _)| k.span().start);
        for (key, value) in items {
            let name: &str = key.get_ref();
            match name {
                "hosts" => {
                    let raw: Vec<Spanned<RawHost>> =
                        Deserialize::deserialize(ValueDeserializer::from(value.clone()))
                            .map_err(|e| self.toml_err(e))?;
                    for host in &raw {
                        let entry = self.host(host)?;
                        if let Some(prev) = inv.hosts.iter().find(|h| h.net == entry.net) {
                            inv.warnings.push(Warning::ListedAgain {
                                file: self.file.to_string(),
                                line: entry.line,
                                net: entry.net,
                                first_line: prev.line,
                            });
                        }
                        inv.hosts.push(entry);
                    }
                }
                "ports" => {
                    let raw: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
                        Deserialize::deserialize(ValueDeserializer::from(value.clone()))
                            .map_err(|e| self.toml_err(e))?;
                    let mut raw: Vec<_> = raw.into_iter().collect();
                    raw.sort_by_key(|(k, _)| k.span().start);
                    for (k, v) in &raw {
                        let change = self.port_change(k, v)?;
                        if let Some(prev) = inv
                            .port_changes
                            .iter()
                            .find(|p| p.catalog == change.catalog && p.target == change.target)
                        {
                            return self.err(
                                k.span(),
                                ErrorKind::SamePort {
                                    key: change.key,
                                    first_key: prev.key.clone(),
                                    first_line: prev.line,
                                },
                            );
                        }
                        inv.port_changes.push(change);
                    }
                }
                other => match self.catalog_name(other) {
                    Ok(catalog) => {
                        let section: RawSection =
                            Deserialize::deserialize(ValueDeserializer::from(value.clone()))
                                .map_err(|e| self.toml_err(e))?;
                        let mut features = Vec::new();
                        for f in &section.features {
                            if self.catalogs.feature(&catalog, f.get_ref()).is_none() {
                                let known: Vec<String> = self
                                    .catalogs
                                    .catalog(&catalog)
                                    .map(|c| c.features.iter().map(|f| f.name.clone()).collect())
                                    .unwrap_or_default();
                                return self.err(
                                    f.span(),
                                    ErrorKind::UnknownFeature {
                                        feature: f.get_ref().clone(),
                                        catalog,
                                        known,
                                    },
                                );
                            }
                            if !features.contains(f.get_ref()) {
                                features.push(f.get_ref().clone());
                            }
                        }
                        inv.features.push((catalog, features));
                    }
                    // A built-in catalog that is not loaded: accepted, ignored.
                    Err(true) => {}
                    Err(false) => {
                        return self.err(
                            key.span(),
                            ErrorKind::UnknownKey {
                                key: other.to_string(),
                                catalogs: self.known_catalogs(),
                            },
                        )
                    }
                },
            }
        }
        if inv.hosts.is_empty() {
            inv.warnings.push(Warning::NoHosts {
                file: self.file.to_string(),
            });
        }
        Ok(inv)
    }

    fn host(&self, raw: &Spanned<RawHost>) -> Result<HostEntry, InventoryError> {
        let h = raw.get_ref();
        let address = h.address.get_ref().trim();
        let net = match address.parse::<ipnet::IpNet>() {
            Ok(net) if net.addr() != net.network() => {
                return self.err(
                    h.address.span(),
                    ErrorKind::HostBits {
                        address: address.to_string(),
                        block: net.trunc(),
                        host: net.addr(),
                    },
                )
            }
            Ok(net) => net,
            Err(_) => match address.parse::<IpAddr>() {
                Ok(addr) => ipnet::IpNet::from(addr),
                Err(_) => {
                    return self.err(
                        h.address.span(),
                        ErrorKind::MalformedAddress {
                            address: address.to_string(),
                        },
                    )
                }
            },
        };
        let mut roles = Vec::new();
        for role in &h.roles {
            let r = self.role(role)?;
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        let os = match &h.os {
            None => None,
            Some(os) => {
                let Some(parsed) = Os::parse(os.get_ref()) else {
                    return self.err(
                        os.span(),
                        ErrorKind::UnknownOs {
                            os: os.get_ref().clone(),
                        },
                    );
                };
                Some(parsed)
            }
        };
        Ok(HostEntry {
            name: h.name.as_ref().map(|n| n.get_ref().clone()),
            net: canonical_net(net),
            roles,
            os,
            line: self.line(raw.span().start),
        })
    }

    /// A checked role name, as the catalog spells it.
    fn role(&self, role: &Spanned<String>) -> Result<String, InventoryError> {
        let q = role.get_ref().trim();
        // Case does not matter (as for port keys); the catalog's spelling is kept.
        if let Some(def) = self
            .catalogs
            .catalogs
            .iter()
            .flat_map(|c| c.roles.iter())
            .find(|r| r.name.eq_ignore_ascii_case(q))
        {
            return Ok(def.name.clone());
        }
        let Some((catalog, _)) = q.split_once('.') else {
            return self.err(
                role.span(),
                ErrorKind::RoleNotQualified {
                    role: q.to_string(),
                },
            );
        };
        if let Some(c) = self
            .catalogs
            .catalogs
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(catalog))
        {
            let known: Vec<String> = c
                .roles
                .iter()
                .map(|r| r.name.split_once('.').map_or(r.name.as_str(), |(_, l)| l))
                .map(str::to_string)
                .collect();
            return self.err(
                role.span(),
                ErrorKind::UnknownRole {
                    role: q.to_string(),
                    catalog: catalog.to_string(),
                    known,
                },
            );
        }
        // A built-in catalog left out by --catalog: its roles would silently
        // match nothing.
        if let Some(builtin) = BUILTIN.iter().find(|b| b.eq_ignore_ascii_case(catalog)) {
            return self.err(
                role.span(),
                ErrorKind::RoleOfUnloadedCatalog {
                    role: q.to_string(),
                    catalog: builtin.to_string(),
                    catalogs: self.known_catalogs(),
                },
            );
        }
        self.err(
            role.span(),
            ErrorKind::RoleOfUnknownCatalog {
                role: q.to_string(),
                catalog: catalog.to_string(),
                catalogs: self.known_catalogs(),
            },
        )
    }

    fn port_change(
        &self,
        key: &Spanned<String>,
        value: &Spanned<toml::Value>,
    ) -> Result<PortChange, InventoryError> {
        let k = key.get_ref();
        let malformed = || self.err(key.span(), ErrorKind::MalformedPortKey { key: k.clone() });
        let parts: Vec<&str> = k.split('/').map(str::trim).collect();
        let (catalog, target) = match parts.as_slice() {
            [catalog, port, proto] => {
                let Some(protocol) = parse_transport(proto) else {
                    return self.err(
                        key.span(),
                        ErrorKind::PortKeyProtocol {
                            key: k.clone(),
                            protocol: proto.to_string(),
                        },
                    );
                };
                match port.parse::<u16>() {
                    Ok(p) if p >= 1 => (*catalog, PortTarget::Port(p, protocol)),
                    _ => {
                        return self.err(
                            key.span(),
                            ErrorKind::PortKeyPort {
                                key: k.clone(),
                                port: port.to_string(),
                            },
                        )
                    }
                }
            }
            [catalog, service] if !service.is_empty() => {
                (*catalog, PortTarget::Service(service.to_lowercase()))
            }
            _ => return malformed(),
        };
        let catalog = match self.catalog_name(catalog) {
            Ok(name) => name,
            // Kept: CatalogSet::apply_port_changes ignores it.
            Err(true) => catalog.to_ascii_lowercase(),
            Err(false) => {
                return self.err(
                    key.span(),
                    ErrorKind::PortKeyCatalog {
                        key: k.clone(),
                        catalog: catalog.to_string(),
                        catalogs: self.known_catalogs(),
                    },
                )
            }
        };
        let new_port = match value.get_ref() {
            toml::Value::Integer(n) => match u16::try_from(*n) {
                Ok(p) if p >= 1 => p,
                _ => {
                    return self.err(
                        value.span(),
                        ErrorKind::NewPortRange {
                            key: k.clone(),
                            value: *n,
                        },
                    )
                }
            },
            other => {
                return self.err(
                    value.span(),
                    ErrorKind::NewPortType {
                        key: k.clone(),
                        type_name: other.type_str(),
                    },
                )
            }
        };
        Ok(PortChange {
            catalog,
            target,
            new_port,
            file: self.file.to_string(),
            line: self.line(key.span().start),
            key: k.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::PortTarget;
    use crate::decode::Transport;

    fn both() -> CatalogSet {
        CatalogSet::load(&[]).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const SAMPLE: &str = r#"
[[hosts]]
name = "itdm-mgr"
address = "192.0.2.10"
roles = ["jp1-itdm.manager", "systemwalker-om.server"]
os = "windows"

[[hosts]]
address = "192.0.2.128/25"
roles = ["jp1-itdm.agent", "jp1-itdm.remote_control_agent"]

[[hosts]]
name = "lab"
address = "192.0.2.0/24"
roles = ["systemwalker-om.client"]
os = "UNIX"

[[hosts]]
address = "192.0.2.130"
roles = ["jp1-itdm.controller", "JP1-ITDM.Agent"]

[[hosts]]
name = "v6-net"
address = "2001:db8::/32"
roles = ["jp1-itdm.agent"]

[[hosts]]
address = "2001:db8:1::5"
roles = ["jp1-itdm.site_server"]
os = "unix"

[systemwalker-om]
features = ["business-linkage", "bulk-power-control"]

[ports]
"jp1-itdm/31000/tcp" = 31100
"Systemwalker-OM/JMNET" = 9452
"#;

    #[test]
    fn parses_the_spec_example() {
        let inv = Inventory::parse(SAMPLE, "inv.toml", &both()).unwrap();
        assert_eq!(inv.hosts.len(), 6);
        let lines: Vec<usize> = inv.hosts.iter().map(|h| h.line).collect();
        assert_eq!(lines, [2, 8, 12, 18, 22, 27]);
        assert_eq!(inv.hosts[1].net.to_string(), "192.0.2.128/25");
        assert_eq!(inv.hosts[0].net.to_string(), "192.0.2.10/32");
        assert_eq!(inv.hosts[5].net.to_string(), "2001:db8:1::5/128");
        assert_eq!(inv.hosts[2].os, Some(Os::Unix));
        assert!(inv.feature_enabled("systemwalker-om", "business-linkage"));
        assert!(inv.feature_enabled("systemwalker-om", "bulk-power-control"));
        assert!(!inv.feature_enabled("jp1-itdm", "business-linkage"));
        let changes: Vec<(&str, &PortTarget, u16, usize)> = inv
            .port_changes
            .iter()
            .map(|c| (c.catalog.as_str(), &c.target, c.new_port, c.line))
            .collect();
        assert_eq!(
            changes,
            [
                (
                    "jp1-itdm",
                    &PortTarget::Port(31000, Transport::Tcp),
                    31100,
                    36
                ),
                (
                    "systemwalker-om",
                    &PortTarget::Service("jmnet".into()),
                    9452,
                    37
                ),
            ]
        );
        assert_eq!(inv.port_changes[1].key, "Systemwalker-OM/JMNET");
        let mut set = both();
        set.apply_port_changes(&inv.port_changes).unwrap();
        assert_eq!(
            set.rule("systemwalker-om/jmnet-job-end")
                .unwrap()
                .ports
                .to_string(),
            "9452"
        );
    }

    #[test]
    fn lookup_unions_roles_and_takes_the_most_specific_name_and_os() {
        let inv = Inventory::parse(SAMPLE, "inv.toml", &both()).unwrap();
        // In /24, /25 and /32: roles of all three; name inherited from the
        // /24 (neither /32 nor /25 sets one), os too.
        assert_eq!(
            inv.lookup(ip("192.0.2.130")),
            Some(HostInfo {
                name: Some("lab".into()),
                os: Some(Os::Unix),
                roles: s(&[
                    "jp1-itdm.agent",
                    "jp1-itdm.controller",
                    "jp1-itdm.remote_control_agent",
                    "systemwalker-om.client"
                ]),
            })
        );
        // The /32 sets name and os: they win over the /24's.
        let mgr = inv.lookup(ip("192.0.2.10")).unwrap();
        assert_eq!(
            (mgr.name.as_deref(), mgr.os.map(Os::as_str)),
            (Some("itdm-mgr"), Some("windows"))
        );
        assert_eq!(
            mgr.roles,
            s(&[
                "jp1-itdm.manager",
                "systemwalker-om.client",
                "systemwalker-om.server"
            ])
        );
        // IPv4-mapped IPv6 matches the IPv4 entries.
        assert_eq!(inv.lookup(ip("::ffff:192.0.2.10")), Some(mgr));
        // IPv6 CIDR and a more specific IPv6 entry.
        assert_eq!(
            inv.lookup(ip("2001:db8:1::5")),
            Some(HostInfo {
                name: Some("v6-net".into()),
                os: Some(Os::Unix),
                roles: s(&["jp1-itdm.agent", "jp1-itdm.site_server"]),
            })
        );
        assert_eq!(
            inv.lookup(ip("2001:db8:ffff::1")).unwrap().roles,
            s(&["jp1-itdm.agent"])
        );
        assert_eq!(inv.lookup(ip("198.51.100.1")), None);
        assert_eq!(inv.lookup(ip("2001:db9::1")), None);
    }

    #[test]
    fn mapped_entries_are_canonical_and_host_bits_are_an_error() {
        let text = "[[hosts]]\naddress = \"::ffff:10.0.0.0/120\"\nroles = [\"jp1-itdm.agent\"]\n";
        let inv = Inventory::parse(text, "i", &both()).unwrap();
        assert_eq!(inv.hosts[0].net.to_string(), "10.0.0.0/24");
        assert_eq!(
            inv.lookup(ip("10.0.0.7")).unwrap().roles,
            s(&["jp1-itdm.agent"])
        );
        // SPEC 1.1: 10.1.2.3/16 is not silently the whole /16.
        let (line, message) =
            err("[[hosts]]\naddress = \"10.1.2.3/16\"\nroles = [\"jp1-itdm.manager\"]\n");
        assert_eq!(line, Some(2));
        assert_eq!(
            message,
            "'10.1.2.3/16' has host bits set: write 10.1.0.0/16 for the block, or 10.1.2.3 for the host"
        );
    }

    #[test]
    fn an_address_listed_twice_and_an_empty_inventory_are_warned_about() {
        let text = "[[hosts]]\naddress = \"10.0.0.1\"\nroles = [\"jp1-itdm.agent\"]\n\
                    [[hosts]]\naddress = \"10.0.0.1/32\"\nroles = [\"jp1-itdm.manager\"]\n";
        let inv = Inventory::parse(text, "inv.toml", &both()).unwrap();
        assert_eq!(
            inv.warnings[0].to_string(),
            "inv.toml:4: 10.0.0.1/32 is listed again (first on line 1); the entries' roles are merged"
        );
        assert_eq!(
            inv.warnings[0].render(Lang::Ja),
            "インベントリ inv.toml 4 行目: 10.0.0.1/32 が再び書かれています（最初は 1 行目）。両方の役割を合わせて使います"
        );
        let inv = Inventory::parse("# nothing yet\n", "inv.toml", &both()).unwrap();
        assert_eq!(inv.warnings.len(), 1);
        assert!(
            inv.warnings[0]
                .to_string()
                .starts_with("inv.toml: no [[hosts]]"),
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn a_role_of_a_built_in_catalog_that_is_not_loaded_is_an_error() {
        let jp1 = CatalogSet::load(&s(&["jp1-itdm"])).unwrap();
        let e = Inventory::parse(SAMPLE, "inv.toml", &jp1).unwrap_err();
        assert!(
            e.kind.to_string().starts_with("role 'systemwalker-om.server' is of catalog systemwalker-om, which this run does not load")
                && e.kind.to_string().ends_with("add --catalog systemwalker-om"),
            "{}",
            e.kind
        );
        assert_eq!(
            e.render(Lang::Ja),
            "インベントリ inv.toml 5 行目: 役割 'systemwalker-om.server' はカタログ systemwalker-om のものですが、\
             この実行では読み込んでいません（カタログ: jp1-itdm、systemwalker-om）。--catalog systemwalker-om を追加してください"
        );
        // Its roles are fine where it is loaded.
        let text = "[[hosts]]\naddress = \"10.0.0.1\"\nroles = [\"jp1-itdm.manager\"]\n";
        let inv = Inventory::parse(text, "i", &jp1).unwrap();
        assert_eq!(inv.hosts[0].roles, s(&["jp1-itdm.manager"]));
    }

    fn err(text: &str) -> (Option<usize>, String) {
        let e = Inventory::parse(text, "inv.toml", &both()).unwrap_err();
        assert_eq!(e.file, "inv.toml");
        let message = e.kind.to_string();
        assert!(!message.contains('\n'), "{message:?}");
        (e.line, message)
    }

    #[test]
    fn every_error_names_its_line() {
        let host = |body: &str| format!("# site A\n\n[[hosts]]\n{body}");
        let cases: Vec<(String, usize, &str)> = vec![
            (
                host("address = \"10.0.0.1\"\nroles = [\"jp1-itdm.manager\",\n  \"jp1-itdm.managr\"]\n"),
                6,
                "unknown role 'jp1-itdm.managr' (known roles of jp1-itdm: manager, db_server, site_server, \
                 agent, admin_console, agentless, controller, remote_control_agent)",
            ),
            (
                host("address = \"10.0.0.1\"\nroles = [\"manager\"]\n"),
                5,
                "role 'manager' must be written catalog.role",
            ),
            (
                host("address = \"10.0.0.1\"\nroles = [\"hp.agent\"]\n"),
                5,
                "unknown role 'hp.agent': no catalog 'hp' (catalogs: jp1-itdm, systemwalker-om)",
            ),
            (
                host("address = \"10.0.0.300\"\nroles = []\n"),
                4,
                "malformed address '10.0.0.300' (expected an IPv4/IPv6 address or CIDR block)",
            ),
            (host("address = \"10.0.0.0/33\"\n"), 4, "malformed address '10.0.0.0/33'"),
            (host("address = \"10.0.0.1\"\nos = \"macos\"\n"), 5, "unknown os 'macos' (expected \"windows\" or \"unix\")"),
            (host("address = \"10.0.0.1\"\nrole = []\n"), 5, "unknown field `role`"),
            (host("name = \"x\"\n"), 3, "missing field `address`"),
            (host("address = \"10.0.0.1\"\nroles = [\n"), 5, "unclosed array"),
            (
                "[systemwalker-om]\nfeatures = [\"business-linkage\",\n \"bulk-power\"]\n".into(),
                3,
                "unknown feature 'bulk-power' of systemwalker-om (known features: business-linkage, bulk-power-control)",
            ),
            (
                "[jp1-itdm]\nfeatures = [\"x\"]\n".into(),
                2,
                "unknown feature 'x' of jp1-itdm (known features: none)",
            ),
            (
                "\n[host]\naddress = \"10.0.0.1\"\n".into(),
                2,
                "unknown key 'host' (expected hosts, ports or a catalog name: jp1-itdm, systemwalker-om)",
            ),
            (
                "[ports]\n\"jp1-itdm/31000/tcp\" = 31100\n\"hp/31000/tcp\" = 1\n".into(),
                3,
                "port key 'hp/31000/tcp': unknown catalog 'hp' (catalogs: jp1-itdm, systemwalker-om)",
            ),
            (
                "[ports]\n\"jp1-itdm/31000\" = 31100\n\"jp1-itdm\" = 1\n".into(),
                3,
                "malformed port key 'jp1-itdm'",
            ),
            (
                "[ports]\n\"jp1-itdm/31000/icmp\" = 31100\n".into(),
                2,
                "port key 'jp1-itdm/31000/icmp': protocol 'icmp' is neither tcp nor udp",
            ),
            (
                "[ports]\n\"jp1-itdm/0/tcp\" = 31100\n".into(),
                2,
                "port key 'jp1-itdm/0/tcp': '0' is not a port number (1-65535)",
            ),
            (
                "[ports]\n# moved\n\"jp1-itdm/31000/tcp\" = 70000\n".into(),
                3,
                "port key 'jp1-itdm/31000/tcp': 70000 is not a port number (1-65535)",
            ),
            (
                "[ports]\n\"jp1-itdm/31000/tcp\" = \"31100\"\n".into(),
                2,
                "port key 'jp1-itdm/31000/tcp': the new port must be a number, not string",
            ),
            (
                "[ports]\n\"jp1-itdm/31000/tcp\" = 1\n\"JP1-ITDM/31000/TCP\" = 2\n".into(),
                3,
                "port key 'JP1-ITDM/31000/TCP' changes the same port as 'jp1-itdm/31000/tcp' on line 2",
            ),
            ("a = 1\na = 2\n".into(), 2, "duplicate key"),
        ];
        for (text, line, message) in &cases {
            let (l, m) = err(text);
            assert_eq!(l, Some(*line), "{m}");
            assert!(
                m.starts_with(message),
                "{m:?} does not start with {message:?}"
            );
        }
    }

    #[test]
    fn unknown_port_key_error_comes_from_apply_with_its_line() {
        let text = "[[hosts]]\naddress = \"10.0.0.1\"\n\n[ports]\n\"jp1-itdm/31000/tcp\" = 31100\n\"jp1-itdm/31999/tcp\" = 31100\n";
        let inv = Inventory::parse(text, "site.toml", &both()).unwrap();
        let e = both().apply_port_changes(&inv.port_changes).unwrap_err();
        assert_eq!(
            e.to_string(),
            "site.toml:6: port change 'jp1-itdm/31999/tcp': no rule of jp1-itdm uses 31999/tcp"
        );
    }

    #[test]
    fn load_reads_a_file_with_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.toml");
        std::fs::write(
            &path,
            "\u{feff}[[hosts]]\r\naddress = \"10.0.0.1\"\r\nroles = [\"jp1-itdm.agent\"]\r\nos = \"bad\"\r\n",
        )
        .unwrap();
        let e = Inventory::load(&path, &both()).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.file, path.display().to_string());
        let e = Inventory::load(&dir.path().join("none.toml"), &both()).unwrap_err();
        assert_eq!(e.line, None);
        assert!(
            e.kind.to_string().starts_with("cannot read inventory"),
            "{}",
            e.kind
        );
    }

    #[test]
    fn subnet_broadcasts_of_blocks_of_slash_30_or_wider() {
        let text = "[[hosts]]\naddress = \"192.168.10.0/24\"\nroles = [\"jp1-itdm.agent\"]\n\n\
                    [[hosts]]\naddress = \"10.1.0.0/30\"\nroles = [\"jp1-itdm.agent\"]\n\n\
                    [[hosts]]\naddress = \"10.2.0.0/31\"\nroles = [\"jp1-itdm.agent\"]\n\n\
                    [[hosts]]\naddress = \"10.3.0.9\"\nroles = [\"jp1-itdm.agent\"]\n\n\
                    [[hosts]]\naddress = \"2001:db8::/64\"\nroles = [\"jp1-itdm.agent\"]\n";
        let inv = Inventory::parse(text, "site.toml", &both()).unwrap();
        let got: Vec<String> = inv
            .subnet_broadcasts()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(got, ["192.168.10.255", "10.1.0.3"]);
    }
}
