//! HTML reports without a browser: what the pages say for the output contract of DESIGN.md,
//! including the SOC 2 and plan fields other packs add, hostile input, adapted templates and
//! changes since an earlier run. `report_browser.rs` loads the pages in Chromium.

mod common;

use assay::pack::PackSet;
use assay::read::Format;
use assay::report::{self, templates::Templates, Inputs};
use common::*;
use serde_json::{json, Value};
use std::path::Path;

fn inputs(assessments: Vec<Value>) -> Inputs {
    let packs = PackSet::shipped().expect("shipped packs");
    Inputs {
        assessments,
        obligations: report::source::obligations(&packs),
        sectors: report::source::sectors(&packs),
        size_classes: report::source::size_classes(&packs),
        ..Default::default()
    }
}

fn assessed(facts: &[Value]) -> Inputs {
    let text: Vec<String> = facts.iter().map(Value::to_string).collect();
    let (loaded, facts) = report::source::assess_portfolio(
        &text.join("\n"),
        Format::Jsonl,
        evaluator(),
        validator(),
        AS_OF,
    )
    .expect("a portfolio in memory is read");
    let assessments = loaded.full.records().map(Result::unwrap).collect();
    Inputs {
        facts,
        ..inputs(assessments)
    }
}

fn render(inputs: &Inputs, templates: &Templates) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let full = inputs.assessments.iter().cloned().map(Ok);
    report::write_html(inputs, full, templates, dir.path()).expect("report written");
    dir
}

