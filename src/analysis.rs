//! One analysis: captures in, conversations out.
//!
//! Owns: opening every capture (all headers are checked before any work, so a
//! bad file fails the run at once), merging several captures by timestamp into
//! one packet stream, decoding, and feeding the flow table — on one thread, or
//! with flows sharded by connection key over worker threads (each shard owned
//! by one worker, so no locks on the hot path). The result does not depend on
//! the number of threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::broadcast::{BroadcastConfig, BroadcastTable, Broadcasts};
use crate::capture::{CaptureError, CaptureReader, Format, Warning};
use crate::catalog::PortBitmap;
use crate::classify::ConversationTable;
use crate::decode::{self, PacketMeta, Skip, TunnelKind, Tunnels};
use crate::flow::{ConnKey, ConnRecord, FlowConfig, FlowStats, FlowTable};

/// How to run an analysis.
#[derive(Clone, Debug)]
pub struct Options {
    pub flow: FlowConfig,
    /// Worker threads in all (1 = everything on the calling thread).
    pub threads: usize,
    /// Keep every decided connection (for JSONL output).
    pub keep_connections: bool,
    /// Conversations kept one by one at most (see `ConversationTable`).
    pub max_conversations: usize,
    /// Broadcast and multicast recognition (inventory subnet broadcasts,
    /// reply timeout, bound): such datagrams are listed apart.
    pub broadcast: BroadcastConfig,
}

/// Counts of records that yielded no connection packet, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkipCounts([u64; Skip::ALL.len()]);

impl SkipCounts {
    pub fn add(&mut self, skip: Skip) {
        self.0[skip as usize] += 1;
    }

    pub fn get(&self, skip: Skip) -> u64 {
        self.0[skip as usize]
    }

    /// The reasons that occurred, by name (in name order, as reports list them).
    pub fn nonzero(&self) -> impl Iterator<Item = (&'static str, u64)> {
        let mut named: Vec<(&'static str, u64)> = Skip::ALL
            .iter()
            .map(|s| (s.as_str(), self.get(*s)))
            .filter(|(_, n)| *n > 0)
            .collect();
        named.sort_unstable();
        named.into_iter()
    }
}

/// Packets that came through each kind of tunnel (a packet through GRE
/// then VXLAN counts once for each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TunnelCounts([u64; TunnelKind::ALL.len()]);

impl TunnelCounts {
    #[inline]
    pub fn add(&mut self, tunnels: Tunnels) {
        for kind in tunnels.iter() {
            self.0[kind as usize] += 1;
        }
    }

    pub fn get(&self, kind: TunnelKind) -> u64 {
        self.0[kind as usize]
    }

