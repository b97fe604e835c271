//! Reports: what an analysis found, for people (text) and machines (JSON, JSONL).
//!
//! Owns the outcome model ([`Outcome`]: built once from the classification,
//! the inputs, the flow statistics and the broadcast groups; typed throughout — verdicts, states,
//! addresses, rule ids, reasons as facts, times as integers) and one
//! exporter per format behind the [`Exporter`] trait: [`text`], [`json`]
//! (the schema `flowlint.report.v1`, SPEC "JSON report", streamed to the
//! writer), [`jsonl`] (one record per connection). [`baseline`] is the one
//! place that reads an earlier report. [`words`] turns reasons into
//! sentences when they are written. [`finish`] computes the exit status and
//! writes the report, atomically when it goes to a file; `check` and `live`
//! both end with it.

pub mod baseline;
pub mod fix;
pub mod html;
pub mod json;
pub mod jsonl;
pub mod lang;
pub mod text;
pub mod words;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::analysis::InputSummary;
use crate::broadcast::Broadcasts;
use crate::catalog::CatalogSet;
use crate::classify::{Classification, Verdict};
use crate::flow::ConnRecord;
use baseline::Comparison;

pub use json::SCHEMA;

/// State names in alphabetical order: the order reports list states in.
pub const STATES_BY_NAME: [crate::flow::State; 9] = {
    use crate::flow::State;
    [
        State::Answered,
        State::Established,
        State::Midstream,
        State::NoReply,
        State::Pending,
        State::Refused,
        State::Reset,
        State::Unanswered,
        State::Unreachable,
    ]
};

/// Serializes as the `Display` text of the value.
///
/// Why not `collect_str`: it escapes every fragment the `Display` writes
/// (an address is seven), which costs more than formatting into a reused
/// buffer and escaping the text once.
pub(crate) struct AsText<T>(pub T);

thread_local! {
    static TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl<T: std::fmt::Display> serde::Serialize for AsText<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use std::fmt::Write as _;
        TEXT.with(|cell| match cell.try_borrow_mut() {
            Ok(mut text) => {
                text.clear();
                // Writing to a String cannot fail; a Display that fails
                // leaves what it wrote.
                let _ = write!(text, "{}", self.0);
                s.serialize_str(&text)
            }
            // A Display that serializes itself (never here): no buffer.
            Err(_) => s.collect_str(&self.0),
        })
    }
}

/// An address as reports write it (as `IpAddr`'s `Display`), IPv4 without
/// the formatting machinery: reports write two or three per conversation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Addr(pub std::net::IpAddr);

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let std::net::IpAddr::V4(v4) = self.0 else {
            return self.0.fmt(f);
        };
        let mut buf = [0u8; 15];
        let mut len = 0;
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                buf[len] = b'.';
                len += 1;
            }
            if octet >= 100 {
                buf[len] = b'0' + octet / 100;
                len += 1;
            }
            if octet >= 10 {
                buf[len] = b'0' + octet / 10 % 10;
                len += 1;
            }
            buf[len] = b'0' + octet % 10;
            len += 1;
        }
        // Only ASCII digits and dots were written.
        f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| std::fmt::Error)?)
    }
}

/// Everything a report says about one analysis.
pub struct Outcome<'a> {
    pub catalogs: &'a CatalogSet,
    pub inputs: Vec<InputSummary>,
    pub totals: Totals,
    pub classification: Classification,
    /// Broadcast and multicast groups, listed apart and never judged.
    pub broadcasts: Broadcasts,
    /// Every decided connection, sorted by first packet (kept for JSONL only).
    pub connections: Vec<ConnRecord>,
    pub baseline: Option<Comparison>,
    pub live: Option<LiveStats>,
    /// The inventory the roles came from (fixes name its blocks).
    pub inventory: Option<&'a crate::inventory::Inventory>,
    /// The language of what people read (JSON keys and values stay English).
    pub lang: lang::Lang,
    /// What flow records could not tell, per conversation.
    pub record_notes: crate::records::RecordNotes,
}

/// Counts of the flow stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub packets: u64,
    pub connections: u64,
    /// Packets seen twice (two taps) and counted once.
    pub duplicate_packets: u64,
    /// Connections decided early because the connection table was full.
    pub evicted_connections: u64,
    /// Connections folded into per-port conversations (too many conversations).
    pub folded_connections: u64,
    /// Packets of broadcast and multicast groups (queries and replies).
    pub broadcast_packets: u64,
    /// Of those, counted in folded groups (too many senders).
    pub folded_broadcast_packets: u64,
}

/// Why a live capture ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    Duration,
    Signal,
    CaptureError,
    /// Not stopped: a checkpoint of a capture still running.
    Running,
}

