//! Reading and validating one catalog file (the format is documented in the
//! parent module).
//!
//! The file is deserialized into "raw" structs that keep the byte span of
//! every item (`toml::Spanned`), so that each validation error can name the
//! line of the offending item rather than just the file.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::{
    parse_transport, Catalog, CatalogError, ErrorKind, FeatureDef, Note, Os, OsExclusion,
    PortEntry, PortSet, RoleDef, RoleSet, Rule, RuleId, Scope, Side,
};
use crate::decode::Transport;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    catalog: Spanned<RawHeader>,
    #[serde(default)]
    roles: Vec<Spanned<RawRole>>,
    #[serde(default)]
    features: Vec<Spanned<RawNamed>>,
    #[serde(default)]
    notes: Vec<Spanned<RawNote>>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Spanned<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: Spanned<String>,
    #[serde(default)]
    ja: String,
    #[serde(default)]
    en: String,
    #[serde(default)]
    implies: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamed {
    name: Spanned<String>,
    #[serde(default)]
    ja: String,
    #[serde(default)]
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNote {
    id: Spanned<String>,
    #[serde(default)]
    ja: String,
    #[serde(default)]
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    protocol: Spanned<String>,
    ports: Spanned<Vec<Spanned<toml::Value>>>,
    service: Option<Spanned<String>>,
    clients: Spanned<Vec<Spanned<String>>>,
    servers: Spanned<Vec<Spanned<String>>>,
    scope: Option<Spanned<String>>,
    expects_reply: Option<Spanned<bool>>,
    requires_feature: Option<Spanned<String>>,
    exclude_os: Option<Spanned<RawExclusion>>,
    companion: Option<Spanned<String>>,
    #[serde(default)]
    shared: bool,
    #[serde(default)]
    notes: Vec<Spanned<String>>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    ja: String,
    #[serde(default)]
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclusion {
    side: Spanned<String>,
    os: Spanned<String>,
}

/// 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    // Spans always fall on char boundaries, but be defensive: count bytes.
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The toml crate's messages may span several lines; errors here are one line.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds errors for one file.
struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn err<T>(&self, span: std::ops::Range<usize>, kind: ErrorKind) -> Result<T, CatalogError> {
        Err(CatalogError {
            file: self.file.to_string(),
            line: Some(line_of(self.text, span.start)),
            kind: Box::new(kind),
        })
    }
}

/// Is `name` usable as a catalog, role, feature or rule name? (Not empty, and
/// free of the separators used in qualified names and inventory keys.)
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '.' || c == '/' || c == '"' || c == '#')
}

/// Parses a port entry of a rule: an integer or a string "a" / "a-b".
fn parse_port_entry(value: &toml::Value) -> Result<(u16, u16), PortEntry> {
    let port = |n: i64| -> Result<u16, PortEntry> {
        match u16::try_from(n) {
            Ok(p) if p >= 1 => Ok(p),
            _ => Err(PortEntry::OutOfRange { port: n }),
        }
    };
    let text_port = |s: &str| -> Result<u16, PortEntry> {
        let s = s.trim();
        let n: i64 = s.parse().map_err(|_| PortEntry::NotANumber {
            text: s.to_string(),
        })?;
        port(n)
    };
    match value {
        toml::Value::Integer(n) => port(*n).map(|p| (p, p)),
        toml::Value::String(s) => {
            let (a, b) = match s.split_once('-') {
                Some((a, b)) => (text_port(a)?, text_port(b)?),
                None => {
                    let p = text_port(s)?;
                    (p, p)
                }
            };
            if a > b {
                return Err(PortEntry::Reversed {
                    range: s.clone(),
                    low: a,
                    high: b,
                });
            }
            Ok((a, b))
        }
        other => Err(PortEntry::WrongType {
            type_name: other.type_str(),
        }),
    }
}

