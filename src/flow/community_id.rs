//! The Community ID v1 flow hash, as Zeek, Suricata and Wireshark compute it:
//! the same connection gets the same `1:…` string in every tool, so a
//! flowlint finding can be found in their logs.
//!
//! The hashed bytes are the seed (16 bits, big-endian), the two addresses and
//! then the protocol number, a zero byte and the two ports (big-endian), with
//! the endpoints ordered so that the smaller (address, port) comes first: both
//! directions of a connection hash alike. The digest is SHA-1, written in
//! standard base64 with padding.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::decode::Transport;

/// A connection's Community ID (v1): the SHA-1 digest, written when shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommunityId([u8; 20]);

impl CommunityId {
    /// The ID of the connection between two sockets; which one is the client
    /// does not matter. `seed` is 0 unless the other tools were given one.
    pub fn new(transport: Transport, a: (IpAddr, u16), b: (IpAddr, u16), seed: u16) -> CommunityId {
        let key = |(ip, port): (IpAddr, u16)| (octets(ip), port);
        let (lo, hi) = if key(a) <= key(b) { (a, b) } else { (b, a) };
        let protocol = match transport {
            Transport::Tcp => 6u8,
            Transport::Udp => 17,
        };
        let mut hash = Sha1::new();
        hash.update(seed.to_be_bytes());
        hash.update(octets(lo.0).as_slice());
        hash.update(octets(hi.0).as_slice());
        hash.update([protocol, 0]);
        hash.update(lo.1.to_be_bytes());
        hash.update(hi.1.to_be_bytes());
        CommunityId(hash.finalize().into())
    }
}

/// The address's bytes in network order (4 or 16 of them).
fn octets(ip: IpAddr) -> smallvec::SmallVec<[u8; 16]> {
    match ip {
        IpAddr::V4(v4) => v4.octets().as_slice().into(),
        IpAddr::V6(v6) => v6.octets().as_slice().into(),
    }
}

impl fmt::Display for CommunityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; 28];
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(self.0, &mut text)
            .map_err(|_| fmt::Error)?;
        f.write_str("1:")?;
        f.write_str(std::str::from_utf8(&text[..n]).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(t: Transport, a: &str, ap: u16, b: &str, bp: u16) -> String {
        let a = (a.parse().unwrap(), ap);
        let b = (b.parse().unwrap(), bp);
        let one = CommunityId::new(t, a, b, 0);
        assert_eq!(
            one,
            CommunityId::new(t, b, a, 0),
            "direction must not matter"
        );
        one.to_string()
    }

    #[test]
    fn matches_the_specification_examples() {
        // The test vectors of the Community ID specification (baseline
        // outputs for its tcp.pcap, udp.pcap and ipv6.pcap, seed 0).
        assert_eq!(
            id(
                Transport::Tcp,
                "128.232.110.120",
                34855,
                "66.35.250.204",
                80
            ),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            id(Transport::Udp, "192.168.1.52", 54585, "8.8.8.8", 53),
            "1:d/FP5EW3wiY1vCndhwleRRKHowQ="
        );
    }

    #[test]
    fn the_seed_changes_the_hash() {
        let a = ("10.0.0.1".parse().unwrap(), 1000);
        let b = ("10.0.0.2".parse().unwrap(), 80);
        assert_ne!(
            CommunityId::new(Transport::Tcp, a, b, 0),
            CommunityId::new(Transport::Tcp, a, b, 1)
        );
    }
}