fn page(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// An essential entity: 300 AWU electricity supplier (NIS2 Art. 3(1)(a), Annex I).
fn essential() -> Value {
    json!({"id": "acme", "name": "Acme Energie GmbH", "established_in": ["DE"],
           "provides_services_in": ["DE"], "public_or_private": "private", "employees": 300,
           "annual_turnover_eur": 80_000_000, "balance_sheet_eur": 60_000_000,
           "activities": [{"sector": "energy", "subsector": "electricity",
                           "entity_type": "electricity_undertaking_supply"}]})
}

#[test]
fn every_page_is_self_contained() {
    let dir = render(&assessed(&[essential()]), &Templates::embedded().unwrap());
    for name in ["index.html", "org-acme.html"] {
        let html = page(dir.path(), name);
        // No script, no stylesheet, font or image fetched from anywhere.
        assert!(!html.contains("<script"), "{name}");
        assert!(!html.contains("<link"), "{name}");
        assert!(!html.contains("src=\"http"), "{name}");
        assert!(!html.contains("url("), "{name}");
        assert!(html.contains("Content-Security-Policy"), "{name}");
        // Provenance on every page (issue 7 item 5).
        assert!(
            html.contains(&format!("Assessed as of <time>{AS_OF}</time>")),
            "{name}"
        );
        assert!(html.contains(&PackSet::shipped().unwrap().get("nis2").unwrap().sha256()));
        // Printable: a print stylesheet.
        assert!(html.contains("@media print"), "{name}");
    }
}

/// A SaaS provider whose US customers demand a Type 2 report (DESIGN.md §SOC 2 rules: needed,
/// Type II on demand, availability for uptime commitments, confidentiality for business data).
fn saas() -> Value {
    json!({"id": "cloudco", "name": "CloudCo B.V.", "established_in": ["NL"],
           "provides_services_in": ["NL", "DE"], "public_or_private": "private",
           "employees": 120, "annual_turnover_eur": 30_000_000, "balance_sheet_eur": 20_000_000,
           "activities": [{"sector": "ict_service_management", "subsector": "ict_service_management",
                           "entity_type": "managed_service_provider"}],
           "service_organisation": true, "service_models": ["saas"],
           "customer_regions": ["EU", "US"], "customer_segments": ["enterprise"],
           "customer_demands": {"soc2": "type2"}, "data_handled": ["confidential_business"],
           "availability_commitments": true})
}

#[test]
fn soc2_and_plan_render_as_the_packs_decide_them() {
    let inputs = assessed(&[saas()]);
    let a = &inputs.assessments[0];
    assert!(a.get("nis2").is_some(), "{a}");
    assert_eq!(a["soc2"]["needed"], true, "{a}");
    let dir = render(&inputs, &Templates::embedded().unwrap());

    let org = page(dir.path(), "org-cloudco.html");
    assert_eq!(a["soc2"]["type"], "type2");
    assert!(org.contains("a <strong>Type II</strong> report"));
    for m in a["soc2"]["milestones"].as_array().unwrap() {
        assert!(org.contains(m["date"].as_str().unwrap()), "milestone {m}");
    }
    for w in a["soc2"]["why"].as_array().unwrap() {
        assert!(org.contains(&format!("<code>{}</code>", w["rule"].as_str().unwrap())));
    }
    // The plan by phase: as many actions listed under each phase as the plan puts there.
    let actions = a["plan"]["actions"].as_array().unwrap();
    assert!(!actions.is_empty());
    for (phase, heading) in [
        ("now", "Now (0–3 months)"),
        ("next", "Next (3–6 months)"),
        ("later", "Later (6–12 months)"),
    ] {
        let n = actions.iter().filter(|x| x["phase"] == phase).count();
        assert!(
            org.contains(&format!("{heading}: {n} actions listed")),
            "{phase}"
        );
    }
    for x in actions {
        assert!(org.contains(&format!("<code>{}</code>", x["control"].as_str().unwrap())));
    }

    let index = page(dir.path(), "index.html");
    assert!(index.contains(">Type II</text>"), "SOC 2 type chart");
    let first = actions[0]["control"].as_str().unwrap();
    assert!(
        index.contains(&format!("data-gap=\"{first}\">1<")),
        "most common gaps"
    );
    assert!(!index.contains("SOC 2 not assessed"));
}

#[test]
fn absent_soc2_and_plan_say_not_assessed() {
    // Assessments from packs that decide NIS2 alone carry neither.
    let mut inputs = assessed(&[essential()]);
    let a = inputs.assessments[0].as_object_mut().unwrap();
    a.remove("soc2");
    a.remove("plan");
    let dir = render(&inputs, &Templates::embedded().unwrap());
    let org = page(dir.path(), "org-acme.html");
    assert!(org.contains("SOC 2 not assessed"));
    assert!(org.contains("Remediation plan not assessed"));
}

#[test]
fn text_from_client_files_cannot_add_markup_or_escape_the_folder() {
    let mut hostile = essential();
    hostile["id"] = json!("../<img src=x onerror=alert(1)>");
    hostile["name"] = json!("<script>alert('name')</script>");
    let dir = render(&assessed(&[hostile]), &Templates::embedded().unwrap());
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.contains(&"org-____img_src_x_onerror_alert_1__.html".to_string()),
        "{files:?}"
    );
    for name in &files {
        let html = page(dir.path(), name);
        assert!(!html.contains("<script>alert"), "{name}");
        assert!(!html.contains("<img src=x"), "{name}");
    }
    assert!(page(dir.path(), "index.html").contains("&lt;script&gt;alert("));
}

#[test]
fn error_records_are_listed_with_the_fix() {
    let inputs = assessed(&[essential(), json!({"id": "bad", "employees": "many"})]);
    assert!(inputs.assessments[1].get("nis2").is_none());
    let dir = render(&inputs, &Templates::embedded().unwrap());
    let index = page(dir.path(), "index.html");
    assert!(index.contains("data-figure=\"error_records\">1<"));
    // The error's field and its fix, as the record carries them (a word where a figure belongs).
    assert!(index.contains("employees</code></td><td>`employees`: `many` is not a number"));
    assert!(page(dir.path(), "org-bad.html").contains("no decision was made"));
}

