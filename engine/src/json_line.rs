//! A record as one JSON line, with the bytes serde_json writes for it (engine/tests/scale.rs
//! holds it to that), written faster.
//!
//! The field names of the record and of its most frequent parts (size, grounds, obligations,
//! plan actions, frameworks, milestones, coverage) are written as the constants they are:
//! through serde, each of a record's hundred-odd names went through sonic-rs's set-up for
//! vector escaping (about 110 instructions a name). Values, and the rarer parts, are written by
//! sonic-rs. The list of packs, the same on every record of a batch, is written once per thread
//! and copied.
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
use std::sync::Arc;

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
    let mut out = Vec::with_capacity(8192);
    out.extend_from_slice(b"{\"id\":");
    value(&mut out, id)?;
    if let Some(name) = name {
        out.extend_from_slice(b",\"name\":");
        value(&mut out, name)?;
    }
    out.extend_from_slice(b",\"line\":");
    number(&mut out, *line);
    out.extend_from_slice(b",\"packs\":");
    packs_list(&mut out, packs)?;
    out.extend_from_slice(b",\"as_of\":");
    value(&mut out, as_of)?;
    if let Some(n) = nis2 {
        out.extend_from_slice(b",\"nis2\":");
        write_nis2(&mut out, n)?;
    }
    if let Some(s) = soc2 {
        out.extend_from_slice(b",\"soc2\":");
        write_soc2(&mut out, s)?;
    }
    if let Some(p) = plan {
        out.extend_from_slice(b",\"plan\":");
        write_plan(&mut out, p)?;
    }
    if !errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        value(&mut out, errors)?;
    }
    if !warnings.is_empty() {
        out.extend_from_slice(b",\"warnings\":");
        value(&mut out, warnings)?;
    }
    out.extend_from_slice(b"}\n");
    Ok(out)
}

/// Any value, as serde_json writes it.
fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result {
    sonic_rs::to_writer(out, v)
}

