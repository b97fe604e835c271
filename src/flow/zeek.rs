//! Zeek's view of a connection: which side Zeek calls the originator, its
//! per-endpoint TCP states, its `history` letters and its `conn_state`, so
//! the JSONL fields named after Zeek's conn.log mean what Zeek means.
//!
//! Kept only when JSONL is written (boxed in the connection, off the path of
//! the other reports). It follows Zeek's TCP session adapter packet by
//! packet: an endpoint's state moves between inactive, SYN sent, SYN-ACK
//! sent, partial, established, closed and reset as Zeek's does; history
//! letters are added once per direction, except a SYN, FIN or RST with a new
//! sequence number, and retransmissions (`T`), which Zeek repeats at 1, 10,
//! 100, … times; `^` marks a flip of originator and responder. The
//! originator is the first packet's sender unless Zeek's port heuristic flips
//! it: a connection that starts without a SYN (or with a SYN-ACK), or a UDP
//! exchange, whose sender's port is one of Zeek's likely server ports.
//!
//! Zeek's attempt timer is followed too: when the responder of an attempt
//! is still silent 5 s after the SYN, Zeek ends the connection, and the
//! view stops there (Zeek makes a new connection of what follows; flowlint
//! keeps one, and this view describes Zeek's first).
//!
//! What Zeek sees and this view cannot: packets with a bad checksum (Zeek
//! drops them and writes `C`; flowlint keeps them, since checksum offload
//! makes them common on a capturing host), zero windows (`W`) and content
//! gaps (`G`), which need fields the decoder does not keep.

use crate::catalog::PortBitmap;
use crate::decode::{PacketMeta, TcpFlags, Transport, Tunnels};

use super::ZeekState;

/// Zeek's state of one TCP endpoint (`TCP_ENDPOINT_*`); UDP uses only
/// `Inactive` and `Established` (Zeek's `UDP_ACTIVE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum EpState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// One endpoint as Zeek's `TCP_Endpoint` keeps it (sequence numbers without
/// wrap counting: sizes of 4 GiB and more are not exact).
#[derive(Clone, Copy, Debug, Default)]
struct Endpoint {
    state: EpState,
    prev_state: EpState,
    start_seq: u32,
    last_seq: u32,
    ack_seq: u32,
    hist_last_syn: u32,
    hist_last_fin: u32,
    hist_last_rst: u32,
    rxmit: u32,
    rxmit_threshold: u32,
    fin_seen: bool,
    /// UDP: payload bytes sent.
    udp_bytes: u64,
}

impl Endpoint {
    fn set_state(&mut self, state: EpState) {
        self.prev_state = self.state;
        self.state = state;
    }

    fn init_seqs(&mut self, seq: u32, last: u32) {
        self.start_seq = seq;
        self.ack_seq = seq;
        self.last_seq = last;
    }

    /// Zeek's `TCP_Endpoint::Size`: the sequence space the endpoint used,
    /// without its SYN and FIN.
    fn tcp_size(&self, peer: &Endpoint) -> u64 {
        if self.prev_state == EpState::SynSent
            && self.state == EpState::Reset
            && peer.state == EpState::Inactive
            && self.ack_seq != self.start_seq
        {
            return 0;
        }
        let last = self.last_seq.wrapping_sub(self.start_seq);
        let ack = self.ack_seq.wrapping_sub(self.start_seq);
        let mut size = u64::from(if delta(self.last_seq, self.ack_seq) > 0 {
            last
        } else {
            ack
        });
        size = size.saturating_sub(1);
        if self.fin_seen {
            size = size.saturating_sub(1);
        }
        size
    }
}

/// `seq_delta`: a - b in sequence space.
fn delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// History letters Zeek tracks once per direction (bits of `seen`, the
/// responder's 8 above the originator's).
mod seen {
    pub const SYN: u16 = 1;
    pub const FIN: u16 = 2;
    pub const RST: u16 = 4;
    pub const DATA: u16 = 8;
    pub const ACK: u16 = 16;
    pub const MULTI: u16 = 32;
    pub const FIN_RST: u16 = 64;
}

/// Longest history kept (Zeek's is unbounded; beyond this, letters are
/// dropped).
const HISTORY_LEN: usize = 30;

