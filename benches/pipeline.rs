//! Criterion benchmarks: the NIS2 decision alone, the three decisions (NIS2 + SOC 2 + plan) per
//! organisation (with the record floor's `Assessment` beside the packs', and the direct floor's
//! bytes of the same record), the other stages per organisation (read, validate, write), and the
//! whole streaming pipeline over a file of 100,000 generated organisations on one and two
//! threads, each against a plain-Rust floor measured in the same run.
//!
//! The floor is what the same work costs without the rule packs. `floor_classify` below decides
//! the NIS2 class of the common cases in hand-written Rust, on the entity's own figures (no group
//! aggregation, no jurisdiction, no explanation); `floor_decide` adds the SOC 2 need and criteria
//! (security, availability, confidentiality; not the type), and `Floor::full` the count of gaps
//! over the control catalogue (a bit mask per control). The batch has three floors, on the
//! pipeline's pool of threads and chunk size (as `par_chunks` over lines in memory, without the
//! pipeline's reader and writer threads, its join per chunk or its ownership pass), each parsing
//! every line into `Facts` with serde_json:
//!
//! - `floor_parse_decide_write` decides with `Floor::full` and writes `(id, decisions)` with
//!   serde_json, about 40 bytes a record against the pipeline's 4 KB: it measures the decisions,
//!   not the output;
//! - `floor_parse_decide_write_record` writes the record the pipeline writes: `Floor::record`
//!   builds an `Assessment` of the same shape from the same decisions and the packs' tables (size
//!   and class grounds, Art. 26(1) jurisdiction, obligations, maximum fine, SOC 2 type, grounds
//!   and timeline, the plan's frameworks, first five actions, summary, coverage and notes), and
//!   the workers' encoder (`OutputFormat::Jsonl.encode`) writes it. Both average record sizes are
//!   printed at set-up, and the bench stops unless the floor's is 85–100 % of the pipeline's; it
//!   is about a tenth smaller, as it leaves out group aggregation, jurisdiction other than the
//!   first member state of establishment, lex specialis, designations, NACE hints, supplier
//!   terms, ISO 27001 certificates and SOC 2 reports already held, undetermined cases and
//!   obligations limited to some entity types, and ranks gaps by basis, the plan's
//!   controls-first list and catalogue order only. It is written as a
//!   plain-Rust engine would be written for speed: tables and every date that depends only on
//!   `--as-of` worked out once, gaps found as bit sets and sorted as packed keys, dates compared
//!   as day numbers, text put together with `push_str` rather than `format!`;
//! - `floor_parse_decide_write_direct` writes the same bytes as the record floor, straight into
//!   the chunk's buffer (`Direct::write`): no `Assessment`, no copies of the packs' texts, no
//!   serde on the record, no allocation per record. Every part that varies by record (the
//!   decisions, figures, gaps and their ranks, phases, counts, coverage, reasons and notes) is
//!   worked out and written per record; only JSON that depends on the packs, `--as-of` and a
//!   choice among a handful (a rule's ground, a control's id and title, a SOC 2 path's dates)
//!   is written once, in `Direct::new`. At set-up, before any measurement, the bench checks
//!   (`check_direct`) that its bytes are those of `Floor::record` encoded, record for record,
//!   on the 1,000-organisation sample, 300 variants of it the generator does not write
//!   (escapes, missing and large figures, SOC 2 demands, controls as a list) and the batch's
//!   first 20,000 lines, and stops at the first that differs. `full_per_organisation/
//!   floor_direct` is the same per organisation, beside `floor_record`.
//!
//! `pipeline_paired_with_direct_floor` measures the ratio itself: pairs of the direct floor and
//! the pipeline run one right after the other, in alternating order, each pair's ratio kept and
//! their median printed with a 95 % interval, so that the machine's drift between two separate
//! measurements does not enter it. The whole bench keeps freed memory for a second
//! (`MI_OPTION_PURGE_DELAY`): the batch benches hold their output in memory, which `assay` does
//! not, and the page faults of taking it again from the kernel fell on the floor alone.
//!
//! Run with `cargo bench`; results and the machine they were measured on go in BENCHMARKS.md.

use assay::assessment::{
    Action, Assessment, Classification, Coverage, FrameworkBasis, Ground, Milestone, Nis2,
    ObligationRef, PackRef, Plan, PlanSummary, RequirementId, Size, Soc2,
};
use assay::evaluate::Evaluator;
use assay::facts::Facts;
use assay::pack::PackSet;
use assay::pipeline::{Context, Options};
use assay::read::stream::Input;
use assay::validate::Validator;
use assay::write::{OutputFormat, Writer};
use compact_str::CompactString;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

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

