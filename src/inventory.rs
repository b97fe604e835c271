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

use crate::catalog::{parse_transport, CatalogSet, PortChange, PortTarget, BUILTIN};

/// One `[[hosts]]` entry.
#[derive(Clone, Debug)]
pub struct HostEntry {
    pub name: Option<String>,
    pub net: ipnet::IpNet,
    /// Qualified role names as written.
    pub roles: Vec<String>,
    pub os: Option<String>,
    pub line: usize,
}

/// What the inventory says about one address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostInfo {
    pub name: Option<String>,
    pub os: Option<String>,
    /// Qualified role names as the inventory gives them (not expanded), sorted, deduplicated.
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub file: String,
    pub hosts: Vec<HostEntry>,
    /// catalog name → enabled feature names, e.g. "systemwalker-om" → ["business-linkage"].
    pub features: Vec<(String, Vec<String>)>,
    pub port_changes: Vec<PortChange>,
}

/// An invalid inventory (status 2): file, line, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct InventoryError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
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
            message: format!("cannot read inventory: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| InventoryError {
            file: file.clone(),
            line: None,
            message: format!("inventory is not UTF-8 text: {e}"),
        })?;
        Self::parse(&text, &file, catalogs)
    }

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
            os: matched.iter().find_map(|h| h.os.clone()),
            roles,
        })
    }

    /// Is `feature` enabled for `catalog`?
    pub fn feature_enabled(&self, catalog: &str, feature: &str) -> bool {
        self.features
            .iter()
            .any(|(c, fs)| c == catalog && fs.iter().any(|f| f == feature))
    }
}

/// OS names a host may declare (Systemwalker note 1 distinguishes them).
const OS_NAMES: &[&str] = &["windows", "unix"];

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

    fn err<T>(&self, span: Range<usize>, message: impl Into<String>) -> Result<T, InventoryError> {
        Err(InventoryError {
            file: self.file.to_string(),
            line: Some(self.line(span.start)),
            message: message.into(),
        })
    }

    /// A toml error as one line: the toml crate's message may span several.
    fn toml_err(&self, e: toml::de::Error) -> InventoryError {
        InventoryError {
            file: self.file.to_string(),
            line: e.span().map(|s| self.line(s.start)),
            message: e.message().split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }

    fn known_catalogs(&self) -> String {
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
        names.join(", ")
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
                        inv.hosts.push(self.host(host)?);
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
                                format!(
                                    "port key '{}' changes the same port as '{}' on line {}",
                                    change.key, prev.key, prev.line
                                ),
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
                                let known: Vec<&str> = self
                                    .catalogs
                                    .catalog(&catalog)
                                    .map(|c| c.features.iter().map(|f| f.name.as_str()).collect())
                                    .unwrap_or_default();
                                return self.err(
                                    f.span(),
                                    format!(
                                        "unknown feature '{}' of {catalog} (known features: {})",
                                        f.get_ref(),
                                        if known.is_empty() {
                                            "none".to_string()
                                        } else {
                                            known.join(", ")
                                        }
                                    ),
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
                    Err(false) => return self.err(
                        key.span(),
                        format!(
                            "unknown key '{other}' (expected hosts, ports or a catalog name: {})",
                            self.known_catalogs()
                        ),
                    ),
                },
            }
        }
        Ok(inv)
    }

    fn host(&self, raw: &Spanned<RawHost>) -> Result<HostEntry, InventoryError> {
        let h = raw.get_ref();
        let address = h.address.get_ref().trim();
        let net = match address.parse::<ipnet::IpNet>() {
            Ok(net) => net,
            Err(_) => match address.parse::<IpAddr>() {
                Ok(addr) => ipnet::IpNet::from(addr),
                Err(_) => {
                    return self.err(
                        h.address.span(),
                        format!("malformed address '{address}' (expected an IPv4/IPv6 address or CIDR block)"),
                    )
                }
            },
        };
        let mut roles = Vec::new();
        for role in &h.roles {
            if let Some(r) = self.role(role)? {
                if !roles.contains(&r) {
                    roles.push(r);
                }
            }
        }
        let os = match &h.os {
            None => None,
            Some(os) => {
                let lower = os.get_ref().to_ascii_lowercase();
                if !OS_NAMES.contains(&lower.as_str()) {
                    return self.err(
                        os.span(),
                        format!(
                            "unknown os '{}' (expected \"windows\" or \"unix\")",
                            os.get_ref()
                        ),
                    );
                }
                Some(lower)
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

    /// A checked role name; `None` for a role of a built-in catalog that is
    /// not loaded (accepted, so one inventory serves runs with `--catalog`).
    fn role(&self, role: &Spanned<String>) -> Result<Option<String>, InventoryError> {
        let q = role.get_ref().trim();
        if self.catalogs.role(q).is_some() {
            return Ok(Some(q.to_string()));
        }
        let Some((catalog, _)) = q.split_once('.') else {
            return self.err(
                role.span(),
                format!("role '{q}' must be written catalog.role (e.g. jp1-itdm.manager, systemwalker-om.server)"),
            );
        };
        if let Some(c) = self.catalogs.catalog(catalog) {
            let known: Vec<&str> = c
                .roles
                .iter()
                .map(|r| r.name.split_once('.').map_or(r.name.as_str(), |(_, l)| l))
                .collect();
            return self.err(
                role.span(),
                format!(
                    "unknown role '{q}' (known roles of {catalog}: {})",
                    known.join(", ")
                ),
            );
        }
        if CatalogSet::is_builtin(catalog) {
            return Ok(None);
        }
        self.err(
            role.span(),
            format!(
                "unknown role '{q}': no catalog '{catalog}' (catalogs: {})",
                self.known_catalogs()
            ),
        )
    }

    fn port_change(
        &self,
        key: &Spanned<String>,
        value: &Spanned<toml::Value>,
    ) -> Result<PortChange, InventoryError> {
        let k = key.get_ref();
        let malformed = || {
            self.err(
                key.span(),
                format!(
                    "malformed port key '{k}' (expected \"catalog/port/protocol\" or \"catalog/service-name\")"
                ),
            )
        };
        let parts: Vec<&str> = k.split('/').map(str::trim).collect();
        let (catalog, target) = match parts.as_slice() {
            [catalog, port, proto] => {
                let Some(protocol) = parse_transport(proto) else {
                    return self.err(
                        key.span(),
                        format!("port key '{k}': protocol '{proto}' is neither tcp nor udp"),
                    );
                };
                match port.parse::<u16>() {
                    Ok(p) if p >= 1 => (*catalog, PortTarget::Port(p, protocol)),
                    _ => {
                        return self.err(
                            key.span(),
                            format!("port key '{k}': '{port}' is not a port number (1-65535)"),
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
                    format!(
                        "port key '{k}': unknown catalog '{catalog}' (catalogs: {})",
                        self.known_catalogs()
                    ),
                )
            }
        };
        let new_port = match value.get_ref() {
            toml::Value::Integer(n) => match u16::try_from(*n) {
                Ok(p) if p >= 1 => p,
                _ => {
                    return self.err(
                        value.span(),
                        format!("port key '{k}': {n} is not a port number (1-65535)"),
                    )
                }
            },
            other => {
                return self.err(
                    value.span(),
                    format!(
                        "port key '{k}': the new port must be a number, not {}",
                        other.type_str()
                    ),
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
mod tests {}
