//! A catalog rule's conditions as data, worded only when a listing is
//! written: the catalog table (`flowlint catalog`) and the firewall
//! checklist (`flowlint plan`) say them with the same words, in English or
//! Japanese.
//!
//! Owns: which conditions a rule has ([`Condition::of_rule`], in the order
//! the catalog table lists them), which of them the plan states beside an
//! opening ([`Condition::for_plan`]), their wording in each language
//! ([`Worded`]), and the plan JSON's fixed English value of each
//! ([`Condition::json_text`]).

use std::fmt::{self, Display, Formatter};

use crate::catalog::{Os, Rule, Scope, Side};
use crate::decode::Transport;
use crate::report::lang::Lang;
use crate::{term, trw};

/// One condition of a catalog rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `scope = "same-host"`: the ports are used within one host only.
    WithinHost,
    /// `requires_feature`: only where the inventory enables the feature.
    Feature { feature: String },
    /// `exclude_os`: not when the host on `side` runs `os`.
    NotOn { side: Side, os: Os },
    /// `companion`: only after a connection of that rule (qualified id)
    /// between the same two hosts.
    After { companion: String },
    /// `shared = true`: other software uses the port too.
    Shared,
    /// A UDP rule: is an answer expected (`expects_reply`)?
    Reply { expected: bool },
}

impl Condition {
    /// Every condition of `rule`, in the catalog table's order.
    pub fn of_rule(rule: &Rule) -> Vec<Condition> {
        let mut c = Vec::new();
        if rule.scope == Scope::SameHost {
            c.push(Condition::WithinHost);
        }
        if let Some(f) = &rule.requires_feature {
            c.push(Condition::Feature { feature: f.clone() });
        }
        if let Some(x) = &rule.exclude_os {
            c.push(Condition::NotOn {
                side: x.side,
                os: x.os,
            });
        }
        if let Some(comp) = &rule.companion {
            c.push(Condition::After {
                companion: comp.clone(),
            });
        }
        if rule.shared {
            c.push(Condition::Shared);
        }
        if rule.protocol == Transport::Udp {
            c.push(Condition::Reply {
                expected: rule.expects_reply,
            });
        }
        c
    }

    /// The condition a firewall opening of `rule` comes with, as the plan
    /// states it: the companion connection it needs first, else the
    /// feature it needs. (The plan has applied the others already: OS
    /// exclusions leave the opening out, same-host ports are listed apart,
    /// and a shared port or an expected reply changes nothing on a
    /// firewall.)
    pub fn for_plan(rule: &Rule) -> Option<Condition> {
        let mut all = Condition::of_rule(rule);
        let at = all
            .iter()
            .position(|c| matches!(c, Condition::After { .. }))
            .or_else(|| {
                all.iter()
                    .position(|c| matches!(c, Condition::Feature { .. }))
            })?;
        Some(all.swap_remove(at))
    }

    /// The condition in `lang`.
    pub fn worded(&self, lang: Lang) -> Worded<'_> {
        Worded(self, lang)
    }

    /// The plan JSON's (and CSV's) value: English, in the words these
    /// outputs have always had (scripts compare them), whatever `--lang`.
    pub fn json_text(&self) -> String {
        match self {
            Condition::After { companion } => {
                format!("RPC dynamic ports: only after a {companion} connection")
            }
            other => other.worded(Lang::En).to_string(),
        }
    }
}

/// A [`Condition`] in a language: "feature business-linkage" (「機能
/// business-linkage」).
pub struct Worded<'a>(pub &'a Condition, pub Lang);

impl Display for Worded<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let lang = self.1;
        match self.0 {
            Condition::WithinHost => f.write_str(term!(lang, "within one host", "同一ホスト内")),
            Condition::Feature { feature } => {
                trw!(
                    f,
                    lang,
                    "feature {feature}",
                    "機能 {feature}",
                    feature = feature
                )
            }
            Condition::NotOn { side, os } => {
                let side = match side {
                    Side::Client => term!(lang, "client", "クライアント"),
                    Side::Server => term!(lang, "server", "サーバ"),
                    Side::Either => term!(lang, "either", "どちらか"),
                };
                trw!(
                    f,
                    lang,
                    "not when the {side} is {os}",
                    "{side} が {os} の場合は除く",
                    side = side,
                    os = os
                )
            }
            Condition::After { companion } => trw!(
                f,
                lang,
                "only after a {companion} connection",
                "{companion} の接続の後のみ",
                companion = companion
            ),
            Condition::Shared => f.write_str(term!(lang, "shared port", "共用ポート")),
            Condition::Reply { expected: true } => {
                f.write_str(term!(lang, "reply expected", "応答あり"))
            }
            Condition::Reply { expected: false } => {
                f.write_str(term!(lang, "no reply expected", "応答なし"))
            }
        }
    }
}

