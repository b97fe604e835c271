//! Broadcast and multicast datagrams for fixtures: group destinations with
//! the link-layer address a real stack would use, and Linux cooked captures
//! whose packet type says broadcast or multicast.

use std::io;
use std::net::IpAddr;

use super::packet::{Host, Link};
use super::scenario::Net;
use super::writer::CaptureWriter;

/// The Ethernet broadcast address.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];

/// The Ethernet address an IP multicast group maps to (RFC 1112: 01:00:5e
/// and the low 23 bits; RFC 2464: 33:33 and the low 32 bits).
pub fn multicast_mac(group: IpAddr) -> [u8; 6] {
    match group {
        IpAddr::V4(a) => {
            let o = a.octets();
            [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
        }
        IpAddr::V6(a) => {
            let o = a.octets();
            [0x33, 0x33, o[12], o[13], o[14], o[15]]
        }
    }
}

/// A broadcast destination (`255.255.255.255` or a subnet's broadcast
/// address): sent to the Ethernet broadcast address.
pub fn broadcast(addr: &str) -> Host {
    Host {
        mac: BROADCAST_MAC,
        ..Host::parse(addr, 255)
    }
}

/// A multicast group: sent to its mapped Ethernet address.
pub fn multicast(addr: &str) -> Host {
    let h = Host::parse(addr, 255);
    Host {
        mac: multicast_mac(h.addr),
        ..h
    }
}

/// The Linux cooked packet type a receiver records for a frame to `mac`:
/// 1 broadcast, 2 multicast, 0 to this host.
pub fn sll_packet_type(mac: [u8; 6]) -> u8 {
    if mac == BROADCAST_MAC {
        1
    } else if mac[0] & 1 != 0 {
        2
    } else {
        0
    }
}

/// Sets the packet type of an SLL (offset 0, 16 bits) or SLL2 (offset 10)
/// frame; other links are left as they are.
pub fn set_sll_packet_type(link: Link, frame: &mut [u8], packet_type: u8) {
    match link {
        Link::Sll if frame.len() >= 2 => frame[..2].copy_from_slice(&[0, packet_type]),
        Link::Sll2 if frame.len() > 10 => frame[10] = packet_type,
        _ => {}
    }
}

/// One UDP datagram to a group on interface `iface`, with the link layer
/// saying so: the destination's MAC on Ethernet, the packet type on SLL and
/// SLL2 (raw IP says nothing).
#[allow(clippy::too_many_arguments)]
pub fn group_udp<W: CaptureWriter>(
    net: &mut Net<W>,
    iface: u32,
    ts: i64,
    src: &Host,
    dst: &Host,
    sport: u16,
    dport: u16,
    len: usize,
) -> io::Result<()> {
    let link = net.link();
    let mut frame = net.pkt.udp(&link, src, dst, sport, dport, len).to_vec();
    set_sll_packet_type(link, &mut frame, sll_packet_type(dst.mac));
    let n = frame.len() as u32;
    net.writer.write_packet(iface, ts, &frame, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, LinkDest};
    use crate::synth::{PcapOptions, PcapWriter};

    #[test]
    fn group_frames_decode_with_their_link_class() {
        let src = Host::windows("192.168.10.31");
        for (link, dst, want) in [
            (
                Link::ETHERNET,
                broadcast("192.168.10.255"),
                LinkDest::Broadcast,
            ),
            (Link::Sll, multicast("224.0.0.251"), LinkDest::Multicast),
            (
                Link::Sll2,
                broadcast("255.255.255.255"),
                LinkDest::Broadcast,
            ),
            (Link::Raw, broadcast("192.168.10.255"), LinkDest::Unicast),
        ] {
            let w = PcapWriter::new(Vec::new(), PcapOptions::new(link.linktype())).unwrap();
            let mut net = Net::new(w, link);
            let mut frame = net.pkt.udp(&link, &src, &dst, 137, 137, 50).to_vec();
            set_sll_packet_type(link, &mut frame, sll_packet_type(dst.mac));
            let m = decode(link.linktype(), &frame, 0, frame.len() as u32).unwrap();
            assert_eq!((m.dst, m.link_dest), (dst.addr, want), "{link:?}");
            group_udp(&mut net, 0, 0, &src, &dst, 137, 137, 50).unwrap();
        }
        assert_eq!(
            multicast_mac("ff02::1:3".parse().unwrap()),
            [0x33, 0x33, 0, 1, 0, 3]
        );
        assert_eq!(
            multicast_mac("239.255.255.250".parse().unwrap()),
            [1, 0, 0x5e, 0x7f, 0xff, 0xfa]
        );
    }
}
