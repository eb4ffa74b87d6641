//! Numbers as spreadsheets write them: `1234567`, `1,234,567`, `1.234.567`, `1 234 567`,
//! `1'234'567`, `1.234.567,89`, `12,5`.
//!
//! A separator is read as a thousands mark only when every group after it has exactly three
//! digits. What stays ambiguous is never guessed: `1,234` could be 1234 or 1.234, so it is left
//! as text and the schema reports the cell with its field. In a file whose columns are separated
//! by `;` (the European spreadsheet export), `,` is the decimal mark, so `1.234` is ambiguous
//! there too, while in other files `.` is the decimal mark as in JSON. A number typed as text in
//! a workbook says nothing about the mark, so there both are ambiguous.

/// Which mark a file uses for decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimal {
    /// `.` is the decimal mark (JSON, comma-separated files).
    Point,
    /// `,` is the decimal mark (semicolon-separated files).
    Comma,
    /// Either could be (text cells of a workbook): `1.234` and `1,234` are both ambiguous.
    Unknown,
}

/// The number written in `cell`, or `None` when it is not a number or is ambiguous.
pub fn parse(cell: &str, decimal: Decimal) -> Option<f64> {
    let cell = cell.trim();
    let (sign, digits) = match cell.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", cell.strip_prefix('+').unwrap_or(cell)),
    };
    if digits.is_empty() {
        return None;
    }
    let plain = |s: &str| format!("{sign}{s}").parse::<f64>().ok();

    let spaced: Vec<char> = digits
        .chars()
        .filter(|c| matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'' | '_'))
        .collect();
    let points = digits.matches('.').count();
    let commas = digits.matches(',').count();

    // Spaces and apostrophes only ever group thousands.
    let (digits, grouped_by_space) = if spaced.is_empty() {
        (digits.to_string(), false)
    } else {
        let sep = spaced[0];
        let integer_end = digits.find(['.', ',']).unwrap_or(digits.len());
        if !spaced.iter().all(|&c| c == sep) || !groups_of_three(&digits[..integer_end], sep) {
            return None;
        }
        (digits.replace(sep, ""), true)
    };

    match (points, commas) {
        (0, 0) => plain(&digits),
        (_, 0) if points > 1 => thousands(&digits, '.').and_then(|d| plain(&d)),
        (0, _) if commas > 1 => thousands(&digits, ',').and_then(|d| plain(&d)),
        (1, 0) => {
            if decimal != Decimal::Point && !grouped_by_space && three_after(&digits, '.') {
                None
            } else {
                plain(&digits)
            }
        }
        (0, 1) => {
            if decimal != Decimal::Comma && !grouped_by_space && three_after(&digits, ',') {
                None
            } else {
                plain(&digits.replace(',', "."))
            }
        }
        _ => {
            // Both marks: the last one is the decimal mark, the other groups thousands.
            let last_point = digits.rfind('.')?;
            let last_comma = digits.rfind(',')?;
            let (group, mark) = if last_point > last_comma {
                (',', '.')
            } else {
                ('.', ',')
            };
            let (integer, fraction) = digits.rsplit_once(mark)?;
            if fraction.contains(group) || integer.contains(mark) {
                return None;
            }
            let integer = thousands(integer, group)?;
            plain(&format!("{integer}.{fraction}"))
        }
    }
}

/// A cell that [`parse`] leaves as text in some files because its one separator could group
/// thousands or mark decimals, with what would say each reading plainly.
#[derive(Debug, Clone, PartialEq)]
pub struct Ambiguous {
    /// `1234`: the separator taken as a thousands mark.
    pub whole: String,
    /// `1.234`: the separator taken as the decimal mark.
    pub fraction: String,
    /// The fraction in the spelling of the files where the cell is ambiguous: `1.234` is so
    /// only where `,` is the decimal mark, `1,234` only where `.` is.
    pub fraction_there: String,
    /// Where `fraction_there` is the spelling, in words.
    pub there: &'static str,
}

