//! The organisation page: the assessment as it is, plus what the page needs beside it
//! (obligation titles, the plan by phase, changes, group membership).

use super::group::Group;
use super::portfolio::Changes;
use super::{name_of, Inputs};
use serde_json::{json, Value};

/// Remediation phases in order (DESIGN.md §Remediation plan).
const PHASES: [&str; 3] = ["now", "next", "later"];

pub(crate) fn context(inputs: &Inputs, a: &Value, changes: &Changes, groups: &[Group]) -> Value {
    let id = a.get("id").and_then(Value::as_str);
    let facts = id.and_then(|id| inputs.facts.get(id));

    let obligations: Vec<Value> = a
        .pointer("/nis2/obligations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|o| {
            let known = o
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| inputs.obligations.get(id));
            json!({
                "id": o.get("id"),
                "cites": o.get("cites"),
                "due": o.get("due"),
                "title": known.and_then(|k| k.get("title")),
                "clock_starts": known.and_then(|k| k.get("clock_starts")),
            })
        })
        .collect();

    let plan = a
        .pointer("/plan/actions")
        .and_then(Value::as_array)
        .map(|actions| {
            let mut phases: Vec<Value> = PHASES
                .iter()
                .map(|p| {
                    let in_phase: Vec<&Value> = actions
                        .iter()
                        .filter(|x| x.get("phase").and_then(Value::as_str) == Some(p))
                        .collect();
                    json!({"phase": p, "actions": in_phase})
                })
                .collect();
            let other: Vec<&Value> = actions
                .iter()
                .filter(|x| !PHASES.contains(&x.get("phase").and_then(Value::as_str).unwrap_or("")))
                .collect();
            if !other.is_empty() {
                phases.push(json!({"phase": "unphased", "actions": other}));
            }
            phases
        });

    let changed = match id {
        Some(id) if changes.given => {
            if changes.added.iter().any(|x| x == id) {
                json!({"added": true, "changes": []})
            } else {
                let list = changes.by_id.get(id).cloned().unwrap_or_default();
                json!({"added": false, "changes": list})
            }
        }
        _ => Value::Null,
    };

    let member_of: Vec<Value> = groups
        .iter()
        .filter(|g| id.is_some_and(|id| g.member_ids.contains(id)))
        .map(|g| json!({"page": g.page, "root": g.root_name}))
        .collect();

    json!({
        "a": a,
        "size_chart": a.get("nis2").map(|n| size_chart(inputs, n)),
        "size_classes": inputs.size_classes.get("classes"),
        "name": name_of(inputs, a),
        "facts": facts,
        "obligations": obligations,
        "plan_phases": plan,
        "changed": changed,
        "previous_as_of": changes.previous_as_of,
        "groups": member_of,
    })
}

/// Each known figure the entity was sized on, as a percentage of the medium-enterprise ceiling
/// of the pack's size table (Rec. 2003/361/EC Annex Art. 2(1)): above 100 % on staff, or on
/// both money figures, makes a large enterprise.
fn size_chart(inputs: &Inputs, nis2: &Value) -> Value {
    let medium = inputs
        .size_classes
        .get("classes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("class").and_then(Value::as_str) == Some("medium"));
    let Some(medium) = medium else {
        return json!([]);
    };
    let rows = [
        ("employees", "employees_below", "Staff"),
        ("annual_turnover_eur", "turnover_not_exceeding", "Turnover"),
        (
            "balance_sheet_eur",
            "balance_sheet_not_exceeding",
            "Balance sheet",
        ),
    ];
    let bars: Vec<Value> = rows
        .iter()
        .filter_map(|(figure, ceiling, label)| {
            let value = nis2.pointer(&format!("/size/{figure}"))?.as_f64()?;
            let ceiling = medium.get(*ceiling)?.as_f64().filter(|c| *c > 0.0)?;
            let pct = (value / ceiling * 1000.0).round() / 10.0;
            Some(json!({"label": label, "value": pct}))
        })
        .collect();
    json!(bars)
}