/// The decisions both floors write, in plain Rust: the NIS2 class, whether a SOC 2 report is
/// needed (a service organisation with customer demands or US customers) and its criteria as
/// bits (1 security, always; 2 availability; 4 confidentiality).
fn floor_decide(f: &Facts) -> (&'static str, bool, u8) {
    let class = floor_classify(f);
    let has = |l: &Option<Vec<_>>, v: &str| l.iter().flatten().any(|x| x == v);
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

/// Requirements of the controls catalogue as a bit set (184 fit in three words).
type Bits = [u64; 3];

fn bit(b: &mut Bits, i: usize) {
    b[i / 64] |= 1 << (i % 64);
}

fn or(a: &Bits, b: &Bits) -> Bits {
    [a[0] | b[0], a[1] | b[1], a[2] | b[2]]
}

fn and(a: &Bits, b: &Bits) -> Bits {
    [a[0] & b[0], a[1] & b[1], a[2] & b[2]]
}

/// The size class on the entity's own figures (Rec. 2003/361/EC Annex Art. 2: headcount
/// "fewer than", money "not exceeding"), missing figures read as zero as `floor_classify`
/// reads them: the headcount, turnover and balance sheet so read, and the class, 0 micro to 3
/// large.
fn own_size(f: &Facts) -> (f64, f64, f64, usize) {
    let e = f.employees.unwrap_or(0.0);
    let t = f.annual_turnover_eur.unwrap_or(0.0);
    let b = f.balance_sheet_eur.unwrap_or(0.0);
    let size = if e < 10.0 && (t <= 2e6 || b <= 2e6) {
        0
    } else if e < 50.0 && (t <= 10e6 || b <= 10e6) {
        1
    } else if e < 250.0 && (t <= 50e6 || b <= 43e6) {
        2
    } else {
        3
    };
    (e, t, b, size)
}

/// The SOC 2 criteria of `floor_decide`'s bits, in the output's sorted order, each between
/// `quote`s and after the first preceded by `separator`: the record's list and the SOC 2
/// framework line of the direct floor.
fn put_names(out: &mut Vec<u8>, criteria_bits: u8, separator: &[u8], quote: &[u8]) {
    const NAMES: [(u8, &[u8]); 3] = [
        (2, b"availability"),
        (4, b"confidentiality"),
        (1, b"security"),
    ];
    let mut first = true;
    for (bit, name) in NAMES {
        if criteria_bits & bit != 0 {
            if !first {
                out.extend_from_slice(separator);
            }
            first = false;
            out.extend_from_slice(quote);
            out.extend_from_slice(name);
            out.extend_from_slice(quote);
        }
    }
}

/// For an organisation that needs a SOC 2 report (the soc2 pack's rules): why it needs one (a
/// customer demands it, or it has North American customers) and which type comes next (a
/// demanded Type 2, Type 2 for enterprise or regulated customers, else Type 1 first).
fn soc2_rules(f: &Facts, demanded: Option<&str>) -> (Rule, Rule) {
    let segment = |v: &str| f.customer_segments.iter().flatten().any(|x| x == v);
    let need = if demanded.is_some() {
        Rule::NeedCustomerDemand
    } else {
        Rule::NeedNorthAmericanCustomers
    };
    let kind = if demanded == Some("type2") {
        Rule::Type2CustomerDemand
    } else if segment("enterprise") || segment("regulated") {
        Rule::Type2EnterpriseOrRegulated
    } else {
        Rule::Type1First
    };
    (need, kind)
}

/// The rule behind the floors' class: Art. 3(1)(b), (c) or (a) for essential, Art. 3(2) for
/// important, Art. 2(1) (no Annex type, or below the size cap) for out of scope; `size` as the
/// floors number the classes (0 micro to 3 large).
fn class_rule(f: &Facts, class: &str, size: usize) -> Rule {
    let is = |kind: &str| f.activities.iter().flatten().any(|a| a.entity_type == kind);
    let comms = "publicly_available_electronic_communications_service_provider";
    match class {
        "essential" if is("dns_service_provider") => Rule::Art3_1bDnsService,
        "essential" if is(comms) => Rule::Art3_1cMediumElectronicCommunications,
        "essential" => Rule::Art3_1aLargeAnnexI,
        "important" if size < 2 && is(comms) => Rule::Art3_2SmallElectronicCommunications,
        "important" => Rule::Art3_2MediumOrLarge,
        _ if f
            .activities
            .iter()
            .flatten()
            .all(|a| a.entity_type == "other") =>
        {
            Rule::Art2_1NotAnnexType
        }
        _ => Rule::Art2_1SizeCap,
    }
}

/// Per set of the frameworks that apply (bit j for `applies[j]`: requirements, basis,
/// deadline day, controls): the basis of a gap serving that set, the strongest of theirs, and
/// the framework that sets its deadline, the earliest, the first of equals. Worked out once a
/// record rather than for each gap, by both floors.
fn by_framework_set(applies: &[(Bits, u8, u32, Bits)]) -> ([u8; 4], [Option<usize>; 4]) {
    let mut basis_of = [2u8; 4];
    let mut sets: [Option<usize>; 4] = [None; 4];
    for m in 1..1usize << applies.len() {
        for (j, a) in applies.iter().enumerate() {
            if m & 1 << j != 0 {
                basis_of[m] = basis_of[m].min(a.1);
                if sets[m].is_none_or(|s| a.2 < applies[s].2) {
                    sets[m] = Some(j);
                }
            }
        }
    }
    (basis_of, sets)
}

/// The set bits of a requirement set, in requirement order.
fn ones(b: Bits) -> impl Iterator<Item = usize> {
    (0..3).flat_map(move |w| {
        let mut x = b[w];
        std::iter::from_fn(move || {
            (x != 0).then(|| {
                let i = x.trailing_zeros() as usize;
                x &= x - 1;
                w * 64 + i
            })
        })
    })
}

/// The most controls `Floor::record` holds in its fixed-size arrays and bit sets.
const MAX_CONTROLS: usize = 192;

fn count(b: &Bits) -> usize {
    b.iter().map(|w| w.count_ones() as usize).sum()
}

/// A control of the catalogue as the floor's record names it.
struct Control {
    id: &'static str,
    title: &'static str,
    /// 1 = days, 2 = weeks, 3 = months (the plan pack's effort grades).
    effort: u8,
    target: u8,
}

/// The Rec. 2003/361/EC Annex Art. 2 classes, smallest first, with their cites and ceilings in
/// words, as the size ground says them.
struct SizeClass {
    class: &'static str,
    cites: &'static str,
    reason: String,
}

/// The SOC 2 timeline in months (soc2 pack parameters), and the plan's phases in months and
/// capacity in person-weeks (plan pack parameters).
struct Timeline {
    readiness: u32,
    type1_after: u32,
    first_window: u32,
    first_window_demanded: u32,
    steady_window: u32,
    current: u32,
    report_after_window: u32,
    phases: [u32; 3],
    weeks_per_phase: f64,
    effort_weeks: [f64; 3],
}

/// What depends only on the assessment date, worked out once per run as a plain-Rust engine
/// would: the SOC 2 timelines of the three paths (a Type 1 first; a Type 2 a customer demands;
/// a Type 2 for enterprise or regulated customers), the NIS2 framework line of an essential and
/// of an important entity, and the ends of the plan's phases.
struct Dated {
    as_of: String,
    milestones: [Vec<Milestone>; 3],
    window_start: [CompactString; 3],
    window_start_due: [CompactString; 3],
    nis2: [FrameworkBasis; 2],
    /// The same dates as day numbers, for comparing (`day`).
    as_of_day: u32,
    nis2_deadline: u32,
    window_start_day: [u32; 3],
    phase_end_days: [u32; 3],
}

/// A `YYYY-MM-DD` date as a number that orders as the dates do.
fn day(date: &str) -> u32 {
    let (y, m, d) = parse_date(date);
    (y as u32 * 12 + m) * 31 + d
}

impl Dated {
    fn new(as_of: &str, timeline: &Timeline, in_force: &str, in_force_cites: &str) -> Dated {
        let date = parse_date(as_of);
        let path = |path: usize| {
            let (start, first_len, because) = match path {
                0 => (
                    timeline.type1_after,
                    timeline.first_window,
                    "no customer demands a Type 2 now",
                ),
                1 => (
                    timeline.readiness,
                    timeline.first_window_demanded,
                    "a customer demands a Type 2 now",
                ),
                _ => (
                    timeline.readiness,
                    timeline.first_window,
                    "no customer demands a Type 2 now",
                ),
            };
            let mut milestones = Vec::with_capacity(6);
            if path == 0 {
                milestones.push(Milestone {
                    id: "type1_report_date",
                    date: plus_months(date, timeline.type1_after).into(),
                    says: "Type 1: the auditor examines the design of the controls at this date"
                        .into(),
                });
            }
            let end = start + first_len;
            let start = plus_months(date, start);
            milestones.extend([
                Milestone {
                    id: "first_window_start",
                    date: start.clone().into(),
                    says: "the first Type 2 observation window starts: controls must operate \
                           from this day"
                        .into(),
                },
                Milestone {
                    id: "first_window_end",
                    date: plus_months(date, end).into(),
                    says: format!(
                        "the first Type 2 observation window ends: {first_len} months, as \
                         {because}"
                    ),
                },
                Milestone {
                    id: "type2_report_expected",
                    date: plus_months(date, end + timeline.report_after_window).into(),
                    says: "the Type 2 report is expected after fieldwork and writing".into(),
                },
                Milestone {
                    id: "report_current_until",
                    date: plus_months(date, end + timeline.current).into(),
                    says: format!(
                        "that report stays current for {} months after its period end",
                        timeline.current
                    ),
                },
                Milestone {
                    id: "following_window_end",
                    date: plus_months(date, end + timeline.steady_window).into(),
                    says: format!(
                        "the following window, back to back, is {} months long",
                        timeline.steady_window
                    ),
                },
            ]);
            (milestones, start)
        };
        let paths = [path(0), path(1), path(2)];
        let since = in_force < as_of;
        let nis2 = |class: &str| FrameworkBasis {
            framework: "nis2",
            basis: "legal",
            deadline: if since { as_of } else { in_force }.to_string().into(),
            due: format!("due {}{in_force}", if since { "since " } else { "" }).into(),
            says: format!("{class} entity ({in_force_cites})"),
        };
        let nis2 = [nis2("essential"), nis2("important")];
        Dated {
            as_of: as_of.to_string(),
            as_of_day: day(as_of),
            nis2_deadline: day(&nis2[0].deadline),
            window_start_day: paths.clone().map(|p| day(&p.1)),
            window_start: paths.clone().map(|p| p.1.into()),
            window_start_due: paths
                .clone()
                .map(|p| format!("by {} (window start)", p.1).into()),
            milestones: paths.map(|p| p.0),
            nis2,
            phase_end_days: timeline.phases.map(|m| day(&plus_months(date, m))),
        }
    }
}

/// The rules whose grounds `Floor::record` writes, by their place in `Floor::rules`: each is
/// found by its id once, in `Floor::new`, rather than hashed by name for every record.
#[derive(Clone, Copy)]
enum Rule {
    Art3_1bDnsService,
    Art3_1cMediumElectronicCommunications,
    Art3_1aLargeAnnexI,
    Art3_2SmallElectronicCommunications,
    Art3_2MediumOrLarge,
    Art2_1NotAnnexType,
    Art2_1SizeCap,
    Art26_1Establishment,
    NeedCustomerDemand,
    NeedNorthAmericanCustomers,
    Type2CustomerDemand,
    Type2EnterpriseOrRegulated,
    Type1First,
    NeedNotServiceOrganisation,
    NeedNoDemandOutsideNorthAmerica,
}

/// The ids of the rules of [`Rule`], in its order.
const RULE_IDS: [&str; 15] = [
    "art3_1_b_dns_service",
    "art3_1_c_medium_electronic_communications",
    "art3_1_a_large_annex_i",
    "art3_2_small_electronic_communications",
    "art3_2_medium_or_large",
    "art2_1_not_annex_type",
    "art2_1_size_cap",
    "art26_1_establishment",
    "need_customer_demand",
    "need_north_american_customers",
    "type2_customer_demand",
    "type2_enterprise_or_regulated",
    "type1_first",
    "need_not_service_organisation",
    "need_no_demand_outside_north_america",
];

/// The SOC 2 and plan work in plain Rust: the logic floor for the full decision, and the tables
/// the floor's output record is written from.
struct Floor {
    /// Control id -> index in the catalogue.
    controls: foldhash::HashMap<String, usize>,
    /// Per control: the requirements it serves, as a bit mask.
    serves: Vec<Bits>,
    nis2: Bits,
    soc2_security: Bits,
    // What `Floor::record` needs besides, all read once here.
    catalogue: Vec<Control>,
    requirement_ids: Vec<&'static str>,
    /// Per control: the requirements a `full` mapping row says it meets.
    fully_serves: Vec<Bits>,
    /// Per requirement: how many controls map to it, and which.
    served_by: Vec<u32>,
    served_by_controls: Vec<Bits>,
    /// NIS2 Art. 21 requirements (the `nis2_art21` coverage).
    nis2_art21: Bits,
    /// SOC 2 requirements of the security, availability and confidentiality categories: the
    /// criteria bits of `floor_decide`.
    soc2_by_criterion: [Bits; 3],
    /// The controls serving a requirement of NIS2 for an essential and for an important entity,
    /// and of SOC 2 for each set of criteria bits, as bit sets over the catalogue.
    nis2_controls: [Bits; 2],
    soc2_controls: [Bits; 8],
    /// The controls at target at maturity 0 (a target of 0): at target unless declared lower.
    at_target_undeclared: Bits,
    /// Obligations of an essential and of an important entity (obligations.json), shared with
    /// the table as the pipeline shares them, and the NIS2 requirements they bring into a plan.
    obligations: [Vec<ObligationRef>; 2],
    nis2_by_class: [Bits; 2],
    /// Per control: its place among the controls ranked first, and the words it adds to `why`.
    first: Vec<Option<(u8, String)>>,
    /// Sorted, for a binary search.
    member_states: Vec<String>,
    sizes: Vec<SizeClass>,
    /// Per [`Rule`]: its ground and, for NIS2 rules, its note; for SOC 2 rules, what serves
    /// instead.
    rules: Vec<(Ground, Option<String>)>,
    /// Grounds of the security, availability and confidentiality criteria.
    criteria: [Ground; 3],
    timeline: Timeline,
    /// The capacity per phase as the plan's notes write it.
    weeks_per_phase_words: String,
    dated: Dated,
}

/// A number as the size ground writes it: whole numbers without a fraction.
fn push_number(out: &mut String, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        out.push_str(itoa::Buffer::new().format(v as i64));
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{v}");
    }
}

/// An amount in euros rounded to the euro, with thousands separators: `18,291,331`.
fn push_money(out: &mut String, v: f64) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(v.round().max(0.0) as u64);
    // The leading group of one to three digits, then groups of three, each pushed whole.
    let mut at = (digits.len() - 1) % 3 + 1;
    out.push_str(&digits[..at]);
    while at < digits.len() {
        out.push(',');
        out.push_str(&digits[at..at + 3]);
        at += 3;
    }
}

/// `YYYY-MM-DD` plus whole months, the day kept where the month has it, else its last day.
fn plus_months(date: (i32, u32, u32), months: u32) -> String {
    let (y, m, d) = date;
    let total = y * 12 + (m as i32 - 1) + months as i32;
    let (y, m) = (total / 12, total as u32 % 12 + 1);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let last = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    format!("{y:04}-{m:02}-{:02}", d.min(last))
}

fn parse_date(s: &str) -> (i32, u32, u32) {
    let n = |r: std::ops::Range<usize>| s[r].parse().expect("a date YYYY-MM-DD");
    (n(0..4) as i32, n(5..7), n(8..10))
}

