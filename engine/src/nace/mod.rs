//! NACE activity codes: read in the spellings registers use, checked against NACE Rev. 2 and
//! Rev. 2.1, and turned into the NIS2 entity types they suggest, with how sure the suggestion is.
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
//!
//! A code of that shape that neither revision has (`99.99`) is a record error, raised by
//! validation with the nearest codes ([`NaceTable::unknown`]). A code that only Rev. 2.1 has
//! (`62.20`) is read as Rev. 2.1, and suggests from the table's Rev. 2.1 rows. A code both
//! revisions have is read both ways ([`NaceTable::readings`]); where the two readings suggest
//! different entity types (`35.12`: transmission of electricity in Rev. 2, production in Rev.
//! 2.1) the code is ambiguous: both are shown, one level less surely, and the note asks which
//! revision the register uses. A section letter settles the revision where the divisions moved
//! section (`J61.20` is Rev. 2, `K61.20` Rev. 2.1).

mod classification;

pub use classification::{Classification, Revision};
use compact_str::CompactString;
use serde::Deserialize;

/// A NACE code, normalised: the section letter and two to four digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub section: char,
    /// `28`, `281` or `2811`.
    digits: CompactString,
    /// Written as a national subclass, one or two digits finer than NACE.
    pub national: bool,
}

impl Code {
    /// The usual spelling: `C28`, `C28.1`, `C28.11`.
    pub fn dotted(&self) -> String {
        let mut out = String::with_capacity(self.digits.len() + 2);
        out.push(self.section);
        classification::push_dotted(&mut out, &self.digits);
        out
    }
}

/// A code as written, before it is looked up: its section letter if written, and its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Written {
    letter: Option<char>,
    digits: CompactString,
    national: bool,
}

/// Reads a code in any of the spellings above; `None` when it is not a NACE code (or its
/// section letter contradicts its division in both revisions).
pub fn normalise(raw: &str) -> Option<Code> {
    let written = parse(raw)?;
    let division: u32 = written.digits[..2].parse().ok()?;
    let sections = [
        section_of(&SECTIONS, division),
        section_of(&SECTIONS_2_1, division),
    ];
    let section = match written.letter {
        Some(l) if sections.contains(&Some(l)) => l,
        Some(_) => return None,
        None => sections.into_iter().flatten().next()?,
    };
    Some(Code {
        section,
        digits: written.digits,
        national: written.national,
    })
}

