//! Japanese output through the binary: the language from `--lang` or the
//! locale variables, the demo report in both languages (insta snapshots),
//! one-line errors, JSON that stays English apart from `reason`, and help.

use std::path::Path;
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `flowlint` piped, in UTC, with exactly the locale variables given.
fn flowlint(args: &[&str], locale: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowlint"));
    cmd.current_dir(root())
        .args(args)
        .env("TZ", "UTC")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in locale {
        cmd.env(k, v);
    }
    cmd.output().expect("run flowlint")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8")
}

const DEMO: [&str; 4] = [
    "check",
    "--inventory",
    "fixtures/demo/lab.toml",
    "fixtures/demo/lab.pcapng",
];

fn demo(extra: &[&str], locale: &[(&str, &str)]) -> Output {
    let mut args: Vec<&str> = DEMO.to_vec();
    args.extend_from_slice(extra);
    flowlint(&args, locale)
}

fn is_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn the_demo_report_in_japanese() {
    let o = demo(&["-q", "--lang", "ja"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("flowlint レポート: 遮断の疑い 6、逆方向 2、想定外 5"),
        "{text}"
    );
    // Role names from the catalogs' Japanese labels.
    assert!(text.contains("管理用サーバ → エージェント"), "{text}");
    insta::assert_snapshot!("demo_ja", text);
}

#[test]
fn the_demo_report_in_english() {
    let o = demo(&["-q", "--lang", "en"], &[]);
    let text = stdout(&o);
    assert!(text.starts_with("flowlint report: 6 blocked"), "{text}");
    assert!(!is_japanese(&text.replace("(注1)", "")), "{text}");
    insta::assert_snapshot!("demo_en", text);
}

#[test]
fn lang_ja_jp_picks_japanese_and_lang_en_overrides_it() {
    let ja = demo(&[], &[("LANG", "ja_JP.UTF-8")]);
    assert!(stdout(&ja).starts_with("flowlint レポート"));
    // The summary line on standard error too.
    let summary = stderr(&ja);
    assert!(
        summary.starts_with("flowlint: パケット 216 個、接続 35 件、通信 33 件。遮断の疑い 6"),
        "{summary}"
    );
    let en = demo(&["--lang", "en"], &[("LANG", "ja_JP.UTF-8")]);
    assert!(stdout(&en).starts_with("flowlint report"));
    assert!(
        stderr(&en).starts_with("flowlint: 216 packets"),
        "{}",
        stderr(&en)
    );
    // LC_ALL before LANG; an empty LC_ALL is skipped.
    let c = demo(&[], &[("LANG", "ja_JP.UTF-8"), ("LC_ALL", "C")]);
    assert!(stdout(&c).starts_with("flowlint report"));
    let empty = demo(&[], &[("LC_ALL", ""), ("LC_MESSAGES", "ja_JP.UTF-8")]);
    assert!(stdout(&empty).starts_with("flowlint レポート"));
}

#[test]
fn errors_in_japanese_are_still_one_line_with_status_2() {
    for args in [
        vec!["--lang", "ja", "check", "no-such-file.pcap"],
        vec![
            "--lang",
            "ja",
            "check",
            "--fail-on",
            "",
            "fixtures/demo/lab.pcapng",
        ],
        vec![
            "--lang",
            "ja",
            "check",
            "--reply-timeout",
            "-1",
            "fixtures/demo/lab.pcapng",
        ],
        vec!["--lang", "ja", "check", "--nope"],
        vec!["--lang", "ja", "check"],
        vec!["--lang", "ja", "check", "-", "-"],
    ] {
        let o = flowlint(&args, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("flowlint: エラー: "), "{args:?}: {err}");
        assert!(
            is_japanese(&err["flowlint: エラー: ".len()..]),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // The same failure in English is unchanged.
    let o = flowlint(&["check", "--reply-timeout", "-1", "x.pcap"], &[]);
    assert_eq!(
        stderr(&o),
        "flowlint: error: --reply-timeout -1: give a number of seconds from 0 to 999999\n"
    );
}

#[test]
fn json_keys_and_values_stay_english_and_reason_follows_the_language() {
    let run = |lang: &str| -> serde_json::Value {
        let o = demo(&["-q", "--format", "json", "--lang", lang], &[]);
        serde_json::from_slice(&o.stdout).expect("JSON")
    };
    let (en, ja) = (run("en"), run("ja"));
    let (ce, cj) = (
        en["conversations"].as_array().unwrap(),
        ja["conversations"].as_array().unwrap(),
    );
    assert_eq!(ce.len(), cj.len());
    for (e, j) in ce.iter().zip(cj) {
        let (e, j) = (e.as_object().unwrap(), j.as_object().unwrap());
        assert!(e.keys().eq(j.keys()));
        for (k, v) in e {
            if k == "reason" {
                assert_ne!(v, &j[k]);
                assert!(is_japanese(j[k].as_str().unwrap()), "{}", j[k]);
            } else if k == "fix" {
                // The fix's sentence follows the language; its kind, place
                // and commands do not.
                let (fe, fj) = (v.as_object().unwrap(), j[k].as_object().unwrap());
                assert!(fe.keys().eq(fj.keys()));
                for (fk, fv) in fe {
                    if fk == "text" {
                        assert!(!is_japanese(fv.as_str().unwrap()), "{fv}");
                        assert!(is_japanese(fj[fk].as_str().unwrap()), "{}", fj[fk]);
                    } else {
                        assert_eq!(fv, &fj[fk], "fix.{fk}");
                    }
                }
            } else {
                assert_eq!(v, &j[k], "{k}");
            }
        }
        assert!(e["reason_code"].is_string());
    }
    let codes: Vec<&str> = ce
        .iter()
        .map(|c| c["reason_code"].as_str().unwrap())
        .collect();
    for code in [
        "no_reply",
        "icmp_blocked_by_third_party",
        "icmp_unreachable_from_server",
        "reset_by_middlebox",
        "refused_by_server",
        "unanswered",
        "os_condition",
        "feature_not_enabled",
        "wrong_direction",
        "allowed",
    ] {
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
}

#[test]
fn jsonl_lines_carry_the_reason_code() {
    let o = demo(&["-q", "--format", "jsonl", "--lang", "ja"], &[]);
    let text = stdout(&o);
    assert!(text.lines().count() > 10);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["reason_code"].is_string(), "{line}");
        // Only a fix's sentence is for people.
        let mut v = v;
        if let Some(fix) = v.get_mut("fix") {
            assert!(is_japanese(fix["text"].as_str().unwrap()), "{line}");
            fix["text"] = serde_json::Value::Null;
        }
        assert!(!is_japanese(&v.to_string()), "{line}");
    }
}

#[test]
fn the_html_report_says_its_language() {
    let ja = demo(&["-q", "--format", "html", "--lang", "ja"], &[]);
    let page = stdout(&ja);
    assert!(page.contains("<html lang=\"ja\">"));
    assert!(page.contains("<h1>flowlint レポート</h1>"));
    for label in ["入力", "期間", "カタログ", "インベントリ", "通信"] {
        assert!(page.contains(&format!("<dt>{label}</dt>")), "{label}");
    }
    let en = demo(&["-q", "--format", "html", "--lang", "en"], &[]);
    let page = stdout(&en);
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("<dt>input</dt>") && page.contains("<dt>time</dt>"));
}

#[test]
fn help_of_every_subcommand_is_japanese() {
    for sub in ["check", "live", "plan", "catalog"] {
        let o = flowlint(&[sub, "--help"], &[("LANG", "ja_JP.UTF-8")]);
        let help = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{sub}");
        assert!(help.contains("使い方:"), "{sub}: {help}");
        assert!(!help.contains("Print help"), "{sub}: {help}");
        let en = flowlint(&[sub, "--help", "--lang", "en"], &[("LANG", "ja_JP.UTF-8")]);
        assert!(stdout(&en).contains("Usage:"), "{sub}");
    }
}

#[test]
fn plan_and_catalog_tables_in_japanese() {
    let plan = flowlint(
        &[
            "plan",
            "--inventory",
            "fixtures/demo/lab.toml",
            "--lang",
            "ja",
        ],
        &[],
    );
    let text = stdout(&plan);
    assert!(text.starts_with("接続元（クライアント）"), "{text}");
    assert!(text.contains("許可すべき通信"), "{text}");
    // Markdown is for people too; CSV keeps its English header (for
    // spreadsheets and scripts that look columns up by name).
    let md = |lang: &str| {
        stdout(&flowlint(
            &[
                "plan",
                "--inventory",
                "fixtures/demo/lab.toml",
                "--format",
                "markdown",
                "--lang",
                lang,
            ],
            &[],
        ))
    };
    let ja = md("ja");
    assert!(
        ja.starts_with("| 接続元（クライアント） | 接続先（サーバ） | ポート | ルール | 用途 |"),
        "{ja}"
    );
    assert!(ja.contains("\n許可すべき通信 "), "{ja}");
    assert!(md("en").starts_with("| client | server | port | rules | purpose |"));
    let csv = |lang: &str| {
        stdout(&flowlint(
            &[
                "plan",
                "--inventory",
                "fixtures/demo/lab.toml",
                "--format",
                "csv",
                "--lang",
                lang,
            ],
            &[],
        ))
    };
    let header = |s: String| s.lines().next().unwrap_or_default().to_string();
    assert_eq!(header(csv("ja")), header(csv("en")));
    let catalog = flowlint(&["catalog", "--lang", "ja"], &[]);
    let text = stdout(&catalog);
    assert!(
        text.contains("  役割:") && text.contains("  ルール:"),
        "{text}"
    );
}

/// Runs `flowlint --lang ja ARGS` and returns its one stderr line, after
/// checking status 2, nothing on stdout and a single line.
fn japanese_failure(args: &[&str]) -> String {
    let mut all = vec!["--lang", "ja"];
    all.extend_from_slice(args);
    let o = flowlint(&all, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("flowlint: エラー: "), "{err}");
    err
}

#[test]
fn a_bad_capture_inventory_catalog_or_services_file_is_one_japanese_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let capture = file("web.pcap", "GET / HTTP/1.1\r\n\r\n");
    assert_eq!(
        japanese_failure(&["check", "-q", &capture]),
        format!(
            "flowlint: エラー: {capture}: 0 バイト目: pcap でも pcapng でも、Zeek の conn.log \
             でも nfdump -o json/csv の出力でもありません（先頭のマジック番号 0x47455420）\n"
        )
    );
    let missing = dir.path().join("none.pcap").display().to_string();
    assert_eq!(
        japanese_failure(&["check", "-q", &missing]),
        format!("flowlint: エラー: {missing}: 開けません: ファイルがありません\n")
    );

    let inventory = file(
        "site.toml",
        "[[hosts]]\naddress = \"10.0.0.300\"\nroles = []\n",
    );
    assert_eq!(
        japanese_failure(&["plan", "--inventory", &inventory]),
        format!(
            "flowlint: エラー: インベントリ {inventory} 2 行目: アドレス '10.0.0.300' が正しくありません\
             （IPv4/IPv6 アドレスか CIDR ブロックを書いてください）\n"
        )
    );

    let catalog = file(
        "site-catalog.toml",
        "[catalog]\nname = \"site\"\n\n[[roles]]\nname = \"a\"\n\n[[roles]]\nname = \"a\"\n",
    );
    assert_eq!(
        japanese_failure(&["catalog", "--catalog", &catalog]),
        format!("flowlint: エラー: カタログ {catalog} 8 行目: 役割 'a' が 2 回定義されています\n")
    );
    assert_eq!(
        japanese_failure(&["catalog", "--catalog", "hp-openview"]),
        "flowlint: エラー: カタログ --catalog: カタログ 'hp-openview' がありません。\
         組み込み（jp1-itdm、systemwalker-om）でも読めるファイルでもありません\n"
    );

    let services = file("services", "jmnet\n");
    assert_eq!(
        japanese_failure(&["catalog", "--services", &services]),
        format!(
            "flowlint: エラー: サービスファイル {services} 1 行目: サービス 'jmnet' にポート/プロトコルがありません\
             （例: \"jmnet 1234/tcp\"）\n"
        )
    );

    // A port change the catalogs do not have: the inventory's line.
    let moved = file(
        "moved.toml",
        "[[hosts]]\naddress = \"10.0.0.1\"\nroles = [\"jp1-itdm.agent\"]\n\n\
         [ports]\n\"jp1-itdm/31999/tcp\" = 31100\n",
    );
    assert_eq!(
        japanese_failure(&["plan", "--inventory", &moved]),
        format!(
            "flowlint: エラー: インベントリ {moved} 6 行目: ポート変更 'jp1-itdm/31999/tcp': \
             jp1-itdm に 31999/tcp を使うルールはありません\n"
        )
    );

    // The English lines are the library's, unchanged.
    let o = flowlint(&["--lang", "en", "plan", "--inventory", &inventory], &[]);
    assert_eq!(
        stderr(&o),
        format!(
            "flowlint: error: {inventory}:2: malformed address '10.0.0.300' \
             (expected an IPv4/IPv6 address or CIDR block)\n"
        )
    );
}

