//! Flow records as input: what Zeek (`conn.log`) and NetFlow/IPFIX
//! collectors (`nfdump -o json` / `-o csv`) already recorded, checked
//! against the catalogs with the same states and verdicts as packets.
//!
//! Owns: recognising an input by content (after decompression, like
//! captures; never by name), reading it line by line or object by object
//! (streamed, never loaded whole), the records' byte offsets and line
//! numbers for warnings, and turning records into the same [`ConnRecord`]s
//! and [`ConversationTable`] the packet path builds, so classification and
//! reports do not know where a connection came from. `zeek` maps Zeek's
//! `conn_state`/`history` onto flowlint's states; `nfdump` pairs
//! unidirectional flow records with their reverse. What a record cannot
//! tell is noted per conversation ([`RecordNotes`]).
//!
//! What stays in memory follows the network, not the input, as for
//! captures: the conversation table (bounded by `--max-conversations`),
//! the Zeek uids of the last hour or two of record time (8 bytes each, at
//! most `--max-connections` per hour, for duplicate records), and the
//! records still waiting for another — an attempt nobody answered for a
//! retry or an ICMP unreachable, an nfdump record for its reverse. Those
//! wait until the input's clock has passed them by a bound (see
//! [`Builder`], [`RECORD_SLACK_NS`]), at most `--max-connections` of
//! each: beyond, the oldest are decided early and counted, as the flow
//! table does.

mod messages;
pub mod nfdump;
pub mod zeek;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::{Analysis, InputSummary, Options, SkipCounts, TunnelCounts};
use crate::broadcast::{BroadcastGroup, BroadcastTable, Broadcasts, GroupKey};
use crate::capture::{
    CaptureError, CaptureReader, Compression, Container, ErrorKind, Format, Warning, WarningKind,
};
use crate::catalog::PortBitmap;
use crate::classify::{ConvKey, ConversationTable};
use crate::decode::Transport;
use crate::flow::{ConnRecord, FlowStats, State};
use crate::report::lang::IoText;

use messages::bad;
pub use messages::{BadRecord, LineProblem, RecordWarning, Want};

/// A record input that cannot be read at all (status 2). Shares the capture
/// error's form: file, byte offset, what is wrong.
pub type RecordError = CaptureError;

/// What the inputs of one `check` are: captures, or flow records (the two
/// do not mix in one analysis: their clocks and connection splits differ).
pub enum Opened {
    Captures(Vec<CaptureReader>),
    Records(Vec<RecordReader>),
}

/// Bytes looked at to recognise a format.
const SNIFF: usize = 4096;

/// Opens every input (`-`: standard input) and recognises it by content.
pub fn open_inputs(paths: &[PathBuf]) -> Result<Opened, CaptureError> {
    let mut captures = Vec::new();
    let mut records = Vec::new();
    for path in paths {
        match open(path)? {
            Input::Capture(c) => captures.push(c),
            Input::Records(r) => records.push(r),
        }
        if !captures.is_empty() && !records.is_empty() {
            return Err(CaptureError {
                path: path.to_string_lossy().into_owned(),
                offset: 0,
                kind: ErrorKind::MixedInputs,
            });
        }
    }
    Ok(if records.is_empty() {
        Opened::Captures(captures)
    } else {
        Opened::Records(records)
    })
}

enum Input {
    Capture(CaptureReader),
    Records(RecordReader),
}

fn open(path: &Path) -> Result<Input, CaptureError> {
    let name = path.to_string_lossy().into_owned();
    let fail = |kind: ErrorKind| CaptureError {
        path: name.clone(),
        offset: 0,
        kind,
    };
    let (raw, total_len): (Box<dyn Read + Send>, Option<u64>) = if path.as_os_str() == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = std::fs::File::open(path).map_err(|e| fail(ErrorKind::Open(IoText::new(&e))))?;
        let meta = file
            .metadata()
            .map_err(|e| fail(ErrorKind::Metadata(IoText::new(&e))))?;
        if meta.is_dir() {
            return Err(fail(ErrorKind::Directory));
        }
        (Box::new(file), meta.is_file().then_some(meta.len()))
    };
    let (mut decoded, compression) =
        crate::capture::decompress(raw).map_err(|e| fail(ErrorKind::Read(e.to_string())))?;
    let mut head = Vec::with_capacity(SNIFF);
    // A read error here is the capture reader's to report (it knows the offset).
    let _ = (&mut decoded).take(SNIFF as u64).read_to_end(&mut head);
    let format = sniff(&head);
    let whole: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head).chain(decoded));
    match format {
        None => {
            let mut reader = CaptureReader::from_read(whole, &name).map_err(|mut e| {
                if matches!(
                    e.kind,
                    ErrorKind::TooShort { .. } | ErrorKind::BadMagic { .. }
                ) {
                    e.kind = ErrorKind::NotAnInput(Box::new(e.kind));
                }
                e
            })?;
            reader.set_origin(compression, total_len.filter(|_| compression.is_none()));
            Ok(Input::Capture(reader))
        }
        Some(container) => {
            let mut reader = RecordReader::new(
                whole,
                &name,
                Format {
                    container,
                    compression,
                },
            );
            // Decompressed bytes are counted: a total only without compression.
            reader.total_len = total_len.filter(|_| compression.is_none());
            Ok(Input::Records(reader))
        }
    }
}

