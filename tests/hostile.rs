//! Hostile input end to end: crafted packets and records (the fixtures in
//! `fixtures/hostile/`, written by `flowlint-gen fixtures` with their exact
//! outcomes), captures that cannot be read, read errors part-way, floods
//! beyond the connection limit, and an interrupted `check` writing a report.
//! Also the inputs the fuzzers once found wrong (see `fuzz/`), kept here so
//! the normal test suite replays them.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use flowlint::analysis::{self, Options};
use flowlint::capture::CaptureReader;
use flowlint::catalog::CatalogSet;
use flowlint::flow::FlowConfig;
use flowlint::synth::craft::{self, V4Opts};
use flowlint::synth::tcp_flags::SYN;

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

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// (client, server, port, protocol) → (verdict, states without zeros).
type Convs = BTreeMap<(String, String, u64, String), (String, BTreeMap<String, u64>)>;

fn convs(list: &Value) -> Convs {
    let s = |c: &Value, k: &str| c[k].as_str().unwrap_or_default().to_string();
    list.as_array()
        .expect("conversations array")
        .iter()
        .map(|c| {
            let states = c["states"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_u64().filter(|&n| n > 0).map(|n| (k.clone(), n)))
                        .collect()
                })
                .unwrap_or_default();
            (
                (
                    s(c, "client"),
                    s(c, "server"),
                    c["server_port"].as_u64().unwrap_or_default(),
                    s(c, "protocol"),
                ),
                (s(c, "verdict"), states),
            )
        })
        .collect()
}