pub(super) fn parse_catalog(text: &str, file: &str) -> Result<Catalog, CatalogError> {
    let ctx = Ctx { text, file };
    let raw: RawFile = toml::from_str(text).map_err(|e| CatalogError {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)),
        kind: Box::new(ErrorKind::Toml(one_line(e.message()))),
    })?;

    let header = raw.catalog.get_ref();
    let name = header.name.get_ref().clone();
    if !valid_name(&name) {
        return ctx.err(
            header.name.span(),
            ErrorKind::CatalogName { name: name.clone() },
        );
    }
    let qualify_role = |local: &str| format!("{name}.{local}");

    // Roles: names first (implies may point forward), then their implications.
    let mut role_names: HashSet<&str> = HashSet::new();
    for role in &raw.roles {
        let r = role.get_ref();
        let n = r.name.get_ref().as_str();
        if !valid_name(n) {
            return ctx.err(r.name.span(), ErrorKind::RoleName { name: n.into() });
        }
        if !role_names.insert(n) {
            return ctx.err(r.name.span(), ErrorKind::RoleTwice { name: n.into() });
        }
    }
    let check_role = |role: &Spanned<String>| -> Result<String, CatalogError> {
        let n = role.get_ref();
        if role_names.contains(n.as_str()) {
            Ok(qualify_role(n))
        } else {
            ctx.err(
                role.span(),
                ErrorKind::UnknownRole {
                    role: n.clone(),
                    catalog: name.clone(),
                    known: raw
                        .roles
                        .iter()
                        .map(|r| r.get_ref().name.get_ref().clone())
                        .collect(),
                },
            )
        }
    };
    let mut roles = Vec::with_capacity(raw.roles.len());
    for role in &raw.roles {
        let r = role.get_ref();
        let implies = r
            .implies
            .iter()
            .map(&check_role)
            .collect::<Result<Vec<_>, _>>()?;
        roles.push(RoleDef {
            name: qualify_role(r.name.get_ref()),
            ja: r.ja.clone(),
            en: r.en.clone(),
            implies,
        });
    }

    let mut features = Vec::with_capacity(raw.features.len());
    let mut feature_names: HashSet<&str> = HashSet::new();
    for f in &raw.features {
        let f = f.get_ref();
        let n = f.name.get_ref().as_str();
        if !valid_name(n) {
            return ctx.err(f.name.span(), ErrorKind::FeatureName { name: n.into() });
        }
        if !feature_names.insert(n) {
            return ctx.err(f.name.span(), ErrorKind::FeatureTwice { name: n.into() });
        }
        features.push(FeatureDef {
            name: n.to_string(),
            ja: f.ja.clone(),
            en: f.en.clone(),
        });
    }

    let mut notes = Vec::with_capacity(raw.notes.len());
    let mut note_ids: HashSet<&str> = HashSet::new();
    for note in &raw.notes {
        let n = note.get_ref();
        let id = n.id.get_ref().as_str();
        if id.trim().is_empty() {
            return ctx.err(n.id.span(), ErrorKind::EmptyNoteId);
        }
        if !note_ids.insert(id) {
            return ctx.err(n.id.span(), ErrorKind::NoteTwice { id: id.into() });
        }
        notes.push(Note {
            id: id.to_string(),
            ja: n.ja.clone(),
            en: n.en.clone(),
        });
    }

    // Rule ids first, so that a companion may name a later rule.
    let mut rule_ids: HashMap<&str, usize> = HashMap::new();
    for (i, rule) in raw.rules.iter().enumerate() {
        let r = rule.get_ref();
        let id = r.id.get_ref().as_str();
        if !valid_name(id) {
            return ctx.err(r.id.span(), ErrorKind::RuleId { id: id.into() });
        }
        if rule_ids.insert(id, i).is_some() {
            return ctx.err(r.id.span(), ErrorKind::RuleIdTwice { id: id.into() });
        }
    }

    let mut rules = Vec::with_capacity(raw.rules.len());
    for rule in &raw.rules {
        rules.push(build_rule(
            &ctx,
            &name,
            rule.get_ref(),
            &check_role,
            &feature_names,
            &note_ids,
            &rule_ids,
        )?);
    }

    Ok(Catalog {
        name,
        title: header.title.clone(),
        source: header.source.clone(),
        roles,
        features,
        notes,
        rules,
    })
}

