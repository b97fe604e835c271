//! Live capture: the same flow engine as `check`, fed from an interface
//! through libpcap (cargo feature `live`).
//!
//! Two threads. The capture thread ([`capture`]) reads libpcap in immediate
//! mode with a read timeout, decodes each frame to a [`PacketMeta`] and hands
//! batches over a bounded channel; it never waits on analysis (a full channel
//! drops the batch and counts it as `app_dropped`, apart from the kernel's own
//! drops). The engine ([`engine`], on the calling thread) runs the flow table
//! of `check`, decides connections as their fate settles — when they end,
//! when their reply timeout passes (on the packets' clock, and on the wall
//! clock while the link is idle), or after their idle timeout — prints them
//! as they are decided, and evicts them. On SIGINT/SIGTERM or the end of
//! `--duration`, everything still open is decided and the final report of
//! `check` is written, with a `live` object (interface, drops, duration).
//!
//! [`PacketMeta`]: crate::decode::PacketMeta

mod capture;
mod engine;
mod filter;

pub use filter::default_filter;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::RecvTimeoutError;

use crate::analysis::{Analysis, InputSummary, SkipCounts};
use crate::broadcast::{BroadcastConfig, BroadcastTable};
use crate::capture::{Format, Warning};
use crate::catalog::CatalogSet;
use crate::classify::Verdict;
use crate::flow::FlowConfig;
use crate::inventory::Inventory;
use crate::report::baseline::{self, Baseline};
use crate::report::{self, Finish, LiveStats, Outcome, StopCause};
use capture::{Counters, Msg};
use engine::{Emit, Engine};

/// Report format of a live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveFormat {
    /// Findings one line each on stdout as they are decided; the text report at the end.
    Text,
    /// The JSON report at the end.
    Json,
    /// One JSON object per connection as it is decided.
    Jsonl,
    /// The HTML report at the end.
    Html,
}

/// Everything a live run needs.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Interface to capture on (`-i`).
    pub interface: String,
    /// Stop after this long (default: until SIGINT/SIGTERM).
    pub duration: Option<Duration>,
    /// Capture filter replacing the default one ([`default_filter`]).
    pub bpf: Option<String>,
    /// Time between summary lines on stderr.
    pub interval: Duration,
    /// Kernel capture buffer in MiB.
    pub buffer_mb: u32,
    /// Timeouts and limits of the flow table (as `check`).
    pub flow: FlowConfig,
    /// Broadcast and multicast recognition (as `check`).
    pub broadcast: BroadcastConfig,
    pub format: LiveFormat,
    /// Final report (text, json) or the connection stream (jsonl) goes there.
    pub output: Option<PathBuf>,
    pub fail_on: report::FailOn,
    pub baseline: Option<Baseline>,
    /// No summary lines on stderr.
    pub quiet: bool,
    /// How the text report (and the finding lines) are written: colour,
    /// width, `--all`, `--utc`, as `check`'s.
    pub text: report::text::Options,
    /// The language of the finding lines, the summary lines and the report.
    pub lang: report::lang::Lang,
}

/// A live run that cannot start or go on (status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LiveError(pub String);

/// How often the engine wakes up on a quiet link.
const TICK: Duration = Duration::from_millis(100);
/// How often settled connections are looked for (a pass over the table).
const SETTLE_EVERY: Duration = Duration::from_millis(500);
/// While the link is idle the wall clock stands in for the packets' clock,
/// less this margin for packets still on their way through the kernel.
const WALL_MARGIN_NS: i64 = 500_000_000;

