//! ICMPv4 and ICMPv6 destination unreachable: the message quotes the IP
//! header and the first transport bytes of the packet that could not be
//! delivered, which ties the error to the connection it ends.
//!
//! A quote is often short: RFC 792 routers send only the IP header and 8
//! bytes (the ports and the TCP sequence number), and its IP length fields
//! describe the original packet, not the quote. Fields that were not quoted
//! read as 0. Every other ICMP message is not ours.

use super::ip::{self, proto};
use super::link::IpHint;
use super::transport::{Segment, TcpView, TCP_FLAGS_END};
use super::{Skip, TcpFlags, Transport};
use std::net::IpAddr;

const ICMPV4_DEST_UNREACHABLE: u8 = 3;
const ICMPV6_DEST_UNREACHABLE: u8 = 1;
/// Type, code, checksum and 4 unused (or MTU / length) bytes.
const ICMP_HEADER_LEN: usize = 8;
const TCP_MIN_HEADER: u32 = 20;
const UDP_HEADER: u32 = 8;

/// A destination unreachable message and the packet it quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unreachable {
    pub icmp_type: u8,
    pub code: u8,
    /// Source of the quoted packet (the sender of the failed attempt).
    pub src: IpAddr,
    /// Destination of the quoted packet.
    pub dst: IpAddr,
    pub segment: Segment,
}

/// Decodes an ICMPv4 message (the IPv4 payload).
#[inline]
pub fn v4(icmp: &[u8]) -> Result<Unreachable, Skip> {
    unreachable(icmp, ICMPV4_DEST_UNREACHABLE, IpHint::V4)
}

/// Decodes an ICMPv6 message (the upper-layer payload of an IPv6 packet).
#[inline]
pub fn v6(icmp: &[u8]) -> Result<Unreachable, Skip> {
    unreachable(icmp, ICMPV6_DEST_UNREACHABLE, IpHint::V6)
}

fn unreachable(icmp: &[u8], wanted: u8, hint: IpHint) -> Result<Unreachable, Skip> {
    match icmp.first() {
        None => return Err(Skip::Malformed),
        Some(&t) if t != wanted => return Err(Skip::OtherProtocol),
        Some(_) => {}
    }
    let (header, quote) = super::link::split::<ICMP_HEADER_LEN>(icmp)?;
    // The quote's own length fields describe the original packet, so the
    // quote length is the only wire length there is.
    let quoted = ip::parse(quote, hint, u32::try_from(quote.len()).unwrap_or(u32::MAX)).map_err(
        |e| match e {
            // a later fragment quoted carries no ports either
            Skip::LaterFragment => Skip::OtherProtocol,
            e => e,
        },
    )?;
    let transport = match quoted.protocol {
        proto::TCP => Transport::Tcp,
        proto::UDP => Transport::Udp,
        // an error about an error, or about GRE, ESP, ...
        _ => return Err(Skip::OtherProtocol),
    };
    let h = TcpView::new(quoted.payload).ok_or(Skip::Malformed)?;
    let segment = match transport {
        Transport::Tcp => {
            let header_len = h
                .header_len()
                .filter(|&l| l >= TCP_MIN_HEADER)
                .unwrap_or(TCP_MIN_HEADER);
            Segment {
                transport,
                src_port: h.src_port(),
                dst_port: h.dst_port(),
                seq: h.seq().unwrap_or_default(),
                ack: h.ack().unwrap_or_default(),
                // only trust the flags when the whole flags byte was quoted
                flags: if quoted.payload.len() >= TCP_FLAGS_END {
                    TcpFlags::from_bits(h.flags().unwrap_or_default())
                } else {
                    TcpFlags::NONE
                },
                payload_len: quoted.payload_len.saturating_sub(header_len),
            }
        }
        Transport::Udp => Segment {
            transport,
            src_port: h.src_port(),
            dst_port: h.dst_port(),
            payload_len: quoted.payload_len.saturating_sub(UDP_HEADER),
            ..Segment::default()
        },
    };
    Ok(Unreachable {
        icmp_type: header[0],
        code: header[1],
        src: quoted.src,
        dst: quoted.dst,
        segment,
    })
}

#[cfg(test)]
mod tests {
    use super::super::ip::tests::{v4_header, v6_header};
    use super::super::transport::tests::tcp_header;
    use super::*;

