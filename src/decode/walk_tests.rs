//! The walk through tunnels and the new link types, end to end: whole
//! records in, the inner connection's [`PacketMeta`] and the tunnel kinds
//! out.

use super::*;
use etherparse::{IpNumber, PacketBuilder};
use proptest::prelude::*;

const CLIENT: [u8; 4] = [192, 0, 2, 130];
const SERVER: [u8; 4] = [192, 0, 2, 10];
const TEP_A: [u8; 4] = [203, 0, 113, 1];
const TEP_B: [u8; 4] = [203, 0, 113, 2];
const CLIENT6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x82,
];
const SERVER6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
];
const BCAST: [u8; 6] = [0xff; 6];
const UNI: [u8; 6] = [0x02, 0, 0, 0, 0, 1];

/// The inner packet every test carries: a SYN from CLIENT to SERVER:31000.
fn inner4() -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(CLIENT, SERVER, 128)
        .tcp(49152, 31000, 1000, 8192)
        .syn()
        .write(&mut v, &[])
        .unwrap();
    v
}

fn inner6_udp() -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv6(CLIENT6, SERVER6, 64)
        .udp(50000, 161)
        .write(&mut v, &[1; 20])
        .unwrap();
    v
}

fn eth(dst: [u8; 6], ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = dst.to_vec();
    v.extend_from_slice(&[0x02, 0, 0, 0, 0, 2]);
    v.extend_from_slice(&ether_type.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn outer_ip(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(TEP_A, TEP_B, 255)
        .write(&mut v, IpNumber(proto), payload)
        .unwrap();
    v
}

fn outer_udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(TEP_A, TEP_B, 255)
        .udp(sport, dport)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn outer_udp6(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv6([0xfe; 16], [0xfd; 16], 255)
        .udp(sport, dport)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Decodes an Ethernet frame carrying `ip`.
fn on_eth(ip: &[u8]) -> (Result<PacketMeta, Skip>, Tunnels) {
    run(1, &eth(UNI, 0x0800, ip))
}

fn run(linktype: u32, data: &[u8]) -> (Result<PacketMeta, Skip>, Tunnels) {
    let mut t = Tunnels::NONE;
    let r = decode_with(linktype, data, 7, data.len() as u32, &mut t);
    (r, t)
}

/// The inner SYN, as every test expects it.
fn is_inner_syn(r: &Result<PacketMeta, Skip>) -> bool {
    matches!(r, Ok(m) if m.src == IpAddr::from(CLIENT) && m.dst == IpAddr::from(SERVER)
        && m.src_port == 49152 && m.dst_port == 31000 && m.tcp_flags == TcpFlags::SYN
        && m.ttl == 128 && m.transport == Transport::Tcp)
}

fn kinds(t: Tunnels) -> Vec<&'static str> {
    t.iter().map(TunnelKind::as_str).collect()
}

fn gre(flags: u16, proto: u16, optional_words: usize, payload: &[u8]) -> Vec<u8> {
    let mut v = flags.to_be_bytes().to_vec();
    v.extend_from_slice(&proto.to_be_bytes());
    v.extend(std::iter::repeat_n(0x11, optional_words * 4));
    v.extend_from_slice(payload);
    v
}

#[test]
fn gre_with_key_sequence_and_checksum() {
    for (flags, words) in [(0u16, 0), (0x2000, 1), (0x3000, 2), (0xb000, 3)] {
        let (r, t) = on_eth(&outer_ip(47, &gre(flags, 0x0800, words, &inner4())));
        assert!(is_inner_syn(&r), "{flags:#x}: {r:?}");
        assert_eq!(kinds(t), ["gre"]);
    }
    // IPv6 in GRE, transparent Ethernet bridging to a broadcast MAC
    let (r, t) = on_eth(&outer_ip(47, &gre(0, 0x86dd, 0, &inner6_udp())));
    assert_eq!(
        r.map(|m| (m.dst_port, m.transport)),
        Ok((161, Transport::Udp))
    );
    assert_eq!(kinds(t), ["gre"]);
    let (r, _) = on_eth(&outer_ip(
        47,
        &gre(0x2000, 0x6558, 1, &eth(BCAST, 0x0800, &inner4())),
    ));
    assert!(is_inner_syn(&r));
    assert_eq!(r.unwrap().link_dest, LinkDest::Broadcast);
    // wire length is the record's, not the inner packet's
    let (r, _) = on_eth(&outer_ip(47, &gre(0, 0x0800, 0, &inner4())));
    assert_eq!(r.unwrap().wire_len, 14 + 20 + 4 + 40);
}

#[test]
fn erspan_types_carry_ethernet() {
    let frame = eth(UNI, 0x8100, &cat(&[&[0, 10, 0x08, 0x00], &inner4()]));
    let (r, t) = on_eth(&outer_ip(47, &gre(0, 0x88be, 0, &frame)));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["erspan_i"]);
    let e2 = cat(&[&[0x10, 0x0a, 0x00, 0x05, 0, 0, 0, 0], &frame]);
    let (r, t) = on_eth(&outer_ip(47, &gre(0x1000, 0x88be, 1, &e2)));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["erspan_ii"]);
    let e3 = cat(&[
        &[0x20, 0x0a, 0, 5, 1, 2, 3, 4, 0, 0, 0, 0x01],
        &[0; 8],
        &frame,
    ]);
    let (r, t) = on_eth(&outer_ip(47, &gre(0x1000, 0x22eb, 1, &e3)));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["erspan_iii"]);
    // a mirrored ARP frame: counted as ERSPAN, skipped as not IP
    let arp = cat(&[
        &[0x10, 0x0a, 0x00, 0x05, 0, 0, 0, 0],
        &eth(BCAST, 0x0806, &[0; 28]),
    ]);
    let (r, t) = on_eth(&outer_ip(47, &gre(0x1000, 0x88be, 1, &arp)));
    assert_eq!((r, kinds(t)), (Err(Skip::NotIp), vec!["erspan_ii"]));
}

