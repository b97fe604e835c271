//! Tunnels and mirror transports (issue 11, item 1), through the real binary:
//! - the generated fixture (`fixtures/tunnels.pcapng`): the report counts
//!   each tunnel kind in `inputs[].tunnels`, a nest too deep is skipped as
//!   `tunnel_too_deep`, every connection in JSONL is an inner one with its
//!   state, and tunnel-port look-alikes stay outer UDP conversations;
//! - inputs without tunnels have no `tunnels` field;
//! - with `FLOWLINT_ZEEK` (`../shared/zeek`), every TCP/UDP connection real
//!   Zeek logged from a tunnel or link-type trace is in flowlint's JSONL
//!   (or, to a broadcast or multicast address, in `broadcasts`), except the
//!   outer tunnel datagrams themselves: flowlint's connections are the inner
//!   ones. Without the variable that test passes without doing anything.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn flowlint(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(args)
        .output()
        .expect("run flowlint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn expect() -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/tunnels.expect.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

const FIXTURE: [&str; 3] = [
    "--inventory",
    "fixtures/tunnels.toml",
    "fixtures/tunnels.pcapng",
];

#[test]
fn fixture_counts_tunnels_by_kind() {
    let want = expect();
    let (code, out) = flowlint(&[&["check", "--format", "json"][..], &FIXTURE].concat());
    assert_eq!(code, 1, "a refused and a no_reply connection are findings");
    let report: Value = serde_json::from_str(&out).unwrap();
    let input = &report["inputs"][0];
    assert_eq!(input["tunnels"], want["tunnels"], "{input}");
    assert_eq!(input["skipped"], want["skipped"], "{input}");
    assert_eq!(
        input["linktypes"],
        serde_json::json!([1, 9, 50, 105, 127, 239])
    );
    // every kind flowlint opens is in the fixture
    let kinds: BTreeSet<&str> = input["tunnels"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "ayiya",
        "erspan_i",
        "erspan_ii",
        "erspan_iii",
        "geneve",
        "gre",
        "gre_udp",
        "gtp_u",
        "pbb",
        "pptp",
        "teredo",
        "vxlan",
    ] {
        assert!(kinds.contains(k), "{k} missing from {kinds:?}");
    }
}

#[test]
fn fixture_connections_are_the_inner_ones() {
    let (code, out) = flowlint(&[&["check", "--format", "jsonl"][..], &FIXTURE].concat());
    assert_eq!(code, 1);
    let mut states: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let (client, server) = (
            r["client"].as_str().unwrap().to_string(),
            r["server"].as_str().unwrap(),
        );
        for endpoint in [client.as_str(), server] {
            assert!(
                !endpoint.starts_with("203.0.113.") && !endpoint.starts_with("2001:db8:ffff:"),
                "an outer tunnel endpoint made a connection: {line}"
            );
        }
        states
            .entry(format!(
                "{client} {}/{}",
                r["server_port"],
                r["protocol"].as_str().unwrap()
            ))
            .or_default()
            .push(r["state"].as_str().unwrap().to_string());
    }
    let state = |k: &str| states.get(k).cloned().unwrap_or_default();
    // ERSPAN III carried a refused attempt, GTP-U an unanswered one
    assert_eq!(state("192.0.2.134 31000/tcp"), ["refused"]);
    assert_eq!(state("192.0.2.138 31000/tcp"), ["no_reply"]);
    assert_eq!(
        state("2001:0:cb00:7101:8000:f227:3fff:fdfe 31000/tcp"),
        ["established"]
    );
    for agent in 139..=147 {
        assert_eq!(
            state(&format!("192.0.2.{agent} 31000/tcp")),
            ["established"]
        );
    }
    // the look-alikes: outer UDP datagrams on tunnel ports
    assert_eq!(state("192.0.2.200 53/udp"), ["answered"]);
    assert_eq!(state("192.0.2.200 2152/udp"), ["answered"]);
    // the too-deep nest made nothing
    assert!(!states.keys().any(|k| k.starts_with("192.0.2.200 31000")));
}

