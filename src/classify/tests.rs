//! Verdicts and reasons on a small catalog written here (so every
//! condition has a rule of its own), rule precedence, and the English
//! sentence of every reason kind.

use std::net::IpAddr;

use super::*;
use crate::catalog::CatalogSet;
use crate::decode::Transport;
use crate::flow::{ConnRecord, State};
use crate::inventory::Inventory;
use crate::report::words::{ReasonText, Words};

const CATALOG: &str = r#"
[catalog]
name = "t"
title = "Test product"
source = "unit tests"

[[roles]]
name = "manager"
ja = "管理用サーバ"
en = "manager"

[[roles]]
name = "agent"
ja = "エージェント"
en = "agent"

[[roles]]
name = "relay"
ja = "中継"
en = "relay"
implies = ["agent"]

[[features]]
name = "power"
ja = "電源"
en = "power control"

[[notes]]
id = "注1"
ja = "UNIXでは使用しません。"
en = "Not used when the manager is a UNIX server."

[[rules]]
id = "report"
protocol = "tcp"
ports = [7000]
service = "trep"
clients = ["agent"]
servers = ["manager"]
source = "t"
ja = "報告"
en = "agents reporting"

[[rules]]
id = "report-wide"
protocol = "tcp"
ports = ["7000-7001"]
clients = ["agent", "manager"]
servers = ["manager"]
source = "t"
ja = "広い"
en = "wide rule"

[[rules]]
id = "local"
protocol = "tcp"
ports = [7100]
clients = ["manager"]
servers = ["manager"]
scope = "same-host"
source = "t"
ja = "内部"
en = "internal service"

[[rules]]
id = "winonly"
protocol = "tcp"
ports = [7200]
clients = ["agent"]
servers = ["manager"]
exclude_os = { side = "server", os = "unix" }
notes = ["注1"]
source = "t"
ja = "Windows"
en = "windows service"

[[rules]]
id = "power"
protocol = "udp"
ports = [7300]
clients = ["manager"]
servers = ["agent"]
requires_feature = "power"
expects_reply = true
source = "t"
ja = "電源"
en = "power on"

[[rules]]
id = "mapper"
protocol = "tcp"
ports = [7400]
clients = ["agent"]
servers = ["manager"]
source = "t"
ja = "マッパー"
en = "endpoint mapper"

[[rules]]
id = "dynamic"
protocol = "tcp"
ports = ["50000-50010"]
clients = ["agent"]
servers = ["manager"]
companion = "mapper"
source = "t"
ja = "動的"
en = "dynamic ports"

[[rules]]
id = "files"
protocol = "tcp"
ports = [7500]
clients = ["manager"]
servers = ["agent"]
shared = true
source = "t"
ja = "ファイル共有"
en = "file sharing"
"#;

const INVENTORY: &str = r#"
[[hosts]]
name = "mgr"
address = "10.0.0.1"
roles = ["t.manager"]
os = "windows"

[[hosts]]
name = "umgr"
address = "10.0.0.2"
roles = ["t.manager"]
os = "unix"

[[hosts]]
address = "10.0.1.0/24"
roles = ["t.agent"]

[[hosts]]
name = "rly"
address = "10.0.2.1"
roles = ["t.relay"]

[[hosts]]
address = "10.0.3.0/24"
roles = ["t.agent"]

[[hosts]]
name = "mgr3"
address = "10.0.3.1"
roles = ["t.manager"]
"#;

