//! Listings that need no capture: the effective catalog (`flowlint catalog`)
//! and the firewall checklist an inventory implies (`flowlint plan`).

use std::io::{self, Write};

use serde::Serialize;

use crate::catalog::{CatalogSet, Rule, Scope, Side};

pub mod condition;
mod plan;
pub mod table;

use crate::report::lang::Lang;
use crate::{term, tr};
pub use condition::Condition;
pub use plan::{plan, write_plan, Plan, PlanFlow, PlanFormat, PlanRule};
use table::Table;

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

/// A rule's conditions as the catalog table words them.
fn conditions(rule: &Rule, lang: Lang) -> Vec<String> {
    Condition::of_rule(rule)
        .iter()
        .map(|c| c.worded(lang).to_string())
        .collect()
}

fn short(role: &str) -> &str {
    role.split_once('.').map_or(role, |(_, r)| r)
}

/// `flowlint catalog`: every rule of the effective catalogs.
pub fn write_catalog(
    out: &mut dyn Write,
    catalogs: &CatalogSet,
    json: bool,
    lang: Lang,
) -> io::Result<()> {
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
        write_catalog_text(out, c, lang)?;
    }
    Ok(())
}

/// How a rule's roles read in the catalog text: "agent, site_server".
fn roles_list(roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| short(r))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One catalog as text: its roles (Japanese and English names), features,
/// rules (one aligned line each, then the purpose in English and Japanese)
/// and notes.
///
/// In Japanese the headings are Japanese and each rule's Japanese purpose
/// comes first; the English names stay beside them (they are what the
/// inventory and the JSON reports use).
fn write_catalog_text(
    out: &mut dyn Write,
    c: &crate::catalog::Catalog,
    lang: Lang,
) -> io::Result<()> {
    writeln!(out, "{} — {} ({})", c.name, c.title, c.source)?;
    if !c.roles.is_empty() {
        writeln!(out, "  {}", term!(lang, "roles:", "役割:"))?;
        let mut t = Table::new([term!(lang, "role", "役割"), "日本語", "English"]);
        for r in &c.roles {
            t.row([short(&r.name).to_string(), r.ja.clone(), r.en.clone()]);
        }
        t.write(out, "    ")?;
        for r in c.roles.iter().filter(|r| !r.implies.is_empty()) {
            let line = tr!(
                lang,
                "a host with {role} also holds {implied}.",
                "{role} のホストは {implied} も兼ねます。",
                role = short(&r.name),
                implied = roles_list(&r.implies)
            );
            for l in table::wrap(&line, 100 - 4) {
                writeln!(out, "    {l}")?;
            }
        }
    }
    if !c.features.is_empty() {
        let heading = tr!(
            lang,
            "features (inventory [{name}] features):",
            "機能（インベントリの [{name}] features）:",
            name = c.name
        );
        writeln!(out, "  {heading}")?;
        let mut t = Table::new([term!(lang, "feature", "機能"), "日本語", "English"]);
        for f in &c.features {
            t.row([f.name.clone(), f.ja.clone(), f.en.clone()]);
        }
        t.write(out, "    ")?;
    }
    writeln!(out, "  {}", term!(lang, "rules:", "ルール:"))?;
    let mut t = Table::new([
        term!(lang, "rule", "ルール"),
        term!(lang, "port", "ポート"),
        term!(lang, "client → server", "クライアント → サーバ"),
    ]);
    let mut details = Vec::new();
    for r in &c.rules {
        let mut port = format!("{}/{}", r.ports, r.protocol.as_str());
        if r.ports != r.default_ports {
            port.push_str(&tr!(
                lang,
                " (was {old})",
                "（変更前 {old}）",
                old = r.default_ports
            ));
        }
        let local = r.id.split_once('/').map_or(r.id.as_str(), |(_, l)| l);
        t.row([
            local.to_string(),
            port,
            format!("{} → {}", roles_list(&r.clients), roles_list(&r.servers)),
        ]);
        let mut tail = conditions(r, lang);
        if let Some(s) = &r.service {
            tail.insert(0, s.clone());
        }
        tail.extend(r.notes.iter().cloned());
        let en = if tail.is_empty() {
            r.en.clone()
        } else {
            format!("[{}] {}", tail.join(", "), r.en)
        };
        details.push((en, r.ja.clone()));
    }
    // The table's lines, each followed by its rule's purpose.
    let mut buf = Vec::new();
    t.write(&mut buf, "    ")?;
    let text = String::from_utf8(buf).map_err(io::Error::other)?;
    let mut lines = text.lines();
    if let Some(header) = lines.next() {
        writeln!(out, "{header}")?;
    }
    for (line, (en, ja)) in lines.zip(details) {
        writeln!(out, "{line}")?;
        if lang == Lang::Ja && !ja.is_empty() {
            writeln!(out, "        {ja}")?;
            writeln!(out, "        {en}")?;
            continue;
        }
        writeln!(out, "        {en}")?;
        if !ja.is_empty() {
            writeln!(out, "        {ja}")?;
        }
    }
    if !c.notes.is_empty() {
        writeln!(out, "  {}", term!(lang, "notes:", "注記:"))?;
        for n in &c.notes {
            writeln!(out, "    {}: {} / {}", n.id, n.ja, n.en)?;
        }
    }
    writeln!(out)
}
