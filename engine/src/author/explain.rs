//! `assay explain FILE --id ID [--full]`: the decision trace of one organisation.
//!
//! The batch is assessed as usual (an organisation is sized with the others of its group), on
//! one thread with the trace recording every call into a pack. The short form lists the rules
//! that decided, in order, each with its citation, its sentence and the facts its script read;
//! `--full` adds every call made (one per activity and per value an unknown fact could take) and
//! the whole assessment.

use crate::evaluate::{nis2, trace, Evaluator};
use crate::pipeline::{Context, Options};
use crate::read::stream::Input;
use crate::validate::Validator;
use serde_json::Value;
use std::fmt::Write;

/// The explanation of organisation `id` in `input`, or why there is none.
pub fn explain(
    input: &Input,
    evaluator: &Evaluator,
    validator: &Validator,
    as_of: &str,
    id: &str,
    full: bool,
) -> Result<String, String> {
    let pool = crate::pipeline::pool(1).map_err(|e| e.to_string())?;
    let (assessments, steps) = pool.install(|| {
        let cx = Context {
            evaluator,
            validator,
        };
        trace::record(|| crate::pipeline::collect(input, &cx, &Options::new(as_of)))
    });
    let assessments = assessments?;
    let Some(assessment) = assessments.iter().find(|a| a.id.as_deref() == Some(id)) else {
        let ids: Vec<&str> = assessments.iter().filter_map(|a| a.id.as_deref()).collect();
        let hint = crate::validate::did_you_mean(id, ids.iter().copied())
            .map(|m| format!("; did you mean `{m}`?"))
            .unwrap_or_default();
        return Err(format!("no organisation with id `{id}` in the file{hint}"));
    };
    let steps: Vec<&trace::Step> = steps.iter().filter(|s| s.record == id).collect();
    let json = serde_json::to_value(assessment).unwrap_or(Value::Null);

    let mut out = String::new();
    let _ = writeln!(out, "{id} (line {}), as of {as_of}", assessment.line);
    for p in assessment.packs.iter() {
        let _ = writeln!(out, "  pack {} {} sha256 {}", p.id, p.version, p.sha256);
    }
    let read_by = |out: &mut String, rule: &str| {
        if let Some(step) = steps.iter().find(|s| s.rule == rule) {
            let read: Vec<String> = step
                .arguments
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(
                out,
                "     read by {} (`{}`, pack {}): {}",
                step.decision,
                step.function,
                step.pack,
                read.join(", ")
            );
        }
    };
    let Some(n) = &assessment.nis2 else {
        for e in &assessment.errors {
            let _ = writeln!(out, "  error ({}): {}", e.code, e.message);
        }
        return Ok(out);
    };
    let _ = writeln!(out, "NIS2: {}", n.classification.as_str());
    for (i, g) in n.grounds.iter().enumerate() {
        let _ = writeln!(out, "{:>3}. {}  [{}]", i + 1, g.rule, g.cites);
        let _ = writeln!(out, "     {}", g.says);
        if g.rule == "size_class" {
            let _ = writeln!(
                out,
                "     read: employees, annual_turnover_eur, balance_sheet_eur → {} ({} figures)",
                json["nis2"]["size"]["class"],
                json["nis2"]["size"]["basis"].as_str().unwrap_or("own")
            );
            continue;
        }
        read_by(&mut out, &g.rule);
    }
    if !n.missing.is_empty() {
        let _ = writeln!(out, "would be settled by: {}", n.missing.join(", "));
    }
    if !n.jurisdiction.is_empty() {
        let _ = writeln!(out, "jurisdiction: {}", n.jurisdiction.join(", "));
    }
    for note in &n.notes {
        let _ = writeln!(out, "note: {note}");
    }
    if let Some(soc2) = json.get("soc2").filter(|s| s.is_object()) {
        let _ = writeln!(
            out,
            "SOC 2: needed {}, type {}",
            soc2["needed"], soc2["type"]
        );
        let why = soc2["why"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, g) in why.iter().enumerate() {
            let rule = g["rule"].as_str().unwrap_or_default();
            let _ = writeln!(
                out,
                "{:>3}. {rule}  [{}]",
                i + 1,
                g["cites"].as_str().unwrap_or_default()
            );
            let _ = writeln!(out, "     {}", g["says"].as_str().unwrap_or_default());
            read_by(&mut out, rule);
        }
    }
    if full {
        let _ = writeln!(out, "\nevery call into a pack, in order ({}):", steps.len());
        for (i, s) in steps.iter().enumerate() {
            let _ = writeln!(out, "{:>3}. {}.{} → {}", i + 1, s.pack, s.function, s.rule);
            for (k, v) in &s.arguments {
                let _ = writeln!(
                    out,
                    "       {k} = {v}    (from {})",
                    nis2::argument_sources(k)
                );
            }
        }
        let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
        let _ = writeln!(out, "\nthe assessment:\n{pretty}");
    }
    Ok(out)
}