/// Zeek's view of one connection.
#[derive(Clone, Debug)]
pub(crate) struct ZeekView {
    /// Is Zeek's originator flowlint's client?
    orig_is_client: bool,
    orig: Endpoint,
    resp: Endpoint,
    seen: u16,
    history: [u8; HISTORY_LEN],
    history_len: u8,
    orig_pkts: u64,
    resp_pkts: u64,
    udp: bool,
    /// Time of the originator's first SYN, for Zeek's attempt timer.
    syn_ns: Option<i64>,
    /// Zeek removed the connection (its attempt timer fired): later packets
    /// would make Zeek a new connection, and change nothing here.
    ended: bool,
    /// The tunnels the connection's packets came through.
    tunnels: Tunnels,
}

/// Zeek's `tcp_attempt_delay`: an attempt whose responder stayed silent
/// this long after the SYN is removed (Zeek logs it, and starts a new
/// connection for any later packet of the 5-tuple).
const ATTEMPT_DELAY_NS: i64 = 5_000_000_000;

/// What the JSONL writer needs of Zeek's view, at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZeekRecord {
    /// Zeek's originator is flowlint's server (history `^`, or a flip at
    /// the start).
    pub flipped: bool,
    pub conn_state: ZeekState,
    history: [u8; HISTORY_LEN],
    history_len: u8,
    pub orig_pkts: u64,
    pub resp_pkts: u64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    /// The tunnels the connection's packets came through (Zeek's
    /// `tunnel_parents` names the tunnel connections instead).
    pub tunnels: Tunnels,
}

impl ZeekRecord {
    pub fn history(&self) -> &str {
        std::str::from_utf8(&self.history[..usize::from(self.history_len)]).unwrap_or("")
    }
}

impl ZeekView {
    /// The view of a connection whose first packet is `pkt`; `client_is_src`
    /// is flowlint's orientation of it.
    pub(crate) fn new(pkt: &PacketMeta, client_is_src: bool, likely: &PortBitmap) -> ZeekView {
        let is_server = |port: u16| likely.contains(pkt.transport, port);
        let flip = match pkt.transport {
            Transport::Tcp => {
                let f = pkt.tcp_flags;
                if !f.syn() || f.ack() {
                    if is_server(pkt.src_port) {
                        if is_server(pkt.dst_port) {
                            !f.syn() && pkt.src_port < pkt.dst_port
                        } else {
                            true
                        }
                    } else {
                        false
                    }
                } else {
                    false
                }
            }
            Transport::Udp => is_server(pkt.src_port) && !is_server(pkt.dst_port),
        };
        // Zeek's originator is the packet's sender unless flipped.
        let orig_is_src = !flip;
        let mut view = ZeekView {
            orig_is_client: orig_is_src == client_is_src,
            orig: Endpoint::default(),
            resp: Endpoint::default(),
            seen: 0,
            history: [0; HISTORY_LEN],
            history_len: 0,
            orig_pkts: 0,
            resp_pkts: 0,
            udp: pkt.transport == Transport::Udp,
            syn_ns: None,
            ended: false,
            tunnels: pkt.tunnels,
        };
        for ep in [&mut view.orig, &mut view.resp] {
            ep.rxmit_threshold = 1;
        }
        if flip {
            view.add_history(b'^');
        }
        view
    }

    fn add_history(&mut self, letter: u8) {
        if usize::from(self.history_len) < HISTORY_LEN {
            self.history[usize::from(self.history_len)] = letter;
            self.history_len += 1;
        }
    }

    fn letter(is_orig: bool, upper: u8) -> u8 {
        if is_orig {
            upper
        } else {
            upper.to_ascii_lowercase()
        }
    }

    /// Zeek's `CheckHistory`: adds the letter the first time; says whether
    /// it had been seen before.
    fn check_history(&mut self, is_orig: bool, bit: u16, upper: u8) -> bool {
        let mask = if is_orig { bit } else { bit << 8 };
        if self.seen & mask == 0 {
            self.seen |= mask;
            self.add_history(Self::letter(is_orig, upper));
            false
        } else {
            true
        }
    }

    /// Applies one TCP or UDP packet (not an ICMP error); `from_client` is
    /// flowlint's direction of it.
    pub(crate) fn packet(&mut self, pkt: &PacketMeta, from_client: bool) {
        self.tunnels.union(pkt.tunnels);
        if self.ended {
            return;
        }
        if let Some(syn) = self.syn_ns {
            if pkt.ts_ns >= syn.saturating_add(ATTEMPT_DELAY_NS)
                && matches!(self.orig.state, EpState::SynSent | EpState::SynAckSent)
                && self.resp.state == EpState::Inactive
            {
                self.ended = true;
                return;
            }
        }
        let is_orig = from_client == self.orig_is_client;
        if !self.udp && is_orig && self.syn_ns.is_none() && pkt.tcp_flags.syn() {
            self.syn_ns = Some(pkt.ts_ns);
        }
        if is_orig {
            self.orig_pkts += 1;
        } else {
            self.resp_pkts += 1;
        }
        if self.udp {
            self.check_history(is_orig, seen::DATA, b'D');
            let ep = if is_orig {
                &mut self.orig
            } else {
                &mut self.resp
            };
            ep.state = EpState::Established;
            ep.udp_bytes += u64::from(pkt.payload_len);
        } else {
            self.tcp(is_orig, pkt.tcp_flags, pkt.seq, pkt.ack, pkt.payload_len);
        }
    }

