//! The IP layer: IPv4 and IPv6 headers (IPv6 extension header chains) and
//! fragments, down to the protocol number and its bytes. One header at a
//! time: IP-in-IP (protocols 4 and 41) is a tunnel like the others, which
//! the walk in `decode` follows.
//!
//! Lengths: the transport payload length comes from the IP length fields, never
//! from the captured length, so a snaplen cut does not shrink it and an
//! Ethernet FCS or padding does not grow it. Only when a header states no
//! length (IPv4 total length 0 from TCP segmentation offload, IPv6 payload
//! length 0 from jumbograms / BIG TCP) is it taken from the wire length.

use super::link::IpHint;
use super::Skip;
use etherparse::{
    IpAuthHeaderSlice, IpNumber, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice, Ipv6HeaderSlice,
    Ipv6RawExtHeaderSlice,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol numbers this module and its callers dispatch on.
pub mod proto {
    use etherparse::IpNumber;
    pub const ICMP: u8 = IpNumber::ICMP.0;
    pub const TCP: u8 = IpNumber::TCP.0;
    pub const UDP: u8 = IpNumber::UDP.0;
    pub const ICMPV6: u8 = IpNumber::IPV6_ICMP.0;
    /// IPv4 encapsulated in IP.
    pub const IPIP: u8 = IpNumber::IPV4.0;
    /// IPv6 encapsulated in IP.
    pub const IPV6: u8 = IpNumber::IPV6.0;
    /// Generic Routing Encapsulation.
    pub const GRE: u8 = IpNumber::GRE.0;
}

const HOP_BY_HOP: u8 = IpNumber::IPV6_HEADER_HOP_BY_HOP.0;
const ROUTING: u8 = IpNumber::IPV6_ROUTE_HEADER.0;
const FRAGMENT: u8 = IpNumber::IPV6_FRAGMENTATION_HEADER.0;
const DEST_OPTIONS: u8 = IpNumber::IPV6_DESTINATION_OPTIONS.0;
const AUTH: u8 = IpNumber::AUTHENTICATION_HEADER.0;
/// Host Identity Protocol and Shim6 share the generic extension header layout.
const HIP: u8 = 139;
const SHIM6: u8 = 140;

/// Extension headers followed per IPv6 header. Real packets have two or
/// three, but test captures (libpcap's has 100) and firewall probes repeat
/// them, and Wireshark follows such chains. The bound keeps a hostile packet
/// from costing thousands of iterations.
const MAX_EXT_HEADERS: usize = 128;

const IPV6_HEADER_LEN: usize = etherparse::Ipv6Header::LEN;
/// Hop-by-hop option carrying a jumbogram length (RFC 2675).
const OPT_JUMBO: u8 = 0xc2;

/// One IP packet, reduced to what the transport layer (or a tunnel) needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Bytes of header: IPv4 with options, IPv6 with extension headers.
    pub header_len: u32,
    /// Upper-layer protocol after all extension headers.
    pub protocol: u8,
    /// Captured bytes of the upper-layer payload, cut at the stated length.
    pub payload: &'a [u8],
    /// Upper-layer payload length as the header states it.
    pub payload_len: u32,
    /// The first fragment of a fragmented datagram: `payload_len` then covers
    /// only this fragment.
    pub first_fragment: bool,
}

impl IpPacket<'_> {
    #[inline]
    pub fn is_v4(&self) -> bool {
        self.src.is_ipv4()
    }
}

/// Parses the IP packet at `bytes`. `wire_len` is the packet's length on the
/// wire from this header on (at least `bytes.len()`), used only when the
/// header states none.
#[inline]
pub fn parse(bytes: &[u8], hint: IpHint, wire_len: u32) -> Result<IpPacket<'_>, Skip> {
    match (bytes.first().map(|b| b >> 4), hint) {
        (Some(4), IpHint::V4 | IpHint::Any) => v4(bytes, wire_len),
        (Some(6), _) => v6(bytes, wire_len),
        _ => Err(Skip::Malformed),
    }
}

