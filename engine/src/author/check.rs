//! `assay pack check DIR`: every problem of a pack at once, each with file:line:col, the source
//! line and a hint.
//!
//! What is checked: the manifest against `schemas/pack.schema.json` (and parameter values
//! against their types); every table parses as JSON, and follows `tables/NAME.schema.json` when
//! the pack has one; every script compiles in the sandbox (undeclared variables, i.e. facts the
//! script does not receive, are compile errors); every function a script calls exists; every
//! rule id a script returns is in the rules table; every quoted id a script compares with is a
//! rule id or a value of the pack's tables; every decision names a function whose
//! parameters are the arguments the manifest passes, in order, and which the host prepares;
//! overrides name parameters of the packs depended on; rules no script returns are warnings.

use super::diagnostic::Finding;
use crate::pack::{sandbox, schema, Pack, PackSet};
use rhai::{ASTNode, Expr, Stmt, AST};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The findings for one pack folder, errors and warnings, in file order.
pub fn check(dir: &Path) -> Vec<Finding> {
    let files = match crate::pack::read_files(dir) {
        Ok(f) => f,
        Err(e) => {
            return vec![Finding::error(
                &dir.display().to_string(),
                "",
                (0, 0),
                e.to_string(),
            )]
        }
    };
    let text = |path: &str| -> Option<String> {
        files
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let mut findings = Vec::new();
    let Some(manifest_text) = text("pack.json") else {
        return vec![Finding::error(
            "pack.json",
            "",
            (0, 0),
            "the folder has no `pack.json`".into(),
        )
        .hint(Some(
            "a pack folder holds a manifest named pack.json: see rules/README.md".into(),
        ))];
    };
    let manifest: Value = match serde_json::from_str(&manifest_text) {
        Ok(v) => v,
        Err(e) => {
            return vec![Finding::error(
                "pack.json",
                &manifest_text,
                (e.line(), e.column()),
                format!("not valid JSON: {e}"),
            )]
        }
    };
    for p in schema::manifest_problems(&manifest) {
        let at = schema::locate(&manifest_text, &p.pointer).unwrap_or((1, 1));
        findings.push(
            Finding::error(
                "pack.json",
                &manifest_text,
                at,
                format!("{}: {}", p.subject(), p.message),
            )
            .hint(Some(
                "schemas/pack.schema.json describes every field".into(),
            )),
        );
    }
    if !findings.is_empty() {
        // The rest reads the manifest's fields, so it waits until the manifest follows the
        // schema; the scripts it lists are compiled anyway, to report their errors now.
        let engine = sandbox::engine();
        let known: BTreeSet<String> = crate::evaluate::nis2::argument_names()
            .map(String::from)
            .collect();
        let scripts = manifest.get("scripts").and_then(Value::as_array);
        for file in scripts.into_iter().flatten().filter_map(Value::as_str) {
            if let Some(source) = text(file) {
                if let Err(e) = engine.compile(&source) {
                    findings.push(compile_error(file, &source, &e, &known));
                }
            }
        }
        return findings;
    }
    let pack = match Pack::from_files(files.clone(), dir.display().to_string()) {
        Ok(p) => p,
        Err(e) => {
            return vec![Finding::error(
                "pack.json",
                &manifest_text,
                (1, 1),
                e.to_string(),
            )]
        }
    };

    check_tables(&pack, &mut findings);
    let rule_ids: BTreeSet<String> = super::rule_ids(&pack).into_iter().collect();
    let compiled = check_scripts(&pack, &rule_ids, &mut findings);
    check_decisions(&pack, &manifest_text, &compiled, &mut findings);
    check_overlay(&pack, &manifest_text, &mut findings);
    if findings
        .iter()
        .all(|f| f.severity != miette::Severity::Error)
    {
        // The host's own checks (tables the NIS2 decision reads, its parameters).
        if pack.manifest.id == "nis2" {
            if let Err(e) = crate::evaluate::nis2::Nis2Pack::load(&pack) {
                findings.push(Finding::error(
                    "pack.json",
                    &manifest_text,
                    (1, 1),
                    e.to_string(),
                ));
            }
        }
    }
    findings
}

fn check_tables(pack: &Pack, findings: &mut Vec<Finding>) {
    for (name, path) in &pack.manifest.tables {
        let Ok(source) = pack.text(path) else {
            let manifest = pack.text("pack.json").unwrap_or_default();
            let at = schema::locate(manifest, &format!("/tables/{name}")).unwrap_or((1, 1));
            findings.push(Finding::error(
                "pack.json",
                manifest,
                at,
                format!("table `{name}` is `{path}`, which is not in the pack (or is not UTF-8)"),
            ));
            continue;
        };
        let value: Value = match serde_json::from_str(source) {
            Ok(v) => v,
            Err(e) => {
                findings.push(Finding::error(
                    path,
                    source,
                    (e.line(), e.column()),
                    format!("not valid JSON: {e}"),
                ));
                continue;
            }
        };
        let schema_path = path.trim_end_matches(".json").to_string() + ".schema.json";
        let Some(schema_text) = pack.files.get(&schema_path) else {
            continue;
        };
        let schema: Value = match serde_json::from_slice(schema_text) {
            Ok(s) => s,
            Err(e) => {
                findings.push(Finding::error(
                    &schema_path,
                    &String::from_utf8_lossy(schema_text),
                    (e.line(), e.column()),
                    format!("not valid JSON: {e}"),
                ));
                continue;
            }
        };
        let validator = match jsonschema::options()
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&schema)
        {
            Ok(v) => v,
            Err(e) => {
                findings.push(Finding::error(
                    &schema_path,
                    "",
                    (0, 0),
                    format!("not a usable JSON Schema: {e}"),
                ));
                continue;
            }
        };
        for e in validator.iter_errors(&value) {
            let pointer = e.instance_path().as_str().to_string();
            let at = schema::locate(source, &pointer).unwrap_or((1, 1));
            findings.push(Finding::error(
                path,
                source,
                at,
                format!("`{pointer}`: {e}"),
            ));
        }
    }
}

