//! The SOC 2 decision: needed or not, which type, which criteria, and the timeline.
//!
//! The soc2 pack's scripts decide need and type from booleans this module prepares; the criteria
//! in scope are a table; dates are computed here. As for NIS2, a missing core fact
//! (`service_organisation`, `customer_regions`) is tried both ways, and the decision is
//! `undetermined` only when the answers differ.

use super::tables;
use crate::assessment::{CurrentReport, Ground, IfNeeded, Milestone, Soc2 as Soc2Out};
use crate::error::PackError;
use crate::facts::{Certification, Facts};
use crate::pack::compiled::Scripts;
use crate::pack::Pack;
use chrono::{Datelike, Days, Months, NaiveDate};
use compact_str::CompactString;
use foldhash::HashMap;
use rhai::{Dynamic, Engine};
use serde::Deserialize;
use std::fmt::Write as _;

/// The Trust Services categories, in the sorted order the output uses.
pub const CATEGORIES: [&str; 5] = [
    "availability",
    "confidentiality",
    "privacy",
    "processing_integrity",
    "security",
];

#[derive(Debug, Clone, Deserialize)]
struct Rule {
    #[serde(deserialize_with = "crate::intern::de")]
    id: crate::intern::Kept,
    outcome: String,
    #[serde(deserialize_with = "crate::intern::de")]
    cites: crate::intern::Kept,
    #[serde(deserialize_with = "crate::intern::de")]
    says: crate::intern::Kept,
    #[serde(default)]
    instead: Option<String>,
    /// The rule as a record's ground gives it, with its JSON, made at load.
    #[serde(skip)]
    ground: Option<Ground>,
}

/// Facts that bring a category into scope: any listed value matches (`when`), or every listed
/// fact matches (`when_all`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trigger {
    #[serde(default)]
    availability_commitments: Option<bool>,
    #[serde(default)]
    service_models: Vec<String>,
    #[serde(default)]
    data_handled: Vec<String>,
    #[serde(default)]
    customer_segments: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Criterion {
    category: String,
    #[serde(default)]
    always: bool,
    #[serde(default)]
    when: Option<Trigger>,
    #[serde(default)]
    when_all: Option<Trigger>,
    #[serde(deserialize_with = "crate::intern::de")]
    cites: crate::intern::Kept,
    #[serde(deserialize_with = "crate::intern::de")]
    says: crate::intern::Kept,
    /// `criteria_` and the category: the rule a record's ground names.
    #[serde(skip)]
    rule: crate::intern::Kept,
    /// The criterion as a record's ground gives it, with its JSON, made at load.
    #[serde(skip)]
    ground: Option<Ground>,
}

/// Timeline lengths, in months, from the pack's parameters.
#[derive(Debug, Clone, Copy)]
struct Timeline {
    readiness: u32,
    type1_after: u32,
    first_window_demanded: u32,
    first_window: u32,
    steady_window: u32,
    current: u32,
    bridge_letter: u32,
    report_after_window: u32,
}

/// The soc2 pack, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Soc2Pack {
    rules: HashMap<&'static str, Rule>,
    criteria: Vec<(usize, Criterion)>,
    timeline: Timeline,
    need: (String, String),
    report_type: (String, String),
}

const NEED_ARGS: [&str; 4] = [
    "service_organisation",
    "soc2_demanded",
    "north_american_customers",
    "consumer_only",
];
const TYPE_ARGS: [&str; 3] = ["type2_demanded", "enterprise_or_regulated", "has_report"];

