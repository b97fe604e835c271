//! Packet decoding: from the bytes of one record (and its link type) to a
//! compact, copyable [`PacketMeta`] the flow table works on.
//!
//! Owns: link layers (Ethernet with 802.1Q/802.1ad tags and a trailing FCS,
//! raw IP, IPv4/IPv6 link types, BSD NULL/LOOP, Linux SLL and SLL2, PPP,
//! Cisco HDLC, 802.11 with or without radiotap, NFLOG), IPv4 and IPv6
//! (extension headers, fragments: only the first fragment yields ports),
//! tunnels (IP-in-IP, GRE, PPTP, ERSPAN, VXLAN, Geneve, GTP-U, Teredo,
//! AYIYA, GRE over UDP, 802.1ah PBB: the innermost packet is the
//! connection), TCP, UDP, and ICMP/ICMPv6 destination unreachable (mapped to
//! the quoted TCP/UDP header). Never allocates, never panics on any input.
//!
//! One file per layer, each a set of typed views over the record's bytes:
//! `link` (to the IP header; also PPPoE, MPLS, PBB), `ppp`, `wifi` and
//! `nflog` (link types of their own), `ip` (headers, extension chains,
//! fragments), `tunnel` (the headers between an outer and an inner
//! packet), `transport` (TCP/UDP leading bytes), `icmp` (the quoted packet
//! of a destination unreachable). [`decode`] takes a fixed-offset shortcut
//! for Ethernet/IPv4/TCP|UDP, the bulk of real traffic, and the
//! layer-by-layer walk for everything else; both give the same answer.

use link::IpHint;
use std::net::IpAddr;

mod icmp;
mod ip;
mod link;
mod nflog;
mod ppp;
mod transport;
mod tunnel;
mod wifi;

pub use link::linktype;
pub use tunnel::{TunnelKind, Tunnels, MAX_DEPTH as MAX_TUNNEL_DEPTH};

/// Transport protocol of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Transport {
    #[default]
    Tcp,
    Udp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// The flag bits of a TCP header, as on the wire (FIN 0x01, SYN 0x02, RST
/// 0x04, PSH 0x08, ACK 0x10, URG, ECE, CWR; the NS bit is not kept). Empty
/// for UDP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(u8);

impl TcpFlags {
    pub const NONE: TcpFlags = TcpFlags(0);
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);

    /// The flags byte of a TCP header.
    #[inline]
    pub const fn from_bits(bits: u8) -> TcpFlags {
        TcpFlags(bits)
    }

    #[inline]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Are all of `other`'s bits set?
    #[inline]
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    #[inline]
    pub const fn fin(self) -> bool {
        self.contains(TcpFlags::FIN)
    }

    #[inline]
    pub const fn syn(self) -> bool {
        self.contains(TcpFlags::SYN)
    }

    #[inline]
    pub const fn rst(self) -> bool {
        self.contains(TcpFlags::RST)
    }

    #[inline]
    pub const fn psh(self) -> bool {
        self.contains(TcpFlags::PSH)
    }

    #[inline]
    pub const fn ack(self) -> bool {
        self.contains(TcpFlags::ACK)
    }

    /// SYN without ACK or RST: a connection's opening (or its retransmission).
    #[inline]
    pub const fn is_pure_syn(self) -> bool {
        self.0 & (TcpFlags::SYN.0 | TcpFlags::ACK.0 | TcpFlags::RST.0) == TcpFlags::SYN.0
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    #[inline]
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for TcpFlags {
    #[inline]
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

/// What a decoded packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PacketKind {
    /// A TCP segment or UDP datagram; all fields describe it.
    #[default]
    Transport,
    /// An ICMP/ICMPv6 destination unreachable (or ICMPv6 administratively
    /// prohibited etc.) quoting a TCP/UDP packet. `src`, `dst`, ports,
    /// `transport`, `seq` describe the *quoted* packet (as its sender sent it);
    /// `reporter` is the address that sent the ICMP message.
    Unreachable {
        reporter: IpAddr,
        icmp_type: u8,
        code: u8,
    },
}

/// What the link layer says about a frame's destination: a broadcast or
/// multicast frame is not addressed to one host (SPEC "Broadcast and
/// multicast"). Unicast where the link layer does not say (raw IP,
/// loopback, an outgoing SLL packet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LinkDest {
    /// A unicast destination, or one the link layer does not tell.
    #[default]
    Unicast,
    /// Ethernet ff:ff:ff:ff:ff:ff; Linux cooked packet type 1.
    Broadcast,
    /// Any other Ethernet address with the group bit set; Linux cooked
    /// packet type 2.
    Multicast,
}

impl LinkDest {
    /// Broadcast or multicast.
    #[inline]
    pub const fn is_group(self) -> bool {
        !matches!(self, LinkDest::Unicast)
    }
}

/// The facts about one packet that the flow table needs. Small and `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMeta {
    pub ts_ns: i64,
    pub kind: PacketKind,
    pub transport: Transport,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    /// TCP flags (none for UDP).
    pub tcp_flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    /// Transport payload length as the IP header states it (not the captured length).
    pub payload_len: u32,
    /// Length of the packet on the wire (record's original length).
    pub wire_len: u32,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The link-layer destination class (one byte in what was padding: the
    /// struct stays 88 bytes).
    pub link_dest: LinkDest,
    /// The tunnels the packet came through (two bytes of padding too).
    pub tunnels: Tunnels,
}

/// Why a record yields no [`PacketMeta`]. Counted, never an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// A link type flowlint does not decode.
    UnsupportedLinktype,
    /// Not IPv4/IPv6 (ARP, LLDP, STP, ...).
    NotIp,
    /// IP but neither TCP, UDP nor a usable ICMP error (ICMP echo, GRE, ESP, ...).
    OtherProtocol,
    /// A non-first IP fragment: it carries no ports and must not make a flow.
    LaterFragment,
    /// Headers cut short or inconsistent.
    Malformed,
    /// Tunnels nested deeper than [`MAX_TUNNEL_DEPTH`].
    TunnelTooDeep,
}