/// The record format the first bytes of a (decompressed) input show, if any.
pub fn sniff(head: &[u8]) -> Option<Container> {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // The sniffed window may end inside a character.
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if start.starts_with('#') {
        // Zeek's TSV header; comment lines before it are allowed (btest
        // baselines begin with one).
        let is_zeek = start
            .lines()
            .take_while(|l| l.starts_with('#'))
            .any(|l| l.starts_with("#separator") || l.starts_with("#fields"));
        return is_zeek.then_some(Container::ZeekConnTsv);
    }
    if start.starts_with('{') {
        let first = start.lines().next().unwrap_or("");
        if first.contains("\"id.orig_h\"") || first.contains("\"id.resp_h\"") {
            return Some(Container::ZeekConnJson);
        }
        if nfdump::looks_like_json(start) {
            return Some(Container::NfdumpJson);
        }
        return None;
    }
    if start.starts_with('[') {
        return nfdump::looks_like_json(start).then_some(Container::NfdumpJson);
    }
    let first = start.lines().next().unwrap_or("");
    nfdump::is_csv_header(first).then_some(Container::NfdumpCsv)
}

/// At most this many warnings per input.
const MAX_WARNINGS: usize = 100;

/// Lines of a record input, with their byte offsets and numbers.
pub(crate) struct Lines {
    src: BufReader<Box<dyn Read + Send>>,
    pub(crate) buf: Vec<u8>,
    /// Offset and number (from 1) of the line in `buf`.
    pub(crate) offset: u64,
    pub(crate) number: u64,
    next_offset: u64,
    pub(crate) error: Option<std::io::Error>,
}

impl Lines {
    fn new(src: Box<dyn Read + Send>) -> Lines {
        Lines {
            src: BufReader::with_capacity(1 << 16, src),
            buf: Vec::new(),
            offset: 0,
            number: 0,
            next_offset: 0,
            error: None,
        }
    }

    /// The next line without its end (`\n` or `\r\n`), with its offset and
    /// number; `None` at the end or after a read error (kept in `error`).
    pub(crate) fn next_line(&mut self) -> Option<(&[u8], u64, u64)> {
        self.buf.clear();
        if self.error.is_some() {
            return None;
        }
        // A line longer than this is not a record: it is read on, not kept.
        const LONGEST: u64 = 1 << 20;
        match (&mut self.src)
            .take(LONGEST)
            .read_until(b'\n', &mut self.buf)
        {
            Ok(0) => None,
            Ok(n) => {
                self.offset = self.next_offset;
                self.next_offset += n as u64;
                self.number += 1;
                if !self.buf.ends_with(b"\n") && n as u64 == LONGEST {
                    // Skip the rest of the overlong line.
                    let mut rest = Vec::new();
                    loop {
                        rest.clear();
                        match (&mut self.src).take(LONGEST).read_until(b'\n', &mut rest) {
                            Ok(0) => break,
                            Ok(m) => {
                                self.next_offset += m as u64;
                                if rest.ends_with(b"\n") {
                                    break;
                                }
                            }
                            Err(e) => {
                                self.error = Some(e);
                                break;
                            }
                        }
                    }
                }
                while self.buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    self.buf.pop();
                }
                Some((&self.buf, self.offset, self.number))
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> u64 {
        self.next_offset
    }
}

/// Warnings of one input, bounded.
#[derive(Default)]
pub(crate) struct Warnings {
    pub(crate) list: Vec<Warning>,
    suppressed: bool,
}

impl Warnings {
    /// A bad line or record ("line N: what; the fix" when written).
    pub(crate) fn at_line(&mut self, offset: u64, line: u64, problem: LineProblem) {
        let kind = if self.list.len() < MAX_WARNINGS {
            RecordWarning::Line { line, problem }
        } else if !self.suppressed {
            self.suppressed = true;
            RecordWarning::TooMany
        } else {
            return;
        };
        self.push(offset, kind);
    }

    fn push(&mut self, offset: u64, kind: RecordWarning) {
        self.list.push(Warning {
            offset,
            kind: WarningKind::Records(kind),
        });
    }
}

/// One item read from a record input.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Zeek(zeek::ZeekConn),
    Flow(nfdump::FlowHalf),
}

enum Parser {
    // Boxed: its header state is the largest by far.
    ZeekTsv(Box<zeek::TsvParser>),
    ZeekJson,
    NfdumpJson(nfdump::JsonSplitter),
    NfdumpCsv(nfdump::CsvParser),
}

/// Streams the records of one input.
pub struct RecordReader {
    path: String,
    format: Format,
    lines: Lines,
    parser: Parser,
    warnings: Warnings,
    /// Records read (good ones).
    pub records: u64,
    /// The input's length, when it is known and what is read is counted
    /// against it (an uncompressed file).
    total_len: Option<u64>,
}

impl RecordReader {
    /// Reads records of `format` from a decompressed byte source; `name` is
    /// used in messages.
    pub fn new(source: Box<dyn Read + Send>, name: &str, format: Format) -> RecordReader {
        let parser = match format.container {
            Container::ZeekConnJson => Parser::ZeekJson,
            Container::NfdumpJson => Parser::NfdumpJson(nfdump::JsonSplitter::default()),
            Container::NfdumpCsv => Parser::NfdumpCsv(nfdump::CsvParser::default()),
            _ => Parser::ZeekTsv(Box::default()),
        };
        RecordReader {
            path: name.to_string(),
            format,
            lines: Lines::new(source),
            parser,
            warnings: Warnings::default(),
            records: 0,
            total_len: None,
        }
    }

    /// The input's length, for a progress bar (see [`RecordReader::position`]).
    pub fn total_len(&self) -> Option<u64> {
        self.total_len
    }

