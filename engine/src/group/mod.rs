//! The group step: figures aggregated with linked and partner enterprises, across the batch.
//!
//! NIS2 sizes an entity with its linked and partner enterprises (Art. 2(1), through Rec.
//! 2003/361/EC Annex Arts. 3 and 6). This is a graph computation over the whole batch, so it
//! runs after validation and before the per-entity work. [`links`] finds who is linked and who
//! is a partner; this module adds up the figures (Annex Art. 6):
//!
//! - the entity's own figures;
//! - 100 % of every enterprise linked to it, directly or indirectly (Art. 6(2));
//! - every partner of the entity *or of an enterprise linked to it* (Art. 6(2) and 6(3) first
//!   subparagraph), pro rata to the share; a partner's data include its own linked enterprises
//!   in full (Art. 6(3) second subparagraph), but not its partners;
//! - enterprises outside the batch from `linked_enterprises`, as declared by the entity or by
//!   any enterprise linked to it; a partner's outside linked enterprises count in its data;
//! - every error record of the entity's ownership group ([`ErrorMember`]): it failed validation
//!   or repeats an id, so neither its figures nor how it is held can be read, and it counts as
//!   an enterprise of the group whose figures are unknown.
//!
//! An unknown figure makes a total unknown, but not anything from zero: the total is at least
//! the sum of the parts that are known ([`GroupSum::at_least`]), so that a group already large on
//! its known figures stays large, and a medium one may be medium or large.
//!
//! The previous period (Annex Art. 4(2)) is added up the same way from each enterprise's
//! `previous_period`; an enterprise that declares none counts with its current figures, and the
//! output names it. Not modelled: links through natural persons acting jointly (Art. 3(3)
//! fourth subparagraph), which the facts contract does not describe and which can be declared
//! as a `linked` entry under `linked_enterprises`; and consolidated accounts, which the Annex
//! lets replace the sum (Art. 6(2)) but which the facts contract does not carry either.

pub mod links;

use crate::error::RecordError;
use crate::facts::{Facts, Figures, LinkedEnterprise};
use foldhash::HashMap;
use links::Links;
use serde::Serialize;
use std::sync::Arc;

/// How an enterprise counts in an entity's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    Own,
    Linked,
    Partner,
    /// An error record of the ownership group: linked, partner or neither is not known.
    #[serde(rename = "error_record")]
    ErrorRecord,
}

/// A record of an ownership group that is an error record (it failed validation, or repeats an
/// id): the group step cannot read its figures, and counts them as unknown.
#[derive(Debug, Clone)]
pub struct ErrorMember {
    pub id: Option<String>,
    pub line: usize,
    /// Its owners, when they could be read: it then takes its place among the holdings of the
    /// group, with unknown figures; otherwise every member counts it (see [`aggregate`]).
    pub owners: Option<Vec<crate::facts::Owner>>,
    /// It repeats the id of a record before it.
    pub repeats_id: bool,
}

impl ErrorMember {
    /// `` `S` (line 7) ``, `` the record on line 7 (which repeats the id `S`) ``, or `the record
    /// on line 7` when it has no id that could be read.
    pub fn named(&self) -> String {
        match &self.id {
            Some(id) if self.repeats_id => {
                format!(
                    "the record on line {} (which repeats the id `{id}`)",
                    self.line
                )
            }
            Some(id) => format!("`{id}` (line {})", self.line),
            None => format!("the record on line {}", self.line),
        }
    }
}

/// One enterprise counted in an entity's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    /// Its id in the batch, or its `name` under `linked_enterprises`.
    pub enterprise: String,
    pub relation: Relation,
    /// The share of its figures added, in percent.
    pub share_pct: f64,
    /// The linked enterprise whose partner or outside enterprise this is, when not the entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Its figures, before the share; for a partner, with its linked enterprises in full.
    pub figures: Figures,
    /// The same for the previous period, when any enterprise counted declared one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_period: Option<Figures>,
}

