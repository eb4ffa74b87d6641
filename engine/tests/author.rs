//! The rule author's toolkit (issue 4): pack check, pack test with coverage, explain, pack diff,
//! overlays, and the loader's refusals. Broken packs are copies of the shipped ones with one
//! defect each, so every test names the defect it plants.

mod common;

use assay::author::{check, diff, explain, test};
use assay::evaluate::Evaluator;
use assay::pack::{Pack, PackSet};
use assay::read::Format;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A copy of a shipped pack in a temporary folder, with `edit` applied to one of its files.
fn pack_copy(
    id: &str,
    file: &str,
    edit: impl Fn(String) -> String,
) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(id);
    copy_dir(&root().join("rules").join(id), &dir);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit must change {file}");
    std::fs::write(&path, edited).unwrap();
    (tmp, dir)
}

/// The shipped pack folders (those with a pack.json).
fn shipped_pack_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("pack.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_shipped_pack_passes_check() {
    let dirs = shipped_pack_dirs();
    assert!(dirs.len() >= 2, "nis2 and nis2-be at least: {dirs:?}");
    for dir in dirs {
        let errors: Vec<String> = check::check(&dir)
            .iter()
            .filter(|f| f.severity == miette::Severity::Error)
            .map(|f| f.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", dir.display());
    }
}

#[test]
fn every_shipped_pack_passes_its_tests_with_full_rule_coverage() {
    for dir in shipped_pack_dirs() {
        let report = test::run(&dir, true).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert!(
            report.failures.is_empty(),
            "{}: {:#?}",
            dir.display(),
            report.failures
        );
        assert!(report.passed > 0, "{} has cases", dir.display());
        let coverage = report.coverage.unwrap();
        assert!(
            coverage.rules_not_reached.is_empty(),
            "{}: rules no case reaches: {:?}",
            dir.display(),
            coverage.rules_not_reached
        );
    }
}

#[test]
fn nis2_cases_reach_all_28_rules_and_every_script_line() {
    // 28 = the rules of rules/nis2/tables/rules.json (22 classification, 6 jurisdiction).
    let report = test::run(&root().join("rules/nis2"), true).unwrap();
    let coverage = report.coverage.unwrap();
    assert_eq!(coverage.rules_total, 28);
    assert!(coverage.lines_total > 40, "{}", coverage.lines_total);
    assert_eq!(coverage.lines_not_reached, Vec::new());
}

#[test]
fn coverage_names_the_lines_and_rules_no_case_reaches() {
    // Drop the two cases that return art3_1_e_designated_essential from public administrations
    // (t25, t26) and the one from an Annex type (t10): the rule and its three lines go uncovered.
    let (_tmp, dir) = pack_copy("nis2", "tests/scope.jsonl", |text| {
        text.lines()
            .filter(|l| !l.contains("\"t10\"") && !l.contains("\"t25\"") && !l.contains("\"t26\""))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let coverage = test::run(&dir, true).unwrap().coverage.unwrap();
    assert_eq!(
        coverage.rules_not_reached,
        vec!["art3_1_e_designated_essential"]
    );
    let lines: Vec<usize> = coverage.lines_not_reached.iter().map(|l| l.1).collect();
    assert_eq!(lines.len(), 3, "{:?}", coverage.lines_not_reached);
    assert!(coverage
        .lines_not_reached
        .iter()
        .all(|(file, _, text)| file == "scope.rhai"
            && text.contains("art3_1_e_designated_essential")));
}

#[test]
fn a_failing_case_shows_expected_against_actual() {
    // t09 is a large Annex I air carrier: essential under Art. 3(1)(a). Expect the wrong class
    // and the wrong rule.
    let (_tmp, dir) = pack_copy("nis2", "tests/scope.jsonl", |text| {
        text.lines()
            .map(|l| {
                if l.contains("\"t09\"") {
                    l.replace("\"essential\"", "\"important\"")
                        .replace("art3_1_a_large_annex_i", "art3_2_medium_or_large")
                } else {
                    l.to_string()
                }
            })
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let report = test::run(&dir, false).unwrap();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.summary(), "25 passed, 1 failed");
    let problems = report.failures[0].problems.join("\n");
    assert!(
        problems.contains("nis2.classification: expected \"important\", got \"essential\""),
        "{problems}"
    );
    assert!(
        problems.contains("rule `art3_2_medium_or_large` expected"),
        "{problems}"
    );
}

fn findings(dir: &Path) -> Vec<String> {
    check::check(dir).iter().map(|f| f.to_string()).collect()
}

#[test]
fn check_reports_a_syntax_error_with_its_position() {
    let broken = "    let annex_type = annex == ;";
    let (_tmp, dir) = pack_copy("nis2", "scope.rhai", |t| {
        t.replacen(
            "    let annex_type = annex == \"I\" || annex == \"II\";",
            broken,
            1,
        )
    });
    let line = std::fs::read_to_string(dir.join("scope.rhai"))
        .unwrap()
        .lines()
        .position(|l| l == broken)
        .unwrap()
        + 1;
    let found = check::check(&dir);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].file.as_str(), found[0].line),
        ("scope.rhai", line)
    );
    let rendered = found[0].render(false);
    assert!(
        rendered.contains(broken.trim()),
        "shows the source line: {rendered}"
    );
    assert!(
        rendered.contains(&format!("scope.rhai:{line}:")),
        "{rendered}"
    );
}

#[test]
fn check_suggests_the_fact_an_unknown_variable_probably_meant() {
    let (_tmp, dir) = pack_copy("nis2", "scope.rhai", |t| {
        t.replacen("    if !in_union {", "    if !in_unoin {", 1)
    });
    let found = check::check(&dir);
    let f = found
        .iter()
        .find(|f| f.message.contains("in_unoin"))
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!((f.file.as_str(), f.line), ("scope.rhai", 12));
    assert!(
        f.hint.as_deref().unwrap_or("").contains("`in_union`"),
        "{f:?}"
    );
}

#[test]
fn check_suggests_a_function_and_a_rule_id() {
    let (_tmp, dir) = pack_copy("nis2", "scope.rhai", |t| {
        t.replacen(
            "        return \"art2_1_outside_union\";",
            "        return \"art2_1_outside_unoin\";",
            1,
        )
        .replacen(
            "    let trust_service =",
            "    let y = to_uper(\"a\");\n    let trust_service =",
            1,
        )
    });
    let found = check::check(&dir);
    let rule = found
        .iter()
        .find(|f| f.message.contains("art2_1_outside_unoin"))
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(rule
        .hint
        .as_deref()
        .unwrap()
        .contains("`art2_1_outside_union`"));
    assert_eq!(rule.line, 13);
    let function = found
        .iter()
        .find(|f| f.message.contains("unknown function `to_uper`"))
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(
        function.hint.as_deref().unwrap().contains("`to_upper`"),
        "{function:?}"
    );
}

#[test]
fn check_and_the_loader_refuse_arguments_in_another_order() {
    // The defect found by the adversarial run: pack.json could pass (annex, entity_type) to
    // classify(entity_type, annex, ...) and every decision would read the wrong fact.
    let (_tmp, dir) = pack_copy("nis2", "pack.json", |t| {
        t.replacen(
            "\"arguments\": [\"entity_type\", \"annex\",",
            "\"arguments\": [\"annex\", \"entity_type\",",
            1,
        )
    });
    let found = findings(&dir);
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("pack.json:") && f.contains("passes (annex, entity_type")),
        "{found:#?}"
    );
    let error = Evaluator::new(PackSet::from_dir(&dir).unwrap())
        .err()
        .unwrap();
    assert!(error.to_string().contains("another order"), "{error}");
}

