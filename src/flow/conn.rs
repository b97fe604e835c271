//! One connection's life: who opened it, what each side sent, and the state it
//! ends in (SPEC "Connections and their states").
//!
//! The TCP logic follows Zeek's `conn_state`/`history` and Wireshark's
//! `tcp.completeness`, reduced to what a port check needs: was the opening
//! captured, did the server answer, and how did the attempt fail.

use std::net::IpAddr;

use crate::decode::{tcp_flags, PacketKind, PacketMeta, Transport};

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

/// Zeek-style history: one letter per event kind and direction, in order of
/// first occurrence; upper case from the client, lower case from the server.
/// S syn, H syn-ack, A ack, D data, F fin, R rst, U unreachable (ICMP).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    letters: [u8; 16],
    len: u8,
    seen: u64,
}

impl History {
    fn push(&mut self, letter: u8) {
        if !letter.is_ascii_alphabetic() {
            return;
        }
        let bit = u64::from(letter.to_ascii_lowercase() - b'a')
            + if letter.is_ascii_uppercase() { 32 } else { 0 };
        if self.seen & (1 << bit) != 0 || usize::from(self.len) >= self.letters.len() {
            return;
        }
        self.seen |= 1 << bit;
        self.letters[usize::from(self.len)] = letter;
        self.len += 1;
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.letters[..usize::from(self.len)]).unwrap_or("")
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
    pub packets: u64,
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
    pub history: History,
    /// Zeek's `conn_state` for the same connection (S0, S1, SF, REJ, RSTO, …).
    pub zeek_state: &'static str,
    /// Wireshark's `tcp.completeness` bits: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST.
    pub completeness: u8,
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

/// Fingerprint of a packet for recognising the same packet seen by two taps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Fingerprint {
    input: u16,
    from_client: bool,
    flags: u8,
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

/// A live connection in the flow table.
#[derive(Clone, Debug)]
pub struct Conn {
    pub(crate) transport: Transport,
    pub(crate) client: IpAddr,
    pub(crate) client_port: u16,
    pub(crate) server: IpAddr,
    pub(crate) server_port: u16,
    pub(crate) first_ns: i64,
    pub(crate) last_ns: i64,
    packets: u64,
    bytes: u64,
    /// The opening (SYN or SYN-ACK; UDP: the first datagram) was captured.
    opening_seen: bool,
    client_isn: Option<u32>,
    syns: u32,
    attempt_first_ns: i64,
    attempt_last_ns: i64,
    synack_seen: bool,
    /// The client acknowledged or sent data after its SYN: the handshake completed
    /// even if the server's side was not captured.
    client_proved: bool,
    server_spoke: bool,
    refused: bool,
    reset_after_open: bool,
    pub(crate) rst_seen: bool,
    fin_client: bool,
    fin_server: bool,
    rst_client: bool,
    rst_server: bool,
    completeness: u8,
    unreachable: bool,
    failed_by: Option<IpAddr>,
    rst_ttl: Option<u8>,
    server_ttl: Option<u8>,
    client_ttl: Option<u8>,
    server_datagrams: u32,
    unanswered_datagrams: u32,
    history: History,
    dedup: Option<Box<DedupRing>>,
}

impl Conn {
    /// A new connection from its first packet. `client_is_src` says which
    /// side opened it (decided by the flow table).
    pub(crate) fn new(
        pkt: &PacketMeta,
        client_is_src: bool,
        opening_seen: bool,
        dedup: bool,
    ) -> Conn {
        let (client, client_port, server, server_port) = if client_is_src {
            (pkt.src, pkt.src_port, pkt.dst, pkt.dst_port)
        } else {
            (pkt.dst, pkt.dst_port, pkt.src, pkt.src_port)
        };
        Conn {
            transport: pkt.transport,
            client,
            client_port,
            server,
            server_port,
            first_ns: pkt.ts_ns,
            last_ns: pkt.ts_ns,
            packets: 0,
            bytes: 0,
            opening_seen,
            client_isn: None,
            syns: 0,
            attempt_first_ns: pkt.ts_ns,
            attempt_last_ns: pkt.ts_ns,
            synack_seen: false,
            client_proved: false,
            server_spoke: false,
            refused: false,
            reset_after_open: false,
            rst_seen: false,
            fin_client: false,
            fin_server: false,
            rst_client: false,
            rst_server: false,
            completeness: 0,
            unreachable: false,
            failed_by: None,
            rst_ttl: None,
            server_ttl: None,
            client_ttl: None,
            server_datagrams: 0,
            unanswered_datagrams: 0,
            history: History::default(),
            dedup: dedup.then(|| {
                Box::new(DedupRing {
                    slots: [Fingerprint::default(); DEDUP_SLOTS],
                    next: 0,
                    filled: 0,
                })
            }),
        }
    }