#[test]
fn changes_since_a_previous_run_are_listed() {
    let mut inputs = assessed(&[essential()]);
    let mut before = inputs.assessments[0].clone();
    before["nis2"]["classification"] = json!("important");
    before["as_of"] = json!("2026-01-01");
    // README "Reports for clients and boards": "what changed since an earlier run". A plan
    // that grew as deadlines passed, and a SOC 2 report that was held then and is not now, are
    // changes a board is told of, with no NIS2 or SOC 2 result changing.
    let actions = inputs.assessments[0]["plan"]["summary"]["actions"]
        .as_u64()
        .expect("the plan's count of actions");
    before["plan"]["summary"]["actions"] = json!(actions - 7);
    before["soc2"]["current_report"] = json!({"status": "current"});
    let gone = json!({"id": "sold-off", "as_of": "2026-01-01", "packs": [], "nis2": {}});
    // An earlier run is kept as its summaries (`report::source::previous`).
    inputs.previous = Some(vec![report::summary(&before), gone]);
    let dir = render(&inputs, &Templates::embedded().unwrap());
    let index = page(dir.path(), "index.html");
    assert!(index.contains("Changed since the assessment of 2026-01-01"));
    assert!(index.contains("<td>important</td><td><strong>essential</strong></td>"));
    assert!(index.contains(&format!(
        "plan actions</td><td>{}</td><td><strong>{actions}</strong></td>",
        actions - 7
    )));
    assert!(
        index.contains("SOC 2 report held</td><td>current</td><td><strong>none declared</strong>"),
        "{index}"
    );
    assert!(index.contains("No longer in the portfolio: sold-off."));
    assert!(page(dir.path(), "org-acme.html").contains("<strong>essential</strong>"));
}

#[test]
fn an_adapted_template_folder_overrides_only_what_it_holds() {
    let custom = tempfile::tempdir().unwrap();
    std::fs::write(
        custom.path().join("portfolio.html"),
        "{% extends \"base.html\" %}{% block content %}<p>Kanzlei Muster: {{ total }}</p>{% endblock %}",
    )
    .unwrap();
    let templates = Templates::from_dir(custom.path()).expect("adapted templates");
    let dir = render(&assessed(&[essential()]), &templates);
    assert!(page(dir.path(), "index.html").contains("<p>Kanzlei Muster: 1</p>"));
    // The organisation page still comes from the shipped template.
    assert!(page(dir.path(), "org-acme.html").contains("Obligations and deadlines"));
}

#[test]
fn a_broken_template_is_named_with_its_line() {
    let custom = tempfile::tempdir().unwrap();
    std::fs::write(custom.path().join("group.html"), "line one\n{% if %}").unwrap();
    let e = Templates::from_dir(custom.path())
        .err()
        .expect("a syntax error");
    let message = e.to_string();
    assert!(message.starts_with("template `group.html`"), "{message}");
    assert!(message.contains("group.html:2"), "{message}");
}

#[test]
fn a_ring_of_holdings_is_drawn_once_and_ends() {
    // Two companies holding 30 % of each other: partners both ways (Rec. 2003/361/EC Annex
    // Art. 3(2)); the tree must not recurse for ever.
    let mut a = essential();
    a["owners"] = json!([{"id": "b", "share_pct": 30}]);
    let mut b = essential();
    b["id"] = json!("b");
    b["owners"] = json!([{"id": "acme", "share_pct": 30}]);
    let dir = render(&assessed(&[a, b]), &Templates::embedded().unwrap());
    let group = page(dir.path(), "group-acme.html");
    assert!(group.contains("the holdings form a ring"));
    assert!(group.contains("30 % of capital (partner)"));
}

#[test]
fn pages_from_a_file_read_twice_equal_pages_from_memory() {
    // Large assessment files are read once for the summaries and once for the pages; the pages
    // must not differ from those rendered with every assessment in memory.
    let inputs = assessed(&[essential(), saas()]);
    let templates = Templates::embedded().unwrap();
    let in_memory = render(&inputs, &templates);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("assessments.jsonl");
    let lines: Vec<String> = inputs.assessments.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let report::source::Given::Assessments(loaded) =
        report::source::open(file.to_str().unwrap()).unwrap()
    else {
        panic!("assessments taken for a portfolio");
    };
    assert!(matches!(loaded.full, report::source::Full::File(_)));
    let streamed = Inputs {
        assessments: loaded.summaries,
        facts: inputs.facts.clone(),
        ..self::inputs(vec![])
    };
    let out = dir.path().join("report");
    report::write_html(&streamed, loaded.full.records(), &templates, &out).unwrap();

    for name in ["index.html", "org-acme.html", "org-cloudco.html"] {
        assert_eq!(
            page(&out, name),
            page(in_memory.path(), name),
            "{name} differs"
        );
    }
}

