//! The verdict of one conversation: which rules of its port allow it, in
//! which direction, under which conditions — and the facts of the reason.
//!
//! Owns: rule conditions (same-host scope, companion conversations, roles,
//! features, OS exclusions), the most specific of several rules, and turning
//! a conversation's failures into [`Blocked`] evidence.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::conversation::{ConvKey, Conversation, TtlSet};
use super::reason::{Blocked, IcmpBlock, Reason, Refusal};
use super::roles::{is_same_host, HostId, Hosts};
use super::Verdict;
use crate::catalog::{CatalogSet, Os, Rule, RuleId, Scope, Side};
use crate::decode::Transport;
use crate::flow::State;
use smallvec::SmallVec;

/// Why a rule on the conversation's port does not allow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mismatch {
    Roles,
    SameHostOnly,
    Feature,
    Os {
        host: IpAddr,
        os: Os,
    },
    Companion,
    /// A shared-port rule, and neither host shows a role it names.
    NotShown,
}

/// The rules of every port, looked up by (protocol, port) without scanning
/// the catalogs (a compressed table: the rules of slot `i` are
/// `rules[start[i]..start[i + 1]]`, in catalog order).
pub struct PortIndex {
    start: Vec<u32>,
    rules: Vec<RuleId>,
}

impl PortIndex {
    fn slot(transport: Transport, port: u16) -> usize {
        (transport as usize) << 16 | usize::from(port)
    }

    pub fn new(catalogs: &CatalogSet) -> PortIndex {
        const SLOTS: usize = 2 << 16;
        let mut count = vec![0u32; SLOTS + 1];
        let each = |f: &mut dyn FnMut(usize, RuleId)| {
            for rule in catalogs.rules() {
                for &(a, b) in &rule.ports.ranges {
                    for port in a..=b {
                        f(PortIndex::slot(rule.protocol, port), rule.rid);
                    }
                }
            }
        };
        each(&mut |slot, _| count[slot + 1] += 1);
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let mut next = count.clone();
        let mut rules = vec![RuleId(0); count[SLOTS] as usize];
        each(&mut |slot, rid| {
            rules[next[slot] as usize] = rid;
            next[slot] += 1;
        });
        PortIndex {
            start: count,
            rules,
        }
    }

    /// The rules whose ports include `port`/`transport`, in catalog order.
    pub fn rules(&self, transport: Transport, port: u16) -> &[RuleId] {
        let slot = PortIndex::slot(transport, port);
        &self.rules[self.start[slot] as usize..self.start[slot + 1] as usize]
    }
}

/// What one verdict depends on besides the conversation itself.
pub struct Judge<'a> {
    pub catalogs: &'a CatalogSet,
    pub ports: &'a PortIndex,
    pub hosts: &'a Hosts,
    pub host_ttls: &'a FxHashMap<IpAddr, TtlSet>,
    /// When the first connection of the conversation with this key that the
    /// server answered began (`None`: no such conversation, or never answered).
    pub first_served: &'a (dyn Fn(&ConvKey) -> Option<i64> + Sync),
}

/// A few rules share a port at most: kept on the stack.
type Rules<'r> = SmallVec<[&'r Rule; 8]>;

/// The two ends of a conversation as host ids: (client, server).
#[derive(Clone, Copy)]
struct Ends {
    client: (IpAddr, Option<HostId>),
    server: (IpAddr, Option<HostId>),
}

