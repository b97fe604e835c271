//! Packet builders: IPv4/IPv6 packets carrying TCP, UDP or ICMP(v6)
//! unreachable messages, framed for a link type.
//!
//! [`PacketBuf`] keeps its buffers between packets: building a frame only
//! appends to vectors that already have the capacity, so the benchmark
//! generator runs without allocating per packet. The headers are written by
//! hand rather than through `etherparse::PacketBuilder` for that reason (and
//! because fragments, forged TTLs and truncated quotes are awkward there);
//! the unit tests parse every kind of frame back with etherparse.

use std::net::IpAddr;

/// 802.1Q / 802.1ad tagging of an Ethernet frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vlan {
    None,
    /// One 802.1Q tag with this VLAN id.
    Dot1Q(u16),
    /// An 802.1ad service tag (outer) then an 802.1Q customer tag (inner).
    QinQ {
        outer: u16,
        inner: u16,
    },
}

/// The link layer a frame is wrapped in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// DLT_EN10MB (1), optionally tagged, optionally with a trailing FCS.
    Ethernet { vlan: Vlan, fcs: bool },
    /// DLT_RAW as LINKTYPE_RAW (101): the IP packet alone.
    Raw,
    /// LINKTYPE_IPV4 (228): IPv4 packets only.
    Ipv4,
    /// LINKTYPE_IPV6 (229): IPv6 packets only.
    Ipv6,
    /// BSD loopback (0): a 4-byte address family in little-endian (the
    /// writing host's order, x86); `af_inet6` differs by OS (24, 28 or 30).
    Null { af_inet6: u32 },
    /// OpenBSD loopback (108): the address family in network order.
    Loop,
    /// Linux cooked capture v1 (113).
    Sll,
    /// Linux cooked capture v2 (276).
    Sll2,
}

impl Link {
    /// Untagged Ethernet without FCS.
    pub const ETHERNET: Link = Link::Ethernet {
        vlan: Vlan::None,
        fcs: false,
    };

    /// The pcap/pcapng link type number.
    pub fn linktype(&self) -> u32 {
        match self {
            Link::Ethernet { .. } => 1,
            Link::Raw => 101,
            Link::Ipv4 => 228,
            Link::Ipv6 => 229,
            Link::Null { .. } => 0,
            Link::Loop => 108,
            Link::Sll => 113,
            Link::Sll2 => 276,
        }
    }
}

/// A host on the synthetic network. Each host sends with a fixed TTL (128
/// for Windows, 64 for Linux/UNIX, 255 for network gear), so a packet with
/// another TTL and the host's address betrays a middlebox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    pub addr: IpAddr,
    pub mac: [u8; 6],
    pub ttl: u8,
}

impl Host {
    /// A host whose MAC address is derived from its IP address.
    pub fn new(addr: IpAddr, ttl: u8) -> Host {
        let tail: [u8; 4] = match addr {
            IpAddr::V4(a) => a.octets(),
            IpAddr::V6(a) => {
                let o = a.octets();
                [o[12], o[13], o[14], o[15]]
            }
        };
        let v6 = u8::from(addr.is_ipv6());
        Host {
            addr,
            mac: [0x02, v6, tail[0], tail[1], tail[2], tail[3]],
            ttl,
        }
    }

    /// Parses `addr`; panics on a malformed literal (generator constants).
    pub fn parse(addr: &str, ttl: u8) -> Host {
        Host::new(addr.parse().expect("host address literal"), ttl)
    }

    /// A Windows host (TTL 128).
    pub fn windows(addr: &str) -> Host {
        Host::parse(addr, 128)
    }

    /// A Linux/UNIX host (TTL 64).
    pub fn unix(addr: &str) -> Host {
        Host::parse(addr, 64)
    }

    /// The same host sending with another TTL (e.g. a forged packet).
    pub fn with_ttl(self, ttl: u8) -> Host {
        Host { ttl, ..self }
    }
}

/// TCP flag bits.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// One TCP segment; the payload is taken from the buffer's pattern.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpSeg {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub payload_len: usize,
}

