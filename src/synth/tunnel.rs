//! Tunnels and mirror transports for the fixtures: [`Encap`] is a
//! [`CaptureWriter`] that takes the raw IP packets a [`Net`] writes (link
//! [`Link::Raw`]) and records each inside the encapsulation of the moment
//! ([`Wrap`]), on the pcapng interface of its link type.
//!
//! The outer headers are fixed: tunnel endpoints 203.0.113.1 → 203.0.113.2
//! (2001:db8:ffff::1 → ::2 for Geneve over IPv6), outer TTL 255; IPv4
//! header checksums are filled in, UDP checksums left 0 (flowlint checks
//! none). Each wrap allocates a little per packet: fixtures are small.
//!
//! [`Net`]: super::Net
//! [`Link::Raw`]: super::Link::Raw

use super::craft;
use super::writer::CaptureWriter;
use std::io;

/// One encapsulation of an IP packet, with the link type it is recorded on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrap {
    /// Plain Ethernet: no tunnel.
    Plain,
    /// Ethernet, IPv4, GRE with key and sequence number, IP.
    Gre,
    /// Ethernet, IPv4, GRE 0x88BE (no sequence number), Ethernet, IP.
    ErspanI,
    /// Ethernet, IPv4, GRE 0x88BE with sequence number, ERSPAN II, Ethernet + 802.1Q, IP.
    ErspanII,
    /// Ethernet, IPv4, GRE 0x22EB, ERSPAN III with the optional subheader, Ethernet, IP.
    ErspanIII,
    /// Ethernet, IPv4, enhanced GRE (key, sequence, acknowledgment), PPP, IP.
    Pptp,
    /// Ethernet, IPv4, UDP 4789, VXLAN, Ethernet, IP.
    Vxlan,
    /// Ethernet, IPv6, UDP 6081, Geneve with 8 bytes of options, Ethernet, IP.
    Geneve6,
    /// Ethernet, IPv4, UDP 2152, GTP-U with a PDU session container, IP.
    GtpU,
    /// Ethernet, IPv4, UDP 3544, Teredo origin indication, IPv6.
    Teredo,
    /// Ethernet, IPv4, UDP 5072, AYIYA, IP.
    Ayiya,
    /// Ethernet, IPv4, UDP 4754, GRE, IP.
    GreUdp,
    /// Ethernet, IPv4, GRE, IPv4, UDP 4789, VXLAN, Ethernet, IP: two tunnels.
    VxlanInGre,
    /// Ethernet, 802.1ad tag, 802.1ah I-TAG, customer Ethernet, IP.
    Pbb,
    /// Link type 9: PPP with address and control, IP.
    Ppp,
    /// Link type 50: PPP in HDLC-like framing with a compressed protocol field.
    PppHdlc,
    /// Link type 105: 802.11 QoS data from the AP, LLC/SNAP, IP.
    Dot11,
    /// Link type 127: radiotap (TSFT, flags, rate), 802.11 data, LLC/SNAP, IP.
    Radiotap,
    /// Link type 239: NFLOG with a prefix TLV, then the payload TLV.
    Nflog,
    /// Ethernet and five nested GRE tunnels: one level too deep.
    TooDeep,
}

impl Wrap {
    /// The link type the wrapped frame is recorded with.
    pub fn linktype(self) -> u32 {
        match self {
            Wrap::Ppp => 9,
            Wrap::PppHdlc => 50,
            Wrap::Dot11 => 105,
            Wrap::Radiotap => 127,
            Wrap::Nflog => 239,
            _ => 1,
        }
    }
}

