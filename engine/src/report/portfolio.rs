//! The portfolio page: counts for charts, the SOC 2 needs, the most common gaps, the open
//! questions and what changed since an earlier run.

use super::chart::Bar;
use super::group::Group;
use super::{name_of, str_at, Inputs, Pages};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The NIS2 classes in the order a board reads them (DESIGN.md §Assessment).
pub const CLASSES: [&str; 5] = [
    "essential",
    "important",
    "registration_only",
    "out_of_scope",
    "undetermined",
];

/// How many of the most common gaps the page lists.
const TOP_GAPS: usize = 10;

/// What changed for one organisation since the previous run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub what: &'static str,
    pub before: String,
    pub after: String,
}

/// Differences between this run and a previous one, by organisation id.
#[derive(Debug, Default)]
pub struct Changes {
    pub given: bool,
    pub previous_as_of: Vec<String>,
    pub by_id: HashMap<String, Vec<Change>>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The results a reader compares between two runs, as display text: the NIS2 determination,
/// the SOC 2 need and the state of the report held, and the size of the plan (its actions grow
/// or shrink as deadlines pass and controls mature, with no other result changing).
fn results(a: &Value) -> [(&'static str, String); 8] {
    let shown = |p: &str| match a.pointer(p) {
        None | Some(Value::Null) if a.get("errors").is_some() && a.get("nis2").is_none() => {
            "error record".to_string()
        }
        None => "not assessed".into(),
        Some(Value::Null) => "undetermined".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(v)) => v
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(v) => v.to_string(),
    };
    // No report declared is a state of its own, not a result left unassessed.
    let report_held = match a.pointer("/soc2") {
        Some(Value::Object(soc2)) if !soc2.contains_key("current_report") => "none declared".into(),
        _ => shown("/soc2/current_report/status"),
    };
    [
        ("NIS2 classification", shown("/nis2/classification")),
        ("member states", shown("/nis2/jurisdiction")),
        ("size class", shown("/nis2/size/class")),
        ("SOC 2 needed", shown("/soc2/needed")),
        ("SOC 2 type", shown("/soc2/type")),
        ("SOC 2 report held", report_held),
        ("plan actions", shown("/plan/summary/actions")),
        ("plan actions due now", shown("/plan/summary/now")),
    ]
}

pub(crate) fn changes(inputs: &Inputs) -> Changes {
    let Some(previous) = &inputs.previous else {
        return Changes::default();
    };
    let before: HashMap<&str, &Value> = previous
        .iter()
        .filter_map(|a| a.get("id").and_then(Value::as_str).map(|id| (id, a)))
        .collect();
    let mut out = Changes {
        given: true,
        previous_as_of: super::provenance(previous)["as_of"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|d| d.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        ..Changes::default()
    };
    let mut now = std::collections::HashSet::new();
    for a in &inputs.assessments {
        let Some(id) = a.get("id").and_then(Value::as_str) else {
            continue;
        };
        now.insert(id);
        let Some(old) = before.get(id) else {
            out.added.push(id.to_string());
            continue;
        };
        let diffs: Vec<Change> = results(old)
            .into_iter()
            .zip(results(a))
            .filter(|((_, b), (_, n))| b != n)
            .map(|((what, before), (_, after))| Change {
                what,
                before,
                after,
            })
            .collect();
        if !diffs.is_empty() {
            out.by_id.insert(id.to_string(), diffs);
        }
    }
    out.removed = previous
        .iter()
        .filter_map(|a| a.get("id").and_then(Value::as_str))
        .filter(|id| !now.contains(id))
        .map(String::from)
        .collect();
    out
}

/// Words that stay in capitals when an id is turned into a label.
const ACRONYMS: [&str; 7] = ["ict", "dns", "tld", "eu", "cer", "nis1", "soc"];

/// "digital_infrastructure" → "Digital infrastructure", "ict_service_management" → "ICT service
/// management".
pub fn humanize(id: &str) -> String {
    let words: Vec<String> = id
        .split('_')
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            if ACRONYMS.contains(&w) {
                w.to_ascii_uppercase()
            } else if i == 0 {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            } else {
                w.to_string()
            }
        })
        .collect();
    words.join(" ")
}

