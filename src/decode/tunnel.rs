//! Tunnels and mirror transports: the headers between an outer IP packet and
//! the packet it carries, as Zeek opens them.
//!
//! Owns GRE (RFC 2784/2890: checksum, key and sequence number fields
//! skipped; RFC 1701 routing is not followed), PPTP's enhanced GRE
//! (version 1, RFC 2637) with PPP inside, ERSPAN types I, II and III
//! (GRE protocol 0x88BE / 0x22EB), and the UDP transports VXLAN (4789,
//! RFC 7348), Geneve (6081, RFC 8926, options skipped), GTP-U (2152, TS
//! 29.281, optional fields and extension headers), Teredo (3544, RFC 4380,
//! origin and authentication indicators), AYIYA (5072) and GRE over UDP
//! (4754, RFC 8086). IP-in-IP itself is read by the IP layer; its kind is
//! named here so that every tunnel is counted the same way.
//!
//! Each parser is a zero-copy view: it checks the header, skips it, and
//! says what follows ([`Payload`]) — the walk in `decode` then continues
//! with the link or IP layer. A UDP port alone proves nothing, so
//! [`udp`] only proposes a tunnel; the walk keeps the outer UDP datagram
//! unless the inner packet really parses.

use super::link::IpHint;
use super::Skip;

/// Nested tunnels followed per packet (IP-in-IP included); a deeper nest is
/// counted as [`Skip::TunnelTooDeep`].
pub const MAX_DEPTH: usize = 4;

/// UDP ports of the transports [`udp`] recognises.
pub mod port {
    pub const VXLAN: u16 = 4789;
    pub const GENEVE: u16 = 6081;
    pub const GTP_U: u16 = 2152;
    pub const TEREDO: u16 = 3544;
    pub const AYIYA: u16 = 5072;
    pub const GRE_UDP: u16 = 4754;
}

/// Is this UDP port one a tunnel may use? (The fast path hands such
/// datagrams to the general path.)
#[inline(always)]
pub const fn is_udp_port(p: u16) -> bool {
    matches!(
        p,
        port::VXLAN | port::GENEVE | port::GTP_U | port::TEREDO | port::AYIYA | port::GRE_UDP
    )
}

/// A kind of tunnel, as reports name it (`inputs[].tunnels`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TunnelKind {
    /// IPv4 or IPv6 directly in IPv4 or IPv6 (protocols 4 and 41: IP-in-IP, 6in4, 4in6).
    IpInIp,
    /// GRE version 0 carrying IP, MPLS or Ethernet (0x6558).
    Gre,
    /// PPTP's enhanced GRE (version 1) carrying PPP.
    Pptp,
    /// ERSPAN type I: GRE 0x88BE without a sequence number, Ethernet right after.
    ErspanI,
    /// ERSPAN type II: GRE 0x88BE with a sequence number and an 8-byte header.
    ErspanII,
    /// ERSPAN type III: GRE 0x22EB, 12-byte header (plus 8 when the O flag is set).
    ErspanIII,
    /// GRE in UDP (port 4754).
    GreUdp,
    /// VXLAN (UDP 4789): Ethernet frames.
    Vxlan,
    /// Geneve (UDP 6081): Ethernet or IP by its protocol type.
    Geneve,
    /// GTP-U (UDP 2152) G-PDUs: IPv4 or IPv6.
    GtpU,
    /// Teredo (UDP 3544): IPv6.
    Teredo,
    /// AYIYA (UDP 5072): IPv4 or IPv6.
    Ayiya,
    /// 802.1ah Provider Backbone Bridging (ethertype 0x88E7): MAC-in-MAC.
    Pbb,
}

impl TunnelKind {
    pub const ALL: [TunnelKind; 13] = [
        TunnelKind::IpInIp,
        TunnelKind::Gre,
        TunnelKind::Pptp,
        TunnelKind::ErspanI,
        TunnelKind::ErspanII,
        TunnelKind::ErspanIII,
        TunnelKind::GreUdp,
        TunnelKind::Vxlan,
        TunnelKind::Geneve,
        TunnelKind::GtpU,
        TunnelKind::Teredo,
        TunnelKind::Ayiya,
        TunnelKind::Pbb,
    ];