/// Distinct items, in first-seen order.
pub(crate) fn distinct<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen: Vec<T> = Vec::new();
    for i in items {
        if !seen.contains(&i) {
            seen.push(i);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CatalogSet;

    /// One condition of every kind, with the value its words must name in
    /// both languages. The `match` makes a new kind a compile error here
    /// until it has its sample.
    fn samples() -> Vec<(Condition, &'static str)> {
        let all = vec![
            (Condition::WithinHost, ""),
            (
                Condition::Feature {
                    feature: "business-linkage".into(),
                },
                "business-linkage",
            ),
            (
                Condition::NotOn {
                    side: Side::Server,
                    os: Os::Unix,
                },
                "unix",
            ),
            (
                Condition::NotOn {
                    side: Side::Client,
                    os: Os::Windows,
                },
                "windows",
            ),
            (
                Condition::NotOn {
                    side: Side::Either,
                    os: Os::Unix,
                },
                "unix",
            ),
            (
                Condition::After {
                    companion: "systemwalker-om/jobschmsgevent-rpc".into(),
                },
                "systemwalker-om/jobschmsgevent-rpc",
            ),
            (Condition::Shared, ""),
            (Condition::Reply { expected: true }, ""),
            (Condition::Reply { expected: false }, ""),
        ];
        for (c, _) in &all {
            match c {
                Condition::WithinHost
                | Condition::Feature { .. }
                | Condition::NotOn { .. }
                | Condition::After { .. }
                | Condition::Shared
                | Condition::Reply { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_condition_is_worded_in_both_languages_with_its_value() {
        let mut english = Vec::new();
        for (c, value) in samples() {
            let en = c.worded(Lang::En).to_string();
            let ja = c.worded(Lang::Ja).to_string();
            assert_ne!(en, ja, "untranslated: {c:?}");
            assert!(en.is_ascii(), "{en}");
            assert!(
                ja.chars()
                    .any(|ch| unicode_width::UnicodeWidthChar::width(ch) == Some(2)),
                "no Japanese in {ja}"
            );
            assert!(
                en.contains(value) && ja.contains(value),
                "{value}: {en} / {ja}"
            );
            assert!(c.json_text().is_ascii() && c.json_text().contains(value));
            english.push(en);
        }
        // No two kinds share their words.
        let n = english.len();
        assert_eq!(distinct(english).len(), n);
    }

    #[test]
    fn the_built_in_rules_give_their_conditions() {
        let set = CatalogSet::load(&[]).unwrap();
        let rule = |id: &str| set.rules().find(|r| r.id == id).unwrap();
        let dynamic = rule("systemwalker-om/jobschmsgevent-dynamic");
        assert_eq!(
            Condition::of_rule(dynamic),
            [
                Condition::After {
                    companion: "systemwalker-om/jobschmsgevent-rpc".into()
                },
                Condition::Shared
            ]
        );
        assert_eq!(
            Condition::for_plan(dynamic)
                .map(|c| c.json_text())
                .as_deref(),
            Some("RPC dynamic ports: only after a systemwalker-om/jobschmsgevent-rpc connection")
        );
        let linkage = rule("systemwalker-om/mpnjsocl");
        assert_eq!(
            Condition::for_plan(linkage),
            Some(Condition::Feature {
                feature: "business-linkage".into()
            })
        );
        assert_eq!(Condition::for_plan(rule("jp1-itdm/agent-to-manager")), None);
        // Every kind occurs in the built-in catalogs.
        let seen: Vec<std::mem::Discriminant<Condition>> = distinct(
            set.rules()
                .flat_map(Condition::of_rule)
                .map(|c| std::mem::discriminant(&c)),
        );
        assert_eq!(seen.len(), 6, "{seen:?}");
    }
}
