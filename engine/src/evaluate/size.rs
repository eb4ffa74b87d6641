//! The size class of Recommendation 2003/361/EC, Annex Art. 2, with unknown figures.
//!
//! Headcount (annual work units) must be strictly below a class's ceiling; of the two financial
//! ceilings ("not exceeding"), meeting either one suffices. The ceilings come from the nis2 pack's
//! `size-classes.json`, never from code.
//!
//! A figure that is not known can be anything from zero upwards. Because each class test is
//! monotone in every figure, the smallest possible class is the one with every unknown figure at
//! zero and the largest the one with every unknown figure unbounded, and every class between them
//! is possible too. A group's total with an unknown part is not anything from zero, though: it is
//! at least the sum of the parts that are known ([`AtLeast`]), and the smallest possible class is
//! read at that sum.

use crate::error::PackError;
use crate::facts::Figures;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeClass {
    Micro,
    Small,
    Medium,
    Large,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [
        SizeClass::Micro,
        SizeClass::Small,
        SizeClass::Medium,
        SizeClass::Large,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SizeClass::Micro => "micro",
            SizeClass::Small => "small",
            SizeClass::Medium => "medium",
            SizeClass::Large => "large",
        }
    }
}

/// One class's ceilings: the enterprise belongs to the class (or a smaller one) when its
/// headcount is below `employees_below` and its turnover or its balance sheet does not exceed
/// the ceiling.
#[derive(Debug, Clone, Deserialize)]
pub struct Ceiling {
    pub class: SizeClass,
    #[serde(deserialize_with = "crate::intern::de")]
    pub cites: crate::intern::Kept,
    pub employees_below: f64,
    pub turnover_not_exceeding: f64,
    pub balance_sheet_not_exceeding: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct Above {
    class: SizeClass,
    #[serde(deserialize_with = "crate::intern::de")]
    cites: crate::intern::Kept,
}

/// The size classes possible, and from which figures they were found.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    pub range: SizeRange,
    /// The figures the class was read from: the latest period's, or the previous one's when the
    /// two-period rule keeps it.
    pub figures: Figures,
    /// What the unknown ones among `figures` are known to be at least.
    pub at_least: Figures,
    /// The absent figures that would narrow the range.
    pub settle: Vec<String>,
    /// Which period rule was used, when a previous period was declared.
    pub period: Option<Period>,
    /// `figures` are the previous period's (the two-period rule kept its class).
    pub from_previous: bool,
}

/// Which accounting periods the size class was read from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    /// `two_periods` (Annex Art. 4(2)) or `latest_period`.
    pub rule: &'static str,
    pub cites: &'static str,
    pub says: String,
}

/// Lower bounds for figures that are not known: a group's total with an unknown part is at least
/// the sum of its known parts. An enterprise's own unknown figure has none (the default: zero).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AtLeast {
    pub now: Figures,
    pub previous: Figures,
}

/// Reaches one figure of a [`Figures`].
type FigureField = fn(&mut Figures) -> &mut Option<f64>;

/// The ceilings, smallest class first.
#[derive(Debug, Clone, Deserialize)]
pub struct SizeTable {
    classes: Vec<Ceiling>,
    above: Above,
    /// Why a class applies, in words, per class in the order of [`SizeClass::ALL`]: written
    /// once when the table is read, as every assessment repeats it.
    #[serde(skip)]
    reasons: [String; 4],
}

/// The classes an enterprise may be in, given what is known of its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeRange {
    pub min: SizeClass,
    pub max: SizeClass,
}

impl SizeRange {
    pub fn known(&self) -> Option<SizeClass> {
        (self.min == self.max).then_some(self.min)
    }