impl Soc2Pack {
    pub fn load(pack: &Pack) -> Result<Soc2Pack, PackError> {
        let id = pack.manifest.id.clone();
        let manifest_error = |message: String| PackError::Manifest {
            pack: id.clone(),
            message,
        };
        let table_error = |file: &str, message: String| PackError::Table {
            pack: id.clone(),
            file: file.into(),
            line: 0,
            message,
        };
        let rule_list: Vec<Rule> = tables::read(pack, "rules", "rules")?;
        // In the table's order, so that the error names the first wrong row.
        for r in &rule_list {
            if !matches!(
                r.outcome.as_str(),
                "needed" | "not_needed" | "type1" | "type2"
            ) {
                return Err(table_error(
                    "rules",
                    format!(
                        "rule `{}` has outcome `{}`; a soc2 rule decides `needed`, \
                         `not_needed`, `type1` or `type2`",
                        r.id, r.outcome
                    ),
                ));
            }
        }
        let rules: HashMap<&'static str, Rule> = rule_list
            .into_iter()
            .map(|r| {
                let ground = Ground::of_pack(r.id, r.cites, r.says);
                (
                    r.id,
                    Rule {
                        ground: Some(ground),
                        ..r
                    },
                )
            })
            .collect();
        let criteria: Vec<Criterion> = tables::read(pack, "criteria", "criteria")?;
        let criteria = criteria
            .into_iter()
            .map(|c| match CATEGORIES.iter().position(|k| *k == c.category) {
                Some(i) => {
                    let rule = crate::intern::text(&format!("criteria_{}", c.category));
                    Ok((
                        i,
                        Criterion {
                            rule,
                            ground: Some(Ground::of_pack(rule, c.cites, c.says)),
                            ..c
                        },
                    ))
                }
                None => Err(table_error(
                    "criteria",
                    format!(
                        "unknown category `{}`; the categories are {}",
                        c.category,
                        CATEGORIES.join(", ")
                    ),
                )),
            })
            .collect::<Result<_, _>>()?;

        let months = |name: &str| -> Result<u32, PackError> {
            let p = pack
                .manifest
                .parameters
                .get(name)
                .ok_or_else(|| manifest_error(format!("parameter `{name}` is missing")))?;
            p.default
                .as_u64()
                .and_then(|m| u32::try_from(m).ok())
                .filter(|m| *m <= 36)
                .ok_or_else(|| {
                    manifest_error(format!(
                        "parameter `{name}` must be a whole number of months from 0 to 36"
                    ))
                })
        };
        let timeline = Timeline {
            readiness: months("readiness_months")?,
            type1_after: months("type1_after_months")?,
            first_window_demanded: months("first_window_months_demanded")?,
            first_window: months("first_window_months")?,
            steady_window: months("steady_window_months")?,
            current: months("current_months")?,
            bridge_letter: months("bridge_letter_months")?,
            report_after_window: months("report_after_window_months")?,
        };
        let call = |decision: &str, expected: &[&str]| -> Result<(String, String), PackError> {
            let d = pack.manifest.decisions.get(decision).ok_or_else(|| {
                manifest_error(format!(
                    "decision `{decision}` is missing under \"decisions\""
                ))
            })?;
            if d.arguments != expected {
                return Err(manifest_error(format!(
                    "decision `{decision}` must pass the arguments [{}] in this order; \
                     pack.json has [{}]",
                    expected.join(", "),
                    d.arguments.join(", ")
                )));
            }
            Ok((decision.to_string(), d.function.clone()))
        };
        Ok(Soc2Pack {
            rules,
            criteria,
            timeline,
            need: call("need", &NEED_ARGS)?,
            report_type: call("report_type", &TYPE_ARGS)?,
        })
    }

    fn decide(
        &self,
        (decision, function): &(String, String),
        args: &[bool],
        scripts: &Scripts,
        engine: &Engine,
    ) -> Result<&Rule, PackError> {
        let id = scripts.call_rule(engine, decision, function, || {
            args.iter().map(|b| Dynamic::from_bool(*b)).collect()
        })?;
        if super::trace::is_recording() {
            let names: &[&str] = if *decision == self.need.0 {
                &NEED_ARGS
            } else {
                &TYPE_ARGS
            };
            super::trace::push(|| super::trace::Step {
                pack: scripts.pack.clone(),
                decision: decision.clone(),
                function: function.clone(),
                arguments: names
                    .iter()
                    .zip(args)
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                rule: id.clone(),
                record: super::trace::current_record(),
            });
        }
        self.rules.get(id.as_str()).ok_or_else(|| PackError::Table {
            pack: scripts.pack.clone(),
            file: "rules".into(),
            line: 0,
            message: format!(
                "decision `{decision}` returned `{id}`, which is not a rule in tables/rules.json"
            ),
        })
    }
}

