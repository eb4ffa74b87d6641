//! Validation: the facts schema, then the checks a schema cannot express.
//!
//! The schema (`schemas/facts.schema.json`, draft 2020-12) is compiled once, without network or
//! file access, and applied to every record. Then come the semantic checks: country codes from
//! ISO 3166-1, activity ids from the nis2 pack's Annex table (with a "did you mean"), NACE codes
//! from NACE Rev. 2 and Rev. 2.1 (with the nearest codes), and consistency between related
//! fields. Every problem found in a record is reported, each naming the field as a JSON
//! pointer.
//!
//! A record that arrives as a JSON line is first tried the short way (`validate/typed.rs`):
//! parsed straight into [`Facts`] and held to the schema's keywords in Rust. Only a record that
//! way does not accept (one with a problem, or with fields of its own) is read into a JSON
//! value and put through the schema, which words its problems; both ways give a valid record
//! the same facts.

use crate::error::RecordError;
use crate::evaluate::tables::Vocabulary;
use crate::facts::Facts;
use crate::nace::clip;
use serde::Deserialize;
use serde_json::Value;
use std::cell::RefCell;

mod typed;

const FACTS_SCHEMA: &str = include_str!("../../schemas/facts.schema.json");
const COUNTRIES: &str = include_str!("../../schemas/countries.json");

/// At most this many problems are reported per record; the rest are summarised.
const MAX_ERRORS: usize = 10;

pub struct Validator {
    schema: jsonschema::Validator,
    countries: foldhash::HashSet<String>,
    /// The top-level facts fields: looked up for every key of every record.
    fields: foldhash::HashSet<String>,
    /// The same, sorted: suggestions are tried in this order, so that a tie between two goes
    /// the same way on every run.
    field_list: Vec<String>,
    /// The schema's enumerations, for the short way of [`Validator::validate_json`].
    enums: typed::Enums,
    /// Per worker: the field each unknown key looks like a misspelling of, if any, as found
    /// before. A spreadsheet's extra columns come back on every row, and comparing each with
    /// every facts field, row after row, took most of the time of a wide sheet.
    typos: thread_local::ThreadLocal<RefCell<foldhash::HashMap<String, Option<String>>>>,
}

/// The unknown keys a worker remembers (see `Validator::typos`): a file whose records each
/// bring new keys cannot make the memory grow without end.
const TYPOS_KEPT: usize = 4096;

impl Validator {
    pub fn new() -> Validator {
        // The schema ships inside the binary and a test checks it compiles, so failing here
        // would be a build defect rather than a user error.
        let schema: Value = serde_json::from_str(FACTS_SCHEMA)
            .unwrap_or_else(|e| unreachable!("shipped facts schema is JSON: {e}"));
        let mut field_list: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        field_list.sort_unstable();
        let fields = field_list.iter().cloned().collect();
        let enums = typed::Enums::from_schema(&schema);
        let schema = jsonschema::options()
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&schema)
            .unwrap_or_else(|e| unreachable!("shipped facts schema compiles: {e}"));
        let countries: Value = serde_json::from_str(COUNTRIES)
            .unwrap_or_else(|e| unreachable!("shipped country list is JSON: {e}"));
        let countries = countries["countries"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Validator {
            schema,
            countries,
            fields,
            field_list,
            enums,
            typos: thread_local::ThreadLocal::new(),
        }
    }

    /// Validates one record given as the text of a JSON object, the short way: its facts when it
    /// is valid and has no field besides the facts fields, `None` otherwise. A `None` record is
    /// then read into a JSON value and given to [`Validator::validate`], which finds and words
    /// its problems and warns about fields that look misspelt; for a record both accept, the
    /// facts are the same.
    pub fn validate_json(&self, text: &str, line: usize, vocabulary: &Vocabulary) -> Option<Facts> {
        let facts = typed::parse(text, &self.enums)?;
        self.check_semantics(facts, line, vocabulary).ok()
    }

