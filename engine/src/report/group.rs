//! Group pages: the ownership tree of each group in the batch, with every member's
//! classification and the figures it was sized on.
//!
//! The tree comes from the facts' `owners` (holders within the batch). The relation shown on
//! each edge follows Rec. 2003/361/EC Annex Art. 3: linked above 50 % of the higher of capital
//! and voting share (Art. 3(3)(a)) or by declared control (3(3)(b)-(d)), partner from 25 %
//! (Art. 3(2)) unless the owner is one of the investors that paragraph names. It is a reading
//! aid; the figures and size class of each member are those the group step computed.

use super::{name_of, slug, unique, Inputs, Pages};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One group: the members connected by ownership, and its page.
#[derive(Debug, Clone)]
pub struct Group {
    pub page: String,
    pub root_name: String,
    pub members: usize,
    pub member_ids: BTreeSet<String>,
    pub context: Value,
}

/// A holding within the batch, as the owned entity's facts declare it.
#[derive(Debug, Clone)]
struct Holding {
    owned: usize,
    share_pct: Option<f64>,
    voting_pct: Option<f64>,
    /// Control otherwise than by votes (Annex Art. 3(3)(b)-(d)), e.g. `board_majority`.
    control: Option<String>,
    /// The owner is an investor of Annex Art. 3(2) second subparagraph.
    investor: bool,
}

/// Holdings by owner position.
type Edges = BTreeMap<usize, Vec<Holding>>;

/// Every group of two or more organisations connected by ownership, in input order of its
/// first root.
pub(crate) fn groups(inputs: &Inputs, pages: &Pages) -> Vec<Group> {
    let all = &inputs.assessments;
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (i, a) in all.iter().enumerate() {
        if let Some(id) = a.get("id").and_then(Value::as_str) {
            position.entry(id).or_insert(i);
        }
    }

    let mut down: Edges = BTreeMap::new();
    let mut owned: HashSet<usize> = HashSet::new();
    // Ownership in both directions, to find who is connected to whom.
    let mut neighbours: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (id, &child) in &position {
        let owners = inputs.facts.get(*id).and_then(|f| f.get("owners"));
        for o in owners.and_then(Value::as_array).into_iter().flatten() {
            let Some(&owner) = o
                .get("id")
                .and_then(Value::as_str)
                .and_then(|x| position.get(x))
            else {
                continue;
            };
            let pct = |k: &str| {
                o.get(k)
                    .and_then(Value::as_f64)
                    .map(crate::facts::plain_zero)
            };
            down.entry(owner).or_default().push(Holding {
                owned: child,
                share_pct: pct("share_pct"),
                voting_pct: pct("voting_pct"),
                control: o.get("control").and_then(Value::as_str).map(String::from),
                investor: o.get("investor").is_some_and(|x| !x.is_null()),
            });
            owned.insert(child);
            neighbours.entry(owner).or_default().push(child);
            neighbours.entry(child).or_default().push(owner);
        }
    }
    for children in down.values_mut() {
        children.sort_by_key(|c| c.owned);
    }
    let components = connected(&neighbours);

    let mut used = HashSet::new();
    let mut out = Vec::new();
    for members in &components {
        let mut roots: Vec<usize> = members
            .iter()
            .copied()
            .filter(|m| !owned.contains(m))
            .collect();
        if roots.is_empty() {
            // Everyone is held by someone (a ring of holdings): start from the first in input.
            roots.push(members[0]);
        }
        let root_name = name_of(inputs, &all[roots[0]]);
        let root_id = all[roots[0]]
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("");
        let page = unique(&mut used, format!("group-{}", slug(root_id)));
        let tree: Vec<Value> = roots
            .iter()
            .map(|&r| node(inputs, pages, &down, r, None, &mut Vec::new()))
            .collect();
        let table: Vec<Value> = members.iter().map(|&m| member(inputs, pages, m)).collect();
        let member_ids = members
            .iter()
            .filter_map(|&m| all[m].get("id").and_then(Value::as_str).map(String::from))
            .collect();
        let staff: Vec<Value> = table
            .iter()
            .filter_map(|m| {
                let awu = m.pointer("/own/employees")?.as_f64()?;
                Some(json!({"label": m.get("name"), "value": awu}))
            })
            .collect();
        out.push(Group {
            context: json!({"root": root_name, "page": page, "tree": tree, "members": table,
                            "staff_chart": staff}),
            page,
            root_name,
            members: members.len(),
            member_ids,
        });
    }
    out
}

