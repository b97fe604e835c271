//! PPP frames (RFC 1661/1662): link types PPP (9) and PPP in HDLC-like
//! framing (50, which may also hold Cisco HDLC), and the PPP inside PPTP's
//! enhanced GRE.
//!
//! The frame may start with the HDLC address and control bytes (0xFF 0x03)
//! or leave them out (address-and-control-field compression); the protocol
//! field is two bytes, or one when its first byte is odd (protocol field
//! compression). IPv4, IPv6 and MPLS are followed; LCP, IPCP, CHAP,
//! compressed TCP/IP and the rest are not IP.

use super::link::{self, split, IpHint};
use super::Skip;

pub const PROTO_IPV4: u16 = 0x0021;
pub const PROTO_IPV6: u16 = 0x0057;
pub const PROTO_MPLS_UNICAST: u16 = 0x0281;
pub const PROTO_MPLS_MULTICAST: u16 = 0x0283;

const HDLC_ADDRESS: u8 = 0xff;
const HDLC_CONTROL: u8 = 0x03;
/// Cisco HDLC address bytes (unicast, broadcast), as in link type 104.
const CISCO_UNICAST: u8 = 0x0f;
const CISCO_BROADCAST: u8 = 0x8f;

/// A PPP frame with or without the address and control bytes (link type 9,
/// PPTP's payload).
pub fn frame(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    match data {
        [HDLC_ADDRESS, HDLC_CONTROL, rest @ ..] => protocol(rest),
        _ => protocol(data),
    }
}

/// Link type 50: PPP in HDLC-like framing, or Cisco HDLC (its first byte
/// 0x0F or 0x8F) as tcpdump writes both under this number.
pub fn hdlc(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    match data.first() {
        Some(&(CISCO_UNICAST | CISCO_BROADCAST)) => cisco_hdlc(data),
        _ => frame(data),
    }
}

/// Cisco HDLC (link type 104): address (0x0F unicast, 0x8F broadcast),
/// control 0, then an ethertype.
pub fn cisco_hdlc(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    let (hdr, rest) = split::<4>(data)?;
    match (hdr[0], hdr[1]) {
        (CISCO_UNICAST | CISCO_BROADCAST, 0) => link::by_ethertype(
            u16::from_be_bytes([hdr[2], hdr[3]]),
            rest,
            super::LinkDest::Unicast,
        )
        .map(|n| (n.hint, n.bytes)),
        _ => Err(Skip::NotIp),
    }
}

/// The PPP protocol field and what follows it.
pub fn protocol(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    let (proto, rest) = match data {
        [b, rest @ ..] if b & 1 == 1 => (u16::from(*b), rest),
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return Err(Skip::Malformed),
    };
    match proto {
        PROTO_IPV4 => Ok((IpHint::V4, rest)),
        PROTO_IPV6 => Ok((IpHint::V6, rest)),
        PROTO_MPLS_UNICAST | PROTO_MPLS_MULTICAST => {
            link::by_ethertype(0x8847, rest, super::LinkDest::Unicast).map(|n| (n.hint, n.bytes))
        }
        _ => Err(Skip::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_control_and_protocol_compression() {
        let ip = [0x45u8, 0];
        for prefix in [
            &[0xff, 0x03, 0x00, 0x21][..],
            &[0x00, 0x21],
            &[0xff, 0x03, 0x21],
            &[0x21],
        ] {
            let mut f = prefix.to_vec();
            f.extend_from_slice(&ip);
            assert_eq!(frame(&f), Ok((IpHint::V4, &ip[..])), "{prefix:?}");
        }
        assert_eq!(frame(&[0x00, 0x57, 0x60]), Ok((IpHint::V6, &[0x60][..])));
        // LCP, IPCP, VJ compressed
        assert_eq!(frame(&[0xff, 0x03, 0xc0, 0x21, 1]), Err(Skip::NotIp));
        assert_eq!(frame(&[0x80, 0x21, 1]), Err(Skip::NotIp));
        assert_eq!(frame(&[0x00, 0x2d, 1]), Err(Skip::NotIp));
        assert_eq!(frame(&[0xff, 0x03]), Err(Skip::Malformed));
        assert_eq!(frame(&[]), Err(Skip::Malformed));
        // MPLS over PPP
        let mpls = [0x02, 0x81, 0, 0x01, 0x01, 0x40, 0x45];
        assert_eq!(frame(&mpls), Ok((IpHint::V4, &[0x45][..])));
    }

    #[test]
    fn hdlc_and_cisco() {
        assert_eq!(
            hdlc(&[0xff, 0x03, 0x00, 0x21, 0x45]),
            Ok((IpHint::V4, &[0x45][..]))
        );
        assert_eq!(
            hdlc(&[0x0f, 0x00, 0x86, 0xdd, 0x60]),
            Ok((IpHint::V6, &[0x60][..]))
        );
        assert_eq!(hdlc(&[0x8f, 0x00, 0x80, 0x35, 0]), Err(Skip::NotIp));
        assert_eq!(
            cisco_hdlc(&[0x0f, 0x01, 0x08, 0x00, 0x45]),
            Err(Skip::NotIp)
        );
        assert_eq!(hdlc(&[0x0f, 0x00]), Err(Skip::Malformed));
    }
}
