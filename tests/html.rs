//! The HTML report through the binary: chosen by `-o x.html`, one
//! self-contained page, escaped, bounded; then in a real browser
//! (`tests/browser/check-report.js`, playwright-core driving Debian's
//! chromium) against the JSON report of the same run, for the demo and
//! every fixture. The browser part is skipped when chromium, node or
//! `tests/browser/node_modules` is missing, unless `FLOWLINT_BROWSER_TESTS=1`
//! (CI) makes that a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;
use common::fixture_runs;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn flowlint(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(root())
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("run flowlint")
}

const DEMO: [&str; 4] = [
    "--inventory",
    "fixtures/demo/lab.toml",
    "fixtures/demo/lab.pcapng",
    "-q",
];

/// Writes the report of `args` in `format` to `path`; returns the exit status.
fn report(args: &[String], path: &Path) -> i32 {
    let mut a: Vec<&str> = vec!["check", "-o", path.to_str().unwrap()];
    a.extend(args.iter().map(String::as_str));
    let out = flowlint(&a);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "{a:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    code
}

fn demo_args() -> Vec<String> {
    DEMO.iter().map(|s| s.to_string()).collect()
}

#[test]
fn dot_html_picks_the_html_report_and_it_is_one_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    assert_eq!(report(&demo_args(), &html), 1);
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.ends_with("</body></html>\n"));
    assert!(page.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-"
    ));
    // Nothing to load: no src attribute, no link, no URL but the SVG namespace.
    assert!(!page.contains(" src="));
    assert!(!page.contains("<link"));
    assert_eq!(
        page.matches("://").count(),
        page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    assert_eq!(page.matches("<script>").count(), 1);
    assert_eq!(page.matches("<style>").count(), 1);
    // The header, the cards, the findings with their fixes, the sections.
    assert!(page.contains(
        "<dt>input</dt><dd>fixtures/demo/lab.pcapng: pcapng, link type 1, 216 packets</dd>"
    ));
    assert!(page.contains(
        "<dt>time</dt><dd>2026-11-20 10:00:00.000 to 2026-11-20 10:00:13.014 UTC (13.0 s)</dd>"
    ));
    assert!(page
        .contains("<dt>inventory</dt><dd>fixtures/demo/lab.toml: 15 hosts with roles seen</dd>"));
    assert!(page.contains(
        "<a class=\"card v-blocked\" href=\"#f-blocked\" data-verdict=\"blocked\"><b>6</b>blocked"
    ));
    assert_eq!(
        page.matches("<article class=\"finding v-blocked\"").count(),
        6
    );
    assert_eq!(
        page.matches("<article class=\"finding v-unexpected\"")
            .count(),
        4
    );
    assert!(page.contains(
        "<pre class=\"cmd\" data-tool=\"PowerShell\">New-NetFirewallRule -DisplayName &#39;flowlint jp1-itdm/agent-to-manager 31000/tcp&#39; \
         -Direction Inbound -Action Allow -Protocol TCP -LocalPort 31000 -RemoteAddress 192.0.2.128/25 \
         -Description &#39;agents and site servers reporting to the manager&#39;</pre>"
    ));
    for id in [
        "summary",
        "findings",
        "matrix",
        "timeline",
        "hosts",
        "conversations",
        "rules",
    ] {
        assert!(page.contains(&format!("<section id=\"{id}\"")), "{id}");
    }
    assert!(page.contains("<svg class=\"timeline\""));
    assert!(page.contains("<g data-port=\"31000/tcp\" data-attempts=\"5\">"));
    assert_eq!(page.matches("<tr data-verdict=").count(), 33);
    // `--format html` says the same without the extension.
    let other = dir.path().join("report.txt");
    let mut args = demo_args();
    args.extend(["--format".to_string(), "html".to_string()]);
    report(&args, &other);
    assert_eq!(fs::read_to_string(&other).unwrap(), page);
}

#[test]
fn the_baseline_comparison_has_its_section() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("old.json");
    report(&demo_args(), &json);
    let html = dir.path().join("r.html");
    let mut args = demo_args();
    args.extend(["--baseline".to_string(), json.display().to_string()]);
    assert_eq!(report(&args, &html), 0);
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.contains(
        "<section id=\"baseline\"><h2>Compared with the baseline: not worse</h2><p>0 new findings, 0 missing rules, 0 resolved, 0 not seen.</p>"
    ));
}

