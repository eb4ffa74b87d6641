//! The manifest of a rule pack (`pack.json`), as described by `schemas/pack.schema.json`.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub version: semver::Version,
    pub title: String,
    pub jurisdiction: String,
    pub effective: Effective,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub depends: Vec<Dependency>,
    /// For an overlay: the pack whose parameters this one changes.
    #[serde(default)]
    pub extends: Option<Dependency>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    #[serde(default)]
    pub scripts: Vec<String>,
    #[serde(default)]
    pub decisions: BTreeMap<String, Decision>,
    #[serde(default)]
    pub tests: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effective {
    pub from: String,
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub id: String,
    pub version: semver::VersionReq,
}

/// A typed parameter. Member-state choices are `choice_by_member_state`: `by_member_state` maps
/// a country to true or false, and `default` (true, false or null for unknown) covers the rest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    #[serde(rename = "type")]
    pub kind: String,
    pub cites: String,
    pub description: String,
    #[serde(default)]
    pub default: Value,
    #[serde(default)]
    pub by_member_state: BTreeMap<String, Value>,
}

/// A decision the host asks the pack for: a script function and the prepared facts it receives,
/// by name, in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub function: String,
    pub arguments: Vec<String>,
}

impl Parameter {
    /// The value of a member-state choice in `country`: `Some(bool)` when the pack says,
    /// `None` when the choice is unknown.
    pub fn choice_in(&self, country: &str) -> Option<bool> {
        self.by_member_state
            .get(country)
            .unwrap_or(&self.default)
            .as_bool()
    }
}
