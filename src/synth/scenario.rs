//! Traffic scenarios: whole TCP connections and UDP exchanges, written at
//! chosen times through a [`CaptureWriter`].
//!
//! Every helper takes the time of its first packet and returns the time of
//! its last one, so a generator can lay traffic out on a timeline and know
//! exactly which attempts are older than the reply timeout when the capture
//! ends.

use std::io;

use super::packet::{tcp_flags as F, Host, Link, PacketBuf, TcpSeg, Unreach};
use super::writer::CaptureWriter;

/// One second in nanoseconds.
pub const SECOND: i64 = 1_000_000_000;

/// One direction of a connection: who opens it, from which port, to which
/// server port.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    pub client: Host,
    pub cport: u16,
    pub server: Host,
    pub sport: u16,
}

/// A writer plus the link it records on, with deterministic ephemeral ports
/// and sequence numbers.
pub struct Net<W: CaptureWriter> {
    pub writer: W,
    pub pkt: PacketBuf,
    iface: u32,
    link: Link,
    /// Time between a packet and its answer.
    pub rtt_ns: i64,
    next_port: u16,
    next_isn: u32,
}

impl<W: CaptureWriter> Net<W> {
    /// Records on interface 0 with link `link`.
    pub fn new(writer: W, link: Link) -> Self {
        Net {
            writer,
            pkt: PacketBuf::new(),
            iface: 0,
            link,
            rtt_ns: 2_000_000,
            next_port: 50_000,
            next_isn: 0x1000_0000,
        }
    }

    /// Later packets are recorded on `iface` with `link`.
    pub fn set_interface(&mut self, iface: u32, link: Link) {
        self.iface = iface;
        self.link = link;
    }

    /// The link packets are framed for.
    pub fn link(&self) -> Link {
        self.link
    }

    /// The next client port: 50000, 50001, … (wrapping within 50000–60999).
    pub fn ephemeral(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p >= 60_999 { 50_000 } else { p + 1 };
        p
    }

    /// A flow from `client` (on a fresh ephemeral port) to `server:port`.
    pub fn flow(&mut self, client: Host, server: Host, port: u16) -> Flow {
        Flow {
            client,
            cport: self.ephemeral(),
            server,
            sport: port,
        }
    }

    fn isn(&mut self) -> u32 {
        self.next_isn = self.next_isn.wrapping_add(0x0101_3571);
        self.next_isn
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.writer.flush()?;
        Ok(self.writer)
    }

    fn emit_frame(&mut self, ts: i64) -> io::Result<()> {
        let f = self.pkt.frame();
        self.writer.write_packet(self.iface, ts, f, f.len() as u32)
    }

    /// One TCP segment.
    pub fn tcp(&mut self, ts: i64, src: &Host, dst: &Host, seg: TcpSeg) -> io::Result<()> {
        let link = self.link;
        self.pkt.tcp(&link, src, dst, &seg);
        self.emit_frame(ts)
    }

    /// One UDP datagram.
    pub fn udp(
        &mut self,
        ts: i64,
        src: &Host,
        dst: &Host,
        sport: u16,
        dport: u16,
        len: usize,
    ) -> io::Result<()> {
        let link = self.link;
        self.pkt.udp(&link, src, dst, sport, dport, len);
        self.emit_frame(ts)
    }

    /// An ICMP(v6) unreachable quoting the previous packet.
    pub fn icmp_unreachable(
        &mut self,
        ts: i64,
        reporter: &Host,
        to: &Host,
        why: Unreach,
    ) -> io::Result<()> {
        let link = self.link;
        self.pkt.icmp_unreachable(&link, reporter, to, why);
        self.emit_frame(ts)
    }

    /// A fragmented UDP datagram, fragments `rtt/10` apart; returns the time
    /// of the last fragment.
    #[allow(clippy::too_many_arguments)]
    pub fn udp_fragmented(
        &mut self,
        ts: i64,
        src: &Host,
        dst: &Host,
        sport: u16,
        dport: u16,
        len: usize,
        frag_data: usize,
    ) -> io::Result<i64> {
        let link = self.link;
        let (iface, step) = (self.iface, self.rtt_ns / 10);
        let mut t = ts;
        let writer = &mut self.writer;
        self.pkt
            .udp_fragments(&link, src, dst, sport, dport, len, frag_data, |f| {
                let r = writer.write_packet(iface, t, f, f.len() as u32);
                t += step;
                r
            })?;
        Ok(t - step)
    }

    fn seg(f: &Flow, to_server: bool, seq: u32, ack: u32, flags: u8, len: usize) -> TcpSeg {
        let (sport, dport) = if to_server {
            (f.cport, f.sport)
        } else {
            (f.sport, f.cport)
        };
        TcpSeg {
            sport,
            dport,
            seq,
            ack,
            flags,
            window: 0,
            payload_len: len,
        }
    }

    /// Client → server segment.
    fn c2s(
        &mut self,
        ts: i64,
        f: &Flow,
        seq: u32,
        ack: u32,
        flags: u8,
        len: usize,
    ) -> io::Result<()> {
        self.tcp(
            ts,
            &f.client,
            &f.server,
            Self::seg(f, true, seq, ack, flags, len),
        )
    }