#[test]
fn pptp_carries_ppp() {
    for ppp in [&[0xff, 0x03, 0x00, 0x21][..], &[0x21], &[0x00, 0x21]] {
        let g = gre(0x3001 | 0x0080, 0x880b, 3, &cat(&[ppp, &inner4()]));
        let (r, t) = on_eth(&outer_ip(47, &g));
        assert!(is_inner_syn(&r), "{ppp:?}: {r:?}");
        assert_eq!(kinds(t), ["pptp"]);
    }
    // LCP inside, or an acknowledgment without payload
    let (r, t) = on_eth(&outer_ip(
        47,
        &gre(0x2001, 0x880b, 1, &[0xff, 0x03, 0xc0, 0x21, 1, 1]),
    ));
    assert_eq!((r, kinds(t)), (Err(Skip::NotIp), vec!["pptp"]));
    let (r, _) = on_eth(&outer_ip(47, &gre(0x2081, 0x880b, 2, &[])));
    assert_eq!(r, Err(Skip::OtherProtocol));
}

#[test]
fn udp_transports() {
    let frame = eth(UNI, 0x0800, &inner4());
    let vxlan = cat(&[&[0x08, 0, 0, 0, 0, 0, 0x2a, 0], &frame]);
    let (r, t) = on_eth(&outer_udp(51000, 4789, &vxlan));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["vxlan"]);

    // Geneve over IPv6, options skipped, IPv4 inside Ethernet
    let geneve = cat(&[&[0x02, 0, 0x65, 0x58, 0, 0, 1, 0], &[0xaa; 8], &frame]);
    let (r, t) = run(1, &eth(UNI, 0x86dd, &outer_udp6(51000, 6081, &geneve)));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["geneve"]);
    // Geneve with IPv6 directly
    let geneve = cat(&[&[0, 0, 0x86, 0xdd, 0, 0, 1, 0], &inner6_udp()]);
    let (r, _) = run(1, &eth(UNI, 0x86dd, &outer_udp6(51000, 6081, &geneve)));
    assert_eq!(r.map(|m| m.dst_port), Ok(161));

    // GTP-U with sequence number and a PDU session container extension
    let gtp = cat(&[
        &[0x36, 0xff, 0, 0, 0, 0, 0, 1, 0, 7, 0, 0x85],
        &[1, 0x10, 0x09, 0],
        &inner4(),
    ]);
    let (r, t) = on_eth(&outer_udp(2152, 2152, &gtp));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["gtp_u"]);
    let gtp6 = cat(&[&[0x30, 0xff, 0, 0, 0, 0, 0, 1], &inner6_udp()]);
    let (r, _) = on_eth(&outer_udp(2152, 2152, &gtp6));
    assert_eq!(r.map(|m| m.src), Ok(IpAddr::from(CLIENT6)));

    // Teredo with an origin indication
    let teredo = cat(&[&[0, 0, 0xf2, 0x27, 0x3f, 0xff, 0xfd, 0xfe], &inner6_udp()]);
    let (r, t) = on_eth(&outer_udp(3544, 50000, &teredo));
    assert_eq!(r.map(|m| m.dst), Ok(IpAddr::from(SERVER6)));
    assert_eq!(kinds(t), ["teredo"]);

    // AYIYA: 16-byte identity, 20-byte signature
    let ayiya = cat(&[&[0x41, 0x52, 0x11, 4, 0, 0, 0, 0], &[0; 36], &inner4()]);
    let (r, t) = on_eth(&outer_udp(5072, 5072, &ayiya));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["ayiya"]);

    // GRE over UDP
    let (r, t) = on_eth(&outer_udp(50000, 4754, &gre(0, 0x0800, 0, &inner4())));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["gre_udp"]);
}

