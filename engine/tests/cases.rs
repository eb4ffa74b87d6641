//! The scenario cases of `fixtures/cases/` (copied unchanged from shared/cases): each line has
//! facts, the expected outcome and its legal basis (`basis`), which the failure message repeats.

mod common;

use assay::read::Format;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

struct Case {
    facts: Value,
    expected: Value,
    basis: String,
    batch: Option<String>,
}

fn cases(file: &str) -> Vec<Case> {
    fixture(&format!("cases/{file}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("case line is JSON");
            Case {
                facts: v["facts"].clone(),
                expected: v["expected"].clone(),
                basis: v["basis"].as_str().unwrap_or_default().to_string(),
                batch: v["batch"].as_str().map(String::from),
            }
        })
        .collect()
}

/// Assesses the cases, those sharing a `batch` together, and checks the NIS2 expectations.
fn check_nis2(file: &str) -> usize {
    let all = cases(file);
    let mut batches: BTreeMap<String, Vec<&Case>> = BTreeMap::new();
    for (i, c) in all.iter().enumerate() {
        let key = c.batch.clone().unwrap_or_else(|| format!("single-{i:04}"));
        batches.entry(key).or_default().push(c);
    }
    let mut failures = Vec::new();
    for batch in batches.values() {
        let text: String = batch.iter().map(|c| format!("{}\n", c.facts)).collect();
        let out = assess(&text, Format::Jsonl);
        assert_eq!(out.len(), batch.len());
        for (case, a) in batch.iter().zip(&out) {
            let id = case.facts["id"].as_str().unwrap_or("?");
            let Some(n) = &a.nis2 else {
                failures.push(format!("{id}: error record {:?}", a.errors));
                continue;
            };
            if let Some(want) = case.expected["nis2"].as_str() {
                if n.classification.as_str() != want {
                    failures.push(format!(
                        "{id}: expected {want}, got {} (grounds {:?}); basis: {}",
                        n.classification.as_str(),
                        n.grounds.iter().map(|g| &g.rule).collect::<Vec<_>>(),
                        case.basis
                    ));
                }
            }
            if let Some(want) = case.expected["jurisdiction"].as_array() {
                let want: Vec<&str> = want.iter().filter_map(Value::as_str).collect();
                if n.jurisdiction != want {
                    failures.push(format!(
                        "{id}: jurisdiction expected {want:?}, got {:?}; basis: {}",
                        n.jurisdiction, case.basis
                    ));
                }
            }
            if case.expected["supplier_exposure"].as_bool() == Some(true)
                && n.supplier_exposure.is_none()
            {
                failures.push(format!(
                    "{id}: expected supplier exposure; basis: {}",
                    case.basis
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    all.len()
}

#[test]
fn nis2_scope_cases() {
    assert_eq!(check_nis2("nis2-scope.jsonl"), 35);
}

#[test]
fn nis2_special_cases() {
    assert_eq!(check_nis2("nis2-special.jsonl"), 8);
}

#[test]
fn group_cases() {
    assert_eq!(check_nis2("groups.jsonl"), 5);
}

#[test]
fn supplier_cases() {
    assert_eq!(check_nis2("supplier.jsonl"), 1);
}

/// Cases that name the facts that would settle them: DESIGN.md "Facts", and the case basis.
#[test]
fn undetermined_cases_name_what_settles_them() {
    let by_id = |file: &str, id: &str| {
        cases(file)
            .into_iter()
            .find(|c| c.facts["id"] == id)
            .expect("case exists")
            .facts
    };
    // ex-02: Annex I, 140 AWU, no financial figures: "missing both figures".
    let a = assess_one(&by_id("nis2-special.jsonl", "ex-02"));
    assert_eq!(
        a.nis2.as_ref().unwrap().missing,
        vec!["annual_turnover_eur", "balance_sheet_eur"]
    );
    // nis2-001: the member-state choice of Art. 3(1)(g) decides: "naming the choice".
    let a = assess_one(&by_id("nis2-scope.jsonl", "nis2-001"));
    let missing = &a.nis2.as_ref().unwrap().missing;
    assert_eq!(missing.len(), 1);
    assert!(
        missing[0].contains("Art. 3(1)(g)") && missing[0].contains("FR"),
        "{missing:?}"
    );
}

/// Each ceiling of Rec. 2003/361/EC Annex Art. 2 at its exact boundary, through the whole
/// pipeline, for an Annex I type (electricity DSO): small → out of scope (Art. 2(1)), medium →
/// important (Art. 3(2)), large → essential (Art. 3(1)(a)).
#[test]
fn thresholds_at_exact_boundaries() {
    let dso = |employees: f64, turnover: f64, balance: f64| {
        let facts = serde_json::json!({
            "id": "b", "established_in": ["FR"], "provides_services_in": ["FR"],
            "employees": employees, "annual_turnover_eur": turnover, "balance_sheet_eur": balance,
            "activities": [{"entity_type": "electricity_distribution_system_operator"}]
        });
        classification(&assess_one(&facts))
    };
    // Headcount "fewer than 50": 49 is small, 50 is medium.
    assert_eq!(dso(49.0, 1e6, 1e6), "out_of_scope");
    assert_eq!(dso(49.99, 1e6, 1e6), "out_of_scope");
    assert_eq!(dso(50.0, 1e6, 1e6), "important");
    // Headcount "fewer than 250": 249 is medium, 250 is large.
    assert_eq!(dso(249.0, 1e6, 1e6), "important");
    assert_eq!(dso(250.0, 1e6, 1e6), "essential");
    // Small financial ceilings "not exceeding EUR 10 m", either one suffices.
    assert_eq!(dso(30.0, 10_000_000.0, 10_000_000.0), "out_of_scope");
    assert_eq!(dso(30.0, 10_000_001.0, 10_000_000.0), "out_of_scope");
    assert_eq!(dso(30.0, 10_000_000.0, 10_000_001.0), "out_of_scope");
    assert_eq!(dso(30.0, 10_000_001.0, 10_000_001.0), "important");
    // Medium ceilings "not exceeding EUR 50 m" turnover or EUR 43 m balance sheet.
    assert_eq!(dso(120.0, 50_000_000.0, 43_000_000.0), "important");
    assert_eq!(dso(120.0, 50_000_001.0, 43_000_000.0), "important");
    assert_eq!(dso(120.0, 50_000_000.0, 43_000_001.0), "important");
    assert_eq!(dso(120.0, 50_000_001.0, 43_000_001.0), "essential");
}

// NIS2 Art. 34(4): the fine is a share of the worldwide turnover of the undertaking the entity
// belongs to (itself and the enterprises it controls or is controlled by); a 40 % partner is
// counted for size (Rec. 2003/361 Annex Art. 6(2)) but is not part of the undertaking.
#[test]
fn fines_follow_the_undertaking_and_lex_specialis() {
    let base = serde_json::json!({
        "id": "fine-1", "established_in": ["DE"], "provides_services_in": ["DE"],
        "employees": 300, "annual_turnover_eur": 60.0e6, "balance_sheet_eur": 50.0e6,
        "activities": [{"sector": "energy", "subsector": "electricity",
                        "entity_type": "electricity_distribution_system_operator"}],
        "linked_enterprises": [{"name": "Big partner", "relation": "partner", "share_pct": 40,
                                "employees": 9000, "annual_turnover_eur": 5.0e9,
                                "balance_sheet_eur": 4.0e9}]
    });
    let a = assess_one(&base);
    let n = a.nis2.as_ref().unwrap();
    assert_eq!(n.classification.as_str(), "essential");
    // max(EUR 10 m, 2 % of 60 m = 1.2 m) = 10 m; with the partner's turnover it would be 41.2 m.
    assert_eq!(n.max_fine_eur, Some(10_000_000.0));

    // NIS2 Art. 4 and recital 28: DORA displaces Arts. 21 and 23 for a credit institution, so
    // the Art. 34 fines for infringing them do not arise.
    let bank = serde_json::json!({
        "id": "fine-2", "established_in": ["IT"], "provides_services_in": ["IT"],
        "employees": 3000, "annual_turnover_eur": 900.0e6, "balance_sheet_eur": 9.0e9,
        "activities": [{"sector": "banking", "subsector": "banking",
                        "entity_type": "credit_institution"}]
    });
    let a = assess_one(&bank);
    let n = a.nis2.as_ref().unwrap();
    assert_eq!(n.lex_specialis, vec!["DORA"]);
    assert_eq!(n.max_fine_eur, None);

    // NIS2 Art. 34(7): member states decide whether public administration can be fined, so no
    // maximum follows from the directive for a central government entity.
    let ministry = serde_json::json!({
        "id": "fine-4", "established_in": ["DE"], "provides_services_in": ["DE"],
        "public_or_private": "public", "public_administration_level": "central",
        "employees": 900,
        "activities": [{"entity_type": "central_government_public_administration_entity"}]
    });
    let a = assess_one(&ministry);
    let n = a.nis2.as_ref().unwrap();
    assert_eq!(n.classification.as_str(), "essential");
    assert_eq!(n.max_fine_eur, None);
    assert!(
        n.notes.iter().any(|x| x.contains("Art. 34(7)")),
        "{:?}",
        n.notes
    );

    // Activities unknown: DORA is only a candidate, so no sector act is stated.
    let mut unknown = bank.clone();
    unknown["id"] = "fine-3".into();
    unknown.as_object_mut().unwrap().remove("activities");
    let a = assess_one(&unknown);
    assert!(a.nis2.as_ref().unwrap().lex_specialis.is_empty());
}

// DESIGN.md "Facts": 120 AWU with no financial figures is at least medium, so an Annex I entity
// is undetermined (medium or large) — but in scope either way: essential or important.
#[test]
fn undetermined_between_two_in_scope_classes_says_so() {
    let a = assess_one(&serde_json::json!({
        "id": "und-1", "established_in": ["CZ"], "provides_services_in": ["CZ"],
        "employees": 120,
        "activities": [{"entity_type": "gas_distribution_system_operator"}]
    }));
    let n = a.nis2.as_ref().unwrap();
    assert_eq!(n.classification.as_str(), "undetermined");
    let possible: Vec<&str> = n.possible.iter().map(|c| c.as_str()).collect();
    assert_eq!(possible, ["essential", "important"]);
    assert!(
        n.notes.iter().any(|x| x.starts_with("in scope whatever")),
        "{:?}",
        n.notes
    );
}
