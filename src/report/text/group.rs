//! Findings grouped so that one problem is one entry, from the typed model.
//!
//! Owns the group keys: a blocked conversation by (the host the group has
//! in common — its server, or its client when that merges more —, port,
//! protocol, failure kind, blocker); a wrong-direction one by (rule, the
//! role pair as it ran); an unexpected one by the kind of its reason.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::catalog::{CatalogSet, RoleId, RoleSet, RuleId};
use crate::classify::{Blocked, Classified, Hosts, IcmpBlock, Reason, Refusal, Verdict};
use crate::decode::Transport;

/// How the failed connections of a blocked conversation failed (the first
/// of: ICMP unreachable, RST, no answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// ICMP destination unreachable, from `blocker` or (none) the server.
    Unreachable,
    /// A RST from a middlebox at the server's address (another TTL).
    MiddleboxReset,
    /// A RST from the server.
    Refused,
    /// TCP SYNs that nothing answered.
    NoReply,
    /// UDP datagrams that nothing answered, where the rule expects a reply.
    Unanswered,
}

impl Failure {
    /// The failure kind and, for ICMP from a third party, who sent it.
    pub fn of(b: &Blocked) -> (Failure, Option<IpAddr>) {
        match (b.icmp, b.refused) {
            (Some(IcmpBlock::ThirdParty(by)), _) => (Failure::Unreachable, Some(by)),
            (Some(IcmpBlock::Server), _) => (Failure::Unreachable, None),
            (None, Some(Refusal::Middlebox { .. })) => (Failure::MiddleboxReset, None),
            (None, Some(Refusal::Server)) => (Failure::Refused, None),
            (None, None) if b.unanswered && !b.no_reply => (Failure::Unanswered, None),
            (None, None) => (Failure::NoReply, None),
        }
    }
}

/// Which host all conversations of a blocked group share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Common {
    Server,
    Client,
}

/// What the conversations of one entry have in common.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Blocked {
        common: Common,
        host: IpAddr,
        port: u16,
        transport: Transport,
        failure: Failure,
        blocker: Option<IpAddr>,
    },
    WrongWay {
        rule: RuleId,
        /// The client's and the server's role, as they ran.
        roles: [Option<RoleId>; 2],
    },
    Unexpected {
        code: &'static str,
    },
}

/// One entry of the findings: conversations of one verdict, in report order.
pub struct Group<'a> {
    pub key: Key,
    pub members: Vec<&'a Classified>,
}

/// The role `host` of `c` (0 client, 1 server) is called by: the first
/// (in name order) of its roles that is, or implies, one of `prefer`.
pub fn role_of(
    catalogs: &CatalogSet,
    hosts: &Hosts,
    c: &Classified,
    side: usize,
    prefer: RoleSet,
) -> Option<RoleId> {
    let host = c.hosts[side].map(|id| hosts.host(id))?;
    catalogs
        .roles_in_name_order(host.roles)
        .find(|&r| {
            catalogs
                .expand(std::iter::once(r).collect())
                .intersects(prefer)
        })
        .or_else(|| catalogs.roles_in_name_order(host.roles).next())
}

/// Groups the conversations of `verdict` (a finding). Larger groups come
/// first; groups of one size keep the report's order.
pub fn groups<'a>(
    catalogs: &CatalogSet,
    hosts: &Hosts,
    verdict: Verdict,
    list: &'a [Classified],
) -> Vec<Group<'a>> {
    let keys: Vec<Key> = match verdict {
        Verdict::Blocked => blocked_keys(list),
        Verdict::WrongDirection => list
            .iter()
            .map(|c| {
                let rule = c.rule.unwrap_or(RuleId(0));
                let r = catalogs.rule_by_id(rule);
                // Reversed: the client holds a role of the rule's server side.
                Key::WrongWay {
                    rule,
                    roles: [
                        role_of(catalogs, hosts, c, 0, r.server_set),
                        role_of(catalogs, hosts, c, 1, r.client_set),
                    ],
                }
            })
            .collect(),
        _ => list
            .iter()
            .map(|c| Key::Unexpected {
                code: c.reason.code(),
            })
            .collect(),
    };
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut groups: Vec<Group<'a>> = Vec::new();
    for (c, key) in list.iter().zip(keys) {
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(Group {
                key,
                members: Vec::new(),
            });
            groups.len() - 1
        });
        groups[at].members.push(c);
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    groups
}

/// Each blocked conversation goes to the group of its server or of its
/// client (same port, protocol, failure, blocker), whichever is larger:
/// forty agents that cannot reach the manager are one entry, and so is a
/// manager that cannot reach forty agents.
fn blocked_keys(list: &[Classified]) -> Vec<Key> {
    let key = |c: &Classified, common: Common| {
        let (failure, blocker) = match &c.reason {
            Reason::Blocked { evidence, .. } => Failure::of(evidence),
            _ => (Failure::NoReply, None),
        };
        let k = c.conv.key;
        Key::Blocked {
            common,
            host: match common {
                Common::Server => k.server,
                Common::Client => k.client,
            },
            port: k.server_port,
            transport: k.transport,
            failure,
            blocker,
        }
    };
    let mut count: HashMap<Key, usize> = HashMap::new();
    for c in list {
        for common in [Common::Server, Common::Client] {
            *count.entry(key(c, common)).or_default() += 1;
        }
    }
    list.iter()
        .map(|c| {
            let (s, cl) = (key(c, Common::Server), key(c, Common::Client));
            if count[&cl] > count[&s] {
                cl
            } else {
                s
            }
        })
        .collect()
}
