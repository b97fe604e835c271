//! Port catalogs: which roles talk to which on which ports, as data.
//!
//! Owns: the catalog file format (TOML; the built-in `jp1-itdm` and
//! `systemwalker-om` catalogs are such files, embedded at build time), role
//! definitions and implied roles, rule conditions (features, OS exclusions,
//! same-host scope, companion rules for RPC dynamic ports), `services` files,
//! and port changes (`[ports]` of the inventory, `--services`).
//!
//! ## Catalog file format
//!
//! ```toml
//! [catalog]
//! name = "jp1-itdm"                       # rule ids are "<name>/<rule id>"
//! title = "JP1/IT Desktop Management 2"
//! source = "JP1/IT Desktop Management 2 manual, appendix A.3"
//!
//! [[roles]]
//! name = "manager"
//! ja = "管理用サーバ"
//! en = "management server"
//! implies = []                            # roles a host with this one also holds
//!
//! [[features]]                            # optional features named by the inventory
//! name = "bulk-power-control"
//! ja = "一括電源制御機能"
//! en = "bulk power control"
//!
//! [[notes]]
//! id = "注1"
//! ja = "接続先がUNIXサーバの場合は、このポート番号は使用しません。"
//! en = "Not used when the server is a UNIX server."
//!
//! [[rules]]
//! id = "agent-to-manager"
//! protocol = "tcp"                        # "tcp" | "udp"
//! ports = [31000]                         # numbers and "a-b" ranges
//! service = "jmnet"                       # optional: services-file name
//! clients = ["agent", "site_server"]      # roles that open the connection
//! servers = ["manager"]                   # roles that accept it
//! scope = "network"                       # "network" (default) | "same-host"
//! expects_reply = true                    # UDP only: is silence a failure?
//! requires_feature = "bulk-power-control" # optional
//! exclude_os = { side = "server", os = "unix" }   # optional; side: client|server|either
//! companion = "rpc-endpoint-mapper"       # optional: only with a conversation of that
//!                                         # rule between the same two hosts; the ports
//!                                         # count as catalog ports only then
//! notes = ["注1"]
//! source = "管理用サーバのポート番号 (シングルサーバ構成)"
//! ja = "エージェント・サイトサーバから管理用サーバへの通信"
//! en = "agents and site servers reporting to the manager"
//! ```

use std::fmt;

use crate::decode::Transport;

/// A set of ports as sorted, disjoint, inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortSet {
    pub ranges: Vec<(u16, u16)>,
}

impl PortSet {
    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= port && port <= b)
    }
    /// Number of ports in the set.
    pub fn width(&self) -> u32 {
        self.ranges.iter().map(|&(a, b)| u32::from(b - a) + 1).sum()
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(a, b)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}-{b}")?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Between two hosts (the usual case).
    Network,
    /// Only within one host: same address on both sides, or loopback.
    SameHost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
    Either,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsExclusion {
    pub side: Side,
    pub os: String,
}

#[derive(Clone, Debug)]
pub struct RoleDef {
    /// Qualified: "catalog.role".
    pub name: String,
    pub ja: String,
    pub en: String,
    /// Qualified names.
    pub implies: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct FeatureDef {
    pub name: String,
    pub ja: String,
    pub en: String,
}

#[derive(Clone, Debug)]
pub struct Note {
    pub id: String,
    pub ja: String,
    pub en: String,
}

#[derive(Clone, Debug)]
pub struct Rule {
    /// Qualified: "catalog/local-id".
    pub id: String,
    /// Name of the catalog it belongs to.
    pub catalog: String,
    pub protocol: Transport,
    /// Effective ports (after port changes).
    pub ports: PortSet,
    /// Ports as the catalog file gives them (before any change).
    pub default_ports: PortSet,
    pub service: Option<String>,
    /// Qualified role names ("catalog.role").
    pub clients: Vec<String>,
    pub servers: Vec<String>,
    pub scope: Scope,
    pub expects_reply: bool,
    pub requires_feature: Option<String>,
    pub exclude_os: Option<OsExclusion>,
    /// Qualified rule id.
    pub companion: Option<String>,
    pub notes: Vec<String>,
    pub source: String,
    pub ja: String,
    pub en: String,
}

#[derive(Clone, Debug)]
pub struct Catalog {
    pub name: String,
    pub title: String,
    pub source: String,
    pub roles: Vec<RoleDef>,
    pub features: Vec<FeatureDef>,
    pub notes: Vec<Note>,
    pub rules: Vec<Rule>,
}

/// An invalid catalog, services file or port change (status 2).
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct CatalogError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Names of the built-in catalogs.
pub const BUILTIN: &[&str] = &["jp1-itdm", "systemwalker-om"];

/// The catalogs in effect for one run.
#[derive(Clone, Debug, Default)]
pub struct CatalogSet {
    pub catalogs: Vec<Catalog>,
}

/// A `services` file: name (lower-cased, aliases included) → ports by protocol.
#[derive(Clone, Debug, Default)]
pub struct Services {
    pub entries: Vec<ServiceEntry>,
}

#[derive(Clone, Debug)]
pub struct ServiceEntry {
    /// Lower-cased names: the service name and its aliases.
    pub names: Vec<String>,
    pub port: u16,
    pub protocol: Transport,
    pub line: usize,
}

/// What a port change names: a port/protocol or a service name of one catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortTarget {
    Port(u16, Transport),
    Service(String),
}

