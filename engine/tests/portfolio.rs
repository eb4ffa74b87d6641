//! The fixture portfolio: every organisation of `fixtures/portfolio.csv` gets the classification
//! and jurisdiction of `fixtures/portfolio.expected.csv`, whose `reason` column gives the
//! arithmetic and the article for each.

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
        assert_eq!(a.id.as_deref(), Some(id), "input order is kept");
        let Some(n) = &a.nis2 else {
            failures.push(format!("{id}: error record {:?}", a.errors));
            continue;
        };
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