    pub fn classes(&self) -> impl Iterator<Item = SizeClass> + '_ {
        SizeClass::ALL
            .into_iter()
            .filter(|c| *c >= self.min && *c <= self.max)
    }

    /// [`SizeRange::classes`] as a slice of [`SizeClass::ALL`] (which lists them in order).
    pub fn class_list(&self) -> &'static [SizeClass] {
        SizeClass::ALL
            .get(self.min as usize..=self.max as usize)
            .unwrap_or_default()
    }
}

impl SizeTable {
    pub fn from_json(value: serde_json::Value, pack: &str) -> Result<SizeTable, PackError> {
        let table: SizeTable = serde_json::from_value(value).map_err(|e| PackError::Table {
            pack: pack.into(),
            file: "size-classes".into(),
            line: 0,
            message: e.to_string(),
        })?;
        let mut table = table;
        table.reasons = SizeClass::ALL.map(|class| table.reason(class));
        Ok(table)
    }

    /// The class of known figures.
    pub fn classify(&self, employees: f64, turnover: f64, balance_sheet: f64) -> SizeClass {
        self.classes
            .iter()
            .find(|c| {
                employees < c.employees_below
                    && (turnover <= c.turnover_not_exceeding
                        || balance_sheet <= c.balance_sheet_not_exceeding)
            })
            .map(|c| c.class)
            .unwrap_or(self.above.class)
    }

    /// The classes possible when some figures are unknown but at least `floor` (an
    /// enterprise's own unknown figure: `Figures::default()`, anything from zero).
    pub fn range(&self, figures: &Figures, floor: &Figures) -> SizeRange {
        let low = |v: Option<f64>, f: Option<f64>| v.or(f).unwrap_or(0.0);
        let high = |v: Option<f64>| v.unwrap_or(f64::INFINITY);
        SizeRange {
            min: self.classify(
                low(figures.employees, floor.employees),
                low(figures.annual_turnover_eur, floor.annual_turnover_eur),
                low(figures.balance_sheet_eur, floor.balance_sheet_eur),
            ),
            max: self.classify(
                high(figures.employees),
                high(figures.annual_turnover_eur),
                high(figures.balance_sheet_eur),
            ),
        }
    }

    /// The absent figures whose value could narrow the range, for unknown figures that are at
    /// least `floor`: knowing the figure at either extreme would exclude a class.
    pub fn settling_figures(&self, figures: &Figures, floor: &Figures) -> Vec<&'static str> {
        let range = self.range(figures, floor);
        if range.known().is_some() {
            return Vec::new();
        }
        let mut names = Vec::new();
        let fields: [(&'static str, FigureField); 3] = [
            ("employees", |f| &mut f.employees),
            ("annual_turnover_eur", |f| &mut f.annual_turnover_eur),
            ("balance_sheet_eur", |f| &mut f.balance_sheet_eur),
        ];
        for (name, field) in fields {
            let mut probe = *figures;
            if field(&mut probe).is_some() {
                continue;
            }
            let mut lowest = *floor;
            *field(&mut probe) = Some(field(&mut lowest).unwrap_or(0.0));
            let at_floor = self.range(&probe, floor);
            *field(&mut probe) = Some(f64::MAX);
            let at_max = self.range(&probe, floor);
            if at_floor != range || at_max != range {
                names.push(name);
            }
        }
        names
    }