#[test]
fn declared_linked_and_partner_enterprises_are_listed() {
    // Rec. 2003/361/EC Annex Art. 3: enterprises outside the portfolio, as the facts declare them.
    let mut f = essential();
    f["linked_enterprises"] = json!([{"name": "Alder Infrastructure Fund", "relation": "partner",
        "share_pct": 30, "employees": 200, "annual_turnover_eur": 60_000_000,
        "balance_sheet_eur": 150_000_000}]);
    let dir = render(&assessed(&[f]), &Templates::embedded().unwrap());
    let org = page(dir.path(), "org-acme.html");
    assert!(
        org.contains("<td>Alder Infrastructure Fund</td><td>partner</td>"),
        "{org}"
    );
    assert!(org.contains("EUR 60,000,000"));
}

#[test]
fn the_aggregation_the_group_step_reports_is_shown_with_its_totals() {
    // The shape of `nis2.size.aggregation` agreed for issue 5; the figures are those of
    // fixtures/cases/groups.jsonl grp-1 (40 + 200 + 30 = 270 AWU, Rec. Annex Art. 6(2)).
    let mut inputs = assessed(&[essential()]);
    inputs.assessments[0]["nis2"]["size"]["basis"] = json!("aggregated");
    inputs.assessments[0]["nis2"]["size"]["aggregation"] = json!({
        "cites": "Rec. 2003/361/EC Annex Art. 6(2)",
        "enterprises": [
            {"enterprise": "grp-1-t", "relation": "entity", "share_pct": 100.0,
             "figures": {"employees": 40.0, "annual_turnover_eur": 8e6, "balance_sheet_eur": 6e6}},
            {"enterprise": "grp-1-parent", "relation": "linked", "share_pct": 100.0,
             "figures": {"employees": 200.0, "annual_turnover_eur": 3e7, "balance_sheet_eur": 2.5e7}},
            {"enterprise": "grp-1-s", "relation": "linked", "share_pct": 100.0, "via": "grp-1-parent",
             "figures": {"employees": 30.0, "annual_turnover_eur": 5e6, "balance_sheet_eur": 4e6}}],
        "totals": {"employees": 270.0, "annual_turnover_eur": 4.3e7, "balance_sheet_eur": 3.5e7}});
    let dir = render(&inputs, &Templates::embedded().unwrap());
    let org = page(dir.path(), "org-acme.html");
    assert_eq!(org.matches("data-enterprise=").count(), 3);
    assert!(org.contains("(through grp-1-parent)"));
    assert!(org.contains("<td class=\"n\">270</td><td class=\"n\">EUR 43,000,000</td>"));
}

