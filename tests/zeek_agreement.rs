//! flowlint's JSONL against the conn.log real Zeek wrote from the same
//! trace (`../shared/zeek`, pairs from Zeek's own test suite; the path is
//! given in FLOWLINT_ZEEK, as `.ci/run` does; skipped without it).
//!
//! Every Zeek TCP/UDP record must be present in flowlint's JSONL (matched by
//! Zeek's 5-tuple, and by order where a 5-tuple comes back), with the same
//! `conn_state`, `history`, `orig_pkts` and `resp_pkts` — unless the record
//! is listed in [`EXPLAINED`] with the cause of the difference. A difference
//! not listed fails the test, and so does a listed one that went away (the
//! list must stay true).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn zeek_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("FLOWLINT_ZEEK")?);
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

/// (proto, orig_h, orig_p, resp_h, resp_p)
type Key = (String, String, u16, String, u16);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Fields {
    conn_state: String,
    history: String,
    orig_pkts: u64,
    resp_pkts: u64,
}

/// Differences with a known cause: (pair, Zeek's 5-tuple as
/// "proto orig_h:orig_p > resp_h:resp_p", field, cause). A field of
/// "present" means flowlint has no such connection.
const EXPLAINED: &[(&str, &str, &str, &str)] = &[
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1576 > 75.126.130.163:80",
        "conn_state",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1576 > 75.126.130.163:80",
        "history",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1576 > 75.126.130.163:80",
        "pkts",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1577 > 75.126.203.78:80",
        "conn_state",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1577 > 75.126.203.78:80",
        "history",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1577 > 75.126.203.78:80",
        "pkts",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "core.tunnels.teredo",
        "udp 192.168.2.16:1920 > 192.168.2.1:53",
        "pkts",
        "Zeek's DNS analyzer ends a DNS exchange after 10 s of silence (dns_session_timeout) and logs the next queries as a new connection; flowlint's UDP exchange lasts until 60 s of silence (SPEC)",
    ),
    (
        "core.tunnels.teredo",
        "udp 192.168.2.16:1920 > 192.168.2.1:53",
        "present",
        "Zeek's DNS analyzer ends a DNS exchange after 10 s of silence (dns_session_timeout) and logs the next queries as a new connection; flowlint's UDP exchange lasts until 60 s of silence (SPEC)",
    ),
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1576 > 75.126.130.163:80",
        "present",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "core.tunnels.teredo",
        "tcp 192.168.2.16:1577 > 75.126.203.78:80",
        "present",
        "midstream HTTP connections closed by a FIN, then reset: Zeek ends each at its FIN or RST and logs the next packet as a new connection (three records per 5-tuple), flowlint keeps the packets of a 5-tuple together unless a new SYN opens it again",
    ),
    (
        "scripts.base.protocols.pop3.basic",
        "tcp 192.168.0.4:26242 > 212.227.15.188:110",
        "pkts",
        "a SYN retried after the server's RST: Zeek starts a new connection for each SYN (REJ each time), flowlint keeps the attempts of one connection (SPEC: retries are attempts)",
    ),
    (
        "scripts.base.protocols.pop3.basic",
        "tcp 192.168.0.4:26242 > 212.227.15.188:110",
        "present",
        "a SYN retried after the server's RST: Zeek starts a new connection for each SYN (REJ each time), flowlint keeps the attempts of one connection (SPEC: retries are attempts)",
    ),
    (
        "scripts.base.protocols.pop3.basic",
        "tcp 192.168.0.4:26245 > 212.227.15.171:110",
        "pkts",
        "a SYN retried after the server's RST: Zeek starts a new connection for each SYN (REJ each time), flowlint keeps the attempts of one connection (SPEC: retries are attempts)",
    ),
    (
        "scripts.base.protocols.pop3.basic",
        "tcp 192.168.0.4:26245 > 212.227.15.171:110",
        "present",
        "a SYN retried after the server's RST: Zeek starts a new connection for each SYN (REJ each time), flowlint keeps the attempts of one connection (SPEC: retries are attempts)",
    ),
    (
        "scripts.base.protocols.ssh.half-duplex-client",
        "tcp 192.168.1.79:51880 > 131.159.21.1:22",
        "present",
        "Zeek's attempt timer (tcp_attempt_delay, 5 s) ended the connection its responder never answered; Zeek logs the client's later packets as a new connection, flowlint keeps one (its Zeek view describes Zeek's first record)",
    ),
    (
        "scripts.base.protocols.ssh.half-duplex-client",
        "tcp 192.168.2.1:57189 > 192.168.2.158:22",
        "present",
        "Zeek's attempt timer (tcp_attempt_delay, 5 s) ended the connection its responder never answered; Zeek logs the client's later packets as a new connection, flowlint keeps one (its Zeek view describes Zeek's first record)",
    ),
    (
        "scripts.base.protocols.ssh.half-duplex-client",
        "tcp 192.168.2.1:56594 > 192.168.2.158:22",
        "present",
        "Zeek's attempt timer (tcp_attempt_delay, 5 s) ended the connection its responder never answered; Zeek logs the client's later packets as a new connection, flowlint keeps one (its Zeek view describes Zeek's first record)",
    ),
    (
        "scripts.base.protocols.ssh.half-duplex-client",
        "tcp 192.168.2.1:56875 > 192.168.2.158:22",
        "present",
        "Zeek's attempt timer (tcp_attempt_delay, 5 s) ended the connection its responder never answered; Zeek logs the client's later packets as a new connection, flowlint keeps one (its Zeek view describes Zeek's first record)",
    ),
    (
        "scripts.base.protocols.ssh.half-duplex-client",
        "tcp 192.168.1.32:41164 > 128.2.10.238:22",
        "present",
        "Zeek's attempt timer (tcp_attempt_delay, 5 s) ended the connection its responder never answered; Zeek logs the client's later packets as a new connection, flowlint keeps one (its Zeek view describes Zeek's first record)",
    ),
];

