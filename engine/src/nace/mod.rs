//! NACE Rev. 2 activity codes: read in the spellings registers use, and turned into the NIS2
//! entity types they suggest, with how sure the suggestion is.
//!
//! Only the Directive's Annex I point 5 and Annex II point 5(b)–(f) name NACE divisions; every
//! other link between a NACE class and an Annex entity type is a reading of sector law, and a
//! registered code is often wrong or incomplete. So a code never decides: the evaluator shows
//! the suggestions as a note, and an organisation known only by its codes stays `undetermined`
//! on `activities`, which names the question to ask.
//!
//! Spellings read: `C28.11`, `28.11`, `2811`, `C 28.11`, the group `28.1`, the division `28` or
//! `C28`, and national five- and six-digit subclasses (German WZ `28.11.1`, NACE-BEL `28.110`,
//! UK SIC `28110`, Italian ATECO `28.11.10`, French NAF `28.11Z`), which refine a NACE class
//! and are read as it; `28,11` (a comma for the dot) and `C-28.11` too.

use serde::Deserialize;

/// A NACE code, normalised: the section letter and two to four digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub section: char,
    /// `28`, `281` or `2811`.
    digits: String,
    /// Written as a national subclass, one or two digits finer than NACE.
    pub national: bool,
}

impl Code {
    /// The usual spelling: `C28`, `C28.1`, `C28.11`.
    pub fn dotted(&self) -> String {
        let d = &self.digits;
        match d.len() {
            2 => format!("{}{d}", self.section),
            _ => format!("{}{}.{}", self.section, &d[..2], &d[2..]),
        }
    }
}

/// Reads a code in any of the spellings above; `None` when it is not a NACE Rev. 2 code (or its
/// section letter contradicts its division).
pub fn normalise(raw: &str) -> Option<Code> {
    let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    // Spreadsheets in comma-decimal locales write `28,11`.
    let mut text = text.to_ascii_uppercase().replace(',', ".");
    // French NAF rév. 2 adds a letter to the NACE class: `35.13Z` is class 35.13.
    let naf = text.len() > 4
        && text.ends_with(|c: char| c.is_ascii_alphabetic())
        && text[..text.len() - 1].ends_with(|c: char| c.is_ascii_digit());
    if naf {
        text.pop();
    }
    let (letter, rest) = match text.chars().next()? {
        c if c.is_ascii_alphabetic() => (Some(c), text[1..].trim_start_matches('-')),
        _ => (None, text.as_str()),
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    // Dots, when written, stand after the division and after the class.
    let parts: Vec<&str> = rest.split('.').collect();
    let well_dotted = match parts.as_slice() {
        [_] => true,
        [d, g] => d.len() == 2 && (1..=4).contains(&g.len()),
        [d, c, n] => d.len() == 2 && c.len() == 2 && (1..=2).contains(&n.len()),
        _ => false,
    };
    if !well_dotted {
        return None;
    }
    let digits: String = parts.concat();
    let (digits, national) = match digits.len() {
        4 if naf => (digits, true),
        _ if naf => return None,
        2..=4 => (digits, false),
        5 | 6 => (digits[..4].to_string(), true),
        _ => return None,
    };
    let section = section_of(digits[..2].parse().ok()?)?;
    if letter.is_some_and(|l| l != section) {
        return None;
    }
    Some(Code {
        section,
        digits,
        national,
    })
}

/// NACE Rev. 2 sections and the divisions they hold (Regulation (EC) No 1893/2006, Annex I).
#[rustfmt::skip]
const SECTIONS: [(char, u32, u32); 21] = [
    ('A', 1, 3), ('B', 5, 9), ('C', 10, 33), ('D', 35, 35), ('E', 36, 39), ('F', 41, 43),
    ('G', 45, 47), ('H', 49, 53), ('I', 55, 56), ('J', 58, 63), ('K', 64, 66), ('L', 68, 68),
    ('M', 69, 75), ('N', 77, 82), ('O', 84, 84), ('P', 85, 85), ('Q', 86, 88), ('R', 90, 93),
    ('S', 94, 96), ('T', 97, 98), ('U', 99, 99),
];

/// The NACE Rev. 2 section of a division.
fn section_of(division: u32) -> Option<char> {
    SECTIONS
        .iter()
        .find(|(_, first, last)| (*first..=*last).contains(&division))
        .map(|(section, ..)| *section)
}

/// How sure a suggestion is (the nis2 pack's `tables/nace.json` explains each level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    Low,
    Medium,
    High,
    Explicit,
}