/// The figures an entity is sized on, and how they were put together.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub figures: Figures,
    /// The previous period added up the same way, when any enterprise counted declared one.
    pub previous: Option<Figures>,
    /// What the entity's linked group counts, shared by its members.
    pub sum: Arc<GroupSum>,
    /// The entity's own place in `sum.parts`.
    pub entity: usize,
    /// Facts about the computation worth telling: investors not counted, for instance.
    pub notes: Vec<String>,
    /// Declared facts that were read differently from how they were written.
    pub warnings: Vec<String>,
}

impl Aggregate {
    /// The number of enterprises counted, the entity included.
    pub fn count(&self) -> usize {
        self.sum.parts.len()
    }

    /// The enterprises counted, the entity first (as `own`), then the others in the order of
    /// the group: members in input order, their outside linked enterprises, then partners. A
    /// partner of the entity itself has no `via`.
    pub fn parts(&self) -> impl Iterator<Item = Part> + '_ {
        let own = self.sum.parts.get(self.entity).map(|p| Part {
            relation: Relation::Own,
            ..p.clone()
        });
        let me = own.as_ref().map(|p| p.enterprise.clone());
        let others = self
            .sum
            .parts
            .iter()
            .enumerate()
            .filter(move |(k, _)| *k != self.entity)
            .map(move |(_, p)| {
                let mut p = p.clone();
                if p.via.is_some() && p.via == me {
                    p.via = None;
                }
                p
            });
        own.into_iter().chain(others)
    }
}

/// The figures of one linked group with its partners, both periods.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSum {
    pub figures: Figures,
    pub previous: Option<Figures>,
    /// Every enterprise counted, the group's members first, in input order.
    pub parts: Vec<Part>,
    /// Enterprises counted with this period's figures for the previous one, as none was declared.
    pub assumed_stable: Vec<String>,
    /// The sum of the known figures: what an unknown total is at least (a known one equals it).
    pub at_least: Figures,
    /// The same for the previous period.
    pub previous_at_least: Figures,
    /// The error records of the ownership group counted with unknown figures, named with their
    /// line (`` `S` (line 7) ``).
    pub error_records: Vec<String>,
}