#[test]
fn a_choice_of_maybe_is_refused_with_its_line() {
    let (_tmp, dir) = pack_copy("nis2", "pack.json", |t| {
        t.replacen("\"default\": null", "\"default\": \"maybe\"", 1)
    });
    let found = check::check(&dir);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].file, "pack.json");
    let line = std::fs::read_to_string(dir.join("pack.json"))
        .unwrap()
        .lines()
        .position(|l| l.contains("\"maybe\""))
        .unwrap()
        + 1;
    assert_eq!(found[0].line, line);
    assert!(Pack::from_dir(&dir).is_err(), "the loader refuses it too");
}

#[test]
fn check_reports_every_problem_at_once() {
    let (_tmp, dir) = pack_copy("nis2", "pack.json", |t| {
        t.replacen("\"version\": \"1.0.0\"", "\"version\": \"1.0\"", 1)
            .replacen("\"jurisdiction\": \"EU\"", "\"jurisdictoin\": \"EU\"", 1)
    });
    let found = findings(&dir);
    // rules/README.md "Versioning": versions follow semver; the schema's pattern means nothing
    // to a rule author, the three parts do.
    assert!(
        found.iter().any(|f| f.contains(
            "`1.0` is not a semantic version: versions are MAJOR.MINOR.PATCH, three numbers, \
             e.g. `1.0.0`"
        )),
        "{found:#?}"
    );
    assert!(!found.iter().any(|f| f.contains("^(0|")), "{found:#?}");
    assert!(
        found
            .iter()
            .any(|f| f
                .contains("`jurisdictoin` is not a manifest field; did you mean `jurisdiction`?")),
        "{found:#?}"
    );
}