    /// Bytes read so far (after decompression).
    pub fn position(&self) -> u64 {
        self.lines.position()
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The next good record; bad ones become warnings. `None` at the end.
    pub fn next_item(&mut self) -> Option<Item> {
        let item = match &mut self.parser {
            Parser::ZeekTsv(p) => p.next(&mut self.lines, &mut self.warnings).map(Item::Zeek),
            Parser::ZeekJson => {
                zeek::next_json(&mut self.lines, &mut self.warnings).map(Item::Zeek)
            }
            Parser::NfdumpJson(p) => p.next(&mut self.lines, &mut self.warnings).map(Item::Flow),
            Parser::NfdumpCsv(p) => p.next(&mut self.lines, &mut self.warnings).map(Item::Flow),
        };
        match &item {
            Some(_) => self.records += 1,
            None => self.finish(),
        }
        item
    }

    fn finish(&mut self) {
        if let Some(e) = self.lines.error.take() {
            let at = self.lines.position();
            self.warnings.push(at, RecordWarning::Read(IoText::new(&e)));
        }
        if let Parser::NfdumpJson(p) = &mut self.parser {
            p.finish(&self.lines, &mut self.warnings);
        }
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings.list
    }
}

/// What a record could not tell about a conversation's connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Note {
    /// An ICMP unreachable was linked to the flow by addresses and time.
    IcmpLinked,
    /// The record had no history: the state comes from conn_state alone.
    NoHistory,
    /// Only one direction was recorded: who opened it was guessed from the ports.
    OneDirection,
    /// Zeek dropped packets with bad checksums (history C/c) that flowlint
    /// would have counted.
    BadChecksums,
}

impl Note {
    pub const ALL: [Note; 4] = [
        Note::IcmpLinked,
        Note::NoHistory,
        Note::OneDirection,
        Note::BadChecksums,
    ];

    /// The name scripts read (`record_note_codes` in the JSON report);
    /// the sentence a person reads is the report's
    /// ([`crate::report::words::record_note`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Note::IcmpLinked => "icmp_linked",
            Note::NoHistory => "no_history",
            Note::OneDirection => "one_direction",
            Note::BadChecksums => "bad_checksums",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// What records tell beyond the connections (empty for captures): the
/// notes per conversation, and the per-direction counters of each kept
/// connection (only when connections are kept, for JSONL).
#[derive(Clone, Debug, Default)]
pub struct RecordNotes {
    notes: FxHashMap<ConvKey, u8>,
    directions: FxHashMap<ConnId, Directions>,
}

impl RecordNotes {
    pub fn add(&mut self, key: ConvKey, note: Note) {
        *self.notes.entry(key).or_default() |= note.bit();
    }

    /// The notes of a conversation, in order.
    pub fn of(&self, key: &ConvKey) -> impl Iterator<Item = Note> + '_ {
        let bits = self.notes.get(key).copied().unwrap_or(0);
        Note::ALL.into_iter().filter(move |n| bits & n.bit() != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }

    /// The per-direction counters the records gave for a connection.
    pub fn directions(&self, rec: &ConnRecord) -> Option<&Directions> {
        self.directions.get(&conn_id(rec))
    }
}

/// A connection as a record gave it, before the end of the input is known.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) rec: ConnRecord,
    /// Packets the server sent (broadcast groups count them as replies).
    pub(crate) replies: u64,
    pub(crate) notes: u8,
    pub(crate) directions: Option<Directions>,
}

/// A connection's per-direction counters as its records gave them, in
/// Zeek's orientation (originator, responder): what JSONL writes as
/// `orig_pkts`…`resp_bytes`. `None` where the records do not say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Directions {
    /// Is the originator flowlint's client?
    pub orig_is_client: bool,
    pub orig_pkts: Option<u64>,
    pub resp_pkts: Option<u64>,
    /// Payload bytes (Zeek's `orig_bytes`; flow records have none).
    pub orig_bytes: Option<u64>,
    pub resp_bytes: Option<u64>,
}

impl Directions {
    fn add(&mut self, other: &Directions) {
        let sum = |a: Option<u64>, b: Option<u64>| Some(a? + b?);
        if self.orig_is_client == other.orig_is_client {
            self.orig_pkts = sum(self.orig_pkts, other.orig_pkts);
            self.resp_pkts = sum(self.resp_pkts, other.resp_pkts);
            self.orig_bytes = sum(self.orig_bytes, other.orig_bytes);
            self.resp_bytes = sum(self.resp_bytes, other.resp_bytes);
        } else {
            self.orig_pkts = sum(self.orig_pkts, other.resp_pkts);
            self.resp_pkts = sum(self.resp_pkts, other.orig_pkts);
            self.orig_bytes = sum(self.orig_bytes, other.resp_bytes);
            self.resp_bytes = sum(self.resp_bytes, other.orig_bytes);
        }
    }
}

/// A decided connection, as JSONL finds its [`Directions`] again.
type ConnId = (Transport, IpAddr, u16, IpAddr, u16, i64);

fn conn_id(r: &ConnRecord) -> ConnId {
    (
        r.transport,
        r.client,
        r.client_port,
        r.server,
        r.server_port,
        r.first_ns,
    )
}

/// An ICMP/ICMPv6 destination unreachable, as a record of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unreachable {
    /// Who sent it (a router, or the server itself).
    pub(crate) from: IpAddr,
    /// Whom it was sent to: the client of the attempt it answers.
    pub(crate) to: IpAddr,
    pub(crate) ts_ns: i64,
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
}

/// How long after its end a record may still be written, in record time.
/// Zeek writes a connection when it ends, after its inactivity timeout
/// (5 min for TCP, 1 min for UDP and ICMP), so an unanswered SYN and the
/// ICMP unreachable about it reach conn.log up to about 5 min apart;
/// NetFlow exporters write a flow after their inactive timeout (15 s to
/// 5 min by default) and nfdump prints each file in that order. What
/// waits for a later record (a reverse flow, a retry, an unreachable, a
/// query's reply) waits this long beyond its own window and no longer.
pub const RECORD_SLACK_NS: i64 = 300 * 1_000_000_000;

/// Zeek uids are remembered for at least this long of record time (and
/// at most twice as long): duplicates come from overlapping rotations of
/// one worker's log or from a log given twice, both close in time.
pub const UID_WINDOW_NS: i64 = 3600 * 1_000_000_000;