    fn endpoints(&mut self, is_orig: bool) -> (&mut Endpoint, &mut Endpoint) {
        if is_orig {
            (&mut self.orig, &mut self.resp)
        } else {
            (&mut self.resp, &mut self.orig)
        }
    }

    /// Zeek's `TCPSessionAdapter::Process`, the parts that decide states,
    /// history and sizes.
    fn tcp(&mut self, is_orig: bool, flags: TcpFlags, seq: u32, ack: u32, len: u32) {
        let len_i = len as i64;
        let mut seg_len = len_i + i64::from(flags.syn()) + i64::from(flags.fin());
        if flags.rst() {
            seg_len -= len_i;
        }
        let seq_one_past = seq.wrapping_add(seg_len as u32);
        // init_endpoint
        {
            let (ep, _) = self.endpoints(is_orig);
            match ep.state {
                EpState::Inactive => {
                    if flags.syn() {
                        ep.init_seqs(seq, seq_one_past);
                    } else {
                        let start = seq.wrapping_sub(1);
                        ep.start_seq = start;
                        ep.ack_seq = start;
                        ep.last_seq = seq;
                    }
                }
                EpState::SynSent | EpState::SynAckSent => {
                    if flags.syn() && seq != ep.start_seq {
                        ep.init_seqs(seq, seq_one_past);
                    }
                }
                EpState::Established | EpState::Partial => {
                    if flags.syn() {
                        ep.init_seqs(seq, seq_one_past);
                    }
                }
                EpState::Reset => {
                    if flags.syn() && ep.prev_state == EpState::Inactive {
                        ep.init_seqs(seq, seq_one_past);
                    }
                }
                EpState::Closed => {}
            }
        }
        let rel_seq = {
            let (ep, _) = self.endpoints(is_orig);
            seq.wrapping_sub(ep.start_seq)
        };
        self.update_history(is_orig, flags, rel_seq, len);
        if flags.fin() {
            let (ep, _) = self.endpoints(is_orig);
            ep.fin_seen = true;
        }
        if flags.ack() {
            let (_, peer) = self.endpoints(is_orig);
            if peer.state == EpState::Inactive {
                // init_peer: number the peer as though its SYN was seen.
                let start = ack.wrapping_sub(1);
                peer.start_seq = start;
                peer.ack_seq = start;
                peer.last_seq = start;
            } else if !flags.rst() {
                let d = delta(ack, peer.ack_seq);
                if !(ack == 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0 {
                    peer.ack_seq = ack;
                }
            }
        }
        // update_last_seq
        let rxmit = {
            let (ep, _) = self.endpoints(is_orig);
            let d = delta(seq_one_past, ep.last_seq);
            if (flags.syn() || flags.rst())
                && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&d)
            {
                false
            } else if flags.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
                ep.last_seq = seq_one_past;
                false
            } else if ep.state == EpState::Reset {
                false
            } else if d > 0 {
                ep.last_seq = seq_one_past;
                false
            } else {
                len > 0
            }
        };
        if rxmit {
            let (ep, _) = self.endpoints(is_orig);
            ep.rxmit += 1;
            let scaled = ep.rxmit == ep.rxmit_threshold;
            if scaled {
                ep.rxmit_threshold = ep.rxmit_threshold.saturating_mul(10);
            }
            if scaled {
                self.add_history(Self::letter(is_orig, b'T'));
            }
        }
        self.update_state_machine(is_orig, flags, seq, len);
    }

    fn update_history(&mut self, is_orig: bool, flags: TcpFlags, rel_seq: u32, len: u32) {
        let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
        if bits > 1 {
            if flags.fin() && flags.rst() {
                self.check_history(is_orig, seen::FIN_RST, b'I');
            } else {
                self.check_history(is_orig, seen::MULTI, b'Q');
            }
        } else if bits == 1 {
            if flags.syn() {
                let code = if flags.ack() { b'H' } else { b'S' };
                let last = self.endpoints(is_orig).0.hist_last_syn;
                if self.check_history(is_orig, seen::SYN, code) && rel_seq != last {
                    self.add_history(Self::letter(is_orig, code));
                }
                self.endpoints(is_orig).0.hist_last_syn = rel_seq;
            }
            if flags.fin() {
                let end = rel_seq.wrapping_add(len);
                let last = self.endpoints(is_orig).0.hist_last_fin;
                if self.check_history(is_orig, seen::FIN, b'F') && end != last {
                    self.add_history(Self::letter(is_orig, b'F'));
                }
                self.endpoints(is_orig).0.hist_last_fin = end;
            }
            if flags.rst() {
                let last = self.endpoints(is_orig).0.hist_last_rst;
                if self.check_history(is_orig, seen::RST, b'R') && rel_seq != last {
                    self.add_history(Self::letter(is_orig, b'R'));
                }
                self.endpoints(is_orig).0.hist_last_rst = rel_seq;
            }
        } else if len > 0 {
            self.check_history(is_orig, seen::DATA, b'D');
        } else if flags.ack() {
            self.check_history(is_orig, seen::ACK, b'A');
        }
    }

    /// Zeek's `UpdateStateMachine` (the transitions; events and weirds left out).
    fn update_state_machine(&mut self, is_orig: bool, flags: TcpFlags, seq: u32, len: u32) {
        let state = self.endpoints(is_orig).0.state;
        match state {
            EpState::Inactive => self.inactive(is_orig, flags, seq, len),
            EpState::SynSent | EpState::SynAckSent => {
                let (ep, _) = self.endpoints(is_orig);
                if flags.fin() {
                    ep.set_state(EpState::Closed);
                }
                if flags.rst() {
                    ep.set_state(EpState::Reset);
                }
            }
            EpState::Established | EpState::Partial => {
                let (ep, peer) = self.endpoints(is_orig);
                if flags.syn()
                    && ep.state == EpState::Partial
                    && peer.state == EpState::Inactive
                    && !flags.ack()
                {
                    ep.set_state(EpState::SynSent);
                }
                if flags.fin() && !flags.rst() {
                    ep.set_state(EpState::Closed);
                    if peer.state == EpState::Reset && peer.prev_state == EpState::Closed {
                        peer.set_state(EpState::Closed);
                    }
                }
                if flags.rst() {
                    ep.set_state(EpState::Reset);
                }
            }
            EpState::Closed => {
                let (ep, peer) = self.endpoints(is_orig);
                if flags.rst() && peer.state != EpState::Closed {
                    ep.set_state(EpState::Reset);
                }
            }
            EpState::Reset => {}
        }
    }

    fn inactive(&mut self, is_orig: bool, flags: TcpFlags, seq: u32, len: u32) {
        let mut flip = false;
        {
            let (ep, peer) = self.endpoints(is_orig);
            if flags.syn() {
                if is_orig {
                    ep.set_state(if flags.ack() {
                        EpState::SynAckSent
                    } else {
                        EpState::SynSent
                    });
                } else {
                    if !flags.ack() && peer.state == EpState::SynAckSent && seq == ep.start_seq {
                        // A SYN/SYN-ACK reversal: Zeek flips the roles and
                        // establishes the connection.
                        peer.set_state(EpState::Established);
                        flip = true;
                    }
                    if peer.state == EpState::SynSent {
                        peer.set_state(EpState::Established);
                    }
                    ep.set_state(EpState::Established);
                }
            }
            if flags.fin() {
                ep.set_state(EpState::Closed);
            }
            if flags.rst() {
                ep.set_state(EpState::Reset);
            }
        }
        let orig_syn_sent = self.orig.state == EpState::SynSent;
        {
            let (ep, peer) = self.endpoints(is_orig);
            if ep.state == EpState::Inactive {
                if !is_orig && len == 0 && orig_syn_sent {
                    // An ACK of the SYN before the SYN-ACK: not partial.
                } else if flags.ack() && peer.state == EpState::Established {
                    ep.set_state(EpState::Established);
                } else {
                    ep.set_state(EpState::Partial);
                }
            }
        }
        if flip {
            std::mem::swap(&mut self.orig, &mut self.resp);
            self.orig_is_client = !self.orig_is_client;
            std::mem::swap(&mut self.orig_pkts, &mut self.resp_pkts);
            self.add_history(b'^');
        }
    }

    /// Zeek's `conn_state`, history and counters at the end.
    pub(crate) fn record(&self) -> ZeekRecord {
        let (os, rs) = (self.orig.state, self.resp.state);
        let conn_state = if self.udp {
            match (os == EpState::Established, rs == EpState::Established) {
                (true, true) => ZeekState::SF,
                (true, false) => ZeekState::S0,
                (false, true) => ZeekState::SHR,
                (false, false) => ZeekState::OTH,
            }
        } else {
            let o_inactive = matches!(os, EpState::Inactive | EpState::Partial);
            let r_inactive = matches!(rs, EpState::Inactive | EpState::Partial);
            let sizes_zero =
                self.orig.tcp_size(&self.resp) == 0 && self.resp.tcp_size(&self.orig) == 0;
            if rs == EpState::Reset {
                if matches!(os, EpState::SynSent | EpState::SynAckSent)
                    || (os == EpState::Reset && sizes_zero)
                {
                    ZeekState::REJ
                } else if o_inactive {
                    ZeekState::RSTRH
                } else {
                    ZeekState::RSTR
                }
            } else if os == EpState::Reset {
                if r_inactive {
                    if self.rstos0_history() {
                        ZeekState::RSTOS0
                    } else {
                        ZeekState::OTH
                    }
                } else {
                    ZeekState::RSTO
                }
            } else if rs == EpState::Closed && os == EpState::Closed {
                ZeekState::SF
            } else if os == EpState::Closed {
                if r_inactive {
                    ZeekState::SH
                } else {
                    ZeekState::S2
                }
            } else if rs == EpState::Closed {
                if o_inactive {
                    ZeekState::SHR
                } else {
                    ZeekState::S3
                }
            } else if os == EpState::SynSent && rs == EpState::Inactive {
                ZeekState::S0
            } else if os == EpState::Established && rs == EpState::Established {
                ZeekState::S1
            } else {
                ZeekState::OTH
            }
        };
        let (orig_bytes, resp_bytes) = if self.udp {
            (self.orig.udp_bytes, self.resp.udp_bytes)
        } else {
            (
                self.orig.tcp_size(&self.resp),
                self.resp.tcp_size(&self.orig),
            )
        };
        ZeekRecord {
            flipped: !self.orig_is_client,
            conn_state,
            history: self.history,
            history_len: self.history_len,
            orig_pkts: self.orig_pkts,
            resp_pkts: self.resp_pkts,
            orig_bytes,
            resp_bytes,
            tunnels: self.tunnels,
        }
    }

    /// Zeek's `/\^?S[^HAFGIQ]*R.*/`, matched against the whole history.
    fn rstos0_history(&self) -> bool {
        let h = &self.history[..usize::from(self.history_len)];
        let h = h.strip_prefix(b"^").unwrap_or(h);
        let Some(rest) = h.strip_prefix(b"S") else {
            return false;
        };
        for &c in rest {
            if c == b'R' {
                return true;
            }
            if b"HAFGIQ".contains(&c) {
                return false;
            }
        }
        false
    }
}

