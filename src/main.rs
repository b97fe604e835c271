//! The `flowlint` command line: parses options and wires the library's stages.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use flowlint::analysis::{self, Options};
use flowlint::broadcast::{self, BroadcastConfig, SubnetBroadcasts};
use flowlint::catalog::{CatalogSet, Services};
use flowlint::flow::FlowConfig;
use flowlint::inventory::Inventory;
use flowlint::report::baseline::{self, Baseline};
use flowlint::report::lang::Lang;
use flowlint::report::Finish;
use flowlint::{listing, report, term, tr};

mod help_ja;

/// The language of this run: `--lang`, else the locale variables. Set once
/// in `main` before anything is written.
static LANG: std::sync::OnceLock<Lang> = std::sync::OnceLock::new();

fn lang() -> Lang {
    LANG.get().copied().unwrap_or_default()
}

const ABOUT: &str =
    "Checks network traffic against the port catalogs of JP1/IT Desktop Management 2 \
and Systemwalker Operation Manager: which required flows work, which look blocked, which go the \
wrong way, and which should not exist at all.";

const AFTER_HELP: &str = "\
Verdicts (one per conversation = client, server, server port, protocol):
  expected         a catalog rule allows it and every connection worked
  blocked          a rule allows it, and a connection failed (no_reply, refused, unreachable,
                   or unanswered where the rule expects a reply)
  wrong_direction  only the reverse direction is allowed
  unexpected       a catalog port, but no rule allows it either way (roles, conditions)
  unlisted         the port is in no catalog

Exit status: 0 nothing in --fail-on found; 1 something was (or the baseline comparison found
something new or missing); 2 the run failed (bad arguments, unreadable capture, invalid
inventory, catalog or baseline).

Examples:
  flowlint check --inventory site.toml capture.pcapng
  flowlint check -o report.json --format json a.pcap b.pcap
  flowlint check --baseline last-good.json --inventory lab.toml lab.pcapng
  flowlint plan --inventory site.toml
  flowlint catalog --catalog systemwalker-om --services services";

#[derive(Parser)]
#[command(name = "flowlint", version, about = ABOUT, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Language of the report, messages and help: ja (Japanese) or en (English). Default:
    /// from LC_ALL, LC_MESSAGES or LANG (ja* is Japanese), else English.
    #[arg(long, global = true, value_enum, value_name = "LANG")]
    lang: Option<LangArg>,
}