/// Aggregates figures for every entity of a batch that has linked or partner enterprises.
/// `records` are the valid records, in input order, with their line; both maps are keyed by
/// position in `records`. `failed` are the error records of the same ownership group, counted
/// with unknown figures: where their owners can be read, as the holdings make them linked or
/// partners; otherwise by every entity. Entities with no link and no such error record get no
/// entry (they are sized on their own figures); entities whose ownership is broken get an error
/// and no entry.
pub fn aggregate(
    records: &[(usize, &Facts)],
    failed: &[ErrorMember],
) -> (HashMap<usize, Aggregate>, HashMap<usize, RecordError>) {
    // An error record whose id and owners can be read takes its place among the holdings, with
    // unknown figures, after the valid records: what it holds and what holds it link and make
    // partners as they would (an owner that is an error record leaves what it owns valid). The
    // others (no id, an id another record has, owners that cannot be read) are counted by every
    // member, unknown, since how they are held is not known.
    let valid = records.len();
    let mut ids: HashMap<&str, usize> = HashMap::default();
    if !failed.is_empty() {
        for id in records
            .iter()
            .map(|(_, f)| f.id.as_str())
            .chain(failed.iter().filter_map(|f| f.id.as_deref()))
        {
            *ids.entry(id).or_default() += 1;
        }
    }
    let (placed, unplaced): (Vec<&ErrorMember>, Vec<&ErrorMember>) = failed
        .iter()
        .partition(|f| f.owners.is_some() && f.id.as_deref().is_some_and(|id| ids[id] == 1));
    let stand_ins: Vec<Facts> = placed
        .iter()
        .map(|f| Facts {
            id: f.id.as_deref().unwrap_or_default().into(),
            owners: f.owners.clone(),
            ..Facts::default()
        })
        .collect();
    let all: Vec<(usize, &Facts)> = records
        .iter()
        .copied()
        .chain(
            placed
                .iter()
                .zip(&stand_ins)
                .map(|(f, facts)| (f.line, facts)),
        )
        .collect();
    let records = all.as_slice();

    let mut links = Links::build(records);
    // The error records have their own errors already.
    links.errors.retain(|&i, _| i < valid);
    let outside: Vec<Vec<Outside>> = records
        .iter()
        .enumerate()
        .map(|(i, (line, facts))| {
            let (list, error) = outside_enterprises(*line, facts);
            if let Some(e) = error {
                links.errors.entry(i).or_insert(e);
            }
            list
        })
        .collect();

    // Every member of a linked group counts the same enterprises at the same shares, so the
    // sum is made once per group and shared: a group of n members costs n, not n².
    let mut shared: HashMap<usize, Arc<GroupSum>> = HashMap::default();
    // What is the same for every member of a linked group, found once per group too.
    let mut alike: HashMap<usize, Alike> = HashMap::default();
    let mut out = HashMap::default();
    // Sums past the largest figure, kept apart until every entity is done, so that an entity
    // whose partner's sum is one reads that partner as every other entity does.
    let mut past_the_largest = HashMap::default();
    for (i, (line, facts)) in records.iter().enumerate().take(valid) {
        if links.errors.contains_key(&i) {
            continue;
        }
        let root = links.group_of[i];
        let members = &links.members[&root];
        let group = alike.entry(root).or_insert_with(|| Alike {
            has_partners: members.iter().any(|&m| !links.partners[m].is_empty()),
            has_outside: members.iter().any(|&m| !outside[m].is_empty()),
            broken: (members.iter().copied())
                .filter(|&m| m < valid && links.errors.contains_key(&m))
                .collect(),
            error_records: None,
        });
        if members.len() == 1
            && !group.has_partners
            && !group.has_outside
            && links.investors[i].is_empty()
            && unplaced.is_empty()
        {
            continue;
        }
        let sum = shared
            .entry(root)
            .or_insert_with(|| {
                Arc::new(group_sum(
                    members, records, &links, &outside, &placed, &unplaced,
                ))
            })
            .clone();
        if let Some(error) = sum_past_the_largest(&sum, *line, &facts.id) {
            past_the_largest.insert(i, error);
            continue;
        }

        let mut notes = Vec::new();
        for &(investor, pct) in &links.investors[i] {
            notes.push(format!(
                "`{}` holds {pct} % of `{}` as an investor of Rec. 2003/361/EC Annex Art. 3(2) \
                 second subparagraph: not a partner, its figures are not counted",
                records[investor].1.id, facts.id
            ));
        }
        let mut warnings: Vec<String> = outside[i]
            .iter()
            .filter_map(|o| o.warning.clone())
            .collect();
        let broken: Vec<String> = (group.broken.iter())
            .chain(links.partners[i].keys().filter(|&&m| m < valid))
            .filter(|&&m| m != i && links.errors.contains_key(&m))
            .map(|&m| format!("`{}`", records[m].1.id))
            .collect();
        if !broken.is_empty() {
            warnings.push(format!(
                "{} counted here, but {} an error record in its `owners`: the group's figures \
                 may change once that is corrected",
                named(&broken),
                if broken.len() == 1 {
                    "it is"
                } else {
                    "each is"
                }
            ));
        }
        if !sum.error_records.is_empty() {
            let warning = (group.error_records)
                .get_or_insert_with(|| error_members_warning(&sum.error_records));
            warnings.push(warning.clone());
        }
        // Members are in input order.
        let entity = members.binary_search(&i).unwrap_or(0);
        out.insert(
            i,
            Aggregate {
                figures: sum.figures,
                previous: sum.previous,
                entity,
                sum,
                notes,
                warnings,
            },
        );
    }
    links.errors.extend(past_the_largest);
    (out, links.errors)
}

