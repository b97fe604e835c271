//! `flowlint check TRACE` against `flowlint check CONN.LOG`, where the
//! conn.log is the one real Zeek wrote from that trace (`../shared/zeek`,
//! pairs from Zeek's own test suite; the path is given in FLOWLINT_ZEEK, as
//! `.ci/run` does; skipped without it).
//!
//! Zeek's test canonifier masked the `ts` column (`XXXXXXXXXX.XXXXXX`):
//! the test restores it from the trace (the first packet of each 5-tuple;
//! for an ICMP unreachable, the first one its sender sent to that host)
//! before flowlint reads the log. Both runs must give the same
//! conversations, with the same verdicts and the same number of failed
//! connections, unless the difference is listed in [`EXPLAINED`] with its
//! cause. A difference not listed fails the test, and so does a listed one
//! that went away; the agreed count must not fall below [`AGREED_AT_LEAST`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use flowlint::capture::CaptureReader;
use flowlint::decode::{self, PacketKind, Tunnels};
use serde_json::Value;

fn zeek_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("FLOWLINT_ZEEK")?);
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

/// Conversations agreed on in all pairs, as measured; a regression fails.
const AGREED_AT_LEAST: usize = 69;

/// Differences with a known cause: (pair, conversation as
/// "proto client > server:port", cause).
const EXPLAINED: &[(&str, &str, &str)] = &[
    (
        "core.cisco-fabric-path",
        "udp 1.1.1.2 > 2.2.2.2:48879",
        LINK_LAYER_GROUP,
    ),
    (
        "core.cisco-fabric-path",
        "udp 1.1.1.6 > 2.2.2.2:48879",
        LINK_LAYER_GROUP,
    ),
    (
        "core.cisco-fabric-path",
        "udp 1234:: > 5678:::48879",
        LINK_LAYER_GROUP,
    ),
    (
        "core.cisco-fabric-path",
        "udp 1234::8 > 5678:::48879",
        LINK_LAYER_GROUP,
    ),
    (
        "core.cisco-fabric-path",
        "udp 1234::e > 5678:::48879",
        LINK_LAYER_GROUP,
    ),
    (
        "core.q-in-q",
        "udp 172.19.51.37 > 172.19.51.63:47808",
        LINK_LAYER_GROUP,
    ),
];

const LINK_LAYER_GROUP: &str = "the trace sends it to a link-layer broadcast or multicast destination (the Ethernet group bit), which the packet path lists apart; conn.log keeps no link-layer address";

/// (transport, lower socket, higher socket).
type FlowKey = (String, (IpAddr, u16), (IpAddr, u16));

/// First packet time per unordered 5-tuple, and per (ICMP sender, receiver)
/// of unreachables.
#[derive(Default)]
struct TraceTimes {
    first: Option<i64>,
    flows: HashMap<FlowKey, i64>,
    unreachables: HashMap<(IpAddr, IpAddr), i64>,
}

fn trace_times(trace: &Path) -> TraceTimes {
    let mut times = TraceTimes::default();
    let mut reader = CaptureReader::open(trace).expect("trace opens");
    while let Some(p) = reader.next_packet() {
        times.first = Some(times.first.map_or(p.ts_ns, |f: i64| f.min(p.ts_ns)));
        let mut tunnels = Tunnels::NONE;
        let Ok(m) = decode::decode_with(p.linktype, p.data, p.ts_ns, p.orig_len, &mut tunnels)
        else {
            continue;
        };
        match m.kind {
            PacketKind::Unreachable { reporter, .. } => {
                times
                    .unreachables
                    .entry((reporter, m.src))
                    .or_insert(m.ts_ns);
            }
            _ => {
                let a = (m.src, m.src_port);
                let b = (m.dst, m.dst_port);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                times
                    .flows
                    .entry((m.transport.as_str().to_string(), lo, hi))
                    .or_insert(m.ts_ns);
            }
        }
    }
    times
}