/// Waiting records are looked at once per this much record time.
const SWEEP_STEP_NS: i64 = 10 * 1_000_000_000;

/// Uids a generation holds at most: 7/8 of 2^20, the most a hash set of
/// 2^20 slots takes before it would double (9 bytes a slot: 9.4 MB a
/// generation). One more uid would have doubled it to 18.9 MB; measured
/// with heaptrack on `benches/records.sh`, the two generations and their
/// growth were 47 MB of the peak with a limit of 1 M.
const MAX_UIDS_PER_GENERATION: usize = 7 << 17;

/// The Zeek uids seen recently, in two generations: a uid is a duplicate
/// when either holds it; the older is dropped when the newer is one
/// window old or full (`max_connections` uids, at most
/// [`MAX_UIDS_PER_GENERATION`]), so memory follows the connection rate,
/// not the length of the input.
struct Uids {
    current: FxHashSet<u64>,
    previous: FxHashSet<u64>,
    since_ns: Option<i64>,
    cap: usize,
}

impl Uids {
    /// At most `cap` uids a generation, and never more than
    /// [`MAX_UIDS_PER_GENERATION`].
    fn new(cap: usize) -> Uids {
        Uids {
            current: FxHashSet::default(),
            previous: FxHashSet::default(),
            since_ns: None,
            cap: cap.clamp(1, MAX_UIDS_PER_GENERATION),
        }
    }

    /// Was `uid` seen before? (Remembers it.) `now` is the records' clock.
    fn seen(&mut self, uid: u64, now: i64) -> bool {
        let since = *self.since_ns.get_or_insert(now);
        if now.saturating_sub(since) >= UID_WINDOW_NS || self.current.len() >= self.cap {
            // The allocation of the dropped generation is reused.
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
            self.since_ns = Some(now);
        }
        self.previous.contains(&uid) || !self.current.insert(uid)
    }
}

/// Sockets of a failed attempt: Zeek logs each retransmitted SYN after
/// its attempt timeout as a record of its own, on the same sockets.
type RetryKey = (Transport, IpAddr, u16, IpAddr, u16);

fn retry_key(r: &ConnRecord) -> RetryKey {
    (
        r.transport,
        r.client,
        r.client_port,
        r.server,
        r.server_port,
    )
}

/// Turns records into decided connections, conversations and broadcast
/// groups: the meeting point of every record format.
///
/// Streaming: a failed attempt waits for the records that can still
/// change it (a retry, an ICMP unreachable, the reply to a broadcast it
/// answers) until the input's clock — the latest record end of the input
/// being read — has passed its end by [`Builder::hold_ns`]; then it is
/// decided, as the flow table decides an idle connection. Each input has
/// its own clock (a cluster's workers cover the same hours one after the
/// other), so an attempt of one input is not decided by the clock of an
/// input that ran ahead of it. At most `max_connections` attempts wait:
/// beyond, the oldest is decided early and counted (`evicted_connections`).
pub(crate) struct Builder {
    table: ConversationTable,
    keep: bool,
    kept: Vec<ConnRecord>,
    notes: RecordNotes,
    reply_timeout_ns: i64,
    max_held: usize,
    /// Attempts nobody answered yet, in arrival order (`None`: decided).
    held: VecDeque<Option<Pending>>,
    /// Sequence number of `held[0]`, and how many are `Some`.
    held_base: u64,
    held_live: usize,
    /// The latest waiting attempt of each socket pair, by sequence number.
    retries: FxHashMap<RetryKey, u64>,
    unreachables: VecDeque<Unreachable>,
    groups: BroadcastTable,
    broadcast: FxHashMap<GroupKey, BroadcastGroup>,
    /// The sockets that sent to a group, with the group port: a unicast
    /// datagram back to one of them from that port is a reply. With the
    /// time of the last query (entries expire with the attempts).
    queries: FxHashMap<(IpAddr, u16, u16), (GroupKey, i64)>,
    attempt_idle_ns: i64,
    uids: Uids,
    pub(crate) stats: FlowStats,
    /// The latest time any record reached (its start plus its duration).
    pub(crate) end_ns: Option<i64>,
    /// The same, for the input being read: the clock that decides.
    clock_ns: Option<i64>,
    next_sweep_ns: i64,
    pub(crate) server_ports: Arc<PortBitmap>,
}

impl Builder {
    pub(crate) fn new(options: &Options, server_ports: Arc<PortBitmap>) -> Builder {
        let max_held = options.flow.max_connections.max(1);
        Builder {
            table: ConversationTable::with_limit(options.max_conversations),
            keep: options.keep_connections,
            kept: Vec::new(),
            notes: RecordNotes::default(),
            reply_timeout_ns: options.flow.reply_timeout_ns,
            max_held,
            held: VecDeque::new(),
            held_base: 0,
            held_live: 0,
            retries: FxHashMap::default(),
            unreachables: VecDeque::new(),
            groups: BroadcastTable::new(options.broadcast.clone()),
            broadcast: FxHashMap::default(),
            queries: FxHashMap::default(),
            attempt_idle_ns: options.flow.attempt_idle_ns,
            uids: Uids::new(max_held),
            stats: FlowStats::default(),
            end_ns: None,
            clock_ns: None,
            next_sweep_ns: i64::MIN,
            server_ports,
        }
    }

    pub(crate) fn saw_time(&mut self, ns: i64) {
        self.end_ns = Some(self.end_ns.map_or(ns, |e| e.max(ns)));
        self.clock_ns = Some(self.clock_ns.map_or(ns, |e| e.max(ns)));
    }

    /// A new input begins: its clock starts again.
    pub(crate) fn start_input(&mut self) {
        self.clock_ns = None;
        self.next_sweep_ns = i64::MIN;
    }

    /// The input's clock, when a sweep is due.
    pub(crate) fn sweep_due(&self) -> Option<i64> {
        self.clock_ns.filter(|c| *c >= self.next_sweep_ns)
    }