impl StopCause {
    pub fn as_str(self) -> &'static str {
        match self {
            StopCause::Duration => "duration",
            StopCause::Signal => "signal",
            StopCause::CaptureError => "capture error",
            StopCause::Running => "running",
        }
    }
}

/// Why a live verdict may be wrong: packets that could hold its answer
/// were not seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LossCause {
    /// The interface was down or gone.
    Outage,
    /// The kernel's capture buffer overflowed (`--buffer-mb`).
    KernelDropped,
    /// The network interface dropped them.
    InterfaceDropped,
    /// flowlint's engine fell behind and dropped decoded packets.
    AppDropped,
}

impl LossCause {
    pub fn as_str(self) -> &'static str {
        match self {
            LossCause::Outage => "outage",
            LossCause::KernelDropped => "kernel_dropped",
            LossCause::InterfaceDropped => "interface_dropped",
            LossCause::AppDropped => "app_dropped",
        }
    }

    /// Why an unanswered attempt may not be blocked at all, in words.
    pub fn possibly_lost(self, lang: lang::Lang) -> &'static str {
        match self {
            LossCause::Outage => crate::term!(
                lang,
                "possibly lost at the capture point: the interface was down while it waited for an answer",
                "キャプチャ地点での取りこぼしの可能性があります。応答を待つ間にインタフェースが停止していました"
            ),
            LossCause::KernelDropped => crate::term!(
                lang,
                "possibly lost at the capture point: the kernel dropped packets while it waited for an answer (a larger --buffer-mb helps)",
                "キャプチャ地点での取りこぼしの可能性があります。応答を待つ間にカーネルがパケットを取りこぼしました（--buffer-mb を大きくしてください）"
            ),
            LossCause::InterfaceDropped => crate::term!(
                lang,
                "possibly lost at the capture point: the network interface dropped packets while it waited for an answer",
                "キャプチャ地点での取りこぼしの可能性があります。応答を待つ間にネットワークインタフェースがパケットを取りこぼしました"
            ),
            LossCause::AppDropped => crate::term!(
                lang,
                "possibly lost at the capture point: flowlint fell behind and dropped packets while it waited for an answer",
                "キャプチャ地点での取りこぼしの可能性があります。応答を待つ間に flowlint の処理が追いつかずパケットを取りこぼしました"
            ),
        }
    }
}

/// The unanswered connections of a conversation whose answer may have been
/// lost at the capture point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uncertain {
    /// The cause of the latest such connection.
    pub cause: LossCause,
    /// `no_reply`/`unanswered` connections open while packets were lost.
    pub connections: u64,
}

/// A time the interface was down or gone (live).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outage {
    pub start_ns: i64,
    /// `None`: still down when the report was written.
    pub end_ns: Option<i64>,
    /// What said so: libpcap's error or the interface's state.
    pub reason: String,
    /// Reopen attempts until it was back.
    pub attempts: u32,
}

/// Drops of one summary interval (live, only intervals with drops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropInterval {
    pub start_ns: i64,
    pub end_ns: i64,
    pub kernel: u64,
    pub interface: u64,
    pub app: u64,
}

/// Who the live capture ran as after opening the interface.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LivePrivileges {
    /// The user switched to (`None`: not switched).
    pub user: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Capabilities left permitted (never effective) to reopen the interface.
    pub reopen_capabilities: Vec<String>,
    /// System calls the seccomp filter allows (`None`: no filter).
    pub seccomp_syscalls: Option<usize>,
}

/// What a live capture adds to its final report.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveStats {
    pub interface: String,
    pub filter: String,
    pub linktype: u32,
    pub started_ns: i64,
    pub ended_ns: i64,
    pub duration_s: f64,
    pub packets: u64,
    pub kernel_received: u64,
    pub kernel_dropped: u64,
    pub interface_dropped: u64,
    pub app_dropped: u64,
    pub late_packets: u64,
    pub stopped_by: StopCause,
    /// A periodic checkpoint, not the final report.
    pub checkpoint: bool,
    /// Connections still open (not in this report) when it was written.
    pub open_connections: u64,
    pub outages: Vec<Outage>,
    /// Intervals left out of `drop_intervals` (the list is bounded).
    pub drop_intervals_omitted: u64,
    pub drop_intervals: Vec<DropInterval>,
    /// Conversations with connections whose answer may have been lost.
    pub uncertain: std::collections::BTreeMap<crate::classify::ConvKey, Uncertain>,
    pub privileges: LivePrivileges,
}