    /// Server → client segment.
    fn s2c(
        &mut self,
        ts: i64,
        f: &Flow,
        seq: u32,
        ack: u32,
        flags: u8,
        len: usize,
    ) -> io::Result<()> {
        self.tcp(
            ts,
            &f.server,
            &f.client,
            Self::seg(f, false, seq, ack, flags, len),
        )
    }

    /// Handshake; returns (time of the client's ACK, client seq, server seq)
    /// after it.
    fn handshake(&mut self, f: &Flow, t: i64) -> io::Result<(i64, u32, u32)> {
        let (c, s) = (self.isn(), self.isn());
        let r = self.rtt_ns;
        self.c2s(t, f, c, 0, F::SYN, 0)?;
        self.s2c(t + r, f, s, c + 1, F::SYN | F::ACK, 0)?;
        self.c2s(t + 2 * r, f, c + 1, s + 1, F::ACK, 0)?;
        Ok((t + 2 * r, c + 1, s + 1))
    }

    /// A complete connection: handshake, `request` bytes from the client,
    /// `response` bytes back, FIN from the client, FIN from the server, ACK.
    pub fn session(
        &mut self,
        f: &Flow,
        t: i64,
        request: usize,
        response: usize,
    ) -> io::Result<i64> {
        let r = self.rtt_ns;
        let (mut t, mut c, mut s) = self.handshake(f, t)?;
        t += r;
        self.c2s(t, f, c, s, F::PSH | F::ACK, request)?;
        c += request as u32;
        t += r;
        self.s2c(t, f, s, c, F::PSH | F::ACK, response)?;
        s += response as u32;
        t += r;
        self.c2s(t, f, c, s, F::FIN | F::ACK, 0)?;
        c += 1;
        t += r;
        self.s2c(t, f, s, c, F::FIN | F::ACK, 0)?;
        s += 1;
        t += r;
        self.c2s(t, f, c, s, F::ACK, 0)?;
        Ok(t)
    }

    /// A SYN and `retransmissions` more, 1 s, 2 s, 4 s, … apart (same
    /// sequence number), never answered. Returns the time of the last SYN.
    pub fn syn_no_answer(&mut self, f: &Flow, t: i64, retransmissions: u32) -> io::Result<i64> {
        let isn = self.isn();
        let mut ts = t;
        let mut gap = SECOND;
        self.c2s(ts, f, isn, 0, F::SYN, 0)?;
        for _ in 0..retransmissions {
            ts += gap;
            gap *= 2;
            self.c2s(ts, f, isn, 0, F::SYN, 0)?;
        }
        Ok(ts)
    }

    /// A SYN and `retransmissions` more (as [`Net::syn_no_answer`]), the
    /// last one answered: handshake, then FINs both ways. Returns the time
    /// of the last packet.
    pub fn syn_retried_then_answered(
        &mut self,
        f: &Flow,
        t: i64,
        retransmissions: u32,
    ) -> io::Result<i64> {
        let c = self.isn();
        let s = self.isn();
        let r = self.rtt_ns;
        let mut ts = t;
        let mut gap = SECOND;
        self.c2s(ts, f, c, 0, F::SYN, 0)?;
        for _ in 0..retransmissions {
            ts += gap;
            gap *= 2;
            self.c2s(ts, f, c, 0, F::SYN, 0)?;
        }
        self.s2c(ts + r, f, s, c + 1, F::SYN | F::ACK, 0)?;
        self.c2s(ts + 2 * r, f, c + 1, s + 1, F::ACK, 0)?;
        self.c2s(ts + 3 * r, f, c + 1, s + 1, F::FIN | F::ACK, 0)?;
        self.s2c(ts + 4 * r, f, s + 1, c + 2, F::FIN | F::ACK, 0)?;
        self.c2s(ts + 5 * r, f, c + 2, s + 2, F::ACK, 0)?;
        Ok(ts + 5 * r)
    }

    /// A SYN answered by RST+ACK carrying the server's address; with
    /// `rst_ttl` the RST has that TTL instead of the server's (a firewall
    /// forging it).
    pub fn syn_refused(&mut self, f: &Flow, t: i64, rst_ttl: Option<u8>) -> io::Result<i64> {
        let isn = self.isn();
        self.c2s(t, f, isn, 0, F::SYN, 0)?;
        let server = rst_ttl.map_or(f.server, |ttl| f.server.with_ttl(ttl));
        let seg = Self::seg(f, false, 0, isn + 1, F::RST | F::ACK, 0);
        self.tcp(t + self.rtt_ns, &server, &f.client, seg)?;
        Ok(t + self.rtt_ns)
    }

    /// A SYN answered by an ICMP(v6) unreachable from `reporter` (a firewall,
    /// a router, or the server itself).
    pub fn syn_unreachable(
        &mut self,
        f: &Flow,
        t: i64,
        reporter: &Host,
        why: Unreach,
    ) -> io::Result<i64> {
        let isn = self.isn();
        self.c2s(t, f, isn, 0, F::SYN, 0)?;
        self.icmp_unreachable(t + self.rtt_ns, reporter, &f.client, why)?;
        Ok(t + self.rtt_ns)
    }