#[inline]
fn v4(bytes: &[u8], wire_len: u32) -> Result<IpPacket<'_>, Skip> {
    // rejects IHL < 5 and options beyond the captured bytes
    let h = Ipv4HeaderSlice::from_slice(bytes).map_err(|_| Skip::Malformed)?;
    let header_len = h.slice().len();
    let total_len = match usize::from(h.total_len()) {
        // TSO: the capture saw the segment before the NIC wrote the length
        0 => (wire_len as usize).max(bytes.len()),
        n if n < header_len => return Err(Skip::Malformed),
        n => n,
    };
    if h.fragments_offset().value() != 0 {
        return Err(Skip::LaterFragment);
    }
    let payload = bytes
        .get(header_len..total_len.min(bytes.len()))
        .unwrap_or_default();
    Ok(IpPacket {
        src: IpAddr::V4(Ipv4Addr::from(h.source())),
        dst: IpAddr::V4(Ipv4Addr::from(h.destination())),
        ttl: h.ttl(),
        header_len: sat_u32(header_len),
        protocol: h.protocol().0,
        payload,
        payload_len: sat_u32(total_len - header_len),
        first_fragment: h.more_fragments(),
    })
}

#[inline]
fn v6(bytes: &[u8], wire_len: u32) -> Result<IpPacket<'_>, Skip> {
    let h = Ipv6HeaderSlice::from_slice(bytes).map_err(|_| Skip::Malformed)?;
    let mut rest = bytes.get(IPV6_HEADER_LEN..).unwrap_or_default();
    let mut next = h.next_header().0;
    let mut ext_len = 0usize;
    let mut jumbo = None;
    let mut first_fragment = false;
    let mut chain_ended = false;
    for _ in 0..MAX_EXT_HEADERS {
        let len = match next {
            HOP_BY_HOP | ROUTING | DEST_OPTIONS | HIP | SHIM6 => {
                let ext = Ipv6RawExtHeaderSlice::from_slice(rest).map_err(|_| Skip::Malformed)?;
                if next == HOP_BY_HOP && ext_len == 0 {
                    jumbo = jumbo_len(ext.slice());
                }
                next = ext.next_header().0;
                ext.slice().len()
            }
            FRAGMENT => {
                let f = Ipv6FragmentHeaderSlice::from_slice(rest).map_err(|_| Skip::Malformed)?;
                if f.fragment_offset().value() != 0 {
                    return Err(Skip::LaterFragment);
                }
                // offset 0 without "more" is an atomic fragment: a whole datagram
                first_fragment = f.more_fragments();
                next = f.next_header().0;
                f.slice().len()
            }
            AUTH => {
                let ah = IpAuthHeaderSlice::from_slice(rest).map_err(|_| Skip::Malformed)?;
                next = ah.next_header().0;
                ah.slice().len()
            }
            _ => {
                chain_ended = true;
                break;
            }
        };
        rest = rest.get(len..).unwrap_or_default();
        ext_len += len;
    }
    if !chain_ended {
        return Err(Skip::Malformed);
    }
    let stated = match (h.payload_length(), jumbo) {
        (0, Some(j)) => j as usize,
        // BIG TCP and offload: no length in the header, take the wire's
        (0, None) => (wire_len as usize)
            .max(bytes.len())
            .saturating_sub(IPV6_HEADER_LEN),
        (n, _) => usize::from(n),
    };
    let payload_len = stated.checked_sub(ext_len).ok_or(Skip::Malformed)?;
    Ok(IpPacket {
        src: IpAddr::V6(Ipv6Addr::from(h.source())),
        dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
        ttl: h.hop_limit(),
        header_len: sat_u32(IPV6_HEADER_LEN + ext_len),
        protocol: next,
        payload: rest.get(..payload_len.min(rest.len())).unwrap_or_default(),
        payload_len: sat_u32(payload_len),
        first_fragment,
    })
}

/// The jumbo payload length from a hop-by-hop header, if it has that option.
fn jumbo_len(hbh: &[u8]) -> Option<u32> {
    let mut opts = hbh.get(2..)?;
    loop {
        match opts {
            [] => return None,
            // Pad1 has no length byte
            [0, tail @ ..] => opts = tail,
            [kind, len, tail @ ..] => {
                let len = usize::from(*len);
                if *kind == OPT_JUMBO && len == 4 {
                    return Some(u32::from_be_bytes(tail.get(..4)?.try_into().ok()?));
                }
                opts = tail.get(len..)?;
            }
            [_] => return None,
        }
    }
}

