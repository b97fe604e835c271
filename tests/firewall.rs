//! Firewall rules through the binary: the fixes of blocked conversations
//! (JSON `fix`, JSONL, text) and `flowlint plan --format
//! powershell|netsh|nft`. PowerShell and netsh lines are checked against
//! exact text (no PowerShell here); nftables scripts are checked by nft
//! itself (`nft -c -f`: check only, nothing changes) when nft is there and
//! the test runs as root, which `FLOWLINT_NFT_TESTS=1` (CI) makes required.

use std::fs;
use std::path::Path;
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
        .env("TZ", "UTC")
        .output()
        .expect("run flowlint");
    assert!(
        out.status.code() != Some(2),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

const INV: &str = "fixtures/demo/lab.toml";
const PCAP: &str = "fixtures/demo/lab.pcapng";

#[test]
fn a_blocked_conversation_names_the_rule_that_would_open_it() {
    let (_, text) = flowlint(&["check", "-q", "--format", "json", "--inventory", INV, PCAP]);
    let report: Value = serde_json::from_str(&text).unwrap();
    let convs = report["conversations"].as_array().unwrap();
    let find = |server: &str, port: u64| {
        convs
            .iter()
            .find(|c| c["server"] == server && c["server_port"] == port)
            .unwrap()
    };
    // The manager (Windows) stayed silent: an inbound rule for the agents' block.
    assert_eq!(
        find("192.0.2.10", 31000)["fix"],
        serde_json::json!({
            "kind": "host_firewall",
            "on": "192.0.2.10",
            "on_name": "itdm-mgr",
            "os": "windows",
            "protocol": "tcp",
            "ports": "31000",
            "remote": ["192.0.2.128/25"],
            "text": "allow 31000/tcp from 192.0.2.128/25 in the Windows firewall of itdm-mgr 192.0.2.10",
            "powershell": "New-NetFirewallRule -DisplayName 'flowlint jp1-itdm/agent-to-manager 31000/tcp' -Direction Inbound \
                           -Action Allow -Protocol TCP -LocalPort 31000 -RemoteAddress 192.0.2.128/25 \
                           -Description 'agents and site servers reporting to the manager'",
            "netsh": "netsh advfirewall firewall add rule name=\"flowlint jp1-itdm/agent-to-manager 31000/tcp\" dir=in \
                      action=allow protocol=TCP localport=31000 remoteip=192.0.2.128/25"
        })
    );
    // A router answered: open it there, with the 5-tuple.
    assert_eq!(
        find("198.51.100.20", 31000)["fix"],
        serde_json::json!({
            "kind": "network_device",
            "on": "203.0.113.1",
            "evidence": "icmp_unreachable",
            "protocol": "tcp",
            "client": "192.0.2.10",
            "client_port": "any",
            "server": "198.51.100.20",
            "server_port": 31000,
            "text": "open tcp from 192.0.2.10 (any port) to 198.51.100.20 port 31000 on the router or firewall \
                     203.0.113.1 (it answered with ICMP unreachable; rule jp1-itdm/to-site-server)"
        })
    );
    // A reset with another TTL: the firewall between them.
    let forged = find("192.0.2.131", 16992);
    assert_eq!(forged["fix"]["kind"], "network_device");
    assert_eq!(forged["fix"]["evidence"], "forged_reset");
    assert_eq!(forged["fix"]["on"], Value::Null);
    // The server refused and has no os: Windows assumed, said so.
    let refused = find("192.0.2.132", 16992);
    assert_eq!(
        refused["fix"]["text"],
        "start the service on 16992/tcp of 192.0.2.132, or allow it from 192.0.2.10 in its host firewall \
         (no os in the inventory: Windows assumed)"
    );
    // Fixes only for blocked conversations, and for each of them.
    for c in convs {
        assert_eq!(c.get("fix").is_some(), c["verdict"] == "blocked", "{c}");
    }
}

#[test]
fn jsonl_and_text_carry_the_fix_too() {
    let (_, jsonl) = flowlint(&["check", "-q", "--format", "jsonl", "--inventory", INV, PCAP]);
    let with_fix: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("fix").is_some())
        .collect();
    assert!(with_fix.iter().all(|l| l["verdict"] == "blocked"));
    // The failed connections of the six blocked conversations (one of the
    // manager's got through, and carries none).
    assert_eq!(with_fix.len(), 6);
    let (_, text) = flowlint(&["check", "-q", "--inventory", INV, PCAP]);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("      fix: "))
            .count(),
        6
    );
    assert!(text.contains(
        "      fix: allow 31000/tcp from 192.0.2.128/25 in the Windows firewall of itdm-mgr 192.0.2.10: \
         New-NetFirewallRule -DisplayName 'flowlint jp1-itdm/agent-to-manager 31000/tcp' -Direction Inbound \
         -Action Allow -Protocol TCP -LocalPort 31000 -RemoteAddress 192.0.2.128/25\n"
    ));
}