    /// The kinds seen, by name (in name order, as reports list them).
    pub fn nonzero(&self) -> impl Iterator<Item = (&'static str, u64)> {
        let mut named: Vec<(&'static str, u64)> = TunnelKind::ALL
            .iter()
            .map(|k| (k.as_str(), self.get(*k)))
            .filter(|(_, n)| *n > 0)
            .collect();
        named.sort_unstable();
        named.into_iter()
    }
}

/// What one capture file contributed.
#[derive(Clone, Debug)]
pub struct InputSummary {
    pub path: String,
    pub format: Format,
    pub linktypes: Vec<u32>,
    pub packets: u64,
    /// Bytes of the packets on the wire.
    pub bytes: u64,
    pub warnings: Vec<Warning>,
    pub skipped: SkipCounts,
    /// Packets by the kind of tunnel they came through.
    pub tunnels: TunnelCounts,
    /// The earliest and latest record time (ns since the epoch), if any.
    pub time_range: Option<(i64, i64)>,
}

impl InputSummary {
    /// Widens the time range to a record's time.
    #[inline]
    pub fn saw_time(&mut self, ts_ns: i64) {
        self.time_range = Some(match self.time_range {
            Some((lo, hi)) => (lo.min(ts_ns), hi.max(ts_ns)),
            None => (ts_ns, ts_ns),
        });
    }
}

/// The outcome of the flow stage over all captures.
#[derive(Debug, Default)]
pub struct Analysis {
    pub inputs: Vec<InputSummary>,
    pub table: ConversationTable,
    /// Every decided connection, sorted by first packet, when asked for.
    pub connections: Vec<ConnRecord>,
    pub flow_stats: FlowStats,
    /// Broadcast and multicast datagrams and their replies, apart.
    pub broadcasts: Broadcasts,
    /// Time of the last packet (ns since the epoch), if any.
    pub end_ns: Option<i64>,
    /// What flow records could not tell, per conversation (empty for
    /// captures; see `crate::records`).
    pub record_notes: crate::records::RecordNotes,
}

impl Analysis {
    pub fn packets(&self) -> u64 {
        self.inputs.iter().map(|i| i.packets).sum()
    }
}

/// Called now and then with (bytes read so far, total bytes).
pub type ProgressFn<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Opens every capture: a header that cannot be read fails the whole run.
pub fn open_all(paths: &[PathBuf]) -> Result<Vec<CaptureReader>, CaptureError> {
    paths.iter().map(|p| CaptureReader::open(p)).collect()
}

/// Collects decided connections into conversations (and optionally keeps them).
struct Sink {
    table: ConversationTable,
    keep: bool,
    kept: Vec<ConnRecord>,
}

impl Sink {
    fn new(keep: bool, max_conversations: usize) -> Sink {
        Sink {
            table: ConversationTable::with_limit(max_conversations),
            keep,
            kept: Vec::new(),
        }
    }

