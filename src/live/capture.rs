//! The capture thread: libpcap in, decoded packets out in batches.
//!
//! This thread never waits on analysis: a full hand-off channel means the
//! batch is dropped and counted (`app_dropped`), apart from what the kernel
//! dropped because this thread did not read fast enough (`kernel_dropped`).
//! Either way the engine is told when ([`Msg::Dropped`]), so the verdicts of
//! connections open then can say they are uncertain.
//!
//! An interface that goes down or disappears does not end the capture: the
//! handle is closed, the engine told ([`Link::Down`]), and the interface
//! opened again with back-off once the system says it is back ([`Link::Up`]).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use pcap::{Active, Capture};

use crate::analysis::SkipCounts;
use crate::decode::{self, PacketMeta};

/// Packets per hand-off batch: large enough to amortise the channel, small
/// enough that a batch is a few hundred kilobytes.
pub(crate) const BATCH: usize = 1024;
/// Batches the engine may lag behind before packets are dropped (~0.1 s at
/// a million packets per second).
pub(crate) const QUEUE: usize = 128;
/// How long a partial batch may wait: findings should not sit here.
const FLUSH_AFTER: Duration = Duration::from_millis(50);
/// libpcap read timeout (a backstop: the capture is non-blocking, see [`IDLE_SLEEP`]).
pub(crate) const READ_TIMEOUT_MS: i32 = 100;
/// How long the thread sleeps when the ring is empty. The capture is put in
/// non-blocking mode because libpcap's read timeout does not reliably wake a
/// reader on a quiet Linux link (TPACKET_V3 with immediate mode can block in
/// poll() until a packet arrives, so `--duration` and shutdown would hang);
/// at a million packets per second, 2 ms of sleep is 2000 packets waiting in
/// a ring of many megabytes.
const IDLE_SLEEP: Duration = Duration::from_millis(2);
/// Bytes kept of each frame: Ethernet, two VLAN tags, IPv6 with extension
/// headers, TCP with options, and the IP + transport header an ICMP error
/// quotes all fit; payload is never needed.
pub(crate) const SNAPLEN: i32 = 256;

/// Counters shared with the engine thread (monotonic, never reset).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Frames libpcap handed to flowlint.
    pub packets: AtomicU64,
    /// Their length on the wire.
    pub bytes: AtomicU64,
    /// Decoded packets dropped because the engine was behind.
    pub app_dropped: AtomicU64,
    /// Kernel counters, widened from libpcap's wrapping 32-bit ones.
    pub kernel_received: AtomicU64,
    pub kernel_dropped: AtomicU64,
    pub interface_dropped: AtomicU64,
    /// Reopen attempts of the outage now running (0 while capturing).
    pub reopen_attempts: AtomicU32,
}

/// Widens libpcap's 32-bit counters, which wrap after 4 G packets (days
/// on a busy mirror port), into 64-bit totals.
#[derive(Default)]
struct Widen {
    last: Option<(u32, u32, u32)>,
}

impl Widen {
    /// Adds what changed since the last call; returns the new kernel and
    /// interface drops.
    fn update(&mut self, stat: pcap::Stat, c: &Counters) -> (u64, u64) {
        let now = (stat.received, stat.dropped, stat.if_dropped);
        let before = self.last.unwrap_or((0, 0, 0));
        self.last = Some(now);
        let add = |a: &AtomicU64, new: u32, old: u32| {
            let d = u64::from(new.wrapping_sub(old));
            a.fetch_add(d, Ordering::Relaxed);
            d
        };
        add(&c.kernel_received, now.0, before.0);
        (
            add(&c.kernel_dropped, now.1, before.1),
            add(&c.interface_dropped, now.2, before.2),
        )
    }
}

/// Where the capture stands with its interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// The capture stopped delivering (`reason`: libpcap's error, or the
    /// interface's state) at `at_ns` (wall clock); reopening has begun.
    Down { at_ns: i64, reason: String },
    /// Capturing again at `at_ns`, after `attempts` reopen attempts.
    Up { at_ns: i64, attempts: u32 },
    /// A reopen attempt failed otherwise than the one before (said once,
    /// not at every attempt).
    Retrying { error: String },
}

/// Packets lost between `from_ns` and `to_ns` (the packets' clock, which is
/// the kernel's wall clock on a live capture).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Drop {
    pub from_ns: i64,
    pub to_ns: i64,
    pub kernel: u64,
    pub interface: u64,
    pub app: u64,
}

