//! Real public captures (`../shared/corpus`, pointed to by `FLOWLINT_CORPUS`):
//! every file is analysed without panic or hang; readable ones exit 0/1,
//! those the MANIFEST marks corrupt get a warning or a clean exit 2; and
//! flowlint's TCP/UDP connection counts are compared with tshark's
//! `conv,tcp`/`conv,udp` counts from the MANIFEST.
//!
//! Without `FLOWLINT_CORPUS` the tests pass without doing anything (a fresh
//! clone has no corpus).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("FLOWLINT_CORPUS")?);
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        panic!("FLOWLINT_CORPUS={} has no MANIFEST.tsv", dir.display());
    }
}

struct Entry {
    file: String,
    notes: String,
    tshark_exit: String,
    tshark_tcp: Option<u64>,
    tshark_udp: Option<u64>,
}

fn manifest(dir: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file, notes, texit, ttcp, tudp) = (
        col("file"),
        col("notes"),
        col("tshark_exit"),
        col("tshark_tcp_conversations"),
        col("tshark_udp_conversations"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Entry {
                file: f[file].to_string(),
                notes: f[notes].to_string(),
                tshark_exit: f[texit].to_string(),
                tshark_tcp: f[ttcp].parse().ok(),
                tshark_udp: f[tudp].parse().ok(),
            }
        })
        .collect()
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs flowlint with a watchdog: a hang is a failure, not a stuck CI.
fn run(args: &[&str], path: &Path) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .args(args)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{}: flowlint hung (killed after 60 s)", path.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Connection counts by protocol from a JSON report.
fn connections(report: &serde_json::Value) -> (u64, u64) {
    let mut tcp = 0;
    let mut udp = 0;
    for c in report["conversations"].as_array().unwrap() {
        let n = c["connections"].as_u64().unwrap();
        match c["protocol"].as_str().unwrap() {
            "tcp" => tcp += n,
            _ => udp += n,
        }
    }
    (tcp, udp)
}

/// Distinct socket pairs (tcp, udp) in a JSONL run: what tshark's
/// `conv,tcp`/`conv,udp` count, before flowlint splits a pair into several
/// connections (a new SYN after a close, 60 s of UDP silence, a clock jump).
fn socket_pairs(jsonl: &str) -> (u64, u64) {
    let mut tcp = std::collections::BTreeSet::new();
    let mut udp = std::collections::BTreeSet::new();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let a = (r["client"].to_string(), r["client_port"].as_u64());
        let b = (r["server"].to_string(), r["server_port"].as_u64());
        let pair = if a <= b { (a, b) } else { (b, a) };
        match r["protocol"].as_str() {
            Some("tcp") => tcp.insert(pair),
            _ => udp.insert(pair),
        };
    }
    (tcp.len() as u64, udp.len() as u64)
}

/// Files where even the socket pairs legitimately differ from tshark's, and why.
fn known_difference(file: &str) -> Option<&'static str> {
    const KNOWN: &[(&str, &str)] = &[
        // Link types flowlint does not decode (the catalogs concern IP over
        // Ethernet-like links, raw IP, loopback, Linux cooked captures, PPP,
        // 802.11 and NFLOG).
        ("LINKTYPE_PKTAP", "PKTAP (Apple) link type is not decoded"),
        ("ipoib", "IPoIB link type is not decoded"),
        ("http_PPI", "PPI link type is not decoded"),
        ("arcnet", "ARCNET link type is not decoded"),
        // Tunnels flowlint opens: its connections are the inner ones, while
        // tshark also counts each tunnel's own UDP datagrams as a conversation.
        (
            "geneve",
            "tshark also counts the Geneve tunnel's outer UDP datagrams (flowlint: the inner connections)",
        ),
        (
            "vxlan",
            "tshark also counts the VXLAN tunnel's outer UDP datagrams (flowlint: the inner connections)",
        ),
        // Tunnels flowlint does not open.
        (
            "nb6-http",
            "the IPv6 TCP connection inside L2TP (over PPPoE) is not opened",
        ),
        (
            "pim-packet-assortment",
            "UDP inside PIM register messages (IP protocol 103) is not decoded",
        ),
        // An ICMP error quoting a UDP datagram that was not captured: flowlint
        // makes it a connection (SPEC: the ICMP error belongs to the connection it
        // quotes); tshark counts no UDP conversation for it.
        (
            "IcmpPackets",
            "an ICMP port unreachable quotes a UDP datagram that was not captured",
        ),
        (
            "icmp-cksum-oobr",
            "an ICMP port unreachable quotes a UDP datagram that was not captured",
        ),
    ];
    KNOWN
        .iter()
        .find(|(needle, _)| file.contains(needle))
        .map(|(_, why)| *why)
}

/// Tunnels the corpus holds, by a part of the file name, and the kind the
/// report must count for each.
const TUNNELS: &[(&str, &str)] = &[
    ("tcpdump__pptp", "pptp"),
    ("tcpdump__vxlan", "vxlan"),
    ("libpcap__geneve", "geneve"),
    ("tcpdump__various_gre", "gre"),
];

/// Link types the corpus holds that flowlint decodes since issue 11: no
/// record of theirs may be skipped as `unsupported_linktype`.
const NEW_LINK_TYPES: &[&str] = &[
    "tcpdump__nflog",
    "tcpdump__mpls-traceroute",
    "tcpdump__icmp-rfc5837",
    "tcpdump__ppp",
    "tcpdump__hdlc",
    "tcpdump__ieee802.11",
    "libpcap__Network_Join_Nokia_Mobile",
];