fn zeek_records(log: &Path) -> Vec<(Key, Fields)> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut columns: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#fields\t") {
            columns = rest.split('\t').map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') || columns.is_empty() {
            continue;
        }
        let values: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| {
            let i = columns.iter().position(|c| c == name).unwrap();
            values[i]
        };
        let proto = get("proto");
        if proto != "tcp" && proto != "udp" {
            continue;
        }
        out.push((
            (
                proto.to_string(),
                get("id.orig_h").to_string(),
                get("id.orig_p").parse().unwrap(),
                get("id.resp_h").to_string(),
                get("id.resp_p").parse().unwrap(),
            ),
            Fields {
                conn_state: get("conn_state").to_string(),
                history: get("history").replace('-', ""),
                orig_pkts: get("orig_pkts").parse().unwrap_or(0),
                resp_pkts: get("resp_pkts").parse().unwrap_or(0),
            },
        ));
    }
    out
}

fn flowlint_records(trace: &Path) -> Vec<(Key, Fields)> {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .args(["check", "-q", "-j", "1", "--format", "jsonl"])
        .arg(trace)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}: {}",
        trace.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            let s = |f: &str| r[f].as_str().unwrap_or("").to_string();
            let p = |f: &str| r[f].as_u64().unwrap_or(0) as u16;
            let key = if r.get("zeek_orig_h").is_some() {
                (
                    s("protocol"),
                    s("zeek_orig_h"),
                    p("zeek_orig_p"),
                    s("zeek_resp_h"),
                    p("zeek_resp_p"),
                )
            } else {
                (
                    s("protocol"),
                    s("client"),
                    p("client_port"),
                    s("server"),
                    p("server_port"),
                )
            };
            (
                key,
                Fields {
                    conn_state: s("conn_state"),
                    history: s("history"),
                    orig_pkts: r["orig_pkts"].as_u64().unwrap_or(0),
                    resp_pkts: r["resp_pkts"].as_u64().unwrap_or(0),
                },
            )
        })
        .collect()
}

