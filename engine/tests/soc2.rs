//! The SOC 2 decision: the shared cases, one worked case per rule of DESIGN.md "SOC 2 rules",
//! and the timeline against the assessment date (`common::AS_OF`, 2026-12-04).

mod common;

use assay::assessment::{Assessment, Soc2};
use common::*;
use serde_json::{json, Value};

/// A service organisation with 60 AWU in the US; each test changes what it is about.
fn base(id: &str) -> Value {
    json!({
        "id": id, "established_in": ["US"], "public_or_private": "private",
        "employees": 60, "annual_turnover_eur": 9.0e6, "balance_sheet_eur": 7.0e6,
        "activities": [], "provides_services_in": ["US"],
        "service_organisation": true, "service_models": ["saas"],
        "customer_regions": ["US"], "customer_segments": ["smb"]
    })
}

fn with(mut v: Value, changes: Value) -> Value {
    for (k, x) in changes.as_object().unwrap() {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x.clone();
        }
    }
    v
}

fn soc2(a: &Assessment) -> &Soc2 {
    a.soc2
        .as_ref()
        .unwrap_or_else(|| panic!("no soc2 for {:?}: {:?}", a.id, a.errors))
}

fn rules(s: &Soc2) -> Vec<&str> {
    s.why.iter().map(|g| &*g.rule).collect()
}

fn milestone<'a>(s: &'a Soc2, id: &str) -> &'a str {
    s.milestones
        .iter()
        .find(|m| m.id == id)
        .map(|m| m.date.as_str())
        .unwrap_or_else(|| panic!("no milestone {id} in {:?}", s.milestones))
}

