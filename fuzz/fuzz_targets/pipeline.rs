//! The whole `check` pipeline on one capture: reader → decode → flow table
//! (with a tiny connection limit so eviction runs too) → classification →
//! report, on one thread and on two (the sharded path).
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;

use flowlint::analysis::{self, Options};
use flowlint::capture::CaptureReader;
use flowlint::catalog::{CatalogSet, PortBitmap};
use flowlint::flow::FlowConfig;
use flowlint::report;

fn catalogs() -> &'static (CatalogSet, Arc<PortBitmap>) {
    static CATALOGS: OnceLock<(CatalogSet, Arc<PortBitmap>)> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        let set = CatalogSet::load(&[]).expect("built-in catalogs load");
        let ports = Arc::new(set.server_ports());
        (set, ports)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let Ok(reader) =
        CaptureReader::from_read(Box::new(std::io::Cursor::new(bytes.to_vec())), "fuzz")
    else {
        return;
    };
    let (set, ports) = catalogs();
    let mut flow = FlowConfig::new(3_000_000_000);
    flow.max_connections = usize::from(sel & 0x0f) + 1;
    let options = Options {
        flow,
        threads: if sel & 0x10 == 0 { 1 } else { 2 },
        keep_connections: sel & 0x20 != 0,
        // tiny, so folding runs too
        max_conversations: usize::from(sel >> 6) * 4 + 1,
        broadcast: flowlint::broadcast::BroadcastConfig {
            subnet_broadcasts: flowlint::broadcast::SubnetBroadcasts::new([
                std::net::Ipv4Addr::new(192, 0, 2, 255),
            ]),
            // tiny too: the broadcast table folds
            max_groups: usize::from(sel >> 6) + 1,
            ..flowlint::broadcast::BroadcastConfig::new(3_000_000_000)
        },
    };
    let result = analysis::analyse(
        &[PathBuf::from("fuzz")],
        vec![reader],
        &options,
        Arc::clone(ports),
        None,
    );
    let outcome = report::Outcome::classify(result, set, None);
    let mut out = Vec::new();
    for format in [
        report::Format::Json,
        report::Format::Jsonl,
        report::Format::Text { color: false },
    ] {
        let _ = format.exporter().write(&mut out, &outcome);
    }
});