fn wall_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Captures until the duration ends or SIGINT/SIGTERM, then writes the final
/// report; returns the exit status (0 or 1, as `check`).
pub fn run(
    options: &LiveOptions,
    catalogs: &CatalogSet,
    inventory: Option<&Inventory>,
) -> Result<i32, LiveError> {
    let filter = options
        .bpf
        .clone()
        .unwrap_or_else(|| default_filter(catalogs));
    let (cap, linktype) =
        capture::open(&options.interface, options.buffer_mb, &filter).map_err(LiveError)?;

    // SIGINT/SIGTERM set the flag; a second one while shutting down exits at once.
    let signalled = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&signalled))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&signalled)))
            .map_err(|e| LiveError(format!("cannot install signal handlers: {e}")))?;
    }

    // The connection stream (jsonl) is written as it goes; the final report
    // (text, json) is written atomically at the end.
    let stream: Box<dyn Write> = match (options.format, &options.output) {
        (LiveFormat::Jsonl, Some(path)) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| LiveError(format!("{}: cannot write: {e}", path.display())))?,
        )),
        _ => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let emit = match options.format {
        LiveFormat::Json | LiveFormat::Html => Emit::Nothing,
        LiveFormat::Jsonl => Emit::Connections { lang: options.lang },
        LiveFormat::Text => Emit::Findings {
            color: options.text.color,
            lang: options.lang,
        },
    };
    let mut engine = Engine::new(catalogs, inventory, options.flow.clone(), emit, stream);
    engine.broadcasts = BroadcastTable::new(options.broadcast.clone());

    let started = Instant::now();
    let started_ns = wall_ns();
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(capture::QUEUE);
    let (recycle_tx, recycle_rx) = crossbeam_channel::bounded(capture::QUEUE);
    let handle = {
        let stop = Arc::clone(&stop);
        let counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("flowlint-capture".to_string())
            .spawn(move || capture::run(cap, linktype, tx, recycle_rx, stop, counters))
            .map_err(|e| LiveError(format!("cannot start the capture thread: {e}")))?
    };

    let mut summary = Summary::new(options, &counters);
    let mut last_settle = Instant::now();
    let mut capture_error = None;
    let mut skipped = SkipCounts::default();
    loop {
        let stopping = signalled.load(Ordering::Relaxed)
            || options.duration.is_some_and(|d| started.elapsed() >= d);
        if stopping {
            stop.store(true, Ordering::Relaxed);
        }
        match rx.recv_timeout(TICK) {
            Ok(Msg::Packets(mut batch)) => {
                for pkt in &batch {
                    engine.packet(pkt);
                }
                batch.clear();
                let _ = recycle_tx.try_send(batch);
            }
            Ok(Msg::Ended { error, skipped: s }) => {
                capture_error = error;
                skipped = s;
                break;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_settle.elapsed() >= SETTLE_EVERY {
            last_settle = Instant::now();
            // Only an empty queue means the wall clock is ahead of every
            // packet that matters; otherwise the packets' clock leads.
            let now = if rx.is_empty() {
                wall_ns() - WALL_MARGIN_NS
            } else {
                i64::MIN
            };
            engine.settle(now);
        }
        summary.maybe_print(&engine);
    }
    // The thread has sent `Ended` (or died): it is done with the capture.
    if handle.join().is_err() {
        capture_error = Some("the capture thread failed".to_string());
    }
    let ended_ns = wall_ns();
    engine.finish(ended_ns);
    if let Some(e) = &capture_error {
        eprintln!(
            "flowlint: {}: {}: {e}",
            crate::term!(options.lang, "warning", "警告"),
            options.interface
        );
    }

    let c = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let live = LiveStats {
        interface: options.interface.clone(),
        filter,
        linktype,
        started_ns,
        ended_ns,
        duration_s: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        packets: c(&counters.packets),
        kernel_received: c(&counters.kernel_received),
        kernel_dropped: c(&counters.kernel_dropped),
        interface_dropped: c(&counters.interface_dropped),
        app_dropped: c(&counters.app_dropped),
        late_packets: engine.late_packets,
        stopped_by: if capture_error.is_some() {
            StopCause::CaptureError
        } else if signalled.load(Ordering::Relaxed) {
            StopCause::Signal
        } else {
            StopCause::Duration
        },
    };

    let flow_stats = engine.flows.stats.clone();
    let analysis = Analysis {
        inputs: vec![InputSummary {
            path: options.interface.clone(),
            format: Format::PCAP,
            linktypes: vec![linktype],
            packets: live.packets,
            bytes: c(&counters.bytes),
            warnings: capture_error
                .iter()
                .map(|e| Warning {
                    offset: 0,
                    kind: crate::capture::WarningKind::LiveCapture(e.clone()),
                })
                .collect(),
            skipped,
            tunnels: std::mem::take(&mut engine.tunnels),
            // Live reports its own span (`live.started`/`ended`).
            time_range: None,
        }],
        table: std::mem::take(&mut engine.convs),
        connections: Vec::new(),
        flow_stats,
        broadcasts: std::mem::replace(
            &mut engine.broadcasts,
            BroadcastTable::new(options.broadcast.clone()),
        )
        .finish(),
        end_ns: Some(ended_ns),
        record_notes: Default::default(),
    };
    drop(engine);
    let mut outcome = Outcome::classify(analysis, catalogs, inventory);
    outcome.lang = options.lang;
    if let Some(old) = &options.baseline {
        outcome.baseline = Some(baseline::compare(&outcome.classification, catalogs, old));
    }
    outcome.live = Some(live);
    let code = match options.format {
        // The connections went out as they were decided.
        LiveFormat::Jsonl => outcome.exit_status(&options.fail_on),
        LiveFormat::Json | LiveFormat::Text | LiveFormat::Html => {
            let finish = Finish {
                format: match options.format {
                    LiveFormat::Json => report::Format::Json,
                    LiveFormat::Html => report::Format::Html,
                    _ => report::Format::Text(options.text),
                },
                output: options.output.clone(),
                fail_on: options.fail_on.clone(),
            };
            report::finish(&outcome, &finish).map_err(|e| LiveError(e.to_string()))?
        }
    };
    if !options.quiet {
        let live = outcome.live.as_ref().expect("set above");
        let line = crate::tr!(
            options.lang,
            "flowlint: live {interface}: {summary}; dropped: kernel {kernel}, interface {nic}, app {app} ({secs:.1} s)",
            "flowlint: live {interface}: {summary}。取りこぼし: カーネル {kernel}、インタフェース {nic}、flowlint {app}（{secs:.1} 秒）",
            interface = options.interface,
            summary = outcome.summary_line(),
            kernel = live.kernel_dropped,
            nic = live.interface_dropped,
            app = live.app_dropped,
            secs = started.elapsed().as_secs_f64()
        );
        eprintln!("{line}");
    }
    Ok(code)
}

/// The periodic summary line on stderr.
struct Summary<'c> {
    quiet: bool,
    interval: Duration,
    interface: String,
    counters: &'c Counters,
    last: Instant,
    last_packets: u64,
    lang: report::lang::Lang,
}