impl Floor {
    fn new(as_of: &str) -> Floor {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(root.join(f)).unwrap()).unwrap()
        };
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        // Text every record carries, kept once for the process as the engine keeps it.
        let kept = |v: &serde_json::Value| assay::intern::text(v.as_str().unwrap_or_default());
        let catalogue = read("controls/tables/catalogue.json");
        let requirements = read("controls/tables/requirements.json");
        let mapping = read("controls/tables/mapping.json");
        let controls: foldhash::HashMap<String, usize> = catalogue
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
        // The record's per-record arrays and control bit sets hold the catalogue.
        assert!(
            controls.len() <= MAX_CONTROLS,
            "more controls than the floor's arrays hold"
        );
        let mut serves = vec![[0u64; 3]; controls.len()];
        let mut fully_serves = vec![[0u64; 3]; controls.len()];
        let mut served_by = vec![0u32; reqs.len()];
        let mut served_by_controls = vec![[0u64; 3]; reqs.len()];
        for m in mapping.as_array().unwrap() {
            let c = controls[m["control"].as_str().unwrap()];
            let r = reqs[m["requirement"].as_str().unwrap()];
            bit(&mut serves[c], r);
            served_by[r] += 1;
            bit(&mut served_by_controls[r], c);
            if m["strength"] == "full" {
                bit(&mut fully_serves[c], r);
            }
        }
        // A control maps to a requirement once: the count of controls at target serving a
        // requirement is then that of its bit set.
        assert!((0..reqs.len()).all(|r| served_by[r] as usize == count(&served_by_controls[r])));
        let mask = |pick: &dyn Fn(&serde_json::Value) -> bool| {
            let mut m = [0u64; 3];
            for (i, r) in requirements.as_array().unwrap().iter().enumerate() {
                if pick(r) {
                    bit(&mut m, i);
                }
            }
            m
        };
        let soc2 = |category: &'static str| {
            mask(&move |r: &serde_json::Value| {
                r["framework"] == "soc2" && r["category"] == category
            })
        };

        // NIS2: obligations by class (Art. 20, 21, 23, 27, 32, 33), leaving out those the table
        // restricts to some entity types and the Art. 27 register (digital providers), which
        // the floor does not tell apart; the requirements each brings into a plan.
        let frameworks = read("plan/tables/frameworks.json");
        let obligations_table = read("nis2/tables/obligations.json");
        let mut obligations: [Vec<ObligationRef>; 2] = Default::default();
        let mut nis2_by_class = [[0u64; 3]; 2];
        for o in obligations_table["obligations"].as_array().unwrap() {
            if o.get("only_entity_types").is_some() || o["registry"] == "art27" {
                continue;
            }
            let obligation = ObligationRef::of_table(
                kept(&o["id"]),
                kept(&o["cites"]),
                kept(&o["due"]),
                kept(&o["title"]),
            );
            let requirements = frameworks["obligation_requirements"][obligation.id]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (k, class) in ["essential", "important"].into_iter().enumerate() {
                let applies = o["applies_to"].as_array().unwrap();
                if applies.iter().any(|c| c == class) {
                    obligations[k].push(obligation.clone());
                    for r in &requirements {
                        bit(&mut nis2_by_class[k], reqs[r.as_str().unwrap()]);
                    }
                }
            }
        }
        let mut first = vec![None; controls.len()];
        for (k, u) in frameworks["first"].as_array().unwrap().iter().enumerate() {
            let words = format!(
                "; first at that date: {} ({})",
                text(&u["says"]),
                text(&u["cites"])
            );
            first[controls[u["control"].as_str().unwrap()]] = Some((k as u8, words));
        }

        // Rec. 2003/361/EC Annex Art. 2: headcount "fewer than", money "not exceeding".
        let size_table = read("nis2/tables/size-classes.json");
        let classes = size_table["classes"].as_array().unwrap();
        let ceilings = |c: &serde_json::Value| {
            let mut t = String::new();
            let mut b = String::new();
            push_money(&mut t, c["turnover_not_exceeding"].as_f64().unwrap());
            push_money(&mut b, c["balance_sheet_not_exceeding"].as_f64().unwrap());
            (c["employees_below"].as_u64().unwrap(), t, b)
        };
        let mut sizes: Vec<SizeClass> = ["micro", "small", "medium"]
            .into_iter()
            .zip(classes)
            .map(|(class, c)| {
                let (e, t, b) = ceilings(c);
                SizeClass {
                    class,
                    cites: kept(&c["cites"]),
                    reason: format!(
                        "fewer than {e} AWU and turnover not exceeding EUR {t} or balance sheet \
                         not exceeding EUR {b}"
                    ),
                }
            })
            .collect();
        let (e, t, b) = ceilings(classes.last().unwrap());
        sizes.push(SizeClass {
            class: "large",
            cites: kept(&size_table["above"]["cites"]),
            reason: format!(
                "{e} AWU or more, or turnover above EUR {t} and balance sheet above EUR {b}"
            ),
        });

        let mut rules: foldhash::HashMap<String, (Ground, Option<String>)> = Default::default();
        for (table, extra) in [
            ("nis2/tables/rules.json", "note"),
            ("soc2/tables/rules.json", "instead"),
        ] {
            for r in read(table)["rules"].as_array().unwrap() {
                let ground = Ground::of_pack(kept(&r["id"]), kept(&r["cites"]), kept(&r["says"]));
                rules.insert(ground.rule.to_string(), (ground, r.get(extra).map(text)));
            }
        }
        let rules = RULE_IDS.iter().map(|id| rules[*id].clone()).collect();
        let mut member_states: Vec<String> = read("nis2/tables/member-states.json")
            ["member_states"]
            .as_array()
            .unwrap()
            .iter()
            .map(text)
            .collect();
        member_states.sort_unstable();
        let criteria_table = read("soc2/tables/criteria.json");
        let criterion = |category: &str| {
            let c = criteria_table["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["category"] == category)
                .unwrap();
            Ground::of_pack(
                assay::intern::text(&format!("criteria_{category}")),
                kept(&c["cites"]),
                kept(&c["says"]),
            )
        };
        let soc2_pack = read("soc2/pack.json");
        let plan_pack = read("plan/pack.json");
        let months =
            |p: &serde_json::Value, k: &str| p["parameters"][k]["default"].as_u64().unwrap();
        let phase = |k: &str| {
            plan_pack["parameters"]["phase_months"]["default"][k]
                .as_u64()
                .unwrap()
        };
        let capacity = &plan_pack["parameters"]["capacity"]["default"];
        let weeks: Vec<f64> = capacity["effort_weeks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_f64().unwrap())
            .collect();
        let timeline = Timeline {
            readiness: months(&soc2_pack, "readiness_months") as u32,
            type1_after: months(&soc2_pack, "type1_after_months") as u32,
            first_window: months(&soc2_pack, "first_window_months") as u32,
            first_window_demanded: months(&soc2_pack, "first_window_months_demanded") as u32,
            steady_window: months(&soc2_pack, "steady_window_months") as u32,
            current: months(&soc2_pack, "current_months") as u32,
            report_after_window: months(&soc2_pack, "report_after_window_months") as u32,
            phases: [
                phase("now") as u32,
                phase("next") as u32,
                phase("later") as u32,
            ],
            weeks_per_phase: capacity["weeks_per_phase"].as_f64().unwrap(),
            effort_weeks: [weeks[0], weeks[1], weeks[2]],
        };

        // The controls serving any of some requirements.
        let serving = |requirements: &Bits| {
            let mut controls = [0u64; 3];
            for (c, s) in serves.iter().enumerate() {
                if and(s, requirements) != [0; 3] {
                    bit(&mut controls, c);
                }
            }
            controls
        };
        let soc2_by_criterion = [
            soc2("security"),
            soc2("availability"),
            soc2("confidentiality"),
        ];
        let soc2_controls = std::array::from_fn(|bits| {
            let mut requirements = [0u64; 3];
            for (i, category) in soc2_by_criterion.iter().enumerate() {
                if bits & (1 << i) != 0 {
                    requirements = or(&requirements, category);
                }
            }
            serving(&requirements)
        });
        let nis2_controls = nis2_by_class.map(|r| serving(&r));
        let mut at_target_undeclared = [0u64; 3];
        for (c, control) in catalogue.as_array().unwrap().iter().enumerate() {
            if control["target_maturity"].as_u64() == Some(0) {
                bit(&mut at_target_undeclared, c);
            }
        }

        Floor {
            soc2_controls,
            nis2_controls,
            at_target_undeclared,
            nis2: mask(&|r| r["framework"] == "nis2"),
            soc2_security: soc2("security"),
            catalogue: catalogue
                .as_array()
                .unwrap()
                .iter()
                .map(|c| Control {
                    id: kept(&c["id"]),
                    title: kept(&c["title"]),
                    effort: c["effort"].as_u64().unwrap() as u8,
                    target: c["target_maturity"].as_u64().unwrap() as u8,
                })
                .collect(),
            requirement_ids: requirements
                .as_array()
                .unwrap()
                .iter()
                .map(|r| kept(&r["id"]))
                .collect(),
            nis2_art21: mask(&|r| r["id"].as_str().unwrap().starts_with("nis2:art21")),
            soc2_by_criterion,
            fully_serves,
            served_by,
            served_by_controls,
            obligations,
            nis2_by_class,
            first,
            member_states,
            sizes,
            rules,
            criteria: [
                criterion("security"),
                criterion("availability"),
                criterion("confidentiality"),
            ],
            weeks_per_phase_words: {
                let mut words = String::new();
                push_number(&mut words, timeline.weeks_per_phase);
                words
            },
            dated: Dated::new(
                as_of,
                &timeline,
                &text(&frameworks["nis2_in_force"]),
                &text(&frameworks["nis2_in_force_cites"]),
            ),
            timeline,
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
                if let Some(&i) = self.controls.get(id.as_str()) {
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

    /// The plan's coverage of a framework's requirements by the controls at target, as both
    /// floors write it: met where a control written for the requirement is at target, partial
    /// where only evidence towards it is, and the mean share of mapped controls at target.
    fn coverage(&self, reached: Bits) -> impl Fn(&Bits) -> Coverage + '_ {
        let mut met = [0u64; 3];
        let mut evidenced = [0u64; 3];
        for c in ones(reached) {
            met = or(&met, &self.fully_serves[c]);
            evidenced = or(&evidenced, &self.serves[c]);
        }
        move |requirements: &Bits| {
            let n = count(requirements);
            let full = count(&and(requirements, &met));
            let some = count(&and(requirements, &evidenced));
            // Summed from +0.0: `Sum` for f64 starts at -0.0, which would write `-0.0`.
            let sum = ones(and(requirements, &evidenced))
                .map(|r| {
                    // How many controls at target serve it.
                    let at_target = count(&and(&self.served_by_controls[r], &reached));
                    f64::from(at_target as u32) / f64::from(self.served_by[r])
                })
                .fold(0.0, |s, x| s + x);
            Coverage {
                requirements: n,
                met: full,
                partial: some - full,
                open: n - some,
                evidence_pct: if n == 0 {
                    0.0
                } else {
                    (sum / n as f64 * 1000.0).round() / 10.0
                },
                from_certificate_evidence_pct: None,
            }
        }
    }

    /// The declared maturities, and the controls at target as a bit set, kept as they are
    /// declared: those the facts do not name are at 0 (both floors' plans start from these).
    fn maturities(&self, f: &Facts) -> ([u8; MAX_CONTROLS], Bits) {
        let mut maturity = [0u8; MAX_CONTROLS];
        let mut reached = self.at_target_undeclared;
        let mut declare = |i: usize, level: u8| {
            maturity[i] = level;
            let word = &mut reached[i / 64];
            if level >= self.catalogue[i].target {
                *word |= 1 << (i % 64);
            } else {
                *word &= !(1 << (i % 64));
            }
        };
        match &f.controls {
            Some(assay::facts::Controls::Map(m)) => {
                for (id, state) in m {
                    if let Some(&i) = self.controls.get(id.as_str()) {
                        declare(i, state.maturity.unwrap_or(0));
                    }
                }
            }
            Some(assay::facts::Controls::List(ids)) => {
                for id in ids {
                    if let Some(&i) = self.controls.get(id.as_str()) {
                        declare(i, 3);
                    }
                }
            }
            None => {}
        }
        (maturity, reached)
    }

    /// The record the pipeline writes for these facts, in plain Rust: the decisions of
    /// `floor_decide` (those of `Floor::full`, whose gap count the plan below redoes with the
    /// actions) with their grounds, obligations, SOC 2 timeline and a plan of the gaps,
    /// worded from the packs' tables. It leaves out what the floor does not decide (group
    /// aggregation, jurisdiction beyond the first member state of establishment, lex specialis,
    /// designations, supplier terms, certificates and reports already held).
    ///
    /// It takes the facts by value, as a worker that has just parsed them can give them, to
    /// move their id, name and member state into the record rather than copy them.
    fn record(
        &self,
        mut f: Facts,
        line: usize,
        packs: &'static [PackRef],
        as_of: &str,
    ) -> Assessment {
        let (class, needed, criteria_bits) = floor_decide(&f);
        debug_assert_eq!(
            as_of, self.dated.as_of,
            "the floor is dated once, by Floor::new"
        );

        // NIS2. The size class on the entity's own figures (Rec. 2003/361/EC Annex Art. 2),
        // with the same missing-as-zero reading as `floor_classify`.
        let (e, t, b, size) = own_size(&f);
        let s = &self.sizes[size];
        let mut says = String::with_capacity(96 + s.reason.len());
        push_number(&mut says, e);
        says.push_str(" AWU, turnover EUR ");
        push_money(&mut says, t);
        says.push_str(", balance sheet EUR ");
        push_money(&mut says, b);
        says.push_str(": ");
        says.push_str(s.class);
        says.push_str(" (");
        says.push_str(&s.reason);
        says.push(')');
        let mut grounds = vec![Ground::new("size_class", s.cites, says)];
        let rule = class_rule(&f, class, size);
        let (ground, note) = &self.rules[rule as usize];
        grounds.push(ground.clone());
        let in_scope = match class {
            "essential" => Some(0),
            "important" => Some(1),
            _ => None,
        };
        // Art. 26(1): the first member state it is established in.
        let mut jurisdiction = Vec::new();
        if in_scope.is_some() {
            let established = f.established_in.iter_mut().flatten();
            if let Some(ms) = established
                .into_iter()
                .find(|c| (self.member_states.binary_search_by(|m| m.as_str().cmp(c))).is_ok())
            {
                jurisdiction.push(std::mem::take(ms).into_string());
                grounds.push(self.rules[Rule::Art26_1Establishment as usize].0.clone());
            }
        }
        let nis2 = Nis2 {
            classification: Classification::parse(class).expect("a class"),
            possible: Vec::new(),
            size: Size {
                class: Some(s.class),
                possible: Vec::new(),
                basis: "own",
                employees: f.employees,
                annual_turnover_eur: f.annual_turnover_eur,
                balance_sheet_eur: f.balance_sheet_eur,
                own_class: Some(s.class),
                aggregation: None,
                period: None,
            },
            grounds,
            missing: Vec::new(),
            jurisdiction,
            lex_specialis: Vec::new(),
            obligations: in_scope
                .map(|k| self.obligations[k].clone())
                .unwrap_or_default(),
            // Art. 34(4): essential, at least EUR 10 M or 2 % of turnover; Art. 34(5):
            // important, at least EUR 7 M or 1.4 %.
            max_fine_eur: in_scope.map(|k| match k {
                0 => (0.02 * t).max(10e6),
                _ => (0.014 * t).max(7e6),
            }),
            supplier_exposure: None,
            notes: note.iter().cloned().collect(),
            carve_out: None,
        };

        // SOC 2: the need, the type (Type 2 when a customer demands it or serves enterprise or
        // regulated customers, else a Type 1 first), the criteria and the report timeline.
        let demanded = f.customer_demands.as_ref().and_then(|d| d.soc2.as_deref());
        let timeline = &self.timeline;
        let mut why = Vec::with_capacity(5);
        let mut instead = None;
        let mut report_type = None;
        let mut criteria = Vec::with_capacity(3);
        let mut milestones = Vec::new();
        let mut window_start = None;
        if needed {
            let (need, kind) = soc2_rules(&f, demanded);
            why.push(self.rules[need as usize].0.clone());
            why.push(self.rules[kind as usize].0.clone());
            for (i, ground) in self.criteria.iter().enumerate() {
                if criteria_bits & (1 << i) != 0 {
                    why.push(ground.clone());
                }
            }
            // Sorted by name: availability, confidentiality, security.
            for (bit, name) in [(2, "availability"), (4, "confidentiality"), (1, "security")] {
                if criteria_bits & bit != 0 {
                    criteria.push(name);
                }
            }
            // The timeline depends only on the path and the assessment date: worked out once.
            let path = match kind {
                Rule::Type1First => 0,
                _ if demanded == Some("type2") => 1,
                _ => 2,
            };
            report_type = Some(if path == 0 { "type1" } else { "type2" });
            milestones = self.dated.milestones[path].clone();
            window_start = Some(path);
        } else {
            let rule = if f.service_organisation != Some(true) {
                Rule::NeedNotServiceOrganisation
            } else {
                Rule::NeedNoDemandOutsideNorthAmerica
            };
            let (ground, serves_instead) = &self.rules[rule as usize];
            why.push(ground.clone());
            instead = serves_instead.clone();
        }

        // The plan: frameworks (NIS2 by law, SOC 2 by contract or choice), each with its
        // requirements and deadline (0 = legal, 1 = contractual, 2 = voluntary first).
        let mut frameworks = Vec::with_capacity(2);
        // (requirements, basis, deadline as a day number, controls serving the requirements),
        // on the stack.
        let mut applies = [([0u64; 3], 0u8, 0u32, [0u64; 3]); 2];
        let mut applying = 0;
        if let Some(k) = in_scope {
            frameworks.push(self.dated.nis2[k].clone());
            let deadline = self.dated.nis2_deadline;
            applies[applying] = (self.nis2_by_class[k], 0, deadline, self.nis2_controls[k]);
            applying += 1;
        }
        if let (Some(path), Some(kind)) = (window_start, report_type) {
            let mut requirements = [0u64; 3];
            for (i, category) in self.soc2_by_criterion.iter().enumerate() {
                if criteria_bits & (1 << i) != 0 {
                    for (r, c) in requirements.iter_mut().zip(category) {
                        *r |= c;
                    }
                }
            }
            let contractual = demanded.is_some();
            frameworks.push(FrameworkBasis {
                framework: "soc2",
                basis: if contractual {
                    "contractual"
                } else {
                    "voluntary"
                },
                due: self.dated.window_start_due[path].clone(),
                deadline: self.dated.window_start[path].clone(),
                says: {
                    let mut says = String::with_capacity(48);
                    says.push_str(if kind == "type1" {
                        "SOC 2 Type 1 on "
                    } else {
                        "SOC 2 Type 2 on "
                    });
                    for (i, c) in criteria.iter().enumerate() {
                        if i > 0 {
                            says.push_str(", ");
                        }
                        says.push_str(c);
                    }
                    says
                },
            });
            let deadline = self.dated.window_start_day[path];
            let basis = if contractual { 1 } else { 2 };
            let controls = self.soc2_controls[usize::from(criteria_bits)];
            applies[applying] = (requirements, basis, deadline, controls);
            applying += 1;
        }
        let applies = &applies[..applying];
        let mut all = [0u64; 3];
        for (requirements, _, _, _) in applies {
            for (a, r) in all.iter_mut().zip(requirements) {
                *a |= r;
            }
        }
        let (maturity, reached) = self.maturities(&f);
        let (basis_of, sets) = by_framework_set(applies);
        // Gaps: controls below target serving an applicable requirement, ranked by the
        // strongest basis they serve, then the table's controls ranked first, then catalogue
        // order. Each gap as one sort key: basis, place among the controls ranked first,
        // control, and in the lowest byte the frameworks it serves (which leaves the order as
        // it is, controls being distinct). The gaps are the controls serving a framework's
        // requirements (tables worked out once, in `Floor::new`) not at target.
        let mut gaps = [0u64; MAX_CONTROLS];
        let mut found = 0;
        let mut relevant = [0u64; 3];
        for a in applies {
            for (r, c) in relevant.iter_mut().zip(&a.3) {
                *r |= c;
            }
        }
        let below = [
            relevant[0] & !reached[0],
            relevant[1] & !reached[1],
            relevant[2] & !reached[2],
        ];
        for c in ones(below) {
            let mut serves = 0;
            for (j, a) in applies.iter().enumerate() {
                serves |= ((a.3[c / 64] >> (c % 64)) as usize & 1) << j;
            }
            let first = self.first[c].as_ref().map_or(u8::MAX, |u| u.0);
            gaps[found] = u64::from(basis_of[serves]) << 56
                | u64::from(first) << 48
                | (c as u64) << 8
                | serves as u64;
            found += 1;
        }
        let gaps = &mut gaps[..found];
        gaps.sort_unstable();

        // Phases: the first of now (0-3 months), next (3-6) and later (6-12) with room for the
        // action's effort; late when that phase ends after its deadline.
        let ends = &self.dated.phase_end_days;
        let listed = gaps.len().min(assay::evaluate::DEFAULT_PLAN_ACTIONS);
        let mut summary = PlanSummary {
            actions: gaps.len(),
            listed,
            ..PlanSummary::default()
        };
        let mut load = [0.0f64; 3];
        let mut late = 0;
        let mut actions = Vec::with_capacity(listed);
        for (rank, &key) in gaps.iter().enumerate() {
            let (basis, c, serves) = (
                (key >> 56) as u8,
                (key >> 8 & 0xff_ffff) as usize,
                (key & 0xff) as usize,
            );
            let control = &self.catalogue[c];
            let weeks = timeline.effort_weeks[usize::from(control.effort.clamp(1, 3)) - 1];
            let mut phase = 0;
            while phase < 2 && load[phase] + weeks > timeline.weeks_per_phase {
                phase += 1;
            }
            load[phase] += weeks;
            match phase {
                0 => summary.now += 1,
                1 => summary.next += 1,
                _ => summary.later += 1,
            }
            // The framework that sets its deadline: the earliest, the first of equals.
            let sets = sets[serves];
            let deadline = sets.map_or(self.dated.as_of_day, |j| applies[j].2);
            let moved = ends[phase] > deadline.max(ends[0]);
            late += usize::from(moved);
            if rank >= listed {
                continue;
            }
            // Without the JSON the engine makes for them when it loads its catalogue: the
            // line writes these ids, and the control and title below, itself.
            let closes: Vec<RequirementId> = ones(and(&self.serves[c], &all))
                .map(|r| RequirementId {
                    id: self.requirement_ids[r],
                    json: "",
                })
                .collect();
            // "nis2+soc2 due since 2024-10-18; serves 2 requirement(s); effort weeks"
            let mut why = String::with_capacity(160);
            for j in (0..applies.len()).filter(|j| serves & 1 << j != 0) {
                if !why.is_empty() {
                    why.push('+');
                }
                why.push_str(frameworks[j].framework);
            }
            why.push(' ');
            why.push_str(sets.map_or("", |j| frameworks[j].due.as_str()));
            why.push_str(self.first[c].as_ref().map_or("", |u| u.1.as_str()));
            why.push_str("; serves ");
            why.push_str(itoa::Buffer::new().format(closes.len()));
            why.push_str(" requirement(s); effort ");
            why.push_str(["days", "weeks", "months"][usize::from(control.effort.clamp(1, 3)) - 1]);
            if moved {
                why.push_str("; later than its deadline: earlier phases are full");
            }
            actions.push(Action {
                rank: rank + 1,
                control: control.id,
                title: control.title,
                head: "",
                closes,
                phase: ["now", "next", "later"][phase],
                basis: ["legal", "contractual", "voluntary"][usize::from(basis)],
                maturity: maturity[c],
                target: control.target,
                why,
            });
        }
        let mut notes = Vec::new();
        let per_phase = &self.weeks_per_phase_words;
        // Put together with push_str and itoa rather than `format!`.
        if late > 0 {
            let mut note = String::with_capacity(200);
            note.push_str(itoa::Buffer::new().format(late));
            note.push_str(" action(s) do not fit before their deadline at ");
            note.push_str(per_phase);
            note.push_str(
                " person-weeks per phase: add people, or move the deadlines that can move (a \
                 SOC 2 window, a certification date)",
            );
            notes.push(note);
        }
        if load[2] > timeline.weeks_per_phase {
            let mut note = String::with_capacity(128);
            note.push_str("the work exceeds the 12-month horizon: about ");
            // As `{:.0}` writes it: to the nearest whole number, ties to even.
            note.push_str(itoa::Buffer::new().format(load[2].round_ties_even() as u64));
            note.push_str(" person-weeks are left for the `later` phase, which holds ");
            note.push_str(per_phase);
            notes.push(note);
        }

        // Coverage: met where a control at target fully meets the requirement, partial where
        // only evidence towards it is at target; the share of mapped controls at target.
        let cover = self.coverage(reached);
        let mut coverage = std::collections::BTreeMap::new();
        for (fw, (requirements, _, _, _)) in frameworks.iter().zip(applies) {
            coverage.insert(fw.framework, cover(requirements));
            if fw.framework == "nis2" {
                coverage.insert("nis2_art21", cover(&and(requirements, &self.nis2_art21)));
            }
        }

        Assessment {
            id: Some(f.id),
            name: f.name,
            line,
            packs,
            as_of: as_of.into(),
            nis2: Some(nis2),
            soc2: Some(Soc2 {
                needed: Some(needed),
                report_type,
                criteria,
                why,
                missing: Vec::new(),
                instead,
                if_needed: None,
                current_report: None,
                milestones,
            }),
            plan: Some(Plan {
                frameworks,
                actions,
                summary,
                coverage,
                notes,
            }),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// A string as serde_json writes it: quoted, with `"`, `\` and the control characters escaped.
/// Most strings need no escape and are copied whole; the others are written by serde_json.
fn put_str(out: &mut Vec<u8>, s: &str) {
    /// The bytes serde_json escapes.
    const ESCAPED: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize;
            b += 1;
        }
        table
    };
    if s.bytes().any(|b| ESCAPED[usize::from(b)]) {
        serde_json::to_writer(&mut *out, s).expect("a string");
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// A whole number, as serde_json (and the encoder) write it, with itoa.
fn put_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// An `f64` as serde_json writes it (the shortest decimal that reads back, `100.0` for 100),
/// with its own formatter; `null` when it is not finite, as serde_json writes it.
fn put_f64(out: &mut Vec<u8>, v: Option<f64>) {
    use serde_json::ser::Formatter;
    match v {
        Some(v) if v.is_finite() => serde_json::ser::CompactFormatter
            .write_f64(out, v)
            .expect("a number"),
        _ => out.extend_from_slice(b"null"),
    }
}

/// `push_number` into bytes: whole numbers without a fraction.
fn put_number(out: &mut Vec<u8>, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        put_int(out, v as i64);
    } else {
        use std::io::Write;
        let _ = write!(out, "{v}");
    }
}

/// `push_money` into bytes: euros with thousands separators, `18,291,331`.
fn put_money(out: &mut Vec<u8>, v: f64) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(v.round().max(0.0) as u64).as_bytes();
    let mut at = (digits.len() - 1) % 3 + 1;
    out.extend_from_slice(&digits[..at]);
    while at < digits.len() {
        out.push(b',');
        out.extend_from_slice(&digits[at..at + 3]);
        at += 3;
    }
}

/// A value as serde_json writes it, for the fragments worked out once.
fn json<T: serde::Serialize + ?Sized>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("JSON")
}

/// A string's JSON text without its quotes: the inside of a string written in pieces.
fn inside(s: &str) -> Vec<u8> {
    let quoted = json(s);
    quoted[1..quoted.len() - 1].to_vec()
}

/// The direct-writing floor: the bytes `OutputFormat::Jsonl.encode` writes for
/// `Floor::record`'s `Assessment`, line end included, written straight into the caller's
/// buffer as a plain-Rust engine written for speed would write them: no `Assessment`, no
/// `Ground` or `Action` values, no copies of the packs' texts, no serde on the record, no
/// allocation per record.
///
/// It does per record everything that varies by record, as `Floor::record` does it and in its
/// order: the decisions (`floor_decide`), the size class and its ground's words (the figures,
/// in euros with separators), the rule behind the class, the member state of establishment,
/// the maximum fine, the SOC 2 need, type, criteria and reasons, the plan's frameworks, the
/// gaps as bit sets and their ranks (the order `Floor::record` sorts its packed keys into,
/// taken here basis by basis without a sort), each gap's phase and lateness, the first five
/// actions with the requirements they close and their reasons in words, the summary counts,
/// the coverage figures and the notes; strings from the facts (id, name, member state) are
/// escaped as serde_json escapes them, numbers written with itoa and serde_json's own `f64`
/// formatter, as the encoder writes them.
///
/// What it works out once, in `Direct::new`, depends only on the packs, the assessment date
/// and a choice among a handful: the `"packs"` list and `"as_of"`, each rule's ground as JSON,
/// a note or what serves instead, each size class's parts of the size object and ground, the
/// obligations of an essential and of an important entity, the NIS2 framework of each class
/// and the SOC 2 framework's and milestones' dates of each path (all dated by `--as-of`), each
/// control's `"control"` and `"title"` and its effort in weeks, the controls ranked first in
/// their order, each requirement id, quoted, and the constant words of the reasons and notes,
/// escaped. This is what `Floor::record` takes from its tables (pointing at the text kept for
/// the process, or cloning it where the record's type holds a `String`: notes, milestones,
/// frameworks), and what the encoder writes as constants; nothing that depends on a record's
/// figures, gaps, ranks or counts is written ahead, and no object (nis2, soc2, plan) is kept
/// whole by decision: that would be the bound (`bound_parse_decide_copy`).
///
/// The bench refuses to run unless its bytes are those of `Floor::record` encoded, record for
/// record, on the 1,000-organisation sample, 300 variants of it (`direct_variants`) and the
/// first 20,000 lines of the batch (`check_direct`).
struct Direct<'a> {
    floor: &'a Floor,
    /// `,"packs":[…],"as_of":"…","nis2":{"classification":"`
    packs_as_of: Vec<u8>,
    /// Per size class: `","size":{"class":"…","basis":"own","employees":`
    size_open: Vec<Vec<u8>>,
    /// Per size class: `,"own_class":"…"},"grounds":[{"rule":"size_class","cites":"…","says":"`
    size_ground: Vec<Vec<u8>>,
    /// Per size class: the end of the size ground's words, `: small (fewer than …)"}`.
    size_ground_end: Vec<Vec<u8>>,
    /// Per [`Rule`]: its ground, `{"rule":…,"cites":…,"says":…}`, and after the NIS2 object's
    /// or the SOC 2 object's last field, `,"notes":[…]` of its note or `,"instead":…`.
    grounds: Vec<Vec<u8>>,
    after: Vec<Vec<u8>>,
    /// The security, availability and confidentiality criteria's grounds.
    criteria: [Vec<u8>; 3],
    /// Of an essential and of an important entity: `,"obligations":[…]` and its NIS2
    /// framework, `{"framework":"nis2",…}`, and the inside of its `due`.
    obligations: [Vec<u8>; 2],
    nis2_framework: [Vec<u8>; 2],
    nis2_due: [Vec<u8>; 2],
    /// Per SOC 2 path (`Dated`): `","deadline":"…","due":"…","says":"SOC 2 Type N on `, the
    /// inside of its `due`, and `,"milestones":[…]`.
    soc2_framework: [Vec<u8>; 3],
    soc2_due: [Vec<u8>; 3],
    milestones: [Vec<u8>; 3],
    /// Per control: `,"control":"…","title":"…","closes":[`, and for the controls ranked
    /// first, the inside of the words they add to an action's reason.
    control: Vec<Vec<u8>>,
    first: Vec<Vec<u8>>,
    /// The controls ranked first, in the table's order, and as a bit set.
    first_order: Vec<u8>,
    first_mask: Bits,
    /// Per control: its effort in person-weeks (the plan pack's capacity table).
    weeks: Vec<f64>,
    /// Per requirement: its id, quoted.
    requirement: Vec<Vec<u8>>,
    /// The insides of the notes' constant words: `" action(s) do not fit … date)"` and
    /// `" person-weeks are left … which holds …"`.
    late_note: Vec<u8>,
    horizon_note: Vec<u8>,
}

impl<'a> Direct<'a> {
    fn new(floor: &'a Floor, packs: &[PackRef]) -> Direct<'a> {
        let dated = &floor.dated;
        let mut packs_as_of = b",\"packs\":".to_vec();
        packs_as_of.extend(json(packs));
        packs_as_of.extend(b",\"as_of\":");
        packs_as_of.extend(json(&dated.as_of));
        packs_as_of.extend(b",\"nis2\":{\"classification\":\"");
        let mut size_open = Vec::new();
        let mut size_ground = Vec::new();
        let mut size_ground_end = Vec::new();
        for s in &floor.sizes {
            let class = json(s.class);
            let mut open = b"\",\"size\":{\"class\":".to_vec();
            open.extend(&class);
            open.extend(b",\"basis\":\"own\",\"employees\":");
            size_open.push(open);
            let mut ground = b",\"own_class\":".to_vec();
            ground.extend(&class);
            ground.extend(b"},\"grounds\":[{\"rule\":\"size_class\",\"cites\":");
            ground.extend(json(&s.cites));
            ground.extend(b",\"says\":\"");
            size_ground.push(ground);
            let mut end = inside(&format!(": {} ({})", s.class, s.reason));
            end.extend(b"\"}");
            size_ground_end.push(end);
        }
        let mut grounds = Vec::new();
        let mut after = Vec::new();
        for (k, (ground, extra)) in floor.rules.iter().enumerate() {
            grounds.push(json(ground));
            // The NIS2 rules come before `Rule::NeedCustomerDemand`, and bring notes.
            let nis2 = k < Rule::NeedCustomerDemand as usize;
            after.push(match (extra, nis2) {
                (None, _) => Vec::new(),
                (Some(note), true) => [&b",\"notes\":["[..], &json(note)[..], b"]"].concat(),
                (Some(instead), false) => [&b",\"instead\":"[..], &json(instead)[..]].concat(),
            });
        }
        let obligations = std::array::from_fn(|k| {
            let list = &floor.obligations[k];
            if list.is_empty() {
                Vec::new()
            } else {
                [&b",\"obligations\":"[..], &json(list)[..]].concat()
            }
        });
        let soc2_framework = std::array::from_fn(|path| {
            let mut out = b"\",\"deadline\":".to_vec();
            out.extend(json(&dated.window_start[path]));
            out.extend(b",\"due\":");
            out.extend(json(&dated.window_start_due[path]));
            out.extend(b",\"says\":\"");
            out.extend(if path == 0 {
                &b"SOC 2 Type 1 on "[..]
            } else {
                b"SOC 2 Type 2 on "
            });
            out
        });
        let control = floor
            .catalogue
            .iter()
            .map(|c| {
                let mut out = b",\"control\":".to_vec();
                out.extend(json(&c.id));
                out.extend(b",\"title\":");
                out.extend(json(&c.title));
                out.extend(b",\"closes\":[");
                out
            })
            .collect();
        let mut first_order: Vec<(u8, u8)> = (floor.first.iter().enumerate())
            .filter_map(|(c, u)| u.as_ref().map(|u| (u.0, c as u8)))
            .collect();
        first_order.sort_unstable();
        // Places below u8::MAX, which `Floor::record`'s keys give the other controls.
        assert!(first_order.iter().all(|&(k, _)| k < u8::MAX));
        let mut first_mask = [0u64; 3];
        for &(_, c) in &first_order {
            bit(&mut first_mask, usize::from(c));
        }
        let per_phase = &floor.weeks_per_phase_words;
        Direct {
            weeks: (floor.catalogue.iter())
                .map(|c| floor.timeline.effort_weeks[usize::from(c.effort.clamp(1, 3)) - 1])
                .collect(),
            first_order: first_order.into_iter().map(|(_, c)| c).collect(),
            first_mask,
            floor,
            packs_as_of,
            size_open,
            size_ground,
            size_ground_end,
            grounds,
            after,
            criteria: floor.criteria.each_ref().map(json),
            obligations,
            nis2_framework: dated.nis2.each_ref().map(json),
            nis2_due: dated.nis2.each_ref().map(|n| inside(&n.due)),
            soc2_framework,
            soc2_due: dated.window_start_due.each_ref().map(|d| inside(d)),
            milestones: dated
                .milestones
                .each_ref()
                .map(|m| [&b",\"milestones\":"[..], &json(m)[..]].concat()),
            control,
            first: floor
                .first
                .iter()
                .map(|u| u.as_ref().map_or(Vec::new(), |u| inside(&u.1)))
                .collect(),
            requirement: floor.requirement_ids.iter().map(json).collect(),
            late_note: inside(&format!(
                " action(s) do not fit before their deadline at {per_phase} person-weeks per \
                 phase: add people, or move the deadlines that can move (a SOC 2 window, a \
                 certification date)"
            )),
            horizon_note: inside(&format!(
                " person-weeks are left for the `later` phase, which holds {per_phase}"
            )),
        }
    }

    /// The record of `Floor::record(f, line, …)` as `OutputFormat::Jsonl.encode` writes it,
    /// its line end included, appended to `out`.
    fn write(&self, f: &Facts, line: usize, out: &mut Vec<u8>) {
        let fl = self.floor;
        let (class, needed, criteria_bits) = floor_decide(f);

        out.extend_from_slice(b"{\"id\":");
        put_str(out, &f.id);
        if let Some(name) = &f.name {
            out.extend_from_slice(b",\"name\":");
            put_str(out, name);
        }
        out.extend_from_slice(b",\"line\":");
        put_int(out, line);
        out.extend_from_slice(&self.packs_as_of);
        // The class names are the classifications' own.
        out.extend_from_slice(class.as_bytes());

        // NIS2: the size class on the entity's own figures, missing read as zero.
        let (e, t, b, size) = own_size(f);
        out.extend_from_slice(&self.size_open[size]);
        put_f64(out, f.employees);
        out.extend_from_slice(b",\"annual_turnover_eur\":");
        put_f64(out, f.annual_turnover_eur);
        out.extend_from_slice(b",\"balance_sheet_eur\":");
        put_f64(out, f.balance_sheet_eur);
        out.extend_from_slice(&self.size_ground[size]);
        // The ground's words: figures (digits and commas, nothing to escape), then the class.
        put_number(out, e);
        out.extend_from_slice(b" AWU, turnover EUR ");
        put_money(out, t);
        out.extend_from_slice(b", balance sheet EUR ");
        put_money(out, b);
        out.extend_from_slice(&self.size_ground_end[size]);
        let rule = class_rule(f, class, size);
        out.push(b',');
        out.extend_from_slice(&self.grounds[rule as usize]);
        let in_scope = match class {
            "essential" => Some(0),
            "important" => Some(1),
            _ => None,
        };
        // Art. 26(1): the first member state it is established in.
        let established = in_scope.and_then(|_| {
            f.established_in
                .iter()
                .flatten()
                .find(|c| (fl.member_states.binary_search_by(|m| m.as_str().cmp(c))).is_ok())
        });
        if established.is_some() {
            out.push(b',');
            out.extend_from_slice(&self.grounds[Rule::Art26_1Establishment as usize]);
        }
        out.extend_from_slice(b"],\"jurisdiction\":[");
        if let Some(ms) = established {
            put_str(out, ms);
        }
        out.push(b']');
        if let Some(k) = in_scope {
            out.extend_from_slice(&self.obligations[k]);
            // Art. 34(4) and (5).
            let fine = match k {
                0 => (0.02 * t).max(10e6),
                _ => (0.014 * t).max(7e6),
            };
            out.extend_from_slice(b",\"max_fine_eur\":");
            put_f64(out, Some(fine));
        }
        out.extend_from_slice(&self.after[rule as usize]);
        out.push(b'}');

        // SOC 2: the need, the type, the criteria (sorted by name), the reasons, the timeline.
        let demanded = f.customer_demands.as_ref().and_then(|d| d.soc2.as_deref());
        let mut path = None;
        out.extend_from_slice(b",\"soc2\":{\"needed\":");
        if needed {
            let (need, kind) = soc2_rules(f, demanded);
            let p = match kind {
                Rule::Type1First => 0,
                _ if demanded == Some("type2") => 1,
                _ => 2,
            };
            path = Some(p);
            out.extend_from_slice(if p == 0 {
                b"true,\"type\":\"type1\",\"criteria\":["
            } else {
                b"true,\"type\":\"type2\",\"criteria\":["
            });
            put_names(out, criteria_bits, b",", b"\"");
            out.extend_from_slice(b"],\"why\":[");
            out.extend_from_slice(&self.grounds[need as usize]);
            out.push(b',');
            out.extend_from_slice(&self.grounds[kind as usize]);
            for (i, ground) in self.criteria.iter().enumerate() {
                if criteria_bits & (1 << i) != 0 {
                    out.push(b',');
                    out.extend_from_slice(ground);
                }
            }
            out.push(b']');
            out.extend_from_slice(&self.milestones[p]);
        } else {
            let rule = if f.service_organisation != Some(true) {
                Rule::NeedNotServiceOrganisation
            } else {
                Rule::NeedNoDemandOutsideNorthAmerica
            };
            out.extend_from_slice(b"false,\"type\":null,\"criteria\":[],\"why\":[");
            out.extend_from_slice(&self.grounds[rule as usize]);
            out.push(b']');
            out.extend_from_slice(&self.after[rule as usize]);
        }
        out.push(b'}');

        // The plan's frameworks, each with its requirements, basis (0 legal, 1 contractual,
        // 2 voluntary), deadline as a day number and controls; and its name and the inside of
        // its `due`, for the actions' reasons.
        out.extend_from_slice(b",\"plan\":{\"frameworks\":[");
        let mut applies = [([0u64; 3], 0u8, 0u32, [0u64; 3]); 2];
        let mut words: [(&[u8], &[u8]); 2] = [(b"", b""); 2];
        let mut applying = 0;
        if let Some(k) = in_scope {
            out.extend_from_slice(&self.nis2_framework[k]);
            let deadline = fl.dated.nis2_deadline;
            applies[0] = (fl.nis2_by_class[k], 0, deadline, fl.nis2_controls[k]);
            words[0] = (b"nis2", &self.nis2_due[k]);
            applying = 1;
        }
        if let Some(p) = path {
            let mut requirements = [0u64; 3];
            for (i, category) in fl.soc2_by_criterion.iter().enumerate() {
                if criteria_bits & (1 << i) != 0 {
                    requirements = or(&requirements, category);
                }
            }
            let contractual = demanded.is_some();
            if applying > 0 {
                out.push(b',');
            }
            out.extend_from_slice(if contractual {
                b"{\"framework\":\"soc2\",\"basis\":\"contractual"
            } else {
                b"{\"framework\":\"soc2\",\"basis\":\"voluntary"
            });
            out.extend_from_slice(&self.soc2_framework[p]);
            put_names(out, criteria_bits, b", ", b"");
            out.extend_from_slice(b"\"}");
            let deadline = fl.dated.window_start_day[p];
            let controls = fl.soc2_controls[usize::from(criteria_bits)];
            let basis = if contractual { 1 } else { 2 };
            applies[applying] = (requirements, basis, deadline, controls);
            words[applying] = (b"soc2", &self.soc2_due[p]);
            applying += 1;
        }
        out.extend_from_slice(b"],\"actions\":[");
        let applies = &applies[..applying];
        let mut all = [0u64; 3];
        for (requirements, _, _, _) in applies {
            all = or(&all, requirements);
        }

        let (maturity, reached) = fl.maturities(f);
        let (basis_of, sets) = by_framework_set(applies);
        // The gaps (the controls serving an applicable requirement, below target) in rank
        // order: by the strongest basis they serve, then the table's controls ranked first in
        // its order, then catalogue order. `Floor::record` sorts packed keys for it; here the
        // gaps of each basis are a bit set, taken in that order without a sort.
        let mut gaps = [0u8; MAX_CONTROLS];
        let mut found = 0;
        let mut ranked = [0u64; 3];
        for basis in 0..3 {
            let mut set = [0u64; 3];
            for a in applies.iter().filter(|a| a.1 == basis) {
                set = or(&set, &a.3);
            }
            for w in 0..3 {
                set[w] &= !reached[w] & !ranked[w];
                ranked[w] |= set[w];
            }
            for &c in &self.first_order {
                if set[usize::from(c) / 64] >> (c % 64) & 1 != 0 {
                    gaps[found] = c;
                    found += 1;
                }
            }
            let rest = [
                set[0] & !self.first_mask[0],
                set[1] & !self.first_mask[1],
                set[2] & !self.first_mask[2],
            ];
            for c in ones(rest) {
                gaps[found] = c as u8;
                found += 1;
            }
        }
        let gaps = &gaps[..found];

        // Each gap's phase and lateness; the first five written as actions.
        let timeline = &fl.timeline;
        let ends = &fl.dated.phase_end_days;
        let listed = gaps.len().min(assay::evaluate::DEFAULT_PLAN_ACTIONS);
        let mut phases = [0usize; 3];
        let mut load = [0.0f64; 3];
        let mut late = 0;
        // Per set of frameworks a gap serves and per phase: whether that phase ends after
        // the deadline, the earliest of theirs.
        let mut late_in = [[false; 3]; 4];
        for (m, late_in) in late_in.iter_mut().enumerate() {
            let deadline = sets[m].map_or(fl.dated.as_of_day, |j| applies[j].2);
            for (phase, late) in late_in.iter_mut().enumerate() {
                *late = ends[phase] > deadline.max(ends[0]);
            }
        }
        for (rank, &c) in gaps.iter().enumerate() {
            let c = usize::from(c);
            let mut serves = 0;
            for (j, a) in applies.iter().enumerate() {
                serves |= ((a.3[c / 64] >> (c % 64)) as usize & 1) << j;
            }
            let weeks = self.weeks[c];
            let mut phase = 0;
            while phase < 2 && load[phase] + weeks > timeline.weeks_per_phase {
                phase += 1;
            }
            load[phase] += weeks;
            phases[phase] += 1;
            let moved = late_in[serves][phase];
            late += usize::from(moved);
            if rank >= listed {
                continue;
            }
            let basis = usize::from(basis_of[serves]);
            let control = &fl.catalogue[c];
            let effort = usize::from(control.effort.clamp(1, 3)) - 1;
            if rank > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"rank\":");
            put_int(out, rank + 1);
            out.extend_from_slice(&self.control[c]);
            let mut closes = 0;
            for r in ones(and(&fl.serves[c], &all)) {
                if closes > 0 {
                    out.push(b',');
                }
                closes += 1;
                out.extend_from_slice(&self.requirement[r]);
            }
            out.extend_from_slice(
                [
                    &b"],\"phase\":\"now\",\"basis\":\""[..],
                    b"],\"phase\":\"next\",\"basis\":\"",
                    b"],\"phase\":\"later\",\"basis\":\"",
                ][phase],
            );
            out.extend_from_slice(
                [
                    &b"legal\",\"maturity\":"[..],
                    b"contractual\",\"maturity\":",
                    b"voluntary\",\"maturity\":",
                ][basis],
            );
            put_int(out, maturity[c]);
            out.extend_from_slice(b",\"target\":");
            put_int(out, control.target);
            // "nis2+soc2 due since 2024-10-18; serves 2 requirement(s); effort weeks"
            out.extend_from_slice(b",\"why\":\"");
            let mut plus = false;
            for (j, (name, _)) in words[..applies.len()].iter().enumerate() {
                if serves & 1 << j != 0 {
                    if plus {
                        out.push(b'+');
                    }
                    plus = true;
                    out.extend_from_slice(name);
                }
            }
            out.push(b' ');
            if let Some(j) = sets[serves] {
                out.extend_from_slice(words[j].1);
            }
            out.extend_from_slice(&self.first[c]);
            out.extend_from_slice(b"; serves ");
            put_int(out, closes);
            out.extend_from_slice(
                [
                    &b" requirement(s); effort days"[..],
                    b" requirement(s); effort weeks",
                    b" requirement(s); effort months",
                ][effort],
            );
            if moved {
                out.extend_from_slice(b"; later than its deadline: earlier phases are full");
            }
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"],\"summary\":{\"actions\":");
        put_int(out, gaps.len());
        out.extend_from_slice(b",\"now\":");
        put_int(out, phases[0]);
        out.extend_from_slice(b",\"next\":");
        put_int(out, phases[1]);
        out.extend_from_slice(b",\"later\":");
        put_int(out, phases[2]);
        out.extend_from_slice(b",\"listed\":");
        put_int(out, listed);

        // Coverage per framework (keys in order: nis2, nis2_art21, soc2), as `Floor::record`
        // works it out.
        let coverage = fl.coverage(reached);
        let cover = |out: &mut Vec<u8>, requirements: &Bits| {
            let c = coverage(requirements);
            out.extend_from_slice(b"{\"requirements\":");
            put_int(out, c.requirements);
            out.extend_from_slice(b",\"met\":");
            put_int(out, c.met);
            out.extend_from_slice(b",\"partial\":");
            put_int(out, c.partial);
            out.extend_from_slice(b",\"open\":");
            put_int(out, c.open);
            out.extend_from_slice(b",\"evidence_pct\":");
            put_f64(out, Some(c.evidence_pct));
            out.push(b'}');
        };
        out.extend_from_slice(b"},\"coverage\":{");
        for (j, a) in applies.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            if words[j].0 == b"nis2" {
                out.extend_from_slice(b"\"nis2\":");
                cover(out, &a.0);
                out.extend_from_slice(b",\"nis2_art21\":");
                cover(out, &and(&a.0, &fl.nis2_art21));
            } else {
                out.extend_from_slice(b"\"soc2\":");
                cover(out, &a.0);
            }
        }
        out.push(b'}');

        // Notes: actions later than their deadline; work beyond the 12-month horizon.
        let horizon = load[2] > timeline.weeks_per_phase;
        if late > 0 || horizon {
            out.extend_from_slice(b",\"notes\":[");
            if late > 0 {
                out.push(b'"');
                put_int(out, late);
                out.extend_from_slice(&self.late_note);
                out.push(b'"');
            }
            if horizon {
                if late > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"the work exceeds the 12-month horizon: about ");
                // As `{:.0}` writes it: to the nearest whole number, ties to even.
                put_int(out, load[2].round_ties_even() as u64);
                out.extend_from_slice(&self.horizon_note);
                out.push(b'"');
            }
            out.push(b']');
        }
        out.extend_from_slice(b"}}\n");
    }
}