#[test]
fn plan_powershell_is_one_commented_script_per_windows_host() {
    let (code, ps) = flowlint(&["plan", "--inventory", INV, "--format", "powershell"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = ps.lines().collect();
    assert_eq!(
        lines[..7],
        [
            "# flowlint plan: the inbound openings each server host needs, as PowerShell (Windows Defender Firewall).",
            "# One section per server host: review it, then run it on that host.",
            "# Left out (unix, see --format nft): sw-unix (192.0.2.21), mail (192.0.2.25), remote (198.51.100.30)",
            "",
            "# ===== itdm-mgr (192.0.2.10), os windows =====",
            "# jp1-itdm/agent-to-manager: agents and site servers reporting to the manager",
            "New-NetFirewallRule -DisplayName 'flowlint jp1-itdm/agent-to-manager 31000/tcp' -Direction Inbound \
             -Action Allow -Protocol TCP -LocalPort 31000 -RemoteAddress 192.0.2.128/25,198.51.100.20 \
             -Description 'agents and site servers reporting to the manager'",
        ]
    );
    // De-duplicated: one rule per host, port and protocol, every client in it.
    assert!(ps.contains(
        "# systemwalker-om/jmnet-job-kill: forced termination of a network job (requesting to executing server)\n"
    ));
    let mut seen = std::collections::HashSet::new();
    let mut host = "";
    for l in &lines {
        if l.starts_with("# =====") {
            host = l;
        } else if let Some(rest) = l.strip_prefix("New-NetFirewallRule -DisplayName '") {
            let port = rest.split('\'').next().unwrap().rsplit(' ').next().unwrap();
            assert!(seen.insert((host, port)), "{host} {port} twice");
        }
    }
    // Unix hosts are not in it.
    assert!(!ps.contains("===== sw-unix"));
    let (_, netsh) = flowlint(&["plan", "--inventory", INV, "--format", "netsh"]);
    assert!(netsh.starts_with("@echo off\nrem flowlint plan:"));
    assert!(netsh.contains(
        "\nrem ===== itdm-mgr (192.0.2.10), os windows =====\n\
         rem jp1-itdm/agent-to-manager: agents and site servers reporting to the manager\n\
         netsh advfirewall firewall add rule name=\"flowlint jp1-itdm/agent-to-manager 31000/tcp\" dir=in \
         action=allow protocol=TCP localport=31000 remoteip=192.0.2.128/25,198.51.100.20\n"
    ));
    assert_eq!(
        netsh.lines().filter(|l| l.starts_with("netsh ")).count(),
        ps.lines()
            .filter(|l| l.starts_with("New-NetFirewallRule "))
            .count()
    );
}

/// Checks an nftables script with nft itself; `false` when that cannot
/// be done here (no nft, not root).
fn nft_check(script: &str) -> bool {
    let required = std::env::var_os("FLOWLINT_NFT_TESTS").is_some();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let nft = Command::new("nft").arg("--version").output();
    if !root || !nft.is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "FLOWLINT_NFT_TESTS is set, but nft or root is missing"
        );
        eprintln!("nft check skipped: needs nft and root");
        return false;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.nft");
    fs::write(&path, script).unwrap();
    let out = Command::new("nft")
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nft -c -f rejected:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[test]
fn plan_nft_is_an_inet_filter_table_per_unix_host_that_nft_accepts() {
    let (_, nft) = flowlint(&["plan", "--inventory", INV, "--format", "nft"]);
    assert!(nft.contains(
        "\n# ===== sw-unix (192.0.2.21), os unix =====\n\
         table inet filter {\n\
         \tchain input {\n\
         \t\ttype filter hook input priority filter;\n\
         \t\t# systemwalker-om/mpaclmgr: checking access rights\n\
         \t\tip saddr { 192.0.2.70, 192.0.2.71 } tcp dport 4013 accept comment \"systemwalker-om/mpaclmgr\"\n"
    ));
    assert!(!nft.contains("===== itdm-mgr"));
    nft_check(&nft);
    // Japanese comments (UTF-8, no byte order mark) are comments to nft too.
    let ja = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        .current_dir(root())
        .args([
            "plan",
            "--inventory",
            INV,
            "--format",
            "nft",
            "--lang",
            "ja",
        ])
        .output()
        .expect("run flowlint");
    let ja = String::from_utf8(ja.stdout).unwrap();
    assert!(
        ja.contains("# systemwalker-om/mpaclmgr: 使用権限のチェック"),
        "{ja}"
    );
    nft_check(&ja);
}

#[test]
fn ipv6_port_ranges_and_hostile_names_stay_valid_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("v6.toml");
    fs::write(
        &inv,
        r#"
[[hosts]]
name = "sw\"; rm -rf / #"
address = "2001:db8::20"
roles = ["systemwalker-om.server"]
os = "unix"

[[hosts]]
name = "remote'$(reboot)"
address = "2001:db8:1::/64"
roles = ["systemwalker-om.remote_machine"]
os = "windows"

[[hosts]]
address = "192.0.2.70"
roles = ["systemwalker-om.client"]
"#,
    )
    .unwrap();
    let inv = inv.to_str().unwrap();
    let (_, nft) = flowlint(&["plan", "--inventory", inv, "--format", "nft"]);
    assert!(nft.contains(
        "\t\tip saddr 192.0.2.70 tcp dport 9367 accept comment \"systemwalker-om/jmsrv-client\"\n"
    ));
    // The hostile name only in comments.
    for l in nft.lines().filter(|l| l.contains("rm -rf")) {
        assert!(l.trim_start().starts_with('#'), "{l}");
    }
    nft_check(&nft);
    let (_, ps) = flowlint(&["plan", "--inventory", inv, "--format", "powershell"]);
    assert!(ps.contains(
        "New-NetFirewallRule -DisplayName 'flowlint systemwalker-om/jobschmsgevent-dynamic 49152-65535/tcp' \
         -Direction Inbound -Action Allow -Protocol TCP -LocalPort '49152-65535' -RemoteAddress 2001:db8::20"
    ));
    for l in ps.lines().filter(|l| l.contains("reboot")) {
        assert!(l.starts_with('#'), "{l}");
    }
    let (_, netsh) = flowlint(&["plan", "--inventory", inv, "--format", "netsh"]);
    assert!(netsh.contains("localport=49152-65535 remoteip=2001:db8::20\n"));
    assert!(!netsh.contains("$(reboot)"), "{netsh}");
}
