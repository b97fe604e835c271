//! State-machine tests of the flow table on hand-made packets.

use std::net::IpAddr;
use std::sync::Arc;

use super::*;
use crate::decode::TcpFlags;

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const FIN: TcpFlags = TcpFlags::FIN;
const RST: TcpFlags = TcpFlags::RST;

const S: i64 = 1_000_000_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ports() -> Arc<PortBitmap> {
    let mut b = PortBitmap::default();
    b.insert(Transport::Tcp, 31000);
    b.insert(Transport::Udp, 161);
    Arc::new(b)
}

#[allow(clippy::too_many_arguments)]
fn tcp(
    ts: i64,
    src: &str,
    sp: u16,
    dst: &str,
    dp: u16,
    flags: TcpFlags,
    seq: u32,
    len: u32,
) -> PacketMeta {
    PacketMeta {
        ts_ns: ts,
        kind: PacketKind::Transport,
        transport: Transport::Tcp,
        src: ip(src),
        dst: ip(dst),
        src_port: sp,
        dst_port: dp,
        tcp_flags: flags,
        seq,
        ack: 0,
        payload_len: len,
        wire_len: 60 + len,
        ttl: 64,
        link_dest: Default::default(),
        tunnels: Default::default(),
    }
}

fn udp(ts: i64, src: &str, sp: u16, dst: &str, dp: u16) -> PacketMeta {
    PacketMeta {
        transport: Transport::Udp,
        tcp_flags: TcpFlags::NONE,
        ..tcp(ts, src, sp, dst, dp, TcpFlags::NONE, 0, 20)
    }
}

fn run(packets: &[(PacketMeta, u16)], end: i64) -> Vec<ConnRecord> {
    let mut config = FlowConfig::new(3 * S).with_zeek_view();
    config.dedup = packets.iter().any(|(_, i)| *i > 0);
    let mut table = FlowTable::new(config, ports());
    let mut out = Vec::new();
    for (p, input) in packets {
        table.process(p, *input, &mut |r| out.push(r));
    }
    table.finish(end, &mut |r| out.push(r));
    out.sort_by_key(|r| r.first_ns);
    out
}

fn one(packets: &[PacketMeta], end: i64) -> Vec<ConnRecord> {
    let tagged: Vec<(PacketMeta, u16)> = packets.iter().map(|p| (*p, 0)).collect();
    run(&tagged, end)
}

const C: &str = "192.0.2.20";
const M: &str = "192.0.2.10";

fn handshake(t: i64, sport: u16, isn: u32) -> Vec<PacketMeta> {
    vec![
        tcp(t, C, sport, M, 31000, SYN, isn, 0),
        tcp(t + S / 100, M, 31000, C, sport, SYN | ACK, 9000, 0),
        tcp(t + 2 * S / 100, C, sport, M, 31000, ACK, isn + 1, 0),
        tcp(t + 3 * S / 100, C, sport, M, 31000, ACK, isn + 1, 100),
        tcp(t + 4 * S / 100, M, 31000, C, sport, ACK, 9001, 200),
    ]
}

#[test]
fn full_handshake_is_established_with_zeek_history() {
    let recs = one(&handshake(0, 50000, 1), 10 * S);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.state, State::Established);
    assert_eq!(
        (r.client, r.client_port, r.server, r.server_port),
        (ip(C), 50000, ip(M), 31000)
    );
    assert_eq!(r.zeek.as_ref().unwrap().history(), "ShADd");
    assert_eq!(r.packets, 5);
    // Zeek's orig/resp counters: three packets and 100 payload bytes from
    // the client, two packets and 200 bytes from the server.
    let z = r.zeek.as_ref().unwrap();
    assert_eq!(
        (z.orig_pkts, z.orig_bytes, z.resp_pkts, z.resp_bytes),
        (3, 100, 2, 200)
    );
    assert!(!r.started_before_capture);
}

