//! One connection's life: who opened it, what each side sent, and the state it
//! ends in (SPEC "Connections and their states").
//!
//! The TCP logic follows Zeek's per-endpoint states and Wireshark's
//! `tcp.completeness`, reduced to what a port check needs: was the opening
//! captured, did the server answer, and how did the attempt fail. Zeek's own
//! `conn_state` and `history`, for JSONL, come from [`super::zeek`].

use std::net::IpAddr;

use super::zeek::{ZeekRecord, ZeekView};
use super::{Side, SocketPair};
use crate::catalog::PortBitmap;
use crate::decode::{PacketKind, PacketMeta, TcpFlags, Transport};

/// The state a connection is decided in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Established,
    Reset,
    Midstream,
    Pending,
    NoReply,
    Refused,
    Unreachable,
    Answered,
    Unanswered,
}

impl State {
    pub const ALL: [State; 9] = [
        State::Established,
        State::Reset,
        State::Midstream,
        State::Pending,
        State::NoReply,
        State::Refused,
        State::Unreachable,
        State::Answered,
        State::Unanswered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Established => "established",
            State::Reset => "reset",
            State::Midstream => "midstream",
            State::Pending => "pending",
            State::NoReply => "no_reply",
            State::Refused => "refused",
            State::Unreachable => "unreachable",
            State::Answered => "answered",
            State::Unanswered => "unanswered",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Did the attempt fail, whatever the rule? (`unanswered` depends on the rule.)
    pub fn is_failure(self) -> bool {
        matches!(self, State::NoReply | State::Refused | State::Unreachable)
    }

    /// Did the handshake complete (proof the server serves this port)?
    pub fn is_served(self) -> bool {
        matches!(self, State::Established | State::Reset | State::Answered)
    }
}

/// Zeek's `conn_state` of a connection (see Zeek's conn.log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZeekState {
    /// Attempt seen, no reply.
    S0,
    /// Established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Attempt rejected.
    REJ,
    /// Established, the originator closed; nothing from the responder.
    S2,
    /// Established, the responder closed; nothing from the originator.
    S3,
    /// Established, the originator aborted (RST).
    RSTO,
    /// Established, the responder aborted.
    RSTR,
    /// The originator sent a SYN then a RST; no SYN-ACK.
    RSTOS0,
    /// The responder sent a SYN-ACK then a RST; no SYN from the originator.
    RSTRH,
    /// The originator sent a SYN then a FIN; no SYN-ACK ("half open").
    SH,
    /// The responder sent a SYN-ACK then a FIN; no SYN from the originator.
    SHR,
    /// No SYN seen, just midstream traffic.
    OTH,
}

impl ZeekState {
    pub fn as_str(self) -> &'static str {
        match self {
            ZeekState::S0 => "S0",
            ZeekState::S1 => "S1",
            ZeekState::SF => "SF",
            ZeekState::REJ => "REJ",
            ZeekState::S2 => "S2",
            ZeekState::S3 => "S3",
            ZeekState::RSTO => "RSTO",
            ZeekState::RSTR => "RSTR",
            ZeekState::RSTOS0 => "RSTOS0",
            ZeekState::RSTRH => "RSTRH",
            ZeekState::SH => "SH",
            ZeekState::SHR => "SHR",
            ZeekState::OTH => "OTH",
        }
    }
}

impl std::fmt::Display for ZeekState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decided connection: what the flow stage hands to classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnRecord {
    pub transport: Transport,
    pub client: IpAddr,
    pub client_port: u16,
    pub server: IpAddr,
    pub server_port: u16,
    pub state: State,
    /// The opening was not captured; the client side was guessed.
    pub started_before_capture: bool,
    pub first_ns: i64,
    pub last_ns: i64,
    /// Every packet of the connection: both sides' and the ICMP
    /// unreachables about it.
    pub packets: u64,
    /// IP-level bytes of those packets.
    pub bytes: u64,
    /// TCP: SYNs the client sent (retransmissions included).
    pub syns: u32,
    /// UDP: datagrams the client sent after the server's last answer.
    pub unanswered_datagrams: u32,
    /// Time of the first and last attempt (SYN or unanswered datagram).
    pub attempt_first_ns: i64,
    pub attempt_last_ns: i64,
    /// Who sent the ICMP unreachable or the RST that failed it.
    pub failed_by: Option<IpAddr>,
    /// TTL of the RST that refused or reset the connection.
    pub rst_ttl: Option<u8>,
    /// TTL of the server's other (non-RST) packets, if any.
    pub server_ttl: Option<u8>,
    /// TTL of the client's packets, if any.
    pub client_ttl: Option<u8>,
    /// Zeek's view of the connection (kept when JSONL is written).
    pub zeek: Option<Box<ZeekRecord>>,
    /// Wireshark's `tcp.completeness` bits: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST.
    pub completeness: u8,
}