#[test]
fn argument_errors_are_japanese_sentences() {
    assert_eq!(
        japanese_failure(&["check", "--nope", "x.pcap"]),
        "flowlint: エラー: 引数の誤り: 不明な引数 '--nope' です（flowlint --help を参照）\n"
    );
    assert_eq!(
        japanese_failure(&["check", "--formt", "json", "x.pcap"]),
        "flowlint: エラー: 引数の誤り: 不明な引数 '--formt' です（もしかして --format）\
         （flowlint --help を参照）\n"
    );
    assert_eq!(
        japanese_failure(&["check", "--format", "xml", "x.pcap"]),
        "flowlint: エラー: 引数の誤り: --format <FORMAT> に値 'xml' は使えません\
         （使える値: text、json、jsonl、html）（もしかして html）（flowlint --help を参照）\n"
    );
    assert_eq!(
        japanese_failure(&["check", "-j", "many", "x.pcap"]),
        "flowlint: エラー: 引数の誤り: --threads <N> の値 'many' が正しくありません\
         （flowlint --help を参照）\n"
    );
    assert_eq!(
        japanese_failure(&["frob"]),
        "flowlint: エラー: 引数の誤り: 不明なコマンド 'frob' です（flowlint --help を参照）\n"
    );
    // English keeps clap's sentence.
    let o = flowlint(&["check", "--nope", "x.pcap"], &[]);
    assert!(
        stderr(&o).starts_with("flowlint: error: unexpected argument '--nope' found"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_lines_and_the_help_subcommand_are_japanese() {
    let help = stdout(&flowlint(&["--lang", "ja", "--help"], &[]));
    assert!(
        help.contains("使い方: flowlint [オプション] <コマンド>"),
        "{help}"
    );
    assert!(
        help.contains("help     このヘルプ、または指定したコマンドのヘルプを表示します"),
        "{help}"
    );
    assert!(
        !help.contains("[OPTIONS]") && !help.contains("Print"),
        "{help}"
    );
    let check = stdout(&flowlint(&["--lang", "ja", "check", "--help"], &[]));
    assert!(
        check.contains("使い方: flowlint check [オプション]"),
        "{check}"
    );
    let sub = flowlint(&["--lang", "ja", "help", "plan"], &[]);
    assert_eq!(sub.status.code(), Some(0));
    assert!(
        stdout(&sub).contains("使い方: flowlint plan [オプション]"),
        "{}",
        stdout(&sub)
    );
}

#[test]
fn warnings_of_a_truncated_capture_are_japanese_on_stderr_and_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(root().join("fixtures/demo/lab.pcapng")).unwrap();
    let path = dir.path().join("cut.pcapng");
    std::fs::write(&path, &whole[..whole.len() - 10]).unwrap();
    let path = path.display().to_string();
    let args = |lang: &'static str| -> Vec<String> {
        [
            "--lang",
            lang,
            "check",
            "-q",
            "--format",
            "json",
            "--fail-on",
            "none",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([path.clone()])
        .collect()
    };
    let run = |lang: &'static str| {
        let a = args(lang);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        flowlint(&a, &[])
    };
    let (en, ja) = (run("en"), run("ja"));
    assert_eq!(ja.status.code(), Some(0), "{}", stderr(&ja));
    let err = stderr(&ja);
    let line = err.lines().next().unwrap_or_default();
    let prefix = format!("flowlint: 警告: {path}: ");
    assert!(
        line.starts_with(&prefix)
            && line.contains(" バイト目: レコードの途中でファイルが終わっています（"),
        "{err}"
    );
    assert!(
        stderr(&en)
            .lines()
            .next()
            .is_some_and(|l| l.contains(": at byte ") && l.contains("file ends inside a record")),
        "{}",
        stderr(&en)
    );
    // In JSON too the warning is a sentence for people, as `reason` is.
    let json = |o: &Output| -> String {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["inputs"][0]["warnings"][0].as_str().unwrap().to_string()
    };
    assert!(json(&en).starts_with("at byte "), "{}", json(&en));
    assert!(
        json(&ja).contains(" バイト目: レコードの途中でファイルが終わっています（"),
        "{}",
        json(&ja)
    );
}

/// `check --format json --fail-on none` of one input in `lang`: stderr and
/// the JSON's `inputs[0].warnings`.
fn warnings_of(path: &str, lang: &str) -> (String, Vec<String>) {
    let o = flowlint(
        &[
            "--lang",
            lang,
            "check",
            "-q",
            "--format",
            "json",
            "--fail-on",
            "none",
            path,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v["inputs"][0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    (stderr(&o), list)
}

#[test]
fn bad_flow_record_lines_are_warned_in_the_language() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conn.log");
    std::fs::write(
        &path,
        "#separator \\x09\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
         1700000000.000000\tC1\t10.0.0.1\t40000\t10.0.0.2\t22\ttcp\n\
         1700000001.000000\tC2\t10.0.0.1\t40001\tnot-an-address\t22\ttcp\n\
         1700000002.000000\tC3\t10.0.0.1\t40002\t10.0.0.2\t22\tsctp\n",
    )
    .unwrap();
    let path = path.display().to_string();
    let (err, ja) = warnings_of(&path, "ja");
    assert_eq!(
        ja,
        [
            "140 バイト目: 5 行目: id.resp_h \"not-an-address\" は IP アドレスではありません。このレコードは読み飛ばしました",
            "198 バイト目: 6 行目: proto \"sctp\" は tcp、udp、icmp、unknown_transport のどれでもありません。このレコードは読み飛ばしました",
        ]
        .map(String::from),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "flowlint: 警告: {path}: 140 バイト目: 5 行目: id.resp_h"
        )),
        "{err}"
    );
    // English stays the words it always was.
    let (err, en) = warnings_of(&path, "en");
    assert_eq!(
        en[0],
        "at byte 140: line 5: id.resp_h \"not-an-address\" is not an IP address; the record is skipped"
    );
    assert!(
        err.contains(&format!(
            "flowlint: warning: {path}: at byte 198: line 6: proto \"sctp\" is not tcp, udp, icmp or unknown_transport; the record is skipped"
        )),
        "{err}"
    );
}

/// A little-endian pcap of one UDP packet (Ethernet, IPv4) at each of
/// these timestamps (s): records of 58 bytes from byte 24.
fn pcap_at(seconds: &[u32]) -> Vec<u8> {
    let mut frame = vec![0u8; 12];
    frame.extend([0x08, 0x00]);
    frame.extend([
        0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    frame.extend([0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
    let mut b = Vec::new();
    for v in [0xa1b2_c3d4_u32, 0x0004_0002, 0, 0, 65535, 1] {
        b.extend(v.to_le_bytes());
    }
    for s in seconds {
        for v in [*s, 0, 42, 42] {
            b.extend(v.to_le_bytes());
        }
        b.extend(&frame);
    }
    b
}

#[test]
fn clock_outliers_are_warned_in_the_language() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clock.pcap");
    // One record a day off its neighbours: taken as its predecessor's time.
    let t = 1_700_000_000;
    std::fs::write(&path, pcap_at(&[t, t + 1, t + 86_400, t + 2])).unwrap();
    let path = path.display().to_string();
    let (_, ja) = warnings_of(&path, "ja");
    assert_eq!(
        ja,
        ["140 バイト目: タイムスタンプ 2023-11-15T22:13:20Z が前後のレコードとかけ離れています。2023-11-14T22:13:21Z として扱いました"]
            .map(String::from)
    );
    let (_, en) = warnings_of(&path, "en");
    assert_eq!(
        en,
        ["at byte 140: timestamp 2023-11-15T22:13:20Z is out of line with the neighbouring records; taken as 2023-11-14T22:13:21Z"]
            .map(String::from)
    );
    // Past five, one line counts them all.
    let mut many = vec![t, t + 1];
    for i in 0..7 {
        many.extend([t + 86_400, t + 2 + i]);
    }
    std::fs::write(&path, pcap_at(&many)).unwrap();
    let (_, ja) = warnings_of(&path, "ja");
    assert_eq!(ja.len(), 6, "{ja:?}");
    assert!(
        ja[5]
            .ends_with("タイムスタンプが前後のレコードとかけ離れたレコードは全部で 7 件ありました"),
        "{ja:?}"
    );
}

#[test]
fn the_html_report_has_no_english_sentences_left_in_japanese() {
    let page = stdout(&demo(&["-q", "--format", "html", "--lang", "ja"], &[]));
    for ja in [
        "placeholder=\"絞り込み: アドレス、名前、ポート、ルール、状態…\"",
        "<small>ルールが許可しているのに、接続が失敗した通信</small>",
        "<b>対処:</b>",
        "<h2>役割間マトリクス</h2>",
        "行はクライアントの役割",
        "<option value=\"blocked\">遮断の疑い</option>",
        "各通信の試行は",
        "このページだけで完結し",
    ] {
        assert!(page.contains(ja), "{ja}");
    }
    // report.js shows a cell's data-title as it stands: it must be worded.
    assert!(page.contains("data-title=\""), "no matrix cell");
    assert!(!page.contains("worked, "), "a cell or rule line in English");
    for en in [
        "Role-to-role matrix",
        "Click a cell",
        "rows shown",
        "every verdict",
        "Written by flowlint",
        "Failed attempts",
        "<b>Fix:</b>",
        "the JSON report lists",
    ] {
        assert!(!page.contains(en), "{en}");
    }
    let en = stdout(&demo(&["-q", "--format", "html", "--lang", "en"], &[]));
    assert!(en.contains("placeholder=\"filter: address, name, port, rule, state…\""));
    assert!(en.contains("<b>Fix:</b>") && en.contains("Role-to-role matrix"));
}

#[test]
fn catalog_conditions_are_worded_in_the_language() {
    let ja = flowlint(&["catalog", "--lang", "ja"], &[]);
    let ja = String::from_utf8(ja.stdout).unwrap();
    for word in ["同一ホスト内", "共用ポート", "応答なし"] {
        assert!(ja.contains(word), "{word} missing");
    }
    // The conditions open each rule's bracketed tag list (the catalogs'
    // own notes print both languages, so the words alone may appear there).
    for english in ["[within one host", "[shared port", "no reply expected,"] {
        assert!(!ja.contains(english), "{english} left in Japanese");
    }
    let en = flowlint(&["catalog", "--lang", "en"], &[]);
    let en = String::from_utf8(en.stdout).unwrap();
    assert!(en.contains("within one host") && !en.contains("同一ホスト内"));
}

fn plan_out(format: &str, lang: &str, inventory: &str) -> Vec<u8> {
    let o = flowlint(
        &[
            "plan",
            "--inventory",
            inventory,
            "--format",
            format,
            "--lang",
            lang,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{format} {lang}: {}", stderr(&o));
    o.stdout
}

const LAB: &str = "fixtures/demo/lab.toml";

#[test]
fn plan_conditions_are_worded_in_the_language_and_json_stays_english() {
    let text = |format: &str, lang: &str| String::from_utf8(plan_out(format, lang, LAB)).unwrap();
    for format in ["text", "markdown"] {
        let ja = text(format, "ja");
        assert!(
            ja.contains("[systemwalker-om/jobschmsgevent-rpc の接続の後のみ]"),
            "{format}: {ja}"
        );
        assert!(!ja.contains("only after"), "{format}: English left: {ja}");
        // The rules' purposes are the vendor tables' own words.
        assert!(ja.contains("リモートマシンでのメッセージ事象発生 (RPC動的ポート)"));
        assert!(!ja.contains("raising message events"), "{format}");
        let en = text(format, "en");
        assert!(
            en.contains("[only after a systemwalker-om/jobschmsgevent-rpc connection]"),
            "{format}: {en}"
        );
        assert!(!is_japanese(&en), "{format}: {en}");
    }
    // Machines read the same JSON and CSV whatever the language.
    for format in ["json", "csv"] {
        assert_eq!(
            plan_out(format, "ja", LAB),
            plan_out(format, "en", LAB),
            "{format}"
        );
    }
    assert!(text("json", "ja").contains(
        "\"condition\": \"RPC dynamic ports: only after a systemwalker-om/jobschmsgevent-rpc connection\""
    ));
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

#[test]
fn plan_scripts_comment_in_the_language_and_powershell_carries_a_bom() {
    // PowerShell: Japanese comments, so the file starts with the mark that
    // makes Windows PowerShell 5.1 read it as UTF-8 (not CP932).
    let ps = plan_out("powershell", "ja", LAB);
    assert!(ps.starts_with(BOM), "{:?}", &ps[..8]);
    assert!(!ps[3..].starts_with(BOM), "one mark only");
    let ps = String::from_utf8(ps[3..].to_vec()).unwrap();
    assert!(ps.starts_with("# flowlint plan: 各サーバホストが"), "{ps}");
    assert!(ps.contains("\n# ===== itdm-mgr (192.0.2.10)、os windows =====\n"));
    assert!(ps.contains(
        "\n# jp1-itdm/agent-to-manager: エージェント・サイトサーバから管理用サーバへの通信\n\
         New-NetFirewallRule -DisplayName 'flowlint jp1-itdm/agent-to-manager 31000/tcp'"
    ));
    // (A section's heading is a name, an address and an OS name.)
    for l in ps
        .lines()
        .filter(|l| l.starts_with('#') && !l.contains("====="))
    {
        assert!(is_japanese(l), "a comment left in English: {l}");
    }
    // The commands themselves are the English run's, byte for byte.
    let en = plan_out("powershell", "en", LAB);
    assert!(en.is_ascii(), "an ASCII script needs no mark");
    let en = String::from_utf8(en).unwrap();
    let commands = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(commands(&ps), commands(&en));
    assert!(!is_japanese(&en));

    // An English script with a Japanese host name gets the mark too.
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.toml");
    let lab = std::fs::read_to_string(root().join(LAB)).unwrap();
    std::fs::write(
        &inv,
        lab.replace("name = \"itdm-mgr\"", "name = \"管理サーバ1号機\""),
    )
    .unwrap();
    let named = plan_out("powershell", "en", inv.to_str().unwrap());
    assert!(named.starts_with(BOM));
    assert!(String::from_utf8(named[3..].to_vec())
        .unwrap()
        .contains("# ===== 管理サーバ1号機 (192.0.2.10), os windows ====="));

    // nft: Japanese comments, UTF-8 without a mark.
    let nft = plan_out("nft", "ja", LAB);
    assert!(!nft.starts_with(BOM));
    let nft = String::from_utf8(nft).unwrap();
    assert!(nft.starts_with("# flowlint plan: "));
    assert!(nft.contains("\t\t# systemwalker-om/mpaclmgr: 使用権限のチェック\n"));
    assert!(nft.contains(
        "\t\t# systemwalker-om/jobschmsgevent-dynamic: リモートマシンでのメッセージ事象発生 (RPC動的ポート) \
         [systemwalker-om/jobschmsgevent-rpc の接続の後のみ]\n"
    ));
    for l in nft
        .lines()
        .filter(|l| l.trim_start().starts_with('#') && !l.contains("====="))
    {
        assert!(is_japanese(l), "a comment left in English: {l}");
    }

    // netsh: a batch file, read by cmd.exe in the console's code page: its
    // comments stay ASCII (English), and it says why; no mark (it would
    // break `@echo off`).
    let netsh = plan_out("netsh", "ja", LAB);
    assert!(netsh.is_ascii());
    let netsh = String::from_utf8(netsh).unwrap();
    assert!(netsh.starts_with("@echo off\nrem flowlint plan:"));
    assert!(netsh.contains("\nrem Comments in English (ASCII): cmd.exe reads a batch file"));
    let netsh_en = String::from_utf8(plan_out("netsh", "en", LAB)).unwrap();
    assert!(!netsh_en.contains("Comments in English"));
}

#[test]
fn the_html_baseline_section_is_in_the_language() {
    // A baseline from another fixture: new findings, missing rules,
    // resolved and findings not seen now.
    let page = |lang: &str| {
        stdout(&demo(
            &[
                "-q",
                "--format",
                "html",
                "--baseline",
                "tests/golden/conditions.json.out.json",
                "--lang",
                lang,
            ],
            &[],
        ))
    };
    let section = |page: &str| -> String {
        let at = page
            .find("<section id=\"baseline\">")
            .expect("baseline section");
        let end = page[at..].find("</section>").unwrap();
        page[at..at + end].to_string()
    };
    let ja = section(&page("ja"));
    for word in [
        "<h2>ベースラインとの比較: 悪化あり</h2>",
        "<p>新規の検出 11 件、消えたルール 3 件、解消 1 件、未観測 9 件。</p>",
        "<span class=\"badge blocked\">新規</span> <span class=\"badge blocked\">遮断の疑い</span>",
        "<span class=\"badge blocked\">消失</span> ルール ",
        "は以前は通信に一致しましたが、今回は一致しません",
        "<span class=\"badge expected\">解消</span>",
        "<span class=\"badge\">未観測</span> ",
        "（今回のキャプチャになし: 良くも悪くもなっていません）",
    ] {
        assert!(ja.contains(word), "{word} missing: {ja}");
    }
    for english in [
        "Compared with the baseline",
        "new finding",
        "matched traffic before",
        "not in this capture",
        ">new<",
        ">missing<",
        ">resolved<",
        ">not seen<",
        ">blocked<",
    ] {
        assert!(!ja.contains(english), "{english} left in Japanese: {ja}");
    }
    let en = section(&page("en"));
    for word in [
        "<h2>Compared with the baseline: worse</h2>",
        "<p>11 new findings, 3 missing rules, 1 resolved, 9 not seen.</p>",
        "<span class=\"badge blocked\">new</span> <span class=\"badge blocked\">blocked</span>",
        "matched traffic before, none now",
        "(not in this capture: neither better nor worse)",
    ] {
        assert!(en.contains(word), "{word} missing: {en}");
    }
    assert!(!is_japanese(&en), "{en}");
    // A baseline with nothing changed says so.
    let same = stdout(&demo(
        &[
            "-q",
            "--format",
            "html",
            "--baseline",
            "tests/golden/demo-lab.json.out.json",
            "--lang",
            "ja",
        ],
        &[],
    ));
    let same = section(&same);
    assert!(
        same.contains("<h2>ベースラインとの比較: 悪化なし</h2>"),
        "{same}"
    );
    assert!(same.contains("<p>変化なし。</p>"), "{same}");
}