/// Facts the generator does not write, for the direct floor's guard: 300 of the sample's, each
/// changed in one of ten ways: an id or a name with one character serde_json escapes (a quote,
/// a backslash, a control character) or writes as it is (DEL, non-ASCII, `/`), or no name;
/// figures with a fraction, missing, or large enough for an exponent; a customer's demand of a
/// SOC 2 Type 2, of a Type 1, of ISO 27001 only; controls as a list, or every control declared
/// at 0 (the notes of late actions and of the horizon); establishment outside the member states
/// first; an Annex type of each kind at once.
fn direct_variants(floor: &Floor, sample: &[Facts]) -> Vec<Facts> {
    /// One of each kind of character serde_json escapes, or writes as it is, per string.
    const TRICKY: [&str; 10] = [
        "\"",
        "\\",
        "\n",
        "\t",
        "\u{0}",
        "\u{1f}",
        "\u{7f}",
        "é☃\u{2028}",
        "/",
        "</script>",
    ];
    let ids = || floor.catalogue.iter().map(|c| CompactString::from(c.id));
    let demands = |soc2: Option<&str>, iso27001| {
        Some(assay::facts::CustomerDemands {
            soc2: soc2.map(Into::into),
            iso27001,
        })
    };
    let list = |items: &[&str]| Some(items.iter().map(|&s| s.into()).collect());
    sample
        .iter()
        .take(300)
        .enumerate()
        .map(|(i, f)| {
            let mut f = f.clone();
            match i % 10 {
                0 => {
                    f.id = format!("org {i}{}", TRICKY[i / 10 % TRICKY.len()]).into();
                    f.name = None;
                }
                1 => {
                    f.name = Some(format!("name {}", TRICKY[(i / 10 + 5) % TRICKY.len()]).into());
                    f.employees = Some(12.5 + i as f64);
                }
                2 => {
                    f.employees = None;
                    f.annual_turnover_eur = Some(1e17 + i as f64 * 1e15);
                    f.balance_sheet_eur = Some(2.5e21);
                }
                3 => {
                    f.service_organisation = Some(true);
                    f.customer_demands = demands(Some("type2"), None);
                }
                4 => {
                    f.service_organisation = Some(true);
                    f.customer_demands = demands(Some("type1"), Some(true));
                    f.customer_segments = list(&["enterprise"]);
                }
                5 => {
                    f.service_organisation = Some(true);
                    f.customer_demands = demands(None, Some(true));
                    f.availability_commitments = Some(true);
                }
                6 => {
                    let ids: Vec<CompactString> = ids().step_by(1 + i % 3).collect();
                    f.controls = Some(assay::facts::Controls::List(ids));
                }
                7 => {
                    let state = assay::facts::ControlState {
                        maturity: Some(0),
                        documented: None,
                    };
                    let map = ids().map(|id| (id, state)).collect();
                    f.controls = Some(assay::facts::Controls::Map(map));
                    f.service_organisation = Some(true);
                    f.customer_regions = list(&["US"]);
                    f.data_handled = list(&["confidential_business"]);
                    f.service_models = list(&["iaas"]);
                }
                8 => f.established_in = list(&["XX", "US", "FR", "DE"]),
                _ => {
                    f.employees = Some(0.0);
                    f.activities = Some(
                        ["dns_service_provider", "other", "machinery_manufacturer"]
                            .into_iter()
                            .take(1 + i % 3)
                            .map(|t| assay::facts::Activity {
                                entity_type: t.into(),
                                ..Default::default()
                            })
                            .collect(),
                    );
                }
            }
            f
        })
        .collect()
}