/// README "Reports for clients and boards": exit code 2 for usage, template or pack problems,
/// or a portfolio with no records, with an error that says why.
#[test]
fn the_command_says_what_is_wrong_with_its_arguments() {
    let out = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
            .arg("report")
            .args(args)
            .args(["--out", out.path().to_str().unwrap()])
            .current_dir(root())
            .output()
            .expect("assay runs");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["fixtures/portfolio.csv", "--templates", "no-such-folder"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`no-such-folder`: not a folder"), "{err}");

    let (code, err) = run(&[
        "fixtures/portfolio.csv",
        "--previous",
        "fixtures/portfolio.csv",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("holds facts, not assessments"), "{err}");

    // A portfolio with no records is refused as `assess` refuses it (exit code 2), before any
    // page is written.
    let empty = tempfile::tempdir().unwrap();
    let empty_file = empty.path().join("empty.jsonl");
    std::fs::write(&empty_file, "\n").unwrap();
    let (code, err) = run(&[empty_file.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("holds no records: nothing was assessed"),
        "{err}"
    );
    assert!(!out.path().join("index.html").exists());

    let (code, err) = run(&["fixtures/portfolio.csv", "--as-of", AS_OF]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("organisation and 0 group pages"), "{err}");
}

#[test]
fn assessments_in_another_form_still_give_every_page() {
    // Hand-edited or foreign files: fields of the wrong type, a null `nis2`, no id. Every
    // record keeps its page; a page that cannot show all says so and the report warns.
    let lines = [
        json!({"id": "a", "as_of": AS_OF, "packs": [{"id": "nis2", "version": "1", "sha256": "x"}],
               "nis2": {"classification": "essential", "size": {"class": null, "possible": 5},
                        "jurisdiction": "DE", "grounds": "x", "obligations": [{"id": 3}],
                        "max_fine_eur": "lots"},
               "soc2": {"needed": "yes", "criteria": "security"},
               "plan": {"actions": [{"control": 5, "closes": "x", "phase": "now"}]}}),
        json!({"id": "b", "as_of": AS_OF, "packs": "nope", "nis2": null, "errors": "bad"}),
        json!({"as_of": AS_OF, "packs": []}),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.jsonl");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let report::source::Given::Assessments(loaded) =
        report::source::open(file.to_str().unwrap()).unwrap()
    else {
        panic!("assessments taken for a portfolio");
    };
    let summaries = Inputs {
        assessments: loaded.summaries,
        ..inputs(vec![])
    };
    let out = dir.path().join("report");
    let written = report::write_html(
        &summaries,
        loaded.full.records(),
        &Templates::embedded().unwrap(),
        &out,
    )
    .expect("a report in spite of the odd records");
    assert_eq!(written.organisations.len(), 3);
    assert_eq!(written.warnings.len(), 1, "{:?}", written.warnings);
    assert!(page(&out, "org-a.html").contains("not in the form assay writes"));
    let index = page(&out, "index.html");
    assert!(index.contains("data-class=\"essential\">1<"));
    assert!(index.contains("data-figure=\"error_records\">2<"));
}

#[test]
fn plan_coverage_shows_the_share_of_controls_at_target() {
    // plan.coverage as the plan pack writes it (README: `evidence_pct`).
    let inputs = assessed(&[saas()]);
    let a = &inputs.assessments[0];
    let coverage = a["plan"]["coverage"].as_object().expect("coverage");
    let dir = render(&inputs, &Templates::embedded().unwrap());
    let org = page(dir.path(), "org-cloudco.html");
    for (framework, c) in coverage {
        let pct = assay::report::chart::number(c["evidence_pct"].as_f64().unwrap());
        assert!(
            org.contains(&format!("<td>{framework}</td>")) && org.contains(&format!("{pct} %")),
            "{framework}: {pct} %"
        );
    }
    assert!(!org.contains("unknown %"));
}

#[test]
fn an_entity_under_dora_is_not_told_it_has_a_nis2_fine() {
    // pf-018 (fixtures/portfolio.csv) operates a trading venue: essential, but DORA displaces
    // the NIS2 duties (NIS2 Art. 4), and the assessment gives no Art. 34 maximum.
    let text = fixture("portfolio.csv");
    let (loaded, facts) =
        report::source::assess_portfolio(&text, Format::Csv, evaluator(), validator(), AS_OF)
            .expect("the fixture is read");
    let inputs = Inputs {
        facts,
        ..inputs(loaded.summaries)
    };
    let dir = tempfile::tempdir().unwrap();
    report::write_html(
        &inputs,
        loaded.full.records(),
        &Templates::embedded().unwrap(),
        dir.path(),
    )
    .unwrap();
    let a = loaded
        .full
        .records()
        .map(Result::unwrap)
        .find(|a| a["id"] == "pf-018")
        .unwrap();
    assert_eq!(a["nis2"]["classification"], "essential");
    assert!(a["nis2"].get("max_fine_eur").is_none(), "{a}");
    let org = page(dir.path(), "org-pf-018.html");
    assert!(org.contains("DORA displaces the NIS2 duties such a fine would enforce"));
    assert!(!org.contains("this classification has none"));
}

/// A member left open by an error record in its group (README "Error records in a group"): the
/// page asks for the error record's figures in the words of the assessment, shows the at-least
/// totals, and, as it is in scope either way (essential or important, NIS2 Art. 3), says the
/// duties the two classes share apply now.
#[test]
fn a_member_left_open_by_an_error_record_reads_well() {
    let parent = json!({"id": "p", "established_in": ["NL"], "provides_services_in": ["NL"],
        "public_or_private": "private", "employees": 200, "annual_turnover_eur": 40_000_000,
        "balance_sheet_eur": 40_000_000,
        "activities": [{"entity_type": "electricity_distribution_system_operator"}]});
    let subsidiary = json!({"id": "s", "established_in": ["NL"], "employees": "many",
        "owners": [{"id": "p", "share_pct": 60}]});
    let inputs = assessed(&[parent, subsidiary]);
    let dir = render(&inputs, &Templates::embedded().unwrap());
    let org = page(dir.path(), "org-p.html");
    assert!(org.contains("The figures of `s` (line 2)"), "{org}");
    assert!(!org.contains("What is `the figures"), "{org}");
    assert!(org.contains("At least (the known figures"), "{org}");
    assert!(org.contains("In scope whichever way"), "{org}");
}

/// README ("Exports from spreadsheet programs"): "A line that is not UTF-8 is an error record of
/// its own (with the id, when the id cell is UTF-8)". A report made from such a portfolio, from
/// a file or from standard input, has a page for every line, and the bad line's page names it and
/// says what the error record of `assay assess` on the same file says; the report's exit code is
/// 1, some records being error records (README "Reports for clients and boards"). The report
/// used to read the portfolio as one UTF-8 text and fail whole, with exit code 2.
#[test]
fn a_line_that_is_not_utf8_is_one_error_record_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    for facts in [essential(), saas()] {
        text.extend_from_slice(facts.to_string().as_bytes());
        text.push(b'\n');
    }
    // `Société` written in Latin-1: 0xE9 is not UTF-8.
    text.extend_from_slice(b"{\"id\":\"latin\",\"name\":\"Soci\xe9t\xe9\",\"employees\":12}\n");
    let mut third = essential();
    third["id"] = json!("acme-2");
    text.extend_from_slice(third.to_string().as_bytes());
    text.push(b'\n');
    let lines = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let file = dir.path().join("portfolio.jsonl");
    std::fs::write(&file, &text).unwrap();
    let file = file.to_str().unwrap();

    let assay = |args: &[&str], stdin: &[u8]| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("assay runs");
        let mut input = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut input, stdin).expect("stdin written");
        drop(input);
        child.wait_with_output().expect("assay finishes")
    };

    // What `assess` makes of the line: the record the report's page must show.
    let assessed = assay(&["assess", file, "--as-of", AS_OF], b"");
    assert_eq!(assessed.status.code(), Some(1));
    let records: Vec<Value> = String::from_utf8(assessed.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), lines);
    let bad = &records[2];
    assert_eq!(
        (bad["line"].as_u64(), bad["errors"][0]["code"].as_str()),
        (Some(3), Some("read"))
    );
    let message = bad["errors"][0]["message"].as_str().unwrap();
    let id = bad["id"]
        .as_str()
        .expect("the id is UTF-8, so the error record has it");

    for (name, given, stdin) in [("file", file, &b""[..]), ("stdin", "-", &text[..])] {
        let out = dir.path().join(name);
        let o = assay(
            &[
                "report",
                given,
                "--as-of",
                AS_OF,
                "--out",
                out.to_str().unwrap(),
            ],
            stdin,
        );
        let said = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {said}");
        assert!(
            said.contains(&format!("with {lines} organisation ")),
            "{name}: {said}"
        );
        let index = page(&out, "index.html");
        assert!(index.contains("data-figure=\"error_records\">1<"), "{name}");
        let org = page(&out, &format!("org-{id}.html"));
        assert!(org.contains(message), "{name}: {message}");
        assert!(org.contains("line 3 of the input"), "{name}");
    }
}