/// The shape of a NACE code, without asking whether it exists. Validation reads every code of
/// every record, so the code is taken apart on the stack, byte by byte: every character that
/// can be in a code is ASCII, and any other makes the text no code.
fn parse(raw: &str) -> Option<Written> {
    let text = cleaned(raw);
    let mut text = text.as_bytes();
    // French NAF rév. 2 adds a letter to the NACE class: `35.13Z` is class 35.13.
    let naf = text.len() > 4
        && text[text.len() - 1].is_ascii_alphabetic()
        && text[text.len() - 2].is_ascii_digit();
    if naf {
        text = &text[..text.len() - 1];
    }
    let (letter, rest) = match *text.first()? {
        c if c.is_ascii_alphabetic() => {
            let mut rest = &text[1..];
            while let [b'-', after @ ..] = rest {
                rest = after;
            }
            (Some(char::from(c)), rest)
        }
        _ => (None, text),
    };
    // The longest code is a national subclass written `28.11.10`.
    if rest.is_empty() || rest.len() > 8 || !rest.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let mut parts = rest.split(|&b| b == b'.');
    let division = parts.next()?;
    let (second, third) = (parts.next(), parts.next());
    if parts.next().is_some() {
        return None;
    }
    // A spreadsheet cell formatted as a number loses the division's leading zero (`01.11` is
    // stored as 1.11). No division has one digit, so a group or class written `1.1` or `1.11`
    // can only be `01.1` or `01.11`.
    let padded = division.len() == 1
        && third.is_none()
        && second.is_some_and(|g| (1..=2).contains(&g.len()));
    let division_digits = division.len() + usize::from(padded);
    // Dots, when written, stand after the division and after the class.
    let well_dotted = match (second, third) {
        (None, _) => true,
        (Some(g), None) => division_digits == 2 && (1..=4).contains(&g.len()),
        (Some(c), Some(n)) => division_digits == 2 && c.len() == 2 && (1..=2).contains(&n.len()),
    };
    if !well_dotted {
        return None;
    }
    let mut digits = [b'0'; 8];
    let mut n = usize::from(padded);
    for part in [Some(division), second, third].into_iter().flatten() {
        digits[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    let (n, national) = match n {
        4 if naf => (4, true),
        _ if naf => return None,
        2..=4 => (n, false),
        5 | 6 => (4, true),
        _ => return None,
    };
    Some(Written {
        letter,
        digits: CompactString::from(std::str::from_utf8(&digits[..n]).ok()?),
        national,
    })
}

/// A code without spaces, in capitals, and with the comma of comma-decimal spreadsheets
/// (`28,11`) read as the dot: one pass, as validation reads every code of every record. Codes
/// are short: the text, its parts and its digits are kept inline, without an allocation, and a
/// short ASCII code is put together on the stack and appended at once (a compact string checks
/// where it keeps its text on every push).
fn cleaned(raw: &str) -> CompactString {
    let clean = |c: char| {
        if c == ',' {
            '.'
        } else {
            c.to_ascii_uppercase()
        }
    };
    let mut text = CompactString::with_capacity(raw.len());
    let mut ascii = [0u8; 32];
    if raw.is_ascii() && raw.len() <= ascii.len() {
        let mut n = 0;
        // `char::is_whitespace`, as below: vertical tab included.
        for b in raw.bytes().filter(|&b| !char::from(b).is_whitespace()) {
            ascii[n] = clean(char::from(b)) as u8;
            n += 1;
        }
        text.push_str(std::str::from_utf8(&ascii[..n]).unwrap_or_default());
    } else {
        for c in raw.chars().filter(|c| !c.is_whitespace()) {
            text.push(clean(c));
        }
    }
    text
}

/// NACE Rev. 2 sections and the divisions they hold (Regulation (EC) No 1893/2006, Annex I).
/// The pack's `nace_rev2` table lists them too, and loading checks that the two agree.
#[rustfmt::skip]
const SECTIONS: [(char, u32, u32); 21] = [
    ('A', 1, 3), ('B', 5, 9), ('C', 10, 33), ('D', 35, 35), ('E', 36, 39), ('F', 41, 43),
    ('G', 45, 47), ('H', 49, 53), ('I', 55, 56), ('J', 58, 63), ('K', 64, 66), ('L', 68, 68),
    ('M', 69, 75), ('N', 77, 82), ('O', 84, 84), ('P', 85, 85), ('Q', 86, 88), ('R', 90, 93),
    ('S', 94, 96), ('T', 97, 98), ('U', 99, 99),
];

/// NACE Rev. 2.1 sections (Delegated Regulation (EU) 2023/137, Annex): section G lost division
/// 45, and a new section K (telecommunication, programming, computing infrastructure) moved
/// every later section one letter on.
#[rustfmt::skip]
const SECTIONS_2_1: [(char, u32, u32); 22] = [
    ('A', 1, 3), ('B', 5, 9), ('C', 10, 33), ('D', 35, 35), ('E', 36, 39), ('F', 41, 43),
    ('G', 46, 47), ('H', 49, 53), ('I', 55, 56), ('J', 58, 60), ('K', 61, 63), ('L', 64, 66),
    ('M', 68, 68), ('N', 69, 75), ('O', 77, 82), ('P', 84, 84), ('Q', 85, 85), ('R', 86, 88),
    ('S', 90, 93), ('T', 94, 96), ('U', 97, 98), ('V', 99, 99),
];

/// The section of a division in one revision's table of sections.
fn section_of(sections: &[(char, u32, u32)], division: u32) -> Option<char> {
    sections
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

/// A row of the pack's table, with the NACE revision of its code (Rev. 2 when not written).
#[derive(Debug, Clone, Deserialize)]
pub struct TableRow {
    #[serde(flatten)]
    pub row: Row,
    #[serde(default)]
    pub revision: Revision,
}

/// The pack's table of codes, and the revisions codes are checked against, read once.
#[derive(Debug, Clone, Default)]
pub struct NaceTable {
    rows: Vec<(Code, Revision, Row)>,
    /// Positions in `rows` by revision (Rev. 2, then Rev. 2.1) and code digits, so that a
    /// reading finds its rows without going through all of them.
    by_digits: [std::collections::BTreeMap<String, Vec<usize>>; 2],
    /// Rev. 2 and Rev. 2.1 when the pack lists them; without them every readable code is read
    /// as Rev. 2 and none is unknown.
    classifications: Vec<Classification>,
}

/// What one code of a record suggests.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub code: String,
    pub entity_type: String,
    pub certainty: Certainty,
    pub cites: String,
}

/// A code read in one revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub revision: Revision,
    pub code: Code,
}

/// What a written code is.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Not the shape of a NACE code.
    Unreadable,
    /// The shape of one, but no revision has it.
    Unknown,
    /// One reading per revision that has it: Rev. 2 first.
    Known(Vec<Reading>),
}

