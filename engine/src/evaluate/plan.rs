//! The remediation plan: gaps against the common catalogue, ranked and phased.
//!
//! DESIGN.md "Remediation plan": every requirement of an applicable framework maps to controls;
//! a gap is a control below its target maturity that serves at least one such requirement. Gaps
//! rank by basis (legal over contractual over voluntary), then deadline (a requirement with an
//! event clock or a precondition first at the same date), then how many applicable requirements
//! the control serves, then gap size, then effort (smaller first), then control id. Phases come
//! from the deadline. All of it is set work on small bit sets, done here in Rust.

use super::controls::{Bits, Catalogue, MATURITY_MAX, MAX_REQUIREMENTS};
use super::soc2::{date, plus, push_date, CATEGORIES};
use crate::assessment::{
    Action, Classification, Coverage, FrameworkBasis, Nis2, Plan as PlanOut, PlanSummary,
    RequirementId, Soc2,
};
use crate::error::{PackError, RecordError};
use crate::facts::{Controls, Facts};
use crate::pack::Pack;
use chrono::{Datelike, NaiveDate};
use compact_str::CompactString;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Why a framework applies, strongest first: the order of the first ranking criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Basis {
    Legal,
    Contractual,
    Voluntary,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Legal => "legal",
            Basis::Contractual => "contractual",
            Basis::Voluntary => "voluntary",
        }
    }
}

