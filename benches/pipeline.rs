//! Criterion benchmarks: each stage per organisation (read, validate, evaluate, write) on one
//! thread, and the whole streaming pipeline over a file of 100,000 generated organisations on
//! one and two threads, each against a plain-Rust floor measured in the same run.
//!
//! The floor is what the same work costs without the rule pack: `floor_classify` below decides
//! the NIS2 class of the common cases in hand-written Rust (no jurisdiction, no explanation), and
//! the I/O floor parses each line and writes a result line. Run with `cargo bench`; results and
//! the machine they were measured on go in BENCHMARKS.md.

use assay::evaluate::Evaluator;
use assay::facts::Facts;
use assay::pack::PackSet;
use assay::pipeline::{Context, Options};
use assay::read::stream::Input;
use assay::validate::Validator;
use assay::write::{OutputFormat, Writer};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
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
            | "research_organisation"
            | "computer_electronic_optical_manufacturer" => {
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
    let vocabulary = &evaluator.nis2.vocabulary;
    let one = assay::pipeline::pool(1).expect("pool");
    let pool = assay::pipeline::pool(0).expect("pool");

    // Per organisation, one thread, stage by stage, on the same 1,000 generated organisations.
    let text = assay::gen::portfolio_jsonl(1_000, 7);
    let lines: Vec<&str> = text.lines().collect();
    let values: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let facts: Vec<Facts> = values
        .iter()
        .map(|v| validator.validate(v, 1, vocabulary).expect("valid"))
        .collect();
    let assessments: Vec<_> = facts
        .iter()
        .map(|f| evaluator.assess(f, 1, None, AS_OF))
        .collect();
    let mut group = c.benchmark_group("stage_per_organisation");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("read_json_line", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| serde_json::from_str::<serde_json::Value>(black_box(l)).is_ok() as usize)
                .sum::<usize>()
        })
    });
    group.bench_function("validate_schema_and_semantics", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|v| {
                    validator.validate(black_box(v), 1, vocabulary).is_ok() as usize
                        + validator.likely_typos(v).len()
                })
                .sum::<usize>()
        })
    });
    group.bench_function("evaluate_packs", |b| {
        b.iter(|| {
            facts
                .iter()
                .map(|f| evaluator.assess(black_box(f), 1, None, AS_OF).errors.len())
                .sum::<usize>()
        })
    });
    group.bench_function("write_jsonl", |b| {
        b.iter(|| {
            assessments
                .iter()
                .map(|a| {
                    serde_json::to_vec(black_box(a))
                        .map(|v| v.len())
                        .unwrap_or(0)
                })
                .sum::<usize>()
        })
    });
    group.bench_function("floor_nis2_plain_rust", |b| {
        b.iter(|| {
            facts
                .iter()
                .map(|f| floor_classify(black_box(f)).len())
                .sum::<usize>()
        })
    });
    group.finish();

    // A batch from a file, end to end as `assay assess` runs it (two passes, streaming, all
    // cores), against the floor: parse each line, classify in Rust, write a line, same cores.
    let n = 100_000;
    let text = assay::gen::portfolio_jsonl(n, 42);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("portfolio.jsonl");
    std::fs::write(&path, &text).expect("write portfolio");
    let input =
        Input::open(path.to_str().expect("path"), None, None, Default::default()).expect("open");
    let cx = Context {
        evaluator: &evaluator,
        validator: &validator,
    };
    let options = Options::new(AS_OF);
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    for (threads, pool) in [(1, &one), (2, &pool)] {
        group.bench_with_input(
            BenchmarkId::new(format!("floor_parse_classify_write/{threads}"), n),
            &text,
            |b, text| {
                b.iter(|| {
                    pool.install(|| {
                        let lines: Vec<&str> = text.lines().collect();
                        let out: Vec<Vec<u8>> = lines
                            .par_chunks(2048)
                            .map(|chunk| {
                                let mut out = Vec::with_capacity(chunk.len() * 64);
                                for line in chunk {
                                    let f: Facts = serde_json::from_str(line).expect("facts");
                                    serde_json::to_writer(
                                        &mut out,
                                        &(f.id.as_str(), floor_classify(&f)),
                                    )
                                    .expect("write");
                                    out.push(b'\n');
                                }
                                out
                            })
                            .collect();
                        out.iter().map(Vec::len).sum::<usize>()
                    })
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new(format!("pipeline/{threads}"), n),
            &input,
            |b, input| {
                b.iter(|| {
                    pool.install(|| {
                        let mut bytes = Vec::with_capacity(text.len() * 3);
                        let mut w = Writer::new(&mut bytes, OutputFormat::Jsonl);
                        assay::pipeline::run(input, &cx, &options, &|_, _| {}, &mut |chunk| {
                            w.write_chunk(&chunk)
                        })
                        .map_err(|_| "run")
                        .expect("batch");
                        w.finish().expect("finish");
                        bytes.len()
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
