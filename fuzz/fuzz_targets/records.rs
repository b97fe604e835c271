//! Flow-record inputs (Zeek conn.log TSV and JSON lines, nfdump JSON and
//! CSV) through the whole records path and classification: the first byte
//! picks a format header to put before the rest (so every parser is
//! reached, not only the sniffer) and a tiny connection limit.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;

use flowlint::analysis::Options;
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

const HEADS: [&[u8]; 5] = [
    b"",
    b"#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\thistory\torig_pkts\tresp_pkts\n",
    b"{\"id.orig_h\":\"10.0.0.1\",",
    b"[\n{\"first\":\"2026-11-20T10:00:00.000\",\"proto\":6,\"src4_addr\":\"10.0.0.1\",",
    b"ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = HEADS[usize::from(sel) % HEADS.len()].to_vec();
    bytes.extend_from_slice(rest);
    let (set, ports) = catalogs();
    let mut flow = FlowConfig::new(3_000_000_000);
    flow.max_connections = usize::from(sel >> 4) + 1;
    let options = Options {
        flow,
        threads: 1,
        keep_connections: sel & 0x08 != 0,
        max_conversations: usize::from(sel >> 5) * 4 + 1,
        broadcast: flowlint::broadcast::BroadcastConfig::new(3_000_000_000),
    };
    if let Some(analysis) = flowlint::records::analyse_bytes(&bytes, &options, Arc::clone(ports)) {
        let outcome = report::Outcome::classify(analysis, set, None);
        let mut out = Vec::new();
        let _ = report::Format::Json.exporter().write(&mut out, &outcome);
    }
});