fn catalogs() -> CatalogSet {
    let mut set = CatalogSet::default();
    set.catalogs
        .push(CatalogSet::parse_catalog(CATALOG, "test.toml").expect("test catalog"));
    set.resolve().expect("resolve");
    set
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A decided connection.
fn conn(client: &str, server: &str, port: u16, transport: Transport, state: State) -> ConnRecord {
    ConnRecord {
        transport,
        client: ip(client),
        client_port: 40000,
        server: ip(server),
        server_port: port,
        state,
        started_before_capture: false,
        first_ns: 1_000_000_000,
        last_ns: 5_000_000_000,
        packets: 3,
        bytes: 180,
        syns: 3,
        unanswered_datagrams: if transport == Transport::Udp { 2 } else { 0 },
        attempt_first_ns: 1_000_000_000,
        attempt_last_ns: 4_000_000_000,
        failed_by: None,
        rst_ttl: None,
        server_ttl: None,
        client_ttl: Some(64),
        zeek: None,
        completeness: 0,
    }
}

struct Run {
    catalogs: CatalogSet,
    classification: Classification,
}

impl Run {
    fn new(records: &[ConnRecord], with_inventory: bool) -> Run {
        let catalogs = catalogs();
        let inventory = Inventory::parse(INVENTORY, "inv.toml", &catalogs).expect("inventory");
        let mut table = ConversationTable::default();
        for r in records {
            table.add(r);
        }
        let classification = classify(table, &catalogs, with_inventory.then_some(&inventory));
        Run {
            catalogs,
            classification,
        }
    }

    fn get(&self, client: &str, server: &str, port: u16, transport: Transport) -> &Classified {
        let key = ConvKey {
            client: ip(client),
            server: ip(server),
            server_port: port,
            transport,
        };
        self.classification
            .find(&key)
            .unwrap_or_else(|| panic!("no conversation {key:?}"))
    }

    fn rule(&self, c: &Classified) -> Option<&str> {
        c.rule.map(|r| self.catalogs.rule_by_id(r).id.as_str())
    }

    fn sentence(&self, c: &Classified) -> String {
        ReasonText {
            words: Words {
                catalogs: &self.catalogs,
                hosts: &self.classification.hosts,
                lang: crate::report::lang::Lang::En,
            },
            conv: c,
        }
        .to_string()
    }
}

use Transport::{Tcp, Udp};

#[test]
fn a_port_in_no_catalog_is_unlisted() {
    let run = Run::new(
        &[conn("10.0.1.5", "10.0.0.1", 8080, Tcp, State::Established)],
        true,
    );
    let c = run.get("10.0.1.5", "10.0.0.1", 8080, Tcp);
    assert_eq!(
        (c.verdict, &c.reason),
        (Verdict::Unlisted, &Reason::NotInCatalog)
    );
    assert_eq!(
        run.sentence(c),
        "8080/tcp is in no loaded catalog: agent 10.0.1.5 to manager 10.0.0.1 (mgr) is outside the products' port lists."
    );
}

#[test]
fn the_most_specific_allowing_rule_wins() {
    let run = Run::new(
        &[conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established)],
        true,
    );
    let c = run.get("10.0.1.5", "10.0.0.1", 7000, Tcp);
    assert_eq!(c.verdict, Verdict::Expected);
    // One port beats two.
    assert_eq!(run.rule(c), Some("t/report"));
    assert!(matches!(c.reason, Reason::Allowed { .. }));
    assert_eq!(
        run.sentence(c),
        "agent 10.0.1.5 → manager 10.0.0.1 (mgr) on 7000/tcp: agents reporting [trep]."
    );
    assert_eq!(
        run.classification.rules[usize::from(c.rule.unwrap().0)].conversations,
        1
    );
}

#[test]
fn implied_roles_count_for_rules() {
    let run = Run::new(
        &[conn("10.0.2.1", "10.0.0.1", 7000, Tcp, State::Established)],
        true,
    );
    let c = run.get("10.0.2.1", "10.0.0.1", 7000, Tcp);
    assert_eq!(
        (c.verdict, run.rule(c)),
        (Verdict::Expected, Some("t/report"))
    );
}

#[test]
fn unanswered_syns_are_blocked_with_their_count_and_span() {
    let ok = conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established);
    let failed = conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::NoReply);
    let run = Run::new(&[ok, failed], true);
    let c = run.get("10.0.1.5", "10.0.0.1", 7000, Tcp);
    assert_eq!(c.verdict, Verdict::Blocked);
    let Reason::Blocked { evidence, .. } = &c.reason else {
        panic!("{:?}", c.reason)
    };
    assert!(evidence.no_reply && !evidence.unanswered);
    assert_eq!((evidence.attempts, evidence.span_ns), (3, 3_000_000_000));
    assert_eq!((evidence.got_through, evidence.connections), (1, 2));
    assert_eq!(
        run.sentence(c),
        "agent 10.0.1.5 got no answer from manager 10.0.0.1 (mgr) on 7000/tcp (3 SYNs over 3.0 s): \
         is 7000/tcp open between them? (1 of 2 connections did get through.)"
    );
}