/// One figure of a [`Figures`]: its field name, what it is called in words, and how to read it.
type Figure = (&'static str, &'static str, fn(&Figures) -> Option<f64>);

/// The figures of a [`Figures`].
const FIGURES: [Figure; 3] = [
    ("employees", "headcount", |f| f.employees),
    ("annual_turnover_eur", "turnover", |f| f.annual_turnover_eur),
    ("balance_sheet_eur", "balance sheet", |f| {
        f.balance_sheet_eur
    }),
];

/// The error of an entity whose figures with its linked and partner enterprises add up past the
/// largest number a figure can hold (about 1.8e308), in either period; `None` for any other.
///
/// Such a sum is infinite, and was written `inf AWU` in the grounds and `null` (unknown) in the
/// output. It is not a size: figures that add up so far are not figures of any enterprise but a
/// slip (an exponent, a unit), so the entity's size, and what hangs on it, cannot be read from
/// them. `undetermined` would say a fact is missing when one is wrong, and a class read from
/// an infinite sum (`large`) would stand on figures no one gave. So every entity whose sum it
/// is gets an error record, as a broken ownership does (DESIGN.md "Behaviour on bad input"):
/// each record still yields one output record, which names the figures counted most and says
/// what to correct. A single figure that large, counted alone, is read as given: the facts
/// schema sets figures no ceiling, and a class can be read from it.
fn sum_past_the_largest(sum: &GroupSum, line: usize, id: &str) -> Option<RecordError> {
    let periods = [
        ("", sum.figures, sum.at_least, false),
        (
            " in the previous accounting period",
            sum.previous.unwrap_or(sum.figures),
            sum.previous_at_least,
            true,
        ),
    ];
    let (period, field, what, figure, previous) = periods
        .into_iter()
        .flat_map(|(period, total, at_least, previous)| {
            FIGURES
                .into_iter()
                .filter(move |(_, _, figure)| {
                    [total, at_least]
                        .iter()
                        .any(|f| figure(f).is_some_and(|v| !v.is_finite()))
                })
                .map(move |(field, what, figure)| (period, field, what, figure, previous))
        })
        .next()?;
    // Each part with what it adds, its figure at its share (the share taken as a fraction
    // first: a figure this large times a hundred is infinite), largest first.
    let mut counted: Vec<(f64, f64, &Part)> = (sum.parts.iter())
        .filter_map(|p| {
            let figures = match p.previous_period {
                Some(before) if previous => before,
                _ => p.figures,
            };
            figure(&figures).map(|v| (v * (p.share_pct / 100.0), v, p))
        })
        .collect();
    counted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let most: Vec<String> = (counted.iter().take(3))
        .map(|(_, v, p)| {
            // A figure this large written out would run to 300 digits.
            let v = if v.abs() < 1e15 {
                format!("{v}")
            } else {
                format!("{v:e}")
            };
            if p.share_pct == 100.0 {
                format!("`{}` {v}", p.enterprise)
            } else {
                format!("`{}` {v} ({} % counted)", p.enterprise, p.share_pct)
            }
        })
        .collect();
    let (field, pointer) = if previous {
        (
            format!("previous_period.{field}"),
            format!("/previous_period/{field}"),
        )
    } else {
        (field.to_string(), format!("/{field}"))
    };
    Some(RecordError::new(
        "group",
        line,
        Some(pointer),
        format!(
            "the {what} of `{id}` with its linked and partner enterprises{period} adds up past \
             the largest number a figure can hold (about 1.8e308), so no size can be read from \
             it; the largest `{field}` counted: {}; correct the figure that is too large (a \
             headcount in annual work units, turnover and balance sheet in euros)",
            most.join(", ")
        ),
    ))
}

