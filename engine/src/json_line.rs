//! A record as one JSON line, with the bytes serde_json writes for it (engine/tests/scale.rs
//! holds it to that), written faster.
//!
//! The field names of the record and of its most frequent parts (size, grounds, obligations,
//! plan actions, frameworks, milestones, coverage) are written as the constants they are:
//! through serde, each of a record's hundred-odd names went through sonic-rs's set-up for
//! vector escaping (about 110 instructions a name). Values, and the rarer parts, are written by
//! sonic-rs. The list of packs, the same on every record of a batch, is written once per thread
//! and copied; each obligation is copied from the JSON made for it when its pack was loaded
//! ([`ObligationRef::json`]).
//!
//! Each part is taken apart field by field with nothing left over (`let Nis2 { .. } = n`), so
//! that a field added to [`crate::assessment`] does not compile until it is written here; its
//! place and its rule for being left out follow the declaration, and the test that compares
//! these lines with serde_json's requires every field that may be left out both ways.

use crate::assessment::{
    Action, Assessment, Coverage, FrameworkBasis, Ground, Milestone, Nis2, ObligationRef, PackRef,
    Plan, PlanSummary, Size, Soc2,
};
use serde::Serialize;

type Result = sonic_rs::Result<()>;

/// The record, its line end included.
pub fn json_line(a: &Assessment) -> sonic_rs::Result<Vec<u8>> {
    let Assessment {
        id,
        name,
        line,
        packs,
        as_of,
        nis2,
        soc2,
        plan,
        errors,
        warnings,
    } = a;
    let mut bytes = Vec::with_capacity(8192);
    let out = &mut bytes;
    field(out, b"{\"id\":", id)?;
    if let Some(name) = name {
        field(out, b",\"name\":", name)?;
    }
    number_field(out, b",\"line\":", *line);
    out.extend_from_slice(b",\"packs\":");
    packs_list(out, packs)?;
    field(out, b",\"as_of\":", as_of)?;
    if let Some(n) = nis2 {
        out.extend_from_slice(b",\"nis2\":");
        write_nis2(out, n)?;
    }
    if let Some(s) = soc2 {
        out.extend_from_slice(b",\"soc2\":");
        write_soc2(out, s)?;
    }
    if let Some(p) = plan {
        out.extend_from_slice(b",\"plan\":");
        write_plan(out, p)?;
    }
    if !errors.is_empty() {
        field(out, b",\"errors\":", errors)?;
    }
    if !warnings.is_empty() {
        field(out, b",\"warnings\":", warnings)?;
    }
    out.extend_from_slice(b"}\n");
    Ok(bytes)
}

/// Any value, as serde_json writes it.
fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result {
    sonic_rs::to_writer(out, v)
}

/// A field: `key` is its name as written, with the comma before it when it is not the first
/// and the colon after it (`b",\"rule\":"`).
fn field<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &[u8], v: &T) -> Result {
    out.extend_from_slice(key);
    value(out, v)
}

