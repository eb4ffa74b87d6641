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
//!
//! `assay assess` streams, and so does the report. A record can only be in a group if the
//! ownership pass ([`crate::prescan`]) put it in an ownership component, so while the batch is
//! assessed [`Collector`] keeps an [`Outcome`] (the classification, sizes, jurisdiction and
//! errors the report shows) of those records alone, and each assessment is dropped once it
//! is written. After the run it reads those records again for their own fields (`Heading`:
//! id, name, owners, registered office), leaving every other record unparsed: some 400 bytes
//! a record in a component in all (164 MB at a million generated records, 12.3 GB when the
//! report kept the assessments). [`Groups`] then builds and writes one group at a time, as
//! [`GroupReport::build`] builds them all for a batch in memory.

use crate::assessment::Assessment;
use crate::group::links::UnionFind;
use crate::prescan::Prescan;
use crate::read::stream::Input;
use crate::read::Record;
use compact_str::CompactString;
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

#[derive(Debug, Clone, Serialize)]
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
    /// Builds the report from the records read and their assessments, one for one, in order.
    pub fn build(records: &[Record], assessments: &[Assessment]) -> GroupReport {
        let summaries = records.iter().enumerate().map(|(i, r)| Summary {
            line: r.line,
            heading: r.value.as_ref().ok().map(Heading::of),
            outcome: assessments.get(i).map(Outcome::of),
        });
        Groups::of(summaries.collect()).into_report()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn to_markdown(&self) -> String {
        let mut md = markdown_head(self.groups.len());
        for (n, g) in self.groups.iter().enumerate() {
            md.push_str(&g.to_markdown(n));
        }
        md
    }
}

/// The Markdown report's title, and a word when there are no groups.
fn markdown_head(groups: usize) -> String {
    let mut md = String::from("# Group report\n\n");
    if groups == 0 {
        md.push_str(
            "No organisation in this batch is held by another or declares linked or partner \
             enterprises.\n",
        );
    }
    md
}

impl Group {
    /// The group's section of the Markdown report; `n` counts from 0.
    fn to_markdown(&self, n: usize) -> String {
        let (g, mut md) = (self, String::new());
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
        md
    }

    /// The group of `members`, each with the registered office it counts under when it has
    /// no jurisdiction.
    fn of(members: Vec<(Member, Option<String>)>) -> Group {
        let ids: std::collections::HashSet<&str> =
            members.iter().map(|(m, _)| m.id.as_str()).collect();
        let in_group = |id: &str| ids.contains(id);
        let top = members
            .iter()
            .filter(|(m, _)| !m.owners.iter().any(|h| in_group(&h.id)))
            .map(|(m, _)| m.id.clone())
            .collect();
        let mut by_classification: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_country: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (m, office) in &members {
            *by_classification
                .entry(m.classification.clone())
                .or_default() += 1;
            let countries = if m.jurisdiction.is_empty() {
                vec![office.clone().unwrap_or_else(|| "unknown".to_string())]
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
            members: members.into_iter().map(|(m, _)| m).collect(),
            by_classification,
            by_country,
        }
    }
}

/// The groups of a batch, each built from its members' summaries only when it is written: a
/// group's counts take far more room than its members (a map per country), and a large
/// portfolio has tens of thousands of groups.
#[derive(Clone)]
pub struct Groups {
    /// Taken out as their groups are built.
    summaries: Vec<Summary>,
    /// The registered office of each member without a jurisdiction: that of the first record
    /// with its id, as an owner is named.
    offices: Vec<Option<CompactString>>,
    /// Each group's members, by index into `summaries`, in input order; groups in the order of
    /// their first member.
    members: Vec<Vec<usize>>,
}

impl Groups {
    /// The groups of `summaries`, in input order: every record of the batch, or at least every
    /// record with an owner, with enterprises outside the batch, or with the id of an owner or
    /// of another record (the others can be in no group, nor give a member its office).
    fn of(summaries: Vec<Summary>) -> Groups {
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, s) in summaries.iter().enumerate() {
            if let Some(id) = s.heading().and_then(|h| h.id.as_deref()) {
                index.entry(id).or_insert(i);
            }
        }

        let mut sets = UnionFind::new(summaries.len());
        let mut involved = vec![false; summaries.len()];
        for (i, s) in summaries.iter().enumerate() {
            let Some(h) = s.heading() else { continue };
            for owner in &h.owners {
                if let Some(&o) = index.get(owner.id.as_str()) {
                    sets.union(o, i);
                    involved[o] = true;
                    involved[i] = true;
                }
            }
            if h.linked_outside {
                involved[i] = true;
            }
        }

