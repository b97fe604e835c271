//! Conversations, roles and verdicts.
//!
//! Owns, one module each: grouping decided connections into conversations
//! ([`conversation`]), the roles of each host ([`roles`]), matching a
//! conversation against the catalog's rules and conditions ([`verdict`]),
//! and the facts that explain a verdict ([`reason`]). Words are not made
//! here: reports render reasons when they write them.
//!
//! Once the roles are known, conversations are independent of each other,
//! so they are judged in parallel; the result does not depend on the
//! number of threads.

pub mod conversation;
pub mod reason;
pub mod roles;
pub mod verdict;

pub use conversation::{
    ConvKey, ConvStore, Conversation, ConversationTable, Rare, TtlSet, DEFAULT_MAX_CONVERSATIONS,
};
pub use reason::{Blocked, IcmpBlock, Reason, Refusal, REASON_CODES};
pub use roles::{Host, HostId, Hosts};

use rayon::prelude::*;

use crate::catalog::{CatalogSet, RuleId};
use crate::inventory::Inventory;

/// The verdict of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    Blocked,
    WrongDirection,
    Unexpected,
    Expected,
    Unlisted,
}

impl Verdict {
    /// In the order reports list them (most severe first).
    pub const ALL: [Verdict; 5] = [
        Verdict::Blocked,
        Verdict::WrongDirection,
        Verdict::Unexpected,
        Verdict::Expected,
        Verdict::Unlisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Blocked => "blocked",
            Verdict::WrongDirection => "wrong_direction",
            Verdict::Unexpected => "unexpected",
            Verdict::Expected => "expected",
            Verdict::Unlisted => "unlisted",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Severity for baseline comparison: higher is worse. `expected` and
    /// `unlisted` are not findings and rank alike.
    pub fn severity(self) -> u8 {
        match self {
            Verdict::Blocked => 3,
            Verdict::WrongDirection => 2,
            Verdict::Unexpected => 1,
            Verdict::Expected | Verdict::Unlisted => 0,
        }
    }

    pub fn is_finding(self) -> bool {
        self.severity() > 0
    }
}

/// A conversation with its verdict.
#[derive(Clone, Debug)]
pub struct Classified {
    pub conv: Conversation,
    pub verdict: Verdict,
    pub rule: Option<RuleId>,
    pub reason: Reason,
    /// The client's and the server's entries in [`Classification::hosts`].
    pub hosts: [Option<HostId>; 2],
}

/// How often each rule matched, for the coverage table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleUse {
    /// Conversations it allowed (expected or blocked).
    pub conversations: u64,
    pub blocked: u64,
    /// Conversations that went the wrong way on it.
    pub reversed: u64,
}

/// Everything classification found.
#[derive(Clone, Debug, Default)]
pub struct Classification {
    /// Sorted by verdict severity, then client, server, port, protocol.
    pub conversations: Vec<Classified>,
    pub hosts: Hosts,
    /// By [`RuleId`].
    pub rules: Vec<RuleUse>,
    /// Conversations by verdict ([`Verdict`] as index).
    pub verdicts: [u64; 5],
}

impl Classification {
    /// The index of the conversation with this key, if any (by binary
    /// search within each verdict's run).
    pub fn position(&self, key: &ConvKey) -> Option<usize> {
        Verdict::ALL.iter().find_map(|&v| {
            let start = self.start_of(v);
            self.with_verdict(v)
                .binary_search_by(|c| c.conv.key.cmp(key))
                .ok()
                .map(|i| start + i)
        })
    }

    /// The conversations with this verdict (a run of the report order).
    pub fn with_verdict(&self, verdict: Verdict) -> &[Classified] {
        let start = self.start_of(verdict);
        &self.conversations[start..start + self.verdicts[verdict as usize] as usize]
    }

    /// Where the run of `verdict` starts: the counts of the verdicts before it.
    fn start_of(&self, verdict: Verdict) -> usize {
        self.verdicts[..verdict as usize].iter().sum::<u64>() as usize
    }

