//! Criterion benchmarks: the NIS2 decision alone, the three decisions (NIS2 + SOC 2 + plan) per
//! organisation, the other stages per organisation (read, validate, write), and the whole
//! streaming pipeline over a file of 100,000 generated organisations on one and two threads,
//! each against a plain-Rust floor measured in the same run.
//!
//! The floor is what the same work costs without the rule packs: `floor_classify` below decides
//! the NIS2 class of the common cases in hand-written Rust (no jurisdiction, no explanation),
//! `floor_decide` adds the SOC 2 need and criteria (not the type), `Floor::full` the count of
//! gaps over the control catalogue (a bit mask per control), and the I/O floor parses each line
//! and writes a result line. Run with `cargo bench`; results and the machine they were measured
//! on go in BENCHMARKS.md.

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

/// The allocator `assay` itself runs with (engine/src/main.rs), for the engine and the floor.
#[global_allocator]
static ALLOCATOR: assay::allocator::Allocator = assay::allocator::Allocator;

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

/// The decisions the floors write, in plain Rust: the NIS2 class, whether a SOC 2 report is
/// needed (a service organisation with customer demands or US customers) and its criteria as
/// bits (1 security, always; 2 availability; 4 confidentiality).
fn floor_decide(f: &Facts) -> (&'static str, bool, u8) {
    let class = floor_classify(f);
    let has = |l: &Option<Vec<String>>, v: &str| l.iter().flatten().any(|x| x == v);
    let needed = f.service_organisation == Some(true)
        && (f.customer_demands.is_some() || has(&f.customer_regions, "US"));
    let mut criteria = 1u8;
    if f.availability_commitments == Some(true) || has(&f.service_models, "iaas") {
        criteria |= 2;
    }
    if has(&f.data_handled, "confidential_business") {
        criteria |= 4;
    }
    (class, needed, criteria)
}

/// The SOC 2 and plan work in plain Rust: the logic floor for the full decision.
struct Floor {
    /// Control id -> (index, requirements it serves as a bit mask, target maturity).
    controls: std::collections::HashMap<String, usize>,
    serves: Vec<[u64; 3]>,
    nis2: [u64; 3],
    soc2_security: [u64; 3],
}

impl Floor {
    fn new() -> Floor {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/controls/tables");
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(root.join(f)).unwrap()).unwrap()
        };
        let catalogue = read("catalogue.json");
        let requirements = read("requirements.json");
        let mapping = read("mapping.json");
        let controls: std::collections::HashMap<String, usize> = catalogue
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, c)| (c["id"].as_str().unwrap().to_string(), i))
            .collect();
        let reqs: std::collections::HashMap<&str, usize> = requirements
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, r)| (r["id"].as_str().unwrap(), i))
            .collect();
        let mut serves = vec![[0u64; 3]; controls.len()];
        for m in mapping.as_array().unwrap() {
            let c = controls[m["control"].as_str().unwrap()];
            let r = reqs[m["requirement"].as_str().unwrap()];
            serves[c][r / 64] |= 1 << (r % 64);
        }
        let mask = |pick: &dyn Fn(&serde_json::Value) -> bool| {
            let mut m = [0u64; 3];
            for (i, r) in requirements.as_array().unwrap().iter().enumerate() {
                if pick(r) {
                    m[i / 64] |= 1 << (i % 64);
                }
            }
            m
        };
        Floor {
            nis2: mask(&|r| r["framework"] == "nis2"),
            soc2_security: mask(&|r| r["framework"] == "soc2" && r["category"] == "security"),
            controls,
            serves,
        }
    }

    /// NIS2 class, SOC 2 need and criteria and the number of gaps, in plain Rust.
    fn full(&self, f: &Facts) -> (&'static str, bool, u8, usize) {
        let (class, needed, criteria) = floor_decide(f);
        let mut applies = [0u64; 3];
        if class != "out_of_scope" {
            applies = self.nis2;
        }
        if needed {
            for (a, s) in applies.iter_mut().zip(self.soc2_security) {
                *a |= s;
            }
        }
        let mut maturity = vec![0u8; self.serves.len()];
        if let Some(assay::facts::Controls::Map(m)) = &f.controls {
            for (id, state) in m {
                if let Some(&i) = self.controls.get(id) {
                    maturity[i] = state.maturity.unwrap_or(0);
                }
            }
        }
        let gaps = self
            .serves
            .iter()
            .zip(&maturity)
            .filter(|(s, m)| **m < 3 && s.iter().zip(&applies).any(|(a, b)| a & b != 0))
            .count();
        (class, needed, criteria, gaps)
    }
}

