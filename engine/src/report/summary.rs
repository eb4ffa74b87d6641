//! Summaries: what the portfolio, group and change views keep in memory of each assessment.
//!
//! A report may cover tens of thousands of organisations whose assessments carry whole plans
//! (tens of kilobytes each). The pages of the portfolio and of groups need only the results, so
//! each assessment is reduced to them as it is read, and each organisation page reads its
//! assessment again (see [`super::source::Full`]). Reducing is also where an assessment file
//! from elsewhere is made safe to render: every field kept has the contract's type.

use serde_json::{json, Map, Value};

/// What the portfolio, group and change views need of an assessment: its results without the
/// grounds, obligations and plan actions, which only its own page shows, each field in the type
/// the contract gives it (assessment files may come from elsewhere).
pub fn summary(a: &Value) -> Value {
    let mut out = Map::new();
    keep(&mut out, a, "id", text);
    keep(&mut out, a, "line", number);
    keep(&mut out, a, "as_of", text);
    keep(&mut out, a, "packs", |v| list(v, pack));
    keep(&mut out, a, "errors", |v| match v {
        Value::Array(_) => list(v, error),
        other => json!([error(other)]),
    });
    keep(&mut out, a, "nis2", |n| {
        let fields: [(&str, Shape); 4] = [
            ("classification", text),
            ("size", size),
            ("jurisdiction", texts),
            ("missing", texts),
        ];
        object(n, &fields)
    });
    keep(&mut out, a, "soc2", |s| {
        let fields: [(&str, Shape); 5] = [
            ("needed", flag),
            ("type", text),
            ("criteria", texts),
            ("missing", texts),
            ("current_report", |r| object(r, &[("status", text)])),
        ];
        object(s, &fields)
    });
    keep(&mut out, a, "plan", |p| {
        object(p, &[("summary", plan_counts)])
    });
    Value::Object(out)
}

/// Turns a part of an assessment into the type the contract gives it.
type Shape = fn(&Value) -> Value;

/// Copies `key` through `shape` when the assessment has it and it is not null, so that an
/// absent part stays absent ("not assessed") and a part of the wrong type cannot break a page.
fn keep(out: &mut Map<String, Value>, from: &Value, key: &str, shape: impl Fn(&Value) -> Value) {
    match from.get(key) {
        None | Some(Value::Null) => {}
        Some(v) => {
            out.insert(key.into(), shape(v));
        }
    }
}

/// The listed fields of an object, each through its shape; anything else becomes an empty
/// object. A field that is null stays null (it means "undetermined" in the contract).
fn object(v: &Value, fields: &[(&str, Shape)]) -> Value {
    let mut out = Map::new();
    for (key, shape) in fields {
        match v.get(*key) {
            None => {}
            Some(Value::Null) => {
                out.insert((*key).into(), Value::Null);
            }
            Some(x) => {
                out.insert((*key).into(), shape(x));
            }
        }
    }
    Value::Object(out)
}

fn pack(p: &Value) -> Value {
    object(p, &[("id", text), ("version", text), ("sha256", text)])
}

fn error(e: &Value) -> Value {
    match e {
        Value::Object(_) => object(
            e,
            &[
                ("code", text),
                ("message", text),
                ("field", text),
                ("line", number),
            ],
        ),
        other => json!({"message": other.to_string()}),
    }
}

/// The size without the enterprises counted (up to 200 in a large group), which only the
/// organisation's own page lists.
fn size(s: &Value) -> Value {
    object(
        s,
        &[
            ("class", text),
            ("possible", texts),
            ("basis", text),
            ("employees", number),
            ("annual_turnover_eur", number),
            ("balance_sheet_eur", number),
            ("own_class", text),
        ],
    )
}

fn plan_counts(c: &Value) -> Value {
    object(
        c,
        &[
            ("actions", number),
            ("listed", number),
            ("now", number),
            ("next", number),
            ("later", number),
        ],
    )
}

fn list(v: &Value, item: Shape) -> Value {
    Value::Array(v.as_array().into_iter().flatten().map(item).collect())
}

fn text(v: &Value) -> Value {
    match v {
        Value::String(_) => v.clone(),
        Value::Number(n) => Value::String(n.to_string()),
        _ => Value::Null,
    }
}

fn texts(v: &Value) -> Value {
    list(v, text)
}

fn number(v: &Value) -> Value {
    if v.is_number() {
        v.clone()
    } else {
        Value::Null
    }
}

fn flag(v: &Value) -> Value {
    if v.is_boolean() {
        v.clone()
    } else {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_keeps_the_results_and_drops_what_only_the_own_page_shows() {
        let a = json!({"id": "x", "line": 2, "as_of": "2026-12-04", "packs": [],
            "nis2": {"classification": "important", "grounds": [{"rule": "r"}],
                     "size": {"class": "large", "aggregation": {"enterprises": []}},
                     "obligations": [{"id": "o"}], "jurisdiction": ["NL"]},
            "soc2": {"needed": true, "type": "type2", "why": [], "milestones": []},
            "plan": {"actions": [{"control": "C.6"}], "summary": {"actions": 1}}});
        assert_eq!(
            summary(&a),
            json!({"id": "x", "line": 2, "packs": [], "as_of": "2026-12-04",
                "nis2": {"classification": "important", "size": {"class": "large"},
                         "jurisdiction": ["NL"]},
                "soc2": {"needed": true, "type": "type2"},
                "plan": {"summary": {"actions": 1}}})
        );
    }
}