impl Certainty {
    pub fn as_str(self) -> &'static str {
        match self {
            Certainty::Low => "low",
            Certainty::Medium => "medium",
            Certainty::High => "high",
            Certainty::Explicit => "explicit",
        }
    }

    fn lower(self) -> Certainty {
        match self {
            Certainty::Explicit => Certainty::High,
            Certainty::High => Certainty::Medium,
            _ => Certainty::Low,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    pub code: String,
    pub entity_types: Vec<String>,
    pub certainty: Certainty,
    pub cites: String,
}

/// The pack's table of codes, read once.
#[derive(Debug, Clone, Default)]
pub struct NaceTable {
    rows: Vec<(Code, Row)>,
}

/// What one code of a record suggests.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub code: String,
    pub entity_type: String,
    pub certainty: Certainty,
    pub cites: String,
}

impl NaceTable {
    /// Builds the table; a row whose code is not a NACE code is an error naming it.
    pub fn new(rows: Vec<Row>) -> Result<NaceTable, String> {
        let rows = rows
            .into_iter()
            .map(|r| match normalise(&r.code) {
                Some(code) if !code.national => Ok((code, r)),
                _ => Err(format!("`{}` is not a NACE Rev. 2 code", r.code)),
            })
            .collect::<Result<_, _>>()?;
        Ok(NaceTable { rows })
    }

    /// Entity types named by the table, to check against the pack's vocabulary.
    pub fn entity_types(&self) -> impl Iterator<Item = &str> {
        self.rows
            .iter()
            .flat_map(|(_, r)| r.entity_types.iter().map(String::as_str))
    }

    /// The suggestions of `codes`, and the codes that could not be read. A code coarser than a
    /// row (the group `35.1` for the class `35.11`) suggests it one level less surely.
    pub fn hints(&self, codes: &[String]) -> (Vec<Hint>, Vec<String>) {
        let mut hints: Vec<Hint> = Vec::new();
        let mut unreadable = Vec::new();
        for raw in codes {
            let Some(code) = normalise(raw) else {
                unreadable.push(raw.clone());
                continue;
            };
            let dotted = code.dotted();
            for (row_code, row) in &self.rows {
                let certainty = if code.digits.starts_with(&row_code.digits) {
                    row.certainty
                } else if row_code.digits.starts_with(&code.digits) {
                    row.certainty.lower()
                } else {
                    continue;
                };
                for t in &row.entity_types {
                    match hints.iter_mut().find(|h| &h.entity_type == t) {
                        Some(h) if h.certainty >= certainty => {}
                        Some(h) => {
                            h.certainty = certainty;
                            h.code.clone_from(&dotted);
                        }
                        None => hints.push(Hint {
                            code: dotted.clone(),
                            entity_type: t.clone(),
                            certainty,
                            cites: row.cites.clone(),
                        }),
                    }
                }
            }
        }
        hints.sort_by(|a, b| {
            b.certainty
                .cmp(&a.certainty)
                .then_with(|| a.entity_type.cmp(&b.entity_type))
        });
        (hints, unreadable)
    }
}