    /// The classes an enterprise may be in over its latest and, when declared, its previous
    /// accounting period. Under Annex Art. 4(2) an enterprise gains or loses a status only
    /// when the ceilings are crossed in two consecutive periods: when the two periods give
    /// different classes, it keeps the one it had, which is taken to be the previous period's
    /// class (nothing older is known). `two_period_rule` off sizes on the latest period alone.
    /// Unknown figures are at least `at_least`.
    pub fn sizing(
        &self,
        now: &Figures,
        previous: Option<&Figures>,
        at_least: &AtLeast,
        two_period_rule: bool,
    ) -> Sizing {
        let current = Sizing {
            range: self.range(now, &at_least.now),
            figures: *now,
            at_least: at_least.now,
            settle: self
                .settling_figures(now, &at_least.now)
                .iter()
                .map(|s| s.to_string())
                .collect(),
            period: None,
            from_previous: false,
        };
        let Some(declared) = previous else {
            return current;
        };
        let previous = &declared.or(now);
        let filled = if declared.covers(now) {
            ""
        } else {
            " (figures not given for the previous period were taken as unchanged)"
        };
        if !two_period_rule {
            return Sizing {
                period: Some(Period {
                    rule: "latest_period",
                    cites: "Rec. 2003/361/EC Annex Art. 4(1)",
                    says: "sized on the latest accounting period alone: the pack does not \
                     apply the two-period rule of Annex Art. 4(2)"
                        .into(),
                }),
                ..current
            };
        }
        let before = self.range(previous, &at_least.previous);
        let name = |r: SizeRange| match r.known() {
            Some(c) => c.as_str().to_string(),
            None => r
                .classes()
                .map(SizeClass::as_str)
                .collect::<Vec<_>>()
                .join(" or "),
        };
        if before == current.range {
            return Sizing {
                period: Some(Period {
                    rule: "two_periods",
                    cites: "Rec. 2003/361/EC Annex Art. 4(2)",
                    says: format!(
                        "both the latest and the previous accounting period give {}{filled}",
                        name(before)
                    ),
                }),
                ..current
            };
        }
        let says = format!(
            "the latest accounting period gives {}, the previous one {}: a ceiling crossed \
                 in one period only changes no status, so the previous period's class is kept \
                 (taken as the status held, as nothing older is known){filled}",
            name(current.range),
            name(before)
        );
        // The periods differ (or are not known to agree): a crossing in one period does not
        // count, so whatever the latest period gives, the class kept is the previous period's.
        Sizing {
            range: before,
            figures: *previous,
            at_least: at_least.previous,
            settle: self
                .settling_figures(previous, &at_least.previous)
                .iter()
                .map(|s| format!("previous_period.{s}"))
                .collect(),
            period: Some(Period {
                rule: "two_periods",
                cites: "Rec. 2003/361/EC Annex Art. 4(2)",
                says,
            }),
            from_previous: true,
        }
    }

    /// The citation for a class.
    pub fn cites(&self, class: SizeClass) -> &'static str {
        self.classes
            .iter()
            .find(|c| c.class == class)
            .map(|c| c.cites)
            .unwrap_or(self.above.cites)
    }

    /// One sentence saying why the figures give this class, naming the ceilings that decide.
    /// Unknown figures are said to be at least `at_least` where that is above zero.
    pub fn explain(&self, figures: &Figures, at_least: &Figures, range: SizeRange) -> String {
        // Figures and the reason for a class together run to about 200 bytes.
        let mut out = String::with_capacity(256);
        describe(&mut out, figures, at_least);
        let Some(class) = range.known() else {
            out.push_str(": could be ");
            for (i, c) in range.classes().enumerate() {
                if i > 0 {
                    out.push_str(" or ");
                }
                out.push_str(c.as_str());
            }
            return out;
        };
        out.push_str(": ");
        out.push_str(class.as_str());
        out.push_str(" (");
        out.push_str(&self.reasons[class as usize]);
        out.push(')');
        out
    }

    /// The ceilings that put an enterprise in `class`, in words.
    fn reason(&self, class: SizeClass) -> String {
        match self.classes.iter().find(|c| c.class == class) {
            Some(c) => format!(
                "fewer than {} AWU and turnover not exceeding EUR {} or balance sheet not \
                 exceeding EUR {}",
                c.employees_below,
                money(c.turnover_not_exceeding),
                money(c.balance_sheet_not_exceeding)
            ),
            None => match self.classes.last() {
                Some(m) => format!(
                    "{} AWU or more, or turnover above EUR {} and balance sheet above EUR {}",
                    m.employees_below,
                    money(m.turnover_not_exceeding),
                    money(m.balance_sheet_not_exceeding)
                ),
                None => String::new(),
            },
        }
    }
}