#[test]
fn tunnel_ports_without_a_tunnel_keep_the_outer_datagram() {
    let outer_is_kept = |ip: &[u8], sport: u16, dport: u16| {
        let (r, t) = on_eth(ip);
        let m = r.unwrap_or_else(|e| panic!("{sport}→{dport}: {e:?}"));
        assert_eq!(
            (m.src, m.src_port, m.dst_port, m.transport),
            (IpAddr::from(TEP_A), sport, dport, Transport::Udp)
        );
        assert!(t.is_empty());
    };
    // a DNS query from ephemeral port 4789; a VXLAN header carrying garbage
    let dns = [
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 0, 0, 1, 0, 1,
    ];
    outer_is_kept(&outer_udp(4789, 53, &dns), 4789, 53);
    let garbage = cat(&[
        &[0x08, 0, 0, 0, 0, 0, 1, 0],
        &eth(UNI, 0x0800, &[0x45, 0, 0, 10]),
    ]);
    outer_is_kept(&outer_udp(50000, 4789, &garbage), 50000, 4789);
    // IPv4 header whose total length exceeds the datagram
    let mut long = inner4();
    long[2..4].copy_from_slice(&1400u16.to_be_bytes());
    let gtp = cat(&[&[0x30, 0xff, 0, 0, 0, 0, 0, 1], &long]);
    outer_is_kept(&outer_udp(2152, 2152, &gtp), 2152, 2152);
    // version nibble 4 where Teredo needs 6; GTP echo request; AYIYA non-IP
    outer_is_kept(&outer_udp(3544, 40000, &inner4()), 3544, 40000);
    outer_is_kept(
        &outer_udp(2152, 2152, &[0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]),
        2152,
        2152,
    );
    let ayiya = cat(&[&[0x41, 0x52, 0x11, 17, 0, 0, 0, 0], &[0; 36], &inner4()]);
    outer_is_kept(&outer_udp(5072, 5072, &ayiya), 5072, 5072);
    // the fast path hands tunnel ports to the walk, which keeps them
    let f = eth(UNI, 0x0800, &outer_udp(4789, 53, &dns));
    assert_eq!(fast_ethernet_ipv4(&f, 7, f.len() as u32), None);
}

