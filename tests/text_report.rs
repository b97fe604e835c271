//! The text report through the binary: findings first, grouped, with
//! times; a snapshot of the demo report (insta).

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `flowlint` piped (no terminal: no colour, no wrapping), in UTC.
fn flowlint(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(args)
        .env("TZ", "UTC")
        .env_remove("NO_COLOR")
        .output()
        .expect("run flowlint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

const DEMO: [&str; 5] = [
    "check",
    "-q",
    "--inventory",
    "fixtures/demo/lab.toml",
    "fixtures/demo/lab.pcapng",
];

fn line_of(text: &str, starts: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(starts))
        .unwrap_or_else(|| panic!("no line starting with {starts:?} in\n{text}"))
}

#[test]
fn the_demo_report_is_as_snapshotted() {
    let (code, text) = flowlint(&DEMO);
    assert_eq!(code, 1);
    insta::assert_snapshot!("demo", text);
}

#[test]
fn the_header_says_inputs_time_catalogs_inventory_and_counts() {
    let (_, text) = flowlint(&DEMO);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "flowlint report: 6 blocked, 2 wrong_direction, 5 unexpected, 18 expected, 2 unlisted"
    );
    assert_eq!(
        lines[1],
        "  input      fixtures/demo/lab.pcapng: pcapng, link type 1, 216 packets"
    );
    assert!(
        lines[2].starts_with("  time       2026-11-20 10:00:00.000 to 10:00:13.014 +0000 (13 s)")
    );
    assert_eq!(
        lines[3],
        "  catalogs   jp1-itdm (22 rules), systemwalker-om (36 rules)"
    );
    assert_eq!(
        lines[4],
        "  inventory  fixtures/demo/lab.toml: 15 hosts with roles seen"
    );
    assert_eq!(
        lines[5],
        "  traffic    216 packets, 35 connections, 33 conversations"
    );
}

#[test]
fn several_inputs_each_say_their_time_range() {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "--utc",
            "fixtures/demo/lab.pcapng",
            "fixtures/taps-a.pcap",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1..=3],
        [
            "  input      fixtures/demo/lab.pcapng: pcapng, link type 1, 216 packets, 2026-11-20 10:00:00.000 to 10:00:13.014",
            "  input      fixtures/taps-a.pcap: pcap, link type 1, 34 packets, 2026-11-20 10:00:01.000 to 10:00:11.999",
            "  time       2026-11-20 10:00:00.000 to 10:00:13.014 UTC (13 s)",
        ]
    );
    assert_eq!(
        lines[5],
        "  inventory  none, roles inferred from traffic (8 hosts)"
    );
}

#[test]
fn findings_come_before_the_summaries_and_fit_one_screen() {
    let (_, text) = flowlint(&DEMO);
    let blocked = line_of(&text, "BLOCKED (6)");
    let wrong = line_of(&text, "WRONG_DIRECTION (2)");
    let unexpected = line_of(&text, "UNEXPECTED (5 in 4 entries)");
    let hosts = line_of(&text, "HOSTS with roles (15)");
    let rules = line_of(&text, "RULES that saw traffic (21 of 58)");
    let idle = line_of(&text, "RULES with no traffic (37)");
    assert!(blocked < wrong && wrong < unexpected && unexpected < hosts && hosts < rules);
    assert_eq!(idle, rules + 1, "one line names the rules that saw none");
    // Piped: one line per finding (grep-friendly), nowhere near 60 lines.
    assert!(text.lines().count() <= 60, "{} lines", text.lines().count());
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  blocked ")).count(),
        6
    );
    assert!(text.contains(
        "  blocked agent 192.0.2.130 → itdm-mgr 192.0.2.10 31000/tcp: no reply, 10:00:00–10:00:07, 4 attempts; \
         is 31000/tcp open between them? (1 of 2 connections got through)\n"
    ));
    assert!(!text.contains("1 connections") && !text.contains("over 0 s"));
    assert!(!text.contains("wrong direction"), "one name per verdict");
}

#[test]
fn all_lists_every_conversation_with_its_reason() {
    let mut args = DEMO.to_vec();
    args.push("--all");
    let (code, text) = flowlint(&args);
    assert_eq!(code, 1);
    let listed = text
        .lines()
        .filter(|l| {
            [
                "blocked ",
                "wrong_direction ",
                "unexpected ",
                "expected ",
                "unlisted ",
            ]
            .iter()
            .any(|v| l.starts_with(&format!("  {v}")))
        })
        .count();
    assert_eq!(listed, 33);
    assert!(text.contains("(1 of 2 connections did get through.)"));
}