/// `headcount 12 AWU, turnover EUR 1,000,000, balance sheet unknown`, appended to `out`; an
/// unknown figure with a lower bound above zero reads `unknown (at least EUR 40,000,000)`.
fn describe(out: &mut String, figures: &Figures, at_least: &Figures) {
    let parts = [
        (figures.employees, at_least.employees, "headcount", false),
        (
            figures.annual_turnover_eur,
            at_least.annual_turnover_eur,
            "turnover",
            true,
        ),
        (
            figures.balance_sheet_eur,
            at_least.balance_sheet_eur,
            "balance sheet",
            true,
        ),
    ];
    let amount = |out: &mut String, v: f64, eur: bool| {
        if eur {
            out.push_str("EUR ");
            push_money(out, v);
        } else {
            push_number(out, v);
            out.push_str(" AWU");
        }
    };
    for (i, (value, floor, what, eur)) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match (value, floor) {
            (Some(v), _) => {
                if eur {
                    out.push_str(what);
                    out.push(' ');
                }
                amount(out, v, eur);
            }
            (None, Some(f)) if f > 0.0 => {
                out.push_str(what);
                out.push_str(" unknown (at least ");
                amount(out, f, eur);
                out.push(')');
            }
            (None, _) => {
                out.push_str(what);
                out.push_str(" unknown");
            }
        }
    }
}

/// `v` as `{v}` writes it, appended to `out`, but minus zero as `0`: the formatter keeps its
/// sign, and a headcount written `-0` (which JSON allows) would read `-0 AWU`. Headcounts are
/// nearly always whole, and a whole number below 10^15 prints as its integer digits, which are
/// written here without the float formatter (every assessment's size ground prints one or more).
pub fn push_number(out: &mut String, v: f64) {
    // Only zero and minus zero equal 0.0, so every other value keeps its bytes.
    let v = if v == 0.0 { 0.0 } else { v };
    match whole_below_1e15(v) {
        Some(n) => out.push_str(itoa::Buffer::new().format(n)),
        None => {
            let _ = write!(out, "{v}");
        }
    }
}

/// `v` as an integer when it is whole and below 10^15, where both the float formatter and
/// serde_json write a double as its integer digits (serde_json adding `.0`); `None` for minus
/// zero, which both write with its sign, and for anything else.
pub fn whole_below_1e15(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative())).then_some(v as i64)
}

/// Euros with thousands separators, whole euros.
pub fn money(v: f64) -> String {
    let mut out = String::new();
    push_money(&mut out, v);
    out
}

/// Euros with thousands separators, whole euros, appended to `out`.
pub fn push_money(out: &mut String, v: f64) {
    // The rounded amount's shortest digits (those it was written with), with a comma before
    // each group of three counted from the units: itoa's below 2^53, where every whole amount
    // is exact, the formatter's beyond (figures summed over a group may get there), and a sum
    // that overflowed as the formatter writes it (`inf`).
    let whole = v.round();
    let mut buffer = itoa::Buffer::new();
    let wide;
    let text = if whole.abs() < 9_007_199_254_740_992.0 {
        buffer.format(whole as i64)
    } else if whole.is_finite() {
        wide = format!("{whole}");
        wide.as_str()
    } else {
        let _ = write!(out, "{v}");
        return;
    };
    let digits = text.trim_start_matches('-');
    out.push_str(&text[..text.len() - digits.len()]);
    let mut at = match digits.len() % 3 {
        0 => 3,
        first => first,
    };
    out.push_str(&digits[..at]);
    while at < digits.len() {
        out.push(',');
        out.push_str(&digits[at..at + 3]);
        at += 3;
    }
}

#[cfg(test)]
mod tests {
    use super::{money, push_number};
    use proptest::strategy::Strategy;

