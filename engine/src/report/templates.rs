//! The templates: `engine/templates/` of the repository, embedded at build time, or a folder a
//! consultant copied and adapted (`--templates DIR`). A file missing from that folder falls back
//! to the embedded one, so an adapted folder may hold only what it changes.
//!
//! Templates are minijinja (Jinja2 syntax). HTML templates escape every value, so text from
//! client files cannot add markup. Beside the data of each page they get:
//!
//! - `bar_chart(title, bars, unit?, reference?, reference_label?)`: an inline SVG bar chart of
//!   `[{label, value, key}]`, optionally with a line at a reference value ([`chart`]);
//! - filters `eur`, `num`, `due_words` (ISO 8601 durations in words), `human`
//!   (`out_of_scope` → "Out of scope") and `question` (a missing fact as the question that
//!   settles it, from `questions.json`).

use super::chart::{self, Bar};
use super::ReportError;
use include_dir::{include_dir, Dir};
use minijinja::value::Serde;
use minijinja::{Environment, Value};
use std::path::Path;
use std::sync::Arc;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/engine/templates");

/// Every file the pages use; the rest of a templates folder is ignored.
pub const FILES: [&str; 6] = [
    "base.html",
    "portfolio.html",
    "organisation.html",
    "group.html",
    "style.css",
    "questions.json",
];

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The templates shipped in the binary.
    pub fn embedded() -> Result<Templates, ReportError> {
        Templates::load(None)
    }

    /// Templates from `dir`, each missing file taken from the embedded set.
    pub fn from_dir(dir: &Path) -> Result<Templates, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::Read {
                path: dir.display().to_string(),
                message: "not a folder; give the folder that holds the adapted templates".into(),
            });
        }
        Templates::load(Some(dir))
    }

    fn load(dir: Option<&Path>) -> Result<Templates, ReportError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        let mut questions = serde_json::Map::new();
        for name in FILES {
            let source = source(dir, name)?;
            if name == "questions.json" {
                questions = serde_json::from_str(&source).map_err(|e| ReportError::Template {
                    name: name.into(),
                    message: format!("line {}: {e}; it maps fact names to questions", e.line()),
                })?;
                continue;
            }
            env.add_template_owned(name, source)
                .map_err(|e| template_error(name, &e))?;
        }
        register(&mut env, Arc::new(questions));
        Ok(Templates { env })
    }

    /// Renders template `name` with `context` and the provenance every page shows as `meta`.
    pub fn render(
        &self,
        name: &str,
        meta: &serde_json::Value,
        mut context: serde_json::Value,
    ) -> Result<String, ReportError> {
        if let Some(map) = context.as_object_mut() {
            map.insert("meta".into(), meta.clone());
        }
        self.env
            .get_template(name)
            .and_then(|t| t.render(Value::from(Serde(&context))))
            .map_err(|e| template_error(name, &e))
    }
}

fn source(dir: Option<&Path>, name: &str) -> Result<String, ReportError> {
    if let Some(path) = dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
        return std::fs::read_to_string(&path).map_err(|e| ReportError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        });
    }
    EMBEDDED
        .get_file(name)
        .and_then(|f| f.contents_utf8())
        .map(String::from)
        .ok_or_else(|| ReportError::Template {
            name: name.into(),
            message: "is not among the embedded templates".into(),
        })
}

/// minijinja's error with the template line and its cause chain, in one sentence.
fn template_error(name: &str, e: &minijinja::Error) -> ReportError {
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    ReportError::Template {
        name: name.into(),
        message,
    }
}