#[test]
fn inner_failures_that_prove_the_tunnel() {
    // an inner ICMP echo: the tunnel is real, the packet other protocol
    let mut echo = Vec::new();
    PacketBuilder::ipv4(CLIENT, SERVER, 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut echo, &[0; 8])
        .unwrap();
    let vxlan = cat(&[&[0x08, 0, 0, 0, 0, 0, 0x2a, 0], &eth(UNI, 0x0800, &echo)]);
    let (r, t) = on_eth(&outer_udp(51000, 4789, &vxlan));
    assert_eq!((r, kinds(t)), (Err(Skip::OtherProtocol), vec!["vxlan"]));
    // ARP in VXLAN: a tunnel too; an unknown ethertype is not
    let arp = cat(&[
        &[0x08, 0, 0, 0, 0, 0, 0x2a, 0],
        &eth(BCAST, 0x0806, &[0; 28]),
    ]);
    let (r, t) = on_eth(&outer_udp(51000, 4789, &arp));
    assert_eq!((r, kinds(t)), (Err(Skip::NotIp), vec!["vxlan"]));
    let odd = cat(&[
        &[0x08, 0, 0, 0, 0, 0, 0x2a, 0],
        &eth(BCAST, 0x1234, &[0; 28]),
    ]);
    let (r, t) = on_eth(&outer_udp(51000, 4789, &odd));
    assert_eq!((r.map(|m| m.dst_port), t), (Ok(4789), Tunnels::NONE));
    // an IP tunnel hides the outer frame's destination class
    let mut f = eth(BCAST, 0x0800, &outer_ip(47, &gre(0, 0x0800, 0, &inner4())));
    f[0] = 0x01;
    assert_eq!(run(1, &f).0.map(|m| m.link_dest), Ok(LinkDest::Unicast));
    // an ICMP unreachable inside GRE quotes the inner connection
    let mut unreach = Vec::new();
    PacketBuilder::ipv4([198, 51, 100, 1], CLIENT, 250)
        .icmpv4_raw(3, 13, [0; 4])
        .write(&mut unreach, &inner4()[..28])
        .unwrap();
    let (r, _) = on_eth(&outer_ip(47, &gre(0, 0x0800, 0, &unreach)));
    let m = r.unwrap();
    assert!(matches!(m.kind, PacketKind::Unreachable { code: 13, .. }));
    assert_eq!((m.src_port, m.dst_port), (49152, 31000));
}

#[test]
fn nesting_is_bounded() {
    // GRE in IP-in-IP in VXLAN: three deep
    let g = outer_ip(47, &gre(0, 0x0800, 0, &inner4()));
    let ipip = outer_ip(4, &g);
    let vxlan = cat(&[&[0x08, 0, 0, 0, 0, 0, 1, 0], &eth(UNI, 0x0800, &ipip)]);
    let (r, t) = on_eth(&outer_udp(1, 4789, &vxlan));
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(kinds(t), ["ip_in_ip", "gre", "vxlan"]);
    // four levels are followed, five are not
    let mut p = inner4();
    for _ in 0..4 {
        p = outer_ip(47, &gre(0, 0x0800, 0, &p));
    }
    assert!(is_inner_syn(&run(101, &p).0));
    let p5 = outer_ip(4, &p);
    assert_eq!(run(101, &p5).0, Err(Skip::TunnelTooDeep));
    // a hostile nest of GRE headers inside one GRE packet: garbage
    let mut hostile = inner4();
    for _ in 0..200 {
        hostile = gre(0, 0x6558, 0, &eth(UNI, 0x0800, &outer_ip(47, &hostile)));
    }
    assert_eq!(
        run(101, &outer_ip(47, &hostile)).0,
        Err(Skip::TunnelTooDeep)
    );
    // IP-in-IP nested past the bound, as the IP layer used to bound it
    let mut q = inner4();
    for _ in 0..5 {
        q = outer_ip(4, &q);
    }
    assert_eq!(run(101, &q).0, Err(Skip::TunnelTooDeep));
    // a deep nest behind a tunnel port is still counted as too deep
    let vxlan = cat(&[&[0x08, 0, 0, 0, 0, 0, 1, 0], &eth(UNI, 0x0800, &p)]);
    assert_eq!(
        on_eth(&outer_udp(1, 4789, &vxlan)).0,
        Err(Skip::TunnelTooDeep)
    );
}