#[test]
fn an_icmp_error_from_a_third_party_names_it() {
    let mut r = conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Unreachable);
    r.failed_by = Some(ip("10.9.9.9"));
    let run = Run::new(&[r], true);
    let c = run.get("10.0.1.5", "10.0.0.1", 7000, Tcp);
    let Reason::Blocked { evidence, .. } = &c.reason else {
        panic!("{:?}", c.reason)
    };
    assert_eq!(evidence.icmp, Some(IcmpBlock::ThirdParty(ip("10.9.9.9"))));
    assert_eq!(c.conv.icmp_reporter(), Some(ip("10.9.9.9")));
    assert!(run.sentence(c).starts_with(
        "10.9.9.9 answered agent 10.0.1.5's attempts to reach manager 10.0.0.1 (mgr) on 7000/tcp with ICMP \
         destination unreachable: a firewall or router at 10.9.9.9 blocks 7000/tcp; open it there."
    ));
}

#[test]
fn a_rst_with_a_ttl_the_server_never_uses_points_at_a_middlebox() {
    let mut ok = conn("10.0.1.6", "10.0.0.1", 7000, Tcp, State::Established);
    ok.server_ttl = Some(128);
    let mut refused = conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Refused);
    refused.rst_ttl = Some(250);
    let run = Run::new(&[ok, refused.clone()], true);
    let c = run.get("10.0.1.5", "10.0.0.1", 7000, Tcp);
    let Reason::Blocked { evidence, .. } = &c.reason else {
        panic!("{:?}", c.reason)
    };
    assert_eq!(
        evidence.refused,
        Some(Refusal::Middlebox {
            rst_ttl: 250,
            usual_ttl: 128
        })
    );
    // Without other packets of the server, the server refused it.
    let run = Run::new(&[refused], true);
    let c = run.get("10.0.1.5", "10.0.0.1", 7000, Tcp);
    let Reason::Blocked { evidence, .. } = &c.reason else {
        panic!("{:?}", c.reason)
    };
    assert_eq!(evidence.refused, Some(Refusal::Server));
    assert_eq!(
        run.sentence(c),
        "manager 10.0.0.1 (mgr) refused 7000/tcp from agent 10.0.1.5 (RST): is the service running and \
         listening on 7000/tcp, and does the host firewall allow it?"
    );
}

#[test]
fn the_reverse_of_a_rule_is_the_wrong_direction() {
    let run = Run::new(
        &[conn("10.0.0.1", "10.0.1.5", 7000, Tcp, State::Established)],
        true,
    );
    let c = run.get("10.0.0.1", "10.0.1.5", 7000, Tcp);
    assert_eq!(c.verdict, Verdict::WrongDirection);
    assert_eq!(run.rule(c), Some("t/report"));
    assert_eq!(
        run.classification.rules[usize::from(c.rule.unwrap().0)].reversed,
        1
    );
    assert_eq!(
        run.sentence(c),
        "manager 10.0.0.1 (mgr) opened 7000/tcp to agent 10.0.1.5, but the catalog has agent connect to \
         manager on that port (agents reporting [trep]): the connection goes the wrong way; check which host \
         is which (or the inventory's roles)."
    );
}

#[test]
fn an_os_exclusion_is_unexpected_and_cites_its_note() {
    let run = Run::new(
        &[conn("10.0.1.5", "10.0.0.2", 7200, Tcp, State::Established)],
        true,
    );
    let c = run.get("10.0.1.5", "10.0.0.2", 7200, Tcp);
    assert_eq!(c.verdict, Verdict::Unexpected);
    assert!(matches!(
        c.reason,
        Reason::OsCondition {
            os: crate::catalog::Os::Unix,
            note: Some(_),
            ..
        }
    ));
    assert_eq!(
        run.sentence(c),
        "agent 10.0.1.5 → manager 10.0.0.2 (umgr) on 7200/tcp (windows service): not used when 10.0.0.2 is \
         a UNIX server (注1), yet it ran; check the host's configuration or the inventory's os."
    );
    // On the Windows manager the same flow is fine.
    let run = Run::new(
        &[conn("10.0.1.5", "10.0.0.1", 7200, Tcp, State::Established)],
        true,
    );
    assert_eq!(
        run.get("10.0.1.5", "10.0.0.1", 7200, Tcp).verdict,
        Verdict::Expected
    );
}

