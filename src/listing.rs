//! Listings that need no capture: the effective catalog (`flowlint catalog`)
//! and the firewall checklist an inventory implies (`flowlint plan`).

use std::io::{self, Write};

use serde::Serialize;

use crate::catalog::{CatalogSet, Rule, Scope, Side};
use crate::inventory::{HostEntry, Inventory};

#[derive(Serialize)]
struct CatalogJson<'a> {
    name: &'a str,
    title: &'a str,
    source: &'a str,
    roles: Vec<RoleJson<'a>>,
    features: Vec<NamedJson<'a>>,
    notes: Vec<NamedJson<'a>>,
    rules: Vec<RuleJson<'a>>,
}

#[derive(Serialize)]
struct RoleJson<'a> {
    name: &'a str,
    ja: &'a str,
    en: &'a str,
    implies: &'a [String],
}

#[derive(Serialize)]
struct NamedJson<'a> {
    name: &'a str,
    ja: &'a str,
    en: &'a str,
}

#[derive(Serialize)]
struct RuleJson<'a> {
    id: &'a str,
    protocol: &'static str,
    ports: String,
    default_ports: String,
    service: Option<&'a str>,
    clients: &'a [String],
    servers: &'a [String],
    scope: &'static str,
    expects_reply: bool,
    requires_feature: Option<&'a str>,
    exclude_os: Option<String>,
    companion: Option<&'a str>,
    shared: bool,
    notes: &'a [String],
    source: &'a str,
    ja: &'a str,
    en: &'a str,
}

fn side_str(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
        Side::Either => "either",
    }
}

fn conditions(rule: &Rule) -> Vec<String> {
    let mut c = Vec::new();
    if rule.scope == Scope::SameHost {
        c.push("within one host".to_string());
    }
    if let Some(f) = &rule.requires_feature {
        c.push(format!("feature {f}"));
    }
    if let Some(x) = &rule.exclude_os {
        c.push(format!("not when the {} is {}", side_str(x.side), x.os));
    }
    if let Some(comp) = &rule.companion {
        c.push(format!("only after {comp}"));
    }
    if rule.shared {
        c.push("shared port".to_string());
    }
    if rule.protocol == crate::decode::Transport::Udp {
        c.push(if rule.expects_reply {
            "reply expected".to_string()
        } else {
            "no reply expected".to_string()
        });
    }
    c
}

fn short(role: &str) -> &str {
    role.split_once('.').map_or(role, |(_, r)| r)
}

fn roles_text(roles: &[String]) -> String {
    roles.iter().map(|r| short(r)).collect::<Vec<_>>().join("|")
}

