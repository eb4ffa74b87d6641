//! `assay pack test DIR [--coverage]`: runs a pack's test cases.
//!
//! Cases live in `tests/*.jsonl` inside the pack, one per line:
//!
//! ```json
//! {"name": "large air carrier", "source": "NIS2 Art. 3(1)(a)",
//!  "facts": {"id": "t", "employees": 300, ...},
//!  "expect": {"nis2.classification": "essential"},
//!  "rules": ["art3_1_a_large_annex_i"]}
//! ```
//!
//! `expect` maps a dotted path of the assessment to the value it must have; `rules` lists rule
//! ids that must appear in the assessment (as Cedar's run-tests checks the reasons, so a right
//! answer from the wrong rule fails). Each case is assessed alone with the pack in place of the
//! shipped pack of the same id; an overlay is applied to the packs it depends on.

use crate::evaluate::Evaluator;
use crate::pack::{sandbox, Pack};
use crate::read::Format;
use crate::validate::Validator;
use rhai::{ASTNode, Stmt};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The date cases are assessed as of, unless a case gives its own.
pub const DEFAULT_AS_OF: &str = "2026-01-01";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// Where the expected values come from: an article, a worked example, a case file.
    pub source: String,
    pub facts: Value,
    #[serde(default)]
    pub expect: BTreeMap<String, Value>,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub as_of: Option<String>,
    /// Other organisations assessed in the same batch, before `facts` (owners, subsidiaries):
    /// only the assessment of `facts` is compared.
    #[serde(default)]
    pub batch: Vec<Value>,
}

/// One failed case: what was expected against what came out.
#[derive(Debug, Clone)]
pub struct Failure {
    pub file: String,
    pub line: usize,
    pub name: String,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Rules of the pack's rules table that no case reached.
    pub rules_not_reached: Vec<String>,
    /// Script lines (file, line, text) no case ran.
    pub lines_not_reached: Vec<(String, usize, String)>,
    pub rules_total: usize,
    pub lines_total: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub passed: usize,
    pub failures: Vec<Failure>,
    pub coverage: Option<Coverage>,
}

impl Report {
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failures.len())
    }
}

/// Runs every case of the pack in `dir`. `Err` when the pack or a case file cannot be read.
pub fn run(dir: &Path, coverage: bool) -> Result<Report, String> {
    let (set, pack) = super::with_pack(dir).map_err(|e| e.to_string())?;
    let mut evaluator =
        Evaluator::with_overlays(set, &super::overlays_for(&pack)).map_err(|e| e.to_string())?;
    let hits: Arc<Mutex<BTreeSet<(String, usize)>>> = Arc::default();
    if coverage {
        let sink = hits.clone();
        evaluator.instrument(move |engine| {
            let sink = sink.clone();
            #[allow(deprecated)] // rhai marks the debugger interface volatile, not deprecated
            engine.register_debugger(
                |_, debugger| debugger,
                move |context, _event, _node, _source, position| {
                    if let (Some(line), Some(frame)) = (
                        position.line(),
                        context
                            .global_runtime_state()
                            .debugger()
                            .call_stack()
                            .last(),
                    ) {
                        if let Ok(mut hits) = sink.lock() {
                            hits.insert((frame.fn_name.to_string(), line));
                        }
                    }
                    Ok(rhai::debugger::DebuggerCommand::StepInto)
                },
            );
        });
    }
    let validator = Validator::new();
    let mut report = Report::default();
    let mut seen_rules: BTreeSet<String> = BTreeSet::new();
    let case_files: Vec<&String> = pack
        .files
        .keys()
        .filter(|p| p.starts_with("tests/") && p.ends_with(".jsonl"))
        .collect();
    if case_files.is_empty() {
        return Err(format!(
            "{} has no test cases: add tests/*.jsonl (see rules/README.md, \"Tests\")",
            dir.display()
        ));
    }
    for file in case_files {
        let text = pack.text(file).map_err(|e| e.to_string())?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let case = parse_case(line).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
            let as_of = case.as_of.as_deref().unwrap_or(DEFAULT_AS_OF);
            let text: Vec<String> = case
                .batch
                .iter()
                .chain(std::iter::once(&case.facts))
                .map(Value::to_string)
                .collect();
            let mut out = crate::pipeline::assess_text(
                &text.join("\n"),
                Format::Jsonl,
                &evaluator,
                &validator,
                as_of,
            );
            let subject = out.pop();
            let assessment = serde_json::to_value(subject).unwrap_or(Value::Null);
            let mut rules = Vec::new();
            super::rules_in(&assessment, &mut rules);
            seen_rules.extend(rules.iter().cloned());
            let problems = compare(&case, &assessment, &rules);
            if problems.is_empty() {
                report.passed += 1;
            } else {
                report.failures.push(Failure {
                    file: file.clone(),
                    line: i + 1,
                    name: case.name.clone(),
                    problems,
                });
            }
        }
    }
    if coverage {
        let hits = hits.lock().map(|h| h.clone()).unwrap_or_default();
        report.coverage = Some(measure(&pack, evaluator.nis2_pack(), &seen_rules, &hits));
    }
    Ok(report)
}

