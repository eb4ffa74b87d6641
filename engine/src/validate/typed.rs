//! The short way through validation for a record that arrives as JSON text: parsed straight
//! into [`Facts`], then held to what the facts schema states, in Rust.
//!
//! Most records of a portfolio are valid, and for them building a `serde_json::Value` only to
//! hand it to the schema and then to `Facts` is most of the cost of reading. This path accepts a
//! record only when it is sure the schema would: the allowed values of every enumeration are
//! read from the schema itself, the rest (types, required fields, objects only, no field the
//! facts do not name, bounds, patterns) is stated here once, beside the schema keyword it stands
//! for. Any doubt (a type the parse refuses, a value out of bounds, a field it does not know)
//! sends the record the long way, through the schema, which writes the messages; so the two
//! paths can differ in speed only, never in verdict or wording. The differential test in
//! `engine/tests/typed_validation.rs` holds them to that on every case, fixture and generated
//! record, and on thousands of broken variants of them.

use crate::facts::{Certification, Controls, Facts, Figures, LinkedEnterprise, Owner};
use compact_str::CompactString;
use serde_json::Value;

/// The values the schema allows for each enumerated field, read from it.
pub(super) struct Enums {
    public_or_private: Vec<String>,
    public_administration_level: Vec<String>,
    owner_control: Vec<String>,
    owner_investor: Vec<String>,
    linked_relation: Vec<String>,
    designation_member_state: Vec<String>,
    service_models: Vec<String>,
    customer_regions: Vec<String>,
    customer_segments: Vec<String>,
    customer_demands_soc2: Vec<String>,
    data_handled: Vec<String>,
    certification_scheme: Vec<String>,
    certification_type: Vec<String>,
    certification_criteria: Vec<String>,
}

// The bounds the checks below stand for; the tests compare them, and the patterns `country`
// and `date` stand for, with the schema, so that a change there cannot leave this path
// accepting what the schema refuses.
/// `$defs/amount`: a number, minimum 0.
pub(super) const AMOUNT_MINIMUM: f64 = 0.0;
/// `$defs/percent`: a number from 0 to 100.
pub(super) const PERCENT_BOUNDS: (f64, f64) = (0.0, 100.0);
/// `controls` as a map: `maturity` an integer from 0 to 4.
pub(super) const MATURITY_MAXIMUM: u8 = 4;