fn ground(rule: &Rule) -> Ground {
    Ground::made_or_new(rule.ground.as_ref(), rule.id, rule.cites, rule.says)
}

fn has(list: &Option<Vec<CompactString>>, value: &str) -> bool {
    list.as_ref()
        .map(|l| l.iter().any(|v| v == value))
        .unwrap_or(false)
}

fn any_of(list: &Option<Vec<CompactString>>, values: &[String]) -> bool {
    values.iter().any(|v| has(list, v))
}

impl Trigger {
    fn any(&self, f: &Facts) -> bool {
        self.availability_commitments
            .is_some_and(|want| f.availability_commitments == Some(want))
            || any_of(&f.service_models, &self.service_models)
            || any_of(&f.data_handled, &self.data_handled)
            || any_of(&f.customer_segments, &self.customer_segments)
    }

    fn all(&self, f: &Facts) -> bool {
        self.availability_commitments
            .is_none_or(|want| f.availability_commitments == Some(want))
            && (self.service_models.is_empty() || any_of(&f.service_models, &self.service_models))
            && (self.data_handled.is_empty() || any_of(&f.data_handled, &self.data_handled))
            && (self.customer_segments.is_empty()
                || any_of(&f.customer_segments, &self.customer_segments))
    }
}

/// Parses a date the schema has already checked the shape of; the validator rejects impossible
/// dates, so `None` only comes from facts built by hand. As
/// `NaiveDate::parse_from_str(s, "%Y-%m-%d")`: the usual `YYYY-MM-DD` is read here directly
/// (chrono's parser goes through its format on every call, some 700 instructions, and every
/// record has an assessment date and a few dates of its own), anything else by chrono.
pub fn date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9];
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits.iter().all(|&i| b[i].is_ascii_digit())
    {
        return date_by_chrono(s);
    }
    let number = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    NaiveDate::from_ymd_opt(number(0, 4) as i32, number(5, 7), number(8, 10))
}

/// `NaiveDate::parse_from_str(s, "%Y-%m-%d")`, with the format read once rather than for every
/// date of every record.
fn date_by_chrono(s: &str) -> Option<NaiveDate> {
    static ISO: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
        std::sync::LazyLock::new(|| chrono::format::StrftimeItems::new("%Y-%m-%d").collect());
    let mut parsed = chrono::format::Parsed::new();
    chrono::format::parse(&mut parsed, s, ISO.iter()).ok()?;
    parsed.to_naive_date().ok()
}

/// `d` plus whole calendar months (the day clamped to the month's end).
pub fn plus(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months)).unwrap_or(d)
}

fn iso(d: NaiveDate) -> CompactString {
    let mut out = CompactString::default();
    push_date(&mut out, d);
    out
}

