//! Flow records through `flowlint check`: Zeek conn.log (TSV, JSON lines,
//! gzip, stdin, several blocks and files, duplicates, bad records) and
//! nfdump JSON/CSV (pairing rules), judged like packets.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2026-11-20-10-00-00\n";
const FIELDS: &str = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

/// A TSV record: ts, uid, orig, resp, proto, (conn_state, history), packets each way.
fn tsv(
    ts: &str,
    uid: &str,
    o: (&str, u16),
    r: (&str, u16),
    proto: &str,
    (state, history): (&str, &str),
    pkts: (u64, u64),
) -> String {
    format!(
        "{ts}\t{uid}\t{}\t{}\t{}\t{}\t{proto}\t-\t1.0\t0\t0\t{state}\tT\tT\t0\t{history}\t{}\t{}\t{}\t{}\t(empty)\n",
        o.0,
        o.1,
        r.0,
        r.1,
        pkts.0,
        pkts.0 * 60,
        pkts.1,
        pkts.1 * 60
    )
}

const INVENTORY: &str = r#"
[[hosts]]
address = "192.0.2.10"
roles = ["jp1-itdm.manager"]

[[hosts]]
address = "192.0.2.128/25"
roles = ["jp1-itdm.agent"]
"#;

fn run(args: &[&str], inputs: &[&std::path::Path], stdin: Option<&[u8]>) -> (Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("site.toml");
    std::fs::write(&inv, INVENTORY).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        .args([
            "check",
            "-q",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--inventory",
        ])
        .arg(&inv)
        .args(args)
        .args(inputs)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).expect("stdin write");
    }
    drop(pipe);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (serde_json::from_slice(&out.stdout).expect("json"), stderr)
}

/// "client > server:port/proto" → (verdict, states).
fn convs(report: &Value) -> Vec<(String, String, String)> {
    report["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| {
            (
                format!(
                    "{} > {}:{}/{}",
                    c["client"].as_str().unwrap(),
                    c["server"].as_str().unwrap(),
                    c["server_port"],
                    c["protocol"].as_str().unwrap()
                ),
                c["verdict"].as_str().unwrap().to_string(),
                c["states"].to_string(),
            )
        })
        .collect()
}

fn find<'a>(list: &'a [(String, String, String)], key: &str) -> &'a (String, String, String) {
    list.iter()
        .find(|c| c.0 == key)
        .unwrap_or_else(|| panic!("{key} not in {list:#?}"))
}

fn sample_log() -> String {
    let mut log = String::from(HEADER);
    log.push_str(FIELDS);
    // An agent's 31000/tcp to the manager, unanswered: blocked.
    log.push_str(&tsv(
        "1795168800.000000",
        "C1",
        ("192.0.2.130", 50000),
        ("192.0.2.10", 31000),
        "tcp",
        ("S0", "S"),
        (3, 0),
    ));
    // Refused.
    log.push_str(&tsv(
        "1795168801.000000",
        "C2",
        ("192.0.2.131", 50001),
        ("192.0.2.10", 31000),
        "tcp",
        ("REJ", "Sr"),
        (1, 1),
    ));
    // Established.
    log.push_str(&tsv(
        "1795168802.000000",
        "C3",
        ("192.0.2.132", 50002),
        ("192.0.2.10", 31000),
        "tcp",
        ("SF", "ShADadFf"),
        (6, 5),
    ));
    log.push_str("#close\t2026-11-20-11-00-00\n");
    // A second block with the columns in another order; no #close (still written).
    log.push_str(HEADER);
    log.push_str("#fields\tuid\tproto\tid.resp_p\tid.resp_h\tid.orig_p\tid.orig_h\tts\tconn_state\thistory\torig_pkts\tresp_pkts\n");
    // Zeek flipped it (^): the manager's SYN-ACK came first, so Zeek made
    // the agent, who received it, the originator.
    log.push_str(
        "C4\ttcp\t31000\t192.0.2.10\t50003\t192.0.2.133\t1795168803.000000\tSF\t^hADadFf\t5\t5\n",
    );
    // The same uid again (an overlapping rotated file): counted once.
    log.push_str(
        "C3\ttcp\t31000\t192.0.2.10\t50002\t192.0.2.132\t1795168802.000000\tSF\tShADadFf\t6\t5\n",
    );
    // A masked ts: a bad record, the rest analysed.
    log.push_str(
        "C5\ttcp\t31000\t192.0.2.10\t50009\t192.0.2.139\tXXXXXXXXXX.XXXXXX\tS0\tS\t1\t0\n",
    );
    // The log goes on for a minute (an unrelated record), so S0 is no_reply.
    log.push_str(
        "C6\tudp\t53\t198.51.100.1\t40000\t192.0.2.140\t1795168860.000000\tSF\tDd\t1\t1\n",
    );
    log
}