    pub(crate) fn client_isn(&self) -> Option<u32> {
        self.client_isn
    }

    /// Only SYNs from the client so far: an attempt nobody answered yet.
    pub(crate) fn is_bare_attempt(&self) -> bool {
        self.transport == Transport::Tcp
            && self.opening_seen
            && !self.synack_seen
            && !self.client_proved
            && !self.server_spoke
    }

    /// Closed by both FINs or a RST.
    pub(crate) fn is_closed(&self) -> bool {
        self.rst_seen || (self.fin_client && self.fin_server)
    }

    /// Is this packet one already seen through another capture (a second tap)?
    /// Records it otherwise.
    pub(crate) fn is_duplicate(&mut self, pkt: &PacketMeta, input: u16, window_ns: i64) -> bool {
        let from_client = pkt.src == self.client && pkt.src_port == self.client_port;
        let Some(ring) = self.dedup.as_deref_mut() else {
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

    /// Applies one packet (already known to belong to this connection).
    pub(crate) fn update(&mut self, pkt: &PacketMeta) {
        self.first_ns = self.first_ns.min(pkt.ts_ns);
        self.last_ns = self.last_ns.max(pkt.ts_ns);
        self.packets += 1;
        self.bytes += u64::from(pkt.wire_len);
        let from_client = pkt.src == self.client && pkt.src_port == self.client_port;
        if let PacketKind::Unreachable { reporter, .. } = pkt.kind {
            self.on_unreachable(reporter, pkt.ts_ns);
            return;
        }
        match self.transport {
            Transport::Tcp => self.update_tcp(pkt, from_client),
            Transport::Udp => self.update_udp(pkt, from_client),
        }
    }

    fn on_unreachable(&mut self, reporter: IpAddr, ts: i64) {
        let answered = match self.transport {
            Transport::Tcp => self.synack_seen || self.client_proved,
            Transport::Udp => self.server_datagrams > 0,
        };
        self.history.push(b'U');
        if !answered && !self.refused && !self.unreachable {
            self.unreachable = true;
            self.failed_by = Some(reporter);
            if self.syns == 0 && self.unanswered_datagrams == 0 {
                self.attempt_first_ns = ts;
                self.attempt_last_ns = ts;
            }
        }
    }

    fn update_tcp(&mut self, pkt: &PacketMeta, from_client: bool) {
        let f = pkt.tcp_flags;
        let syn = f & tcp_flags::SYN != 0;
        let ack = f & tcp_flags::ACK != 0;
        let rst = f & tcp_flags::RST != 0;
        let fin = f & tcp_flags::FIN != 0;
        let case = |c: u8| {
            if from_client {
                c.to_ascii_uppercase()
            } else {
                c
            }
        };
        if from_client {
            self.client_ttl.get_or_insert(pkt.ttl);
        }
        if rst {
            self.history.push(case(b'r'));
            self.rst_seen = true;
            self.completeness |= completeness::RST;
            if from_client {
                self.rst_client = true;
            } else {
                self.rst_server = true;
            }
            let opened = self.synack_seen || self.client_proved;
            if !from_client {
                self.rst_ttl = Some(pkt.ttl);
                if opened || !self.opening_seen {
                    self.reset_after_open = true;
                } else if !self.unreachable && !self.refused {
                    self.refused = true;
                    self.failed_by = Some(pkt.src);
                }
            } else if opened {
                self.reset_after_open = true;
            }
            return;
        }
        if syn && !ack {
            self.history.push(case(b's'));
            if from_client {
                self.completeness |= completeness::SYN;
                if self.syns > 0 {
                    // Zeek's 'T': a retransmission.
                    self.history.push(b'T');
                }
                if self.client_isn.is_none() {
                    self.client_isn = Some(pkt.seq);
                }
                if self.syns == 0 {
                    self.attempt_first_ns = pkt.ts_ns;
                }
                self.syns += 1;
                self.attempt_last_ns = self.attempt_last_ns.max(pkt.ts_ns);
            }
            return;
        }
        if syn && ack {
            self.history.push(case(b'h'));
            if !from_client {
                self.completeness |= completeness::SYN_ACK;
                self.synack_seen = true;
                self.server_spoke = true;
                self.server_ttl.get_or_insert(pkt.ttl);
            }
            return;
        }
        if from_client {
            if ack && self.opening_seen {
                self.client_proved = true;
                self.completeness |= completeness::ACK;
            }
        } else {
            self.server_spoke = true;
            self.server_ttl.get_or_insert(pkt.ttl);
        }
        if fin {
            self.completeness |= completeness::FIN;
            self.history.push(case(b'f'));
            if from_client {
                self.fin_client = true;
            } else {
                self.fin_server = true;
            }
        }
        if pkt.payload_len > 0 {
            self.completeness |= completeness::DATA;
            self.history.push(case(b'd'));
        } else if ack && !fin {
            self.history.push(case(b'a'));
        }
    }

    fn update_udp(&mut self, pkt: &PacketMeta, from_client: bool) {
        if from_client {
            self.history.push(b'D');
            self.client_ttl.get_or_insert(pkt.ttl);
            if self.unanswered_datagrams == 0 {
                self.attempt_first_ns = pkt.ts_ns;
            }
            self.unanswered_datagrams += 1;
            self.attempt_last_ns = pkt.ts_ns;
        } else {
            self.history.push(b'd');
            self.server_ttl.get_or_insert(pkt.ttl);
            self.server_datagrams += 1;
            self.unanswered_datagrams = 0;
        }
    }

    /// Zeek's `conn_state`, for cross-checking with Zeek's conn.log.
    fn zeek_state(&self) -> &'static str {
        match self.transport {
            Transport::Udp => match (self.client_ttl.is_some(), self.server_datagrams > 0) {
                (true, true) => "SF",
                (true, false) => "S0",
                _ => "OTH",
            },
            Transport::Tcp => {
                let syn = self.syns > 0;
                let answered = self.synack_seen || self.client_proved;
                if !syn && !self.synack_seen {
                    "OTH"
                } else if syn && !answered {
                    if self.rst_server {
                        "REJ"
                    } else if self.rst_client {
                        "RSTOS0"
                    } else if self.fin_client {
                        "SH"
                    } else {
                        "S0"
                    }
                } else if !syn && self.rst_server && !self.client_proved {
                    "RSTRH"
                } else if !syn && self.fin_server && !self.client_proved {
                    "SHR"
                } else if self.rst_client {
                    "RSTO"
                } else if self.rst_server {
                    "RSTR"
                } else if self.fin_client && self.fin_server {
                    "SF"
                } else if self.fin_client {
                    "S2"
                } else if self.fin_server {
                    "S3"
                } else {
                    "S1"
                }
            }
        }
    }

    /// Decides the state with the capture ending (or the clock standing) at `end_ns`.
    pub(crate) fn decide(&self, end_ns: i64, reply_timeout_ns: i64) -> ConnRecord {
        // A decision time before the connection's own last packet means the
        // capture's clock stepped back: this connection's era is over, and its
        // attempts had all the time they could get.
        let timed_out = end_ns < self.last_ns
            || end_ns.saturating_sub(self.attempt_last_ns) >= reply_timeout_ns;
        let state = match self.transport {
            Transport::Tcp => {
                if !self.opening_seen {
                    State::Midstream
                } else if self.synack_seen || self.client_proved {
                    if self.reset_after_open {
                        State::Reset
                    } else {
                        State::Established
                    }
                } else if self.refused {
                    State::Refused
                } else if self.unreachable {
                    State::Unreachable
                } else if self.server_spoke {
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
                if self.server_datagrams > 0 {
                    State::Answered
                } else if self.unreachable {
                    State::Unreachable
                } else if timed_out {
                    State::Unanswered
                } else {
                    State::Pending
                }
            }
        };
        ConnRecord {
            transport: self.transport,
            client: self.client,
            client_port: self.client_port,
            server: self.server,
            server_port: self.server_port,
            state,
            started_before_capture: !self.opening_seen,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
            packets: self.packets,
            bytes: self.bytes,
            syns: self.syns,
            unanswered_datagrams: if self.transport == Transport::Udp && self.server_datagrams == 0
            {
                self.unanswered_datagrams
            } else {
                0
            },
            attempt_first_ns: self.attempt_first_ns,
            attempt_last_ns: self.attempt_last_ns,
            failed_by: self.failed_by,
            rst_ttl: self.rst_ttl,
            server_ttl: self.server_ttl,
            client_ttl: self.client_ttl,
            history: self.history,
            zeek_state: self.zeek_state(),
            completeness: self.completeness,
        }
    }
}