impl ConnRecord {
    /// The order JSONL lists decided connections in: by first packet, then
    /// by sockets (captures and flow records alike).
    pub fn report_order(&self) -> impl Ord + use<> {
        (
            self.first_ns,
            self.client,
            self.client_port,
            self.server,
            self.server_port,
            self.transport,
        )
    }
}

/// Wireshark's `tcp.completeness` bits.
mod completeness {
    pub const SYN: u8 = 1;
    pub const SYN_ACK: u8 = 2;
    pub const ACK: u8 = 4;
    pub const DATA: u8 = 8;
    pub const FIN: u8 = 16;
    pub const RST: u8 = 32;
}

/// What one side of a connection has done (Zeek keeps one such state per
/// endpoint), as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct EndpointFlags(u8);

impl EndpointFlags {
    /// TCP: the client sent a SYN, the server a SYN-ACK.
    const SYN: EndpointFlags = EndpointFlags(1);
    /// TCP: the client acknowledged or sent data after its SYN: the handshake
    /// completed even if the server's side was not captured.
    const ACK: EndpointFlags = EndpointFlags(2);
    const FIN: EndpointFlags = EndpointFlags(4);
    const RST: EndpointFlags = EndpointFlags(8);
    /// The server sent something other than a RST (TCP), or a datagram (UDP).
    const SPOKE: EndpointFlags = EndpointFlags(16);
    /// [`Endpoint::ttl`] holds the TTL of this side's first packet that has one.
    const TTL: EndpointFlags = EndpointFlags(32);
}

/// One side of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Endpoint {
    flags: EndpointFlags,
    /// Valid with [`EndpointFlags::TTL`].
    ttl: u8,
}

impl Endpoint {
    #[inline]
    fn has(&self, f: EndpointFlags) -> bool {
        self.flags.0 & f.0 != 0
    }

    #[inline]
    fn set(&mut self, f: EndpointFlags) {
        self.flags.0 |= f.0;
    }

    #[inline]
    fn keep_ttl(&mut self, ttl: u8) {
        if !self.has(EndpointFlags::TTL) {
            self.set(EndpointFlags::TTL);
            self.ttl = ttl;
        }
    }

    fn ttl(&self) -> Option<u8> {
        self.has(EndpointFlags::TTL).then_some(self.ttl)
    }
}

/// What is known of the connection as a whole, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ConnFlags(u16);

impl ConnFlags {
    /// The transport is UDP (else TCP).
    const UDP: ConnFlags = ConnFlags(1);
    /// The client is the lower socket of the key.
    const CLIENT_IS_LO: ConnFlags = ConnFlags(1 << 1);
    /// The opening (SYN or SYN-ACK; UDP: the first datagram) was captured.
    const OPENING_SEEN: ConnFlags = ConnFlags(1 << 2);
    /// The server answered the attempt with a RST.
    const REFUSED: ConnFlags = ConnFlags(1 << 3);
    /// An ICMP unreachable failed the attempt.
    const UNREACHABLE: ConnFlags = ConnFlags(1 << 4);
    const RESET_AFTER_OPEN: ConnFlags = ConnFlags(1 << 5);
    /// A TCP segment carried data (Wireshark's completeness bit 8).
    const DATA: ConnFlags = ConnFlags(1 << 6);
    /// [`Conn::client_isn`] holds the sequence number of the client's first SYN.
    const ISN: ConnFlags = ConnFlags(1 << 7);
    /// [`Conn::rst_ttl`] holds the TTL of the server's last RST.
    const RST_TTL: ConnFlags = ConnFlags(1 << 8);
}

