//! IEEE 802.11 data frames: link types 105 (the 802.11 header first) and 127
//! (a radiotap header first).
//!
//! Only unprotected data frames carry a packet flowlint can read: data and
//! QoS data subtypes (not the "null" ones), the header with a fourth
//! address when both DS bits are set, the QoS control field, the HT control
//! field when the order bit is set on a QoS frame, then an LLC/SNAP header
//! (RFC 1042 or 802.1H bridge-tunnel OUI) naming an ethertype. Management,
//! control, protected (encrypted) and A-MSDU frames are not IP.
//!
//! Radiotap: version 0, its length says where the 802.11 frame starts. The
//! flags field (when present) tells whether the 802.11 header is padded to
//! a 4-byte boundary; a trailing FCS is left in place like Ethernet's (the
//! IP lengths cut it).

use super::link::{self, ethernet_destination, Net};
use super::Skip;

const TYPE_DATA: u8 = 2;
/// Subtype bit: QoS data (and QoS null ...).
const SUBTYPE_QOS: u8 = 0x08;
/// Subtype bit: no data (null function, CF-ack/poll without data).
const SUBTYPE_NULL: u8 = 0x04;
const FLAG_TO_DS: u8 = 0x01;
const FLAG_FROM_DS: u8 = 0x02;
const FLAG_PROTECTED: u8 = 0x40;
const FLAG_ORDER: u8 = 0x80;
/// QoS control, first byte: an A-MSDU follows.
const QOS_AMSDU: u8 = 0x80;

const HEADER_LEN: usize = 24;
const LLC_SNAP: [u8; 3] = [0xaa, 0xaa, 0x03];
const OUI_RFC1042: [u8; 3] = [0, 0, 0];
const OUI_BRIDGE_TUNNEL: [u8; 3] = [0, 0, 0xf8];

/// A view over the fixed part of an 802.11 header: frame control,
/// duration, three addresses, sequence control.
#[derive(Clone, Copy, Debug)]
pub struct Dot11View<'a>(&'a [u8; HEADER_LEN]);

impl<'a> Dot11View<'a> {
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        bytes.get(..HEADER_LEN)?.try_into().ok().map(Dot11View)
    }
    /// Protocol version (always 0 so far).
    #[inline]
    pub fn version(&self) -> u8 {
        self.0[0] & 0x03
    }
    /// 0 management, 1 control, 2 data, 3 extension.
    #[inline]
    pub fn frame_type(&self) -> u8 {
        (self.0[0] >> 2) & 0x03
    }
    #[inline]
    pub fn subtype(&self) -> u8 {
        self.0[0] >> 4
    }
    /// To DS, From DS, more fragments, retry, power management, more data,
    /// protected, +HTC/order.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.0[1]
    }
    /// The destination address: address 1, or address 3 when the frame
    /// goes to the distribution system.
    #[inline]
    pub fn destination(&self) -> &'a [u8] {
        if self.flags() & FLAG_TO_DS != 0 {
            &self.0[16..22]
        } else {
            &self.0[4..10]
        }
    }
}

/// Link type 105: an 802.11 frame.
pub fn dot11(data: &[u8]) -> Result<Net<'_>, Skip> {
    dot11_padded(data, false)
}

