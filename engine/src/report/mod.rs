//! Reports: self-contained HTML pages that a consultant hands to a client or a board.
//!
//! The input is assessment output (see [`crate::assessment`]), read back as JSON so that fields
//! this build does not know yet (SOC 2, the plan, group aggregation) render when present and
//! say "not assessed" when absent. The facts, when given, add sectors, names and ownership.
//!
//! - [`source`] reads assessments or assesses a portfolio first, keeping only a [`summary`] of
//!   each in memory and reading each again for its own page;
//! - [`portfolio`], [`organisation`] and [`group`] build the data of each page;
//! - [`templates`] renders them with minijinja from `engine/templates/` (embedded, or a folder a
//!   consultant adapted), with [`chart`] drawing bar charts as inline SVG.
//!
//! Every page is one file with its stylesheet inline and no script, font or image from
//! elsewhere, so it opens offline and prints to a clean PDF.

pub mod chart;
pub mod group;
pub mod organisation;
pub mod portfolio;
pub mod source;
pub mod summary;
pub mod templates;

use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
pub use summary::summary;
use templates::Templates;
use thiserror::Error;

/// A problem making a report; each names the file and what would fix it.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("cannot read `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("`{path}` line {line}: {message}")]
    Input {
        path: String,
        line: usize,
        message: String,
    },
    #[error("template `{name}`: {message}")]
    Template { name: String, message: String },
    #[error("cannot write `{path}`: {message}")]
    Write { path: String, message: String },
}

/// What a report is made of.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Assessments, in input order, as written by `assay assess`.
    pub assessments: Vec<Value>,
    /// Facts by organisation id (the first record of an id wins), when known.
    pub facts: HashMap<String, Value>,
    /// An earlier assessment run, for "changed since".
    pub previous: Option<Vec<Value>>,
    /// Titles and clocks of obligations by id, from the `nis2` pack's obligations table.
    pub obligations: Map<String, Value>,
    /// The sector of each entity type, from the `nis2` pack, for activities given by type alone.
    pub sectors: HashMap<String, String>,
    /// The size-class table of the `nis2` pack (Rec. 2003/361/EC Annex Art. 2), for ceilings.
    pub size_classes: Value,
}

/// The pages written, relative to the output folder.
#[derive(Debug)]
pub struct Written {
    pub portfolio: PathBuf,
    pub organisations: Vec<PathBuf>,
    pub groups: Vec<PathBuf>,
    /// Pages that could show only part of their assessment, and why.
    pub warnings: Vec<String>,
}

/// The file name of every organisation page, by position in the assessments.
pub(crate) struct Pages {
    pub organisations: Vec<String>,
}

impl Pages {
    /// File names are made from ids, which come from client files: only letters, digits, `-`
    /// and `_` survive, so no id can name a path outside the folder, and clashes get a number.
    fn new(assessments: &[Value]) -> Pages {
        let mut used = HashSet::new();
        let organisations = assessments
            .iter()
            .map(|a| {
                let base = match a.get("id").and_then(Value::as_str) {
                    Some(id) => format!("org-{}", slug(id)),
                    None => format!(
                        "line-{}",
                        a.get("line").and_then(Value::as_u64).unwrap_or(0)
                    ),
                };
                unique(&mut used, base)
            })
            .collect();
        Pages { organisations }
    }
}

pub(crate) fn unique(used: &mut HashSet<String>, base: String) -> String {
    let mut name = format!("{base}.html");
    let mut n = 2;
    while !used.insert(name.to_ascii_lowercase()) {
        name = format!("{base}-{n}.html");
        n += 1;
    }
    name
}

pub(crate) fn slug(id: &str) -> String {
    let s: String = id
        .chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "_".into()
    } else {
        s
    }
}

/// What every page shows so that a report can be reproduced: the packs and the dates.
fn provenance(assessments: &[Value]) -> Value {
    let mut packs: BTreeMap<String, Value> = BTreeMap::new();
    let mut dates: Vec<String> = Vec::new();
    for a in assessments {
        for p in a
            .get("packs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = format!(
                "{}@{}@{}",
                str_at(p, "/id"),
                str_at(p, "/version"),
                str_at(p, "/sha256")
            );
            packs.entry(key).or_insert_with(|| p.clone());
        }
        if let Some(d) = a.get("as_of").and_then(Value::as_str) {
            if !dates.iter().any(|x| x == d) {
                dates.push(d.to_string());
            }
        }
    }
    dates.sort();
    json!({
        "packs": packs.into_values().collect::<Vec<_>>(),
        "as_of": dates,
        "tool": format!("assay {}", env!("CARGO_PKG_VERSION")),
    })
}