impl Drop {
    fn merge(&mut self, other: Drop) {
        if self.total() == 0 {
            *self = other;
            return;
        }
        self.from_ns = self.from_ns.min(other.from_ns);
        self.to_ns = self.to_ns.max(other.to_ns);
        self.kernel += other.kernel;
        self.interface += other.interface;
        self.app += other.app;
    }

    pub(crate) fn total(&self) -> u64 {
        self.kernel + self.interface + self.app
    }
}

/// What the capture thread hands to the engine.
pub(crate) enum Msg {
    Packets(Vec<PacketMeta>),
    /// Packets were lost: connections open then may lack their answer.
    Dropped(Drop),
    /// The interface went away or came back.
    Link(Link),
    /// The capture stopped; `Some` says why if it was not asked to.
    Ended {
        error: Option<String>,
        skipped: SkipCounts,
    },
}

/// How the capture is opened again after an outage.
#[derive(Clone, Debug)]
pub(crate) struct Reopen {
    pub interface: String,
    pub buffer_mb: u32,
    pub filter: String,
    /// The filter is the user's `--bpf`.
    pub own_filter: bool,
}

/// First wait before reopening; doubled after each failed attempt up to
/// [`BACKOFF_MAX`] (a flapping port is not hammered, a port back after a
/// second is captured again within a fraction of one).
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often the interface's state and libpcap's counters are read.
const POLL: Duration = Duration::from_millis(500);
/// [`POLL`] in nanoseconds: how much earlier than it was noticed an outage
/// may have begun.
pub(crate) const POLL_NS: i64 = 500_000_000;

fn wall_ns() -> i64 {
    super::wall_ns()
}

/// Is the interface there and able to carry packets? `None` where the
/// system does not say (not Linux); libpcap's errors still tell then.
pub(crate) fn link_down(interface: &str) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let path = format!("/sys/class/net/{interface}/operstate");
    match std::fs::read_to_string(&path) {
        // `lowerlayerdown`: up, but its carrier (a veth's peer, a bond's
        // slaves) is down; `unknown` is what tun and loopback always say.
        Ok(state) => match state.trim() {
            s @ ("down" | "lowerlayerdown" | "notpresent") => Some(format!("link {s}")),
            _ => None,
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("interface deleted".to_string()),
        Err(_) => None,
    }
}