/// `--lang`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LangArg {
    En,
    Ja,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse capture files (pcap, pcapng), or flow records (Zeek conn.log, nfdump), as one analysis.
    #[command(after_help = AFTER_HELP)]
    Check(CheckArgs),
    /// Analyse live traffic from an interface (needs the `live` build feature and libpcap).
    #[command(after_help = AFTER_HELP)]
    Live(LiveArgs),
    /// Print the effective catalog (after port changes from --inventory and --services).
    Catalog(CatalogArgs),
    /// Print every flow the inventory must allow: a firewall checklist.
    Plan(PlanArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ReportFormat {
    Text,
    Json,
    Jsonl,
    /// One self-contained page (inline CSS, script and SVG; loads nothing).
    Html,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ListFormat {
    Text,
    Json,
}

/// `plan --format`: besides text and JSON, a spreadsheet and a wiki page.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum PlanFormat {
    Text,
    Json,
    /// RFC 4180, UTF-8 with a byte order mark (Excel reads it as UTF-8).
    Csv,
    /// A GitHub-flavoured Markdown table.
    #[value(alias = "md")]
    Markdown,
    /// New-NetFirewallRule lines: one script per Windows server host.
    Powershell,
    /// netsh advfirewall lines (a batch file): one script per Windows server host.
    Netsh,
    /// nftables: one inet filter input chain per Unix server host (check with nft -c -f).
    Nft,
}

#[derive(Args, Clone)]
struct ConfigArgs {
    /// Inventory (TOML): hosts → roles, features, changed ports. Without it, roles are
    /// inferred from the ports each host is seen serving.
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Catalog to use: a built-in name (jp1-itdm, systemwalker-om) or a catalog file.
    /// Repeatable. Default: both built-ins.
    #[arg(long = "catalog", value_name = "NAME|FILE")]
    catalogs: Vec<String>,
    /// A services file (/etc/services or Windows drivers\etc\services syntax): catalog
    /// service names found there (e.g. jmnet, smtp_mpaosfb) take its port numbers.
    #[arg(long, value_name = "FILE")]
    services: Option<PathBuf>,
}

impl CommonArgs {
    /// Where the report goes; `None` is standard output (also `-o -`).
    fn output(&self) -> Option<PathBuf> {
        self.output.clone().filter(|p| p.as_os_str() != "-")
    }

    /// `--format`, else what the output file's extension says, else text.
    fn format(&self) -> ReportFormat {
        if let Some(format) = self.format {
            return format;
        }
        let extension = self.output().and_then(|p| {
            p.extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
        });
        match extension.as_deref() {
            Some("json") => ReportFormat::Json,
            Some("jsonl" | "ndjson") => ReportFormat::Jsonl,
            Some("html" | "htm") => ReportFormat::Html,
            _ => ReportFormat::Text,
        }
    }
}

#[derive(Args, Clone)]
struct CommonArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Report format: text (for people), json (one object), jsonl (one object per connection),
    /// html (one self-contained page). Default: from the extension of -o (.json, .jsonl, .html),
    /// else text.
    #[arg(long, value_enum)]
    format: Option<ReportFormat>,
    /// Write the report to FILE (atomically) instead of standard output (`-`: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Verdicts that make the exit status 1 (comma list), or `none`. Default:
    /// blocked,wrong_direction,unexpected; with --baseline, only what got worse
    /// (new findings, rules that no longer match).
    #[arg(long, value_name = "LIST")]
    fail_on: Option<String>,
    /// Seconds an attempt may go unanswered before it counts as no_reply/unanswered.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value = "3",
        allow_negative_numbers = true
    )]
    reply_timeout: f64,
    /// Compare with an earlier JSON report: new findings and rules that no longer
    /// match make the exit status 1.
    #[arg(long, value_name = "REPORT.json")]
    baseline: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
    /// Connections tracked at once at most; beyond, the least recently active are
    /// decided early (and counted in the report).
    #[arg(long, value_name = "N", default_value = "1000000")]
    max_connections: usize,
    /// Conversations reported one by one at most; beyond, the connections of new
    /// clients are folded per server port under the client 0.0.0.0 / :: (floods, scans).
    #[arg(long, value_name = "N", default_value = "2500000")]
    max_conversations: usize,
    /// No progress bar and no summary on standard error.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Text report: list every conversation one by one, with its reason, instead of the
    /// findings grouped per problem.
    #[arg(long)]
    all: bool,
    /// Text report: times in UTC (default: local time, with its UTC offset).
    #[arg(long)]
    utc: bool,
    /// Colour in the text report: auto (on a terminal, unless NO_COLOR is set;
    /// CLICOLOR_FORCE forces it), always, never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: ColorChoice,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Colour or not, for a report going to a terminal (`to_terminal`) or not.
    fn on(self, to_terminal: bool) -> bool {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("CLICOLOR_FORCE") => true,
            ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Capture files: pcap or pcapng, plain or compressed with gzip, zstd or xz
    /// (recognised by content); `-` is standard input. Or flow records instead:
    /// Zeek conn.log (TSV or JSON lines) or nfdump -o json / -o csv output.
    #[arg(required_unless_present = "read", value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
    /// A capture file, as tcpdump spells it (repeatable; same as a CAPTURE argument).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Vec<PathBuf>,
}

#[derive(Args)]
struct LiveArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Interface to capture on (e.g. a SPAN/mirror port).
    #[arg(long, short = 'i', value_name = "IF")]
    interface: String,
    /// Stop after this many seconds (default: until SIGINT/SIGTERM).
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Capture filter (default: the effective catalog's ports plus ICMP/ICMPv6).
    #[arg(long, value_name = "FILTER")]
    bpf: Option<String>,
    /// Seconds between summary lines on standard error.
    #[arg(long, value_name = "SECONDS", default_value = "10")]
    interval: f64,
    /// Kernel capture buffer in MiB.
    #[arg(long, value_name = "MB", default_value = "64")]
    buffer_mb: u32,
    /// Write the report to --output every this many seconds (atomically; a
    /// crash loses at most that much).
    #[arg(long, value_name = "SECONDS")]
    checkpoint: Option<f64>,
    /// The user to run as once the interface is open (default: flowlint
    /// where it exists, else nobody).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Keep root and every capability (not recommended: live parses
    /// untrusted traffic).
    #[arg(long)]
    no_drop_privileges: bool,
    /// No seccomp system-call filter (Linux; for diagnosing a kernel or
    /// libc that needs a call the filter does not allow).
    #[arg(long)]
    no_seccomp: bool,
}

