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
//! shared = true                           # optional: other software uses the port
//!                                         # too (SSH, SMB, ...): see below
//! notes = ["注1"]
//! source = "管理用サーバのポート番号 (シングルサーバ構成)"
//! ja = "エージェント・サイトサーバから管理用サーバへの通信"
//! en = "agents and site servers reporting to the manager"
//! ```
//!
//! Roles, features, notes and companions are named by their local names in
//! the file; the loaded [`Catalog`] holds roles as "catalog.role" and rule
//! ids as "catalog/rule". Unknown keys are errors (a misspelt
//! `requires_feture` must not silently drop a condition). `expects_reply` may
//! only be written on UDP rules; a UDP rule without it does not treat silence
//! as a failure. Every validation error names the file and the line of the
//! offending item.
//!
//! A **shared** rule is judged only where a host shows the product: no role is
//! inferred from its traffic, it matches only when at least one of the two
//! hosts really holds (by the inventory, or inferred from a port that is not
//! shared) a role the rule names on its side, and a conversation on a port
//! with a shared rule that no rule allows either way is `unlisted`, never
//! `unexpected` (a file server's SMB or an admin's SSH is not a finding).
//! A port is shared as soon as one rule on it is.
//!
//! Port numbers live only in the catalog files (`jp1-itdm.toml`,
//! `systemwalker-om.toml` next to this module), never in code.

use std::fmt;

use crate::decode::Transport;
use crate::report::lang::{IoText, Lang};

mod messages;
mod parse;
mod services;
pub use messages::{ErrorKind, Input, PortEntry};
#[cfg(test)]
mod tests;

/// The built-in catalog files, embedded so the binary needs nothing at run time.
const BUILTIN_TEXT: &[(&str, &str)] = &[
    ("jp1-itdm", include_str!("jp1-itdm.toml")),
    ("systemwalker-om", include_str!("systemwalker-om.toml")),
];

/// Parses a protocol name as catalogs, services files and port keys write it
/// ("tcp"/"udp", any case).
pub fn parse_transport(s: &str) -> Option<Transport> {
    if s.eq_ignore_ascii_case("tcp") {
        Some(Transport::Tcp)
    } else if s.eq_ignore_ascii_case("udp") {
        Some(Transport::Udp)
    } else {
        None
    }
}

/// A set of ports as sorted, disjoint, inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortSet {
    pub ranges: Vec<(u16, u16)>,
}

impl PortSet {
    /// Is `port` in one of the ranges?
    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= port && port <= b)
    }
    /// Number of ports in the set.
    pub fn width(&self) -> u32 {
        self.ranges.iter().map(|&(a, b)| u32::from(b - a) + 1).sum()
    }

    /// The set holding just `port`.
    pub fn single(port: u16) -> PortSet {
        PortSet {
            ranges: vec![(port, port)],
        }
    }

    /// Adds `a..=b` (a ≤ b), keeping the ranges sorted, disjoint and merged
    /// (adjacent ranges become one).
    pub fn insert_range(&mut self, a: u16, b: u16) {
        let (a, b) = (a.min(b), a.max(b));
        self.ranges.push((a, b));
        self.ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(self.ranges.len());
        for &(a, b) in &self.ranges {
            match merged.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.ranges = merged;
    }

    /// Adds one port.
    pub fn insert(&mut self, port: u16) {
        self.insert_range(port, port);
    }

    /// Removes one port, splitting the range that holds it.
    pub fn remove(&mut self, port: u16) {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        for &(a, b) in &self.ranges {
            if port < a || port > b {
                out.push((a, b));
                continue;
            }
            if a < port {
                out.push((a, port - 1));
            }
            if port < b {
                out.push((port + 1, b));
            }
        }
        self.ranges = out;
    }

    /// No port at all?
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
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

/// Where a rule's traffic may flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Between two hosts (the usual case).
    Network,
    /// Only within one host: same address on both sides, or loopback.
    SameHost,
}

/// A side of a connection: the one that opened it, the one that accepted it, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
    Either,
}

/// An operating system family, as rules' `exclude_os` and inventory hosts' `os` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Os {
    Windows,
    Unix,
}