    /// Is a Zeek record with this uid one seen before?
    pub(crate) fn duplicate_uid(&mut self, uid: u64, ts_ns: i64) -> bool {
        let now = self.end_ns.map_or(ts_ns, |e| e.max(ts_ns));
        self.uids.seen(uid, now)
    }

    /// How long after an unreachable's time the attempt it answers may be
    /// logged.
    fn unreachable_hold_ns(&self) -> i64 {
        self.reply_timeout_ns.saturating_add(RECORD_SLACK_NS)
    }

    /// How long after its end a failed attempt waits: for a retry (the
    /// attempt timeout), for an unreachable (linked up to the reply
    /// timeout, at least 1 s, after it, and logged up to the slack
    /// later), with the slack for records written late.
    pub(crate) fn hold_ns(&self) -> i64 {
        let link = self
            .link_slack_ns()
            .saturating_add(self.unreachable_hold_ns());
        let retry = self.attempt_idle_ns.saturating_add(RECORD_SLACK_NS);
        link.max(retry)
    }

    fn link_slack_ns(&self) -> i64 {
        self.reply_timeout_ns.max(1_000_000_000)
    }

    /// A broadcast or multicast destination. Records carry no link-layer
    /// destination, so beyond what the packet path knows from addresses
    /// alone, an IPv4 address ending in .255 is taken as a subnet broadcast.
    fn is_group(&self, addr: IpAddr) -> bool {
        self.groups.is_group_address(addr) || matches!(addr, IpAddr::V4(a) if a.octets()[3] == 255)
    }

    /// A unicast UDP record that answers an earlier datagram to a group.
    fn reply_group(&self, rec: &ConnRecord) -> Option<GroupKey> {
        if rec.transport != Transport::Udp {
            return None;
        }
        // The reply's sender is the record's client (a datagram from a
        // service port back to an ephemeral one is oriented so).
        let (key, _) = self
            .queries
            .get(&(rec.server, rec.server_port, rec.client_port))?;
        let group = self.broadcast.get(key)?;
        let in_time = rec.first_ns <= group.last_ns.saturating_add(self.reply_timeout_ns)
            && rec.first_ns.saturating_add(self.reply_timeout_ns) >= group.first_ns;
        in_time.then_some(*key)
    }

    /// A connection from a record. Failed and unanswered attempts wait
    /// (see [`Builder`]).
    pub(crate) fn push(&mut self, p: Pending) {
        self.saw_time(p.rec.last_ns);
        if self.is_group(p.rec.server) {
            let key = GroupKey {
                client: p.rec.client,
                destination: p.rec.server,
                port: p.rec.server_port,
                transport: p.rec.transport,
            };
            let g = self.broadcast.entry(key).or_insert(BroadcastGroup {
                key,
                packets: 0,
                replies: 0,
                first_ns: p.rec.first_ns,
                last_ns: p.rec.last_ns,
            });
            g.packets += p.rec.packets;
            g.replies += p.replies;
            g.first_ns = g.first_ns.min(p.rec.first_ns);
            g.last_ns = g.last_ns.max(p.rec.last_ns);
            if self.queries.len() < self.max_held {
                self.queries.insert(
                    (p.rec.client, p.rec.client_port, p.rec.server_port),
                    (key, p.rec.last_ns),
                );
            }
            return;
        }
        if let Some(key) = self.reply_group(&p.rec) {
            self.add_reply(key, &p.rec);
            return;
        }
        if matches!(
            p.rec.state,
            State::NoReply | State::Unanswered | State::Refused
        ) {
            self.hold(p);
        } else {
            self.deliver(p);
        }
    }

    fn add_reply(&mut self, key: GroupKey, rec: &ConnRecord) {
        if let Some(g) = self.broadcast.get_mut(&key) {
            g.packets += rec.packets;
            g.replies += rec.packets;
            g.last_ns = g.last_ns.max(rec.last_ns);
        }
    }

    /// Zeek ends an attempt after a few seconds without an answer (and at
    /// each RST), and logs the retransmitted SYN as a new record on the
    /// same sockets; the packet path sees one connection retrying. A
    /// failed record of the same sockets and state as a waiting one, within
    /// the attempt timeout of it, is merged into it.
    fn hold(&mut self, p: Pending) {
        let key = retry_key(&p.rec);
        if let Some(&seq) = self.retries.get(&key) {
            let idle = self.attempt_idle_ns;
            let slot = seq
                .checked_sub(self.held_base)
                .and_then(|i| self.held.get_mut(i as usize));
            if let Some(Some(last)) = slot {
                let r = &mut last.rec;
                // A retry of an attempt an unreachable was linked to is
                // still that attempt.
                let same = r.state == p.rec.state
                    || (r.state == State::Unreachable
                        && last.notes & Note::IcmpLinked.bit() != 0
                        && matches!(p.rec.state, State::NoReply | State::Unanswered));
                if same
                    && p.rec.first_ns <= r.last_ns.saturating_add(idle)
                    && r.first_ns <= p.rec.last_ns.saturating_add(idle)
                {
                    r.first_ns = r.first_ns.min(p.rec.first_ns);
                    r.last_ns = r.last_ns.max(p.rec.last_ns);
                    r.attempt_first_ns = r.attempt_first_ns.min(p.rec.attempt_first_ns);
                    r.attempt_last_ns = r.attempt_last_ns.max(p.rec.attempt_last_ns);
                    r.packets += p.rec.packets;
                    r.bytes += p.rec.bytes;
                    r.syns = r.syns.saturating_add(p.rec.syns);
                    r.unanswered_datagrams = r
                        .unanswered_datagrams
                        .saturating_add(p.rec.unanswered_datagrams);
                    last.notes |= p.notes;
                    match (&mut last.directions, &p.directions) {
                        (Some(a), Some(b)) => a.add(b),
                        (a, _) => *a = None,
                    }
                    return;
                }
            }
        }
        if self.held_live >= self.max_held {
            // Memory stays bounded: the oldest attempt is decided now,
            // without the records still to come about it.
            self.evict_oldest();
        }
        let seq = self.held_base + self.held.len() as u64;
        self.held.push_back(Some(p));
        self.held_live += 1;
        self.retries.insert(key, seq);
        self.note_peak(0);
    }

