//! Link layers: from the bytes of a record and its `LINKTYPE_` value to the
//! first byte of the IP header.
//!
//! Owns Ethernet II (any stack of 802.1Q / 802.1ad / 0x9100 tags, PPPoE
//! session, MPLS, 802.1ah PBB, Cisco FabricPath), raw IP (101, and 12/14
//! where they mean raw IP), the IPv4 and IPv6 link types, BSD NULL and LOOP,
//! Linux SLL and SLL2, and the dispatch to PPP (9, 50, Cisco HDLC 104),
//! 802.11 (105, radiotap 127) and NFLOG (239), each in its own module. What
//! comes out is a suffix of the record plus a hint of which IP version the
//! link layer announced (the IP layer has the last word, see [`IpHint`]) and
//! the frame's destination class ([`Net`]).
//!
//! Nothing here bounds the IP bytes by a link-layer length: a trailing
//! Ethernet FCS or padding is left in place and cut by the IP length fields.

use super::{nflog, ppp, wifi, LinkDest, Skip};
use etherparse::{EtherType, Ethernet2HeaderSlice, SingleVlanHeader, SingleVlanHeaderSlice};

/// `LINKTYPE_` values (<https://www.tcpdump.org/linktypes.html>) decoded here.
pub mod linktype {
    /// BSD loopback: 4-byte address family in the byte order of the writer.
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    /// `DLT_RAW` as most BSDs number it; on OpenBSD the same 12 is `DLT_LOOP`.
    pub const RAW_BSD: u32 = 12;
    /// `DLT_RAW` as OpenBSD numbers it.
    pub const RAW_OPENBSD: u32 = 14;
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: 4-byte address family, network byte order.
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
    /// PPP (RFC 1661), with or without the HDLC address and control bytes.
    pub const PPP: u32 = 9;
    /// PPP in HDLC-like framing (RFC 1662), or Cisco HDLC.
    pub const PPP_HDLC: u32 = 50;
    /// Cisco HDLC.
    pub const C_HDLC: u32 = 104;
    /// IEEE 802.11 frames without a radio header.
    pub const IEEE802_11: u32 = 105;
    /// IEEE 802.11 frames after a radiotap header.
    pub const IEEE802_11_RADIOTAP: u32 = 127;
    /// Linux netfilter log messages.
    pub const NFLOG: u32 = 239;
}

/// Which IP version the link layer announced.
///
/// Wireshark decodes an "IPv4" frame (ethertype 0x0800, link type 228, ...)
/// by its version nibble, so an IPv6 packet there is still IPv6; an "IPv6"
/// frame must hold IPv6. The IP layer follows the same rule so that counts
/// agree with what engineers see in Wireshark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpHint {
    /// Announced IPv4 (or by version nibble, see above).
    V4,
    /// Announced IPv6: anything else is malformed.
    V6,
    /// The link layer says nothing (raw IP, MPLS): the version nibble decides.
    Any,
}

/// Upper bound on stacked VLAN tags: real networks use one or two; a longer
/// chain is garbage, and the bound keeps the loop short on hostile input.
const MAX_VLAN_TAGS: usize = 8;
/// Upper bound on MPLS labels before bottom-of-stack.
const MAX_MPLS_LABELS: usize = 16;

const ETHERTYPE_IPV4: u16 = EtherType::IPV4.0;
const ETHERTYPE_IPV6: u16 = EtherType::IPV6.0;
const ETHERTYPE_VLAN: u16 = EtherType::VLAN_TAGGED_FRAME.0;
const ETHERTYPE_QINQ: u16 = EtherType::PROVIDER_BRIDGING.0;
/// Pre-standard QinQ outer tag, still emitted by some switches.
const ETHERTYPE_VLAN_9100: u16 = EtherType::VLAN_DOUBLE_TAGGED_FRAME.0;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_MPLS_UNICAST: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// 802.1ah Provider Backbone Bridging: an I-TAG, then the customer frame.
const ETHERTYPE_PBB: u16 = 0x88e7;
/// Cisco FabricPath: a 16-byte outer header (addresses, 0x8903, FTag/TTL)
/// before the whole customer Ethernet frame.
const ETHERTYPE_FABRICPATH: u16 = 0x8903;
const FABRICPATH_LEN: usize = 16;
/// PBB I-TAG (priority, DEI, UCA, I-SID) and the customer addresses.
const PBB_ITAG_LEN: usize = 4 + 12;

