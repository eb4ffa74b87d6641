//! The `assay` binary on real files: the README's command, bad input, exit codes.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

fn assay(args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("assay runs");
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        records,
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn readme_command_assesses_the_fixture_portfolio() {
    let (code, records, stderr) = assay(&["assess", "fixtures/portfolio.csv", "--as-of", AS_OF]);
    assert_eq!(code, 0, "{stderr}");
    let rows = fixture("portfolio.csv").lines().count() - 1;
    assert_eq!(records.len(), rows);
    assert!(
        stderr.contains("essential") && stderr.contains("assessed"),
        "{stderr}"
    );
    let pack = &records[0]["packs"][0];
    assert_eq!(pack["id"], "nis2");
    assert_eq!(pack["sha256"].as_str().map(str::len), Some(64));
    // Issue 3: the full pipeline: every record names the four packs and carries all three
    // decisions (DESIGN.md output contract).
    let ids: Vec<&str> = records[0]["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["nis2", "soc2", "controls", "plan"]);
    for r in &records {
        assert!(
            r["nis2"].is_object() && r["soc2"].is_object() && r["plan"].is_object(),
            "{}",
            r["id"]
        );
        // The default record lists at most 5 actions (DEFAULT_PLAN_ACTIONS) and counts them all.
        let listed = r["plan"]["actions"].as_array().unwrap().len();
        assert!(listed <= 5 && r["plan"]["summary"]["listed"] == listed);
    }
}

#[test]
fn markdown_documents_for_management() {
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args([
            "assess",
            "fixtures/portfolio.csv",
            "--as-of",
            AS_OF,
            "--format",
            "md",
        ])
        .current_dir(root())
        .output()
        .expect("assay runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows = fixture("portfolio.csv").lines().count() - 1;
    assert_eq!(
        text.matches("\n# pf-").count() + usize::from(text.starts_with("# pf-")),
        rows
    );
    // pf-019: an ISO-certified essential hospital: the determination in words with its grounds,
    // the SOC 2 answer, and a plan whose actions are the NIS2-only items (Art. 20, 23, ...).
    let doc = text
        .split("---\n")
        .find(|d| d.contains("# pf-019"))
        .expect("pf-019 document");
    assert!(doc.contains("an **essential entity** under NIS2"), "{doc}");
    assert!(doc.contains("NIS2 Art. 3(1)(a)"), "{doc}");
    assert!(doc.contains("No SOC 2 report is needed."), "{doc}");
    assert!(doc.contains("### Now (0-3 months)"), "{doc}");
    assert!(
        doc.contains("**N.20.1**") && doc.contains("**N.23.1**"),
        "{doc}"
    );
    assert!(
        !doc.contains("**A.5."),
        "the certificate covers Annex A: {doc}"
    );
}

/// DESIGN.md "Behaviour on bad input": one output per input, in order, error records naming
/// line and field, exit code 1.
#[test]
fn bad_records_yield_error_records_and_exit_code_1() {
    let (code, records, _) = assay(&["assess", "fixtures/bad-records.jsonl", "--as-of", AS_OF]);
    assert_eq!(code, 1);
    let input_lines = fixture("bad-records.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(records.len(), input_lines);
    let lines: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lines,
        (1..=input_lines as u64).collect::<Vec<_>>(),
        "input order"
    );

    let error = |i: usize| records[i]["errors"][0].clone();
    assert_eq!(records[0]["nis2"]["classification"], "important");
    assert_eq!(error(1)["field"], "/employees"); // wrong type
    assert_eq!(error(2)["field"], "/employees"); // negative headcount
    assert!(error(2)["message"]
        .as_str()
        .unwrap()
        .contains("minimum of 0"));
    let misspelt = error(3)["message"].as_str().unwrap().to_string();
    assert!(
        misspelt.contains("did you mean `electricity_distribution_system_operator`"),
        "{misspelt}"
    );
    assert!(
        records[4]["id"].is_null() && error(4)["message"].as_str().unwrap().contains("no \"id\"")
    );
    // Not JSON: said at the column where reading stopped (`this` reads as far as `t`, the
    // start of `true`), without serde_json's "line 1" of the record's own text, which is line 6
    // of the file, and with the form that would read.
    assert_eq!(error(5)["code"], "read");
    let not_json = error(5)["message"].as_str().unwrap().to_string();
    assert!(
        not_json.starts_with("not valid JSON at column 2: expected ident; ")
            && !not_json.contains("line 1")
            && not_json.contains("one JSON object on a line of its own"),
        "{not_json}"
    );
    assert_eq!(records[6]["nis2"]["classification"], "important");
    assert!(error(7)["message"].as_str().unwrap().contains("`GB`"));
    assert!(error(8)["message"]
        .as_str()
        .unwrap()
        .contains("already used by the record on line 1"));
}

/// DESIGN.md "Behaviour on bad input": errors name the record. A JSON array cut into lines
/// by hand leaves a comma after each object; such a line is an error record (it is not one
/// JSON object), named by the id and name of the object it begins with; a line cut short is
/// named by the id written before the cut. Each takes part in ownership under that id, as an
/// error record whose holdings cannot be read (`group::aggregate`): the record that names
/// `t-1` as its owner is told that no valid record of the batch has that id, as for any owner
/// whose record has errors.
#[test]
fn a_record_followed_by_other_text_is_named_in_its_error_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "cut.jsonl",
        concat!(
            r#"{"id":"t-0","established_in":["DE"],"provides_services_in":["DE"],"#,
            r#""employees":30,"annual_turnover_eur":5e6,"balance_sheet_eur":5e6,"#,
            r#""activities":[{"entity_type":"other"}],"owners":[{"id":"t-1","share_pct":60}]}"#,
            "\n",
            r#"{"id":"t-1","name":"Trail Ltd","established_in":["DE"]},"#,
            "\n",
            r#"{"id":"t-2","#,
            "\n",
        )
        .as_bytes(),
    );
    let (code, records, stderr) = assay(&["assess", &path, "--as-of", AS_OF]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 3);
    assert!(records[1]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("trailing characters"));
    assert_eq!(
        (&records[1]["id"], &records[1]["name"]),
        (&json!("t-1"), &json!("Trail Ltd"))
    );
    assert_eq!(records[2]["errors"][0]["code"], "read");
    assert_eq!(records[2]["id"], "t-2");
    let group = &records[0]["errors"][0];
    assert_eq!(
        (&group["code"], &group["field"]),
        (&json!("group"), &json!("/owners/0"))
    );
    assert!(group["message"]
        .as_str()
        .unwrap()
        .contains("`t-1` is not the id of any valid organisation in this batch"));
}

/// Finding (a helper's hostile-input check): the header of a file that is not what it seems
/// (a binary file read as CSV) reached the terminal as it was, in the "is not a facts field"
/// warning, so its bytes could move the cursor or retitle the terminal. Control characters are
/// shown escaped; the rest of the warning is as before.
#[test]
fn control_characters_in_a_header_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "odd.csv",
        b"id,\x1b]0;owned\x07colour\x1b[31m\nx-1,red\n",
    );
    let (_, records, stderr) = assay(&["assess", &path, "--as-of", AS_OF]);
    assert_eq!(records.len(), 1, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(
        stderr.contains("column `\\u{1b}]0;owned\\u{7}colour\\u{1b}[31m` is not a facts field"),
        "{stderr}"
    );
}