/// Fingerprint of a packet for recognising the same packet seen by two taps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Fingerprint {
    input: u16,
    from_client: bool,
    flags: TcpFlags,
    seq: u32,
    ack: u32,
    len: u32,
    ts: i64,
}

const DEDUP_SLOTS: usize = 32;

/// Recent packets of a connection, only kept when several captures are merged.
#[derive(Clone, Debug)]
struct DedupRing {
    slots: [Fingerprint; DEDUP_SLOTS],
    next: usize,
    filled: usize,
}

/// What few connections need, out of line: the dedup ring (several captures
/// merged) and the sender of an ICMP unreachable.
#[derive(Clone, Debug, Default)]
struct Rare {
    reporter: Option<IpAddr>,
    /// Zeek's view, when JSONL is written.
    zeek: Option<Box<ZeekView>>,
    dedup: Option<Box<DedupRing>>,
}

/// A live connection in the flow table. Its sockets are the table's key
/// ([`super::Sockets`] or [`super::Sockets4`]); [`ConnFlags::CLIENT_IS_LO`] says which one is the client.
/// Kept small: it is most of the table's memory (see the size test).
#[derive(Clone, Debug)]
pub struct Conn {
    pub(crate) first_ns: i64,
    pub(crate) last_ns: i64,
    attempt_first_ns: i64,
    attempt_last_ns: i64,
    packets: u64,
    bytes: u64,
    rare: Option<Box<Rare>>,
    /// TCP: SYNs the client sent; UDP: datagrams the client sent since the
    /// server's last answer.
    attempts: u32,
    /// Valid with [`ConnFlags::ISN`].
    client_isn: u32,
    client: Endpoint,
    server: Endpoint,
    flags: ConnFlags,
    /// Valid with [`ConnFlags::RST_TTL`].
    rst_ttl: u8,
}

impl Conn {
    /// What an empty slot of the table holds: never read as a connection.
    pub(crate) fn placeholder() -> Conn {
        Conn {
            first_ns: 0,
            last_ns: 0,
            attempt_first_ns: 0,
            attempt_last_ns: 0,
            packets: 0,
            bytes: 0,
            rare: None,
            attempts: 0,
            client_isn: 0,
            client: Endpoint::default(),
            server: Endpoint::default(),
            flags: ConnFlags::default(),
            rst_ttl: 0,
        }
    }

    /// A new connection from its first packet, on `key`. `client_is_src` says
    /// which side opened it (decided by the flow table).
    pub(crate) fn new<K: SocketPair>(
        key: &K,
        pkt: &PacketMeta,
        client_is_src: bool,
        opening_seen: bool,
        dedup: bool,
        zeek_ports: Option<&PortBitmap>,
    ) -> Conn {
        let (ip, port) = if client_is_src {
            (&pkt.src, pkt.src_port)
        } else {
            (&pkt.dst, pkt.dst_port)
        };
        let mut flags = ConnFlags::default();
        if pkt.transport == Transport::Udp {
            flags.0 |= ConnFlags::UDP.0;
        }
        if key.is(Side::Lo, ip, port) {
            flags.0 |= ConnFlags::CLIENT_IS_LO.0;
        }
        if opening_seen {
            flags.0 |= ConnFlags::OPENING_SEEN.0;
        }
        Conn {
            first_ns: pkt.ts_ns,
            last_ns: pkt.ts_ns,
            attempt_first_ns: pkt.ts_ns,
            attempt_last_ns: pkt.ts_ns,
            packets: 0,
            bytes: 0,
            rare: (dedup || zeek_ports.is_some()).then(|| {
                Box::new(Rare {
                    reporter: None,
                    zeek: zeek_ports
                        .map(|ports| Box::new(ZeekView::new(pkt, client_is_src, ports))),
                    dedup: dedup.then(|| {
                        Box::new(DedupRing {
                            slots: [Fingerprint::default(); DEDUP_SLOTS],
                            next: 0,
                            filled: 0,
                        })
                    }),
                })
            }),
            attempts: 0,
            client_isn: 0,
            client: Endpoint::default(),
            server: Endpoint::default(),
            flags,
            rst_ttl: 0,
        }
    }

