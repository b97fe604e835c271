//! Linux NFLOG (link type 239): what `iptables -j NFLOG` / nftables `log
//! group` hand to libpcap.
//!
//! A 4-byte header (address family, version 0, resource id), then TLVs:
//! length (including the 4-byte TLV header) and type, both in the byte
//! order of the capturing host, the value padded to 4 bytes. The packet
//! itself is the `NFULA_PAYLOAD` TLV (type 9), an IP packet without a link
//! layer. The byte order is taken from the first TLV: TLV types are small,
//! so the reading that gives a type below 256 wins.

use super::link::{split, IpHint};
use super::Skip;

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const NFULA_PAYLOAD: u16 = 9;
/// TLVs looked at before giving up (there are about 20 kinds).
const MAX_TLVS: usize = 64;

/// The IP packet of an NFLOG record.
pub fn packet(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    let (hdr, mut rest) = split::<4>(data)?;
    if hdr[1] != 0 {
        return Err(Skip::Malformed);
    }
    let hint = match hdr[0] {
        AF_INET => IpHint::V4,
        AF_INET6 => IpHint::V6,
        _ => IpHint::Any,
    };
    let big_endian = match rest.get(2..4) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]) > 0xff,
        _ => return Err(Skip::Malformed),
    };
    let read = |a: u8, b: u8| {
        if big_endian {
            u16::from_be_bytes([a, b])
        } else {
            u16::from_le_bytes([a, b])
        }
    };
    for _ in 0..MAX_TLVS {
        let (tlv, _) = split::<4>(rest)?;
        let len = usize::from(read(tlv[0], tlv[1]));
        let kind = read(tlv[2], tlv[3]);
        if len < 4 {
            return Err(Skip::Malformed);
        }
        if kind == NFULA_PAYLOAD {
            // a snaplen may cut the value: take what was captured
            let end = len.min(rest.len());
            return Ok((hint, &rest[4..end]));
        }
        let padded = (len + 3) & !3;
        rest = rest.get(padded..).ok_or(Skip::Malformed)?;
        if rest.is_empty() {
            return Err(Skip::NotIp);
        }
    }
    Err(Skip::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(big: bool, kind: u16, value: &[u8]) -> Vec<u8> {
        let len = 4 + value.len() as u16;
        let mut v = if big {
            [len.to_be_bytes(), kind.to_be_bytes()].concat()
        } else {
            [len.to_le_bytes(), kind.to_le_bytes()].concat()
        };
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn payload_tlv_in_either_byte_order() {
        let ip = [0x45u8, 0, 0, 20, 1, 2, 3];
        for big in [false, true] {
            let mut f = vec![2, 0, 0, 1];
            f.extend(tlv(big, 1, &[8, 0, 1, 0])); // packet header
            f.extend(tlv(big, 10, b"prefix\0")); // prefix, padded
            f.extend(tlv(big, 9, &ip));
            assert_eq!(packet(&f), Ok((IpHint::V4, &ip[..])), "big endian {big}");
        }
        let mut f = vec![10, 0, 0, 1];
        f.extend(tlv(false, 9, &[0x60]));
        assert_eq!(packet(&f), Ok((IpHint::V6, &[0x60][..])));
        // no payload TLV
        let mut f = vec![2, 0, 0, 1];
        f.extend(tlv(false, 1, &[8, 0, 1, 0]));
        assert_eq!(packet(&f), Err(Skip::NotIp));
        // zero length, version 1, cut short
        assert_eq!(packet(&[2, 0, 0, 1, 0, 0, 9, 0]), Err(Skip::Malformed));
        assert_eq!(
            packet(&[2, 1, 0, 1, 8, 0, 9, 0, 0x45]),
            Err(Skip::Malformed)
        );
        assert_eq!(packet(&[2, 0, 0]), Err(Skip::Malformed));
    }
}