/// Runs `check` as `fixtures/hostile/<name>.outcome.json` says and compares
/// everything it lists: exit status, packets, skipped records by reason,
/// every warning (offset, words, also on stderr), every conversation.
fn check_outcome(name: &str) {
    let path = root().join(format!("fixtures/hostile/{name}.outcome.json"));
    let expect: Value = serde_json::from_str(&fs::read_to_string(&path).expect("outcome file"))
        .expect("outcome JSON");
    let strings = |k: &str| -> Vec<String> {
        expect[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let mut args = vec!["check".to_string(), "--format".into(), "json".into()];
    args.extend(strings("args"));
    args.extend(strings("captures"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = flowlint(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert_eq!(
        out.status.code(),
        expect["exit"].as_i64().map(|c| c as i32),
        "{name}: exit status; stderr: {stderr}"
    );
    let report = json_of(&out);
    let input = &report["inputs"][0];
    assert_eq!(input["packets"], expect["packets"], "{name}: packets");
    assert_eq!(
        input["skipped"], expect["skipped"],
        "{name}: skipped records"
    );
    let got: Vec<&str> = input["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let want = expect["warnings"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{name}: warnings {got:#?}");
    for (g, w) in got.iter().zip(want) {
        let prefix = format!("at byte {}: ", w["offset"]);
        let words = w["contains"].as_str().unwrap();
        assert!(
            g.starts_with(&prefix) && g.contains(words),
            "{name}: warning {g:?} should be at byte {} and say {words:?}",
            w["offset"]
        );
        // SPEC: damage is reported on stderr too, naming the file.
        let capture = &strings("captures")[0];
        assert!(
            stderr.contains(&format!("{capture}: {g}")),
            "{name}: {g:?} not on stderr:\n{stderr}"
        );
    }
    assert_eq!(
        convs(&report["conversations"]),
        convs(&expect["conversations"]),
        "{name}: conversations"
    );
}

#[test]
fn ipv4_header_length_below_five_words() {
    check_outcome("ihl");
}

#[test]
fn tcp_data_offset_below_five_or_beyond_the_segment() {
    check_outcome("tcp-doff");
}

#[test]
fn ipv6_extension_chain_to_the_limit() {
    check_outcome("ipv6-ext");
}

#[test]
fn tiny_and_overlapping_fragments() {
    check_outcome("fragments");
}

#[test]
fn icmp_error_quoting_an_icmp_error() {
    check_outcome("icmp-icmp");
}

#[test]
fn vlan_stacks_deeper_than_two() {
    check_outcome("vlan");
}

#[test]
fn zero_length_maximum_length_and_impossible_records() {
    check_outcome("records");
}

#[test]
fn lone_timestamps_years_away_are_smoothed() {
    check_outcome("clock");
}

/// The attempt made just before the clock steps back is decided `no_reply`:
/// 20 s of capture followed it in the new era, so its era is over (not
/// `pending` at the old era's last packet time).
#[test]
fn clock_stepping_back_ends_the_old_era() {
    check_outcome("clock-reset");
}

#[test]
fn every_hostile_fixture_has_a_test() {
    let source = fs::read_to_string(root().join("tests/hostile.rs")).unwrap();
    for e in fs::read_dir(root().join("fixtures/hostile")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".outcome.json") {
            assert!(
                source.contains(&format!("check_outcome(\"{stem}\")")),
                "fixtures/hostile/{name} has no test"
            );
        }
    }
}

/// Unreadable captures: status 2, exactly one stderr line naming the file
/// and the byte offset, no panic, nothing on stdout.
#[test]
fn unreadable_captures_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut pcapng_bad_len = vec![0x0a, 0x0d, 0x0d, 0x0a, 0xff, 0xff, 0xff, 0xff];
    pcapng_bad_len.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    pcapng_bad_len.extend_from_slice(&[1, 0, 0, 0]);
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty.pcap", Vec::new()),
        ("http.pcap", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        ("short.pcap", craft::pcap_header(65_535, 1)[..10].to_vec()),
        ("bad-shb.pcapng", pcapng_bad_len),
        ("ff.pcap", vec![0xff; 4096]),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let p = path.to_str().unwrap();
        let out = flowlint(&["check", p]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: stdout not empty");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: {stderr}");
        assert!(
            lines[0].starts_with("flowlint: error: ")
                && lines[0].contains(&format!("{p}: at byte ")),
            "{name}: {stderr}"
        );
    }
}

/// A valid header and nothing else is an empty analysis, not an error.
#[test]
fn header_only_capture_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.pcap");
    fs::write(&path, craft::pcap_header(65_535, 1)).unwrap();
    let out = flowlint(&["check", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let r = json_of(&out);
    assert_eq!(r["summary"]["packets"], 0);
    assert_eq!(r["conversations"].as_array().unwrap().len(), 0);
    assert_eq!(r["inputs"][0]["warnings"].as_array().unwrap().len(), 0);
}

/// A SYN from 10.0.x.y:40000 to 10.0.0.2:8080 at `T0 + i` µs, as a pcap record.
fn syn_record(i: u32) -> Vec<u8> {
    let src = [10, 1, (i >> 8) as u8, i as u8];
    let seg = craft::tcp(40_000, 8080, i, 0, SYN, 5, 0);
    let ip = craft::ipv4(
        src,
        [10, 0, 0, 2],
        craft::PROTO_TCP,
        &seg,
        V4Opts::default(),
    );
    let frame = craft::eth(craft::ETHERTYPE_IPV4, &[], &ip);
    craft::pcap_record(
        T0 + i64::from(i) * 1_000,
        frame.len() as u32,
        frame.len() as u32,
        &frame,
    )
}

const T0: i64 = 1_795_168_800 * 1_000_000_000;

/// Yields `data`, then fails the read like a disk or network share would.
struct FailingReader {
    data: std::io::Cursor<Vec<u8>>,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.data.read(buf)? {
            0 => Err(std::io::Error::other("input/output error (simulated)")),
            n => Ok(n),
        }
    }
}

/// A read error part-way keeps everything read before it and says where.
#[test]
fn read_error_midway_keeps_what_was_read() {
    let mut bytes = craft::pcap_header(65_535, 1);
    for i in 0..100 {
        bytes.extend(syn_record(i));
    }
    let good = bytes.len() as u64;
    // half a record, then the error
    bytes.extend_from_slice(&syn_record(100)[..20]);
    let reader = CaptureReader::from_read(
        Box::new(FailingReader {
            data: std::io::Cursor::new(bytes.clone()),
        }),
        "failing",
    )
    .expect("header reads");
    let catalogs = CatalogSet::load(&[]).unwrap();
    let options = Options {
        broadcast: flowlint::broadcast::BroadcastConfig::new(3_000_000_000),
        flow: FlowConfig::new(3_000_000_000),
        threads: 1,
        keep_connections: false,
        max_conversations: flowlint::classify::DEFAULT_MAX_CONVERSATIONS,
    };
    let result = analysis::analyse(
        &[PathBuf::from("failing")],
        vec![reader],
        &options,
        Arc::new(catalogs.server_ports()),
        None,
    );
    let input = &result.inputs[0];
    assert_eq!(input.packets, 100);
    assert_eq!(
        result.table.conversations.len(),
        100,
        "every conversation before the error"
    );
    assert_eq!(input.warnings.len(), 1, "{:?}", input.warnings);
    let w = &input.warnings[0];
    assert!(w.to_string().contains("read error"), "{w}");
    assert!(w.to_string().contains("simulated"), "{w}");
    assert_eq!(w.offset, bytes.len() as u64, "where the data stopped");
    assert!(w.offset > good);
}

/// More connections than `--max-connections`: the least recently active are
/// decided early, every connection is still counted once, and the report
/// says how many were evicted.
#[test]
fn flood_beyond_the_connection_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.pcap");
    let mut bytes = craft::pcap_header(65_535, 1);
    for i in 0..5000 {
        bytes.extend(syn_record(i));
    }
    fs::write(&path, bytes).unwrap();
    let p = path.to_str().unwrap();
    for threads in ["1", "2"] {
        let out = flowlint(&[
            "check",
            "--format",
            "json",
            "--max-connections",
            "1000",
            "-j",
            threads,
            p,
        ]);
        assert_eq!(out.status.code(), Some(0));
        let r = json_of(&out);
        let s = &r["summary"];
        assert_eq!(s["connections"], 5000, "-j {threads}");
        assert_eq!(s["conversations"], 5000, "-j {threads}");
        let evicted = s["evicted_connections"].as_u64().unwrap();
        // At most 1000 tracked at once: at least 4000 decided early.
        assert!((4000..5000).contains(&evicted), "-j {threads}: {evicted}");
    }
}

/// Evictions are said on stderr and in the text report, not only counted
/// in the JSON.
#[test]
fn evictions_are_reported_in_text_and_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.pcap");
    let mut bytes = craft::pcap_header(65_535, 1);
    for i in 0..3000 {
        bytes.extend(syn_record(i));
    }
    fs::write(&path, bytes).unwrap();
    let out = flowlint(&["check", "--max-connections", "1000", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (what, s) in [("text report", &text), ("stderr", &stderr)] {
        assert!(
            s.contains("decided early") && s.contains("--max-connections"),
            "{what}: {s}"
        );
    }
}

/// Sends SIGINT and waits for the child to end. A process started with
/// SIGINT ignored (e.g. a test run from a background shell job) passes that
/// on to its children; then SIGTERM, whose default action is the same
/// (terminate, no cleanup), stands in after a while.
fn interrupt(child: &mut std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let signal = |sig: &str| {
        let sent = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill {sig}");
    };
    signal("-INT");
    let mut deadline = Instant::now() + Duration::from_secs(3);
    let mut termed = false;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            assert!(!termed, "flowlint survived SIGINT and SIGTERM");
            eprintln!("SIGINT seems ignored in this environment: sending SIGTERM");
            signal("-TERM");
            termed = true;
            deadline = Instant::now() + Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGINT while `check -o out.json` runs: the old out.json is untouched.
/// The capture is a FIFO that is kept open, so the run is certainly in the
/// middle of its input when the signal arrives.
#[test]
fn interrupted_check_leaves_the_old_report() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("capture.pcap");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo not available: skipped");
        return;
    }
    let out_path = dir.path().join("out.json");
    fs::write(&out_path, b"{\"old\": true}\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .args(["check", "-q", "--format", "json", "-o"])
        .arg(&out_path)
        .arg(&fifo)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn flowlint");
    // Opening the FIFO for writing waits for flowlint to open it for reading.
    let mut writer = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(&craft::pcap_header(65_535, 1)).unwrap();
    for i in 0..2000 {
        writer.write_all(&syn_record(i)).unwrap();
    }
    writer.flush().unwrap();
    // Give it time to read what was written; it then waits for more.
    std::thread::sleep(Duration::from_millis(300));
    let status = interrupt(&mut child);
    drop(writer);
    assert!(
        !status.success(),
        "interrupted run must not succeed: {status:?}"
    );
    assert_eq!(
        fs::read(&out_path).unwrap(),
        b"{\"old\": true}\n",
        "out.json must be the old report"
    );
    let leftovers: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "out.json" && n != "capture.pcap")
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

/// The same, without a previous report: no out.json appears at all.
#[test]
fn interrupted_check_writes_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("capture.pcap");
    if !Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        return;
    }
    let out_path = dir.path().join("out.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .args(["check", "-q", "-o"])
        .arg(&out_path)
        .arg(&fifo)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut writer = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(&craft::pcap_header(65_535, 1)).unwrap();
    writer.write_all(&syn_record(1)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let status = interrupt(&mut child);
    drop(writer);
    assert!(!status.success());
    assert!(!out_path.exists(), "a report appeared");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the FIFO"
    );
}