impl<'c> Summary<'c> {
    fn new(options: &LiveOptions, counters: &'c Counters) -> Summary<'c> {
        Summary {
            quiet: options.quiet,
            interval: options.interval,
            interface: options.interface.clone(),
            counters,
            last: Instant::now(),
            last_packets: 0,
            lang: options.lang,
        }
    }

    fn maybe_print(&mut self, engine: &Engine<'_>) {
        let elapsed = self.last.elapsed();
        if self.quiet || elapsed < self.interval {
            return;
        }
        self.last = Instant::now();
        let c = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let packets = c(&self.counters.packets);
        let pps = (packets - self.last_packets) as f64 / elapsed.as_secs_f64().max(1e-3);
        self.last_packets = packets;
        let v = engine.verdict_counts();
        let line = crate::tr!(
            self.lang,
            "flowlint: live {interface}: {packets} packets ({pps:.0}/s), {open} open, {decided} decided, {casts} broadcast; findings: \
             {blocked} blocked, {wrong} wrong_direction, {unexpected} unexpected; dropped: kernel {kernel}, interface {nic}, app {app}",
            "flowlint: live {interface}: パケット {packets} 個（{pps:.0}/秒）、追跡中 {open}、判定済み {decided}、ブロードキャスト {casts}。\
             検出: 遮断の疑い {blocked}、逆方向 {wrong}、想定外 {unexpected}。取りこぼし: カーネル {kernel}、インタフェース {nic}、flowlint {app}",
            interface = self.interface,
            packets = packets,
            pps = pps,
            open = engine.flows.len(),
            decided = engine.decided,
            casts = engine.broadcasts.packets(),
            blocked = v[Verdict::Blocked as usize],
            wrong = v[Verdict::WrongDirection as usize],
            unexpected = v[Verdict::Unexpected as usize],
            kernel = c(&self.counters.kernel_dropped),
            nic = c(&self.counters.interface_dropped),
            app = c(&self.counters.app_dropped),
        );
        eprintln!("{line}");
    }
}
