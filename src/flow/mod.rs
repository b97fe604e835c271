//! Connections: the flow table that turns a stream of decoded packets into
//! decided connections ([`ConnRecord`]).
//!
//! Owns: the connection key, which side is the client, when a packet starts a
//! new connection on the same key (port reuse, idle gaps), recognising the same
//! packet seen by two taps, and evicting connections whose fate is settled so
//! memory follows the number of concurrent connections, not the capture's size.
//!
//! Every decision here depends only on the packets and their timestamps, never
//! on when a sweep happens to run, so results are the same for any batching
//! or thread count.

mod community_id;
mod conn;
mod table;
mod zeek;

pub use community_id::CommunityId;
pub use conn::{ConnRecord, State, ZeekState};
pub use zeek::ZeekRecord;

use std::net::IpAddr;

use crate::catalog::PortBitmap;
use crate::decode::{PacketKind, PacketMeta, Transport};
use conn::Conn;
use table::ConnSlots;

const SECOND: i64 = 1_000_000_000;
/// A step back in time this large resets the table's clock.
const CLOCK_RESET_NS: i64 = 3600 * SECOND;

/// Timeouts and limits of the flow table.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// How long an attempt may go unanswered before it failed.
    pub reply_timeout_ns: i64,
    /// A UDP exchange ends after this much silence (SPEC: 60 s).
    pub udp_idle_ns: i64,
    /// A TCP attempt nobody answered is over after this much silence.
    pub attempt_idle_ns: i64,
    /// A closed TCP connection (FINs or RST) is forgotten after this much
    /// silence (Zeek's `tcp_close_delay` is 5 s too): long enough for the last
    /// ACK and retransmitted FINs, short enough that busy links do not keep
    /// every finished connection in memory.
    pub closed_idle_ns: i64,
    /// An open TCP connection is considered gone after this much silence.
    pub open_idle_ns: i64,
    /// Packets from different captures this close in time may be the same packet.
    pub dedup_window_ns: i64,
    /// Several captures are merged: look for packets seen twice.
    pub dedup: bool,
    /// At most this many connections are tracked at once; beyond, the least
    /// recently active are decided early.
    pub max_connections: usize,
    /// Keep Zeek's view of every connection (for JSONL), with these likely
    /// server ports; `None`: not kept.
    pub zeek_ports: Option<std::sync::Arc<PortBitmap>>,
}

impl FlowConfig {
    pub fn new(reply_timeout_ns: i64) -> FlowConfig {
        let reply = reply_timeout_ns.max(0);
        FlowConfig {
            reply_timeout_ns: reply,
            udp_idle_ns: (60 * SECOND).max(reply.saturating_mul(2)),
            attempt_idle_ns: (120 * SECOND).max(reply.saturating_mul(2)),
            closed_idle_ns: (5 * SECOND).max(reply.saturating_mul(2)),
            open_idle_ns: 3600 * SECOND,
            dedup_window_ns: SECOND,
            dedup: false,
            max_connections: 1_000_000,
            zeek_ports: None,
        }
    }

    /// Keeps Zeek's view of every connection (what JSONL writes).
    pub fn with_zeek_view(mut self) -> FlowConfig {
        self.zeek_ports = Some(std::sync::Arc::new(zeek::likely_server_ports()));
        self
    }
}

/// The key of a connection: its two sockets, unordered, and the transport,
/// packed into five words with its hash computed once. Why: the table is the
/// hot path, and an `IpAddr`-based key costs a branchy derived `Hash`/`Eq`
/// over two enums at every lookup; here equality is five word compares. The
/// hash routes a packet to its shard (on the reader thread); the shard's table
/// keeps only the words (`Sockets`), recomputes the same hash at a lookup (a
/// few multiplications, cheaper than 8 more bytes in every entry), and reads
/// the connection's addresses and ports from them rather than storing them
/// again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnKey {
    hash: u64,
    sockets: Sockets,
}