        let office_of = |i: usize| {
            let s = &summaries[i];
            if !s
                .outcome
                .as_ref()
                .is_some_and(|o| o.jurisdiction.is_empty())
            {
                return None;
            }
            let id = s.heading()?.id.as_deref()?;
            summaries[*index.get(id)?].heading()?.office.clone()
        };
        let offices: Vec<Option<CompactString>> = (0..summaries.len())
            .map(|i| if involved[i] { office_of(i) } else { None })
            .collect();
        drop(index);

        let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in (0..summaries.len()).filter(|&i| involved[i]) {
            by_root.entry(sets.find(i)).or_default().push(i);
        }
        Groups {
            summaries,
            offices,
            members: by_root.into_values().collect(),
        }
    }

    /// The groups, built one at a time.
    fn into_iter(self) -> impl ExactSizeIterator<Item = Group> {
        let Groups {
            mut summaries,
            mut offices,
            members,
        } = self;
        members.into_iter().map(move |members| {
            let members: Vec<(Member, Option<String>)> = (members.iter())
                .filter_map(|&i| {
                    Some((
                        std::mem::take(&mut summaries[i]).member()?,
                        offices[i].take().map(String::from),
                    ))
                })
                .collect();
            Group::of(members)
        })
    }

    pub fn into_report(self) -> GroupReport {
        GroupReport {
            groups: self.into_iter().collect(),
        }
    }

    /// Writes the report as [`GroupReport::to_markdown`] or [`GroupReport::to_json`] gives it,
    /// building and writing a group at a time.
    pub fn write(self, format: ReportFormat, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let groups = self.into_iter();
        match format {
            ReportFormat::Json => {
                let report = OneByOne(std::cell::RefCell::new(Some(groups)));
                serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)
            }
            ReportFormat::Markdown => {
                out.write_all(markdown_head(groups.len()).as_bytes())?;
                (groups.enumerate())
                    .try_for_each(|(n, g)| out.write_all(g.to_markdown(n).as_bytes()))
            }
        }
    }
}

/// A [`GroupReport`] serialised as the groups come: the same JSON, a group at a time.
struct OneByOne<I>(std::cell::RefCell<Option<I>>);

impl<I: ExactSizeIterator<Item = Group>> Serialize for OneByOne<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq, SerializeStruct};

        struct Seq<'a, I>(&'a std::cell::RefCell<Option<I>>);
        impl<I: ExactSizeIterator<Item = Group>> Serialize for Seq<'_, I> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let groups = (self.0.borrow_mut().take())
                    .ok_or_else(|| S::Error::custom("the groups are written once"))?;
                let mut seq = serializer.serialize_seq(Some(groups.len()))?;
                for g in groups {
                    seq.serialize_element(&g)?;
                }
                seq.end()
            }
        }

        let mut report = serializer.serialize_struct("GroupReport", 1)?;
        report.serialize_field("groups", &Seq(&self.0))?;
        report.end()
    }
}

/// What the report reads of a record itself: what joins it to a group and names it.
#[derive(Debug, Clone)]
struct Heading {
    id: Option<CompactString>,
    name: Option<CompactString>,
    owners: Vec<Holder>,
    /// Whether it declares enterprises outside the batch (`linked_enterprises`).
    linked_outside: bool,
    /// Its registered office (`established_in`, first).
    office: Option<CompactString>,
}

impl Heading {
    fn of(v: &Value) -> Heading {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(CompactString::from);
        let outside = v.get("linked_enterprises").and_then(Value::as_array);
        Heading {
            id: text(v.get("id")),
            name: text(v.get("name")),
            owners: holders(v),
            linked_outside: outside.is_some_and(|list| !list.is_empty()),
            office: text(v.pointer("/established_in/0")),
        }
    }
}

/// What the report shows of a record's assessment: kept in place of the assessment (some
/// 12 KB, most of it the plan and the grounds) while a batch streams.
#[derive(Debug, Clone)]
pub struct Outcome {
    classification: &'static str,
    size_class: Option<&'static str>,
    size_possible: Vec<&'static str>,
    own_class: Option<&'static str>,
    /// Country codes, held inline.
    jurisdiction: Vec<CompactString>,
    carve_out: Option<&'static str>,
    errors: Vec<String>,
}

impl Outcome {
    pub fn of(a: &Assessment) -> Outcome {
        match &a.nis2 {
            Some(n) => Outcome {
                classification: n.classification.as_str(),
                size_class: n.size.class,
                size_possible: n.size.possible.clone(),
                own_class: n.size.own_class,
                jurisdiction: n.jurisdiction.iter().map(CompactString::from).collect(),
                carve_out: n.carve_out.as_ref().map(|c| c.classification.as_str()),
                errors: Vec::new(),
            },
            None => Outcome {
                classification: "error",
                size_class: None,
                size_possible: Vec::new(),
                own_class: None,
                jurisdiction: Vec::new(),
                carve_out: None,
                errors: a.errors.iter().map(|e| e.message.clone()).collect(),
            },
        }
    }
}