/// Appends a date as chrono writes it (`YYYY-MM-DD`, a signed year outside 0-9999), without
/// the formatting machinery, which costs more than the rest of a framework's due words. The
/// digits are put together on the stack and appended at once: a compact string checks where
/// it keeps its text on every push.
pub(crate) fn push_date(out: &mut CompactString, d: NaiveDate) {
    let year = d.year();
    if !(0..=9999).contains(&year) {
        let _ = write!(out, "{d}");
        return;
    }
    let mut text = *b"0000-00-00";
    let mut two_digits = |at: usize, n: u32| {
        text[at] = b'0' + (n / 10 % 10) as u8;
        text[at + 1] = b'0' + (n % 10) as u8;
    };
    two_digits(0, year as u32 / 100);
    two_digits(2, year as u32 % 100);
    two_digits(5, d.month());
    two_digits(8, d.day());
    // Digits and dashes only.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// The latest SOC 2 report declared (by period end).
fn latest_report(facts: &Facts) -> Option<(&Certification, NaiveDate)> {
    facts
        .certifications
        .iter()
        .flatten()
        .filter(|c| c.scheme == "soc2")
        .filter_map(|c| Some((c, date(c.period_end.as_deref()?)?)))
        .max_by_key(|(_, d)| *d)
}

pub fn evaluate(
    pack: &Soc2Pack,
    scripts: &Scripts,
    engine: &Engine,
    facts: &Facts,
    as_of: NaiveDate,
) -> Result<Soc2Out, PackError> {
    let demanded = facts
        .customer_demands
        .as_ref()
        .and_then(|d| d.soc2.as_deref());
    let segments = facts.customer_segments.as_deref().unwrap_or(&[]);
    let consumer_only = !segments.is_empty() && segments.iter().all(|s| s == "consumer");
    let service: Vec<bool> = match facts.service_organisation {
        Some(b) => vec![b],
        None => vec![true, false],
    };
    let north_american: Vec<bool> = match &facts.customer_regions {
        Some(r) => vec![r.iter().any(|c| c == "US" || c == "CA")],
        None => vec![true, false],
    };

    // Every value the unknown facts could take; the first scenario is the one the known facts
    // describe when nothing is missing.
    let mut answers: Vec<(bool, bool, &Rule)> = Vec::with_capacity(4);
    for &s in &service {
        for &na in &north_american {
            let rule = pack.decide(
                &pack.need,
                &[s, demanded.is_some(), na, consumer_only],
                scripts,
                engine,
            )?;
            answers.push((s, na, rule));
        }
    }
    let needed = |r: &Rule| r.outcome == "needed";
    let first = answers[0].2;
    let agreed = answers.iter().all(|(_, _, r)| needed(r) == needed(first));

    if agreed && !needed(first) {
        return Ok(Soc2Out {
            needed: Some(false),
            report_type: None,
            criteria: Vec::new(),
            why: vec![ground(first)],
            missing: Vec::new(),
            instead: first.instead.clone(),
            if_needed: None,
            current_report: latest_report(facts)
                .map(|(c, end)| judge_report(pack, c, end, as_of, &[])),
            milestones: Vec::new(),
        });
    }

    let has_report = facts
        .certifications
        .iter()
        .flatten()
        .any(|c| c.scheme == "soc2");
    let type_rule = pack.decide(
        &pack.report_type,
        &[
            demanded == Some("type2"),
            segments
                .iter()
                .any(|s| s == "enterprise" || s == "regulated"),
            has_report,
        ],
        scripts,
        engine,
    )?;
    let report_type: &'static str = if type_rule.outcome == "type2" {
        "type2"
    } else {
        "type1"
    };
    let mut criteria = Vec::new();
    let mut criteria_why = Vec::new();
    for (i, c) in &pack.criteria {
        let in_scope = c.always
            || c.when.as_ref().is_some_and(|t| t.any(facts))
            || c.when_all.as_ref().is_some_and(|t| t.all(facts));
        if in_scope && !criteria.contains(&CATEGORIES[*i]) {
            criteria.push(CATEGORIES[*i]);
            criteria_why.push(Ground::made_or_new(
                c.ground.as_ref(),
                c.rule,
                c.cites,
                c.says,
            ));
        }
    }
    criteria.sort_unstable();

    let report = latest_report(facts).map(|(c, end)| judge_report(pack, c, end, as_of, &criteria));

    if !agreed {
        let mut missing = Vec::new();
        // A fact is missing when changing it alone, the other held, changes the answer.
        let differs = |pick: fn(&(bool, bool, &Rule)) -> bool,
                       other: fn(&(bool, bool, &Rule)) -> bool| {
            answers.iter().any(|a| {
                answers.iter().any(|b| {
                    pick(a) != pick(b) && other(a) == other(b) && needed(a.2) != needed(b.2)
                })
            })
        };
        if facts.service_organisation.is_none() && differs(|a| a.0, |a| a.1) {
            missing.push("service_organisation".to_string());
        }
        if facts.customer_regions.is_none() && differs(|a| a.1, |a| a.0) {
            missing.push("customer_regions".to_string());
        }
        let mut why: Vec<Ground> = answers
            .iter()
            .filter(|a| needed(a.2))
            .take(1)
            .map(|a| ground(a.2))
            .collect();
        why.extend(
            answers
                .iter()
                .filter(|a| !needed(a.2))
                .take(1)
                .map(|a| ground(a.2)),
        );
        return Ok(Soc2Out {
            needed: None,
            report_type: None,
            criteria: Vec::new(),
            why,
            missing,
            instead: None,
            if_needed: Some(IfNeeded {
                report_type,
                criteria,
            }),
            current_report: report,
            milestones: Vec::new(),
        });
    }

    let mut why = vec![ground(first), ground(type_rule)];
    why.extend(criteria_why);
    let milestones = milestones(pack.timeline, as_of, report_type, demanded, report.as_ref());
    Ok(Soc2Out {
        needed: Some(true),
        report_type: Some(report_type),
        criteria,
        why,
        missing: Vec::new(),
        instead: None,
        if_needed: None,
        current_report: report,
        milestones,
    })
}