/// Finding (a helper's hostile-input check): `assay assess /dev/zero` read for ever, its first
/// pass never ending. A device is refused at once (exit 2, DESIGN.md "Behaviour on bad
/// input": usage errors), saying what to give instead; `/dev/null` too, which holds nothing.
#[cfg(unix)]
#[test]
fn a_device_is_refused_as_a_portfolio() {
    for device in ["/dev/null", "/dev/zero"] {
        let (code, records, stderr) = assay(&["assess", device, "--as-of", AS_OF]);
        assert_eq!(code, 2, "{device}: {stderr}");
        assert!(records.is_empty());
        assert!(
            stderr.contains(&format!("`{device}` is a device, not a portfolio file")),
            "{stderr}"
        );
    }
}

/// DESIGN.md "Unknown is not false" with Rec. 2003/361/EC Annex Arts. 3 and 6: `P` holds 60 %
/// of `J` (linked, Art. 3(3)(a)) and `X` holds 30 % of `J` (a partner of `J`, Art. 3(2)), so
/// `P`'s size adds `X`'s figures in proportion (Art. 6(3)). `X`'s line is broken, so its
/// figures are unknown: `P`, a cloud computing service provider (NIS2 Annex I point 8) at 200
/// AWU and EUR 40 m with `J` alone (medium, Annex Art. 2(2); important, NIS2 Art. 3(2)), may
/// be large with `X` (essential, Art. 3(1)(a)), and is left open naming `X`'s record. (Before,
/// a line that is not JSON took no part in ownership, and `P` came out `important` as if `X`
/// did not exist.) Both ways the first reading takes a line's id are tried: from its start
/// alone, and reading it through (a backslash in a string sends it that way).
#[test]
fn a_broken_line_still_counts_in_its_ownership_group() {
    let dir = tempfile::tempdir().unwrap();
    let org = |id: &str, entity_type: &str, owners: &str| {
        format!(
            concat!(
                r#"{{"id":"{}","established_in":["DE"],"provides_services_in":["DE"],"#,
                r#""employees":100,"annual_turnover_eur":2e7,"balance_sheet_eur":2e7,"#,
                r#""activities":[{{"entity_type":"{}"}}]{}}}"#
            ),
            id, entity_type, owners
        )
    };
    for broken in [
        r#"{"id":"X","employees":}"#,
        r#"{"id":"X","name":"X \"Holdings\"","employees":}"#,
    ] {
        let text = [
            org("P", "cloud_computing_service_provider", ""),
            org(
                "J",
                "other",
                r#","owners":[{"id":"P","share_pct":60},{"id":"X","share_pct":30}]"#,
            ),
            broken.to_string(),
        ]
        .join("\n");
        let path = write(dir.path(), "chain.jsonl", text.as_bytes());
        let (code, records, stderr) = assay(&["assess", &path, "--as-of", AS_OF]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(records.len(), 3);
        let p = &records[0]["nis2"];
        assert_eq!(
            p["classification"], "undetermined",
            "{broken}: {}",
            records[0]
        );
        assert_eq!(p["possible"], json!(["essential", "important"]));
        assert_eq!(
            p["missing"],
            json!([
                "the figures of `X` (line 3), an error record in this ownership group: correct it"
            ])
        );
        assert_eq!(records[2]["id"], "X");
        assert_eq!(records[2]["errors"][0]["code"], "read");
    }
}

/// DESIGN.md "Behaviour on bad input" and the batch's rule that ids are unique: a record whose
/// `id` key is written twice is read with the last value (RFC 8259 §4 leaves duplicate names to
/// the reader; serde_json keeps the last), and when that value is an earlier record's id it is
/// a duplicate like any other, whichever spelling comes first.
#[test]
fn an_id_written_twice_is_checked_under_the_value_it_is_read_with() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twice.jsonl");
    let records = assay::gen::portfolio_jsonl(3, 9);
    let lines: Vec<&str> = records.lines().collect();
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    let id = first["id"].as_str().unwrap();
    // The generator writes the id first: the line after it, with the id written twice.
    let again = |line: &str, before: &str, after: &str| {
        assert!(line.starts_with("{\"id\":"), "{line}");
        let rest = line.split_once(',').unwrap().1;
        format!("{{\"id\":\"{before}\",\"id\":\"{after}\",{rest}")
    };
    let text = format!(
        "{}\n{}\n{}\n",
        lines[0],
        again(lines[1], "other-id", id),
        again(lines[2], id, "a-new-id"),
    );
    std::fs::write(&path, text).unwrap();
    let (code, out, _) = assay(&["assess", path.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(code, 1);
    assert!(out[0]["errors"].is_null(), "{}", out[0]);
    assert_eq!(out[1]["id"], id);
    let message = out[1]["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("already used by the record on line 1"),
        "{message}"
    );
    assert_eq!(out[2]["id"], "a-new-id");
    assert!(out[2]["errors"].is_null(), "{}", out[2]);
}

/// DESIGN.md "Behaviour on bad input": every input record yields exactly one output record,
/// nothing is dropped, and the exit code is 1 when some are error records. In a JSON array
/// with a comma missing inside its second object, the first and third organisations are
/// assessed and the second is an error record on its own line, named by the id written before
/// the missing comma (DESIGN.md: errors name the record).
#[test]
fn a_json_array_with_a_broken_object_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "broken.json",
        concat!(
            "[\n",
            r#"  {"id":"a-1","established_in":["DE"],"employees":12},"#,
            "\n",
            r#"  {"id":"a-2" "established_in":["FR"]},"#,
            "\n",
            r#"  {"id":"a-3","established_in":["NL"],"employees":300}"#,
            "\n]\n",
        )
        .as_bytes(),
    );
    let (code, records, stderr) = assay(&["assess", &path, "--as-of", AS_OF]);
    assert_eq!(code, 1, "{stderr}");
    let ids: Vec<_> = records.iter().map(|r| (&r["id"], &r["line"])).collect();
    assert_eq!(
        ids,
        [
            (&json!("a-1"), &json!(2)),
            (&json!("a-2"), &json!(3)),
            (&json!("a-3"), &json!(4))
        ]
    );
    assert!(records[0]["errors"].is_null() && records[2]["errors"].is_null());
    let message = records[1]["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("line 3, column 15"), "{message}");
}

/// DESIGN.md "Behaviour on bad input": errors name the record, the field and what would fix
/// it. A JSON line that breaks off is named by the id and name written before the break, and
/// only by the object's own fields: not by an id that comes after the break, nor by an owner's
/// id inside it.
#[test]
fn a_broken_json_line_is_named_by_what_comes_before_the_break() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "broken.jsonl",
        concat!(
            r#"{"id":"acme-1","name":"Acme","employees":}"#,
            "\n",
            r#"{"name":"Zeta","employees":,"id":"zeta-1"}"#,
            "\n",
            r#"{"owners":[{"id":"parent-1"}],"employees":}"#,
            "\n",
        )
        .as_bytes(),
    );
    let (code, records, stderr) = assay(&["assess", &path, "--as-of", AS_OF]);
    assert_eq!(code, 1, "{stderr}");
    let named: Vec<_> = records.iter().map(|r| (&r["id"], &r["name"])).collect();
    assert_eq!(
        named,
        [
            (&json!("acme-1"), &json!("Acme")),
            (&json!(null), &json!("Zeta")),
            (&json!(null), &json!(null))
        ]
    );
    for r in &records {
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("not valid JSON"), "{message}");
    }
}