    /// Records the most connections waiting at once (`extra`: those of
    /// the nfdump pairer).
    pub(crate) fn note_peak(&mut self, extra: usize) {
        self.stats.peak_connections = self
            .stats
            .peak_connections
            .max((self.held_live + extra) as u64);
    }

    /// Takes the waiting attempt at `i` out of `held`.
    fn take_held(&mut self, i: usize) -> Option<Pending> {
        let p = self.held.get_mut(i)?.take()?;
        self.held_live -= 1;
        let seq = self.held_base + i as u64;
        let key = retry_key(&p.rec);
        if self.retries.get(&key) == Some(&seq) {
            self.retries.remove(&key);
        }
        Some(p)
    }

    fn trim_front(&mut self) {
        while matches!(self.held.front(), Some(None)) {
            self.held.pop_front();
            self.held_base += 1;
        }
    }

    fn evict_oldest(&mut self) {
        self.trim_front();
        if let Some(p) = self.take_held(0) {
            self.stats.evicted_early += 1;
            self.settle(p);
        }
        self.trim_front();
    }

    pub(crate) fn push_unreachable(&mut self, u: Unreachable) {
        self.saw_time(u.ts_ns);
        if self.unreachables.len() >= self.max_held {
            // Bounded like the attempts: the oldest is linked now.
            if let Some(old) = self.unreachables.pop_front() {
                self.link_unreachables(&[old]);
            }
        }
        self.unreachables.push_back(u);
    }

    /// Decides what the input's clock has passed by: unreachables first
    /// (they change the attempts they answer), then the attempts.
    pub(crate) fn sweep(&mut self, clock: i64) {
        self.next_sweep_ns = clock.saturating_add(SWEEP_STEP_NS);
        let u_cut = clock.saturating_sub(self.unreachable_hold_ns());
        let mut ripe = Vec::new();
        self.unreachables.retain(|u| {
            let is_ripe = u.ts_ns < u_cut;
            if is_ripe {
                ripe.push(*u);
            }
            !is_ripe
        });
        if !ripe.is_empty() {
            self.link_unreachables(&ripe);
        }
        let cut = clock.saturating_sub(self.hold_ns());
        for i in 0..self.held.len() {
            if self.held[i].as_ref().is_some_and(|p| p.rec.last_ns < cut) {
                if let Some(p) = self.take_held(i) {
                    self.settle(p);
                }
            }
        }
        self.trim_front();
        let q_cut = cut;
        self.queries.retain(|_, (_, t)| *t >= q_cut);
    }

    /// A waiting attempt whose time is up: a reply to a broadcast logged
    /// before its query, or decided.
    fn settle(&mut self, p: Pending) {
        match self.reply_group(&p.rec) {
            Some(key) => self.add_reply(key, &p.rec),
            None => self.decide(p),
        }
    }

    fn deliver(&mut self, p: Pending) {
        let key = ConvKey::of(&p.rec);
        for note in Note::ALL {
            if p.notes & note.bit() != 0 {
                self.notes.add(key, note);
            }
        }
        self.table.add(&p.rec);
        if self.keep {
            if let Some(d) = p.directions {
                // Two connections with the same sockets and start cannot
                // be told apart afterwards: their counters are unknown.
                self.notes
                    .directions
                    .entry(conn_id(&p.rec))
                    .and_modify(|e| {
                        *e = Directions {
                            orig_is_client: e.orig_is_client,
                            ..Directions::default()
                        }
                    })
                    .or_insert(d);
            }
            self.kept.push(p.rec);
        }
    }

    /// An attempt whose wait is over: pending (only at the end of the
    /// records, less than the reply timeout after it), or failed.
    fn decide(&mut self, mut p: Pending) {
        let end = self.end_ns.unwrap_or(p.rec.last_ns);
        let waited = end < p.rec.last_ns
            || end.saturating_sub(p.rec.attempt_first_ns) >= self.reply_timeout_ns;
        if !waited && matches!(p.rec.state, State::NoReply | State::Unanswered) {
            p.rec.state = State::Pending;
        }
        self.deliver(p);
    }

    /// Links each ICMP unreachable to the waiting attempt it most
    /// plausibly answers: the same client, the server itself or a third
    /// party, the nearest attempt that began before it (within the reply
    /// timeout of its last packet). A flow record carries no quoted header,
    /// so this is a guess, and the conversation says so.
    fn link_unreachables(&mut self, unreachables: &[Unreachable]) {
        if unreachables.is_empty() || self.held_live == 0 {
            return;
        }
        let mut by_client: FxHashMap<IpAddr, Vec<usize>> = FxHashMap::default();
        let wanted: FxHashSet<IpAddr> = unreachables.iter().map(|u| u.to).collect();
        for (i, p) in self.held.iter().enumerate() {
            if let Some(p) = p {
                if wanted.contains(&p.rec.client) {
                    by_client.entry(p.rec.client).or_default().push(i);
                }
            }
        }
        let slack = self.link_slack_ns();
        for u in unreachables {
            let Some(candidates) = by_client.get(&u.to) else {
                continue;
            };
            let score = |p: &Pending| {
                let r = &p.rec;
                if u.ts_ns < r.first_ns.saturating_sub(1_000_000)
                    || u.ts_ns > r.last_ns.saturating_add(slack)
                {
                    return None;
                }
                // From the server itself beats a third party; then the nearest in time.
                Some((u.from != r.server, (u.ts_ns - r.first_ns).abs()))
            };
            let best = candidates
                .iter()
                .filter_map(|&i| self.held[i].as_ref().and_then(&score).map(|s| (s, i)))
                .min();
            if let Some((_, i)) = best {
                if let Some(p) = self.held[i].as_mut() {
                    if matches!(p.rec.state, State::NoReply | State::Unanswered) {
                        p.rec.state = State::Unreachable;
                        p.rec.failed_by = Some(u.from);
                        p.notes |= Note::IcmpLinked.bit();
                    }
                    p.rec.packets += u.packets;
                    p.rec.bytes += u.bytes;
                    p.rec.last_ns = p.rec.last_ns.max(u.ts_ns);
                }
            }
        }
    }