fn number(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
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

/// The packs list last written on this thread is kept with its bytes; holding the list keeps
/// its address from being reused by another list while it is here.
fn packs_list(out: &mut Vec<u8>, packs: &Arc<Vec<PackRef>>) -> Result {
    /// A packs list and its bytes.
    type Written = (Arc<Vec<PackRef>>, Vec<u8>);
    thread_local! {
        static PACKS: std::cell::RefCell<Option<Written>> = const { std::cell::RefCell::new(None) };
    }
    PACKS.with_borrow_mut(|last| {
        match last {
            Some((list, bytes)) if Arc::ptr_eq(list, packs) => out.extend_from_slice(bytes),
            _ => {
                let bytes = sonic_rs::to_vec(&**packs)?;
                out.extend_from_slice(&bytes);
                *last = Some((packs.clone(), bytes));
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
    out.extend_from_slice(b"{\"classification\":");
    value(out, classification)?;
    if !possible.is_empty() {
        out.extend_from_slice(b",\"possible\":");
        value(out, possible)?;
    }
    out.extend_from_slice(b",\"size\":");
    write_size(out, size)?;
    out.extend_from_slice(b",\"grounds\":");
    list(out, grounds, write_ground)?;
    if !missing.is_empty() {
        out.extend_from_slice(b",\"missing\":");
        value(out, missing)?;
    }
    out.extend_from_slice(b",\"jurisdiction\":");
    value(out, jurisdiction)?;
    if !lex_specialis.is_empty() {
        out.extend_from_slice(b",\"lex_specialis\":");
        value(out, lex_specialis)?;
    }
    if !obligations.is_empty() {
        out.extend_from_slice(b",\"obligations\":");
        list(out, obligations, write_obligation)?;
    }
    if let Some(fine) = max_fine_eur {
        out.extend_from_slice(b",\"max_fine_eur\":");
        value(out, fine)?;
    }
    if let Some(exposure) = supplier_exposure {
        out.extend_from_slice(b",\"supplier_exposure\":");
        value(out, exposure)?;
    }
    if !notes.is_empty() {
        out.extend_from_slice(b",\"notes\":");
        value(out, notes)?;
    }
    if let Some(carve_out) = carve_out {
        out.extend_from_slice(b",\"carve_out\":");
        value(out, carve_out)?;
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
    out.extend_from_slice(b"{\"class\":");
    value(out, class)?;
    if !possible.is_empty() {
        out.extend_from_slice(b",\"possible\":");
        value(out, possible)?;
    }
    out.extend_from_slice(b",\"basis\":");
    value(out, basis)?;
    out.extend_from_slice(b",\"employees\":");
    value(out, employees)?;
    out.extend_from_slice(b",\"annual_turnover_eur\":");
    value(out, annual_turnover_eur)?;
    out.extend_from_slice(b",\"balance_sheet_eur\":");
    value(out, balance_sheet_eur)?;
    out.extend_from_slice(b",\"own_class\":");
    value(out, own_class)?;
    if let Some(aggregation) = aggregation {
        out.extend_from_slice(b",\"aggregation\":");
        value(out, aggregation)?;
    }
    if let Some(period) = period {
        out.extend_from_slice(b",\"period\":");
        value(out, period)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_ground(out: &mut Vec<u8>, g: &Ground) -> Result {
    let Ground { rule, cites, says } = g;
    out.extend_from_slice(b"{\"rule\":");
    value(out, rule)?;
    out.extend_from_slice(b",\"cites\":");
    value(out, cites)?;
    out.extend_from_slice(b",\"says\":");
    value(out, says)?;
    out.push(b'}');
    Ok(())
}

fn write_obligation(out: &mut Vec<u8>, o: &ObligationRef) -> Result {
    // `title` is for documents only (`#[serde(skip)]`).
    let ObligationRef {
        id,
        cites,
        due,
        title: _,
    } = o;
    out.extend_from_slice(b"{\"id\":");
    value(out, &**id)?;
    out.extend_from_slice(b",\"cites\":");
    value(out, &**cites)?;
    out.extend_from_slice(b",\"due\":");
    value(out, &**due)?;
    out.push(b'}');
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
    out.extend_from_slice(b"{\"needed\":");
    value(out, needed)?;
    out.extend_from_slice(b",\"type\":");
    value(out, report_type)?;
    out.extend_from_slice(b",\"criteria\":");
    value(out, criteria)?;
    out.extend_from_slice(b",\"why\":");
    list(out, why, write_ground)?;
    if !missing.is_empty() {
        out.extend_from_slice(b",\"missing\":");
        value(out, missing)?;
    }
    if let Some(instead) = instead {
        out.extend_from_slice(b",\"instead\":");
        value(out, instead)?;
    }
    if let Some(if_needed) = if_needed {
        out.extend_from_slice(b",\"if_needed\":");
        value(out, if_needed)?;
    }
    if let Some(report) = current_report {
        out.extend_from_slice(b",\"current_report\":");
        value(out, report)?;
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
    out.extend_from_slice(b"{\"id\":");
    value(out, id)?;
    out.extend_from_slice(b",\"date\":");
    value(out, date)?;
    out.extend_from_slice(b",\"says\":");
    value(out, says)?;
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
        out.extend_from_slice(b",\"notes\":");
        value(out, notes)?;
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
    out.extend_from_slice(b"{\"framework\":");
    value(out, framework)?;
    out.extend_from_slice(b",\"basis\":");
    value(out, basis)?;
    out.extend_from_slice(b",\"deadline\":");
    value(out, deadline)?;
    out.extend_from_slice(b",\"due\":");
    value(out, due)?;
    out.extend_from_slice(b",\"says\":");
    value(out, says)?;
    out.push(b'}');
    Ok(())
}

fn write_action(out: &mut Vec<u8>, a: &Action) -> Result {
    let Action {
        rank,
        control,
        title,
        closes,
        phase,
        basis,
        maturity,
        target,
        why,
    } = a;
    out.extend_from_slice(b"{\"rank\":");
    number(out, *rank);
    out.extend_from_slice(b",\"control\":");
    value(out, control)?;
    out.extend_from_slice(b",\"title\":");
    value(out, title)?;
    out.extend_from_slice(b",\"closes\":");
    value(out, closes)?;
    out.extend_from_slice(b",\"phase\":");
    value(out, phase)?;
    out.extend_from_slice(b",\"basis\":");
    value(out, basis)?;
    out.extend_from_slice(b",\"maturity\":");
    number(out, *maturity);
    out.extend_from_slice(b",\"target\":");
    number(out, *target);
    out.extend_from_slice(b",\"why\":");
    value(out, why)?;
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
    out.extend_from_slice(b"{\"actions\":");
    number(out, *actions);
    out.extend_from_slice(b",\"now\":");
    number(out, *now);
    out.extend_from_slice(b",\"next\":");
    number(out, *next);
    out.extend_from_slice(b",\"later\":");
    number(out, *later);
    out.extend_from_slice(b",\"listed\":");
    number(out, *listed);
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
    out.extend_from_slice(b"{\"requirements\":");
    number(out, *requirements);
    out.extend_from_slice(b",\"met\":");
    number(out, *met);
    out.extend_from_slice(b",\"partial\":");
    number(out, *partial);
    out.extend_from_slice(b",\"open\":");
    number(out, *open);
    out.extend_from_slice(b",\"evidence_pct\":");
    value(out, evidence_pct)?;
    if let Some(pct) = from_certificate_evidence_pct {
        out.extend_from_slice(b",\"from_certificate_evidence_pct\":");
        value(out, pct)?;
    }
    out.push(b'}');
    Ok(())
}