/// DESIGN.md "Behaviour on bad input": a line that is a JSON array, not an object, is an error
/// record and nothing else; its values name no organisation, so it joins no ownership group,
/// even when its first value is a group member's id (serde reads a struct from an array, a
/// value per field, which the ownership pass used to do).
#[test]
fn an_array_line_joins_no_ownership_group() {
    let dir = tempfile::tempdir().unwrap();
    let records = assay::gen::portfolio_jsonl(2, 9);
    let mut lines = records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap());
    let (mut parent, mut child) = (lines.next().unwrap(), lines.next().unwrap());
    parent["id"] = "parent".into();
    child["id"] = "child".into();
    child["owners"] = serde_json::json!([{"id": "parent", "share_pct": 60}]);
    let run = |third: &str| {
        let path = dir.path().join("group.jsonl");
        std::fs::write(&path, format!("{parent}\n{child}\n{third}\n")).unwrap();
        assay(&["assess", path.to_str().unwrap(), "--as-of", AS_OF]).1
    };
    let (with_array, with_other) = (run(r#"["parent"]"#), run(r#"["nobody"]"#));
    for out in [&with_array, &with_other] {
        // 60 % of the votes make the two linked enterprises (Rec. 2003/361/EC Annex
        // Art. 3(3)(a)), sized together (Art. 6(2)).
        assert_eq!(out[0]["nis2"]["size"]["basis"], "aggregated", "{}", out[0]);
        assert!(out[2]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("found an array"));
    }
    assert_eq!(with_array[..2], with_other[..2]);
    assert!(with_array[0]["warnings"].is_null(), "{}", with_array[0]);
}

#[test]
fn broken_csv_quoting_loses_only_its_own_record() {
    let (code, records, _) = assay(&["assess", "fixtures/bad-quoting.csv", "--as-of", AS_OF]);
    assert_eq!(code, 1);
    assert_eq!(records.len(), 4, "four data lines, four records");
    assert_eq!(records[0]["id"], "q-1");
    assert_eq!(records[1]["errors"][0]["line"], 3);
    // DESIGN.md "Behaviour on bad input": an error record carries the "id if known"; the id is
    // the first column, which a stray quote later in the row cannot shift.
    assert_eq!(records[1]["id"], "q-2");
    assert_eq!(records[2]["id"], "q-3");
    assert_eq!(records[3]["id"], "q-4");
    assert_eq!(records[3]["nis2"]["classification"], "essential"); // DNS, Art. 3(1)(b)
}

#[test]
fn output_formats() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("p.csv").display().to_string();
    let (code, _, _) = assay(&[
        "assess",
        "fixtures/portfolio.csv",
        "--format",
        "csv",
        "--out",
        &csv_path,
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 0);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("id,name,line,nis2.classification"));
    assert_eq!(
        csv.lines().count(),
        fixture("portfolio.csv").lines().count()
    );

    let json_path = dir.path().join("s.json").display().to_string();
    let (code, _, _) = assay(&[
        "assess",
        "fixtures/cases/nis2-special.jsonl",
        "--format",
        "json",
        "--out",
        &json_path,
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(
        code, 1,
        "the case files hold facts under `facts`, so records lack an id"
    );
    let parsed: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(parsed.as_array().map(Vec::len), Some(8));
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = assay(&["assess", "fixtures/portfolio.csv", "--as-of", "04/12/2026"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("YYYY-MM-DD"));
    // The shape of a date is not enough: 30 February does not exist.
    let (code, records, _) = assay(&["assess", "fixtures/portfolio.csv", "--as-of", "2026-02-30"]);
    assert_eq!((code, records.len()), (2, 0));
    let (code, _, stderr) = assay(&["assess", "fixtures/no-such-file.csv"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no-such-file.csv"));
}

/// A path that names no file that can be read (here a directory named as JSON Lines) stops
/// the run with exit code 2 (DESIGN.md "Behaviour on bad input": 2 when nothing is assessed),
/// in either encoding: it once made the line reader ask again for
/// ever, taking memory as it went. The run is given a minute before it counts as hung.
#[test]
fn an_unreadable_portfolio_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("portfolio.jsonl");
    std::fs::create_dir(&path).expect("a directory");
    let path = path.to_str().expect("path");
    for extra in [&[][..], &["--encoding", "windows-1252"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(["assess", path])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("assay runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                child.kill().expect("kill");
                panic!("`assay assess` on a directory {extra:?} did not stop");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
            .expect("stderr");
        assert_eq!(status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains("cannot read"), "{extra:?}: {stderr}");
    }
}

/// Exports from spreadsheets and other tools: a byte-order mark, Windows line endings,
/// explicit nulls and misspelt field names.
#[test]
fn common_export_quirks() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let line = r#"{"id": "x", "established_in": ["FR"], "provides_services_in": ["FR"], "employees": 300, "annual_turnover_eur": null, "activities": [{"entity_type": "air_carrier"}], "national_security_activity": true}"#;
    let bom = write("bom.jsonl", &format!("\u{feff}{line}\n"));
    let (code, records, _) = assay(&["assess", &bom, "--as-of", AS_OF]);
    assert_eq!(code, 0);
    // 300 AWU is large whatever the turnover: essential, Art. 3(1)(a). A null is an absent fact.
    assert_eq!(records[0]["nis2"]["classification"], "essential");
    let warning = records[0]["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("did you mean `national_security_activities`"),
        "{warning}"
    );

    let crlf = write(
        "w.csv",
        "id,established_in,provides_services_in,employees,activities\r\n\
         w1,FR,FR,300,air_carrier\r\nw2,FR,FR,300,air_carrier\r\nw3,FR,FR,many,air_carrier\r\n",
    );
    let (code, records, _) = assay(&["assess", &crlf, "--as-of", AS_OF]);
    assert_eq!(code, 1);
    let lines: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3, 4], "lines as a spreadsheet numbers them");
}

/// DESIGN.md "Behaviour on bad input": every input record yields exactly one output record,
/// each with its source line. Empty lines between CSV rows are not records: they yield nothing,
/// make no error record (one was taken for a row a stray quote swallowed), and the rows after
/// them keep the line numbers a spreadsheet or text editor shows.
#[test]
fn empty_lines_between_csv_rows_are_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let header = "id,name,established_in,provides_services_in,employees,activities\n";
    let row = |id: &str| format!("{id},Name {id},FR,FR,300,air_carrier\n");
    let text = [
        header.to_string(),
        row("e1"),
        "\n".into(),
        row("e2"),
        "\n\n\n".into(),
        row("e3"),
        "\r\n\r\n".into(),
        row("e4"),
    ]
    .concat();
    let path = write(dir.path(), "blank.csv", text.as_bytes());
    let (code, records, stderr) = assay(&["assess", &path, "--as-of", AS_OF]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<_> = records.iter().map(|r| (&r["id"], &r["line"])).collect();
    assert_eq!(
        rows,
        [
            (&json!("e1"), &json!(2)),
            (&json!("e2"), &json!(4)),
            (&json!("e3"), &json!(8)),
            (&json!("e4"), &json!(11))
        ]
    );
}

/// A quote left open in the last column would swallow the rows after it without changing the
/// field count; each input row must still yield one record.
#[test]
fn an_open_quote_in_the_last_column_loses_only_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.csv");
    std::fs::write(
        &path,
        "id,name,established_in,provides_services_in,employees,activities\n\
         u1,One,FR,FR,300,air_carrier\nu2,Two,FR,FR,300,\"air_carrier\n\
         u3,Three,DE,DE,300,air_carrier\nu4,Four,DE,DE,300,air_carrier\n",
    )
    .unwrap();
    let (code, records, _) = assay(&["assess", path.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(code, 1);
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("-"))
        .collect();
    // The broken row keeps its id: it is the first column, before the stray quote (DESIGN.md
    // "Behaviour on bad input": an error record carries the "id if known").
    assert_eq!(ids, vec!["u1", "u2", "u3", "u4"]);
    assert!(records[1]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("never closed"));
}

/// The CSV columns as the README ("Input: facts", CSV) lists them: `name` right after `id`,
/// `nis2.size.own_class` after `nis2.size.basis`. The values are those of
/// fixtures/group.expected.csv: nh-holding is large with its group, small on its own figures.
#[test]
fn csv_rows_name_the_organisation_and_its_own_size_class() {
    let (code, records, stderr) = assay(&["assess", "fixtures/group.csv", "--as-of", AS_OF]);
    assert_eq!(code, 0, "{stderr}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
        .args([
            "assess",
            "fixtures/group.csv",
            "--format",
            "csv",
            "--as-of",
            AS_OF,
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let at = |column: &str| header.iter().position(|h| h == column).unwrap();
    assert_eq!(at("name"), at("id") + 1);
    assert_eq!(at("nis2.size.own_class"), at("nis2.size.basis") + 1);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let holding = rows.iter().find(|r| &r[0] == "nh-holding").unwrap();
    let cell = |column: &str| &holding[at(column)];
    assert_eq!(cell("name"), records[0]["name"].as_str().unwrap());
    assert_eq!(cell("name"), "Nordhaven Holding N.V."); // fixtures/group.csv, line 2
    assert_eq!(cell("nis2.size.class"), "large");
    assert_eq!(cell("nis2.size.basis"), "aggregated");
    assert_eq!(cell("nis2.size.own_class"), "small");
}

/// DESIGN.md "Behaviour on bad input": an error record carries the id if known; the name is
/// read from the same record, so a consultant sees whose record failed.
#[test]
fn an_error_record_keeps_the_name_of_its_organisation() {
    let got = assess(
        r#"{"id": "e-1", "name": "Acme Ltd", "employees": "many"}"#,
        assay::read::Format::Jsonl,
    );
    assert!(!got[0].errors.is_empty());
    assert_eq!(got[0].id.as_deref(), Some("e-1"));
    assert_eq!(got[0].name.as_deref(), Some("Acme Ltd"));
}

/// A write that fails mid-batch (a full disk) stops the run with exit code 2 and says why; a
/// reader that stops early (`| head`) is not an error (README, "The two commands": exit codes).
/// `/dev/full` fails every write with ENOSPC (Linux).
#[test]
fn a_full_disk_stops_the_run_with_the_reason() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let (code, _, stderr) = assay(&[
        "assess",
        "fixtures/portfolio.csv",
        "--as-of",
        AS_OF,
        "--out",
        "/dev/full",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot write the output") && stderr.contains("No space left"),
        "{stderr}"
    );

    let (first, out) =
        first_line_then_hang_up(&["assess", "fixtures/portfolio.csv", "--as-of", AS_OF]);
    assert!(first.starts_with("{\"id\""), "{first}");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fresh-user finding: `assess --format csv | head -3` said "cannot write the output: Broken
/// pipe" and exited 2 while JSON Lines was silent with 0. DESIGN.md's exit code 2 is for errors
/// that stop the run; a reader that has read enough is not one, whatever the format. The
/// portfolio is larger than the pipe and the output buffer, so the writer meets the hang-up.
#[test]
fn a_reader_hanging_up_is_not_an_error_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let portfolio = dir.path().join("p.jsonl");
    std::fs::write(&portfolio, assay::gen::portfolio_jsonl(2000, 3)).unwrap();
    for format in ["csv", "json", "md", "jsonl"] {
        let (first, out) = first_line_then_hang_up(&[
            "assess",
            portfolio.to_str().unwrap(),
            "--format",
            format,
            "--as-of",
            AS_OF,
        ]);
        assert!(!first.is_empty(), "{format}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: {stderr}");
    }
}

/// `assay merge` joins JSON Lines, CSV and XLSX parts (README, "Shards"): a shard written as a
/// document or an array, which carry no portfolio line to join by, is warned about when it is
/// made, not only when merge refuses it.
#[test]
fn a_shard_in_another_format_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("part-0.md");
    let shard = |more: &[&str]| {
        let mut args = vec![
            "assess",
            "fixtures/portfolio.csv",
            "--as-of",
            AS_OF,
            "--shard",
            "0/2",
        ];
        args.extend(more);
        assay(&args)
    };
    let (code, _, stderr) = shard(&["--format", "md", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("joins JSON Lines, CSV and XLSX shards, not md parts"),
        "{stderr}"
    );
    let csv = dir.path().join("part-0.csv");
    let (code, _, stderr) = shard(&["--format", "csv", "--out", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("`assay merge` joins"), "{stderr}");
    let (_, _, stderr) = shard(&[]);
    assert!(!stderr.contains("`assay merge` joins"), "{stderr}");
}

/// Figures written `-0` (JSON allows a minus before a zero, and serde_json reads it as minus
/// zero) are zero: the grounds are those of the same organisation written with `0`, word for
/// word, where they used to read `-0 AWU`.
#[test]
fn a_headcount_of_minus_zero_reads_as_zero_in_the_grounds() {
    let dir = tempfile::tempdir().unwrap();
    // `json!(-0)` is the integer 0, so the zero is put into the text as written.
    let facts = |id: &str, zero: &str| {
        let facts = json!({"id": id, "established_in": ["FR"], "provides_services_in": ["FR"],
            "employees": "ZERO", "annual_turnover_eur": "ZERO", "balance_sheet_eur": "ZERO",
            "activities": [{"entity_type": "air_carrier"}]});
        facts.to_string().replace("\"ZERO\"", zero)
    };
    let path = dir.path().join("zeros.jsonl");
    let text = [
        facts("plus", "0"),
        facts("minus", "-0"),
        facts("minus-float", "-0.0"),
    ];
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
    let (code, records, stderr) = assay(&["assess", path.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!((code, records.len()), (0, 3), "{stderr}");
    let says = |r: &Value| -> Vec<String> {
        let grounds = r["nis2"]["grounds"].as_array().expect("grounds");
        grounds.iter().map(|g| g["says"].to_string()).collect()
    };
    let zero = says(&records[0]);
    assert!(zero.iter().any(|s| s.contains("0 AWU")), "{zero:?}");
    for minus in &records[1..] {
        assert_eq!(says(minus), zero, "{}", minus["id"]);
    }
}

/// README, exit codes: `2` when nothing is assessed. An input with no records is refused so,
/// and a refused run writes nothing to standard output in any format: the CSV header row and
/// the JSON `[]`, which the output of a shard with none of the records keeps, used to come out
/// before the error. Nor is a `--out` file made (the workbook, which needs one, included).
#[test]
fn an_input_with_no_records_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    for format in ["csv", "json", "jsonl", "md"] {
        let o = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(["assess", empty, "--as-of", AS_OF, "--format", format])
            .output()
            .expect("assay runs");
        let said = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{format}: {said}");
        assert!(said.contains("holds no records"), "{format}: {said}");
        assert_eq!(String::from_utf8_lossy(&o.stdout), "", "{format}");
    }
    for format in ["csv", "xlsx"] {
        let out = dir.path().join(format!("out.{format}"));
        let (code, _, said) = assay(&[
            "assess",
            empty,
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{format}: {said}");
        assert!(!out.exists(), "{format}");
    }
    // Nor a temporary file beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

/// Finding: a figure written `-0.0` (or `-0`), which the facts schema's minimum of zero lets
/// through, was echoed with its sign in `nis2.size` (`"employees": -0.0`) while its grounds
/// said `0 AWU`; so were a linked enterprise's figures in the aggregation's parts, and a
/// holding of `-0` was said at `-0 %` (a helper's hostile-input check). Each now reads as the
/// plain zero it is: the output is byte for byte that of the same portfolio written with `0.0`
/// (what `"employees": 0` gives), headcount, turnover and balance sheet, in the latest and the
/// previous period, and the capital and voting shares of owners and of a partner; and so is
/// the group report (`z1 (0 %)`, not `z1 (-0 %)`).
#[test]
fn a_figure_of_minus_zero_is_written_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let portfolio = |zero: &str| {
        let figures = format!(
            r#""employees":{zero},"annual_turnover_eur":{zero},"balance_sheet_eur":{zero}"#
        );
        format!(
            "{{\"id\":\"z1\",\"established_in\":[\"DE\"],{figures},\
             \"previous_period\":{{{figures}}}}}\n\
             {{\"id\":\"z2\",\"established_in\":[\"DE\"],{figures},\"linked_enterprises\":\
             [{{\"name\":\"Outside\",\"relation\":\"linked\",{figures}}},\
             {{\"name\":\"Beside\",\"relation\":\"partner\",\"share_pct\":{zero},{figures}}}]}}\n\
             {{\"id\":\"z3\",\"established_in\":[\"DE\"],{figures},\"owners\":\
             [{{\"id\":\"z1\",\"share_pct\":{zero},\"voting_pct\":{zero}}}]}}\n"
        )
    };
    let plain = write(dir.path(), "plain.jsonl", portfolio("0.0").as_bytes());
    let report = |name: &str| dir.path().join(name).display().to_string();
    let expected = run_assay(&[
        "assess",
        &plain,
        "--as-of",
        AS_OF,
        "--group-report",
        &report("plain.md"),
    ]);
    let said = String::from_utf8_lossy(&expected.stdout);
    assert!(!said.contains("-0 %") && !said.contains("-0.0"), "{said}");
    let size = &json_lines(&expected.stdout)[1]["nis2"]["size"];
    assert_eq!(
        size["aggregation"]["enterprises"][1]["figures"]["employees"],
        0.0
    );
    let expected_report = std::fs::read_to_string(report("plain.md")).unwrap();
    assert!(expected_report.contains("z1 (0 %)"), "{expected_report}");
    for zero in ["-0.0", "-0"] {
        let signed = write(dir.path(), "signed.jsonl", portfolio(zero).as_bytes());
        let out = run_assay(&[
            "assess",
            &signed,
            "--as-of",
            AS_OF,
            "--group-report",
            &report("signed.md"),
        ]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.stdout == expected.stdout, "{zero}: {said}");
        let signed_report = std::fs::read_to_string(report("signed.md")).unwrap();
        assert_eq!(signed_report, expected_report, "{zero}");
    }
}

/// Finding: a group whose figures add up past the largest double (two records each of
/// `"employees": 1e308`, one owning the other) was sized on an infinite sum, written `inf AWU`
/// in its grounds and `null` in its figures. Each record of the group is now an error record
/// (code `group`, on the figure) naming the figures counted most and what to correct, and the
/// other records are assessed (DESIGN.md "Behaviour on bad input": a clear error, one output
/// per record); the same for the euro figures, for linked enterprises outside the batch and
/// for the previous period. A sum that stays below the largest double is sized, and its parts
/// keep their figures (they were rounded to hundredths through a hundredfold that overflowed).
#[test]
fn a_group_whose_figures_add_up_past_the_largest_number_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let de = json!(["DE"]);
    let records = [
        json!({"id": "p", "established_in": de, "employees": 1e308}),
        json!({"id": "s", "established_in": de, "employees": 1e308,
               "owners": [{"id": "p", "share_pct": 100}]}),
        json!({"id": "alone", "established_in": de, "employees": 1e308}),
        json!({"id": "t", "established_in": de, "annual_turnover_eur": 1, "linked_enterprises": [
            {"name": "A", "relation": "linked", "annual_turnover_eur": 1.5e308},
            {"name": "B", "relation": "partner", "share_pct": 50, "annual_turnover_eur": 1.6e308},
        ]}),
        json!({"id": "q", "established_in": de, "employees": 5,
               "previous_period": {"balance_sheet_eur": 1.7e308}, "linked_enterprises": [
            {"name": "C", "relation": "linked", "employees": 5,
             "previous_period": {"balance_sheet_eur": 1.7e308}},
        ]}),
        json!({"id": "f", "established_in": de, "employees": 1e307, "linked_enterprises": [
            {"name": "D", "relation": "linked", "employees": 1e307},
        ]}),
    ];
    let lines: Vec<String> = records.iter().map(Value::to_string).collect();
    let path = write(dir.path(), "huge.jsonl", lines.join("\n").as_bytes());
    let (code, out, stderr) = assay(&["assess", &path, "--as-of", AS_OF]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(out.len(), lines.len(), "{stderr}");
    let error = |k: usize| {
        let errors = out[k]["errors"].as_array().expect("an error record");
        assert_eq!(errors.len(), 1, "{}", out[k]);
        assert_eq!(errors[0]["code"], "group");
        assert_eq!(errors[0]["line"], k + 1);
        (
            errors[0]["field"].as_str().unwrap().to_string(),
            errors[0]["message"].as_str().unwrap().to_string(),
        )
    };
    for (k, id) in [(0, "p"), (1, "s")] {
        let (field, message) = error(k);
        assert_eq!(field, "/employees");
        assert!(
            message.starts_with(&format!("the headcount of `{id}` with")),
            "{message}"
        );
        assert!(message.contains("past the largest number"), "{message}");
        // Equal parts in the group's order: members in input order.
        assert!(
            message.contains("`employees` counted: `p` 1e308, `s` 1e308;"),
            "{message}"
        );
        assert!(
            message.contains("correct the figure that is too large"),
            "{message}"
        );
        assert!(!message.contains("inf"), "{message}");
    }
    // Alone, a figure that large is read as given (the facts schema sets no ceiling).
    assert_eq!(out[2]["nis2"]["size"]["class"], "large");
    assert!(out[2].get("errors").is_none(), "{}", out[2]);
    let (field, message) = error(3);
    assert_eq!(field, "/annual_turnover_eur");
    assert!(
        message.contains("counted: `A` 1.5e308, `B` 1.6e308 (50 % counted), `t` 1;"),
        "{message}"
    );
    let (field, message) = error(4);
    assert_eq!(field, "/previous_period/balance_sheet_eur");
    assert!(
        message.contains("in the previous accounting period adds up"),
        "{message}"
    );
    let size = &out[5]["nis2"]["size"];
    assert_eq!(size["class"], "large", "{size}");
    assert_eq!(size["employees"], 2e307);
    assert_eq!(
        size["aggregation"]["enterprises"][0]["figures"]["employees"],
        1e307
    );
}

/// Finding: a named pipe given as the portfolio (`mkfifo`, or `/dev/stdin` fed by a pipe) hung
/// `assay assess` for good: the ownership pass read it to the end, and the assessing pass opened
/// it again and waited for a writer. It is read once and copied, as standard input is, so the
/// run assesses what was written into it, and its group report too (expected values: the same
/// portfolio given as a file, DESIGN.md "Behaviour on bad input": one output per input).
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_once_as_standard_input_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portfolio.jsonl");
    std::fs::write(&file, assay::gen::portfolio_jsonl(300, 4)).unwrap();
    let pipe = dir.path().join("pipe.jsonl");
    let made = Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // Output to files: a run whose output pipe is not read while it runs would stop on it.
    let assess = |input: &std::path::Path, name: &str| {
        let (out, report) = (dir.path().join(name), dir.path().join(format!("{name}.md")));
        let child = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(["assess", input.to_str().unwrap(), "--as-of", "2026-12-04"])
            .arg("--group-report")
            .arg(&report)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("assay runs");
        (child, out, report)
    };

    let (mut expected, expected_out, expected_report) = assess(&file, "file");
    let expected = expected.wait().unwrap();
    let (mut child, out, report) = assess(&pipe, "pipe");
    // The writer closes the pipe once the portfolio is written: the reader sees its end.
    std::fs::write(&pipe, std::fs::read(&file).unwrap()).unwrap();
    // Waits up to a minute; a run still waiting for the pipe to be opened again is stopped.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let hung = child.try_wait().unwrap().is_none();
    if hung {
        child.kill().unwrap();
    }
    let got = child.wait().unwrap();
    assert!(!hung, "assay waited for the pipe to be written again");
    assert_eq!(got.code(), expected.code());
    let read = |path: &std::path::Path| std::fs::read(path).unwrap();
    assert!(
        read(&out) == read(&expected_out),
        "the pipe's output differs from the file's"
    );
    assert_eq!(
        std::fs::read_to_string(report).unwrap(),
        std::fs::read_to_string(expected_report).unwrap()
    );
}
