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
pub mod checkpoint;
mod engine;
mod filter;
pub mod privileges;
#[cfg(target_os = "linux")]
pub mod seccomp;

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
use crate::report::{
    self, DropInterval, Finish, LivePrivileges, LiveStats, LossCause, Outage, Outcome, StopCause,
};
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
    /// Write the report to `output` this often (`--checkpoint`).
    pub checkpoint: Option<Duration>,
    /// Give up root (and every capability) once the interface is open.
    pub drop_privileges: bool,
    /// The user to become (`--user`; default [`privileges::OWN_USER`] or
    /// [`privileges::FALLBACK_USER`]).
    pub user: Option<String>,
    /// Confine the process with seccomp (Linux).
    pub seccomp: bool,
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
/// Outages and drop intervals listed in a report at most (months of a
/// flapping port must not grow it without bound); the rest are counted.
const MAX_LISTED: usize = 10_000;

fn wall_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// What every report of a run shares: built once, when the run has
/// started; [`Snapshot::outcome`] adds what changes (the engine's tables,
/// the outages, the drop intervals).
struct Snapshot<'s> {
    options: &'s LiveOptions,
    catalogs: &'s CatalogSet,
    inventory: Option<&'s Inventory>,
    filter: &'s str,
    linktype: u32,
    counters: &'s Counters,
    started: Instant,
    started_ns: i64,
    privileges: &'s LivePrivileges,
}

/// Why a report is written.
enum Moment<'e> {
    /// A checkpoint (or SIGHUP): the run goes on.
    Checkpoint,
    /// The final report: everything is decided.
    Final {
        stopped_by: StopCause,
        capture_error: Option<&'e str>,
    },
}

impl<'s> Snapshot<'s> {
    /// The report of everything decided so far, as the final one would be
    /// written now.
    ///
    /// The engine's conversation table and its uncertain conversations
    /// move into the outcome, not a copy of them: the engine is paused
    /// between batches while the report is written, and a checkpoint gives
    /// them back with [`Snapshot::give_back`] (a copy of a large table
    /// stepped the RSS up by tens of MB at each checkpoint).
    fn outcome(
        &self,
        engine: &mut Engine<'_>,
        moment: Moment<'_>,
        outages: &[Outage],
        summary: &Summary<'_>,
        skipped: &SkipCounts,
    ) -> Outcome<'s> {
        let (options, catalogs, inventory) = (self.options, self.catalogs, self.inventory);
        let (stopped_by, capture_error) = match moment {
            Moment::Checkpoint => (StopCause::Running, None),
            Moment::Final {
                stopped_by,
                capture_error,
            } => (stopped_by, capture_error),
        };
        let ended_ns = wall_ns();
        let c = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let (drop_intervals, drop_intervals_omitted) = summary.drop_intervals();
        let live = LiveStats {
            interface: options.interface.clone(),
            filter: self.filter.to_string(),
            linktype: self.linktype,
            started_ns: self.started_ns,
            ended_ns,
            duration_s: (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            packets: c(&self.counters.packets),
            kernel_received: c(&self.counters.kernel_received),
            kernel_dropped: c(&self.counters.kernel_dropped),
            interface_dropped: c(&self.counters.interface_dropped),
            app_dropped: c(&self.counters.app_dropped),
            late_packets: engine.late_packets,
            stopped_by,
            checkpoint: stopped_by == StopCause::Running,
            open_connections: engine.flows.len() as u64,
            outages: {
                let mut list = outages.to_vec();
                // An outage still running: the attempts so far.
                if let Some(o) = list.last_mut().filter(|o| o.end_ns.is_none()) {
                    o.attempts = self.counters.reopen_attempts.load(Ordering::Relaxed);
                }
                list
            },
            drop_intervals,
            drop_intervals_omitted,
            uncertain: std::mem::take(&mut engine.uncertain),
            privileges: self.privileges.clone(),
        };
        let analysis = Analysis {
            inputs: vec![InputSummary {
                path: options.interface.clone(),
                format: Format::PCAP,
                linktypes: vec![self.linktype],
                packets: live.packets,
                bytes: c(&self.counters.bytes),
                warnings: capture_error
                    .iter()
                    .map(|e| Warning {
                        offset: 0,
                        kind: crate::capture::WarningKind::LiveCapture(e.to_string()),
                    })
                    .collect(),
                skipped: skipped.clone(),
                tunnels: engine.tunnels.clone(),
                // Live reports its own span (`live.started`/`ended`).
                time_range: None,
            }],
            table: engine.take_conversations(),
            connections: Vec::new(),
            flow_stats: engine.flows.stats.clone(),
            broadcasts: engine.broadcasts.snapshot(),
            end_ns: Some(ended_ns),
            record_notes: Default::default(),
        };
        let mut outcome = Outcome::classify(analysis, catalogs, inventory);
        outcome.lang = options.lang;
        if let Some(old) = &options.baseline {
            outcome.baseline = Some(baseline::compare(&outcome.classification, catalogs, old));
        }
        outcome.live = Some(live);
        outcome
    }