fn register(
    env: &mut Environment<'static>,
    questions: Arc<serde_json::Map<String, serde_json::Value>>,
) {
    env.add_function(
        "bar_chart",
        |title: String,
         bars: Value,
         unit: Option<String>,
         reference: Option<f64>,
         label: Option<String>| {
            let reference = reference.map(|value| chart::Reference {
                value,
                label: label.unwrap_or_default(),
            });
            Value::from_safe_string(chart::bars(
                &title,
                &to_bars(&bars),
                unit.as_deref().unwrap_or(""),
                reference.as_ref(),
            ))
        },
    );
    env.add_filter("eur", |v: Value| match as_f64(&v) {
        Some(x) => format!("EUR {}", chart::number(x)),
        None => "unknown".into(),
    });
    env.add_filter("num", |v: Value| match as_f64(&v) {
        Some(x) => chart::number(x),
        None => "unknown".into(),
    });
    env.add_filter("human", |v: String| super::portfolio::humanize(&v));
    env.add_filter("due_words", |v: String| due_words(&v));
    env.add_filter("question", move |fact: String| {
        questions
            .get(&fact)
            .and_then(|q| q.as_str())
            .map(String::from)
            .unwrap_or_else(|| question(&fact))
    });
}

/// The question that settles a missing fact the questions table does not word: a member-state
/// choice, the figures of an error record (already an instruction), or a fact by its name.
fn question(fact: &str) -> String {
    if let Some(choice) = fact.strip_prefix("member-state choice ") {
        return format!("How has the member state decided {choice}? Its transposition law says.");
    }
    if let Some(rest) = fact.strip_prefix("the figures of ") {
        return format!("The figures of {rest}.");
    }
    format!("What is `{fact}`?")
}

fn as_f64(v: &Value) -> Option<f64> {
    if v.is_undefined() || v.is_none() {
        return None;
    }
    f64::try_from(v.clone()).ok()
}

fn to_bars(v: &Value) -> Vec<Bar> {
    let Ok(items) = v.try_iter() else {
        return Vec::new();
    };
    items
        .map(|b| Bar {
            label: b
                .get_attr("label")
                .ok()
                .filter(|l| !l.is_undefined() && !l.is_none())
                .map(|l| l.to_string())
                .unwrap_or_default(),
            value: b
                .get_attr("value")
                .ok()
                .and_then(|x| as_f64(&x))
                .unwrap_or(0.0),
            key: b
                .get_attr("key")
                .ok()
                .and_then(|k| k.as_str().map(String::from)),
        })
        .collect()
}

/// The `due` of an obligation in words: ISO 8601 durations from the event, dates, or as given.
pub fn due_words(due: &str) -> String {
    let unit = |n: &str, one: &str, many: &str| {
        if n == "1" {
            format!("within one {one}")
        } else {
            format!("within {n} {many}")
        }
    };
    if let Some(h) = due.strip_prefix("PT").and_then(|r| r.strip_suffix('H')) {
        return unit(h, "hour", "hours");
    }
    if let Some(rest) = due.strip_prefix('P') {
        for (suffix, one, many) in [
            ("D", "day", "days"),
            ("M", "month", "months"),
            ("Y", "year", "years"),
        ] {
            if let Some(n) = rest
                .strip_suffix(suffix)
                .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
            {
                return unit(n, one, many);
            }
        }
    }
    if due.len() == 10 && due.as_bytes()[4] == b'-' && due.as_bytes()[7] == b'-' {
        return format!("by {due}");
    }
    due.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporting_clocks_read_as_art_23_4_says_them() {
        // NIS2 Art. 23(4)(a) 24 hours, (b) 72 hours, (d) one month.
        assert_eq!(due_words("PT24H"), "within 24 hours");
        assert_eq!(due_words("PT72H"), "within 72 hours");
        assert_eq!(due_words("P1M"), "within one month");
        // Art. 3(4): the registration date of the shipped obligations table.
        assert_eq!(due_words("2025-04-17"), "by 2025-04-17");
        assert_eq!(due_words("ongoing"), "ongoing");
    }

    #[test]
    fn an_error_records_figures_are_asked_for_as_the_assessment_words_it() {
        // The `missing` entry of a group member left open by an error record (README "Error
        // records in a group") is already an instruction; a plain fact is asked by its name.
        let missing = "the figures of `S` (line 2), an error record in this ownership group: \
                       correct it";
        assert_eq!(
            question(missing),
            "The figures of `S` (line 2), an error record in this ownership group: correct it."
        );
        assert_eq!(question("employees"), "What is `employees`?");
    }

    #[test]
    fn every_embedded_template_compiles() {
        Templates::embedded().expect("embedded templates compile");
    }
}