/// The two sockets of a connection as the flow table stores them: the lower
/// socket's address (high, low 64 bits), the higher socket's address, then
/// both ports, the address family and the transport. An IPv4 address is kept
/// as its 32-bit value; the family tells it from the IPv4-mapped IPv6 address
/// (a different socket, as `IpAddr` says).
#[derive(Clone, Copy, Debug, Default, Eq)]
pub(crate) struct Sockets([u64; 5]);

/// Word by word without branches: the derived (array) equality becomes a
/// `memcmp` call, the costliest instruction of the table's lookup.
impl PartialEq for Sockets {
    #[inline(always)]
    fn eq(&self, other: &Sockets) -> bool {
        let [a0, a1, a2, a3, a4] = self.0;
        let [b0, b1, b2, b3, b4] = other.0;
        ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2) | (a3 ^ b3) | (a4 ^ b4)) == 0
    }
}

/// One side of a [`Sockets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Lo,
    Hi,
}

#[inline(always)]
fn addr_bits(ip: &IpAddr) -> (u128, u64) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(*a)), 0),
        IpAddr::V6(a) => (u128::from(*a), 1),
    }
}

/// The two sockets of a connection as a table key: what the flow table and
/// a connection need of one. Two kinds: [`Sockets`] (any family) and the
/// IPv4-only [`Sockets4`], which takes 16 bytes instead of 40 in each of the
/// table's entries (most connections are IPv4).
pub(crate) trait SocketPair: Copy + Eq + Default {
    /// The hash of the same key as a [`Sockets`] ([`ConnKey`]'s hash).
    fn key_hash(&self) -> u64;
    /// Is `(ip, port)` the socket on `side`? (Both sockets are of one family.)
    fn is(&self, side: Side, ip: &IpAddr, port: u16) -> bool;
    /// The socket on `side`.
    fn socket(&self, side: Side) -> (IpAddr, u16);
}

impl Sockets {
    /// FxHash-style folding, then a final avalanche so that both the shard
    /// choice (high bits) and the table (low bits for the slot, middle bits
    /// for the tag) see well-mixed bits.
    #[inline]
    fn hash(&self) -> u64 {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut h = 0u64;
        for w in self.0 {
            h = (h ^ w).wrapping_mul(K).rotate_left(26);
        }
        h ^= h >> 32;
        h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 29;
        h
    }

    #[inline]
    fn is_v6(&self) -> bool {
        (self.0[4] >> 8) & 1 != 0
    }

    #[inline]
    fn addr_bits(&self, side: Side) -> u128 {
        let i = match side {
            Side::Lo => 0,
            Side::Hi => 2,
        };
        u128::from(self.0[i]) << 64 | u128::from(self.0[i + 1])
    }
}

/// A port from the last word of a key (the same in both kinds).
#[inline]
fn port_of(last: u64, side: Side) -> u16 {
    match side {
        Side::Lo => (last >> 48) as u16,
        Side::Hi => (last >> 32) as u16,
    }
}

impl SocketPair for Sockets {
    #[inline]
    fn key_hash(&self) -> u64 {
        self.hash()
    }

    #[inline]
    fn is(&self, side: Side, ip: &IpAddr, port: u16) -> bool {
        port_of(self.0[4], side) == port && self.addr_bits(side) == addr_bits(ip).0
    }

    fn socket(&self, side: Side) -> (IpAddr, u16) {
        let bits = self.addr_bits(side);
        let ip = if self.is_v6() {
            IpAddr::from(std::net::Ipv6Addr::from(bits))
        } else {
            IpAddr::from(std::net::Ipv4Addr::from(bits as u32))
        };
        (ip, port_of(self.0[4], side))
    }
}

/// An IPv4 connection's [`Sockets`] in two words: both addresses (lower
/// socket's in the high half), then the last word of [`Sockets`] unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sockets4 {
    addrs: u64,
    last: u64,
}

impl Sockets4 {
    /// The IPv4 key `sockets` is (its family must be IPv4).
    #[inline]
    fn of(sockets: &Sockets) -> Sockets4 {
        debug_assert!(!sockets.is_v6());
        Sockets4 {
            addrs: sockets.0[1] << 32 | sockets.0[3],
            last: sockets.0[4],
        }
    }