    fn icmp(t: u8, code: u8, quote: &[u8]) -> Vec<u8> {
        let mut m = vec![t, code, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(quote);
        m
    }

    #[test]
    fn v4_quoting_tcp_in_full() {
        let mut q = v4_header(5, 60, 0x4000, 6, 63);
        q.extend(tcp_header(49200, 31000, 1000, 0, 5, 0x02));
        let u = v4(&icmp(3, 13, &q)).unwrap();
        assert_eq!((u.icmp_type, u.code), (3, 13));
        assert_eq!(u.src, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(u.dst, "198.51.100.2".parse::<IpAddr>().unwrap());
        assert_eq!(
            u.segment,
            Segment {
                transport: Transport::Tcp,
                src_port: 49200,
                dst_port: 31000,
                seq: 1000,
                ack: 0,
                flags: TcpFlags::SYN,
                payload_len: 20
            }
        );
    }

    #[test]
    fn v4_quoting_eight_bytes() {
        let mut q = v4_header(5, 60, 0, 6, 63);
        q.extend_from_slice(&tcp_header(49200, 31000, 1000, 0, 5, 0x02)[..8]);
        let u = v4(&icmp(3, 1, &q)).unwrap();
        assert_eq!(
            (u.segment.src_port, u.segment.dst_port, u.segment.seq),
            (49200, 31000, 1000)
        );
        assert_eq!(
            (u.segment.flags, u.segment.ack, u.segment.payload_len),
            (TcpFlags::NONE, 0, 20)
        );
        // four bytes: ports only
        let u = v4(&icmp(3, 1, &q[..24])).unwrap();
        assert_eq!((u.segment.src_port, u.segment.seq), (49200, 0));
        // fewer: nothing to tie it to
        assert_eq!(v4(&icmp(3, 1, &q[..23])), Err(Skip::Malformed));
        assert_eq!(v4(&icmp(3, 1, &q[..19])), Err(Skip::Malformed));
    }

    #[test]
    fn v4_quoting_udp() {
        let mut q = v4_header(5, 78, 0, 17, 63);
        q.extend_from_slice(&[0xc0, 0x01, 0x00, 0xa1, 0x00, 0x3a, 0, 0]);
        let u = v4(&icmp(3, 3, &q)).unwrap();
        assert_eq!(u.segment.transport, Transport::Udp);
        assert_eq!(
            (
                u.segment.src_port,
                u.segment.dst_port,
                u.segment.payload_len
            ),
            (49153, 161, 50)
        );
    }

    #[test]
    fn v4_not_ours() {
        let mut q = v4_header(5, 60, 0, 1, 63);
        q.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(v4(&icmp(3, 1, &q)), Err(Skip::OtherProtocol)); // quoting ICMP
        let mut q = v4_header(5, 60, 0, 47, 63);
        q.extend_from_slice(&[0; 8]);
        assert_eq!(v4(&icmp(3, 1, &q)), Err(Skip::OtherProtocol)); // quoting GRE
        let mut q = v4_header(5, 60, 100, 6, 63);
        q.extend_from_slice(&[0; 8]);
        assert_eq!(v4(&icmp(3, 1, &q)), Err(Skip::OtherProtocol)); // quoting a later fragment
        assert_eq!(v4(&icmp(11, 0, &q)), Err(Skip::OtherProtocol)); // time exceeded
        assert_eq!(v4(&[8, 0, 0, 0, 0, 1, 0, 1]), Err(Skip::OtherProtocol)); // echo
        assert_eq!(v4(&[]), Err(Skip::Malformed));
        assert_eq!(v4(&[3, 1, 0]), Err(Skip::Malformed));
    }

    #[test]
    fn v6_quoting_tcp_and_udp() {
        let mut q = v6_header(32, 6, 60);
        q.extend(tcp_header(50000, 22, 5, 6, 8, 0x02));
        let u = v6(&icmp(1, 4, &q)).unwrap();
        assert_eq!((u.icmp_type, u.code), (1, 4));
        assert_eq!(u.dst, "2001:db8::2".parse::<IpAddr>().unwrap());
        assert_eq!(
            (u.segment.src_port, u.segment.dst_port, u.segment.seq),
            (50000, 22, 5)
        );
        assert_eq!((u.segment.flags, u.segment.payload_len), (TcpFlags::SYN, 0));
        let mut q = v6_header(100, 17, 60);
        q.extend_from_slice(&[0x12, 0x34, 0x00, 0x89, 0, 100, 0, 0]);
        let u = v6(&icmp(1, 3, &q)).unwrap();
        assert_eq!(
            (
                u.segment.transport,
                u.segment.dst_port,
                u.segment.payload_len
            ),
            (Transport::Udp, 137, 92)
        );
        // quoting ICMPv6, and ICMPv6 messages that are not unreachable
        let mut q = v6_header(8, 58, 60);
        q.extend_from_slice(&[128, 0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(v6(&icmp(1, 0, &q)), Err(Skip::OtherProtocol));
        assert_eq!(v6(&icmp(3, 0, &q)), Err(Skip::OtherProtocol));
        assert_eq!(v6(&icmp(2, 0, &q)), Err(Skip::OtherProtocol));
        // quoted IPv6 header cut short
        assert_eq!(v6(&icmp(1, 0, &q[..30])), Err(Skip::Malformed));
    }
}