impl Os {
    /// Parses "windows" or "unix" (any case).
    pub fn parse(s: &str) -> Option<Os> {
        if s.eq_ignore_ascii_case("windows") {
            Some(Os::Windows)
        } else if s.eq_ignore_ascii_case("unix") {
            Some(Os::Unix)
        } else {
            None
        }
    }

    /// The name as files write it (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Windows => "windows",
            Os::Unix => "unix",
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule condition: not used when the host on `side` runs `os`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsExclusion {
    pub side: Side,
    pub os: Os,
}

/// A rule of a [`CatalogSet`]: its index among all loaded rules (load order,
/// then file order), so per-conversation data holds a number, not a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u16);

/// A role of a [`CatalogSet`]: its index among all loaded roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleId(pub u8);

/// A set of roles, one bit per [`RoleId`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RoleSet(u128);

/// At most this many roles over all loaded catalogs (one bit each in a [`RoleSet`]).
pub const MAX_ROLES: usize = 128;

impl RoleSet {
    pub const EMPTY: RoleSet = RoleSet(0);

    pub fn insert(&mut self, role: RoleId) {
        self.0 |= 1u128 << role.0;
    }
    pub fn contains(self, role: RoleId) -> bool {
        self.0 & (1u128 << role.0) != 0
    }
    pub fn union(self, other: RoleSet) -> RoleSet {
        RoleSet(self.0 | other.0)
    }
    pub fn intersects(self, other: RoleSet) -> bool {
        self.0 & other.0 != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The roles in id order.
    pub fn iter(self) -> impl Iterator<Item = RoleId> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros();
            bits &= bits - 1;
            Some(RoleId(i as u8))
        })
    }
}

impl FromIterator<RoleId> for RoleSet {
    fn from_iter<I: IntoIterator<Item = RoleId>>(iter: I) -> RoleSet {
        let mut set = RoleSet::EMPTY;
        for r in iter {
            set.insert(r);
        }
        set
    }
}

/// A note of a loaded catalog: (catalog index, note index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NoteId {
    pub catalog: u16,
    pub note: u16,
}

/// A role hosts can hold, with its labels and the roles it implies.
#[derive(Clone, Debug)]
pub struct RoleDef {
    /// Qualified: "catalog.role".
    pub name: String,
    pub ja: String,
    pub en: String,
    /// Qualified names.
    pub implies: Vec<String>,
}

/// An optional product feature an inventory can enable (e.g. `business-linkage`).
#[derive(Clone, Debug)]
pub struct FeatureDef {
    pub name: String,
    pub ja: String,
    pub en: String,
}

/// A note of the vendor table (e.g. "注1"), as rules refer to it.
#[derive(Clone, Debug)]
pub struct Note {
    pub id: String,
    pub ja: String,
    pub en: String,
}

/// One allowed flow: client roles open `protocol` connections to server
/// roles on `ports`, under the rule's conditions.
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
    /// The port is used by much other software too (SSH, SMB, NetBIOS, ...):
    /// traffic on it is the product's only where a host shows the product.
    pub shared: bool,
    pub notes: Vec<String>,
    pub source: String,
    pub ja: String,
    pub en: String,
    /// Resolved when the set is assembled ([`CatalogSet::resolve`]): the
    /// rule's id, its client and server roles, its companion rule.
    pub rid: RuleId,
    pub client_set: RoleSet,
    pub server_set: RoleSet,
    pub companion_rule: Option<RuleId>,
}

/// One loaded catalog (a built-in or a file), rules in file order.
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
#[error("{file}{}: {kind}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct CatalogError {
    pub file: String,
    pub line: Option<usize>,
    /// Boxed: a `Result` carrying it stays small on the success path.
    pub kind: Box<ErrorKind>,
}

impl CatalogError {
    /// The whole line: which input (catalog, services file, inventory),
    /// where, what is wrong.
    pub fn render(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        let input = match self.kind.input() {
            Input::Catalog => "カタログ",
            Input::Services => "サービスファイル",
            Input::Inventory => "インベントリ",
        };
        let place = match self.line {
            Some(line) => format!("{} {line} 行目", self.file),
            None => self.file.clone(),
        };
        format!("{input} {place}: {}", self.kind.render(lang))
    }
}

/// Names of the built-in catalogs.
pub const BUILTIN: &[&str] = &["jp1-itdm", "systemwalker-om"];

