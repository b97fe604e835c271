//! Micro-benchmark of the per-packet hot path, `flowlint::decode::decode`,
//! on the packet shapes that dominate real captures.
//!
//! Run with `cargo bench --bench decode` (needs `[[bench]] name = "decode"
//! harness = false` in Cargo.toml).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etherparse::{PacketBuilder, VlanId};
use flowlint::decode::decode;
use std::hint::black_box;

const CLIENT: [u8; 4] = [192, 0, 2, 130];
const SERVER: [u8; 4] = [192, 0, 2, 10];
const CLIENT6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x82,
];
const SERVER6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
];

/// (name, link type, frame) for each typical packet.
fn packets() -> Vec<(&'static str, u32, Vec<u8>)> {
    let mut out = Vec::new();

    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(CLIENT, SERVER, 64)
        .tcp(49152, 31000, 1000, 8192)
        .syn()
        .write(&mut f, &[])
        .unwrap();
    out.push(("eth_ipv4_tcp_syn", 1, f));

    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(SERVER, CLIENT, 128)
        .tcp(31000, 49152, 5000, 8192)
        .ack(1001)
        .psh()
        .write(&mut f, &[0x61; 1400])
        .unwrap();
    f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]); // FCS
    out.push(("eth_ipv4_tcp_1400_fcs", 1, f));

    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(VlanId::try_new(100).unwrap())
        .ipv4(CLIENT, SERVER, 64)
        .udp(49153, 161)
        .write(&mut f, &[0; 40])
        .unwrap();
    out.push(("eth_vlan_ipv4_udp", 1, f));

    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv6(CLIENT6, SERVER6, 64)
        .tcp(49152, 31000, 1000, 8192)
        .ack(1)
        .write(&mut f, &[0x61; 100])
        .unwrap();
    out.push(("eth_ipv6_tcp", 1, f));

    let mut ip = Vec::new();
    PacketBuilder::ipv4(CLIENT, SERVER, 64)
        .tcp(49152, 31000, 1000, 8192)
        .syn()
        .write(&mut ip, &[])
        .unwrap();
    let mut f = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    f.extend_from_slice(&ip);
    out.push(("sll2_ipv4_tcp", 276, f));

    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([198, 51, 100, 1], CLIENT, 250)
        .icmpv4_raw(3, 13, [0; 4])
        .write(&mut f, &ip[..28])
        .unwrap();
    out.push(("eth_icmpv4_unreachable", 1, f));

    out
}

fn bench_decode(c: &mut Criterion) {
    let packets = packets();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for (name, linktype, frame) in &packets {
        assert!(
            decode(*linktype, frame, 0, frame.len() as u32).is_ok(),
            "{name}"
        );
        group.bench_function(*name, |b| {
            b.iter(|| {
                decode(
                    black_box(*linktype),
                    black_box(frame),
                    0,
                    frame.len() as u32,
                )
            })
        });
    }
    group.finish();

    let mut mixed = c.benchmark_group("decode_mixed");
    mixed.throughput(Throughput::Elements(packets.len() as u64));
    mixed.bench_function("all", |b| {
        b.iter(|| {
            for (_, linktype, frame) in &packets {
                black_box(decode(*linktype, black_box(frame), 0, frame.len() as u32)).ok();
            }
        })
    });
    mixed.finish();
}

/// Tunnelled packets (a group of their own, so `decode_mixed` stays
/// comparable with earlier runs) and a plain UDP datagram that passes the
/// fast path's tunnel-port check.
fn tunnel_packets() -> Vec<(&'static str, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut inner = Vec::new();
    PacketBuilder::ipv4(CLIENT, SERVER, 64)
        .tcp(49152, 31000, 1000, 8192)
        .syn()
        .write(&mut inner, &[])
        .unwrap();

    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(CLIENT, SERVER, 64)
        .udp(49153, 53)
        .write(&mut f, &[0x12; 40])
        .unwrap();
    out.push(("eth_ipv4_udp_dns", 1, f));

    let mut gre = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 1];
    gre.extend_from_slice(&inner);
    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([203, 0, 113, 1], [203, 0, 113, 2], 255)
        .write(&mut f, etherparse::IpNumber::GRE, &gre)
        .unwrap();
    out.push(("eth_ipv4_gre_ipv4_tcp", 1, f));

    let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vxlan.extend_from_slice(&[3; 12]);
    vxlan.extend_from_slice(&[0x08, 0x00]);
    vxlan.extend_from_slice(&inner);
    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([203, 0, 113, 1], [203, 0, 113, 2], 255)
        .udp(50000, 4789)
        .write(&mut f, &vxlan)
        .unwrap();
    out.push(("eth_ipv4_vxlan_eth_ipv4_tcp", 1, f));
    out
}

fn bench_tunnels(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_tunnels");
    group.throughput(Throughput::Elements(1));
    for (name, linktype, frame) in &tunnel_packets() {
        let m = decode(*linktype, frame, 0, frame.len() as u32).unwrap();
        assert!(m.dst_port == 31000 || m.dst_port == 53, "{name}");
        group.bench_function(*name, |b| {
            b.iter(|| {
                decode(
                    black_box(*linktype),
                    black_box(frame),
                    0,
                    frame.len() as u32,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_decode, bench_tunnels);
criterion_main!(benches);