#[test]
fn unanswered_syns_are_no_reply_after_the_timeout_and_pending_before() {
    let syns = [
        tcp(0, C, 50001, M, 31000, SYN, 7, 0),
        tcp(S, C, 50001, M, 31000, SYN, 7, 0),
        tcp(3 * S, C, 50001, M, 31000, SYN, 7, 0),
    ];
    let recs = one(&syns, 6 * S);
    assert_eq!(recs.len(), 1, "retransmissions are one connection");
    assert_eq!(recs[0].state, State::NoReply);
    assert_eq!(recs[0].syns, 3);
    assert_eq!(
        (recs[0].attempt_first_ns, recs[0].attempt_last_ns),
        (0, 3 * S)
    );
    // The timeout counts from the first SYN (SPEC 1.1): two seconds after
    // the last retransmission, the client had waited five.
    assert_eq!(one(&syns, 5 * S)[0].state, State::NoReply);
    assert_eq!(one(&syns[..2], 2 * S)[0].state, State::Pending);
    assert_eq!(one(&syns[..2], 3 * S)[0].state, State::NoReply);
    // A late answer while the client still retries: established.
    let mut late = syns.to_vec();
    late.push(tcp(3 * S + S / 10, M, 31000, C, 50001, SYN | ACK, 900, 8));
    late.push(tcp(3 * S + S / 5, C, 50001, M, 31000, ACK, 8, 901));
    assert_eq!(one(&late, 10 * S)[0].state, State::Established);
}

#[test]
fn syn_answered_by_rst_is_refused_by_the_server() {
    let mut rst = tcp(S / 10, M, 31000, C, 50002, RST | ACK, 0, 0);
    rst.ttl = 250;
    let recs = one(&[tcp(0, C, 50002, M, 31000, SYN, 5, 0), rst], 10 * S);
    assert_eq!(recs[0].state, State::Refused);
    assert_eq!(recs[0].failed_by, Some(ip(M)));
    assert_eq!(recs[0].rst_ttl, Some(250));
    assert_eq!(recs[0].zeek.as_ref().unwrap().history(), "Sr");
}

#[test]
fn icmp_unreachable_from_a_firewall_names_it() {
    let syn = tcp(0, C, 50003, M, 31000, SYN, 5, 0);
    let icmp = PacketMeta {
        kind: PacketKind::Unreachable {
            reporter: ip("198.51.100.1"),
            icmp_type: 3,
            code: 13,
        },
        ts_ns: S / 10,
        ..syn
    };
    let recs = one(&[syn, icmp], 10 * S);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].state, State::Unreachable);
    assert_eq!(recs[0].failed_by, Some(ip("198.51.100.1")));
    // The unreachable counts in the connection's packets, on neither side.
    assert_eq!(
        (
            recs[0].packets,
            recs[0].zeek.as_ref().unwrap().orig_pkts,
            recs[0].zeek.as_ref().unwrap().resp_pkts
        ),
        (2, 1, 0)
    );
    // An ICMP error alone (the SYN was not captured) still makes the connection.
    let recs = one(&[icmp], 10 * S);
    assert_eq!((recs[0].state, recs[0].client), (State::Unreachable, ip(C)));
}

#[test]
fn established_then_reset_is_reset() {
    let mut p = handshake(0, 50004, 1);
    p.push(tcp(S, M, 31000, C, 50004, RST, 9500, 0));
    assert_eq!(one(&p, 10 * S)[0].state, State::Reset);
}

#[test]
fn midstream_takes_the_catalog_port_as_the_server() {
    // First packet goes from the catalog port: the other side is the client.
    let p = [
        tcp(0, M, 31000, C, 40000, ACK, 1, 100),
        tcp(S / 10, C, 40000, M, 31000, ACK, 1, 0),
    ];
    let r = &one(&p, 10 * S)[0];
    assert_eq!(
        (r.state, r.client, r.server_port),
        (State::Midstream, ip(C), 31000)
    );
    assert!(r.started_before_capture);
    // No catalog port: the lower port is the server's.
    let r = &one(&[tcp(0, M, 8080, C, 40000, ACK, 1, 10)], 10 * S)[0];
    assert_eq!((r.client, r.server_port), (ip(C), 8080));
}