impl Judge<'_> {
    /// The verdict, the rule it rests on, and why; `ids` are the client's
    /// and the server's host ids.
    pub fn judge(
        &self,
        conv: &Conversation,
        ids: [Option<HostId>; 2],
    ) -> (Verdict, Option<RuleId>, Reason) {
        let key = conv.key;
        let ends = Ends {
            client: (key.client, ids[0]),
            server: (key.server, ids[1]),
        };
        let mut candidates: Rules<'_> = self
            .ports
            .rules(key.transport, key.server_port)
            .iter()
            .map(|&id| self.catalogs.rule_by_id(id))
            .collect();
        // A rule that needs a companion (RPC dynamic ports after the endpoint
        // mapper) counts only after one: else its ports are no catalog ports.
        let mut waiting = None;
        candidates.retain(|r| match r.companion_rule {
            Some(c) if !self.has_companion(c, key.client, key.server, conv.first_ns) => {
                waiting.get_or_insert(r.rid);
                false
            }
            _ => true,
        });
        if candidates.is_empty() {
            return match waiting {
                Some(rule) => (Verdict::Unlisted, None, Reason::NoCompanion { rule }),
                None => (Verdict::Unlisted, None, Reason::NotInCatalog),
            };
        }
        let mut mismatches: SmallVec<[(&Rule, Mismatch); 8]> = SmallVec::new();
        let mut allowed = Rules::new();
        for rule in &candidates {
            match self.check_rule(rule, ends, conv.first_ns) {
                Ok(()) => allowed.push(*rule),
                Err(m) => mismatches.push((*rule, m)),
            }
        }
        if let Some(rule) = most_specific(allowed.iter().copied()) {
            let failed = conv.count_where(State::is_failure)
                + if rule.expects_reply {
                    conv.count(State::Unanswered)
                } else {
                    0
                };
            if failed > 0 {
                let evidence = Box::new(self.blocked(conv, rule));
                return (
                    Verdict::Blocked,
                    Some(rule.rid),
                    Reason::Blocked {
                        rule: rule.rid,
                        evidence,
                    },
                );
            }
            return (
                Verdict::Expected,
                Some(rule.rid),
                Reason::Allowed { rule: rule.rid },
            );
        }
        let reverse = Ends {
            client: ends.server,
            server: ends.client,
        };
        let reversed = candidates.iter().copied().filter(|rule| {
            rule.scope == Scope::Network
                && self.check_rule(rule, reverse, conv.first_ns).is_ok()
                // On a shared port "the wrong way" is a claim about both
                // hosts: each must show its role (a manager serving SMB to
                // an unknown host is a file server, not a reversal).
                && (!rule.shared
                    || (self.hosts.shows_any(reverse.client.1, rule.client_set)
                        && self.hosts.shows_any(reverse.server.1, rule.server_set)))
        });
        if let Some(rule) = most_specific(reversed) {
            return (
                Verdict::WrongDirection,
                Some(rule.rid),
                Reason::WrongWay { rule: rule.rid },
            );
        }
        // Other software uses a shared port too: what fits no rule is none
        // of the products' business.
        if let Some(rule) = candidates.iter().find(|r| r.shared) {
            return (
                Verdict::Unlisted,
                None,
                Reason::SharedPort {
                    rule: rule.rid,
                    not_shown: mismatches.iter().any(|(_, m)| *m == Mismatch::NotShown),
                },
            );
        }
        (Verdict::Unexpected, None, self.unexpected(&mismatches))
    }

    /// Did a connection of the companion rule between the same two hosts,
    /// answered by the server, begin before `before_ns`?
    fn has_companion(
        &self,
        companion: RuleId,
        client: IpAddr,
        server: IpAddr,
        before_ns: i64,
    ) -> bool {
        let rule = self.catalogs.rule_by_id(companion);
        rule.ports.ranges.iter().any(|&(a, b)| {
            (a..=b).any(|port| {
                (self.first_served)(&ConvKey {
                    client,
                    server,
                    server_port: port,
                    transport: rule.protocol,
                })
                .is_some_and(|served| served < before_ns)
            })
        })
    }

    /// Does `rule` allow the client to open the connection to the server?
    fn check_rule(&self, rule: &Rule, ends: Ends, before_ns: i64) -> Result<(), Mismatch> {
        let ((client, client_id), (server, server_id)) = (ends.client, ends.server);
        if rule.scope == Scope::SameHost {
            return if is_same_host(client, server) {
                Ok(())
            } else {
                Err(Mismatch::SameHostOnly)
            };
        }
        if let Some(companion) = rule.companion_rule {
            if !self.has_companion(companion, client, server, before_ns) {
                return Err(Mismatch::Companion);
            }
        }
        if !self.hosts.holds_any(client_id, rule.client_set)
            || !self.hosts.holds_any(server_id, rule.server_set)
        {
            return Err(Mismatch::Roles);
        }
        // On a shared port a host with no known role matches only beside one
        // that shows the product.
        if rule.shared
            && !self.hosts.shows_any(client_id, rule.client_set)
            && !self.hosts.shows_any(server_id, rule.server_set)
        {
            return Err(Mismatch::NotShown);
        }
        if let Some(feature) = &rule.requires_feature {
            if !self.hosts.feature(&rule.catalog, feature) {
                return Err(Mismatch::Feature);
            }
        }
        if let Some(excl) = &rule.exclude_os {
            let sides: &[(IpAddr, Option<HostId>)] = match excl.side {
                Side::Client => &[ends.client],
                Side::Server => &[ends.server],
                Side::Either => &[ends.client, ends.server],
            };
            for &(host, id) in sides {
                if self.hosts.os_of(id) == Some(excl.os) {
                    return Err(Mismatch::Os { host, os: excl.os });
                }
            }
        }
        Ok(())
    }

    /// The evidence of a blocked conversation.
    fn blocked(&self, conv: &Conversation, rule: &Rule) -> Blocked {
        let key = conv.key;
        let (attempts, span_ns, icmp, refusal_ttls) = match conv.rare.as_deref() {
            Some(f) => (
                f.attempts,
                if f.last_ns > f.first_ns {
                    f.last_ns - f.first_ns
                } else {
                    0
                },
                match f.icmp_reporter {
                    Some(r) => Some(IcmpBlock::ThirdParty(r)),
                    None if f.icmp_from_server => Some(IcmpBlock::Server),
                    None => None,
                },
                f.refusal_ttls,
            ),
            None => (0, 0, None, TtlSet::default()),
        };
        let refused = (conv.count(State::Refused) > 0).then(|| {
            let known = self.host_ttls.get(&key.server);
            let odd_ttl = refusal_ttls
                .iter()
                .find(|ttl| known.is_some_and(|k| !k.is_empty() && !k.contains(*ttl)));
            match (odd_ttl, known.and_then(TtlSet::first)) {
                (Some(rst_ttl), Some(usual_ttl)) => Refusal::Middlebox { rst_ttl, usual_ttl },
                _ => Refusal::Server,
            }
        });
        let no_reply = conv.count(State::NoReply) > 0;
        Blocked {
            icmp,
            refused,
            no_reply,
            unanswered: rule.expects_reply && conv.count(State::Unanswered) > 0 && !no_reply,
            attempts,
            span_ns,
            got_through: conv.served(),
            connections: conv.connections(),
        }
    }

    /// Why no rule allows the conversation either way.
    fn unexpected(&self, mismatches: &[(&Rule, Mismatch)]) -> Reason {
        for (rule, m) in mismatches {
            match *m {
                Mismatch::Os { host, os } => {
                    return Reason::OsCondition {
                        rule: rule.rid,
                        host,
                        os,
                        note: self.catalogs.os_note(rule, os),
                    }
                }
                Mismatch::Feature => return Reason::FeatureOff { rule: rule.rid },
                _ => {}
            }
        }
        if let Some((rule, _)) = mismatches
            .iter()
            .find(|(r, m)| *m == Mismatch::SameHostOnly && r.scope == Scope::SameHost)
        {
            if mismatches.iter().all(|(_, m)| *m != Mismatch::Roles) || mismatches.len() == 1 {
                return Reason::InternalPort { rule: rule.rid };
            }
        }
        Reason::FitsNoRule {
            rule: mismatches
                .iter()
                .find(|(r, _)| r.scope == Scope::Network)
                .map(|(r, _)| r.rid),
        }
    }
}

/// The most specific of several rules: a same-host rule (its condition is the
/// strictest), then the fewest ports, then the fewest role pairs, then catalog
/// order (the iterator's order).
fn most_specific<'r>(rules: impl Iterator<Item = &'r Rule>) -> Option<&'r Rule> {
    rules.min_by_key(|r| {
        (
            r.scope != Scope::SameHost,
            r.ports.width(),
            r.clients.len() * r.servers.len(),
        )
    })
}