    fn push(&mut self, rec: ConnRecord) {
        self.table.add(&rec);
        if self.keep {
            self.kept.push(rec);
        }
    }
}

/// Runs the analysis over opened captures.
pub fn analyse(
    paths: &[PathBuf],
    mut readers: Vec<CaptureReader>,
    options: &Options,
    server_ports: Arc<PortBitmap>,
    progress: Option<ProgressFn<'_>>,
) -> Analysis {
    let mut config = options.flow.clone();
    config.dedup = readers.len() > 1;
    if options.keep_connections && config.zeek_ports.is_none() {
        // JSONL writes Zeek's view of every connection.
        config = config.with_zeek_view();
    }
    let total: u64 = readers.iter().filter_map(|r| r.total_len()).sum();
    let mut inputs: Vec<InputSummary> = paths
        .iter()
        .zip(&readers)
        .map(|(p, r)| InputSummary {
            path: display_path(p),
            format: r.format(),
            linktypes: Vec::new(),
            packets: 0,
            bytes: 0,
            warnings: Vec::new(),
            skipped: SkipCounts::default(),
            tunnels: TunnelCounts::default(),
            time_range: None,
        })
        .collect();
    let workers = options.threads.max(1).saturating_sub(1);
    let mut end_ns: Option<i64> = None;
    let mut broadcasts = BroadcastTable::new(BroadcastConfig {
        dedup: config.dedup,
        ..options.broadcast.clone()
    });
    let (sink, flow_stats, extra) = if workers == 0 {
        let mut table = FlowTable::new(config.clone(), server_ports);
        let mut sink = Sink::new(options.keep_connections, options.max_conversations);
        // Small batches, so the table can prefetch ahead as the shards do.
        let mut batch: Batch = Vec::with_capacity(LOCAL_BATCH);
        let mut keys = Vec::with_capacity(LOCAL_BATCH);
        let extra = read_all(
            &mut readers,
            &mut inputs,
            total,
            progress,
            &mut end_ns,
            |pkt, input| {
                if !broadcasts.take(pkt, input) {
                    batch.push((*pkt, input));
                    if batch.len() == LOCAL_BATCH {
                        process_batch(&mut table, &batch, &mut keys, &mut |rec| sink.push(rec));
                        batch.clear();
                    }
                }
            },
        );
        process_batch(&mut table, &batch, &mut keys, &mut |rec| sink.push(rec));
        table.finish(end_ns.unwrap_or(0), &mut |rec| sink.push(rec));
        let stats = table.stats.clone();
        (sink, stats, extra)
    } else {
        sharded(
            workers,
            &config,
            server_ports,
            (options.keep_connections, options.max_conversations),
            &mut readers,
            &mut inputs,
            total,
            progress,
            &mut end_ns,
            &mut broadcasts,
        )
    };
    for ((summary, reader), extra) in inputs.iter_mut().zip(&readers).zip(extra) {
        summary.linktypes = reader.linktypes().to_vec();
        summary.warnings = reader.warnings().to_vec();
        summary.warnings.extend(extra);
        summary.warnings.sort_by_key(|w| w.offset);
    }
    // Both paths build one conversation table (see `sharded` for where).
    let Sink {
        table,
        kept: mut connections,
        ..
    } = sink;
    connections.sort_by_key(ConnRecord::report_order);
    Analysis {
        inputs,
        table,
        connections,
        flow_stats,
        broadcasts: broadcasts.finish(),
        end_ns,
        record_notes: Default::default(),
    }
}

fn display_path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Walks every record of every capture in timestamp order (a k-way merge when
/// there are several), decodes it and hands it to `each`.
fn read_all(
    readers: &mut [CaptureReader],
    inputs: &mut [InputSummary],
    total: u64,
    progress: Option<ProgressFn<'_>>,
    end_ns: &mut Option<i64>,
    mut each: impl FnMut(&PacketMeta, u16),
) -> Vec<Vec<Warning>> {
    let mut since_progress = 0u32;
    let mut clocks = vec![ClockGuard::default(); readers.len()];
    let mut extra_warnings: Vec<Vec<Warning>> = vec![Vec::new(); readers.len()];
    loop {
        let index = if readers.len() == 1 {
            0
        } else {
            let mut best: Option<(i64, usize)> = None;
            for (i, r) in readers.iter_mut().enumerate() {
                if let Some(ts) = r.peek_ts() {
                    if best.is_none_or(|(b, _)| ts < b) {
                        best = Some((ts, i));
                    }
                }
            }
            match best {
                Some((_, i)) => i,
                None => break,
            }
        };
        let Some(packet) = readers[index].next_packet() else {
            break;
        };
        let summary = &mut inputs[index];
        summary.packets += 1;
        summary.bytes += u64::from(packet.orig_len);
        summary.saw_time(packet.ts_ns);
        let offset = packet.offset;
        let data = strip_fcs(packet.data, packet.orig_len, packet.fcs_len);
        let mut tunnels = Tunnels::NONE;
        let decoded = decode::decode_with(
            packet.linktype,
            data,
            packet.ts_ns,
            packet.orig_len,
            &mut tunnels,
        );
        if !tunnels.is_empty() {
            summary.tunnels.add(tunnels);
        }
        match decoded {
            Ok(mut meta) => {
                let guard = &mut clocks[index];
                if guard.suspicious(meta.ts_ns) {
                    let next = readers[index].peek_ts();
                    let taken = guard.settle(meta.ts_ns, next);
                    if taken != meta.ts_ns {
                        guard.note_outlier(&mut extra_warnings[index], offset, meta.ts_ns, taken);
                        meta.ts_ns = taken;
                    }
                } else {
                    guard.accept(meta.ts_ns);
                }
                *end_ns = Some(end_ns.map_or(meta.ts_ns, |e| e.max(meta.ts_ns)));
                each(&meta, index as u16);
            }
            Err(skip) => inputs[index].skipped.add(skip),
        }
        since_progress += 1;
        if since_progress >= 65536 {
            since_progress = 0;
            if let Some(report) = progress {
                let done: u64 = readers.iter().map(|r| r.position()).sum();
                report(done, total);
            }
        }
    }
    if let Some(report) = progress {
        let done: u64 = readers.iter().map(|r| r.position()).sum();
        report(done, total);
    }
    // The capture ends at its clock's last reading: after a confirmed step
    // back, that is in the new era, and connections of the old one are over.
    if let Some(last) = clocks.iter().filter_map(|g| g.clock).max() {
        *end_ns = Some(last);
    }
    for (warnings, guard) in extra_warnings.iter_mut().zip(&clocks) {
        if guard.outliers > OUTLIER_WARNINGS {
            warnings.push(Warning {
                offset: guard.last_outlier_offset,
                kind: crate::capture::WarningKind::ClockOutliers {
                    count: guard.outliers,
                },
            });
        }
    }
    extra_warnings
}

/// A timestamp this far from the previous packet's is suspicious.
const CLOCK_JUMP_NS: i64 = 3600 * 1_000_000_000;
/// Outlier warnings listed one by one; beyond, one line counts them.
const OUTLIER_WARNINGS: u64 = 5;

/// Keeps one capture's clock sane: a lone record whose timestamp jumps far
/// from its neighbours (a broken clock, a corrupt record) takes its
/// predecessor's time, so it neither ends every open connection at once nor
/// stalls their eviction. A jump the next record confirms (a capture paused
/// and resumed) is real and accepted.
#[derive(Clone, Debug, Default)]
struct ClockGuard {
    clock: Option<i64>,
    outliers: u64,
    last_outlier_offset: u64,
}

impl ClockGuard {
    fn suspicious(&self, ts: i64) -> bool {
        match self.clock {
            None => true,
            Some(c) => ts.abs_diff(c) > CLOCK_JUMP_NS as u64,
        }
    }

    fn accept(&mut self, ts: i64) {
        self.clock = Some(self.clock.map_or(ts, |c| c.max(ts)));
    }

    /// The time to use for a suspicious record, given the next record's.
    fn settle(&mut self, ts: i64, next: Option<i64>) -> i64 {
        let agrees = |n: i64| n.abs_diff(ts) <= CLOCK_JUMP_NS as u64;
        let taken = match (self.clock, next) {
            // The first record: trust it unless the next one disagrees.
            (None, Some(n)) if !agrees(n) => n,
            (None, _) => ts,
            (Some(_), Some(n)) if agrees(n) => ts,
            (Some(c), _) => c,
        };
        // A confirmed jump moves the clock, backwards too.
        self.clock = Some(if taken == ts {
            ts
        } else {
            self.clock.unwrap_or(taken)
        });
        taken
    }

    fn note_outlier(&mut self, warnings: &mut Vec<Warning>, offset: u64, ts: i64, taken: i64) {
        self.outliers += 1;
        self.last_outlier_offset = offset;
        if self.outliers <= OUTLIER_WARNINGS {
            warnings.push(Warning {
                offset,
                kind: crate::capture::WarningKind::ClockOutlier { ts, taken },
            });
        }
    }
}

/// A trailing FCS the capture declares is not part of the packet.
fn strip_fcs(data: &[u8], orig_len: u32, fcs_len: u8) -> &[u8] {
    let fcs = usize::from(fcs_len);
    // Only a record that holds the whole frame ends with the FCS.
    if fcs > 0 && data.len() as u64 >= u64::from(orig_len) && data.len() >= fcs {
        &data[..data.len() - fcs]
    } else {
        data
    }
}

/// Packets per hand-off to a shard: large enough that channel operations and
/// wake-ups are a small cost per packet, small enough (~270 KB) to stay in L2.
const BATCH: usize = 2048;

/// How many packets ahead a shard asks for the memory of a packet's
/// connection ([`FlowTable::prefetch`]): enough packets of work to cover a
/// memory fetch, few enough that the fetched lines are still in cache. 4
/// was slower, 12 no faster; prefetching the tags too (16 ahead) cost ~2 %
/// (alternating runs, high-cardinality and default bench mixes, -j 2).
const PREFETCH_AHEAD: usize = 8;

/// Packets per batch when one thread does everything: enough to look
/// [`PREFETCH_AHEAD`] packets ahead most of the time.
const LOCAL_BATCH: usize = 64;

/// Feeds a batch to a table in order, asking for each packet's memory ahead
/// (`keys`: scratch space, reused from batch to batch).
#[inline]
fn process_batch(
    table: &mut FlowTable,
    batch: &[(PacketMeta, u16)],
    keys: &mut Vec<ConnKey>,
    out: &mut impl FnMut(ConnRecord),
) {
    keys.clear();
    keys.extend(batch.iter().map(|(pkt, _)| ConnKey::of(pkt)));
    for (i, ((pkt, input), key)) in batch.iter().zip(keys.iter()).enumerate() {
        if let Some(near) = keys.get(i + PREFETCH_AHEAD) {
            table.prefetch(near);
        }
        table.process_keyed(pkt, *key, *input, out);
    }
}

/// Packets for one shard with the capture each came from. The key is
/// computed again on the shard's thread: cheaper than sending its 48 bytes.
type Batch = Vec<(PacketMeta, u16)>;

enum Work {
    Packets(Batch),
    /// The capture ended at this time.
    Finish(i64),
}

/// A worker's answer to one [`Work`]: the emptied batch (for reuse) and the
/// connections that work decided.
type Reply = (Batch, Vec<ConnRecord>);

/// Reader and decoder on this thread, flow tables sharded over `workers`
/// threads; the conversation table on the worker when there is one, else here.
///
/// Why one conversation table, not one per shard to merge: its folding limit
/// takes the first conversations in an order that must not depend on timing.
/// A single worker sees every connection in input order. With several,
/// decided connections come back here in the order their work was sent,
/// whatever the timing, so the table sees them in an order fixed by the
/// input and the shard count.
#[allow(clippy::too_many_arguments)]
fn sharded(
    workers: usize,
    config: &FlowConfig,
    server_ports: Arc<PortBitmap>,
    (keep, max_conversations): (bool, usize),
    readers: &mut [CaptureReader],
    inputs: &mut [InputSummary],
    total: u64,
    progress: Option<ProgressFn<'_>>,
    end_ns: &mut Option<i64>,
    broadcasts: &mut BroadcastTable,
) -> (Sink, FlowStats, Vec<Vec<Warning>>) {
    // A single worker sees every packet in input order, so it can also set
    // the broadcasts apart and compute the keys (no shard to choose): the
    // reading thread, the busier of the two, then only reads and decodes.
    let (mut reader_broadcasts, mut worker_broadcasts) = if workers == 1 {
        (None, Some(broadcasts))
    } else {
        (Some(broadcasts), None)
    };
    std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(workers);
        let mut replies = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = crossbeam_channel::bounded::<Work>(16);
            // Unbounded, yet never long: the bounded work queue limits how
            // much work (hence how many replies) can be outstanding.
            let (reply_tx, reply_rx) = crossbeam_channel::unbounded::<Reply>();
            senders.push(tx);
            replies.push(reply_rx);
            let mut per_shard = config.clone();
            per_shard.max_connections = (config.max_connections / workers).max(1);
            let ports = Arc::clone(&server_ports);
            // A single worker sees every connection in order: it builds the
            // conversation table itself, which takes that work off the
            // reading thread (the busier of the two).
            let mut own_sink = (workers == 1).then(|| Sink::new(keep, max_conversations));
            let mut broadcasts = worker_broadcasts.take();
            handles.push(scope.spawn(move || {
                let mut table = FlowTable::new(per_shard, ports);
                let mut keys = Vec::with_capacity(BATCH);
                for work in rx {
                    let mut decided = Vec::new();
                    let mut deliver = |rec: ConnRecord| match &mut own_sink {
                        Some(sink) => sink.push(rec),
                        None => decided.push(rec),
                    };
                    let batch = match work {
                        Work::Packets(mut batch) => {
                            if let Some(broadcasts) = broadcasts.as_deref_mut() {
                                batch.retain(|(pkt, input)| !broadcasts.take(pkt, *input));
                            }
                            process_batch(&mut table, &batch, &mut keys, &mut deliver);
                            batch.clear();
                            batch
                        }
                        Work::Finish(end) => {
                            table.finish(end, &mut deliver);
                            Vec::new()
                        }
                    };
                    if reply_tx.send((batch, decided)).is_err() {
                        break;
                    }
                }
                (table.stats, own_sink)
            }));
        }
        let mut sink = Sink::new(keep, max_conversations);
        // Shards whose replies are awaited, in the order the work was sent.
        let mut awaited: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
        let mut spare: Vec<Batch> = Vec::new();
        let take = |reply: Reply, spare: &mut Vec<Batch>, sink: &mut Sink| {
            let (batch, decided) = reply;
            if batch.capacity() > 0 {
                spare.push(batch);
            }
            for rec in decided {
                sink.push(rec);
            }
        };
        let mut pending: Vec<Batch> = (0..workers).map(|_| Vec::with_capacity(BATCH)).collect();
        let extra = read_all(readers, inputs, total, progress, end_ns, |pkt, input| {
            // Broadcasts: in input order, before the shard is chosen.
            let shard = match reader_broadcasts.as_deref_mut() {
                Some(broadcasts) => {
                    if broadcasts.take(pkt, input) {
                        return;
                    }
                    ConnKey::of(pkt).shard(workers)
                }
                None => 0,
            };
            pending[shard].push((*pkt, input));
            if pending[shard].len() >= BATCH {
                // Collect the replies already there (never wait for one).
                while let Some(&s) = awaited.front() {
                    match replies[s].try_recv() {
                        Ok(reply) => {
                            awaited.pop_front();
                            take(reply, &mut spare, &mut sink);
                        }
                        Err(_) => break,
                    }
                }
                let fresh = spare.pop().unwrap_or_else(|| Vec::with_capacity(BATCH));
                let full = std::mem::replace(&mut pending[shard], fresh);
                if senders[shard].send(Work::Packets(full)).is_ok() {
                    awaited.push_back(shard);
                }
            }
        });
        let end = end_ns.unwrap_or(0);
        for (shard, batch) in pending.into_iter().enumerate() {
            if !batch.is_empty() && senders[shard].send(Work::Packets(batch)).is_ok() {
                awaited.push_back(shard);
            }
            if senders[shard].send(Work::Finish(end)).is_ok() {
                awaited.push_back(shard);
            }
        }
        drop(senders);
        while let Some(s) = awaited.pop_front() {
            match replies[s].recv() {
                Ok(reply) => take(reply, &mut spare, &mut sink),
                // The worker panicked: its join below says why.
                Err(_) => break,
            }
        }
        let mut stats = FlowStats::default();
        for handle in handles {
            match handle.join() {
                Ok((s, own_sink)) => {
                    stats.duplicates += s.duplicates;
                    stats.evicted_early += s.evicted_early;
                    stats.peak_connections += s.peak_connections;
                    if let Some(own) = own_sink {
                        sink = own;
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (sink, stats, extra)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1_000_000_000;

    #[test]
    fn a_lone_timestamp_jump_takes_the_previous_time() {
        let mut g = ClockGuard::default();
        assert_eq!(g.settle(100, Some(101)), 100);
        g.accept(101);
        // 47 years ahead, and the next record is back at 102: an outlier.
        assert!(g.suspicious(101 + 47 * 8766 * H));
        assert_eq!(g.settle(101 + 47 * 8766 * H, Some(102)), 101);
        // A pause of a day that the next record confirms is real.
        assert!(g.suspicious(102 + 24 * H));
        assert_eq!(g.settle(102 + 24 * H, Some(103 + 24 * H)), 102 + 24 * H);
        // And so is a confirmed step back.
        assert_eq!(g.settle(5, Some(6)), 5);
        assert!(!g.suspicious(7));
    }

    #[test]
    fn a_first_record_out_of_line_with_the_next_takes_its_time() {
        let mut g = ClockGuard::default();
        // A simple packet block at time 0 before timestamped records.
        assert_eq!(
            g.settle(0, Some(1_340_954_905 * 1_000_000_000)),
            1_340_954_905 * 1_000_000_000
        );
        let mut g = ClockGuard::default();
        assert_eq!(g.settle(0, None), 0);
    }
}