#[test]
fn a_tsv_conn_log_gives_states_and_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("conn.log");
    std::fs::write(&path, sample_log()).expect("write");
    let (report, stderr) = run(&[], &[&path], None);
    assert_eq!(report["inputs"][0]["format"], "zeek-conn-tsv");
    let c = convs(&report);
    let blocked = find(&c, "192.0.2.130 > 192.0.2.10:31000/tcp");
    assert_eq!(blocked.1, "blocked");
    assert_eq!(blocked.2, r#"{"no_reply":1}"#);
    assert_eq!(
        find(&c, "192.0.2.131 > 192.0.2.10:31000/tcp").2,
        r#"{"refused":1}"#
    );
    assert_eq!(find(&c, "192.0.2.132 > 192.0.2.10:31000/tcp").1, "expected");
    // The ^ flip: the agent is the client.
    assert_eq!(
        find(&c, "192.0.2.133 > 192.0.2.10:31000/tcp").2,
        r#"{"established":1}"#
    );
    assert!(c.iter().all(|x| !x.0.starts_with("192.0.2.139")));
    assert_eq!(report["summary"]["connections"], 5);
    assert_eq!(report["summary"]["duplicate_packets"], 1);
    let warnings = report["inputs"][0]["warnings"].to_string();
    assert!(
        warnings.contains("line 22: ts \\\"XXXXXXXXXX.XXXXXX\\\" is not a time"),
        "{warnings}"
    );
    assert!(stderr.contains("conn.log: at byte"), "{stderr}");
}

#[test]
fn a_conn_log_on_stdin_gzipped_is_the_same() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(sample_log().as_bytes()).expect("gzip");
    let bytes = gz.finish().expect("gzip");
    let (report, _) = run(&[], &[std::path::Path::new("-")], Some(&bytes));
    assert_eq!(report["inputs"][0]["format"], "zeek-conn-tsv+gzip");
    assert_eq!(report["summary"]["connections"], 5);
}