#[cfg(unix)]
#[test]
fn the_loader_refuses_links_pipes_and_huge_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nis2");
    copy_dir(&root().join("rules/nis2"), &dir);

    std::os::unix::fs::symlink("/etc/hostname", dir.join("tables/linked.json")).unwrap();
    let e = Pack::from_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    std::fs::remove_file(dir.join("tables/linked.json")).unwrap();

    let fifo = dir.join("pipe.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.map(|s| s.success()).unwrap_or(false) {
        // Reading a pipe would block the run; the loader must refuse it without opening it.
        let e = Pack::from_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::remove_file(&fifo).unwrap();
    }

    let big = vec![b' '; (assay::pack::MAX_FILE_BYTES + 1) as usize];
    std::fs::write(dir.join("big.json"), big).unwrap();
    let e = Pack::from_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("larger than 4 MiB"), "{e}");
}

#[test]
fn diff_lists_the_organisations_a_new_version_changes() {
    // NEW: version 1.1.0 where every member state makes former NIS1 operators of essential
    // services essential (Art. 3(1)(g) answered yes). In the fixture portfolio pf-074 is a
    // former NIS1 operator left `undetermined` by the directive as written.
    let (_tmp, new) = pack_copy("nis2", "pack.json", |t| {
        t.replacen("\"version\": \"1.0.0\"", "\"version\": \"1.1.0\"", 1)
            .replacen(
                "\"description\": \"whether the member state makes entities it identified as operators of essential services under NIS1 before 16 January 2023 essential\",\n      \"default\": null",
                "\"description\": \"whether the member state makes entities it identified as operators of essential services under NIS1 before 16 January 2023 essential\",\n      \"default\": true",
                1,
            )
    });
    let text = fixture("portfolio.csv");
    let d = diff::diff(&root().join("rules/nis2"), &new, &text, Format::Csv, AS_OF).unwrap();
    let records = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(d.assessed, records);
    assert_eq!(d.old.version, "1.0.0");
    assert_eq!(d.new.version, "1.1.0");
    let expected_line = fixture("portfolio.expected.csv")
        .lines()
        .find(|l| l.starts_with("pf-074,"))
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .unwrap();
    assert_eq!(
        expected_line, "undetermined",
        "fixtures/portfolio.expected.csv"
    );
    assert_eq!(d.changes.len(), 1, "{:#?}", d.changes);
    let c = &d.changes[0];
    assert_eq!(
        (c.id.as_str(), c.from.as_str(), c.to.as_str()),
        ("pf-074", "undetermined", "essential")
    );
    assert!(d
        .render()
        .contains("pf-074 (line 75): undetermined → essential"));
}