/// Why a destination is unreachable (mapped to ICMP or ICMPv6 codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreach {
    /// No route (ICMP 0 / ICMPv6 0).
    Net,
    /// Host / address unreachable (ICMP 1 / ICMPv6 3).
    Host,
    /// Port unreachable (ICMP 3 / ICMPv6 4).
    Port,
    /// Administratively prohibited, what firewalls send (ICMP 13 / ICMPv6 1).
    AdminProhibited,
}

impl Unreach {
    fn code_v4(self) -> u8 {
        match self {
            Unreach::Net => 0,
            Unreach::Host => 1,
            Unreach::Port => 3,
            Unreach::AdminProhibited => 13,
        }
    }
    fn code_v6(self) -> u8 {
        match self {
            Unreach::Net => 0,
            Unreach::Host => 3,
            Unreach::Port => 4,
            Unreach::AdminProhibited => 1,
        }
    }
}

/// IP protocol numbers used here.
const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_FRAG: u8 = 44;
const PROTO_ICMPV6: u8 = 58;

/// Largest payload a single packet may carry.
const MAX_PAYLOAD: usize = 65_000;

/// Builds frames into reused buffers.
pub struct PacketBuf {
    /// The finished link-layer frame.
    frame: Vec<u8>,
    /// The IP packet being built (kept after framing so that an ICMP error
    /// can quote it).
    ip: Vec<u8>,
    /// Scratch for the quoted packet of an ICMP error / a fragmented datagram.
    scratch: Vec<u8>,
    /// Payload bytes: the pattern repeated to `MAX_PAYLOAD`.
    payload: Vec<u8>,
    /// Next IPv4 identification.
    ip_id: u16,
}

impl Default for PacketBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketBuf {
    /// Buffers with payload bytes "flowlint synthetic payload ".
    pub fn new() -> PacketBuf {
        let mut b = PacketBuf {
            frame: Vec::with_capacity(2048),
            ip: Vec::with_capacity(2048),
            scratch: Vec::with_capacity(2048),
            payload: Vec::new(),
            ip_id: 1,
        };
        b.set_pattern(b"flowlint synthetic payload ");
        b
    }

    /// Payloads from now on are `pattern` repeated.
    pub fn set_pattern(&mut self, pattern: &[u8]) {
        assert!(!pattern.is_empty());
        self.payload.clear();
        while self.payload.len() < MAX_PAYLOAD {
            let n = pattern.len().min(MAX_PAYLOAD - self.payload.len());
            self.payload.extend_from_slice(&pattern[..n]);
        }
    }

    /// The last frame built.
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// The IP packet inside the last frame built.
    pub fn ip_packet(&self) -> &[u8] {
        &self.ip
    }

    /// A TCP segment from `src` to `dst`.
    pub fn tcp(&mut self, link: &Link, src: &Host, dst: &Host, seg: &TcpSeg) -> &[u8] {
        let len = seg.payload_len.min(MAX_PAYLOAD);
        self.ip.clear();
        let id = self.next_id();
        put_ip_header(&mut self.ip, src, dst, PROTO_TCP, 20 + len, id, 0);
        let l4 = self.ip.len();
        put16(&mut self.ip, seg.sport);
        put16(&mut self.ip, seg.dport);
        put32(&mut self.ip, seg.seq);
        put32(&mut self.ip, seg.ack);
        self.ip.push(5 << 4);
        self.ip.push(seg.flags);
        put16(
            &mut self.ip,
            if seg.window == 0 { 64_240 } else { seg.window },
        );
        put16(&mut self.ip, 0); // checksum, filled below
        put16(&mut self.ip, 0); // urgent pointer
        self.ip.extend_from_slice(&self.payload[..len]);
        let c = l4_checksum(src.addr, dst.addr, PROTO_TCP, &self.ip[l4..]);
        self.ip[l4 + 16..l4 + 18].copy_from_slice(&c.to_be_bytes());
        self.finish(link, src, dst)
    }

