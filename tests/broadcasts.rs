//! Broadcast and multicast traffic (SPEC "Broadcast and multicast"): the
//! real binary on the broadcast fixture (`flowlint-gen fixtures` writes
//! `fixtures/broadcasts.pcapng`: Ethernet, SLL, SLL2 and raw-IP interfaces,
//! IPv4 and IPv6) and on a generated flood of multicast senders.
//!
//! Asserted: the exact `broadcasts` groups (sender, destination, port,
//! protocol, packets, replies, times), `summary.broadcast_packets`, that no
//! conversation, finding or host comes from them, the text section, and
//! that a hostile capture with very many senders stays within the bound.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn flowlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(args)
        .output()
        .expect("run flowlint")
}

fn json(args: &[&str]) -> (Value, Option<i32>) {
    let out = flowlint(args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.code())
}

const INVENTORY: &str = "fixtures/broadcasts.toml";
const CAPTURE: &str = "fixtures/broadcasts.pcapng";

/// (client, destination, port, protocol, packets, replies), in report order.
type Group = (String, String, u64, String, u64, u64);

fn groups(report: &Value) -> Vec<Group> {
    report["broadcasts"]
        .as_array()
        .expect("a broadcasts array")
        .iter()
        .map(|g| {
            (
                g["client"].as_str().unwrap().to_string(),
                g["destination"].as_str().unwrap().to_string(),
                g["port"].as_u64().unwrap(),
                g["protocol"].as_str().unwrap().to_string(),
                g["packets"].as_u64().unwrap(),
                g["replies"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn group(c: &str, d: &str, port: u64, packets: u64, replies: u64) -> Group {
    (c.into(), d.into(), port, "udp".into(), packets, replies)
}

/// Every group of the fixture, as an independent oracle (the generator
/// writes the same list into `broadcasts.expect.json`).
fn expected_groups() -> Vec<Group> {
    vec![
        // DHCP discover from 0.0.0.0 and the server's broadcast offer (SLL2)
        group("0.0.0.0", "255.255.255.255", 67, 1, 0),
        // a subnet the inventory does not know: the Ethernet ff:ff:… says it
        group("10.20.30.40", "10.20.30.255", 138, 1, 0),
        group("192.168.10.1", "255.255.255.255", 68, 1, 0),
        // NetBIOS name query, three tries, one unicast answer
        group("192.168.10.31", "192.168.10.255", 137, 4, 1),
        // browser announcement
        group("192.168.10.31", "192.168.10.255", 138, 1, 0),
        // raw IP: only the inventory's /24 block says it is a broadcast
        group("192.168.10.40", "192.168.10.255", 138, 1, 0),
        // mDNS on SLL (packet type multicast)
        group("192.168.10.40", "224.0.0.251", 5353, 2, 0),
        // SSDP search, twice, and a device's unicast answer
        group("192.168.10.40", "239.255.255.250", 1900, 3, 1),
        // IPv6: mDNS (SLL2), LLMNR twice with one unicast answer (Ethernet)
        group("fe80::31", "ff02::fb", 5353, 1, 0),
        group("fe80::31", "ff02::1:3", 5355, 3, 1),
    ]
}

/// The conversations as (client, server, port, protocol, verdict).
fn conversations(report: &Value) -> Vec<(String, String, u64, String, String)> {
    report["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["client"].as_str().unwrap().to_string(),
                c["server"].as_str().unwrap().to_string(),
                c["server_port"].as_u64().unwrap(),
                c["protocol"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn broadcasts_are_listed_apart_with_their_replies() {
    let (report, code) = json(&[
        "check",
        "-q",
        "--format",
        "json",
        "--inventory",
        INVENTORY,
        CAPTURE,
    ]);
    assert_eq!(code, Some(0), "broadcasts are never findings");
    assert_eq!(groups(&report), expected_groups());
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/broadcasts.expect.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(groups(&report), groups(&expect), "the generator's oracle");
    let s = &report["summary"];
    assert_eq!(s["broadcast_packets"], 18);
    assert_eq!(s["broadcast_packets"], expect["broadcast_packets"]);
    assert!(s.get("folded_broadcast_packets").is_none());
    // the two TCP sessions (8 packets each) and the groups: every packet
    assert_eq!(s["packets"], 16 + 18);
    assert_eq!(s["connections"], 2);
    // only the unicast work is a conversation
    let c = |a: &str, b: &str, p: u64| {
        (
            a.to_string(),
            b.to_string(),
            p,
            "tcp".to_string(),
            "expected".to_string(),
        )
    };
    let mut got = conversations(&report);
    got.sort();
    assert_eq!(
        got,
        [
            c("192.168.10.10", "192.168.10.40", 31001),
            c("192.168.10.31", "192.168.10.10", 31000)
        ]
    );
    // no host entry for a group address or a responder
    for h in report["hosts"].as_array().unwrap() {
        let a = h["address"].as_str().unwrap();
        assert!(
            ["192.168.10.10", "192.168.10.31", "192.168.10.40"].contains(&a),
            "host {a}"
        );
    }
    // times of the NetBIOS group: first query to last query, the answer in between
    let nb = &report["broadcasts"][3];
    assert_eq!(nb["first_seen"], "2026-11-20T10:00:00.1Z");
    assert_eq!(nb["last_seen"], "2026-11-20T10:00:01.6Z");
    // placed right after the conversations
    let text = String::from_utf8(
        flowlint(&[
            "check",
            "-q",
            "--format",
            "json",
            "--inventory",
            INVENTORY,
            CAPTURE,
        ])
        .stdout,
    )
    .unwrap();
    let keys: Vec<usize> = ["\"conversations\"", "\"broadcasts\"", "\"rules\""]
        .iter()
        .map(|k| text.find(&format!("\n  {k}: ")).expect(k))
        .collect();
    assert!(keys[0] < keys[1] && keys[1] < keys[2], "{keys:?}");
}

#[test]
fn without_the_inventory_only_the_subnet_broadcast_on_raw_ip_is_not_recognised() {
    let (report, code) = json(&["check", "-q", "--format", "json", CAPTURE]);
    let mut want = expected_groups();
    want.retain(|g| !(g.0 == "192.168.10.40" && g.1 == "192.168.10.255"));
    assert_eq!(groups(&report), want);
    assert_eq!(report["summary"]["broadcast_packets"], 17);
    let convs = conversations(&report);
    assert!(
        convs
            .iter()
            .any(|c| (c.0.as_str(), c.1.as_str(), c.2) == ("192.168.10.40", "192.168.10.255", 138)),
        "{convs:?}"
    );
    assert_eq!(convs.len(), 3, "{convs:?}");
    assert!(matches!(code, Some(0 | 1)));
}

/// Two taps: the same capture twice is every packet seen twice; each
/// counts once, broadcasts and replies too.
#[test]
fn a_broadcast_seen_by_two_taps_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("tap-b.pcapng");
    std::fs::copy(root().join(CAPTURE), &copy).unwrap();
    let (report, code) = json(&[
        "check",
        "-q",
        "--format",
        "json",
        "--inventory",
        INVENTORY,
        CAPTURE,
        copy.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(groups(&report), expected_groups());
    let s = &report["summary"];
    assert_eq!(s["broadcast_packets"], 18);
    assert_eq!(s["duplicate_packets"], 16 + 18);
}

#[test]
fn the_text_report_has_one_short_section() {
    let out = flowlint(&["check", "-q", "--inventory", INVENTORY, CAPTURE]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text
        .find("BROADCAST and multicast (18 packets), not judged, per port: ")
        .unwrap_or_else(|| panic!("no section:\n{text}"));
    let line = text[start..].lines().next().unwrap();
    assert_eq!(
        line,
        "BROADCAST and multicast (18 packets), not judged, per port: 137/udp 4 packets from 1 sender, \
         138/udp 3 packets from 3 senders, 1900/udp 3 packets from 1 sender, 5353/udp 3 packets from 2 senders, \
         5355/udp 3 packets from 1 sender, 67/udp 1 packet from 1 sender, 68/udp 1 packet from 1 sender"
    );
    // after the header, before the hosts and the rule coverage
    let traffic = text.find("  traffic ").expect("header");
    let coverage = text.find("RULES that saw traffic").unwrap();
    assert!(traffic < start && start < coverage);
}

#[test]
fn jsonl_lists_connections_only() {
    let out = flowlint(&[
        "check",
        "-q",
        "--format",
        "jsonl",
        "--inventory",
        INVENTORY,
        CAPTURE,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["protocol"] == "tcp"));
}

/// A hostile capture: 20 000 distinct senders, each to a multicast group
/// of its own, under a small bound: every packet is counted, the groups
/// stay within the bound, nothing becomes a conversation.
#[test]
fn many_multicast_senders_stay_within_the_bound() {
    use flowlint::synth::{
        broadcast, CaptureWriter, Host, Link, PacketBuf, PcapOptions, PcapWriter,
    };
    use std::net::{IpAddr, Ipv4Addr};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("senders.pcap");
    let n: u32 = 20_000;
    {
        let file = std::fs::File::create(&path).unwrap();
        let mut w = PcapWriter::new(file, PcapOptions::new(1)).unwrap();
        let mut pkt = PacketBuf::new();
        for i in 0..n {
            let src = Host::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 64);
            let group = Ipv4Addr::from(0xef00_0000 + i);
            let dst = broadcast::multicast(&group.to_string());
            let f = pkt.udp(&Link::ETHERNET, &src, &dst, 40_000, 5004, 20);
            w.write_packet(
                0,
                1_795_168_800_000_000_000 + i64::from(i) * 10_000,
                f,
                f.len() as u32,
            )
            .unwrap();
        }
        w.flush().unwrap();
    }
    let (report, code) = json(&[
        "check",
        "-q",
        "--format",
        "json",
        "--max-conversations",
        "100",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0));
    let s = &report["summary"];
    assert_eq!(s["broadcast_packets"], u64::from(n));
    assert_eq!(s["folded_broadcast_packets"], u64::from(n) - 100);
    assert_eq!(s["connections"], 0);
    let list = report["broadcasts"].as_array().unwrap();
    assert!(
        list.len() <= 100 + 100 / 4 + 16 + 4,
        "{} groups",
        list.len()
    );
    let sum: u64 = list.iter().map(|g| g["packets"].as_u64().unwrap()).sum();
    assert_eq!(sum, u64::from(n));
    // folded groups carry the unspecified sender, the catch-all group the
    // unspecified destination too
    assert!(list.iter().any(|g| g["client"] == "0.0.0.0"));
    assert!(list
        .iter()
        .any(|g| g["client"] == "0.0.0.0" && g["destination"] == "0.0.0.0"));
    assert!(report["conversations"].as_array().unwrap().is_empty());
}