/// A code both revisions have, whose readings suggest different entity types.
#[derive(Debug, Clone, PartialEq)]
struct Ambiguous {
    code: String,
    /// The Rev. 2.1 title, where the table gives it.
    title_2_1: Option<String>,
}

impl Ambiguous {
    /// What is ambiguous about the code, to be followed by the question.
    fn says(&self) -> String {
        let meaning = self
            .title_2_1
            .as_ref()
            .map(|t| format!(" (in Rev. 2.1: {t})"))
            .unwrap_or_default();
        format!(
            "`{}` is a code of both NACE Rev. 2 and NACE Rev. 2.1 with different \
             activities{meaning}",
            self.code
        )
    }
}

impl NaceTable {
    /// Builds the table; a row whose code is not a NACE code is an error naming it.
    pub fn new(rows: Vec<Row>) -> Result<NaceTable, String> {
        let rows = rows.into_iter().map(|row| TableRow {
            row,
            revision: Revision::Rev2,
        });
        NaceTable::with_classifications(rows.collect(), Vec::new())
    }

    /// Builds the table with the revisions to check codes against: every row's code must be a
    /// division, group or class of its row's revision.
    pub fn with_classifications(
        rows: Vec<TableRow>,
        classifications: Vec<Classification>,
    ) -> Result<NaceTable, String> {
        for c in &classifications {
            let built_in: &[(char, u32, u32)] = match c.revision {
                Revision::Rev2 => &SECTIONS,
                Revision::Rev21 => &SECTIONS_2_1,
            };
            let agrees = (1..=99).all(|d| c.section_of(d) == section_of(built_in, d));
            if !agrees {
                return Err(format!(
                    "the sections of {} differ from those the engine reads codes with",
                    c.revision.name()
                ));
            }
        }
        let mut table = NaceTable {
            rows: Vec::with_capacity(rows.len()),
            by_digits: Default::default(),
            classifications,
        };
        for TableRow { row, revision } in rows {
            let listed = table.classifications.iter().any(|c| c.revision == revision);
            let wrong = || match (listed, revision) {
                (false, Revision::Rev21) => format!(
                    "`{}` is a {} row, but the pack does not list that revision (`nace_rev2_1`)",
                    row.code,
                    revision.name()
                ),
                _ => format!("`{}` is not a {} code", row.code, revision.name()),
            };
            let written = parse(&row.code).filter(|w| !w.national).ok_or_else(wrong)?;
            let reading = match table.lookup_written(&written) {
                Lookup::Known(readings) => readings.into_iter().find(|x| x.revision == revision),
                _ => None,
            };
            let code = reading.ok_or_else(wrong)?.code;
            table.by_digits[revision as usize]
                .entry(code.digits.to_string())
                .or_default()
                .push(table.rows.len());
            table.rows.push((code, revision, row));
        }
        Ok(table)
    }

