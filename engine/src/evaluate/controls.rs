//! The controls pack: the common catalogue, the requirements of each framework and the mapping
//! between them, indexed once so that the plan does its set work on small integer sets.

use crate::error::PackError;
use crate::pack::Pack;
use foldhash::HashMap;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Control {
    #[serde(deserialize_with = "crate::intern::de")]
    pub id: crate::intern::Kept,
    #[serde(deserialize_with = "crate::intern::de")]
    pub title: crate::intern::Kept,
    pub theme: String,
    /// `iso27001`, `nis2` or `soc2`: where the control comes from.
    pub origin: String,
    /// 1 = days, 2 = weeks, 3 = months.
    pub effort: u8,
    pub target_maturity: u8,
    pub cites: String,
    /// `,"control":…,"title":…` as a record's line writes them in a plan action
    /// ([`crate::assessment::Action::head`]), made when the catalogue is loaded.
    #[serde(skip)]
    pub json_head: crate::intern::Kept,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Requirement {
    #[serde(deserialize_with = "crate::intern::de")]
    pub id: crate::intern::Kept,
    /// `nis2`, `soc2`, `iso27001` or `supplier`.
    pub framework: String,
    pub cites: String,
    pub title: String,
    /// For SOC 2 criteria: the Trust Services category.
    #[serde(default)]
    pub category: Option<String>,
    /// The id as a JSON string, made when the catalogue is loaded.
    #[serde(skip)]
    pub json: crate::intern::Kept,
}

#[derive(Debug, Clone, Deserialize)]
struct Link {
    control: String,
    requirement: String,
    #[allow(dead_code)]
    source: String,
    strength: String,
}

/// How many requirements a catalogue may hold: sets are fixed-size bit arrays, so that the
/// per-organisation set work allocates nothing.
pub const MAX_REQUIREMENTS: usize = 64 * WORDS;
const WORDS: usize = 4;

/// A set of requirement indices, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bits([u64; WORDS]);

impl Bits {
    /// The words of the set, lowest requirements first.
    pub fn words(&self) -> &[u64; WORDS] {
        &self.0
    }

    pub fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    pub fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    pub fn union_with(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
    pub fn intersect_with(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    pub fn intersects(&self, other: &Bits) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }
    /// How many indices are in both.
    pub fn and_count(&self, other: &Bits) -> usize {
        // Empty words are skipped: the build targets x86-64 without `popcnt`, where counting a
        // word's bits takes a dozen instructions, and a control's requirements mostly lie in
        // one or two words.
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| a & b)
            .filter(|w| *w != 0)
            .map(|w| w.count_ones() as usize)
            .sum()
    }
    /// Indices set in both, in order.
    pub fn and_iter<'a>(&'a self, other: &'a Bits) -> impl Iterator<Item = usize> + 'a {
        self.0
            .iter()
            .zip(&other.0)
            .enumerate()
            .flat_map(|(w, (a, b))| {
                let mut word = a & b;
                std::iter::from_fn(move || {
                    (word != 0).then(|| {
                        let bit = word.trailing_zeros() as usize;
                        word &= word - 1;
                        w * 64 + bit
                    })
                })
            })
    }
}

/// The catalogue, indexed.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub controls: Vec<Control>,
    pub control_index: HashMap<&'static str, usize>,
    pub requirements: Vec<Requirement>,
    pub requirement_index: HashMap<&'static str, usize>,
    /// Per control: the requirements it serves.
    pub serves: Vec<Bits>,
    /// Per control: the requirements it was written to meet exactly (`full` rows); a `partial`
    /// row is evidence towards a requirement, never compliance with it.
    pub fully_serves: Vec<Bits>,
    /// Per requirement: the controls mapped to it.
    pub served_by: Vec<Vec<usize>>,
    /// Controls a current ISO/IEC 27001:2022 certificate credits: the clauses and Annex A.
    pub iso_controls: Vec<usize>,
}

pub const MATURITY_MAX: u8 = 4;