#[test]
fn inputs_without_tunnels_have_no_tunnels_field() {
    let (_, out) = flowlint(&[
        "check",
        "--format",
        "json",
        "--inventory",
        "fixtures/demo/lab.toml",
        "fixtures/demo/lab.pcapng",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(report["inputs"][0].get("tunnels").is_none());
}

fn zeek() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("FLOWLINT_ZEEK")?);
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "FLOWLINT_ZEEK={} has no MANIFEST.tsv",
        dir.display()
    );
    Some(dir)
}

/// One TCP/UDP record of a Zeek conn.log.
struct ZeekConn {
    uid: String,
    orig: (String, u16),
    resp: (String, u16),
    proto: String,
    tunnel_parents: String,
}

fn conn_log(path: &Path) -> Vec<ZeekConn> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut fields: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').collect();
            continue;
        }
        if line.starts_with('#') || fields.is_empty() {
            continue;
        }
        let v: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| v[fields.iter().position(|f| *f == name).unwrap()];
        let proto = get("proto");
        if proto != "tcp" && proto != "udp" {
            continue;
        }
        out.push(ZeekConn {
            uid: get("uid").to_string(),
            orig: (
                get("id.orig_h").to_string(),
                get("id.orig_p").parse().unwrap(),
            ),
            resp: (
                get("id.resp_h").to_string(),
                get("id.resp_p").parse().unwrap(),
            ),
            proto: proto.to_string(),
            tunnel_parents: get("tunnel_parents").to_string(),
        });
    }
    out
}

fn canonical(addr: &str) -> String {
    addr.parse::<IpAddr>()
        .map_or(addr.to_string(), |a| a.to_string())
}

/// The UDP ports of the transports flowlint opens.
const TUNNEL_PORTS: [u16; 6] = [4789, 6081, 2152, 3544, 5072, 4754];

