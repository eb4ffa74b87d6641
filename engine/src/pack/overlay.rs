//! Dependencies between packs and overlays.
//!
//! A pack names the packs it builds on in `depends`, each with a semver requirement. An overlay
//! is a pack that depends on another and changes its parameters with `overrides`: a national
//! overlay such as `nis2-be` says what one member state chose where the directive leaves a
//! choice. An overlay changes parameters only, never scripts, so its effect is visible in one
//! file; the assessment names the base pack and the overlay, each with its own hash.

use super::{Pack, PackSet};
use crate::error::PackError;

/// Checks that every dependency of every pack in the set is there, in a version that meets the
/// requirement.
pub fn check_dependencies(packs: &PackSet) -> Result<(), PackError> {
    for pack in packs.packs.values() {
        for dep in &pack.manifest.depends {
            let found = packs.get(&dep.id).ok_or_else(|| PackError::Manifest {
                pack: pack.manifest.id.clone(),
                message: format!(
                    "depends on pack `{}` ({}), which is not loaded{}",
                    dep.id,
                    dep.version,
                    crate::validate::did_you_mean(&dep.id, packs.packs.keys().map(String::as_str))
                        .map(|m| format!("; did you mean `{m}`?"))
                        .unwrap_or_default()
                ),
            })?;
            if !dep.version.matches(&found.manifest.version) {
                return Err(PackError::Manifest {
                    pack: pack.manifest.id.clone(),
                    message: format!(
                        "depends on `{}` {}, but version {} is loaded",
                        dep.id, dep.version, found.manifest.version
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The packs of a run with the overlays named by `overlays` applied, in the order given. Each
/// base pack an overlay depends on gets the overlay's overrides; the result also lists, per base
/// pack, the overlays applied to it (for the `packs` field of every assessment).
pub fn apply(packs: &PackSet, overlays: &[String]) -> Result<Applied, PackError> {
    check_dependencies(packs)?;
    let mut effective = packs.clone();
    let mut applied: Vec<(String, String)> = Vec::new();
    for name in overlays {
        let overlay = packs
            .get(name)
            .ok_or_else(|| unknown_overlay(packs, name))?;
        if overlay.manifest.depends.is_empty() {
            return Err(PackError::Manifest {
                pack: name.clone(),
                message: "is not an overlay: it depends on no pack (an overlay names its base \
                          under \"depends\" and changes its parameters under \"overrides\")"
                    .into(),
            });
        }
        for (param, value) in &overlay.manifest.overrides {
            apply_one(&mut effective, overlay, param, value)?;
        }
        for dep in &overlay.manifest.depends {
            applied.push((dep.id.clone(), name.clone()));
        }
    }
    Ok(Applied {
        packs: effective,
        overlays: applied,
    })
}

/// `--overlay` named no loaded pack. The message lists the overlays there are rather than the
/// closest pack id: `nis2-fr` is close to `nis2` and to `nis2-be`, and neither is France's.
fn unknown_overlay(packs: &PackSet, name: &str) -> PackError {
    let overlays: Vec<String> = packs
        .packs
        .values()
        .filter(|p| !p.manifest.overrides.is_empty())
        .map(|p| format!("`{}`", p.manifest.id))
        .collect();
    let loaded = match overlays.as_slice() {
        [] => "no overlay pack is loaded".to_string(),
        [one] => format!("the only overlay loaded is {one}"),
        many => format!("the overlays loaded are {}", many.join(", ")),
    };
    PackError::Manifest {
        pack: name.to_string(),
        message: format!(
            "no overlay with this id is loaded; {loaded}. To write one, see \"Overlays\" in \
             rules/README.md: copy `rules/` to a folder, add a pack `{name}` that depends on \
             its base pack and overrides its parameters, and pass the folder with `--packs`"
        ),
    }
}

/// The outcome of [`apply`].
#[derive(Debug, Clone)]
pub struct Applied {
    /// The packs with overrides applied (their files, and so their hashes, are unchanged).
    pub packs: PackSet,
    /// (base pack, overlay) pairs, in the order applied.
    pub overlays: Vec<(String, String)>,
}

impl Applied {
    /// The overlays applied to `base`, in order.
    pub fn overlays_of<'a>(&'a self, base: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.overlays
            .iter()
            .filter(move |(b, _)| b == base)
            .map(|(_, o)| o.as_str())
    }
}

/// Applies one override to the first dependency that declares the parameter. A parameter no
/// dependency declares may be declared by the overlay itself (for a parameter its base does not
/// have yet); it is then added to the base with the overridden value.
fn apply_one(
    effective: &mut PackSet,
    overlay: &Pack,
    param: &str,
    value: &serde_json::Value,
) -> Result<(), PackError> {
    let error = |message: String| PackError::Manifest {
        pack: overlay.manifest.id.clone(),
        message,
    };
    for dep in &overlay.manifest.depends {
        let Some(base) = effective.packs.get_mut(&dep.id) else {
            continue;
        };
        if let Some(parameter) = base.manifest.parameters.get_mut(param) {
            return parameter
                .apply_override(value)
                .map_err(|e| error(format!("override `{param}` of `{}`: {e}", dep.id)));
        }
    }
    if let Some(own) = overlay.manifest.parameters.get(param) {
        let mut declared = own.clone();
        declared
            .apply_override(value)
            .map_err(|e| error(format!("override `{param}`: {e}")))?;
        let base_id = &overlay.manifest.depends[0].id;
        if let Some(base) = effective.packs.get_mut(base_id) {
            base.manifest.parameters.insert(param.to_string(), declared);
        }
        return Ok(());
    }
    let known: Vec<&str> = overlay
        .manifest
        .depends
        .iter()
        .filter_map(|d| effective.get(&d.id))
        .flat_map(|p| p.manifest.parameters.keys().map(String::as_str))
        .collect();
    Err(error(format!(
        "overrides `{param}`, which no pack it depends on declares{}",
        crate::validate::did_you_mean(param, known.into_iter())
            .map(|m| format!("; did you mean `{m}`?"))
            .unwrap_or_default()
    )))
}