/// The catalogs in effect for one run.
///
/// Names are resolved once when the set is assembled ([`CatalogSet::resolve`]):
/// every rule gets a [`RuleId`], every role a [`RoleId`] with the set of roles
/// it implies, so classification works on numbers and bitsets.
#[derive(Clone, Debug, Default)]
pub struct CatalogSet {
    pub catalogs: Vec<Catalog>,
    /// Every rule as (catalog index, rule index), by [`RuleId`].
    rule_index: Vec<(u16, u16)>,
    /// Every role by [`RoleId`].
    roles: Vec<ResolvedRole>,
    /// Role ids in the order of their qualified names (reports list roles so).
    roles_by_name: Vec<RoleId>,
}

/// A role with what it implies, resolved.
#[derive(Clone, Debug)]
struct ResolvedRole {
    /// (catalog index, role index).
    at: (u16, u16),
    /// The role and every role it implies, transitively.
    closure: RoleSet,
}

/// A `services` file: name (lower-cased, aliases included) → ports by protocol.
#[derive(Clone, Debug, Default)]
pub struct Services {
    pub entries: Vec<ServiceEntry>,
}

/// One tcp/udp line of a services file.
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
    ///
    /// A built-in name wins over a file of the same name in the current
    /// directory (write `./jp1-itdm` for the file). Two catalogs with the same
    /// `name` are an error: their rule ids and roles would collide.
    pub fn load(specs: &[String]) -> Result<CatalogSet, CatalogError> {
        let default: Vec<String>;
        let specs = if specs.is_empty() {
            default = BUILTIN.iter().map(|s| s.to_string()).collect();
            &default
        } else {
            specs
        };
        let mut set = CatalogSet::default();
        for spec in specs {
            let (catalog, file) = if let Some(text) = Self::builtin_text(spec) {
                (
                    Self::parse_catalog(text, &builtin_file(spec))?,
                    builtin_file(spec),
                )
            } else {
                let path = std::path::Path::new(spec);
                if !path.is_file() {
                    return Err(CatalogError {
                        // The spec is named in the message; the "file" is
                        // the option it came from.
                        file: "--catalog".to_string(),
                        line: None,
                        kind: Box::new(ErrorKind::UnknownCatalog { spec: spec.clone() }),
                    });
                }
                let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
                    file: spec.clone(),
                    line: None,
                    kind: Box::new(ErrorKind::ReadCatalog(IoText::new(&e))),
                })?;
                // Editors on Windows like to start files with a BOM.
                let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                (Self::parse_catalog(text, spec)?, spec.clone())
            };
            if set.catalog(&catalog.name).is_some() {
                return Err(CatalogError {
                    file,
                    line: None,
                    kind: Box::new(ErrorKind::LoadedTwice {
                        name: catalog.name.clone(),
                    }),
                });
            }
            set.catalogs.push(catalog);
            set.resolve().map_err(|kind| CatalogError {
                file: file.clone(),
                line: None,
                kind: Box::new(kind),
            })?;
        }
        Ok(set)
    }

    /// Resolves names to ids (rules, roles, implied roles, companions) after
    /// catalogs were added to `catalogs`; [`CatalogSet::load`] calls it.
    /// Fails only when the catalogs define more than [`MAX_ROLES`] roles.
    pub fn resolve(&mut self) -> Result<(), ErrorKind> {
        let mut roles = Vec::new();
        let mut role_ids: std::collections::HashMap<String, RoleId> = Default::default();
        for (ci, c) in self.catalogs.iter().enumerate() {
            for (ri, r) in c.roles.iter().enumerate() {
                if roles.len() >= MAX_ROLES {
                    return Err(ErrorKind::TooManyRoles { max: MAX_ROLES });
                }
                role_ids.insert(r.name.clone(), RoleId(roles.len() as u8));
                roles.push(ResolvedRole {
                    at: (ci as u16, ri as u16),
                    closure: RoleSet::EMPTY,
                });
            }
        }
        // Closures: walk the implications from each role.
        for id in 0..roles.len() {
            let mut closure = RoleSet::EMPTY;
            let mut todo = vec![RoleId(id as u8)];
            while let Some(role) = todo.pop() {
                if closure.contains(role) {
                    continue;
                }
                closure.insert(role);
                let (ci, ri) = roles[usize::from(role.0)].at;
                let def = &self.catalogs[usize::from(ci)].roles[usize::from(ri)];
                todo.extend(def.implies.iter().filter_map(|n| role_ids.get(n).copied()));
            }
            roles[id].closure = closure;
        }
        let set_of = |names: &[String]| -> RoleSet {
            names
                .iter()
                .filter_map(|n| role_ids.get(n).copied())
                .collect()
        };
        let mut rule_index = Vec::new();
        let mut rule_ids: std::collections::HashMap<String, RuleId> = Default::default();
        for (ci, c) in self.catalogs.iter().enumerate() {
            for (ri, r) in c.rules.iter().enumerate() {
                rule_ids.insert(r.id.clone(), RuleId(rule_index.len() as u16));
                rule_index.push((ci as u16, ri as u16));
            }
        }
        for c in &mut self.catalogs {
            for r in &mut c.rules {
                r.rid = rule_ids[&r.id];
                r.client_set = set_of(&r.clients);
                r.server_set = set_of(&r.servers);
                r.companion_rule = r
                    .companion
                    .as_ref()
                    .and_then(|id| rule_ids.get(id).copied());
            }
        }
        let mut by_name: Vec<RoleId> = (0..roles.len()).map(|i| RoleId(i as u8)).collect();
        let name = |id: &RoleId| {
            let (ci, ri) = roles[usize::from(id.0)].at;
            self.catalogs[usize::from(ci)].roles[usize::from(ri)]
                .name
                .as_str()
        };
        by_name.sort_by(|a, b| name(a).cmp(name(b)));
        self.roles_by_name = by_name;
        self.roles = roles;
        self.rule_index = rule_index;
        Ok(())
    }

    /// The rule with this id.
    pub fn rule_by_id(&self, id: RuleId) -> &Rule {
        let (ci, ri) = self.rule_index[usize::from(id.0)];
        &self.catalogs[usize::from(ci)].rules[usize::from(ri)]
    }

    /// The id of a role by its qualified name.
    pub fn role_id(&self, qualified: &str) -> Option<RoleId> {
        self.roles_by_name
            .binary_search_by(|id| self.role_def(*id).name.as_str().cmp(qualified))
            .ok()
            .map(|i| self.roles_by_name[i])
    }

    /// The definition of a role.
    pub fn role_def(&self, id: RoleId) -> &RoleDef {
        let (ci, ri) = self.roles[usize::from(id.0)].at;
        &self.catalogs[usize::from(ci)].roles[usize::from(ri)]
    }

    /// The roles and every role they imply.
    pub fn expand(&self, roles: RoleSet) -> RoleSet {
        roles.iter().fold(RoleSet::EMPTY, |acc, r| {
            acc.union(self.roles[usize::from(r.0)].closure)
        })
    }

    /// The roles of a set in the order of their qualified names (as reports list them).
    pub fn roles_in_name_order(&self, roles: RoleSet) -> impl Iterator<Item = RoleId> + '_ {
        self.roles_by_name
            .iter()
            .copied()
            .filter(move |id| roles.contains(*id))
    }

    /// The qualified names of a set of roles, in name order.
    pub fn role_names(&self, roles: RoleSet) -> impl Iterator<Item = &str> + '_ {
        self.roles_in_name_order(roles)
            .map(|id| self.role_def(id).name.as_str())
    }

    /// A set of roles from qualified names (names no loaded catalog defines are left out).
    pub fn role_set<S: AsRef<str>>(&self, names: &[S]) -> RoleSet {
        names
            .iter()
            .filter_map(|n| self.role_id(n.as_ref()))
            .collect()
    }

    /// How a role is called in sentences (as [`CatalogSet::role_label`]).
    pub fn role_label_of(&self, id: RoleId) -> std::borrow::Cow<'_, str> {
        let def = self.role_def(id);
        if def.en.is_empty() {
            std::borrow::Cow::Owned(local_label(&def.name))
        } else {
            std::borrow::Cow::Borrowed(&def.en)
        }
    }

    /// The note of `rule` that states its OS condition for `os` (e.g. "注1").
    pub fn os_note(&self, rule: &Rule, os: Os) -> Option<NoteId> {
        let ci = self.catalogs.iter().position(|c| c.name == rule.catalog)?;
        let catalog = &self.catalogs[ci];
        rule.notes.iter().find_map(|id| {
            catalog
                .notes
                .iter()
                .position(|n| &n.id == id && n.en.to_ascii_lowercase().contains(os.as_str()))
                .map(|ni| NoteId {
                    catalog: ci as u16,
                    note: ni as u16,
                })
        })
    }

    /// A note by id.
    pub fn note_by_id(&self, id: NoteId) -> &Note {
        &self.catalogs[usize::from(id.catalog)].notes[usize::from(id.note)]
    }

    /// Parses one catalog from TOML text; `file` names it in errors.
    pub fn parse_catalog(text: &str, file: &str) -> Result<Catalog, CatalogError> {
        parse::parse_catalog(text, file)
    }

    /// The TOML text of a built-in catalog.
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        BUILTIN_TEXT
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
    }

    /// Is `name` one of the built-in catalogs (loaded or not)?
    pub fn is_builtin(name: &str) -> bool {
        BUILTIN.contains(&name)
    }

    /// The loaded catalog called `name`.
    pub fn catalog(&self, name: &str) -> Option<&Catalog> {
        self.catalogs.iter().find(|c| c.name == name)
    }

    /// A feature of a loaded catalog.
    pub fn feature(&self, catalog: &str, feature: &str) -> Option<&FeatureDef> {
        self.catalog(catalog)?
            .features
            .iter()
            .find(|f| f.name == feature)
    }

    /// A note of a loaded catalog, by its id as rules name it ("注1").
    pub fn note(&self, catalog: &str, id: &str) -> Option<&Note> {
        self.catalog(catalog)?.notes.iter().find(|n| n.id == id)
    }

    /// How a role is called in sentences: its English label, or the role name
    /// (underscores as spaces) if the role is unknown or has no label.
    pub fn role_label(&self, qualified: &str) -> String {
        match self.role_id(qualified) {
            Some(id) => self.role_label_of(id).into_owned(),
            None => local_label(qualified),
        }
    }

    /// Service names of the catalogs take the ports a `services` file gives them.
    ///
    /// A rule's `service` matches an entry's name or alias case-insensitively
    /// with the same protocol; the rule's ports become exactly that port (the
    /// first such entry wins, as with `getservbyname`).
    pub fn apply_services(&mut self, services: &Services) {
        for rule in self.catalogs.iter_mut().flat_map(|c| c.rules.iter_mut()) {
            let Some(service) = &rule.service else {
                continue;
            };
            if let Some(port) = services.port(service, rule.protocol) {
                rule.ports = PortSet::single(port);
            }
        }
    }

    /// Applies port changes; a change naming nothing in a loaded catalog is an error
    /// (changes for a built-in catalog that is not loaded are ignored).
    ///
    /// Every change is matched against the ports as they were before this
    /// call, so changes are independent of their order (swapping two ports
    /// works). A port change moves every rule of the catalog on that
    /// port/protocol (a range loses that one port); a service change gives
    /// every rule with that service name exactly the new port.
    pub fn apply_port_changes(&mut self, changes: &[PortChange]) -> Result<(), CatalogError> {
        // (catalog index, rule index, change) for every match, found first.
        let mut moves: Vec<(usize, usize, &PortChange)> = Vec::new();
        for change in changes {
            let Some(ci) = self
                .catalogs
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(&change.catalog))
            else {
                if BUILTIN
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(&change.catalog))
                {
                    continue;
                }
                return Err(CatalogError {
                    file: change.file.clone(),
                    line: Some(change.line),
                    kind: Box::new(ErrorKind::PortChangeNoCatalog {
                        key: change.key.clone(),
                        catalog: change.catalog.clone(),
                    }),
                });
            };
            let catalog = &self.catalogs[ci];
            let before = moves.len();
            for (ri, rule) in catalog.rules.iter().enumerate() {
                let hit = match &change.target {
                    PortTarget::Port(port, proto) => {
                        rule.protocol == *proto && rule.ports.contains(*port)
                    }
                    PortTarget::Service(name) => rule
                        .service
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(name)),
                };
                if hit {
                    moves.push((ci, ri, change));
                }
            }
            if moves.len() == before {
                let kind = match &change.target {
                    PortTarget::Port(port, proto) => ErrorKind::PortChangeNoPort {
                        key: change.key.clone(),
                        catalog: catalog.name.clone(),
                        port: *port,
                        protocol: proto.as_str(),
                    },
                    PortTarget::Service(name) => ErrorKind::PortChangeNoService {
                        key: change.key.clone(),
                        catalog: catalog.name.clone(),
                        service: name.clone(),
                    },
                };
                return Err(CatalogError {
                    file: change.file.clone(),
                    line: Some(change.line),
                    kind: Box::new(kind),
                });
            }
        }
        // Remove every moved port first, then add the new ones, so that a
        // change moving a port onto another changed port is not undone.
        for &(ci, ri, change) in &moves {
            let rule = &mut self.catalogs[ci].rules[ri];
            match change.target {
                PortTarget::Port(port, _) => rule.ports.remove(port),
                PortTarget::Service(_) => rule.ports = PortSet::default(),
            }
        }
        for &(ci, ri, change) in &moves {
            self.catalogs[ci].rules[ri].ports.insert(change.new_port);
        }
        Ok(())
    }

    /// Every rule of every catalog, in load order then file order (used for
    /// deterministic tie-breaks).
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.catalogs.iter().flat_map(|c| c.rules.iter())
    }

    /// The rule with this qualified id ("catalog/local-id").
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
    ///
    /// Names no loaded catalog defines are kept as they are (they imply nothing).
    pub fn expand_roles(&self, roles: &[String]) -> Vec<String> {
        let mut out: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut todo: Vec<&str> = roles.iter().map(String::as_str).collect();
        while let Some(role) = todo.pop() {
            if out.insert(role.to_string()) {
                if let Some(def) = self.role(role) {
                    todo.extend(def.implies.iter().map(String::as_str));
                }
            }
        }
        out.into_iter().collect()
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

impl std::fmt::Debug for PortBitmap {
    /// The number of ports marked (the bits themselves are 16 KiB).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let marked: u32 = self.bits.iter().map(|w| w.count_ones()).sum();
        write!(f, "PortBitmap({marked} ports)")
    }
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
    /// Marks `port`/`protocol`.
    pub fn insert(&mut self, protocol: Transport, port: u16) {
        let i = Self::index(protocol, port);
        self.bits[i / 64] |= 1 << (i % 64);
    }
    /// Is `port`/`protocol` marked?
    pub fn contains(&self, protocol: Transport, port: u16) -> bool {
        let i = Self::index(protocol, port);
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }
}

