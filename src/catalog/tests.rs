//! Tests of the catalog files, their validation, `services` files and port
//! changes. The seed-table test lists every port of both vendor tables by
//! hand, so a rule lost from a catalog file is noticed.

use super::*;
use crate::decode::Transport::{Tcp, Udp};

fn builtins() -> CatalogSet {
    CatalogSet::load(&[]).expect("built-in catalogs load")
}

fn ids(set: &CatalogSet, port: u16, proto: Transport) -> Vec<String> {
    set.rules_for(port, proto).map(|r| r.id.clone()).collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn builtins_load_with_exact_rule_counts() {
    let set = builtins();
    let names: Vec<&str> = set.catalogs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["jp1-itdm", "systemwalker-om"]);
    assert_eq!(set.catalog("jp1-itdm").unwrap().rules.len(), 22);
    assert_eq!(set.catalog("systemwalker-om").unwrap().rules.len(), 36);
    assert_eq!(set.catalog("jp1-itdm").unwrap().roles.len(), 8);
    assert_eq!(set.catalog("systemwalker-om").unwrap().roles.len(), 12);
    for r in set.rules() {
        assert!(r.id.starts_with(&format!("{}/", r.catalog)), "{}", r.id);
        assert_eq!(r.ports, r.default_ports);
        assert!(
            !r.ja.is_empty() && !r.en.is_empty() && !r.source.is_empty(),
            "{}",
            r.id
        );
    }
}

#[test]
fn every_seed_port_has_a_rule() {
    let set = builtins();
    // jp1-itdm, appendix A.3: every table row.
    let jp1: &[(u16, Transport)] = &[
        (31080, Tcp),
        (31000, Tcp),
        (31006, Tcp),
        (31007, Tcp),
        (31008, Tcp),
        (31009, Tcp),
        (31010, Tcp),
        (31011, Tcp),
        (31012, Tcp),
        (445, Tcp),
        (445, Udp),
        (139, Tcp),
        (137, Udp),
        (138, Udp),
        (161, Udp),
        (31016, Tcp),
        (31017, Tcp),
        (31018, Tcp),
        (31019, Tcp),
        (31020, Tcp),
        (31001, Tcp),
        (16992, Tcp),
    ];
    // systemwalker-om, C.1: external, internal and remote-machine tables.
    let sw: &[(u16, Transport)] = &[
        (9367, Tcp),
        (9352, Tcp),
        (9368, Tcp),
        (9297, Tcp),
        (9327, Tcp),
        (4013, Tcp),
        (9371, Tcp),
        (9369, Tcp),
        (9370, Tcp),
        (6961, Tcp),
        (25, Tcp),
        (2685, Tcp),
        (1952, Tcp),
        (1952, Udp),
        (9373, Tcp),
        (9900, Tcp),
        (2681, Tcp),
        (2684, Tcp),
        (2686, Tcp),
        (9901, Tcp),
        (9902, Tcp),
        (9903, Tcp),
        (9904, Tcp),
        (9905, Tcp),
        (9906, Tcp),
        (9907, Tcp),
        (9908, Tcp),
        (22, Tcp),
        (135, Tcp),
        (49152, Tcp),
        (65535, Tcp),
    ];
    for (catalog, list) in [("jp1-itdm", jp1), ("systemwalker-om", sw)] {
        for &(port, proto) in list {
            assert!(
                set.rules_for(port, proto).any(|r| r.catalog == catalog),
                "{catalog}: no rule for {port}/{}",
                proto.as_str()
            );
        }
        // And nothing beyond the seed: every rule port is listed above
        // (the dynamic range is checked by its two ends).
        for r in set.catalog(catalog).unwrap().rules.iter() {
            for &(a, b) in &r.ports.ranges {
                assert!(list.contains(&(a, r.protocol)), "{}: {a} not in seed", r.id);
                assert!(list.contains(&(b, r.protocol)), "{}: {b} not in seed", r.id);
            }
        }
    }
}

