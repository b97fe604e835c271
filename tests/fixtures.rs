//! End-to-end checks of `flowlint check` against the generated fixtures.
//!
//! Each `fixtures/**/<name>.expect.json` (written by `flowlint-gen
//! fixtures`) names the captures, the extra arguments, the exit status and
//! every conversation the report must hold. The tests run the real binary
//! from the crate root and compare the set of conversations exactly: client,
//! server, server port, protocol, verdict, rule, state counts and
//! `blocked_by`. A last test regenerates the fixtures into a temporary
//! directory and requires byte-identical files, so the committed fixtures
//! cannot drift from the generator.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// (client, server, server_port, protocol): what makes a conversation.
type Key = (String, String, u64, String);

/// What is compared about one conversation.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    verdict: String,
    rule: Option<String>,
    /// Zero counts dropped, so `{"no_reply": 0}` equals `{}`.
    states: BTreeMap<String, u64>,
    blocked_by: Option<String>,
}

fn str_field(c: &Value, k: &str) -> String {
    c.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("conversation without string {k:?}: {c}"))
        .to_string()
}

fn conversations(doc: &Value, what: &str) -> BTreeMap<Key, Outcome> {
    let list = doc
        .get("conversations")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{what}: no \"conversations\" array"));
    let mut out = BTreeMap::new();
    for c in list {
        let key = (
            str_field(c, "client"),
            str_field(c, "server"),
            c.get("server_port")
                .and_then(Value::as_u64)
                .unwrap_or_else(|| panic!("no server_port: {c}")),
            str_field(c, "protocol"),
        );
        let states = c
            .get("states")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_u64().filter(|&n| n > 0).map(|n| (k.clone(), n)))
                    .collect()
            })
            .unwrap_or_default();
        let outcome = Outcome {
            verdict: str_field(c, "verdict"),
            rule: c.get("rule").and_then(Value::as_str).map(str::to_string),
            states,
            blocked_by: c
                .get("blocked_by")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        if let Some(prev) = out.insert(key.clone(), outcome) {
            panic!("{what}: conversation {key:?} listed twice (first: {prev:?})");
        }
    }
    out
}

fn show(k: &Key, o: &Outcome) -> String {
    let states: Vec<String> = o.states.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    format!(
        "{} -> {}:{}/{}  {}  rule={}  states={{{}}}{}",
        k.0,
        k.1,
        k.2,
        k.3,
        o.verdict,
        o.rule.as_deref().unwrap_or("null"),
        states.join(","),
        o.blocked_by
            .as_ref()
            .map(|b| format!("  blocked_by={b}"))
            .unwrap_or_default()
    )
}

/// Runs `flowlint check` as the expectation says and compares.
fn check_fixture(expect_path: &str) {
    let path = root().join(expect_path);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expect: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let strings = |k: &str| -> Vec<String> {
        expect[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let (args, captures) = (strings("args"), strings("captures"));
    let output = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(["check", "--format", "json"])
        .args(&args)
        .args(&captures)
        .output()
        .expect("run flowlint");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let cmdline = format!(
        "flowlint check --format json {} {}",
        args.join(" "),
        captures.join(" ")
    );
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("{cmdline}: stdout is not a JSON report ({e}); exit {:?}\nstderr:\n{stderr}\nstdout:\n{stdout}", output.status.code())
    });

    let want = conversations(&expect, expect_path);
    let got = conversations(&report, "report");
    let mut diff = Vec::new();
    let keys: BTreeSet<&Key> = want.keys().chain(got.keys()).collect();
    for k in keys {
        match (want.get(k), got.get(k)) {
            (Some(w), Some(g)) if w == g => {}
            (Some(w), Some(g)) => diff.push(format!(
                "  differs:\n    want {}\n    got  {}",
                show(k, w),
                show(k, g)
            )),
            (Some(w), None) => diff.push(format!("  missing: {}", show(k, w))),
            (None, Some(g)) => diff.push(format!("  extra:   {}", show(k, g))),
            (None, None) => unreachable!(),
        }
    }
    let want_exit = expect["exit"].as_i64().unwrap() as i32;
    let exit = output.status.code();
    if exit != Some(want_exit) {
        diff.push(format!("  exit status: want {want_exit}, got {exit:?}"));
    }
    assert!(
        diff.is_empty(),
        "{cmdline}\n{} mismatch(es) against {expect_path}:\n{}\nstderr:\n{stderr}",
        diff.len(),
        diff.join("\n")
    );
}

/// One test per expectation file, so a failure names its fixture.
macro_rules! fixture_tests {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_fixture($file);
            }
        )*

        const LISTED: &[&str] = &[$($file),*];
    };
}

fixture_tests! {
    demo_lab => "fixtures/demo/lab.expect.json",
    cov_jp1 => "fixtures/cov-jp1.expect.json",
    cov_sw => "fixtures/cov-sw.expect.json",
    cov_local => "fixtures/cov-local.expect.json",
    cov_frag => "fixtures/cov-frag.expect.json",
    conditions => "fixtures/conditions.expect.json",
    conditions_features => "fixtures/conditions-features.expect.json",
    ports => "fixtures/ports.expect.json",
    taps => "fixtures/taps.expect.json",
    reversed => "fixtures/reversed.expect.json",
    reversed_noinv => "fixtures/reversed-noinv.expect.json",
    spec11 => "fixtures/spec11.expect.json",
    spec11_noinv => "fixtures/spec11-noinv.expect.json",
    broadcasts => "fixtures/broadcasts.expect.json",
    tunnels => "fixtures/tunnels.expect.json",
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn every_expectation_file_has_a_test() {
    let fixtures = root().join("fixtures");
    for f in files_under(&fixtures) {
        let name = f.to_string_lossy().replace('\\', "/");
        if name.ends_with(".expect.json") {
            let full = format!("fixtures/{name}");
            assert!(
                LISTED.contains(&full.as_str()),
                "{full} has no test in tests/fixtures.rs"
            );
        }
    }
}

#[test]
fn fixtures_are_up_to_date_with_the_generator() {
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_flowlint-gen"))
        .current_dir(root())
        .arg("fixtures")
        .arg(tmp.path())
        .status()
        .expect("run flowlint-gen");
    assert!(status.success(), "flowlint-gen fixtures failed: {status}");
    let committed = root().join("fixtures");
    let generated = files_under(tmp.path());
    let mut problems = Vec::new();
    for f in &generated {
        match fs::read(committed.join(f)) {
            Ok(old) if old == fs::read(tmp.path().join(f)).unwrap() => {}
            Ok(_) => problems.push(format!("differs: fixtures/{}", f.display())),
            Err(_) => problems.push(format!("not committed: fixtures/{}", f.display())),
        }
    }
    for f in files_under(&committed) {
        if !generated.contains(&f) && f.file_name().is_some_and(|n| n != "README.md") {
            problems.push(format!("not generated: fixtures/{}", f.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "fixtures drifted from the generator; run `cargo run --bin flowlint-gen -- fixtures`:\n  {}",
        problems.join("\n  ")
    );
}
