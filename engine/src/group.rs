//! The group step: figures aggregated with linked and partner enterprises, across the batch.
//!
//! NIS2 sizes an entity with its linked and partner enterprises (Art. 2(1), through Rec.
//! 2003/361/EC Annex Arts. 3 and 6). This is a graph computation over the whole batch, so it
//! runs after validation and before the per-entity work:
//!
//! - **linked** (Annex Art. 3(3)): one holds the majority of the other's voting rights (here:
//!   more than 50 % of the higher of capital and voting share), directly or through other
//!   linked enterprises. Linked enterprises count in full (Art. 6(2)).
//! - **partner** (Annex Art. 3(2)): 25 % or more, not linked, immediately upstream or
//!   downstream. A partner counts pro rata to the higher of the capital and the voting share
//!   (Art. 6(2)); a cross-holding counts once, at the higher percentage. A partner's data include
//!   its own linked enterprises in full (Art. 6(3)).
//! - enterprises outside the batch come from `linked_enterprises`, with their figures as declared.
//!
//! Not yet modelled: the investor exceptions of Annex Art. 3(2) second subparagraph, control by
//! contract or board appointment (Art. 3(3)(b)-(d)), and links through natural persons. An owner
//! id that is not in the batch, or two enterprises each holding a majority of the other, make
//! an error record for the entity concerned; the rest of the batch is assessed.

use crate::error::RecordError;
use crate::evaluate::size::money;
use crate::facts::{Facts, Figures};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The figures an entity is sized on, and how they were put together.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub figures: Figures,
    /// One line per enterprise added: who, how, at what share.
    pub parts: Vec<String>,
}

/// Holdings as edges: (owner index, owned index) → percentage.
type Holdings = BTreeMap<(usize, usize), f64>;