#[test]
fn jp1_rules_have_the_decided_roles() {
    let set = builtins();
    let r = |id: &str| set.rule(&format!("jp1-itdm/{id}")).unwrap();
    assert_eq!(
        ids(&set, 31000, Tcp),
        ["jp1-itdm/agent-to-manager", "jp1-itdm/to-site-server"]
    );
    assert_eq!(
        r("agent-to-manager").clients,
        s(&["jp1-itdm.agent", "jp1-itdm.site_server"])
    );
    assert_eq!(
        r("to-site-server").clients,
        s(&["jp1-itdm.agent", "jp1-itdm.manager"])
    );
    assert_eq!(r("to-site-server").servers, s(&["jp1-itdm.site_server"]));
    assert_eq!(
        ids(&set, 31006, Tcp),
        [
            "jp1-itdm/manager-internal-single",
            "jp1-itdm/db-server-to-manager"
        ]
    );
    assert_eq!(
        ids(&set, 31010, Tcp),
        [
            "jp1-itdm/manager-internal-single",
            "jp1-itdm/manager-to-db-server",
            "jp1-itdm/site-server-internal"
        ]
    );
    assert_eq!(
        ids(&set, 31007, Tcp),
        [
            "jp1-itdm/manager-internal-single",
            "jp1-itdm/manager-internal-multi",
            "jp1-itdm/db-server-internal"
        ]
    );
    assert_eq!(
        r("manager-internal-single").ports.to_string(),
        "31006-31012"
    );
    assert_eq!(
        r("manager-internal-multi").ports.to_string(),
        "31007-31009,31011-31012"
    );
    assert_eq!(r("manager-internal-multi").scope, Scope::SameHost);
    assert_eq!(r("agent-to-manager").scope, Scope::Network);
    for id in [
        "agentless-smb-tcp",
        "agentless-snmp",
        "agentless-netbios-datagram",
    ] {
        assert_eq!(
            r(id).clients,
            s(&["jp1-itdm.manager", "jp1-itdm.site_server"])
        );
        assert_eq!(r(id).servers, s(&["jp1-itdm.agentless"]));
        assert!(r(id).source.contains("Remote Site Server"), "{id}");
    }
    assert!(r("agentless-snmp").expects_reply);
    assert!(r("agentless-netbios-name").expects_reply);
    assert!(!r("agentless-netbios-datagram").expects_reply);
    assert!(!r("agentless-smb-udp").expects_reply);
    let chat = r("remote-control-chat");
    assert_eq!(chat.clients, chat.servers);
    assert_eq!(
        r("remote-control-connect-request").servers,
        s(&["jp1-itdm.controller"])
    );
    assert_eq!(r("amt-power-control").servers, s(&["jp1-itdm.agent"]));
    assert!(set.note("jp1-itdm", "port-change").is_some());
}