#[test]
fn pbb_and_fabricpath() {
    // 802.1ah: I-TAG, customer addresses (broadcast), 802.1Q tag, IPv4
    let customer = cat(&[
        &[0, 0, 0, 42],
        &BCAST,
        &[2; 6],
        &[0x81, 0x00, 0, 5, 0x08, 0x00],
        &inner4(),
    ]);
    let f = eth(UNI, 0x88a8, &cat(&[&[0, 7, 0x88, 0xe7], &customer]));
    let (r, t) = run(1, &f);
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(r.unwrap().link_dest, LinkDest::Broadcast);
    assert_eq!(kinds(t), ["pbb"]);
    assert_eq!(run(1, &eth(UNI, 0x88e7, &[0; 10])).0, Err(Skip::Malformed));
    // FabricPath: 16-byte outer header, then the customer frame
    let f = cat(&[
        &[1; 12],
        &[0x89, 0x03, 0, 0],
        &eth(BCAST, 0x0800, &inner4()),
    ]);
    let (r, t) = run(1, &f);
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(r.unwrap().link_dest, LinkDest::Broadcast);
    assert!(t.is_empty());
}

#[test]
fn ppp_hdlc_wifi_and_nflog_link_types() {
    let ip = inner4();
    for (lt, prefix) in [
        (linktype::PPP, &[0xff, 0x03, 0x00, 0x21][..]),
        (linktype::PPP, &[0x00, 0x21]),
        (linktype::PPP_HDLC, &[0xff, 0x03, 0x00, 0x21]),
        (linktype::PPP_HDLC, &[0x0f, 0x00, 0x08, 0x00]),
        (linktype::C_HDLC, &[0x8f, 0x00, 0x08, 0x00]),
    ] {
        assert!(
            is_inner_syn(&run(lt, &cat(&[prefix, &ip])).0),
            "{lt} {prefix:?}"
        );
    }
    // 802.11 QoS data from the AP to a multicast address, LLC/SNAP
    let mut wifi = vec![0x88, 0x02, 0, 0];
    wifi.extend_from_slice(&[0x01, 0x00, 0x5e, 0, 0, 1]);
    wifi.extend_from_slice(&[2; 12]);
    wifi.extend_from_slice(&[0x10, 0, 0, 0]);
    wifi.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    wifi.extend_from_slice(&ip);
    let (r, _) = run(linktype::IEEE802_11, &wifi);
    assert!(is_inner_syn(&r), "{r:?}");
    assert_eq!(r.unwrap().link_dest, LinkDest::Multicast);
    let radiotap = cat(&[&[0, 0, 10, 0, 0x02, 0, 0, 0, 0x10, 0], &wifi, &[1, 2, 3, 4]]);
    let (r, _) = run(linktype::IEEE802_11_RADIOTAP, &radiotap);
    assert!(is_inner_syn(&r), "{r:?}");
    // NFLOG, little-endian TLVs
    let mut nflog = vec![2, 0, 0, 0, 8, 0, 1, 0, 8, 0, 0, 0];
    nflog.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
    nflog.extend_from_slice(&[9, 0]);
    nflog.extend_from_slice(&ip);
    assert!(is_inner_syn(&run(linktype::NFLOG, &nflog).0));
}

