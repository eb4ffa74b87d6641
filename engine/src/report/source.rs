//! Where a report's data comes from: assessment output read back, or a portfolio assessed here
//! with the same reader and pipeline as `assay assess`.

use super::ReportError;
use crate::assessment::Assessment;
use crate::evaluate::Evaluator;
use crate::pack::PackSet;
use crate::pipeline::{Context, Options};
use crate::read::columns::ColumnMap;
use crate::read::stream::{Encoding, Input};
use crate::read::{self, Format, Record};
use crate::validate::Validator;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

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
        .map(|(i, l)| parse_line(l, path, i + 1))
        .collect()
}

/// One line of JSON Lines assessments.
fn parse_line(l: &str, path: &str, line: usize) -> Result<Value, ReportError> {
    let v: Value = serde_json::from_str(l).map_err(|e| ReportError::Input {
        path: path.into(),
        line,
        message: format!("not a JSON assessment: {e}"),
    })?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(ReportError::Input {
            path: path.into(),
            line,
            message: "an assessment is a JSON object; write `assay assess` output here".into(),
        })
    }
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

/// Assessments for a report: their summaries in memory, and where to read them whole again.
pub struct Loaded {
    pub summaries: Vec<Value>,
    pub full: Full,
}

/// Where the whole assessments are: a JSON Lines file is read a second time rather than held.
pub enum Full {
    File(PathBuf),
    Values(Vec<Value>),
    Assessed(Vec<Assessment>),
}

impl Full {
    /// The whole assessments, in order.
    pub fn records(&self) -> Box<dyn Iterator<Item = Result<Value, ReportError>> + Send + '_> {
        match self {
            Full::Values(v) => Box::new(v.iter().cloned().map(Ok)),
            Full::Assessed(v) => Box::new(v.iter().map(|a| {
                serde_json::to_value(a).map_err(|e| ReportError::Input {
                    path: "the assessments".into(),
                    line: a.line,
                    message: e.to_string(),
                })
            })),
            Full::File(path) => match lines(path) {
                Ok(lines) => Box::new(lines.map(|r| r.map(|(_, v)| v))),
                Err(e) => Box::new(std::iter::once(Err(e))),
            },
        }
    }
}

/// What `assay report` was given.
pub enum Given {
    Assessments(Loaded),
    /// A portfolio, to be assessed first.
    Portfolio(Portfolio),
}

/// A portfolio given to `assay report`, not yet read: it is opened by [`Portfolio::open`] as
/// `assay assess` opens one, so that a record it cannot read (a JSON line that is not UTF-8,
/// say) is an error record of its own there too, and not the end of the report.
pub enum Portfolio {
    File(String),
    /// Standard input, whose bytes were read to tell assessments from a portfolio.
    StandardInput(Vec<u8>),
}

impl Portfolio {
    /// The portfolio as `assay assess` reads it, in `format` or the one its name or first
    /// bytes suggest.
    pub fn open(
        &self,
        format: Option<Format>,
        mapping: Option<&ColumnMap>,
        encoding: Encoding,
    ) -> Result<Input, String> {
        match self {
            Portfolio::File(path) => Input::open(path, format, mapping, encoding),
            Portfolio::StandardInput(bytes) => {
                Input::open_with("-", bytes.as_slice(), format, mapping, encoding)
            }
        }
    }
}