#[test]
fn systemwalker_rules_carry_their_notes_and_conditions() {
    let set = builtins();
    let r = |id: &str| set.rule(&format!("systemwalker-om/{id}")).unwrap();
    assert_eq!(
        ids(&set, 9352, Tcp),
        [
            "systemwalker-om/jmnet-client",
            "systemwalker-om/jmnet-job-kill",
            "systemwalker-om/jmnet-job-end",
            "systemwalker-om/jmnet-message-event"
        ]
    );
    assert_eq!(ids(&set, 9297, Tcp).len(), 3);
    assert_eq!(
        r("jmcal-power-control").requires_feature.as_deref(),
        Some("bulk-power-control")
    );
    assert_eq!(r("jmcal-client").requires_feature, None);
    for id in ["mpnjsocl", "mpnjsc-tcp", "mpnjsc-udp"] {
        assert_eq!(r(id).requires_feature.as_deref(), Some("business-linkage"));
        assert!(r(id).notes.contains(&"注3".to_string()));
    }
    assert!(!r("mpnjsc-udp").expects_reply);
    let unix = |side| {
        Some(OsExclusion {
            side,
            os: crate::catalog::Os::Unix,
        })
    };
    for id in ["jmevt1", "jmact1", "jmact2"] {
        assert_eq!(r(id).exclude_os, unix(Side::Server), "{id}");
    }
    assert_eq!(r("jmact3").exclude_os, unix(Side::Client));
    assert_eq!(r("jmact3").clients, s(&["systemwalker-om.server"]));
    assert_eq!(r("smtp-mpaosfb").notes, s(&["注5", "注4"]));
    assert_eq!(r("smtp-mpaosfb").service.as_deref(), Some("smtp_mpaosfb"));
    for id in ["mpnjsosv", "mpnjsomg"] {
        assert_eq!(r(id).scope, Scope::SameHost);
        assert_eq!(r(id).exclude_os, None);
        assert!(r(id).notes.contains(&"内部注1".to_string()));
    }
    assert_eq!(r("mpnjsomb").clients, s(&["systemwalker-om.client"]));
    let dynamic = r("jobschmsgevent-dynamic");
    assert_eq!(
        dynamic.companion.as_deref(),
        Some("systemwalker-om/jobschmsgevent-rpc")
    );
    assert_eq!(dynamic.ports.to_string(), "49152-65535");
    assert!(r("mjrmtjob").notes.contains(&"リモート注2".to_string()));
    // Every service name of the seed table is on a rule.
    let services: Vec<&str> = set
        .catalog("systemwalker-om")
        .unwrap()
        .rules
        .iter()
        .filter_map(|r| r.service.as_deref())
        .collect();
    for name in [
        "JMSRV",
        "jmnet",
        "JMCAL",
        "jobsch_win",
        "mjsnet",
        "mpaclmgr",
        "JMEVT1",
        "JMACT1",
        "JMACT2",
        "JMACT3",
        "smtp_mpaosfb",
        "mpnjsocl",
        "mpnjsc",
        "JMPWR",
        "mpahso",
        "mpnjsomb",
        "mpnjsosv",
        "mpnjsomg",
        "mpojeed1httpo",
        "mpojeed1httpso",
        "mpojeed1admino",
        "mpojeed1jmso",
        "mpojeed1iiopo",
        "mpojeed1iiopsmo",
        "mpojeed1iiopso",
        "mpojeed1jmxo",
    ] {
        assert!(services.contains(&name), "{name}");
    }
    // Every note of both catalogs qualifies at least one rule.
    for c in &set.catalogs {
        for n in &c.notes {
            assert!(
                c.rules.iter().any(|r| r.notes.contains(&n.id)),
                "{}: {}",
                c.name,
                n.id
            );
        }
    }
    let ids_sw: Vec<&str> = set
        .catalog("systemwalker-om")
        .unwrap()
        .notes
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    for id in [
        "注1",
        "注2",
        "注3",
        "注4",
        "注5",
        "内部注1",
        "内部注2",
        "リモート注1",
        "リモート注2",
    ] {
        assert!(ids_sw.contains(&id), "{id}");
    }
    // 注4 is on every external-table row.
    for r in set
        .rules()
        .filter(|r| r.source.starts_with("【外部通信用】"))
    {
        assert!(r.notes.contains(&"注4".to_string()), "{}", r.id);
    }
}

#[test]
fn expand_roles_is_transitive_sorted_dedup() {
    let set = builtins();
    assert_eq!(
        set.expand_roles(&s(&[
            "systemwalker-om.server",
            "jp1-itdm.agent",
            "systemwalker-om.job_executor"
        ])),
        s(&[
            "jp1-itdm.agent",
            "systemwalker-om.event_source",
            "systemwalker-om.event_target",
            "systemwalker-om.job_executor",
            "systemwalker-om.job_requester",
            "systemwalker-om.monitored_host",
            "systemwalker-om.monitoring_host",
            "systemwalker-om.server",
        ])
    );
    assert_eq!(set.expand_roles(&[]), Vec::<String>::new());
    // Chains of implications are followed.
    let mut custom = CatalogSet::default();
    custom.catalogs.push(
        CatalogSet::parse_catalog(
            "[catalog]\nname = \"x\"\n[[roles]]\nname = \"a\"\nimplies = [\"b\"]\n[[roles]]\nname = \"b\"\nimplies = [\"c\", \"a\"]\n[[roles]]\nname = \"c\"\n",
            "x.toml",
        )
        .unwrap(),
    );
    assert_eq!(custom.expand_roles(&s(&["x.a"])), s(&["x.a", "x.b", "x.c"]));
    assert_eq!(set.role_label("systemwalker-om.smtp_server"), "SMTP server");
    assert_eq!(set.role_label("nope.some_role"), "some role");
}