/// `padded`: the radiotap flags say the header is padded to 4 bytes.
fn dot11_padded(data: &[u8], padded: bool) -> Result<Net<'_>, Skip> {
    // control frames (an ACK is 10 bytes) are shorter than a data header
    match data.first() {
        Some(fc) if (fc >> 2) & 0x03 != TYPE_DATA => return Err(Skip::NotIp),
        Some(_) => {}
        None => return Err(Skip::Malformed),
    }
    let h = Dot11View::new(data).ok_or(Skip::Malformed)?;
    if h.version() != 0 {
        return Err(Skip::Malformed);
    }
    let flags = h.flags();
    if h.frame_type() != TYPE_DATA || h.subtype() & SUBTYPE_NULL != 0 || flags & FLAG_PROTECTED != 0
    {
        return Err(Skip::NotIp);
    }
    let mut len = HEADER_LEN;
    if flags & (FLAG_TO_DS | FLAG_FROM_DS) == FLAG_TO_DS | FLAG_FROM_DS {
        len += 6;
    }
    if h.subtype() & SUBTYPE_QOS != 0 {
        let qos = *data.get(len).ok_or(Skip::Malformed)?;
        if qos & QOS_AMSDU != 0 {
            return Err(Skip::NotIp);
        }
        len += 2;
        if flags & FLAG_ORDER != 0 {
            len += 4;
        }
    }
    if padded {
        len = (len + 3) & !3;
    }
    let body = data.get(len..).ok_or(Skip::Malformed)?;
    let (snap, rest) = link::split::<8>(body)?;
    if snap[..3] != LLC_SNAP || (snap[3..6] != OUI_RFC1042 && snap[3..6] != OUI_BRIDGE_TUNNEL) {
        return Err(Skip::NotIp);
    }
    let dest = ethernet_destination(h.destination());
    link::by_ethertype(u16::from_be_bytes([snap[6], snap[7]]), rest, dest)
}

/// Radiotap present-bitmap bits used here.
const RT_TSFT: u32 = 1 << 0;
const RT_FLAGS: u32 = 1 << 1;
const RT_EXT: u32 = 1 << 31;
/// Radiotap flags: the 802.11 header is padded to a 32-bit boundary.
const RT_FLAG_DATAPAD: u8 = 0x20;
/// Presence words followed before the fields start.
const RT_MAX_PRESENT_WORDS: usize = 16;