/// A script compiled alone, for the checks below.
struct Compiled {
    file: String,
    source: String,
    ast: AST,
}

fn check_scripts(
    pack: &Pack,
    rule_ids: &BTreeSet<String>,
    findings: &mut Vec<Finding>,
) -> Vec<Compiled> {
    let engine = sandbox::engine();
    let mut compiled = Vec::new();
    // Names a script may read: the parameters of every function of the pack, and the facts the
    // host prepares. An undeclared variable is most likely a misspelt one of these.
    let mut known_names: BTreeSet<String> = crate::evaluate::nis2::argument_names()
        .map(String::from)
        .collect();
    for d in pack.manifest.decisions.values() {
        known_names.extend(d.arguments.iter().cloned());
    }
    for file in &pack.manifest.scripts {
        let Ok(source) = pack.text(file) else {
            let manifest = pack.text("pack.json").unwrap_or_default();
            let at = schema::locate(manifest, "/scripts").unwrap_or((1, 1));
            findings.push(Finding::error(
                "pack.json",
                manifest,
                at,
                format!("script `{file}` is not in the pack (or is not UTF-8)"),
            ));
            continue;
        };
        match engine.compile(source) {
            Ok(ast) => compiled.push(Compiled {
                file: file.clone(),
                source: source.to_string(),
                ast,
            }),
            Err(e) => findings.push(compile_error(file, source, &e, &known_names)),
        }
    }

    let script_fns: BTreeSet<String> = compiled
        .iter()
        .flat_map(|c| c.ast.iter_functions().map(|f| f.name.to_string()))
        .collect();
    let host_fns: BTreeSet<String> = engine
        .gen_fn_signatures(true)
        .into_iter()
        .filter_map(|sig| sig.split('(').next().map(|n| n.trim().to_string()))
        .collect();
    let mut returned: BTreeSet<String> = BTreeSet::new();
    for c in &compiled {
        let mut problems: Vec<Finding> = Vec::new();
        c.ast.walk(&mut |path: &[ASTNode]| {
            let Some(node) = path.last() else {
                return true;
            };
            if let ASTNode::Expr(Expr::FnCall(call, pos)) = node {
                let name = call.name.as_str();
                let is_word = name.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
                if is_word
                    && call.op_token.is_none()
                    && !script_fns.contains(name)
                    && !host_fns.contains(name)
                {
                    let hint = crate::validate::did_you_mean(
                        name,
                        script_fns.iter().chain(&host_fns).map(String::as_str),
                    )
                    .map(|m| format!("did you mean `{m}`?"));
                    problems.push(
                        Finding::error(
                            &c.file,
                            &c.source,
                            (pos.line().unwrap_or(0), pos.position().unwrap_or(0)),
                            format!("unknown function `{name}`: no script defines it and the sandbox does not provide it"),
                        )
                        .hint(hint),
                    );
                }
            }
            if let ASTNode::Expr(Expr::StringConstant(s, pos)) = node {
                let parent = path.len().checked_sub(2).map(|i| &path[i]);
                // `return "id"`, or a bare string statement at the top of a function body,
                // which is its last expression and so its value.
                let top_level_value =
                    path.len() == 2 && matches!(parent, Some(ASTNode::Stmt(Stmt::Expr(..))));
                if top_level_value || matches!(parent, Some(ASTNode::Stmt(Stmt::Return(..)))) {
                    returned.insert(s.to_string());
                    check_rule_id(c, s, *pos, rule_ids, &mut problems);
                }
            }
            true
        });
        findings.extend(problems);
        check_id_literals(pack, c, rule_ids, &returned, findings);
    }

    // Unused rules only make sense once every script compiles.
    if !rule_ids.is_empty() && compiled.len() == pack.manifest.scripts.len() {
        if let Some(path) = pack.manifest.tables.get("rules") {
            let source = pack.text(path).unwrap_or_default();
            let table: Value = serde_json::from_str(source).unwrap_or(Value::Null);
            let list = table.get("rules").and_then(Value::as_array);
            for (i, rule) in list.into_iter().flatten().enumerate() {
                let Some(id) = rule.get("id").and_then(Value::as_str) else {
                    continue;
                };
                if !returned.contains(id) && !host_rule(id) {
                    let at = schema::locate(source, &format!("/rules/{i}/id")).unwrap_or((1, 1));
                    findings.push(
                        Finding::warning(
                            path,
                            source,
                            at,
                            format!("rule `{id}` is never returned by a script"),
                        )
                        .hint(Some(
                            "remove it, or return it from the script that decides it".into(),
                        )),
                    );
                }
            }
        }
    }
    compiled
}