#[test]
fn shared_soc2_cases() {
    // fixtures/cases/soc2.jsonl (copied from shared/cases): expected needed, type, criteria.
    let text = fixture("cases/soc2.jsonl");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let a = assess_one(&case["facts"]);
        let s = soc2(&a);
        let want = &case["expected"]["soc2"];
        let basis = case["basis"].as_str().unwrap_or_default();
        assert_eq!(
            json!(s.needed),
            want["needed"],
            "{:?}: needed; basis: {basis}",
            a.id
        );
        if let Some(t) = want.get("type") {
            assert_eq!(json!(s.report_type), *t, "{:?}: type; basis: {basis}", a.id);
        }
        if let Some(c) = want.get("criteria") {
            assert_eq!(
                json!(s.criteria),
                *c,
                "{:?}: criteria; basis: {basis}",
                a.id
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}

// DESIGN.md SOC 2 rules, "Needed when the organisation is a service organisation and either a
// customer demands a SOC 2 report or it has customers in the US or Canada (unless its only
// declared segment is consumer). Not needed for others (say what would serve instead)".
#[test]
fn need_rules() {
    let cases = [
        (
            json!({"service_organisation": false}),
            Some(false),
            "need_not_service_organisation",
        ),
        (
            json!({"customer_regions": ["EU"], "customer_demands": {"soc2": "any"}}),
            Some(true),
            "need_customer_demand",
        ),
        (
            json!({"customer_regions": ["CA"]}),
            Some(true),
            "need_north_american_customers",
        ),
        (
            json!({"customer_segments": ["consumer"]}),
            Some(false),
            "need_consumers_only",
        ),
        (
            json!({"customer_segments": ["consumer", "smb"]}),
            Some(true),
            "need_north_american_customers",
        ),
        (
            json!({"customer_regions": ["EU", "UK"]}),
            Some(false),
            "need_no_demand_outside_north_america",
        ),
    ];
    for (i, (change, needed, rule)) in cases.into_iter().enumerate() {
        let a = assess_one(&with(base(&format!("need-{i}")), change));
        let s = soc2(&a);
        assert_eq!(s.needed, needed, "case {i}: {:?}", s.why);
        assert_eq!(rules(s)[0], rule, "case {i}");
        // Not needed: the output says what would serve instead.
        assert_eq!(s.instead.is_some(), needed == Some(false), "case {i}");
    }
}

// DESIGN.md: "Type II when a customer demands it, when the segments include enterprise or
// regulated, or when any SOC 2 report already exists. Otherwise Type I first, then Type II."
#[test]
fn type_rules() {
    let report = json!([{"scheme": "soc2", "type": "type1", "period_end": "2026-06-30",
                         "criteria": ["security"]}]);
    let cases = [
        (
            json!({"customer_demands": {"soc2": "type2"}}),
            "type2",
            "type2_customer_demand",
        ),
        (
            json!({"customer_segments": ["regulated"]}),
            "type2",
            "type2_enterprise_or_regulated",
        ),
        (
            json!({"customer_segments": ["enterprise", "smb"]}),
            "type2",
            "type2_enterprise_or_regulated",
        ),
        (
            json!({"certifications": report}),
            "type2",
            "type2_report_exists",
        ),
        (
            json!({"customer_demands": {"soc2": "type1"}}),
            "type1",
            "type1_first",
        ),
        (json!({}), "type1", "type1_first"),
    ];
    for (i, (change, want, rule)) in cases.into_iter().enumerate() {
        let a = assess_one(&with(base(&format!("type-{i}")), change));
        let s = soc2(&a);
        assert_eq!(s.report_type, Some(want), "case {i}");
        assert_eq!(rules(s)[1], rule, "case {i}");
    }
}

// DESIGN.md: "Security always. Availability with uptime commitments or for iaas, paas,
// data_centre, hosting, managed_services. Confidentiality with confidential_business data.
// Processing integrity for payments, payroll, transaction_processing or payment data. Privacy
// when consumer customers and personal_data meet."
#[test]
fn criteria_rules() {
    let cases = [
        (json!({}), vec!["security"]),
        (
            json!({"availability_commitments": true}),
            vec!["availability", "security"],
        ),
        (
            json!({"service_models": ["managed_services"]}),
            vec!["availability", "security"],
        ),
        (
            json!({"data_handled": ["confidential_business"]}),
            vec!["confidentiality", "security"],
        ),
        (
            json!({"service_models": ["payroll"]}),
            vec!["processing_integrity", "security"],
        ),
        (
            json!({"data_handled": ["payment"]}),
            vec!["processing_integrity", "security"],
        ),
        // Personal data without consumers, or consumers without personal data: no privacy.
        (json!({"data_handled": ["personal_data"]}), vec!["security"]),
        (
            json!({"customer_segments": ["consumer", "smb"], "data_handled": ["health"]}),
            vec!["security"],
        ),
        (
            json!({"customer_segments": ["consumer", "smb"], "data_handled": ["personal_data"]}),
            vec!["privacy", "security"],
        ),
    ];
    for (i, (change, want)) in cases.into_iter().enumerate() {
        let a = assess_one(&with(base(&format!("crit-{i}")), change));
        assert_eq!(soc2(&a).criteria, want, "case {i}");
    }
}

// DESIGN.md "Facts": service_organisation and customer_regions are core facts for SOC 2; absent
// means unknown, and a decision is undetermined only when the missing fact would change it.
#[test]
fn unknown_facts_decide_only_when_they_matter() {
    // Regions unknown, no demand: customers in the US would make it needed, in Europe not.
    let a = assess_one(&with(base("unk-1"), json!({"customer_regions": null})));
    let s = soc2(&a);
    assert_eq!(s.needed, None);
    assert_eq!(s.missing, vec!["customer_regions"]);
    assert_eq!(s.if_needed.as_ref().map(|i| i.report_type), Some("type1"));

    // Regions unknown, but a customer demands a report: needed whatever the regions.
    let a = assess_one(&with(
        base("unk-2"),
        json!({"customer_regions": null, "customer_demands": {"soc2": "any"}}),
    ));
    assert_eq!(soc2(&a).needed, Some(true));
    assert!(soc2(&a).missing.is_empty());

    // Not a service organisation: the regions do not matter.
    let a = assess_one(&with(
        base("unk-3"),
        json!({"customer_regions": null, "service_organisation": false}),
    ));
    assert_eq!(soc2(&a).needed, Some(false));

    // A customer demands a report and both are unknown: only service_organisation decides.
    let a = assess_one(&with(
        base("unk-5"),
        json!({"customer_regions": null, "service_organisation": null,
               "customer_demands": {"soc2": "type2"}}),
    ));
    assert_eq!(soc2(&a).missing, vec!["service_organisation"]);

    // Both unknown: both named.
    let a = assess_one(&with(
        base("unk-4"),
        json!({"customer_regions": null, "service_organisation": null}),
    ));
    assert_eq!(
        soc2(&a).missing,
        vec!["service_organisation", "customer_regions"]
    );
}

// DESIGN.md timeline: "first Type II window 3 months when a customer demands Type II now, else
// 6; 12 months after that"; pack parameters: readiness 2 months, Type I 3 months after the
// assessment, the report 2 months after a window ends. As of 2026-12-04.
#[test]
fn timeline_from_the_assessment_date() {
    let a = assess_one(&with(
        base("time-1"),
        json!({"customer_demands": {"soc2": "type2"}}),
    ));
    let s = soc2(&a);
    assert_eq!(milestone(s, "first_window_start"), "2027-02-04"); // + 2 months readiness
    assert_eq!(milestone(s, "first_window_end"), "2027-05-04"); // + 3 months: demanded now
    assert_eq!(milestone(s, "type2_report_expected"), "2027-07-04");
    assert_eq!(milestone(s, "report_current_until"), "2028-05-04"); // 12 months after period end
    assert_eq!(milestone(s, "following_window_end"), "2028-05-04"); // next window 12 months

    let a = assess_one(&with(
        base("time-2"),
        json!({"customer_segments": ["enterprise"]}),
    ));
    let s = soc2(&a);
    assert_eq!(milestone(s, "first_window_start"), "2027-02-04");
    assert_eq!(milestone(s, "first_window_end"), "2027-08-04"); // 6 months: not demanded now

    let a = assess_one(&base("time-3"));
    let s = soc2(&a);
    assert_eq!(s.report_type, Some("type1"));
    assert_eq!(milestone(s, "type1_report_date"), "2027-03-04");
    assert_eq!(milestone(s, "first_window_start"), "2027-03-04");
    assert_eq!(milestone(s, "first_window_end"), "2027-09-04");
}

// DESIGN.md: "A report is current for 12 months after its period end"; a bridge letter covers
// about 3 months more (reference/soc2-iso27001.md A.4, "Bridge (gap) letter").
#[test]
fn existing_reports_are_judged_against_the_assessment_date() {
    let report = |end: &str, criteria: Value| {
        json!({"certifications": [{"scheme": "soc2", "type": "type2", "period_end": end,
                                   "criteria": criteria}]})
    };
    // Period ended 2026-09-30: current until 2027-09-30; next window starts 2026-10-01.
    let a = assess_one(&with(
        base("rep-1"),
        report("2026-09-30", json!(["security"])),
    ));
    let s = soc2(&a);
    let r = s.current_report.as_ref().unwrap();
    assert_eq!(
        (
            r.status,
            r.current_until.as_str(),
            r.bridge_letter_until.as_str()
        ),
        ("current", "2027-09-30", "2027-12-30")
    );
    assert_eq!(milestone(s, "next_window_start"), "2026-10-01");
    assert_eq!(milestone(s, "bridge_letter_until"), "2027-12-30");

    // Ended 2025-10-31: current until 2026-10-31, a bridge letter until 2027-01-31 covers 12-04.
    let a = assess_one(&with(
        base("rep-2"),
        report("2025-10-31", json!(["security"])),
    ));
    assert_eq!(
        soc2(&a).current_report.as_ref().unwrap().status,
        "bridge_letter"
    );

    // Ended 2025-06-30: stale since 2026-09-30; a new first window starts after readiness.
    let a = assess_one(&with(
        base("rep-3"),
        report("2025-06-30", json!(["security"])),
    ));
    let s = soc2(&a);
    assert_eq!(s.current_report.as_ref().unwrap().status, "stale");
    assert_eq!(milestone(s, "first_window_start"), "2027-02-04");

    // The next report needs availability, which the last one did not cover.
    let mut f = with(base("rep-4"), report("2026-09-30", json!(["security"])));
    f["service_models"] = json!(["iaas"]);
    let a = assess_one(&f);
    assert_eq!(
        soc2(&a).current_report.as_ref().unwrap().criteria_to_add,
        vec!["availability"]
    );
}

// reference/soc2-iso27001.md A.4: a Type 1 examines design at a date and has no observation
// window; after one, the first Type 2 window follows (3 months when demanded now).
#[test]
fn a_type1_report_is_followed_by_a_first_type2_window() {
    let a = assess_one(&with(
        base("t1-then-t2"),
        json!({"customer_demands": {"soc2": "type2"},
               "certifications": [{"scheme": "soc2", "type": "type1", "period_end": "2026-10-31"}]}),
    ));
    let s = soc2(&a);
    assert_eq!(s.report_type, Some("type2"));
    assert_eq!(milestone(s, "first_window_start"), "2027-02-04");
    assert_eq!(milestone(s, "first_window_end"), "2027-05-04");
    assert!(s.milestones.iter().all(|m| m.id != "next_window_start"));
    // Milestones are in date order.
    assert!(s.milestones.windows(2).all(|w| w[0].date <= w[1].date));
}

// A report's period cannot have ended after the assessment date; a leap-day period end plus 15
// months is 2025-05-29 (one step, not 12 then 3 with a month-end clamp in between).
#[test]
fn report_dates_at_the_edges() {
    let report = |end: &str| json!({"certifications": [{"scheme": "soc2", "type": "type2", "period_end": end}]});
    let a = assess_one(&with(base("edge-1"), report("2027-06-30")));
    assert_eq!(
        soc2(&a).current_report.as_ref().unwrap().status,
        "period_not_ended"
    );
    let a = assess_one(&with(base("edge-2"), report("2024-02-29")));
    let r = soc2(&a).current_report.as_ref().unwrap();
    assert_eq!(
        (r.current_until.as_str(), r.bridge_letter_until.as_str()),
        ("2025-02-28", "2025-05-29")
    );
    // Criteria not declared: a SOC 2 report always covers security, so nothing to add.
    assert!(r.criteria_to_add.is_empty());
}

#[test]
fn impossible_certificate_dates_are_errors() {
    let a = assess_one(&with(
        base("date-1"),
        json!({"certifications": [{"scheme": "soc2", "type": "type2", "period_end": "2026-02-31"}]}),
    ));
    assert!(a.soc2.is_none());
    assert_eq!(
        a.errors[0].field.as_deref(),
        Some("/certifications/0/period_end")
    );
}

/// DESIGN.md "Behaviour on bad input": errors say what would fix them. A date written the
/// day first, as many registers and spreadsheets write it, is told the order the facts schema
/// reads (`$defs/date`: YYYY-MM-DD), not the schema's pattern.
#[test]
fn a_date_written_day_first_is_told_the_order() {
    for (written, field) in [
        ("30.06.2027", "/certifications/0/expires"),
        ("06/30/2027", "/certifications/0/expires"),
    ] {
        let a = assess_one(&with(
            base("date-2"),
            json!({"certifications": [{"scheme": "iso27001", "edition": "2022",
                                       "expires": written, "scope_covers_services": true}]}),
        ));
        let e = &a.errors[0];
        assert_eq!(e.field.as_deref(), Some(field));
        assert!(
            e.message
                .contains(&format!("`{written}` is not a date written YYYY-MM-DD"))
                && e.message.contains("`2027-06-30` for 30 June 2027")
                && !e.message.contains("^[0-9]"),
            "{}",
            e.message
        );
    }
}

/// When the need is undetermined, the record's `why` holds the grounds of each answer the
/// missing facts leave open (DESIGN.md "SOC 2 rules": undetermined when the facts that decide
/// it are missing); the document says so instead of listing them as reasons that all hold.
#[test]
fn an_open_need_is_not_explained_as_if_every_ground_held() {
    let a = assess_one(&serde_json::json!({
        "id": "open",
        "established_in": ["DE"],
        "provides_services_in": ["DE"],
        "employees": 10,
        "annual_turnover_eur": 1e6,
        "balance_sheet_eur": 1e6,
        "activities": []
    }));
    let soc2 = a.soc2.as_ref().expect("SOC 2 assessed");
    assert_eq!(soc2.needed, None);
    assert!(soc2.why.len() > 1, "{:?}", soc2.why);
    let doc = assay::markdown::render(&a);
    assert!(
        doc.contains("What each possible answer would rest on:"),
        "{doc}"
    );
    assert!(!doc.contains("Why:"), "{doc}");
}