    /// A UDP datagram with `payload_len` bytes from `src` to `dst`.
    pub fn udp(
        &mut self,
        link: &Link,
        src: &Host,
        dst: &Host,
        sport: u16,
        dport: u16,
        payload_len: usize,
    ) -> &[u8] {
        let len = payload_len.min(MAX_PAYLOAD);
        self.ip.clear();
        let id = self.next_id();
        put_ip_header(&mut self.ip, src, dst, PROTO_UDP, 8 + len, id, 0);
        let l4 = self.ip.len();
        put_udp(&mut self.ip, sport, dport, &self.payload[..len]);
        let c = l4_checksum(src.addr, dst.addr, PROTO_UDP, &self.ip[l4..]);
        let c = if c == 0 { 0xffff } else { c };
        self.ip[l4 + 6..l4 + 8].copy_from_slice(&c.to_be_bytes());
        self.finish(link, src, dst)
    }

    /// An ICMP (IPv4) or ICMPv6 destination unreachable from `reporter` to
    /// `to`, quoting the IP packet of the previous frame built (the
    /// offending packet). IPv4 quotes the IP header and the first 8 bytes of
    /// its payload, as classic routers do; ICMPv6 quotes the whole packet.
    pub fn icmp_unreachable(
        &mut self,
        link: &Link,
        reporter: &Host,
        to: &Host,
        why: Unreach,
    ) -> &[u8] {
        std::mem::swap(&mut self.ip, &mut self.scratch);
        let quoted_len = match to.addr {
            IpAddr::V4(_) => {
                let ihl = usize::from(self.scratch.first().map_or(5, |b| b & 0x0f)) * 4;
                self.scratch.len().min(ihl + 8)
            }
            IpAddr::V6(_) => self.scratch.len().min(1232 - 48),
        };
        self.ip.clear();
        let id = self.next_id();
        let (proto, ty, code) = match to.addr {
            IpAddr::V4(_) => (PROTO_ICMP, 3, why.code_v4()),
            IpAddr::V6(_) => (PROTO_ICMPV6, 1, why.code_v6()),
        };
        put_ip_header(&mut self.ip, reporter, to, proto, 8 + quoted_len, id, 0);
        let l4 = self.ip.len();
        self.ip.extend_from_slice(&[ty, code, 0, 0, 0, 0, 0, 0]);
        self.ip.extend_from_slice(&self.scratch[..quoted_len]);
        let c = if proto == PROTO_ICMP {
            fold(sum_words(&self.ip[l4..], 0))
        } else {
            l4_checksum(reporter.addr, to.addr, PROTO_ICMPV6, &self.ip[l4..])
        };
        self.ip[l4 + 2..l4 + 4].copy_from_slice(&c.to_be_bytes());
        self.finish(link, reporter, to)
    }

    /// A UDP datagram sent as IP fragments of at most `frag_data` bytes of
    /// IP payload each (rounded down to a multiple of 8): the first fragment
    /// carries the UDP header, later ones only payload bytes. IPv6 uses a
    /// fragment header. Calls `emit` with each frame in order.
    #[allow(clippy::too_many_arguments)]
    pub fn udp_fragments<E>(
        &mut self,
        link: &Link,
        src: &Host,
        dst: &Host,
        sport: u16,
        dport: u16,
        payload_len: usize,
        frag_data: usize,
        mut emit: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let len = payload_len.min(MAX_PAYLOAD);
        let step = (frag_data / 8).max(1) * 8;
        // The whole UDP datagram, checksum included.
        self.scratch.clear();
        put_udp(&mut self.scratch, sport, dport, &self.payload[..len]);
        let c = l4_checksum(src.addr, dst.addr, PROTO_UDP, &self.scratch);
        self.scratch[6..8].copy_from_slice(&c.to_be_bytes());
        let id = self.next_id();
        let total = self.scratch.len();
        let mut off = 0;
        while off < total {
            let end = (off + step).min(total);
            let more = end < total;
            self.ip.clear();
            match (src.addr, dst.addr) {
                (IpAddr::V4(_), IpAddr::V4(_)) => {
                    let ff = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
                    put_ip_header(&mut self.ip, src, dst, PROTO_UDP, end - off, id, ff);
                }
                _ => {
                    put_ipv6_header(&mut self.ip, src, dst, PROTO_FRAG, 8 + end - off);
                    self.ip.push(PROTO_UDP);
                    self.ip.push(0);
                    put16(&mut self.ip, ((off as u16) & !7) | u16::from(more));
                    put32(&mut self.ip, 0x0001_0000 | u32::from(id));
                }
            }
            self.ip.extend_from_slice(&self.scratch[off..end]);
            emit(self.finish(link, src, dst))?;
            off = end;
        }
        Ok(())
    }