    #[inline]
    fn addr(&self, side: Side) -> u32 {
        match side {
            Side::Lo => (self.addrs >> 32) as u32,
            Side::Hi => self.addrs as u32,
        }
    }
}

impl SocketPair for Sockets4 {
    #[inline]
    fn key_hash(&self) -> u64 {
        Sockets([0, self.addrs >> 32, 0, self.addrs & 0xffff_ffff, self.last]).hash()
    }

    #[inline]
    fn is(&self, side: Side, ip: &IpAddr, port: u16) -> bool {
        port_of(self.last, side) == port && u128::from(self.addr(side)) == addr_bits(ip).0
    }

    fn socket(&self, side: Side) -> (IpAddr, u16) {
        (
            IpAddr::from(std::net::Ipv4Addr::from(self.addr(side))),
            port_of(self.last, side),
        )
    }
}

impl ConnKey {
    /// The key of the connection a packet belongs to.
    #[inline]
    pub fn of(pkt: &PacketMeta) -> ConnKey {
        ConnKey::from_sockets(
            (pkt.src, pkt.src_port),
            (pkt.dst, pkt.dst_port),
            pkt.transport,
        )
    }

    /// The key of the connection between two sockets (in either order; both
    /// of one address family, as in any packet).
    #[inline]
    pub fn from_sockets(a: (IpAddr, u16), b: (IpAddr, u16), transport: Transport) -> ConnKey {
        let (a_bits, family) = addr_bits(&a.0);
        let (b_bits, _) = addr_bits(&b.0);
        let a = (a_bits, a.1);
        let b = (b_bits, b.1);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let sockets = Sockets([
            (lo.0 >> 64) as u64,
            lo.0 as u64,
            (hi.0 >> 64) as u64,
            hi.0 as u64,
            u64::from(lo.1) << 48 | u64::from(hi.1) << 32 | family << 8 | transport as u64,
        ]);
        ConnKey {
            hash: sockets.hash(),
            sockets,
        }
    }

    /// The shard (of `shards`) that owns this connection.
    #[inline]
    pub fn shard(&self, shards: usize) -> usize {
        ((u128::from(self.hash) * shards as u128) >> 64) as usize
    }
}

impl std::hash::Hash for ConnKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Counters of the flow stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets recognised as the same packet seen by another capture.
    pub duplicates: u64,
    /// Connections decided early because the table was full.
    pub evicted_early: u64,
    /// Most connections tracked at once.
    pub peak_connections: u64,
    /// Most bytes the table's slots took at once (both families).
    pub peak_table_bytes: u64,
}

/// The flow table of one shard: IPv4 and IPv6 connections apart, so that an
/// IPv4 connection's entry needs no room for IPv6 addresses.
pub struct FlowTable {
    config: FlowConfig,
    server_ports: std::sync::Arc<PortBitmap>,
    conns4: ConnSlots<Sockets4>,
    conns6: ConnSlots<Sockets>,
    clock_ns: i64,
    last_sweep_ns: i64,
    pub stats: FlowStats,
}

impl FlowTable {
    pub fn new(config: FlowConfig, server_ports: std::sync::Arc<PortBitmap>) -> FlowTable {
        FlowTable {
            config,
            server_ports,
            conns4: ConnSlots::default(),
            conns6: ConnSlots::default(),
            clock_ns: i64::MIN,
            last_sweep_ns: i64::MIN,
            stats: FlowStats::default(),
        }
    }

    /// Makes room for `additional` more IPv4 connections.
    pub fn reserve(&mut self, additional: usize) {
        self.conns4.reserve(additional);
    }

