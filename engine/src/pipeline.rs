//! The batch: read → validate → group → evaluate → (the caller writes), in input order.
//!
//! Validation and evaluation run in parallel on a rayon pool; `collect` on an indexed parallel
//! iterator keeps input order, so the output is the same at any thread count.

use crate::assessment::Assessment;
use crate::error::RecordError;
use crate::evaluate::Evaluator;
use crate::facts::Facts;
use crate::group;
use crate::read::{self, Format, Record};
use crate::validate::Validator;
use rayon::prelude::*;
use std::collections::HashMap;

/// Rayon workers run Rhai's tree-walking interpreter, which recurses; std's 2 MiB default stack
/// is tight for the call-depth limit the sandbox allows, so workers get more.
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// Builds the thread pool for `jobs` workers (0 = one per core).
pub fn pool(jobs: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .stack_size(WORKER_STACK)
        .build()
}

/// A record after validation.
struct Validated {
    line: usize,
    /// The id, when one could be read, so that even an error record names its organisation.
    id: Option<String>,
    facts: Result<Facts, Vec<RecordError>>,
    warnings: Vec<String>,
}

/// Assesses every record of `text`, one assessment per record, in order.
pub fn assess_text(
    text: &str,
    format: Format,
    evaluator: &Evaluator,
    validator: &Validator,
    as_of: &str,
) -> Vec<Assessment> {
    let records = read::read(text, format);
    assess_records(records, evaluator, validator, as_of)
}

pub fn assess_records(
    records: Vec<Record>,
    evaluator: &Evaluator,
    validator: &Validator,
    as_of: &str,
) -> Vec<Assessment> {
    let vocabulary = &evaluator.nis2.vocabulary;
    let validated: Vec<Validated> = records
        .into_par_iter()
        .map(|r| {
            let id = r
                .value
                .as_ref()
                .ok()
                .and_then(|v| v.get("id"))
                .and_then(|v| v.as_str())
                .map(String::from);
            let (facts, warnings) = match r.value {
                Ok(v) => (
                    validator.validate(&v, r.line, vocabulary),
                    validator.likely_typos(&v),
                ),
                Err(e) => (Err(vec![e]), Vec::new()),
            };
            Validated {
                line: r.line,
                id,
                facts,
                warnings,
            }
        })
        .collect();

    // Ids must be unique within a batch: owners refer to them.
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    let mut duplicates: HashMap<usize, RecordError> = HashMap::new();
    for (i, v) in validated.iter().enumerate() {
        let line = v.line;
        if let Ok(f) = &v.facts {
            if let Some(&earlier) = first_line.get(f.id.as_str()) {
                duplicates.insert(
                    i,
                    RecordError::new(
                        "schema",
                        line,
                        Some("/id".into()),
                        format!(
                            "`id`: `{}` is already used by the record on line {earlier}; ids \
                             must be unique within a batch",
                            f.id
                        ),
                    ),
                );
            } else {
                first_line.insert(&f.id, line);
            }
        }
    }

    let valid: Vec<(usize, usize, &Facts)> = validated
        .iter()
        .enumerate()
        .filter(|(i, _)| !duplicates.contains_key(i))
        .filter_map(|(i, v)| v.facts.as_ref().ok().map(|f| (i, v.line, f)))
        .collect();
    let group_input: Vec<(usize, &Facts)> = valid.iter().map(|(_, l, f)| (*l, *f)).collect();
    let (aggregates, group_errors) = group::aggregate(&group_input);
    let mut aggregate_of = HashMap::new();
    let mut group_error_of = HashMap::new();
    for (k, (i, _, _)) in valid.iter().enumerate() {
        if let Some(a) = aggregates.get(&k) {
            aggregate_of.insert(*i, a);
        }
        if let Some(e) = group_errors.get(&k) {
            group_error_of.insert(*i, e.clone());
        }
    }

    validated
        .par_iter()
        .enumerate()
        .map(|(i, v)| {
            let Validated {
                line,
                id,
                facts,
                warnings,
            } = v;
            let errors = match (facts, duplicates.get(&i), group_error_of.get(&i)) {
                (Err(errors), _, _) => Some(errors.clone()),
                (Ok(_), Some(e), _) | (Ok(_), None, Some(e)) => Some(vec![e.clone()]),
                _ => None,
            };
            let mut assessment = match (facts, errors) {
                (Ok(f), None) => {
                    let aggregate = aggregate_of.get(&i).copied();
                    evaluator.assess(f, *line, aggregate, as_of)
                }
                (_, errors) => Assessment {
                    id: id.clone(),
                    line: *line,
                    packs: evaluator.pack_refs(),
                    as_of: as_of.to_string(),
                    nis2: None,
                    soc2: None,
                    plan: None,
                    errors: errors.unwrap_or_default(),
                    warnings: Vec::new(),
                },
            };
            // The reader's warnings first, then those of the group step.
            assessment.warnings.splice(0..0, warnings.iter().cloned());
            assessment
        })
        .collect()
}
