//! `flowlint plan` and `flowlint catalog` through the binary: one line per
//! firewall opening, columns aligned by display width (Japanese included),
//! CSV and Markdown that parse, the roles' Japanese names in the catalog.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use unicode_width::UnicodeWidthStr;

const DEMO_INV: &str = "fixtures/demo/lab.toml";

fn flowlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowlint"))
        // English whatever the locale of the machine running the tests.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run flowlint")
}

fn ok_stdout(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

/// An inventory with Japanese, long and awkward (`|`, `,`, `"`) host names.
fn awkward_inventory(dir: &Path) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        r#"
[[hosts]]
name = "管理用サーバ1号機"
address = "192.0.2.10"
roles = ["jp1-itdm.manager"]

[[hosts]]
name = "a-very-long-agent-block-name-for-the-third-floor"
address = "192.0.2.128/25"
roles = ["jp1-itdm.agent"]

[[hosts]]
name = "sw|srv, \"main\""
address = "192.0.2.20"
roles = ["systemwalker-om.server"]
os = "windows"

[[hosts]]
name = "ジョブサーバ"
address = "2001:db8::21"
roles = ["systemwalker-om.server"]
os = "windows"

[[hosts]]
name = "cl"
address = "192.0.2.70"
roles = ["systemwalker-om.client"]
"#,
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// Display columns at which the cells of a header start (cells are separated
/// by two or more blanks; a header cell has at most single blanks inside).
fn header_starts(header: &str) -> Vec<usize> {
    let mut starts = vec![UnicodeWidthStr::width(
        &header[..header.len() - header.trim_start().len()],
    )];
    let bytes = header.as_bytes();
    let mut i = 0;
    while i + 2 < bytes.len() {
        if bytes[i] == b' ' && bytes[i + 1] == b' ' {
            let mut j = i;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            if j < bytes.len() {
                starts.push(UnicodeWidthStr::width(&header[..j]));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    starts
}

/// The character at display column `col` of `line`, if a character starts
/// there, and the one before it.
fn at_column(line: &str, col: usize) -> Option<(char, char)> {
    let mut w = 0;
    let mut prev = ' ';
    for ch in line.chars() {
        if w == col {
            return Some((prev, ch));
        }
        if w > col {
            return None;
        }
        w += unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        prev = ch;
    }
    None
}

/// Every line's cells start where the header's do: a character begins at
/// that display column, after a blank.
fn assert_aligned(lines: &[&str]) {
    let starts = header_starts(lines[0]);
    assert!(starts.len() >= 3, "header: {:?}", lines[0]);
    for line in &lines[1..] {
        for &col in &starts[1..] {
            if UnicodeWidthStr::width(*line) <= col {
                // Empty trailing cells are not written.
                break;
            }
            match at_column(line, col) {
                Some((prev, ch)) => assert!(
                    prev == ' ' && ch != ' ',
                    "column at {col} out of line in {line:?} (header {:?})",
                    lines[0]
                ),
                None => panic!("no cell at column {col} in {line:?}"),
            }
        }
        assert!(!line.ends_with(' '), "trailing blanks: {line:?}");
    }
}

#[test]
fn the_9352_opening_between_two_servers_is_listed_once_with_its_three_rules() {
    let text = ok_stdout(&flowlint(&["plan", "--inventory", DEMO_INV]));
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("sw-unix (192.0.2.21)") && l.contains("sw-server (192.0.2.20)"))
        .filter(|l| l.contains(" 9352/tcp "))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    for rule in ["jmnet-job-kill", "jmnet-job-end", "jmnet-message-event"] {
        assert!(lines[0].contains(rule), "{rule} missing: {}", lines[0]);
    }
    // JSON: one entry per opening, with its rules; the old fields stay.
    let doc: Value = serde_json::from_str(&ok_stdout(&flowlint(&[
        "plan",
        "--inventory",
        DEMO_INV,
        "--format",
        "json",
    ])))
    .unwrap();
    let flows = doc["flows"].as_array().unwrap();
    let same: Vec<&Value> = flows
        .iter()
        .filter(|f| {
            f["client"] == "192.0.2.21"
                && f["server"] == "192.0.2.20"
                && f["ports"] == "9352"
                && f["protocol"] == "tcp"
        })
        .collect();
    assert_eq!(same.len(), 1);
    let ids: Vec<&str> = same[0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "systemwalker-om/jmnet-job-kill",
            "systemwalker-om/jmnet-job-end",
            "systemwalker-om/jmnet-message-event"
        ]
    );
    assert_eq!(same[0]["rule"], "systemwalker-om/jmnet-job-kill");
    assert_eq!(same[0]["server_name"], "sw-server");
    // No opening twice.
    let mut keys: Vec<String> = flows
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["client"], f["server"], f["ports"], f["protocol"]
            )
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "an opening is listed twice");
    // A host that is both ends of a rule needs no opening: listed apart.
    assert!(!flows
        .iter()
        .any(|f| f["client"] == f["server"] && !f["client"].as_str().unwrap().contains('/')));
    let within = doc["within_host"].as_array().unwrap();
    assert!(within
        .iter()
        .any(|f| f["server"] == "192.0.2.20" && f["ports"] == "9352"));
    assert!(text.contains("Within one host, no firewall opening needed"));
}

#[test]
fn plan_uses_the_ports_the_inventory_changed() {
    let text = ok_stdout(&flowlint(&["plan", "--inventory", "fixtures/ports.toml"]));
    assert!(text.contains("31100/tcp"), "{text}");
    assert!(!text.contains(" 31000/tcp "), "{text}");
    assert!(text.contains("9452/tcp"), "{text}");
}

