//! Synthetic captures: pcap/pcapng writers, packet builders and traffic
//! scenarios, used by the fixture generator (`flowlint-gen`) and the
//! benchmarks.
//!
//! Three layers, each usable alone:
//! - [`writer`]: [`CaptureWriter`] with [`PcapWriter`] and [`PcapngWriter`];
//! - [`packet`]: [`PacketBuf`] builds link-layer frames (Ethernet with VLAN
//!   tags and FCS, raw IP, loopback, Linux cooked) carrying TCP, UDP, ICMP
//!   unreachable and IP fragments, without allocating per packet;
//! - [`scenario`]: [`Net`] writes whole connections (handshakes, failed
//!   attempts, resets, UDP exchanges) at chosen times;
//! - [`tunnel`]: [`tunnel::Encap`] records raw IP packets inside tunnels and
//!   mirror transports (GRE, ERSPAN, VXLAN, ..., 802.11, NFLOG);
//! - [`craft`]: packets and records with fields set to values no real stack
//!   sends, for hostile-input tests.

pub mod broadcast;
pub mod craft;
pub mod packet;
pub mod scenario;
pub mod tunnel;
pub mod writer;

pub use packet::{crc32, tcp_flags, Host, Link, PacketBuf, TcpSeg, Unreach, Vlan};
pub use scenario::{Flow, Net, SECOND};
pub use writer::{
    CaptureWriter, Endian, PcapOptions, PcapWriter, PcapngInterface, PcapngWriter, Tee,
};