    fn next_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    /// Wraps `self.ip` in the link layer.
    fn finish(&mut self, link: &Link, src: &Host, dst: &Host) -> &[u8] {
        let v6 = self.ip.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: u16 = if v6 { 0x86dd } else { 0x0800 };
        let f = &mut self.frame;
        f.clear();
        match *link {
            Link::Ethernet { vlan, .. } => {
                f.extend_from_slice(&dst.mac);
                f.extend_from_slice(&src.mac);
                match vlan {
                    Vlan::None => {}
                    Vlan::Dot1Q(id) => {
                        put16(f, 0x8100);
                        put16(f, id & 0x0fff);
                    }
                    Vlan::QinQ { outer, inner } => {
                        put16(f, 0x88a8);
                        put16(f, outer & 0x0fff);
                        put16(f, 0x8100);
                        put16(f, inner & 0x0fff);
                    }
                }
                put16(f, ethertype);
            }
            Link::Raw | Link::Ipv4 | Link::Ipv6 => {}
            Link::Null { af_inet6 } => {
                f.extend_from_slice(&(if v6 { af_inet6 } else { 2 }).to_le_bytes());
            }
            Link::Loop => put32(f, if v6 { 24 } else { 2 }),
            Link::Sll => {
                put16(f, 0); // sent to us
                put16(f, 1); // ARPHRD_ETHER
                put16(f, 6);
                f.extend_from_slice(&src.mac);
                f.extend_from_slice(&[0, 0]);
                put16(f, ethertype);
            }
            Link::Sll2 => {
                put16(f, ethertype);
                put16(f, 0);
                put32(f, 2); // interface index
                put16(f, 1); // ARPHRD_ETHER
                f.push(0); // sent to us
                f.push(6);
                f.extend_from_slice(&src.mac);
                f.extend_from_slice(&[0, 0]);
            }
        }
        f.extend_from_slice(&self.ip);
        if let Link::Ethernet { fcs: true, .. } = link {
            let crc = crc32(f);
            f.extend_from_slice(&crc.to_le_bytes());
        }
        &self.frame
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn put_udp(v: &mut Vec<u8>, sport: u16, dport: u16, payload: &[u8]) {
    put16(v, sport);
    put16(v, dport);
    put16(v, (8 + payload.len()) as u16);
    put16(v, 0);
    v.extend_from_slice(payload);
}

/// An IPv4 header (with checksum) or an IPv6 header, by address family.
/// `frag` is the IPv4 flags/fragment-offset field (0: a whole packet).
fn put_ip_header(
    v: &mut Vec<u8>,
    src: &Host,
    dst: &Host,
    proto: u8,
    payload_len: usize,
    id: u16,
    frag: u16,
) {
    match (src.addr, dst.addr) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let start = v.len();
            v.extend_from_slice(&[0x45, 0]);
            put16(v, (20 + payload_len) as u16);
            put16(v, id);
            // Whole packets carry DF, as TCP stacks send them.
            put16(v, if frag == 0 { 0x4000 } else { frag });
            v.extend_from_slice(&[src.ttl, proto, 0, 0]);
            v.extend_from_slice(&s.octets());
            v.extend_from_slice(&d.octets());
            let c = fold(sum_words(&v[start..start + 20], 0));
            v[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
        }
        (IpAddr::V6(_), IpAddr::V6(_)) => put_ipv6_header(v, src, dst, proto, payload_len),
        _ => panic!("mixed address families: {} → {}", src.addr, dst.addr),
    }
}

fn put_ipv6_header(v: &mut Vec<u8>, src: &Host, dst: &Host, next: u8, payload_len: usize) {
    let (IpAddr::V6(s), IpAddr::V6(d)) = (src.addr, dst.addr) else {
        panic!(
            "IPv6 header needs IPv6 addresses: {} → {}",
            src.addr, dst.addr
        );
    };
    v.extend_from_slice(&[0x60, 0, 0, 0]);
    put16(v, payload_len as u16);
    v.push(next);
    v.push(src.ttl);
    v.extend_from_slice(&s.octets());
    v.extend_from_slice(&d.octets());
}

/// One's-complement sum of big-endian 16-bit words (odd byte padded).
fn sum_words(data: &[u8], init: u64) -> u64 {
    let mut sum = init;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]))
            + u64::from(u16::from_be_bytes([c[2], c[3]]))
            + u64::from(u16::from_be_bytes([c[4], c[5]]))
            + u64::from(u16::from_be_bytes([c[6], c[7]]));
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for c in &mut pairs {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = pairs.remainder() {
        sum += u64::from(*b) << 8;
    }
    sum
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// TCP/UDP/ICMPv6 checksum with the IPv4 or IPv6 pseudo-header.
fn l4_checksum(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> u16 {
    let mut sum = u64::from(proto) + segment.len() as u64;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            sum = sum_words(&s.octets(), sum);
            sum = sum_words(&d.octets(), sum);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            sum = sum_words(&s.octets(), sum);
            sum = sum_words(&d.octets(), sum);
        }
        _ => {}
    }
    fold(sum_words(segment, sum))
}