/// Rule ids the host itself reports (the size class, lex specialis), not the scripts.
fn host_rule(id: &str) -> bool {
    matches!(id, "size_class" | "art4_lex_specialis")
}

fn check_rule_id(
    c: &Compiled,
    id: &str,
    pos: rhai::Position,
    rule_ids: &BTreeSet<String>,
    problems: &mut Vec<Finding>,
) {
    if rule_ids.is_empty() || rule_ids.contains(id) {
        return;
    }
    let hint = crate::validate::did_you_mean(id, rule_ids.iter().map(String::as_str))
        .map(|m| format!("did you mean `{m}`?"))
        .or_else(|| Some("add the rule, its citation and wording to the rules table".into()));
    problems.push(
        Finding::error(
            &c.file,
            &c.source,
            (pos.line().unwrap_or(0), pos.position().unwrap_or(0)),
            format!("`{id}` is returned as a rule id but is not in the rules table"),
        )
        .hint(hint),
    );
}

fn check_decisions(
    pack: &Pack,
    manifest_text: &str,
    compiled: &[Compiled],
    findings: &mut Vec<Finding>,
) {
    let functions: BTreeMap<String, (usize, Vec<String>)> = compiled
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            c.ast.iter_functions().map(move |f| {
                (
                    f.name.to_string(),
                    (i, f.params.iter().map(|p| p.to_string()).collect()),
                )
            })
        })
        .collect();
    let host_args: Vec<&str> = crate::evaluate::nis2::argument_names().collect();
    for (name, decision) in &pack.manifest.decisions {
        let at = |field: &str| {
            schema::locate(manifest_text, &format!("/decisions/{name}/{field}")).unwrap_or((1, 1))
        };
        let Some((_, params)) = functions.get(&decision.function) else {
            if compiled.len() == pack.manifest.scripts.len() {
                findings.push(
                    Finding::error(
                        "pack.json",
                        manifest_text,
                        at("function"),
                        format!(
                            "decision `{name}` calls `{}`, which no script defines",
                            decision.function
                        ),
                    )
                    .hint(
                        crate::validate::did_you_mean(
                            &decision.function,
                            functions.keys().map(String::as_str),
                        )
                        .map(|m| format!("did you mean `{m}`?")),
                    ),
                );
            }
            continue;
        };
        if params != &decision.arguments {
            findings.push(
                Finding::error(
                    "pack.json",
                    manifest_text,
                    at("arguments"),
                    format!(
                        "decision `{name}` passes ({}) but `{}` takes ({})",
                        decision.arguments.join(", "),
                        decision.function,
                        params.join(", ")
                    ),
                )
                .hint(Some(
                    "the host passes arguments by position: list them in the order of the \
                     function's parameters, with the same names"
                        .into(),
                )),
            );
        }
        if pack.manifest.id == "nis2" {
            for (i, arg) in decision.arguments.iter().enumerate() {
                if !host_args.contains(&arg.as_str()) {
                    let place =
                        schema::locate(manifest_text, &format!("/decisions/{name}/arguments/{i}"))
                            .unwrap_or((1, 1));
                    findings.push(
                        Finding::error(
                            "pack.json",
                            manifest_text,
                            place,
                            format!("decision `{name}` asks for `{arg}`, a fact the host does not prepare"),
                        )
                        .hint(
                            crate::validate::did_you_mean(arg, host_args.iter().copied())
                                .map(|m| format!("did you mean `{m}`?")),
                        ),
                    );
                }
            }
        }
    }
}

