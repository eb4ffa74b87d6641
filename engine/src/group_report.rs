//! The group roll-up behind `assay assess --group-report`: per group of organisations connected
//! by ownership, each member's classification and jurisdiction, and counts per classification
//! and per country.
//!
//! A group here is every organisation of the batch reachable through `owners` (whatever the
//! share: a 10 % holding joins the roll-up though it makes no partnership), plus any single
//! organisation that declares `linked_enterprises` outside the batch. The report reads the
//! ownership from the input records again rather than from the group step, so that it also
//! shows members whose record is an error record. Each member counts once per country under
//! its jurisdiction; a member with none (out of scope, an error) counts under its registered
//! office (`established_in`, first), or `unknown`.

use crate::assessment::Assessment;
use crate::group::links::UnionFind;
use crate::read::Record;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct GroupReport {
    pub groups: Vec<Group>,
}

#[derive(Debug, Serialize)]
pub struct Group {
    /// The members no other member holds, in input order.
    pub top: Vec<String>,
    pub members: Vec<Member>,
    /// Members per classification (`error` for error records).
    pub by_classification: BTreeMap<String, usize>,
    /// Per country, members per classification.
    pub by_country: BTreeMap<String, BTreeMap<String, usize>>,
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub line: usize,
    /// Holders within the batch, with the higher of capital and voting share.
    pub owners: Vec<Holder>,
    /// `essential`, `important`, `registration_only`, `out_of_scope`, `undetermined`, or `error`.
    pub classification: String,
    pub size_class: Option<&'static str>,
    /// When the size class is open: the classes it could be.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub size_possible: Vec<&'static str>,
    pub own_class: Option<&'static str>,
    pub jurisdiction: Vec<String>,
    /// The classification on the entity's own figures under the recital 16 carve-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carve_out: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Holder {
    pub id: String,
    pub pct: Option<f64>,
}

/// The report's format, from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Json,
}

impl ReportFormat {
    pub fn from_path(path: &std::path::Path) -> Option<ReportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "md" => Some(ReportFormat::Markdown),
            "json" => Some(ReportFormat::Json),
            _ => None,
        }
    }
}

impl GroupReport {
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Markdown => self.to_markdown(),
            ReportFormat::Json => self.to_json(),
        }
    }

    /// Builds the report from the records read and their assessments, one for one, in order.
    pub fn build(records: &[Record], assessments: &[Assessment]) -> GroupReport {
        let values: Vec<Option<&Value>> = records.iter().map(|r| r.value.as_ref().ok()).collect();
        let id_of = |v: &Value| v.get("id").and_then(Value::as_str).map(String::from);
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, v) in values.iter().enumerate() {
            if let Some(id) = v.and_then(id_of) {
                index.entry(id).or_insert(i);
            }
        }

        let mut sets = UnionFind::new(records.len());
        let mut involved = vec![false; records.len()];
        for (i, v) in values.iter().enumerate() {
            let Some(v) = v else { continue };
            for owner in holders(v) {
                if let Some(&o) = index.get(&owner.id) {
                    sets.union(o, i);
                    involved[o] = true;
                    involved[i] = true;
                }
            }
            let outside = v.get("linked_enterprises").and_then(Value::as_array);
            if outside.is_some_and(|list| !list.is_empty()) {
                involved[i] = true;
            }
        }

        let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in (0..records.len()).filter(|&i| involved[i]) {
            by_root.entry(sets.find(i)).or_default().push(i);
        }
        let groups = by_root
            .into_values()
            .map(|members| {
                let members: Vec<Member> = members
                    .iter()
                    .filter_map(|&i| member(values[i]?, records[i].line, assessments.get(i)?))
                    .collect();
                Group::of(members, &values, &index)
            })
            .collect();
        GroupReport { groups }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn to_markdown(&self) -> String {
        let mut md = String::from("# Group report\n\n");
        if self.groups.is_empty() {
            md.push_str(
                "No organisation in this batch is held by another or declares linked \
                         or partner enterprises.\n",
            );
        }
        for (n, g) in self.groups.iter().enumerate() {
            let _ = writeln!(
                md,
                "## Group {}: {} ({} members)\n",
                n + 1,
                g.top.join(", "),
                g.members.len()
            );
            md.push_str(
                "| id | name | held by | NIS2 | size (group) | size (own) | jurisdiction |\n\
                 |---|---|---|---|---|---|---|\n",
            );
            for m in &g.members {
                let held: Vec<String> = m
                    .owners
                    .iter()
                    .map(|h| match h.pct {
                        Some(p) => format!("{} ({p} %)", h.id),
                        None => h.id.clone(),
                    })
                    .collect();
                let class = match m.carve_out {
                    Some(c) => format!("{} (recital 16: {c})", m.classification),
                    None => m.classification.clone(),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {class} | {} | {} | {} |",
                    cell(&m.id),
                    cell(m.name.as_deref().unwrap_or("")),
                    cell(&held.join(", ")),
                    match (m.size_class, m.size_possible.as_slice()) {
                        (Some(c), _) => c.to_string(),
                        (None, []) => "?".to_string(),
                        (None, open) => open.join(" or "),
                    },
                    m.own_class.unwrap_or("?"),
                    m.jurisdiction.join(", ")
                );
            }
            for m in g.members.iter().filter(|m| !m.errors.is_empty()) {
                let _ = writeln!(
                    md,
                    "\n`{}` (line {}) is an error record: {}",
                    m.id,
                    m.line,
                    cell(&m.errors.join("; "))
                );
            }
            let counts: Vec<String> = g
                .by_classification
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            let _ = writeln!(md, "\nPer classification: {}.\n", counts.join(", "));
            md.push_str("| country | members |\n|---|---|\n");
            for (country, counts) in &g.by_country {
                let counts: Vec<String> = counts.iter().map(|(c, n)| format!("{c} {n}")).collect();
                let _ = writeln!(md, "| {country} | {} |", counts.join(", "));
            }
            md.push('\n');
        }
        md
    }
}

