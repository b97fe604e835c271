//! Verdicts on real captures (SPEC 1.1): the public corpus
//! (`FLOWLINT_CORPUS`, `../shared/corpus`) and the traces of Zeek's test
//! suite (`FLOWLINT_ZEEK`, `../shared/zeek`), both full of Windows chatter,
//! SSH and SMB. Without inventories, as a new user runs them:
//! - no finding is traffic to a broadcast or multicast destination;
//! - no role is inferred from a shared port (SSH, SMB, NetBIOS, SNMP, RPC):
//!   every inferred host served a port of its own that is not shared;
//! - a finding on a shared port has a host that shows the product.
//!
//! Without the variables the tests pass without doing anything.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const FINDINGS: [&str; 3] = ["blocked", "wrong_direction", "unexpected"];
const SERVED: [&str; 3] = ["established", "reset", "answered"];

fn flowlint(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .args(args)
        .output()
        .expect("run flowlint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// (protocol, first port, last port) of every shared rule of the built-in catalogs.
fn shared_ports() -> Vec<(String, u16, u16)> {
    let (code, text) = flowlint(&["catalog", "--format", "json"]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for catalog in doc["catalogs"].as_array().unwrap() {
        for rule in catalog["rules"].as_array().unwrap() {
            if rule["shared"] != Value::Bool(true) {
                continue;
            }
            let proto = rule["protocol"].as_str().unwrap().to_string();
            for part in rule["ports"].as_str().unwrap().split(',') {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                out.push((proto.clone(), a.parse().unwrap(), b.parse().unwrap()));
            }
        }
    }
    assert!(
        out.iter().any(|(p, a, _)| p == "tcp" && *a == 445),
        "SMB is shared: {out:?}"
    );
    out
}

fn is_shared(shared: &[(String, u16, u16)], proto: &str, port: u16) -> bool {
    shared
        .iter()
        .any(|(p, a, b)| p == proto && *a <= port && port <= *b)
}

fn is_group(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_multicast(),
    }
}

/// The capture files of a directory (MANIFEST, logs and texts left out).
fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            !name.starts_with('.')
                && !name.ends_with(".tsv")
                && !name.ends_with(".log")
                && !name.ends_with(".md")
                && name != "COPYING"
                && p.is_file()
        })
        .collect();
    out.sort();
    out
}

fn check_dir(var: &str) {
    let Some(dir) = std::env::var_os(var) else {
        eprintln!("{var} not set: skipped");
        return;
    };
    let shared = shared_ports();
    let mut problems = Vec::new();
    let mut judged = 0;
    for path in captures(Path::new(&dir)) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (code, text) = flowlint(&["check", "-q", "--format", "json", path.to_str().unwrap()]);
        if code == 2 {
            continue; // unreadable: the corpus test says what is expected there
        }
        let Ok(doc) = serde_json::from_str::<Value>(&text) else {
            problems.push(format!("{name}: no JSON report"));
            continue;
        };
        judged += 1;
        let listed_apart: BTreeSet<(String, String)> = doc["broadcasts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                (
                    b["client"].as_str().unwrap_or("").to_string(),
                    b["destination"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let hosts: Vec<&Value> = doc["hosts"].as_array().unwrap().iter().collect();
        let inferred: BTreeSet<&str> = hosts
            .iter()
            .filter(|h| {
                h["inferred"] == Value::Bool(true) && !h["roles"].as_array().unwrap().is_empty()
            })
            .map(|h| h["address"].as_str().unwrap())
            .collect();
        let convs = doc["conversations"].as_array().unwrap();
        for c in convs {
            let verdict = c["verdict"].as_str().unwrap();
            let client = c["client"].as_str().unwrap();
            let server = c["server"].as_str().unwrap();
            let port = c["server_port"].as_u64().unwrap() as u16;
            let proto = c["protocol"].as_str().unwrap();
            if !FINDINGS.contains(&verdict) {
                continue;
            }
            let server_ip: IpAddr = server.parse().unwrap();
            if is_group(server_ip)
                || listed_apart.contains(&(client.to_string(), server.to_string()))
            {
                problems.push(format!(
                    "{name}: {verdict} {client} → {server} {port}/{proto} is broadcast or multicast traffic"
                ));
            }
            if is_shared(&shared, proto, port)
                && !inferred.contains(client)
                && !inferred.contains(server)
            {
                problems.push(format!(
                    "{name}: {verdict} {client} → {server} {port}/{proto} on a shared port, and neither host shows the product"
                ));
            }
        }
        // Every inferred role rests on a port that is not shared.
        for host in &inferred {
            let proven = convs.iter().any(|c| {
                c["server"].as_str() == Some(host)
                    && c["client"].as_str() != Some(host)
                    && !is_shared(
                        &shared,
                        c["protocol"].as_str().unwrap(),
                        c["server_port"].as_u64().unwrap() as u16,
                    )
                    && SERVED.iter().any(|s| c["states"].get(s).is_some())
            });
            if !proven {
                problems.push(format!(
                    "{name}: host {host} has inferred roles, but served no port that is not shared"
                ));
            }
        }
    }
    assert!(judged > 0, "{var}: no capture analysed");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn corpus_findings_are_never_broadcasts_nor_unshown_shared_ports() {
    check_dir("FLOWLINT_CORPUS");
}

#[test]
fn zeek_trace_findings_are_never_broadcasts_nor_unshown_shared_ports() {
    check_dir("FLOWLINT_ZEEK");
}