/// Counts as bars, largest first, then by label.
fn bars(counts: BTreeMap<String, usize>) -> Vec<Bar> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter()
        .map(|(label, n)| Bar {
            label,
            value: n as f64,
            key: None,
        })
        .collect()
}

fn count<'a>(counts: &mut BTreeMap<String, usize>, keys: impl IntoIterator<Item = &'a str>) {
    for k in keys {
        *counts.entry(k.to_string()).or_default() += 1;
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

pub(crate) fn context(
    inputs: &Inputs,
    pages: &Pages,
    changes: &Changes,
    groups: &[Group],
    gaps: &Gaps,
) -> Value {
    let all = &inputs.assessments;
    let assessed: Vec<(usize, &Value)> = all
        .iter()
        .enumerate()
        .filter(|(_, a)| a.get("nis2").is_some())
        .collect();

    let mut classes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sectors = BTreeMap::new();
    let mut states = BTreeMap::new();
    for (_, a) in &assessed {
        *classes
            .entry(str_at(a, "/nis2/classification"))
            .or_default() += 1;
        count(&mut states, strings(a.pointer("/nis2/jurisdiction")));
        let facts = a
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| inputs.facts.get(id));
        if let Some(f) = facts {
            let mut s: Vec<String> = f
                .get("activities")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| {
                    x.get("sector").and_then(Value::as_str).or_else(|| {
                        let ty = x.get("entity_type").and_then(Value::as_str)?;
                        inputs.sectors.get(ty).map(String::as_str)
                    })
                })
                .map(humanize)
                .collect();
            s.sort();
            s.dedup();
            if s.is_empty() {
                s.push("No activity given".into());
            }
            count(&mut sectors, s.iter().map(String::as_str));
        }
    }
    let by_classification: Vec<Bar> = CLASSES
        .iter()
        .map(|c| Bar {
            label: humanize(c),
            value: classes.get(c).copied().unwrap_or(0) as f64,
            key: Some((*c).to_string()),
        })
        .collect();

    let soc2 = soc2(&assessed);

    let undetermined: Vec<Value> = assessed
        .iter()
        .filter_map(|(i, a)| {
            let nis2 = str_at(a, "/nis2/classification") == "undetermined";
            let soc2 = a.pointer("/soc2/needed") == Some(&Value::Null)
                && a.get("soc2").is_some_and(Value::is_object);
            (nis2 || soc2).then(|| {
                json!({
                    "id": a.get("id"),
                    "name": name_of(inputs, a),
                    "page": pages.organisations[*i],
                    "nis2": if nis2 { strings(a.pointer("/nis2/missing")) } else { vec![] },
                    "soc2": if soc2 { strings(a.pointer("/soc2/missing")) } else { vec![] },
                })
            })
        })
        .collect();

    let organisations: Vec<Value> = all
        .iter()
        .enumerate()
        .map(|(i, a)| {
            json!({
                "id": a.get("id"),
                "name": name_of(inputs, a),
                "page": pages.organisations[i],
                "line": a.get("line"),
                "nis2": a.get("nis2"),
                "soc2": a.get("soc2"),
                "errors": a.get("errors"),
                "changed": a.get("id").and_then(Value::as_str)
                    .is_some_and(|id| changes.by_id.contains_key(id)),
            })
        })
        .collect();

    let changed: Vec<Value> = all
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let id = a.get("id").and_then(Value::as_str)?;
            let c = changes.by_id.get(id)?;
            Some(
                json!({"id": id, "name": name_of(inputs, a), "page": pages.organisations[i],
                        "changes": c}),
            )
        })
        .collect();

    json!({
        "total": all.len(),
        "assessed": assessed.len(),
        "error_records": all.len() - assessed.len(),
        "by_classification": by_classification,
        "by_sector": if inputs.facts.is_empty() { Value::Null } else { json!(bars(sectors)) },
        "by_member_state": bars(states),
        "soc2": soc2,
        "gaps": gaps.to_json(),
        "undetermined": undetermined,
        "changes": if changes.given {
            json!({"previous_as_of": changes.previous_as_of, "changed": changed,
                   "added": changes.added, "removed": changes.removed})
        } else { Value::Null },
        "organisations": organisations,
        "groups": groups.iter().map(|g| json!({"page": g.page, "root": g.root_name,
            "members": g.members})).collect::<Vec<_>>(),
    })
}