/// One frame of each tunnel, for mutation.
fn tunnel_frames() -> Vec<(u32, Vec<u8>)> {
    let frame = eth(UNI, 0x0800, &inner4());
    let e2 = cat(&[&[0x10, 0x0a, 0x00, 0x05, 0, 0, 0, 0], &frame]);
    let e3 = cat(&[
        &[0x20, 0x0a, 0, 5, 1, 2, 3, 4, 0, 0, 0, 0x01],
        &[0; 8],
        &frame,
    ]);
    let customer = cat(&[&[0, 0, 0, 42], &BCAST, &[2; 6], &[0x08, 0x00], &inner4()]);
    vec![
        (
            1,
            eth(
                UNI,
                0x0800,
                &outer_ip(47, &gre(0xb000, 0x0800, 3, &inner4())),
            ),
        ),
        (
            1,
            eth(UNI, 0x0800, &outer_ip(47, &gre(0x1000, 0x88be, 1, &e2))),
        ),
        (
            1,
            eth(UNI, 0x0800, &outer_ip(47, &gre(0x1000, 0x22eb, 1, &e3))),
        ),
        (
            1,
            eth(
                UNI,
                0x0800,
                &outer_ip(
                    47,
                    &gre(0x3081, 0x880b, 3, &cat(&[&[0xff, 3, 0, 0x21], &inner4()])),
                ),
            ),
        ),
        (
            1,
            eth(
                UNI,
                0x0800,
                &outer_udp(1, 4789, &cat(&[&[0x08, 0, 0, 0, 0, 0, 1, 0], &frame])),
            ),
        ),
        (
            1,
            eth(
                UNI,
                0x86dd,
                &outer_udp6(
                    1,
                    6081,
                    &cat(&[&[0x01, 0, 0x65, 0x58, 0, 0, 1, 0], &[0; 4], &frame]),
                ),
            ),
        ),
        (
            1,
            eth(
                UNI,
                0x0800,
                &outer_udp(
                    2152,
                    2152,
                    &cat(&[
                        &[0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0, 0, 0],
                        &inner4(),
                    ]),
                ),
            ),
        ),
        (
            1,
            eth(
                UNI,
                0x0800,
                &outer_udp(
                    3544,
                    1,
                    &cat(&[
                        &[0, 1, 1, 1, 9, 9],
                        &[0; 9],
                        &[0, 0, 1, 1, 1, 1, 1, 1],
                        &inner6_udp(),
                    ]),
                ),
            ),
        ),
        (
            1,
            eth(
                UNI,
                0x0800,
                &outer_udp(
                    5072,
                    1,
                    &cat(&[
                        &[0x01, 0x11, 0x01, 41, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                        &inner6_udp(),
                    ]),
                ),
            ),
        ),
        (
            1,
            eth(
                UNI,
                0x0800,
                &outer_udp(1, 4754, &gre(0x2000, 0x6558, 1, &frame)),
            ),
        ),
        (1, eth(UNI, 0x88e7, &customer)),
        (
            linktype::NFLOG,
            cat(&[
                &[2, 0, 0, 0],
                &((4 + 40) as u16).to_le_bytes(),
                &[9, 0],
                &inner4(),
            ]),
        ),
        (
            linktype::IEEE802_11_RADIOTAP,
            cat(&[
                &[0, 0, 8, 0, 0, 0, 0, 0, 0x88, 0x03],
                &[0; 28],
                &[0, 0],
                &[0xaa, 0xaa, 3, 0, 0, 0, 8, 0],
                &inner4(),
            ]),
        ),
        (linktype::PPP, cat(&[&[0x21], &inner4()])),
    ]
}

#[test]
fn every_mutation_base_decodes() {
    for (i, (lt, f)) in tunnel_frames().into_iter().enumerate() {
        let (r, t) = run(lt, &f);
        assert!(r.is_ok(), "frame {i}: {r:?}");
        assert!(lt != 1 || !t.is_empty(), "frame {i}: no tunnel");
    }
}

proptest! {
    /// Mutated and cut tunnel frames never panic, and whatever they decode
    /// to is bounded by the record.
    #[test]
    fn mutated_tunnels_never_panic(
        base in prop::sample::select(tunnel_frames()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        wire_len in any::<u32>(),
    ) {
        let (lt, mut frame) = base;
        for (at, byte) in edits {
            let i = at.index(frame.len());
            frame[i] = byte;
        }
        let n = cut.index(frame.len() + 1);
        let mut t = Tunnels::NONE;
        let _ = decode_with(lt, &frame[..n], 0, wire_len, &mut t);
        let _ = decode_with(lt, &frame, 0, wire_len, &mut t);
    }
}