impl<'a> Outcome<'a> {
    pub fn new(
        catalogs: &'a CatalogSet,
        inputs: Vec<InputSummary>,
        totals: Totals,
        classification: Classification,
    ) -> Outcome<'a> {
        Outcome {
            catalogs,
            inputs,
            totals,
            classification,
            broadcasts: Broadcasts::default(),
            connections: Vec::new(),
            baseline: None,
            live: None,
            inventory: None,
            lang: lang::Lang::En,
            record_notes: Default::default(),
        }
    }

    /// Classifies the flow stage's result: the model every report is written from.
    pub fn classify(
        result: crate::analysis::Analysis,
        catalogs: &'a CatalogSet,
        inventory: Option<&'a crate::inventory::Inventory>,
    ) -> Outcome<'a> {
        let crate::analysis::Analysis {
            inputs,
            table,
            connections,
            flow_stats,
            broadcasts,
            record_notes,
            ..
        } = result;
        let totals = Totals {
            packets: inputs.iter().map(|i| i.packets).sum(),
            connections: table.connections,
            duplicate_packets: flow_stats.duplicates + broadcasts.duplicates,
            evicted_connections: flow_stats.evicted_early,
            folded_connections: table.folded_connections,
            broadcast_packets: broadcasts.packets,
            folded_broadcast_packets: broadcasts.folded_packets,
        };
        let classification = crate::classify::classify(table, catalogs, inventory);
        let mut outcome = Outcome::new(catalogs, inputs, totals, classification);
        outcome.connections = connections;
        outcome.broadcasts = broadcasts;
        outcome.inventory = inventory;
        outcome.record_notes = record_notes;
        outcome
    }

    /// Conversations with this verdict.
    pub fn count(&self, verdict: Verdict) -> u64 {
        self.classification.verdicts[verdict as usize]
    }

    /// "10 packets, 4 connections, 3 conversations: 1 blocked, …", as the
    /// summary lines on standard error say it (verdicts by their JSON names).
    pub fn summary_line(&self) -> impl std::fmt::Display + '_ {
        SummaryLine(self)
    }

    pub fn words(&self) -> words::Words<'_> {
        words::Words {
            catalogs: self.catalogs,
            hosts: &self.classification.hosts,
            lang: self.lang,
        }
    }

    /// Exit status per SPEC 1.1 (0 or 1). With a baseline the question is
    /// "did anything get worse?": by default only `new` findings and
    /// `missing_rules` make it 1; an explicit list counts its findings too,
    /// and an explicit empty list (`none`) makes it 0.
    pub fn exit_status(&self, fail_on: &FailOn) -> i32 {
        let regressed = self
            .baseline
            .as_ref()
            .is_some_and(|b| !b.new.is_empty() || !b.missing_rules.is_empty());
        let found = |verdicts: &[Verdict]| verdicts.iter().any(|v| self.count(*v) > 0);
        let failed = match (fail_on, &self.baseline) {
            (FailOn::Default, Some(_)) => regressed,
            (FailOn::Default, None) => found(&FailOn::DEFAULT_VERDICTS),
            (FailOn::List(list), _) if list.is_empty() => false,
            (FailOn::List(list), _) => found(list) || regressed,
        };
        i32::from(failed)
    }
}

/// Which findings make the exit status 1 (`--fail-on`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// No `--fail-on`: blocked, wrong_direction and unexpected; with a
    /// baseline, only what got worse.
    Default,
    /// `--fail-on LIST` (`none`: the empty list).
    List(Vec<Verdict>),
}

impl FailOn {
    pub const DEFAULT_VERDICTS: [Verdict; 3] = [
        Verdict::Blocked,
        Verdict::WrongDirection,
        Verdict::Unexpected,
    ];

    /// The option's value, if it was given.
    pub fn parse(value: Option<&str>) -> Result<FailOn, String> {
        match value {
            None => Ok(FailOn::Default),
            Some(list) => parse_fail_on(list).map(FailOn::List),
        }
    }
}

struct SummaryLine<'o, 'a>(&'o Outcome<'a>);

impl std::fmt::Display for SummaryLine<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let o = self.0;
        let lang = o.lang;
        crate::trw!(
            f,
            lang,
            "{packets} packets, {connections} connections, {conversations} conversations",
            "パケット {packets} 個、接続 {connections} 件、通信 {conversations} 件",
            packets = o.totals.packets,
            connections = o.totals.connections,
            conversations = o.classification.conversations.len()
        )?;
        for (i, v) in Verdict::ALL.iter().enumerate() {
            f.write_str(match (i, lang) {
                (0, lang::Lang::En) => ": ",
                (0, lang::Lang::Ja) => "。",
                (_, lang::Lang::En) => ", ",
                (_, lang::Lang::Ja) => "、",
            })?;
            match lang {
                lang::Lang::En => write!(f, "{} {}", o.count(*v), v.as_str())?,
                lang::Lang::Ja => write!(f, "{} {}", words::verdict(*v, lang), o.count(*v))?,
            }
        }
        if o.totals.broadcast_packets > 0 {
            crate::trw!(
                f,
                lang,
                "; {n} broadcast/multicast packets (not judged)",
                "。ブロードキャスト/マルチキャストのパケット {n} 個（判定対象外）",
                n = o.totals.broadcast_packets
            )?;
        }
        Ok(())
    }
}