/// What every member of a linked group shares besides its sum.
struct Alike {
    has_partners: bool,
    has_outside: bool,
    /// Its members that are error records of the group step, in input order.
    broken: Vec<usize>,
    /// The warning about the ownership group's error records, once written.
    error_records: Option<String>,
}

/// Names that a warning lists at most; a group's every member carries such a warning, so a list
/// of all would grow its output with the square of the group.
const NAMED: usize = 20;

/// `names` joined with commas, the first [`NAMED`] of them and how many more.
fn named(names: &[String]) -> String {
    match names.len().checked_sub(NAMED) {
        Some(more) if more > 0 => format!("{} and {more} more", names[..NAMED].join(", ")),
        _ => names.join(", "),
    }
}

/// The warning every other member of an ownership group with error records carries.
fn error_members_warning(names: &[String]) -> String {
    let one = names.len() == 1;
    format!(
        "{} {} in this ownership group (`owners`) but {} an error record: {} figures count as \
         unknown in the group's size, so the size class and this classification may stay open \
         until {} corrected",
        named(names),
        if one { "is" } else { "are" },
        if one { "is" } else { "each is" },
        if one { "its" } else { "their" },
        if one { "it is" } else { "they are" },
    )
}

/// What a linked group counts: its members in full (in input order), their linked enterprises
/// outside the batch in full, the partners of every member pro rata, and the error records of
/// its ownership group with unknown figures. `placed` are the error records that stand, in
/// this order, at the end of `records`; `unplaced` those every group counts.
fn group_sum(
    members: &[usize],
    records: &[(usize, &Facts)],
    links: &Links,
    outside: &[Vec<Outside>],
    placed: &[&ErrorMember],
    unplaced: &[&ErrorMember],
) -> GroupSum {
    let first_placed = records.len() - placed.len();
    let error_member = |m: usize| m.checked_sub(first_placed).map(|k| placed[k]);
    let mut sum = Sum::default();
    for &m in members {
        let id = records[m].1.id.as_str();
        match error_member(m) {
            Some(f) => {
                sum.add(Relation::ErrorRecord, id, None, Data::UNKNOWN, 100.0);
                sum.error_records.push(f.named());
            }
            None => sum.add(Relation::Linked, id, None, Data::of(records[m].1), 100.0),
        }
    }
    for &m in members {
        let via = Some(records[m].1.id.as_str());
        for o in outside[m]
            .iter()
            .filter(|o| o.counted && o.relation == Relation::Linked)
        {
            sum.add(Relation::Linked, &o.name, via, o.data, 100.0);
        }
    }
    for &m in members {
        let via = Some(records[m].1.id.as_str());
        for (&p, &share) in &links.partners[m] {
            let data = partner_data(p, records, links, outside);
            let relation = match error_member(p) {
                Some(f) => {
                    sum.error_records.push(f.named());
                    Relation::ErrorRecord
                }
                None => Relation::Partner,
            };
            sum.add(relation, &records[p].1.id, via, data, share);
        }
        for o in outside[m]
            .iter()
            .filter(|o| o.counted && o.relation == Relation::Partner)
        {
            sum.add(Relation::Partner, &o.name, via, o.data, o.share);
        }
    }
    // How these error records are held is not known, so each is counted as it would count at
    // most, in full; with its figures unknown the share changes only what the output shows.
    for f in unplaced {
        let name = f.id.clone().unwrap_or_else(|| f.named());
        sum.add(Relation::ErrorRecord, &name, None, Data::UNKNOWN, 100.0);
        sum.error_records.push(f.named());
    }
    sum.finish()
}

/// A partner's data: its own figures and those of its linked enterprises, in and outside the
/// batch, in full (Annex Art. 6(3) second subparagraph).
fn partner_data(
    p: usize,
    records: &[(usize, &Facts)],
    links: &Links,
    outside: &[Vec<Outside>],
) -> Data {
    let mut data = Data::of(records[p].1);
    let group = std::iter::once(p).chain(links.linked(p));
    for m in group {
        if m != p {
            data.add(&Data::of(records[m].1), 1.0);
        }
        for o in outside[m]
            .iter()
            .filter(|o| o.counted && o.relation == Relation::Linked)
        {
            data.add(&o.data, 1.0);
        }
    }
    data
}

