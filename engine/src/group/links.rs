//! Who is linked to whom, and who is whose partner, from the `owners` of a batch.
//!
//! [`Links::build`] reads every record's `owners` once into holdings (owner → owned), checks
//! them (an owner that is not in the batch, an entity owning itself, owners holding more than
//! 100 %, a circle of majority holdings), and then works out:
//!
//! - the **linked groups** (Annex Art. 3(3)): a majority of the voting rights links two
//!   enterprises, as does an owner declaring `control` (the right to appoint or remove most of
//!   the board, dominant influence by contract or articles, or a majority of votes under an
//!   agreement with other shareholders: Art. 3(3)(b)-(d)), and so does a majority held jointly by the members of one linked group ("through
//!   one or more other enterprises", Art. 3(3) last subparagraph). Voting rights are the
//!   `voting_pct` when given, otherwise the capital share (one share, one vote);
//! - the **partner** pairs (Annex Art. 3(2)): an enterprise whose linked group holds, alone or
//!   jointly, 25 % or more of another enterprise it is not linked to. The share applied is the
//!   higher of the capital and voting share (Art. 6(2)), and a cross-holding counts once, at the
//!   higher percentage. An owner declared as one of the investors of Art. 3(2) second
//!   subparagraph makes no partnership.

use crate::error::RecordError;
use crate::facts::{Facts, Owner};
use foldhash::HashMap;
use std::collections::BTreeMap;

/// A holding of one enterprise in another, in percent.
#[derive(Debug, Clone, Copy)]
pub struct Holding {
    capital: Option<f64>,
    voting: Option<f64>,
    /// The owner is one of the investors of Annex Art. 3(2) second subparagraph.
    investor: bool,
    /// The owner controls otherwise than by a majority of votes (Annex Art. 3(3)(b)-(d)).
    control: bool,
}

impl Holding {
    fn of(owner: &Owner) -> Holding {
        Holding {
            capital: owner.share_pct,
            voting: owner.voting_pct,
            investor: owner.investor.is_some(),
            control: owner.control.is_some(),
        }
    }

    /// The voting rights, which decide control (Art. 3(3)(a)).
    pub fn voting(&self) -> f64 {
        self.voting.or(self.capital).unwrap_or(0.0)
    }

    /// The owner controls the owned enterprise: a majority of its voting rights (Art. 3(3)(a))
    /// or one of the other control tests (Art. 3(3)(b)-(d)).
    pub fn controls(&self) -> bool {
        self.control || self.voting() > 50.0
    }

    /// The share a partner counts at: the higher of capital and voting rights (Art. 6(2)).
    pub fn stake(&self) -> f64 {
        self.capital.unwrap_or(0.0).max(self.voting.unwrap_or(0.0))
    }
}

/// The ownership structure of a batch.
pub struct Links {
    /// (owner, owned) → holding, by position in the batch.
    pub holdings: BTreeMap<(usize, usize), Holding>,
    /// The linked group of each enterprise (a representative member).
    pub group_of: Vec<usize>,
    /// Members of each linked group, in input order.
    pub members: BTreeMap<usize, Vec<usize>>,
    /// Partners of each enterprise with the share applied, in percent.
    pub partners: Vec<BTreeMap<usize, f64>>,
    /// Holdings that made no partnership because of the investor exception, per owned enterprise.
    pub investors: Vec<Vec<(usize, f64)>>,
    pub errors: HashMap<usize, RecordError>,
}