/// Link type 127: a radiotap header, then an 802.11 frame.
pub fn radiotap(data: &[u8]) -> Result<Net<'_>, Skip> {
    let (hdr, _) = link::split::<8>(data)?;
    if hdr[0] != 0 {
        return Err(Skip::Malformed);
    }
    let len = usize::from(u16::from_le_bytes([hdr[2], hdr[3]]));
    if len < 8 {
        return Err(Skip::Malformed);
    }
    let frame = data.get(len..).ok_or(Skip::Malformed)?;
    let present = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
    // the fields begin after the last presence word
    let mut fields = 8;
    let mut word = present;
    let mut words = 1;
    while word & RT_EXT != 0 {
        if words >= RT_MAX_PRESENT_WORDS {
            return Err(Skip::Malformed);
        }
        let w = data.get(fields..fields + 4).ok_or(Skip::Malformed)?;
        word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        fields += 4;
        words += 1;
    }
    let mut padded = false;
    if present & RT_FLAGS != 0 {
        let at = if present & RT_TSFT != 0 {
            ((fields + 7) & !7) + 8
        } else {
            fields
        };
        if at < len {
            padded = data.get(at).is_some_and(|f| f & RT_FLAG_DATAPAD != 0);
        }
    }
    dot11_padded(frame, padded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::link::IpHint;
    use crate::decode::LinkDest;

    const SNAP_IP4: [u8; 8] = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];

    fn header(fc0: u8, flags: u8, a1: [u8; 6], a3: [u8; 6]) -> Vec<u8> {
        let mut v = vec![fc0, flags, 0, 0];
        v.extend_from_slice(&a1);
        v.extend_from_slice(&[2; 6]);
        v.extend_from_slice(&a3);
        v.extend_from_slice(&[0x10, 0]);
        v
    }

    #[test]
    fn data_frames() {
        let bcast = [0xff; 6];
        let uni = [0x02, 0, 0, 0, 0, 9];
        // data, from DS, to a broadcast address 1
        let mut f = header(0x08, FLAG_FROM_DS, bcast, uni);
        f.extend_from_slice(&SNAP_IP4);
        f.push(0x45);
        let n = dot11(&f).unwrap();
        assert_eq!(
            (n.hint, n.bytes, n.dest),
            (IpHint::V4, &[0x45][..], LinkDest::Broadcast)
        );
        // to DS: the destination is address 3
        f[1] = FLAG_TO_DS;
        assert_eq!(dot11(&f).unwrap().dest, LinkDest::Unicast);
        // QoS data with both DS bits (4 addresses) and HT control
        let mut q = header(0x88, FLAG_TO_DS | FLAG_FROM_DS | FLAG_ORDER, uni, bcast);
        q.extend_from_slice(&[3; 6]); // address 4
        q.extend_from_slice(&[0, 0]); // QoS control
        q.extend_from_slice(&[0; 4]); // HT control
        q.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0xf8, 0x86, 0xdd, 0x60]);
        let n = dot11(&q).unwrap();
        assert_eq!(
            (n.hint, n.bytes, n.dest),
            (IpHint::V6, &[0x60][..], LinkDest::Broadcast)
        );
        // null data, protected, beacon, A-MSDU, not SNAP, ARP
        assert_eq!(dot11(&header(0x48, 0, uni, uni)), Err(Skip::NotIp));
        let mut p = f.clone();
        p[1] |= FLAG_PROTECTED;
        assert_eq!(dot11(&p), Err(Skip::NotIp));
        assert_eq!(dot11(&header(0x80, 0, bcast, uni)), Err(Skip::NotIp));
        let mut a = header(0x88, 0, uni, uni);
        a.extend_from_slice(&[0x80, 0]);
        a.extend_from_slice(&SNAP_IP4);
        assert_eq!(dot11(&a), Err(Skip::NotIp));
        let mut l = header(0x08, 0, uni, uni);
        l.extend_from_slice(&[0x42, 0x42, 0x03, 0, 0, 0, 0x08, 0x00]);
        assert_eq!(dot11(&l), Err(Skip::NotIp));
        let mut arp = header(0x08, 0, uni, uni);
        arp.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06, 0]);
        assert_eq!(dot11(&arp), Err(Skip::NotIp));
        assert_eq!(dot11(&f[..30]), Err(Skip::Malformed));
        // an ACK: 10 bytes
        assert_eq!(dot11(&[0xd4, 0, 0, 0, 2, 2, 2, 2, 2, 2]), Err(Skip::NotIp));
        assert_eq!(dot11(&[0x08, 0]), Err(Skip::Malformed));
    }

    #[test]
    fn radiotap_headers() {
        let mut d = header(0x08, 0, [0x02, 0, 0, 0, 0, 1], [2; 6]);
        d.extend_from_slice(&SNAP_IP4);
        d.push(0x45);
        // TSFT + flags (no pad) + rate
        let mut r = vec![0, 0, 0, 0, 0x07, 0, 0, 0];
        r.extend_from_slice(&[0; 8]); // TSFT
        r.extend_from_slice(&[0x10, 0x02]); // flags (FCS at end), rate
        let n = r.len() as u16;
        r[2..4].copy_from_slice(&n.to_le_bytes());
        r.extend_from_slice(&d);
        assert_eq!(radiotap(&r).unwrap().bytes, &[0x45]);
        // extended presence bitmaps: fields after three words
        let mut r = vec![0, 0, 0, 0, 0x02, 0, 0, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0];
        r.push(RT_FLAG_DATAPAD);
        r.push(0);
        let n = r.len() as u16;
        r[2..4].copy_from_slice(&n.to_le_bytes());
        // padded: the 26-byte QoS header is followed by 2 bytes of padding
        let mut q = header(0x88, 0, [0x02, 0, 0, 0, 0, 1], [2; 6]);
        q.extend_from_slice(&[0, 0, 0xee, 0xee]);
        q.extend_from_slice(&SNAP_IP4);
        q.push(0x45);
        r.extend_from_slice(&q);
        assert_eq!(radiotap(&r).unwrap().bytes, &[0x45]);
        // version 1, length below 8 or beyond the record
        assert_eq!(radiotap(&[1, 0, 8, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
        assert_eq!(radiotap(&[0, 0, 4, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
        assert_eq!(radiotap(&[0, 0, 200, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
        // endless presence words
        let mut e = vec![0, 0, 0xff, 0];
        e.extend(std::iter::repeat_n([0xff, 0xff, 0xff, 0xff], 40).flatten());
        assert_eq!(radiotap(&e), Err(Skip::Malformed));
    }
}