    pub fn len(&self) -> usize {
        self.conns4.len() + self.conns6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the table's slots take now.
    pub fn memory_bytes(&self) -> usize {
        self.conns4.memory_bytes() + self.conns6.memory_bytes()
    }

    /// Starts fetching the memory a later [`FlowTable::process_keyed`] of
    /// `key` will touch. Why: with hundreds of thousands of connections
    /// open, that memory is rarely in cache; asked for a few packets ahead,
    /// it arrives while those are processed.
    #[inline]
    pub fn prefetch(&self, key: &ConnKey) {
        if key.sockets.is_v6() {
            self.conns6.prefetch(key.hash);
        } else {
            self.conns4.prefetch(key.hash);
        }
    }

    #[inline]
    pub fn process(&mut self, pkt: &PacketMeta, input: u16, out: &mut impl FnMut(ConnRecord)) {
        self.process_keyed(pkt, ConnKey::of(pkt), input, out);
    }

    /// Applies one packet whose key the caller computed (`ConnKey::of(pkt)`).
    #[inline]
    pub fn process_keyed(
        &mut self,
        pkt: &PacketMeta,
        key: ConnKey,
        input: u16,
        out: &mut impl FnMut(ConnRecord),
    ) {
        debug_assert_eq!(key, ConnKey::of(pkt));
        self.advance_clock(pkt.ts_ns);
        let packet = Packet {
            pkt,
            input,
            hash: key.hash,
            window: self.dedup_window(pkt),
            config: &self.config,
            server_ports: &self.server_ports,
        };
        let added = if key.sockets.is_v6() {
            packet.apply(&mut self.conns6, key.sockets, &mut self.stats, out)
        } else {
            packet.apply(
                &mut self.conns4,
                Sockets4::of(&key.sockets),
                &mut self.stats,
                out,
            )
        };
        if !added {
            return;
        }
        let open = self.len();
        self.stats.peak_connections = self.stats.peak_connections.max(open as u64);
        self.stats.peak_table_bytes = self.stats.peak_table_bytes.max(self.memory_bytes() as u64);
        if open > self.config.max_connections {
            self.evict_least_recent(out);
        }
        self.maybe_sweep(out);
    }

    fn dedup_window(&self, pkt: &PacketMeta) -> i64 {
        match pkt.transport {
            Transport::Tcp => self.config.dedup_window_ns,
            Transport::Udp => self
                .config
                .reply_timeout_ns
                .max(self.config.dedup_window_ns),
        }
    }
}

/// One packet on its way into a table of either family.
struct Packet<'a> {
    pkt: &'a PacketMeta,
    input: u16,
    hash: u64,
    window: i64,
    config: &'a FlowConfig,
    server_ports: &'a PortBitmap,
}

impl Packet<'_> {
    /// Applies the packet to its connection in `conns`, deciding the old one
    /// and starting a new one when it begins another; true when a
    /// connection was added (the caller then checks the table's bounds).
    #[inline]
    fn apply<K: SocketPair>(
        &self,
        conns: &mut ConnSlots<K>,
        sockets: K,
        stats: &mut FlowStats,
        out: &mut impl FnMut(ConnRecord),
    ) -> bool {
        let (pkt, config) = (self.pkt, self.config);
        let is_icmp = matches!(pkt.kind, PacketKind::Unreachable { .. });
        let found = conns.find(&sockets, self.hash);
        if let Ok(slot) = found {
            let (key, conn) = conns.get_mut(slot);
            if !is_icmp && config.dedup && conn.is_duplicate(key, pkt, self.input, self.window) {
                stats.duplicates += 1;
                return false;
            }
            if is_icmp || !starts_new(key, conn, pkt, config) {
                conn.update(key, pkt);
                return false;
            }
            out(conn.decide(key, pkt.ts_ns, config.reply_timeout_ns));
        }
        let (client_is_src, opening_seen) = orient(self.server_ports, pkt);
        let mut conn = Conn::new(
            &sockets,
            pkt,
            client_is_src,
            opening_seen,
            config.dedup,
            config.zeek_ports.as_deref(),
        );
        if config.dedup {
            conn.is_duplicate(&sockets, pkt, self.input, self.window);
        }
        conn.update(&sockets, pkt);
        match found {
            Ok(slot) => *conns.get_mut(slot).1 = conn,
            Err(empty) => conns.insert(empty, sockets, self.hash, conn),
        }
        true
    }
}