#[derive(Args)]
struct CatalogArgs {
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(long, value_enum, default_value = "text")]
    format: ListFormat,
}

#[derive(Args)]
struct PlanArgs {
    /// Inventory (TOML) describing the site.
    #[arg(long, value_name = "FILE")]
    inventory: PathBuf,
    /// Catalog to use (repeatable; default both built-ins).
    #[arg(long = "catalog", value_name = "NAME|FILE")]
    catalogs: Vec<String>,
    /// A services file whose port numbers replace the catalogs' for their service names.
    #[arg(long, value_name = "FILE")]
    services: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: PlanFormat,
}

/// A failure of the run itself: exit status 2 with one line on stderr.
struct Fatal(String);

impl<E: std::error::Error + 'static> From<E> for Fatal {
    fn from(e: E) -> Fatal {
        Fatal(error_text(&e))
    }
}

/// A library error in the run's language: one line naming the input, the
/// place and what is wrong (each error kind words itself in both).
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    use flowlint::capture::CaptureError;
    use flowlint::catalog::CatalogError;
    use flowlint::inventory::InventoryError;
    use flowlint::report::baseline::BaselineError;
    let lang = lang();
    if let Some(c) = e.downcast_ref::<CaptureError>() {
        c.render(lang)
    } else if let Some(i) = e.downcast_ref::<InventoryError>() {
        i.render(lang)
    } else if let Some(c) = e.downcast_ref::<CatalogError>() {
        c.render(lang)
    } else if let Some(b) = e.downcast_ref::<BaselineError>() {
        b.render(lang)
    } else if let Some(w) = e.downcast_ref::<report::WriteError>() {
        w.render(lang)
    } else {
        e.to_string()
    }
}

/// Large blocks straight from the system, returned as soon as freed.
///
/// glibc serves a block of at least its mmap threshold with a mapping of
/// its own, but raises that threshold to the size of every mapped block
/// freed (up to 32 MB). The conversation table's 2 MB chunks then come
/// from the heap, and when classification moves the conversations out
/// chunk by chunk, the freed chunks stay resident beside their classified
/// copies. A fixed threshold (which also stops the raising) gives every
/// chunk its own mapping, unmapped as it is emptied.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn map_large_blocks() {
    extern "C" {
        fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
    }
    /// glibc's `M_MMAP_THRESHOLD` (malloc.h).
    const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator;
    // it is called before any other thread exists, with a valid parameter
    // and value (2 MB is within glibc's 0..=32 MB range for it).
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 2 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn map_large_blocks() {}

fn main() -> ExitCode {
    map_large_blocks();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let lang = *LANG.get_or_init(|| Lang::from_args(&args));
    let parsed = help_ja::command(lang)
        .try_get_matches_from(&args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    return ExitCode::SUCCESS;
                }
                // `flowlint` alone: the help, but as a usage error.
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    return ExitCode::from(2);
                }
                _ => {}
            }
            // One line, as for every other failure of the run.
            // clap names missing arguments on the lines after the first: keep
            // them, up to the usage block.
            let text = e.to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            let message = message.join(" ");
            let message = message.trim_start_matches("error: ");
            let japanese = (lang == Lang::Ja)
                .then(|| help_ja::error_line(&e))
                .flatten();
            let message = match &japanese {
                Some(line) => line.as_str(),
                None if message.is_empty() => {
                    term!(lang, "invalid arguments", "引数が正しくありません")
                }
                None => message,
            };
            let hint = if e.kind() == ErrorKind::MissingRequiredArgument
                && text.contains("<CAPTURE>")
            {
                term!(
                    lang,
                    " (give a capture file, or - for standard input; see flowlint check --help)",
                    "（キャプチャファイル、または標準入力なら - を指定してください。flowlint check --help を参照）"
                )
            } else {
                term!(lang, " (see flowlint --help)", "（flowlint --help を参照）")
            };
            match lang {
                Lang::En => eprintln!("flowlint: error: {message}{hint}"),
                // A kind without its facts keeps clap's sentence; the line
                // still says in Japanese that the arguments are wrong.
                Lang::Ja => eprintln!("flowlint: エラー: 引数の誤り: {message}{hint}"),
            }
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check(args),
        Command::Live(args) => live(args),
        Command::Catalog(args) => catalog(args),
        Command::Plan(args) => plan(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Fatal(message)) => {
            eprintln!(
                "flowlint: {}: {}",
                term!(lang, "error", "エラー"),
                message.replace('\n', " ")
            );
            ExitCode::from(2)
        }
    }
}