    /// An established connection with some data, then reset by the server
    /// (`by_server`) or the client.
    pub fn established_then_reset(&mut self, f: &Flow, t: i64, by_server: bool) -> io::Result<i64> {
        let r = self.rtt_ns;
        let (mut t, mut c, s) = self.handshake(f, t)?;
        t += r;
        self.c2s(t, f, c, s, F::PSH | F::ACK, 120)?;
        c += 120;
        t += r;
        if by_server {
            self.s2c(t, f, s, c, F::RST | F::ACK, 0)?;
        } else {
            self.c2s(t, f, c, s, F::RST | F::ACK, 0)?;
        }
        Ok(t)
    }

    /// A connection whose opening was not captured: `rounds` request/
    /// response pairs with mid-stream sequence numbers, never closed.
    pub fn midstream(&mut self, f: &Flow, t: i64, rounds: u32) -> io::Result<i64> {
        let r = self.rtt_ns;
        let (mut c, mut s) = (
            self.isn().wrapping_add(77_777),
            self.isn().wrapping_add(99_999),
        );
        let mut t = t;
        for i in 0..rounds {
            if i > 0 {
                t += r;
            }
            self.c2s(t, f, c, s, F::PSH | F::ACK, 200)?;
            c = c.wrapping_add(200);
            t += r;
            self.s2c(t, f, s, c, F::PSH | F::ACK, 600)?;
            s = s.wrapping_add(600);
        }
        Ok(t)
    }

    /// Only the client's half was captured (asymmetric routing): SYN, then
    /// the ACK that completes the handshake and data.
    pub fn one_sided(&mut self, f: &Flow, t: i64) -> io::Result<i64> {
        let r = self.rtt_ns;
        let c = self.isn();
        let s = self.isn();
        self.c2s(t, f, c, 0, F::SYN, 0)?;
        self.c2s(t + 2 * r, f, c + 1, s + 1, F::ACK, 0)?;
        self.c2s(t + 3 * r, f, c + 1, s + 1, F::PSH | F::ACK, 300)?;
        self.c2s(t + 5 * r, f, c + 301, s + 801, F::ACK, 0)?;
        Ok(t + 5 * r)
    }

    /// `rounds` UDP request/response pairs between the same two sockets,
    /// one second apart.
    pub fn udp_exchange(&mut self, f: &Flow, t: i64, rounds: u32) -> io::Result<i64> {
        let mut t = t;
        for i in 0..rounds {
            if i > 0 {
                t += SECOND - self.rtt_ns;
            }
            self.udp(t, &f.client, &f.server, f.cport, f.sport, 60)?;
            t += self.rtt_ns;
            self.udp(t, &f.server, &f.client, f.sport, f.cport, 180)?;
        }
        Ok(t)
    }

    /// `count` UDP datagrams to the server, `gap_ns` apart, never answered.
    pub fn udp_unanswered(&mut self, f: &Flow, t: i64, count: u32, gap_ns: i64) -> io::Result<i64> {
        let mut t = t;
        for i in 0..count {
            if i > 0 {
                t += gap_ns;
            }
            self.udp(t, &f.client, &f.server, f.cport, f.sport, 50)?;
        }
        Ok(t)
    }

    /// A UDP datagram answered by an ICMP(v6) unreachable from `reporter`.
    pub fn udp_unreachable(
        &mut self,
        f: &Flow,
        t: i64,
        reporter: &Host,
        why: Unreach,
    ) -> io::Result<i64> {
        self.udp(t, &f.client, &f.server, f.cport, f.sport, 50)?;
        self.icmp_unreachable(t + self.rtt_ns, reporter, &f.client, why)?;
        Ok(t + self.rtt_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{PcapOptions, PcapWriter};

    fn count_records(b: &[u8]) -> usize {
        let mut off = 24;
        let mut n = 0;
        while off + 16 <= b.len() {
            let incl = u32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap()) as usize;
            off += 16 + incl;
            n += 1;
        }
        n
    }

    #[test]
    fn scenario_packet_counts_and_times() {
        let w = PcapWriter::new(Vec::new(), PcapOptions::new(101)).unwrap();
        let mut net = Net::new(w, Link::Raw);
        let a = Host::windows("192.0.2.1");
        let b = Host::windows("192.0.2.2");
        let f = net.flow(a, b, 31000);
        assert_eq!(f.cport, 50_000);
        assert_eq!(net.session(&f, 0, 10, 10).unwrap(), 7 * net.rtt_ns);
        assert_eq!(net.syn_no_answer(&f, 0, 2).unwrap(), 3 * SECOND);
        net.syn_refused(&f, 0, Some(250)).unwrap();
        net.udp_exchange(&f, 0, 2).unwrap();
        let b = net.finish().unwrap().into_inner().unwrap();
        assert_eq!(count_records(&b), 8 + 3 + 2 + 4);
    }
}