    /// Entity types named by the table, to check against the pack's vocabulary.
    pub fn entity_types(&self) -> impl Iterator<Item = &str> {
        self.rows
            .iter()
            .flat_map(|(_, _, r)| r.entity_types.iter().map(String::as_str))
    }

    /// What a written code is, in each revision.
    pub fn readings(&self, raw: &str) -> Lookup {
        match parse(raw) {
            None => Lookup::Unreadable,
            Some(written) => self.lookup_written(&written),
        }
    }

    fn lookup_written(&self, written: &Written) -> Lookup {
        let Ok(division) = written.digits[..2].parse::<u32>() else {
            return Lookup::Unreadable;
        };
        if self.classifications.is_empty() {
            // No lists: the shape and the Rev. 2 sections are all that can be checked.
            let section = section_of(&SECTIONS, division);
            return match section.filter(|s| written.letter.is_none_or(|l| l == *s)) {
                Some(section) => Lookup::Known(vec![Reading {
                    revision: Revision::Rev2,
                    code: Code {
                        section,
                        digits: written.digits.clone(),
                        national: written.national,
                    },
                }]),
                None => Lookup::Unreadable,
            };
        }
        let readings: Vec<Reading> = self
            .classifications
            .iter()
            .filter(|c| c.has(written.letter, &written.digits))
            .filter_map(|c| {
                Some(Reading {
                    revision: c.revision,
                    code: Code {
                        section: c.section_of(division)?,
                        digits: written.digits.clone(),
                        national: written.national,
                    },
                })
            })
            .collect();
        if readings.is_empty() {
            Lookup::Unknown
        } else {
            Lookup::Known(readings)
        }
    }

    /// The message for a code that no revision has (with the nearest codes, when it has NACE's
    /// shape) or that is in no spelling of a NACE code; `None` for a code that exists.
    pub fn unknown(&self, raw: &str) -> Option<String> {
        if self.rows.is_empty() && self.classifications.is_empty() {
            // A pack without NACE tables reads no codes, so none is wrong.
            return None;
        }
        let Some(written) = parse(raw) else {
            // Not in any spelling of a NACE code: a typo as much as a code no revision has.
            return Some(format!(
                "`{}` is not a NACE code: write it like `C28.11`, `28.11` or `2811`, or remove \
                 it and declare `activities`",
                clip(raw)
            ));
        };
        let exists = |c: &Classification| c.has(written.letter, &written.digits);
        if self.classifications.is_empty() || self.classifications.iter().any(exists) {
            return None;
        }
        let near =
            classification::did_you_mean(&self.classifications, written.letter, &written.digits);
        let list: Vec<String> = near
            .iter()
            .map(|(code, revisions)| match revisions.as_slice() {
                [one] => format!("`{code}` ({})", one.short()),
                _ => format!("`{code}` (both revisions)"),
            })
            .collect();
        let fix = "correct it from the business register, or remove it and declare `activities`";
        let neither = format!(
            "`{}` is neither a NACE Rev. 2 nor a NACE Rev. 2.1 code",
            clip(raw)
        );
        Some(match list.as_slice() {
            [] => format!("{neither}: {fix}"),
            [one] => format!("{neither}; did you mean {one}? If not, {fix}"),
            [rest @ .., last] => format!(
                "{neither}; did you mean {} or {last}? If not, {fix}",
                rest.join(", ")
            ),
        })
    }

    /// The suggestions of `codes`, and the codes that could not be read. A code coarser than a
    /// row (the group `35.1` for the class `35.11`) suggests it one level less surely.
    pub fn hints(&self, codes: &[impl AsRef<str>]) -> (Vec<Hint>, Vec<String>) {
        let (hints, unreadable, _) = self.hints_and_ambiguities(codes);
        (hints, unreadable)
    }