    /// The conversation with this key, if any.
    pub fn find(&self, key: &ConvKey) -> Option<&Classified> {
        self.position(key).map(|i| &self.conversations[i])
    }
}

/// Classifies every conversation of the table (consumed: its conversations
/// move into the result).
pub fn classify(
    table: ConversationTable,
    catalogs: &CatalogSet,
    inventory: Option<&Inventory>,
) -> Classification {
    let ConversationTable {
        conversations,
        host_ttls,
        ..
    } = table;
    // Each conversation moves out of the table once; the verdicts are
    // filled in place, and a permutation puts it into its final position.
    let mut out: Vec<Classified> = Vec::with_capacity(conversations.len());
    out.extend(conversations.into_iter_chunks().map(|conv| Classified {
        conv,
        verdict: Verdict::Unlisted,
        rule: None,
        reason: Reason::NotInCatalog,
        hosts: [None, None],
    }));
    // The keys in order, with their positions: small to sort, and what the
    // companion look-ups search.
    let mut order: Vec<(ConvKey, u32)> = out
        .iter()
        .enumerate()
        .map(|(i, c)| (c.conv.key, i as u32))
        .collect();
    order.par_sort_unstable_by_key(|&(key, _)| key);
    let hosts = Hosts::build(catalogs, inventory, out.iter().map(|c| &c.conv));
    // What the companion look-ups need, apart: `out` is written below.
    let out_first_served: Vec<i64> = out.iter().map(|c| c.conv.first_served_ns).collect();
    {
        let first_served = |k: &ConvKey| {
            order
                .binary_search_by(|(key, _)| key.cmp(k))
                .ok()
                .map(|at| out_first_served[order[at].1 as usize])
                .filter(|&t| t != i64::MAX)
        };
        let ports = verdict::PortIndex::new(catalogs);
        let judge = verdict::Judge {
            catalogs,
            ports: &ports,
            hosts: &hosts,
            host_ttls: &host_ttls,
            first_served: &first_served,
        };
        out.par_iter_mut().with_min_len(1024).for_each(|c| {
            let key = c.conv.key;
            c.hosts = [hosts.id(key.client), hosts.id(key.server)];
            let (verdict, rule, reason) = judge.judge(&c.conv, c.hosts);
            c.verdict = verdict;
            c.rule = rule;
            c.reason = reason;
        });
    }
    drop(host_ttls);
    // Report order: by verdict, then key. `order` is in key order, so one
    // pass that counts per verdict gives every conversation its place.
    let mut start = [0u32; 5];
    for c in &out {
        if let Some(later) = start.get_mut(c.verdict as usize + 1..) {
            for s in later {
                *s += 1;
            }
        }
    }
    let mut place = vec![0u32; out.len()];
    for &(_, i) in &order {
        let v = out[i as usize].verdict as usize;
        place[i as usize] = start[v];
        start[v] += 1;
    }
    drop(order);
    // Apply the permutation in place: each swap puts one conversation home.
    for i in 0..out.len() {
        while place[i] as usize != i {
            let j = place[i] as usize;
            out.swap(i, j);
            place.swap(i, j);
        }
    }

    let mut rules = vec![RuleUse::default(); catalogs.rules().count()];
    let mut verdicts = [0u64; 5];
    for c in &out {
        verdicts[c.verdict as usize] += 1;
        let Some(rule) = c.rule else {
            continue;
        };
        let u = &mut rules[usize::from(rule.0)];
        match c.verdict {
            Verdict::Expected => u.conversations += 1,
            Verdict::Blocked => {
                u.conversations += 1;
                u.blocked += 1;
            }
            Verdict::WrongDirection => u.reversed += 1,
            _ => {}
        }
    }
    Classification {
        conversations: out,
        hosts,
        rules,
        verdicts,
    }
}

#[cfg(test)]
mod tests;