/// Whether `cell` is a number that one convention of decimal marks reads and the other leaves
/// ambiguous: one `.` or `,` with one to three digits before it and exactly three after.
pub fn ambiguous(cell: &str) -> Option<Ambiguous> {
    let cell = cell.trim();
    let digits = cell.trim_start_matches(['-', '+']);
    let sign = if cell.starts_with('-') { "-" } else { "" };
    let sep = ['.', ','].into_iter().find(|&s| three_after(digits, s))?;
    if digits.matches(sep).count() != 1 {
        return None;
    }
    let (integer, fraction) = digits.split_once(sep)?;
    let (fraction_there, there) = match sep {
        '.' => (
            format!("{sign}{integer},{fraction}"),
            "in a file whose columns are separated by `;`, where `,` is the decimal mark; in a \
             workbook, enter it as a number rather than as text",
        ),
        _ => (
            format!("{sign}{integer}.{fraction}"),
            "with `.` as the decimal mark, as in a file whose columns are separated by commas or \
             JSON; in a workbook, enter it as a number rather than as text",
        ),
    };
    Some(Ambiguous {
        whole: format!("{sign}{integer}{fraction}"),
        fraction: format!("{sign}{integer}.{fraction}"),
        fraction_there,
        there,
    })
}

/// `1.234.567` with `.` → `1234567`, when every group after the first has three digits.
fn thousands(digits: &str, sep: char) -> Option<String> {
    groups_of_three(digits, sep).then(|| digits.replace(sep, ""))
}

fn groups_of_three(digits: &str, sep: char) -> bool {
    let mut groups = digits.split(sep);
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// One separator with exactly three digits after it and one to three before: `1.234`, `12,500`.
fn three_after(digits: &str, sep: char) -> bool {
    groups_of_three(digits, sep) && digits.contains(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values: the spellings listed in issue 6 and the known export quirks.
    #[test]
    fn thousands_separators_in_the_usual_spellings() {
        for (cell, want) in [
            ("1234567", 1_234_567.0),
            ("1,234,567", 1_234_567.0),
            ("1.234.567", 1_234_567.0),
            ("1 234 567", 1_234_567.0),
            ("1\u{a0}234\u{a0}567", 1_234_567.0),
            ("1'234'567", 1_234_567.0),
            ("1.234.567,89", 1_234_567.89),
            ("1,234,567.89", 1_234_567.89),
            ("1 234 567,5", 1_234_567.5),
            ("-12", -12.0),
            ("250.5", 250.5),
        ] {
            assert_eq!(parse(cell, Decimal::Point), Some(want), "{cell}");
        }
    }

    #[test]
    fn decimal_comma_only_where_it_cannot_be_a_thousands_mark() {
        assert_eq!(parse("12,5", Decimal::Point), Some(12.5));
        assert_eq!(parse("12,5", Decimal::Comma), Some(12.5));
        assert_eq!(parse("1,234", Decimal::Comma), Some(1.234));
    }

    #[test]
    fn ambiguous_spellings_are_not_guessed() {
        // `1,234` in a comma-decimal-free file: 1234 or 1.234? Left for the schema to report.
        assert_eq!(parse("1,234", Decimal::Point), None);
        // `1.234` in a semicolon file, where `.` usually groups thousands.
        assert_eq!(parse("1.234", Decimal::Comma), None);
        // Text in a workbook: either mark could be meant (fresh-user run: `1.250` employees
        // were read as 1.25).
        assert_eq!(parse("1.250", Decimal::Unknown), None);
        assert_eq!(parse("1,250", Decimal::Unknown), None);
        assert_eq!(parse("49,5", Decimal::Unknown), Some(49.5));
        assert_eq!(parse("1.5", Decimal::Unknown), Some(1.5));
        assert_eq!(parse("60.000.000", Decimal::Unknown), Some(60_000_000.0));
        assert_eq!(parse("1,23,456", Decimal::Point), None);
        assert_eq!(parse("12 5", Decimal::Point), None);
        assert_eq!(parse("ten", Decimal::Point), None);
        assert_eq!(parse("", Decimal::Point), None);
    }

    // The readings follow the module doc: one separator with three digits after it is a
    // thousands mark or a decimal mark; two separators (`1.234.567`) or a fraction of other
    // length (`12,5`) are not ambiguous.
    #[test]
    fn an_ambiguous_cell_says_both_readings_and_how_to_write_each() {
        let a = ambiguous("1.234").unwrap();
        assert_eq!((a.whole.as_str(), a.fraction.as_str()), ("1234", "1.234"));
        assert_eq!(a.fraction_there, "1,234");
        let a = ambiguous("-12,500").unwrap();
        assert_eq!(
            (a.whole.as_str(), a.fraction.as_str()),
            ("-12500", "-12.500")
        );
        assert_eq!(a.fraction_there, "-12.500");
        for plain in ["1.234.567", "12,5", "1234", "1,234.5", "ten"] {
            assert_eq!(ambiguous(plain), None, "{plain}");
        }
    }
}