#[test]
fn explain_lists_the_rules_in_order_with_the_facts_they_read() {
    let text = fixture("portfolio.csv");
    let portfolio = assay::read::stream::Input::from_text(&text, Format::Csv);
    let e = Evaluator::new(PackSet::shipped().unwrap()).unwrap();
    let out = explain::explain(&portfolio, &e, validator(), AS_OF, "pf-011", false).unwrap();
    // pf-011: essential, large Annex I, established in AT (fixtures/portfolio.expected.csv).
    assert!(out.contains("NIS2: essential"), "{out}");
    let size = out.find("1. size_class").expect("size first");
    let rule = out.find("art3_1_a_large_annex_i").expect("Art. 3(1)(a)");
    let place = out.find("art26_1_establishment").expect("Art. 26(1)");
    assert!(size < rule && rule < place, "{out}");
    assert!(out.contains("size_class=\"large\""), "{out}");
    assert!(out.contains("[NIS2 Art. 3(1)(a)]"), "{out}");
    assert!(!out.contains("every call"), "short by default");

    let full = explain::explain(&portfolio, &e, validator(), AS_OF, "pf-011", true).unwrap();
    assert!(full.contains("every call into a pack"), "{full}");
    assert!(full.contains("\"classification\": \"essential\""));

    let missing = explain::explain(&portfolio, &e, validator(), AS_OF, "pf-11", false);
    assert!(missing.unwrap_err().contains("did you mean `pf-011`?"));
}

#[test]
fn an_overlay_names_both_packs_and_its_overrides_apply() {
    let packs = PackSet::shipped().unwrap();
    let e = Evaluator::with_overlays(packs.clone(), &["nis2-be".to_string()]).unwrap();
    let refs = e.pack_refs();
    let ids: Vec<&str> = refs.iter().map(|p| p.id.as_str()).collect();
    // The base pack, then the overlay applied to it, then the other packs used.
    assert_eq!(ids[..2], ["nis2", "nis2-be"]);
    assert_eq!(refs[1].sha256, packs.get("nis2-be").unwrap().sha256());
    let carve_out = &e.nis2_pack().manifest.parameters["recital16_carve_out"];
    assert_eq!(carve_out.choice_in("BE"), Some(true));
    // Belgium's choice, not every member state's.
    assert_eq!(carve_out.choice_in("ES"), Some(false));
    let plain = Evaluator::new(packs.clone()).unwrap();
    assert!(plain.pack_refs().iter().all(|p| p.id != "nis2-be"));
    assert_eq!(plain.pack_refs().len() + 1, refs.len());

    let unknown = Evaluator::with_overlays(packs.clone(), &["nis2-bel".to_string()])
        .err()
        .unwrap();
    assert!(
        unknown
            .to_string()
            .contains("the only overlay loaded is `nis2-be`"),
        "{unknown}"
    );

    // An overlay for a member state with none shipped: not `nis2` (a base pack, not an
    // overlay), but the overlays there are and how to write one (rules/README.md, "Overlays").
    let france = Evaluator::with_overlays(packs, &["nis2-fr".to_string()])
        .err()
        .unwrap()
        .to_string();
    assert!(!france.contains("did you mean"), "{france}");
    assert!(france.contains("`nis2-be`"), "{france}");
    assert!(
        france.contains("\"Overlays\" in rules/README.md") && france.contains("--packs"),
        "{france}"
    );
}