/// `flowlint catalog`: every rule of the effective catalogs.
pub fn write_catalog(out: &mut dyn Write, catalogs: &CatalogSet, json: bool) -> io::Result<()> {
    if json {
        let list: Vec<CatalogJson<'_>> = catalogs
            .catalogs
            .iter()
            .map(|c| CatalogJson {
                name: &c.name,
                title: &c.title,
                source: &c.source,
                roles: c
                    .roles
                    .iter()
                    .map(|r| RoleJson {
                        name: &r.name,
                        ja: &r.ja,
                        en: &r.en,
                        implies: &r.implies,
                    })
                    .collect(),
                features: c
                    .features
                    .iter()
                    .map(|f| NamedJson {
                        name: &f.name,
                        ja: &f.ja,
                        en: &f.en,
                    })
                    .collect(),
                notes: c
                    .notes
                    .iter()
                    .map(|n| NamedJson {
                        name: &n.id,
                        ja: &n.ja,
                        en: &n.en,
                    })
                    .collect(),
                rules: c
                    .rules
                    .iter()
                    .map(|r| RuleJson {
                        id: &r.id,
                        protocol: r.protocol.as_str(),
                        ports: r.ports.to_string(),
                        default_ports: r.default_ports.to_string(),
                        service: r.service.as_deref(),
                        clients: &r.clients,
                        servers: &r.servers,
                        scope: match r.scope {
                            Scope::Network => "network",
                            Scope::SameHost => "same-host",
                        },
                        expects_reply: r.expects_reply,
                        requires_feature: r.requires_feature.as_deref(),
                        exclude_os: r
                            .exclude_os
                            .as_ref()
                            .map(|x| format!("{}:{}", side_str(x.side), x.os)),
                        companion: r.companion.as_deref(),
                        shared: r.shared,
                        notes: &r.notes,
                        source: &r.source,
                        ja: &r.ja,
                        en: &r.en,
                    })
                    .collect(),
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "catalogs": list }))
            .map_err(io::Error::other)?;
        return writeln!(out);
    }
    for c in &catalogs.catalogs {
        writeln!(out, "{} — {} ({})", c.name, c.title, c.source)?;
        writeln!(
            out,
            "  {:<34} {:<16} {:<28} {:<28} conditions / purpose",
            "rule", "port", "client", "server"
        )?;
        for r in &c.rules {
            let mut port = format!("{}/{}", r.ports, r.protocol.as_str());
            if r.ports != r.default_ports {
                port.push_str(&format!(" (was {})", r.default_ports));
            }
            let local = r.id.split_once('/').map_or(r.id.as_str(), |(_, l)| l);
            let mut tail = conditions(r);
            if let Some(s) = &r.service {
                tail.insert(0, s.clone());
            }
            tail.extend(r.notes.iter().cloned());
            writeln!(
                out,
                "  {:<34} {:<16} {:<28} {:<28} {}{}",
                local,
                port,
                roles_text(&r.clients),
                roles_text(&r.servers),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!("[{}] ", tail.join(", "))
                },
                r.en
            )?;
            if !r.ja.is_empty() {
                writeln!(out, "  {:<34} {}", "", r.ja)?;
            }
        }
        if !c.notes.is_empty() {
            writeln!(out, "  notes:")?;
            for n in &c.notes {
                writeln!(out, "    {}: {} / {}", n.id, n.ja, n.en)?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One flow a firewall must allow.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PlanFlow {
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    pub ports: String,
    pub protocol: &'static str,
    pub rule: String,
    pub purpose: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

fn entry_roles(entry: &HostEntry, catalogs: &CatalogSet) -> Vec<String> {
    catalogs.expand_roles(&entry.roles)
}

fn os_excluded(rule: &Rule, client: &HostEntry, server: &HostEntry) -> bool {
    let Some(x) = &rule.exclude_os else {
        return false;
    };
    let hit = |e: &HostEntry| e.os == Some(x.os);
    match x.side {
        Side::Client => hit(client),
        Side::Server => hit(server),
        Side::Either => hit(client) || hit(server),
    }
}

/// Every (client, server, port, protocol, rule) the inventory must allow.
pub fn plan(catalogs: &CatalogSet, inventory: &Inventory) -> Vec<PlanFlow> {
    let mut flows = Vec::new();
    for rule in catalogs.rules().filter(|r| r.scope == Scope::Network) {
        if let Some(f) = &rule.requires_feature {
            if !inventory.feature_enabled(&rule.catalog, f) {
                continue;
            }
        }
        for client in &inventory.hosts {
            if !entry_roles(client, catalogs)
                .iter()
                .any(|r| rule.clients.contains(r))
            {
                continue;
            }
            for server in &inventory.hosts {
                if std::ptr::eq(client, server)
                    && client.net.prefix_len() == client.net.max_prefix_len()
                {
                    continue;
                }
                if !entry_roles(server, catalogs)
                    .iter()
                    .any(|r| rule.servers.contains(r))
                {
                    continue;
                }
                if os_excluded(rule, client, server) {
                    continue;
                }
                let host = |e: &HostEntry| {
                    if e.net.prefix_len() == e.net.max_prefix_len() {
                        e.net.addr().to_string()
                    } else {
                        e.net.to_string()
                    }
                };
                flows.push(PlanFlow {
                    client: host(client),
                    client_name: client.name.clone(),
                    server: host(server),
                    server_name: server.name.clone(),
                    ports: rule.ports.to_string(),
                    protocol: rule.protocol.as_str(),
                    rule: rule.id.clone(),
                    purpose: rule.en.clone(),
                    condition: rule
                        .companion
                        .as_ref()
                        .map(|c| format!("RPC dynamic ports: only after a {c} connection"))
                        .or_else(|| {
                            rule.requires_feature
                                .as_ref()
                                .map(|f| format!("feature {f}"))
                        }),
                });
            }
        }
    }
    flows.dedup();
    flows
}

/// `flowlint plan`: the checklist as a table or JSON.
pub fn write_plan(out: &mut dyn Write, flows: &[PlanFlow], json: bool) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "flows": flows }))
            .map_err(io::Error::other)?;
        return writeln!(out);
    }
    let name = |addr: &str, n: &Option<String>| match n {
        Some(n) => format!("{n} ({addr})"),
        None => addr.to_string(),
    };
    writeln!(
        out,
        "{:<36} {:<36} {:<18} {:<40} purpose",
        "from (client)", "to (server)", "port", "rule"
    )?;
    for f in flows {
        writeln!(
            out,
            "{:<36} {:<36} {:<18} {:<40} {}{}",
            name(&f.client, &f.client_name),
            name(&f.server, &f.server_name),
            format!("{}/{}", f.ports, f.protocol),
            f.rule,
            f.purpose,
            f.condition
                .as_ref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "{} flows to allow.", flows.len())
}
