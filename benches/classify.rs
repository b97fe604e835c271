//! Micro-benchmark of classification: `classify` over a `ConversationTable`
//! holding many conversations (built from the flow stage's output on
//! prepared packets), with the built-in catalogs and no inventory (roles
//! inferred, the costlier case).
//!
//! Run with `cargo bench --bench classify`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flowlint::catalog::CatalogSet;
use flowlint::classify::{classify, ConversationTable};
use flowlint::flow::{FlowConfig, FlowTable};

mod common;

fn bench_classify(c: &mut Criterion) {
    let catalogs = CatalogSet::load(&[]).expect("catalogs");
    let ports = Arc::new(catalogs.server_ports());
    let mut table = FlowTable::new(FlowConfig::new(3_000_000_000), ports);
    let mut conversations = ConversationTable::default();
    for pkt in &common::packets(2_000_000, 20_000) {
        table.process(pkt, 0, &mut |r| conversations.add(&r));
    }
    table.finish(i64::MAX, &mut |r| conversations.add(&r));
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(
        conversations.conversations.len() as u64
    ));
    group.sample_size(10);
    group.bench_function(
        format!("{}_conversations", conversations.conversations.len()),
        |b| {
            b.iter_batched(
                || conversations.clone(),
                |table| classify(black_box(table), &catalogs, None),
                criterion::BatchSize::LargeInput,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, bench_classify);
criterion_main!(benches);