fn build_rule(
    ctx: &Ctx<'_>,
    catalog: &str,
    r: &RawRule,
    check_role: &dyn Fn(&Spanned<String>) -> Result<String, CatalogError>,
    feature_names: &HashSet<&str>,
    note_ids: &HashSet<&str>,
    rule_ids: &HashMap<&str, usize>,
) -> Result<Rule, CatalogError> {
    let id = r.id.get_ref();
    let protocol = match parse_transport(r.protocol.get_ref()) {
        Some(p) => p,
        None => {
            return ctx.err(
                r.protocol.span(),
                ErrorKind::RuleProtocol {
                    rule: id.clone(),
                    protocol: r.protocol.get_ref().clone(),
                },
            )
        }
    };

    if r.ports.get_ref().is_empty() {
        return ctx.err(r.ports.span(), ErrorKind::NoPorts { rule: id.clone() });
    }
    let mut ports = PortSet::default();
    for entry in r.ports.get_ref() {
        match parse_port_entry(entry.get_ref()) {
            Ok((a, b)) => ports.insert_range(a, b),
            Err(entry_problem) => {
                return ctx.err(
                    entry.span(),
                    ErrorKind::Port {
                        rule: id.clone(),
                        entry: entry_problem,
                    },
                )
            }
        }
    }

    let service = match &r.service {
        Some(s) if !valid_name(s.get_ref()) => {
            return ctx.err(
                s.span(),
                ErrorKind::ServiceName {
                    rule: id.clone(),
                    service: s.get_ref().clone(),
                },
            )
        }
        Some(s) => Some(s.get_ref().clone()),
        None => None,
    };

    let roles = |list: &Spanned<Vec<Spanned<String>>>,
                 what: &'static str|
     -> Result<Vec<String>, CatalogError> {
        if list.get_ref().is_empty() {
            return ctx.err(
                list.span(),
                ErrorKind::NoRoles {
                    rule: id.clone(),
                    what,
                },
            );
        }
        let mut out: Vec<String> = Vec::new();
        for role in list.get_ref() {
            let q = check_role(role)?;
            if !out.contains(&q) {
                out.push(q);
            }
        }
        Ok(out)
    };
    let clients = roles(&r.clients, "clients")?;
    let servers = roles(&r.servers, "servers")?;

    let scope = match r.scope.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
        None | Some(("network", _)) => Scope::Network,
        Some(("same-host", _)) => Scope::SameHost,
        Some((other, span)) => {
            return ctx.err(
                span,
                ErrorKind::Scope {
                    rule: id.clone(),
                    scope: other.to_string(),
                },
            )
        }
    };

    // Whether silence is a failure only makes sense for UDP: a TCP attempt
    // always expects its SYN/ACK, so the field is rejected there rather than
    // silently ignored.
    let expects_reply = match (&r.expects_reply, protocol) {
        (Some(e), Transport::Tcp) => {
            return ctx.err(e.span(), ErrorKind::ExpectsReplyTcp { rule: id.clone() })
        }
        (Some(e), Transport::Udp) => *e.get_ref(),
        // TCP: every attempt waits for the handshake. UDP without the field:
        // silence is not held against the rule.
        (None, Transport::Tcp) => true,
        (None, Transport::Udp) => false,
    };

    let requires_feature = match &r.requires_feature {
        Some(f) if !feature_names.contains(f.get_ref().as_str()) => {
            return ctx.err(
                f.span(),
                ErrorKind::UnknownFeature {
                    rule: id.clone(),
                    feature: f.get_ref().clone(),
                    catalog: catalog.to_string(),
                    known: sorted(feature_names).map(str::to_string).collect(),
                },
            )
        }
        Some(f) => Some(f.get_ref().clone()),
        None => None,
    };

    let exclude_os = match &r.exclude_os {
        None => None,
        Some(x) => {
            let x = x.get_ref();
            let side = match x.side.get_ref().as_str() {
                "client" => Side::Client,
                "server" => Side::Server,
                "either" => Side::Either,
                other => {
                    return ctx.err(
                        x.side.span(),
                        ErrorKind::ExcludeSide {
                            rule: id.clone(),
                            side: other.to_string(),
                        },
                    )
                }
            };
            let Some(os) = Os::parse(x.os.get_ref()) else {
                return ctx.err(
                    x.os.span(),
                    ErrorKind::ExcludeOs {
                        rule: id.clone(),
                        os: x.os.get_ref().clone(),
                    },
                );
            };
            Some(OsExclusion { side, os })
        }
    };

    let companion = match &r.companion {
        None => None,
        Some(c) => {
            let cid = c.get_ref().as_str();
            if cid == id.as_str() {
                return ctx.err(c.span(), ErrorKind::OwnCompanion { rule: id.clone() });
            }
            if !rule_ids.contains_key(cid) {
                return ctx.err(
                    c.span(),
                    ErrorKind::NoCompanion {
                        rule: id.clone(),
                        companion: cid.to_string(),
                    },
                );
            }
            Some(format!("{catalog}/{cid}"))
        }
    };

    let mut notes = Vec::with_capacity(r.notes.len());
    for n in &r.notes {
        if !note_ids.contains(n.get_ref().as_str()) {
            return ctx.err(
                n.span(),
                ErrorKind::UnknownNote {
                    rule: id.clone(),
                    note: n.get_ref().clone(),
                },
            );
        }
        if !notes.contains(n.get_ref()) {
            notes.push(n.get_ref().clone());
        }
    }

    Ok(Rule {
        id: format!("{catalog}/{id}"),
        catalog: catalog.to_string(),
        protocol,
        default_ports: ports.clone(),
        ports,
        service,
        clients,
        servers,
        scope,
        expects_reply,
        requires_feature,
        exclude_os,
        companion,
        shared: r.shared,
        notes,
        source: r.source.clone(),
        ja: r.ja.clone(),
        en: r.en.clone(),
        rid: RuleId(0),
        client_set: RoleSet::EMPTY,
        server_set: RoleSet::EMPTY,
        companion_rule: None,
    })
}

fn sorted<'a>(set: &HashSet<&'a str>) -> impl Iterator<Item = &'a str> {
    let mut v: Vec<&'a str> = set.iter().copied().collect();
    v.sort_unstable();
    v.into_iter()
}