    /// Decides what still waits and gives the analysis.
    pub(crate) fn finish(mut self, inputs: Vec<InputSummary>) -> Analysis {
        // A reply logged before the query it answers waited here as an
        // unanswered datagram: set apart before linking.
        for i in 0..self.held.len() {
            let is_reply = self.held[i]
                .as_ref()
                .is_some_and(|p| self.reply_group(&p.rec).is_some());
            if is_reply {
                if let Some(p) = self.take_held(i) {
                    self.settle(p);
                }
            }
        }
        let unreachables: Vec<Unreachable> = std::mem::take(&mut self.unreachables).into();
        self.link_unreachables(&unreachables);
        for i in 0..self.held.len() {
            if let Some(p) = self.take_held(i) {
                self.decide(p);
            }
        }
        let mut groups: Vec<BroadcastGroup> = self.broadcast.into_values().collect();
        groups.sort_by_key(|g| g.key);
        let broadcasts = Broadcasts {
            packets: groups.iter().map(|g| g.packets).sum(),
            groups,
            folded_packets: 0,
            duplicates: 0,
        };
        let mut connections = self.kept;
        connections.sort_by_key(ConnRecord::report_order);
        Analysis {
            inputs,
            table: self.table,
            connections,
            flow_stats: self.stats,
            broadcasts,
            end_ns: self.end_ns,
            record_notes: self.notes,
        }
    }
}

/// A blank connection record (the fields a record does not give are empty).
pub(crate) fn blank(
    transport: Transport,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
) -> ConnRecord {
    ConnRecord {
        transport,
        client: client.0,
        client_port: client.1,
        server: server.0,
        server_port: server.1,
        state: State::Established,
        started_before_capture: false,
        first_ns: 0,
        last_ns: 0,
        packets: 0,
        bytes: 0,
        syns: 0,
        unanswered_datagrams: 0,
        attempt_first_ns: 0,
        attempt_last_ns: 0,
        failed_by: None,
        rst_ttl: None,
        server_ttl: None,
        client_ttl: None,
        zeek: None,
        completeness: 0,
    }
}

/// The side the packet path would take for the server when the opening is
/// not known: the one on a catalog port, else the lower port (ties: the
/// second). Returns true when `a` is the client.
pub(crate) fn a_is_client_guess(
    ports: &PortBitmap,
    t: Transport,
    a_port: u16,
    b_port: u16,
) -> bool {
    match (ports.contains(t, a_port), ports.contains(t, b_port)) {
        (false, true) => true,
        (true, false) => false,
        _ => a_port >= b_port,
    }
}

/// The UDP rule of the packet path: the first sender opens the exchange,
/// unless it is plainly an answer from a service port to an ephemeral one.
/// Returns true when the first sender is the client.
pub(crate) fn udp_first_sender_is_client(ports: &PortBitmap, src_port: u16, dst_port: u16) -> bool {
    let src_service = ports.contains(Transport::Udp, src_port);
    let dst_service = ports.contains(Transport::Udp, dst_port);
    let reply = !dst_service && (src_service || (src_port < 1024 && dst_port >= 1024));
    !reply
}

/// Records handed from a reading thread to the analysis at once.
const BATCH: usize = 2048;

/// What a reading thread sends: records, then the input's warnings.
enum Batch {
    Items(Vec<Item>),
    Done(Vec<Warning>),
}

/// The inputs the analysis has finished, for the reading threads waiting
/// their turn (`usize::MAX`: stop, the analysis is over).
struct Turns {
    done: std::sync::Mutex<usize>,
    changed: std::sync::Condvar,
}

impl Turns {
    fn set(&self, n: usize) {
        if let Ok(mut done) = self.done.lock() {
            *done = n;
        }
        self.changed.notify_all();
    }

    /// Waits until input `index` may be read: fewer than `ahead` inputs
    /// before it are still being analysed.
    fn wait(&self, index: usize, ahead: usize) {
        let Ok(mut done) = self.done.lock() else {
            return;
        };
        while done.saturating_add(ahead) <= index {
            match self.changed.wait(done) {
                Ok(d) => done = d,
                Err(_) => return,
            }
        }
    }
}

/// Lets the reading threads go when the analysis ends, also by a panic
/// (they would otherwise wait for their turn for ever).
struct Release<'a>(&'a Turns);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.set(usize::MAX);
    }
}

/// Runs one analysis over record inputs (several files are one analysis;
/// a Zeek record seen twice, by its uid, counts once).
pub fn analyse(
    paths: &[PathBuf],
    readers: Vec<RecordReader>,
    options: &Options,
    server_ports: Arc<PortBitmap>,
) -> Analysis {
    analyse_with_progress(paths, readers, options, server_ports, None)
}