#[test]
fn a_feature_the_inventory_does_not_enable_is_unexpected() {
    let run = Run::new(
        &[conn("10.0.0.1", "10.0.1.5", 7300, Udp, State::Answered)],
        true,
    );
    let c = run.get("10.0.0.1", "10.0.1.5", 7300, Udp);
    assert_eq!(
        (c.verdict, c.reason.code()),
        (Verdict::Unexpected, "feature_not_enabled")
    );
    assert_eq!(
        run.sentence(c),
        "manager 10.0.0.1 (mgr) → agent 10.0.1.5 on 7300/udp (power on) is used only with the feature \
         'power', which the inventory does not enable for t; enable it in the inventory if it is in use, \
         or find out what opens 7300/udp."
    );
}

#[test]
fn an_internal_port_between_two_hosts_is_unexpected() {
    let run = Run::new(
        &[
            conn("10.0.0.1", "10.0.0.2", 7100, Tcp, State::Established),
            conn("10.0.0.1", "10.0.0.1", 7100, Tcp, State::Established),
        ],
        true,
    );
    let c = run.get("10.0.0.1", "10.0.0.2", 7100, Tcp);
    assert_eq!(
        (c.verdict, c.reason.code()),
        (Verdict::Unexpected, "internal_port")
    );
    assert_eq!(
        run.sentence(c),
        "7100/tcp is internal to one host (internal service) but ran between manager 10.0.0.1 (mgr) and \
         manager 10.0.0.2 (umgr): something exposes an internal port; block it between hosts."
    );
    let local = run.get("10.0.0.1", "10.0.0.1", 7100, Tcp);
    assert_eq!(
        (local.verdict, run.rule(local)),
        (Verdict::Expected, Some("t/local"))
    );
}

#[test]
fn hosts_that_fit_no_rule_either_way_are_unexpected() {
    // Two agents on the manager's port.
    let run = Run::new(
        &[conn("10.0.1.5", "10.0.1.6", 7000, Tcp, State::Established)],
        true,
    );
    let c = run.get("10.0.1.5", "10.0.1.6", 7000, Tcp);
    assert_eq!(c.verdict, Verdict::Unexpected);
    assert!(matches!(c.reason, Reason::FitsNoRule { rule: Some(_) }));
    assert_eq!(
        run.sentence(c),
        "7000/tcp is a t port (agents reporting [trep]) for agent → manager, but agent 10.0.1.5 → agent \
         10.0.1.6 fits no rule in either direction: check the hosts' roles in the inventory, or what opens \
         7000/tcp."
    );
}

#[test]
fn dynamic_ports_are_catalog_ports_only_after_an_answered_companion() {
    let dynamic = conn("10.0.1.5", "10.0.0.1", 50005, Tcp, State::NoReply);
    let run = Run::new(std::slice::from_ref(&dynamic), true);
    let c = run.get("10.0.1.5", "10.0.0.1", 50005, Tcp);
    assert_eq!(
        (c.verdict, c.reason.code()),
        (Verdict::Unlisted, "no_endpoint_mapper")
    );
    assert_eq!(
        run.sentence(c),
        "50005/tcp counts as a t port (dynamic ports) only after 7400/tcp (endpoint mapper) was answered \
         between agent 10.0.1.5 and manager 10.0.0.1 (mgr), earlier; there was no such connection, so it is \
         not judged (a port scan, or other software's RPC)."
    );
    let at = |mut r: ConnRecord, first_ns: i64| {
        r.first_ns = first_ns;
        r
    };
    let mapper = conn("10.0.1.5", "10.0.0.1", 7400, Tcp, State::Established);
    // The mapper answered before: the dynamic port is judged by its rule.
    let run = Run::new(&[dynamic.clone(), at(mapper.clone(), 500_000_000)], true);
    let c = run.get("10.0.1.5", "10.0.0.1", 50005, Tcp);
    assert_eq!(
        (c.verdict, run.rule(c)),
        (Verdict::Blocked, Some("t/dynamic"))
    );
    // Answered, but only after the dynamic-port connection began.
    let run = Run::new(&[dynamic.clone(), at(mapper.clone(), 2_000_000_000)], true);
    let c = run.get("10.0.1.5", "10.0.0.1", 50005, Tcp);
    assert_eq!(c.verdict, Verdict::Unlisted);
    // Tried before, never answered (a SYN scan): no endpoint mapper handed out a port.
    let scan = conn("10.0.1.5", "10.0.0.1", 7400, Tcp, State::NoReply);
    let run = Run::new(&[dynamic.clone(), at(scan, 500_000_000)], true);
    let c = run.get("10.0.1.5", "10.0.0.1", 50005, Tcp);
    assert_eq!(c.verdict, Verdict::Unlisted);
    // A failed attempt, then an answered one, both before: judged.
    let run = Run::new(
        &[
            dynamic,
            at(mapper, 800_000_000),
            at(
                conn("10.0.1.5", "10.0.0.1", 7400, Tcp, State::NoReply),
                100_000_000,
            ),
        ],
        true,
    );
    let c = run.get("10.0.1.5", "10.0.0.1", 50005, Tcp);
    assert_eq!(c.verdict, Verdict::Blocked);
}