#[test]
fn an_override_of_a_member_state_choice_changes_the_outcome() {
    // A former NIS1 operator, medium, Annex I, in DE: undetermined under the directive as
    // written (Art. 3(1)(g) is a member-state choice); an overlay answering yes for DE makes it
    // essential, and nothing else.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nis2-xx");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = std::fs::read_to_string(root().join("rules/nis2-be/pack.json"))
        .unwrap()
        .replace("\"id\": \"nis2-be\"", "\"id\": \"nis2-xx\"")
        .replace(
            "\"recital16_carve_out\": { \"BE\": true }\n",
            "\"recital16_carve_out\": { \"BE\": true },\n    \"nis1_operators_essential\": { \"DE\": true }\n",
        );
    std::fs::write(dir.join("pack.json"), manifest).unwrap();
    let mut packs = PackSet::shipped().unwrap();
    packs.insert(Pack::from_dir(&dir).unwrap()).unwrap();
    let facts = r#"{"id": "o", "established_in": ["DE"], "provides_services_in": ["DE"], "employees": 100, "annual_turnover_eur": 20000000, "balance_sheet_eur": 20000000, "activities": [{"entity_type": "healthcare_provider"}], "designations": {"nis1_operator_of_essential_services": true}}"#;
    let run = |overlays: &[String]| {
        let e = Evaluator::with_overlays(packs.clone(), overlays).unwrap();
        let out = assay::pipeline::assess_text(facts, Format::Jsonl, &e, validator(), AS_OF);
        classification(&out[0]).to_string()
    };
    assert_eq!(run(&[]), "undetermined");
    assert_eq!(run(&["nis2-xx".to_string()]), "essential");

    // An override of a parameter nobody declares is refused, with a suggestion.
    let bad = std::fs::read_to_string(dir.join("pack.json"))
        .unwrap()
        .replace(
            "\"nis1_operators_essential\": { \"DE\": true }",
            "\"nis1_operator_essential\": { \"DE\": true }",
        );
    std::fs::write(dir.join("pack.json"), bad).unwrap();
    let mut packs = PackSet::shipped().unwrap();
    packs.insert(Pack::from_dir(&dir).unwrap()).unwrap();
    let e = Evaluator::with_overlays(packs, &["nis2-xx".to_string()])
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("did you mean `nis1_operators_essential`?"),
        "{e}"
    );
}

#[test]
fn an_overlay_on_the_wrong_base_version_is_refused() {
    let (_tmp, dir) = pack_copy("nis2-be", "pack.json", |t| {
        t.replace("\"^1.0\"", "\"^2.0\"")
    });
    let mut packs = PackSet::shipped().unwrap();
    packs.packs.remove("nis2-be");
    packs.insert(Pack::from_dir(&dir).unwrap()).unwrap();
    let e = Evaluator::new(packs).err().unwrap();
    assert!(
        e.to_string()
            .contains("depends on `nis2` ^2.0, but version 1.0.0 is loaded"),
        "{e}"
    );
}