/// SOC 2 needs across the portfolio, or null when no record carries a SOC 2 decision.
fn soc2(assessed: &[(usize, &Value)]) -> Value {
    let with: Vec<&Value> = assessed
        .iter()
        .filter_map(|(_, a)| a.get("soc2").filter(|s| s.is_object()))
        .collect();
    if with.is_empty() {
        return Value::Null;
    }
    let mut needed = BTreeMap::new();
    let mut types = BTreeMap::new();
    let mut criteria = BTreeMap::new();
    for s in &with {
        let n = match s.get("needed") {
            Some(Value::Bool(true)) => "Needed",
            Some(Value::Bool(false)) => "Not needed",
            _ => "Undetermined",
        };
        count(&mut needed, [n]);
        if s.get("needed") == Some(&Value::Bool(true)) {
            let t = match s.get("type").and_then(Value::as_str) {
                Some("type1") => "Type I first",
                Some("type2") => "Type II",
                _ => "Type not decided",
            };
            count(&mut types, [t]);
            count(&mut criteria, strings(s.get("criteria")));
        }
    }
    let criteria: BTreeMap<String, usize> = criteria
        .into_iter()
        .map(|(k, v)| (humanize(&k), v))
        .collect();
    json!({"assessed": with.len(), "needed": bars(needed), "types": bars(types),
           "criteria": bars(criteria)})
}

/// The controls most often in remediation plans, counted while the organisation pages are
/// written, so that no plan needs to stay in memory.
#[derive(Debug, Default)]
pub struct Gaps {
    planned: usize,
    /// Plans that list only their first actions (`--plan-actions`): their later gaps are not seen.
    shortened: usize,
    /// Control → (organisations, title, requirements it closes).
    by_control: BTreeMap<String, (usize, Value, Vec<String>)>,
}

impl Gaps {
    /// Counts the plan of one assessment.
    pub fn of(a: &Value) -> Gaps {
        let mut gaps = Gaps::default();
        let Some(actions) = a.pointer("/plan/actions").and_then(Value::as_array) else {
            return gaps;
        };
        gaps.planned = 1;
        let listed = a.pointer("/plan/summary/listed").and_then(Value::as_u64);
        let total = a.pointer("/plan/summary/actions").and_then(Value::as_u64);
        if matches!((listed, total), (Some(l), Some(t)) if l < t) {
            gaps.shortened = 1;
        }
        for act in actions {
            let control = str_at(act, "/control");
            if control.is_empty() || gaps.by_control.contains_key(control) {
                continue;
            }
            let title = act.get("title").cloned().unwrap_or(Value::Null);
            let closes = strings(act.get("closes")).into_iter().map(String::from);
            gaps.by_control
                .insert(control.to_string(), (1, title, closes.collect()));
        }
        gaps
    }

    /// Adds the counts of other plans.
    pub fn merge(mut self, other: Gaps) -> Gaps {
        self.planned += other.planned;
        self.shortened += other.shortened;
        for (control, (n, title, closes)) in other.by_control {
            let e = self
                .by_control
                .entry(control)
                .or_insert_with(|| (0, title, vec![]));
            e.0 += n;
            for c in closes {
                if !e.2.contains(&c) {
                    e.2.push(c);
                }
            }
        }
        self
    }

    /// The most common gaps for the page, or null when no record carries a plan.
    fn to_json(&self) -> Value {
        if self.planned == 0 {
            return Value::Null;
        }
        let mut v: Vec<_> = self.by_control.iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(b.0)));
        let top: Vec<Value> = v
            .into_iter()
            .take(TOP_GAPS)
            .map(|(control, (n, title, closes))| {
                json!({"control": control, "title": title, "organisations": n, "closes": closes})
            })
            .collect();
        json!({"planned": self.planned, "shortened": self.shortened, "top": top})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_labels_with_acronyms_kept() {
        assert_eq!(humanize("out_of_scope"), "Out of scope");
        assert_eq!(humanize("ict_service_management"), "ICT service management");
        assert_eq!(humanize("digital_infrastructure"), "Digital infrastructure");
    }
}