#[test]
fn load_by_name_file_and_errors() {
    let set = CatalogSet::load(&s(&["systemwalker-om"])).unwrap();
    assert_eq!(set.catalogs.len(), 1);
    let e = CatalogSet::load(&s(&["jp1"])).unwrap_err();
    assert_eq!(
        e.kind.to_string(),
        "unknown catalog 'jp1': not a built-in (jp1-itdm, systemwalker-om) nor a readable file"
    );
    let e = CatalogSet::load(&s(&["jp1-itdm", "jp1-itdm"])).unwrap_err();
    assert_eq!(e.kind.to_string(), "catalog 'jp1-itdm' is loaded twice");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.toml");
    std::fs::write(
        &path,
        "\u{feff}[catalog]\nname = \"lab\"\n[[roles]]\nname = \"a\"\n[[rules]]\nid = \"r\"\nprotocol = \"UDP\"\nports = [\"7000-7002\", 7001, 7003]\nclients = [\"a\"]\nservers = [\"a\"]\nexpects_reply = true\n",
    )
    .unwrap();
    let spec = path.display().to_string();
    let set = CatalogSet::load(&[spec.clone(), "jp1-itdm".into()]).unwrap();
    let r = set.rule("lab/r").unwrap();
    assert_eq!(
        (r.protocol, r.ports.to_string(), r.expects_reply),
        (Udp, "7000-7003".to_string(), true)
    );
    assert_eq!(r.clients, s(&["lab.a"]));
    // The same catalog from a file and by name is loaded twice.
    let copy = dir.path().join("copy.toml");
    std::fs::write(&copy, CatalogSet::builtin_text("jp1-itdm").unwrap()).unwrap();
    let e = CatalogSet::load(&["jp1-itdm".into(), copy.display().to_string()]).unwrap_err();
    assert_eq!(e.kind.to_string(), "catalog 'jp1-itdm' is loaded twice");
}

/// A minimal valid catalog with `rule` (TOML lines) as its only rule, which
/// starts on line 9.
fn with_rule(rule: &str) -> String {
    format!(
        "[catalog]\nname = \"t\"\n[[roles]]\nname = \"a\"\n[[features]]\nname = \"f\"\n[[notes]]\nid = \"n\"\n[[rules]]\n{rule}"
    )
}

fn parse_err(text: &str) -> (Option<usize>, String) {
    let e = CatalogSet::parse_catalog(text, "t.toml").unwrap_err();
    assert_eq!(e.file, "t.toml");
    (e.line, e.kind.to_string())
}