    /// After a checkpoint: the conversations and the uncertain ones go back
    /// into the engine, which runs on.
    fn give_back(engine: &mut Engine<'_>, mut outcome: Outcome<'_>) {
        if let Some(live) = outcome.live.as_mut() {
            engine.uncertain = std::mem::take(&mut live.uncertain);
        }
        let conversations = std::mem::take(&mut outcome.classification.conversations);
        drop(outcome);
        engine.give_back_conversations(conversations);
    }
}

/// The report format of a file report (`None`: JSONL, written as it goes).
fn report_format(options: &LiveOptions) -> Option<report::Format> {
    match options.format {
        LiveFormat::Json => Some(report::Format::Json),
        LiveFormat::Html => Some(report::Format::Html),
        LiveFormat::Text => Some(report::Format::Text(options.text)),
        LiveFormat::Jsonl => None,
    }
}

/// Writes the report to `path` as a checkpoint does (a write that fails
/// half-way leaves the file as it was: see [`checkpoint`]).
fn write_report(
    path: &std::path::Path,
    outcome: &Outcome<'_>,
    format: report::Format,
) -> Result<(), checkpoint::CheckpointError> {
    let exporter = format.exporter();
    checkpoint::write_with(path, |w| exporter.write(w, outcome))
}

/// The thread that takes a checkpoint written into its temporary file to
/// the disk (`fsync`, rename, the directory synced): on a busy or slow
/// disk that takes seconds, during which the engine would not read the
/// capture (and the kernel would drop packets).
struct Syncer {
    jobs: Option<crossbeam_channel::Sender<checkpoint::Pending>>,
    done: crossbeam_channel::Receiver<Result<(), checkpoint::CheckpointError>>,
    busy: bool,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Syncer {
    fn start() -> std::io::Result<Syncer> {
        let (jobs, todo) = crossbeam_channel::bounded::<checkpoint::Pending>(1);
        let (finished, done) = crossbeam_channel::bounded(1);
        let handle = std::thread::Builder::new()
            .name("flowlint-checkpoint".to_string())
            .spawn(move || {
                for pending in todo {
                    if finished.send(pending.commit()).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Syncer {
            jobs: Some(jobs),
            done,
            busy: false,
            handle: Some(handle),
        })
    }

    fn idle(&self) -> bool {
        !self.busy
    }

    /// Hands a written checkpoint over; `Some`: done here instead (the
    /// thread is gone).
    fn commit(
        &mut self,
        pending: checkpoint::Pending,
    ) -> Option<Result<(), checkpoint::CheckpointError>> {
        match self.jobs.as_ref().map(|j| j.send(pending)) {
            Some(Ok(())) => {
                self.busy = true;
                None
            }
            Some(Err(crossbeam_channel::SendError(pending))) => Some(pending.commit()),
            None => unreachable!("jobs are closed on drop only"),
        }
    }

    /// The outcome of the checkpoint handed over, once it is on the disk.
    fn finished(&mut self) -> Option<Result<(), checkpoint::CheckpointError>> {
        if !self.busy {
            return None;
        }
        match self.done.try_recv() {
            Ok(r) => {
                self.busy = false;
                Some(r)
            }
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                self.busy = false;
                Some(Err(Self::died()))
            }
        }
    }

    /// Waits for the checkpoint handed over, if any.
    fn wait(&mut self) -> Option<Result<(), checkpoint::CheckpointError>> {
        if !self.busy {
            return None;
        }
        self.busy = false;
        Some(self.done.recv().unwrap_or_else(|_| Err(Self::died())))
    }

    fn died() -> checkpoint::CheckpointError {
        checkpoint::CheckpointError {
            path: String::new(),
            step: "fsync",
            source: std::io::Error::other("the checkpoint thread failed"),
            fix: checkpoint::Fix::Other,
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Says how a checkpoint went: one line when writing starts failing (or
/// fails otherwise), not one per interval, and one when it works again.
fn say_checkpoint(
    result: Result<(), checkpoint::CheckpointError>,
    failure: &mut Option<checkpoint::CheckpointError>,
    path: &std::path::Path,
    options: &LiveOptions,
) {
    let lang = options.lang;
    match result {
        Ok(()) => {
            if failure.take().is_some() && !options.quiet {
                eprintln!(
                    "{}",
                    crate::tr!(
                        lang,
                        "flowlint: live: {path}: the report is written again",
                        "flowlint: live: {path}: レポートを再び書けるようになりました",
                        path = path.display()
                    )
                );
            }
        }
        Err(mut e) => {
            if e.path.is_empty() {
                e.path = path.display().to_string();
            }
            if !failure.as_ref().is_some_and(|f| f.same_as(&e)) {
                eprintln!(
                    "flowlint: live: {}",
                    checkpoint_text(&e, WriteStage::Checkpoint, lang)
                );
            }
            *failure = Some(e);
        }
    }
}

/// Hands the memory a checkpoint freed back to the system. glibc keeps
/// freed memory of the main heap (and raises its mmap threshold after a
/// large block is freed), so without this the RSS would keep each
/// checkpoint's peak for good.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only returns free pages of glibc's heaps to the system.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Opens the JSONL stream (appending: after SIGHUP the file may be the
/// one logrotate left, or a new one).
fn open_stream(path: &std::path::Path, append: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true);
    if append {
        o.append(true);
    } else {
        o.write(true).truncate(true);
    }
    o.open(path)
}

/// A privilege error in the run's language.
fn privilege_text(e: &privileges::PrivilegeError, lang: report::lang::Lang) -> String {
    use privileges::PrivilegeError as P;
    match (lang, e) {
        (report::lang::Lang::En, _) => e.to_string(),
        (_, P::NoSuchUser(u)) => crate::tr!(
            lang,
            "--user {u}: no such user; create it (useradd --system --no-create-home {u}) or name another with --user",
            "--user {u}: そのユーザはありません。作成する（useradd --system --no-create-home {u}）か、--user で別のユーザを指定してください",
            u = u
        ),
        (_, P::Root(u)) => crate::tr!(
            lang,
            "--user {u}: it is root; to keep root say --no-drop-privileges instead",
            "--user {u}: root です。root のまま動かすには代わりに --no-drop-privileges を指定してください",
            u = u
        ),
        (_, P::NotRoot { user, uid }) => crate::tr!(
            lang,
            "--user {user}: cannot switch to it: flowlint was not started as root (started as uid {uid}); leave out --user, or start it as root",
            "--user {user}: 切り替えられません。flowlint は root で起動されていません（uid {uid}）。--user を外すか、root で起動してください",
            user = user,
            uid = uid
        ),
        (_, P::Failed { step, source }) => crate::tr!(
            lang,
            "cannot give up root ({step}: {source}); run as root with CAP_SETUID/CAP_SETGID, or say --no-drop-privileges",
            "root 権限を手放せません（{step}: {source}）。CAP_SETUID/CAP_SETGID のある root で実行するか、--no-drop-privileges を指定してください",
            step = step,
            source = source
        ),
    }
}

/// A checkpoint error in the run's language.
/// When a report could not be written, and so what it means for the run.
#[derive(Clone, Copy)]
enum WriteStage {
    /// Before capturing (the user live now runs as cannot write there): status 2.
    Start,
    /// A checkpoint: the previous one stays, capturing goes on.
    Checkpoint,
    /// The final report: status 2.
    Final,
}

/// One line: the file, what failed, the fix, and what happens now.
fn checkpoint_text(
    e: &checkpoint::CheckpointError,
    stage: WriteStage,
    lang: report::lang::Lang,
) -> String {
    let then = match stage {
        WriteStage::Start => crate::term!(
            lang,
            "live stops before capturing",
            "キャプチャを始めずに終了します"
        ),
        WriteStage::Checkpoint => crate::term!(
            lang,
            "the previous report is intact, capturing goes on and the next checkpoint tries again",
            "直前のレポートはそのまま残り、キャプチャは続き、次のチェックポイントで再び試します"
        ),
        WriteStage::Final => crate::term!(
            lang,
            "the final report is lost (the last checkpoint, if any, is intact)",
            "最終レポートは書かれません（直前のチェックポイントがあればそのまま残ります）"
        ),
    };
    let fix = e.fix.text(lang);
    match lang {
        report::lang::Lang::En => format!("{e}; {then}"),
        report::lang::Lang::Ja => crate::tr!(
            lang,
            "{path}: cannot write the report ({step}: {source}){fix}; {then}",
            "{path}: レポートを書けません（{step}: {source}）。{fix}{then}",
            path = e.path,
            step = e.step,
            source = e.source,
            fix = fix.map(|f| format!("{f}。")).unwrap_or_default(),
            then = then
        ),
    }
}

/// Captures until the duration ends or SIGINT/SIGTERM, then writes the final
/// report; returns the exit status (0 or 1, as `check`).
pub fn run(
    options: &LiveOptions,
    catalogs: &CatalogSet,
    inventory: Option<&Inventory>,
) -> Result<i32, LiveError> {
    let lang = options.lang;
    if options.checkpoint.is_some() {
        if options.output.is_none() {
            return Err(LiveError(crate::term!(
                lang,
                "--checkpoint needs --output FILE: a report on standard output cannot be replaced",
                "--checkpoint には --output FILE が必要です（標準出力のレポートは置き換えられません）"
            )
            .to_string()));
        }
        if options.format == LiveFormat::Jsonl {
            return Err(LiveError(crate::term!(
                lang,
                "--checkpoint: the JSONL stream is written as connections are decided; leave out --checkpoint, or use --format json",
                "--checkpoint: JSONL は接続が判定されるたびに書かれます。--checkpoint を外すか、--format json を使ってください"
            )
            .to_string()));
        }
    }
    let filter = options
        .bpf
        .clone()
        .unwrap_or_else(|| default_filter(catalogs));
    let (cap, linktype) = capture::open(
        &options.interface,
        options.buffer_mb,
        &filter,
        options.bpf.is_some(),
        None,
    )
    .map_err(LiveError)?;

    // SIGINT/SIGTERM set the flag; a second one while shutting down exits at once.
    let signalled = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&signalled))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&signalled)))
            .map_err(|e| LiveError(format!("cannot install signal handlers: {e}")))?;
    }
    // SIGHUP (logrotate): reopen the JSONL stream, write the report now.
    let hangup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&hangup))
        .map_err(|e| LiveError(format!("cannot install signal handlers: {e}")))?;

    // The connection stream (jsonl) is written as it goes; the final report
    // (text, json) is written atomically at the end. Both are opened before
    // the privileges go: the stream's file may be root's.
    let stream: Box<dyn Write> = match (options.format, &options.output) {
        (LiveFormat::Jsonl, Some(path)) => Box::new(std::io::BufWriter::new(
            open_stream(path, false)
                .map_err(|e| LiveError(format!("{}: cannot write: {e}", path.display())))?,
        )),
        _ => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };

    let mut privileges = if options.drop_privileges {
        let d = privileges::drop_privileges(options.user.as_deref())
            .map_err(|e| LiveError(privilege_text(&e, lang)))?;
        LivePrivileges {
            user: d.user,
            uid: d.uid,
            gid: d.gid,
            reopen_capabilities: d.kept_for_reopen,
            seccomp_syscalls: None,
        }
    } else {
        eprintln!(
            "flowlint: {}: {}",
            crate::term!(lang, "warning", "警告"),
            crate::term!(
                lang,
                "--no-drop-privileges: live keeps its user and every capability while it parses untrusted traffic",
                "--no-drop-privileges: 信頼できないトラフィックを解析する間、ユーザもすべてのケーパビリティもそのままです"
            )
        );
        LivePrivileges {
            user: None,
            uid: nix::unistd::Uid::current().as_raw(),
            gid: nix::unistd::Gid::current().as_raw(),
            reopen_capabilities: Vec::new(),
            seccomp_syscalls: None,
        }
    };
    // As the user it now runs as: can it replace the report file?
    if let (Some(path), Some(_)) = (&options.output, report_format(options)) {
        checkpoint::probe(path)
            .map_err(|e| LiveError(checkpoint_text(&e, WriteStage::Start, lang)))?;
    }

    let emit = match options.format {
        LiveFormat::Json | LiveFormat::Html => Emit::Nothing,
        LiveFormat::Jsonl => Emit::Connections { lang: options.lang },
        LiveFormat::Text => Emit::Findings {
            color: options.text.color,
            lang,
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
        let reopen = capture::Reopen {
            interface: options.interface.clone(),
            buffer_mb: options.buffer_mb,
            filter: filter.clone(),
            own_filter: options.bpf.is_some(),
        };
        std::thread::Builder::new()
            .name("flowlint-capture".to_string())
            .spawn(move || capture::run(cap, linktype, reopen, tx, recycle_rx, stop, counters))
            .map_err(|e| LiveError(format!("cannot start the capture thread: {e}")))?
    };
    // Checkpoints reach the disk on a thread of their own.
    let mut syncer = match (report_format(options), &options.output) {
        (Some(_), Some(_)) => Some(
            Syncer::start()
                .map_err(|e| LiveError(format!("cannot start the checkpoint thread: {e}")))?,
        ),
        _ => None,
    };
    // Every thread runs now: the filter goes on all at once (TSYNC).
    #[cfg(target_os = "linux")]
    if options.seccomp {
        match seccomp::install() {
            Ok(n) => privileges.seccomp_syscalls = Some(n),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                return Err(LiveError(e.to_string()));
            }
        }
    }
    if !options.quiet {
        let who = privileges
            .user
            .clone()
            .unwrap_or_else(|| format!("uid {}", privileges.uid));
        let line = match privileges.seccomp_syscalls {
            Some(n) => crate::tr!(
                lang,
                "flowlint: live {interface}: capturing as {who}, seccomp filter of {n} system calls",
                "flowlint: live {interface}: {who} としてキャプチャ中（seccomp で許可するシステムコール {n} 個）",
                interface = options.interface,
                who = who,
                n = n
            ),
            None => crate::tr!(
                lang,
                "flowlint: live {interface}: capturing as {who}, no seccomp filter",
                "flowlint: live {interface}: {who} としてキャプチャ中（seccomp なし）",
                interface = options.interface,
                who = who
            ),
        };
        eprintln!("{line}");
    }

    let snap = Snapshot {
        options,
        catalogs,
        inventory,
        filter: &filter,
        linktype,
        counters: &counters,
        started,
        started_ns,
        privileges: &privileges,
    };
    let mut summary = Summary::new(options, &counters);
    let mut outages: Vec<Outage> = Vec::new();
    let mut last_settle = Instant::now();
    let mut last_checkpoint = Instant::now();
    let mut checkpoint_failure: Option<checkpoint::CheckpointError> = None;
    // A SIGHUP's checkpoint, waiting for the one before to reach the disk.
    let mut want_report = false;
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
            Ok(Msg::Dropped(d)) => {
                for (n, cause) in [
                    (d.kernel, LossCause::KernelDropped),
                    (d.interface, LossCause::InterfaceDropped),
                    (d.app, LossCause::AppDropped),
                ] {
                    if n > 0 {
                        engine.lost(d.from_ns, d.to_ns, cause);
                    }
                }
            }
            Ok(Msg::Link(capture::Link::Down { at_ns, reason })) => {
                // It was seen at the latest poll; it may have begun just after the one before.
                let from = at_ns - capture::POLL_NS;
                engine.lost(from, i64::MAX, LossCause::Outage);
                if !options.quiet {
                    eprintln!(
                        "{}",
                        crate::tr!(
                            lang,
                            "flowlint: live {interface}: capture interrupted ({reason}); reopening with back-off, unanswered connections meanwhile are judged uncertain, not failed",
                            "flowlint: live {interface}: キャプチャが中断しました（{reason}）。間隔を空けて開き直します。その間の無応答の接続は失敗ではなく不確かとして扱います",
                            interface = options.interface,
                            reason = reason
                        )
                    );
                }
                if outages.len() < MAX_LISTED {
                    outages.push(Outage {
                        start_ns: from,
                        end_ns: None,
                        reason,
                        attempts: 0,
                    });
                }
            }
            Ok(Msg::Link(capture::Link::Up { at_ns, attempts })) => {
                engine.loss_ends(at_ns, LossCause::Outage);
                let mut secs = 0.0;
                if let Some(o) = outages.last_mut().filter(|o| o.end_ns.is_none()) {
                    o.end_ns = Some(at_ns);
                    o.attempts = attempts;
                    secs = (at_ns - o.start_ns) as f64 / 1e9;
                }
                if !options.quiet {
                    eprintln!(
                        "{}",
                        crate::tr!(
                            lang,
                            "flowlint: live {interface}: capturing again after {secs:.1} s ({attempts} reopen attempts)",
                            "flowlint: live {interface}: {secs:.1} 秒後にキャプチャを再開しました（開き直し {attempts} 回）",
                            interface = options.interface,
                            secs = secs,
                            attempts = attempts
                        )
                    );
                }
            }
            Ok(Msg::Link(capture::Link::Retrying { error })) => {
                if !options.quiet {
                    eprintln!(
                        "{}",
                        crate::tr!(
                            lang,
                            "flowlint: live {interface}: cannot reopen it: {error}; live keeps trying (with back-off) and says when it captures again",
                            "flowlint: live {interface}: 開き直せません: {error}。間隔を空けて試し続け、再開したら知らせます",
                            interface = options.interface,
                            error = error
                        )
                    );
                }
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
        let hup = hangup.swap(false, Ordering::Relaxed);
        if hup {
            if let (LiveFormat::Jsonl, Some(path)) = (options.format, &options.output) {
                match open_stream(path, true) {
                    Ok(f) => engine.reopen_output(Box::new(std::io::BufWriter::new(f))),
                    Err(e) => eprintln!(
                        "{}",
                        crate::tr!(
                            lang,
                            "flowlint: live: SIGHUP: cannot reopen {path}: {e}; writing on to the file open before (let the user live runs as create files in its directory)",
                            "flowlint: live: SIGHUP: {path} を開き直せません: {e}。前に開いたファイルに書き続けます（実行ユーザがそのディレクトリにファイルを作れるようにしてください）",
                            path = path.display(),
                            e = e
                        )
                    ),
                }
            }
        }
        want_report |= hup;
        if let (Some(result), Some(path)) =
            (syncer.as_mut().and_then(Syncer::finished), &options.output)
        {
            say_checkpoint(result, &mut checkpoint_failure, path, options);
        }
        let due = options
            .checkpoint
            .is_some_and(|every| last_checkpoint.elapsed() >= every);
        // One checkpoint on its way to the disk at a time: the next waits.
        let idle = syncer.as_ref().is_none_or(Syncer::idle);
        if let (true, true, Some(format), Some(path)) = (
            due || want_report,
            idle,
            report_format(options),
            &options.output,
        ) {
            last_checkpoint = Instant::now();
            want_report = false;
            let outcome = snap.outcome(
                &mut engine,
                Moment::Checkpoint,
                &outages,
                &summary,
                &skipped,
            );
            let exporter = format.exporter();
            let written = checkpoint::write_temporary(path, |w| exporter.write(w, &outcome));
            Snapshot::give_back(&mut engine, outcome);
            release_free_memory();
            let done = match (written, syncer.as_mut()) {
                (Ok(Some(pending)), Some(syncer)) => syncer.commit(pending),
                (Ok(Some(pending)), None) => Some(pending.commit()),
                (Ok(None), _) => Some(Ok(())),
                (Err(e), _) => Some(Err(e)),
            };
            if let Some(result) = done {
                say_checkpoint(result, &mut checkpoint_failure, path, options);
            }
        }
    }
    // The last checkpoint reaches the disk before the final report replaces it.
    if let (Some(result), Some(path)) = (syncer.as_mut().and_then(Syncer::wait), &options.output) {
        say_checkpoint(result, &mut checkpoint_failure, path, options);
    }
    drop(syncer);
    // The thread has sent `Ended` (or died): it is done with the capture.
    if handle.join().is_err() {
        capture_error = Some("the capture thread failed".to_string());
    }
    engine.finish(wall_ns());
    if let Some(e) = &capture_error {
        eprintln!(
            "flowlint: {}: {}: {e}",
            crate::term!(lang, "warning", "警告"),
            options.interface
        );
    }
    summary.close();
    let stopped_by = if capture_error.is_some() {
        StopCause::CaptureError
    } else if signalled.load(Ordering::Relaxed) {
        StopCause::Signal
    } else {
        StopCause::Duration
    };
    let outcome = snap.outcome(
        &mut engine,
        Moment::Final {
            stopped_by,
            capture_error: capture_error.as_deref(),
        },
        &outages,
        &summary,
        &skipped,
    );
    drop(engine);
    let code = match (report_format(options), &options.output) {
        // The connections went out as they were decided.
        (None, _) => outcome.exit_status(&options.fail_on),
        (Some(format), Some(path)) => {
            write_report(path, &outcome, format)
                .map_err(|e| LiveError(checkpoint_text(&e, WriteStage::Final, lang)))?;
            outcome.exit_status(&options.fail_on)
        }
        (Some(format), None) => {
            let finish = Finish {
                format,
                output: None,
                fail_on: options.fail_on.clone(),
            };
            report::finish(&outcome, &finish).map_err(|e| LiveError(e.to_string()))?
        }
    };
    if !options.quiet {
        let live = outcome.live.as_ref().expect("set above");
        let line = crate::tr!(
            lang,
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

/// The periodic summary line on stderr, and the drops of each interval.
struct Summary<'c> {
    quiet: bool,
    interval: Duration,
    interface: String,
    counters: &'c Counters,
    last: Instant,
    last_ns: i64,
    last_packets: u64,
    /// Drop counters (kernel, interface, app) at the last line.
    last_drops: (u64, u64, u64),
    intervals: Vec<DropInterval>,
    omitted: u64,
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
            last_ns: wall_ns(),
            last_packets: 0,
            last_drops: (0, 0, 0),
            intervals: Vec::new(),
            omitted: 0,
            lang: options.lang,
        }
    }

    /// The intervals with drops so far (the current one included) and how
    /// many more were left out.
    fn drop_intervals(&self) -> (Vec<DropInterval>, u64) {
        let mut list = self.intervals.clone();
        let mut omitted = self.omitted;
        if let Some(d) = self.current() {
            if list.len() < MAX_LISTED {
                list.push(d);
            } else {
                omitted += 1;
            }
        }
        (list, omitted)
    }

    /// The drops of the interval now running, if any.
    fn current(&self) -> Option<DropInterval> {
        let c = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let now = (
            c(&self.counters.kernel_dropped),
            c(&self.counters.interface_dropped),
            c(&self.counters.app_dropped),
        );
        let d = DropInterval {
            start_ns: self.last_ns,
            end_ns: wall_ns(),
            kernel: now.0 - self.last_drops.0,
            interface: now.1 - self.last_drops.1,
            app: now.2 - self.last_drops.2,
        };
        (d.kernel + d.interface + d.app > 0).then_some(d)
    }

    /// Ends the interval now running (at each summary line, and at the end).
    fn close(&mut self) -> Option<DropInterval> {
        let d = self.current();
        if let Some(d) = d {
            if self.intervals.len() < MAX_LISTED {
                self.intervals.push(d);
            } else {
                self.omitted += 1;
            }
        }
        let c = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        self.last_drops = (
            c(&self.counters.kernel_dropped),
            c(&self.counters.interface_dropped),
            c(&self.counters.app_dropped),
        );
        self.last_ns = wall_ns();
        d
    }

    fn maybe_print(&mut self, engine: &Engine<'_>) {
        let elapsed = self.last.elapsed();
        if elapsed < self.interval {
            return;
        }
        self.last = Instant::now();
        let dropped = self.close();
        if self.quiet {
            return;
        }
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
        match dropped {
            None => eprintln!("{line}"),
            Some(d) => eprintln!(
                "{line}{}",
                crate::tr!(
                    self.lang,
                    " (this interval: kernel +{kernel}, interface +{nic}, app +{app}; unanswered attempts meanwhile are uncertain)",
                    "（この間隔: カーネル +{kernel}、インタフェース +{nic}、flowlint +{app}。この間の無応答は不確かです）",
                    kernel = d.kernel,
                    nic = d.interface,
                    app = d.app
                )
            ),
        }
    }
}