impl Group {
    fn of(
        members: Vec<Member>,
        values: &[Option<&Value>],
        index: &HashMap<String, usize>,
    ) -> Group {
        let ids: std::collections::HashSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let in_group = |id: &str| ids.contains(id);
        let top = members
            .iter()
            .filter(|m| !m.owners.iter().any(|h| in_group(&h.id)))
            .map(|m| m.id.clone())
            .collect();
        let mut by_classification: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_country: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for m in &members {
            *by_classification
                .entry(m.classification.clone())
                .or_default() += 1;
            let countries = if m.jurisdiction.is_empty() {
                let office = index
                    .get(&m.id)
                    .and_then(|&i| values[i])
                    .and_then(|v| v.pointer("/established_in/0"))
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                vec![office.to_string()]
            } else {
                m.jurisdiction.clone()
            };
            for c in countries {
                *by_country
                    .entry(c)
                    .or_default()
                    .entry(m.classification.clone())
                    .or_default() += 1;
            }
        }
        Group {
            top,
            members,
            by_classification,
            by_country,
        }
    }
}

fn holders(v: &Value) -> Vec<Holder> {
    let Some(list) = v.get("owners").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|o| {
            let id = o.get("id")?.as_str()?.to_string();
            let pct = ["share_pct", "voting_pct"]
                .iter()
                .filter_map(|k| o.get(*k).and_then(Value::as_f64))
                .reduce(f64::max);
            Some(Holder { id, pct })
        })
        .collect()
}

fn member(v: &Value, line: usize, a: &Assessment) -> Option<Member> {
    let id = v.get("id")?.as_str()?.to_string();
    let name = v.get("name").and_then(Value::as_str).map(String::from);
    let owners = holders(v);
    Some(match &a.nis2 {
        Some(n) => Member {
            id,
            name,
            line,
            owners,
            classification: n.classification.as_str().into(),
            size_class: n.size.class,
            size_possible: n.size.possible.clone(),
            own_class: n.size.own_class,
            jurisdiction: n.jurisdiction.clone(),
            carve_out: n.carve_out.as_ref().map(|c| c.classification.as_str()),
            errors: Vec::new(),
        },
        None => Member {
            id,
            name,
            line,
            owners,
            classification: "error".into(),
            size_class: None,
            size_possible: Vec::new(),
            own_class: None,
            jurisdiction: Vec::new(),
            carve_out: None,
            errors: a.errors.iter().map(|e| e.message.clone()).collect(),
        },
    })
}

/// A Markdown table cell: pipes and line breaks would end it.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}