#[test]
fn a_shared_port_is_judged_where_a_host_shows_the_product() {
    // Manager to agent, both given by the inventory: the rule applies.
    let run = Run::new(
        &[
            conn("10.0.0.1", "10.0.1.5", 7500, Tcp, State::Established),
            conn("10.0.0.1", "10.0.1.6", 7500, Tcp, State::NoReply),
            // Two agents: no rule either way, yet never unexpected on a shared port.
            conn("10.0.1.5", "10.0.1.6", 7500, Tcp, State::Established),
            // Hosts the inventory does not list.
            conn("10.9.0.1", "10.9.0.2", 7500, Tcp, State::NoReply),
        ],
        true,
    );
    let c = run.get("10.0.0.1", "10.0.1.5", 7500, Tcp);
    assert_eq!(
        (c.verdict, run.rule(c)),
        (Verdict::Expected, Some("t/files"))
    );
    let c = run.get("10.0.0.1", "10.0.1.6", 7500, Tcp);
    assert_eq!(c.verdict, Verdict::Blocked);
    let c = run.get("10.0.1.5", "10.0.1.6", 7500, Tcp);
    assert_eq!(
        (c.verdict, c.reason.code()),
        (Verdict::Unlisted, "shared_port")
    );
    assert_eq!(
        run.sentence(c),
        "7500/tcp is a shared port (other software uses it too), in t for manager → agent (file sharing); \
         agent 10.0.1.5 → agent 10.0.1.6 fits no rule of it either way, so it is not judged (other software, \
         not t)."
    );
    let c = run.get("10.9.0.1", "10.9.0.2", 7500, Tcp);
    assert_eq!((c.verdict, c.rule), (Verdict::Unlisted, None));
    assert_eq!(run.classification.verdicts[Verdict::Unexpected as usize], 0);
}

#[test]
fn without_an_inventory_a_shared_port_needs_a_host_that_shows_a_role() {
    let run = Run::new(
        &[
            // 10.0.0.1 shows the manager role on a port of its own ...
            conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established),
            // ... so its file sharing to an unknown host is the product's.
            conn("10.0.0.1", "10.0.1.9", 7500, Tcp, State::NoReply),
            // Two hosts that show nothing: an admin's file share, not judged.
            conn("10.5.0.1", "10.5.0.2", 7500, Tcp, State::NoReply),
            conn("10.5.0.3", "10.5.0.2", 7500, Tcp, State::Established),
        ],
        false,
    );
    let c = run.get("10.0.0.1", "10.0.1.9", 7500, Tcp);
    assert_eq!(
        (c.verdict, run.rule(c)),
        (Verdict::Blocked, Some("t/files"))
    );
    let c = run.get("10.5.0.1", "10.5.0.2", 7500, Tcp);
    assert_eq!(c.verdict, Verdict::Unlisted);
    assert!(matches!(
        c.reason,
        Reason::SharedPort {
            not_shown: true,
            ..
        }
    ));
    assert_eq!(
        run.sentence(c),
        "7500/tcp is a shared port (other software uses it too), in t for manager → agent (file sharing); \
         neither host 10.5.0.1 nor host 10.5.0.2 shows a role of it, so host 10.5.0.1 → host 10.5.0.2 is not \
         judged; if it is t's traffic, give an --inventory that lists the hosts' roles."
    );
    // An unknown host's file sharing with the manager is not the manager's
    // traffic the wrong way round (only the manager shows a role).
    let run2 = Run::new(
        &[
            conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established),
            conn("10.7.0.1", "10.0.0.1", 7500, Tcp, State::Established),
        ],
        false,
    );
    let c = run2.get("10.7.0.1", "10.0.0.1", 7500, Tcp);
    assert_eq!(
        (c.verdict, c.reason.code()),
        (Verdict::Unlisted, "shared_port")
    );
    // With both hosts shown by the inventory, it is the wrong way round.
    let run3 = Run::new(
        &[conn("10.0.1.5", "10.0.0.1", 7500, Tcp, State::Established)],
        true,
    );
    let c = run3.get("10.0.1.5", "10.0.0.1", 7500, Tcp);
    assert_eq!(c.verdict, Verdict::WrongDirection);
    // No role is inferred from serving a shared port.
    assert!(run.classification.hosts.get(ip("10.5.0.2")).is_none());
    assert!(run.classification.hosts.get(ip("10.0.1.9")).is_none());
}