fn bench(c: &mut Criterion) {
    let evaluator = Evaluator::new(PackSet::shipped().expect("packs")).expect("compile");
    let mut nis2_only = PackSet::shipped().expect("packs");
    nis2_only.packs.retain(|id, _| id == "nis2");
    let nis2_evaluator = Evaluator::new(nis2_only).expect("compile");
    let floor = Floor::new();
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
                .map(|f| {
                    nis2_evaluator
                        .assess(black_box(f), 1, None, AS_OF)
                        .errors
                        .len()
                })
                .sum::<usize>()
        })
    });
    group.finish();

    // Per organisation: NIS2 + SOC 2 + plan, against the plain-Rust floor of the same work.
    let mut group = c.benchmark_group("full_per_organisation");
    group.throughput(Throughput::Elements(facts.len() as u64));
    group.bench_function("floor_plain_rust", |b| {
        b.iter(|| {
            facts
                .iter()
                .map(|f| floor.full(black_box(f)).3)
                .sum::<usize>()
        })
    });
    group.bench_function("rule_packs", |b| {
        b.iter(|| {
            facts
                .iter()
                .map(|f| evaluator.assess(black_box(f), 1, None, AS_OF).errors.len())
                .sum::<usize>()
        })
    });
    group.finish();

    // Per organisation, one thread: the stages around the decisions.
    let vocabulary = &evaluator.nis2.vocabulary;
    let lines: Vec<String> = sample.iter().map(|v| v.to_string()).collect();
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
            sample
                .iter()
                .map(|v| {
                    validator.validate(black_box(v), 1, vocabulary).is_ok() as usize
                        + validator.likely_typos(v).len()
                })
                .sum::<usize>()
        })
    });
    group.bench_function("write_jsonl", |b| {
        b.iter(|| {
            assessments
                .iter()
                .map(|a| {
                    // As the workers write a record (sonic-rs, serde_json's bytes).
                    match OutputFormat::Jsonl.encode(black_box(a)) {
                        Some(Ok(line)) => line.len(),
                        _ => 0,
                    }
                })
                .sum::<usize>()
        })
    });
    group.finish();

    // A batch from a file, end to end as `assay assess` runs it (two passes, streaming, in
    // chunks on all the pool's threads), against the floor doing the same work in plain Rust
    // (parse each line, decide, write a line) on the same threads.
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
    let one = assay::pipeline::pool(1).expect("pool");
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    for (threads, pool) in [(1, &one), (2, &pool)] {
        group.bench_with_input(
            BenchmarkId::new(format!("floor_parse_decide_write/{threads}"), n),
            &text,
            |b, text| {
                b.iter(|| {
                    pool.install(|| {
                        let lines: Vec<&str> = text.lines().collect();
                        let out: Vec<Vec<u8>> = lines
                            .par_chunks(assay::pipeline::CHUNK)
                            .map(|chunk| {
                                let mut out = Vec::with_capacity(chunk.len() * 64);
                                for line in chunk {
                                    let f: Facts = serde_json::from_str(line).expect("facts");
                                    serde_json::to_writer(
                                        &mut out,
                                        &(f.id.as_str(), floor.full(&f)),
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
                    // The output is about nine times the input (4 KB records).
                    let mut bytes = Vec::with_capacity(text.len() * 10);
                    let w = Writer::new(&mut bytes, OutputFormat::Jsonl);
                    // As `assay assess` runs it (engine/src/main.rs): each worker serialises
                    // its records, a thread of the writer's own copies them out in order.
                    let (run, written) = w.on_own_thread(|sink| {
                        pool.install(|| {
                            assay::pipeline::run_finished(
                                input,
                                &cx,
                                &options,
                                &|_, _| {},
                                &|a| OutputFormat::Jsonl.prepare(a),
                                sink,
                            )
                        })
                    });
                    run.map_err(|_| "the batch stopped").expect("batch");
                    written.expect("write");
                    bytes.len()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
