//! The nis2 pack's tables, parsed once into the shapes the evaluator reads.

use crate::assessment::Ground;
use crate::error::PackError;
use crate::pack::Pack;
use serde::{de::DeserializeOwned, Deserialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Deserialize)]
pub struct EntityType {
    pub sector: String,
    pub subsector: String,
    pub entity_type: String,
    /// `I`, `II` or `none`.
    pub annex: String,
    pub cites: String,
    pub description: String,
    #[serde(default)]
    pub lex_specialis: Option<String>,
}

/// A rule a script can return: what it decides and how the output cites and says it.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    #[serde(deserialize_with = "crate::intern::de")]
    pub id: crate::intern::Kept,
    pub outcome: String,
    #[serde(deserialize_with = "crate::intern::de")]
    pub cites: crate::intern::Kept,
    #[serde(deserialize_with = "crate::intern::de")]
    pub says: crate::intern::Kept,
    #[serde(default)]
    pub note: Option<String>,
    /// The rule as a record's ground gives it, with its JSON made at load ([`Rule::grounded`]);
    /// `None` until then.
    #[serde(skip)]
    pub ground: Option<Ground>,
}

impl Rule {
    /// The rule with [`Rule::ground`] made; only while loading its pack.
    pub fn grounded(self) -> Rule {
        Rule {
            ground: Some(Ground::of_pack(self.id, self.cites, self.says)),
            ..self
        }
    }

    /// The ground this rule gives a record, its words as they stand.
    pub fn to_ground(&self) -> Ground {
        Ground::made_or_new(self.ground.as_ref(), self.id, self.cites, self.says)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Obligation {
    #[serde(deserialize_with = "crate::intern::de")]
    pub id: crate::intern::Kept,
    #[serde(deserialize_with = "crate::intern::de")]
    pub cites: crate::intern::Kept,
    #[serde(deserialize_with = "crate::intern::de")]
    pub title: crate::intern::Kept,
    #[serde(deserialize_with = "crate::intern::de")]
    pub due: crate::intern::Kept,
    pub applies_to: Vec<String>,
    #[serde(default)]
    pub suppressed_by_lex_specialis: bool,
    #[serde(default)]
    pub only_entity_types: Vec<String>,
    #[serde(default)]
    pub except_entity_types: Vec<String>,
    #[serde(default)]
    pub registry: Option<String>,
    #[serde(default)]
    pub clock_starts: Option<String>,
}

/// Reads `key` out of a pack table.
pub fn read<T: DeserializeOwned>(pack: &Pack, table: &str, key: &str) -> Result<T, PackError> {
    let mut value = pack.table(table)?;
    let part = value
        .get_mut(key)
        .map(serde_json::Value::take)
        .ok_or_else(|| PackError::Table {
            pack: pack.manifest.id.clone(),
            file: table.into(),
            line: 0,
            message: format!("the table has no `{key}`"),
        })?;
    serde_json::from_value(part).map_err(|e| PackError::Table {
        pack: pack.manifest.id.clone(),
        file: table.into(),
        line: 0,
        message: format!("`{key}`: {e}"),
    })
}

/// The vocabulary of activities: every entity type, and the sectors and subsectors they belong
/// to; and the NACE codes that describe activities, with what they suggest.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub types: Vec<EntityType>,
    pub by_type: foldhash::HashMap<String, usize>,
    pub sectors: BTreeSet<String>,
    pub subsectors: BTreeSet<String>,
    /// The pack's `nace` table and the NACE revisions codes are checked against (empty when the
    /// pack has none).
    pub nace: crate::nace::NaceTable,
}

impl Vocabulary {
    pub fn new(types: Vec<EntityType>) -> Vocabulary {
        let by_type = types
            .iter()
            .enumerate()
            .map(|(i, t)| (t.entity_type.clone(), i))
            .collect();
        let sectors = types.iter().map(|t| t.sector.clone()).collect();
        let mut subsectors: BTreeSet<String> = types.iter().map(|t| t.subsector.clone()).collect();
        subsectors.insert("other".into());
        Vocabulary {
            types,
            by_type,
            sectors,
            subsectors,
            nace: crate::nace::NaceTable::default(),
        }
    }

    pub fn get(&self, entity_type: &str) -> Option<&EntityType> {
        self.by_type.get(entity_type).map(|&i| &self.types[i])
    }
}