impl Skip {
    pub const ALL: [Skip; 6] = [
        Skip::UnsupportedLinktype,
        Skip::NotIp,
        Skip::OtherProtocol,
        Skip::LaterFragment,
        Skip::Malformed,
        Skip::TunnelTooDeep,
    ];

    /// The name reports give it (`inputs[].skipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::UnsupportedLinktype => "unsupported_linktype",
            Skip::NotIp => "not_ip",
            Skip::OtherProtocol => "other_protocol",
            Skip::LaterFragment => "later_fragment",
            Skip::Malformed => "malformed",
            Skip::TunnelTooDeep => "tunnel_too_deep",
        }
    }
}

/// Decodes one record. `wire_len` is the record's original length.
#[inline]
pub fn decode(linktype: u32, data: &[u8], ts_ns: i64, wire_len: u32) -> Result<PacketMeta, Skip> {
    let mut tunnels = Tunnels::NONE;
    decode_with(linktype, data, ts_ns, wire_len, &mut tunnels)
}

/// [`decode`], also adding to `tunnels` every kind of tunnel the packet came
/// through — whether or not the inner packet then yields a connection (an
/// ERSPAN-mirrored ARP frame is an `erspan_ii` packet skipped as `not_ip`).
#[inline]
pub fn decode_with(
    linktype: u32,
    data: &[u8],
    ts_ns: i64,
    wire_len: u32,
    tunnels: &mut Tunnels,
) -> Result<PacketMeta, Skip> {
    if linktype == linktype::ETHERNET {
        if let Some(decoded) = fast_ethernet_ipv4(data, ts_ns, wire_len) {
            return decoded;
        }
    }
    let decoded = decode_layers(linktype, data, ts_ns, wire_len, tunnels);
    decoded.map(|mut meta| {
        meta.tunnels = *tunnels;
        meta
    })
}

/// The general path: link layer, then the walk through IP, tunnels and
/// TCP, UDP or an ICMP error.
fn decode_layers(
    linktype: u32,
    data: &[u8],
    ts_ns: i64,
    wire_len: u32,
    tunnels: &mut Tunnels,
) -> Result<PacketMeta, Skip> {
    let net = link::frame(linktype, data)?;
    if net.pbb {
        tunnels.insert(TunnelKind::Pbb);
    }
    // The link layer returns a suffix of the record, so its length is what
    // precedes the IP header; the rest of the wire length is the IP packet's.
    let link_len = data.len().saturating_sub(net.bytes.len());
    let ip_wire_len = (wire_len as usize)
        .saturating_sub(link_len)
        .max(net.bytes.len());
    let mut walk = Walk {
        ts_ns,
        wire_len,
        tunnels,
    };
    let at = Level {
        depth: 0,
        link_dest: net.dest,
        first_fragment: false,
    };
    walk.ip(net.hint, net.bytes, sat_u32(ip_wire_len), at)
}

#[inline]
fn sat_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The walk from an IP header to the connection: through tunnels (each
/// level one call, at most [`MAX_TUNNEL_DEPTH`] deep) to the innermost
/// packet.
struct Walk<'t> {
    ts_ns: i64,
    wire_len: u32,
    tunnels: &'t mut Tunnels,
}

/// Where the walk is: how many tunnels deep, the destination class of the
/// innermost link layer so far, and whether an outer packet was a first
/// fragment (the inner one is then cut too).
#[derive(Clone, Copy)]
struct Level {
    depth: usize,
    link_dest: LinkDest,
    first_fragment: bool,
}