/// [`analyse`], calling `progress(bytes read, total)` now and then.
///
/// Decompressing and parsing take most of the time: each input is read on
/// a thread of its own (up to `options.threads` at once, the next ones
/// read ahead while the analysis takes an earlier one), in batches through
/// a bounded channel; the analysis takes the inputs one after the other,
/// in the order given, so the result does not depend on the threads.
pub fn analyse_with_progress(
    paths: &[PathBuf],
    readers: Vec<RecordReader>,
    options: &Options,
    server_ports: Arc<PortBitmap>,
    progress: Option<crate::analysis::ProgressFn<'_>>,
) -> Analysis {
    let mut builder = Builder::new(options, server_ports);
    let mut pairer = nfdump::Pairer::new(options.flow.max_connections.max(1));
    let total: u64 = readers.iter().filter_map(|r| r.total_len()).sum();
    let formats: Vec<Format> = readers.iter().map(|r| r.format()).collect();
    let read = std::sync::atomic::AtomicU64::new(0);
    let turns = Turns {
        done: std::sync::Mutex::new(0),
        changed: std::sync::Condvar::new(),
    };
    let ahead = options.threads.max(1);
    let mut inputs = Vec::with_capacity(readers.len());
    std::thread::scope(|scope| {
        let release = Release(&turns);
        let mut channels = Vec::with_capacity(readers.len());
        for (index, mut reader) in readers.into_iter().enumerate() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
            channels.push(rx);
            let (turns, read) = (&turns, &read);
            scope.spawn(move || {
                turns.wait(index, ahead);
                let mut batch = Vec::with_capacity(BATCH);
                let mut counted = 0;
                while let Some(item) = reader.next_item() {
                    batch.push(item);
                    if batch.len() == BATCH {
                        let at = reader.position();
                        read.fetch_add(at - counted, std::sync::atomic::Ordering::Relaxed);
                        counted = at;
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        if tx.send(Batch::Items(full)).is_err() {
                            return;
                        }
                    }
                }
                read.fetch_add(
                    reader.position().saturating_sub(counted),
                    std::sync::atomic::Ordering::Relaxed,
                );
                let _ = tx.send(Batch::Items(batch));
                let _ = tx.send(Batch::Done(reader.warnings().to_vec()));
            });
        }
        for (index, (path, rx)) in paths.iter().zip(channels).enumerate() {
            let mut summary = InputSummary {
                path: path.to_string_lossy().into_owned(),
                format: formats[index],
                linktypes: Vec::new(),
                packets: 0,
                bytes: 0,
                warnings: Vec::new(),
                skipped: SkipCounts::default(),
                tunnels: TunnelCounts::default(),
                time_range: None,
            };
            builder.start_input();
            for batch in rx {
                let items = match batch {
                    Batch::Items(items) => items,
                    Batch::Done(warnings) => {
                        summary.warnings = warnings;
                        break;
                    }
                };
                // By reference: a record is not moved out of its batch.
                for item in &items {
                    take(item, index, &mut summary, &mut builder, &mut pairer);
                }
                if let Some(progress) = progress {
                    progress(read.load(std::sync::atomic::Ordering::Relaxed), total);
                }
            }
            inputs.push(summary);
            turns.set(index + 1);
        }
        drop(release);
    });
    pairer.finish(&mut builder);
    builder.finish(inputs)
}

/// One record into the analysis.
fn take(
    item: &Item,
    index: usize,
    summary: &mut InputSummary,
    builder: &mut Builder,
    pairer: &mut nfdump::Pairer,
) {
    match item {
        Item::Zeek(conn) => {
            if let Some(uid) = conn.uid {
                if builder.duplicate_uid(uid, conn.ts_ns) {
                    builder.stats.duplicates += 1;
                    return;
                }
            }
            summary.packets += conn.orig_pkts.unwrap_or(0) + conn.resp_pkts.unwrap_or(0);
            summary.bytes += conn.orig_ip_bytes.unwrap_or(0) + conn.resp_ip_bytes.unwrap_or(0);
            summary.saw_time(conn.ts_ns);
            zeek::feed(conn, builder);
        }
        Item::Flow(half) => {
            summary.packets += half.packets;
            summary.bytes += half.bytes;
            summary.saw_time(half.first_ns);
            builder.saw_time(half.last_ns);
            pairer.add(half.clone(), index as u16, builder);
        }
    }
    if let Some(clock) = builder.sweep_due() {
        pairer.sweep(clock, builder);
        builder.sweep(clock);
    }
}

/// For tests and fuzzing: reads one record input from bytes (compressed or
/// not) through the whole records path.
pub fn analyse_bytes(
    bytes: &[u8],
    options: &Options,
    server_ports: Arc<PortBitmap>,
) -> Option<Analysis> {
    let (mut decoded, compression) =
        crate::capture::decompress(Box::new(std::io::Cursor::new(bytes.to_vec()))).ok()?;
    let mut head = Vec::new();
    let _ = (&mut decoded).take(SNIFF as u64).read_to_end(&mut head);
    let container = sniff(&head)?;
    let whole: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head).chain(decoded));
    let reader = RecordReader::new(
        whole,
        "input",
        Format {
            container,
            compression: compression.filter(|_: &Compression| true),
        },
    );
    Some(analyse(
        &[PathBuf::from("input")],
        vec![reader],
        options,
        server_ports,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_uid_generation_never_doubles_its_table() {
        // As the default --max-connections (1 M) asks, and more.
        let mut uids = Uids::new(4_000_000);
        for uid in 0..MAX_UIDS_PER_GENERATION as u64 {
            assert!(!uids.seen(uid, 0));
        }
        let slots = uids.current.capacity();
        assert!(slots <= MAX_UIDS_PER_GENERATION, "{slots}");
        // Full: the next uid starts a new generation; the old one still counts.
        assert!(!uids.seen(u64::MAX, 1));
        assert_eq!(uids.current.len(), 1);
        assert!(uids.seen(7, 2));
        assert!(uids.current.capacity() <= MAX_UIDS_PER_GENERATION);
        assert!(uids.previous.capacity() <= MAX_UIDS_PER_GENERATION);
    }
}