#[test]
fn one_sided_capture_with_client_ack_is_established_not_no_reply() {
    let p = [
        tcp(0, C, 50005, M, 31000, SYN, 10, 0),
        tcp(S / 10, C, 50005, M, 31000, ACK, 11, 0),
        tcp(S / 5, C, 50005, M, 31000, ACK, 11, 300),
    ];
    assert_eq!(one(&p, 20 * S)[0].state, State::Established);
}

#[test]
fn a_new_syn_after_close_is_a_new_connection() {
    let mut p = handshake(0, 50006, 1);
    p.push(tcp(S, C, 50006, M, 31000, FIN | ACK, 101, 0));
    p.push(tcp(S + 1, M, 31000, C, 50006, FIN | ACK, 9201, 0));
    p.push(tcp(S + 2, C, 50006, M, 31000, ACK, 102, 0));
    p.push(tcp(2 * S, C, 50006, M, 31000, SYN, 777_777, 0));
    let recs = one(&p, 20 * S);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].state, State::Established);
    assert_eq!(recs[1].state, State::NoReply);
}

#[test]
fn udp_states() {
    let answered = one(
        &[udp(0, C, 5000, M, 161), udp(S / 10, M, 161, C, 5000)],
        10 * S,
    );
    assert_eq!(answered[0].state, State::Answered);
    let silent = [udp(0, C, 5001, M, 161), udp(S, C, 5001, M, 161)];
    let r = one(&silent, 10 * S);
    assert_eq!(
        (r[0].state, r[0].unanswered_datagrams),
        (State::Unanswered, 2)
    );
    // From the first datagram: pending until three seconds after it.
    assert_eq!(one(&silent, 2 * S)[0].state, State::Pending);
    assert_eq!(one(&silent, 3 * S)[0].state, State::Unanswered);
    // A late answer to a repeated datagram: answered.
    let late = [
        udp(0, C, 5004, M, 161),
        udp(2 * S, C, 5004, M, 161),
        udp(4 * S, C, 5004, M, 161),
        udp(4 * S + S / 10, M, 161, C, 5004),
    ];
    assert_eq!(one(&late, 10 * S)[0].state, State::Answered);
    // 60 s of silence ends the exchange.
    let split = one(
        &[udp(0, C, 5002, M, 161), udp(70 * S, C, 5002, M, 161)],
        100 * S,
    );
    assert_eq!(split.len(), 2);
    // A reply from a service port to an ephemeral port, first seen: the opening was missed.
    let r = &one(&[udp(0, M, 161, C, 5003)], 10 * S)[0];
    assert_eq!(
        (r.client, r.server_port, r.started_before_capture),
        (ip(C), 161, true)
    );
}

#[test]
fn the_same_packets_from_two_taps_count_once() {
    let a = handshake(0, 50007, 1);
    let mut packets: Vec<(PacketMeta, u16)> = Vec::new();
    for p in &a {
        packets.push((*p, 0));
        let mut later = *p;
        later.ts_ns += S / 2;
        packets.push((later, 1));
    }
    packets.sort_by_key(|(p, _)| p.ts_ns);
    let recs = run(&packets, 10 * S);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].packets, 5);
    assert_eq!(recs[0].state, State::Established);
}

#[test]
fn retransmissions_within_one_capture_are_not_duplicates() {
    let p = [
        (tcp(0, C, 50008, M, 31000, SYN, 7, 0), 0),
        (tcp(S / 2, C, 50008, M, 31000, SYN, 7, 0), 0),
        (tcp(0, "192.0.2.99", 1, "192.0.2.98", 2, SYN, 1, 0), 1),
    ];
    let recs = run(&p, 10 * S);
    let r = recs.iter().find(|r| r.client == ip(C)).unwrap();
    assert_eq!(r.syns, 2);
}