const PPP_IPV4: u16 = ppp::PROTO_IPV4;
const PPP_IPV6: u16 = ppp::PROTO_IPV6;

/// `AF_INET` is 2 everywhere; `AF_INET6` differs by OS.
const AF_INET: u32 = 2;
/// `AF_INET6` on NetBSD/OpenBSD (24), FreeBSD/DragonFly (28), macOS (30).
const AF_INET6: [u32; 3] = [24, 28, 30];

/// `ARPHRD_NETLINK`: in SLL/SLL2 the protocol field then holds a netlink
/// family, not an ethertype.
const ARPHRD_NETLINK: u16 = 824;

const SLL_LEN: usize = 16;
const SLL2_LEN: usize = 20;

/// What a link layer leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net<'a> {
    /// The IP version the link layer announced.
    pub hint: IpHint,
    /// The record from the IP header on.
    pub bytes: &'a [u8],
    /// The frame's destination class: the Ethernet destination address
    /// (before any VLAN tag, so tagged frames too; of the customer frame
    /// inside PBB or FabricPath), the 802.11 destination address, or the
    /// packet type of a Linux cooked capture (1 broadcast, 2 multicast).
    /// Other link types say nothing: unicast.
    pub dest: LinkDest,
    /// The frame went through 802.1ah Provider Backbone Bridging.
    pub pbb: bool,
}

impl<'a> Net<'a> {
    #[inline]
    fn ip(hint: IpHint, bytes: &'a [u8], dest: LinkDest) -> Self {
        Net {
            hint,
            bytes,
            dest,
            pbb: false,
        }
    }
}

/// Strips the link layer; returns the announced IP version and the bytes
/// from the IP header on.
#[cfg(test)]
pub fn network(linktype: u32, data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    frame(linktype, data).map(|n| (n.hint, n.bytes))
}

/// Strips the link layer: the IP bytes, the announced version, the
/// destination class (see [`destination`]) and whether PBB was crossed.
#[inline]
pub fn frame(linktype: u32, data: &[u8]) -> Result<Net<'_>, Skip> {
    match linktype {
        linktype::ETHERNET => ethernet(data),
        linktype::RAW => Ok(Net::ip(IpHint::Any, data, LinkDest::Unicast)),
        linktype::RAW_BSD | linktype::RAW_OPENBSD => unicast(raw_or_loop(data)),
        linktype::IPV4 => Ok(Net::ip(IpHint::V4, data, LinkDest::Unicast)),
        linktype::IPV6 => Ok(Net::ip(IpHint::V6, data, LinkDest::Unicast)),
        linktype::NULL => unicast(null(data)),
        linktype::LOOP => unicast(loopback(data)),
        linktype::LINUX_SLL => sll(data),
        linktype::LINUX_SLL2 => sll2(data),
        linktype::PPP => unicast(ppp::frame(data)),
        linktype::PPP_HDLC => unicast(ppp::hdlc(data)),
        linktype::C_HDLC => unicast(ppp::cisco_hdlc(data)),
        linktype::IEEE802_11 => wifi::dot11(data),
        linktype::IEEE802_11_RADIOTAP => wifi::radiotap(data),
        linktype::NFLOG => unicast(nflog::packet(data)),
        _ => Err(Skip::UnsupportedLinktype),
    }
}

/// A link layer that says nothing about the destination.
#[inline]
fn unicast(r: Result<(IpHint, &[u8]), Skip>) -> Result<Net<'_>, Skip> {
    r.map(|(h, b)| Net::ip(h, b, LinkDest::Unicast))
}

/// An Ethernet II frame (also inside tunnels: VXLAN, ERSPAN, GRE 0x6558).
#[inline]
pub fn ethernet(data: &[u8]) -> Result<Net<'_>, Skip> {
    let eth = Ethernet2HeaderSlice::from_slice(data).map_err(|_| Skip::Malformed)?;
    let rest = data.get(eth.slice().len()..).ok_or(Skip::Malformed)?;
    let dest = data
        .get(..6)
        .map_or(LinkDest::Unicast, ethernet_destination);
    match eth.ether_type().0 {
        ETHERTYPE_FABRICPATH => fabricpath(data),
        et => by_ethertype(et, rest, dest),
    }
}