    /// Whole euros with a comma every three digits, as the grounds print them (e.g. the
    /// EUR 50,000,000 turnover ceiling of Annex Art. 2(1)).
    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(0.0), "0");
        assert_eq!(money(999.0), "999");
        assert_eq!(money(1_000.0), "1,000");
        assert_eq!(money(50_000_000.0), "50,000,000");
        assert_eq!(money(43_566_454.05), "43,566,454");
        assert_eq!(money(999.5), "1,000");
        assert_eq!(money(-1_234.0), "-1,234");
        // Minus zero, and an amount that rounds to it, are 0 euros, not -0.
        assert_eq!(money(-0.0), "0");
        assert_eq!(money(-0.4), "0");
        // Beyond 2^53, the digits the amount was written with (a group's sum may get there).
        assert_eq!(money(-9.3e18), "-9,300,000,000,000,000,000");
        assert_eq!(money(1e20), "100,000,000,000,000,000,000");
        assert_eq!(money(f64::INFINITY), "inf");
        assert_eq!(money(1e300).len(), 301 + 100);
    }

    proptest::proptest! {
        /// Any amount is its rounded whole euros (the shortest digits that read back as
        /// them) with a comma inserted before every third digit from the units, as
        /// `money_groups_thousands` spells out on examples; figures from either side of the
        /// thresholds of Art. 2(1) of the Annex to Recommendation 2003/361/EC up to 2^53, where
        /// whole amounts stop being exact, and far beyond it.
        #[test]
        fn money_is_whole_euros_in_groups_of_three(v in proptest::prop_oneof![
            -1e13..1e13f64,
            (-10_000_000i64..10_000_000).prop_map(|n| n as f64),
            // Whole amounts of every magnitude, 2^53 and i64's end included.
            (proptest::num::i64::ANY, 0u32..63).prop_map(|(n, shift)| (n >> shift) as f64),
            proptest::num::f64::ANY,
            // A figure written `-0` in the facts.
            proptest::strategy::Just(-0.0),
        ]) {
            // `+ 0.0` makes a minus zero plain zero: `-0.4` is 0 euros.
            let digits = match v.is_finite() {
                true => format!("{}", v.round() + 0.0),
                false => v.to_string(),
            };
            let (sign, digits) = digits.split_at(usize::from(digits.starts_with('-')));
            let mut grouped = String::from(sign);
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            proptest::prop_assert_eq!(money(v), grouped);
        }
    }

    /// Headcounts print as `{v}` prints them, whole or not; minus zero is zero, as the figure
    /// `-0` it is read from is (`0 AWU`, not `-0 AWU`).
    #[test]
    fn numbers_print_as_the_formatter_prints_them() {
        let mut out = String::new();
        push_number(&mut out, -0.0);
        assert_eq!(out, "0");
        for v in [
            0.0,
            1.0,
            65.0,
            -5.0,
            49.99,
            0.5,
            1e14,
            1e15,
            1e16,
            1e300,
            -1e20,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            999_999_999_999_999.0,
        ] {
            let mut out = String::new();
            push_number(&mut out, v);
            assert_eq!(out, format!("{v}"), "{v:?}");
        }
    }

    proptest::proptest! {
        /// Any number prints as the formatter prints it once a minus zero is made plain zero
        /// (`+ 0.0` does that and changes no other value): whole numbers of every magnitude
        /// (the integer digits written without the formatter end at 10^15), any double, and
        /// minus zero.
        #[test]
        fn numbers_are_the_formatters_digits_without_minus_zero(v in proptest::prop_oneof![
            (proptest::num::i64::ANY, 0u32..63).prop_map(|(n, shift)| (n >> shift) as f64),
            -1e6..1e6f64,
            proptest::num::f64::ANY,
            proptest::strategy::Just(-0.0),
        ]) {
            let mut out = String::new();
            push_number(&mut out, v);
            proptest::prop_assert_eq!(out, format!("{}", v + 0.0));
        }
    }
}