    #[inline]
    fn has(&self, f: ConnFlags) -> bool {
        self.flags.0 & f.0 != 0
    }

    #[inline]
    fn set(&mut self, f: ConnFlags) {
        self.flags.0 |= f.0;
    }

    #[inline]
    pub(crate) fn transport(&self) -> Transport {
        if self.has(ConnFlags::UDP) {
            Transport::Udp
        } else {
            Transport::Tcp
        }
    }

    #[inline]
    fn client_side(&self) -> Side {
        if self.has(ConnFlags::CLIENT_IS_LO) {
            Side::Lo
        } else {
            Side::Hi
        }
    }

    /// Did the client send this packet (of this connection, on `key`)?
    #[inline]
    pub(crate) fn is_from_client<K: SocketPair>(&self, key: &K, pkt: &PacketMeta) -> bool {
        key.is(self.client_side(), &pkt.src, pkt.src_port)
    }

    pub(crate) fn client_isn(&self) -> Option<u32> {
        self.has(ConnFlags::ISN).then_some(self.client_isn)
    }

    /// TCP: the server sent a SYN-ACK, or the client proved the handshake.
    #[inline]
    fn opened(&self) -> bool {
        self.server.has(EndpointFlags::SYN) || self.client.has(EndpointFlags::ACK)
    }

    /// Only SYNs from the client so far: an attempt nobody answered yet.
    pub(crate) fn is_bare_attempt(&self) -> bool {
        self.transport() == Transport::Tcp
            && self.has(ConnFlags::OPENING_SEEN)
            && !self.opened()
            && !self.server.has(EndpointFlags::SPOKE)
    }