/// A control ranked first among the actions of the same basis and deadline, in table order.
#[derive(Debug, Clone, Deserialize)]
struct First {
    control: String,
    cites: String,
    says: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Frameworks {
    nis2_in_force: String,
    nis2_in_force_cites: String,
    obligation_requirements: BTreeMap<String, Vec<String>>,
    first: Vec<First>,
}

#[derive(Debug, Clone, Deserialize)]
struct Capacity {
    weeks_per_phase: f64,
    /// Person-weeks of effort grades 1, 2 and 3.
    effort_weeks: [f64; 3],
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct Phases {
    now: u32,
    next: u32,
    later: u32,
}

/// The controls and plan packs, ready to evaluate.
#[derive(Debug, Clone)]
pub struct PlanPack {
    pub catalogue: Catalogue,
    nis2_in_force: NaiveDate,
    nis2_in_force_cites: String,
    /// NIS2 obligation id → the requirements it brings into the plan, sorted by id: a dozen
    /// entries, searched by halving faster than a hash map hashes the id.
    obligation_requirements: Vec<(String, Bits)>,
    nis2_all: Bits,
    /// NIS2 Art. 21 alone, for the coverage figure users ask for most.
    nis2_art21: Bits,
    supplier: Bits,
    iso27001: Bits,
    /// Per SOC 2 category, in the order of [`CATEGORIES`].
    soc2_by_category: Vec<Bits>,
    /// Per control of the catalogue: its place in the `first` list with the words of the
    /// action's reason (`; first at that date: … (cites)`), for controls ranked first at the same
    /// deadline.
    first: Vec<Option<(u8, String)>>,
    phases: Phases,
    capacity: Capacity,
    /// What a current ISO 27001 certificate alone evidences: its controls at target, nothing
    /// else. The same for every certificate, so worked out once.
    certificate_evidence: Box<Evidence>,
    /// `capacity.weeks_per_phase` as the notes write it, formatted once.
    weeks_per_phase_words: String,
    iso27001_demand_months: u32,
    supplier_terms_months: u32,
}

/// The date after which no ISO/IEC 27001:2013 certificate is valid (IAF MD 26: 36-month
/// transition from 31 October 2022).
const ISO_2013_LAST_DAY: &str = "2025-10-31";

impl PlanPack {
    pub fn load(controls: &Pack, plan: &Pack) -> Result<PlanPack, PackError> {
        let catalogue = Catalogue::load(controls)?;
        let id = plan.manifest.id.clone();
        let manifest_error = |message: String| PackError::Manifest {
            pack: id.clone(),
            message,
        };
        let table_error = |message: String| PackError::Table {
            pack: id.clone(),
            file: "frameworks".into(),
            line: 0,
            message,
        };
        let f: Frameworks = serde_json::from_value(plan.table("frameworks")?)
            .map_err(|e| table_error(e.to_string()))?;
        let requirement = |r: &str| {
            catalogue.requirement_index.get(r).copied().ok_or_else(|| {
                table_error(format!(
                    "`{r}` is not a requirement of the controls pack's requirements.json"
                ))
            })
        };
        // In the map's order, which is the ids' order, as the search relies on.
        let mut obligation_requirements = Vec::new();
        for (obligation, reqs) in &f.obligation_requirements {
            let mut bits = Bits::default();
            for r in reqs {
                bits.set(requirement(r)?);
            }
            obligation_requirements.push((obligation.clone(), bits));
        }
        let mut first = vec![None; catalogue.controls.len()];
        for (position, u) in f.first.iter().enumerate() {
            let control = catalogue
                .control_index
                .get(u.control.as_str())
                .copied()
                .ok_or_else(|| {
                    table_error(format!(
                        "`first` names `{}`, which is not a control of the catalogue",
                        u.control
                    ))
                })?;
            let position = u8::try_from(position)
                .map_err(|_| table_error("`first` lists more than 255 controls".into()))?;
            first[control] = Some((
                position,
                format!("; first at that date: {} ({})", u.says, u.cites),
            ));
        }
        let param = |name: &str| {
            plan.manifest
                .parameters
                .get(name)
                .map(|p| p.default.clone())
                .ok_or_else(|| manifest_error(format!("parameter `{name}` is missing")))
        };
        let phases: Phases = serde_json::from_value(param("phase_months")?)
            .map_err(|e| manifest_error(format!("parameter `phase_months`: {e}")))?;
        if !(phases.now <= phases.next && phases.next <= phases.later) {
            return Err(manifest_error(
                "parameter `phase_months`: now, next and later must not decrease".into(),
            ));
        }
        let capacity: Capacity = serde_json::from_value(param("capacity")?)
            .map_err(|e| manifest_error(format!("parameter `capacity`: {e}")))?;
        if capacity.weeks_per_phase <= 0.0 || capacity.effort_weeks.iter().any(|w| *w < 0.0) {
            return Err(manifest_error(
                "parameter `capacity`: weeks_per_phase must be positive and effort_weeks not \
                 negative"
                    .into(),
            ));
        }
        let months = |name: &str| -> Result<u32, PackError> {
            param(name)?
                .as_u64()
                .and_then(|m| u32::try_from(m).ok())
                .ok_or_else(|| manifest_error(format!("parameter `{name}` must be whole months")))
        };
        let nis2_in_force = date(&f.nis2_in_force)
            .ok_or_else(|| table_error("`nis2_in_force` must be a date YYYY-MM-DD".into()))?;
        let mut nis2_art21 = Bits::default();
        for (i, r) in catalogue.requirements.iter().enumerate() {
            if r.id.starts_with("nis2:art21") {
                nis2_art21.set(i);
            }
        }
        let mut credit = vec![0u8; catalogue.controls.len()];
        for &c in &catalogue.iso_controls {
            credit[c] = catalogue.controls[c].target_maturity;
        }
        let certificate_evidence = Box::new(Evidence::of(&catalogue, &credit));
        Ok(PlanPack {
            certificate_evidence,
            nis2_art21,
            nis2_all: catalogue.framework("nis2", None),
            supplier: catalogue.framework("supplier", None),
            iso27001: catalogue.framework("iso27001", None),
            soc2_by_category: CATEGORIES
                .iter()
                .map(|c| catalogue.framework("soc2", Some(&[c])))
                .collect(),
            catalogue,
            nis2_in_force,
            nis2_in_force_cites: f.nis2_in_force_cites,
            obligation_requirements,
            first,
            phases,
            weeks_per_phase_words: capacity.weeks_per_phase.to_string(),
            capacity,
            iso27001_demand_months: months("iso27001_demand_months")?,
            supplier_terms_months: months("supplier_terms_months")?,
        })
    }
}

/// One framework the plan works towards.
struct Applies {
    framework: &'static str,
    requirements: Bits,
    basis: Basis,
    deadline: NaiveDate,
    /// How many of the frameworks have an earlier deadline: a small number that sorts as the
    /// deadline does, for the rank key. Set once all frameworks are known.
    deadline_rank: u8,
    /// The deadline as the plan says it: a date, or since when it has been due.
    due: CompactString,
    says: String,
}

/// The key actions are ranked by; smaller ranks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RankKey {
    basis: Basis,
    /// The deadline's [`Applies::deadline_rank`].
    deadline: u8,
    /// The control's place in the plan pack's `first` list (an event clock or a precondition),
    /// `u8::MAX` when it is not listed.
    first: u8,
    /// Negated so that more requirements rank first.
    serves: std::cmp::Reverse<usize>,
    gap: std::cmp::Reverse<u8>,
    effort: u8,
    control: usize,
}

// The widths of the packed key: at most MAX_REQUIREMENTS requirements served (9 bits), a gap
// of at most MATURITY_MAX (3 bits), effort 1 to 3 (2 bits, checked by `Catalogue::load`).
const _: () = assert!(MAX_REQUIREMENTS < 1 << 9 && (MATURITY_MAX as usize) < 1 << 3);
/// Where the gap sits in the packed key.
const GAP_SHIFT: u32 = 34;

impl RankKey {
    /// The fields in rank order packed into one number that sorts the same way, so that sorting
    /// a plan's hundred-odd gaps moves and compares single words, not seven fields. The control
    /// takes the low 32 bits: a catalogue holds a few hundred.
    fn packed(&self) -> u64 {
        (self.basis as u64) << 62
            | u64::from(self.deadline) << 54
            | u64::from(self.first) << 46
            | ((MAX_REQUIREMENTS - self.serves.0) as u64) << 37
            | u64::from(MATURITY_MAX - self.gap.0) << GAP_SHIFT
            | u64::from(self.effort) << 32
            | self.control as u64 & u64::from(u32::MAX)
    }

    /// `key`, packed with a gap of [`MATURITY_MAX`] (its gap bits 0), with the gap `gap`.
    fn with_gap(key: u64, gap: u8) -> u64 {
        key | u64::from(MATURITY_MAX - gap) << GAP_SHIFT
    }

