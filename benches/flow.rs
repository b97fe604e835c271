//! Micro-benchmark of the flow stage: `FlowTable::process` over a prepared
//! `Vec<PacketMeta>` (no reading, no decoding), with many connections open at
//! once so the table does not fit in cache, sweeps included.
//!
//! Run with `cargo bench --bench flow`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use flowlint::catalog::CatalogSet;
use flowlint::flow::{FlowConfig, FlowTable};

mod common;

fn bench_flow(c: &mut Criterion) {
    let ports = Arc::new(CatalogSet::load(&[]).expect("catalogs").server_ports());
    let mut group = c.benchmark_group("flow");
    for concurrent in [1_000, 100_000] {
        let packets = common::packets(1_000_000, concurrent);
        group.throughput(Throughput::Elements(packets.len() as u64));
        group.sample_size(10);
        group.bench_function(format!("process_1M_packets_{concurrent}_open"), |b| {
            b.iter_batched(
                || FlowTable::new(FlowConfig::new(3_000_000_000), Arc::clone(&ports)),
                |mut table| {
                    let mut decided = 0u64;
                    for pkt in &packets {
                        table.process(black_box(pkt), 0, &mut |r| decided += r.packets);
                    }
                    table.finish(i64::MAX, &mut |r| decided += r.packets);
                    decided
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_flow);
criterion_main!(benches);