/// A string at a JSON pointer, or "".
pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The display name: the facts' `name`, else the id.
pub(crate) fn name_of(inputs: &Inputs, a: &Value) -> String {
    let id = a.get("id").and_then(Value::as_str);
    id.and_then(|id| inputs.facts.get(id))
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .or(id)
        .map(String::from)
        .unwrap_or_else(|| {
            format!(
                "record on line {}",
                a.get("line").and_then(Value::as_u64).unwrap_or(0)
            )
        })
}

/// How many organisation pages are rendered at a time: enough to keep both cores busy, few
/// enough that their assessments (with whole plans, tens of kilobytes each) stay small in memory.
const CHUNK: usize = 256;

/// Renders every page into `out` (created when missing) and returns what was written.
///
/// `inputs.assessments` may be the assessments themselves or their [`summary`]; `full` yields
/// the whole assessments again, in the same order, for the organisation pages. Reading them
/// twice keeps memory to the summaries when the assessments come from a large file.
pub fn write_html(
    inputs: &Inputs,
    full: impl Iterator<Item = Result<Value, ReportError>>,
    templates: &Templates,
    out: &Path,
) -> Result<Written, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| write_error(out, e))?;
    let pages = Pages::new(&inputs.assessments);
    let common = provenance(&inputs.assessments);
    let changes = portfolio::changes(inputs);
    let groups = group::groups(inputs, &pages);

    let mut full = full.enumerate();
    let mut organisations = Vec::with_capacity(inputs.assessments.len());
    let mut gaps = portfolio::Gaps::default();
    let mut warnings = Vec::new();
    loop {
        let chunk: Vec<(usize, Value)> = full
            .by_ref()
            .take(CHUNK)
            .map(|(i, a)| a.map(|a| (i, a)))
            .collect::<Result<_, _>>()?;
        if chunk.is_empty() {
            break;
        }
        let done = chunk
            .par_iter()
            .map(|(i, a)| {
                let name = pages
                    .organisations
                    .get(*i)
                    .ok_or_else(|| mismatch(*i + 1))?;
                let context = organisation::context(inputs, a, &changes, &groups);
                let (html, warning) = match templates.render("organisation.html", &common, context)
                {
                    Ok(html) => (html, None),
                    // An assessment whose parts have other types than the contract's (a file
                    // from elsewhere, edited by hand): its page shows what can be shown.
                    Err(e) => {
                        let mut context =
                            organisation::context(inputs, &summary(a), &changes, &groups);
                        let warning = format!("page `{name}`: {e}");
                        context["warning"] = Value::String(warning.clone());
                        let html = templates.render("organisation.html", &common, context)?;
                        (html, Some(warning))
                    }
                };
                write(out, name, &html)?;
                Ok((PathBuf::from(name), portfolio::Gaps::of(a), warning))
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        for (page, g, warning) in done {
            organisations.push(page);
            gaps = gaps.merge(g);
            warnings.extend(warning);
        }
    }
    if organisations.len() != inputs.assessments.len() {
        return Err(mismatch(organisations.len()));
    }

    let portfolio = portfolio::context(inputs, &pages, &changes, &groups, &gaps);
    let html = templates.render("portfolio.html", &common, portfolio)?;
    write(out, "index.html", &html)?;

    let groups = groups
        .iter()
        .map(|g| {
            let html = templates.render("group.html", &common, g.context.clone())?;
            write(out, &g.page, &html)?;
            Ok(PathBuf::from(&g.page))
        })
        .collect::<Result<Vec<_>, ReportError>>()?;

    Ok(Written {
        portfolio: PathBuf::from("index.html"),
        organisations,
        groups,
        warnings,
    })
}

/// The assessments read a second time are not those read the first time.
fn mismatch(count: usize) -> ReportError {
    ReportError::Input {
        path: "the assessments".into(),
        line: count,
        message: "changed while the report was written; write the report again".into(),
    }
}

fn write(dir: &Path, name: &str, html: &str) -> Result<(), ReportError> {
    let path = dir.join(name);
    std::fs::write(&path, html).map_err(|e| write_error(&path, e))
}

fn write_error(path: &Path, e: std::io::Error) -> ReportError {
    ReportError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_name_a_path_outside_the_folder() {
        let pages = Pages::new(&[
            json!({"id": "../../etc/passwd"}),
            json!({"id": "a/b"}),
            json!({"id": "a_b"}),
            json!({"line": 7}),
        ]);
        assert_eq!(
            pages.organisations,
            [
                "org-______etc_passwd.html",
                "org-a_b.html",
                "org-a_b-2.html",
                "line-7.html"
            ]
        );
    }

    #[test]
    fn ids_differing_only_in_case_get_two_files() {
        // Case-insensitive file systems (macOS, Windows) would otherwise overwrite one.
        let pages = Pages::new(&[json!({"id": "Acme"}), json!({"id": "acme"})]);
        assert_eq!(pages.organisations, ["org-Acme.html", "org-acme-2.html"]);
    }
}