/// Catalogs, services and inventory, with port changes applied.
fn load_config(config: &ConfigArgs) -> Result<(CatalogSet, Option<Inventory>), Fatal> {
    let mut catalogs = CatalogSet::load(&config.catalogs)?;
    if let Some(path) = &config.services {
        let services = Services::load(path)?;
        catalogs.apply_services(&services);
    }
    let inventory = match &config.inventory {
        Some(path) => {
            let inv = Inventory::load(path, &catalogs)?;
            catalogs.apply_port_changes(&inv.port_changes)?;
            Some(inv)
        }
        None => None,
    };
    Ok((catalogs, inventory))
}

/// Prints the inventory's warnings (after the output, so that a status-2
/// failure stays the only line on stderr).
fn inventory_warnings(inventory: Option<&Inventory>) {
    for w in inventory.iter().flat_map(|i| &i.warnings) {
        eprintln!(
            "flowlint: {}: {}",
            term!(lang(), "warning", "警告"),
            w.render(lang())
        );
    }
}

fn flow_config(common: &CommonArgs) -> Result<FlowConfig, Fatal> {
    if !(common.reply_timeout.is_finite()
        && common.reply_timeout >= 0.0
        && common.reply_timeout < 1e6)
    {
        return Err(Fatal(tr!(
            lang(),
            "--reply-timeout {value}: give a number of seconds from 0 to 999999",
            "--reply-timeout {value}: 0 から 999999 までの秒数を指定してください",
            value = common.reply_timeout
        )));
    }
    let mut config = FlowConfig::new((common.reply_timeout * 1e9) as i64);
    config.max_connections = common.max_connections.max(1);
    Ok(config)
}

/// Broadcast recognition: the reply timeout, the inventory's subnet
/// broadcast addresses, and a bound no larger than `--max-conversations`.
fn broadcast_config(
    common: &CommonArgs,
    flow: &FlowConfig,
    inventory: Option<&Inventory>,
) -> BroadcastConfig {
    let mut config = BroadcastConfig::new(flow.reply_timeout_ns);
    config.subnet_broadcasts = SubnetBroadcasts::new(
        inventory
            .map(Inventory::subnet_broadcasts)
            .unwrap_or_default(),
    );
    config.max_groups = broadcast::DEFAULT_MAX_GROUPS.min(common.max_conversations.max(1));
    config
}

