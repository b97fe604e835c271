//! Property tests over capture input: arbitrary bytes, and valid captures
//! (written by `flowlint::synth`) with bit flips, truncations and length
//! fields overwritten, never panic the reader → decoder → flow table →
//! classification pipeline, and never make it allocate much beyond the
//! input's own size.
//!
//! Memory is measured with a counting global allocator. The counters are
//! per thread (the analysis runs on the test's thread with `threads: 1`), so
//! the other tests of this binary, running in parallel, do not disturb them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;

use flowlint::analysis::{self, Options};
use flowlint::capture::CaptureReader;
use flowlint::catalog::{CatalogSet, PortBitmap};
use flowlint::flow::FlowConfig;
use flowlint::report;
use flowlint::synth::{
    CaptureWriter, Endian, Host, Link, Net, PcapOptions, PcapWriter, PcapngInterface, PcapngWriter,
    Vlan, SECOND,
};

struct Counting;

thread_local! {
    // `const` initialisers with no destructor: reading them never allocates,
    // which the allocator itself must not do.
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is forwarded unchanged to `System`; the wrapper only
// counts sizes in thread-local cells.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes allocated on this thread at the peak of `f`, beyond what was live
/// when it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - start).max(0) as usize)
}

/// Allowed beyond the input's size: buffers, tables and the report of a
/// small capture.
const SLACK: usize = 4 << 20;

fn catalogs() -> &'static (CatalogSet, Arc<PortBitmap>) {
    static C: OnceLock<(CatalogSet, Arc<PortBitmap>)> = OnceLock::new();
    C.get_or_init(|| {
        let set = CatalogSet::load(&[]).expect("built-in catalogs");
        let ports = Arc::new(set.server_ports());
        (set, ports)
    })
}

/// The whole `check` pipeline on one capture held in memory, on this thread.
/// Returns the number of packets read (or `None` when the header is refused).
fn run_pipeline(bytes: Vec<u8>) -> Option<u64> {
    let reader = CaptureReader::from_read(Box::new(std::io::Cursor::new(bytes)), "prop").ok()?;
    let (set, ports) = catalogs();
    let mut flow = FlowConfig::new(3 * SECOND);
    // small, so eviction runs on these small captures too
    flow.max_connections = 8;
    let options = Options {
        broadcast: flowlint::broadcast::BroadcastConfig::new(3_000_000_000),
        flow,
        threads: 1,
        keep_connections: true,
        max_conversations: 16,
    };
    let result = analysis::analyse(
        &[PathBuf::from("prop")],
        vec![reader],
        &options,
        Arc::clone(ports),
        None,
    );
    let packets = result.packets();
    let outcome = report::Outcome::classify(result, set, None);
    let mut out = Vec::new();
    for format in [
        report::Format::Json,
        report::Format::Jsonl,
        report::Format::Text(Default::default()),
    ] {
        format
            .exporter()
            .write(&mut out, &outcome)
            .expect("report to memory");
    }
    Some(packets)
}

/// Runs the pipeline on `bytes`, asserting the memory bound.
fn check_bounded(bytes: Vec<u8>) -> Result<Option<u64>, TestCaseError> {
    let len = bytes.len();
    let (packets, peak) = peak_during(|| run_pipeline(bytes));
    prop_assert!(
        peak < len + SLACK,
        "peak {peak} bytes for an input of {len} bytes"
    );
    Ok(packets)
}

/// A small valid capture: a few connections of every kind over several link
/// layers (pcapng) or Ethernet with VLAN tags (pcap).
fn valid_capture(pcapng: bool, seed: u8) -> Vec<u8> {
    let t0 = 1_795_168_800 * SECOND;
    let a = Host::parse("192.0.2.10", 128);
    let b = Host::parse("192.0.2.130", 64);
    let c = Host::parse("2001:db8::7", 64);
    let d = Host::parse("2001:db8::8", 128);
    let link = Link::Ethernet {
        vlan: if seed & 1 == 0 {
            Vlan::None
        } else {
            Vlan::QinQ {
                outer: 10,
                inner: 20,
            }
        },
        fcs: seed & 2 != 0,
    };
    fn scenes<W: CaptureWriter>(
        net: &mut Net<W>,
        t0: i64,
        hosts: [Host; 4],
        pcapng: bool,
    ) -> std::io::Result<()> {
        let [a, b, c, d] = hosts;
        let f = net.flow(b, a, 31000);
        let t = net.session(&f, t0, 300, 1200)?;
        let f = net.flow(b, a, 9352);
        let t = net.syn_no_answer(&f, t, 2)?;
        let f = net.flow(a, b, 161);
        let t = net.udp_exchange(&f, t, 2)?;
        if pcapng {
            net.set_interface(1, Link::Sll2);
        }
        let f = net.flow(c, d, 445);
        let t = net.syn_refused(&f, t, None)?;
        let f = net.flow(c, d, 137);
        net.udp_unanswered(&f, t, 2, SECOND)?;
        Ok(())
    }
    let hosts = [a, b, c, d];
    if pcapng {
        let ifaces = [PcapngInterface::new(1), PcapngInterface::new(276)];
        let w = PcapngWriter::new(Vec::new(), Endian::Little, &ifaces).expect("writer");
        let mut net = Net::new(w, link);
        scenes(&mut net, t0, hosts, true).expect("write");
        net.finish().expect("flush").into_inner().expect("bytes")
    } else {
        let w = PcapWriter::new(Vec::new(), PcapOptions::new(1)).expect("writer");
        let mut net = Net::new(w, link);
        scenes(&mut net, t0, hosts, false).expect("write");
        net.finish().expect("flush").into_inner().expect("bytes")
    }
}

