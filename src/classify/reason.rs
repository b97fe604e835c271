//! Why a conversation got its verdict, as facts: which rule, which host,
//! how many attempts over how long, who sent the ICMP error, which TTLs.
//!
//! Owns: [`Reason`] and its parts. No words here: reports render a reason
//! into a sentence when they write it (`report::words`), so the same facts
//! can be said in another language or kept as a code for scripts.

use std::net::IpAddr;

use crate::catalog::{NoteId, Os, RuleId};

/// The facts behind a verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// `unlisted`: the port is in no loaded catalog.
    NotInCatalog,
    /// `expected`: the rule allows it, and every connection worked.
    Allowed { rule: RuleId },
    /// `blocked`: the rule allows it, and connections failed.
    Blocked {
        rule: RuleId,
        evidence: Box<Blocked>,
    },
    /// `wrong_direction`: the rule allows only the reverse direction.
    WrongWay { rule: RuleId },
    /// `unexpected`: the rule is not used when `host` runs `os`.
    OsCondition {
        rule: RuleId,
        host: IpAddr,
        os: Os,
        /// The vendor's note that says so (e.g. 注1).
        note: Option<NoteId>,
    },
    /// `unexpected`: the rule needs a feature the inventory does not enable.
    FeatureOff { rule: RuleId },
    /// `unexpected`: the port is internal to one host, yet ran between two.
    InternalPort { rule: RuleId },
    /// `unexpected`: a catalog port, but the hosts fit no rule either way;
    /// `rule` is the first network rule of the port.
    FitsNoRule { rule: Option<RuleId> },
    /// `unlisted`: a shared port (other software uses it too) that no rule
    /// allows either way; `not_shown`: a rule would fit, but neither host
    /// shows a role it names.
    SharedPort { rule: RuleId, not_shown: bool },
    /// `unlisted`: the port counts only after a connection of `rule`'s
    /// companion (the RPC endpoint mapper) that the server answered, between
    /// the same hosts, before this conversation began; there was none.
    NoCompanion { rule: RuleId },
}

impl Reason {
    /// A stable name for the kind of reason (for scripts).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NotInCatalog => "not_in_catalog",
            Reason::Allowed { .. } => "allowed",
            Reason::Blocked { .. } => "blocked",
            Reason::WrongWay { .. } => "wrong_direction",
            Reason::OsCondition { .. } => "os_condition",
            Reason::FeatureOff { .. } => "feature_not_enabled",
            Reason::InternalPort { .. } => "internal_port",
            Reason::FitsNoRule { .. } => "fits_no_rule",
            Reason::SharedPort { .. } => "shared_port",
            Reason::NoCompanion { .. } => "no_endpoint_mapper",
        }
    }

    /// The `reason_code` of the JSON and JSONL reports: [`Reason::code`],
    /// with a blocked conversation's code saying what blocked it (the
    /// strongest evidence, in the order the sentence gives it). Stable:
    /// scripts match on it instead of parsing the sentence, which follows
    /// the report's language.
    pub fn reason_code(&self) -> &'static str {
        let Reason::Blocked { evidence, .. } = self else {
            return self.code();
        };
        match (evidence.icmp, evidence.refused) {
            (Some(IcmpBlock::ThirdParty(_)), _) => "icmp_blocked_by_third_party",
            (Some(IcmpBlock::Server), _) => "icmp_unreachable_from_server",
            (None, Some(Refusal::Middlebox { .. })) => "reset_by_middlebox",
            (None, Some(Refusal::Server)) => "refused_by_server",
            (None, None) if evidence.unanswered && !evidence.no_reply => "unanswered",
            (None, None) => "no_reply",
        }
    }
}

/// Every `reason_code` value, in the README's order.
pub const REASON_CODES: [&str; 15] = [
    "allowed",
    "icmp_blocked_by_third_party",
    "icmp_unreachable_from_server",
    "reset_by_middlebox",
    "refused_by_server",
    "no_reply",
    "unanswered",
    "wrong_direction",
    "os_condition",
    "feature_not_enabled",
    "internal_port",
    "fits_no_rule",
    "not_in_catalog",
    "shared_port",
    "no_endpoint_mapper",
];

/// What the failed connections of a blocked conversation showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub icmp: Option<IcmpBlock>,
    pub refused: Option<Refusal>,
    /// Some attempts got no answer at all (TCP).
    pub no_reply: bool,
    /// Datagrams went unanswered where the rule expects a reply (UDP).
    pub unanswered: bool,
    /// SYNs or datagrams of the failed attempts.
    pub attempts: u64,
    /// From the first failed attempt to the last.
    pub span_ns: i64,
    /// Connections that did work, of `connections`.
    pub got_through: u64,
    pub connections: u64,
}

/// Who answered with ICMP destination unreachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpBlock {
    /// A router or firewall on the way.
    ThirdParty(IpAddr),
    /// The server itself.
    Server,
}

/// Who refused the connection with a RST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The server, as far as its TTLs tell.
    Server,
    /// The server's address, but a TTL none of its other packets had.
    Middlebox { rst_ttl: u8, usual_ttl: u8 },
}