#[test]
fn a_host_of_several_roles_is_named_by_the_one_the_rule_names() {
    // 10.0.3.1 is the manager, and agent too through its /24 block.
    let run = Run::new(
        &[conn("10.0.3.1", "10.0.3.5", 7500, Tcp, State::NoReply)],
        true,
    );
    let c = run.get("10.0.3.1", "10.0.3.5", 7500, Tcp);
    assert_eq!(c.verdict, Verdict::Blocked);
    assert_eq!(
        run.sentence(c),
        "manager 10.0.3.1 (mgr3) got no answer from agent 10.0.3.5 on 7500/tcp (3 SYNs over 3.0 s): is \
         7500/tcp open between them?"
    );
}

#[test]
fn without_an_inventory_reasons_say_how_to_give_one() {
    let run = Run::new(
        &[
            conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established),
            conn("10.0.1.6", "10.0.0.1", 7300, Udp, State::Answered),
        ],
        false,
    );
    // 10.0.0.1 is inferred a manager; 7300/udp is manager → agent and needs a feature.
    let c = run.get("10.0.1.6", "10.0.0.1", 7300, Udp);
    assert_eq!(
        run.sentence(c),
        "host 10.0.1.6 → agent 10.0.0.1 on 7300/udp (power on) is used only with the feature 'power', which \
         is off without an inventory; if it is in use, give an --inventory whose [t] features list it, or find \
         out what opens 7300/udp."
    );
}

#[test]
fn without_an_inventory_servers_take_the_roles_they_serve() {
    let run = Run::new(
        &[
            conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established),
            conn("10.0.0.9", "10.0.0.1", 7000, Tcp, State::NoReply),
        ],
        false,
    );
    let host = run
        .classification
        .hosts
        .get(ip("10.0.0.1"))
        .expect("inferred");
    assert!(host.inferred);
    let names: Vec<&str> = run.catalogs.role_names(host.roles).collect();
    assert_eq!(names, ["t.manager"]);
    // An unknown client may be anything: the attempt is blocked, not unexpected.
    let c = run.get("10.0.0.9", "10.0.0.1", 7000, Tcp);
    assert_eq!(c.verdict, Verdict::Blocked);
    assert_eq!(
        run.sentence(c),
        "host 10.0.0.9 got no answer from manager 10.0.0.1 on 7000/tcp (3 SYNs over 3.0 s): is 7000/tcp open \
         between them?"
    );
}

#[test]
fn unanswered_datagrams_fail_only_rules_that_expect_a_reply() {
    let inv_with_power = format!("{INVENTORY}\n[t]\nfeatures = [\"power\"]\n");
    let catalogs = catalogs();
    let inventory = Inventory::parse(&inv_with_power, "inv.toml", &catalogs).unwrap();
    let mut table = ConversationTable::default();
    table.add(&conn("10.0.0.1", "10.0.1.5", 7300, Udp, State::Unanswered));
    let classification = classify(table, &catalogs, Some(&inventory));
    let c = &classification.conversations[0];
    assert_eq!(c.verdict, Verdict::Blocked);
    let Reason::Blocked { evidence, .. } = &c.reason else {
        panic!("{:?}", c.reason)
    };
    assert!(evidence.unanswered && !evidence.no_reply);
    assert_eq!(evidence.attempts, 2);
}