/// A majority held jointly by a linked group links too (Rec. 2003/361/EC Annex Art. 3(3): a
/// majority of the voting rights, point (a), and links through one or more other enterprises
/// count), and each union can make new joint majorities. The groups only grow, so the order in which they are joined
/// does not change where they end; when two groups join, only what the members of the smaller
/// one hold can newly be held by a majority, so only that is looked at again: each enterprise
/// is looked at again a few times, not once for every union.
fn joint_majorities(n: usize, holdings: &BTreeMap<(usize, usize), Holding>, sets: &mut UnionFind) {
    // Per enterprise: who holds it and with which votes (holders in input order), and what it
    // holds.
    let mut holders: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    let mut holds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (&(a, b), h) in holdings {
        holders[b].push((a, h.voting()));
        holds[a].push(b);
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        members[sets.find(i)].push(i);
    }
    let mut look: Vec<usize> = (0..n).rev().filter(|&b| !holders[b].is_empty()).collect();
    let mut by_group: Vec<(usize, f64)> = Vec::new();
    while let Some(b) = look.pop() {
        let gb = sets.find(b);
        by_group.clear();
        by_group.extend(
            (holders[b].iter())
                .map(|&(a, votes)| (sets.find(a), votes))
                .filter(|&(ga, _)| ga != gb),
        );
        // Stable: each group's votes are added in its holders' order.
        by_group.sort_by_key(|&(g, _)| g);
        let mut at = 0;
        while at < by_group.len() {
            let g = by_group[at].0;
            let mut votes = 0.0;
            while at < by_group.len() && by_group[at].0 == g {
                votes += by_group[at].1;
                at += 1;
            }
            let (g, gb) = (sets.find(g), sets.find(b));
            if votes > 50.0 && g != gb {
                let smaller = if members[g].len() < members[gb].len() {
                    g
                } else {
                    gb
                };
                look.extend(
                    members[smaller]
                        .iter()
                        .flat_map(|&m| holds[m].iter().copied()),
                );
                sets.union(g, gb);
                let (root, other) = (g.min(gb), g.max(gb));
                let moved = std::mem::take(&mut members[other]);
                members[root].extend(moved);
            }
        }
    }
}

impl Links {
    pub fn build(records: &[(usize, &Facts)]) -> Links {
        let index: HashMap<&str, usize> = records
            .iter()
            .enumerate()
            .map(|(i, (_, f))| (f.id.as_str(), i))
            .collect();
        let mut holdings = BTreeMap::new();
        let mut errors = HashMap::default();
        for (i, (line, facts)) in records.iter().enumerate() {
            if let Some(e) = check_owners(i, *line, facts, &index, &mut holdings) {
                errors.insert(i, e);
            }
        }
        majority_circles(records, &holdings, &mut errors);

        let mut sets = UnionFind::new(records.len());
        for (&(a, b), h) in &holdings {
            if h.controls() {
                sets.union(a, b);
            }
        }
        joint_majorities(records.len(), &holdings, &mut sets);
        let group_of: Vec<usize> = (0..records.len()).map(|i| sets.find(i)).collect();
        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, g) in group_of.iter().enumerate() {
            members.entry(*g).or_default().push(i);
        }

        // Partners: what a linked group holds jointly in an enterprise outside it, not counting
        // the investors of the exception, decides whether each of its holders is a partner.
        let mut joint: BTreeMap<(usize, usize), f64> = BTreeMap::new();
        for (&(a, b), h) in &holdings {
            if group_of[a] != group_of[b] && !h.investor {
                *joint.entry((group_of[a], b)).or_default() += h.stake();
            }
        }
        let mut partners = vec![BTreeMap::new(); records.len()];
        let mut investors = vec![Vec::new(); records.len()];
        for (&(a, b), h) in &holdings {
            if group_of[a] == group_of[b] {
                continue;
            }
            if h.investor {
                if h.stake() <= 50.0 {
                    investors[b].push((a, h.stake()));
                    continue;
                }
            } else if joint[&(group_of[a], b)] < 25.0 {
                continue;
            }
            // A cross-holding counts once, at the higher percentage.
            for (x, y) in [(a, b), (b, a)] {
                let entry: &mut f64 = partners[x].entry(y).or_default();
                *entry = entry.max(h.stake());
            }
        }

        Links {
            holdings,
            group_of,
            members,
            partners,
            investors,
            errors,
        }
    }

    /// The other members of `i`'s linked group.
    pub fn linked(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.members[&self.group_of[i]]
            .iter()
            .copied()
            .filter(move |&j| j != i)
    }
}

