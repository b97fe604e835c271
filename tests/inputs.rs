//! Inputs and outputs as tcpdump, tshark and ripgrep users expect them
//! (SPEC 1.1): compressed captures recognised by content, `-` for standard
//! input, `-o -` for standard output, the report never written over a
//! capture, the format taken from `-o`'s extension, an empty `--fail-on`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const DEMO: &str = "fixtures/demo/lab.pcapng";
const DEMO_INV: &str = "fixtures/demo/lab.toml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn flowlint_with_stdin(args: &[&str], stdin: Option<Vec<u8>>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowlint");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    child.wait_with_output().unwrap()
}

fn flowlint(args: &[&str]) -> Output {
    flowlint_with_stdin(args, None)
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowlint-inputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn report(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn demo_bytes() -> Vec<u8> {
    std::fs::read(root().join(DEMO)).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The report with what depends on how the capture was given left out.
fn judged(mut doc: Value) -> Value {
    doc["inputs"] = Value::Null;
    doc
}

#[test]
fn compressed_captures_are_recognised_by_content_and_give_the_same_report() {
    let dir = temp("compressed");
    let plain = report(&flowlint(&[
        "check",
        "-q",
        "--inventory",
        DEMO_INV,
        "--format",
        "json",
        DEMO,
    ]));
    assert_eq!(plain["inputs"][0]["format"], "pcapng");
    let bytes = demo_bytes();
    let cut = gzip(&bytes);
    for (name, data, format) in [
        // Names that say nothing: recognised by the magic bytes alone.
        ("lab.capture", gzip(&bytes), "pcapng+gzip"),
        (
            "lab.bin",
            zstd::encode_all(&bytes[..], 3).unwrap(),
            "pcapng+zstd",
        ),
        ("lab", xz(&bytes), "pcapng+xz"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        let o = flowlint(&[
            "check",
            "-q",
            "--inventory",
            DEMO_INV,
            "--format",
            "json",
            path.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let doc = report(&o);
        assert_eq!(doc["inputs"][0]["format"], format);
        assert_eq!(doc["inputs"][0]["warnings"], serde_json::json!([]));
        assert_eq!(judged(doc), judged(plain.clone()), "{name}");
    }
    // Cut short: analysed up to the damage, which is a warning.
    let path = dir.join("cut.pcapng.gz");
    std::fs::write(&path, &cut[..cut.len() * 2 / 3]).unwrap();
    let o = flowlint(&["check", "-q", "--format", "json", path.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)));
    let doc = report(&o);
    let packets = doc["summary"]["packets"].as_u64().unwrap();
    assert!(packets > 0 && packets < plain["summary"]["packets"].as_u64().unwrap());
    let warnings = doc["inputs"][0]["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty(), "{doc}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning"));
}

#[test]
fn a_dash_reads_the_capture_from_standard_input() {
    let plain = report(&flowlint(&[
        "check",
        "-q",
        "--inventory",
        DEMO_INV,
        "--format",
        "json",
        DEMO,
    ]));
    for data in [demo_bytes(), gzip(&demo_bytes())] {
        let o = flowlint_with_stdin(
            &[
                "check",
                "-q",
                "--inventory",
                DEMO_INV,
                "--format",
                "json",
                "-",
            ],
            Some(data),
        );
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let doc = report(&o);
        assert_eq!(doc["inputs"][0]["path"], "-");
        assert_eq!(judged(doc), judged(plain.clone()));
    }
    // Standard input once only.
    let o = flowlint_with_stdin(&["check", "-", "-"], Some(demo_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("standard input"));
    // Not a capture on standard input: one line naming it.
    let o = flowlint_with_stdin(&["check", "-"], Some(b"hello, not a capture".to_vec()));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("-: at byte 0: not a pcap or pcapng file"),
        "{err}"
    );
}

#[test]
fn dash_o_dash_is_standard_output() {
    let dir = temp("dash");
    let o = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(&dir)
        .args(["check", "-q", "--format", "json", "-o", "-"])
        .arg(root().join(DEMO))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(report(&o)["schema"], "flowlint.report.v1");
    assert!(!dir.join("-").exists(), "a file named '-' was written");
}

#[test]
fn the_report_is_never_written_over_an_input_capture() {
    let dir = temp("overwrite");
    let copy = dir.join("copy.pcapng");
    std::fs::copy(root().join(DEMO), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    // Also through another name for the same file.
    let link = dir.join("link.pcapng");
    std::fs::hard_link(&copy, &link).unwrap();
    for out in [&copy, &link] {
        let o = flowlint(&["check", "-o", out.to_str().unwrap(), copy.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("input capture"), "{err}");
    }
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

#[test]
fn the_output_file_extension_chooses_the_format_unless_format_is_given() {
    let dir = temp("extension");
    let json = dir.join("out.json");
    let jsonl = dir.join("out.jsonl");
    let text = dir.join("out.txt");
    let forced = dir.join("forced.json");
    for (out, extra) in [
        (&json, None),
        (&jsonl, None),
        (&text, None),
        (&forced, Some("text")),
    ] {
        let mut args = vec!["check", "-q", "-o", out.to_str().unwrap()];
        if let Some(f) = extra {
            args.extend(["--format", f]);
        }
        args.push(DEMO);
        assert_eq!(flowlint(&args).status.code(), Some(1));
    }
    let doc: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], "flowlint.report.v1");
    let lines = std::fs::read_to_string(&jsonl).unwrap();
    assert!(lines.lines().count() > 1);
    for line in lines.lines() {
        let _: Value = serde_json::from_str(line).unwrap();
    }
    assert!(std::fs::read_to_string(&text)
        .unwrap()
        .starts_with("flowlint report"));
    assert!(std::fs::read_to_string(&forced)
        .unwrap()
        .starts_with("flowlint report"));
}

#[test]
fn an_empty_fail_on_is_an_error_and_verdicts_may_be_written_as_the_summary_writes_them() {
    let o = flowlint(&["check", "--fail-on", "", DEMO]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--fail-on") && err.contains("none"), "{err}");
    for spelling in ["wrong direction", "wrong-direction", "WRONG_DIRECTION"] {
        let o = flowlint(&[
            "check",
            "-q",
            "--inventory",
            DEMO_INV,
            "--fail-on",
            spelling,
            DEMO,
        ]);
        assert_eq!(o.status.code(), Some(1), "{spelling}");
    }
    let o = flowlint(&[
        "check",
        "-q",
        "--inventory",
        DEMO_INV,
        "--fail-on",
        "none",
        DEMO,
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn dash_r_is_tcpdumps_spelling_of_a_capture_and_a_missing_capture_is_named() {
    let plain = report(&flowlint(&["check", "-q", "--format", "json", DEMO]));
    let o = flowlint(&["check", "-q", "--format", "json", "-r", DEMO]);
    assert_eq!(judged(report(&o)), judged(plain));
    let o = flowlint(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("<CAPTURE>") && err.contains("- for standard input"),
        "{err}"
    );
}

#[test]
fn color_follows_the_color_flag_no_color_and_clicolor_force() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flowlint"));
        c.current_dir(root())
            .args(args)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            c.env(k, v);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    let base = ["check", "-q", "--inventory", DEMO_INV, DEMO];
    let escape = "\x1b[";
    // Piped: no colour unless asked for.
    assert!(!run(&base, &[]).contains(escape));
    assert!(run(&[&base[..], &["--color", "always"]].concat(), &[]).contains(escape));
    assert!(run(&base, &[("CLICOLOR_FORCE", "1")]).contains(escape));
    assert!(!run(
        &[&base[..], &["--color", "never"]].concat(),
        &[("CLICOLOR_FORCE", "1")]
    )
    .contains(escape));
}

#[test]
fn jsonl_names_fields_as_the_json_report_does() {
    let o = flowlint(&[
        "check",
        "-q",
        "--inventory",
        DEMO_INV,
        "--format",
        "jsonl",
        DEMO,
    ]);
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let find = |server: &str, port: u64, state: &str| {
        lines
            .iter()
            .find(|l| l["server"] == server && l["server_port"] == port && l["state"] == state)
            .unwrap_or_else(|| panic!("no {state} connection to {server}:{port}"))
    };
    // An ICMP unreachable from a router names it; a refusal by the server does not.
    assert_eq!(
        find("198.51.100.20", 31000, "unreachable")["blocked_by"],
        "203.0.113.1"
    );
    let refused = find("192.0.2.132", 16992, "refused");
    assert!(
        refused.get("blocked_by").is_none() && refused.get("failed_by").is_none(),
        "{refused}"
    );
    for l in &lines {
        assert!(
            matches!(l["started_before_capture"].as_u64(), Some(0 | 1)),
            "{l}"
        );
        assert!(l["duration"].as_f64().unwrap() >= 0.0, "{l}");
    }
    let midstream = lines
        .iter()
        .find(|l| l["state"] == "midstream")
        .expect("a midstream connection");
    assert_eq!(midstream["started_before_capture"], 1);
}