const TEP_A: [u8; 4] = [203, 0, 113, 1];
const TEP_B: [u8; 4] = [203, 0, 113, 2];
const TEP6_A: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];
const TEP6_B: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
];
const MAC_A: [u8; 6] = [0x02, 0xee, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [0x02, 0xee, 0, 0, 0, 2];
const PROTO_GRE: u8 = 47;

fn ethertype_of(ip: &[u8]) -> u16 {
    if ip.first().is_some_and(|b| b >> 4 == 6) {
        0x86dd
    } else {
        0x0800
    }
}

fn ethernet(dst: [u8; 6], src: [u8; 6], ether_type: u16, payload: &[u8]) -> Vec<u8> {
    [&dst[..], &src, &ether_type.to_be_bytes(), payload].concat()
}

fn outer4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = craft::ipv4(TEP_A, TEP_B, proto, payload, craft::V4Opts::default());
    p[8] = 255;
    p[10..12].copy_from_slice(&[0, 0]);
    let sum = craft::checksum(&p[..20]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p
}

fn udp4(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = craft::udp(sport, dport, 0, Some((8 + payload.len()) as u16));
    u.extend_from_slice(payload);
    outer4(craft::PROTO_UDP, &u)
}

fn gre(flags: u16, proto: u16, fields: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut g = flags.to_be_bytes().to_vec();
    g.extend_from_slice(&proto.to_be_bytes());
    for f in fields {
        g.extend_from_slice(&f.to_be_bytes());
    }
    g.extend_from_slice(payload);
    g
}

fn on_ethernet(ip: &[u8]) -> Vec<u8> {
    ethernet(MAC_B, MAC_A, 0x0800, ip)
}

/// The customer frame a layer-2 tunnel carries.
fn customer(ip: &[u8]) -> Vec<u8> {
    ethernet(
        [0x02, 0xcc, 0, 0, 0, 2],
        [0x02, 0xcc, 0, 0, 0, 1],
        ethertype_of(ip),
        ip,
    )
}

/// Wraps the IP packet `ip` in `w`; `seq` numbers the packet (GRE and GTP
/// sequence numbers).
pub fn wrap(w: Wrap, ip: &[u8], seq: u32) -> Vec<u8> {
    let et = ethertype_of(ip);
    match w {
        Wrap::Plain => ethernet(MAC_B, MAC_A, et, ip),
        Wrap::Gre => on_ethernet(&outer4(
            PROTO_GRE,
            &gre(0x3000, et, &[0x0000_2a2a, seq], ip),
        )),
        Wrap::ErspanI => on_ethernet(&outer4(PROTO_GRE, &gre(0, 0x88be, &[], &customer(ip)))),
        Wrap::ErspanII => {
            let tagged = ethernet(
                [0x02, 0xcc, 0, 0, 0, 2],
                [0x02, 0xcc, 0, 0, 0, 1],
                0x8100,
                &[&[0x00, 0x64][..], &et.to_be_bytes(), ip].concat(),
            );
            // version 1, VLAN 100, session 5, index 0
            let body = [&[0x10, 0x64, 0x00, 0x05, 0, 0, 0, 0][..], &tagged].concat();
            on_ethernet(&outer4(PROTO_GRE, &gre(0x1000, 0x88be, &[seq], &body)))
        }
        Wrap::ErspanIII => {
            // version 2, VLAN 100, session 5, timestamp, SGT, frame type 0, O flag
            let hdr = [0x20, 0x64, 0x00, 0x05, 0, 0, 0x30, 0x39, 0, 0, 0, 0x01];
            let body = [&hdr[..], &[0; 8], &customer(ip)].concat();
            on_ethernet(&outer4(PROTO_GRE, &gre(0x1000, 0x22eb, &[seq], &body)))
        }
        Wrap::Pptp => {
            let ppp = [&[0xff, 0x03, 0x00, 0x21][..], ip].concat();
            let key = ((ppp.len() as u32) << 16) | 0x0c2b;
            on_ethernet(&outer4(
                PROTO_GRE,
                &gre(0x3081, 0x880b, &[key, seq, seq], &ppp),
            ))
        }
        Wrap::Vxlan => vxlan(ip),
        Wrap::Geneve6 => {
            let mut body = vec![0x02, 0, 0x65, 0x58, 0, 0, 0x2a, 0];
            body.extend_from_slice(&[0x01, 0x02, 0x80, 0x01, 0, 0, 0, 7]); // one option
            body.extend_from_slice(&customer(ip));
            let mut u = craft::udp(50_606, 6081, 0, Some((8 + body.len()) as u16));
            u.extend_from_slice(&body);
            let p = craft::ipv6(TEP6_A, TEP6_B, craft::PROTO_UDP, &u, 0);
            ethernet(MAC_B, MAC_A, 0x86dd, &p)
        }
        Wrap::GtpU => {
            let ext = [1u8, 0x10, 0x09, 0];
            let len = (4 + ext.len() + ip.len()) as u16;
            let mut g = vec![0x36, 0xff];
            g.extend_from_slice(&len.to_be_bytes());
            g.extend_from_slice(&0x0000_1f2eu32.to_be_bytes());
            g.extend_from_slice(&(seq as u16).to_be_bytes());
            g.extend_from_slice(&[0, 0x85]);
            g.extend_from_slice(&ext);
            g.extend_from_slice(ip);
            on_ethernet(&udp4(2152, 2152, &g))
        }
        Wrap::Teredo => {
            let origin = [0u8, 0, 0xf2, 0x27, 0x3f, 0xff, 0xfd, 0xfe];
            on_ethernet(&udp4(3544, 50_544, &[&origin[..], ip].concat()))
        }
        Wrap::Ayiya => {
            let next = if et == 0x86dd { 41 } else { 4 };
            // identity 2^4 = 16 bytes, signature 5 words (SHA-1), forward
            let mut a = vec![0x41, 0x52, 0x11, next, 0x6a, 0, 0, 0];
            a.extend_from_slice(&[0x11; 16]);
            a.extend_from_slice(&[0x22; 20]);
            a.extend_from_slice(ip);
            on_ethernet(&udp4(5072, 5072, &a))
        }
        Wrap::GreUdp => on_ethernet(&udp4(50_754, 4754, &gre(0x2000, et, &[7], ip))),
        Wrap::VxlanInGre => {
            let inner_frame = vxlan(ip);
            let inner_ip = &inner_frame[14..];
            on_ethernet(&outer4(PROTO_GRE, &gre(0, 0x0800, &[], inner_ip)))
        }
        Wrap::Pbb => {
            let mut f = ethernet(MAC_B, MAC_A, 0x88a8, &[0, 0x0a, 0x88, 0xe7]);
            f.extend_from_slice(&[0, 0x01, 0x00, 0x2a]); // I-TAG, I-SID 42
            f.extend_from_slice(&customer(ip));
            f
        }
        Wrap::Ppp => [&[0xff, 0x03, 0x00, 0x21][..], ip].concat(),
        Wrap::PppHdlc => [&[0xff, 0x03, 0x21][..], ip].concat(),
        Wrap::Dot11 => dot11(ip),
        Wrap::Radiotap => {
            let mut r = vec![0, 0, 0, 0, 0x07, 0, 0, 0];
            r.extend_from_slice(&[0; 8]); // TSFT
            r.extend_from_slice(&[0x00, 0x0c]); // flags, rate
            let n = r.len() as u16;
            r[2..4].copy_from_slice(&n.to_le_bytes());
            r.extend_from_slice(&dot11(ip));
            r
        }
        Wrap::Nflog => {
            let mut n = vec![2, 0, 0, 1];
            n.extend_from_slice(&[8, 0, 1, 0, 0x08, 0x00, 1, 0]); // packet header
            n.extend_from_slice(&[12, 0, 10, 0]);
            n.extend_from_slice(b"tunnel\0\0");
            n.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
            n.extend_from_slice(&[9, 0]);
            n.extend_from_slice(ip);
            while n.len() % 4 != 0 {
                n.push(0);
            }
            n
        }
        Wrap::TooDeep => {
            let mut p = ip.to_vec();
            for _ in 0..5 {
                let et = ethertype_of(&p);
                p = outer4(PROTO_GRE, &gre(0, et, &[], &p));
            }
            on_ethernet(&p)
        }
    }
}

fn vxlan(ip: &[u8]) -> Vec<u8> {
    let body = [&[0x08, 0, 0, 0, 0, 0x0f, 0xa0, 0][..], &customer(ip)].concat();
    on_ethernet(&udp4(50_789, 4789, &body))
}

/// 802.11 QoS data, from the DS (an access point sending to a station).
fn dot11(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0x88, 0x02, 0x2c, 0x00];
    f.extend_from_slice(&[0x02, 0xcc, 0, 0, 0, 2]); // address 1: the station
    f.extend_from_slice(&[0x02, 0xaa, 0, 0, 0, 1]); // address 2: the AP
    f.extend_from_slice(&[0x02, 0xcc, 0, 0, 0, 1]); // address 3: the source
    f.extend_from_slice(&[0x10, 0x00, 0x00, 0x00]); // sequence control, QoS control
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
    f.extend_from_slice(&ethertype_of(ip).to_be_bytes());
    f.extend_from_slice(ip);
    f
}