/// Cisco FabricPath: the customer frame follows the 16-byte outer header.
/// Not nested (a FabricPath frame inside one is garbage).
#[cold]
fn fabricpath(data: &[u8]) -> Result<Net<'_>, Skip> {
    let inner = data.get(FABRICPATH_LEN..).ok_or(Skip::Malformed)?;
    let eth = Ethernet2HeaderSlice::from_slice(inner).map_err(|_| Skip::Malformed)?;
    let rest = inner.get(eth.slice().len()..).ok_or(Skip::Malformed)?;
    match eth.ether_type().0 {
        ETHERTYPE_FABRICPATH => Err(Skip::Malformed),
        et => by_ethertype(
            et,
            rest,
            inner
                .get(..6)
                .map_or(LinkDest::Unicast, ethernet_destination),
        ),
    }
}

/// Follows an ethertype through VLAN tags, PBB, PPPoE and MPLS down to IP.
/// Shared by Ethernet, SLL and SLL2 (whose protocol fields are ethertypes),
/// 802.11 (after LLC/SNAP) and the tunnels that name their payload by an
/// ethertype (GRE, Geneve). `dest` is the frame's destination class; PBB
/// replaces it with the customer frame's.
#[inline]
pub fn by_ethertype(
    mut ether_type: u16,
    mut rest: &[u8],
    mut dest: LinkDest,
) -> Result<Net<'_>, Skip> {
    let mut tags = 0;
    let mut pbb = false;
    loop {
        match ether_type {
            ETHERTYPE_IPV4 => {
                return Ok(Net {
                    hint: IpHint::V4,
                    bytes: rest,
                    dest,
                    pbb,
                })
            }
            ETHERTYPE_IPV6 => {
                return Ok(Net {
                    hint: IpHint::V6,
                    bytes: rest,
                    dest,
                    pbb,
                })
            }
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_VLAN_9100 | ETHERTYPE_PBB => {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Err(Skip::Malformed);
                }
                if ether_type == ETHERTYPE_PBB {
                    // I-TAG, customer destination and source, customer ethertype
                    let (itag, after) = split::<{ PBB_ITAG_LEN + 2 }>(rest)?;
                    pbb = true;
                    dest = ethernet_destination(&itag[4..10]);
                    ether_type = u16::from_be_bytes([itag[PBB_ITAG_LEN], itag[PBB_ITAG_LEN + 1]]);
                    rest = after;
                    continue;
                }
                let tag = SingleVlanHeaderSlice::from_slice(rest).map_err(|_| Skip::Malformed)?;
                ether_type = tag.ether_type().0;
                rest = rest.get(SingleVlanHeader::LEN..).ok_or(Skip::Malformed)?;
            }
            ETHERTYPE_PPPOE_SESSION => {
                let (hint, bytes) = pppoe_session(rest)?;
                return Ok(Net {
                    hint,
                    bytes,
                    dest,
                    pbb,
                });
            }
            ETHERTYPE_MPLS_UNICAST | ETHERTYPE_MPLS_MULTICAST => {
                let (hint, bytes) = mpls(rest)?;
                return Ok(Net {
                    hint,
                    bytes,
                    dest,
                    pbb,
                });
            }
            _ => return Err(Skip::NotIp),
        }
    }
}

/// PPPoE session stage (RFC 2516): 6-byte PPPoE header, then a 2-byte PPP
/// protocol field (never compressed in PPPoE).
fn pppoe_session(rest: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    let (hdr, ip) = split::<8>(rest)?;
    // version 1, type 1; anything else is not a session frame we understand
    if hdr[0] != 0x11 {
        return Err(Skip::Malformed);
    }
    match u16::from_be_bytes([hdr[6], hdr[7]]) {
        PPP_IPV4 => Ok((IpHint::V4, ip)),
        PPP_IPV6 => Ok((IpHint::V6, ip)),
        // LCP, IPCP, CHAP, ...
        _ => Err(Skip::NotIp),
    }
}

/// MPLS label stack (RFC 3032): 4-byte entries, bit 0 of the third byte marks
/// the bottom. The payload type is not signalled; an IP version nibble is the
/// usual guess (a pseudowire control word starts with 0, Ethernet-over-MPLS
/// with a MAC address: neither is taken for IP).
fn mpls(mut rest: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    for _ in 0..MAX_MPLS_LABELS {
        let (entry, after) = split::<4>(rest)?;
        rest = after;
        if entry[2] & 0x01 != 0 {
            return match rest.first().map(|b| b >> 4) {
                Some(4) => Ok((IpHint::V4, rest)),
                Some(6) => Ok((IpHint::V6, rest)),
                Some(_) => Err(Skip::NotIp),
                None => Err(Skip::Malformed),
            };
        }
    }
    Err(Skip::Malformed)
}