    /// Validates one record read from line `line`; returns its facts or every problem found.
    pub fn validate(
        &self,
        value: &Value,
        line: usize,
        vocabulary: &Vocabulary,
    ) -> Result<Facts, Vec<RecordError>> {
        // An explicit null is an absent fact, as an empty CSV cell is.
        let stripped;
        let value = if has_null(value) {
            stripped = without_nulls(value);
            &stripped
        } else {
            value
        };
        let mut errors: Vec<RecordError> = Vec::new();
        let mut controls_explained = false;
        // Most records are valid: the yes/no check is cheaper than collecting errors, which is
        // done only for the records that have some.
        let schema_errors = if self.schema.is_valid(value) {
            None
        } else {
            Some(self.schema.iter_errors(value).take(MAX_ERRORS))
        };
        for e in schema_errors.into_iter().flatten() {
            let pointer = e.instance_path().as_str().to_string();
            // `controls` takes two shapes, so the schema can only say neither matched: say
            // which entry is wrong and how instead.
            if pointer.starts_with("/controls") {
                if !controls_explained {
                    errors.extend(controls_errors(&value["controls"], line));
                    controls_explained = true;
                }
                continue;
            }
            let field = if pointer.is_empty() {
                None
            } else {
                Some(pointer.clone())
            };
            let subject = if pointer.is_empty() {
                "the record".to_string()
            } else {
                format!("`{}`", pointer.trim_start_matches('/').replace('/', "."))
            };
            let message = match e.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => format!(
                    "the record has no {property}: add it ({})",
                    if property.as_str() == Some("id") {
                        "every organisation needs an id, unique within the batch"
                    } else {
                        "the schema requires it"
                    }
                ),
                jsonschema::error::ValidationErrorKind::Type {
                    kind: jsonschema::error::TypeKind::Single(jsonschema::JsonType::Number),
                } => match e
                    .instance()
                    .as_str()
                    .and_then(crate::read::number::ambiguous)
                {
                    Some(a) => format!(
                        "{subject}: `{}` could be {} or {}, so it was not guessed; write {} for \
                         the whole number, or {} for the fraction ({})",
                        e.instance().as_str().unwrap_or_default(),
                        a.whole,
                        a.fraction,
                        a.whole,
                        a.fraction_there,
                        a.there
                    ),
                    // Text that is no number at all: a currency sign, a unit, a word.
                    None => match e.instance().as_str() {
                        Some(text) => format!(
                            "{subject}: `{text}` is not a number: write the figure alone, in \
                             digits (`60000000` for sixty million euros); currency signs and \
                             words such as `Mio` are not read"
                        ),
                        None => format!("{subject}: {e}"),
                    },
                },
                jsonschema::error::ValidationErrorKind::Type {
                    kind: jsonschema::error::TypeKind::Single(jsonschema::JsonType::String),
                } if !e.instance().is_object() && !e.instance().is_array() => {
                    // A code typed as a number loses its zeros (`35.10` is read 35.1).
                    let written = e.instance().to_string();
                    let what = if pointer.starts_with("/nace_codes/") {
                        "each NACE code"
                    } else {
                        "it"
                    };
                    format!(
                        "{subject}: {} is not text: write {what} as text in quotes (`\"{}\"`), \
                         so that it is read as written",
                        clip(&written),
                        clip(&written)
                    )
                }
                jsonschema::error::ValidationErrorKind::Type {
                    kind: jsonschema::error::TypeKind::Single(jsonschema::JsonType::Array),
                } if TEXT_LISTS.contains(&pointer.as_str())
                    && (e.instance().is_string() || e.instance().is_number()) =>
                {
                    let item = match &**e.instance() {
                        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
                        other => format!("\"{other}\""),
                    };
                    format!(
                        "{subject}: {} is one value where a list is expected: write a list, \
                         `[{}]` (several are separated by commas)",
                        clip(&e.instance().to_string()),
                        clip(&item)
                    )
                }
                // The schema's one date shape, `$defs/date`: a date written another way (the
                // day first, with dots or slashes) is told the order, not the pattern.
                jsonschema::error::ValidationErrorKind::Pattern { pattern }
                    if pattern == DATE_PATTERN =>
                {
                    format!(
                        "{subject}: `{}` is not a date written YYYY-MM-DD: write the year, the \
                         month and the day in that order, `2027-06-30` for 30 June 2027 (dates \
                         such as 30.06.2027 or 06/30/2027 are not read: the order of their day \
                         and month differs from country to country)",
                        clip(e.instance().as_str().unwrap_or_default())
                    )
                }
                _ => format!("{subject}: {e}"),
            };
            errors.push(RecordError::new("schema", line, field, message));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // The facts are read from the borrowed value (no copy is made), without the record's
        // own fields, which the contract lets it carry and `Facts` does not take.
        let facts_only;
        let value = match value.as_object() {
            Some(object) if object.keys().any(|k| !self.fields.contains(k)) => {
                facts_only = Value::Object(
                    object
                        .iter()
                        .filter(|(k, _)| self.fields.contains(*k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                );
                &facts_only
            }
            _ => value,
        };
        let facts: Facts = match Facts::deserialize(value) {
            Ok(f) => f,
            Err(e) => {
                return Err(vec![RecordError::new("schema", line, None, e.to_string())]);
            }
        };
        self.check_semantics(facts, line, vocabulary)
    }

    /// The checks a schema cannot express, on facts the schema has accepted.
    fn check_semantics(
        &self,
        facts: Facts,
        line: usize,
        vocabulary: &Vocabulary,
    ) -> Result<Facts, Vec<RecordError>> {
        let mut errors = Vec::new();
        self.check_countries(&facts, line, &mut errors);
        check_activities(&facts, line, vocabulary, &mut errors);
        check_nace_codes(&facts, line, vocabulary, &mut errors);
        check_dates(&facts, line, &mut errors);
        errors.truncate(MAX_ERRORS);
        if errors.is_empty() {
            Ok(facts)
        } else {
            Err(errors)
        }
    }

    /// Top-level fields that are not facts fields but look like a misspelt one: the contract
    /// lets records carry extra fields, but `employes` silently left out would change an answer.
    pub fn likely_typos(&self, value: &Value) -> Vec<String> {
        let Some(object) = value.as_object() else {
            return Vec::new();
        };
        let mut typos = self.typos.get_or_default().borrow_mut();
        object
            .keys()
            .filter(|k| !self.fields.contains(*k))
            .filter_map(|k| {
                let meant = match typos.get(k.as_str()) {
                    Some(meant) => meant.clone(),
                    None => {
                        let meant = did_you_mean(k, self.field_list.iter().map(String::as_str))
                            .map(String::from);
                        if typos.len() < TYPOS_KEPT {
                            typos.insert(k.clone(), meant.clone());
                        }
                        meant
                    }
                };
                meant.map(|m| {
                    format!("`{k}` is not a facts field and was not used; did you mean `{m}`?")
                })
            })
            .collect()
    }

    fn check_countries(&self, facts: &Facts, line: usize, errors: &mut Vec<RecordError>) {
        // (field, index in its list, code); the pointer is written only for an error.
        let mut fields: Vec<(&str, Option<usize>, &str)> = Vec::new();
        for (name, list) in [
            ("established_in", &facts.established_in),
            ("provides_services_in", &facts.provides_services_in),
        ] {
            for (i, c) in list.iter().flatten().enumerate() {
                fields.push((name, Some(i), c));
            }
        }
        if let Some(c) = &facts.eu_representative_in {
            fields.push(("eu_representative_in", None, c));
        }
        if let Some(me) = &facts.main_establishment {
            for (name, c) in [
                (
                    "main_establishment/cyber_decisions_in",
                    &me.cyber_decisions_in,
                ),
                (
                    "main_establishment/cyber_operations_in",
                    &me.cyber_operations_in,
                ),
                (
                    "main_establishment/largest_workforce_in",
                    &me.largest_workforce_in,
                ),
            ] {
                if let Some(c) = c {
                    fields.push((name, None, c));
                }
            }
        }
        for (name, index, code) in fields {
            if self.countries.contains(code) {
                continue;
            }
            let pointer = match index {
                Some(i) => format!("/{name}/{i}"),
                None => format!("/{name}"),
            };
            let hint = match code {
                "UK" => " (did you mean `GB`? ISO 3166-1 writes the United Kingdom as GB)",
                "EL" => " (did you mean `GR`? ISO 3166-1 writes Greece as GR)",
                _ => "",
            };
            errors.push(RecordError::new(
                "unknown_id",
                line,
                Some(pointer.clone()),
                format!(
                    "`{}`: `{code}` is not an ISO 3166-1 alpha-2 country code{hint}",
                    field_name(&pointer)
                ),
            ));
        }
    }
}

impl Default for Validator {
    fn default() -> Self {
        Validator::new()
    }
}

fn check_activities(
    facts: &Facts,
    line: usize,
    vocabulary: &Vocabulary,
    errors: &mut Vec<RecordError>,
) {
    for (i, a) in facts.activities.iter().flatten().enumerate() {
        let at = |name: &str| format!("/activities/{i}/{name}");
        let Some(t) = vocabulary.get(&a.entity_type) else {
            errors.push(unknown(
                line,
                at("entity_type"),
                "entity type",
                &a.entity_type,
                vocabulary.types.iter().map(|t| t.entity_type.as_str()),
            ));
            continue;
        };
        if let Some(sector) = &a.sector {
            if !vocabulary.sectors.contains(sector.as_str()) {
                errors.push(unknown(
                    line,
                    at("sector"),
                    "sector",
                    sector,
                    vocabulary.sectors.iter().map(String::as_str),
                ));
            } else if t.entity_type != "other" && *sector != t.sector {
                errors.push(RecordError::new(
                    "inconsistent",
                    line,
                    Some(at("sector")),
                    format!(
                        "`activities.{i}.sector`: entity type `{}` belongs to sector `{}`, not \
                         `{sector}`; correct the sector or leave it out",
                        t.entity_type, t.sector
                    ),
                ));
            }
        }
        if let Some(subsector) = &a.subsector {
            if !vocabulary.subsectors.contains(subsector.as_str()) {
                errors.push(unknown(
                    line,
                    at("subsector"),
                    "subsector",
                    subsector,
                    vocabulary.subsectors.iter().map(String::as_str),
                ));
            } else if t.entity_type != "other" && *subsector != t.subsector {
                errors.push(RecordError::new(
                    "inconsistent",
                    line,
                    Some(at("subsector")),
                    format!(
                        "`activities.{i}.subsector`: entity type `{}` belongs to subsector `{}`, \
                         not `{subsector}`; correct the subsector or leave it out",
                        t.entity_type, t.subsector
                    ),
                ));
            }
        }
        let level = match t.entity_type.as_str() {
            "central_government_public_administration_entity" => Some("central"),
            "regional_public_administration_entity" => Some("regional"),
            "local_public_administration_entity" => Some("local"),
            _ => None,
        };
        if let (Some(expected), Some(declared)) = (level, &facts.public_administration_level) {
            if expected != declared {
                errors.push(RecordError::new(
                    "inconsistent",
                    line,
                    Some("/public_administration_level".into()),
                    format!(
                        "`public_administration_level` is `{declared}` but activity {i} is a \
                         {expected} public administration entity; make them agree"
                    ),
                ));
            }
        }
    }
}

/// NACE codes of the right shape that neither NACE Rev. 2 nor Rev. 2.1 has: a typo that would
/// otherwise suggest nothing and let the record look out of scope. Codes not of NACE's shape are
/// left to the note, which names them.
fn check_nace_codes(
    facts: &Facts,
    line: usize,
    vocabulary: &Vocabulary,
    errors: &mut Vec<RecordError>,
) {
    for (i, code) in facts.nace_codes.iter().flatten().enumerate() {
        if let Some(message) = vocabulary.nace.unknown(code) {
            errors.push(RecordError::new(
                "unknown_id",
                line,
                Some(format!("/nace_codes/{i}")),
                format!("`nace_codes.{i}`: {message}"),
            ));
        }
    }
}

fn unknown<'a>(
    line: usize,
    pointer: String,
    what: &str,
    value: &str,
    known: impl Iterator<Item = &'a str>,
) -> RecordError {
    let hint = did_you_mean(value, known)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_else(|| "; the ids are listed in rules/nis2/tables/entity-types.json".into());
    RecordError::new(
        "unknown_id",
        line,
        Some(pointer.clone()),
        format!(
            "`{}`: `{value}` is not a known {what}{hint}",
            field_name(&pointer)
        ),
    )
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().any(has_null),
        Value::Array(a) => a.iter().any(has_null),
        _ => false,
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// `/activities/0/entity_type` → `activities.0.entity_type`.
fn field_name(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// The closest known name, when one is close enough to be a likely typo.
pub fn did_you_mean<'a>(value: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::jaro_winkler(value, k), k))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// The pattern of the facts schema's dates (`$defs/date` in schemas/facts.schema.json).
const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// Dates the schema only checks the shape of: `2026-02-31` has the shape but is no date.
fn check_dates(facts: &Facts, line: usize, errors: &mut Vec<RecordError>) {
    for (i, c) in facts.certifications.iter().flatten().enumerate() {
        for (name, value) in [("expires", &c.expires), ("period_end", &c.period_end)] {
            if let Some(d) = value {
                if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                    errors.push(RecordError::new(
                        "schema",
                        line,
                        Some(format!("/certifications/{i}/{name}")),
                        format!(
                            "`certifications.{i}.{name}`: `{d}` is not a calendar date; write \
                             it as YYYY-MM-DD with a day that exists in that month"
                        ),
                    ));
                }
            }
        }
    }
}

/// Precise errors for a `controls` value the schema rejected.
/// The fields that are lists of text (codes, countries, words of the schema's): one value given
/// alone is written as a list of one in the message's fix.
const TEXT_LISTS: [&str; 7] = [
    "/nace_codes",
    "/established_in",
    "/provides_services_in",
    "/service_models",
    "/customer_regions",
    "/customer_segments",
    "/data_handled",
];

fn controls_errors(controls: &Value, line: usize) -> Vec<RecordError> {
    let error =
        |field: String, message: String| RecordError::new("schema", line, Some(field), message);
    let mut out = Vec::new();
    match controls {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.as_str().is_none_or(|s| s.is_empty()) {
                    out.push(error(
                        format!("/controls/{i}"),
                        format!(
                            "`controls.{i}`: {item} is not a control id; a list of controls holds \
                             ids like \"A.8.8\" (each meaning maturity 3, documented)"
                        ),
                    ));
                }
            }
        }
        Value::Object(map) => {
            for (id, state) in map {
                let Some(fields) = state.as_object() else {
                    out.push(error(
                        format!("/controls/{id}"),
                        format!(
                            "`controls.{id}`: write {{\"maturity\": 0-4, \"documented\": true or \
                             false}}, not {state}"
                        ),
                    ));
                    continue;
                };
                for (key, v) in fields {
                    let ok = match key.as_str() {
                        "maturity" => v.as_u64().is_some_and(|m| m <= 4),
                        "documented" => v.is_boolean(),
                        _ => false,
                    };
                    if !ok {
                        out.push(error(
                            format!("/controls/{id}/{key}"),
                            match key.as_str() {
                                "maturity" => format!(
                                    "`controls.{id}.maturity`: {v} is not a maturity; write a \
                                     whole number from 0 (not in place) to 4 (measured and \
                                     improved)"
                                ),
                                "documented" => {
                                    format!("`controls.{id}.documented`: {v} is not true or false")
                                }
                                _ => format!(
                                    "`controls.{id}`: `{key}` is not a control field; the \
                                     fields are `maturity` and `documented`"
                                ),
                            },
                        ));
                    }
                }
            }
        }
        other => out.push(error(
            "/controls".into(),
            format!(
                "`controls`: {other} is neither a list of control ids nor a map of control id \
                 to {{maturity, documented}}"
            ),
        )),
    }
    out
}
