//! `assay pack diff OLD NEW --on PORTFOLIO`: which organisations change outcome between two
//! versions of a pack, from what to what, and which rules made the difference.

use crate::assessment::Assessment;
use crate::evaluate::Evaluator;
use crate::pack::Pack;
use crate::read::Format;
use crate::validate::Validator;
use std::path::Path;

/// One organisation whose outcome changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    pub id: String,
    pub line: usize,
    pub from: String,
    pub to: String,
    /// Rules that decided under OLD only.
    pub rules_removed: Vec<String>,
    /// Rules that decided under NEW only.
    pub rules_added: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Diff {
    pub old: crate::assessment::PackRef,
    pub new: crate::assessment::PackRef,
    pub assessed: usize,
    pub changes: Vec<Change>,
}

/// Assesses `text` with each version of the pack (the other shipped packs unchanged) and lists
/// the organisations whose outcome differs.
pub fn diff(
    old: &Path,
    new: &Path,
    text: &str,
    format: Format,
    as_of: &str,
) -> Result<Diff, String> {
    // Each version with the other shipped packs; an overlay is applied to its base.
    let load = |dir: &Path| -> Result<(Evaluator, Pack), String> {
        let (set, pack) = super::with_pack(dir).map_err(|e| e.to_string())?;
        let evaluator = Evaluator::with_overlays(set, &super::overlays_for(&pack))
            .map_err(|e| e.to_string())?;
        Ok((evaluator, pack))
    };
    let (old_eval, old_pack) = load(old)?;
    let (new_eval, new_pack) = load(new)?;
    if old_pack.manifest.id != new_pack.manifest.id {
        return Err(format!(
            "OLD is pack `{}` and NEW is pack `{}`: compare two versions of one pack",
            old_pack.manifest.id, new_pack.manifest.id
        ));
    }
    let validator = Validator::new();
    let before = crate::pipeline::assess_text(text, format, &old_eval, &validator, as_of);
    let after = crate::pipeline::assess_text(text, format, &new_eval, &validator, as_of);
    let changes = before
        .iter()
        .zip(&after)
        .filter_map(|(a, b)| {
            let (from, to) = (outcome(a), outcome(b));
            if from == to {
                return None;
            }
            let (ra, rb) = (rules(a), rules(b));
            Some(Change {
                id: a.id.as_deref().unwrap_or_default().to_string(),
                line: a.line,
                from,
                to,
                rules_removed: ra.iter().filter(|r| !rb.contains(r)).cloned().collect(),
                rules_added: rb.iter().filter(|r| !ra.contains(r)).cloned().collect(),
            })
        })
        .collect();
    Ok(Diff {
        old: crate::evaluate::pack_ref(&old_pack),
        new: crate::evaluate::pack_ref(&new_pack),
        assessed: before.len(),
        changes,
    })
}

/// The outcome of an assessment: the classification, or `error` when it could not be made.
fn outcome(a: &Assessment) -> String {
    match &a.nis2 {
        Some(n) => n.classification.as_str().to_string(),
        None => "error".into(),
    }
}

fn rules(a: &Assessment) -> Vec<String> {
    let mut out = Vec::new();
    super::rules_in(&serde_json::to_value(a).unwrap_or_default(), &mut out);
    out
}

impl Diff {
    /// The report printed by the command.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} {} ({}…) → {} ({}…) on {} organisations: {} change outcome\n",
            self.old.id,
            self.old.version,
            &self.old.sha256[..12],
            self.new.version,
            &self.new.sha256[..12],
            self.assessed,
            self.changes.len()
        );
        for c in &self.changes {
            let mut rules: Vec<String> = c.rules_removed.iter().map(|r| format!("-{r}")).collect();
            rules.extend(c.rules_added.iter().map(|r| format!("+{r}")));
            out.push_str(&format!(
                "  {} (line {}): {} → {}   {}\n",
                c.id,
                c.line,
                c.from,
                c.to,
                rules.join(" ")
            ));
        }
        out
    }
}