/// The guard of the direct floor: its bytes against `Floor::record`'s encoded by the workers'
/// encoder, for each `(line, facts)`; panics at the first line that differs, with the bytes
/// around the first difference, and when given no records. The number of records compared.
fn check_direct(
    floor: &Floor,
    direct: &Direct,
    packs: &'static [PackRef],
    records: impl IntoIterator<Item = (usize, Facts)>,
) -> usize {
    let mut mine = Vec::with_capacity(8192);
    let mut compared = 0;
    for (line, f) in records {
        mine.clear();
        direct.write(&f, line, &mut mine);
        let theirs = match OutputFormat::Jsonl.encode(&floor.record(f, line, packs, AS_OF)) {
            Some(Ok(bytes)) => bytes,
            _ => panic!("the floor's record did not encode"),
        };
        if mine != theirs {
            let at = mine
                .iter()
                .zip(&theirs)
                .position(|(a, b)| a != b)
                .unwrap_or(mine.len().min(theirs.len()));
            let around = |bytes: &[u8]| {
                String::from_utf8_lossy(&bytes[at.saturating_sub(80)..(at + 80).min(bytes.len())])
                    .into_owned()
            };
            panic!(
                "Direct::write differs from Floor::record encoded on line {line}, at byte {at} \
                 ({} B against {} B):\n  direct: …{}…\n  record: …{}…",
                mine.len(),
                theirs.len(),
                around(&mine),
                around(&theirs)
            );
        }
        compared += 1;
    }
    assert!(
        compared > 0,
        "the direct floor's guard was given no records: it would pass whatever Direct::write \
         writes"
    );
    compared
}