/// Reads one record's owners into `holdings`; returns the first problem found.
fn check_owners(
    i: usize,
    line: usize,
    facts: &Facts,
    index: &HashMap<&str, usize>,
    holdings: &mut BTreeMap<(usize, usize), Holding>,
) -> Option<RecordError> {
    let owners = facts.owners.as_deref().unwrap_or_default();
    let error = |k: Option<usize>, message: String| {
        let field = match k {
            Some(k) => format!("/owners/{k}"),
            None => "/owners".into(),
        };
        Some(RecordError::new("group", line, Some(field), message))
    };
    let mut first = None;
    // The owners listed before, to find one listed twice without going back through the list.
    let mut listed: foldhash::HashSet<&str> = foldhash::HashSet::default();
    for (k, owner) in owners.iter().enumerate() {
        let problem = if owner.id == facts.id {
            error(
                Some(k),
                format!(
                    "`owners.{k}.id`: `{}` is this record's own id, and an enterprise cannot \
                     hold itself; remove it, or write the id of the real owner",
                    owner.id
                ),
            )
        } else if !index.contains_key(owner.id.as_str()) {
            error(
                Some(k),
                format!(
                    "`owners.{k}.id`: `{}` is not the id of any valid organisation in this \
                     batch; add that owner's record (or correct its errors, if it has one), or \
                     declare it under `linked_enterprises` with its figures",
                    owner.id
                ),
            )
        } else if !listed.insert(owner.id.as_str()) {
            error(
                Some(k),
                format!(
                    "`owners.{k}.id`: `{}` is listed twice; give one entry with its whole \
                     holding",
                    owner.id
                ),
            )
        } else if owner.share_pct.is_none() && owner.voting_pct.is_none() && owner.control.is_none()
        {
            error(
                Some(k),
                format!(
                    "`owners.{k}`: `{}` has neither `share_pct` nor `voting_pct`, so it cannot \
                     be told whether it is a linked enterprise, a partner or neither (Rec. \
                     2003/361/EC Annex Art. 3); give the holding in percent, or `control` when \
                     it controls otherwise",
                    owner.id
                ),
            )
        } else {
            None
        };
        if problem.is_some() {
            first = first.or(problem);
            continue;
        }
        holdings.insert((index[owner.id.as_str()], i), Holding::of(owner));
    }

    for (what, pct) in [
        (
            "share_pct",
            owners.iter().filter_map(|o| o.share_pct).sum::<f64>(),
        ),
        (
            "voting_pct",
            owners.iter().filter_map(|o| o.voting_pct).sum::<f64>(),
        ),
    ] {
        // Hundredths of a percent of rounding are tolerated: 33.34 + 33.33 + 33.33 is whole.
        if pct > 100.01 && first.is_none() {
            first = error(
                None,
                format!(
                    "the owners' `{what}` add up to {pct} %, more than the whole of `{}`; \
                     correct the holdings",
                    facts.id
                ),
            );
        }
    }
    first
}

/// Members of a circle of control its error names one by one. A longer circle is named from
/// each member's place, by the links next to it and how many are between: 20,000 members each
/// naming all 20,000 wrote some 7 GB.
const CIRCLE_NAMED: usize = 10;

