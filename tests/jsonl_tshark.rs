//! JSONL's Zeek-named counters and its Community ID, checked against tshark
//! on every fixture capture: tshark computes the Community ID itself
//! (`--enable-protocol communityid`) and its per-packet fields give each
//! direction's packets and payload bytes (the fixtures have no
//! retransmitted data, so the payload sums equal Zeek's sequence-space
//! sizes). Skipped when tshark is missing (CI installs it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The single-file captures of `fixtures/` and `fixtures/demo/`.
fn captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["fixtures", "fixtures/demo"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".pcap") || name.ends_with(".pcapng") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One direction of a 5-tuple: (protocol, source, source port, destination,
/// destination port).
type Direction = (String, String, u16, String, u16);

#[derive(Default, Debug, PartialEq, Eq)]
struct Counted {
    packets: u64,
    payload: u64,
}

struct Tshark {
    per_direction: BTreeMap<Direction, Counted>,
    community_id: BTreeMap<Direction, String>,
}

/// The last value of a field tshark printed (a tunnel's inner header is last).
fn last(field: &str) -> &str {
    field.rsplit(',').next().unwrap_or("")
}

fn tshark(capture: &Path) -> Tshark {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(capture)
        .args([
            "--enable-protocol",
            "communityid",
            "-Y",
            "(tcp or udp) and not icmp and not icmpv6",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            // The address columns hold the innermost header's addresses
            // (through tunnels); fields 1 and 3 are unused.
            "-e",
            "_ws.col.Source",
            "-e",
            "frame.number",
            "-e",
            "_ws.col.Destination",
            "-e",
            "frame.number",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "udp.srcport",
            "-e",
            "udp.dstport",
            "-e",
            "tcp.len",
            "-e",
            "udp.length",
            "-e",
            "communityid",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed on {}",
        capture.display()
    );
    let mut t = Tshark {
        per_direction: BTreeMap::new(),
        community_id: BTreeMap::new(),
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (src, dst) = (f[0].to_string(), f[2].to_string());
        let tcp = !last(f[4]).is_empty();
        let (sp, dp, payload, proto) = if tcp {
            (f[4], f[5], last(f[8]).parse::<u64>().unwrap_or(0), "tcp")
        } else {
            let udp_len = last(f[9]).parse::<u64>().unwrap_or(8);
            (f[6], f[7], udp_len.saturating_sub(8), "udp")
        };
        let (Ok(sp), Ok(dp)) = (last(sp).parse::<u16>(), last(dp).parse::<u16>()) else {
            continue;
        };
        let key = (proto.to_string(), src, sp, dst, dp);
        let c = t.per_direction.entry(key.clone()).or_default();
        c.packets += 1;
        c.payload += payload;
        if !f[10].is_empty() {
            t.community_id.insert(key, last(f[10]).to_string());
        }
    }
    t
}

fn jsonl(capture: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(["check", "--format", "jsonl"])
        .arg(capture)
        .output()
        .expect("run flowlint");
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn direction(rec: &Value, from_client: bool) -> Direction {
    let (a, ap, b, bp) = if from_client {
        ("client", "client_port", "server", "server_port")
    } else {
        ("server", "server_port", "client", "client_port")
    };
    (
        rec["protocol"].as_str().unwrap().to_string(),
        rec[a].as_str().unwrap().to_string(),
        rec[ap].as_u64().unwrap() as u16,
        rec[b].as_str().unwrap().to_string(),
        rec[bp].as_u64().unwrap() as u16,
    )
}

#[test]
fn per_direction_counters_and_community_id_agree_with_tshark() {
    if !tshark_available() {
        eprintln!("tshark not found: skipped (CI installs it)");
        return;
    }
    let mut checked = 0;
    for capture in captures() {
        let t = tshark(&capture);
        // flowlint may split one 5-tuple into several connections (port
        // reuse, idle gaps): sum them per direction before comparing.
        let mut ours: BTreeMap<Direction, Counted> = BTreeMap::new();
        let mut unanswered: std::collections::BTreeSet<Direction> = Default::default();
        for rec in jsonl(&capture) {
            let orig = direction(&rec, true);
            let id = rec["community_id"].as_str().unwrap();
            if let Some(theirs) = t
                .community_id
                .get(&orig)
                .or_else(|| t.community_id.get(&direction(&rec, false)))
            {
                assert_eq!(id, theirs, "{}: {rec}", capture.display());
                checked += 1;
            }
            // orig_* follow Zeek's originator: the server when Zeek flipped
            // the connection (zeek_orig_h is then set).
            let flipped = rec.get("zeek_orig_h").is_some();
            if rec["resp_pkts"].as_u64() == Some(0) && rec["protocol"] == "tcp" {
                unanswered.insert(direction(&rec, !flipped));
            }
            for (from_orig, pkts, bytes) in [
                (true, "orig_pkts", "orig_bytes"),
                (false, "resp_pkts", "resp_bytes"),
            ] {
                let c = ours
                    .entry(direction(&rec, from_orig != flipped))
                    .or_default();
                c.packets += rec[pkts].as_u64().unwrap();
                c.payload += rec[bytes].as_u64().unwrap();
            }
        }
        for (dir, counted) in ours {
            if counted.packets == 0 {
                continue;
            }
            let theirs = t.per_direction.get(&dir);
            // The tunnel fixture's look-alike datagrams on tunnel ports
            // carry no valid inner packet: flowlint keeps them as the UDP
            // exchanges they are, tshark dissects them as tunnels.
            if theirs.is_none()
                && dir.0 == "udp"
                && [dir.2, dir.4].iter().any(|p| [4789, 2152].contains(p))
            {
                continue;
            }
            // An attempt its server never answered: Zeek's fields describe
            // Zeek's first record, which its 5 s attempt timer ends, so
            // they count the packets up to then (a prefix of tshark's).
            if let (Some(t), true) = (theirs, unanswered.contains(&dir)) {
                assert!(
                    counted.packets <= t.packets,
                    "{}: {dir:?}",
                    capture.display()
                );
                continue;
            }
            assert_eq!(Some(&counted), theirs, "{}: {dir:?}", capture.display());
        }
    }
    assert!(
        checked > 50,
        "only {checked} connections had tshark's Community ID"
    );
}