/// One port change, e.g. `"jp1-itdm/31000/tcp" = 31100` of an inventory.
#[derive(Clone, Debug)]
pub struct PortChange {
    pub catalog: String,
    pub target: PortTarget,
    pub new_port: u16,
    /// Where it was written, for errors: file and line.
    pub file: String,
    pub line: usize,
    /// The key as written.
    pub key: String,
}

impl CatalogSet {
    /// Loads catalogs by built-in name or file path; an empty list means all built-ins.
    pub fn load(specs: &[String]) -> Result<CatalogSet, CatalogError> {
        let _ = specs;
        todo!()
    }

    /// Parses one catalog from TOML text; `file` names it in errors.
    pub fn parse_catalog(text: &str, file: &str) -> Result<Catalog, CatalogError> {
        let _ = (text, file);
        todo!()
    }

    /// Service names of the catalogs take the ports a `services` file gives them.
    pub fn apply_services(&mut self, services: &Services) {
        let _ = services;
        todo!()
    }

    /// Applies port changes; a change naming nothing in a loaded catalog is an error
    /// (changes for a built-in catalog that is not loaded are ignored).
    pub fn apply_port_changes(&mut self, changes: &[PortChange]) -> Result<(), CatalogError> {
        let _ = changes;
        todo!()
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.catalogs.iter().flat_map(|c| c.rules.iter())
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules().find(|r| r.id == id)
    }

    /// Rules whose (effective) ports include `port` for `protocol`.
    pub fn rules_for(&self, port: u16, protocol: Transport) -> impl Iterator<Item = &Rule> {
        self.rules()
            .filter(move |r| r.protocol == protocol && r.ports.contains(port))
    }

    /// Is this qualified role name defined by a loaded catalog?
    pub fn role(&self, qualified: &str) -> Option<&RoleDef> {
        self.catalogs
            .iter()
            .flat_map(|c| c.roles.iter())
            .find(|r| r.name == qualified)
    }

    /// The roles and all the roles they imply (transitively), deduplicated, sorted.
    pub fn expand_roles(&self, roles: &[String]) -> Vec<String> {
        let _ = roles;
        todo!()
    }

    /// Ports that are a catalog's server port without conditions on other
    /// conversations (companion rules excluded), as a bitmap for the hot path.
    pub fn server_ports(&self) -> PortBitmap {
        let mut bitmap = PortBitmap::default();
        for rule in self.rules().filter(|r| r.companion.is_none()) {
            for &(a, b) in &rule.ports.ranges {
                for p in a..=b {
                    bitmap.insert(rule.protocol, p);
                }
            }
        }
        bitmap
    }
}

/// One bit per TCP port and per UDP port.
#[derive(Clone)]
pub struct PortBitmap {
    bits: Box<[u64; 2048]>,
}

impl Default for PortBitmap {
    fn default() -> Self {
        PortBitmap {
            bits: Box::new([0; 2048]),
        }
    }
}

impl PortBitmap {
    fn index(protocol: Transport, port: u16) -> usize {
        let base = match protocol {
            Transport::Tcp => 0,
            Transport::Udp => 65536,
        };
        base + usize::from(port)
    }
    pub fn insert(&mut self, protocol: Transport, port: u16) {
        let i = Self::index(protocol, port);
        self.bits[i / 64] |= 1 << (i % 64);
    }
    pub fn contains(&self, protocol: Transport, port: u16) -> bool {
        let i = Self::index(protocol, port);
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }
}

impl Services {
    /// Parses `/etc/services` or Windows `drivers\etc\services` syntax.
    pub fn parse(text: &str, file: &str) -> Result<Services, CatalogError> {
        let _ = (text, file);
        todo!()
    }

    pub fn load(path: &std::path::Path) -> Result<Services, CatalogError> {
        let _ = path;
        todo!()
    }
}
