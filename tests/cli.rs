//! The command line as a user meets it: exit statuses, one-line errors,
//! report formats, `--output`, `--baseline`, `--fail-on`, `catalog`, `plan`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const DEMO: &str = "fixtures/demo/lab.pcapng";
const DEMO_INV: &str = "fixtures/demo/lab.toml";

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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// A status-2 failure: exactly one line on stderr, containing every `needle`.
fn assert_fatal(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one line on stderr, got {lines:?}");
    for n in needles {
        assert!(
            lines[0].contains(n),
            "{:?} does not mention {n:?}",
            lines[0]
        );
    }
    assert!(!err.contains("panicked"));
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowlint-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_demo_exits_1_with_findings_and_0_with_fail_on_none() {
    let o = flowlint(&["check", "-q", "--inventory", DEMO_INV, DEMO]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    for heading in [
        "flowlint report:",
        "BLOCKED",
        "WRONG_DIRECTION",
        "UNEXPECTED",
        "UNLISTED",
        "HOSTS with roles",
        "RULES that saw traffic",
    ] {
        assert!(text.contains(heading), "text report lacks {heading}");
    }
    // Not a terminal: no colour codes.
    assert!(!text.contains('\u{1b}'));
    let o = flowlint(&[
        "check",
        "-q",
        "--fail-on",
        "none",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = flowlint(&[
        "check",
        "-q",
        "--fail-on",
        "unlisted",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = flowlint(&["check", "-q", "--fail-on", "bogus", DEMO]);
    assert_fatal(&o, &["--fail-on", "bogus"]);
}

#[test]
fn the_json_report_has_the_spec_fields() {
    let o = flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    let r = json(&o);
    assert_eq!(r["schema"], "flowlint.report.v1");
    assert_eq!(r["tool"]["name"], "flowlint");
    assert_eq!(r["inputs"][0]["format"], "pcapng");
    assert_eq!(r["inputs"][0]["linktypes"], serde_json::json!([1]));
    assert_eq!(r["inputs"][0]["packets"], r["summary"]["packets"]);
    let v = &r["summary"]["verdicts"];
    for k in [
        "expected",
        "blocked",
        "wrong_direction",
        "unexpected",
        "unlisted",
    ] {
        assert!(
            v[k].as_u64().unwrap() > 0,
            "the demo shows every verdict: {k}"
        );
    }
    let convs = r["conversations"].as_array().unwrap();
    assert_eq!(
        r["summary"]["conversations"].as_u64().unwrap() as usize,
        convs.len()
    );
    // Sorted by severity, then address.
    let rank = |v: &str| {
        [
            "blocked",
            "wrong_direction",
            "unexpected",
            "expected",
            "unlisted",
        ]
        .iter()
        .position(|x| *x == v)
        .unwrap()
    };
    let ranks: Vec<usize> = convs
        .iter()
        .map(|c| rank(c["verdict"].as_str().unwrap()))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
    for c in convs {
        for field in [
            "client",
            "server",
            "server_port",
            "protocol",
            "client_roles",
            "server_roles",
            "verdict",
            "rule",
            "reason",
            "connections",
            "states",
            "packets",
            "bytes",
            "first_seen",
            "last_seen",
        ] {
            assert!(c.get(field).is_some(), "conversation lacks {field}: {c}");
        }
        assert!(c["first_seen"].as_str().unwrap().ends_with('Z'));
        match c["verdict"].as_str().unwrap() {
            "unexpected" | "unlisted" => assert!(c["rule"].is_null()),
            _ => assert!(c["rule"].as_str().unwrap().contains('/')),
        }
    }
    let firewall = convs
        .iter()
        .find(|c| c.get("blocked_by").is_some())
        .expect("the demo has a firewall answering with ICMP");
    assert_eq!(firewall["blocked_by"], "203.0.113.1");
    assert!(firewall["reason"].as_str().unwrap().contains("203.0.113.1"));
    let forged = convs
        .iter()
        .find(|c| c["server_port"] == 16992 && c["server"] == "192.0.2.131")
        .unwrap();
    assert!(
        forged["reason"].as_str().unwrap().contains("middlebox"),
        "{}",
        forged["reason"]
    );
    // Every rule is listed, used or not.
    let rules = r["rules"].as_array().unwrap();
    assert!(rules.iter().any(|x| x["conversations"] == 0));
    let used: u64 = rules
        .iter()
        .map(|x| x["conversations"].as_u64().unwrap())
        .sum();
    let allowed = convs
        .iter()
        .filter(|c| c["verdict"] == "expected" || c["verdict"] == "blocked")
        .count() as u64;
    assert_eq!(used, allowed);
    // Hosts hold roles as the inventory gives them.
    let hosts = r["hosts"].as_array().unwrap();
    let mgr = hosts.iter().find(|h| h["address"] == "192.0.2.10").unwrap();
    assert_eq!(mgr["roles"], serde_json::json!(["jp1-itdm.manager"]));
    assert_eq!(mgr["name"], "itdm-mgr");
    assert_eq!(mgr["inferred"], false);
}

#[test]
fn jsonl_has_one_record_per_connection_with_history() {
    let o = flowlint(&[
        "check",
        "-q",
        "--format",
        "jsonl",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let report = json(&flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]));
    assert_eq!(
        lines.len() as u64,
        report["summary"]["connections"].as_u64().unwrap()
    );
    let refused = lines.iter().find(|l| l["state"] == "refused").unwrap();
    assert_eq!(refused["history"], "Sr");
    assert_eq!(refused["verdict"], "blocked");
    let histories: Vec<&str> = lines
        .iter()
        .filter(|l| l["state"] == "established")
        .map(|l| l["history"].as_str().unwrap())
        .collect();
    // A full connection, closed by both sides, and one seen from one side only.
    assert!(histories.contains(&"ShADdFf"), "{histories:?}");
    assert!(histories.contains(&"SAD"), "{histories:?}");
}

#[test]
fn output_is_written_atomically_and_devices_directly() {
    let dir = temp("output");
    let out = dir.join("report.json");
    std::fs::write(&out, "old").unwrap();
    let o = flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        DEMO,
    ]);
    assert!(o.status.code() == Some(1) || o.status.code() == Some(0));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["schema"], "flowlint.report.v1");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temporary file left beside the report"
    );
    let o = flowlint(&["check", "-q", "--format", "json", "-o", "/dev/null", DEMO]);
    assert!(o.status.code().unwrap() < 2, "{}", stderr(&o));
    // An unwritable place is a clean status 2.
    let o = flowlint(&["check", "-q", "-o", "/nonexistent-dir/report.json", DEMO]);
    assert_fatal(&o, &["/nonexistent-dir/report.json"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn baseline_reports_new_and_resolved_findings_and_missing_rules() {
    let dir = temp("baseline");
    let base = dir.join("base.json");
    // A baseline from the demo without an inventory...
    let o = flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "-o",
        base.to_str().unwrap(),
        "--fail-on",
        "none",
        DEMO,
    ]);
    assert_eq!(o.status.code(), Some(0));
    // ...compared with itself: nothing new.
    let o = flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "--fail-on",
        "none",
        "--baseline",
        base.to_str().unwrap(),
        DEMO,
    ]);
    let b = &json(&o)["baseline"];
    assert_eq!(b["new"].as_array().unwrap().len(), 0);
    assert_eq!(b["resolved"].as_array().unwrap().len(), 0);
    assert_eq!(b["missing_rules"].as_array().unwrap().len(), 0);
    // Compared with a capture that lacks most of it: rules went missing → exit 1.
    let o = flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "--fail-on",
        "blocked",
        "--baseline",
        base.to_str().unwrap(),
        "fixtures/reversed-noinv.pcap",
    ]);
    let r = json(&o);
    assert!(!r["baseline"]["missing_rules"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(o.status.code(), Some(1));
    // With --fail-on none the comparison never fails the run.
    let o = flowlint(&[
        "check",
        "-q",
        "--fail-on",
        "none",
        "--baseline",
        base.to_str().unwrap(),
        "fixtures/reversed-noinv.pcap",
    ]);
    assert_eq!(o.status.code(), Some(0));
    // A baseline from the lab capture with its inventory has findings the
    // uninformed baseline did not: they are new.
    let o = flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "--baseline",
        base.to_str().unwrap(),
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    let r = json(&o);
    assert!(!r["baseline"]["new"].as_array().unwrap().is_empty());
    // A file that is not a report is a clean status 2.
    let o = flowlint(&["check", "-q", "--baseline", DEMO_INV, DEMO]);
    assert_fatal(&o, &[DEMO_INV]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_baseline_asks_whether_anything_got_worse() {
    let dir = temp("worse");
    let base = dir.join("base.json");
    fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["check", "-q", "--format", "json", "--inventory", DEMO_INV];
        a.extend_from_slice(extra);
        a
    }
    let mut first = args(&["-o", base.to_str().unwrap()]);
    first.push(DEMO);
    assert_eq!(
        flowlint(&first).status.code(),
        Some(1),
        "the demo has findings"
    );
    // The same capture again: the shared findings do not fail the run ...
    let mut again = args(&["--baseline", base.to_str().unwrap()]);
    again.push(DEMO);
    let o = flowlint(&again);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let b = &json(&o)["baseline"];
    for list in ["new", "resolved", "not_seen", "missing_rules"] {
        assert_eq!(b[list], serde_json::json!([]), "{list}");
    }
    // ... unless --fail-on names them.
    let mut explicit = args(&["--baseline", base.to_str().unwrap(), "--fail-on", "blocked"]);
    explicit.push(DEMO);
    assert_eq!(flowlint(&explicit).status.code(), Some(1));
    // A capture with none of the demo's traffic: its findings are not seen,
    // not resolved; the rules that matched before are missing (worse: 1).
    let empty = dir.join("empty.pcap");
    let mut header = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&65535u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    std::fs::write(&empty, header).unwrap();
    let mut other = args(&["--baseline", base.to_str().unwrap()]);
    other.push(empty.to_str().unwrap());
    let o = flowlint(&other);
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    let b = &doc["baseline"];
    let base_doc: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    let findings = base_doc["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            matches!(
                c["verdict"].as_str(),
                Some("blocked" | "wrong_direction" | "unexpected")
            )
        })
        .count();
    assert_eq!(findings, 13);
    assert_eq!(b["not_seen"].as_array().unwrap().len(), findings);
    assert_eq!(b["resolved"], serde_json::json!([]));
    assert_eq!(b["new"], serde_json::json!([]));
    assert!(!b["missing_rules"].as_array().unwrap().is_empty());
    assert_eq!(b["not_seen"][0]["verdict"], "blocked");
    // The text report says so.
    let mut text = vec![
        "check",
        "-q",
        "--inventory",
        DEMO_INV,
        "--baseline",
        base.to_str().unwrap(),
    ];
    text.push(empty.to_str().unwrap());
    let out = stdout(&flowlint(&text));
    assert!(out.contains("not seen blocked"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_failures_are_one_line_naming_the_file() {
    let o = flowlint(&["check", "no-such-file.pcap"]);
    assert_fatal(&o, &["no-such-file.pcap"]);
    let o = flowlint(&["check", "Cargo.toml"]);
    assert_fatal(&o, &["Cargo.toml", "byte 0"]);
    let dir = temp("errors");
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let o = flowlint(&["check", empty.to_str().unwrap()]);
    assert_fatal(&o, &["empty.pcap"]);
    // One bad capture among good ones fails the run before any analysis.
    let o = flowlint(&["check", DEMO, "Cargo.toml"]);
    assert_fatal(&o, &["Cargo.toml"]);
    // An inventory mistake names the file and the line.
    let inv = dir.join("bad.toml");
    std::fs::write(
        &inv,
        "[[hosts]]\naddress = \"192.0.2.1\"\nroles = [\"jp1-itdm.managr\"]\n",
    )
    .unwrap();
    let o = flowlint(&["check", "--inventory", inv.to_str().unwrap(), DEMO]);
    assert_fatal(&o, &["bad.toml:3", "jp1-itdm.managr"]);
    std::fs::write(
        &inv,
        "[[hosts]]\naddress = \"192.0.2.300\"\nroles = [\"jp1-itdm.manager\"]\n",
    )
    .unwrap();
    let o = flowlint(&["check", "--inventory", inv.to_str().unwrap(), DEMO]);
    assert_fatal(&o, &["bad.toml:2"]);
    std::fs::write(&inv, "[ports]\n\"jp1-itdm/12345/tcp\" = 1\n").unwrap();
    let o = flowlint(&["check", "--inventory", inv.to_str().unwrap(), DEMO]);
    assert_fatal(&o, &["bad.toml:2", "12345"]);
    let o = flowlint(&["check", "--catalog", "no-such-catalog", DEMO]);
    assert_fatal(&o, &["no-such-catalog"]);
    let o = flowlint(&["check", "--reply-timeout", "-1", DEMO]);
    assert_fatal(&o, &["--reply-timeout"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_capture_cut_short_is_analysed_up_to_the_damage() {
    let dir = temp("cut");
    let data = std::fs::read(root().join(DEMO)).unwrap();
    let cut = dir.join("cut.pcapng");
    std::fs::write(&cut, &data[..data.len() * 2 / 3]).unwrap();
    let o = flowlint(&[
        "check",
        "--format",
        "json",
        "--fail-on",
        "none",
        cut.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&o);
    let warnings = r["inputs"][0]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().starts_with("at byte "));
    assert!(r["summary"]["packets"].as_u64().unwrap() > 100);
    assert!(
        stderr(&o).contains("warning"),
        "the damage is also on stderr"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_reply_timeout_moves_attempts_between_pending_and_no_reply() {
    let count = |timeout: &str, state: &str| -> u64 {
        let r = json(&flowlint(&[
            "check",
            "-q",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--reply-timeout",
            timeout,
            "--inventory",
            DEMO_INV,
            DEMO,
        ]));
        r["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["states"][state].as_u64().unwrap_or(0))
            .sum()
    };
    assert!(count("3", "no_reply") >= 1);
    // With a reply timeout as long as the capture, every silent attempt is still pending.
    assert_eq!(count("100000", "no_reply"), 0);
    assert!(count("100000", "pending") > count("3", "pending"));
}

#[test]
fn catalog_lists_every_rule_with_port_changes_applied() {
    let o = flowlint(&["catalog"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("jp1-itdm") && text.contains("systemwalker-om"));
    assert!(text.contains("注1"));
    let o = flowlint(&[
        "catalog",
        "--format",
        "json",
        "--catalog",
        "systemwalker-om",
        "--services",
        "fixtures/ports.services",
    ]);
    let r = json(&o);
    let catalogs = r["catalogs"].as_array().unwrap();
    assert_eq!(catalogs.len(), 1);
    let smtp = catalogs[0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "smtp_mpaosfb")
        .unwrap();
    assert_ne!(smtp["ports"], "25", "the services file moves smtp_mpaosfb");
    assert_eq!(smtp["default_ports"], "25");
    let o = flowlint(&[
        "catalog",
        "--inventory",
        "fixtures/ports.toml",
        "--format",
        "json",
    ]);
    let r = json(&o);
    let jp1 = &r["catalogs"][0]["rules"];
    assert!(jp1
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["ports"] == "31100"));
}

#[test]
fn plan_lists_the_flows_the_inventory_needs() {
    let o = flowlint(&["plan", "--inventory", DEMO_INV, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let flows = json(&o)["flows"].as_array().unwrap().clone();
    let has = |client: &str, server: &str, ports: &str| {
        flows
            .iter()
            .any(|f| f["client"] == client && f["server"] == server && f["ports"] == ports)
    };
    assert!(
        has("192.0.2.128/25", "192.0.2.10", "31000"),
        "agents → manager"
    );
    assert!(
        has("192.0.2.10", "192.0.2.128/25", "31001"),
        "manager → agents"
    );
    assert!(has("192.0.2.50", "192.0.2.10", "31080"));
    // Note 1: no JMEVT1 to the UNIX server; the Windows one gets it.
    assert!(has("192.0.2.70", "192.0.2.20", "9371"));
    assert!(!has("192.0.2.70", "192.0.2.21", "9371"));
    // No feature, no business linkage.
    assert!(!flows.iter().any(|f| f["ports"] == "2685"));
    let text = stdout(&flowlint(&["plan", "--inventory", DEMO_INV]));
    assert!(text.contains("itdm-mgr (192.0.2.10)"));
    let o = flowlint(&["plan"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn live_without_the_feature_or_interface_is_a_clean_failure() {
    let o = flowlint(&["live", "-i", "flowlint-no-such-if0", "--duration", "1"]);
    assert_fatal(&o, &[]);
}

#[test]
fn too_many_conversations_fold_new_clients_per_server_port() {
    let full = json(&flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "-j",
        "1",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]));
    let o = flowlint(&[
        "check",
        "--format",
        "json",
        "-j",
        "1",
        "--max-conversations",
        "10",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    let r = json(&o);
    let convs = r["conversations"].as_array().unwrap();
    let folded: Vec<&Value> = convs
        .iter()
        .filter(|c| c.get("folded_connections").is_some())
        .collect();
    assert!(!folded.is_empty());
    assert!(folded.iter().all(|c| c["client"] == "0.0.0.0"));
    assert!(folded
        .iter()
        .all(|c| c["reason"].as_str().unwrap().contains("folded")));
    let n: u64 = folded
        .iter()
        .map(|c| c["folded_connections"].as_u64().unwrap())
        .sum();
    assert_eq!(r["summary"]["folded_connections"].as_u64().unwrap(), n);
    // Nothing is lost: every connection is still counted.
    assert_eq!(r["summary"]["connections"], full["summary"]["connections"]);
    let total: u64 = convs
        .iter()
        .map(|c| c["connections"].as_u64().unwrap())
        .sum();
    assert_eq!(total, full["summary"]["connections"].as_u64().unwrap());
    assert!(stderr(&o).contains("--max-conversations"));
}

#[test]
fn without_quiet_one_summary_line_goes_to_stderr() {
    let o = flowlint(&["check", "--format", "json", "--inventory", DEMO_INV, DEMO]);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = lines[0];
    assert!(
        line.starts_with(
            "flowlint: 216 packets, 35 connections, 33 conversations: 6 blocked, 2 wrong_direction, \
             5 unexpected, 18 expected, 2 unlisted ("
        ) && line.ends_with(" s)"),
        "{line}"
    );
    let q = flowlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    assert_eq!(stderr(&q), "");
}

#[test]
fn flowlint_timing_adds_one_line_of_stage_times_and_memory() {
    let o = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(["check", "-q", "--format", "json", DEMO])
        .env("FLOWLINT_TIMING", "1")
        .output()
        .expect("run flowlint");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    for part in [
        "flowlint: timing: packet stage ",
        " connections open at most), classification ",
        " s, report ",
        "after the packet stage ",
        "at the end ",
    ] {
        assert!(lines[0].contains(part), "{part:?} missing: {}", lines[0]);
    }
    // Without it, -q keeps stderr empty.
    assert_eq!(
        stderr(&flowlint(&["check", "-q", "--format", "json", DEMO])),
        ""
    );
}

#[test]
fn inventory_mistakes_are_errors_that_say_the_fix_and_doubts_are_warnings() {
    // The demo inventory names Systemwalker roles: a run without that catalog
    // would silently drop them.
    let o = flowlint(&[
        "check",
        "--catalog",
        "jp1-itdm",
        "--inventory",
        DEMO_INV,
        DEMO,
    ]);
    assert_fatal(
        &o,
        &[DEMO_INV, "systemwalker-om", "add --catalog systemwalker-om"],
    );
    let dir = temp("inventory");
    let inv = dir.join("inv.toml");
    std::fs::write(
        &inv,
        "[[hosts]]\naddress = \"192.0.2.10/24\"\nroles = [\"jp1-itdm.manager\"]\n",
    )
    .unwrap();
    let o = flowlint(&["check", "--inventory", inv.to_str().unwrap(), DEMO]);
    assert_fatal(
        &o,
        &[
            "inv.toml:2",
            "host bits",
            "192.0.2.0/24",
            "192.0.2.10 for the host",
        ],
    );
    // Listed twice: analysed, with one warning after the report.
    std::fs::write(
        &inv,
        "[[hosts]]\naddress = \"192.0.2.10\"\nroles = [\"jp1-itdm.manager\"]\n\n\
         [[hosts]]\naddress = \"192.0.2.10\"\nroles = [\"jp1-itdm.site_server\"]\n",
    )
    .unwrap();
    let o = flowlint(&["check", "-q", "--inventory", inv.to_str().unwrap(), DEMO]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim_end(),
        format!(
            "flowlint: warning: {}:5: 192.0.2.10/32 is listed again (first on line 1); the entries' roles are merged",
            inv.display()
        )
    );
    let _ = std::fs::remove_dir_all(dir);
}
