//! The short way through validation (`Validator::validate_json`, a JSON line parsed straight
//! into facts) against the long way (`Validator::validate`: a JSON value, the facts schema,
//! then the same semantic checks). The long way is the reference: the schema is the contract
//! of DESIGN.md "Facts (input contract)". Wherever the short way accepts a record, the long way
//! must accept it too, with the same facts and no warning; and the short way must accept the
//! valid records of the scenario cases and of a generated portfolio, so that it is the way most
//! records take. Records with fields of their own always go the long way, which warns about
//! those that look misspelt.
//!
//! The records: every case of `fixtures/cases/` (copied from shared/cases), the JSON lines of
//! `fixtures/bad-records.jsonl`, a generated portfolio, and every variant of some of them in
//! which one value is replaced by a value of another type, out of bounds, outside an
//! enumeration or null, or removed, or an unknown field is added.

use assay::evaluate::Evaluator;
use assay::pack::PackSet;
use assay::validate::Validator;
use serde_json::{json, Value};

/// The top-level fields of `schemas/facts.schema.json`, the facts fields.
fn facts_fields() -> Vec<String> {
    let schema: Value = serde_json::from_str(include_str!("../../schemas/facts.schema.json"))
        .expect("the facts schema is JSON");
    schema["properties"]
        .as_object()
        .expect("the schema lists the facts fields")
        .keys()
        .cloned()
        .collect()
}

struct Both {
    validator: Validator,
    evaluator: Evaluator,
    facts_fields: Vec<String>,
}

/// What a check found: whether the short way accepted the record.
#[derive(Default)]
struct Tally {
    records: usize,
    long_accepts: usize,
    short_accepts: usize,
}

impl Both {
    fn new() -> Both {
        Both {
            validator: Validator::new(),
            evaluator: Evaluator::new(PackSet::shipped().expect("packs")).expect("compile"),
            facts_fields: facts_fields(),
        }
    }

    /// Checks one record's text; returns whether (long, short) accepted it.
    fn check(&self, text: &str) -> (bool, bool) {
        let vocabulary = &self.evaluator.nis2.vocabulary;
        let short = self.validator.validate_json(text, 7, vocabulary);
        let value: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            // Not one JSON object: the reader makes it an error record before validation.
            _ => {
                assert!(short.is_none(), "short way accepted a non-object: {text}");
                return (false, false);
            }
        };
        let long = self.validator.validate(&value, 7, vocabulary);
        let long_typos = self.validator.likely_typos(&value);
        if let Some(facts) = &short {
            let Ok(expected) = &long else {
                panic!(
                    "the short way accepted what the schema refuses ({:?}): {text}",
                    long.err()
                );
            };
            assert_eq!(
                format!("{facts:?}"),
                format!("{expected:?}"),
                "facts differ: {text}"
            );
            assert!(long_typos.is_empty(), "the long way warns: {text}");
            let own_fields = value
                .as_object()
                .is_some_and(|o| o.keys().any(|k| !self.facts_fields.contains(k)));
            assert!(
                !own_fields,
                "the short way took a record's own field: {text}"
            );
        }
        (long.is_ok(), short.is_some())
    }

    fn tally(&self, texts: impl IntoIterator<Item = String>) -> Tally {
        let mut t = Tally::default();
        for text in texts {
            let (long, short) = self.check(&text);
            t.records += 1;
            t.long_accepts += long as usize;
            t.short_accepts += short as usize;
        }
        t
    }
}

/// The facts objects of the scenario cases.
fn case_facts() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/cases");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixtures/cases") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("case file");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("a case is JSON");
            match &case["facts"] {
                Value::Array(list) => all.extend(list.iter().cloned()),
                f @ Value::Object(_) => all.push(f.clone()),
                _ => {}
            }
        }
    }
    assert!(all.len() >= 55, "the 55 cases of shared/cases are there");
    all
}

// Valid records go the short way, with the facts of the long way.
#[test]
fn valid_records_take_the_short_way_with_the_same_facts() {
    let both = Both::new();
    let mut records = case_facts();
    records.extend(assay::gen::portfolio(2_000, 5));
    records.extend(every_field());
    let mut t = Tally::default();
    for r in &records {
        let (long, short) = both.check(&r.to_string());
        assert_eq!(
            short, long,
            "a record the schema accepts goes the short way: {r}"
        );
        t.records += 1;
        t.short_accepts += short as usize;
    }
    assert!(
        t.short_accepts > 2_000,
        "{} of {}",
        t.short_accepts,
        t.records
    );
}