    /// The key [`RankKey::packed`] was made from.
    fn unpacked(key: u64) -> RankKey {
        let field = |shift: u32, bits: u32| (key >> shift) & ((1 << bits) - 1);
        RankKey {
            basis: match field(62, 2) {
                0 => Basis::Legal,
                1 => Basis::Contractual,
                _ => Basis::Voluntary,
            },
            deadline: field(54, 8) as u8,
            first: field(46, 8) as u8,
            serves: std::cmp::Reverse(MAX_REQUIREMENTS - field(37, 9) as usize),
            gap: std::cmp::Reverse(MATURITY_MAX - field(GAP_SHIFT, 3) as u8),
            effort: field(32, 2) as u8,
            control: field(0, 32) as usize,
        }
    }
}

/// Maturity of every catalogue control, from the certificate credit and the declared controls.
pub struct Maturity {
    pub levels: Vec<u8>,
    /// Whether a current ISO 27001 certificate credits its controls. What it credits is the
    /// same for every organisation: [`PlanPack::certificate_evidence`].
    pub certificate: bool,
    pub notes: Vec<String>,
}

/// Reads the declared controls and the ISO 27001 certificate credit. Unknown control ids are
/// errors naming the field, with a suggestion.
pub fn maturity(
    pack: &PlanPack,
    facts: &Facts,
    soc2: Option<&Soc2>,
    as_of: NaiveDate,
    line: usize,
) -> Result<Maturity, Vec<RecordError>> {
    let catalogue = &pack.catalogue;
    let mut levels = vec![0u8; catalogue.controls.len()];
    let mut notes = Vec::new();
    let mut certificate = false;

    let iso = facts
        .certifications
        .iter()
        .flatten()
        .filter(|c| c.scheme == "iso27001");
    let last_2013 = date(ISO_2013_LAST_DAY).unwrap_or(as_of);
    for cert in iso {
        let expires = cert.expires.as_deref().and_then(date);
        let edition = cert.edition.as_deref().map(str::trim);
        let problem = match edition {
            Some(e) if e.contains("2013") => Some(if as_of > last_2013 {
                "an ISO 27001:2013 certificate is no longer valid after 31 October 2025 (IAF MD \
                 26)"
            } else {
                "an ISO 27001:2013 certificate credits the 2013 controls, which are not the \
                 2022 catalogue's"
            }),
            Some(e) if !e.contains("2022") => {
                Some("only the 2022 edition maps to the catalogue; state `edition` as 2022")
            }
            None if as_of <= last_2013 => {
                Some("the certificate's edition is not stated; state `edition` (2013 or 2022)")
            }
            _ => None,
        }
        .or(if expires.is_none() {
            Some("the certificate's expiry is not stated; state `expires` to get credit")
        } else if expires.is_some_and(|e| e < as_of) {
            Some("the certificate expired before the assessment date, so it credits nothing")
        } else if cert.scope_covers_services != Some(true) {
            Some(
                "the certificate's scope is not stated to cover the services; state \
                 `scope_covers_services` to get credit",
            )
        } else {
            None
        });
        match problem {
            Some(p) => notes.push(format!("ISO 27001 certificate not credited: {p}")),
            None => {
                for &c in &catalogue.iso_controls {
                    levels[c] = levels[c].max(catalogue.controls[c].target_maturity);
                }
                notes.push(format!(
                    "a current ISO 27001:2022 certificate covering the services credits its \
                     clauses and Annex A controls at target maturity, unless `controls` says \
                     otherwise{}",
                    if edition.is_none() {
                        " (edition not stated: taken as 2022, the only one valid after 31 \
                         October 2025)"
                    } else {
                        ""
                    }
                ));
                if let Some(e) = expires.filter(|e| *e <= plus(as_of, 12)) {
                    notes.push(format!(
                        "the ISO 27001 certificate expires on {e}: recertification must be \
                         planned within the plan's horizon"
                    ));
                }
                certificate = true;
                break;
            }
        }
    }

    // A Type 2 report the soc2 decision judged current credits the controls serving the
    // criteria it covers: the auditor found them operating over the period (AT-C 205).
    if let Some(r) = soc2
        .and_then(|s| s.current_report.as_ref())
        .filter(|r| r.status == "current" && r.report_type.as_deref() == Some("type2"))
    {
        let mut covered = Bits::default();
        for c in &r.criteria {
            if let Some(i) = CATEGORIES.iter().position(|k| k == c) {
                covered.union_with(&pack.soc2_by_category[i]);
            }
        }
        for (c, control) in catalogue.controls.iter().enumerate() {
            if catalogue.serves[c].intersects(&covered) {
                levels[c] = levels[c].max(control.target_maturity);
            }
        }
        notes.push(format!(
            "the SOC 2 Type 2 report for the period ending {} is current: the controls serving \
             its criteria count at target maturity, unless `controls` says otherwise",
            r.period_end
        ));
    }

    let mut errors = Vec::new();
    let mut declare = |id: &str, level: u8| match catalogue.control_index.get(id) {
        Some(&c) => levels[c] = level,
        None => {
            let hint = crate::validate::did_you_mean(id, catalogue.controls.iter().map(|c| c.id))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            errors.push(RecordError::new(
                "unknown_id",
                line,
                Some(format!("/controls/{id}")),
                format!(
                    "`controls`: `{id}` is not a control of the catalogue (ISO/IEC 27001:2022 \
                     clauses C.4-C.10 and Annex A ids like A.5.1, NIS2 items N.*, SOC 2 items \
                     S.*){hint}"
                ),
            ));
        }
    };
    match &facts.controls {
        None => {}
        Some(Controls::List(ids)) => {
            for id in ids {
                declare(id, 3);
            }
        }
        Some(Controls::Map(map)) => {
            let mut unstated = 0;
            for (id, state) in map {
                if state.maturity.is_none() {
                    unstated += 1;
                }
                declare(id, state.maturity.unwrap_or(0));
            }
            if unstated > 0 {
                notes.push(format!(
                    "{unstated} declared control(s) give no maturity and count as 0 (not evidenced)"
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(Maturity {
            levels,
            certificate,
            notes,
        })
    } else {
        Err(errors)
    }
}

/// The frameworks that apply, from the NIS2 and SOC 2 decisions and the declared facts.
fn frameworks(
    pack: &PlanPack,
    facts: &Facts,
    nis2: Option<&Nis2>,
    soc2: Option<&Soc2>,
    iso_credited: bool,
    as_of: NaiveDate,
    notes: &mut Vec<String>,
) -> Vec<Applies> {
    let mut out = Vec::new();
    let nis2_deadline = pack.nis2_in_force.max(as_of);
    if let Some(n) = nis2 {
        // The requirements of the obligations the NIS2 decision lists (none when out of scope
        // or undetermined; lex specialis has already removed what a sector act displaces).
        let mut requirements = Bits::default();
        for o in &n.obligations {
            let found = pack
                .obligation_requirements
                .binary_search_by(|(id, _)| id.as_str().cmp(o.id));
            if let Ok(i) = found {
                requirements.union_with(&pack.obligation_requirements[i].1);
            }
        }
        let says = match n.classification {
            Classification::Essential | Classification::Important => {
                let class = n.classification.as_str();
                let cites = &pack.nis2_in_force_cites;
                let mut says = String::with_capacity(class.len() + cites.len() + 10);
                says.push_str(class);
                says.push_str(" entity (");
                says.push_str(cites);
                says.push(')');
                says
            }
            Classification::RegistrationOnly => "registration duties only".into(),
            Classification::Undetermined => {
                requirements = pack.nis2_all;
                notes.push(
                    "NIS2 is undetermined: its requirements are planned as if it applies, since \
                     a wrong 'out of scope' costs more than early work; settle nis2.missing"
                        .into(),
                );
                "undetermined: planned as if it applies".into()
            }
            Classification::OutOfScope => String::new(),
        };
        if !requirements.is_empty() {
            out.push(Applies {
                framework: "nis2",
                requirements,
                basis: Basis::Legal,
                deadline: nis2_deadline,
                deadline_rank: 0,
                due: if pack.nis2_in_force < as_of {
                    dated("due since ", pack.nis2_in_force, "")
                } else {
                    dated("due ", pack.nis2_in_force, "")
                },
                says,
            });
        }
        if n.supplier_exposure.is_some() {
            out.push(Applies {
                framework: "supplier",
                requirements: pack.supplier,
                basis: Basis::Contractual,
                deadline: plus(as_of, pack.supplier_terms_months),
                deadline_rank: 0,
                due: dated("by ", plus(as_of, pack.supplier_terms_months), ""),
                says: "terms NIS2 customers pass down (NIS2 Art. 21(2)(d), 21(3); for digital \
                       infrastructure and digital provider customers Reg. (EU) 2024/2690 Annex \
                       5.1.4, for others the national law)"
                    .into(),
            });
        }
    }
    if let Some(s) = soc2 {
        match s.needed {
            Some(true) => {
                let mut requirements = Bits::default();
                for c in &s.criteria {
                    if let Some(i) = CATEGORIES.iter().position(|k| k == c) {
                        requirements.union_with(&pack.soc2_by_category[i]);
                    }
                }
                let demanded = facts
                    .customer_demands
                    .as_ref()
                    .is_some_and(|d| d.soc2.is_some());
                let start = s
                    .milestones
                    .iter()
                    .find(|m| {
                        matches!(
                            m.id,
                            "first_window_start" | "type1_report_date" | "next_window_start"
                        )
                    })
                    .and_then(|m| date(&m.date))
                    .unwrap_or(as_of)
                    .max(as_of);
                out.push(Applies {
                    framework: "soc2",
                    requirements,
                    basis: if demanded {
                        Basis::Contractual
                    } else {
                        Basis::Voluntary
                    },
                    deadline: start,
                    deadline_rank: 0,
                    due: if start > as_of {
                        dated("by ", start, " (window start)")
                    } else {
                        "now (a window is under way)".into()
                    },
                    says: format!(
                        "SOC 2 {} on {}",
                        match s.report_type {
                            Some("type1") => "Type 1",
                            Some(_) => "Type 2",
                            None => "report",
                        },
                        s.criteria.join(", ")
                    ),
                });
            }
            None => notes.push(
                "SOC 2 is undetermined: its criteria join the plan once soc2.missing is settled"
                    .into(),
            ),
            Some(false) => {}
        }
    }
    let iso_demanded = facts
        .customer_demands
        .as_ref()
        .and_then(|d| d.iso27001)
        .unwrap_or(false);
    if iso_demanded || iso_credited {
        let mut deadline = plus(as_of, pack.iso27001_demand_months);
        if iso_credited {
            // A held certificate must be renewed before it expires.
            if let Some(expires) = iso_expiry(facts).filter(|e| *e >= as_of) {
                deadline = deadline.min(expires);
            }
        }
        out.push(Applies {
            framework: "iso27001",
            requirements: pack.iso27001,
            basis: if iso_demanded {
                Basis::Contractual
            } else {
                Basis::Voluntary
            },
            deadline,
            deadline_rank: 0,
            due: dated("by ", deadline, ""),
            says: if iso_demanded {
                "customers demand ISO 27001 certification".into()
            } else {
                "current ISO 27001 certificate: keep it".into()
            },
        });
    }
    // Counting earlier deadlines gives equal deadlines the same rank, and a later one a
    // higher rank.
    for i in 0..out.len() {
        let earlier = out.iter().filter(|a| a.deadline < out[i].deadline).count();
        out[i].deadline_rank = u8::try_from(earlier).unwrap_or(u8::MAX);
    }
    out
}

/// The latest expiry among the ISO 27001 certificates declared.
fn iso_expiry(facts: &Facts) -> Option<NaiveDate> {
    facts
        .certifications
        .iter()
        .flatten()
        .filter(|c| c.scheme == "iso27001")
        .filter_map(|c| date(c.expires.as_deref()?))
        .max()
}

/// `before`, the date, `after`: how the plan says a deadline.
fn dated(before: &str, d: NaiveDate, after: &str) -> CompactString {
    let mut out = CompactString::with_capacity(before.len() + 10 + after.len());
    out.push_str(before);
    push_date(&mut out, d);
    out.push_str(after);
    out
}

fn effort_word(effort: u8) -> &'static str {
    match effort {
        1 => "days",
        2 => "weeks",
        _ => "months",
    }
}

/// What one maturity vector evidences, per requirement: the coverage figures of every framework
/// are read from it, so the catalogue is walked once per vector, not once per framework.
#[derive(Debug, Clone)]
struct Evidence {
    /// Requirements a control at target fully meets (a `full` row).
    met: Bits,
    /// Requirements with some mapped control at target; `met` is within it, as a `full` row is
    /// also a mapping row.
    evidenced: Bits,
    /// Per requirement: how many of its mapped controls are at target.
    at_target: [u32; MAX_REQUIREMENTS],
}

impl Evidence {
    fn of(catalogue: &Catalogue, levels: &[u8]) -> Evidence {
        let mut evidence = Evidence {
            met: Bits::default(),
            evidenced: Bits::default(),
            at_target: [0; MAX_REQUIREMENTS],
        };
        for (c, control) in catalogue.controls.iter().enumerate() {
            if levels[c] < control.target_maturity {
                continue;
            }
            let served = &catalogue.serves[c];
            evidence.met.union_with(&catalogue.fully_serves[c]);
            evidence.evidenced.union_with(served);
            for r in served.and_iter(served) {
                evidence.at_target[r] += 1;
            }
        }
        evidence
    }
}

/// Coverage of one set of requirements: met when a control that fully meets the requirement is
/// at target; partial when only evidence towards it is (a `partial` row); the score is the share
/// of mapped controls at target, averaged over requirements.
fn coverage(
    pack: &PlanPack,
    requirements: &Bits,
    evidence: &Evidence,
) -> (usize, usize, usize, f64) {
    let n = requirements.and_count(requirements);
    let met = requirements.and_count(&evidence.met);
    let evidenced = requirements.and_count(&evidence.evidenced);
    // Summed in requirement order; a requirement without evidence adds a share of 0, which
    // leaves the sum as it is.
    let mut sum = 0.0;
    for r in requirements.and_iter(&evidence.evidenced) {
        sum += f64::from(evidence.at_target[r]) / pack.catalogue.served_by[r].len() as f64;
    }
    let pct = if n == 0 {
        0.0
    } else {
        (sum / n as f64 * 1000.0).round() / 10.0
    };
    (met, evidenced - met, n - evidenced, pct)
}

/// What the ranking of gaps takes from the frameworks that apply alone: their requirements,
/// basis and deadline ranks, not their dates nor any organisation's controls. A batch has few
/// of these, and each serves every organisation under the same frameworks, however its controls
/// stand.
struct Frame {
    /// The requirements of every framework that applies.
    all: Bits,
    /// Every control that serves one of them, with its packed rank key but for the gap
    /// ([`RankKey::with_gap`]), in the order of those keys.
    keys: Vec<(usize, u64)>,
}

impl Frame {
    fn of(pack: &PlanPack, applies: &[Applies]) -> Frame {
        let catalogue = &pack.catalogue;
        let mut all = Bits::default();
        for a in applies {
            all.union_with(&a.requirements);
        }
        let mut keys = Vec::with_capacity(catalogue.controls.len());
        for (c, control) in catalogue.controls.iter().enumerate() {
            let served = &catalogue.serves[c];
            if !served.intersects(&all) {
                continue;
            }
            let mut basis = Basis::Voluntary;
            let mut deadline = u8::MAX;
            for a in applies
                .iter()
                .filter(|a| served.intersects(&a.requirements))
            {
                basis = basis.min(a.basis);
                deadline = deadline.min(a.deadline_rank);
            }
            let key = RankKey {
                basis,
                deadline,
                first: pack.first[c].as_ref().map_or(u8::MAX, |f| f.0),
                serves: std::cmp::Reverse(served.and_count(&all)),
                gap: std::cmp::Reverse(MATURITY_MAX),
                effort: control.effort,
                control: c,
            };
            keys.push((c, key.packed()));
        }
        keys.sort_unstable_by_key(|&(_, key)| key);
        Frame { all, keys }
    }
}

/// Puts `key` in its place in `keys`, which are in order, searching from the end: a few places
/// back at most, for keys made in [`Frame::keys`]'s order.
fn put_in_place(keys: &mut Vec<u64>, key: u64) {
    let place = keys.iter().rposition(|&k| k < key).map_or(0, |p| p + 1);
    keys.insert(place, key);
}

/// Ranks the gaps of an organisation's controls and puts each in a phase (see the module's
/// documentation); the work [`Rankings`] keeps. `frame` is [`Frame::of`] the same `applies`.
fn rank(
    pack: &PlanPack,
    frame: &Frame,
    levels: &[u8],
    applies: &[Applies],
    as_of: NaiveDate,
) -> Ranking {
    let catalogue = &pack.catalogue;
    // Every gap as its packed rank key, in key order (the key ends with the control, so it is
    // unique). The frame's keys are in that order but for the gap, which can only reorder the
    // controls whose keys agree before it: each gap is put in its place from the end, a few
    // places back at most.
    let mut gaps: Vec<u64> = Vec::with_capacity(frame.keys.len());
    for &(c, key) in &frame.keys {
        let target = catalogue.controls[c].target_maturity;
        if levels[c] < target {
            put_in_place(&mut gaps, RankKey::with_gap(key, target - levels[c]));
        }
    }

    // Phase: the first one that is on time for the deadline and still has room, in rank order.
    let now = plus(as_of, pack.phases.now);
    let next = plus(as_of, pack.phases.next);
    let later = plus(as_of, pack.phases.later);
    let phase_end = [now, next, later];
    let mut load = [0.0f64; 3];
    let mut phases = [0; 3];
    let mut late = 0;
    let gaps = gaps
        .into_iter()
        .map(|key| {
            let g = RankKey::unpacked(key);
            let weeks = pack.capacity.effort_weeks[usize::from(g.effort.clamp(1, 3)) - 1];
            let mut phase = 0;
            while phase < 2 && load[phase] + weeks > pack.capacity.weeks_per_phase {
                phase += 1;
            }
            load[phase] += weeks;
            phases[phase] += 1;
            // Late: the phase it fits in ends after its deadline (an overdue one is late unless
            // it is done now).
            let deadline = applies
                .iter()
                .find(|a| a.deadline_rank == g.deadline)
                .map_or(NaiveDate::MAX, |a| a.deadline);
            let moved = phase_end[phase] > deadline.max(now);
            late += usize::from(moved);
            (key, phase as u8, moved)
        })
        .collect();
    Ranking {
        all: frame.all,
        gaps,
        phases,
        late,
        later_load: load[2],
        evidence: Evidence::of(catalogue, levels),
    }
}

/// What ranking a plan's gaps gives ([`rank`]): for one plan pack, a function of the controls'
/// levels, the frameworks that apply (their requirements, basis, deadline and its rank) and the
/// assessment date, and of nothing else.
struct Ranking {
    /// The requirements of every framework that applies.
    all: Bits,
    /// Every gap as its packed rank key, in rank order, with its phase (0 = now, 1 = next,
    /// 2 = later) and whether that phase ends after its deadline.
    gaps: Vec<(u64, u8, bool)>,
    /// Gaps per phase.
    phases: [usize; 3],
    /// Gaps whose phase ends after their deadline.
    late: usize,
    /// Person-weeks put in the last phase.
    later_load: f64,
    /// What the controls at target evidence.
    evidence: Evidence,
}

/// A worker's rankings, by what they depend on: organisations with the same controls under the
/// same frameworks (most often none declared, under the same NIS2 and SOC 2 decisions) share
/// one. Ranking took about a ninth of the instructions per organisation (callgrind, 3,000
/// generated organisations: 84.4 K a record before, 74.7 K after).
#[derive(Default)]
pub struct Rankings {
    by_inputs: foldhash::HashMap<Box<[u8]>, Ranking>,
    /// The inputs of the ranking being looked up, written out as bytes.
    key: Vec<u8>,
    /// The frames of the rankings, by their inputs written out as bytes. The rankings missed
    /// are most often those of organisations that declare their controls, each its own; their
    /// frames are shared, and working a frame out took over half of a ranking's instructions
    /// (callgrind, 20,000 generated organisations, `--jobs 1`: 19.6 K a ranking missed).
    frames: foldhash::HashMap<Box<[u8]>, Frame>,
    frame_key: Vec<u8>,
}

/// Frames a worker keeps before it starts over, about 2 KB each. A batch's frameworks combine
/// in a few dozen ways (the NIS2 obligations, the SOC 2 criteria, ISO 27001, the supplier terms,
/// and the order of their deadlines).
const FRAMES_CAPACITY: usize = 64;

/// Rankings a worker keeps before it starts over, up to about 3 KB each (some 0.75 MB a
/// worker). With 1,024, a million generated organisations peaked at 54 MB; with 256, at 49-52
/// MB. The rankings shared by many organisations are few; the others are seldom met again.
const RANKINGS_CAPACITY: usize = 256;

impl Rankings {
    /// The ranking for these inputs: kept, or worked out and kept.
    fn of(
        &mut self,
        pack: &PlanPack,
        levels: &[u8],
        applies: &[Applies],
        as_of: NaiveDate,
    ) -> &Ranking {
        // Every input of `rank` but the pack, in parts of fixed width (as many levels as the
        // catalogue has controls, then 38 bytes a framework), so that two different inputs
        // never write the same bytes.
        let key = &mut self.key;
        key.clear();
        key.extend_from_slice(&as_of.num_days_from_ce().to_le_bytes());
        key.extend_from_slice(levels);
        write_frameworks(key, applies, true);
        if !self.by_inputs.contains_key(&self.key[..]) {
            // The part of those inputs the frame depends on.
            let frame_key = &mut self.frame_key;
            frame_key.clear();
            write_frameworks(frame_key, applies, false);
            if !self.frames.contains_key(&frame_key[..]) {
                if self.frames.len() >= FRAMES_CAPACITY {
                    self.frames.clear();
                }
                let frame = Frame::of(pack, applies);
                self.frames.insert(frame_key.as_slice().into(), frame);
            }
            let frame = &self.frames[&self.frame_key[..]];
            let ranking = rank(pack, frame, levels, applies, as_of);
            if self.by_inputs.len() >= RANKINGS_CAPACITY {
                self.by_inputs.clear();
            }
            self.by_inputs.insert(self.key.as_slice().into(), ranking);
        }
        &self.by_inputs[&self.key[..]]
    }
}

/// The frameworks that apply written out as bytes for a key of [`Rankings`]: each one's
/// requirements, its deadline (when `dated`), basis and deadline rank, in parts of fixed width.
fn write_frameworks(key: &mut Vec<u8>, applies: &[Applies], dated: bool) {
    for a in applies {
        for word in a.requirements.words() {
            key.extend_from_slice(&word.to_le_bytes());
        }
        if dated {
            key.extend_from_slice(&a.deadline.num_days_from_ce().to_le_bytes());
        }
        key.extend_from_slice(&[a.basis as u8, a.deadline_rank]);
    }
}

/// Builds the plan. `limit` caps the actions listed (0 = all); the summary counts them all.
#[allow(
    clippy::too_many_arguments,
    reason = "the pack, the facts, the two decisions, the controls, the date, the limit and the \
              worker's rankings are each an input of their own"
)]
pub fn evaluate(
    pack: &PlanPack,
    facts: &Facts,
    nis2: Option<&Nis2>,
    soc2: Option<&Soc2>,
    maturity: Maturity,
    as_of: NaiveDate,
    limit: usize,
    rankings: &std::cell::RefCell<Rankings>,
) -> PlanOut {
    let catalogue = &pack.catalogue;
    let Maturity {
        levels,
        certificate,
        mut notes,
    } = maturity;
    let applies = frameworks(pack, facts, nis2, soc2, certificate, as_of, &mut notes);

    let mut rankings = rankings.borrow_mut();
    let ranking = rankings.of(pack, &levels, &applies, as_of);
    let gaps = &ranking.gaps;

    let listed = if limit == 0 {
        gaps.len()
    } else {
        limit.min(gaps.len())
    };
    let all = &ranking.all;
    // One listed action: the deadline as said by the framework that sets it (the first with
    // that deadline), and every framework the action serves.
    let action = |rank: usize, g: &RankKey, phase: &'static str, moved: bool| {
        let control = &catalogue.controls[g.control];
        let served = &catalogue.serves[g.control];
        let mut closes = Vec::with_capacity(g.serves.0);
        for r in served.and_iter(all) {
            let requirement = &catalogue.requirements[r];
            closes.push(RequirementId {
                id: requirement.id,
                json: requirement.json,
            });
        }
        let urgent = pack.first[g.control]
            .as_ref()
            .map_or("", |(_, words)| words.as_str());
        let moved = if moved {
            "; later than its deadline: earlier phases are full"
        } else {
            ""
        };
        // "nis2+soc2 due since 2024-10-18; serves 6 requirement(s); effort weeks", written
        // piece by piece: this runs for every listed action of every record.
        let mut why = String::with_capacity(96 + urgent.len() + moved.len());
        let mut due = None;
        let serving = applies
            .iter()
            .filter(|a| served.intersects(&a.requirements));
        for (k, a) in serving.enumerate() {
            if k > 0 {
                why.push('+');
            }
            why.push_str(a.framework);
            if due.is_none() && a.deadline_rank == g.deadline {
                due = Some(a.due.as_str());
            }
        }
        why.push(' ');
        why.push_str(due.unwrap_or_default());
        why.push_str(urgent);
        why.push_str("; serves ");
        why.push_str(itoa::Buffer::new().format(closes.len()));
        why.push_str(" requirement(s); effort ");
        why.push_str(effort_word(control.effort));
        why.push_str(moved);
        Action {
            rank,
            control: control.id,
            title: control.title,
            head: control.json_head,
            closes,
            phase,
            basis: g.basis.as_str(),
            maturity: levels[g.control],
            target: control.target_maturity,
            why,
        }
    };

    const PHASES: [&str; 3] = ["now", "next", "later"];
    let Ranking {
        phases: [now, next, later],
        late,
        later_load,
        ..
    } = *ranking;
    let summary = PlanSummary {
        actions: gaps.len(),
        now,
        next,
        later,
        listed,
    };
    let mut actions = Vec::with_capacity(listed);
    for (i, &(key, phase, moved)) in gaps.iter().take(listed).enumerate() {
        let g = RankKey::unpacked(key);
        actions.push(action(i + 1, &g, PHASES[usize::from(phase)], moved));
    }
    // Many plans carry both notes. They are put together from pieces: formatting the floats
    // each time would cost more than the rest of the plan's words.
    if late > 0 {
        notes.push(
            [
                itoa::Buffer::new().format(late),
                " action(s) do not fit before their deadline at ",
                &pack.weeks_per_phase_words,
                " person-weeks per phase: add people, or move the deadlines that can move (a \
                 SOC 2 window, a certification date)",
            ]
            .concat(),
        );
    }
    if later_load > pack.capacity.weeks_per_phase {
        // Rounded to whole weeks as `{:.0}` does; a whole number (the usual sum) needs no
        // rounding.
        let mut digits = itoa::Buffer::new();
        let rounded;
        let left = if later_load.fract() == 0.0 && later_load < 1e15 {
            digits.format(later_load as u64)
        } else {
            rounded = format!("{:.0}", later_load);
            &rounded
        };
        notes.push(
            [
                "the work exceeds the 12-month horizon: about ",
                left,
                " person-weeks are left for the `later` phase, which holds ",
                &pack.weeks_per_phase_words,
            ]
            .concat(),
        );
    }

    let mut cov = BTreeMap::new();
    let evidence = &ranking.evidence;
    let from_certificate = certificate.then_some(&pack.certificate_evidence);
    let art21 = applies.iter().find(|a| a.framework == "nis2").map(|a| {
        let mut bits = a.requirements;
        bits.intersect_with(&pack.nis2_art21);
        ("nis2_art21", bits)
    });
    let sets = applies
        .iter()
        .map(|a| (a.framework, a.requirements))
        .chain(art21);
    for (name, requirements) in sets {
        let (met, partial, open, pct) = coverage(pack, &requirements, evidence);
        if met + partial + open == 0 {
            continue;
        }
        let from_certificate_pct =
            from_certificate.map(|credit| coverage(pack, &requirements, credit).3);
        cov.insert(
            name,
            Coverage {
                requirements: met + partial + open,
                met,
                partial,
                open,
                evidence_pct: pct,
                from_certificate_evidence_pct: from_certificate_pct,
            },
        );
    }
    PlanOut {
        frameworks: applies
            .into_iter()
            .map(|a| FrameworkBasis {
                framework: a.framework,
                basis: a.basis.as_str(),
                deadline: dated("", a.deadline, ""),
                due: a.due,
                says: a.says,
            })
            .collect(),
        actions,
        summary,
        coverage: cov,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::{put_in_place, Basis, RankKey, MATURITY_MAX, MAX_REQUIREMENTS};
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = RankKey> {
        // Narrow ranges with the extremes, so that two keys often tie on the first fields and
        // the later ones decide.
        (
            0..3u8,
            prop_oneof![Just(u8::MAX), 0..3u8],
            prop_oneof![Just(u8::MAX), 0..3u8],
            prop_oneof![Just(0), Just(MAX_REQUIREMENTS), 1..4usize],
            prop_oneof![Just(MATURITY_MAX), 1..3u8],
            1..4u8,
            prop_oneof![Just(u32::MAX as usize), 0..3usize],
        )
            .prop_map(
                |(b, deadline, first, serves, gap, effort, control)| RankKey {
                    basis: [Basis::Legal, Basis::Contractual, Basis::Voluntary][usize::from(b)],
                    deadline,
                    first,
                    serves: std::cmp::Reverse(serves),
                    gap: std::cmp::Reverse(gap),
                    effort,
                    control,
                },
            )
    }

    proptest! {
        /// Gaps put in place one by one, in the order of their keys without the gap (as
        /// `Frame::keys` holds them), come out as sorting their whole keys puts them: in the
        /// ranking of DESIGN.md "Remediation plan", where the gap comes after the basis,
        /// deadline, first-at-deadline and requirements served, and before effort.
        #[test]
        fn gaps_put_in_place_are_in_rank_order(keys in prop::collection::vec(key(), 0..40)) {
            // One key a control, as in a plan.
            let keys: Vec<RankKey> = keys
                .into_iter()
                .enumerate()
                .map(|(c, k)| RankKey { control: c, ..k })
                .collect();
            let mut frame: Vec<(u64, u8)> = keys
                .iter()
                .map(|k| (RankKey { gap: std::cmp::Reverse(MATURITY_MAX), ..*k }.packed(), k.gap.0))
                .collect();
            frame.sort_unstable();
            let mut placed = Vec::new();
            for (base, gap) in frame {
                put_in_place(&mut placed, RankKey::with_gap(base, gap));
            }
            let mut sorted: Vec<u64> = keys.iter().map(RankKey::packed).collect();
            sorted.sort_unstable();
            prop_assert_eq!(placed, sorted);
        }

        /// The packed key sorts gaps exactly as the ranking of DESIGN.md "Remediation plan"
        /// (basis, deadline, first-at-deadline, requirements served, gap, effort), written as
        /// the field order of `RankKey`, does, and unpacks to the key it was made from.
        #[test]
        fn packed_key_sorts_as_the_ranking(a in key(), b in key()) {
            prop_assert_eq!(a.packed().cmp(&b.packed()), a.cmp(&b));
            prop_assert_eq!(RankKey::unpacked(a.packed()), a);
        }
    }
}