#[test]
fn zeek_tunnel_traces_yield_their_inner_connections() {
    let Some(dir) = zeek() else {
        eprintln!("FLOWLINT_ZEEK not set: Zeek tunnel traces skipped");
        return;
    };
    // (trace, tunnel kinds flowlint must count)
    let traces: [(&str, &[&str]); 14] = [
        ("core.erspanI", &["erspan_i"]),
        ("core.pbb", &["pbb"]),
        ("core.ppp", &[]),
        ("core.wlanmon", &[]),
        ("core.cisco-fabric-path", &[]),
        ("core.tunnels.gre", &["gre"]),
        ("core.tunnels.gre-pptp", &["ip_in_ip", "pptp"]),
        ("core.tunnels.vxlan", &["vxlan"]),
        ("core.tunnels.vxlan-unknown-internal-packet", &["vxlan"]),
        ("core.tunnels.geneve-ipv6", &["geneve"]),
        ("core.tunnels.gtp.opt_header", &["gtp_u"]),
        ("core.tunnels.gtp.inner_ipv6", &["gtp_u"]),
        ("core.tunnels.teredo", &["teredo"]),
        ("core.pppoe", &[]),
    ];
    let mut failures = Vec::new();
    let (mut checked, mut outer) = (0, 0);
    for (name, kinds) in traces {
        let pcap = dir.join(format!("{name}.pcap"));
        let path = pcap.to_str().unwrap();
        let (_, json) = flowlint(&["check", "--format", "json", "-q", "--fail-on", "none", path]);
        let report: Value = serde_json::from_str(&json).unwrap();
        let input = &report["inputs"][0];
        for k in kinds {
            if input["tunnels"][k].as_u64().unwrap_or(0) == 0 {
                failures.push(format!("{name}: no {k} tunnel counted: {input}"));
            }
        }
        if input["skipped"].get("unsupported_linktype").is_some() {
            failures.push(format!("{name}: link type not decoded: {input}"));
        }
        let broadcasts: BTreeSet<(String, String, u64)> = report["broadcasts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                (
                    b["client"].as_str().unwrap().to_string(),
                    b["destination"].as_str().unwrap().to_string(),
                    b["port"].as_u64().unwrap(),
                )
            })
            .collect();
        let (_, jsonl) = flowlint(&[
            "check",
            "--format",
            "jsonl",
            "-q",
            "--fail-on",
            "none",
            path,
        ]);
        let mut pairs = BTreeSet::new();
        for line in jsonl.lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            let a = (
                r["client"].as_str().unwrap().to_string(),
                r["client_port"].as_u64().unwrap() as u16,
            );
            let b = (
                r["server"].as_str().unwrap().to_string(),
                r["server_port"].as_u64().unwrap() as u16,
            );
            let proto = r["protocol"].as_str().unwrap().to_string();
            pairs.insert((a.clone(), b.clone(), proto.clone()));
            pairs.insert((b, a, proto));
        }
        let records = conn_log(&dir.join(format!("{name}.conn.log")));
        let parents: BTreeSet<&str> = records
            .iter()
            .flat_map(|r| r.tunnel_parents.split(','))
            .collect();
        for r in &records {
            // the tunnel's own datagrams: flowlint keeps only what they carry
            let is_outer = parents.contains(r.uid.as_str())
                || (r.proto == "udp"
                    && (TUNNEL_PORTS.contains(&r.orig.1) || TUNNEL_PORTS.contains(&r.resp.1)));
            if is_outer {
                outer += 1;
                continue;
            }
            checked += 1;
            let orig = (canonical(&r.orig.0), r.orig.1);
            let resp = (canonical(&r.resp.0), r.resp.1);
            // broadcast and multicast datagrams (by address or by the
            // frame's destination) and the unicast answers to them are listed
            // apart, by sender and port
            let listed_apart = broadcasts.iter().any(|(client, _, port)| {
                (*client == orig.0 || *client == resp.0)
                    && (*port == u64::from(orig.1) || *port == u64::from(resp.1))
            });
            let found =
                pairs.contains(&(orig.clone(), resp.clone(), r.proto.clone())) || listed_apart;
            if !found {
                failures.push(format!(
                    "{name}: Zeek's {} {}:{} → {}:{} (tunnel_parents {}) is not in flowlint's output",
                    r.proto, orig.0, orig.1, resp.0, resp.1, r.tunnel_parents
                ));
            }
        }
    }
    println!("{checked} Zeek TCP/UDP records checked, {outer} outer tunnel records left aside");
    assert!(checked > 40, "too few records checked: {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn jsonl_names_the_tunnels_each_inner_connection_came_through() {
    let (_, out) = flowlint(&[
        "check",
        "-q",
        "--format",
        "jsonl",
        "fixtures/tunnels.pcapng",
    ]);
    let mut by_tunnel: BTreeMap<String, u32> = BTreeMap::new();
    for line in out.lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let tunnel = rec.get("tunnel").and_then(Value::as_str).unwrap_or("-");
        *by_tunnel.entry(tunnel.to_string()).or_default() += 1;
    }
    let expected: BTreeMap<String, u32> = [
        ("-", 7),
        ("ayiya", 1),
        ("erspan_i", 1),
        ("erspan_ii", 1),
        ("erspan_iii", 1),
        ("geneve", 1),
        ("gre", 2),
        ("gre+vxlan", 1),
        ("gre_udp", 1),
        ("gtp_u", 1),
        ("pbb", 1),
        ("pptp", 1),
        ("teredo", 1),
        ("vxlan", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(by_tunnel, expected);
}

#[test]
fn the_text_header_says_which_tunnels_carried_the_connections() {
    let (_, text) = flowlint(&["check", "-q", "fixtures/tunnels.pcapng"]);
    let input = text.lines().nth(1).unwrap();
    assert!(
        input.ends_with(
            "; through tunnels (packets): ayiya 8, erspan_i 8, erspan_ii 8, erspan_iii 2, geneve 8, \
             gre 32, gre_udp 8, gtp_u 2, pbb 8, pptp 8, teredo 8, vxlan 16"
        ),
        "{input}"
    );
    let (_, demo) = flowlint(&["check", "-q", "fixtures/demo/lab.pcapng"]);
    assert!(!demo.contains("through tunnels"));
}