    fn hints_and_ambiguities(
        &self,
        codes: &[impl AsRef<str>],
    ) -> (Vec<Hint>, Vec<String>, Vec<Ambiguous>) {
        let mut hints: Vec<Hint> = Vec::new();
        let mut unreadable = Vec::new();
        let mut ambiguous = Vec::new();
        for raw in codes {
            let raw = raw.as_ref();
            let readings = match self.readings(raw) {
                Lookup::Known(readings) => readings,
                _ => {
                    unreadable.push(raw.to_string());
                    continue;
                }
            };
            let per_reading: Vec<Vec<Hint>> =
                readings.iter().map(|r| self.reading_hints(r)).collect();
            fn types(hints: &[Hint]) -> Vec<&str> {
                let mut t: Vec<&str> = hints.iter().map(|h| h.entity_type.as_str()).collect();
                t.sort_unstable();
                t
            }
            let agree = per_reading.windows(2).all(|w| types(&w[0]) == types(&w[1]));
            let found: Vec<Hint> = if agree {
                // The same entity types either way: the Rev. 2 reading, which the Directive
                // and the table's Rev. 2 rows refer to, is shown.
                per_reading.into_iter().next().unwrap_or_default()
            } else {
                let rev_2_1 = readings.iter().find(|r| r.revision == Revision::Rev21);
                ambiguous.push(Ambiguous {
                    code: readings[0].code.dotted(),
                    title_2_1: rev_2_1.and_then(|r| {
                        self.classifications
                            .iter()
                            .find(|c| c.revision == Revision::Rev21)
                            .and_then(|c| c.title(&r.code.digits))
                            .map(String::from)
                    }),
                });
                readings
                    .iter()
                    .zip(per_reading)
                    .flat_map(|(r, hints)| {
                        hints.into_iter().map(move |h| Hint {
                            code: format!("{} read as {}", h.code, r.revision.name()),
                            certainty: h.certainty.lower(),
                            ..h
                        })
                    })
                    .collect()
            };
            for hint in found {
                match hints.iter_mut().find(|h| h.entity_type == hint.entity_type) {
                    Some(h) if h.certainty >= hint.certainty => {}
                    Some(h) => {
                        h.certainty = hint.certainty;
                        h.code = hint.code;
                    }
                    None => hints.push(hint),
                }
            }
        }
        hints.sort_by(|a, b| {
            b.certainty
                .cmp(&a.certainty)
                .then_with(|| a.entity_type.cmp(&b.entity_type))
        });
        (hints, unreadable, ambiguous)
    }