/// Writes one report format.
pub trait Exporter {
    fn write(&self, out: &mut dyn Write, outcome: &Outcome<'_>) -> io::Result<()>;
}

/// A report format with its settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text(text::Options),
    Json,
    Jsonl,
    Html,
}

impl Format {
    /// The exporter that writes this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Text(options) => Box::new(text::Text { options }),
            Format::Json => Box::new(json::Json),
            Format::Jsonl => Box::new(jsonl::Jsonl),
            Format::Html => Box::new(html::Html),
        }
    }
}

/// Where and how the report goes.
#[derive(Clone, Debug)]
pub struct Finish {
    pub format: Format,
    /// A file (written atomically), or standard output.
    pub output: Option<PathBuf>,
    pub fail_on: FailOn,
}

/// The report could not be written (status 2).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: cannot write the report: {source}")]
    File { path: String, source: io::Error },
    #[error("standard output: {0}")]
    Stdout(io::Error),
}

impl WriteError {
    /// The whole line in `lang`.
    pub fn render(&self, lang: lang::Lang) -> String {
        match self {
            WriteError::File { path, source } => crate::tr!(
                lang,
                "{path}: cannot write the report: {e}",
                "{path}: レポートを書き出せません: {e}",
                path = path,
                e = lang::IoText::new(source).render(lang)
            ),
            WriteError::Stdout(source) => crate::tr!(
                lang,
                "standard output: {e}",
                "標準出力に書き出せません: {e}",
                e = lang::IoText::new(source).render(lang)
            ),
        }
    }
}

/// Writes the report and returns the exit status (0 or 1).
pub fn finish(outcome: &Outcome<'_>, options: &Finish) -> Result<i32, WriteError> {
    let code = outcome.exit_status(&options.fail_on);
    let exporter = options.format.exporter();
    emit(options.output.as_deref(), |out| {
        exporter.write(out, outcome)
    })?;
    Ok(code)
}

/// Writes to the output file (atomically) or to standard output, where a
/// closed pipe (e.g. `| head`) is not a failure.
pub fn emit(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    match output {
        Some(path) => write_atomically(path, write).map_err(|source| WriteError::File {
            path: path.display().to_string(),
            source,
        }),
        None => {
            let stdout = io::stdout();
            let mut lock = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            match write(&mut lock).and_then(|_| lock.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(WriteError::Stdout(e)),
            }
        }
    }
}

/// Writes to `path` atomically when it is a regular file (or does not exist
/// yet): into a temporary file beside it, then renamed over it. Devices and
/// pipes are written directly.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let regular = match std::fs::metadata(path) {
        Ok(meta) => meta.is_file(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => return Err(e),
    };
    if !regular {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        let mut buf = io::BufWriter::with_capacity(1 << 20, file);
        write(&mut buf)?;
        return buf.flush();
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut buf = io::BufWriter::with_capacity(1 << 20, file);
        write(&mut buf)?;
        buf.flush()?;
        // No fsync: the rename alone guarantees that a reader sees the old
        // report or the whole new one, and a sync of a large report would
        // cost more than the analysis of many captures.
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Parses `--fail-on`: a comma list of verdicts, or `none`.
pub fn parse_fail_on(s: &str) -> Result<Vec<Verdict>, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    if s.trim().is_empty() {
        return Err(
            "empty; list verdicts (e.g. blocked,unexpected), or say none for no verdict".into(),
        );
    }
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            // As the summary line writes it ("wrong direction"), too.
            let name = p.to_ascii_lowercase().replace([' ', '-'], "_");
            Verdict::parse(&name).ok_or_else(|| {
                format!("unknown verdict '{p}' (blocked, wrong_direction, unexpected, expected, unlisted, or none)")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_ipaddr_writes_them() {
        for a in [
            "0.0.0.0",
            "9.10.99.100",
            "255.255.255.255",
            "192.0.2.1",
            "::",
            "2001:db8::1",
            "::ffff:192.0.2.1",
        ] {
            let ip: std::net::IpAddr = a.parse().unwrap();
            assert_eq!(Addr(ip).to_string(), ip.to_string());
        }
    }

    #[test]
    fn fail_on_takes_verdicts_or_none() {
        assert_eq!(
            parse_fail_on("blocked, unexpected").unwrap(),
            [Verdict::Blocked, Verdict::Unexpected]
        );
        assert_eq!(parse_fail_on(" NONE ").unwrap(), []);
        assert!(parse_fail_on("blocked,nope")
            .unwrap_err()
            .contains("unknown verdict 'nope'"));
    }

    #[test]
    fn a_report_to_a_file_replaces_it_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        let failed = write_atomically(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_atomically(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