fn orient(server_ports: &PortBitmap, pkt: &PacketMeta) -> (bool, bool) {
    if let PacketKind::Unreachable { .. } = pkt.kind {
        // The quoted packet is what the client sent.
        return (true, true);
    }
    match pkt.transport {
        Transport::Tcp => {
            let syn = pkt.tcp_flags.syn();
            let ack = pkt.tcp_flags.ack();
            if syn && !ack {
                (true, true)
            } else if syn && ack {
                (false, true)
            } else {
                (src_is_client_guess(server_ports, pkt), false)
            }
        }
        Transport::Udp => {
            // The first sender opens a UDP exchange, unless it is plainly an
            // answer from a service port to an ephemeral one.
            let src_service = server_ports.contains(Transport::Udp, pkt.src_port);
            let dst_service = server_ports.contains(Transport::Udp, pkt.dst_port);
            let reply =
                !dst_service && (src_service || (pkt.src_port < 1024 && pkt.dst_port >= 1024));
            if reply {
                (false, false)
            } else {
                (true, true)
            }
        }
    }
}

/// Midstream: the side on a catalog port is the server, else the side on
/// the lower port.
fn src_is_client_guess(server_ports: &PortBitmap, pkt: &PacketMeta) -> bool {
    let src_service = server_ports.contains(pkt.transport, pkt.src_port);
    let dst_service = server_ports.contains(pkt.transport, pkt.dst_port);
    match (src_service, dst_service) {
        (false, true) => true,
        (true, false) => false,
        _ => pkt.src_port >= pkt.dst_port,
    }
}

impl FlowTable {
    /// Moves the table's clock forward to `ts`; a large step back (a capture
    /// paused and resumed in another era) resets it.
    fn advance_clock(&mut self, ts: i64) {
        if ts > self.clock_ns || ts < self.clock_ns.saturating_sub(CLOCK_RESET_NS) {
            if ts < self.clock_ns {
                self.last_sweep_ns = ts;
            }
            self.clock_ns = ts;
        }
    }

    fn maybe_sweep(&mut self, out: &mut impl FnMut(ConnRecord)) {
        if self.clock_ns.saturating_sub(self.last_sweep_ns) < 10 * SECOND {
            return;
        }
        self.last_sweep_ns = self.clock_ns;
        self.sweep(self.clock_ns, out);
    }

    /// Decides every connection that is over at `now_ns`.
    pub fn sweep(&mut self, now_ns: i64, out: &mut impl FnMut(ConnRecord)) {
        fn sweep_in<K: SocketPair>(
            conns: &mut ConnSlots<K>,
            now_ns: i64,
            config: &FlowConfig,
            out: &mut impl FnMut(ConnRecord),
        ) {
            conns.retain(|key, conn| {
                if expired(conn, now_ns, config) {
                    out(conn.decide(key, now_ns, config.reply_timeout_ns));
                    false
                } else {
                    true
                }
            });
        }
        sweep_in(&mut self.conns4, now_ns, &self.config, out);
        sweep_in(&mut self.conns6, now_ns, &self.config, out);
    }

    /// The table is full: decides the least recently active tenth early.
    fn evict_least_recent(&mut self, out: &mut impl FnMut(ConnRecord)) {
        fn evict_in<K: SocketPair>(
            conns: &mut ConnSlots<K>,
            cut: i64,
            now: i64,
            timeout: i64,
            out: &mut impl FnMut(ConnRecord),
        ) -> u64 {
            let mut evicted = 0;
            conns.retain(|key, conn| {
                if conn.last_ns <= cut {
                    out(conn.decide(key, now, timeout));
                    evicted += 1;
                    false
                } else {
                    true
                }
            });
            evicted
        }
        let mut last: Vec<i64> = self
            .conns4
            .values()
            .chain(self.conns6.values())
            .map(|c| c.last_ns)
            .collect();
        let cut_index = last.len() / 10;
        let (_, cut, _) = last.select_nth_unstable(cut_index);
        let cut = *cut;
        let now = self.clock_ns;
        let timeout = self.config.reply_timeout_ns;
        self.stats.evicted_early += evict_in(&mut self.conns4, cut, now, timeout, out)
            + evict_in(&mut self.conns6, cut, now, timeout, out);
    }