/// The note an assessment carries about a record's codes. With no declared activities it asks
/// for them, listing what the codes suggest; with declared activities it points out a code that
/// surely suggests a type not declared.
pub fn note(table: &NaceTable, codes: &[String], declared: Option<&[String]>) -> Option<String> {
    let unreadable: Vec<&String> = codes.iter().filter(|c| normalise(c).is_none()).collect();
    let list = |hints: &[&Hint]| {
        hints
            .iter()
            .map(|h| {
                format!(
                    "{} → `{}` ({}, {})",
                    h.code,
                    h.entity_type,
                    h.certainty.as_str(),
                    h.cites
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let unreadable = if unreadable.is_empty() {
        String::new()
    } else {
        format!(
            " (not NACE Rev. 2 codes: {}; write them like `C28.11` or `28.11`)",
            unreadable
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    match declared {
        None => {
            let (hints, _) = table.hints(codes);
            let all: Vec<&Hint> = hints.iter().collect();
            let suggests = if all.is_empty() {
                "suggest no NIS2 entity type".to_string()
            } else {
                format!("suggest {}", list(&all))
            };
            Some(format!(
                "the NACE codes {suggests}{unreadable}; a code never decides alone: declare \
                 `activities` (which of these the organisation carries out, or `other`) to \
                 settle the classification"
            ))
        }
        Some(declared) => {
            // A code is pointed out only when none of the types it suggests is declared (J61.10
            // suggests both network and service providers: declaring one settles it).
            let per_code: Vec<Hint> = codes
                .iter()
                .flat_map(|c| {
                    let (hints, _) = table.hints(std::slice::from_ref(c));
                    let settled = hints.iter().any(|h| declared.contains(&h.entity_type));
                    hints
                        .into_iter()
                        .filter(move |h| !settled && h.certainty >= Certainty::High)
                })
                .collect();
            let missed: Vec<&Hint> = per_code.iter().collect();
            if missed.is_empty() && unreadable.is_empty() {
                return None;
            }
            let missed = if missed.is_empty() {
                String::new()
            } else {
                format!(
                    "the NACE codes suggest {}, not among the declared activities: check them",
                    list(&missed)
                )
            };
            Some(format!("{missed}{unreadable}").trim().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Spellings from reference/users-inputs-scaling.md §1.1 (WZ 2008, NACE-BEL, UK SIC 2007).
    #[test]
    fn usual_spellings_normalise_to_the_nace_class() {
        for raw in [
            "C28.11", "28.11", "2811", "c 28.11", "28.11.1", "28110", "28.110", "281100",
            // French NAF, a comma for the dot, a dash after the section (fresh-user run).
            "28.11Z", "2811Z", "28,11", "C-28.11",
        ] {
            assert_eq!(
                normalise(raw).map(|c| c.dotted()),
                Some("C28.11".into()),
                "{raw}"
            );
        }
        assert_eq!(normalise("C28.1").map(|c| c.dotted()), Some("C28.1".into()));
        assert_eq!(normalise("28").map(|c| c.dotted()), Some("C28".into()));
        assert_eq!(
            normalise("D35.11").map(|c| c.dotted()),
            Some("D35.11".into())
        );
        assert!(normalise("28110").is_some_and(|c| c.national));
        assert!(normalise("62.02A").is_some_and(|c| c.national && c.dotted() == "J62.02"));
    }

    #[test]
    fn codes_that_are_not_nace_are_refused() {
        // Section D is division 35 only; division 04 does not exist; `2.811` is misdotted.
        for raw in [
            "D28.11", "04.11", "2.811", "28.1.1.1", "ABC", "", "1234567", "C",
            // A NAF letter belongs after a four-digit class only.
            "28.1Z", "28Z",
        ] {
            assert_eq!(normalise(raw), None, "{raw}");
        }
    }

    fn table() -> NaceTable {
        let row = |code: &str, t: &str, c: Certainty| Row {
            code: code.into(),
            entity_types: vec![t.into()],
            certainty: c,
            cites: "Annex".into(),
        };
        NaceTable::new(vec![
            row("C28", "machinery_manufacturer", Certainty::Explicit),
            row("D35.11", "electricity_producer", Certainty::High),
        ])
        .unwrap()
    }

    #[test]
    fn a_class_inherits_its_division_and_a_group_is_less_sure() {
        let (hints, bad) = table().hints(&["2811".into(), "35.1".into(), "xx".into()]);
        assert_eq!(bad, vec!["xx".to_string()]);
        let got: Vec<(&str, Certainty)> = hints
            .iter()
            .map(|h| (h.entity_type.as_str(), h.certainty))
            .collect();
        // C28 is named by Annex II point 5(d): explicit. 35.1 is coarser than 35.11: one less.
        assert_eq!(
            got,
            vec![
                ("machinery_manufacturer", Certainty::Explicit),
                ("electricity_producer", Certainty::Medium)
            ]
        );
    }

    #[test]
    fn a_note_asks_for_activities_and_flags_an_undeclared_sure_type() {
        let t = table();
        let ask = note(&t, &["C28.11".into()], None).unwrap();
        assert!(
            ask.contains("C28.11 → `machinery_manufacturer` (explicit")
                && ask.contains("declare `activities`"),
            "{ask}"
        );
        let other = vec!["other".to_string()];
        let check = note(&t, &["C28.11".into()], Some(&other)).unwrap();
        assert!(
            check.contains("not among the declared activities"),
            "{check}"
        );
        let declared = vec!["machinery_manufacturer".to_string()];
        assert_eq!(note(&t, &["C28.11".into()], Some(&declared)), None);
    }
}
