//! Bad flow-record input never panics: random bytes after each format's
//! header (so every parser is reached) through the records path,
//! classification and the JSON report (the fuzz target `records` does the
//! same at length).

use std::sync::Arc;

use proptest::prelude::*;

use flowlint::analysis::Options;
use flowlint::catalog::CatalogSet;
use flowlint::flow::FlowConfig;
use flowlint::report;

const HEADS: [&str; 4] = [
    "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\thistory\torig_pkts\tresp_pkts\n",
    "{\"id.orig_h\":\"10.0.0.1\",",
    "[\n{\"first\":\"2026-11-20T10:00:00.000\",\"proto\":6,\"src4_addr\":\"10.0.0.1\",",
    "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n",
];

/// Pieces that make the parsers go further than random bytes would.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just(",".to_string()),
        Just("}".to_string()),
        Just("{".to_string()),
        Just("\"".to_string()),
        Just("-".to_string()),
        Just("(empty)".to_string()),
        Just(
            "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\thistory\n".to_string()
        ),
        Just("1795168800.5\t10.0.0.1\t5\t10.0.0.2\t31000\ttcp\t^ShR\n".to_string()),
        Just(
            "\"tcp_flags\":\"..A.RS.\",\"dst4_addr\":\"10.0.0.2\",\"last\":\"2026-11-20T10:00:01\""
                .to_string()
        ),
        Just("icmp\t3\t3".to_string()),
        "[ -~]{0,12}",
        any::<u16>().prop_map(|n| n.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn record_inputs_never_panic(head in 0usize..HEADS.len(), body in proptest::collection::vec(piece(), 0..40), limit in 1usize..4) {
        let set = CatalogSet::load(&[]).expect("catalogs");
        let ports = Arc::new(set.server_ports());
        let mut flow = FlowConfig::new(3_000_000_000);
        flow.max_connections = limit;
        let options = Options {
            flow,
            threads: 1,
            keep_connections: true,
            max_conversations: limit,
            broadcast: flowlint::broadcast::BroadcastConfig::new(3_000_000_000),
        };
        let bytes = format!("{}{}", HEADS[head], body.concat());
        if let Some(analysis) = flowlint::records::analyse_bytes(bytes.as_bytes(), &options, ports) {
            let outcome = report::Outcome::classify(analysis, &set, None);
            let mut out = Vec::new();
            prop_assert!(report::Format::Json.exporter().write(&mut out, &outcome).is_ok());
        }
    }
}