/// An enterprise outside the batch, read from `linked_enterprises`.
struct Outside {
    name: String,
    relation: Relation,
    share: f64,
    /// False for a declared partner below 25 %, kept only for its warning.
    counted: bool,
    data: Data,
    warning: Option<String>,
}

/// Reads `linked_enterprises`, applying the Annex thresholds to the declared `partner` shares:
/// above 50 % is a linked enterprise, below 25 % is neither, and a partner without a share
/// cannot be counted.
fn outside_enterprises(line: usize, facts: &Facts) -> (Vec<Outside>, Option<RecordError>) {
    let mut list = Vec::new();
    let mut error = None;
    for (k, e) in facts
        .linked_enterprises
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let name =
            (e.name.as_ref()).map_or_else(|| format!("linked_enterprises.{k}"), |n| n.to_string());
        let (relation, share, warning) = match (e.relation.as_str(), e.share_pct) {
            ("linked", _) => (Relation::Linked, 100.0, None),
            (_, None) => {
                error = error.or(Some(RecordError::new(
                    "group",
                    line,
                    Some(format!("/linked_enterprises/{k}/share_pct")),
                    format!(
                        "`linked_enterprises.{k}.share_pct`: partner `{name}` has no share, and \
                         a partner counts pro rata to the higher of its capital and voting \
                         share (Rec. 2003/361/EC Annex Art. 6(2)); give the share in percent"
                    ),
                )));
                continue;
            }
            (_, Some(pct)) if pct > 50.0 => (
                Relation::Linked,
                100.0,
                Some(format!(
                    "`linked_enterprises.{k}`: `{name}` is declared a partner but holds or is \
                     held at {pct} %, a majority: it was counted as a linked enterprise, in full \
                     (Rec. 2003/361/EC Annex Art. 3(3)(a)); declare `relation: linked` if that \
                     is right"
                )),
            ),
            (_, Some(pct)) if pct < 25.0 => {
                list.push(Outside {
                    name: name.clone(),
                    relation: Relation::Partner,
                    share: 0.0,
                    counted: false,
                    data: Data::of_outside(e),
                    warning: Some(format!(
                        "`linked_enterprises.{k}`: `{name}` is declared a partner at {pct} %, \
                         below the 25 % of Rec. 2003/361/EC Annex Art. 3(2): it is neither \
                         partner nor linked and was not counted"
                    )),
                });
                continue;
            }
            (_, Some(pct)) => (Relation::Partner, pct, None),
        };
        list.push(Outside {
            name,
            relation,
            share,
            counted: true,
            data: Data::of_outside(e),
            warning,
        });
    }
    (list, error)
}

/// One enterprise's figures for this period and, when declared, the previous one.
#[derive(Debug, Clone, Copy)]
struct Data {
    now: Figures,
    previous: Option<Figures>,
}

impl Data {
    /// An enterprise none of whose figures is known, in either period.
    const UNKNOWN: Data = Data {
        now: Figures {
            employees: None,
            annual_turnover_eur: None,
            balance_sheet_eur: None,
        },
        previous: None,
    };

    fn of(facts: &Facts) -> Data {
        Data {
            now: facts.figures(),
            previous: facts.previous_period.map(|p| p.or(&facts.figures())),
        }
    }

    fn of_outside(e: &LinkedEnterprise) -> Data {
        Data {
            now: e.figures(),
            previous: e.previous_period.map(|p| p.or(&e.figures())),
        }
    }