// A record's own fields (the contract lets it carry them) send it the long way, which reads
// them and warns about one that looks like a misspelt facts field (`employes`); one nested
// deeper than serde_json reads into a value (128 levels) makes the record unreadable there, and
// so it must be here too, although skipping the field would not notice the depth.
#[test]
fn records_with_their_own_fields_take_the_long_way() {
    let both = Both::new();
    let mut typo = case_facts()[0].clone();
    typo["employes"] = json!(12);
    typo["crm_owner"] = json!("Ann");
    assert_eq!(both.check(&typo.to_string()), (true, false));
    let warnings = both.validator.likely_typos(&typo);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("`employes`"), "{warnings:?}");
    // The next record with the same keys (a spreadsheet's next row) is answered from what the
    // worker found for the first, with the same words; a new misspelling is still found.
    assert_eq!(both.validator.likely_typos(&typo), warnings);
    typo["balance_sheet_euro"] = json!(1);
    let more = both.validator.likely_typos(&typo);
    assert_eq!(more.len(), 2, "{more:?}");
    assert!(
        more.iter()
            .any(|w| w.contains("did you mean `balance_sheet_eur`")),
        "{more:?}"
    );

    let mut deep = case_facts()[0].to_string();
    deep.pop();
    deep.push_str(&format!(r#","x":{}{}}}"#, "[".repeat(200), "]".repeat(200)));
    assert!(
        serde_json::from_str::<Value>(&deep).is_err(),
        "too deep for a JSON value"
    );
    assert_eq!(both.check(&deep), (false, false));
}

// fixtures/bad-records.jsonl: each line is broken in its own way (a wrong type, an unknown
// entity type, a country that is no ISO code, text that is not JSON...).
#[test]
fn broken_records_are_left_to_the_long_way() {
    let both = Both::new();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/bad-records.jsonl"
    ))
    .expect("fixture");
    let t = both.tally(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from),
    );
    assert!(t.records > t.long_accepts, "the fixture has broken records");
}

// serde reads a struct from a JSON array too, field by field in declaration order; the reader
// takes one JSON object per organisation (DESIGN.md "Facts"), so an array with a value for
// every field is still an error record, the long way.
#[test]
fn an_array_with_every_field_in_order_is_not_facts() {
    let both = Both::new();
    let fields = [
        json!("arr-1"),
        json!("Array Ltd"),
        json!(["DE"]),
        json!({}),
        json!("DE"),
        json!(["DE"]),
        json!("private"),
        json!("central"),
        json!(false),
        json!(10),
        json!(1000000),
        json!(1000000),
        json!({}),
        json!([]),
        json!([]),
        json!([]),
        json!([]),
        json!(false),
        json!({}),
        json!(false),
        json!([]),
        json!([]),
        json!([]),
        json!({}),
        json!([]),
        json!(false),
        json!(false),
        json!([]),
        json!([]),
    ];
    let text = Value::Array(fields.to_vec()).to_string();
    assert_eq!(both.check(&text), (false, false), "{text}");
}