#[test]
fn catalog_validation_errors_name_the_line() {
    let ok = "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\n";
    assert!(CatalogSet::parse_catalog(&with_rule(ok), "t.toml").is_ok());
    let cases: &[(&str, usize, &str)] = &[
        (
            "id = \"r\"\nprotocol = \"icmp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\n",
            11,
            "rule 'r': protocol 'icmp' is neither tcp nor udp",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1, \"9-3\"]\nclients = [\"a\"]\nservers = [\"a\"]\n",
            12,
            "rule 'r': port range '9-3' is reversed (9 > 3)",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [0]\nclients = [\"a\"]\nservers = [\"a\"]\n",
            12,
            "rule 'r': port 0 is out of range (1-65535)",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [\"1-65536\"]\nclients = [\"a\"]\nservers = [\"a\"]\n",
            12,
            "rule 'r': port 65536 is out of range (1-65535)",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = []\nclients = [\"a\"]\nservers = [\"a\"]\n",
            12,
            "rule 'r' has no ports",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"b\"]\n",
            14,
            "unknown role 'b' (roles of t: a)",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\nexpects_reply = false\n",
            15,
            "rule 'r': expects_reply is only meaningful for udp rules",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\nnotes = [\"n\", \"注9\"]\n",
            15,
            "rule 'r': note '注9' is not defined in [[notes]]",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\nrequires_feature = \"g\"\n",
            15,
            "rule 'r': unknown feature 'g' (features of t: f)",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\ncompanion = \"q\"\n",
            15,
            "rule 'r': companion rule 'q' does not exist",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\nscope = \"local\"\n",
            15,
            "rule 'r': scope 'local' is neither \"network\" nor \"same-host\"",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\nexclude_os = { side = \"server\", os = \"mac\" }\n",
            15,
            "rule 'r': exclude_os os 'mac' is not windows or unix",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\n[[rules]]\nid = \"r\"\nprotocol = \"tcp\"\nports = [2]\nclients = [\"a\"]\nservers = [\"a\"]\n",
            16,
            "rule id 'r' is used twice",
        ),
        (
            "id = \"r\"\nprotocol = \"tcp\"\nports = [1]\nclients = [\"a\"]\nservers = [\"a\"]\nrequires_feture = \"f\"\n",
            15,
            "unknown field `requires_feture`",
        ),
        ("id = \"r\"\nprotocol = \"tcp\"\nports = [1\n", 12, "unclosed array"),
    ];
    for &(rule, line, message) in cases {
        let (l, m) = parse_err(&with_rule(rule));
        assert_eq!(l, Some(line), "{m}");
        assert!(
            m.starts_with(message),
            "{m:?} does not start with {message:?}"
        );
        assert!(!m.contains('\n'), "{m:?}");
    }
    let (l, m) = parse_err("[catalog]\nname = \"t\"\n[[roles]]\nname = \"a\"\nimplies = [\"z\"]\n");
    assert_eq!(
        (l, m.as_str()),
        (Some(5), "unknown role 'z' (roles of t: a)")
    );
    let (l, m) =
        parse_err("[catalog]\nname = \"t\"\n[[notes]]\nid = \"n\"\n[[notes]]\nid = \"n\"\n");
    assert_eq!((l, m.as_str()), (Some(6), "note 'n' is defined twice"));
    let (l, m) = parse_err("[catalog]\nname = \"a.b\"\n");
    assert_eq!(l, Some(2));
    assert!(m.starts_with("catalog name 'a.b'"), "{m}");
}

#[test]
fn port_set_insert_and_remove() {
    let mut p = PortSet::default();
    p.insert_range(10, 20);
    p.insert(21);
    p.insert(5);
    assert_eq!(p.to_string(), "5,10-21");
    p.remove(15);
    assert_eq!(p.to_string(), "5,10-14,16-21");
    p.remove(5);
    p.remove(10);
    p.remove(21);
    assert_eq!(p.to_string(), "11-14,16-20");
    assert_eq!(p.width(), 9);
    p.insert(15);
    assert_eq!(p.to_string(), "11-20");
}

fn change(catalog: &str, target: PortTarget, new_port: u16, line: usize) -> PortChange {
    PortChange {
        catalog: catalog.into(),
        target,
        new_port,
        file: "inv.toml".into(),
        line,
        key: format!("{catalog}/…"),
    }
}

#[test]
fn port_change_single_port_moves_every_rule_on_it() {
    let mut set = builtins();
    set.apply_port_changes(&[change("jp1-itdm", PortTarget::Port(31000, Tcp), 31100, 3)])
        .unwrap();
    assert_eq!(ids(&set, 31000, Tcp), Vec::<String>::new());
    assert_eq!(
        ids(&set, 31100, Tcp),
        ["jp1-itdm/agent-to-manager", "jp1-itdm/to-site-server"]
    );
    let r = set.rule("jp1-itdm/agent-to-manager").unwrap();
    assert_eq!(
        (r.ports.to_string(), r.default_ports.to_string()),
        ("31100".into(), "31000".into())
    );
}

#[test]
fn port_change_inside_a_range() {
    let mut set = builtins();
    set.apply_port_changes(&[change("JP1-ITDM", PortTarget::Port(31010, Tcp), 32010, 4)])
        .unwrap();
    assert_eq!(
        set.rule("jp1-itdm/manager-internal-single")
            .unwrap()
            .ports
            .to_string(),
        "31006-31009,31011-31012,32010"
    );
    assert_eq!(
        set.rule("jp1-itdm/manager-to-db-server")
            .unwrap()
            .ports
            .to_string(),
        "32010"
    );
    assert_eq!(
        set.rule("jp1-itdm/site-server-internal")
            .unwrap()
            .ports
            .to_string(),
        "32010"
    );
    assert_eq!(ids(&set, 31010, Tcp), Vec::<String>::new());
    // The multi-server internal rule never held 31010 and is untouched.
    assert_eq!(
        set.rule("jp1-itdm/manager-internal-multi")
            .unwrap()
            .ports
            .to_string(),
        "31007-31009,31011-31012"
    );
}

#[test]
fn port_change_by_service_name_case_insensitive() {
    let mut set = builtins();
    set.apply_port_changes(&[
        change(
            "systemwalker-om",
            PortTarget::Service("JMNET".into()),
            9452,
            5,
        ),
        change(
            "systemwalker-om",
            PortTarget::Service("mpnjsc".into()),
            2952,
            6,
        ),
    ])
    .unwrap();
    assert_eq!(ids(&set, 9352, Tcp), Vec::<String>::new());
    assert_eq!(ids(&set, 9452, Tcp).len(), 4);
    assert_eq!(ids(&set, 2952, Tcp), ["systemwalker-om/mpnjsc-tcp"]);
    assert_eq!(ids(&set, 2952, Udp), ["systemwalker-om/mpnjsc-udp"]);
}

#[test]
fn port_changes_are_independent_of_order() {
    let mut set = builtins();
    set.apply_port_changes(&[
        change("systemwalker-om", PortTarget::Port(9369, Tcp), 9370, 1),
        change("systemwalker-om", PortTarget::Port(9370, Tcp), 9369, 2),
    ])
    .unwrap();
    assert_eq!(
        set.rule("systemwalker-om/jmact1")
            .unwrap()
            .ports
            .to_string(),
        "9370"
    );
    assert_eq!(
        set.rule("systemwalker-om/jmact2")
            .unwrap()
            .ports
            .to_string(),
        "9369"
    );
}

#[test]
fn port_change_errors_and_ignored_catalogs() {
    let mut set = builtins();
    let e = set
        .apply_port_changes(&[change("jp1-itdm", PortTarget::Port(31000, Udp), 1, 7)])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "inv.toml:7: port change 'jp1-itdm/…': no rule of jp1-itdm uses 31000/udp"
    );
    let e = set
        .apply_port_changes(&[change(
            "systemwalker-om",
            PortTarget::Service("nosuch".into()),
            1,
            9,
        )])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "inv.toml:9: port change 'systemwalker-om/…': no rule of systemwalker-om has the service name 'nosuch'"
    );
    // A built-in catalog that is not loaded: ignored, even if nothing would match.
    let mut jp1 = CatalogSet::load(&s(&["jp1-itdm"])).unwrap();
    jp1.apply_port_changes(&[change("systemwalker-om", PortTarget::Port(1, Tcp), 2, 1)])
        .unwrap();
    let e = jp1
        .apply_port_changes(&[change("lab", PortTarget::Port(1, Tcp), 2, 11)])
        .unwrap_err();
    assert_eq!(e.line, Some(11));
}

const UNIX_SERVICES: &str = "\
# /etc/services
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
smtp\t\t25/tcp\t\tmail
jmnet 9352/tcp
rtmp\t\t1/ddp\t\t\t# Routing Table Maintenance Protocol
sctp-thing 9/sctp

smtp_mpaosfb\t2525/tcp\tSysWalkerMail   # site mail relay
MPNJSC 2952/udp
";

#[test]
fn services_unix_syntax() {
    let sv = Services::parse(UNIX_SERVICES, "/etc/services").unwrap();
    let lines: Vec<usize> = sv.entries.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 8, 9]);
    assert_eq!(sv.entries[1].names, s(&["smtp", "mail"]));
    assert_eq!(sv.entries[3].names, s(&["smtp_mpaosfb", "syswalkermail"]));
    assert_eq!(sv.port("syswalkermail", Tcp), Some(2525));
    assert_eq!(sv.port("mpnjsc", Udp), Some(2952));
    assert_eq!(sv.port("mpnjsc", Tcp), None);

    let mut set = builtins();
    set.apply_services(&sv);
    assert_eq!(
        set.rule("systemwalker-om/smtp-mpaosfb")
            .unwrap()
            .ports
            .to_string(),
        "2525"
    );
    assert_eq!(
        set.rule("systemwalker-om/mpnjsc-udp")
            .unwrap()
            .ports
            .to_string(),
        "2952"
    );
    assert_eq!(
        set.rule("systemwalker-om/mpnjsc-tcp")
            .unwrap()
            .ports
            .to_string(),
        "1952"
    );
    assert_eq!(
        set.rule("systemwalker-om/jmnet-client")
            .unwrap()
            .ports
            .to_string(),
        "9352"
    );
    assert_eq!(ids(&set, 25, Tcp), Vec::<String>::new());
}

#[test]
fn services_windows_crlf_bom_and_aliases() {
    let text = "\u{feff}# Copyright (c) 1993-2004 Microsoft Corp.\r\n#\r\necho                7/tcp\r\nsmtp               25/tcp    mail                   #Simple Mail Transfer Protocol\r\n\r\nJMSRV\t9467/tcp\tjmsrv-alt\r\njmcal 9468/TCP\r\n";
    let sv = Services::parse(text, "C:\\Windows\\System32\\drivers\\etc\\services").unwrap();
    assert_eq!(sv.entries.len(), 4);
    assert_eq!(sv.entries[2].names, s(&["jmsrv", "jmsrv-alt"]));
    assert_eq!((sv.entries[2].port, sv.entries[2].line), (9467, 6));
    assert_eq!(sv.entries[3].protocol, Tcp);
    let mut set = builtins();
    set.apply_services(&sv);
    assert_eq!(
        set.rule("systemwalker-om/jmsrv-client")
            .unwrap()
            .ports
            .to_string(),
        "9467"
    );
    assert_eq!(
        set.rule("systemwalker-om/jmcal-power-control")
            .unwrap()
            .ports
            .to_string(),
        "9468"
    );
    // UTF-16 (Notepad "Unicode") and Shift_JIS comments decode.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "jmnet 9999/tcp\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    assert_eq!(
        Services::parse(&services::decode(&utf16), "x")
            .unwrap()
            .port("jmnet", Tcp),
        Some(9999)
    );
    let sjis = b"# \x83\x7c\x81\x5b\x83\x67\njmnet 9998/tcp\n";
    assert_eq!(
        Services::parse(&services::decode(sjis), "x")
            .unwrap()
            .port("jmnet", Tcp),
        Some(9998)
    );
}

#[test]
fn services_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "a 1/tcp\nbroken\n",
            2,
            "service 'broken' has no port/protocol",
        ),
        (
            "# c\n\nb 70000/tcp\n",
            3,
            "service 'b': '70000' is not a port number (1-65535)",
        ),
        (
            "c 0/udp\n",
            1,
            "service 'c': '0' is not a port number (1-65535)",
        ),
        (
            "d x/tcp\n",
            1,
            "service 'd': 'x' is not a port number (1-65535)",
        ),
        ("e 12\n", 1, "service 'e': '12' has no protocol"),
        ("f 12/\n", 1, "service 'f': '12/' has no protocol"),
        (
            "g\r\nh # only a name\r\n",
            1,
            "service 'g' has no port/protocol",
        ),
    ];
    for &(text, line, message) in cases {
        let e = Services::parse(text, "svc").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("svc", Some(line)), "{}", e.kind);
        assert!(
            e.kind.to_string().starts_with(message),
            "{:?}",
            e.kind.to_string()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let e = Services::load(&dir.path().join("missing")).unwrap_err();
    assert_eq!(e.line, None);
    assert!(e.kind.to_string().starts_with("cannot read services file"));
}