    /// Adds `other` at `share` (a fraction). The previous period of a sum is known when either
    /// side declared one; the side that did not counts with its current figures.
    fn add(&mut self, other: &Data, share: f64) {
        self.previous = match (self.previous, other.previous) {
            (None, None) => None,
            (a, b) => Some(plus(&a.unwrap_or(self.now), &b.unwrap_or(other.now), share)),
        };
        self.now = plus(&self.now, &other.now, share);
    }
}

/// `a + b × share`, where an unknown figure makes the total unknown.
fn plus(a: &Figures, b: &Figures, share: f64) -> Figures {
    each_figure(a, b, |x, y| Some(x? + y? * share))
}

/// `a + b × share`, where an unknown figure counts as zero: a lower bound of the total.
fn plus_known(a: &Figures, b: &Figures, share: f64) -> Figures {
    each_figure(a, b, |x, y| {
        Some(x.unwrap_or(0.0) + y.unwrap_or(0.0) * share)
    })
}

/// `f` applied to each figure of `a` and `b`, pairwise.
fn each_figure(
    a: &Figures,
    b: &Figures,
    f: impl Fn(Option<f64>, Option<f64>) -> Option<f64>,
) -> Figures {
    Figures {
        employees: f(a.employees, b.employees),
        annual_turnover_eur: f(a.annual_turnover_eur, b.annual_turnover_eur),
        balance_sheet_eur: f(a.balance_sheet_eur, b.balance_sheet_eur),
    }
}

/// The running sum of an entity's figures, both periods, with every part recorded.
#[derive(Default)]
struct Sum {
    now: Figures,
    previous: Figures,
    /// The known parts of `now` and `previous`.
    at_least: Figures,
    previous_at_least: Figures,
    parts: Vec<Part>,
    stable: Vec<String>,
    any_previous: bool,
    error_records: Vec<String>,
}

impl Sum {
    fn add(&mut self, relation: Relation, name: &str, via: Option<&str>, data: Data, share: f64) {
        let fraction = share / 100.0;
        if self.parts.is_empty() {
            self.now = Figures {
                employees: Some(0.0),
                annual_turnover_eur: Some(0.0),
                balance_sheet_eur: Some(0.0),
            };
            self.previous = self.now;
        }
        let previous = data.previous.unwrap_or(data.now);
        self.now = plus(&self.now, &data.now, fraction);
        self.previous = plus(&self.previous, &previous, fraction);
        self.at_least = plus_known(&self.at_least, &data.now, fraction);
        self.previous_at_least = plus_known(&self.previous_at_least, &previous, fraction);
        match data.previous {
            Some(_) => self.any_previous = true,
            // An error record's previous figures are unknown, not assumed the same.
            None if relation == Relation::ErrorRecord => {}
            None => self.stable.push(name.to_string()),
        }
        self.parts.push(Part {
            enterprise: name.to_string(),
            relation,
            share_pct: share,
            via: via.map(String::from),
            figures: round(data.now),
            previous_period: data.previous.map(round),
        });
    }

    fn finish(self) -> GroupSum {
        GroupSum {
            figures: round(self.now),
            previous: self.any_previous.then(|| round(self.previous)),
            assumed_stable: if self.any_previous {
                self.stable
            } else {
                Vec::new()
            },
            parts: self.parts,
            at_least: round(self.at_least),
            previous_at_least: round(self.previous_at_least),
            error_records: self.error_records,
        }
    }
}

/// Rounded to hundredths so that pro-rata shares do not print as 30.000000004.
fn round(f: Figures) -> Figures {
    // A figure past a hundredth of the largest double has no hundredths to round, and its
    // hundredfold would be infinite: it is kept as it is.
    let r = |v: Option<f64>| {
        v.map(|v| match (v * 100.0).round() / 100.0 {
            r if r.is_finite() => r,
            _ => v,
        })
    };
    Figures {
        employees: r(f.employees),
        annual_turnover_eur: r(f.annual_turnover_eur),
        balance_sheet_eur: r(f.balance_sheet_eur),
    }
}