#[test]
fn times_are_local_with_their_offset_or_utc() {
    let run = |tz: &str, extra: &[&str]| {
        let mut args = DEMO.to_vec();
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
            // English whatever the locale of the machine running the tests.
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANG")
            .current_dir(root())
            .args(&args)
            .env("TZ", tz)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let tokyo = run("Asia/Tokyo", &[]);
    if Path::new("/usr/share/zoneinfo/Asia/Tokyo").exists() {
        assert!(
            tokyo.contains("2026-11-20 19:00:00.000 to 19:00:13.014 +0900"),
            "{tokyo}"
        );
        assert!(tokyo.contains("no reply, 19:00:00–19:00:07"));
    }
    let utc = run("Asia/Tokyo", &["--utc"]);
    assert!(utc.contains("2026-11-20 10:00:00.000 to 10:00:13.014 UTC"));
    assert!(utc.contains("no reply, 10:00:00–10:00:07"));
}

/// A scan: 64 scanners sweep every port of one host, no answers.
#[test]
fn a_port_scan_fits_in_sixty_lines_with_the_unlisted_ports_summed_up() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("scan.pcap");
    let gen = Command::new(env!("CARGO_BIN_EXE_flowlint-gen"))
        .args(["flood", "--kind", "scan", "--flows", "65535", "--out"])
        .arg(&pcap)
        .status()
        .unwrap();
    assert!(gen.success());
    let (_, text) = flowlint(&["check", "-q", pcap.to_str().unwrap()]);
    assert!(
        text.lines().count() <= 60,
        "{} lines:\n{text}",
        text.lines().count()
    );
    let unlisted = text
        .lines()
        .find(|l| l.starts_with("UNLISTED (65494)"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        unlisted.ends_with("and 65484 more ports (65484 conversations)"),
        "{unlisted}"
    );
    // 16 internal ports of 18 unexpected conversations are one entry.
    assert!(text.contains("UNEXPECTED (18 in 2 entries)"), "{text}");
    assert!(text.contains("  unexpected internal ports between two hosts, 16 conversations:"));
}

/// 500 clients whose SYNs to one server port got no reply are one entry.
#[test]
fn blocked_clients_of_one_server_port_are_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("syn.pcap");
    let gen = Command::new(env!("CARGO_BIN_EXE_flowlint-gen"))
        .args(["flood", "--flows", "1000", "--out"])
        .arg(&pcap)
        .status()
        .unwrap();
    assert!(gen.success());
    let (code, text) = flowlint(&[
        "check",
        "-q",
        "--reply-timeout",
        "0.0005",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(text.contains("BLOCKED (500 in 1 entry)"), "{text}");
    assert!(text.contains(
        "  blocked 500 hosts (16.0.0.0, 16.0.0.1, 16.0.0.2 and 497 more) → host 192.0.2.10 31000/tcp: \
         no reply, 10:00:00, 500 attempts; is 31000/tcp open between them?\n"
    ));
}

/// Runs `flowlint` on a terminal of `columns` columns (util-linux `script`
/// gives it one); `None` when `script` is not installed.
fn on_terminal(args: &[&str], columns: u16) -> Option<String> {
    let command = format!(
        "stty cols {columns} rows 50; {} {}",
        env!("CARGO_BIN_EXE_flowlint"),
        args.join(" ")
    );
    let out = Command::new("script")
        .current_dir(root())
        .args(["-qec", &command, "/dev/null"])
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    out.status.code()?;
    Some(String::from_utf8_lossy(&out.stdout).replace('\r', ""))
}

#[test]
fn on_a_100_column_terminal_the_demo_fits_in_60_wrapped_lines() {
    let Some(text) = on_terminal(&DEMO, 100) else {
        eprintln!("util-linux script not found: skipped");
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 60, "{} lines:\n{text}", lines.len());
    let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 100, "a line of {widest} columns:\n{text}");
    // Wrapped continuation lines are indented under their entry.
    assert!(
        lines.iter().any(|l| l.starts_with("      attempts; ")),
        "{text}"
    );
    // The idle rules are named as far as three lines allow, then counted.
    let idle = line_of(&text, "RULES with no traffic (37)");
    assert!(lines[idle + 2].ends_with("(the JSON report's rules[] lists them all)"));
    assert_eq!(lines.len(), idle + 3, "{text}");
}

#[test]
fn on_a_terminal_the_progress_lines_are_cleared_before_the_report() {
    let args = [
        "check",
        "--inventory",
        "fixtures/demo/lab.toml",
        "fixtures/demo/lab.pcapng",
    ];
    let Some(raw) = on_terminal(&args, 100) else {
        eprintln!("util-linux script not found: skipped");
        return;
    };
    // What the screen shows: a line as it stands after its last
    // carriage return or erase-line.
    let shown: Vec<&str> = raw
        .lines()
        .map(|l| l.rsplit("\x1b[2K").next().unwrap_or(l))
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        shown[0].starts_with("flowlint report: 6 blocked"),
        "{shown:?}"
    );
    assert!(
        !shown
            .iter()
            .any(|l| l.contains("classifying") || l.contains("KiB")),
        "{shown:?}"
    );
    // The summary line on standard error comes after the report.
    assert!(shown.last().unwrap().starts_with("flowlint: 216 packets"));
}
