//! The rule author's toolkit: `assay pack check`, `assay pack test`, `assay explain` and
//! `assay pack diff`. rules/README.md is the guide that goes with it.

pub mod check;
pub mod diagnostic;
pub mod diff;
pub mod explain;
pub mod test;

use crate::pack::{Pack, PackSet};
use std::path::Path;

/// The shipped packs with the pack in `dir` in place of the shipped pack of the same id (or
/// beside them, for a new pack): a pack under work is checked and tested against the packs it
/// depends on.
pub fn with_pack(dir: &Path) -> Result<(PackSet, Pack), crate::error::PackError> {
    let pack = Pack::from_dir(dir)?;
    let mut set = PackSet::shipped()?;
    set.packs.remove(&pack.manifest.id);
    set.insert(pack.clone())?;
    // A shipped overlay whose requirement the pack under work no longer meets (a new major
    // version of its base) is set aside: it is not what is being tested.
    let id = pack.manifest.id.clone();
    set.packs.retain(|other_id, other| {
        *other_id == id
            || other
                .manifest
                .depends
                .iter()
                .all(|d| d.id != id || d.version.matches(&pack.manifest.version))
    });
    Ok((set, pack))
}

/// The overlays to apply when running `pack`: itself, when it is one.
pub fn overlays_for(pack: &Pack) -> Vec<String> {
    if pack.manifest.overrides.is_empty() {
        Vec::new()
    } else {
        vec![pack.manifest.id.clone()]
    }
}

/// Every value under a key named `rule` anywhere in `value`: the rule ids an assessment shows.
pub fn rules_in(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("rule", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => rules_in(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| rules_in(v, out)),
        _ => {}
    }
}

/// The ids of a pack's rule table (`tables.rules`, a JSON object with a `rules` list of objects
/// with an `id`), when it has one.
pub fn rule_ids(pack: &Pack) -> Vec<String> {
    let Ok(table) = pack.table("rules") else {
        return Vec::new();
    };
    table
        .get("rules")
        .and_then(|r| r.as_array())
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| r.get("id").and_then(|i| i.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