impl Walk<'_> {
    /// An IP packet: its connection, or the tunnel it carries.
    fn ip(
        &mut self,
        hint: IpHint,
        bytes: &[u8],
        wire_len: u32,
        at: Level,
    ) -> Result<PacketMeta, Skip> {
        let mut pkt = ip::parse(bytes, hint, wire_len)?;
        pkt.first_fragment |= at.first_fragment;
        if at.depth > 0
            && !pkt.first_fragment
            && pkt.header_len.saturating_add(pkt.payload_len) > wire_len
        {
            // an inner packet longer than what carries it
            return Err(Skip::Malformed);
        }
        let mut meta = PacketMeta {
            ts_ns: self.ts_ns,
            kind: PacketKind::Transport,
            transport: Transport::Tcp,
            src: pkt.src,
            dst: pkt.dst,
            src_port: 0,
            dst_port: 0,
            tcp_flags: TcpFlags::NONE,
            seq: 0,
            ack: 0,
            payload_len: 0,
            wire_len: self.wire_len,
            ttl: pkt.ttl,
            link_dest: at.link_dest,
            tunnels: Default::default(),
        };
        let inner = Level {
            first_fragment: pkt.first_fragment,
            ..at
        };
        let segment = match pkt.protocol {
            ip::proto::TCP => transport::tcp(pkt.payload, pkt.payload_len)?,
            ip::proto::UDP => {
                let seg = transport::udp(pkt.payload, pkt.payload_len, pkt.first_fragment)?;
                let body = pkt.payload.get(UDP_HEADER..).unwrap_or_default();
                if tunnel::worth_a_look(seg.src_port, seg.dst_port, body) {
                    let stated = pkt.payload_len.saturating_sub(UDP_HEADER as u32);
                    if let Some(encap) = tunnel::udp(seg.src_port, seg.dst_port, body) {
                        let before = *self.tunnels;
                        match self.enter(encap, stated, inner) {
                            // the port lied: not a tunnel, the outer datagram
                            // stands (but a well-formed Ethernet frame of a
                            // known non-IP kind, ARP say, is a tunnel's)
                            Err(Skip::Malformed) => *self.tunnels = before,
                            Err(Skip::NotIp) if !tunnel::carries_known_frame(&encap) => {
                                *self.tunnels = before
                            }
                            done => return done,
                        }
                    }
                }
                seg
            }
            ip::proto::ICMP if pkt.is_v4() => return Ok(unreachable(meta, icmp::v4(pkt.payload)?)),
            ip::proto::ICMPV6 if !pkt.is_v4() => {
                return Ok(unreachable(meta, icmp::v6(pkt.payload)?))
            }
            ip::proto::IPIP | ip::proto::IPV6 => {
                let hint = if pkt.protocol == ip::proto::IPIP {
                    IpHint::V4
                } else {
                    IpHint::V6
                };
                let encap = tunnel::Encap {
                    kind: TunnelKind::IpInIp,
                    payload: tunnel::Payload::Ip(hint),
                    inner: pkt.payload,
                    header_len: 0,
                };
                return self.enter(encap, pkt.payload_len, inner);
            }
            ip::proto::GRE => return self.enter(tunnel::gre(pkt.payload)?, pkt.payload_len, inner),
            _ => return Err(Skip::OtherProtocol),
        };
        fill(&mut meta, &segment);
        Ok(meta)
    }

    /// Into a tunnel: `stated` is the length of the tunnel header and what
    /// follows as the outer header says.
    fn enter(
        &mut self,
        encap: tunnel::Encap<'_>,
        stated: u32,
        at: Level,
    ) -> Result<PacketMeta, Skip> {
        if at.depth >= MAX_TUNNEL_DEPTH {
            return Err(Skip::TunnelTooDeep);
        }
        self.tunnels.insert(encap.kind);
        // The outer frame went to the tunnel's endpoint: what the inner
        // packet was sent to only an inner Ethernet header tells.
        let mut at = Level {
            depth: at.depth + 1,
            link_dest: LinkDest::Unicast,
            ..at
        };
        let stated = stated.saturating_sub(encap.header_len);
        let net = match encap.payload {
            tunnel::Payload::Ip(hint) => return self.ip(hint, encap.inner, stated, at),
            tunnel::Payload::Ethernet => link::ethernet(encap.inner)?,
            tunnel::Payload::Ethertype(et) => {
                link::by_ethertype(et, encap.inner, LinkDest::Unicast)?
            }
            tunnel::Payload::Ppp => {
                let (hint, bytes) = ppp::frame(encap.inner)?;
                link::Net {
                    hint,
                    bytes,
                    dest: at.link_dest,
                    pbb: false,
                }
            }
        };
        if net.pbb {
            self.tunnels.insert(TunnelKind::Pbb);
        }
        at.link_dest = net.dest;
        let link_len = encap.inner.len().saturating_sub(net.bytes.len());
        self.ip(
            net.hint,
            net.bytes,
            stated.saturating_sub(sat_u32(link_len)),
            at,
        )
    }
}

const UDP_HEADER: usize = 8;

/// Ethernet II, IPv4 without options, not a fragment, TCP or UDP: the bulk of
/// most captures, read with fixed offsets. `None` hands anything else (and
/// anything odd) to the general path, which gives the same answer for these
/// packets; this only saves the layer-by-layer dispatch.
#[inline(always)]
fn fast_ethernet_ipv4(data: &[u8], ts_ns: i64, wire_len: u32) -> Option<Result<PacketMeta, Skip>> {
    const ETH: usize = 14;
    const IP: usize = 20;
    let hdr: &[u8; ETH + IP] = data.get(..ETH + IP)?.try_into().ok()?;
    // ethertype IPv4, version 4 with IHL 5, MF and fragment offset all zero
    if hdr[12..14] != [0x08, 0x00] || hdr[14] != 0x45 || hdr[20] & 0x3f != 0 || hdr[21] != 0 {
        return None;
    }
    let total_len = u32::from(u16::from_be_bytes([hdr[16], hdr[17]]));
    let payload_len = total_len
        .checked_sub(IP as u32)
        .filter(|_| total_len != 0)?;
    let end = (total_len as usize + ETH).min(data.len());
    let payload = data.get(ETH + IP..end)?;
    let segment = match hdr[23] {
        ip::proto::TCP => transport::tcp(payload, payload_len),
        ip::proto::UDP => match transport::udp(payload, payload_len, false) {
            // maybe a tunnel: the walk decides
            Ok(s) if tunnel::worth_a_look(s.src_port, s.dst_port, payload.get(8..)?) => {
                return None
            }
            udp => udp,
        },
        _ => return None,
    };
    let src = IpAddr::from([hdr[26], hdr[27], hdr[28], hdr[29]]);
    let dst = IpAddr::from([hdr[30], hdr[31], hdr[32], hdr[33]]);
    let link_dest = if hdr[0] & 1 == 0 {
        LinkDest::Unicast
    } else {
        link::group_destination(&hdr[..6])
    };
    Some(segment.map(|s| PacketMeta {
        ts_ns,
        kind: PacketKind::Transport,
        transport: s.transport,
        src,
        dst,
        src_port: s.src_port,
        dst_port: s.dst_port,
        tcp_flags: s.flags,
        seq: s.seq,
        ack: s.ack,
        payload_len: s.payload_len,
        wire_len,
        ttl: hdr[22],
        link_dest,
        tunnels: Tunnels::NONE,
    }))
}

/// Turns the meta of the ICMP packet into that of the packet it quotes; TTL,
/// time and wire length stay those of the ICMP packet.
#[inline]
fn unreachable(mut meta: PacketMeta, u: icmp::Unreachable) -> PacketMeta {
    meta.kind = PacketKind::Unreachable {
        reporter: meta.src,
        icmp_type: u.icmp_type,
        code: u.code,
    };
    meta.src = u.src;
    meta.dst = u.dst;
    fill(&mut meta, &u.segment);
    meta
}

