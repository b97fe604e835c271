//! TCP and UDP headers: ports, sequence numbers, flags and the payload length.
//!
//! Only the leading bytes are read (TCP: 14, through the flags; UDP: 8), so a
//! segment cut by the snaplen, or the first fragment of a datagram, still
//! yields its connection. TCP options are never looked at.

use super::{Skip, TcpFlags, Transport};
use etherparse::UdpHeaderSlice;

/// Bytes of a TCP header up to and including the flags.
pub const TCP_FLAGS_END: usize = 14;
const TCP_MIN_HEADER: u32 = 20;
const UDP_HEADER: u32 = 8;

/// The transport facts of one segment or datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Segment {
    pub transport: Transport,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub payload_len: u32,
}

/// A view over the first bytes of a TCP header, however many were captured.
/// Accessors answer `None` for fields beyond the captured bytes.
#[derive(Clone, Copy, Debug)]
pub struct TcpView<'a>(&'a [u8]);

impl<'a> TcpView<'a> {
    /// Fails when not even the ports are there.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        (bytes.len() >= 4).then_some(TcpView(bytes))
    }
    #[inline]
    pub fn src_port(&self) -> u16 {
        self.be16(0).unwrap_or_default()
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        self.be16(2).unwrap_or_default()
    }
    #[inline]
    pub fn seq(&self) -> Option<u32> {
        self.be32(4)
    }
    #[inline]
    pub fn ack(&self) -> Option<u32> {
        self.be32(8)
    }
    /// Header length in bytes (data offset × 4).
    #[inline]
    pub fn header_len(&self) -> Option<u32> {
        self.0.get(12).map(|b| u32::from(b >> 4) * 4)
    }
    /// FIN, SYN, RST, PSH, ACK, URG, ECE, CWR (the NS bit is not kept).
    #[inline]
    pub fn flags(&self) -> Option<u8> {
        self.0.get(13).copied()
    }
    #[inline]
    fn be16(&self, at: usize) -> Option<u16> {
        match self.0.get(at..at + 2)? {
            &[a, b] => Some(u16::from_be_bytes([a, b])),
            _ => None,
        }
    }
    #[inline]
    fn be32(&self, at: usize) -> Option<u32> {
        match self.0.get(at..at + 4)? {
            &[a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
            _ => None,
        }
    }
}

/// Decodes a TCP segment. `ip_payload_len` is the segment length the IP
/// header states; the header must fit in it.
#[inline]
pub fn tcp(bytes: &[u8], ip_payload_len: u32) -> Result<Segment, Skip> {
    if bytes.len() < TCP_FLAGS_END {
        return Err(Skip::Malformed);
    }
    let h = TcpView(bytes);
    let header_len = h.header_len().ok_or(Skip::Malformed)?;
    if header_len < TCP_MIN_HEADER || header_len > ip_payload_len {
        return Err(Skip::Malformed);
    }
    Ok(Segment {
        transport: Transport::Tcp,
        src_port: h.src_port(),
        dst_port: h.dst_port(),
        seq: h.seq().unwrap_or_default(),
        ack: h.ack().unwrap_or_default(),
        flags: TcpFlags::from_bits(h.flags().unwrap_or_default()),
        payload_len: ip_payload_len - header_len,
    })
}

/// Decodes a UDP datagram. For the first fragment of a fragmented datagram
/// the IP length covers only that fragment, so the UDP length field (which
/// covers the whole datagram) gives the payload length instead.
#[inline]
pub fn udp(bytes: &[u8], ip_payload_len: u32, first_fragment: bool) -> Result<Segment, Skip> {
    let h = UdpHeaderSlice::from_slice(bytes).map_err(|_| Skip::Malformed)?;
    let datagram_len = match h.length() {
        n if first_fragment && u32::from(n) >= UDP_HEADER => u32::from(n),
        _ => ip_payload_len,
    };
    Ok(Segment {
        transport: Transport::Udp,
        src_port: h.source_port(),
        dst_port: h.destination_port(),
        payload_len: datagram_len.saturating_sub(UDP_HEADER),
        ..Segment::default()
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A 20-byte TCP header (plus `doff` words) by hand.
    pub fn tcp_header(sport: u16, dport: u16, seq: u32, ack: u32, doff: u8, flags: u8) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&sport.to_be_bytes());
        h.extend_from_slice(&dport.to_be_bytes());
        h.extend_from_slice(&seq.to_be_bytes());
        h.extend_from_slice(&ack.to_be_bytes());
        h.extend_from_slice(&[doff << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
        h.resize(usize::from(doff.max(5)) * 4, 1);
        h
    }

    #[test]
    fn tcp_fields() {
        let h = tcp_header(49152, 31000, 7, 9, 8, 0x12);
        let s = tcp(&h, 32 + 100).unwrap();
        assert_eq!(
            s,
            Segment {
                transport: Transport::Tcp,
                src_port: 49152,
                dst_port: 31000,
                seq: 7,
                ack: 9,
                flags: TcpFlags::SYN | TcpFlags::ACK,
                payload_len: 100
            }
        );
    }

    #[test]
    fn tcp_cut_after_flags() {
        let h = tcp_header(1, 2, 3, 4, 5, 0x02);
        let s = tcp(&h[..14], 20).unwrap();
        assert_eq!(
            (s.src_port, s.dst_port, s.seq, s.ack, s.flags, s.payload_len),
            (1, 2, 3, 4, TcpFlags::SYN, 0)
        );
        assert_eq!(tcp(&h[..13], 20), Err(Skip::Malformed));
    }

    #[test]
    fn tcp_bad_data_offset() {
        let h = tcp_header(1, 2, 3, 4, 4, 0x02);
        assert_eq!(tcp(&h, 20), Err(Skip::Malformed));
        let h = tcp_header(1, 2, 3, 4, 0, 0x02);
        assert_eq!(tcp(&h, 20), Err(Skip::Malformed));
        // options beyond the stated IP payload
        let h = tcp_header(1, 2, 3, 4, 15, 0x02);
        assert_eq!(tcp(&h, 40), Err(Skip::Malformed));
    }

    #[test]
    fn udp_lengths() {
        let d = [0x00, 0x35, 0xc0, 0x00, 0x00, 0x10, 0, 0];
        let s = udp(&d, 8 + 8, false).unwrap();
        assert_eq!(
            (s.transport, s.src_port, s.dst_port, s.payload_len),
            (Transport::Udp, 53, 49152, 8)
        );
        assert_eq!(udp(&d, 4, false).unwrap().payload_len, 0);
        // first fragment: the datagram is 0x10 long even though the fragment is 1480
        let d = [0x00, 0x35, 0xc0, 0x00, 0x0f, 0xa0, 0, 0];
        assert_eq!(udp(&d, 1480, true).unwrap().payload_len, 4000 - 8);
        assert_eq!(udp(&d[..7], 1480, false), Err(Skip::Malformed));
    }

    #[test]
    fn view_partial() {
        let h = tcp_header(5, 6, 7, 8, 5, 0x11);
        let v = TcpView::new(&h[..9]).unwrap();
        assert_eq!(
            (v.src_port(), v.dst_port(), v.seq(), v.ack(), v.flags()),
            (5, 6, Some(7), None, None)
        );
        assert!(TcpView::new(&h[..3]).is_none());
    }
}