#[test]
fn sweeps_do_not_change_results() {
    // Many short connections over a long time: sweeps run in between.
    let mut packets = Vec::new();
    for i in 0..200u32 {
        let t = i64::from(i) * 7 * S;
        packets.extend(handshake(t, 40000 + (i % 3) as u16, i * 1000));
        if i % 5 == 0 {
            packets.push(tcp(t + S, C, 30000 + i as u16, M, 31000, SYN, 1, 0));
        }
    }
    packets.sort_by_key(|p| p.ts_ns);
    let swept = one(&packets, 2000 * S);
    let mut config = FlowConfig::new(3 * S).with_zeek_view();
    config.dedup = false;
    let mut table = FlowTable::new(config, ports());
    table.last_sweep_ns = i64::MAX; // never sweep
    let mut unswept = Vec::new();
    for p in &packets {
        table.process(p, 0, &mut |r| unswept.push(r));
    }
    table.finish(2000 * S, &mut |r| unswept.push(r));
    unswept.sort_by_key(|r| r.first_ns);
    assert_eq!(swept.len(), unswept.len());
    assert_eq!(swept, unswept);
}

#[test]
fn a_full_table_evicts_the_least_recent() {
    let mut config = FlowConfig::new(3 * S);
    config.max_connections = 100;
    let mut table = FlowTable::new(config, ports());
    let mut out = Vec::new();
    for i in 0..1000u32 {
        let p = tcp(i64::from(i), C, (1000 + i) as u16, M, 31000, SYN, i, 0);
        table.process(&p, 0, &mut |r| out.push(r));
    }
    assert!(table.len() <= 100);
    assert_eq!(out.len() as u64, table.stats.evicted_early);
    table.finish(10 * S, &mut |r| out.push(r));
    assert_eq!(out.len(), 1000);
}

#[test]
fn a_clock_reset_neither_decides_everything_nor_keeps_the_old_forever() {
    let day = 86_400 * S;
    let mut config = FlowConfig::new(3 * S);
    config.dedup = false;
    let mut table = FlowTable::new(config, ports());
    let mut out = Vec::new();
    // Open connections at day 10, then the clock goes back to day 1.
    for p in handshake(10 * day, 41000, 1).iter() {
        table.process(p, 0, &mut |r| out.push(r));
    }
    for i in 0..100u32 {
        let t = day + i64::from(i) * 20 * S;
        for p in handshake(t, 42000 + i as u16, i) {
            table.process(&p, 0, &mut |r| out.push(r));
        }
    }
    // The connections after the reset are open and alive: not decided early.
    assert!(out
        .iter()
        .all(|r| r.client_port == 41000 || r.last_ns < day + 100 * 20 * S - 3600 * S));
    // The one from before the reset is over, not kept forever.
    assert!(out.iter().any(|r| r.client_port == 41000));
    table.finish(day + 3000 * S, &mut |r| out.push(r));
    assert_eq!(out.len(), 101);
    assert!(out.iter().all(|r| r.state == State::Established));
}

#[test]
fn zeek_conn_state_and_wireshark_completeness() {
    let mut p = handshake(0, 50010, 1);
    p.push(tcp(S, C, 50010, M, 31000, FIN | ACK, 101, 0));
    p.push(tcp(S + 1, M, 31000, C, 50010, FIN | ACK, 9201, 0));
    let r = &one(&p, 10 * S)[0];
    assert_eq!(
        (r.zeek.as_ref().unwrap().conn_state, r.completeness),
        (ZeekState::SF, 31)
    );
    let refused = [
        tcp(0, C, 50011, M, 31000, SYN, 5, 0),
        tcp(1, M, 31000, C, 50011, RST | ACK, 0, 0),
    ];
    let r = &one(&refused, 10 * S)[0];
    assert_eq!(
        (r.zeek.as_ref().unwrap().conn_state, r.completeness),
        (ZeekState::REJ, 33)
    );
    let silent = [
        tcp(0, C, 50012, M, 31000, SYN, 5, 0),
        tcp(S, C, 50012, M, 31000, SYN, 5, 0),
    ];
    let r = &one(&silent, 10 * S)[0];
    assert_eq!(
        (
            r.zeek.as_ref().unwrap().conn_state.as_str(),
            r.zeek.as_ref().unwrap().history()
        ),
        ("S0", "S")
    );
    let mut reset = handshake(0, 50013, 1);
    reset.push(tcp(S, C, 50013, M, 31000, RST, 101, 0));
    assert_eq!(
        one(&reset, 10 * S)[0].zeek.as_ref().unwrap().conn_state,
        ZeekState::RSTO
    );
    let mid = [tcp(0, M, 31000, C, 40000, ACK, 1, 100)];
    assert_eq!(
        one(&mid, 10 * S)[0].zeek.as_ref().unwrap().conn_state,
        ZeekState::OTH
    );
}