    /// The name reports give it.
    pub const fn as_str(self) -> &'static str {
        match self {
            TunnelKind::IpInIp => "ip_in_ip",
            TunnelKind::Gre => "gre",
            TunnelKind::Pptp => "pptp",
            TunnelKind::ErspanI => "erspan_i",
            TunnelKind::ErspanII => "erspan_ii",
            TunnelKind::ErspanIII => "erspan_iii",
            TunnelKind::GreUdp => "gre_udp",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::Geneve => "geneve",
            TunnelKind::GtpU => "gtp_u",
            TunnelKind::Teredo => "teredo",
            TunnelKind::Ayiya => "ayiya",
            TunnelKind::Pbb => "pbb",
        }
    }
}

/// The kinds of tunnel one packet came through (a set: GRE in GRE is
/// `gre` once). Two bytes, `Copy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tunnels(u16);

impl Tunnels {
    pub const NONE: Tunnels = Tunnels(0);

    #[inline]
    pub fn insert(&mut self, kind: TunnelKind) {
        self.0 |= 1 << kind as u8;
    }

    #[inline]
    pub const fn contains(self, kind: TunnelKind) -> bool {
        self.0 & (1 << kind as u8) != 0
    }

    /// Adds every kind of `other`.
    #[inline]
    pub fn union(&mut self, other: Tunnels) {
        self.0 |= other.0;
    }

    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in the set, in [`TunnelKind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = TunnelKind> {
        TunnelKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

/// What a tunnel header is followed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// An IP packet (the hint as for a link layer).
    Ip(IpHint),
    /// An Ethernet frame (no FCS).
    Ethernet,
    /// A payload named by an ethertype (GRE and Geneve protocol types).
    Ethertype(u16),
    /// A PPP frame: optional address/control, then the protocol field.
    Ppp,
}

/// One opened tunnel header: its kind, what follows, and those bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encap<'a> {
    pub kind: TunnelKind,
    pub payload: Payload,
    /// The carried bytes (after the tunnel header).
    pub inner: &'a [u8],
    /// Bytes of tunnel header skipped (to shrink the stated length).
    pub header_len: u32,
}

const GRE_C: u16 = 0x8000;
const GRE_R: u16 = 0x4000;
const GRE_K: u16 = 0x2000;
const GRE_S: u16 = 0x1000;
/// Acknowledgment number present (enhanced GRE, version 1).
const GRE_A: u16 = 0x0080;
/// Flag bits Zeek rejects as reserved (RFC 2784 reserved0 after K and S,
/// below the recursion control of RFC 1701).
const GRE_RESERVED: u16 = 0x0078;

const ETHERTYPE_TEB: u16 = 0x6558;
const ETHERTYPE_PPP: u16 = 0x880b;
const ETHERTYPE_ERSPAN_I_II: u16 = 0x88be;
const ETHERTYPE_ERSPAN_III: u16 = 0x22eb;

/// A GRE header (IP protocol 47). Errors: cut short (`Malformed`); a GRE
/// this does not follow — version above 1, source routing, reserved flags,
/// an enhanced GRE that is not PPP (`OtherProtocol`).
pub fn gre(bytes: &[u8]) -> Result<Encap<'_>, Skip> {
    gre_as(bytes, false)
}

fn gre_as(bytes: &[u8], over_udp: bool) -> Result<Encap<'_>, Skip> {
    let hdr = GreView::new(bytes).ok_or(Skip::Malformed)?;
    let flags = hdr.flags();
    if hdr.version() > 1 || flags & (GRE_R | GRE_RESERVED) != 0 {
        return Err(Skip::OtherProtocol);
    }
    let mut len = hdr.header_len();
    let gre_kind = if over_udp {
        TunnelKind::GreUdp
    } else {
        TunnelKind::Gre
    };
    let (kind, payload) = match (hdr.version(), hdr.protocol()) {
        (1, ETHERTYPE_PPP) => (TunnelKind::Pptp, Payload::Ppp),
        (1, _) => return Err(Skip::OtherProtocol),
        (_, ETHERTYPE_TEB) => (gre_kind, Payload::Ethernet),
        (_, ETHERTYPE_PPP) => (gre_kind, Payload::Ppp),
        (_, ETHERTYPE_ERSPAN_I_II) if flags & GRE_S == 0 => {
            (TunnelKind::ErspanI, Payload::Ethernet)
        }
        (_, ETHERTYPE_ERSPAN_I_II) => {
            len += ERSPAN_II_LEN;
            (TunnelKind::ErspanII, Payload::Ethernet)
        }
        (_, ETHERTYPE_ERSPAN_III) => {
            let e = bytes
                .get(len..len + ERSPAN_III_LEN)
                .ok_or(Skip::Malformed)?;
            let e = ErspanIIIView(e.try_into().map_err(|_| Skip::Malformed)?);
            len += ERSPAN_III_LEN + if e.has_subheader() { 8 } else { 0 };
            let payload = match e.frame_type() {
                ERSPAN_FT_ETHERNET => Payload::Ethernet,
                ERSPAN_FT_IP => Payload::Ip(IpHint::Any),
                _ => return Err(Skip::NotIp),
            };
            (TunnelKind::ErspanIII, payload)
        }
        (_, et) => (gre_kind, Payload::Ethertype(et)),
    };
    let inner = bytes.get(len..).ok_or(Skip::Malformed)?;
    if kind == TunnelKind::Pptp && inner.is_empty() {
        // an acknowledgment alone: PPTP's, but no packet
        return Err(Skip::OtherProtocol);
    }
    Ok(Encap {
        kind,
        payload,
        inner,
        header_len: len as u32,
    })
}

/// A view over a GRE header's fixed part (4 bytes); the optional fields
/// follow in the order checksum+reserved, key, sequence, acknowledgment.
#[derive(Clone, Copy, Debug)]
pub struct GreView<'a>(&'a [u8; 4]);

impl<'a> GreView<'a> {
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        bytes.get(..4)?.try_into().ok().map(GreView)
    }
    /// Flags and version as on the wire (C R K S s Recur A Flags Ver).
    #[inline]
    pub fn flags(&self) -> u16 {
        u16::from_be_bytes([self.0[0], self.0[1]])
    }
    /// 0: GRE (RFC 2784); 1: enhanced GRE (PPTP).
    #[inline]
    pub fn version(&self) -> u8 {
        self.0[1] & 0x07
    }
    /// The protocol type: an ethertype.
    #[inline]
    pub fn protocol(&self) -> u16 {
        u16::from_be_bytes([self.0[2], self.0[3]])
    }
    /// Header length: 4, plus 4 for each of checksum, key, sequence and
    /// acknowledgment present (as Zeek counts it).
    #[inline]
    pub fn header_len(&self) -> usize {
        let f = self.flags();
        4 + [GRE_C, GRE_K, GRE_S, GRE_A]
            .iter()
            .filter(|&&bit| f & bit != 0)
            .count()
            * 4
    }
}

const ERSPAN_II_LEN: usize = 8;
const ERSPAN_III_LEN: usize = 12;
const ERSPAN_FT_ETHERNET: u8 = 0;
const ERSPAN_FT_IP: u8 = 2;

/// The 12-byte ERSPAN type III header: version, VLAN, COS, session, a
/// timestamp, SGT, then P, frame type (5 bits), hardware id, D, granularity
/// and O (an 8-byte platform-specific subheader follows).
#[derive(Clone, Copy, Debug)]
pub struct ErspanIIIView<'a>(&'a [u8; ERSPAN_III_LEN]);

impl ErspanIIIView<'_> {
    #[inline]
    pub fn frame_type(&self) -> u8 {
        (self.0[10] >> 2) & 0x1f
    }
    #[inline]
    pub fn has_subheader(&self) -> bool {
        self.0[11] & 0x01 != 0
    }
}

/// Should a UDP datagram be looked at as a tunnel: a tunnel's port on
/// either side, or a payload that looks like Teredo on any port (as Zeek
/// detects it: relays use any port). Cheap enough for the fast path.
#[inline(always)]
pub fn worth_a_look(src_port: u16, dst_port: u16, payload: &[u8]) -> bool {
    is_udp_port(src_port) || is_udp_port(dst_port) || teredo_anywhere(payload)
}

/// The Teredo prefix, 2001:0::/32.
const TEREDO_PREFIX: [u8; 4] = [0x20, 0x01, 0, 0];

/// A UDP payload that is IPv6 (after Teredo's optional indicators) with a
/// Teredo address (2001:0::/32) as source or destination.
#[inline]
fn teredo_anywhere(payload: &[u8]) -> bool {
    match payload.first() {
        Some(b) if b >> 4 == 6 || *b == 0 => {}
        _ => return false,
    }
    let Some(t) = teredo(payload) else {
        return false;
    };
    t.inner.get(8..12) == Some(&TEREDO_PREFIX[..])
        || t.inner.get(24..28) == Some(&TEREDO_PREFIX[..])
}

/// A UDP payload that may be a tunnel: VXLAN, Geneve, GTP-U, Teredo, AYIYA
/// or GRE, by either port, when its header is well-formed, or Teredo on any
/// port (see [`worth_a_look`]). Only a proposal: the caller must see the
/// inner packet parse before taking it.
pub fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Encap<'_>> {
    let by = |p: u16| match p {
        port::VXLAN => vxlan(payload),
        port::GENEVE => geneve(payload),
        port::GTP_U => gtp_u(payload),
        port::TEREDO => teredo(payload),
        port::AYIYA => ayiya(payload),
        port::GRE_UDP => gre_as(payload, true).ok(),
        _ => None,
    };
    by(dst_port)
        .or_else(|| by(src_port))
        .or_else(|| teredo_anywhere(payload).then(|| teredo(payload)).flatten())
}

/// Ethertypes of frames a layer-2 tunnel carries besides IP: ARP, RARP,
/// EAPOL, LLDP, slow protocols (LACP), 802.1X pre-auth, IEEE 1588, MACsec.
const KNOWN_NON_IP: [u16; 8] = [
    0x0806, 0x8035, 0x888e, 0x88cc, 0x8809, 0x88c7, 0x88f7, 0x88e5,
];

/// Does a tunnel proposed by [`udp`] carry a well-formed Ethernet frame of
/// a known non-IP kind (ARP, LLDP, ...)? Then it is a tunnel even though
/// no connection comes out of it.
pub fn carries_known_frame(e: &Encap<'_>) -> bool {
    let ether_type = match e.payload {
        Payload::Ethernet => match e.inner.get(12..14) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => return false,
        },
        Payload::Ethertype(et) => et,
        _ => return false,
    };
    KNOWN_NON_IP.contains(&ether_type)
}

const VXLAN_LEN: usize = 8;
/// The I flag: the VNI is valid.
const VXLAN_I: u8 = 0x08;

/// VXLAN: flags (I set), 24 reserved bits, VNI, 8 reserved bits, then an
/// Ethernet frame.
fn vxlan(p: &[u8]) -> Option<Encap<'_>> {
    let (hdr, inner) = (p.get(..VXLAN_LEN)?, p.get(VXLAN_LEN..)?);
    (hdr[0] & VXLAN_I != 0).then_some(Encap {
        kind: TunnelKind::Vxlan,
        payload: Payload::Ethernet,
        inner,
        header_len: VXLAN_LEN as u32,
    })
}

/// Geneve: version 0 (2 bits) and option length (6 bits, in 4-byte words),
/// O and C flags, protocol type, VNI; options skipped.
fn geneve(p: &[u8]) -> Option<Encap<'_>> {
    let b0 = *p.first()?;
    if b0 >> 6 != 0 {
        return None;
    }
    let len = 8 + usize::from(b0 & 0x3f) * 4;
    let protocol = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]);
    let payload = match protocol {
        ETHERTYPE_TEB => Payload::Ethernet,
        et => Payload::Ethertype(et),
    };
    Some(Encap {
        kind: TunnelKind::Geneve,
        payload,
        inner: p.get(len..)?,
        header_len: len as u32,
    })
}

/// G-PDU: the GTP-U message that carries a user packet.
const GTP_G_PDU: u8 = 0xff;
/// E, S and PN flags: any of them adds sequence number, N-PDU number and
/// next extension header type (4 bytes).
const GTP_OPTIONAL: u8 = 0x07;
const GTP_E: u8 = 0x04;
/// Extension headers followed; a longer chain is garbage.
const GTP_MAX_EXTENSIONS: usize = 16;

/// GTPv1-U: version 1, protocol type 1 (GTP, not GTP'), a G-PDU; the
/// optional fields and the extension header chain (each: length in 4-byte
/// units, content, next type) are skipped; IPv4 or IPv6 follows.
fn gtp_u(p: &[u8]) -> Option<Encap<'_>> {
    let flags = *p.first()?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || *p.get(1)? != GTP_G_PDU {
        return None;
    }
    let mut len = 8;
    if flags & GTP_OPTIONAL != 0 {
        len += 4;
        let mut next = *p.get(len - 1)?;
        if flags & GTP_E == 0 {
            next = 0;
        }
        let mut n = 0;
        while next != 0 {
            n += 1;
            let words = usize::from(*p.get(len)?);
            if n > GTP_MAX_EXTENSIONS || words == 0 {
                return None;
            }
            len += words * 4;
            next = *p.get(len - 1)?;
        }
    }
    Some(Encap {
        kind: TunnelKind::GtpU,
        payload: Payload::Ip(IpHint::Any),
        inner: p.get(len..)?,
        header_len: len as u32,
    })
}

/// Teredo: an optional authentication indicator (0x0001, ID and
/// authentication lengths, client ID, authentication value, 8-byte nonce,
/// confirmation byte), an optional origin indication (0x0000, port,
/// address: 8 bytes), then IPv6.
fn teredo(p: &[u8]) -> Option<Encap<'_>> {
    let mut at = 0;
    if p.get(..2)? == [0, 1] {
        let (id, au) = (usize::from(*p.get(2)?), usize::from(*p.get(3)?));
        at += 4 + id + au + 8 + 1;
    }
    if p.get(at..at + 2)? == [0, 0] {
        at += 8;
    }
    let inner = p.get(at..)?;
    (inner.first()? >> 4 == 6).then_some(Encap {
        kind: TunnelKind::Teredo,
        payload: Payload::Ip(IpHint::V6),
        inner,
        header_len: at as u32,
    })
}

/// AYIYA "forward" operation carrying IPv4 or IPv6: identity length and
/// type, signature length and hash method, authentication method and
/// opcode, next header, epoch; identity (2^n bytes) and signature (4n
/// bytes) skipped.
fn ayiya(p: &[u8]) -> Option<Encap<'_>> {
    let hdr: &[u8; 8] = p.get(..8)?.try_into().ok()?;
    const FORWARD: u8 = 1;
    if hdr[2] & 0x0f != FORWARD {
        return None;
    }
    let hint = match hdr[3] {
        4 => IpHint::V4,
        41 => IpHint::V6,
        _ => return None,
    };
    let len = 8 + (1usize << (hdr[0] >> 4)) + usize::from(hdr[1] >> 4) * 4;
    Some(Encap {
        kind: TunnelKind::Ayiya,
        payload: Payload::Ip(hint),
        inner: p.get(len..)?,
        header_len: len as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gre_hdr(flags: u16, proto: u16, optional: usize) -> Vec<u8> {
        let mut v = flags.to_be_bytes().to_vec();
        v.extend_from_slice(&proto.to_be_bytes());
        v.extend(std::iter::repeat_n(0xee, optional * 4));
        v
    }

    #[test]
    fn gre_optional_fields() {
        let body = [0x45u8, 0];
        for (flags, words) in [
            (0u16, 0),
            (GRE_C, 1),
            (GRE_K, 1),
            (GRE_S, 1),
            (GRE_C | GRE_K | GRE_S, 3),
        ] {
            let mut p = gre_hdr(flags, 0x0800, words);
            p.extend_from_slice(&body);
            let e = gre(&p).unwrap();
            assert_eq!(e.kind, TunnelKind::Gre);
            assert_eq!(e.payload, Payload::Ethertype(0x0800));
            assert_eq!(e.inner, &body);
            assert_eq!(e.header_len as usize, 4 + 4 * words);
        }
        // routing, reserved bits, version 2: not followed
        assert_eq!(gre(&gre_hdr(GRE_R, 0x0800, 1)), Err(Skip::OtherProtocol));
        assert_eq!(gre(&gre_hdr(0x0008, 0x0800, 0)), Err(Skip::OtherProtocol));
        assert_eq!(gre(&gre_hdr(0x0002, 0x0800, 0)), Err(Skip::OtherProtocol));
        // key announced but cut
        assert_eq!(gre(&gre_hdr(GRE_K, 0x0800, 0)[..4]), Err(Skip::Malformed));
        assert_eq!(gre(&[0, 0, 8]), Err(Skip::Malformed));
        // transparent Ethernet bridging
        assert_eq!(
            gre(&gre_hdr(GRE_K, 0x6558, 1)).unwrap().payload,
            Payload::Ethernet
        );
    }

    #[test]
    fn pptp_enhanced_gre() {
        // version 1, K, S and A: 16 bytes
        let mut p = gre_hdr(GRE_K | GRE_S | GRE_A | 1, 0x880b, 3);
        assert_eq!(gre(&p), Err(Skip::OtherProtocol)); // an acknowledgment alone
        p.push(0x21);
        let e = gre(&p).unwrap();
        assert_eq!(
            (e.kind, e.payload, e.header_len),
            (TunnelKind::Pptp, Payload::Ppp, 16)
        );
        // enhanced GRE must carry PPP
        assert_eq!(
            gre(&gre_hdr(GRE_K | 1, 0x0800, 1)),
            Err(Skip::OtherProtocol)
        );
    }

    #[test]
    fn erspan_types() {
        let p = gre_hdr(0, 0x88be, 0);
        let e = gre(&p).unwrap();
        assert_eq!((e.kind, e.header_len), (TunnelKind::ErspanI, 4));
        let mut p = gre_hdr(GRE_S, 0x88be, 1);
        p.extend_from_slice(&[0x10, 0x01, 0, 0x05, 0, 0, 0, 0]);
        let e = gre(&p).unwrap();
        assert_eq!(
            (e.kind, e.payload, e.header_len),
            (TunnelKind::ErspanII, Payload::Ethernet, 16)
        );
        let mut p = gre_hdr(GRE_S, 0x22eb, 1);
        p.extend_from_slice(&[0x20, 0x01, 0, 0x05, 1, 2, 3, 4, 0, 0, 0, 0]);
        let e = gre(&p).unwrap();
        assert_eq!((e.kind, e.header_len), (TunnelKind::ErspanIII, 20));
        // O flag: platform-specific subheader
        p[8 + 11] = 0x01;
        p.extend_from_slice(&[0; 8]);
        assert_eq!(gre(&p).unwrap().header_len, 28);
        // frame type 2: IP
        p[8 + 10] = 2 << 2;
        assert_eq!(gre(&p).unwrap().payload, Payload::Ip(IpHint::Any));
        p[8 + 10] = 5 << 2;
        assert_eq!(gre(&p), Err(Skip::NotIp));
        assert_eq!(gre(&p[..14]), Err(Skip::Malformed));
    }

    #[test]
    fn udp_transports() {
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
        vx.extend_from_slice(&[1; 14]);
        let e = udp(50000, 4789, &vx).unwrap();
        assert_eq!(
            (e.kind, e.payload, e.inner.len()),
            (TunnelKind::Vxlan, Payload::Ethernet, 14)
        );
        // source port also counts; an I flag is needed
        assert!(udp(4789, 50000, &vx).is_some());
        vx[0] = 0;
        assert!(udp(50000, 4789, &vx).is_none());
        assert!(udp(50000, 4789, &[8, 0, 0]).is_none());

        // Geneve with 8 bytes of options, IPv6 inside
        let mut g = vec![0x02, 0, 0x86, 0xdd, 0, 0, 1, 0];
        g.extend_from_slice(&[0xaa; 8]);
        g.push(0x60);
        let e = udp(1, 6081, &g).unwrap();
        assert_eq!(
            (e.payload, e.inner, e.header_len),
            (Payload::Ethertype(0x86dd), &[0x60][..], 16)
        );
        g[0] = 0x42; // version 1
        assert!(udp(1, 6081, &g).is_none());

        // GTP-U: plain, with sequence number, with an extension header
        let mut plain = vec![0x30, 0xff, 0, 4, 0, 0, 0, 1, 0x45, 0, 0, 0];
        assert_eq!(udp(2152, 2152, &plain).unwrap().header_len, 8);
        plain[0] = 0x32;
        assert_eq!(udp(2152, 2152, &plain).unwrap().header_len, 12);
        let mut ext = vec![0x34, 0xff, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0x85];
        ext.extend_from_slice(&[1, 0x10, 0x09, 0]);
        ext.push(0x60);
        let e = udp(2152, 2152, &ext).unwrap();
        assert_eq!((e.header_len, e.inner), (16, &[0x60][..]));
        ext[12] = 0; // zero-length extension
        assert!(udp(2152, 2152, &ext).is_none());
        // echo request, GTP'
        assert!(udp(2152, 2152, &[0x30, 1, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(udp(2152, 2152, &[0x20, 0xff, 0, 0, 0, 0, 0, 0, 0x45]).is_none());

        // Teredo: bare, with origin, with authentication and origin
        assert_eq!(udp(3544, 1, &[0x60, 0]).unwrap().header_len, 0);
        let mut o = vec![0, 0, 0xaa, 0xbb, 1, 2, 3, 4, 0x60];
        assert_eq!(udp(3544, 1, &o).unwrap().header_len, 8);
        let mut a = vec![0, 1, 2, 1, 0xc1, 0xc2, 0xa1];
        a.extend_from_slice(&[9; 8]);
        a.push(0);
        a.append(&mut o);
        assert_eq!(udp(1, 3544, &a).unwrap().header_len, 16 + 8);
        assert!(udp(1, 3544, &[0x45, 0]).is_none());

        // AYIYA: identity 2^4 = 16 bytes, signature 5 * 4 = 20 bytes
        let mut y = vec![0x41, 0x52, 0x11, 41, 0, 0, 0, 0];
        y.extend_from_slice(&[0; 36]);
        y.push(0x60);
        let e = udp(5072, 5072, &y).unwrap();
        assert_eq!((e.header_len, e.payload), (44, Payload::Ip(IpHint::V6)));
        y[2] = 0x12; // not "forward"
        assert!(udp(5072, 5072, &y).is_none());

        // GRE over UDP
        let p = gre_hdr(GRE_K, 0x0800, 1);
        let e = udp(1, 4754, &p).unwrap();
        assert_eq!((e.kind, e.header_len), (TunnelKind::GreUdp, 8));
        assert!(udp(1, 4754, &gre_hdr(GRE_R, 0x0800, 1)).is_none());

        assert!(udp(53, 53, &vx).is_none());

        // Teredo on any port when an address is in 2001:0::/32
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 0, 59, 64];
        ip6.extend_from_slice(&[0x20, 0x01, 0, 0, 0x41, 0x37, 0x9e, 0x50]);
        ip6.extend_from_slice(&[0; 24]);
        assert!(worth_a_look(40000, 32900, &ip6));
        assert_eq!(udp(40000, 32900, &ip6).unwrap().kind, TunnelKind::Teredo);
        let origin = [&[0, 0, 1, 2, 3, 4, 5, 6][..], &ip6].concat();
        assert!(worth_a_look(40000, 32900, &origin));
        ip6[8] = 0x24;
        assert!(!worth_a_look(40000, 32900, &ip6));
        assert!(udp(40000, 32900, &ip6).is_none());
        assert!(!worth_a_look(40000, 53, &[0x61, 0x23, 1, 0]));
    }

    #[test]
    fn tunnel_set() {
        let mut t = Tunnels::NONE;
        assert!(t.is_empty());
        t.insert(TunnelKind::Vxlan);
        t.insert(TunnelKind::Gre);
        t.insert(TunnelKind::Gre);
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [TunnelKind::Gre, TunnelKind::Vxlan]
        );
        assert!(TunnelKind::ALL.len() <= 16);
        for p in [4789, 6081, 2152, 3544, 5072, 4754] {
            assert!(is_udp_port(p));
        }
        assert!(!is_udp_port(53));
    }
}