/// Records raw IP packets wrapped in `mode`, on the interface whose link
/// type `interfaces` lists for it.
pub struct Encap<W: CaptureWriter> {
    pub inner: W,
    pub mode: Wrap,
    /// Link type of each interface of `inner`.
    pub interfaces: Vec<u32>,
    /// Packets written in each mode, in the order the modes were first used.
    pub written: Vec<(Wrap, u64)>,
    seq: u32,
}

impl<W: CaptureWriter> Encap<W> {
    pub fn new(inner: W, interfaces: Vec<u32>) -> Self {
        Encap {
            inner,
            mode: Wrap::Gre,
            interfaces,
            written: Vec::new(),
            seq: 0,
        }
    }
}

impl<W: CaptureWriter> CaptureWriter for Encap<W> {
    fn write_packet(
        &mut self,
        _iface: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        self.seq += 1;
        match self.written.iter_mut().find(|(w, _)| *w == self.mode) {
            Some((_, n)) => *n += 1,
            None => self.written.push((self.mode, 1)),
        }
        let frame = wrap(self.mode, data, self.seq);
        let lt = self.mode.linktype();
        let iface = self
            .interfaces
            .iter()
            .position(|&l| l == lt)
            .ok_or_else(|| io::Error::other(format!("no interface of link type {lt}")))?;
        let extra = orig_len.saturating_sub(data.len() as u32);
        self.inner
            .write_packet(iface as u32, ts_ns, &frame, frame.len() as u32 + extra)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_with, Skip, TunnelKind, Tunnels};