/// Offsets of the length fields of a valid capture: pcap record caplen and
/// orig_len; pcapng block total lengths (leading and trailing) and EPB
/// captured/original lengths.
fn length_fields(bytes: &[u8]) -> Vec<usize> {
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
    };
    let mut out = Vec::new();
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut off = 0;
        while off + 12 <= bytes.len() {
            let len = u32_at(off + 4);
            if len < 12 {
                break;
            }
            out.push(off + 4);
            out.push(off + len - 4);
            if u32_at(off) == 6 {
                out.push(off + 20);
                out.push(off + 24);
            }
            off += len;
        }
    } else {
        out.push(16); // snaplen
        let mut off = 24;
        while off + 16 <= bytes.len() {
            out.push(off + 8);
            out.push(off + 12);
            off += 16 + u32_at(off + 8);
        }
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(usize),
    Truncate(usize),
    /// Overwrites the n-th length field with the value.
    Length(usize, u32),
    /// Overwrites 4 bytes at a position with the value.
    Word(usize, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let value = prop_oneof![
        Just(0u32),
        Just(0xffff_fff0),
        Just(0xffff_ffff),
        Just(1),
        Just(12),
        any::<u32>()
    ];
    prop_oneof![
        3 => any::<usize>().prop_map(Mutation::FlipBit),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        3 => (any::<usize>(), value.clone()).prop_map(|(i, v)| Mutation::Length(i, v)),
        1 => (any::<usize>(), value).prop_map(|(i, v)| Mutation::Word(i, v)),
    ]
}

fn apply(bytes: &mut Vec<u8>, fields: &[usize], m: &Mutation) {
    let len = bytes.len();
    if len == 0 {
        return;
    }
    match *m {
        Mutation::FlipBit(i) => bytes[(i / 8) % len] ^= 1 << (i % 8),
        Mutation::Truncate(i) => bytes.truncate(i % len),
        Mutation::Length(i, v) | Mutation::Word(i, v) => {
            let at = match m {
                Mutation::Length(..) if !fields.is_empty() => fields[i % fields.len()],
                _ => i % len,
            };
            for (k, b) in v.to_le_bytes().into_iter().enumerate() {
                if let Some(x) = bytes.get_mut(at + k) {
                    *x = b;
                }
            }
        }
    }
}

const MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any bytes at all, most behind a real magic so they reach the parsers.
    #[test]
    fn arbitrary_bytes(magic in 0usize..6, body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut bytes = body;
        if let Some(m) = MAGICS.get(magic) {
            let mut with = m.to_vec();
            with.extend(bytes);
            bytes = with;
        }
        check_bounded(bytes)?;
    }

    /// Valid captures, damaged: the pipeline reads what it can, never panics,
    /// and stays within the memory bound.
    #[test]
    fn mutated_captures(
        pcapng in any::<bool>(),
        seed in any::<u8>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = valid_capture(pcapng, seed);
        let fields = length_fields(&bytes);
        for m in &mutations {
            apply(&mut bytes, &fields, m);
        }
        check_bounded(bytes)?;
    }

    /// `--baseline` reads whatever file it is given: a damaged report is an
    /// error (never a panic), and whatever parses can be compared.
    #[test]
    fn baselines_from_damaged_reports(
        cut in 0usize..20_000,
        flips in proptest::collection::vec((0usize..20_000, any::<u8>()), 0..8),
    ) {
        use flowlint::report::baseline::{compare, Baseline};
        let mut bytes = demo_report().into_bytes();
        for (at, b) in flips {
            let len = bytes.len();
            bytes[at % len] = b;
        }
        bytes.truncate(cut.min(bytes.len()));
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(baseline) = Baseline::parse(&text) {
            let (set, _) = catalogs();
            let current = flowlint::classify::classify(
                flowlint::classify::ConversationTable::default(), set, None);
            let _ = compare(&current, set, &baseline);
        }
    }
}

/// The unmutated captures read completely: the generator and the property
/// above test what they mean to.
#[test]
fn valid_captures_read_completely() {
    for pcapng in [false, true] {
        for seed in 0..4 {
            let bytes = valid_capture(pcapng, seed);
            assert!(length_fields(&bytes).len() > 10);
            let packets = run_pipeline(bytes).expect("header reads");
            assert!(packets >= 15, "pcapng {pcapng} seed {seed}: {packets}");
        }
    }
}

/// A length field of 0xFFFFFFF0 must not make the reader reserve 4 GiB.
#[test]
fn huge_length_fields_allocate_nothing_large() {
    for pcapng in [false, true] {
        let valid = valid_capture(pcapng, 0);
        for (n, &at) in length_fields(&valid).iter().enumerate().take(40) {
            let mut bytes = valid.clone();
            bytes[at..at + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
            let len = bytes.len();
            let (_, peak) = peak_during(|| run_pipeline(bytes));
            assert!(
                peak < len + SLACK,
                "pcapng {pcapng}, field {n} at {at}: peak {peak}"
            );
        }
    }
}

/// The counter sees allocations made inside `peak_during` (and so the
/// bounds above mean something).
#[test]
fn the_counter_counts() {
    let (v, peak) = peak_during(|| vec![1u8; 10 << 20]);
    assert!(peak >= 10 << 20, "{peak}");
    drop(v);
}

/// A real report (the demo's, as committed for the golden test).
fn demo_report() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/demo-lab.json.out.json"
    ))
    .expect("golden demo report")
}

#[test]
fn the_demo_report_is_a_baseline() {
    assert!(flowlint::report::baseline::Baseline::parse(&demo_report()).is_ok());
}