/// The groups of organisations connected by holdings, each sorted, in input order of their
/// first member (a `BTreeMap` walks positions in order).
fn connected(neighbours: &BTreeMap<usize, Vec<usize>>) -> Vec<Vec<usize>> {
    let mut seen: HashSet<usize> = HashSet::new();
    let mut out = Vec::new();
    for &start in neighbours.keys() {
        if !seen.insert(start) {
            continue;
        }
        let mut members = vec![start];
        let mut queue = vec![start];
        while let Some(i) = queue.pop() {
            for &n in neighbours.get(&i).into_iter().flatten() {
                if seen.insert(n) {
                    members.push(n);
                    queue.push(n);
                }
            }
        }
        members.sort_unstable();
        out.push(members);
    }
    out
}

/// The relation a holding makes (Rec. 2003/361/EC Annex Art. 3), by the higher of the two
/// percentages as the group step counts it.
fn relation(h: &Holding) -> String {
    let pct = h.share_pct.unwrap_or(0.0).max(h.voting_pct.unwrap_or(0.0));
    if let Some(control) = &h.control {
        format!("linked: {}", control.replace('_', " "))
    } else if pct > 50.0 {
        "linked".into()
    } else if pct >= 25.0 && h.investor {
        "not a partner: an investor of Annex Art. 3(2)".into()
    } else if pct >= 25.0 {
        "partner".into()
    } else {
        "below 25 %".into()
    }
}

/// A member and, below it, what it holds. `path` guards against rings of holdings: a member
/// already on the way down is shown once more, without its holdings.
fn node(
    inputs: &Inputs,
    pages: &Pages,
    down: &Edges,
    i: usize,
    held: Option<&Holding>,
    path: &mut Vec<usize>,
) -> Value {
    let a = &inputs.assessments[i];
    let ring = path.contains(&i);
    path.push(i);
    let children: Vec<Value> = if ring {
        vec![]
    } else {
        down.get(&i)
            .into_iter()
            .flatten()
            .map(|h| node(inputs, pages, down, h.owned, Some(h), path))
            .collect()
    };
    path.pop();
    json!({
        "id": a.get("id"),
        "name": name_of(inputs, a),
        "page": pages.organisations[i],
        "classification": a.pointer("/nis2/classification"),
        "size": a.pointer("/nis2/size"),
        "share_pct": held.and_then(|h| h.share_pct),
        "voting_pct": held.and_then(|h| h.voting_pct),
        "relation": held.map(relation),
        "ring": ring,
        "children": children,
    })
}

/// A row of the aggregation table: own figures from the facts beside those it was sized on.
fn member(inputs: &Inputs, pages: &Pages, i: usize) -> Value {
    let a = &inputs.assessments[i];
    let facts = a
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| inputs.facts.get(id));
    let own = |k: &str| facts.and_then(|f| f.get(k)).cloned().unwrap_or(Value::Null);
    json!({
        "id": a.get("id"),
        "name": name_of(inputs, a),
        "page": pages.organisations[i],
        "classification": a.pointer("/nis2/classification"),
        "errors": a.get("errors"),
        "own": {"employees": own("employees"), "annual_turnover_eur": own("annual_turnover_eur"),
                "balance_sheet_eur": own("balance_sheet_eur")},
        "size": a.pointer("/nis2/size"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(share: f64, voting: Option<f64>) -> Holding {
        Holding {
            owned: 0,
            share_pct: Some(share),
            voting_pct: voting,
            control: None,
            investor: false,
        }
    }

    #[test]
    fn relations_follow_annex_art_3() {
        // Art. 3(3)(a): a majority of the votes links, whatever the capital share.
        assert_eq!(relation(&holding(40.0, Some(51.0))), "linked");
        // Art. 3(2): 25 % up to a majority makes a partner; exactly 50 % is not a majority.
        assert_eq!(relation(&holding(50.0, None)), "partner");
        assert_eq!(relation(&holding(25.0, None)), "partner");
        assert_eq!(relation(&holding(24.9, None)), "below 25 %");
        // Art. 3(3)(b): control of the board links below a majority of the votes.
        let board = Holding {
            control: Some("board_majority".into()),
            ..holding(30.0, None)
        };
        assert_eq!(relation(&board), "linked: board majority");
        // Art. 3(2) second subparagraph: the investors it names make no partnership.
        let angel = Holding {
            investor: true,
            ..holding(40.0, None)
        };
        assert!(relation(&angel).starts_with("not a partner"));
    }
}
