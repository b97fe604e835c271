//! Flow records are analysed streaming: what waits for a later record (a
//! retry, an ICMP unreachable, an nfdump record's reverse, a uid seen
//! before) waits a bounded time on the input's clock, and memory follows
//! the connections open at once, not the length of the input.

use std::sync::Arc;

use flowlint::analysis::{Analysis, Options};
use flowlint::catalog::CatalogSet;
use flowlint::flow::{FlowConfig, State};

const FIELDS: &str = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\tconn_state\thistory\torig_pkts\tresp_pkts\n";

/// 2026-11-20T10:00:00Z.
const T0: f64 = 1_795_168_800.0;

fn options(max_connections: usize) -> Options {
    let mut flow = FlowConfig::new(3_000_000_000);
    flow.max_connections = max_connections;
    Options {
        flow,
        threads: 1,
        keep_connections: true,
        max_conversations: 1_000_000,
        broadcast: flowlint::broadcast::BroadcastConfig::new(3_000_000_000),
    }
}

fn analyse(input: &str, max_connections: usize) -> Analysis {
    let set = CatalogSet::load(&[]).expect("catalogs");
    let ports = Arc::new(set.server_ports());
    flowlint::records::analyse_bytes(input.as_bytes(), &options(max_connections), ports)
        .expect("a record input")
}

/// An unanswered SYN from client `n` at `t` seconds after T0.
fn s0(t: f64, uid: &str, n: u32) -> String {
    format!(
        "{:.6}\t{uid}\t10.1.{}.{}\t50000\t10.0.0.10\t31000\ttcp\t0\tS0\tS\t1\t0\n",
        T0 + t,
        n / 250,
        n % 250 + 1
    )
}

fn sf(t: f64, uid: &str, n: u32) -> String {
    format!(
        "{:.6}\t{uid}\t10.2.{}.{}\t50000\t10.0.0.10\t31000\ttcp\t0.5\tSF\tShADadFf\t5\t4\n",
        T0 + t,
        n / 250,
        n % 250 + 1
    )
}

fn count(a: &Analysis, state: State) -> usize {
    a.connections.iter().filter(|c| c.state == state).count()
}

#[test]
fn unanswered_attempts_of_a_long_log_are_decided_as_the_clock_passes_them() {
    // 20 000 attempts, one a second (5.5 hours), among answered ones: a
    // few minutes of them wait at once, not the whole log.
    let mut log = String::from(FIELDS);
    for i in 0..20_000u32 {
        log.push_str(&s0(f64::from(i), &format!("A{i}"), i));
        log.push_str(&sf(f64::from(i) + 0.5, &format!("B{i}"), i));
    }
    let a = analyse(&log, 1_000_000);
    // The last ones, less than the reply timeout before the end, are pending.
    assert_eq!(count(&a, State::NoReply), 19_998);
    assert_eq!(count(&a, State::Pending), 2);
    assert_eq!(count(&a, State::Established), 20_000);
    assert_eq!(a.flow_stats.evicted_early, 0);
    let peak = a.flow_stats.peak_connections;
    assert!(
        (300..=1_000).contains(&peak),
        "{peak} attempts waited at once: about the hold time (7 min) of them"
    );
}

#[test]
fn the_wait_is_capped_and_what_is_decided_early_is_counted() {
    let mut log = String::from(FIELDS);
    for i in 0..500u32 {
        log.push_str(&s0(f64::from(i), &format!("A{i}"), i));
    }
    log.push_str(&sf(600.0, "B", 1));
    let a = analyse(&log, 50);
    assert_eq!(count(&a, State::NoReply), 500);
    assert_eq!(a.flow_stats.peak_connections, 50);
    assert_eq!(a.flow_stats.evicted_early, 450);
}

#[test]
fn an_unreachable_logged_minutes_after_its_attempt_is_still_linked() {
    // Zeek logs the ICMP "connection" after its own inactivity timeout,
    // and the attempt after TCP's: here the unreachable comes 4 minutes
    // of records later, then an hour of unrelated traffic.
    let mut log = String::from(FIELDS);
    log.push_str(&s0(0.0, "A", 1));
    for i in 0..240u32 {
        log.push_str(&sf(f64::from(i) + 1.0, &format!("B{i}"), i));
    }
    log.push_str(&format!(
        "{:.6}\tU\t192.0.2.254\t3\t10.1.0.2\t13\ticmp\t0\tOTH\t-\t1\t0\n",
        T0 + 0.2
    ));
    for i in 240..3_840u32 {
        log.push_str(&sf(f64::from(i) + 1.0, &format!("B{i}"), i));
    }
    let a = analyse(&log, 1_000_000);
    let attempt: Vec<_> = a
        .connections
        .iter()
        .filter(|c| c.client.to_string() == "10.1.0.2")
        .collect();
    assert_eq!(attempt.len(), 1, "{attempt:#?}");
    assert_eq!(attempt[0].state, State::Unreachable);
    assert_eq!(
        attempt[0].failed_by.map(|a| a.to_string()).as_deref(),
        Some("192.0.2.254")
    );
}