/// The floors' batch: the lines of `text` in chunks of the pipeline's size on `pool`'s threads,
/// each chunk written into a buffer of its own by `write(line number, line, buffer)` (about
/// `bytes` a record); the bytes written.
fn by_line(
    pool: &rayon::ThreadPool,
    text: &str,
    bytes: usize,
    write: impl Fn(usize, &str, &mut Vec<u8>) + Sync,
) -> usize {
    pool.install(|| {
        let lines: Vec<&str> = text.lines().collect();
        let out: Vec<Vec<u8>> = lines
            .par_chunks(assay::pipeline::CHUNK)
            .enumerate()
            .map(|(k, chunk)| {
                let mut out = Vec::with_capacity(chunk.len() * bytes);
                for (i, line) in chunk.iter().enumerate() {
                    write(k * assay::pipeline::CHUNK + i + 1, line, &mut out);
                }
                out
            })
            .collect();
        out.iter().map(Vec::len).sum()
    })
}

/// The paired ratios' summary: their number, median with a distribution-free 95 % interval
/// (the order statistics n/2 ± 0.98 √n, the normal approximation to the binomial ranks, fair
/// from about ten pairs), quartiles, range, and how many pairs were above 4 (DESIGN.md's bound:
/// "within 4× of the plain-Rust floor measured in the same benchmark run"). None without pairs.
fn paired_summary(mut ratios: Vec<f64>) -> Option<String> {
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let n = ratios.len();
    // The value at a fraction of the way through the sorted ratios, by nearest rank.
    let at = |q: f64| ratios[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
    let half_width = 0.98 * (n as f64).sqrt();
    let rank = |r: f64| ratios[(r.round() as usize).clamp(1, n) - 1];
    Some(format!(
        "{n} pairs: ratio median {:.2} (95 % interval {:.2}-{:.2}), quartiles {:.2}-{:.2}, \
         range {:.2}-{:.2}, above 4 in {} of {n}",
        at(0.5),
        rank(n as f64 / 2.0 - half_width),
        rank(n as f64 / 2.0 + 1.0 + half_width),
        at(0.25),
        at(0.75),
        ratios[0],
        ratios[n - 1],
        ratios.iter().filter(|&&r| r > 4.0).count()
    ))
}

/// Measures `each` on every organisation of `facts`, given a copy of it: the copies are made
/// outside the measurement and dropped inside it, one by one, as the floors that take their
/// facts by value need.
fn on_copies(b: &mut criterion::Bencher, facts: &[Facts], mut each: impl FnMut(Facts) -> usize) {
    b.iter_batched(
        || facts.to_vec(),
        |facts| facts.into_iter().map(&mut each).sum::<usize>(),
        criterion::BatchSize::LargeInput,
    )
}

/// mimalloc's `mi_option_purge_delay` (its `mimalloc.h`: the option after
/// `mi_option_eager_commit_delay`, 14, which `libmimalloc-sys` names; it does not name this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn bench(c: &mut Criterion) {
    // The batch benches hold their whole output in memory (400 MB a run), which `assay` streams
    // out. mimalloc hands memory freed more than 10 ms ago back to the kernel, and the next
    // run then pays a page fault for every 4 KB of it again: the direct floor, whose 196 chunk
    // buffers come and go over a run, paid about 23 ms of its 143 ms that way (page faults
    // 702 k against 147 k, session 19), the pipeline, whose single output buffer is freed and
    // taken again at once, nothing. Keeping freed memory for a second spares both the kernel's
    // share of a harness that `assay` does not have.
    // SAFETY: sets one of mimalloc's documented options, before anything is measured; the
    // option only decides when freed memory is returned.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1_000) };
    let evaluator = Evaluator::new(PackSet::shipped().expect("packs")).expect("compile");
    let mut nis2_only = PackSet::shipped().expect("packs");
    nis2_only.packs.retain(|id, _| id == "nis2");
    let nis2_evaluator = Evaluator::new(nis2_only).expect("compile");
    let floor = Floor::new(AS_OF);
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

    // Per organisation: NIS2 + SOC 2 + plan, against the plain-Rust floor of the decisions (the
    // class, the SOC 2 need and criteria and a count of gaps; no record).
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
    // The same `Assessment` built by the record floor, as `rule_packs` builds it with the
    // packs; the facts it takes are copied outside the measurement.
    let record_packs = evaluator.pack_refs();
    group.bench_function("floor_record", |b| {
        on_copies(b, &facts, |f| {
            floor
                .record(black_box(f), 1, record_packs, AS_OF)
                .errors
                .len()
        })
    });
    // The same record as bytes, written by the direct floor: the decisions, the record's
    // content and its JSON, what `floor_record` and then `OutputFormat::Jsonl.encode` do
    // between them (the encoder also allocates a buffer per record; this writes into one,
    // cleared for each organisation). As for `floor_record`, the facts are copied outside the
    // measurement and dropped inside it, one by one.
    let direct = Direct::new(&floor, record_packs);
    // Not measured: the guard that makes it a floor of the same work (`check_direct`).
    let compared = check_direct(
        &floor,
        &direct,
        record_packs,
        facts
            .iter()
            .cloned()
            .chain(direct_variants(&floor, &facts))
            .enumerate()
            .map(|(i, f)| (i + 1, f)),
    );
    eprintln!(
        "floor_direct: the same bytes as the record floor's on {compared} records (the sample \
         and 300 variants)"
    );
    let mut buffer = Vec::with_capacity(8192);
    group.bench_function("floor_direct", |b| {
        on_copies(b, &facts, |f| {
            buffer.clear();
            direct.write(black_box(&f), 1, &mut buffer);
            buffer.len()
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

    // The floor's record against the pipeline's, in bytes, on the 1,000-organisation sample,
    // overall and by classification: the record floor is only a fair floor if it writes about
    // as much. Printed once, outside any measurement.
    let packs = evaluator.pack_refs();
    let encoded = |a: &Assessment| match OutputFormat::Jsonl.encode(a) {
        Some(Ok(bytes)) => bytes.len(),
        _ => 0,
    };
    let class_of = |a: &Assessment| {
        a.nis2
            .as_ref()
            .map_or("error", |n| n.classification.as_str())
    };
    let mut sizes: std::collections::BTreeMap<&str, [(usize, usize); 2]> = Default::default();
    // The first floor record of each set of decisions, encoded: what the bound below copies.
    let mut copies: std::collections::HashMap<(&str, bool, u8), Vec<u8>> = Default::default();
    for (i, f) in facts.iter().enumerate() {
        let a = floor.record(f.clone(), i + 1, packs, AS_OF);
        let bytes = match OutputFormat::Jsonl.encode(&a) {
            Some(Ok(bytes)) => bytes,
            _ => panic!("the floor's record did not encode"),
        };
        let entry = &mut sizes.entry(class_of(&a)).or_default()[0];
        *entry = (entry.0 + 1, entry.1 + bytes.len());
        copies.entry(floor_decide(f)).or_insert(bytes);
    }
    let sample_text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let format = assay::read::Format::Jsonl;
    for a in assay::pipeline::assess_text(&sample_text, format, &evaluator, &validator, AS_OF) {
        let entry = &mut sizes.entry(class_of(&a)).or_default()[1];
        *entry = (entry.0 + 1, entry.1 + encoded(&a));
    }
    let mean = |(n, bytes): (usize, usize)| bytes as f64 / n.max(1) as f64;
    let total = |k: usize| {
        sizes
            .values()
            .fold((0, 0), |(n, b), s| (n + s[k].0, b + s[k].1))
    };
    let (floor_mean, pipeline_mean) = (mean(total(0)), mean(total(1)));
    eprintln!(
        "record bytes per organisation ({} sample): floor {floor_mean:.0}, pipeline \
         {pipeline_mean:.0} ({:+.1} %)",
        facts.len(),
        (floor_mean / pipeline_mean - 1.0) * 100.0
    );
    for (class, [f, p]) in &sizes {
        eprintln!(
            "  {class:<13} floor {:>5} records {:>6.0} B   pipeline {:>5} records {:>6.0} B",
            f.0,
            mean(*f),
            p.0,
            mean(*p)
        );
    }
    // The ratio compares like with like only while the two records are of a size: a floor
    // that wrote more than the pipeline would flatter it, one that wrote much less would no
    // longer be the same work. The bench refuses to measure either.
    assert!(
        floor_mean <= pipeline_mean && floor_mean >= pipeline_mean * 0.85,
        "the record floor writes {floor_mean:.0} B a record against the pipeline's \
         {pipeline_mean:.0} B: Floor::record must write no more than the pipeline's record and \
         at least 85 % of it"
    );

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
    // Not measured: the direct floor's bytes against the record floor's on the batch's first
    // 20,000 lines, numbered as `by_line` numbers them.
    let compared = check_direct(
        &floor,
        &direct,
        packs,
        text.lines()
            .take(20_000)
            .enumerate()
            .map(|(i, line)| (i + 1, serde_json::from_str(line).expect("facts"))),
    );
    eprintln!(
        "floor_direct: the same bytes as the record floor's on the batch's first {compared} lines"
    );

    // Not a floor but a bound under every floor that writes the record: each line parsed and
    // decided as the floors do, then the encoded floor record of a sample organisation with the
    // same decisions copied out whole, as if putting together and encoding the record's
    // content cost nothing.
    let any_copy = copies.values().next().expect("a record").clone();
    let copied: usize = facts
        .iter()
        .map(|f| copies.get(&floor_decide(f)).unwrap_or(&any_copy).len())
        .sum();
    eprintln!(
        "bound_parse_decide_copy copies {:.0} B a record on the sample ({} distinct records)",
        copied as f64 / facts.len() as f64,
        copies.len()
    );

    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    for (threads, pool) in [(1, &one), (2, &pool)] {
        group.bench_with_input(
            BenchmarkId::new(format!("bound_parse_decide_copy/{threads}"), n),
            &text,
            |b, text| {
                b.iter(|| {
                    by_line(pool, text, 4096, |_, line, out| {
                        let f: Facts = serde_json::from_str(line).expect("facts");
                        out.extend_from_slice(copies.get(&floor_decide(&f)).unwrap_or(&any_copy));
                    })
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new(format!("floor_parse_decide_write/{threads}"), n),
            &text,
            |b, text| {
                b.iter(|| {
                    by_line(pool, text, 64, |_, line, out| {
                        let f: Facts = serde_json::from_str(line).expect("facts");
                        serde_json::to_writer(&mut *out, &(f.id.as_str(), floor.full(&f)))
                            .expect("write");
                        out.push(b'\n');
                    })
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new(format!("floor_parse_decide_write_record/{threads}"), n),
            &text,
            |b, text| {
                b.iter(|| {
                    by_line(pool, text, 4096, |at, line, out| {
                        let f: Facts = serde_json::from_str(line).expect("facts");
                        let record = floor.record(f, at, packs, AS_OF);
                        // The workers' encoder; its line ends with its newline.
                        match OutputFormat::Jsonl.encode(&record) {
                            Some(Ok(bytes)) => out.extend_from_slice(&bytes),
                            _ => panic!("the record did not encode"),
                        }
                    })
                })
            },
        );
        let direct_floor = || {
            by_line(pool, &text, 4096, |at, line, out| {
                let f: Facts = serde_json::from_str(line).expect("facts");
                // The record floor's bytes, line end included, written in place.
                direct.write(&f, at, out);
            })
        };
        // The output is about nine times the input (4 KB records). One buffer serves every
        // run: the allocator gave the same memory back between criterion's runs of the
        // pipeline alone, but not after a run of the floor in between (see the pairs below).
        let output = std::cell::RefCell::new(Vec::with_capacity(text.len() * 10));
        let pipeline = || {
            let mut bytes = output.borrow_mut();
            bytes.clear();
            let w = Writer::new(&mut *bytes, OutputFormat::Jsonl);
            // As `assay assess` runs it (engine/src/main.rs): each worker serialises its
            // records, a thread of the writer's own copies them out in order.
            let (run, written) = w.on_own_thread(|sink| {
                pool.install(|| {
                    assay::pipeline::run_finished(
                        &input,
                        &cx,
                        &options,
                        &|_, _| {},
                        &|a| OutputFormat::Jsonl.prepare(a),
                        sink,
                    )
                })
            });
            run.map_err(|_| "the batch stopped").expect("batch");
            written.and_then(Writer::finish).expect("write");
            bytes.len()
        };
        group.bench_function(
            BenchmarkId::new(format!("floor_parse_decide_write_direct/{threads}"), n),
            |b| b.iter(direct_floor),
        );
        group.bench_function(BenchmarkId::new(format!("pipeline/{threads}"), n), |b| {
            b.iter(pipeline)
        });
        // The ratio itself, pair by pair. The two measurements above are seconds apart, and on
        // a machine whose speed drifts between them (session 18's direct floor took 134-336 ms
        // from one run to the next) a single run's ratio moves with the drift. Here each pair
        // runs the direct floor and the pipeline one right after the other, in alternating
        // order, and the ratio is taken within the pair. criterion times the pipeline's half;
        // every pair's ratio, warm-up included, is kept and summarised below.
        let ratios = std::cell::RefCell::new(Vec::new());
        group.bench_function(
            BenchmarkId::new(format!("pipeline_paired_with_direct_floor/{threads}"), n),
            |b| {
                b.iter_custom(|iters| {
                    let timed = |run: &dyn Fn() -> usize| {
                        let start = Instant::now();
                        black_box(run());
                        start.elapsed()
                    };
                    let mut pipeline_time = Duration::ZERO;
                    for _ in 0..iters {
                        let floor_first = ratios.borrow().len() % 2 == 0;
                        let (floor_time, time) = if floor_first {
                            let floor_time = timed(&direct_floor);
                            (floor_time, timed(&pipeline))
                        } else {
                            let time = timed(&pipeline);
                            (timed(&direct_floor), time)
                        };
                        ratios
                            .borrow_mut()
                            .push(time.as_secs_f64() / floor_time.as_secs_f64());
                        pipeline_time += time;
                    }
                    pipeline_time
                })
            },
        );
        if let Some(summary) = paired_summary(ratios.into_inner()) {
            eprintln!(
                "pipeline/{threads} over floor_parse_decide_write_direct/{threads}, {summary}"
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