/// Issue 6 and README ("Spreadsheets with your own headers"): `fixtures/clients.xlsx` holds a
/// consultant's own headers, which `fixtures/clients.columns.json` maps to facts fields; one of
/// its clients ("Parent") is owned by another. `report` takes `--columns` as `assess` does: a
/// report of the workbook has a page for each organisation `assess` assesses with the same
/// mapping, under its id, and a page for the one group; without the mapping no id is read
/// (pages by line, the records being error records: exit code 1, README "Reports for clients
/// and boards") and no group is seen. Assessments reported with the workbook as `--facts`
/// get the group page only with the mapping too.
#[test]
fn a_workbook_with_its_own_headers_is_reported_with_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let workbook = "fixtures/clients.xlsx";
    let mapping = ["--columns", "fixtures/clients.columns.json"];
    let o = run_assay(&[&["assess", workbook, "--as-of", AS_OF], &mapping[..]].concat());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let assessed = dir.path().join("assessed.jsonl");
    std::fs::write(&assessed, &o.stdout).unwrap();
    let ids: Vec<String> = json_lines(&o.stdout)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();

    let report = |name: &str, args: &[&str], exit: i32| {
        let out = dir.path().join(name);
        let out_arg = out.to_str().unwrap().to_owned();
        let o = run_assay(&[&["report", "--as-of", AS_OF, "--out", &out_arg][..], args].concat());
        let said = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(exit), "{name}: {said}");
        out
    };
    let with = report("with", &[&[workbook][..], &mapping[..]].concat(), 0);
    for id in &ids {
        page(&with, &format!("org-{id}.html"));
    }
    let groups = |out: &Path| {
        std::fs::read_dir(out)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("group-")
            })
            .count()
    };
    assert_eq!(groups(&with), 1);

    let without = report("without", &[workbook], 1);
    assert_eq!(groups(&without), 0);
    assert!(!without.join(format!("org-{}.html", ids[0])).exists());

    let assessed = assessed.to_str().unwrap();
    let facts = report(
        "facts",
        &[&[assessed, "--facts", workbook][..], &mapping[..]].concat(),
        0,
    );
    assert_eq!(groups(&facts), 1);
    let no_facts_mapping = report("facts-without", &[assessed, "--facts", workbook], 0);
    assert_eq!(groups(&no_facts_mapping), 0);
}

/// README "Reports for clients and boards": `report` takes the assessments `assess` wrote. A
/// file of them that a tool has given a byte-order mark and an empty first line, or a first line
/// of a no-break space, is still read as assessments (the same pages as the file as written, and
/// good for `--previous`), not assessed again as if its records were facts.
#[test]
fn assessments_after_a_byte_order_mark_or_white_space_are_still_assessments() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_assay(&["assess", "fixtures/portfolio.csv", "--as-of", AS_OF]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let assessed = o.stdout;
    let pages = |name: &str, opening: &[u8]| {
        let file = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&file, [opening, &assessed[..]].concat()).unwrap();
        let out = dir.path().join(name);
        let o = run_assay(&[
            "report",
            file.to_str().unwrap(),
            "--previous",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let said = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{name}: {said}");
        let mut names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| (page(&out, &n), n))
            .collect::<Vec<_>>()
    };
    let as_written = pages("as-written", b"");
    assert!(as_written.len() > 80, "an organisation page each");
    assert!(
        as_written == pages("bom", b"\xef\xbb\xbf\n"),
        "after a byte-order mark"
    );
    assert!(
        as_written == pages("nbsp", "\u{a0}\n".as_bytes()),
        "after a no-break space"
    );
}