/// The demo inventory with hostile names.
fn hostile_inventory(dir: &Path) -> (PathBuf, Vec<String>) {
    let names = vec![
        "<script>alert(1)</script>".to_string(),
        "\"><img src=x onerror=window.__pwned=1>".to_string(),
        "'><svg onload=window.__pwned=1>".to_string(),
    ];
    let text = fs::read_to_string(root().join("fixtures/demo/lab.toml")).unwrap();
    let text = text
        .replace(
            "name = \"itdm-mgr\"",
            &format!("name = {}", toml_string(&names[0])),
        )
        .replace(
            "name = \"printer\"",
            &format!("name = {}", toml_string(&names[1])),
        )
        .replace(
            "name = \"sw-server\"",
            &format!("name = {}", toml_string(&names[2])),
        );
    let path = dir.join("hostile.toml");
    fs::write(&path, text).unwrap();
    (path, names)
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn names_from_the_inventory_are_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, names) = hostile_inventory(dir.path());
    let html = dir.path().join("r.html");
    let args: Vec<String> = vec![
        "--inventory".into(),
        inv.display().to_string(),
        "fixtures/demo/lab.pcapng".into(),
        "-q".into(),
    ];
    report(&args, &html);
    let page = fs::read_to_string(&html).unwrap();
    for name in &names {
        assert!(!page.contains(name.as_str()), "{name} unescaped");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; 192.0.2.10"));
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror=window.__pwned=1&gt;"));
    assert_eq!(page.matches("<script").count(), 1);
    assert!(!page.contains("<img") && !page.contains("<svg onload"));
}

#[test]
fn a_scan_makes_a_bounded_page_that_says_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("scan.pcap");
    let gen = Command::new(env!("CARGO_BIN_EXE_flowlint-gen"))
        .args(["flood", "--kind", "scan", "--flows", "65535", "--out"])
        .arg(&pcap)
        .status()
        .unwrap();
    assert!(gen.success());
    let html = dir.path().join("scan.html");
    report(&[pcap.display().to_string(), "-q".into()], &html);
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.len() < 3_000_000, "{} bytes", page.len());
    assert_eq!(page.matches("<tr data-verdict=").count(), 2000);
    assert!(page.contains(
        "… and 63535 more conversations, not in this page (the most severe come first); the JSON report"
    ));
}

/// What the browser test needs, if it is all there.
fn browser() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Err(format!("{} not found", chromium.display()));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node not found".into());
    }
    let dir = root().join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        return Err(
            "tests/browser/node_modules/playwright-core not installed (npm ci there)".into(),
        );
    }
    Ok((chromium, dir))
}

#[test]
fn in_chromium_the_pages_match_their_json_reports() {
    let (chromium, dir) = match browser() {
        Ok(b) => b,
        Err(why) => {
            assert!(
                std::env::var_os("FLOWLINT_BROWSER_TESTS").is_none(),
                "FLOWLINT_BROWSER_TESTS is set, but {why}"
            );
            eprintln!("browser test skipped: {why}");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut add = |name: &str, args: &[String], extra: Value| {
        let html = tmp.path().join(format!("{name}.html"));
        let json = tmp.path().join(format!("{name}.json"));
        report(args, &html);
        report(args, &json);
        let mut case = serde_json::json!({
            "name": name,
            "html": html,
            "json": json,
        });
        if let (Some(c), Some(e)) = (case.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        cases.push(case);
    };
    add(
        "demo",
        &demo_args(),
        serde_json::json!({"screenshot": tmp.path().join("demo.png")}),
    );
    let mut ja = demo_args();
    ja.extend(["--lang".into(), "ja".into()]);
    add("demo-ja", &ja, serde_json::json!({"lang": "ja"}));
    let mut no_inv = vec!["fixtures/demo/lab.pcapng".to_string(), "-q".into()];
    add("demo-no-inventory", &no_inv, Value::Null);
    let (inv, names) = hostile_inventory(tmp.path());
    let hostile: Vec<String> = vec![
        "--inventory".into(),
        inv.display().to_string(),
        "fixtures/demo/lab.pcapng".into(),
        "-q".into(),
    ];
    add(
        "hostile-names",
        &hostile,
        serde_json::json!({"hostile": names}),
    );
    let old = tmp.path().join("baseline.json");
    report(&no_inv, &old);
    let mut with_baseline = demo_args();
    with_baseline.extend(["--baseline".into(), old.display().to_string()]);
    add("demo-baseline", &with_baseline, Value::Null);
    for (name, mut args) in fixture_runs() {
        args.push("-q".into());
        add(&name, &args, Value::Null);
    }
    no_inv.clear();
    let spec = tmp.path().join("cases.json");
    fs::write(&spec, serde_json::to_vec_pretty(&cases).unwrap()).unwrap();
    let out = Command::new("node")
        .current_dir(&dir)
        .arg("check-report.js")
        .arg(&spec)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(
        stdout.contains("ok   demo: the screenshot (1280x900) is not blank"),
        "{stdout}"
    );
}

#[test]
fn the_page_header_states_what_the_text_header_states() {
    // Both reports word their header with the same functions: the page
    // names the inventory, the tunnels and the traffic as the text does.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("t.html");
    report(&["fixtures/tunnels.pcapng".to_string()], &page);
    let html = fs::read_to_string(&page).unwrap();
    let text =
        String::from_utf8(flowlint(&["check", "-q", "fixtures/tunnels.pcapng"]).stdout).unwrap();
    for label in ["input", "inventory", "traffic"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        let fact = line.trim_start()[label.len()..].trim();
        assert!(
            html.contains(&format!("<dt>{label}</dt><dd>{fact}</dd>")),
            "{label}: {fact}"
        );
    }
}
