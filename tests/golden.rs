//! Byte-for-byte outputs: every fixture run through the real binary in every
//! report format, compared with the outputs committed in `tests/golden/`.
//!
//! Why: the report stage is rebuilt on a typed model, and nothing a user or a
//! script reads may change on the way — not a key, not a space, not a word
//! of a reason. The fixture tests (`tests/fixtures.rs`) check verdicts and
//! states; these check everything else a report says.
//!
//! Each case is one command line; its standard output and exit status are
//! compared with `tests/golden/<case>.out` (first line `exit N`, then the
//! output as written). `FLOWLINT_BLESS=1 cargo test --test golden` rewrites
//! the files, for a change that is meant to alter the output (review the
//! diff before committing it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::fixture_runs;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One command line and the name its output is kept under.
struct Case {
    name: String,
    args: Vec<String>,
}

fn cases() -> Vec<Case> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let mut cases = Vec::new();
    for (name, args) in fixture_runs() {
        for format in ["json", "jsonl", "text"] {
            let mut a = s(&["check", "-q", "--format", format]);
            a.extend(args.iter().cloned());
            cases.push(Case {
                name: format!("{name}.{format}"),
                args: a,
            });
        }
    }
    let demo = s(&[
        "--inventory",
        "fixtures/demo/lab.toml",
        "fixtures/demo/lab.pcapng",
    ]);
    let with = |name: &str, extra: &[&str], rest: &[String]| {
        let mut a = s(&["check", "-q"]);
        a.extend(s(extra));
        a.extend(rest.iter().cloned());
        Case {
            name: name.to_string(),
            args: a,
        }
    };
    // A baseline that differs (another fixture's report) and one that does not.
    for format in ["json", "text"] {
        cases.push(with(
            &format!("demo-baseline-other.{format}"),
            &[
                "--format",
                format,
                "--baseline",
                "tests/golden/cov-jp1.json.out.json",
            ],
            &demo,
        ));
        cases.push(with(
            &format!("demo-baseline-self.{format}"),
            &[
                "--format",
                format,
                "--baseline",
                "tests/golden/demo-lab.json.out.json",
            ],
            &demo,
        ));
    }
    cases.push(with(
        "demo-no-inventory.json",
        &["--format", "json"],
        &s(&["fixtures/demo/lab.pcapng"]),
    ));
    cases.push(with(
        "demo-reply-timeout.json",
        &[
            "--format",
            "json",
            "--reply-timeout",
            "0.2",
            "--fail-on",
            "none",
        ],
        &demo,
    ));
    cases.push(with(
        "demo-fail-on-unlisted.text",
        &["--fail-on", "unlisted"],
        &demo,
    ));
    cases.push(with(
        "demo-folded.json",
        &["--format", "json", "--max-conversations", "3"],
        &demo,
    ));
    cases.push(with(
        "demo-folded.text",
        &["--max-conversations", "3"],
        &demo,
    ));
    cases.push(with(
        "cov-sw-one-catalog.json",
        &["--format", "json", "--catalog", "systemwalker-om"],
        &s(&["fixtures/cov-sw.pcap"]),
    ));
    for format in ["text", "json"] {
        cases.push(Case {
            name: format!("catalog.{format}"),
            args: s(&["catalog", "--format", format]),
        });
        cases.push(Case {
            name: format!("plan-demo.{format}"),
            args: s(&[
                "plan",
                "--inventory",
                "fixtures/demo/lab.toml",
                "--format",
                format,
            ]),
        });
    }
    cases
}

/// A golden file's path. The JSON reports end in `.json` too, so other
/// cases can use them as baselines.
fn golden_path(case: &Case) -> PathBuf {
    let dir = root().join("tests/golden");
    if case.name.ends_with(".json") && case.args.first().is_some_and(|a| a == "check") {
        dir.join(format!("{}.out.json", case.name))
    } else {
        dir.join(format!("{}.out", case.name))
    }
}

fn run(case: &Case) -> (i32, Vec<u8>) {
    let output = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(&case.args)
        .env_remove("NO_COLOR")
        // The text report writes local time: the goldens are in UTC.
        .env("TZ", "UTC")
        .output()
        .expect("run flowlint");
    (output.status.code().unwrap_or(-1), output.stdout)
}

#[test]
fn every_fixture_report_is_byte_identical_to_its_golden_output() {
    let bless = std::env::var_os("FLOWLINT_BLESS").is_some();
    let cases = cases();
    let mut problems = Vec::new();
    // Baseline cases read golden JSON reports: those are written first.
    let (first, later): (Vec<&Case>, Vec<&Case>) = cases
        .iter()
        .partition(|c| !c.args.iter().any(|a| a == "--baseline"));
    for case in first.into_iter().chain(later) {
        let (exit, stdout) = run(case);
        let path = golden_path(case);
        // JSON reports keep their exit status in a sidecar, so the report
        // itself stays a report a baseline can read.
        let exit_path = path.with_extension("exit");
        let is_report = path.to_string_lossy().ends_with(".out.json");
        let mut want_out = Vec::new();
        if !is_report {
            want_out.extend_from_slice(format!("exit {exit}\n").as_bytes());
        }
        want_out.extend_from_slice(&stdout);
        if bless {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &want_out).unwrap();
            if is_report {
                fs::write(&exit_path, format!("{exit}\n")).unwrap();
            }
            continue;
        }
        let committed = fs::read(&path).unwrap_or_default();
        if committed != want_out {
            let line = committed
                .split(|&b| b == b'\n')
                .zip(want_out.split(|&b| b == b'\n'))
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            problems.push(format!(
                "{}: {} differs from `flowlint {}` (first at line {line})",
                case.name,
                path.strip_prefix(root()).unwrap().display(),
                case.args.join(" ")
            ));
        }
        if is_report {
            let want_exit = fs::read_to_string(&exit_path).unwrap_or_default();
            if want_exit.trim() != exit.to_string() {
                problems.push(format!(
                    "{}: exit status {exit}, golden {}",
                    case.name,
                    want_exit.trim()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} golden output(s) changed (FLOWLINT_BLESS=1 rewrites them, for intended changes):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn the_golden_files_have_cases() {
    let names: Vec<PathBuf> = cases().iter().map(golden_path).collect();
    for e in fs::read_dir(root().join("tests/golden")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "exit") {
            continue;
        }
        assert!(
            names.contains(&p),
            "{} belongs to no case in tests/golden.rs",
            p.display()
        );
    }
}