/// One record as the report sees it.
#[derive(Debug, Clone, Default)]
struct Summary {
    line: usize,
    /// `None` for a record that could not be read as JSON: it names nobody.
    heading: Option<Heading>,
    outcome: Option<Outcome>,
}

impl Summary {
    fn heading(&self) -> Option<&Heading> {
        self.heading.as_ref()
    }

    /// The record as a group member: one with an id, read and assessed.
    fn member(self) -> Option<Member> {
        let (heading, outcome) = (self.heading?, self.outcome?);
        Some(Member {
            id: heading.id?.into(),
            name: heading.name.map(String::from),
            line: self.line,
            owners: heading.owners,
            classification: outcome.classification.into(),
            size_class: outcome.size_class,
            size_possible: outcome.size_possible,
            own_class: outcome.own_class,
            jurisdiction: outcome.jurisdiction.into_iter().map(String::from).collect(),
            carve_out: outcome.carve_out,
            errors: outcome.errors,
        })
    }
}

/// Gathers the group report of a batch while it streams through `assay assess`.
///
/// The ownership pass put in a component every record with an owner or enterprises outside
/// the batch, and every record whose id is an owner's or is on another record too
/// ([`crate::prescan`]); no other record can be in a group or be the first record with a
/// member's id, so the collector keeps the outcomes of those alone. Their ids are hashed
/// there, so a collision keeps a record too many, never one too few.
pub struct Collector<'a> {
    scan: &'a Prescan,
    /// Records taken so far.
    taken: usize,
    /// The ordinal of each record kept, in order.
    ordinals: Vec<usize>,
    /// Each record kept: its outcome, and after the run its line and heading. Room for them
    /// all is made at once, as the ownership pass counted them: grown as it fills, the vector
    /// would hold up to twice their size.
    kept: Vec<Summary>,
}

impl<'a> Collector<'a> {
    pub fn new(scan: &'a Prescan) -> Collector<'a> {
        let count = scan.components_in(0..scan.records).count();
        Collector {
            scan,
            taken: 0,
            ordinals: Vec::with_capacity(count),
            kept: Vec::with_capacity(count),
        }
    }

    /// Takes the next assessments of the batch, in input order.
    pub fn take(&mut self, assessments: &[Assessment]) {
        let (start, end) = (self.taken, self.taken + assessments.len());
        for (ordinal, _) in self.scan.components_in(start..end) {
            self.ordinals.push(ordinal);
            self.kept.push(Summary {
                outcome: Some(Outcome::of(&assessments[ordinal - start])),
                ..Summary::default()
            });
        }
        self.taken = end;
    }

    /// Records whose outcome is kept.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// The report, once every assessment has been taken: reads `input` again for the fields
    /// of the records kept, and only theirs.
    pub fn finish(mut self, input: &Input) -> Result<Groups, String> {
        let (mut ordinal, mut next) = (0, 0);
        let read = input.read_ahead(crate::pipeline::CHUNK, |items| {
            for item in items {
                if self.ordinals.get(next) == Some(&ordinal) {
                    let kept = &mut self.kept[next];
                    kept.line = item.line;
                    kept.heading = item.into_value().ok().as_ref().map(Heading::of);
                    next += 1;
                }
                ordinal += 1;
            }
            Ok::<(), std::convert::Infallible>(())
        })?;
        let Ok(()) = read;
        if ordinal != self.taken {
            return Err(format!(
                "{} changed while it was assessed: {} records were assessed, and {ordinal} read \
                 for the group report; keep the input as it is until the run ends",
                input.describe(),
                self.taken
            ));
        }
        // As many records, but perhaps not the same: the file was saved again or replaced.
        if !input.unchanged() {
            return Err(format!(
                "{} changed while it was assessed: it was written to or replaced after assay \
                 first read it; keep the input as it is until the run ends",
                input.describe()
            ));
        }
        Ok(Groups::of(self.kept))
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
                .map(crate::facts::plain_zero)
                .reduce(f64::max);
            Some(Holder { id, pct })
        })
        .collect()
}

/// A Markdown table cell: pipes and line breaks would end it.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the report keeps of a record in an ownership component while the batch streams,
    /// outside its strings: a million generated records have some 280,000 in components
    /// (gen.rs: 15 % held by the one before), so 256 bytes each is 72 MB (finding: the report
    /// kept each record's whole assessment, about 12.7 KB, and 12.3 GB at a million).
    #[test]
    fn a_kept_record_is_small() {
        assert!(
            std::mem::size_of::<Summary>() <= 256,
            "{}",
            std::mem::size_of::<Summary>()
        );
    }
}