#[test]
fn an_open_connection_stays_small() {
    use std::mem::size_of;
    // Before the per-endpoint rework: Conn 184 bytes, key 48, entry 232.
    // Zeek's view (JSONL only) lives out of line, in the rare part.
    assert!(
        size_of::<Conn>() <= 72,
        "Conn is {} bytes",
        size_of::<Conn>()
    );
    assert!(
        size_of::<Sockets>() <= 40,
        "key is {} bytes",
        size_of::<Sockets>()
    );
    assert!(
        size_of::<(Sockets, Conn)>() <= 112,
        "IPv6 table entry is {} bytes",
        size_of::<(Sockets, Conn)>()
    );
    // Most connections are IPv4: their entries hold no IPv6 room.
    assert!(
        size_of::<(Sockets4, Conn)>() <= 88,
        "IPv4 table entry is {} bytes",
        size_of::<(Sockets4, Conn)>()
    );
}

#[test]
fn history_is_written_as_zeek_writes_it() {
    // Every letter one connection can show (a SYN from the server would open
    // a new connection), with repeats.
    let p = [
        tcp(0, C, 50020, M, 31000, SYN, 1, 0),
        tcp(1, C, 50020, M, 31000, SYN, 1, 0),
        tcp(2, M, 31000, C, 50020, SYN | ACK, 9, 0),
        tcp(3, C, 50020, M, 31000, SYN | ACK, 1, 0),
        tcp(5, C, 50020, M, 31000, ACK, 2, 0),
        tcp(6, M, 31000, C, 50020, ACK, 10, 0),
        tcp(7, C, 50020, M, 31000, ACK, 2, 10),
        tcp(8, M, 31000, C, 50020, ACK, 10, 10),
        tcp(9, C, 50020, M, 31000, FIN | ACK, 12, 0),
        tcp(10, M, 31000, C, 50020, FIN | ACK, 20, 0),
        tcp(11, C, 50020, M, 31000, RST, 13, 0),
        tcp(12, M, 31000, C, 50020, RST, 21, 0),
        tcp(13, C, 50020, M, 31000, ACK, 2, 10),
    ];
    let mut all = p.to_vec();
    all.push(PacketMeta {
        kind: PacketKind::Unreachable {
            reporter: ip("198.51.100.1"),
            icmp_type: 3,
            code: 1,
        },
        ts_ns: 14,
        ..p[0]
    });
    let r = &one(&all, 10 * S)[0];
    // As Zeek writes it: the retransmitted SYN and the client's SYN-ACK
    // add no letter (a SYN of the same sequence number), the ICMP error is
    // not part of the TCP connection, and the client's data resent after
    // its RST is a retransmission (`T`).
    assert_eq!(r.zeek.as_ref().unwrap().history(), "ShAaDdFfRrT");
    assert_eq!(r.packets, 14);
}

#[test]
fn an_ipv4_key_hashes_as_its_full_form() {
    // The table finds a slot by the packet's ConnKey hash and moves entries
    // by their key's own hash: the two must agree, or a removal loses entries.
    let a: IpAddr = "10.1.2.3".parse().unwrap();
    let b: IpAddr = "192.168.200.1".parse().unwrap();
    for (pa, pb, t) in [(40000, 443, Transport::Tcp), (53, 53, Transport::Udp)] {
        let key = ConnKey::from_sockets((a, pa), (b, pb), t);
        let short = Sockets4::of(&key.sockets);
        assert_eq!(short.key_hash(), key.hash);
        assert_eq!(short.socket(Side::Lo), key.sockets.socket(Side::Lo));
        assert_eq!(short.socket(Side::Hi), key.sockets.socket(Side::Hi));
        assert!(short.is(Side::Lo, &a, pa));
        assert!(!short.is(Side::Lo, &b, pa));
    }
}