#[inline]
fn fill(meta: &mut PacketMeta, s: &transport::Segment) {
    meta.transport = s.transport;
    meta.src_port = s.src_port;
    meta.dst_port = s.dst_port;
    meta.tcp_flags = s.flags;
    meta.seq = s.seq;
    meta.ack = s.ack;
    meta.payload_len = s.payload_len;
}

#[cfg(test)]
mod walk_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{LinuxSllPacketType, PacketBuilder, VlanId};
    use proptest::prelude::*;

    const CLIENT: [u8; 4] = [192, 0, 2, 130];
    const SERVER: [u8; 4] = [192, 0, 2, 10];
    const ROUTER: [u8; 4] = [198, 51, 100, 1];
    const CLIENT6: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x82,
    ];
    const SERVER6: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
    ];
    const ROUTER6: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ];
    const TS: i64 = 1_700_000_000_123_456_789;

    fn ip(a: [u8; 4]) -> IpAddr {
        IpAddr::from(a)
    }
    fn ip6(a: [u8; 16]) -> IpAddr {
        IpAddr::from(a)
    }

    /// IPv4 TCP SYN+ACK-less SYN from the client with `payload` bytes of data.
    fn tcp4(payload: usize) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4(CLIENT, SERVER, 64)
            .tcp(49152, 31000, 1000, 8192)
            .syn()
            .write(&mut v, &vec![0x61; payload])
            .unwrap();
        v
    }
    fn udp4(payload: usize) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4(CLIENT, SERVER, 64)
            .udp(49153, 161)
            .write(&mut v, &vec![0x62; payload])
            .unwrap();
        v
    }
    fn tcp6(payload: usize) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv6(CLIENT6, SERVER6, 61)
            .tcp(49152, 31000, 1000, 8192)
            .ack(77)
            .psh()
            .write(&mut v, &vec![0x63; payload])
            .unwrap();
        v
    }

    fn tcp4_meta(payload_len: u32, wire_len: u32) -> PacketMeta {
        PacketMeta {
            ts_ns: TS,
            kind: PacketKind::Transport,
            transport: Transport::Tcp,
            src: ip(CLIENT),
            dst: ip(SERVER),
            src_port: 49152,
            dst_port: 31000,
            tcp_flags: TcpFlags::SYN,
            seq: 1000,
            ack: 0,
            payload_len,
            wire_len,
            ttl: 64,
            link_dest: LinkDest::Unicast,
            tunnels: Default::default(),
        }
    }
    fn tcp6_meta(payload_len: u32, wire_len: u32) -> PacketMeta {
        PacketMeta {
            src: ip6(CLIENT6),
            dst: ip6(SERVER6),
            tcp_flags: TcpFlags::ACK | TcpFlags::PSH,
            ack: 77,
            ttl: 61,
            ..tcp4_meta(payload_len, wire_len)
        }
    }
    fn udp4_meta(payload_len: u32, wire_len: u32) -> PacketMeta {
        PacketMeta {
            transport: Transport::Udp,
            src_port: 49153,
            dst_port: 161,
            tcp_flags: TcpFlags::NONE,
            seq: 0,
            ..tcp4_meta(payload_len, wire_len)
        }
    }

    fn with(prefix: &[u8], packet: &[u8]) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.extend_from_slice(packet);
        v
    }
    fn dec(linktype: u32, data: &[u8]) -> Result<PacketMeta, Skip> {
        decode(linktype, data, TS, data.len() as u32)
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let mut f = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(CLIENT, SERVER, 64)
            .tcp(49152, 31000, 1000, 8192)
            .syn()
            .write(&mut f, &[0x61; 10])
            .unwrap();
        assert_eq!(
            dec(linktype::ETHERNET, &f),
            Ok(tcp4_meta(10, f.len() as u32))
        );
    }

    #[test]
    fn ethernet_ipv6_tcp() {
        let f = with(&[2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0x86, 0xdd], &tcp6(33));
        assert_eq!(dec(1, &f), Ok(tcp6_meta(33, f.len() as u32)));
    }

    #[test]
    fn every_raw_and_loopback_link_type() {
        let p4 = tcp4(5);
        let p6 = tcp6(6);
        let cases: [(u32, Vec<u8>, Result<PacketMeta, Skip>); 14] = [
            (101, p4.clone(), Ok(tcp4_meta(5, 0))),
            (101, p6.clone(), Ok(tcp6_meta(6, 0))),
            (12, p4.clone(), Ok(tcp4_meta(5, 0))),
            (14, p6.clone(), Ok(tcp6_meta(6, 0))),
            (228, p4.clone(), Ok(tcp4_meta(5, 0))),
            (229, p6.clone(), Ok(tcp6_meta(6, 0))),
            (229, p4.clone(), Err(Skip::Malformed)),
            (0, with(&[2, 0, 0, 0], &p4), Ok(tcp4_meta(5, 0))),
            (0, with(&[0, 0, 0, 2], &p4), Ok(tcp4_meta(5, 0))),
            (0, with(&[30, 0, 0, 0], &p6), Ok(tcp6_meta(6, 0))),
            (0, with(&[0, 0, 0, 24], &p6), Ok(tcp6_meta(6, 0))),
            (108, with(&[0, 0, 0, 2], &p4), Ok(tcp4_meta(5, 0))),
            (108, with(&[0, 0, 0, 28], &p6), Ok(tcp6_meta(6, 0))),
            (108, with(&[2, 0, 0, 0], &p4), Err(Skip::NotIp)),
        ];
        for (lt, data, want) in cases {
            let want = want.map(|m| PacketMeta {
                wire_len: data.len() as u32,
                ..m
            });
            assert_eq!(dec(lt, &data), want, "linktype {lt}");
        }
        assert_eq!(dec(147, &p4), Err(Skip::UnsupportedLinktype));
    }

    #[test]
    fn linux_sll_and_sll2() {
        let mut f = Vec::new();
        PacketBuilder::linux_sll(LinuxSllPacketType::OUTGOING, 6, [1, 2, 3, 4, 5, 6, 0, 0])
            .ipv4(CLIENT, SERVER, 64)
            .udp(49153, 161)
            .write(&mut f, &[0; 40])
            .unwrap();
        assert_eq!(dec(113, &f), Ok(udp4_meta(40, f.len() as u32)));

        let sll2 = [
            0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        let f = with(&sll2, &tcp6(0));
        assert_eq!(dec(276, &f), Ok(tcp6_meta(0, f.len() as u32)));
        // VLAN tag kept by the kernel in an SLL2 frame
        let mut sll2_vlan = sll2;
        sll2_vlan[0..2].copy_from_slice(&[0x81, 0x00]);
        let f = with(&with(&sll2_vlan, &[0x00, 0x05, 0x08, 0x00]), &tcp4(1));
        assert_eq!(dec(276, &f), Ok(tcp4_meta(1, f.len() as u32)));
    }

    #[test]
    fn vlan_qinq_and_9100() {
        let mut f = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .single_vlan(VlanId::try_new(100).unwrap())
            .ipv4(CLIENT, SERVER, 64)
            .udp(49153, 161)
            .write(&mut f, &[0; 3])
            .unwrap();
        assert_eq!(dec(1, &f), Ok(udp4_meta(3, f.len() as u32)));

        let mut f = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .double_vlan(VlanId::try_new(100).unwrap(), VlanId::try_new(200).unwrap())
            .ipv4(CLIENT, SERVER, 64)
            .udp(49153, 161)
            .write(&mut f, &[0; 3])
            .unwrap();
        assert_eq!(dec(1, &f), Ok(udp4_meta(3, f.len() as u32)));

        for outer in [[0x88, 0xa8], [0x91, 0x00]] {
            let mut hdr = vec![2; 12];
            hdr.extend_from_slice(&outer);
            hdr.extend_from_slice(&[0, 100, 0x81, 0x00, 0, 200, 0x08, 0x00]);
            let f = with(&hdr, &tcp4(0));
            assert_eq!(dec(1, &f), Ok(tcp4_meta(0, f.len() as u32)));
        }
    }

    #[test]
    fn pppoe_and_mpls() {
        let p6 = tcp6(2);
        let mut hdr = vec![2; 12];
        hdr.extend_from_slice(&[0x88, 0x64, 0x11, 0x00, 0x00, 0x07]);
        hdr.extend_from_slice(&((p6.len() + 2) as u16).to_be_bytes());
        hdr.extend_from_slice(&[0x00, 0x57]);
        let f = with(&hdr, &p6);
        assert_eq!(dec(1, &f), Ok(tcp6_meta(2, f.len() as u32)));

        let mut hdr = vec![2; 12];
        hdr.extend_from_slice(&[0x88, 0x47, 0x00, 0x01, 0x40, 0xff, 0x00, 0x02, 0x01, 0xff]);
        let f = with(&hdr, &tcp4(9));
        assert_eq!(dec(1, &f), Ok(tcp4_meta(9, f.len() as u32)));
    }

    #[test]
    fn not_ip() {
        let arp = with(&[0xff; 12], &[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(dec(1, &arp), Err(Skip::NotIp));
        let lldp = with(&[0x01; 12], &[0x88, 0xcc, 2, 7, 4]);
        assert_eq!(dec(1, &lldp), Err(Skip::NotIp));
    }

    #[test]
    fn fcs_and_padding_are_not_payload() {
        // 20 IP + 20 TCP + 0 data = 40 bytes: Ethernet pads to 60, then a 4-byte FCS
        let mut f = with(&[2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0x08, 0x00], &tcp4(0));
        f.resize(60, 0);
        f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(dec(1, &f), Ok(tcp4_meta(0, 64)));
        // same for UDP and IPv6
        let f = with(&with(&[2; 12], &[0x08, 0x00]), &udp4(7));
        let f = with(&f, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(dec(1, &f), Ok(udp4_meta(7, f.len() as u32)));
        let f = with(&with(&[2; 12], &[0x86, 0xdd]), &tcp6(1));
        let f = with(&f, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(dec(1, &f), Ok(tcp6_meta(1, f.len() as u32)));
    }

    #[test]
    fn snaplen_cut_keeps_stated_lengths() {
        let p = tcp4(1400);
        // cut right after the TCP flags
        assert_eq!(
            decode(101, &p[..34], TS, p.len() as u32),
            Ok(tcp4_meta(1400, p.len() as u32))
        );
        // cut inside the flags: nothing usable
        assert_eq!(
            decode(101, &p[..33], TS, p.len() as u32),
            Err(Skip::Malformed)
        );
        // cut inside the IP header
        assert_eq!(
            decode(101, &p[..19], TS, p.len() as u32),
            Err(Skip::Malformed)
        );
        assert_eq!(decode(101, &[], TS, 1500), Err(Skip::Malformed));
        let u = udp4(500);
        assert_eq!(decode(101, &u[..28], TS, 528), Ok(udp4_meta(500, 528)));
        assert_eq!(decode(101, &u[..27], TS, 528), Err(Skip::Malformed));
        let p6 = tcp6(1000);
        assert_eq!(decode(101, &p6[..54], TS, 1060), Ok(tcp6_meta(1000, 1060)));
    }

    #[test]
    fn ihl_and_data_offset_below_five() {
        let mut p = tcp4(0);
        p[0] = 0x44;
        assert_eq!(dec(101, &p), Err(Skip::Malformed));
        let mut p = tcp4(0);
        p[20 + 12] = 0x40;
        assert_eq!(dec(101, &p), Err(Skip::Malformed));
        // data offset beyond the IP payload
        let mut p = tcp4(0);
        p[20 + 12] = 0x60;
        assert_eq!(dec(101, &p), Err(Skip::Malformed));
    }

    /// Splits an IPv4 packet into a first fragment carrying `first` payload
    /// bytes and the rest as a second fragment.
    fn fragment4(p: &[u8], first: usize) -> (Vec<u8>, Vec<u8>) {
        let mut a = p[..20 + first].to_vec();
        a[2..4].copy_from_slice(&((20 + first) as u16).to_be_bytes());
        a[6] |= 0x20;
        let mut b = p[..20].to_vec();
        b.extend_from_slice(&p[20 + first..]);
        b[2..4].copy_from_slice(&((p.len() - first) as u16).to_be_bytes());
        b[6..8].copy_from_slice(&((first / 8) as u16).to_be_bytes());
        (a, b)
    }

    #[test]
    fn ipv4_fragments() {
        let (first, later) = fragment4(&udp4(3000), 1480);
        // the UDP length gives the whole datagram's payload
        assert_eq!(dec(228, &first), Ok(udp4_meta(3000, first.len() as u32)));
        assert_eq!(dec(228, &later), Err(Skip::LaterFragment));
        let (first, later) = fragment4(&tcp4(2000), 1200);
        assert_eq!(
            dec(228, &first),
            Ok(tcp4_meta(1200 - 20, first.len() as u32))
        );
        assert_eq!(dec(228, &later), Err(Skip::LaterFragment));
        // a first fragment too short for the ports
        let (first, _) = fragment4(&udp4(100), 0);
        assert_eq!(dec(228, &first), Err(Skip::Malformed));
    }

    #[test]
    fn ipv6_fragments() {
        let p = tcp6(1000);
        let upper = &p[40..];
        let frag = |offset: u16, more: bool, data: &[u8]| {
            let mut v = p[..40].to_vec();
            v[4..6].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
            v[6] = 44;
            v.extend_from_slice(&[6, 0]);
            v.extend_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
            v.extend_from_slice(&[0, 0, 0, 42]);
            v.extend_from_slice(data);
            v
        };
        let first = frag(0, true, &upper[..520]);
        assert_eq!(dec(229, &first), Ok(tcp6_meta(500, first.len() as u32)));
        let later = frag(65, false, &upper[520..]);
        assert_eq!(dec(229, &later), Err(Skip::LaterFragment));
    }

    #[test]
    fn ipv6_extension_headers() {
        let p = tcp6(10);
        let mut v = p[..40].to_vec();
        v[4..6].copy_from_slice(&((p.len() - 40 + 16) as u16).to_be_bytes());
        v[6] = 0; // hop-by-hop → destination options → TCP
        v.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0]);
        v.extend_from_slice(&p[40..]);
        assert_eq!(dec(229, &v), Ok(tcp6_meta(10, v.len() as u32)));
    }

    #[test]
    fn ipv4_in_ipv4() {
        let inner = tcp4(4);
        let mut outer = Vec::new();
        PacketBuilder::ipv4(ROUTER, [203, 0, 113, 9], 200)
            .write(&mut outer, etherparse::IpNumber::IPV4, &inner)
            .unwrap();
        let f = with(&with(&[2; 12], &[0x08, 0x00]), &outer);
        let mut ip_in_ip = Tunnels::NONE;
        ip_in_ip.insert(TunnelKind::IpInIp);
        let tunnelled = |meta: PacketMeta| PacketMeta {
            tunnels: ip_in_ip,
            ..meta
        };
        assert_eq!(dec(1, &f), Ok(tunnelled(tcp4_meta(4, f.len() as u32))));
        // IPv6 in IPv4 (6in4)
        let mut outer = Vec::new();
        PacketBuilder::ipv4(ROUTER, [203, 0, 113, 9], 200)
            .write(&mut outer, etherparse::IpNumber::IPV6, &tcp6(4))
            .unwrap();
        assert_eq!(
            dec(101, &outer),
            Ok(tunnelled(tcp6_meta(4, outer.len() as u32)))
        );
    }

    #[test]
    fn esp_echo_and_unknown_gre_are_other() {
        let mut esp = Vec::new();
        PacketBuilder::ipv4(CLIENT, SERVER, 64)
            .write(&mut esp, etherparse::IpNumber(50), &[0; 8])
            .unwrap();
        assert_eq!(dec(101, &esp), Err(Skip::OtherProtocol));
        // GRE version 2
        let mut gre = Vec::new();
        PacketBuilder::ipv4(CLIENT, SERVER, 64)
            .write(
                &mut gre,
                etherparse::IpNumber(47),
                &[0, 2, 8, 0, 0, 0, 0, 0],
            )
            .unwrap();
        assert_eq!(dec(101, &gre), Err(Skip::OtherProtocol));
        let mut echo = Vec::new();
        PacketBuilder::ipv4(CLIENT, SERVER, 64)
            .icmpv4_echo_request(1, 1)
            .write(&mut echo, &[0; 8])
            .unwrap();
        assert_eq!(dec(101, &echo), Err(Skip::OtherProtocol));
        let mut echo6 = Vec::new();
        PacketBuilder::ipv6(CLIENT6, SERVER6, 64)
            .icmpv6_echo_request(1, 1)
            .write(&mut echo6, &[0; 8])
            .unwrap();
        assert_eq!(dec(101, &echo6), Err(Skip::OtherProtocol));
    }

    fn icmp4_error(t: u8, code: u8, quote: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4(ROUTER, CLIENT, 250)
            .icmpv4_raw(t, code, [0; 4])
            .write(&mut v, quote)
            .unwrap();
        v
    }
    fn icmp6_error(t: u8, code: u8, quote: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv6(ROUTER6, CLIENT6, 249)
            .icmpv6_raw(t, code, [0; 4])
            .write(&mut v, quote)
            .unwrap();
        v
    }

    #[test]
    fn icmpv4_unreachable_quoting_tcp() {
        let quoted = tcp4(0);
        let p = icmp4_error(3, 13, &quoted);
        let want = PacketMeta {
            kind: PacketKind::Unreachable {
                reporter: ip(ROUTER),
                icmp_type: 3,
                code: 13,
            },
            ttl: 250,
            ..tcp4_meta(0, p.len() as u32)
        };
        assert_eq!(dec(101, &p), Ok(want));
        // RFC 792 quote: IP header + 8 bytes, no flags; the quoted total length is larger
        let p = icmp4_error(3, 1, &quoted[..28]);
        let want = PacketMeta {
            kind: PacketKind::Unreachable {
                reporter: ip(ROUTER),
                icmp_type: 3,
                code: 1,
            },
            tcp_flags: TcpFlags::NONE,
            wire_len: p.len() as u32,
            ..want
        };
        assert_eq!(dec(101, &p), Ok(want));
        // the ports alone
        let p = icmp4_error(3, 1, &quoted[..24]);
        assert_eq!(
            dec(101, &p).map(|m| (m.src_port, m.dst_port, m.seq)),
            Ok((49152, 31000, 0))
        );
        assert_eq!(
            dec(101, &icmp4_error(3, 1, &quoted[..22])),
            Err(Skip::Malformed)
        );
    }

    #[test]
    fn icmpv4_unreachable_quoting_udp() {
        let quoted = udp4(50);
        let p = icmp4_error(3, 3, &quoted[..28]);
        let want = PacketMeta {
            kind: PacketKind::Unreachable {
                reporter: ip(ROUTER),
                icmp_type: 3,
                code: 3,
            },
            ttl: 250,
            ..udp4_meta(50, p.len() as u32)
        };
        assert_eq!(dec(101, &p), Ok(want));
        // behind Ethernet with an FCS
        let f = with(&with(&with(&[2; 12], &[0x08, 0x00]), &p), &[1, 2, 3, 4]);
        assert_eq!(
            dec(1, &f),
            Ok(PacketMeta {
                wire_len: f.len() as u32,
                ..want
            })
        );
    }

    #[test]
    fn icmpv6_unreachable_quoting_tcp_and_udp() {
        let quoted = tcp6(0);
        let p = icmp6_error(1, 1, &quoted);
        let want = PacketMeta {
            kind: PacketKind::Unreachable {
                reporter: ip6(ROUTER6),
                icmp_type: 1,
                code: 1,
            },
            ttl: 249,
            ..tcp6_meta(0, p.len() as u32)
        };
        assert_eq!(dec(229, &p), Ok(want));
        // truncated quote: 8 bytes of TCP
        let p = icmp6_error(1, 4, &quoted[..48]);
        let m = dec(229, &p).unwrap();
        assert_eq!(
            (m.src_port, m.dst_port, m.seq, m.ack, m.tcp_flags),
            (49152, 31000, 1000, 0, TcpFlags::NONE)
        );
        assert_eq!(
            m.kind,
            PacketKind::Unreachable {
                reporter: ip6(ROUTER6),
                icmp_type: 1,
                code: 4
            }
        );

        let mut u = Vec::new();
        PacketBuilder::ipv6(CLIENT6, SERVER6, 64)
            .udp(546, 547)
            .write(&mut u, &[0; 30])
            .unwrap();
        let p = icmp6_error(1, 4, &u);
        let m = dec(229, &p).unwrap();
        assert_eq!(
            (m.transport, m.src, m.dst, m.src_port, m.dst_port),
            (Transport::Udp, ip6(CLIENT6), ip6(SERVER6), 546, 547)
        );
        assert_eq!(m.payload_len, 30);
    }

    #[test]
    fn icmp_errors_that_are_not_ours() {
        let mut echo = Vec::new();
        PacketBuilder::ipv4(CLIENT, SERVER, 64)
            .icmpv4_echo_request(1, 1)
            .write(&mut echo, &[0; 8])
            .unwrap();
        assert_eq!(
            dec(101, &icmp4_error(3, 1, &echo)),
            Err(Skip::OtherProtocol)
        );
        // an error quoting an error
        let inner = icmp4_error(3, 1, &tcp4(0)[..28]);
        assert_eq!(
            dec(101, &icmp4_error(3, 1, &inner)),
            Err(Skip::OtherProtocol)
        );
        // time exceeded is not an unreachable
        assert_eq!(
            dec(101, &icmp4_error(11, 0, &tcp4(0)[..28])),
            Err(Skip::OtherProtocol)
        );
        assert_eq!(
            dec(101, &icmp6_error(3, 0, &tcp6(0)[..48])),
            Err(Skip::OtherProtocol)
        );
        let mut echo6 = Vec::new();
        PacketBuilder::ipv6(CLIENT6, SERVER6, 64)
            .icmpv6_echo_request(1, 1)
            .write(&mut echo6, &[0; 8])
            .unwrap();
        assert_eq!(
            dec(101, &icmp6_error(1, 0, &echo6)),
            Err(Skip::OtherProtocol)
        );
    }

    #[test]
    fn packet_meta_stays_88_bytes() {
        assert!(std::mem::size_of::<PacketMeta>() <= 88);
    }

    #[test]
    fn link_destination_class() {
        let eth = |dst: [u8; 6], rest: &[u8], p: &[u8]| {
            let mut f = dst.to_vec();
            f.extend_from_slice(&[2; 6]);
            f.extend_from_slice(rest);
            with(&f, p)
        };
        let class = |lt: u32, f: &[u8]| dec(lt, f).map(|m| m.link_dest);
        let bcast = [0xff; 6];
        let mcast = [0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa];
        let mcast6 = [0x33, 0x33, 0, 0, 0, 0xfb];
        let uni = [0x02, 0, 0, 0, 0, 1];
        // fast path (untagged IPv4) and general path (IPv6, VLAN tags)
        for (dst, want) in [
            (bcast, LinkDest::Broadcast),
            (mcast, LinkDest::Multicast),
            (mcast6, LinkDest::Multicast),
            (uni, LinkDest::Unicast),
        ] {
            assert_eq!(class(1, &eth(dst, &[0x08, 0x00], &udp4(4))), Ok(want));
            assert_eq!(class(1, &eth(dst, &[0x86, 0xdd], &tcp6(0))), Ok(want));
            let tagged = eth(dst, &[0x81, 0x00, 0, 7, 0x08, 0x00], &udp4(4));
            assert_eq!(class(1, &tagged), Ok(want));
            let qinq = eth(
                dst,
                &[0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd],
                &tcp6(0),
            );
            assert_eq!(class(1, &qinq), Ok(want));
        }
        // SLL: packet type at offset 0..2; SLL2 at offset 10
        for (t, want) in [
            (0u8, LinkDest::Unicast),
            (1, LinkDest::Broadcast),
            (2, LinkDest::Multicast),
            (3, LinkDest::Unicast),
            (4, LinkDest::Unicast),
        ] {
            let sll = [0, t, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
            assert_eq!(class(113, &with(&sll, &udp4(1))), Ok(want));
            let sll2 = [
                0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, t, 6, 1, 2, 3, 4, 5, 6, 0, 0,
            ];
            assert_eq!(class(276, &with(&sll2, &tcp6(0))), Ok(want));
        }
        // raw IP says nothing
        assert_eq!(class(101, &udp4(1)), Ok(LinkDest::Unicast));
    }

    #[test]
    fn time_and_wire_length_pass_through() {
        let p = tcp4(0);
        let m = decode(101, &p, -5, 9999).unwrap();
        assert_eq!((m.ts_ns, m.wire_len), (-5, 9999));
    }

    #[test]
    fn fast_path_agrees_with_layers() {
        let eth = |p: &[u8]| with(&with(&[2; 12], &[0x08, 0x00]), p);
        let mut cases = vec![
            eth(&tcp4(0)),
            eth(&tcp4(1000)),
            eth(&udp4(0)),
            eth(&udp4(3)),
        ];
        cases.push(with(&eth(&tcp4(0)), &[0; 26])); // padding and FCS
        cases.push(eth(&tcp4(100))[..40].to_vec()); // snaplen cut
        let mut bad_doff = eth(&tcp4(0));
        bad_doff[14 + 20 + 12] = 0x30;
        cases.push(bad_doff);
        for frame in &cases {
            let fast = fast_ethernet_ipv4(frame, TS, 1234).expect("fast path taken");
            assert_eq!(
                fast,
                decode_layers(1, frame, TS, 1234, &mut Tunnels::default())
            );
        }
        // left to the general path: fragments, options, total length 0, other protocols
        let (first, _) = fragment4(&udp4(3000), 1480);
        let mut zero = eth(&tcp4(0));
        zero[16..18].copy_from_slice(&[0, 0]);
        let mut options = eth(&tcp4(0));
        options[14] = 0x46;
        for frame in [
            eth(&first),
            zero,
            options,
            eth(&icmp4_error(3, 1, &tcp4(0))),
        ] {
            assert_eq!(fast_ethernet_ipv4(&frame, TS, 1234), None);
        }
    }

    const LINK_TYPES: [u32; 18] = [
        0,
        1,
        9,
        12,
        14,
        50,
        101,
        104,
        105,
        108,
        113,
        127,
        228,
        229,
        239,
        276,
        147,
        u32::MAX,
    ];

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            lt in prop::sample::select(&LINK_TYPES[..]),
            data in prop::collection::vec(any::<u8>(), 0..200),
            wire_len in any::<u32>(),
        ) {
            let _ = decode(lt, &data, 0, wire_len);
        }

        /// Arbitrary bytes rarely get past the first header; mutating and
        /// cutting valid frames reaches every layer.
        #[test]
        fn mutated_frames_never_panic(
            lt_and_frame in prop::sample::select(vec![
                (1u32, with(&with(&[2; 12], &[0x08, 0x00]), &tcp4(8))),
                (1, with(&with(&[2; 12], &[0x08, 0x00]), &udp4(8))),
                (1, with(&with(&[2; 12], &[0x81, 0x00, 0, 1, 0x86, 0xdd]), &tcp6(8))),
                (101, icmp4_error(3, 3, &udp4(20))),
                (229, icmp6_error(1, 3, &tcp6(20))),
                (0, with(&[2, 0, 0, 0], &udp4(30))),
                (276, with(&[0x08, 0, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0], &udp4(3))),
            ]),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
            wire_len in any::<u32>(),
        ) {
            let (lt, mut frame) = lt_and_frame;
            for (at, byte) in edits {
                let i = at.index(frame.len());
                frame[i] = byte;
            }
            let n = cut.index(frame.len() + 1);
            let _ = decode(lt, &frame[..n], 0, wire_len);
            let _ = decode(lt, &frame, 0, wire_len);
            if lt == 1 {
                if let Some(fast) = fast_ethernet_ipv4(&frame[..n], 0, wire_len) {
                    prop_assert_eq!(fast, decode_layers(lt, &frame[..n], 0, wire_len, &mut Tunnels::default()));
                }
            }
        }
    }
}
