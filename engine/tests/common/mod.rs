//! Shared helpers for the integration tests: assess text with the shipped packs.

#![allow(dead_code)]

use assay::assessment::Assessment;
use assay::evaluate::Evaluator;
use assay::pack::PackSet;
use assay::read::Format;
use assay::validate::Validator;
use std::path::PathBuf;
use std::sync::OnceLock;

pub const AS_OF: &str = "2026-12-04";

pub fn evaluator() -> &'static Evaluator {
    static E: OnceLock<Evaluator> = OnceLock::new();
    E.get_or_init(|| {
        Evaluator::new(PackSet::shipped().expect("shipped packs load")).expect("packs compile")
    })
}

pub fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(Validator::new)
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> String {
    let path = root().join("fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn assess(text: &str, format: Format) -> Vec<Assessment> {
    assay::pipeline::assess_text(text, format, evaluator(), validator(), AS_OF)
}

/// Assesses `input` with the batch cut into chunks of `chunk` records.
pub fn assess_in_chunks(input: &assay::read::stream::Input, chunk: usize) -> Vec<Assessment> {
    let cx = assay::pipeline::Context {
        evaluator: evaluator(),
        validator: validator(),
    };
    let options = assay::pipeline::Options {
        chunk,
        ..assay::pipeline::Options::new(AS_OF)
    };
    assay::pipeline::collect(input, &cx, &options).expect("the input is read")
}

/// The generated portfolio of `n` organisations (seed 11) as JSON Lines, each record with
/// `owners` handed to `change` with its count among them (from 1).
pub fn with_owned_records_changed(
    n: usize,
    change: impl Fn(usize, &mut serde_json::Value),
) -> String {
    let mut text = String::new();
    let mut owned = 0;
    for line in assay::gen::portfolio_jsonl(n, 11).lines() {
        let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
        if record.get("owners").is_some() {
            owned += 1;
            change(owned, &mut record);
        }
        text.push_str(&record.to_string());
        text.push('\n');
    }
    text
}

/// Writes `bytes` to a file `name` in `dir`; its path.
pub fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

/// Runs the `assay` command in the project's root folder.
pub fn run_assay(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("assay runs")
}

/// The JSON lines a command wrote, each parsed.
pub fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

/// Assesses one organisation given as JSON.
pub fn assess_one(facts: &serde_json::Value) -> Assessment {
    let mut out = assess(&facts.to_string(), Format::Jsonl);
    assert_eq!(out.len(), 1);
    out.remove(0)
}

pub fn classification(a: &Assessment) -> &'static str {
    match &a.nis2 {
        Some(n) => n.classification.as_str(),
        None => panic!("record {:?} has errors: {:?}", a.id, a.errors),
    }
}

/// Copies a folder, recursively (packs into temporary folders, to break them).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// An evaluator that lists every plan action, not only the first few.
pub fn evaluator_full_plan() -> &'static Evaluator {
    static E: OnceLock<Evaluator> = OnceLock::new();
    E.get_or_init(|| {
        Evaluator::new(PackSet::shipped().expect("shipped packs load"))
            .expect("packs compile")
            .with_plan_actions(0)
    })
}

/// Assesses one organisation with the whole plan listed.
pub fn assess_full(facts: &serde_json::Value) -> Assessment {
    let mut out = assay::pipeline::assess_text(
        &facts.to_string(),
        Format::Jsonl,
        evaluator_full_plan(),
        validator(),
        AS_OF,
    );
    assert_eq!(out.len(), 1);
    out.remove(0)
}

/// A shipped pack table, parsed, for tests that derive expected values from the data itself.
pub fn table(pack: &str, file: &str) -> serde_json::Value {
    let path = root().join("rules").join(pack).join("tables").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("table is JSON")
}

/// Runs `assay` with `args`, reads the first line of its output, then hangs up as `| head -1`
/// does; returns that line and how the run ended.
pub fn first_line_then_hang_up(args: &[&str]) -> (String, std::process::Output) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("assay runs");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    (first, child.wait_with_output().unwrap())
}