/// Aggregates figures for every entity of a batch that has linked or partner enterprises.
/// `records` are the valid records, in input order, with their line. Entities with no link get
/// no entry (they are sized on their own figures); entities whose ownership is broken get an
/// error.
pub fn aggregate(
    records: &[(usize, &Facts)],
) -> (HashMap<usize, Aggregate>, HashMap<usize, RecordError>) {
    let index: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, (_, f))| (f.id.as_str(), i))
        .collect();
    let mut holdings: Holdings = BTreeMap::new();
    let mut errors: HashMap<usize, RecordError> = HashMap::new();

    for (i, (line, facts)) in records.iter().enumerate() {
        for (k, owner) in facts.owners.iter().flatten().enumerate() {
            let Some(&o) = index.get(owner.id.as_str()) else {
                errors.insert(
                    i,
                    RecordError::new(
                        "group",
                        *line,
                        Some(format!("/owners/{k}/id")),
                        format!(
                            "`owners.{k}.id`: `{}` is not the id of any organisation in this \
                             batch; add that owner's record, or declare it under \
                             `linked_enterprises` with its figures",
                            owner.id
                        ),
                    ),
                );
                continue;
            };
            let pct = owner
                .share_pct
                .unwrap_or(0.0)
                .max(owner.voting_pct.unwrap_or(0.0));
            let entry = holdings.entry((o, i)).or_insert(0.0);
            *entry = entry.max(pct);
        }
    }

    // Contradictory control: each holds a majority of the other.
    for (&(a, b), &pct) in &holdings {
        if a < b && pct > 50.0 && holdings.get(&(b, a)).is_some_and(|p| *p > 50.0) {
            for (x, y) in [(a, b), (b, a)] {
                errors.insert(
                    x,
                    RecordError::new(
                        "group",
                        records[x].0,
                        Some("/owners".into()),
                        format!(
                            "`{}` and `{}` each hold a majority of the other, which cannot both \
                             be true; correct the `owners` of one of them",
                            records[x].1.id, records[y].1.id
                        ),
                    ),
                );
            }
        }
    }

    // Linked groups: connected through majority holdings.
    let mut parent: Vec<usize> = (0..records.len()).collect();
    fn find(parent: &mut [usize], x: usize) -> usize {
        let mut root = x;
        while parent[root] != root {
            root = parent[root];
        }
        let mut node = x;
        while parent[node] != root {
            let next = parent[node];
            parent[node] = root;
            node = next;
        }
        root
    }
    for (&(a, b), &pct) in &holdings {
        if pct > 50.0 {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra] = rb;
        }
    }
    let mut groups: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for i in 0..records.len() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().insert(i);
    }
    let group_of: Vec<usize> = (0..records.len()).map(|i| find(&mut parent, i)).collect();

    // Holdings by enterprise, both directions, so that finding partners is not a scan.
    let mut adjacent: Vec<Vec<(usize, f64)>> = vec![Vec::new(); records.len()];
    for (&(a, b), &pct) in &holdings {
        adjacent[a].push((b, pct));
        adjacent[b].push((a, pct));
    }

    let mut out = HashMap::new();
    for (i, (_, facts)) in records.iter().enumerate() {
        if errors.contains_key(&i) {
            continue;
        }
        let linked: Vec<usize> = groups[&group_of[i]]
            .iter()
            .copied()
            .filter(|&j| j != i)
            .collect();
        // Partners: 25 % to 50 %, immediately up- or downstream, not in the linked group.
        let mut partners: BTreeMap<usize, f64> = BTreeMap::new();
        for &(other, pct) in &adjacent[i] {
            if (25.0..=50.0).contains(&pct) && group_of[other] != group_of[i] {
                let entry = partners.entry(other).or_insert(0.0);
                *entry = entry.max(pct);
            }
        }
        let outside = facts.linked_enterprises.as_deref().unwrap_or_default();
        if linked.is_empty() && partners.is_empty() && outside.is_empty() {
            continue;
        }

        let mut sum = Sum::new(facts.figures());
        let mut parts = vec![format!("own: {}", describe(&facts.figures()))];
        for &j in &linked {
            sum.add(&records[j].1.figures(), 1.0);
            parts.push(format!(
                "linked `{}` (100 %): {}",
                records[j].1.id,
                describe(&records[j].1.figures())
            ));
        }
        for (&p, &pct) in &partners {
            // A partner's data include its own linked enterprises in full.
            let mut partner = Sum::new(records[p].1.figures());
            for &q in groups[&group_of[p]].iter().filter(|&&q| q != p) {
                partner.add(&records[q].1.figures(), 1.0);
            }
            let partner = partner.figures();
            sum.add(&partner, pct / 100.0);
            parts.push(format!(
                "partner `{}` ({pct} %): {}",
                records[p].1.id,
                describe(&partner)
            ));
        }
        for (k, e) in outside.iter().enumerate() {
            let f = Figures {
                employees: e.employees,
                annual_turnover_eur: e.annual_turnover_eur,
                balance_sheet_eur: e.balance_sheet_eur,
            };
            let share = if e.relation == "linked" {
                100.0
            } else {
                e.share_pct.unwrap_or(0.0)
            };
            sum.add(&f, share / 100.0);
            let name = e
                .name
                .clone()
                .unwrap_or_else(|| format!("linked_enterprises.{k}"));
            parts.push(format!(
                "{} `{name}` ({share} %): {}",
                e.relation,
                describe(&f)
            ));
        }
        out.insert(
            i,
            Aggregate {
                figures: sum.figures(),
                parts,
            },
        );
    }
    (out, errors)
}

/// A running sum in which an unknown figure makes the total unknown.
struct Sum(Figures);

impl Sum {
    fn new(f: Figures) -> Sum {
        Sum(f)
    }

    fn add(&mut self, f: &Figures, share: f64) {
        let add = |a: Option<f64>, b: Option<f64>| Some(a? + b? * share);
        self.0 = Figures {
            employees: add(self.0.employees, f.employees),
            annual_turnover_eur: add(self.0.annual_turnover_eur, f.annual_turnover_eur),
            balance_sheet_eur: add(self.0.balance_sheet_eur, f.balance_sheet_eur),
        };
    }

    /// The total, rounded to hundredths so that pro-rata shares do not print as 30.000000004.
    fn figures(&self) -> Figures {
        let round = |v: Option<f64>| v.map(|v| (v * 100.0).round() / 100.0);
        Figures {
            employees: round(self.0.employees),
            annual_turnover_eur: round(self.0.annual_turnover_eur),
            balance_sheet_eur: round(self.0.balance_sheet_eur),
        }
    }
}

fn describe(f: &Figures) -> String {
    let eur = |v: Option<f64>| {
        v.map(|v| format!("EUR {}", money(v)))
            .unwrap_or("unknown".into())
    };
    format!(
        "{} AWU, turnover {}, balance sheet {}",
        f.employees
            .map(|e| e.to_string())
            .unwrap_or("unknown".into()),
        eur(f.annual_turnover_eur),
        eur(f.balance_sheet_eur)
    )
}