fn assay(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_commands() {
    let (code, out, _) = assay(&["pack", "check", "rules/nis2"]);
    assert_eq!((code, out.trim()), (0, "rules/nis2: ok (0 warnings)"));

    let (code, out, _) = assay(&["pack", "test", "rules/nis2", "--coverage"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("26 passed, 0 failed"), "{out}");
    assert!(out.contains("28 of 28 rules reached"), "{out}");

    let (code, out, _) = assay(&[
        "explain",
        "fixtures/portfolio.csv",
        "--id",
        "pf-011",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("art3_1_a_large_annex_i"), "{out}");

    let (code, out, _) = assay(&[
        "assess",
        "fixtures/portfolio.csv",
        "--overlay",
        "nis2-be",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 0);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["packs"][1]["id"], "nis2-be");

    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("nis2");
    copy_dir(&root().join("rules/nis2"), &broken);
    std::fs::write(broken.join("scope.rhai"), "fn classify( {").unwrap();
    let (code, out, err) = assay(&["pack", "check", broken.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("scope.rhai:1:"), "{err}");
}

#[test]
fn the_pack_hash_is_the_same_embedded_and_on_disk() {
    // One way everywhere (issue 4, item 1): the shipped (embedded) packs and the same folders
    // read from disk hash alike, and the assessment carries that hash.
    let shipped = PackSet::shipped().unwrap();
    for dir in shipped_pack_dirs() {
        let disk = Pack::from_dir(&dir).unwrap();
        let embedded = shipped.get(&disk.manifest.id).unwrap();
        assert_eq!(disk.sha256(), embedded.sha256(), "{}", dir.display());
    }
    let a = assess_one(&serde_json::json!({"id": "h"}));
    assert_eq!(a.packs[0].sha256, shipped.get("nis2").unwrap().sha256());
}

#[test]
fn a_case_that_breaks_the_case_schema_is_named_with_its_line() {
    let (_tmp, dir) = pack_copy("soc2", "tests/need-and-type.jsonl", |t| {
        format!("{t}{{\"name\": \"no source\", \"facts\": {{\"id\": \"x\"}}}}\n")
    });
    let e = test::run(&dir, false).unwrap_err();
    assert!(
        e.contains("tests/need-and-type.jsonl:8:") && e.contains("source"),
        "{e}"
    );
}

#[test]
fn the_belgian_cases_fail_without_the_overlay_choice() {
    // The nis2-be cases are not tautologies: with the recital 16 override set back to the
    // directive as written (false), the carve-out case fails.
    let (_tmp, dir) = pack_copy("nis2-be", "pack.json", |t| {
        t.replace(
            "\"recital16_carve_out\": { \"BE\": true }",
            "\"recital16_carve_out\": { \"BE\": false }",
        )
    });
    let report = test::run(&dir, false).unwrap();
    assert_eq!(report.failures.len(), 1, "{:#?}", report.failures);
    assert!(report.failures[0].problems[0].starts_with("nis2.carve_out.classification"));
}

#[test]
fn check_finds_an_entity_type_no_table_knows() {
    // A misspelt entity type in a switch never matches: the DNS provider would fall through to
    // the size cap. tables/entity-types.json knows `dns_service_provider`.
    let (_tmp, dir) = pack_copy("nis2", "scope.rhai", |t| {
        t.replacen(
            "\"dns_service_provider\" => return",
            "\"dns_servce_provider\" => return",
            1,
        )
    });
    let found = check::check(&dir);
    let f = found
        .iter()
        .find(|f| f.message.contains("`dns_servce_provider`"))
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(f.severity, miette::Severity::Error);
    assert!(
        f.hint
            .as_deref()
            .unwrap()
            .contains("`dns_service_provider`"),
        "{f:?}"
    );
    let line = std::fs::read_to_string(dir.join("scope.rhai"))
        .unwrap()
        .lines()
        .position(|l| l.contains("dns_servce_provider"))
        .unwrap()
        + 1;
    assert_eq!((f.line, f.column), (line, 9));
}

#[test]
fn a_new_major_version_is_tested_and_diffed_without_the_overlays_it_breaks() {
    // nis2 2.0.0 under work: the shipped nis2-be requires ^1.0, so it is set aside rather than
    // stopping `pack test` and `pack diff`.
    let (_tmp, dir) = pack_copy("nis2", "pack.json", |t| {
        t.replacen("\"version\": \"1.0.0\"", "\"version\": \"2.0.0\"", 1)
    });
    let report = test::run(&dir, false).unwrap();
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    let text = fixture("portfolio.csv");
    let d = diff::diff(&root().join("rules/nis2"), &dir, &text, Format::Csv, AS_OF).unwrap();
    assert_eq!(d.new.version, "2.0.0");
    assert!(d.changes.is_empty(), "the same rules: {:#?}", d.changes);
}

#[test]
fn diff_applies_an_overlay_to_its_base() {
    // nis2-be 1.0.0 against a 1.1.0 that also answers Art. 3(1)(g) yes for Italy: pf-074, a
    // former NIS1 operator under Italian jurisdiction left undetermined by the directive as
    // written (fixtures/portfolio.expected.csv), becomes essential.
    let (_tmp, new) = pack_copy("nis2-be", "pack.json", |t| {
        t.replace("\"version\": \"1.0.0\"", "\"version\": \"1.1.0\"").replace(
            "\"recital16_carve_out\": { \"BE\": true }",
            "\"recital16_carve_out\": { \"BE\": true },\n    \"nis1_operators_essential\": { \"IT\": true }",
        )
    });
    let text = fixture("portfolio.csv");
    let d = diff::diff(
        &root().join("rules/nis2-be"),
        &new,
        &text,
        Format::Csv,
        AS_OF,
    )
    .unwrap();
    let changed: Vec<(&str, &str, &str)> = d
        .changes
        .iter()
        .map(|c| (c.id.as_str(), c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(changed, vec![("pf-074", "undetermined", "essential")]);
}

/// A soc2 rule table with two rows deciding what no soc2 rule decides: the error names the first
/// of them, whatever order the rules are kept in (DESIGN.md "Behaviour on bad input": errors name
/// what would fix them, the same on every run).
#[test]
fn a_soc2_rule_with_an_unknown_outcome_is_named_in_table_order() {
    let (_tmp, dir) = pack_copy("soc2", "tables/rules.json", |t| {
        t.replacen("\"outcome\": \"not_needed\"", "\"outcome\": \"maybe\"", 1)
            .replace("\"outcome\": \"type1\"", "\"outcome\": \"type3\"")
    });
    for _ in 0..8 {
        let mut packs = PackSet::shipped().unwrap();
        packs.packs.remove("soc2");
        packs.insert(Pack::from_dir(&dir).unwrap()).unwrap();
        let e = Evaluator::new(packs).err().unwrap().to_string();
        assert!(
            e.contains("rule `need_not_service_organisation` has outcome `maybe`"),
            "{e}"
        );
    }
}

/// `explain` reads a portfolio as `assess` reads it: a workbook with a column mapping, and a JSON
/// Lines file with a line that is not UTF-8, which is an error record of its own while the other
/// records are explained (DESIGN.md "Behaviour on bad input": bad input loses nothing else).
/// Each explanation states the classification `assess` gives the same record.
#[test]
fn explain_reads_what_assess_reads() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(args)
            .args(["--as-of", AS_OF])
            .current_dir(root())
            .output()
            .expect("assay runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.code(),
            String::from_utf8(out.stdout).expect("UTF-8"),
            stderr,
        )
    };
    let assessed = |args: &[&str], line: usize| {
        let (_, out, _) = run(args);
        let record: serde_json::Value =
            serde_json::from_str(out.lines().nth(line).expect("a record")).expect("JSON");
        record["nis2"]["classification"]
            .as_str()
            .expect("a class")
            .to_string()
    };

    let workbook = [
        "fixtures/clients.xlsx",
        "--columns",
        "fixtures/clients.columns.json",
    ];
    let class = assessed(&[&["assess"][..], &workbook[..]].concat(), 0);
    let (code, out, stderr) =
        run(&[&["explain"][..], &workbook[..], &["--id", "c-01"][..]].concat());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.starts_with("c-01 (line 2)"), "{out}");
    assert!(out.contains(&format!("NIS2: {class}")), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.jsonl");
    // The name's `ü` written in Latin-1: the one byte 0xFC, which is not UTF-8.
    let mut text = b"{\"id\":\"latin\",\"name\":\"M\xFCller\"}\n".to_vec();
    let generated = assay::gen::portfolio_jsonl(3, 7);
    text.extend_from_slice(generated.lines().nth(1).expect("a line").as_bytes());
    text.push(b'\n');
    std::fs::write(&path, &text).unwrap();
    let file = path.to_str().unwrap();
    let id: serde_json::Value = serde_json::from_str(generated.lines().nth(1).unwrap()).unwrap();
    let id = id["id"].as_str().unwrap();
    let class = assessed(&["assess", file], 1);
    let (code, out, stderr) = run(&["explain", file, "--id", id]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.starts_with(&format!("{id} (line 2)")), "{out}");
    assert!(out.contains(&format!("NIS2: {class}")), "{out}");
    let (code, out, stderr) = run(&["explain", file, "--id", "latin"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        out.contains("error (read): this line is not UTF-8"),
        "{out}"
    );
}