#[test]
fn a_short_log_leaves_the_attempt_pending() {
    let mut log = String::from(HEADER);
    log.push_str(FIELDS);
    log.push_str(&tsv(
        "1795168800.000000",
        "C1",
        ("192.0.2.130", 50000),
        ("192.0.2.10", 31000),
        "tcp",
        ("S0", "S"),
        (1, 0),
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x");
    std::fs::write(&path, log).expect("write");
    let (report, _) = run(&[], &[&path], None);
    assert_eq!(
        find(&convs(&report), "192.0.2.130 > 192.0.2.10:31000/tcp").2,
        r#"{"pending":1}"#
    );
}

#[test]
fn json_lines_and_several_files_are_one_analysis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::write(
        &a,
        r#"{"ts":1795168800.0,"uid":"C1","id.orig_h":"192.0.2.130","id.orig_p":50000,"id.resp_h":"192.0.2.10","id.resp_p":31000,"proto":"tcp","conn_state":"S0","history":"S","orig_pkts":2,"resp_pkts":0}
{"ts":1795168900.0,"uid":"C2","id.orig_h":"192.0.2.131","id.orig_p":50000,"id.resp_h":"192.0.2.10","id.resp_p":31000,"proto":"tcp","conn_state":"SF","history":"ShADadFf","orig_pkts":5,"resp_pkts":5}
not json
"#,
    )
    .expect("write");
    // Another worker's log, with C1 again.
    std::fs::write(
        &b,
        r#"{"ts":1795168800.0,"uid":"C1","id.orig_h":"192.0.2.130","id.orig_p":50000,"id.resp_h":"192.0.2.10","id.resp_p":31000,"proto":"tcp","conn_state":"S0","history":"S","orig_pkts":2,"resp_pkts":0}
"#,
    )
    .expect("write");
    let (report, _) = run(&[], &[&a, &b], None);
    assert_eq!(report["inputs"][0]["format"], "zeek-conn-json");
    assert_eq!(report["summary"]["connections"], 2);
    let c = convs(&report);
    assert_eq!(
        find(&c, "192.0.2.130 > 192.0.2.10:31000/tcp").2,
        r#"{"no_reply":1}"#
    );
    assert!(report["inputs"][0]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("line 3: not a conn.log JSON record"));
}

fn nf(
    first: &str,
    proto: u8,
    src: (&str, u16),
    dst: (&str, u16),
    flags: &str,
    pkts: u64,
) -> String {
    format!(
        r#"{{"type":"FLOW","first":"{first}","last":"{first}","proto":{proto},"tcp_flags":"{flags}","src_port":{},"dst_port":{},"src4_addr":"{}","dst4_addr":"{}","in_packets":{pkts},"in_bytes":{}}}"#,
        src.1,
        dst.1,
        src.0,
        dst.0,
        pkts * 60
    )
}

#[test]
fn nfdump_json_records_pair_with_their_reverse() {
    let recs = [
        // SYN only, no reverse: no_reply (the records go on past the timeout).
        nf("2026-11-20T10:00:00.000", 6, ("192.0.2.130", 50000), ("192.0.2.10", 31000), "......S.", 3),
        // A RST back and no SYN from the server: refused.
        nf("2026-11-20T10:00:01.000", 6, ("192.0.2.131", 50001), ("192.0.2.10", 31000), "......S.", 1),
        nf("2026-11-20T10:00:01.001", 6, ("192.0.2.10", 31000), ("192.0.2.131", 50001), "...A.R..", 1),
        // Both sides with the handshake: established.
        nf("2026-11-20T10:00:02.000", 6, ("192.0.2.132", 50002), ("192.0.2.10", 31000), "...AP.SF", 6),
        nf("2026-11-20T10:00:02.001", 6, ("192.0.2.10", 31000), ("192.0.2.132", 50002), "...AP.SF", 5),
        // UDP with a reverse: answered.
        nf("2026-11-20T10:00:03.000", 17, ("192.0.2.10", 40000), ("192.0.2.133", 161), "........", 1),
        nf("2026-11-20T10:00:03.002", 17, ("192.0.2.133", 161), ("192.0.2.10", 40000), "........", 1),
        // UDP answered by an ICMP port unreachable from a router.
        nf("2026-11-20T10:00:04.000", 17, ("192.0.2.10", 40001), ("192.0.2.134", 161), "........", 1),
        r#"{"type":"FLOW","first":"2026-11-20T10:00:04.001","last":"2026-11-20T10:00:04.001","proto":1,"src4_addr":"198.51.100.1","dst4_addr":"192.0.2.10","src_port":0,"dst_port":771,"icmp_type":3,"icmp_code":3,"in_packets":1,"in_bytes":56}"#.to_string(),
        nf("2026-11-20T10:01:00.000", 17, ("192.0.2.140", 40000), ("198.51.100.53", 53), "........", 1),
    ];
    let body = format!("[\n{}\n]\n", recs.join(",\n"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flows.json");
    std::fs::write(&path, &body).expect("write");
    let (report, _) = run(&[], &[&path], None);
    assert_eq!(report["inputs"][0]["format"], "nfdump-json");
    let c = convs(&report);
    assert_eq!(
        find(&c, "192.0.2.130 > 192.0.2.10:31000/tcp").2,
        r#"{"no_reply":1}"#
    );
    assert_eq!(
        find(&c, "192.0.2.131 > 192.0.2.10:31000/tcp").2,
        r#"{"refused":1}"#
    );
    assert_eq!(
        find(&c, "192.0.2.132 > 192.0.2.10:31000/tcp").2,
        r#"{"established":1}"#
    );
    assert_eq!(
        find(&c, "192.0.2.10 > 192.0.2.133:161/udp").2,
        r#"{"answered":1}"#
    );
    let unreachable = report["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["server"] == "192.0.2.134")
        .expect("unreachable conversation");
    assert_eq!(unreachable["states"].to_string(), r#"{"unreachable":1}"#);
    assert_eq!(unreachable["blocked_by"], "198.51.100.1");
    assert!(unreachable["record_notes"][0]
        .as_str()
        .unwrap()
        .contains("do not carry the quoted header"));
    // The same through nfdump -q (no brackets, no commas) is read the same.
    let quiet = recs.join("\n");
    std::fs::write(&path, quiet).expect("write");
    let (again, _) = run(&[], &[&path], None);
    assert_eq!(convs(&again), c);
}

#[test]
fn nfdump_csv_is_read_by_its_header() {
    let csv = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt\n\
2026-11-20 10:00:00,2026-11-20 10:00:00,0.000,192.0.2.130,192.0.2.10,50000,31000,TCP,......S.,0,0,2,120\n\
2026-11-20 10:01:00,2026-11-20 10:01:00,0.000,192.0.2.140,198.51.100.53,40000,53,UDP,........,0,0,1,60\n\
Summary: total flows: 2\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flows.csv");
    std::fs::write(&path, csv).expect("write");
    let (report, _) = run(&[], &[&path], None);
    assert_eq!(report["inputs"][0]["format"], "nfdump-csv");
    assert_eq!(
        find(&convs(&report), "192.0.2.130 > 192.0.2.10:31000/tcp").2,
        r#"{"no_reply":1}"#
    );
}

#[test]
fn captures_and_records_do_not_mix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("conn.log");
    std::fs::write(&log, sample_log()).expect("write");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        .args(["check", "-q"])
        .arg(root.join("fixtures/reversed.pcap"))
        .arg(&log)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot be mixed"), "{stderr}");
}

/// The nfdump records of `nfdump_json_records_pair_with_their_reverse`
/// that give an unreachable linked by guess, and an answered SNMP query.
fn unreachable_flows() -> String {
    let recs = [
        nf("2026-11-20T10:00:03.000", 17, ("192.0.2.10", 40000), ("192.0.2.133", 161), "........", 2),
        nf("2026-11-20T10:00:03.002", 17, ("192.0.2.133", 161), ("192.0.2.10", 40000), "........", 1),
        nf("2026-11-20T10:00:04.000", 17, ("192.0.2.10", 40001), ("192.0.2.134", 161), "........", 1),
        r#"{"type":"FLOW","first":"2026-11-20T10:00:04.001","last":"2026-11-20T10:00:04.001","proto":1,"src4_addr":"198.51.100.1","dst4_addr":"192.0.2.10","src_port":0,"dst_port":771,"icmp_type":3,"icmp_code":3,"in_packets":1,"in_bytes":56}"#.to_string(),
        nf("2026-11-20T10:01:00.000", 17, ("192.0.2.140", 40000), ("198.51.100.53", 53), "........", 1),
    ];
    format!("[\n{}\n]\n", recs.join(",\n"))
}

/// `flowlint check` with these arguments on one input; stdout.
fn output(args: &[&str], input: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_flowlint"))
        .args(["check", "-q", "--fail-on", "none", "--all"])
        .args(args)
        .arg(input)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .env("TZ", "UTC")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn record_notes_are_in_the_text_report_in_both_languages_and_in_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flows.json");
    std::fs::write(&path, unreachable_flows()).expect("write");
    let en = output(&["--lang", "en"], &path);
    let note = en
        .lines()
        .find(|l| l.trim_start().starts_with("note: "))
        .unwrap_or_else(|| panic!("no note line in\n{en}"));
    assert!(
        note.starts_with("      note: an ICMP unreachable was linked"),
        "{note}"
    );
    let ja = output(&["--lang", "ja"], &path);
    assert!(
        ja.lines()
            .any(|l| l.starts_with("      注記: ICMP 到達不能をアドレスと時刻から")),
        "{ja}"
    );
    assert!(!ja.contains("was linked"), "{ja}");
    // Only the conversation the note is about carries it.
    assert_eq!(en.matches("note: ").count(), ja.matches("注記: ").count());
    let json: Value =
        serde_json::from_str(&output(&["--format", "json", "--lang", "ja"], &path)).expect("json");
    let conv = json["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["server"] == "192.0.2.134")
        .expect("the unreachable one");
    assert_eq!(
        conv["record_note_codes"],
        serde_json::json!(["icmp_linked"])
    );
    assert!(conv["record_notes"][0]
        .as_str()
        .unwrap()
        .starts_with("ICMP 到達不能"));
    let answered = json["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["server"] == "192.0.2.133")
        .expect("the answered one");
    assert!(answered.get("record_notes").is_none(), "{answered}");
    let html = output(&["--format", "html"], &path);
    assert!(
        html.contains("<small class=\"record-note\">an ICMP unreachable was linked"),
        "no note in the HTML report"
    );
}

#[test]
fn jsonl_from_records_carries_their_per_direction_counters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flows.json");
    std::fs::write(&path, unreachable_flows()).expect("write");
    let lines = output(&["--format", "jsonl"], &path);
    let lines: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let snmp = lines
        .iter()
        .find(|l| l["server"] == "192.0.2.133")
        .expect("the SNMP query");
    assert_eq!(
        (snmp["orig_pkts"].as_u64(), snmp["resp_pkts"].as_u64()),
        (Some(2), Some(1))
    );
    // A flow record counts no payload: the fields are left out, not 0.
    assert!(
        snmp.get("orig_bytes").is_none() && snmp.get("resp_bytes").is_none(),
        "{snmp}"
    );

    // Zeek: its own counters, in its own orientation.
    let mut log = String::from(HEADER);
    log.push_str(FIELDS);
    log.push_str(
        "1795168800.000000\tC1\t192.0.2.130\t50000\t192.0.2.10\t31000\ttcp\t-\t1.0\t120\t3400\tSF\tT\tT\t0\tShADadFf\t7\t400\t6\t3700\t(empty)\n",
    );
    // Seen midstream, Zeek's originator is the manager: flowlint's
    // client is the agent (the manager is on the catalog port).
    log.push_str(
        "1795168801.000000\tC2\t192.0.2.10\t31000\t192.0.2.131\t50001\ttcp\t-\t1.0\t10\t20\tOTH\tT\tT\t0\tDdA\t4\t200\t5\t300\t(empty)\n",
    );
    let path = dir.path().join("conn.log");
    std::fs::write(&path, log).expect("write");
    let lines = output(&["--format", "jsonl"], &path);
    let lines: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let first = lines
        .iter()
        .find(|l| l["client"] == "192.0.2.130")
        .expect("C1");
    assert_eq!(
        [
            &first["orig_pkts"],
            &first["resp_pkts"],
            &first["orig_bytes"],
            &first["resp_bytes"]
        ],
        [7, 6, 120, 3400]
    );
    assert!(first.get("zeek_orig_h").is_none(), "{first}");
    let flipped = lines
        .iter()
        .find(|l| l["client"] == "192.0.2.131")
        .expect("C2");
    assert_eq!(flipped["zeek_orig_h"], "192.0.2.10");
    assert_eq!(
        [
            &flipped["orig_pkts"],
            &flipped["resp_pkts"],
            &flipped["orig_bytes"],
            &flipped["resp_bytes"]
        ],
        [4, 5, 10, 20]
    );
}