#[test]
fn results_are_sorted_by_verdict_then_key_and_counted() {
    let run = Run::new(
        &[
            conn("10.0.1.5", "10.0.0.1", 8080, Tcp, State::Established),
            conn("10.0.1.7", "10.0.0.1", 7000, Tcp, State::NoReply),
            conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established),
            conn("10.0.1.6", "10.0.0.1", 7000, Tcp, State::NoReply),
        ],
        true,
    );
    let order: Vec<(Verdict, IpAddr)> = run
        .classification
        .conversations
        .iter()
        .map(|c| (c.verdict, c.conv.key.client))
        .collect();
    assert_eq!(
        order,
        [
            (Verdict::Blocked, ip("10.0.1.6")),
            (Verdict::Blocked, ip("10.0.1.7")),
            (Verdict::Expected, ip("10.0.1.5")),
            (Verdict::Unlisted, ip("10.0.1.5")),
        ]
    );
    assert_eq!(run.classification.verdicts, [2, 0, 0, 1, 1]);
    for (i, c) in run.classification.conversations.iter().enumerate() {
        assert_eq!(run.classification.position(&c.conv.key), Some(i));
    }
}

#[test]
fn folded_conversations_say_so_first() {
    let mut table = ConversationTable::with_limit(1);
    table.add(&conn("10.0.1.5", "10.0.0.1", 7000, Tcp, State::Established));
    table.add(&conn("10.0.1.6", "10.0.0.1", 7000, Tcp, State::Established));
    let catalogs = catalogs();
    let classification = classify(table, &catalogs, None);
    let c = classification
        .conversations
        .iter()
        .find(|c| c.conv.folded() > 0)
        .unwrap();
    let text = ReasonText {
        words: Words {
            catalogs: &catalogs,
            hosts: &classification.hosts,
            lang: crate::report::lang::Lang::En,
        },
        conv: c,
    }
    .to_string();
    assert!(
        text.starts_with(
            "1 connection from clients beyond the conversation limit is folded into this line (client \
             0.0.0.0): a flood or scan? "
        ),
        "{text}"
    );
}

#[test]
fn many_conversations_come_out_in_verdict_then_key_order() {
    // Enough to cross the store's chunks and to make long permutation cycles:
    // clients of a few ports with different verdicts, inserted out of order.
    let catalogs = catalogs();
    let inventory = Inventory::parse(INVENTORY, "inv.toml", &catalogs).unwrap();
    let mut table = ConversationTable::default();
    let mut expected = Vec::new();
    for i in (0..40_000u32).rev() {
        let client = format!("10.0.1.{}", i % 250 + 1);
        let server = format!("10.0.0.{}", if i % 7 == 0 { 2 } else { 1 });
        let (port, state) = match i % 4 {
            0 => (7000, State::NoReply),
            1 => (7000, State::Established),
            2 => (8080 + (i / 1000) as u16, State::Established),
            _ => (7200, State::Established),
        };
        let mut r = conn(&client, &server, port, Tcp, state);
        r.client_port = (i % 60_000) as u16;
        table.add(&r);
        expected.push(ConvKey::of(&r));
    }
    expected.sort_unstable();
    expected.dedup();
    let classification = classify(table, &catalogs, Some(&inventory));
    let got: Vec<(Verdict, ConvKey)> = classification
        .conversations
        .iter()
        .map(|c| (c.verdict, c.conv.key))
        .collect();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(got, sorted, "not in (verdict, key) order");
    let mut keys: Vec<ConvKey> = got.iter().map(|(_, k)| *k).collect();
    keys.sort_unstable();
    assert_eq!(keys, expected, "conversations lost or added");
    for v in Verdict::ALL {
        assert!(classification
            .with_verdict(v)
            .iter()
            .all(|c| c.verdict == v));
    }
    for (i, c) in classification.conversations.iter().enumerate() {
        assert_eq!(classification.position(&c.conv.key), Some(i));
    }
    // Blocked (NoReply), expected, unexpected (7200 on the UNIX manager), unlisted.
    assert!(classification.verdicts.iter().filter(|n| **n > 0).count() >= 4);
}
