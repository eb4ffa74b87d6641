//! The two NACE revisions a register may use, as lists of the codes that exist, so that a code
//! of the right shape that exists in neither is reported instead of suggesting nothing.
//!
//! NACE Rev. 2 (Regulation (EC) No 1893/2006, Annex I) is the revision the Directive names; NACE
//! Rev. 2.1 (Delegated Regulation (EU) 2023/137) replaced it in EU statistics from 2025, and
//! registers are moving to it. Most classes keep their code and meaning, but some divisions were
//! restructured: `62.20` exists only in Rev. 2.1, `62.01` only in Rev. 2, and `35.12` exists in
//! both with different meanings (transmission of electricity in Rev. 2, production from
//! renewable sources in Rev. 2.1). So a code is looked up in both, and a code found in both is
//! read both ways (see [`super::NaceTable::readings`]).
//!
//! The lists are pack tables (`nace_rev2`, `nace_rev2_1`), read once when the pack loads; each
//! declares the counts of its legal act, and loading checks them, so a truncated or mistyped
//! list stops the run instead of reporting real codes as unknown.

use serde::Deserialize;
use std::collections::BTreeMap;

/// A revision of NACE; a row of the pack's `nace` table belongs to one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Revision {
    #[default]
    #[serde(rename = "2")]
    Rev2,
    #[serde(rename = "2.1")]
    Rev21,
}

impl Revision {
    pub fn name(self) -> &'static str {
        match self {
            Revision::Rev2 => "NACE Rev. 2",
            Revision::Rev21 => "NACE Rev. 2.1",
        }
    }

    /// `Rev. 2`, for lists that already said NACE.
    pub fn short(self) -> &'static str {
        match self {
            Revision::Rev2 => "Rev. 2",
            Revision::Rev21 => "Rev. 2.1",
        }
    }
}

/// A pack table listing one revision.
#[derive(Debug, Deserialize)]
struct Table {
    counts: Counts,
    sections: Vec<Section>,
    classes: Vec<String>,
    #[serde(default)]
    titles: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Counts {
    sections: usize,
    divisions: usize,
    groups: usize,
    classes: usize,
}

#[derive(Debug, Deserialize)]
struct Section {
    section: char,
    /// First and last division.
    divisions: [String; 2],
}

/// One revision's codes, indexed for the per-record checks.
#[derive(Debug, Clone)]
pub struct Classification {
    pub revision: Revision,
    /// Section letter and its first and last division.
    sections: Vec<(char, u32, u32)>,
    /// Every division, group and class, as digits: `62`, `620`, `6201`.
    codes: foldhash::HashSet<String>,
    /// Class titles by digits, where the table gives them.
    titles: foldhash::HashMap<String, String>,
}

impl Classification {
    /// Reads a revision's table and checks it against the counts it declares.
    pub fn from_table(revision: Revision, value: serde_json::Value) -> Result<Self, String> {
        let table: Table = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let mut sections = Vec::with_capacity(table.sections.len());
        for s in &table.sections {
            let [first, last] = &s.divisions;
            match (first.parse(), last.parse()) {
                (Ok(a), Ok(b)) if a <= b => sections.push((s.section, a, b)),
                _ => {
                    return Err(format!(
                        "section {}: `{first}`-`{last}` is no range",
                        s.section
                    ))
                }
            }
        }
        let mut codes = foldhash::HashSet::default();
        let (mut divisions, mut groups) = (Vec::new(), Vec::new());
        for class in &table.classes {
            let digits = class.replace('.', "");
            let well_formed = class.len() == 5
                && class.as_bytes()[2] == b'.'
                && digits.len() == 4
                && digits.bytes().all(|b| b.is_ascii_digit());
            if !well_formed {
                return Err(format!("`{class}` is not a class code like `62.01`"));
            }
            let division: u32 = digits[..2].parse().unwrap_or(0);
            if !sections
                .iter()
                .any(|(_, a, b)| (*a..=*b).contains(&division))
            {
                return Err(format!("class `{class}` is in no section"));
            }
            divisions.push(digits[..2].to_string());
            groups.push(digits[..3].to_string());
            if !codes.insert(digits) {
                return Err(format!("class `{class}` is listed twice"));
            }
        }
        divisions.sort();
        divisions.dedup();
        groups.sort();
        groups.dedup();
        let found = Counts {
            sections: sections.len(),
            divisions: divisions.len(),
            groups: groups.len(),
            classes: codes.len(),
        };
        if found != table.counts {
            return Err(format!(
                "{} lists {} sections, {} divisions, {} groups and {} classes, but its legal \
                 act has {} sections, {} divisions, {} groups and {} classes",
                revision.name(),
                found.sections,
                found.divisions,
                found.groups,
                found.classes,
                table.counts.sections,
                table.counts.divisions,
                table.counts.groups,
                table.counts.classes
            ));
        }
        codes.extend(divisions);
        codes.extend(groups);
        let titles = table
            .titles
            .into_iter()
            .map(|(code, title)| (code.replace('.', ""), title))
            .collect();
        Ok(Classification {
            revision,
            sections,
            codes,
            titles,
        })
    }

