//! The remediation plan (DESIGN.md "Remediation plan"; issue 3 item 7): the three worked plans,
//! certificate credit, the supplier case, and properties checked over random control sets.
//!
//! Expected sets are derived from the shipped tables (`rules/controls/tables/*.json`) rather
//! than typed in, so that the tests check the plan against the mapping it claims to follow.

mod common;

use assay::assessment::{Assessment, Plan};
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

fn plan(a: &Assessment) -> &Plan {
    a.plan
        .as_ref()
        .unwrap_or_else(|| panic!("no plan for {:?}: {:?}", a.id, a.errors))
}

fn controls(p: &Plan) -> Vec<&str> {
    p.actions.iter().map(|a| a.control).collect()
}

/// NIS2 Art. 28 binds TLD registries and domain registration services only, so no other entity's
/// plan holds it.
const NIS2_ART28: &str = "nis2:art28";

/// Catalogue control id -> origin (`iso27001`, `nis2`, `soc2`).
fn origins() -> BTreeMap<String, String> {
    table("controls", "catalogue.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["origin"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Controls mapped to any requirement whose id satisfies `pick`.
fn controls_serving(pick: impl Fn(&str) -> bool) -> BTreeSet<String> {
    table("controls", "mapping.json")
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| pick(m["requirement"].as_str().unwrap()))
        .map(|m| m["control"].as_str().unwrap().to_string())
        .collect()
}

/// A large German electricity distribution system operator: essential under NIS2 Art. 3(1)(a)
/// (Annex I, large), EU customers only, not a service organisation (so no SOC 2).
fn essential_dso(id: &str) -> Value {
    json!({
        "id": id, "established_in": ["DE"], "provides_services_in": ["DE"],
        "public_or_private": "private",
        "employees": 400, "annual_turnover_eur": 90.0e6, "balance_sheet_eur": 60.0e6,
        "activities": [{"sector": "energy", "subsector": "electricity",
                        "entity_type": "electricity_distribution_system_operator"}],
        "service_organisation": false, "customer_regions": ["EU"]
    })
}

fn iso_certificate(expires: &str) -> Value {
    json!([{"scheme": "iso27001", "edition": "2022", "expires": expires,
            "scope_covers_services": true}])
}

// Issue 3 (7a): an ISO 27001-certified essential entity: the Art. 23 and Art. 20 items come
// first, and nothing the certificate covers is repeated.
#[test]
fn certified_essential_entity_gets_only_what_iso_lacks() {
    let mut f = essential_dso("plan-a");
    f["certifications"] = iso_certificate("2027-06-30");
    let a = assess_full(&f);
    assert_eq!(classification(&a), "essential");
    let p = plan(&a);
    let origin = origins();
    // Nothing the certificate covers: no clause or Annex A control in the plan.
    for c in controls(p) {
        assert_eq!(origin[c], "nis2", "{c} is covered by the certificate");
    }
    // Every NIS2-only control mapped to a requirement the entity has is listed: the catalogue
    // rows for NIS2 Art. 20, 21, 23 and 27 (reference/mapping.md §1.1: always a gap).
    let want: BTreeSet<String> = controls_serving(|r| r.starts_with("nis2:") && r != NIS2_ART28)
        .into_iter()
        .filter(|c| origin[c] == "nis2")
        .collect();
    let got: BTreeSet<String> = controls(p).iter().map(|c| c.to_string()).collect();
    assert_eq!(got, want);
    // The Art. 20 and Art. 23 items (and registration) come first, before the other NIS2 items.
    let first_other = p
        .actions
        .iter()
        .position(|a| {
            !(a.control.starts_with("N.20") || a.control.starts_with("N.23") || a.control == "N.27")
        })
        .unwrap();
    assert_eq!(first_other, 7, "{:?}", controls(p)); // N.20.1, N.20.2, N.23.1-4, N.27
                                                     // In the order of the plan pack's `first` list: the reporting clocks (24 h, 72 h, one month)
                                                     // from the significance test on, then the Art. 20 duties, then registration.
    let first: Vec<String> = table("plan", "frameworks.json")["first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["control"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        controls(p)[..7],
        first.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert!(p
        .actions
        .iter()
        .all(|a| a.basis == "legal" && a.phase == "now"));

    // Coverage of NIS2 Art. 21 by the certificate alone, from the mapping: per requirement, the
    // share of its mapped controls that are ISO controls, averaged over the 11 requirements.
    let mapping = table("controls", "mapping.json");
    let mut per_req: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for m in mapping.as_array().unwrap() {
        let r = m["requirement"].as_str().unwrap();
        if r.starts_with("nis2:art21") {
            let e = per_req.entry(r).or_default();
            e.1 += 1;
            if origin[m["control"].as_str().unwrap()] == "iso27001" {
                e.0 += 1;
            }
        }
    }
    let want_pct = per_req
        .values()
        .map(|(iso, all)| *iso as f64 / *all as f64)
        .sum::<f64>()
        / per_req.len() as f64
        * 100.0;
    let art21 = &p.coverage["nis2_art21"];
    assert_eq!(art21.requirements, 11);
    assert!((art21.from_certificate_evidence_pct.unwrap() - want_pct).abs() < 0.06);
    // Every ISO link to NIS2 is `partial` (reference/mapping.md §0: evidence towards a
    // requirement, never automatic compliance): the certificate alone meets none of Art. 21.
    // Requirements with some ISO control are evidence-only; those with none (Art. 21(3), served
    // only by N.21.3) stay open.
    let with_iso = per_req.values().filter(|(iso, _)| *iso > 0).count();
    assert_eq!(
        (art21.met, art21.partial, art21.open),
        (0, with_iso, 11 - with_iso)
    );
}

// reference/soc2-iso27001.md B.3: no 2013 certificate is valid after 2025-10-31; only the 2022
// edition maps to the catalogue.
#[test]
fn only_a_2022_certificate_gives_credit() {
    for (edition, credited) in [
        (json!("2022"), true),
        (json!("2013"), false),
        (json!("2005"), false),
        (Value::Null, true), // after 2025-10-31 only 2022 certificates exist; the note says so
    ] {
        let mut f = essential_dso("plan-edition");
        f["certifications"] = iso_certificate("2027-06-30");
        if edition.is_null() {
            f["certifications"][0]
                .as_object_mut()
                .unwrap()
                .remove("edition");
        } else {
            f["certifications"][0]["edition"] = edition.clone();
        }
        let p = assess_full(&f).plan.unwrap();
        assert_eq!(
            p.coverage["nis2"].from_certificate_evidence_pct.is_some(),
            credited,
            "{edition}: {:?}",
            p.notes
        );
    }
}

// AT-C 205: a Type 2 opinion covers operating effectiveness over the period; a report current
// at the assessment date (12 months after its period end, soc2 pack) credits the controls
// serving its criteria.
#[test]
fn a_current_type2_report_credits_its_criteria() {
    let mut f = essential_dso("plan-soc2-credit");
    f["service_organisation"] = json!(true);
    f["customer_regions"] = json!(["US"]);
    f["certifications"] = json!([{"scheme": "soc2", "type": "type2",
                                  "period_end": "2026-09-30", "criteria": ["security"]}]);
    let p = assess_full(&f).plan.unwrap();
    assert_eq!(p.coverage["soc2"].open, 0, "{:?}", p.coverage["soc2"]);
    assert!(p.notes.iter().any(|n| n.contains("SOC 2 Type 2 report")));
    // A stale one (period ended 2025-06-30, current until 2026-06-30) credits nothing.
    f["certifications"][0]["period_end"] = json!("2025-06-30");
    let p = assess_full(&f).plan.unwrap();
    assert_eq!(p.coverage["soc2"].met + p.coverage["soc2"].partial, 0);
}

// Issue 3 item 4: an expired certificate gives no credit.
#[test]
fn expired_certificate_gives_no_credit() {
    let mut f = essential_dso("plan-expired");
    f["certifications"] = iso_certificate("2026-11-30"); // before AS_OF 2026-12-04
    let a = assess_full(&f);
    let p = plan(&a);
    assert!(controls(p).iter().any(|c| c.starts_with("A.")));
    assert!(p.notes.iter().any(|n| n.contains("expired")));
    assert!(p.coverage["nis2"].from_certificate_evidence_pct.is_none());

    // `controls` overrides the credit: a control declared at maturity 1 is a gap again.
    let mut f = essential_dso("plan-override");
    f["certifications"] = iso_certificate("2027-06-30");
    f["controls"] = json!({"A.8.8": {"maturity": 1}});
    let p = assess_full(&f).plan.unwrap();
    let a = p.actions.iter().find(|a| a.control == "A.8.8").unwrap();
    assert_eq!((a.maturity, a.target), (1, 3));
}

// Issue 3 (7b): everything ISO at maturity 4: only what NIS2 still needs beyond ISO is left.
#[test]
fn everything_iso_at_maturity_4_leaves_only_nis2_items() {
    let origin = origins();
    let all_iso: serde_json::Map<String, Value> = origin
        .iter()
        .filter(|(_, o)| *o == "iso27001")
        .map(|(id, _)| (id.clone(), json!({"maturity": 4, "documented": true})))
        .collect();
    let mut f = essential_dso("plan-b");
    // A medium manufacturer of machinery: Annex II, important (NIS2 Art. 3(2)).
    f["employees"] = json!(120);
    f["annual_turnover_eur"] = json!(20.0e6);
    f["balance_sheet_eur"] = json!(15.0e6);
    f["activities"] = json!([{"sector": "manufacturing", "subsector": "machinery",
                               "entity_type": "machinery_manufacturer"}]);
    f["controls"] = Value::Object(all_iso);
    let a = assess_full(&f);
    assert_eq!(classification(&a), "important");
    let p = plan(&a);
    let got: BTreeSet<&str> = controls(p).into_iter().collect();
    let want: BTreeSet<String> = controls_serving(|r| r.starts_with("nis2:") && r != NIS2_ART28)
        .into_iter()
        .filter(|c| origin[c] == "nis2")
        .collect();
    assert_eq!(got, want.iter().map(String::as_str).collect());
}

// Issue 3 (7c): a SaaS company with US enterprise customers and no controls.
#[test]
fn saas_with_us_enterprise_customers_and_no_controls() {
    let f = json!({
        "id": "plan-c", "established_in": ["US"], "provides_services_in": ["US"],
        "public_or_private": "private", "employees": 80, "annual_turnover_eur": 12.0e6,
        "balance_sheet_eur": 8.0e6, "activities": [],
        "service_organisation": true, "service_models": ["saas"],
        "customer_regions": ["US"], "customer_segments": ["enterprise"],
        "data_handled": ["confidential_business"]
    });
    let a = assess_full(&f);
    assert_eq!(classification(&a), "out_of_scope"); // no services in the Union (Art. 2(1))
    let s = a.soc2.as_ref().unwrap();
    assert_eq!((s.needed, s.report_type), (Some(true), Some("type2")));
    assert_eq!(s.criteria, vec!["confidentiality", "security"]);
    let p = plan(&a);
    assert_eq!(p.frameworks.len(), 1);
    assert_eq!(
        (p.frameworks[0].framework, p.frameworks[0].basis),
        ("soc2", "voluntary")
    );
    // Every control mapped to a security (CC) or confidentiality (C) criterion is a gap, and
    // nothing else: no NIS2-only items for an organisation outside NIS2.
    let want = controls_serving(|r| r.starts_with("soc2:CC") || r.starts_with("soc2:C1"));
    let got: BTreeSet<String> = controls(p).iter().map(|c| c.to_string()).collect();
    assert_eq!(got, want);
    assert!(got.contains("S.SD") && got.contains("S.EVID") && got.contains("S.CC3.3"));
    // The first window starts 2027-02-04 (2 months' readiness), within the `now` phase; actions
    // that do not fit the phase's capacity (plan pack parameter `capacity`: 26 person-weeks)
    // move to the next phase with room, in rank order, and say so.
    assert_eq!(p.actions[0].phase, "now");
    for a in p.actions.iter().filter(|a| a.phase != "now") {
        assert!(
            a.why.contains("later than its deadline"),
            "{}: {}",
            a.control,
            a.why
        );
    }
    let weeks = |e: u8| [0.5, 2.0, 6.0][usize::from(e) - 1];
    let catalogue = table("controls", "catalogue.json");
    let effort = |c: &str| {
        catalogue
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == c)
            .unwrap()["effort"]
            .as_u64()
            .unwrap() as u8
    };
    let now_load: f64 = p
        .actions
        .iter()
        .filter(|a| a.phase == "now")
        .map(|a| weeks(effort(a.control)))
        .sum();
    assert!(now_load <= 26.0, "{now_load}");
    assert_eq!(p.summary.actions, p.actions.len());
}

// Issue 3 item 8 and shared/cases/supplier.jsonl: a small US SaaS vendor selling to EU
// hospitals is outside NIS2 itself, but the supply-chain terms reach it by contract.
#[test]
fn supplier_of_nis2_entities_plans_contract_terms() {
    let f = json!({
        "id": "plan-sup", "established_in": ["US"], "public_or_private": "private",
        "employees": 15, "annual_turnover_eur": 2.0e6, "balance_sheet_eur": 1.0e6,
        "activities": [], "provides_services_in": ["US", "IT"],
        "service_organisation": true, "service_models": ["saas"],
        "customer_regions": ["US", "EU"], "customer_segments": ["regulated"],
        "supplies_nis2_entities": true
    });
    let a = assess_full(&f);
    assert_eq!(classification(&a), "out_of_scope");
    let exposure = a.nis2.as_ref().unwrap().supplier_exposure.as_ref().unwrap();
    assert!(exposure
        .question
        .as_deref()
        .unwrap()
        .contains("cloud computing service"));
    let p = plan(&a);
    let supplier = p
        .frameworks
        .iter()
        .find(|f| f.framework == "supplier")
        .unwrap();
    assert_eq!(supplier.basis, "contractual");
    // Every supplier-side contract term (Reg. 2024/2690 Annex 5.1.4) is served by a listed
    // action or already met; with no controls, none is met.
    let want = controls_serving(|r| r.starts_with("supplier:"));
    let contractual: BTreeSet<String> = p
        .actions
        .iter()
        .filter(|a| a.closes.iter().any(|r| r.id.starts_with("supplier:")))
        .map(|a| a.control.to_string())
        .collect();
    assert_eq!(contractual, want);
}

#[test]
fn unknown_control_ids_are_errors_with_a_suggestion() {
    let mut f = essential_dso("plan-typo");
    f["controls"] = json!(["A.8.88", "A.5.1"]);
    let a = assess_full(&f);
    let e = &a.errors[0];
    assert_eq!(e.field.as_deref(), Some("/controls/A.8.88"));
    assert!(e.message.contains("did you mean"), "{}", e.message);
}

// DESIGN.md "Behaviour on bad input": errors name the field and what would fix it.
#[test]
fn malformed_controls_name_the_entry() {
    let mut f = essential_dso("plan-bad-maturity");
    f["controls"] = json!({"A.8.8": {"maturity": 5}, "A.5.1": {"maturity": 2}});
    let a = assess_full(&f);
    assert!(a.plan.is_none());
    assert_eq!(a.errors.len(), 1, "{:?}", a.errors);
    assert_eq!(
        a.errors[0].field.as_deref(),
        Some("/controls/A.8.8/maturity")
    );
    assert!(a.errors[0].message.contains("0 (not in place) to 4"));
}

/// Random declared maturities over the catalogue, for the properties below.
fn maturities() -> impl Strategy<Value = BTreeMap<String, u8>> {
    let ids: Vec<String> = origins().into_keys().collect();
    proptest::collection::btree_map(proptest::sample::select(ids), 0u8..=4, 0..60)
}

fn with_controls(id: &str, levels: &BTreeMap<String, u8>) -> Value {
    let mut f = essential_dso(id);
    f["service_organisation"] = json!(true);
    f["customer_regions"] = json!(["EU", "US"]);
    f["customer_demands"] = json!({"soc2": "type2"});
    f["controls"] = levels
        .iter()
        .map(|(k, m)| (k.clone(), json!({"maturity": m})))
        .collect::<serde_json::Map<_, _>>()
        .into();
    f
}

/// A worker keeps the rankings it has worked out (`plan::Rankings`) and reuses one only where
/// nothing a ranking depends on differs. The same organisations, assessed on one thread in two
/// orders and on three dates, get the same plans either way: two of the dates fall before the
/// NIS2 deadline of 2024-10-18 (Art. 41(1)), so the frameworks' deadlines are the same on both
/// and only the date moves the phases (DESIGN.md "Remediation plan": `now` is 0-3 months from
/// the assessment date, `next` 3-6, `later` 6-12).
#[test]
fn kept_rankings_give_the_plans_worked_out_in_any_order() {
    let dates = ["2024-01-02", "2024-06-03", "2026-12-04"];
    let records: Vec<assay::facts::Facts> = assay::gen::portfolio(150, 7)
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("generated facts read"))
        .collect();
    let plans = |order: Vec<(usize, usize)>| -> BTreeMap<(usize, usize), String> {
        let e = assay::evaluate::Evaluator::new(assay::pack::PackSet::shipped().unwrap())
            .unwrap()
            .with_plan_actions(0);
        order
            .into_iter()
            .map(|(r, d)| {
                let a = e.assess(&records[r], r + 1, None, dates[d]);
                ((r, d), serde_json::to_string(&a.plan).unwrap())
            })
            .collect()
    };
    let n = records.len();
    let forward = plans((0..n).flat_map(|r| (0..3).map(move |d| (r, d))).collect());
    let backward = plans(
        (0..3)
            .rev()
            .flat_map(|d| (0..n).rev().map(move |r| (r, d)))
            .collect(),
    );
    for (at, plan) in &forward {
        assert_eq!(
            plan,
            &backward[at],
            "record {} on {}",
            at.0 + 1,
            dates[at.1]
        );
    }
    // The check can fail: some plans differ between the two early dates alone.
    let moved = (0..n)
        .filter(|&r| forward[&(r, 0)] != forward[&(r, 1)])
        .count();
    assert!(
        moved > 0,
        "no plan differs between {} and {}",
        dates[0],
        dates[1]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    // Issue 3 item 7: raising a control's maturity never adds an action.
    #[test]
    fn raising_maturity_never_adds_an_action(levels in maturities(), pick in 0usize..130, up in 1u8..=4) {
        let ids: Vec<String> = origins().into_keys().collect();
        let id = &ids[pick % ids.len()];
        let before = assess_full(&with_controls("prop", &levels));
        let mut raised = levels.clone();
        let old = raised.get(id).copied().unwrap_or(0);
        raised.insert(id.clone(), (old + up).min(4));
        let after = assess_full(&with_controls("prop", &raised));
        let before: BTreeSet<String> =
            plan(&before).actions.iter().map(|a| a.control.to_string()).collect();
        let after: BTreeSet<String> =
            plan(&after).actions.iter().map(|a| a.control.to_string()).collect();
        prop_assert!(after.is_subset(&before), "raising {} added {:?}", id, after.difference(&before).collect::<Vec<_>>());
    }

    // Issue 3 item 7: the same input always gives the same plan.
    #[test]
    fn the_same_input_gives_the_same_plan(levels in maturities()) {
        let f = with_controls("same", &levels);
        let a = serde_json::to_string(&assess_full(&f).plan).unwrap();
        let b = serde_json::to_string(&assess_full(&f).plan).unwrap();
        prop_assert_eq!(a, b);
    }
}
