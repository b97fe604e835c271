//! The real NetFlow chain against the captures it was made from: each
//! fixture capture (and the demo) goes through Debian's nfdump package,
//! `nfpcapd -r CAPTURE -w DIR` then `TZ=UTC nfdump -R DIR -o json` (nfdump
//! prints local times; nfpcapd rotates files by time, so the whole
//! directory is read), and `flowlint check` on that JSON must give the
//! conversations, verdicts and failure counts of `flowlint check` on the
//! capture, with the same arguments — unless the difference is listed in
//! [`EXPLAINED`] with its cause. A difference not listed fails, so does a
//! listed one that went away, and so does an agreed count below
//! [`AGREED_AT_LEAST`].
//!
//! Runs with FLOWLINT_NFDUMP_TESTS=1 (as `.ci/run` sets it); skipped
//! otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Conversations agreed on over all fixtures, as measured.
const AGREED_AT_LEAST: usize = 110;

/// (fixture, conversation as "proto client > server:port", cause).
const EXPLAINED: &[(&str, &str, &str)] = &[(
    "cov-frag",
    "udp 2001:db8:1::10 > 2001:db8:1::60:445",
    "a fragmented IPv6 datagram: nfpcapd records its fragments as protocol 44 (Frag6) without ports, \
     so no flow names the UDP port",
)];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// (name, arguments, captures) of the fixture and demo expectation files.
fn runs() -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut runs = Vec::new();
    for dir in ["fixtures", "fixtures/demo"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.to_string_lossy().ends_with(".expect.json"))
            .collect();
        paths.sort();
        for path in paths {
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
            let list = |k: &str| -> Vec<String> {
                doc[k]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let name = path.file_name().expect("name").to_string_lossy();
            let name = name.trim_end_matches(".expect.json");
            let name = if dir == "fixtures" {
                name.to_string()
            } else {
                format!("demo-{name}")
            };
            runs.push((name, list("args"), list("captures")));
        }
    }
    runs
}

/// Conversation → (verdict, failed connections).
type Conversations = BTreeMap<String, (String, u64)>;

fn check(args: &[String], inputs: &[PathBuf]) -> Conversations {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        .current_dir(root())
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
        .args(args)
        .args(inputs)
        .output()
        .expect("flowlint runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{inputs:?}: {}",
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

/// Captures nfpcapd cannot read (libpcap takes one link type per file),
/// with the cause: compared anyway, their conversations are all missing.
const UNREADABLE: &[(&str, &str)] = &[
    ("broadcasts", SEVERAL_LINKTYPES),
    ("cov-jp1", SEVERAL_LINKTYPES),
    (
        "cov-sw",
        "802.1ad (QinQ, 0x88a8) frames: nfpcapd does not decode them",
    ),
    (
        "ports",
        "link type 228 (raw IPv4): nfpcapd does not support it",
    ),
    (
        "reversed-noinv",
        "link type 108 (OpenBSD loopback): nfpcapd decodes none of its packets",
    ),
    ("spec11-noinv", SEVERAL_LINKTYPES),
    ("spec11", SEVERAL_LINKTYPES),
    ("tunnels", SEVERAL_LINKTYPES),
];

const SEVERAL_LINKTYPES: &str =
    "pcapng with interfaces of several link types: libpcap, and so nfpcapd, reads one per file";

/// nfpcapd's "Total: Processed: 42, skipped: 0, short caplen: 0, unknown: 42".
fn decoded_none(line: &str) -> bool {
    let count = |name: &str| {
        line.split(name)
            .nth(1)
            .and_then(|r| r.trim().split(',').next())
            .and_then(|n| n.trim().parse::<u64>().ok())
    };
    line.starts_with("Total:")
        && matches!((count("Processed:"), count("unknown:")), (Some(p), Some(u)) if p > 0 && u == p)
}

/// The capture through nfpcapd and nfdump: the path of the JSON written,
/// and nfpcapd's complaint if it could not read the capture.
fn through_nfdump(capture: &Path, work: &Path, n: usize) -> (PathBuf, Option<String>) {
    let dir = work.join(format!("flows{n}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let status = Command::new("nfpcapd")
        .arg("-r")
        .arg(capture)
        .arg("-w")
        .arg(&dir)
        .output()
        .expect("nfpcapd runs (apt-get install nfdump)");
    let said = String::from_utf8_lossy(&status.stdout).into_owned()
        + &String::from_utf8_lossy(&status.stderr);
    let complaint = said
        .lines()
        .find(|l| l.contains("read error") || l.contains("Unsupported") || decoded_none(l))
        .map(str::to_string);
    assert!(
        status.status.success() || complaint.is_some(),
        "nfpcapd: {status:?}"
    );
    let out = Command::new("nfdump")
        .env("TZ", "UTC")
        .arg("-R")
        .arg(&dir)
        .args(["-o", "json"])
        .output()
        .expect("nfdump runs");
    assert!(out.status.success(), "nfdump: {out:?}");
    let json = work.join(format!("flows{n}.json"));
    std::fs::write(&json, &out.stdout).expect("write");
    (json, complaint)
}

#[test]
fn nfdump_records_give_the_verdicts_of_their_capture() {
    if std::env::var_os("FLOWLINT_NFDUMP_TESTS").is_none() {
        eprintln!("FLOWLINT_NFDUMP_TESTS not set: skipped");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut unexplained = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let mut causes: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut total, mut agreed, mut n) = (0, 0, 0);
    println!(
        "{:<28} {:>8} {:>8} {:>8}",
        "fixture", "capture", "nfdump", "agreed"
    );
    for (name, args, captures) in runs() {
        let captures: Vec<PathBuf> = captures.iter().map(|c| root().join(c)).collect();
        let mut flows = Vec::new();
        for c in &captures {
            n += 1;
            let (json, complaint) = through_nfdump(c, tmp.path(), n);
            if let Some(complaint) = complaint {
                println!("  {name}: nfpcapd: {complaint}");
                unreadable.push(name.clone());
            }
            flows.push(json);
        }
        if unreadable.last() == Some(&name) {
            continue;
        }
        let from_capture = check(&args, &captures);
        let from_flows = check(&args, &flows);
        let keys: BTreeSet<&String> = from_capture.keys().chain(from_flows.keys()).collect();
        let mut here = 0;
        for key in keys {
            total += 1;
            let (a, b) = (from_capture.get(key), from_flows.get(key));
            if a == b {
                here += 1;
                continue;
            }
            let what = format!("{key}: capture {a:?}, nfdump {b:?}");
            match EXPLAINED.iter().find(|(f, k, _)| *f == name && k == key) {
                Some((_, _, cause)) => {
                    seen.insert((name.clone(), key.clone()));
                    *causes.entry(cause).or_default() += 1;
                    println!("  explained: {what}\n    cause: {cause}");
                }
                None => unexplained.push(format!("{name}: {what}")),
            }
        }
        agreed += here;
        println!(
            "{:<28} {:>8} {:>8} {:>8}",
            name,
            from_capture.len(),
            from_flows.len(),
            here
        );
    }
    println!("{total} conversations, {agreed} agree");
    for (cause, k) in &causes {
        println!("  {k} differ: {cause}");
    }
    let known: Vec<String> = UNREADABLE.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(unreadable, known, "captures nfpcapd cannot read");
    for (f, cause) in UNREADABLE {
        println!("  {f}: not compared: {cause}");
    }
    let stale: Vec<_> = EXPLAINED
        .iter()
        .filter(|(f, k, _)| !seen.contains(&(f.to_string(), k.to_string())))
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