/// BSD NULL: the family is in the writer's byte order, which the reader does
/// not know (a capture from a big-endian host read on a little-endian one).
/// Both readings are tried; the valid families do not collide across orders.
fn null(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    let (hdr, ip) = split::<4>(data)?;
    let raw = *hdr;
    match family(u32::from_le_bytes(raw)).or_else(|| family(u32::from_be_bytes(raw))) {
        Some(hint) => Ok((hint, ip)),
        None => cisco_hdlc(raw, ip),
    }
}

/// Some BSD NULL captures of serial links hold Cisco HDLC frames instead of a
/// family: address (0x0f unicast, 0x8f broadcast), control 0, ethertype.
/// Wireshark decodes them, so they count here too.
fn cisco_hdlc(hdr: [u8; 4], ip: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    match (hdr[0], hdr[1], u16::from_be_bytes([hdr[2], hdr[3]])) {
        (0x0f | 0x8f, 0, ETHERTYPE_IPV4) => Ok((IpHint::V4, ip)),
        (0x0f | 0x8f, 0, ETHERTYPE_IPV6) => Ok((IpHint::V6, ip)),
        _ => Err(Skip::NotIp),
    }
}

/// LOOP: like NULL, but always network byte order.
fn loopback(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    let (hdr, ip) = split::<4>(data)?;
    match family(u32::from_be_bytes(*hdr)) {
        Some(hint) => Ok((hint, ip)),
        None => Err(Skip::NotIp),
    }
}

fn family(af: u32) -> Option<IpHint> {
    if af == AF_INET {
        Some(IpHint::V4)
    } else if AF_INET6.contains(&af) {
        Some(IpHint::V6)
    } else {
        None
    }
}

/// Link types 12 and 14 are raw IP on most systems, but OpenBSD writes its
/// `DLT_LOOP` (4-byte family) as 12. An IP header never starts with a zero
/// byte while a LOOP family always does, so the first byte tells them apart.
fn raw_or_loop(data: &[u8]) -> Result<(IpHint, &[u8]), Skip> {
    match data.first() {
        Some(0) => loopback(data),
        _ => Ok((IpHint::Any, data)),
    }
}

/// Linux cooked capture v1: packet type, ARPHRD type, address length,
/// 8 address bytes, then the protocol (an ethertype) at offset 14.
///
/// Hand-written rather than `etherparse::LinuxSllHeaderSlice`, which rejects
/// packet types and ARPHRD/protocol combinations it does not know; only the
/// protocol field matters here.
fn sll(data: &[u8]) -> Result<Net<'_>, Skip> {
    let (hdr, rest) = split::<SLL_LEN>(data)?;
    if u16::from_be_bytes([hdr[2], hdr[3]]) == ARPHRD_NETLINK {
        return Err(Skip::NotIp);
    }
    by_ethertype(
        u16::from_be_bytes([hdr[14], hdr[15]]),
        rest,
        sll_packet_type(hdr[1]),
    )
}

/// Linux cooked capture v2 (not in etherparse): protocol (ethertype) at 0,
/// reserved, interface index, ARPHRD type at 8, packet type, address length,
/// 8 address bytes.
fn sll2(data: &[u8]) -> Result<Net<'_>, Skip> {
    let (hdr, rest) = split::<SLL2_LEN>(data)?;
    if u16::from_be_bytes([hdr[8], hdr[9]]) == ARPHRD_NETLINK {
        return Err(Skip::NotIp);
    }
    by_ethertype(
        u16::from_be_bytes([hdr[0], hdr[1]]),
        rest,
        sll_packet_type(hdr[10]),
    )
}

/// An Ethernet destination address: the group bit (least significant bit of
/// the first byte) marks multicast, all ones broadcast. The unicast case —
/// nearly every frame — is one bit test; the rest is out of line.
#[inline(always)]
pub fn ethernet_destination(mac: &[u8]) -> LinkDest {
    match mac.first() {
        Some(b) if b & 1 != 0 => group_destination(mac),
        _ => LinkDest::Unicast,
    }
}

/// A destination with the group bit set: broadcast or multicast.
#[cold]
#[inline(never)]
pub fn group_destination(mac: &[u8]) -> LinkDest {
    if mac.iter().all(|&b| b == 0xff) {
        LinkDest::Broadcast
    } else {
        LinkDest::Multicast
    }
}

