//! Prepared packets for the flow and classification benchmarks: an
//! enterprise-like stream of TCP sessions (handshake, data, FINs), refused
//! and unanswered attempts and UDP exchanges, many connections open at once,
//! timestamps advancing 10 µs per packet so sweeps run as in a real capture.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flowlint::decode::{PacketKind, PacketMeta, TcpFlags as F, Transport};

/// SplitMix64, so every run sees the same packets.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

const PORTS: [u16; 8] = [31000, 31001, 9352, 445, 443, 80, 22, 161];

fn host(rng: &mut Rng, server: bool, v6: bool) -> IpAddr {
    let n = if server {
        rng.below(200)
    } else {
        rng.below(5000)
    } as u32
        + 1;
    if v6 {
        IpAddr::V6(Ipv6Addr::new(
            0xfd00,
            0,
            0,
            0,
            0,
            0,
            u16::from(server),
            n as u16,
        ))
    } else {
        let base = if server { 0x0a00_0000 } else { 0x0a10_0000 };
        IpAddr::V4(Ipv4Addr::from(base + n))
    }
}

/// `packets` packets over `concurrent` connections open at once.
pub fn packets(packets: usize, concurrent: usize) -> Vec<PacketMeta> {
    struct Slot {
        client: IpAddr,
        server: IpAddr,
        cport: u16,
        sport: u16,
        udp: bool,
        step: u32,
        len: u32,
    }
    let mut rng = Rng(1);
    let mut next_port = 49_200u16;
    let mut new_slot = |rng: &mut Rng| {
        next_port = if next_port >= 65_000 {
            49_200
        } else {
            next_port + 1
        };
        let v6 = rng.below(10) == 0;
        let sport = PORTS[rng.below(PORTS.len() as u64) as usize];
        Slot {
            client: host(rng, false, v6),
            server: host(rng, true, v6),
            cport: next_port,
            sport,
            udp: sport == 161,
            step: 0,
            len: 4 + rng.below(12) as u32,
        }
    };
    let mut slots: Vec<Slot> = (0..concurrent).map(|_| new_slot(&mut rng)).collect();
    let mut out = Vec::with_capacity(packets);
    let mut ts = 1_795_168_800_000_000_000i64;
    while out.len() < packets {
        let k = rng.below(slots.len() as u64) as usize;
        let s = &mut slots[k];
        let i = s.step;
        s.step += 1;
        let (to_server, flags, payload) = if s.udp {
            (i % 2 == 0, F::NONE, 100)
        } else {
            match i {
                0 => (true, F::SYN, 0),
                1 => (false, F::SYN | F::ACK, 0),
                2 => (true, F::ACK, 0),
                _ if i < 3 + s.len => (i % 2 == 1, F::PSH | F::ACK, 500),
                _ if i == 3 + s.len => (true, F::FIN | F::ACK, 0),
                _ => (false, F::FIN | F::ACK, 0),
            }
        };
        let (src, dst, src_port, dst_port) = if to_server {
            (s.client, s.server, s.cport, s.sport)
        } else {
            (s.server, s.client, s.sport, s.cport)
        };
        ts += 10_000;
        out.push(PacketMeta {
            ts_ns: ts,
            kind: PacketKind::Transport,
            transport: if s.udp {
                Transport::Udp
            } else {
                Transport::Tcp
            },
            src,
            dst,
            src_port,
            dst_port,
            tcp_flags: flags,
            seq: 1000 + i,
            ack: 2000 + i,
            payload_len: payload,
            wire_len: payload + 54,
            ttl: 64,
            link_dest: Default::default(),
            tunnels: Default::default(),
        });
        if s.step > 4 + s.len {
            slots[k] = new_slot(&mut rng);
        }
    }
    out
}