/// 255.255.255.255, 224.0.0.0/4, ff00::/8.
fn is_group_address(addr: &str) -> bool {
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => a.is_multicast() || a.is_broadcast(),
        Ok(std::net::IpAddr::V6(a)) => a.is_multicast(),
        Err(_) => false,
    }
}

#[test]
fn every_corpus_file_is_analysed_without_panic_or_hang() {
    let Some(dir) = corpus() else {
        eprintln!("FLOWLINT_CORPUS not set: corpus tests skipped");
        return;
    };
    let mut failures = Vec::new();
    let mut agree = 0;
    let mut compared = 0;
    let mut pairs_agree = 0;
    let mut table = BTreeMap::new();
    for e in manifest(&dir) {
        let path = dir.join(&e.file);
        let out = run(
            &["check", "--format", "json", "-q", "--fail-on", "none"],
            &path,
        );
        if out.stderr.contains("panicked") || out.code < 0 || out.code > 2 {
            failures.push(format!(
                "{}: crashed (exit {}): {}",
                e.file, out.code, out.stderr
            ));
            continue;
        }
        let corrupt = e.notes.contains("corrupt");
        if out.code == 2 {
            let lines: Vec<&str> = out.stderr.lines().collect();
            if !corrupt && e.tshark_exit == "0" {
                failures.push(format!(
                    "{}: tshark reads it, flowlint failed: {}",
                    e.file,
                    out.stderr.trim()
                ));
            } else if lines.len() != 1 || !lines[0].contains(&e.file) {
                failures.push(format!(
                    "{}: exit 2 must print one line naming the file, got {:?}",
                    e.file, lines
                ));
            }
            table.insert(e.file.clone(), "exit 2".to_string());
            continue;
        }
        if out.code != 0 {
            failures.push(format!(
                "{}: --fail-on none must exit 0, got {}",
                e.file, out.code
            ));
            continue;
        }
        let report: serde_json::Value = match serde_json::from_str(&out.stdout) {
            Ok(v) => v,
            Err(err) => {
                failures.push(format!("{}: invalid JSON: {err}", e.file));
                continue;
            }
        };
        let warnings = report["inputs"][0]["warnings"]
            .as_array()
            .map_or(0, |w| w.len());
        if corrupt && e.tshark_exit != "0" && warnings == 0 && e.notes.contains("cut short") {
            failures.push(format!(
                "{}: cut short but no warning in the report",
                e.file
            ));
        }
        let input = &report["inputs"][0];
        for (needle, kind) in TUNNELS {
            if e.file.contains(needle) && input["tunnels"][kind].as_u64().unwrap_or(0) == 0 {
                failures.push(format!("{}: no {kind} tunnel counted: {input}", e.file));
            }
        }
        if NEW_LINK_TYPES.iter().any(|n| e.file.contains(n))
            && input["skipped"].get("unsupported_linktype").is_some()
        {
            failures.push(format!("{}: link type not decoded: {input}", e.file));
        }
        let (tcp, udp) = connections(&report);
        // Broadcast and multicast traffic is listed apart, never judged: no
        // conversation may be with an IP broadcast or multicast address.
        for c in report["conversations"].as_array().into_iter().flatten() {
            let server = c["server"].as_str().unwrap_or("");
            if is_group_address(server) {
                failures.push(format!(
                    "{}: conversation with the group address {server}: {c}",
                    e.file
                ));
            }
        }
        let broadcast_groups = report["broadcasts"].as_array().map_or(0, |b| b.len());
        let jsonl = run(
            &["check", "--format", "jsonl", "-q", "--fail-on", "none"],
            &path,
        );
        let (pairs_tcp, pairs_udp) = socket_pairs(&jsonl.stdout);
        if let (Some(ttcp), Some(tudp)) = (e.tshark_tcp, e.tshark_udp) {
            compared += 1;
            let same = tcp == ttcp && udp == tudp;
            agree += usize::from(same);
            let note = if same {
                "agree".to_string()
            } else if pairs_tcp == ttcp && pairs_udp == tudp {
                pairs_agree += 1;
                "same socket pairs; flowlint splits some into several connections \
                 (new SYN after a close, 60 s UDP silence, a timestamp jump)"
                    .to_string()
            } else if broadcast_groups > 0 && udp < tudp && (tcp == ttcp || pairs_tcp == ttcp) {
                // tshark counts every broadcast/multicast socket pair (and
                // each unicast answer to one) as a UDP conversation.
                format!(
                    "differ: {broadcast_groups} broadcast/multicast groups listed apart \
                     (tshark counts them as UDP conversations)"
                )
            } else {
                match known_difference(&e.file) {
                    Some(why) => format!("differ: {why}"),
                    None => {
                        failures.push(format!(
                            "{}: flowlint tcp {tcp} udp {udp} (socket pairs {pairs_tcp}/{pairs_udp}), \
                             tshark tcp {ttcp} udp {tudp}",
                            e.file
                        ));
                        "DIFFER".to_string()
                    }
                }
            };
            table.insert(
                e.file.clone(),
                format!("tcp {tcp:>4} (tshark {ttcp:>4})  udp {udp:>4} (tshark {tudp:>4})  {note}"),
            );
        }
    }
    for (file, line) in &table {
        println!("{file:<52} {line}");
    }
    println!(
        "connection counts agree with tshark on {agree} of {compared} files; \
         on {pairs_agree} more the socket pairs agree and flowlint splits some into several connections"
    );
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}
