//! Hand-made packets and pcap records for hostile-input tests: every header
//! field can be set to a value no real stack would send (an IHL below 5, a
//! TCP data offset past the packet, a record length of 0 or 4 GiB), which
//! [`PacketBuf`](super::PacketBuf) deliberately cannot do.
//!
//! Everything returns owned bytes: these builders make a handful of packets
//! per fixture, so clarity beats allocation-free speed here.

/// Ethertypes used by the builders.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_VLAN: u16 = 0x8100;

/// IP protocol numbers used by the builders.
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_DEST_OPTIONS: u8 = 60;

/// An Ethernet frame carrying `payload` behind one 802.1Q tag per entry of
/// `vlans` (outermost first).
pub fn eth(ethertype: u16, vlans: &[u16], payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + 4 * vlans.len() + payload.len());
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
    for &id in vlans {
        f.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        f.extend_from_slice(&(id & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Fields of an IPv4 header that hostile packets get wrong on purpose.
#[derive(Clone, Copy, Debug, Default)]
pub struct V4Opts {
    /// IHL field (header length in 32-bit words); `None`: 5. Values above 5
    /// add zero option bytes so the header is as long as it says.
    pub ihl: Option<u8>,
    /// Total length field; `None`: header plus payload.
    pub total_len: Option<u16>,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    pub more_fragments: bool,
    /// Identification field (groups fragments).
    pub id: u16,
}

/// An IPv4 packet (header checksum filled in).
pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8], o: V4Opts) -> Vec<u8> {
    let ihl = o.ihl.unwrap_or(5) & 0x0f;
    // An IHL below 5 cannot be honoured: the fixed header is still written.
    let header_len = usize::from(ihl.max(5)) * 4;
    let total = o
        .total_len
        .unwrap_or((header_len + payload.len()).min(usize::from(u16::MAX)) as u16);
    let mut p = vec![0u8; header_len];
    p[0] = 0x40 | ihl;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[4..6].copy_from_slice(&o.id.to_be_bytes());
    let frag = (o.frag_offset & 0x1fff) | if o.more_fragments { 0x2000 } else { 0 };
    p[6..8].copy_from_slice(&frag.to_be_bytes());
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    let sum = checksum(&p[..20]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An IPv6 packet with `dest_options` empty Destination Options extension
/// headers (8 bytes each) in front of `proto`.
pub fn ipv6(
    src: [u8; 16],
    dst: [u8; 16],
    proto: u8,
    payload: &[u8],
    dest_options: usize,
) -> Vec<u8> {
    let ext_len = 8 * dest_options;
    let plen = (ext_len + payload.len()).min(usize::from(u16::MAX)) as u16;
    let mut p = Vec::with_capacity(40 + ext_len + payload.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&plen.to_be_bytes());
    p.push(if dest_options > 0 {
        PROTO_DEST_OPTIONS
    } else {
        proto
    });
    p.push(64);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    for i in 0..dest_options {
        let next = if i + 1 == dest_options {
            proto
        } else {
            PROTO_DEST_OPTIONS
        };
        // next header, length 0 (8 bytes), then a PadN option filling the rest
        p.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
    }
    p.extend_from_slice(payload);
    p
}

/// A TCP header with data offset `doff` (in 32-bit words; values above 5 add
/// zero option bytes, values below 5 are written as they are), followed by
/// `payload_len` zero bytes. Checksums are not filled in: flowlint does not
/// check them, and a capture taken before offload would not have them either.
pub fn tcp(
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    doff: u8,
    payload_len: usize,
) -> Vec<u8> {
    let header_len = usize::from(doff.clamp(5, 15)) * 4;
    let mut t = vec![0u8; header_len + payload_len];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = (doff & 0x0f) << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&64_240u16.to_be_bytes());
    t
}

/// A UDP header and `payload_len` zero bytes; the length field covers both
/// unless `length` overrides it (a first fragment states the whole datagram).
pub fn udp(sport: u16, dport: u16, payload_len: usize, length: Option<u16>) -> Vec<u8> {
    let mut u = vec![0u8; 8 + payload_len];
    u[0..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    let len = length.unwrap_or((8 + payload_len).min(usize::from(u16::MAX)) as u16);
    u[4..6].copy_from_slice(&len.to_be_bytes());
    u
}

/// An ICMPv4 destination unreachable (type 3) with `code`, quoting `quoted`
/// (an IP header and the leading bytes of what it carried).
pub fn icmp4_unreachable(code: u8, quoted: &[u8]) -> Vec<u8> {
    let mut m = vec![3, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(quoted);
    let sum = checksum(&m);
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    m
}

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A little-endian microsecond pcap file header.
pub fn pcap_header(snaplen: u32, linktype: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&snaplen.to_le_bytes());
    h.extend_from_slice(&linktype.to_le_bytes());
    h
}

/// A little-endian microsecond pcap record whose length fields say
/// `caplen`/`orig_len` whatever `data` holds (so lengths can lie).
pub fn pcap_record(ts_ns: i64, caplen: u32, orig_len: u32, data: &[u8]) -> Vec<u8> {
    let secs = ts_ns.div_euclid(1_000_000_000) as u32;
    let micros = (ts_ns.rem_euclid(1_000_000_000) / 1000) as u32;
    let mut r = Vec::with_capacity(16 + data.len());
    r.extend_from_slice(&secs.to_le_bytes());
    r.extend_from_slice(&micros.to_le_bytes());
    r.extend_from_slice(&caplen.to_le_bytes());
    r.extend_from_slice(&orig_len.to_le_bytes());
    r.extend_from_slice(data);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_make_what_the_decoder_reads() {
        let t = tcp(40_000, 8080, 7, 0, 0x02, 5, 0);
        let ip = ipv4(
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            PROTO_TCP,
            &t,
            V4Opts::default(),
        );
        assert_eq!(checksum(&ip[..20]), 0, "header checksum verifies");
        let frame = eth(ETHERTYPE_IPV4, &[10, 20, 30], &ip);
        let m = crate::decode::decode(1, &frame, 5, frame.len() as u32).expect("decodes");
        assert_eq!((m.src_port, m.dst_port, m.seq), (40_000, 8080, 7));
        let ip6 = ipv6([1; 16], [2; 16], PROTO_UDP, &udp(5, 53, 4, None), 3);
        let m = crate::decode::decode(229, &ip6, 5, ip6.len() as u32).expect("decodes");
        assert_eq!((m.src_port, m.dst_port, m.payload_len), (5, 53, 4));
    }
}
