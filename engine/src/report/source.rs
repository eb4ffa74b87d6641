//! Where a report's data comes from: assessment output read back, or a portfolio assessed here
//! with the same pipeline as `assay assess`.

use super::ReportError;
use crate::evaluate::Evaluator;
use crate::pack::PackSet;
use crate::read::{self, Format, Record};
use crate::validate::Validator;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// True when the text holds assessments (records with `as_of` and `packs`) rather than facts.
pub fn looks_like_assessments(text: &str) -> bool {
    let text = read::strip_bom(text).trim_start();
    let first = if text.starts_with('[') {
        serde_json::from_str::<Vec<Value>>(text)
            .ok()
            .and_then(|v| v.into_iter().next())
    } else {
        text.lines()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| serde_json::from_str::<Value>(l).ok())
    };
    first.is_some_and(|v| v.get("as_of").is_some() && v.get("packs").is_some())
}

/// Reads assessments written as JSON Lines or as one JSON array.
pub fn parse_assessments(text: &str, path: &str) -> Result<Vec<Value>, ReportError> {
    let text = read::strip_bom(text);
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| ReportError::Input {
            path: path.into(),
            line: e.line(),
            message: format!("not a JSON array of assessments: {e}"),
        });
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l).map_err(|e| ReportError::Input {
                path: path.into(),
                line: i + 1,
                message: format!("not a JSON assessment: {e}"),
            })?;
            if v.is_object() {
                Ok(v)
            } else {
                Err(ReportError::Input {
                    path: path.into(),
                    line: i + 1,
                    message: "an assessment is a JSON object; write `assay assess` output here"
                        .into(),
                })
            }
        })
        .collect()
}

/// Facts by id from records that could be read; the first record of an id wins, as in the
/// assessment, where later ones are error records.
pub fn facts_of(records: &[Record]) -> HashMap<String, Value> {
    let mut facts = HashMap::new();
    for r in records {
        if let Ok(v) = &r.value {
            if let Some(id) = v.get("id").and_then(Value::as_str) {
                facts.entry(id.to_string()).or_insert_with(|| v.clone());
            }
        }
    }
    facts
}

/// Reads a portfolio file's facts by id.
pub fn read_facts(text: &str, format: Format) -> HashMap<String, Value> {
    facts_of(&read::read(text, format))
}

/// Assesses a portfolio with the given packs; returns the assessments as JSON and the facts.
pub fn assess_portfolio(
    text: &str,
    format: Format,
    evaluator: &Evaluator,
    validator: &Validator,
    as_of: &str,
) -> (Vec<Value>, HashMap<String, Value>) {
    let records = read::read(text, format);
    let facts = facts_of(&records);
    let assessments = crate::pipeline::assess_records(records, evaluator, validator, as_of)
        .iter()
        .map(|a| serde_json::to_value(a).unwrap_or(Value::Null))
        .collect();
    (assessments, facts)
}

/// The `nis2` pack's size-class table, or null when the packs have none.
pub fn size_classes(packs: &PackSet) -> Value {
    packs
        .get("nis2")
        .and_then(|p| p.text("tables/size-classes.json").ok())
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// The sector of each entity type in the `nis2` pack's table of Annex types.
pub fn sectors(packs: &PackSet) -> HashMap<String, String> {
    let table = packs
        .get("nis2")
        .and_then(|p| p.text("tables/entity-types.json").ok())
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    table
        .as_ref()
        .and_then(|t| t.get("entity_types"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let ty = t.get("entity_type")?.as_str()?;
            let sector = t.get("sector")?.as_str()?;
            Some((ty.to_string(), sector.to_string()))
        })
        .collect()
}

/// Obligation titles and clocks by id, from the `nis2` pack's table; empty when the packs have
/// none, and the pages then show the ids and citations alone.
pub fn obligations(packs: &PackSet) -> Map<String, Value> {
    let table = packs
        .get("nis2")
        .and_then(|p| p.text("tables/obligations.json").ok())
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    let mut out = Map::new();
    for o in table
        .as_ref()
        .and_then(|t| t.get("obligations"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = o.get("id").and_then(Value::as_str) {
            out.insert(id.to_string(), o.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assessments_are_told_from_facts_by_as_of_and_packs() {
        assert!(looks_like_assessments(
            "\u{feff}{\"id\":\"a\",\"as_of\":\"2026-12-04\",\"packs\":[]}\n"
        ));
        assert!(looks_like_assessments(
            "[{\"id\":\"a\",\"as_of\":\"2026-12-04\",\"packs\":[]}]"
        ));
        assert!(!looks_like_assessments("{\"id\":\"a\",\"employees\":3}\n"));
        assert!(!looks_like_assessments("id,employees\na,3\n"));
    }

    #[test]
    fn a_broken_assessment_line_is_named() {
        let e = parse_assessments("{\"id\":\"a\"}\n\n{oops\n", "x.jsonl").unwrap_err();
        assert!(e.to_string().starts_with("`x.jsonl` line 3:"), "{e}");
    }
}