/// Runs the capture loop until `stop` is set; an interface that goes away
/// is reopened with back-off until it is back (or `stop`).
pub(crate) fn run(
    cap: Capture<Active>,
    linktype: u32,
    reopen: Reopen,
    tx: Sender<Msg>,
    recycle: Receiver<Vec<PacketMeta>>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) {
    let mut cap = Some(cap);
    let mut batch: Vec<PacketMeta> = Vec::with_capacity(BATCH);
    let mut batch_started = Instant::now();
    let mut skipped = SkipCounts::default();
    let mut widen = Widen::default();
    let mut last_poll = Instant::now();
    let mut last_poll_ns = wall_ns();
    let mut packets = 0u64;
    let mut bytes = 0u64;
    // Control messages wait here while the channel is full (they must
    // arrive, and in order); packets never wait.
    let mut control: std::collections::VecDeque<Msg> = Default::default();
    let mut dropped = Drop::default();
    // Reopen state while the interface is away.
    let mut attempts = 0u32;
    let mut next_try = Instant::now();
    let mut backoff = BACKOFF_MIN;
    let mut last_error = String::new();
    let send = |batch: &mut Vec<PacketMeta>, dropped: &mut Drop| {
        if batch.is_empty() {
            return;
        }
        let fresh = recycle
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(batch, fresh);
        match tx.try_send(Msg::Packets(full)) {
            Ok(()) => {}
            Err(TrySendError::Full(Msg::Packets(mut lost)))
            | Err(TrySendError::Disconnected(Msg::Packets(mut lost))) => {
                counters
                    .app_dropped
                    .fetch_add(lost.len() as u64, Ordering::Relaxed);
                if let (Some(first), Some(last)) = (lost.first(), lost.last()) {
                    dropped.merge(Drop {
                        from_ns: first.ts_ns,
                        to_ns: last.ts_ns,
                        app: lost.len() as u64,
                        ..Drop::default()
                    });
                }
                // Reuse the allocation rather than free it and allocate anew.
                lost.clear();
                *batch = lost;
            }
            Err(_) => {}
        }
    };
    while !stop.load(Ordering::Relaxed) {
        let Some(live) = cap.as_mut() else {
            // The interface is away: try again when the back-off allows
            // and the system says it is back.
            std::thread::sleep(IDLE_SLEEP.max(Duration::from_millis(20)));
            flush_control(&tx, &mut control);
            if Instant::now() < next_try || link_down(&reopen.interface).is_some() {
                continue;
            }
            attempts += 1;
            counters.reopen_attempts.store(attempts, Ordering::Relaxed);
            match super::privileges::with_capture_capabilities(|| {
                open(
                    &reopen.interface,
                    reopen.buffer_mb,
                    &reopen.filter,
                    reopen.own_filter,
                    Some(linktype),
                )
            }) {
                Ok((c, _)) => {
                    cap = Some(c);
                    widen = Widen::default();
                    control.push_back(Msg::Link(Link::Up {
                        at_ns: wall_ns(),
                        attempts,
                    }));
                    flush_control(&tx, &mut control);
                    attempts = 0;
                    counters.reopen_attempts.store(0, Ordering::Relaxed);
                    backoff = BACKOFF_MIN;
                    last_error.clear();
                    last_poll = Instant::now();
                    last_poll_ns = wall_ns();
                }
                Err(error) => {
                    if error != last_error {
                        control.push_back(Msg::Link(Link::Retrying {
                            error: error.clone(),
                        }));
                        last_error = error;
                    }
                    next_try = Instant::now() + backoff;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
            continue;
        };
        let mut went_down = None;
        match live.next_packet() {
            Ok(p) => {
                let h = p.header;
                // `timeval` fields are i64 on 64-bit Linux but 32-bit elsewhere
                // (Windows, 32-bit targets): the conversion is needed there.
                #[allow(clippy::useless_conversion)]
                let ts_ns = i64::from(h.ts.tv_sec)
                    .saturating_mul(1_000_000_000)
                    .saturating_add(i64::from(h.ts.tv_usec).saturating_mul(1000));
                packets += 1;
                bytes += u64::from(h.len);
                match decode::decode(linktype, p.data, ts_ns, h.len) {
                    Ok(meta) => {
                        if batch.is_empty() {
                            batch_started = Instant::now();
                        }
                        batch.push(meta);
                        if batch.len() >= BATCH {
                            send(&mut batch, &mut dropped);
                        }
                    }
                    Err(skip) => skipped.add(skip),
                }
                // Publishing per packet would bounce a cache line between
                // threads; every 64 packets is plenty for a summary line.
                if packets % 64 == 0 {
                    counters.packets.fetch_add(packets, Ordering::Relaxed);
                    counters.bytes.fetch_add(bytes, Ordering::Relaxed);
                    packets = 0;
                    bytes = 0;
                    if !batch.is_empty() && batch_started.elapsed() >= FLUSH_AFTER {
                        send(&mut batch, &mut dropped);
                    }
                }
            }
            Err(pcap::Error::TimeoutExpired) => {
                // Nothing to read (non-blocking) or a read timeout: the normal
                // case on a quiet link.
                std::thread::sleep(IDLE_SLEEP);
                counters.packets.fetch_add(packets, Ordering::Relaxed);
                counters.bytes.fetch_add(bytes, Ordering::Relaxed);
                packets = 0;
                bytes = 0;
                send(&mut batch, &mut dropped);
            }
            Err(pcap::Error::NoMorePackets) => break,
            // Whatever libpcap says (the interface went down, disappeared,
            // a read failed), the remedy is the same: a new handle.
            Err(e) => went_down = Some(e.to_string()),
        }
        if went_down.is_none() && last_poll.elapsed() >= POLL {
            went_down = link_down(&reopen.interface);
        }
        if last_poll.elapsed() >= POLL || went_down.is_some() {
            let now_ns = wall_ns();
            if let Some(live) = cap.as_mut() {
                if let Ok(stat) = live.stats() {
                    let (k, i) = widen.update(stat, &counters);
                    if k + i > 0 {
                        dropped.merge(Drop {
                            from_ns: last_poll_ns,
                            to_ns: now_ns,
                            kernel: k,
                            interface: i,
                            app: 0,
                        });
                    }
                }
            }
            last_poll = Instant::now();
            last_poll_ns = now_ns;
            if !batch.is_empty() && (batch_started.elapsed() >= FLUSH_AFTER || went_down.is_some())
            {
                send(&mut batch, &mut dropped);
            }
            if dropped.total() > 0 {
                control.push_back(Msg::Dropped(std::mem::take(&mut dropped)));
            }
            if let Some(reason) = went_down {
                cap = None;
                control.push_back(Msg::Link(Link::Down {
                    at_ns: now_ns,
                    reason,
                }));
                attempts = 0;
                backoff = BACKOFF_MIN;
                next_try = Instant::now() + backoff;
            }
            flush_control(&tx, &mut control);
        }
    }
    counters.packets.fetch_add(packets, Ordering::Relaxed);
    counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    if let Some(live) = cap.as_mut() {
        if let Ok(stat) = live.stats() {
            let (k, i) = widen.update(stat, &counters);
            if k + i > 0 {
                dropped.merge(Drop {
                    from_ns: last_poll_ns,
                    to_ns: wall_ns(),
                    kernel: k,
                    interface: i,
                    app: 0,
                });
            }
        }
    }
    // The last batch and the end message must arrive: block for them (the
    // engine drains the channel until it sees `Ended`).
    if !batch.is_empty() {
        let _ = tx.send(Msg::Packets(batch));
    }
    if dropped.total() > 0 {
        control.push_back(Msg::Dropped(dropped));
    }
    for msg in control {
        let _ = tx.send(msg);
    }
    // Outages are not errors: they are reported as outages.
    let _ = tx.send(Msg::Ended {
        error: None,
        skipped,
    });
}

/// Sends what waits in `control` as far as the channel has room.
fn flush_control(tx: &Sender<Msg>, control: &mut std::collections::VecDeque<Msg>) {
    while let Some(msg) = control.pop_front() {
        match tx.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(msg)) => {
                control.push_front(msg);
                return;
            }
            Err(TrySendError::Disconnected(_)) => {
                control.clear();
                return;
            }
        }
    }
}