/// A declared report against the assessment date: current for `current` months after its period
/// end, then coverable by a bridge letter for `bridge_letter` months, then stale.
fn judge_report(
    pack: &Soc2Pack,
    cert: &Certification,
    period_end: NaiveDate,
    as_of: NaiveDate,
    needed: &[&'static str],
) -> CurrentReport {
    let current_until = plus(period_end, pack.timeline.current);
    let bridge_until = plus(
        period_end,
        pack.timeline.current + pack.timeline.bridge_letter,
    );
    let status = if period_end > as_of {
        // The period has not ended: the examination is under way, no report exists yet.
        "period_not_ended"
    } else if as_of <= current_until {
        "current"
    } else if as_of <= bridge_until {
        "bridge_letter"
    } else {
        "stale"
    };
    // Every SOC 2 report covers security (the common criteria); others only when declared.
    let mut covered: Vec<String> = vec!["security".into()];
    for c in cert.criteria.iter().flatten() {
        if !covered.iter().any(|k| k == c) {
            covered.push(c.to_string());
        }
    }
    let criteria_to_add = needed
        .iter()
        .filter(|c| !covered.iter().any(|k| k == *c))
        .copied()
        .collect();
    CurrentReport {
        report_type: cert.report_type.as_ref().map(|t| t.to_string()),
        period_end: iso(period_end),
        status,
        current_until: iso(current_until),
        bridge_letter_until: iso(bridge_until),
        criteria: covered,
        criteria_to_add,
    }
}

fn milestone(id: &'static str, date: NaiveDate, says: String) -> Milestone {
    Milestone {
        id,
        date: iso(date),
        says,
    }
}

/// The timeline of DESIGN.md: the first Type 2 window is 3 months when a customer demands a
/// Type 2 now, else 6; windows are 12 months after that; a report is current for 12 months
/// after its period end, and a bridge letter covers about 3 months more.
fn milestones(
    t: Timeline,
    as_of: NaiveDate,
    report_type: &str,
    demanded: Option<&str>,
    report: Option<&CurrentReport>,
) -> Vec<Milestone> {
    let mut out = Vec::new();
    // A Type 2 report that is still current or bridgeable: the next window runs back to back.
    // A Type 1 covers a date, not a window, so a first Type 2 window follows it.
    let live = report.filter(|r| {
        matches!(r.status, "current" | "bridge_letter" | "period_not_ended")
            && r.report_type.as_deref() == Some("type2")
    });
    let window_end = if let Some(r) = live {
        // Back-to-back: the next window starts the day after the last period ended.
        let last_end = date(&r.period_end).unwrap_or(as_of);
        let start = last_end.checked_add_days(Days::new(1)).unwrap_or(last_end);
        let end = plus(last_end, t.steady_window);
        out.push(milestone(
            "next_window_start",
            start,
            "the next Type 2 observation window starts the day after the last one ended".into(),
        ));
        out.push(milestone(
            "current_report_until",
            date(&r.current_until).unwrap_or(end),
            format!(
                "the report for the period ending {} stays current until this date",
                r.period_end
            ),
        ));
        out.push(milestone(
            "bridge_letter_until",
            date(&r.bridge_letter_until).unwrap_or(end),
            "a bridge letter from management covers the gap until the next report, up to this \
             date"
                .into(),
        ));
        end
    } else {
        let ready = plus(as_of, t.readiness);
        let type1_held = report.is_some_and(|r| r.report_type.as_deref() == Some("type1"));
        let (start, first_len, why_len) = if report_type == "type1" && !type1_held {
            let type1 = plus(as_of, t.type1_after);
            out.push(milestone(
                "type1_report_date",
                type1,
                "Type 1: the auditor examines the design of the controls at this date".into(),
            ));
            (type1, t.first_window, "no customer demands a Type 2 now")
        } else if demanded == Some("type2") {
            (
                ready,
                t.first_window_demanded,
                "a customer demands a Type 2 now",
            )
        } else {
            (ready, t.first_window, "no customer demands a Type 2 now")
        };
        out.push(milestone(
            "first_window_start",
            start,
            "the first Type 2 observation window starts: controls must operate from this day"
                .into(),
        ));
        let end = plus(start, first_len);
        out.push(milestone(
            "first_window_end",
            end,
            format!("the first Type 2 observation window ends: {first_len} months, as {why_len}"),
        ));
        end
    };
    let report_date = plus(window_end, t.report_after_window);
    out.push(milestone(
        "type2_report_expected",
        report_date,
        "the Type 2 report is expected after fieldwork and writing".into(),
    ));
    out.push(milestone(
        "report_current_until",
        plus(window_end, t.current),
        format!(
            "that report stays current for {} months after its period end",
            t.current
        ),
    ));
    out.push(milestone(
        "following_window_end",
        plus(window_end, t.steady_window),
        format!(
            "the following window, back to back, is {} months long",
            t.steady_window
        ),
    ));
    out.sort_by(|a, b| a.date.cmp(&b.date));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Dates are read and written as chrono's `%Y-%m-%d` and `Display` do, on
        /// well-formed, impossible and oddly written dates alike.
        #[test]
        fn dates_read_and_write_as_chrono_does(
            text in "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])|[0-9]{4}-[0-9]{2}-[0-9]{2}\
                     | ?[+-]?[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,3}",
            days in prop_oneof![
                Just(NaiveDate::MIN.num_days_from_ce()),
                Just(NaiveDate::MAX.num_days_from_ce()),
                -800_000..4_000_000i32,
            ],
        ) {
            prop_assert_eq!(date(&text), NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
            let d = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let mut written = compact_str::CompactString::default();
            push_date(&mut written, d);
            prop_assert_eq!(written.as_str(), d.to_string());
        }
    }

    // `date` must read exactly what chrono's `parse_from_str(s, "%Y-%m-%d")` reads (the
    // validator's check of certification dates uses that), impossible days included.
    #[test]
    fn date_reads_what_parse_from_str_reads() {
        for s in [
            "2026-12-04",
            "2024-02-29",
            "2026-02-29",
            "2026-1-04",
            "2026-12-4",
            "+2026-12-04",
            "2026-12-04 ",
            " 2026-12-04",
            "2026/12/04",
            "20261204",
            "",
            "9999-12-31",
            "0000-01-01",
        ] {
            assert_eq!(
                date(s),
                NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
                "{s:?}"
            );
        }
    }
}