fn check_overlay(pack: &Pack, manifest_text: &str, findings: &mut Vec<Finding>) {
    if pack.manifest.depends.is_empty() {
        return;
    }
    let mut set = PackSet::shipped().unwrap_or_default();
    set.packs.remove(&pack.manifest.id);
    if set.insert(pack.clone()).is_err() {
        return;
    }
    let result = if pack.manifest.overrides.is_empty() {
        crate::pack::overlay::check_dependencies(&set)
    } else {
        crate::pack::overlay::apply(&set, std::slice::from_ref(&pack.manifest.id)).map(drop)
    };
    if let Err(e) = result {
        let pointer = if e.to_string().contains("override") {
            "/overrides"
        } else {
            "/depends"
        };
        let at = schema::locate(manifest_text, pointer).unwrap_or((1, 1));
        findings.push(Finding::error(
            "pack.json",
            manifest_text,
            at,
            e.to_string(),
        ));
    }
}

/// A script that does not compile, with a hint: the fact it probably meant, for an undeclared
/// variable.
fn compile_error(
    file: &str,
    source: &str,
    e: &rhai::ParseError,
    known_names: &BTreeSet<String>,
) -> Finding {
    let at = (
        e.position().line().unwrap_or(0),
        e.position().position().unwrap_or(0),
    );
    let kind = e.err_type().to_string();
    let hint = match e.err_type() {
        rhai::ParseErrorType::VariableUndefined(name) => Some(match crate::validate::did_you_mean(
            name,
            known_names.iter().map(String::as_str),
        ) {
            Some(m) => format!(
                "did you mean `{m}`? A script reads only the facts its function \
                                 receives as parameters (pack.json, \"decisions\")"
            ),
            None => "a script reads only the facts its function receives as \
                                     parameters (pack.json, \"decisions\"); declare other \
                                     variables with `let`"
                .into(),
        }),
        _ if kind.contains("import") || kind.contains("eval") => {
            Some("`import` and `eval` are not available in the sandbox".into())
        }
        _ => None,
    };
    Finding::error(file, source, at, kind).hint(hint)
}

/// Ids a script compares facts with (`"air_carrier"` in a `switch` or an `==`) that no table of
/// the pack knows: such a comparison never matches. Any quoted snake_case word counts as an id;
/// it must be a rule id or a string somewhere in the pack's tables. A near miss is an error with
/// a "did you mean", anything else a warning.
fn check_id_literals(
    pack: &Pack,
    c: &Compiled,
    rule_ids: &BTreeSet<String>,
    returned: &BTreeSet<String>,
    findings: &mut Vec<Finding>,
) {
    // Returned ids are checked against the rules table already (`check_rule_id`).
    let mut known: BTreeSet<String> = rule_ids.union(returned).cloned().collect();
    for path in pack.manifest.tables.values() {
        if let Ok(Ok(v)) = pack.text(path).map(serde_json::from_str::<Value>) {
            strings_in(&v, &mut known);
        }
    }
    for (i, line) in c.source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        let mut offset = 0;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(len) = after.find('"') else {
                break;
            };
            let word = &after[..len];
            let is_id = word.contains('_')
                && word
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if is_id && !known.contains(word) {
                let column = code[..offset + start].chars().count() + 1;
                let near = crate::validate::did_you_mean(word, known.iter().map(String::as_str));
                let message = format!(
                    "`{word}` is neither a rule id nor a value of the pack's tables, so a \
                     comparison with it never matches"
                );
                let at = (i + 1, column);
                findings.push(match near {
                    Some(m) => Finding::error(&c.file, &c.source, at, message)
                        .hint(Some(format!("did you mean `{m}`?"))),
                    None => Finding::warning(&c.file, &c.source, at, message).hint(Some(
                        "add it to the table it belongs to, or correct it".into(),
                    )),
                });
            }
            offset += start + len + 2;
            rest = &after[len + 1..];
        }
    }
}

/// Every string of a JSON value, keys included.
fn strings_in(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                strings_in(v, out);
            }
        }
        _ => {}
    }
}