    /// The section letter of a division, when the revision has the division.
    pub fn section_of(&self, division: u32) -> Option<char> {
        self.sections
            .iter()
            .find(|(_, first, last)| (*first..=*last).contains(&division))
            .map(|(section, ..)| *section)
    }

    /// Whether `digits` (`62`, `620` or `6201`) is a division, group or class, and `letter`,
    /// when written, is its section.
    pub fn has(&self, letter: Option<char>, digits: &str) -> bool {
        let section = digits.get(..2).and_then(|d| d.parse().ok());
        let section = section.and_then(|d| self.section_of(d));
        self.codes.contains(digits) && letter.is_none_or(|l| Some(l) == section)
    }

    pub fn title(&self, digits: &str) -> Option<&str> {
        self.titles.get(digits).map(String::as_str)
    }

    /// Codes of the same level as `digits`, nearest first: the rest of its group or division
    /// when the revision has them, else codes one typo away.
    fn near(&self, digits: &str) -> Vec<String> {
        let level = digits.len();
        let same_level = self.codes.iter().filter(|c| c.len() == level);
        let parent = (2..level)
            .rev()
            .map(|n| &digits[..n])
            .find(|p| self.codes.contains(*p));
        let mut near: Vec<&String> = match parent {
            Some(p) => same_level.filter(|c| c.starts_with(p)).collect(),
            None => same_level
                .filter(|c| strsim::osa_distance(c, digits) == 1)
                .collect(),
        };
        let number = |d: &str| d.parse::<i64>().unwrap_or(0);
        near.sort_by_key(|c| ((number(c) - number(digits)).abs(), number(c)));
        near.into_iter().take(3).cloned().collect()
    }
}

/// What to suggest for a code no revision has: the same digits under the right section letter,
/// or the nearest codes of each revision, each with the revisions that have it.
pub fn did_you_mean(
    classifications: &[Classification],
    letter: Option<char>,
    digits: &str,
) -> Vec<(String, Vec<Revision>)> {
    fn add(out: &mut Vec<(String, Vec<Revision>)>, code: String, revision: Revision) {
        match out.iter_mut().find(|(c, _)| *c == code) {
            Some((_, revisions)) => revisions.push(revision),
            None => out.push((code, vec![revision])),
        }
    }
    let mut out: Vec<(String, Vec<Revision>)> = Vec::new();
    if letter.is_some() {
        // Only the letter is wrong: `D28.11` for `C28.11`.
        for c in classifications.iter().filter(|c| c.has(None, digits)) {
            if let Some(section) = digits[..2].parse().ok().and_then(|d| c.section_of(d)) {
                add(&mut out, format!("{section}{}", dotted(digits)), c.revision);
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    for c in classifications {
        for near in c.near(digits) {
            add(&mut out, dotted(&near), c.revision);
        }
    }
    let number = |code: &str| code.replace('.', "").parse::<i64>().unwrap_or(0);
    let target = number(digits);
    out.sort_by_key(|(code, _)| ((number(code) - target).abs(), number(code)));
    out.truncate(3);
    out
}

/// `6201` → `62.01`; `62` stays.
pub fn dotted(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + 1);
    push_dotted(&mut out, digits);
    out
}

/// [`dotted`], appended to `out`.
pub fn push_dotted(out: &mut String, digits: &str) {
    match digits.split_at_checked(2) {
        Some((division, rest)) if !rest.is_empty() => {
            out.push_str(division);
            out.push('.');
            out.push_str(rest);
        }
        _ => out.push_str(digits),
    }
}
