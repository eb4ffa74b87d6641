//! Hostile and broken packs: DESIGN.md "Sandbox". A pack that breaks a limit fails the entity it
//! was evaluating with an error naming pack, file, line and decision; the batch goes on. A pack
//! that cannot compile stops the run before any record is read.

mod common;

use assay::evaluate::Evaluator;
use assay::pack::PackSet;
use assay::read::Format;
use common::*;

/// A copy of the shipped nis2 pack in a temporary folder, with `classify` replaced by `body`
/// when the entity type is `machinery_manufacturer`, so other records still take the real path,
/// and `functions` appended to the script.
fn pack_with(body: &str, functions: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = root().join("rules/nis2");
    copy_dir(&src, &dir.path().join("nis2"));
    let scope = dir.path().join("nis2/scope.rhai");
    let text = std::fs::read_to_string(&scope).unwrap();
    let hook = "    if !in_union {";
    let patched = text.replacen(
        hook,
        &format!("    if entity_type == \"machinery_manufacturer\" {{\n{body}\n    }}\n{hook}"),
        1,
    );
    std::fs::write(&scope, format!("{patched}\n{functions}\n")).unwrap();
    dir
}

const BATCH: &str = r#"{"id": "a", "established_in": ["FR"], "provides_services_in": ["FR"], "employees": 300, "activities": [{"entity_type": "air_carrier"}]}
{"id": "m", "established_in": ["DE"], "provides_services_in": ["DE"], "employees": 300, "activities": [{"entity_type": "machinery_manufacturer"}]}
{"id": "b", "established_in": ["FR"], "provides_services_in": ["FR"], "employees": 20, "annual_turnover_eur": 1000000, "balance_sheet_eur": 1000000, "activities": [{"entity_type": "dns_service_provider"}]}
"#;

/// Runs the batch with the patched pack; returns the error of record `m` and checks the others.
fn run_failing(body: &str, functions: &str) -> String {
    let dir = pack_with(body, functions);
    let evaluator = Evaluator::new(PackSet::from_dir(dir.path()).expect("load")).expect("compile");
    let out = assay::pipeline::assess_text(BATCH, Format::Jsonl, &evaluator, validator(), AS_OF);
    assert_eq!(out.len(), 3, "one output per input");
    assert_eq!(classification(&out[0]), "essential"); // large Annex I air carrier, Art. 3(1)(a)
    assert_eq!(classification(&out[2]), "essential"); // DNS at any size, Art. 3(1)(b)
    assert!(out[1].nis2.is_none());
    let message = out[1].errors[0].message.clone();
    assert!(
        message.contains("nis2") && message.contains("scope.rhai"),
        "{message}"
    );
    assert!(
        message.contains("classification"),
        "names the decision: {message}"
    );
    message
}

#[test]
fn an_endless_loop_fails_one_record_naming_its_function() {
    // Rhai reports no position for the operation limit, so the function stands in for the line.
    let message = run_failing("        let n = 0; loop { n += 1; }", "");
    assert!(message.contains("`classify`"), "{message}");
    assert!(message.to_lowercase().contains("operations"), "{message}");
}

/// An empty endless loop gives no position in Rhai; the error still names the file, the
/// function and the limit.
#[test]
fn an_empty_endless_loop_fails_one_record() {
    let message = run_failing("        loop { }", "");
    assert!(
        message.contains("`classify`") && message.contains("Too many operations"),
        "{message}"
    );
}

#[test]
fn deep_recursion_fails_one_record() {
    // Rhai reports the call-depth limit without a position or the recursing function's name;
    // the error names the pack, the file and the decision.
    let message = run_failing("        return deep(1);", "fn deep(n) { deep(n + 1) }");
    assert!(message.contains("Stack overflow"), "{message}");
}

#[test]
fn a_huge_string_fails_one_record() {
    let message = run_failing("        let s = \"x\"; loop { s += s; }", "");
    assert!(
        message.to_lowercase().contains("length") || message.contains("too large"),
        "{message}"
    );
}

#[test]
fn an_unknown_rule_id_fails_one_record() {
    let message = run_failing("        return \"art99_made_up\";", "");
    assert!(
        message.contains("art99_made_up") && message.contains("rules.json"),
        "{message}"
    );
}

#[test]
fn a_wrong_return_type_fails_one_record() {
    let message = run_failing("        return 42;", "");
    assert!(
        message.contains("must return the id of a rule"),
        "{message}"
    );
}

#[test]
fn a_syntax_error_stops_before_any_record() {
    let dir = pack_with("        let x = ;", "");
    let error = Evaluator::new(PackSet::from_dir(dir.path()).unwrap())
        .err()
        .expect("fails");
    let text = error.to_string();
    assert!(
        text.contains("nis2") && text.contains("scope.rhai:13:17"),
        "{text}"
    );
}

#[test]
fn an_undeclared_variable_is_a_compile_error() {
    let dir = pack_with("        return no_such_fact;", "");
    let error = Evaluator::new(PackSet::from_dir(dir.path()).unwrap())
        .err()
        .expect("fails");
    assert!(error.to_string().contains("no_such_fact"), "{error}");
}

#[test]
fn import_and_eval_are_not_available() {
    for body in ["        import \"x\" as y;", "        return eval(\"1\");"] {
        let dir = pack_with(body, "");
        let result = Evaluator::new(PackSet::from_dir(dir.path()).unwrap());
        assert!(result.is_err(), "`{body}` must not compile");
    }
}

// The limit errors Rhai leaves without a position are placed by running the call again under a
// debugger (operation counts, not time, so it fails the same way): file, line and column of the
// last step before the limit.

#[test]
fn an_endless_loop_is_placed_on_its_line() {
    // The patched body is line 13 of scope.rhai (see `pack_with`); `n += 1` is at column 32.
    let message = run_failing("        let n = 0; loop { n += 1; }", "");
    assert!(message.contains("scope.rhai:13:"), "{message}");
}

#[test]
fn deep_recursion_is_placed_in_the_recursing_function() {
    let message = run_failing("        return deep(1);", "fn deep(n) { deep(n + 1) }");
    // `pack_with` adds three lines and a blank one, then the function: it is named and placed.
    let lines = std::fs::read_to_string(root().join("rules/nis2/scope.rhai"))
        .unwrap()
        .lines()
        .count();
    let expected = format!("scope.rhai:{}:", lines + 5);
    assert!(
        message.contains(&expected) && message.contains("`deep`"),
        "{message}"
    );
}

#[test]
fn a_huge_array_is_placed_on_its_line() {
    let message = run_failing("        let a = [1]; loop { a += a; }", "");
    assert!(
        message.contains("scope.rhai:13:") && message.to_lowercase().contains("array"),
        "{message}"
    );
}

#[test]
fn reading_a_property_that_does_not_exist_fails_one_record_with_its_position() {
    // Facts reach scripts as parameters, so an unknown fact is a compile error (test above); a
    // property missing from a map fails at run time instead of reading as nothing.
    let message = run_failing("        let m = #{a: 1};\n        return m.b;", "");
    assert!(message.contains("scope.rhai:14:"), "{message}");
    assert!(message.contains("Property not found: b"), "{message}");
}
