//! The fixture portfolio: every organisation of `fixtures/portfolio.csv` gets the classification
//! and jurisdiction of `fixtures/portfolio.expected.csv`, whose `reason` column gives the
//! arithmetic and the article for each, and the SOC 2 decision its `soc2_reason` column derives
//! from DESIGN.md's SOC 2 rules.

mod common;

use assay::read::Format;
use common::*;

#[test]
fn fixture_portfolio_gets_every_expected_classification() {
    let out = assess(&fixture("portfolio.csv"), Format::Csv);
    let expected = fixture("portfolio.expected.csv");
    let mut reader = csv::Reader::from_reader(expected.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("expected row")).collect();
    assert!(
        rows.len() >= 40,
        "the fixture portfolio must hold at least 40 organisations"
    );
    assert_eq!(out.len(), rows.len(), "one assessment per organisation");

    let mut failures = Vec::new();
    for (a, row) in out.iter().zip(&rows) {
        let (id, class, jurisdiction, reason) = (&row[0], &row[1], &row[2], &row[3]);
        let (soc2_needed, soc2_type, soc2_criteria, soc2_reason) =
            (&row[4], &row[5], &row[6], &row[7]);
        assert_eq!(a.id.as_deref(), Some(id), "input order is kept");
        let Some(n) = &a.nis2 else {
            failures.push(format!("{id}: error record {:?}", a.errors));
            continue;
        };
        let Some(s) = &a.soc2 else {
            failures.push(format!("{id}: no SOC 2 decision"));
            continue;
        };
        let got = (
            s.needed.map(|b| b.to_string()).unwrap_or_default(),
            s.report_type.unwrap_or_default().to_string(),
            s.criteria.join(";"),
        );
        if got != (soc2_needed.into(), soc2_type.into(), soc2_criteria.into()) {
            failures.push(format!(
                "{id}: SOC 2 expected ({soc2_needed}, {soc2_type}, {soc2_criteria}), got {got:?} \
                 — {soc2_reason}"
            ));
        }
        if a.plan.is_none() {
            failures.push(format!("{id}: no plan"));
        }
        let got_j = n.jurisdiction.join(";");
        if n.classification.as_str() != class || got_j != jurisdiction {
            failures.push(format!(
                "{id}: expected {class} [{jurisdiction}], got {} [{got_j}] — {reason}",
                n.classification.as_str()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn output_is_the_same_at_any_thread_count() {
    let text = fixture("portfolio.csv");
    let run = |jobs: usize| {
        let pool = assay::pipeline::pool(jobs).expect("pool");
        let out = pool.install(|| assess(&text, Format::Csv));
        out.iter()
            .map(|a| serde_json::to_string(a).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(4));
}
