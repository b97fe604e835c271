//! The capture thread: libpcap in, decoded packets out in batches.
//!
//! This thread never waits on analysis: a full hand-off channel means the
//! batch is dropped and counted (`app_dropped`), apart from what the kernel
//! dropped because this thread did not read fast enough (`kernel_dropped`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
}

/// Widens libpcap's 32-bit counters, which wrap after 4 G packets (days
/// on a busy mirror port), into 64-bit totals.
#[derive(Default)]
struct Widen {
    last: Option<(u32, u32, u32)>,
}

impl Widen {
    fn update(&mut self, stat: pcap::Stat, c: &Counters) {
        let now = (stat.received, stat.dropped, stat.if_dropped);
        let before = self.last.unwrap_or((0, 0, 0));
        self.last = Some(now);
        let add = |a: &AtomicU64, new: u32, old: u32| {
            a.fetch_add(u64::from(new.wrapping_sub(old)), Ordering::Relaxed);
        };
        add(&c.kernel_received, now.0, before.0);
        add(&c.kernel_dropped, now.1, before.1);
        add(&c.interface_dropped, now.2, before.2);
    }
}

/// What the capture thread hands to the engine.
pub(crate) enum Msg {
    Packets(Vec<PacketMeta>),
    /// The capture stopped; `Some` says why if it was not asked to.
    Ended {
        error: Option<String>,
        skipped: SkipCounts,
    },
}

/// Runs the capture loop until `stop` is set or libpcap fails.
pub(crate) fn run(
    mut cap: Capture<Active>,
    linktype: u32,
    tx: Sender<Msg>,
    recycle: Receiver<Vec<PacketMeta>>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<PacketMeta> = Vec::with_capacity(BATCH);
    let mut batch_started = Instant::now();
    let mut skipped = SkipCounts::default();
    let mut widen = Widen::default();
    let mut last_stats = Instant::now();
    let mut error = None;
    let mut packets = 0u64;
    let mut bytes = 0u64;
    let send = |batch: &mut Vec<PacketMeta>| {
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
                // Reuse the allocation rather than free it and allocate anew.
                lost.clear();
                *batch = lost;
            }
            Err(_) => {}
        }
    };
    while !stop.load(Ordering::Relaxed) {
        match cap.next_packet() {
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
                            send(&mut batch);
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
                        send(&mut batch);
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
                send(&mut batch);
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                error = Some(format!("capture stopped: {e}"));
                break;
            }
        }
        if last_stats.elapsed() >= Duration::from_millis(500) {
            last_stats = Instant::now();
            if let Ok(stat) = cap.stats() {
                widen.update(stat, &counters);
            }
            if !batch.is_empty() && batch_started.elapsed() >= FLUSH_AFTER {
                send(&mut batch);
            }
        }
    }
    counters.packets.fetch_add(packets, Ordering::Relaxed);
    counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    if let Ok(stat) = cap.stats() {
        widen.update(stat, &counters);
    }
    // The last batch and the end message must arrive: block for them (the
    // engine drains the channel until it sees `Ended`).
    if !batch.is_empty() {
        let _ = tx.send(Msg::Packets(batch));
    }
    let _ = tx.send(Msg::Ended { error, skipped });
}

/// Opens and configures the capture; errors are one actionable line.
pub(crate) fn open(
    interface: &str,
    buffer_mb: u32,
    filter: &str,
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
    cap.filter(filter, true).map_err(|e| {
        format!("--bpf: the capture filter does not compile ({e}); filter: {filter}")
    })?;
    let linktype = u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX);
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