/// Control that goes round in a circle (A controls B, B controls C, C controls A) cannot all be
/// true: every record on the circle gets an error naming it.
fn majority_circles(
    records: &[(usize, &Facts)],
    holdings: &BTreeMap<(usize, usize), Holding>,
    errors: &mut HashMap<usize, RecordError>,
) {
    // Following one controlling owner per enterprise upwards either ends or goes round a circle.
    // With the voting rights adding up to 100 % at most there is one majority owner at most; a
    // second owner declaring `control` is not checked against it.
    let mut majority_owner: Vec<Option<usize>> = vec![None; records.len()];
    for (&(a, b), h) in holdings {
        if h.controls() && majority_owner[b].is_none() {
            majority_owner[b] = Some(a);
        }
    }
    // 0 = not visited, 1 = on the current path, 2 = done.
    let mut state = vec![0u8; records.len()];
    for start in 0..records.len() {
        let mut path = Vec::new();
        let mut node = Some(start);
        while let Some(x) = node {
            match state[x] {
                2 => break,
                1 => {
                    let at = path.iter().position(|&p| p == x).unwrap_or(0);
                    // Each member controls the next, and the last the first.
                    let ring: Vec<usize> = path[at..].iter().rev().copied().collect();
                    let name = |k: usize| format!("`{}`", records[ring[k % ring.len()]].1.id);
                    let whole = (ring.len() <= CIRCLE_NAMED).then(|| {
                        let names: Vec<String> = (0..=ring.len()).map(name).collect();
                        names.join(" controls ")
                    });
                    for (k, &c) in ring.iter().enumerate() {
                        let circle = match &whole {
                            Some(names) => format!("a circle ({names}"),
                            None => format!(
                                "a circle of {} organisations ({} controls {} controls {}, and \
                                 so on through {} more, until {} controls {}",
                                ring.len(),
                                name(k),
                                name(k + 1),
                                name(k + 2),
                                ring.len() - 4,
                                name(k + ring.len() - 1),
                                name(k),
                            ),
                        };
                        errors.insert(
                            c,
                            RecordError::new(
                                "group",
                                records[c].0,
                                Some("/owners".into()),
                                format!(
                                    "control goes round in {circle}: by a majority of votes or \
                                     a declared `control`), so each would control the one that \
                                     controls it; correct the `owners` of one of them"
                                ),
                            ),
                        );
                    }
                    break;
                }
                _ => {
                    state[x] = 1;
                    path.push(x);
                    node = majority_owner[x];
                }
            }
        }
        for p in path {
            state[p] = 2;
        }
    }
}

/// Disjoint sets with path compression.
pub struct UnionFind(Vec<usize>);

impl UnionFind {
    pub fn new(n: usize) -> UnionFind {
        UnionFind((0..n).collect())
    }

    pub fn find(&mut self, x: usize) -> usize {
        let mut root = x;
        while self.0[root] != root {
            root = self.0[root];
        }
        let mut node = x;
        while self.0[node] != root {
            let next = self.0[node];
            self.0[node] = root;
            node = next;
        }
        root
    }

    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller index as root keeps group ids stable and in input order.
        let (low, high) = (ra.min(rb), ra.max(rb));
        self.0[high] = low;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The groups of Annex Art. 3(3) as the rule reads: join every group to an enterprise
    /// its members together hold a majority of the votes in, and repeat over all holdings until
    /// nothing changes. `joint_majorities` must end in the same groups on holdings drawn at
    /// random among 40 enterprises (votes of 5 to 60 %, so that most majorities are joint).
    #[test]
    fn joint_majorities_end_where_repeating_the_rule_ends() {
        // The shards' spreading function over a counter: the same holdings on every run.
        let mut drawn = 0;
        let mut random = move |below: u64| {
            drawn += 1;
            crate::prescan::mix(drawn) % below
        };
        let n = 40;
        let mut merged = 0;
        for _ in 0..300 {
            let mut holdings = BTreeMap::new();
            for _ in 0..random(80) {
                let (a, b) = (random(n) as usize, random(n) as usize);
                if a != b {
                    let votes = 5.0 + random(56) as f64;
                    holdings.insert(
                        (a, b),
                        Holding {
                            capital: None,
                            voting: Some(votes),
                            investor: false,
                            control: false,
                        },
                    );
                }
            }
            let mut expected = UnionFind::new(n as usize);
            loop {
                let mut joint: BTreeMap<(usize, usize), f64> = BTreeMap::new();
                for (&(a, b), h) in &holdings {
                    let (ga, gb) = (expected.find(a), expected.find(b));
                    if ga != gb {
                        *joint.entry((ga, b)).or_default() += h.voting();
                    }
                }
                let mut changed = false;
                for ((g, b), votes) in joint {
                    if votes > 50.0 && expected.find(g) != expected.find(b) {
                        expected.union(g, b);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            let mut found = UnionFind::new(n as usize);
            joint_majorities(n as usize, &holdings, &mut found);
            let groups =
                |sets: &mut UnionFind| (0..n as usize).map(|i| sets.find(i)).collect::<Vec<_>>();
            let expected = groups(&mut expected);
            assert_eq!(groups(&mut found), expected, "{holdings:?}");
            merged += expected.iter().enumerate().filter(|(i, g)| i != *g).count();
        }
        // Enough joint majorities to prove something.
        assert!(merged > 1_000, "{merged} enterprises joined a group");
    }
}