#[inline]
fn sat_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A hand-built IPv4 header (checksum left 0: nothing here verifies it).
    pub fn v4_header(ihl: u8, total_len: u16, flags_frag: u16, proto: u8, ttl: u8) -> Vec<u8> {
        let mut h = vec![0x40 | ihl, 0];
        h.extend_from_slice(&total_len.to_be_bytes());
        h.extend_from_slice(&[0x12, 0x34]);
        h.extend_from_slice(&flags_frag.to_be_bytes());
        h.extend_from_slice(&[ttl, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2]);
        h.resize(usize::from(ihl.max(5)) * 4, 1); // options: NOPs
        h
    }

    pub fn v6_header(payload_len: u16, next: u8, hop_limit: u8) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&payload_len.to_be_bytes());
        h.extend_from_slice(&[next, hop_limit]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        h
    }

    #[test]
    fn v4_bounds_payload_by_total_length() {
        let mut p = v4_header(5, 28, 0, 17, 9);
        p.extend_from_slice(&[1; 8]);
        p.extend_from_slice(&[0xee; 4]); // FCS
        let pkt = parse(&p, IpHint::V4, p.len() as u32).unwrap();
        assert_eq!(pkt.payload, &[1; 8]);
        assert_eq!(pkt.payload_len, 8);
        assert_eq!((pkt.protocol, pkt.ttl, pkt.first_fragment), (17, 9, false));
        assert_eq!(pkt.src, "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn v4_options_and_snaplen_cut() {
        let mut p = v4_header(6, 1500, 0x4000, 6, 64);
        p.extend_from_slice(&[2; 20]);
        let pkt = parse(&p, IpHint::Any, 1500).unwrap();
        assert_eq!(pkt.payload.len(), 20);
        assert_eq!(pkt.payload_len, 1500 - 24);
    }

    #[test]
    fn v4_malformed() {
        let p = v4_header(4, 40, 0, 6, 64);
        assert_eq!(parse(&p[..20], IpHint::V4, 40), Err(Skip::Malformed));
        // options beyond the data
        let p = v4_header(15, 80, 0, 6, 64);
        assert_eq!(parse(&p[..40], IpHint::V4, 80), Err(Skip::Malformed));
        // total length shorter than the header
        let p = v4_header(5, 12, 0, 6, 64);
        assert_eq!(parse(&p, IpHint::V4, 20), Err(Skip::Malformed));
        assert_eq!(parse(&[0x45; 19], IpHint::V4, 19), Err(Skip::Malformed));
        assert_eq!(parse(&[], IpHint::Any, 0), Err(Skip::Malformed));
        // version 5, or IPv4 where IPv6 was announced
        assert_eq!(parse(&[0x55; 40], IpHint::Any, 40), Err(Skip::Malformed));
        let p = v4_header(5, 20, 0, 6, 64);
        assert_eq!(parse(&p, IpHint::V6, 20), Err(Skip::Malformed));
    }

    #[test]
    fn v4_total_length_zero_takes_wire_length() {
        let mut p = v4_header(5, 0, 0, 6, 64);
        p.extend_from_slice(&[0; 20]);
        let pkt = parse(&p, IpHint::V4, 9000).unwrap();
        assert_eq!(pkt.payload_len, 9000 - 20);
        assert_eq!(pkt.payload.len(), 20);
    }

    #[test]
    fn v4_fragments() {
        let mut first = v4_header(5, 1500, 0x2000, 17, 64);
        first.extend_from_slice(&[3; 8]);
        let pkt = parse(&first, IpHint::V4, 1500).unwrap();
        assert!(pkt.first_fragment);
        let later = v4_header(5, 100, 0x2000 | 185, 17, 64);
        assert_eq!(parse(&later, IpHint::V4, 100), Err(Skip::LaterFragment));
        let last = v4_header(5, 100, 185, 17, 64);
        assert_eq!(parse(&last, IpHint::V4, 100), Err(Skip::LaterFragment));
    }

    #[test]
    fn v6_in_v4_link_is_decoded() {
        let mut p = v6_header(8, 17, 3);
        p.extend_from_slice(&[4; 8]);
        let pkt = parse(&p, IpHint::V4, 48).unwrap();
        assert_eq!((pkt.protocol, pkt.payload_len, pkt.ttl), (17, 8, 3));
    }

    #[test]
    fn v6_extension_chain() {
        // hop-by-hop (8) → routing (24) → fragment (8, offset 0, M) → AH (16) → dest opts (8) → UDP
        let mut p = v6_header(8 + 24 + 8 + 16 + 8 + 12, HOP_BY_HOP, 77);
        p.extend_from_slice(&[ROUTING, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[FRAGMENT, 2, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[AUTH, 0, 0x00, 0x01, 0, 0, 0, 9]);
        p.extend_from_slice(&[DEST_OPTIONS, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        p.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[5; 12]);
        p.extend_from_slice(&[0xff; 4]); // trailer
        let pkt = parse(&p, IpHint::V6, p.len() as u32).unwrap();
        assert_eq!(pkt.protocol, 17);
        assert_eq!(pkt.payload, &[5; 12]);
        assert_eq!(pkt.payload_len, 12);
        assert!(pkt.first_fragment);
        assert_eq!(pkt.ttl, 77);
    }

    #[test]
    fn v6_fragments() {
        let mut later = v6_header(16, FRAGMENT, 64);
        later.extend_from_slice(&[6, 0, 0x05, 0x01, 0, 0, 0, 1]);
        later.extend_from_slice(&[0; 8]);
        assert_eq!(parse(&later, IpHint::V6, 56), Err(Skip::LaterFragment));
        let mut atomic = v6_header(16, FRAGMENT, 64);
        atomic.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 1]);
        atomic.extend_from_slice(&[0; 8]);
        let pkt = parse(&atomic, IpHint::V6, 56).unwrap();
        assert!(!pkt.first_fragment);
        assert_eq!((pkt.protocol, pkt.payload_len), (6, 8));
    }

    #[test]
    fn v6_malformed_chains() {
        // extension header beyond the captured bytes
        let mut p = v6_header(64, ROUTING, 64);
        p.extend_from_slice(&[6, 4, 0, 0]);
        assert_eq!(parse(&p, IpHint::V6, 104), Err(Skip::Malformed));
        // extension headers longer than the stated payload
        let mut p = v6_header(4, DEST_OPTIONS, 64);
        p.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        assert_eq!(parse(&p, IpHint::V6, 48), Err(Skip::Malformed));
        // an endless chain
        let mut p = v6_header(1600, DEST_OPTIONS, 64);
        for _ in 0..200 {
            p.extend_from_slice(&[DEST_OPTIONS, 0, 1, 4, 0, 0, 0, 0]);
        }
        assert_eq!(parse(&p, IpHint::V6, 1640), Err(Skip::Malformed));
        assert_eq!(parse(&p[..39], IpHint::V6, 1640), Err(Skip::Malformed));
    }

    #[test]
    fn v6_jumbogram_and_big_tcp() {
        let mut p = v6_header(0, HOP_BY_HOP, 64);
        p.extend_from_slice(&[6, 0, OPT_JUMBO, 4, 0x00, 0x01, 0x00, 0x08]);
        p.extend_from_slice(&[0; 20]);
        let pkt = parse(&p, IpHint::V6, 70_000).unwrap();
        assert_eq!(pkt.payload_len, 0x0001_0008 - 8);
        assert_eq!(pkt.payload.len(), 20);
        // BIG TCP as captured on Linux: no length anywhere
        let mut p = v6_header(0, 6, 64);
        p.extend_from_slice(&[0; 20]);
        let pkt = parse(&p, IpHint::V6, 100_040).unwrap();
        assert_eq!(pkt.payload_len, 100_000);
        // and when wire_len is short, the captured bytes count
        let pkt = parse(&p, IpHint::V6, 0).unwrap();
        assert_eq!(pkt.payload_len, 20);
    }

    #[test]
    fn jumbo_option_parsing() {
        assert_eq!(
            jumbo_len(&[6, 0, 0, 1, 0, OPT_JUMBO, 4, 0, 1, 0, 0]),
            Some(0x0001_0000)
        );
        assert_eq!(jumbo_len(&[6, 0, 1, 4, 0, 0, 0, 0]), None);
        assert_eq!(jumbo_len(&[6, 0, 1, 200]), None);
        assert_eq!(jumbo_len(&[6, 0, 1]), None);
        assert_eq!(jumbo_len(&[6, 0, OPT_JUMBO, 4, 1]), None);
    }

    #[test]
    fn ip_in_ip_is_left_to_the_walk() {
        let mut inner = v4_header(5, 28, 0, 17, 5);
        inner.extend_from_slice(&[7; 8]);
        let mut outer = v4_header(5, 48, 0, proto::IPIP, 60);
        outer.extend_from_slice(&inner);
        let pkt = parse(&outer, IpHint::V4, 48).unwrap();
        assert_eq!(
            (pkt.protocol, pkt.payload, pkt.header_len),
            (proto::IPIP, &inner[..], 20)
        );
        let mut outer = v6_header(8 + 28, DEST_OPTIONS, 60);
        outer.extend_from_slice(&[proto::IPIP, 0, 1, 4, 0, 0, 0, 0]);
        outer.extend_from_slice(&inner);
        let pkt = parse(&outer, IpHint::V6, 76).unwrap();
        assert_eq!(
            (pkt.protocol, pkt.payload_len, pkt.header_len),
            (proto::IPIP, 28, 48)
        );
    }
}