/// Reads the report's input: assessments (JSON Lines are read line by line and only their
/// summaries kept) or a portfolio. `-` reads standard input.
///
/// Which of the two it is, is told from the opening, with any byte that is not UTF-8 read as a
/// replacement character: a portfolio is not read here but handed on whole, to be read record by
/// record as `assay assess` reads it, where such a byte spoils only its own record.
pub fn open(file: &str) -> Result<Given, ReportError> {
    let read_error = |e: std::io::Error| ReportError::Read {
        path: file.into(),
        message: e.to_string(),
    };
    // Assessments read whole: those on standard input, or written as one JSON array.
    let whole = |bytes: &[u8]| -> Result<Option<Given>, ReportError> {
        if !looks_like_assessments(&String::from_utf8_lossy(bytes)) {
            return Ok(None);
        }
        let text = std::str::from_utf8(bytes).map_err(|e| ReportError::Read {
            path: file.into(),
            message: format!(
                "byte {} is not UTF-8 text, which `assay assess` writes; give its output as it \
                 was written",
                e.valid_up_to() + 1
            ),
        })?;
        let values = parse_assessments(text, file)?;
        Ok(Some(Given::Assessments(Loaded {
            summaries: values.iter().map(super::summary).collect(),
            full: Full::Values(values),
        })))
    };
    if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if let Some(given) = whole(&bytes)? {
            return Ok(given);
        }
        return Ok(Given::Portfolio(Portfolio::StandardInput(bytes)));
    }
    let path = PathBuf::from(file);
    // The first line with something on it: a byte-order mark at the start, and white space as
    // `str::trim` counts it (a no-break space too), are nothing.
    let mut reader = BufReader::new(File::open(&path).map_err(read_error)?);
    let (mut line, mut opening) = (Vec::new(), String::new());
    let mut at_start = true;
    while opening.is_empty() {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(read_error)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = if at_start {
            read::strip_bom(&text)
        } else {
            &text
        };
        opening = text.trim().to_string();
        at_start = false;
    }
    if opening.starts_with('{') && looks_like_assessments(&opening) {
        let summaries = lines(&path)?
            .map(|r| r.map(|(_, v)| super::summary(&v)))
            .collect::<Result<_, _>>()?;
        return Ok(Given::Assessments(Loaded {
            summaries,
            full: Full::File(path),
        }));
    }
    if opening.starts_with('[') {
        if let Some(given) = whole(&std::fs::read(&path).map_err(read_error)?)? {
            return Ok(given);
        }
    }
    Ok(Given::Portfolio(Portfolio::File(file.into())))
}

/// Summaries of earlier assessments, for "changed since".
pub fn previous(file: &str) -> Result<Vec<Value>, ReportError> {
    match open(file)? {
        Given::Assessments(loaded) => Ok(loaded.summaries),
        Given::Portfolio(_) => Err(ReportError::Input {
            path: file.into(),
            line: 1,
            message: "holds facts, not assessments; give the output of an earlier `assay assess`"
                .into(),
        }),
    }
}

/// The assessments of a JSON Lines file, one at a time, with their line.
fn lines(
    path: &Path,
) -> Result<impl Iterator<Item = Result<(usize, Value), ReportError>> + Send, ReportError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| ReportError::Read {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    Ok(BufReader::new(file)
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            !l.as_ref()
                .is_ok_and(|l| read::strip_bom(l).trim().is_empty())
        })
        .map(move |(i, l)| {
            let line = l.map_err(|e| ReportError::Read {
                path: shown.clone(),
                message: e.to_string(),
            })?;
            let value = parse_line(read::strip_bom(&line), &shown, i + 1)?;
            Ok((i + 1, value))
        }))
}

/// Assesses a portfolio's text with the given packs, as [`assess_input`] assesses a file;
/// returns the assessments and the facts.
pub fn assess_portfolio(
    text: &str,
    format: Format,
    evaluator: &Evaluator,
    validator: &Validator,
    as_of: &str,
) -> Result<(Loaded, HashMap<String, Value>), String> {
    assess_input(&Input::from_text(text, format), evaluator, validator, as_of)
}

/// Assesses an opened portfolio as `assay assess` does (the same reading, ownership pass and
/// pipeline, so the same records); returns the assessments and the facts. Call it inside the
/// thread pool that should do the work.
pub fn assess_input(
    input: &Input,
    evaluator: &Evaluator,
    validator: &Validator,
    as_of: &str,
) -> Result<(Loaded, HashMap<String, Value>), String> {
    let cx = Context {
        evaluator,
        validator,
    };
    let assessments = crate::pipeline::collect(input, &cx, &Options::new(as_of))?;
    // The facts are read once more, as the group report of `assay assess` reads them.
    let facts = facts_of(&input.records()?);
    Ok((loaded(assessments), facts))
}

/// Assessments kept whole, with their summaries.
fn loaded(assessments: Vec<Assessment>) -> Loaded {
    let summaries = assessments
        .iter()
        .map(|a| super::summary(&serde_json::to_value(a).unwrap_or(Value::Null)))
        .collect();
    Loaded {
        summaries,
        full: Full::Assessed(assessments),
    }
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