    /// What one reading suggests, from the rows of its revision: one hint per entity type.
    fn reading_hints(&self, reading: &Reading) -> Vec<Hint> {
        let code = &reading.code;
        let dotted = code.dotted();
        let mut hints: Vec<Hint> = Vec::new();
        // The rows of its revision whose code is this one, a coarser one (a prefix of its
        // digits) or a finer one (its digits are a prefix), in table order.
        let index = &self.by_digits[reading.revision as usize];
        let digits = code.digits.as_str();
        // Every row's code has two digits or more: shorter prefixes find none.
        let mut matching: Vec<usize> = (2..digits.len())
            .filter_map(|len| index.get(&digits[..len]))
            .flatten()
            .copied()
            .collect();
        matching.extend(
            index
                .range::<str, _>((
                    std::ops::Bound::Included(digits),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(k, _)| k.starts_with(digits))
                .flat_map(|(_, v)| v.iter().copied()),
        );
        matching.sort_unstable();
        for (row_code, _, row) in matching.into_iter().map(|i| &self.rows[i]) {
            let certainty = if code.digits.starts_with(row_code.digits.as_str()) {
                row.certainty
            } else if row_code.digits.starts_with(code.digits.as_str()) {
                row.certainty.lower()
            } else {
                continue;
            };
            for t in &row.entity_types {
                match hints.iter_mut().find(|h| &h.entity_type == t) {
                    Some(h) if h.certainty >= certainty => {}
                    Some(h) => h.certainty = certainty,
                    None => hints.push(Hint {
                        code: dotted.clone(),
                        entity_type: t.clone(),
                        certainty,
                        cites: row.cites.clone(),
                    }),
                }
            }
        }
        hints
    }
}

/// The note an assessment carries about a record's codes. With no declared activities it asks
/// for them, listing what the codes suggest; with declared activities it points out a code that
/// surely suggests a type not declared. A code whose two revisions suggest different types is
/// named, with the question of which revision the register uses.
/// The longest code echoed whole in a message; a longer one is cut, with `…`.
const ECHOED: usize = 40;

/// `code` as a message shows it: a 5,000-character cell would bury the note it appears in.
pub fn clip(code: &str) -> String {
    match code.char_indices().nth(ECHOED) {
        Some((end, _)) => format!("{}…", &code[..end]),
        None => code.to_string(),
    }
}

pub fn note(
    table: &NaceTable,
    codes: &[impl AsRef<str>],
    declared: Option<&[&str]>,
) -> Option<String> {
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
    let unreadable_text = |unreadable: &[String]| {
        if unreadable.is_empty() {
            String::new()
        } else {
            format!(
                " (not NACE codes: {}; write them like `C28.11` or `28.11`)",
                unreadable
                    .iter()
                    .map(|c| format!("`{}`", clip(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    match declared {
        None => {
            let (all_hints, unreadable, ambiguous) = table.hints_and_ambiguities(codes);
            let unreadable = unreadable_text(&unreadable);
            let ambiguous = ambiguous
                .iter()
                .map(|a| {
                    format!(
                        "; {}, so both readings are shown one level less surely: which \
                         revision does the register use?",
                        a.says()
                    )
                })
                .collect::<String>();
            let all: Vec<&Hint> = all_hints.iter().collect();
            let suggests = if all.is_empty() {
                "suggest no NIS2 entity type".to_string()
            } else {
                format!("suggest {}", list(&all))
            };
            Some(format!(
                "the NACE codes {suggests}{unreadable}{ambiguous}; a code never decides alone: \
                 declare `activities` (which of these the organisation carries out, or `other`) \
                 to settle the classification"
            ))
        }
        Some(declared) => {
            // A code is pointed out only when none of the types it suggests is declared (J61.10
            // suggests both network and service providers: declaring one settles it).
            // An ambiguous code none of whose readings is declared is asked about too.
            // Each code is looked up once, on its own: the codes that cannot be read are the
            // ones read as none.
            let mut per_code: Vec<Hint> = Vec::new();
            let mut unsettled = String::new();
            let mut unreadable = Vec::new();
            for c in codes {
                let (hints, bad, ambiguous) = table.hints_and_ambiguities(std::slice::from_ref(c));
                unreadable.extend(bad);
                if hints
                    .iter()
                    .any(|h| declared.contains(&h.entity_type.as_str()))
                {
                    continue;
                }
                per_code.extend(hints.into_iter().filter(|h| h.certainty >= Certainty::High));
                for a in ambiguous {
                    unsettled.push_str(&format!(
                        "; {}, and suggests none of the declared activities either way: which \
                         revision does the register use?",
                        a.says()
                    ));
                }
            }
            let unreadable = unreadable_text(&unreadable);
            let missed: Vec<&Hint> = per_code.iter().collect();
            if missed.is_empty() && unreadable.is_empty() && unsettled.is_empty() {
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
            let text = format!("{missed}{unreadable}{unsettled}");
            Some(text.trim().trim_start_matches("; ").to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `parse` as it was first written, with the text's own splitting and formatting: what the
    /// byte-by-byte reading must agree with.
    fn parse_by_parts(raw: &str) -> Option<Written> {
        let mut text = cleaned(raw);
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
        // A spreadsheet cell formatted as a number loses the division's leading zero (`01.11` is
        // stored as 1.11). No division has one digit, so a group or class written `1.1` or `1.11`
        // can only be `01.1` or `01.11`.
        let padded;
        let rest = match rest.split_once('.') {
            Some((d, g)) if d.len() == 1 && (1..=2).contains(&g.len()) => {
                padded = compact_str::format_compact!("0{rest}");
                padded.as_str()
            }
            _ => rest,
        };
        // Dots, when written, stand after the division and after the class.
        let parts: smallvec::SmallVec<[&str; 4]> = rest.split('.').collect();
        let well_dotted = match parts.as_slice() {
            [_] => true,
            [d, g] => d.len() == 2 && (1..=4).contains(&g.len()),
            [d, c, n] => d.len() == 2 && c.len() == 2 && (1..=2).contains(&n.len()),
            _ => false,
        };
        if !well_dotted {
            return None;
        }
        let mut digits = CompactString::default();
        for part in &parts {
            digits.push_str(part);
        }
        let (digits, national) = match digits.len() {
            4 if naf => (digits, true),
            _ if naf => return None,
            2..=4 => (digits, false),
            5 | 6 => (CompactString::from(&digits[..4]), true),
            _ => return None,
        };
        Some(Written {
            letter,
            digits,
            national,
        })
    }

    proptest! {
        /// Any text reads as a code, or not, as the first reading read it: codes in every
        /// spelling of the module's documentation, cut, doubled and mixed with other letters,
        /// signs and spaces.
        #[test]
        fn codes_read_as_they_were_read_by_parts(
            raw in prop_oneof![
                "[A-Z]?-{0,3}[0-9]{1,2}([.,][0-9]{1,2}){0,2}[0-9]{0,2}Z?",
                "[A-Za-z]?[ -]{0,2}[0-9]{0,7}([.,][0-9]{0,5}){0,3}[A-Za-z]?",
                "[ \t\u{A0}.,a-zA-Z0-9é-]{0,14}",
            ],
        ) {
            prop_assert_eq!(parse(&raw), parse_by_parts(&raw));
        }

        /// A code is cleaned as its characters say, whichever way it goes: spaces (Unicode's,
        /// vertical tab and no-break space included) dropped, ASCII letters in capitals, a
        /// comma read as the dot, anything else kept; short ASCII codes and the rest alike.
        #[test]
        fn codes_are_cleaned_character_by_character(
            raw in "[ \t\n\x0B\x0C\r\u{A0}\u{3000},.a-zA-Z0-9é-]{0,40}",
        ) {
            let expected: String = raw
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| if c == ',' { '.' } else { c.to_ascii_uppercase() })
                .collect();
            let got = cleaned(&raw);
            prop_assert_eq!(got.as_str(), expected.as_str());
        }
    }

    /// An echoed code is cut at 40 characters, not bytes (a cell of accented text), with `…`.
    #[test]
    fn an_echoed_code_is_cut_at_forty_characters() {
        assert_eq!(clip("C28.11"), "C28.11");
        assert_eq!(clip(&"é".repeat(40)), "é".repeat(40));
        assert_eq!(clip(&"é".repeat(41)), format!("{}…", "é".repeat(40)));
    }

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
        // A number cell of a spreadsheet drops the leading zero of `01.11` (helper test run of
        // session 4); divisions have two digits (Regulation (EC) No 1893/2006, Annex I).
        assert_eq!(normalise("1.11").map(|c| c.dotted()), Some("A01.11".into()));
        assert_eq!(normalise("1,1").map(|c| c.dotted()), Some("A01.1".into()));
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
        let (hints, bad) = table().hints(&["2811", "35.1", "xx"]);
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
        let ask = note(&t, &["C28.11"], None).unwrap();
        assert!(
            ask.contains("C28.11 → `machinery_manufacturer` (explicit")
                && ask.contains("declare `activities`"),
            "{ask}"
        );
        let check = note(&t, &["C28.11"], Some(&["other"])).unwrap();
        assert!(
            check.contains("not among the declared activities"),
            "{check}"
        );
        let declared = ["machinery_manufacturer"];
        assert_eq!(note(&t, &["C28.11"], Some(&declared)), None);
    }

    const REV_2: &str = include_str!("../../../rules/nis2/tables/nace-rev2.json");
    const REV_2_1: &str = include_str!("../../../rules/nis2/tables/nace-rev2.1.json");

    fn shipped() -> Vec<Classification> {
        [(Revision::Rev2, REV_2), (Revision::Rev21, REV_2_1)]
            .into_iter()
            .map(|(r, text)| {
                Classification::from_table(r, serde_json::from_str(text).unwrap()).unwrap()
            })
            .collect()
    }

    // Counts from the legal acts: Reg. (EC) 1893/2006 Annex I has 21 sections, 88 divisions,
    // 272 groups and 615 classes; Del. Reg. (EU) 2023/137 Annex has 22, 87, 287 and 651.
    // `from_table` refuses a list whose codes do not add up to the counts it declares.
    #[test]
    fn the_shipped_lists_have_the_counts_of_their_legal_acts() {
        for (text, counts) in [(REV_2, [21, 88, 272, 615]), (REV_2_1, [22, 87, 287, 651])] {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            let declared: Vec<u64> = ["sections", "divisions", "groups", "classes"]
                .iter()
                .map(|k| v["counts"][k].as_u64().unwrap())
                .collect();
            assert_eq!(declared, counts);
        }
        assert_eq!(shipped().len(), 2);
        let mut short: serde_json::Value = serde_json::from_str(REV_2).unwrap();
        short["classes"].as_array_mut().unwrap().pop();
        let refused = Classification::from_table(Revision::Rev2, short).unwrap_err();
        assert!(refused.contains("614 classes"), "{refused}");
    }

    // Rev. 2 division 62 is 62.01-62.09, Rev. 2.1's is 62.10-62.90; 35.12 is in both; section
    // K is finance in Rev. 2 and telecommunication and computing in Rev. 2.1.
    #[test]
    fn codes_are_looked_up_in_both_revisions() {
        let t = NaceTable::with_classifications(Vec::new(), shipped()).unwrap();
        let revisions = |raw: &str| match t.readings(raw) {
            Lookup::Known(r) => r.iter().map(|r| r.code.dotted()).collect::<Vec<_>>(),
            other => panic!("{raw}: {other:?}"),
        };
        assert_eq!(revisions("62.01"), ["J62.01"]);
        assert_eq!(revisions("62.20"), ["K62.20"]);
        assert_eq!(revisions("35.12"), ["D35.12", "D35.12"]);
        assert_eq!(revisions("64.19"), ["K64.19", "L64.19"]);
        assert_eq!(revisions("L64.19"), ["L64.19"]);
        assert_eq!(revisions("K62.2"), ["K62.2"]);
        for unknown in ["99.99", "62.99", "05.30", "04.11", "D28.11", "L62.01"] {
            assert_eq!(t.readings(unknown), Lookup::Unknown, "{unknown}");
            assert!(t.unknown(unknown).is_some(), "{unknown}");
        }
        assert_eq!(t.readings("ABC"), Lookup::Unreadable);
        // Text in no spelling of a NACE code is refused too (DESIGN.md: unknown ids are errors;
        // helper test run of session 4), as is an empty code.
        for unreadable in ["ABC", "", "３５.１１"] {
            let message = t.unknown(unreadable).unwrap_or_default();
            assert!(
                message.contains("is not a NACE code"),
                "{unreadable}: {message}"
            );
        }
        assert_eq!(t.unknown("C28.11"), None);
    }

    #[test]
    fn a_table_row_must_be_a_code_of_its_revision() {
        let row = |code: &str, revision| TableRow {
            row: Row {
                code: code.into(),
                entity_types: vec!["managed_service_provider".into()],
                certainty: Certainty::Low,
                cites: "Annex I.9".into(),
            },
            revision,
        };
        assert!(
            NaceTable::with_classifications(vec![row("K62.20", Revision::Rev21)], shipped())
                .is_ok()
        );
        let e = NaceTable::with_classifications(vec![row("J62.20", Revision::Rev2)], shipped())
            .unwrap_err();
        assert_eq!(e, "`J62.20` is not a NACE Rev. 2 code");
    }
}