/// Every place in `v` (as a path of keys and indexes), parents before children.
fn places(v: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let mut p = at.clone();
                p.push(json!(k));
                places(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let mut p = at.clone();
                p.push(json!(i));
                places(child, p, out);
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

/// The variants of `record`: each value replaced by each of `others`, each member or element
/// removed, an unknown field added to each object.
fn variants(record: &Value) -> Vec<String> {
    let others = [
        Value::Null,
        json!(""),
        json!("x"),
        json!("DE"),
        json!("de"),
        json!("2026-12-04"),
        json!("2026-13-4"),
        json!("2026-1-04"),
        json!("DEU"),
        json!("type2"),
        json!("partner"),
        json!(-1),
        json!(0),
        json!(3),
        json!(3.5),
        // JSON Schema's `integer` takes 3.0 as it takes 3.
        json!(3.0),
        json!(5),
        json!(100),
        json!(100.5),
        json!(1e300),
        json!(true),
        json!([]),
        json!(["x"]),
        json!({}),
        json!({"maturity": 9}),
        // Objects written as arrays of their values, in the order of the struct's fields.
        json!([110, 28000000, 19000000]),
        json!(["all-0", 30, 30, null, null]),
        json!(["BE", "FR", "FR"]),
    ];
    let mut paths = Vec::new();
    places(record, Vec::new(), &mut paths);
    let mut out = Vec::new();
    for path in &paths {
        if path.is_empty() {
            continue;
        }
        for other in &others {
            let mut v = record.clone();
            *at_mut(&mut v, path) = other.clone();
            out.push(v.to_string());
        }
        let mut v = record.clone();
        let (last, parent) = path.split_last().unwrap();
        match (at_mut(&mut v, parent), last) {
            (Value::Object(m), Value::String(k)) => {
                m.shift_remove(k);
            }
            (Value::Array(a), Value::Number(i)) => {
                a.remove(i.as_u64().unwrap() as usize);
            }
            _ => unreachable!(),
        }
        out.push(v.to_string());
    }
    for path in &paths {
        let mut v = record.clone();
        if let Value::Object(m) = at_mut(&mut v, path) {
            m.insert("sectr".into(), json!("energy"));
            out.push(v.to_string());
        }
    }
    out
}

/// A record with every field of the facts schema, so that every keyword of the schema has a
/// value to break; with `controls` as a map, and the same with `controls` as a list.
fn every_field() -> [Value; 2] {
    let full = json!({
        "id": "all-1",
        "name": "Every Field SA",
        "established_in": ["BE", "FR"],
        "main_establishment": {
            "cyber_decisions_in": "BE",
            "cyber_operations_in": "FR",
            "largest_workforce_in": "FR"
        },
        "eu_representative_in": "BE",
        "provides_services_in": ["BE", "FR", "DE"],
        "public_or_private": "private",
        "public_administration_level": "regional",
        "national_security_activities": false,
        "employees": 120,
        "annual_turnover_eur": 30000000,
        "balance_sheet_eur": 20000000.5,
        "previous_period": {
            "employees": 110, "annual_turnover_eur": 28000000, "balance_sheet_eur": 19000000
        },
        "activities": [{
            "sector": "digital_infrastructure",
            "subsector": "digital_infrastructure",
            "entity_type": "cloud_computing_service_provider"
        }],
        "nace_codes": ["63.11"],
        "owners": [
            {"id": "all-0", "share_pct": 30, "voting_pct": 30, "investor": "business_angel"},
            {"id": "all-2", "share_pct": 60, "control": "board_majority"}
        ],
        "linked_enterprises": [{
            "name": "Outside BV", "relation": "partner", "share_pct": 40, "employees": 10,
            "annual_turnover_eur": 1000000, "balance_sheet_eur": 900000,
            "previous_period": {"employees": 9}
        }],
        "nis_independent_of_group": true,
        "designations": {
            "nis1_operator_of_essential_services": false,
            "cer_critical_entity": false,
            "member_state": "important"
        },
        "service_organisation": true,
        "service_models": ["saas", "hosting"],
        "customer_regions": ["EU", "US"],
        "customer_segments": ["enterprise", "consumer"],
        "customer_demands": {"soc2": "type2", "iso27001": true},
        "data_handled": ["personal_data", "payment"],
        "availability_commitments": true,
        "supplies_nis2_entities": true,
        "certifications": [
            {
                "scheme": "iso27001", "edition": "2022", "expires": "2027-06-30",
                "scope_covers_services": true
            },
            {
                "scheme": "soc2", "type": "type1", "period_end": "2026-03-31",
                "criteria": ["security", "availability"]
            }
        ],
        "controls": {"C.5": {"maturity": 2, "documented": true}, "C.6": {"maturity": 4}}
    });
    let mut listed = full.clone();
    listed["id"] = json!("all-3");
    listed["controls"] = json!(["C.5", "C.6"]);
    [full, listed]
}

// The short way never accepts a variant the schema refuses, and agrees on those it accepts.
#[test]
fn broken_variants_are_never_accepted_the_short_way() {
    let both = Both::new();
    let mut bases = case_facts();
    bases.extend(every_field());
    bases.extend(assay::gen::portfolio(60, 9));
    let mut total = Tally::default();
    for base in &bases {
        let t = both.tally(variants(base));
        total.records += t.records;
        total.long_accepts += t.long_accepts;
        total.short_accepts += t.short_accepts;
    }
    // The variants are both kinds: many are refused, many still valid (a changed name, a
    // removed optional field), and those mostly go the short way.
    assert!(total.records > 50_000, "{} variants", total.records);
    assert!(total.long_accepts > total.records / 10);
    assert!(total.long_accepts < total.records);
    assert!(
        total.short_accepts * 10 > total.long_accepts * 9,
        "{} of {} valid variants went the short way",
        total.short_accepts,
        total.long_accepts
    );
}

// JSON Schema 2020-12 (Validation, section 6.1.1): `integer` matches any number with a zero
// fractional part, so a maturity written 3.0 is valid and is read as 3, both ways.
#[test]
fn a_maturity_written_with_a_zero_fraction_is_that_whole_number() {
    let both = Both::new();
    let mut record = every_field()[0].clone();
    record["controls"] = json!({"C.5": {"maturity": 3.0}});
    let text = record.to_string();
    assert!(text.contains("3.0"), "{text}");
    assert_eq!(both.check(&text), (true, true));
    let facts = both
        .validator
        .validate_json(&text, 1, &both.evaluator.nis2.vocabulary)
        .expect("valid");
    let Some(assay::facts::Controls::Map(states)) = facts.controls else {
        panic!("controls as a map");
    };
    assert_eq!(states["C.5"].maturity, Some(3));
}