impl Enums {
    pub(super) fn from_schema(schema: &Value) -> Enums {
        let at = |pointer: &str| -> Vec<String> {
            // The schema ships inside the binary and a test builds this: a missing pointer is
            // a defect of the build, not of the input.
            schema
                .pointer(pointer)
                .and_then(Value::as_array)
                .unwrap_or_else(|| unreachable!("the facts schema has an enum at {pointer}"))
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        Enums {
            public_or_private: at("/properties/public_or_private/enum"),
            public_administration_level: at("/properties/public_administration_level/enum"),
            owner_control: at("/properties/owners/items/properties/control/enum"),
            owner_investor: at("/properties/owners/items/properties/investor/enum"),
            linked_relation: at("/properties/linked_enterprises/items/properties/relation/enum"),
            designation_member_state: at("/properties/designations/properties/member_state/enum"),
            service_models: at("/properties/service_models/items/enum"),
            customer_regions: at("/properties/customer_regions/items/enum"),
            customer_segments: at("/properties/customer_segments/items/enum"),
            customer_demands_soc2: at("/properties/customer_demands/properties/soc2/enum"),
            data_handled: at("/properties/data_handled/items/enum"),
            certification_scheme: at("/properties/certifications/items/properties/scheme/enum"),
            certification_type: at("/properties/certifications/items/properties/type/enum"),
            certification_criteria: at(
                "/properties/certifications/items/properties/criteria/items/enum",
            ),
        }
    }
}

/// The facts of a JSON object when the facts schema surely accepts it and it has no field
/// besides the facts fields; `None` otherwise, or when the text is not one JSON object.
///
/// A record's own fields go the long way: they may hold anything, nested to any depth (the long
/// way refuses JSON nested deeper than 128 levels, which serde_json passes over when it skips a
/// field), and the long way warns about those that look like a misspelt facts field.
pub(super) fn parse(text: &str, enums: &Enums) -> Option<Facts> {
    let mut de = serde_json::Deserializer::from_str(text);
    let facts = <Facts as serde::Deserialize>::deserialize(&mut de).ok()?;
    de.end().ok()?;
    conforms(&facts, enums).then_some(facts)
}

/// What the schema states beyond the types the parse has already enforced.
fn conforms(f: &Facts, e: &Enums) -> bool {
    // `id`: a string of at least one character.
    !f.id.is_empty()
        && countries(f)
        && optional_in(&f.public_or_private, &e.public_or_private)
        && optional_in(
            &f.public_administration_level,
            &e.public_administration_level,
        )
        && amounts(&f.figures())
        && f.previous_period.as_ref().is_none_or(amounts)
        && f.owners.iter().flatten().all(|o| owner(o, e))
        && f.linked_enterprises.iter().flatten().all(|l| linked(l, e))
        && f.designations
            .as_ref()
            .is_none_or(|d| optional_in(&d.member_state, &e.designation_member_state))
        && all_in(&f.service_models, &e.service_models)
        && all_in(&f.customer_regions, &e.customer_regions)
        && all_in(&f.customer_segments, &e.customer_segments)
        && f.customer_demands
            .as_ref()
            .is_none_or(|d| optional_in(&d.soc2, &e.customer_demands_soc2))
        && all_in(&f.data_handled, &e.data_handled)
        && f.certifications
            .iter()
            .flatten()
            .all(|c| certification(c, e))
        && f.controls.as_ref().is_none_or(controls)
}

/// `$defs/country` wherever a country is written.
fn countries(f: &Facts) -> bool {
    let lists = [&f.established_in, &f.provides_services_in];
    let me = f.main_establishment.as_ref();
    let single = [
        f.eu_representative_in.as_deref(),
        me.and_then(|m| m.cyber_decisions_in.as_deref()),
        me.and_then(|m| m.cyber_operations_in.as_deref()),
        me.and_then(|m| m.largest_workforce_in.as_deref()),
    ];
    lists
        .iter()
        .flat_map(|l| l.iter().flatten())
        .all(|c| country(c))
        && single.iter().all(|c| c.is_none_or(country))
}

/// `^[A-Z]{2}$`.
fn country(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`.
fn date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn amount(v: Option<f64>) -> bool {
    v.is_none_or(|v| v >= AMOUNT_MINIMUM)
}

fn amounts(f: &Figures) -> bool {
    amount(f.employees) && amount(f.annual_turnover_eur) && amount(f.balance_sheet_eur)
}

fn percent(v: Option<f64>) -> bool {
    v.is_none_or(|v| (PERCENT_BOUNDS.0..=PERCENT_BOUNDS.1).contains(&v))
}

fn owner(o: &Owner, e: &Enums) -> bool {
    !o.id.is_empty()
        && percent(o.share_pct)
        && percent(o.voting_pct)
        && optional_in(&o.control, &e.owner_control)
        && optional_in(&o.investor, &e.owner_investor)
}

fn linked(l: &LinkedEnterprise, e: &Enums) -> bool {
    is_in(&l.relation, &e.linked_relation)
        && percent(l.share_pct)
        && amounts(&l.figures())
        && l.previous_period.as_ref().is_none_or(amounts)
}

fn certification(c: &Certification, e: &Enums) -> bool {
    is_in(&c.scheme, &e.certification_scheme)
        && c.expires.as_deref().is_none_or(date)
        && optional_in(&c.report_type, &e.certification_type)
        && c.period_end.as_deref().is_none_or(date)
        && all_in(&c.criteria, &e.certification_criteria)
}

/// `controls`: a list of non-empty ids, or a map of id to `{maturity: 0..4, documented}`.
fn controls(c: &Controls) -> bool {
    match c {
        Controls::List(ids) => ids.iter().all(|id| !id.is_empty()),
        Controls::Map(states) => states
            .values()
            .all(|s| s.maturity.is_none_or(|m| m <= MATURITY_MAXIMUM)),
    }
}

fn optional_in(value: &Option<CompactString>, allowed: &[String]) -> bool {
    value.as_ref().is_none_or(|v| is_in(v, allowed))
}

fn all_in(values: &Option<Vec<CompactString>>, allowed: &[String]) -> bool {
    values.iter().flatten().all(|v| is_in(v, allowed))
}

fn is_in(value: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|a| a == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        serde_json::from_str(super::super::FACTS_SCHEMA).expect("the facts schema is JSON")
    }

    // schemas/facts.schema.json `$defs`: what the checks here stand for.
    #[test]
    fn the_checks_stand_for_the_schema_keywords() {
        let s = schema();
        assert_eq!(s["$defs"]["country"]["pattern"], "^[A-Z]{2}$");
        assert_eq!(
            s["$defs"]["date"]["pattern"],
            "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        );
        assert_eq!(s["$defs"]["amount"]["minimum"], AMOUNT_MINIMUM);
        assert_eq!(s["$defs"]["percent"]["minimum"], PERCENT_BOUNDS.0);
        assert_eq!(s["$defs"]["percent"]["maximum"], PERCENT_BOUNDS.1);
        let maturity = &s["properties"]["controls"]["oneOf"][1]["additionalProperties"]
            ["properties"]["maturity"];
        assert_eq!(maturity["maximum"], MATURITY_MAXIMUM);
        assert_eq!(maturity["minimum"], 0);
        // Every enumeration is found (a missing one would stop the build of the validator).
        let enums = Enums::from_schema(&s);
        assert_eq!(enums.public_or_private, ["public", "private"]);
    }

    #[test]
    fn country_and_date_follow_their_patterns() {
        assert!(country("DE") && !country("de") && !country("DEU") && !country("Ä"));
        assert!(date("2026-12-04") && !date("2026-1-04") && !date("2026/12/04"));
        assert!(!date("2026-12-04\n") && !date("２026-12-04"));
    }
}