#[test]
fn plan_columns_line_up_whatever_the_width_of_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let inv = awkward_inventory(dir.path());
    for inventory in [DEMO_INV, inv.as_str()] {
        let text = ok_stdout(&flowlint(&["plan", "--inventory", inventory]));
        let table: Vec<&str> = text
            .lines()
            .take_while(|l| !l.contains(" to allow ("))
            .collect();
        assert!(table.len() > 3, "{text}");
        assert_aligned(&table);
    }
    let text = ok_stdout(&flowlint(&["plan", "--inventory", &inv]));
    assert!(text.contains("管理用サーバ1号機 (192.0.2.10)"), "{text}");
    assert!(text.contains("ジョブサーバ (2001:db8::21)"), "{text}");
}

/// A minimal RFC 4180 reader: quoted fields with doubled quotes, CRLF records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => assert_eq!(chars.next(), Some('\n'), "CR without LF"),
            '\n' => panic!("bare LF ends a record"),
            _ => field.push(c),
        }
        if c == '\r' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "last record without CRLF"
    );
    rows
}

#[test]
fn plan_csv_parses_with_its_header_and_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let inv = awkward_inventory(dir.path());
    let text = ok_stdout(&flowlint(&["plan", "--inventory", &inv, "--format", "csv"]));
    let body = text
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte order mark for Excel");
    let rows = parse_csv(body);
    assert_eq!(
        rows[0],
        [
            "client",
            "client_name",
            "server",
            "server_name",
            "ports",
            "protocol",
            "rules",
            "purpose",
            "purpose_ja",
            "condition"
        ]
    );
    assert!(rows.len() > 5);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
    // The name with a comma, a pipe and quotes comes back as written.
    assert!(rows.iter().any(|r| r[3] == "sw|srv, \"main\""), "{body}");
    // A purpose with commas stays one field.
    assert!(rows
        .iter()
        .any(|r| r[7] == "registering, monitoring and operating job nets"));
    assert!(rows
        .iter()
        .any(|r| r[1] == "管理用サーバ1号機" || r[3] == "管理用サーバ1号機"));
    // Merged rules in one field.
    let jmnet = rows
        .iter()
        .find(|r| r[0] == "192.0.2.20" && r[2] == "2001:db8::21" && r[4] == "9352")
        .expect("9352 between the two servers");
    assert_eq!(
        jmnet[6],
        "systemwalker-om/jmnet-job-kill; systemwalker-om/jmnet-job-end; systemwalker-om/jmnet-message-event"
    );
}

#[test]
fn plan_markdown_is_a_table_with_five_columns() {
    let dir = tempfile::tempdir().unwrap();
    let inv = awkward_inventory(dir.path());
    for format in ["markdown", "md"] {
        let text = ok_stdout(&flowlint(&[
            "plan",
            "--inventory",
            &inv,
            "--format",
            format,
        ]));
        let table: Vec<&str> = text.lines().take_while(|l| l.starts_with('|')).collect();
        assert!(table.len() > 3, "{text}");
        assert_eq!(table[1], "|---|---|---|---|---|");
        for line in &table {
            // Cell separators: pipes not escaped by a backslash.
            let mut n = 0;
            let mut prev = ' ';
            for c in line.chars() {
                if c == '|' && prev != '\\' {
                    n += 1;
                }
                prev = c;
            }
            assert_eq!(n, 6, "{line}");
        }
        assert!(text.contains("sw\\|srv"), "{text}");
        assert!(text.contains(" to allow ("));
    }
    let o = flowlint(&["plan", "--inventory", &inv, "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn catalog_text_shows_role_names_in_japanese_and_english_aligned() {
    let text = ok_stdout(&flowlint(&["catalog"]));
    let manager = text
        .lines()
        .find(|l| l.trim_start().starts_with("manager ") && l.contains("管理用サーバ"))
        .expect("the manager role with its Japanese name");
    assert!(manager.contains("management server"), "{manager}");
    assert!(text.contains("ジョブ依頼元サーバ"));
    assert!(text.contains("a host with server also holds job_requester"));
    // Each roles table lines up, Japanese names included.
    let lines: Vec<&str> = text.lines().collect();
    let mut tables = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.trim_start().starts_with("role ") && l.contains("日本語") {
            let rows: Vec<&str> = lines[i..]
                .iter()
                .copied()
                .take_while(|r| r.starts_with("    ") && !r.contains(" also holds "))
                .collect();
            assert!(rows.len() > 3);
            assert_aligned(&rows);
            tables += 1;
        }
        if l.trim_start().starts_with("rule ") && l.contains("client → server") {
            // The rule lines (not the purpose lines below them) line up.
            let rows: Vec<&str> = lines[i..]
                .iter()
                .copied()
                .take_while(|r| r.starts_with("    "))
                .filter(|r| !r.starts_with("        "))
                .collect();
            assert!(rows.len() > 3);
            assert_aligned(&rows);
            tables += 1;
        }
    }
    assert_eq!(tables, 4, "two catalogs, a roles and a rules table each");
    // Port changes show in the aligned table too.
    let text = ok_stdout(&flowlint(&[
        "catalog",
        "--inventory",
        "fixtures/ports.toml",
    ]));
    assert!(text.contains("31100/tcp (was 31000)"), "{text}");
}