    /// The capture ended at `end_ns`: decides every connection left.
    pub fn finish(&mut self, end_ns: i64, out: &mut impl FnMut(ConnRecord)) {
        let timeout = self.config.reply_timeout_ns;
        for (key, conn) in self.conns4.drain() {
            out(conn.decide(&key, end_ns, timeout));
        }
        for (key, conn) in self.conns6.drain() {
            out(conn.decide(&key, end_ns, timeout));
        }
    }

    /// Live capture: decides the connections whose fate is settled at
    /// `now_ns` (over, closed for `linger_ns`, or failed past the reply
    /// timeout), with the client's ISN (the tombstone that recognises a
    /// retransmitted SYN of a connection already reported).
    pub fn decide_settled(
        &mut self,
        now_ns: i64,
        linger_ns: i64,
        out: &mut impl FnMut(ConnRecord, Option<u32>),
    ) {
        fn settle_in<K: SocketPair>(
            conns: &mut ConnSlots<K>,
            now: i64,
            linger_ns: i64,
            config: &FlowConfig,
            out: &mut impl FnMut(ConnRecord, Option<u32>),
        ) {
            let timeout = config.reply_timeout_ns;
            conns.retain(|key, conn| {
                let idle = now.saturating_sub(conn.last_ns);
                let settled = if expired(conn, now, config) {
                    true
                } else if conn.transport() == Transport::Tcp && conn.is_closed() {
                    idle >= linger_ns
                } else if idle >= timeout {
                    let state = conn.state(now, timeout);
                    matches!(
                        state,
                        State::NoReply | State::Unreachable | State::Unanswered
                    )
                } else {
                    false
                };
                if settled {
                    out(conn.decide(key, now, timeout), conn.client_isn());
                }
                !settled
            });
        }
        self.clock_ns = self.clock_ns.max(now_ns);
        let now = self.clock_ns;
        settle_in(&mut self.conns4, now, linger_ns, &self.config, out);
        settle_in(&mut self.conns6, now, linger_ns, &self.config, out);
    }

    pub fn clock_ns(&self) -> i64 {
        self.clock_ns
    }
}

/// Is the connection over at `now_ns` (silent past its kind's timeout)?
fn expired(conn: &Conn, now_ns: i64, config: &FlowConfig) -> bool {
    let idle = if conn.last_ns > now_ns.saturating_add(CLOCK_RESET_NS) {
        i64::MAX
    } else {
        now_ns.saturating_sub(conn.last_ns)
    };
    match conn.transport() {
        Transport::Udp => idle > config.udp_idle_ns,
        Transport::Tcp => {
            if conn.is_closed() {
                idle > config.closed_idle_ns
            } else if conn.is_bare_attempt() {
                idle > config.attempt_idle_ns
            } else {
                idle > config.open_idle_ns
            }
        }
    }
}

/// Does this packet begin a new connection on the key of `conn` (port
/// reuse after it ended, or a fresh SYN)?
fn starts_new<K: SocketPair>(key: &K, conn: &Conn, pkt: &PacketMeta, config: &FlowConfig) -> bool {
    if expired(conn, pkt.ts_ns, config) {
        return true;
    }
    if pkt.transport != Transport::Tcp {
        return false;
    }
    if !pkt.tcp_flags.is_pure_syn() {
        return false;
    }
    if !conn.is_from_client(key, pkt) {
        return conn.is_closed() || !conn.is_bare_attempt();
    }
    match conn.client_isn() {
        Some(isn) => isn != pkt.seq,
        None => true,
    }
}

#[cfg(test)]
mod tests;