    /// Closed by both FINs or a RST.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.has(EndpointFlags::RST)
            || self.server.has(EndpointFlags::RST)
            || (self.client.has(EndpointFlags::FIN) && self.server.has(EndpointFlags::FIN))
    }

    /// Is this packet one already seen through another capture (a second tap)?
    /// Records it otherwise.
    pub(crate) fn is_duplicate<K: SocketPair>(
        &mut self,
        key: &K,
        pkt: &PacketMeta,
        input: u16,
        window_ns: i64,
    ) -> bool {
        let from_client = self.is_from_client(key, pkt);
        let Some(ring) = self
            .rare
            .as_deref_mut()
            .and_then(|r| r.dedup.as_deref_mut())
        else {
            return false;
        };
        let fp = Fingerprint {
            input,
            from_client,
            flags: pkt.tcp_flags,
            seq: pkt.seq,
            ack: pkt.ack,
            len: pkt.payload_len,
            ts: pkt.ts_ns,
        };
        let hit = ring.slots[..ring.filled].iter().position(|old| {
            old.input != input
                && old.from_client == fp.from_client
                && old.flags == fp.flags
                && old.seq == fp.seq
                && old.ack == fp.ack
                && old.len == fp.len
                && (old.ts - fp.ts).abs() <= window_ns
        });
        if let Some(i) = hit {
            // Consume the match so a retransmission seen by both taps counts once per tap pair.
            ring.slots[i].input = u16::MAX;
            return true;
        }
        ring.slots[ring.next] = fp;
        ring.next = (ring.next + 1) % DEDUP_SLOTS;
        ring.filled = (ring.filled + 1).min(DEDUP_SLOTS);
        false
    }

    /// Applies one packet (already known to belong to this connection, on `key`).
    #[inline]
    pub(crate) fn update<K: SocketPair>(&mut self, key: &K, pkt: &PacketMeta) {
        self.first_ns = self.first_ns.min(pkt.ts_ns);
        self.last_ns = self.last_ns.max(pkt.ts_ns);
        self.packets += 1;
        self.bytes += u64::from(pkt.wire_len);
        if let PacketKind::Unreachable { reporter, .. } = pkt.kind {
            self.on_unreachable(reporter, pkt.ts_ns);
            return;
        }
        let from_client = self.is_from_client(key, pkt);
        if let Some(zeek) = self.rare.as_deref_mut().and_then(|r| r.zeek.as_deref_mut()) {
            zeek.packet(pkt, from_client);
        }
        if self.has(ConnFlags::UDP) {
            self.update_udp(pkt, from_client);
        } else {
            self.update_tcp(pkt, from_client);
        }
    }

    fn on_unreachable(&mut self, reporter: IpAddr, ts: i64) {
        let answered = match self.transport() {
            Transport::Tcp => self.opened(),
            Transport::Udp => self.server.has(EndpointFlags::SPOKE),
        };
        if !answered && !self.has(ConnFlags::REFUSED) && !self.has(ConnFlags::UNREACHABLE) {
            self.set(ConnFlags::UNREACHABLE);
            self.rare.get_or_insert_with(Box::default).reporter = Some(reporter);
            if self.attempts == 0 {
                self.attempt_first_ns = ts;
                self.attempt_last_ns = ts;
            }
        }
    }

    fn update_tcp(&mut self, pkt: &PacketMeta, from_client: bool) {
        let f = pkt.tcp_flags;
        if from_client {
            self.client.keep_ttl(pkt.ttl);
        }
        if f.rst() {
            let opened = self.opened();
            if from_client {
                self.client.set(EndpointFlags::RST);
                if opened {
                    self.set(ConnFlags::RESET_AFTER_OPEN);
                }
            } else {
                self.server.set(EndpointFlags::RST);
                self.set(ConnFlags::RST_TTL);
                self.rst_ttl = pkt.ttl;
                if opened || !self.has(ConnFlags::OPENING_SEEN) {
                    self.set(ConnFlags::RESET_AFTER_OPEN);
                } else if !self.has(ConnFlags::UNREACHABLE) && !self.has(ConnFlags::REFUSED) {
                    // The RST came from the server: it is who failed the attempt.
                    self.set(ConnFlags::REFUSED);
                }
            }
            return;
        }
        if f.syn() && !f.ack() {
            if from_client {
                self.client.set(EndpointFlags::SYN);
                if !self.has(ConnFlags::ISN) {
                    self.set(ConnFlags::ISN);
                    self.client_isn = pkt.seq;
                }
                if self.attempts == 0 {
                    self.attempt_first_ns = pkt.ts_ns;
                }
                self.attempts += 1;
                self.attempt_last_ns = self.attempt_last_ns.max(pkt.ts_ns);
            }
            return;
        }
        if f.syn() {
            if !from_client {
                self.server.set(EndpointFlags::SYN);
                self.server.set(EndpointFlags::SPOKE);
                self.server.keep_ttl(pkt.ttl);
            }
            return;
        }
        if from_client {
            if f.ack() && self.has(ConnFlags::OPENING_SEEN) {
                self.client.set(EndpointFlags::ACK);
            }
        } else {
            self.server.set(EndpointFlags::SPOKE);
            self.server.keep_ttl(pkt.ttl);
        }
        if f.fin() {
            if from_client {
                self.client.set(EndpointFlags::FIN);
            } else {
                self.server.set(EndpointFlags::FIN);
            }
        }
        if pkt.payload_len > 0 {
            self.set(ConnFlags::DATA);
        } else if f.ack() && !f.fin() {
        }
    }

    fn update_udp(&mut self, pkt: &PacketMeta, from_client: bool) {
        if from_client {
            self.client.keep_ttl(pkt.ttl);
            if self.attempts == 0 {
                self.attempt_first_ns = pkt.ts_ns;
            }
            self.attempts += 1;
            self.attempt_last_ns = pkt.ts_ns;
        } else {
            self.server.keep_ttl(pkt.ttl);
            self.server.set(EndpointFlags::SPOKE);
            self.attempts = 0;
        }
    }

    /// Wireshark's `tcp.completeness` (0 for UDP).
    fn completeness(&self) -> u8 {
        let mut c = 0;
        let (cl, sv) = (&self.client, &self.server);
        if cl.has(EndpointFlags::SYN) {
            c |= completeness::SYN;
        }
        if sv.has(EndpointFlags::SYN) {
            c |= completeness::SYN_ACK;
        }
        if cl.has(EndpointFlags::ACK) {
            c |= completeness::ACK;
        }
        if self.has(ConnFlags::DATA) {
            c |= completeness::DATA;
        }
        if cl.has(EndpointFlags::FIN) || sv.has(EndpointFlags::FIN) {
            c |= completeness::FIN;
        }
        if cl.has(EndpointFlags::RST) || sv.has(EndpointFlags::RST) {
            c |= completeness::RST;
        }
        c
    }

    /// The state the connection is decided in with the capture ending (or the
    /// clock standing) at `end_ns`.
    pub(crate) fn state(&self, end_ns: i64, reply_timeout_ns: i64) -> State {
        // A decision time before the connection's own last packet means the
        // capture's clock stepped back: this connection's era is over, and its
        // attempts had all the time they could get.
        // The reply timeout counts from the attempt's first SYN (UDP: first
        // datagram): a client that retried had been waiting all along, so a
        // capture ending soon after the last retry does not leave it pending.
        let timed_out = end_ns < self.last_ns
            || end_ns.saturating_sub(self.attempt_first_ns) >= reply_timeout_ns;
        match self.transport() {
            Transport::Tcp => {
                if !self.has(ConnFlags::OPENING_SEEN) {
                    State::Midstream
                } else if self.opened() {
                    if self.has(ConnFlags::RESET_AFTER_OPEN) {
                        State::Reset
                    } else {
                        State::Established
                    }
                } else if self.has(ConnFlags::REFUSED) {
                    State::Refused
                } else if self.has(ConnFlags::UNREACHABLE) {
                    State::Unreachable
                } else if self.server.has(EndpointFlags::SPOKE) {
                    // The server sent something other than a SYN-ACK (e.g. a bare ACK
                    // to a stale SYN): it is there, the path is open.
                    State::Established
                } else if timed_out {
                    State::NoReply
                } else {
                    State::Pending
                }
            }
            Transport::Udp => {
                if self.server.has(EndpointFlags::SPOKE) {
                    State::Answered
                } else if self.has(ConnFlags::UNREACHABLE) {
                    State::Unreachable
                } else if timed_out {
                    State::Unanswered
                } else {
                    State::Pending
                }
            }
        }
    }

    /// Decides the connection on `key` with the capture ending (or the clock
    /// standing) at `end_ns`.
    pub(crate) fn decide<K: SocketPair>(
        &self,
        key: &K,
        end_ns: i64,
        reply_timeout_ns: i64,
    ) -> ConnRecord {
        let transport = self.transport();
        let (client_side, server_side) = match self.client_side() {
            Side::Lo => (Side::Lo, Side::Hi),
            Side::Hi => (Side::Hi, Side::Lo),
        };
        let (client, client_port) = key.socket(client_side);
        let (server, server_port) = key.socket(server_side);
        let failed_by = if self.has(ConnFlags::REFUSED) {
            Some(server)
        } else if self.has(ConnFlags::UNREACHABLE) {
            self.rare.as_ref().and_then(|r| r.reporter)
        } else {
            None
        };
        ConnRecord {
            transport,
            client,
            client_port,
            server,
            server_port,
            state: self.state(end_ns, reply_timeout_ns),
            started_before_capture: !self.has(ConnFlags::OPENING_SEEN),
            first_ns: self.first_ns,
            last_ns: self.last_ns,
            packets: self.packets,
            bytes: self.bytes,
            syns: match transport {
                Transport::Tcp => self.attempts,
                Transport::Udp => 0,
            },
            unanswered_datagrams: match transport {
                Transport::Udp if !self.server.has(EndpointFlags::SPOKE) => self.attempts,
                _ => 0,
            },
            attempt_first_ns: self.attempt_first_ns,
            attempt_last_ns: self.attempt_last_ns,
            failed_by,
            rst_ttl: self.has(ConnFlags::RST_TTL).then_some(self.rst_ttl),
            server_ttl: self.server.ttl(),
            client_ttl: self.client.ttl(),
            zeek: self
                .rare
                .as_ref()
                .and_then(|r| r.zeek.as_ref())
                .map(|z| Box::new(z.record())),
            completeness: self.completeness(),
        }
    }
}
