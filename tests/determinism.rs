//! The report does not depend on the number of threads: `flowlint check`
//! with `-j 1` (everything on one thread), `-j 2` and `-j 4` (flows sharded
//! over workers) must write byte-identical JSON and JSONL, on a generated
//! capture large enough for sweeps, shard batches and many conversations,
//! and on every fixture (several captures, duplicates, odd link types).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `flowlint check` with `threads` and `format` into a file in `dir`;
/// returns the report's bytes and the exit code.
fn report(dir: &Path, args: &[String], threads: usize, format: &str) -> (Vec<u8>, Option<i32>) {
    let out = dir.join(format!("report-{threads}.{format}"));
    let status = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(["check", "-q", "--format", format, "-j"])
        .arg(threads.to_string())
        .arg("-o")
        .arg(&out)
        .args(args)
        .status()
        .expect("flowlint runs");
    let code = status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "flowlint check {args:?} -j {threads} failed: {status}"
    );
    (fs::read(&out).expect("report written"), code)
}

fn assert_same_for_all_thread_counts(dir: &Path, args: &[String]) {
    for format in ["json", "jsonl"] {
        let (one, code) = report(dir, args, 1, format);
        assert!(!one.is_empty(), "{args:?}: empty {format} report");
        for threads in [2, 4] {
            let (other, other_code) = report(dir, args, threads, format);
            assert_eq!(
                code, other_code,
                "{args:?} {format}: exit status, -j {threads}"
            );
            if one != other {
                let line = one
                    .split(|&b| b == b'\n')
                    .zip(other.split(|&b| b == b'\n'))
                    .position(|(a, b)| a != b)
                    .map_or(0, |i| i + 1);
                panic!(
                    "{args:?}: {format} report of -j {threads} differs from -j 1 at line {line}"
                );
            }
        }
    }
}

#[test]
fn generated_capture_gives_the_same_report_for_any_thread_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = dir.path().join("bench.pcap");
    let status = Command::new(env!("CARGO_BIN_EXE_flowlint-gen"))
        .args([
            "bench",
            "--packets",
            "200000",
            "--flows",
            "2000",
            "--seed",
            "7",
        ])
        .args(["--format", "pcap", "--out"])
        .arg(&capture)
        .status()
        .expect("flowlint-gen runs");
    assert!(status.success(), "flowlint-gen bench failed: {status}");
    let args = vec![capture.to_string_lossy().into_owned()];
    assert_same_for_all_thread_counts(dir.path(), &args);

    // The capture is large enough to mean something: many conversations,
    // connections decided by sweeps long before the end.
    let (json, _) = report(dir.path(), &args, 2, "json");
    let json: Value = serde_json::from_slice(&json).expect("JSON report");
    let conversations = json["conversations"].as_array().map_or(0, Vec::len);
    assert!(conversations > 1000, "only {conversations} conversations");
}

#[test]
fn every_fixture_gives_the_same_report_for_any_thread_count() {
    let mut expects: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![root().join("fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("fixtures dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(".expect.json") {
                expects.push(path);
            }
        }
    }
    expects.sort();
    assert!(!expects.is_empty(), "no fixtures found");
    let dir = tempfile::tempdir().expect("temp dir");
    for expect in expects {
        let spec: Value =
            serde_json::from_slice(&fs::read(&expect).expect("expect file")).expect("expect JSON");
        let strings = |k: &str| -> Vec<String> {
            spec[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut args = strings("args");
        args.extend(strings("captures"));
        assert_same_for_all_thread_counts(dir.path(), &args);
    }
}