/// The log with its masked `ts` restored from the trace.
fn restore(log: &str, times: &TraceTimes) -> String {
    let mut columns: Vec<String> = Vec::new();
    let mut out = String::new();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("#fields\t") {
            columns = rest.split('\t').map(str::to_string).collect();
        }
        if line.starts_with('#') || !line.starts_with("XXXXXXXXXX.XXXXXX") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let col = |name: &str| {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| f.get(i).copied())
                .unwrap_or("-")
        };
        let addr = |name: &str| col(name).parse::<IpAddr>().ok();
        let port = |name: &str| col(name).parse::<u16>().ok();
        let ts = match (
            col("proto"),
            addr("id.orig_h"),
            port("id.orig_p"),
            addr("id.resp_h"),
            port("id.resp_p"),
        ) {
            ("icmp", Some(o), Some(_), Some(r), _) => times.unreachables.get(&(o, r)).copied(),
            (proto, Some(o), Some(op), Some(r), Some(rp)) => {
                let (a, b) = ((o, op), (r, rp));
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                times.flows.get(&(proto.to_string(), lo, hi)).copied()
            }
            _ => None,
        }
        .or(times.first)
        .unwrap_or(0);
        out.push_str(&format!(
            "{}.{:06}",
            ts.div_euclid(1_000_000_000),
            ts.rem_euclid(1_000_000_000) / 1000
        ));
        out.push_str(&line["XXXXXXXXXX.XXXXXX".len()..]);
        out.push('\n');
    }
    out
}

/// Conversation "proto client > server:port" → (verdict, failed connections).
type Conversations = BTreeMap<String, (String, u64)>;

fn conversations(input: &Path) -> Conversations {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        .args([
            "check",
            "-q",
            "-j",
            "1",
            "--format",
            "json",
            "--fail-on",
            "none",
        ])
        .arg(input)
        .output()
        .expect("flowlint runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut convs = Conversations::new();
    for c in report["conversations"].as_array().expect("conversations") {
        let s = |f: &str| c[f].as_str().unwrap_or("").to_string();
        let failed: u64 = ["no_reply", "refused", "unreachable"]
            .iter()
            .map(|st| c["states"][st].as_u64().unwrap_or(0))
            .sum();
        convs.insert(
            format!(
                "{} {} > {}:{}",
                s("protocol"),
                s("client"),
                s("server"),
                c["server_port"]
            ),
            (s("verdict"), failed),
        );
    }
    convs
}

#[test]
fn conn_log_gives_the_verdicts_of_its_trace() {
    let Some(dir) = zeek_dir() else {
        eprintln!("FLOWLINT_ZEEK not set: skipped");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut seen_explained: BTreeSet<(String, String)> = BTreeSet::new();
    let mut unexplained: Vec<String> = Vec::new();
    let mut causes: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut pairs, mut total, mut agreed) = (0, 0, 0);
    println!("{:<60} {:>6} {:>6} {:>6}", "pair", "trace", "log", "agreed");
    for row in manifest.lines().skip(1) {
        let name = row.split('\t').next().expect("name");
        let trace = ["pcap", "pcapng"]
            .iter()
            .map(|e| dir.join(format!("{name}.{e}")))
            .find(|p| p.is_file())
            .expect("trace");
        let log = std::fs::read_to_string(dir.join(format!("{name}.conn.log"))).expect("log");
        let restored = tmp.path().join(format!("{name}.conn.log"));
        std::fs::write(&restored, restore(&log, &trace_times(&trace))).expect("write");
        let from_trace = conversations(&trace);
        let from_log = conversations(&restored);
        pairs += 1;
        let keys: BTreeSet<&String> = from_trace.keys().chain(from_log.keys()).collect();
        let mut here = 0;
        for key in &keys {
            total += 1;
            let (a, b) = (from_trace.get(*key), from_log.get(*key));
            if a == b {
                here += 1;
                continue;
            }
            let what = format!("{key}: trace {a:?}, conn.log {b:?}");
            match EXPLAINED.iter().find(|(p, k, _)| *p == name && k == key) {
                Some((_, _, cause)) => {
                    seen_explained.insert((name.to_string(), key.to_string()));
                    *causes.entry(cause).or_default() += 1;
                    println!("  explained: {what}\n    cause: {cause}");
                }
                None => unexplained.push(format!("{name}: {what}")),
            }
        }
        agreed += here;
        println!(
            "{:<60} {:>6} {:>6} {:>6}",
            name,
            from_trace.len(),
            from_log.len(),
            here
        );
    }
    println!("{pairs} pairs, {total} conversations, {agreed} agree");
    for (cause, n) in &causes {
        println!("  {n} differ: {cause}");
    }
    let stale: Vec<_> = EXPLAINED
        .iter()
        .filter(|(p, k, _)| !seen_explained.contains(&(p.to_string(), k.to_string())))
        .collect();
    assert!(
        unexplained.is_empty(),
        "differences without a cause:\n{}",
        unexplained.join("\n")
    );
    assert!(
        stale.is_empty(),
        "explained differences that are gone: {stale:?}"
    );
    assert!(
        agreed >= AGREED_AT_LEAST,
        "{agreed} conversations agree, fewer than the {AGREED_AT_LEAST} measured"
    );
}
