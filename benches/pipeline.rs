//! Criterion benchmarks: the NIS2 decision per organisation and the whole pipeline over a batch
//! of 100,000 generated organisations, each against a plain-Rust floor measured in the same run.
//!
//! The floor is what the same work costs without the rule pack: `floor_classify` below decides
//! the NIS2 class of the common cases in hand-written Rust (no jurisdiction, no explanation), and
//! the I/O floor parses each line and writes a result line. Run with `cargo bench`; results and
//! the machine they were measured on go in BENCHMARKS.md.

use assay::evaluate::Evaluator;
use assay::facts::Facts;
use assay::pack::PackSet;
use assay::read::Format;
use assay::validate::Validator;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const AS_OF: &str = "2026-12-04";

/// The NIS2 class in plain Rust for the types the generator draws: the logic floor.
fn floor_classify(f: &Facts) -> &'static str {
    let e = f.employees.unwrap_or(0.0);
    let t = f.annual_turnover_eur.unwrap_or(0.0);
    let b = f.balance_sheet_eur.unwrap_or(0.0);
    let small = e < 50.0 && (t <= 10e6 || b <= 10e6);
    let large = !(e < 250.0 && (t <= 50e6 || b <= 43e6));
    let mut best = 0;
    for a in f.activities.iter().flatten() {
        let class = match a.entity_type.as_str() {
            "dns_service_provider" => 3,
            "publicly_available_electronic_communications_service_provider" => {
                if small {
                    2
                } else {
                    3
                }
            }
            "postal_courier_service_provider"
            | "waste_management_undertaking"
            | "chemical_manufacturer_distributor"
            | "food_business_wholesale_industrial"
            | "machinery_manufacturer"
            | "motor_vehicle_manufacturer"
            | "online_marketplace_provider"
            | "research_organisation" => {
                if small {
                    0
                } else {
                    2
                }
            }
            "other" => 0,
            _ => {
                if large {
                    3
                } else if small {
                    0
                } else {
                    2
                }
            }
        };
        best = best.max(class);
    }
    ["out_of_scope", "out_of_scope", "important", "essential"][best]
}

fn bench(c: &mut Criterion) {
    let evaluator = Evaluator::new(PackSet::shipped().expect("packs")).expect("compile");
    let validator = Validator::new();
    let pool = assay::pipeline::pool(0).expect("pool");

    // Per organisation: the NIS2 decision on validated facts, against the plain-Rust floor.
    let sample = assay::gen::portfolio(1_000, 7);
    let facts: Vec<Facts> = sample
        .iter()
        .map(|v| serde_json::from_value(v.clone()).expect("facts"))
        .collect();
    let mut group = c.benchmark_group("nis2_per_organisation");
    group.throughput(Throughput::Elements(facts.len() as u64));
    group.bench_function("floor_plain_rust", |b| {
        b.iter(|| {
            facts
                .iter()
                .map(|f| floor_classify(black_box(f)).len())
                .sum::<usize>()
        })
    });
    group.bench_function("rule_pack", |b| {
        b.iter(|| {
            facts
                .iter()
                .map(|f| evaluator.assess(black_box(f), 1, None, AS_OF).errors.len())
                .sum::<usize>()
        })
    });
    group.finish();

    // A batch: read, validate, group, evaluate and write 100,000 organisations.
    let n = 100_000;
    let text = assay::gen::portfolio_jsonl(n, 42);
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_with_input(
        BenchmarkId::new("floor_parse_classify_write", n),
        &text,
        |b, text| {
            b.iter(|| {
                let mut out = Vec::with_capacity(text.len() / 4);
                for line in text.lines() {
                    let f: Facts = serde_json::from_str(line).expect("facts");
                    serde_json::to_writer(&mut out, &(f.id.as_str(), floor_classify(&f))).unwrap();
                    out.push(b'\n');
                }
                out.len()
            })
        },
    );
    group.bench_with_input(BenchmarkId::new("pipeline", n), &text, |b, text| {
        b.iter(|| {
            pool.install(|| {
                let out = assay::pipeline::assess_text(
                    text,
                    Format::Jsonl,
                    &evaluator,
                    &validator,
                    AS_OF,
                );
                let mut bytes = Vec::with_capacity(text.len());
                let mut w =
                    assay::write::Writer::new(&mut bytes, assay::write::OutputFormat::Jsonl);
                for a in &out {
                    w.write(a).unwrap();
                }
                w.finish().unwrap();
                bytes.len()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
