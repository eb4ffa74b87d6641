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
    /// For an overlay: new values for parameters of the packs it depends on.
    #[serde(default)]
    pub overrides: BTreeMap<String, Value>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    #[serde(default)]
    pub scripts: Vec<String>,
    #[serde(default)]
    pub decisions: BTreeMap<String, Decision>,
    /// The schema the file names for editors; not used.
    #[serde(default, rename = "$schema")]
    pub schema: Option<String>,
    /// A note for readers of the file; not used.
    #[serde(default, rename = "$comment")]
    pub comment: Option<String>,
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
    /// Checks the value of a parameter against its type; `Err` says what is wrong and what would
    /// be right. The manifest schema says the same; this check guards overrides and packs built
    /// in code.
    pub fn check_value(&self, value: &Value) -> Result<(), String> {
        let ok = match self.kind.as_str() {
            "choice_by_member_state" => value.is_boolean() || value.is_null(),
            "boolean" => value.is_boolean(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "months" => value.as_u64().is_some(),
            "phases" => value
                .as_object()
                .is_some_and(|m| !m.is_empty() && m.values().all(|v| v.as_u64().is_some())),
            "capacity" => {
                value.get("weeks_per_phase").is_some_and(Value::is_number)
                    && value
                        .get("effort_weeks")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().all(Value::is_number))
            }
            "fine" => {
                value.get("amount_eur").is_some_and(Value::is_number)
                    && value.get("turnover_pct").is_some_and(Value::is_number)
            }
            other => return Err(format!("parameter type `{other}` is not one of boolean, number, string, months, phases, capacity, choice_by_member_state, fine")),
        };
        if ok {
            return Ok(());
        }
        Err(match self.kind.as_str() {
            "choice_by_member_state" => format!(
                "`{value}` is not a member-state choice: write true, false, or null when the \
                 member state's choice is not known"
            ),
            "fine" => {
                format!("`{value}` is not a fine: write {{\"amount_eur\": …, \"turnover_pct\": …}}")
            }
            kind => format!("`{value}` is not a {kind}"),
        })
    }

    /// Every value of the parameter, with where it is: `default` or `by_member_state/XX`.
    pub fn check(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if let Err(e) = self.check_value(&self.default) {
            problems.push(("default".to_string(), e));
        }
        for (country, value) in &self.by_member_state {
            if self.kind != "choice_by_member_state" {
                problems.push((
                    format!("by_member_state/{country}"),
                    format!(
                        "only choice_by_member_state parameters vary by member state, not `{}`",
                        self.kind
                    ),
                ));
            } else if let Err(e) = self.check_value(value) {
                problems.push((format!("by_member_state/{country}"), e));
            }
        }
        problems
    }

    /// Applies an overlay's override: for a member-state choice, an object of country → value
    /// merged into `by_member_state`; for any other type, the new default.
    pub fn apply_override(&mut self, value: &Value) -> Result<(), String> {
        if self.kind == "choice_by_member_state" {
            let Some(map) = value.as_object() else {
                return Err(format!(
                    "`{value}`: a choice_by_member_state override is an object of country codes \
                     to true, false or null, e.g. {{\"BE\": true}}"
                ));
            };
            for (country, v) in map {
                self.check_value(v).map_err(|e| format!("{country}: {e}"))?;
                self.by_member_state.insert(country.clone(), v.clone());
            }
            return Ok(());
        }
        self.check_value(value)?;
        self.default = value.clone();
        Ok(())
    }

    /// The value of a member-state choice in `country`: `Some(bool)` when the pack says,
    /// `None` when the choice is unknown.
    pub fn choice_in(&self, country: &str) -> Option<bool> {
        self.by_member_state
            .get(country)
            .unwrap_or(&self.default)
            .as_bool()
    }
}