impl Catalogue {
    pub fn load(pack: &Pack) -> Result<Catalogue, PackError> {
        let id = &pack.manifest.id;
        let table_error = |file: &str, message: String| PackError::Table {
            pack: id.clone(),
            file: file.into(),
            line: 0,
            message,
        };
        let parse = |name: &str| pack.table(name);
        let mut controls: Vec<Control> = serde_json::from_value(parse("catalogue")?)
            .map_err(|e| table_error("catalogue", e.to_string()))?;
        let mut requirements: Vec<Requirement> = serde_json::from_value(parse("requirements")?)
            .map_err(|e| table_error("requirements", e.to_string()))?;
        for c in &mut controls {
            c.json_head = crate::intern::json(",", &[("control", c.id), ("title", c.title)], "");
        }
        for r in &mut requirements {
            r.json = crate::intern::text(&serde_json::to_string(r.id).unwrap_or_default());
        }
        let links: Vec<Link> = serde_json::from_value(parse("mapping")?)
            .map_err(|e| table_error("mapping", e.to_string()))?;

        let mut control_index = HashMap::default();
        for (i, c) in controls.iter().enumerate() {
            if control_index.insert(c.id, i).is_some() {
                return Err(table_error(
                    "catalogue",
                    format!("control `{}` is listed twice", c.id),
                ));
            }
            if c.target_maturity > MATURITY_MAX || c.target_maturity == 0 {
                return Err(table_error(
                    "catalogue",
                    format!(
                        "control `{}`: target_maturity must be 1 to {MATURITY_MAX}",
                        c.id
                    ),
                ));
            }
            if !(1..=3).contains(&c.effort) {
                return Err(table_error(
                    "catalogue",
                    format!(
                        "control `{}`: effort must be 1 (days), 2 (weeks) or 3 (months)",
                        c.id
                    ),
                ));
            }
        }
        if requirements.len() > MAX_REQUIREMENTS {
            return Err(table_error(
                "requirements",
                format!(
                    "{} requirements; the catalogue holds at most {MAX_REQUIREMENTS}",
                    requirements.len()
                ),
            ));
        }
        let mut requirement_index = HashMap::default();
        for (i, r) in requirements.iter().enumerate() {
            if requirement_index.insert(r.id, i).is_some() {
                return Err(table_error(
                    "requirements",
                    format!("requirement `{}` is listed twice", r.id),
                ));
            }
        }
        let mut serves = vec![Bits::default(); controls.len()];
        let mut fully_serves = vec![Bits::default(); controls.len()];
        let mut served_by = vec![Vec::new(); requirements.len()];
        for l in &links {
            let c = *control_index.get(l.control.as_str()).ok_or_else(|| {
                table_error(
                    "mapping",
                    format!(
                        "row names control `{}`, which the catalogue lacks",
                        l.control
                    ),
                )
            })?;
            let r = *requirement_index
                .get(l.requirement.as_str())
                .ok_or_else(|| {
                    table_error(
                        "mapping",
                        format!(
                            "row names requirement `{}`, which requirements.json lacks",
                            l.requirement
                        ),
                    )
                })?;
            if !matches!(l.strength.as_str(), "full" | "partial") {
                return Err(table_error(
                    "mapping",
                    format!(
                        "row {} -> {}: strength must be `full` or `partial`",
                        l.control, l.requirement
                    ),
                ));
            }
            if l.strength == "full" {
                fully_serves[c].set(r);
            }
            if !serves[c].get(r) {
                serves[c].set(r);
                served_by[r].push(c);
            }
        }
        let iso_controls = controls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.origin == "iso27001")
            .map(|(i, _)| i)
            .collect();
        Ok(Catalogue {
            controls,
            control_index,
            requirements,
            requirement_index,
            serves,
            fully_serves,
            served_by,
            iso_controls,
        })
    }

    /// The requirements of one framework, optionally only those of some SOC 2 categories.
    pub fn framework(&self, framework: &str, categories: Option<&[&str]>) -> Bits {
        let mut bits = Bits::default();
        for (i, r) in self.requirements.iter().enumerate() {
            let in_category = match (categories, &r.category) {
                (Some(cats), Some(c)) => cats.contains(&c.as_str()),
                (Some(_), None) => false,
                (None, _) => true,
            };
            if r.framework == framework && in_category {
                bits.set(i);
            }
        }
        bits
    }
}