/// A field whose value is a whole number.
fn number_field(out: &mut Vec<u8>, key: &[u8], n: impl itoa::Integer) {
    out.extend_from_slice(key);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A field whose value is an `f64`, as serde_json writes it. Headcounts and euro amounts are
/// nearly always whole, and a whole number below 10^15 is written as its integer digits and
/// `.0`, which is what the float formatter writes for it, without the formatter.
fn float_field(out: &mut Vec<u8>, key: &[u8], v: f64) -> Result {
    out.extend_from_slice(key);
    match crate::evaluate::size::whole_below_1e15(v) {
        Some(n) => {
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.extend_from_slice(b".0");
            Ok(())
        }
        None => value(out, &v),
    }
}

/// As [`float_field`], `null` for none.
fn optional_float_field(out: &mut Vec<u8>, key: &[u8], v: Option<f64>) -> Result {
    match v {
        Some(v) => float_field(out, key, v),
        None => {
            out.extend_from_slice(key);
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// `[a,b,…]`, each item written by `item`.
fn list<T>(out: &mut Vec<u8>, items: &[T], item: fn(&mut Vec<u8>, &T) -> Result) -> Result {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x)?;
    }
    out.push(b']');
    Ok(())
}

/// The packs list last written on this thread is kept with its bytes; lists are kept for the
/// process ([`crate::intern::packs`]), so an address is never another list's.
fn packs_list(out: &mut Vec<u8>, packs: &'static [PackRef]) -> Result {
    /// A packs list and its bytes.
    type Written = (&'static [PackRef], Vec<u8>);
    thread_local! {
        static PACKS: std::cell::RefCell<Option<Written>> = const { std::cell::RefCell::new(None) };
    }
    PACKS.with_borrow_mut(|last| {
        match last {
            Some((list, bytes)) if std::ptr::eq(*list, packs) => out.extend_from_slice(bytes),
            _ => {
                let bytes = sonic_rs::to_vec(packs)?;
                out.extend_from_slice(&bytes);
                *last = Some((packs, bytes));
            }
        }
        Ok(())
    })
}

fn write_nis2(out: &mut Vec<u8>, n: &Nis2) -> Result {
    let Nis2 {
        classification,
        possible,
        size,
        grounds,
        missing,
        jurisdiction,
        lex_specialis,
        obligations,
        max_fine_eur,
        supplier_exposure,
        notes,
        carve_out,
    } = n;
    field(out, b"{\"classification\":", classification)?;
    if !possible.is_empty() {
        field(out, b",\"possible\":", possible)?;
    }
    out.extend_from_slice(b",\"size\":");
    write_size(out, size)?;
    out.extend_from_slice(b",\"grounds\":");
    list(out, grounds, write_ground)?;
    if !missing.is_empty() {
        field(out, b",\"missing\":", missing)?;
    }
    field(out, b",\"jurisdiction\":", jurisdiction)?;
    if !lex_specialis.is_empty() {
        field(out, b",\"lex_specialis\":", lex_specialis)?;
    }
    if !obligations.is_empty() {
        out.extend_from_slice(b",\"obligations\":");
        list(out, obligations, write_obligation)?;
    }
    if let Some(fine) = max_fine_eur {
        float_field(out, b",\"max_fine_eur\":", *fine)?;
    }
    if let Some(exposure) = supplier_exposure {
        field(out, b",\"supplier_exposure\":", exposure)?;
    }
    if !notes.is_empty() {
        field(out, b",\"notes\":", notes)?;
    }
    if let Some(carve_out) = carve_out {
        field(out, b",\"carve_out\":", carve_out)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_size(out: &mut Vec<u8>, s: &Size) -> Result {
    let Size {
        class,
        possible,
        basis,
        employees,
        annual_turnover_eur,
        balance_sheet_eur,
        own_class,
        aggregation,
        period,
    } = s;
    field(out, b"{\"class\":", class)?;
    if !possible.is_empty() {
        field(out, b",\"possible\":", possible)?;
    }
    field(out, b",\"basis\":", basis)?;
    optional_float_field(out, b",\"employees\":", *employees)?;
    optional_float_field(out, b",\"annual_turnover_eur\":", *annual_turnover_eur)?;
    optional_float_field(out, b",\"balance_sheet_eur\":", *balance_sheet_eur)?;
    field(out, b",\"own_class\":", own_class)?;
    if let Some(aggregation) = aggregation {
        field(out, b",\"aggregation\":", aggregation)?;
    }
    if let Some(period) = period {
        field(out, b",\"period\":", period)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_ground(out: &mut Vec<u8>, g: &Ground) -> Result {
    let Ground {
        rule,
        cites,
        says,
        json,
    } = g;
    if !json.is_empty() {
        out.extend_from_slice(json.as_bytes());
        return Ok(());
    }
    field(out, b"{\"rule\":", rule)?;
    field(out, b",\"cites\":", cites)?;
    field(out, b",\"says\":", says)?;
    out.push(b'}');
    Ok(())
}

fn write_obligation(out: &mut Vec<u8>, o: &ObligationRef) -> Result {
    // `json` is `id`, `cites` and `due` written when the pack was loaded; `title` is for
    // documents only (`#[serde(skip)]`).
    let ObligationRef {
        id: _,
        cites: _,
        due: _,
        title: _,
        json,
    } = o;
    out.extend_from_slice(json.as_bytes());
    Ok(())
}

fn write_soc2(out: &mut Vec<u8>, s: &Soc2) -> Result {
    let Soc2 {
        needed,
        report_type,
        criteria,
        why,
        missing,
        instead,
        if_needed,
        current_report,
        milestones,
    } = s;
    field(out, b"{\"needed\":", needed)?;
    field(out, b",\"type\":", report_type)?;
    field(out, b",\"criteria\":", criteria)?;
    out.extend_from_slice(b",\"why\":");
    list(out, why, write_ground)?;
    if !missing.is_empty() {
        field(out, b",\"missing\":", missing)?;
    }
    if let Some(instead) = instead {
        field(out, b",\"instead\":", instead)?;
    }
    if let Some(if_needed) = if_needed {
        field(out, b",\"if_needed\":", if_needed)?;
    }
    if let Some(report) = current_report {
        field(out, b",\"current_report\":", report)?;
    }
    if !milestones.is_empty() {
        out.extend_from_slice(b",\"milestones\":");
        list(out, milestones, write_milestone)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_milestone(out: &mut Vec<u8>, m: &Milestone) -> Result {
    let Milestone { id, date, says } = m;
    field(out, b"{\"id\":", id)?;
    field(out, b",\"date\":", date)?;
    field(out, b",\"says\":", says)?;
    out.push(b'}');
    Ok(())
}

fn write_plan(out: &mut Vec<u8>, p: &Plan) -> Result {
    let Plan {
        frameworks,
        actions,
        summary,
        coverage,
        notes,
    } = p;
    out.extend_from_slice(b"{\"frameworks\":");
    list(out, frameworks, write_framework)?;
    out.extend_from_slice(b",\"actions\":");
    list(out, actions, write_action)?;
    out.extend_from_slice(b",\"summary\":");
    write_summary(out, summary);
    out.extend_from_slice(b",\"coverage\":{");
    for (i, (framework, c)) in coverage.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        value(out, framework)?;
        out.push(b':');
        write_coverage(out, c)?;
    }
    out.push(b'}');
    if !notes.is_empty() {
        field(out, b",\"notes\":", notes)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_framework(out: &mut Vec<u8>, f: &FrameworkBasis) -> Result {
    let FrameworkBasis {
        framework,
        basis,
        deadline,
        due,
        says,
    } = f;
    field(out, b"{\"framework\":", framework)?;
    field(out, b",\"basis\":", basis)?;
    field(out, b",\"deadline\":", deadline)?;
    field(out, b",\"due\":", due)?;
    field(out, b",\"says\":", says)?;
    out.push(b'}');
    Ok(())
}

fn write_action(out: &mut Vec<u8>, a: &Action) -> Result {
    let Action {
        rank,
        control,
        title,
        head,
        closes,
        phase,
        basis,
        maturity,
        target,
        why,
    } = a;
    number_field(out, b"{\"rank\":", *rank);
    if head.is_empty() {
        field(out, b",\"control\":", control)?;
        field(out, b",\"title\":", title)?;
    } else {
        out.extend_from_slice(head.as_bytes());
    }
    out.extend_from_slice(b",\"closes\":[");
    for (i, r) in closes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if r.json.is_empty() {
            value(out, r.id)?;
        } else {
            out.extend_from_slice(r.json.as_bytes());
        }
    }
    out.push(b']');
    field(out, b",\"phase\":", phase)?;
    field(out, b",\"basis\":", basis)?;
    number_field(out, b",\"maturity\":", *maturity);
    number_field(out, b",\"target\":", *target);
    field(out, b",\"why\":", why)?;
    out.push(b'}');
    Ok(())
}

fn write_summary(out: &mut Vec<u8>, s: &PlanSummary) {
    let PlanSummary {
        actions,
        now,
        next,
        later,
        listed,
    } = s;
    number_field(out, b"{\"actions\":", *actions);
    number_field(out, b",\"now\":", *now);
    number_field(out, b",\"next\":", *next);
    number_field(out, b",\"later\":", *later);
    number_field(out, b",\"listed\":", *listed);
    out.push(b'}');
}

fn write_coverage(out: &mut Vec<u8>, c: &Coverage) -> Result {
    let Coverage {
        requirements,
        met,
        partial,
        open,
        evidence_pct,
        from_certificate_evidence_pct,
    } = c;
    number_field(out, b"{\"requirements\":", *requirements);
    number_field(out, b",\"met\":", *met);
    number_field(out, b",\"partial\":", *partial);
    number_field(out, b",\"open\":", *open);
    float_field(out, b",\"evidence_pct\":", *evidence_pct)?;
    if let Some(pct) = from_certificate_evidence_pct {
        float_field(out, b",\"from_certificate_evidence_pct\":", *pct)?;
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{float_field, optional_float_field};
    use proptest::prelude::*;

    proptest! {
        /// Every `f64` is written as serde_json writes it (the module's contract): whole
        /// figures of every size on both sides of 10^15, minus zero, fractions, and any double.
        #[test]
        fn floats_are_written_as_serde_json_writes_them(v in prop_oneof![
            // Whole numbers of every magnitude, a leading digit at every power of ten.
            (any::<i64>(), 0u32..63).prop_map(|(n, shift)| (n >> shift) as f64),
            (1i64..10, 0u32..19).prop_map(|(d, k)| (d * 10i64.pow(k)) as f64),
            Just(-0.0),
            Just(1e15),
            Just(-1e15),
            Just(999_999_999_999_999.0),
            -1e16..1e16f64,
            any::<f64>(),
        ]) {
            let mut out = Vec::new();
            float_field(&mut out, b"", v).expect("written");
            prop_assert_eq!(&out, &serde_json::to_vec(&v).expect("serde_json"));
            let mut out = Vec::new();
            optional_float_field(&mut out, b"", Some(v).filter(|v| *v > 0.0)).expect("written");
            let expected = serde_json::to_vec(&Some(v).filter(|v| *v > 0.0)).expect("serde_json");
            prop_assert_eq!(out, expected);
        }
    }
}