const CASE_SCHEMA: &str = include_str!("../../../schemas/pack-test.schema.json");

/// One line of a case file, checked against `schemas/pack-test.schema.json`.
fn parse_case(line: &str) -> Result<Case, String> {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let schema = SCHEMA.get_or_init(|| {
        let value: Value = serde_json::from_str(CASE_SCHEMA)
            .unwrap_or_else(|e| unreachable!("shipped test case schema is JSON: {e}"));
        jsonschema::options()
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&value)
            .unwrap_or_else(|e| unreachable!("shipped test case schema compiles: {e}"))
    });
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON (column {}): {e}", e.column()))?;
    let problems: Vec<String> = schema
        .iter_errors(&value)
        .map(|e| {
            let at = e.instance_path().as_str().to_string();
            format!("{}: {e}", if at.is_empty() { "the case" } else { &at })
        })
        .collect();
    if !problems.is_empty() {
        return Err(format!(
            "not a test case (schemas/pack-test.schema.json): {}",
            problems.join("; ")
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("not a test case: {e}"))
}

/// Expected against actual for one case.
fn compare(case: &Case, assessment: &Value, rules: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(errors) = assessment.get("errors") {
        problems.push(format!("the record was not assessed: {errors}"));
    }
    for (path, expected) in &case.expect {
        let actual = path
            .split('.')
            .try_fold(assessment, |v, key| match v {
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => v.get(key),
            })
            .cloned()
            .unwrap_or(Value::Null);
        if &actual != expected {
            problems.push(format!("{path}: expected {expected}, got {actual}"));
        }
    }
    for rule in &case.rules {
        if !rules.contains(rule) {
            problems.push(format!(
                "rule `{rule}` expected among the rules that decided, got [{}]",
                rules.join(", ")
            ));
        }
    }
    problems
}

/// Rules and script lines no case reached.
fn measure(
    pack: &Pack,
    evaluated: &Pack,
    seen: &BTreeSet<String>,
    hits: &BTreeSet<(String, usize)>,
) -> Coverage {
    // The pack's own rules and scripts; an overlay has none (it changes parameters), so its
    // cases check what the changed parameters do. `evaluated` is the pack as run.
    let target = if pack.manifest.id == evaluated.manifest.id {
        evaluated
    } else {
        pack
    };
    let rules = super::rule_ids(target);
    let rules_not_reached: Vec<String> = rules
        .iter()
        .filter(|r| !seen.contains(*r))
        .cloned()
        .collect();
    let engine = sandbox::engine();
    let mut lines_not_reached = Vec::new();
    let mut lines_total = 0;
    for file in &target.manifest.scripts {
        let Ok(source) = target.text(file) else {
            continue;
        };
        let Ok(ast) = engine.compile(source) else {
            continue;
        };
        let source_lines: Vec<&str> = source.lines().collect();
        // Statement lines, each given to the function whose body spans it (the debugger
        // reports the function on the call stack and the line).
        let mut lines = BTreeSet::new();
        ast.walk(&mut |nodes: &[ASTNode]| {
            if let Some(ASTNode::Stmt(s)) = nodes.last() {
                if let (false, Some(line)) = (matches!(s, Stmt::Block(..)), s.position().line()) {
                    lines.insert(line);
                }
            }
            true
        });
        let spans: Vec<(String, usize, usize)> = ast
            .iter_fn_def()
            .map(|f| {
                (
                    f.name.to_string(),
                    f.body.start_position().line().unwrap_or(0),
                    f.body.end_position().line().unwrap_or(usize::MAX),
                )
            })
            .collect();
        for line in lines {
            let Some((function, ..)) = spans.iter().find(|(_, a, b)| *a <= line && line <= *b)
            else {
                continue;
            };
            lines_total += 1;
            if !hits.contains(&(function.clone(), line)) {
                let text = source_lines
                    .get(line - 1)
                    .map(|l| l.trim().to_string())
                    .unwrap_or_default();
                lines_not_reached.push((file.clone(), line, text));
            }
        }
    }
    lines_not_reached.sort();
    Coverage {
        rules_total: rules.len(),
        rules_not_reached,
        lines_not_reached,
        lines_total,
    }
}