    #[test]
    fn every_wrap_decodes_to_the_inner_packet() {
        let ip = craft::ipv4(
            [192, 0, 2, 101],
            [192, 0, 2, 10],
            craft::PROTO_TCP,
            &craft::tcp(50000, 31000, 1, 0, 0x02, 5, 0),
            craft::V4Opts::default(),
        );
        let ip6 = craft::ipv6(
            [0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ],
            craft::PROTO_TCP,
            &craft::tcp(50000, 31000, 1, 0, 0x02, 5, 0),
            0,
        );
        use Wrap::*;
        for (w, kinds) in [
            (Gre, &[TunnelKind::Gre][..]),
            (ErspanI, &[TunnelKind::ErspanI]),
            (ErspanII, &[TunnelKind::ErspanII]),
            (ErspanIII, &[TunnelKind::ErspanIII]),
            (Pptp, &[TunnelKind::Pptp]),
            (Vxlan, &[TunnelKind::Vxlan]),
            (Geneve6, &[TunnelKind::Geneve]),
            (GtpU, &[TunnelKind::GtpU]),
            (Teredo, &[TunnelKind::Teredo]),
            (Ayiya, &[TunnelKind::Ayiya]),
            (GreUdp, &[TunnelKind::GreUdp]),
            (VxlanInGre, &[TunnelKind::Gre, TunnelKind::Vxlan]),
            (Pbb, &[TunnelKind::Pbb]),
            (Ppp, &[]),
            (PppHdlc, &[]),
            (Dot11, &[]),
            (Radiotap, &[]),
            (Nflog, &[]),
        ] {
            let inner = if w == Teredo { &ip6 } else { &ip };
            let f = wrap(w, inner, 1);
            let mut t = Tunnels::NONE;
            let m = decode_with(w.linktype(), &f, 0, f.len() as u32, &mut t)
                .unwrap_or_else(|e| panic!("{w:?}: {e:?}"));
            assert_eq!((m.src_port, m.dst_port), (50000, 31000), "{w:?}");
            assert_eq!(t.iter().collect::<Vec<_>>(), kinds, "{w:?}");
        }
        let f = wrap(TooDeep, &ip, 1);
        assert_eq!(
            decode_with(1, &f, 0, f.len() as u32, &mut Tunnels::default()),
            Err(Skip::TunnelTooDeep)
        );
    }
}