impl Services {
    /// Parses `/etc/services` or Windows `drivers\etc\services` syntax.
    ///
    /// Blank lines and `#` comments are skipped, as are entries of protocols
    /// other than tcp/udp; a line without a valid `port/protocol` is an error
    /// naming the file and line. CRLF line endings and a UTF-8 BOM are fine.
    pub fn parse(text: &str, file: &str) -> Result<Services, CatalogError> {
        services::parse(text, file)
    }

    /// Reads and parses a services file (UTF-8, ANSI code page or UTF-16).
    pub fn load(path: &std::path::Path) -> Result<Services, CatalogError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| CatalogError {
            file: file.clone(),
            line: None,
            kind: Box::new(ErrorKind::ReadServices(IoText::new(&e))),
        })?;
        Self::parse(&services::decode(&bytes), &file)
    }

    /// The port of service `name` (or an alias; any case) for `protocol`:
    /// the first matching entry, as `getservbyname` would.
    pub fn port(&self, name: &str, protocol: Transport) -> Option<u16> {
        let name = name.to_lowercase();
        self.entries
            .iter()
            .find(|e| e.protocol == protocol && e.names.contains(&name))
            .map(|e| e.port)
    }
}

/// A role without an English label, called by its local name: "site_server" → "site server".
fn local_label(qualified: &str) -> String {
    qualified
        .rsplit('.')
        .next()
        .unwrap_or(qualified)
        .replace('_', " ")
}

/// The name built-in catalogs carry in error messages.
fn builtin_file(name: &str) -> String {
    format!("built-in catalog {name}")
}