/// The entries of the likely server ports file: `None` for a line that
/// does not parse (the test below keeps there being none).
fn port_entries() -> impl Iterator<Item = Option<(u16, u16, Transport)>> {
    include_str!("zeek-likely-server-ports.txt")
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut fields = line.split_whitespace();
            let (range, protocol) = (fields.next()?, fields.next()?);
            let protocol = match protocol {
                "tcp" => Transport::Tcp,
                "udp" => Transport::Udp,
                _ => return None,
            };
            let (lo, hi) = range.split_once('-').unwrap_or((range, range));
            Some((lo.parse().ok()?, hi.parse().ok()?, protocol))
        })
}

/// Zeek's likely server ports (the data file beside this module).
pub(crate) fn likely_server_ports() -> PortBitmap {
    let mut ports = PortBitmap::default();
    for (lo, hi, protocol) in port_entries().flatten() {
        for port in lo..=hi {
            ports.insert(protocol, port);
        }
    }
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_likely_server_ports_file_parses_whole() {
        assert!(port_entries().all(|e| e.is_some()));
        let ports = likely_server_ports();
        for (port, protocol) in [
            (53, Transport::Udp),
            (443, Transport::Tcp),
            (6668, Transport::Tcp),
        ] {
            assert!(ports.contains(protocol, port));
        }
        assert!(!ports.contains(Transport::Udp, 31000));
    }
}

#[cfg(test)]
mod size {
    #[test]
    fn the_view_costs_what_the_readme_says() {
        // Kept only for JSONL, boxed: the README's Performance section
        // gives this size.
        let size = std::mem::size_of::<super::ZeekView>();
        assert!(size <= 168, "ZeekView is {size} bytes");
    }
}