fn threads(common: &CommonArgs) -> usize {
    common
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

fn check(args: CheckArgs) -> Result<u8, Fatal> {
    let started = Instant::now();
    let common = &args.common;
    let fail_on = report::FailOn::parse(common.fail_on.as_deref()).map_err(fail_on_error)?;
    let flow = flow_config(common)?;
    let (catalogs, inventory) = load_config(&common.config)?;
    let baseline = match &common.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let captures: Vec<PathBuf> = args.read.iter().chain(&args.captures).cloned().collect();
    check_inputs(&captures, common.output().as_deref())?;
    // Captures or flow records (Zeek conn.log, nfdump), by content.
    let (readers, records) = match flowlint::records::open_inputs(&captures)? {
        flowlint::records::Opened::Captures(readers) => (readers, None),
        flowlint::records::Opened::Records(records) => (Vec::new(), Some(records)),
    };

    let show_progress = !common.quiet && std::io::stderr().is_terminal();
    // Standard input and compressed captures have no known length: a
    // counter of bytes read, not a bar towards a total.
    let total_known = match &records {
        None => readers.iter().all(|r| r.total_len().is_some()),
        Some(records) => records.iter().all(|r| r.total_len().is_some()),
    };
    let bar = show_progress.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        let template = if total_known {
            "{spinner} {bytes}/{total_bytes} {bar:30} {bytes_per_sec}, {eta} left"
        } else {
            "{spinner} {bytes} read, {bytes_per_sec}"
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            if total_known {
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    };
    let options = Options {
        broadcast: broadcast_config(common, &flow, inventory.as_ref()),
        flow,
        threads: threads(common),
        keep_connections: common.format() == ReportFormat::Jsonl,
        max_conversations: common.max_conversations.max(1),
    };
    let server_ports = Arc::new(catalogs.server_ports());
    let result = match records {
        None => analysis::analyse(
            &captures,
            readers,
            &options,
            server_ports,
            bar.as_ref().map(|_| &progress as analysis::ProgressFn<'_>),
        ),
        Some(records) => flowlint::records::analyse_with_progress(
            &captures,
            records,
            &options,
            server_ports,
            bar.as_ref().map(|_| &progress as analysis::ProgressFn<'_>),
        ),
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let packets_done = started.elapsed();
    let rss_packets = timing_rss();
    let peak_connections = result.flow_stats.peak_connections;
    // Classifying and writing many conversations takes a while: say so.
    let spinner = show_progress.then(|| {
        let spinner = indicatif::ProgressBar::new_spinner();
        spinner.set_message(tr!(
            lang(),
            "classifying {n} conversations",
            "通信 {n} 件を判定中",
            n = result.table.conversations.len()
        ));
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    });
    let mut outcome = report::Outcome::classify(result, &catalogs, inventory.as_ref());
    outcome.lang = lang();
    if let Some(old) = &baseline {
        outcome.baseline = Some(baseline::compare(&outcome.classification, &catalogs, old));
    }
    drop(baseline);
    let classified = started.elapsed();
    let rss_classified = timing_rss();

    let to_terminal = common.output().is_none() && std::io::stdout().is_terminal();
    let finish = Finish {
        format: report_format(common, to_terminal),
        output: common.output(),
        fail_on,
    };
    if let Some(spinner) = &spinner {
        if to_terminal {
            // The report goes to the same screen: no spinner line in it.
            spinner.finish_and_clear();
        } else {
            spinner.set_message(term!(lang(), "writing the report", "レポートを書き出し中"));
        }
    }
    let written = report::finish(&outcome, &finish);
    if let Some(spinner) = &spinner {
        spinner.finish_and_clear();
    }
    let code = written?;
    if std::env::var_os("FLOWLINT_TIMING").is_some() {
        // For benchmarks (benches/compare.sh): where the wall time went.
        let written = started.elapsed();
        eprintln!(
            "flowlint: timing: packet stage {:.3} s ({peak_connections} connections open at most), \
             classification {:.3} s, report {:.3} s; memory (VmRSS/VmHWM) after the packet stage {rss_packets}, \
             after classification {rss_classified}, at the end {}",
            packets_done.as_secs_f64(),
            (classified - packets_done).as_secs_f64(),
            (written - classified).as_secs_f64(),
            timing_rss()
        );
    }
    // After the report is out: a failure to write it must stay the only line.
    // Warnings are not chatter: --quiet keeps them.
    inventory_warnings(inventory.as_ref());
    let lang = lang();
    let warning = term!(lang, "warning", "警告");
    for input in &outcome.inputs {
        for w in &input.warnings {
            let line = tr!(
                lang,
                "{path}: at byte {offset}: {message}",
                "{path}: {offset} バイト目: {message}",
                path = input.path,
                offset = w.offset,
                message = w.render(lang)
            );
            eprintln!("flowlint: {warning}: {line}");
        }
    }
    let t = &outcome.totals;
    if t.folded_connections > 0 {
        let line = tr!(
            lang,
            "more than {max} conversations: {n} connections of further clients were \
             folded per server port (raise --max-conversations)",
            "通信が {max} 件を超えました。それ以降のクライアントの接続 {n} 件はサーバポートごとにまとめました\
             （--max-conversations を増やしてください）",
            max = common.max_conversations,
            n = t.folded_connections
        );
        eprintln!("flowlint: {warning}: {line}");
    }
    if t.evicted_connections > 0 {
        let line = tr!(
            lang,
            "more than {max} connections at once: {n} were decided early to bound memory \
             (their states may be incomplete; raise --max-connections)",
            "同時に開いている接続が {max} 件を超えました。メモリを抑えるため {n} 件を早めに判定しました\
             （状態が不完全な場合があります。--max-connections を増やしてください）",
            max = common.max_connections,
            n = t.evicted_connections
        );
        eprintln!("flowlint: {warning}: {line}");
    }
    if !common.quiet {
        let secs = started.elapsed().as_secs_f64();
        let line = tr!(
            lang,
            "{summary} ({secs:.2} s)",
            "{summary}（{secs:.2} 秒）",
            summary = outcome.summary_line(),
            secs = secs
        );
        eprintln!("flowlint: {line}");
    }
    Ok(code as u8)
}

/// Current and peak resident memory, for `FLOWLINT_TIMING` (Linux).
fn timing_rss() -> String {
    if std::env::var_os("FLOWLINT_TIMING").is_none() {
        return String::new();
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or_else(|| "?".to_string(), |kb| format!("{} MB", kb / 1024))
    };
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks
    // (100 a second on Linux); the name field before them has no spaces here.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let ticks: u64 = stat
        .split_whitespace()
        .skip(13)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    format!(
        "{}/{}, cpu {:.2} s",
        field("VmRSS:"),
        field("VmHWM:"),
        ticks as f64 / 100.0
    )
}

/// `--fail-on`'s value is wrong (status 2).
fn fail_on_error(e: String) -> Fatal {
    Fatal(match lang() {
        Lang::En => format!("--fail-on: {e}"),
        Lang::Ja => format!(
            "--fail-on: 判定の一覧（例: blocked,unexpected）か none を指定してください: {e}"
        ),
    })
}

/// Standard input can be read once, and the report must not overwrite a capture.
fn check_inputs(captures: &[PathBuf], output: Option<&Path>) -> Result<(), Fatal> {
    let stdin = captures.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin > 1 {
        return Err(Fatal(
            term!(
                lang(),
                "-: standard input is given more than once; it can be read once",
                "-: 標準入力が複数回指定されています。標準入力は 1 回しか読めません"
            )
            .into(),
        ));
    }
    let Some(output) = output else {
        return Ok(());
    };
    let Ok(out) = std::fs::metadata(output) else {
        return Ok(()); // not there yet: it is no capture
    };
    for capture in captures.iter().filter(|p| p.as_os_str() != "-") {
        let same = match std::fs::metadata(capture) {
            #[cfg(unix)]
            Ok(meta) => {
                use std::os::unix::fs::MetadataExt;
                meta.dev() == out.dev() && meta.ino() == out.ino()
            }
            #[cfg(not(unix))]
            Ok(_) => std::fs::canonicalize(capture).ok() == std::fs::canonicalize(output).ok(),
            Err(_) => false,
        };
        if same {
            return Err(Fatal(tr!(
                lang(),
                "{path}: --output names one of the input captures; the report would overwrite it \
                 (write the report to another file)",
                "{path}: --output が入力キャプチャの 1 つを指しています。レポートで上書きしてしまいます\
                 （別のファイルに書き出してください）",
                path = output.display()
            )));
        }
    }
    Ok(())
}

fn report_format(common: &CommonArgs, to_terminal: bool) -> report::Format {
    match common.format() {
        ReportFormat::Text => report::Format::Text(report::text::Options {
            color: common.color.on(to_terminal),
            width: to_terminal.then(report::text::terminal_width).flatten(),
            all: common.all,
            utc: common.utc,
        }),
        ReportFormat::Json => report::Format::Json,
        ReportFormat::Jsonl => report::Format::Jsonl,
        ReportFormat::Html => report::Format::Html,
    }
}

/// Writes a listing to standard output.
fn emit(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Fatal> {
    Ok(report::emit(None, write)?)
}

fn catalog(args: CatalogArgs) -> Result<u8, Fatal> {
    let (catalogs, inventory) = load_config(&args.config)?;
    emit(|out| listing::write_catalog(out, &catalogs, args.format == ListFormat::Json, lang()))?;
    inventory_warnings(inventory.as_ref());
    Ok(0)
}

fn plan(args: PlanArgs) -> Result<u8, Fatal> {
    let config = ConfigArgs {
        inventory: Some(args.inventory.clone()),
        catalogs: args.catalogs.clone(),
        services: args.services.clone(),
    };
    let (catalogs, inventory) = load_config(&config)?;
    let inventory = inventory.ok_or_else(|| {
        Fatal(
            term!(
                lang(),
                "plan needs --inventory",
                "plan には --inventory が必要です"
            )
            .to_string(),
        )
    })?;
    let plan = listing::plan(&catalogs, &inventory);
    let format = match args.format {
        PlanFormat::Text => listing::PlanFormat::Text,
        PlanFormat::Json => listing::PlanFormat::Json,
        PlanFormat::Csv => listing::PlanFormat::Csv,
        PlanFormat::Markdown => listing::PlanFormat::Markdown,
        PlanFormat::Powershell => listing::PlanFormat::Powershell,
        PlanFormat::Netsh => listing::PlanFormat::Netsh,
        PlanFormat::Nft => listing::PlanFormat::Nft,
    };
    emit(|out| listing::write_plan(out, &plan, format, lang()))?;
    inventory_warnings(Some(&inventory));
    Ok(0)
}

#[cfg(not(feature = "live"))]
fn live(_args: LiveArgs) -> Result<u8, Fatal> {
    Err(Fatal(
        term!(
            lang(),
            "this flowlint was built without live capture: rebuild with `cargo build --release --features live` \
             (needs libpcap-dev)",
            "この flowlint はライブキャプチャなしでビルドされています。`cargo build --release --features live` で\
             ビルドし直してください（libpcap-dev が必要です）"
        )
        .to_string(),
    ))
}

#[cfg(feature = "live")]
fn live(args: LiveArgs) -> Result<u8, Fatal> {
    use flowlint::live::{LiveFormat, LiveOptions};
    let common = &args.common;
    let fail_on = report::FailOn::parse(common.fail_on.as_deref()).map_err(fail_on_error)?;
    let flow = flow_config(common)?;
    let seconds = |name: &str, s: f64| {
        if s.is_finite() && s > 0.0 && s < 1e9 {
            Ok(std::time::Duration::from_secs_f64(s))
        } else {
            Err(Fatal(tr!(
                lang(),
                "{name} {s}: give a positive number of seconds",
                "{name} {s}: 正の秒数を指定してください",
                name = name,
                s = s
            )))
        }
    };
    let duration = args
        .duration
        .map(|d| seconds("--duration", d))
        .transpose()?;
    let interval = seconds("--interval", args.interval)?;
    let checkpoint = args
        .checkpoint
        .map(|c| seconds("--checkpoint", c))
        .transpose()?;
    let (catalogs, inventory) = load_config(&common.config)?;
    let baseline = match &common.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let options = LiveOptions {
        interface: args.interface.clone(),
        duration,
        bpf: args.bpf.clone(),
        interval,
        buffer_mb: args.buffer_mb,
        broadcast: broadcast_config(common, &flow, inventory.as_ref()),
        flow,
        format: match common.format() {
            ReportFormat::Text => LiveFormat::Text,
            ReportFormat::Json => LiveFormat::Json,
            ReportFormat::Jsonl => LiveFormat::Jsonl,
            ReportFormat::Html => LiveFormat::Html,
        },
        output: common.output(),
        fail_on,
        baseline,
        quiet: common.quiet,
        text: match report_format(
            common,
            common.output().is_none() && std::io::stdout().is_terminal(),
        ) {
            report::Format::Text(options) => options,
            _ => report::text::Options::default(),
        },
        lang: lang(),
        checkpoint,
        drop_privileges: !args.no_drop_privileges,
        user: args.user.clone(),
        seccomp: !args.no_seccomp,
    };
    let code = flowlint::live::run(&options, &catalogs, inventory.as_ref())?;
    inventory_warnings(inventory.as_ref());
    Ok(code as u8)
}