/// Opens and configures the capture; errors are one actionable line.
///
/// `expect`: the link type a reopened interface must have (that of the
/// first open), checked before the filter is compiled for it: an
/// interface re-created as another kind of device would be decoded
/// wrongly, and the filter may not even compile for it. `own_filter`: the
/// filter is the user's `--bpf` (its errors name the option).
pub(crate) fn open(
    interface: &str,
    buffer_mb: u32,
    filter: &str,
    own_filter: bool,
    expect: Option<u32>,
) -> Result<(Capture<Active>, u32), String> {
    let buffer = i32::try_from(u64::from(buffer_mb.max(1)) * 1024 * 1024).unwrap_or(i32::MAX);
    let inactive = Capture::from_device(interface)
        .map_err(|e| open_error(interface, &e))?
        .promisc(true)
        .immediate_mode(true)
        .timeout(READ_TIMEOUT_MS)
        .snaplen(SNAPLEN)
        .buffer_size(buffer);
    let cap = inactive.open().map_err(|e| open_error(interface, &e))?;
    let mut cap = cap
        .setnonblock()
        .map_err(|e| format!("cannot capture on {interface}: {e}"))?;
    let linktype = u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX);
    if let Some(before) = expect.filter(|&lt| lt != linktype) {
        return Err(format!(
            "{interface} came back as another kind of device (link type {linktype}, not {before} as before); \
             re-create it as it was, or restart live to capture it as it is now"
        ));
    }
    cap.filter(filter, true).map_err(|e| {
        if own_filter {
            format!("--bpf: the capture filter does not compile ({e}); filter: {filter}")
        } else {
            format!("the default capture filter does not compile for {interface} ({e}); give one with --bpf")
        }
    })?;
    Ok((cap, linktype))
}

fn open_error(interface: &str, e: &pcap::Error) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        format!(
            "cannot capture on {interface}: permission denied ({text}); run as root, or give \
             the binary the capture capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(which flowlint)"
        )
    } else if lower.contains("no such device")
        || lower.contains("doesn't exist")
        || lower.contains("does not exist")
        || lower.contains("not found")
    {
        format!("interface {interface} does not exist ({text}); `ip link` lists the interfaces")
    } else {
        format!("cannot capture on {interface}: {text}")
    }
}