#[test]
fn retries_logged_as_records_of_their_own_are_one_attempt() {
    let mut log = String::from(FIELDS);
    // Zeek's attempt timeout ends each SYN's record; they are one attempt.
    for (k, t) in [0.0, 3.0, 9.0, 21.0].iter().enumerate() {
        log.push_str(&s0(*t, &format!("R{k}"), 7));
        log.push_str(&sf(*t + 0.5, &format!("B{k}"), k as u32));
    }
    // An hour later, the same sockets again: a new attempt.
    log.push_str(&s0(3_600.0, "R9", 7));
    log.push_str(&sf(3_610.0, "B9", 9));
    let a = analyse(&log, 1_000_000);
    let attempts: Vec<_> = a
        .connections
        .iter()
        .filter(|c| c.state == State::NoReply)
        .collect();
    assert_eq!(attempts.len(), 2, "{attempts:#?}");
    assert_eq!(attempts[0].syns, 4);
}

#[test]
fn uids_are_remembered_for_an_hour_of_records() {
    let mut log = String::from(FIELDS);
    log.push_str(&sf(0.0, "C1", 1));
    // Given again 30 minutes of records later (an overlapping rotation):
    // once.
    for i in 0..30u32 {
        log.push_str(&sf(f64::from(i) * 60.0 + 1.0, &format!("D{i}"), 100 + i));
    }
    log.push_str(&sf(0.0, "C1", 1));
    let a = analyse(&log, 1_000_000);
    assert_eq!(a.flow_stats.duplicates, 1);
    assert_eq!(count(&a, State::Established), 31);

    // The uid set is bounded: past two hours of records, a uid is
    // forgotten (and a record with it counts again).
    let mut log = String::from(FIELDS);
    log.push_str(&sf(0.0, "C1", 1));
    for i in 0..200u32 {
        log.push_str(&sf(f64::from(i) * 60.0 + 1.0, &format!("D{i}"), 100 + i));
    }
    log.push_str(&sf(0.0, "C1", 1));
    let a = analyse(&log, 1_000_000);
    assert_eq!(a.flow_stats.duplicates, 0);
}

/// An nfdump JSON record.
fn nf(first: u32, src: (&str, u16), dst: (&str, u16), flags: &str) -> String {
    let t = |s: u32| {
        format!(
            "2026-11-20T{:02}:{:02}:{:02}.000",
            10 + s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    format!(
        "{{\"type\":\"FLOW\",\"first\":\"{}\",\"last\":\"{}\",\"proto\":6,\"tcp_flags\":\"{flags}\",\
         \"src4_addr\":\"{}\",\"src_port\":{},\"dst4_addr\":\"{}\",\"dst_port\":{},\"in_packets\":3,\"in_bytes\":180}}",
        t(first),
        t(first + 1),
        src.0,
        src.1,
        dst.0,
        dst.1
    )
}

#[test]
fn nfdump_records_wait_for_their_reverse_only_while_it_can_come() {
    // 10 000 connections over 2.8 hours, both directions each, the
    // reverse a minute later in the output (another exporter's file).
    let mut objects = Vec::new();
    for i in 0..10_000u32 {
        let client = format!("10.3.{}.{}", i / 250, i % 250 + 1);
        objects.push((i, nf(i, (&client, 50000), ("10.0.0.10", 31000), "...AP.SF")));
        objects.push((
            i + 60,
            nf(i, ("10.0.0.10", 31000), (&client, 50000), "...AP.SF"),
        ));
    }
    objects.sort_by_key(|o| o.0);
    let body: Vec<String> = objects.into_iter().map(|o| o.1).collect();
    let json = format!("[\n{}\n]\n", body.join(",\n"));
    let a = analyse(&json, 1_000_000);
    assert_eq!(count(&a, State::Established), 10_000);
    assert_eq!(a.flow_stats.evicted_early, 0);
    let peak = a.flow_stats.peak_connections;
    assert!(
        (300..=1_000).contains(&peak),
        "{peak} connections waited at once: the idle gap and slack (6 min) of them"
    );
    // Capped: beyond, the oldest are decided early and counted.
    let a = analyse(&json, 100);
    assert!(a.flow_stats.evicted_early > 0);
    assert!(a.flow_stats.peak_connections <= 100);
}