/// `PACKET_BROADCAST` and `PACKET_MULTICAST` of `<linux/if_packet.h>` (the
/// SLL packet type is a 16-bit field whose high byte is 0).
fn sll_packet_type(t: u8) -> LinkDest {
    match t {
        1 => LinkDest::Broadcast,
        2 => LinkDest::Multicast,
        _ => LinkDest::Unicast,
    }
}

/// Splits off a fixed-size header as an array (so that field offsets are
/// checked at compile time), or reports it cut short.
#[inline]
pub(super) fn split<const N: usize>(data: &[u8]) -> Result<(&[u8; N], &[u8]), Skip> {
    match (data.get(..N), data.get(N..)) {
        (Some(head), Some(rest)) => Ok((head.try_into().map_err(|_| Skip::Malformed)?, rest)),
        _ => Err(Skip::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP4: [u8; 2] = [0x45, 0x00];
    const IP6: [u8; 2] = [0x60, 0x00];

    fn eth(ether_type: u16, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0xaa; 12];
        v.extend_from_slice(&ether_type.to_be_bytes());
        v.extend_from_slice(rest);
        v
    }

    fn tag(vid: u16, inner: u16) -> Vec<u8> {
        let mut v = vid.to_be_bytes().to_vec();
        v.extend_from_slice(&inner.to_be_bytes());
        v
    }

    #[test]
    fn ethernet_plain() {
        let f = eth(0x0800, &IP4);
        assert_eq!(network(1, &f), Ok((IpHint::V4, &IP4[..])));
        let f = eth(0x86dd, &IP6);
        assert_eq!(network(1, &f), Ok((IpHint::V6, &IP6[..])));
        assert_eq!(network(1, &eth(0x0806, &[0; 28])), Err(Skip::NotIp));
        // 802.3 length field + LLC
        assert_eq!(network(1, &eth(0x0026, &[0x42; 38])), Err(Skip::NotIp));
        assert_eq!(network(1, &[0; 13]), Err(Skip::Malformed));
    }

    #[test]
    fn vlan_stacks() {
        for outer in [0x8100u16, 0x88a8, 0x9100] {
            let mut body = tag(10, 0x8100);
            body.extend(tag(20, 0x0800));
            body.extend_from_slice(&IP4);
            assert_eq!(network(1, &eth(outer, &body)), Ok((IpHint::V4, &IP4[..])));
        }
        // eight tags are fine, nine are not
        let mut body = Vec::new();
        for _ in 0..7 {
            body.extend(tag(1, 0x8100));
        }
        body.extend(tag(1, 0x86dd));
        body.extend_from_slice(&IP6);
        assert_eq!(network(1, &eth(0x8100, &body)), Ok((IpHint::V6, &IP6[..])));
        let mut nine = tag(1, 0x8100);
        nine.extend(body);
        assert_eq!(network(1, &eth(0x8100, &nine)), Err(Skip::Malformed));
        // tag cut short
        assert_eq!(network(1, &eth(0x8100, &[0, 1, 8])), Err(Skip::Malformed));
    }

    #[test]
    fn pppoe() {
        let mut body = vec![0x11, 0x00, 0x12, 0x34, 0x00, 0x16, 0x00, 0x21];
        body.extend_from_slice(&IP4);
        assert_eq!(network(1, &eth(0x8864, &body)), Ok((IpHint::V4, &IP4[..])));
        body[7] = 0x57;
        assert_eq!(network(1, &eth(0x8864, &body)), Ok((IpHint::V6, &IP4[..])));
        // LCP
        body[6] = 0xc0;
        assert_eq!(network(1, &eth(0x8864, &body)), Err(Skip::NotIp));
        assert_eq!(
            network(1, &eth(0x8864, &[0x11, 0, 0])),
            Err(Skip::Malformed)
        );
    }

    #[test]
    fn mpls_stack() {
        let mut body = vec![0x00, 0x01, 0x40, 0x40, 0x00, 0x02, 0x01, 0x40];
        body.extend_from_slice(&IP6);
        assert_eq!(network(1, &eth(0x8847, &body)), Ok((IpHint::V6, &IP6[..])));
        // behind a VLAN tag
        let mut tagged = tag(5, 0x8847);
        tagged.extend_from_slice(&body);
        assert_eq!(
            network(1, &eth(0x8100, &tagged)),
            Ok((IpHint::V6, &IP6[..]))
        );
        // pseudowire control word: not IP
        let pw = [0x00, 0x01, 0x41, 0x40, 0x00, 0x00, 0x00, 0x00];
        assert_eq!(network(1, &eth(0x8847, &pw)), Err(Skip::NotIp));
        // no bottom of stack
        assert_eq!(network(1, &eth(0x8847, &[0u8; 200])), Err(Skip::Malformed));
        assert_eq!(
            network(1, &eth(0x8847, &[0, 1, 1, 64])),
            Err(Skip::Malformed)
        );
    }

    #[test]
    fn null_both_byte_orders() {
        let le = [2, 0, 0, 0, 0x45];
        let be = [0, 0, 0, 2, 0x45];
        assert_eq!(network(0, &le), Ok((IpHint::V4, &le[4..])));
        assert_eq!(network(0, &be), Ok((IpHint::V4, &be[4..])));
        for af in [24u32, 28, 30] {
            let mut le = af.to_le_bytes().to_vec();
            le.push(0x60);
            assert_eq!(network(0, &le), Ok((IpHint::V6, &le[4..])));
            let mut be = af.to_be_bytes().to_vec();
            be.push(0x60);
            assert_eq!(network(0, &be), Ok((IpHint::V6, &be[4..])));
        }
        assert_eq!(network(0, &[7, 0, 0, 0, 1]), Err(Skip::NotIp));
        let hdlc = [0x0f, 0, 0x08, 0, 0x45];
        assert_eq!(network(0, &hdlc), Ok((IpHint::V4, &hdlc[4..])));
        let hdlc6 = [0x8f, 0, 0x86, 0xdd, 0x60];
        assert_eq!(network(0, &hdlc6), Ok((IpHint::V6, &hdlc6[4..])));
        assert_eq!(network(0, &[0x0f, 0, 0x80, 0x35, 0]), Err(Skip::NotIp));
        assert_eq!(network(0, &[2, 0, 0]), Err(Skip::Malformed));
    }

    #[test]
    fn loop_is_big_endian() {
        let be = [0, 0, 0, 2, 0x45];
        assert_eq!(network(108, &be), Ok((IpHint::V4, &be[4..])));
        let be6 = [0, 0, 0, 30, 0x60];
        assert_eq!(network(108, &be6), Ok((IpHint::V6, &be6[4..])));
        assert_eq!(network(108, &[2, 0, 0, 0, 0x45]), Err(Skip::NotIp));
    }

    #[test]
    fn raw_link_types() {
        for lt in [101, 12, 14] {
            assert_eq!(network(lt, &IP4), Ok((IpHint::Any, &IP4[..])));
            assert_eq!(network(lt, &IP6), Ok((IpHint::Any, &IP6[..])));
        }
        // OpenBSD DLT_LOOP written as 12
        let lo = [0, 0, 0, 24, 0x60];
        assert_eq!(network(12, &lo), Ok((IpHint::V6, &lo[4..])));
        assert_eq!(network(228, &IP4), Ok((IpHint::V4, &IP4[..])));
        assert_eq!(network(229, &IP6), Ok((IpHint::V6, &IP6[..])));
        assert_eq!(network(147, &IP4), Err(Skip::UnsupportedLinktype));
    }

    #[test]
    fn linux_sll() {
        let mut f = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        f.extend_from_slice(&IP4);
        assert_eq!(network(113, &f), Ok((IpHint::V4, &IP4[..])));
        // VLAN tag left in by the kernel
        let mut v = vec![0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x81, 0x00];
        v.extend(tag(7, 0x86dd));
        v.extend_from_slice(&IP6);
        assert_eq!(network(113, &v), Ok((IpHint::V6, &IP6[..])));
        // netlink
        let mut n = f.clone();
        n[2..4].copy_from_slice(&824u16.to_be_bytes());
        assert_eq!(network(113, &n), Err(Skip::NotIp));
        assert_eq!(network(113, &f[..15]), Err(Skip::Malformed));
    }

    #[test]
    fn linux_sll2() {
        let mut f = vec![
            0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        f.extend_from_slice(&IP6);
        assert_eq!(network(276, &f), Ok((IpHint::V6, &IP6[..])));
        f[0..2].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(network(276, &f), Err(Skip::NotIp));
        assert_eq!(network(276, &f[..19]), Err(Skip::Malformed));
    }
}