/// What the JSON report says of a trace: its broadcast and multicast
/// groups (client, destination, port, protocol) and whether it crossed
/// tunnels.
fn json_report(trace: &Path) -> (Vec<(String, String, u16, String)>, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .args(["check", "-q", "-j", "1", "--format", "json"])
        .arg(trace)
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups = r["broadcasts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["client"].as_str().unwrap().to_string(),
                b["destination"].as_str().unwrap().to_string(),
                b["port"].as_u64().unwrap() as u16,
                b["protocol"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let tunnels = r["inputs"].as_array().unwrap().iter().any(|i| {
        i.get("tunnels")
            .is_some_and(|t| t.as_object().is_some_and(|o| !o.is_empty()))
    });
    (groups, tunnels)
}

fn show(k: &Key) -> String {
    format!("{} {}:{} > {}:{}", k.0, k.1, k.2, k.3, k.4)
}

#[test]
fn jsonl_agrees_with_the_conn_log_zeek_wrote() {
    let Some(dir) = zeek_dir() else {
        eprintln!("FLOWLINT_ZEEK not set: skipped");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let (mut records, mut present, mut same_state, mut same_history, mut same_pkts) =
        (0, 0, 0, 0, 0);
    let mut unexplained = Vec::new();
    #[derive(Default)]
    struct ByCause {
        broadcast: usize,
        tunnel: usize,
    }
    let mut by_cause = ByCause::default();
    let mut explained_seen = Vec::new();
    for row in manifest.lines().skip(1) {
        let name = row.split('\t').next().unwrap();
        let log = dir.join(format!("{name}.conn.log"));
        let trace = ["pcap", "pcapng"]
            .iter()
            .map(|e| dir.join(format!("{name}.{e}")))
            .find(|p| p.is_file())
            .unwrap();
        let mut ours: BTreeMap<Key, Vec<Fields>> = BTreeMap::new();
        for (k, f) in flowlint_records(&trace) {
            ours.entry(k).or_default().push(f);
        }
        let (groups, tunnels) = json_report(&trace);
        let mut used: BTreeMap<Key, usize> = BTreeMap::new();
        for (key, theirs) in zeek_records(&log) {
            records += 1;
            let n = used.entry(key.clone()).or_default();
            let mine = ours.get(&key).and_then(|v| v.get(*n)).cloned();
            *n += 1;
            let mut differ = |field: &str, detail: String| {
                let listed = EXPLAINED
                    .iter()
                    .find(|e| e.0 == name && e.1 == show(&key) && e.2 == field);
                match listed {
                    Some(e) => explained_seen.push(*e),
                    None => unexplained.push(format!("{name}: {}: {field}: {detail}", show(&key))),
                }
            };
            let Some(mine) = mine else {
                // Two causes checked, not listed: SPEC lists broadcast and
                // multicast datagrams apart from connections (the JSON
                // report's broadcasts[] must then hold the group), and
                // flowlint's connections are the ones inside a tunnel, where
                // Zeek also logs the tunnel's own outer UDP flow.
                let group = (key.1.clone(), key.3.clone(), key.4, key.0.clone());
                // A unicast answer to a group's query is counted with the
                // group (SPEC: replies are attributed to it).
                let reply = groups
                    .iter()
                    .any(|g| g.0 == key.3 && g.2 == key.2 && g.3 == key.0);
                if groups.contains(&group) || reply {
                    by_cause.broadcast += 1;
                } else if tunnels && key.0 == "udp" && !ours.contains_key(&key) {
                    by_cause.tunnel += 1;
                } else {
                    differ("present", format!("zeek {theirs:?}, flowlint none"));
                }
                continue;
            };
            present += 1;
            if mine.conn_state == theirs.conn_state {
                same_state += 1;
            } else {
                differ(
                    "conn_state",
                    format!("zeek {}, flowlint {}", theirs.conn_state, mine.conn_state),
                );
            }
            if mine.history == theirs.history {
                same_history += 1;
            } else {
                differ(
                    "history",
                    format!("zeek {}, flowlint {}", theirs.history, mine.history),
                );
            }
            if (mine.orig_pkts, mine.resp_pkts) == (theirs.orig_pkts, theirs.resp_pkts) {
                same_pkts += 1;
            } else {
                differ(
                    "pkts",
                    format!(
                        "zeek {}/{}, flowlint {}/{}",
                        theirs.orig_pkts, theirs.resp_pkts, mine.orig_pkts, mine.resp_pkts
                    ),
                );
            }
        }
    }
    eprintln!(
        "Zeek agreement: {records} TCP/UDP records, {present} present, {same_state} same conn_state, \
         {same_history} same history, {same_pkts} same orig_pkts/resp_pkts; absent by design: {} \
         broadcast/multicast (in broadcasts[]), {} tunnels' outer flows; {} listed differences",
        by_cause.broadcast,
        by_cause.tunnel,
        explained_seen.len()
    );
    let stale: Vec<_> = EXPLAINED
        .iter()
        .filter(|e| !explained_seen.contains(e))
        .collect();
    let explained_records: std::collections::BTreeSet<_> =
        explained_seen.iter().map(|e| (e.0, e.1)).collect();
    eprintln!(
        "{} Zeek records differ for a listed cause (by pair and 5-tuple)",
        explained_records.len()
    );
    assert!(
        stale.is_empty(),
        "listed differences that no longer occur: {stale:#?}"
    );
    assert!(
        unexplained.is_empty(),
        "{} differences with no listed cause:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}