/// CRC-32 (IEEE 802.3), as in an Ethernet FCS.
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for &b in data {
        c = TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn hosts() -> (Host, Host) {
        (Host::windows("192.0.2.130"), Host::unix("192.0.2.10"))
    }

    fn seg(flags: u8, len: usize) -> TcpSeg {
        TcpSeg {
            sport: 50000,
            dport: 31000,
            seq: 1000,
            ack: 0,
            flags,
            window: 0,
            payload_len: len,
        }
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn ethernet_tcp_parses_with_valid_checksums() {
        let (a, b) = hosts();
        let mut p = PacketBuf::new();
        let f = p
            .tcp(
                &Link::ETHERNET,
                &a,
                &b,
                &seg(tcp_flags::PSH | tcp_flags::ACK, 33),
            )
            .to_vec();
        assert_eq!(f.len(), 14 + 20 + 20 + 33);
        let s = SlicedPacket::from_ethernet(&f).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &s.net else {
            panic!("not ipv4")
        };
        assert_eq!(ip.header().ttl(), 128);
        assert_eq!(
            ip.header().header_checksum(),
            ip.header().to_header().calc_header_checksum()
        );
        let Some(TransportSlice::Tcp(t)) = &s.transport else {
            panic!("not tcp")
        };
        assert_eq!((t.source_port(), t.destination_port()), (50000, 31000));
        assert!(t.psh() && t.ack() && !t.syn());
        let ipv4 = ip.header().to_header();
        let expect = t
            .to_header()
            .calc_checksum_ipv4(&ipv4, t.payload())
            .unwrap();
        assert_eq!(t.checksum(), expect);
    }

    #[test]
    fn vlan_qinq_and_fcs() {
        let (a, b) = hosts();
        let mut p = PacketBuf::new();
        let link = Link::Ethernet {
            vlan: Vlan::QinQ {
                outer: 100,
                inner: 200,
            },
            fcs: true,
        };
        let f = p.udp(&link, &a, &b, 5000, 161, 10).to_vec();
        assert_eq!(&f[12..22], &[0x88, 0xa8, 0, 100, 0x81, 0, 0, 200, 0x08, 0]);
        assert_eq!(f.len(), 22 + 20 + 8 + 10 + 4);
        let body = &f[..f.len() - 4];
        assert_eq!(crc32(body).to_le_bytes(), f[f.len() - 4..]);
        let s = SlicedPacket::from_ethernet(body).unwrap();
        let Some(TransportSlice::Udp(u)) = &s.transport else {
            panic!("not udp")
        };
        assert_eq!(u.destination_port(), 161);
        let f = p
            .udp(
                &Link::Ethernet {
                    vlan: Vlan::Dot1Q(7),
                    fcs: false,
                },
                &a,
                &b,
                1,
                2,
                0,
            )
            .to_vec();
        assert_eq!(&f[12..18], &[0x81, 0, 0, 7, 0x08, 0]);
    }

    #[test]
    fn cooked_and_loopback_headers() {
        let a = Host::parse("2001:db8::1", 64);
        let b = Host::parse("2001:db8::2", 64);
        let mut p = PacketBuf::new();
        let f = p.udp(&Link::Sll, &a, &b, 1, 2, 0).to_vec();
        assert_eq!(&f[..6], &[0, 0, 0, 1, 0, 6]);
        assert_eq!(&f[14..16], &[0x86, 0xdd]);
        assert!(SlicedPacket::from_linux_sll(&f).is_ok());
        let f = p.udp(&Link::Sll2, &a, &b, 1, 2, 0).to_vec();
        assert_eq!(&f[..4], &[0x86, 0xdd, 0, 0]);
        assert_eq!(f[16 + 4..].len(), 48);
        let f = p
            .udp(&Link::Null { af_inet6: 30 }, &a, &b, 1, 2, 0)
            .to_vec();
        assert_eq!(&f[..4], &[30, 0, 0, 0]);
        let f = p.udp(&Link::Loop, &a, &b, 1, 2, 0).to_vec();
        assert_eq!(&f[..4], &[0, 0, 0, 24]);
        let f = p.udp(&Link::Raw, &a, &b, 1, 2, 0).to_vec();
        let s = SlicedPacket::from_ip(&f).unwrap();
        assert!(matches!(s.net, Some(NetSlice::Ipv6(_))));
    }

    #[test]
    fn icmp_unreachable_quotes_the_syn() {
        let (a, b) = hosts();
        let fw = Host::parse("203.0.113.1", 255);
        let mut p = PacketBuf::new();
        p.tcp(&Link::Raw, &a, &b, &seg(tcp_flags::SYN, 0));
        let syn = p.ip_packet().to_vec();
        let f = p
            .icmp_unreachable(&Link::Raw, &fw, &a, Unreach::AdminProhibited)
            .to_vec();
        assert_eq!(f.len(), 20 + 8 + 28);
        assert_eq!(&f[20..22], &[3, 13]);
        assert_eq!(&f[28..], &syn[..28]);
        assert_eq!(fold(sum_words(&f[20..], 0)), 0);
        let s = SlicedPacket::from_ip(&f).unwrap();
        assert!(matches!(s.transport, Some(TransportSlice::Icmpv4(_))));

        let a6 = Host::parse("2001:db8::130", 128);
        let b6 = Host::parse("2001:db8::10", 128);
        p.udp(&Link::Raw, &a6, &b6, 50000, 161, 5);
        let dgram = p.ip_packet().to_vec();
        let f = p
            .icmp_unreachable(&Link::Raw, &b6, &a6, Unreach::Port)
            .to_vec();
        assert_eq!(&f[40..42], &[1, 4]);
        assert_eq!(&f[48..], &dgram[..]);
        assert_eq!(l4_checksum(b6.addr, a6.addr, PROTO_ICMPV6, &f[40..]), 0);
    }

    #[test]
    fn fragments_v4_and_v6() {
        let (a, b) = hosts();
        let mut p = PacketBuf::new();
        let mut frames = Vec::new();
        p.udp_fragments(&Link::Raw, &a, &b, 50000, 161, 100, 48, |f| {
            frames.push(f.to_vec());
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(frames.len(), 3); // 108 bytes of UDP in 48 + 48 + 12
        assert_eq!(&frames[0][6..8], &[0x20, 0]);
        assert_eq!(&frames[1][6..8], &[0x20, 6]);
        assert_eq!(&frames[2][6..8], &[0, 12]);
        assert_eq!(&frames[0][20..24], &[0xc3, 0x50, 0, 161]);
        let a6 = Host::parse("2001:db8::130", 128);
        let b6 = Host::parse("2001:db8::10", 128);
        frames.clear();
        p.udp_fragments(&Link::Raw, &a6, &b6, 50000, 445, 100, 64, |f| {
            frames.push(f.to_vec());
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0][6], PROTO_FRAG);
        assert_eq!(&frames[0][40..44], &[PROTO_UDP, 0, 0, 1]);
        assert_eq!(&frames[1][40..44], &[PROTO_UDP, 0, 0, 64]);
        assert_eq!(frames[1].len(), 48 + 44);
    }
}
