//! The output contract of DESIGN.md: one assessment per input record, in input order.

use crate::error::RecordError;
use compact_str::CompactString;
use serde::Serialize;

/// JSON Lines are written field by field in this order (`json_line`): a field added here, or to
/// the parts it writes itself, goes there too: it does not compile until it does, and
/// engine/tests/scale.rs holds it to serde_json's bytes, order included.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The record's id; null only when the record could not be read far enough to find one.
    pub id: Option<CompactString>,
    /// The organisation's name from its facts; for an error record, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// Line of the record in its source.
    pub line: usize,
    /// The packs, as kept for the process ([`crate::intern::packs`]).
    pub packs: &'static [PackRef],
    pub as_of: CompactString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nis2: Option<Nis2>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soc2: Option<Soc2>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RecordError>,
    /// Problems that did not stop the assessment, such as a field name that looks misspelt.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A pack used for an assessment: enough to replay the decision.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PackRef {
    pub id: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nis2 {
    pub classification: Classification,
    /// For `undetermined`: the classifications the missing facts leave open, strictest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub possible: Vec<Classification>,
    pub size: Size,
    pub grounds: Vec<Ground>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    pub jurisdiction: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lex_specialis: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<ObligationRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fine_eur: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_exposure: Option<SupplierExposure>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The result on the entity's own figures, when the pack applies the recital 16 carve-out
    /// and the entity declares its systems independent of its group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carve_out: Option<CarveOut>,
}

/// NIS2 recital 16: a member state may weigh an entity's independence from its linked and
/// partner enterprises and size it on its own figures. The main result stays the one of Annex
/// Art. 6(2); this is the other.
#[derive(Debug, Clone, Serialize)]
pub struct CarveOut {
    pub classification: Classification,
    /// The stand-alone size class, or null when its figures leave more than one possible.
    pub size_class: Option<&'static str>,
    pub cites: String,
    pub says: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    OutOfScope,
    RegistrationOnly,
    Important,
    Essential,
    Undetermined,
}

impl Classification {
    pub fn parse(s: &str) -> Option<Classification> {
        Some(match s {
            "essential" => Classification::Essential,
            "important" => Classification::Important,
            "registration_only" => Classification::RegistrationOnly,
            "out_of_scope" => Classification::OutOfScope,
            "undetermined" => Classification::Undetermined,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Essential => "essential",
            Classification::Important => "important",
            Classification::RegistrationOnly => "registration_only",
            Classification::OutOfScope => "out_of_scope",
            Classification::Undetermined => "undetermined",
        }
    }

    pub const ALL: [Classification; 5] = [
        Classification::Essential,
        Classification::Important,
        Classification::RegistrationOnly,
        Classification::OutOfScope,
        Classification::Undetermined,
    ];
}

#[derive(Debug, Clone, Serialize)]
pub struct Size {
    /// The size class, or null when the known figures leave more than one possible.
    pub class: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub possible: Vec<&'static str>,
    /// `own` or `aggregated` (with linked and partner enterprises).
    pub basis: &'static str,
    pub employees: Option<f64>,
    pub annual_turnover_eur: Option<f64>,
    pub balance_sheet_eur: Option<f64>,
    /// The class on the entity's own figures alone, or null when they leave more than one.
    pub own_class: Option<&'static str>,
    /// How the figures were added up, when linked or partner enterprises were counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<Aggregation>,
    /// Which accounting periods decided, when a previous period was declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<crate::evaluate::size::Period>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The computation of Rec. 2003/361/EC Annex Art. 6: every enterprise counted, at which share.
#[derive(Debug, Clone, Serialize)]
pub struct Aggregation {
    pub cites: &'static str,
    /// The enterprises counted, the entity first; at most 200 (the group report lists all).
    pub enterprises: Vec<crate::group::Part>,
    /// Enterprises counted in the totals but not listed, in groups of more than 200.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_listed: usize,
    pub totals: crate::facts::Figures,
    /// The sum of the known figures, when some total is unknown: the least each total can be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals_at_least: Option<crate::facts::Figures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_period_totals: Option<crate::facts::Figures>,
    /// The same as `totals_at_least`, for the previous period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_period_totals_at_least: Option<crate::facts::Figures>,
    /// Enterprises counted with their latest figures for the previous period too, as they
    /// declared none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub previous_period_assumed_same: Vec<String>,
}

/// Text of a record: a pack's own, kept once for the process ([`crate::intern`]), or written
/// for this record.
pub type Text = std::borrow::Cow<'static, str>;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ground {
    pub rule: Text,
    pub cites: Text,
    pub says: Text,
    /// The three fields above as a JSON object, as a record's line writes them, when they are
    /// all a pack's text: made once, when the pack is loaded ([`Ground::of_pack`]), and copied
    /// out whole. Empty for a ground put together for the record; the line then writes its
    /// fields. A record gives some four grounds, most of them a rule's words as they stand.
    #[serde(skip)]
    pub json: &'static str,
}

impl Ground {
    /// A ground of a pack's text alone, with its JSON. Call it only while loading packs: the
    /// JSON is kept for the life of the process ([`crate::intern::text`]).
    pub fn of_pack(rule: &'static str, cites: &'static str, says: &'static str) -> Ground {
        let fields = [("rule", rule), ("cites", cites), ("says", says)];
        Ground {
            rule: rule.into(),
            cites: cites.into(),
            says: says.into(),
            json: crate::intern::json("{", &fields, "}"),
        }
    }

    /// The ground a pack's rule made at load (`made`), or, should it not have been, the same
    /// ground written field by field.
    pub fn made_or_new(
        made: Option<&Ground>,
        rule: &'static str,
        cites: &'static str,
        says: &'static str,
    ) -> Ground {
        made.cloned()
            .unwrap_or_else(|| Ground::new(rule, cites, says))
    }

    /// A ground put together for one record, written field by field.
    pub fn new(rule: impl Into<Text>, cites: impl Into<Text>, says: impl Into<Text>) -> Ground {
        Ground {
            rule: rule.into(),
            cites: cites.into(),
            says: says.into(),
            json: "",
        }
    }
}

/// A requirement id of the controls pack, as [`Action::closes`] names it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct RequirementId {
    pub id: &'static str,
    /// The id as a JSON string, made when the catalogue is loaded; empty when not made (the
    /// line then writes the id itself).
    #[serde(skip)]
    pub json: &'static str,
}

/// An obligation that follows; its strings are the pack table's, not copies.
#[derive(Debug, Clone, Serialize)]
pub struct ObligationRef {
    pub id: &'static str,
    pub cites: &'static str,
    pub due: &'static str,
    /// The obligation in words, for documents (`--format md`); the record keeps the id.
    #[serde(skip)]
    pub title: &'static str,
    /// The three fields above as a JSON object, as a record's line writes them: made once, when
    /// the pack is loaded, and copied out whole for each record that has the obligation. A
    /// record holds some ten obligations, and writing their thirty strings one by one took
    /// about a fiftieth of all the work per record (callgrind, 20,000 generated organisations
    /// with `--jobs 1`: 1,327 M instructions before, 1,303 M after).
    #[serde(skip)]
    pub json: &'static str,
}

impl ObligationRef {
    /// An obligation of a pack's table, with its JSON. Call it only while loading packs: the
    /// JSON is kept for the life of the process ([`crate::intern::text`]).
    pub fn of_table(
        id: &'static str,
        cites: &'static str,
        due: &'static str,
        title: &'static str,
    ) -> ObligationRef {
        let json = crate::intern::json("{", &[("id", id), ("cites", cites), ("due", due)], "}");
        ObligationRef {
            id,
            cites,
            due,
            title,
            json,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SupplierExposure {
    pub cites: String,
    pub says: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
}

/// The SOC 2 decision (DESIGN.md "SOC 2 rules").
#[derive(Debug, Clone, Serialize)]
pub struct Soc2 {
    /// True, false, or null when a missing fact decides it (then `missing` names it).
    pub needed: Option<bool>,
    /// `type1` or `type2`: the report to pursue next; null when none is needed or it is undetermined.
    #[serde(rename = "type")]
    pub report_type: Option<&'static str>,
    /// Trust Services categories in scope, sorted.
    pub criteria: Vec<&'static str>,
    pub why: Vec<Ground>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// When no report is needed: what serves instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instead: Option<String>,
    /// When undetermined: the type and criteria that would apply if a report is needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_needed: Option<IfNeeded>,
    /// The latest SOC 2 report declared, judged against the assessment date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_report: Option<CurrentReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub milestones: Vec<Milestone>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IfNeeded {
    #[serde(rename = "type")]
    pub report_type: &'static str,
    pub criteria: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrentReport {
    #[serde(rename = "type")]
    pub report_type: Option<String>,
    pub period_end: CompactString,
    /// `current`, `bridge_letter` (past its 12 months, still coverable by a bridge letter),
    /// `stale`, or `period_not_ended` (the period ends after the assessment date).
    pub status: &'static str,
    pub current_until: CompactString,
    pub bridge_letter_until: CompactString,
    /// The Trust Services categories the report covers, as declared (security always).
    pub criteria: Vec<String>,
    /// Categories the next report needs that this one does not cover.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub criteria_to_add: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Milestone {
    pub id: &'static str,
    pub date: CompactString,
    pub says: String,
}

/// The remediation plan (DESIGN.md "Remediation plan").
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Frameworks the plan works towards, each with why it applies.
    pub frameworks: Vec<FrameworkBasis>,
    /// Actions in rank order; the default output keeps the first few (see `summary`).
    pub actions: Vec<Action>,
    pub summary: PlanSummary,
    pub coverage: std::collections::BTreeMap<&'static str, Coverage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkBasis {
    pub framework: &'static str,
    /// `legal`, `contractual` or `voluntary`.
    pub basis: &'static str,
    /// The date actions are ranked by: the later of the assessment date and the due date.
    pub deadline: CompactString,
    /// The deadline in words: `due since 2024-10-18`, `by 2027-02-04 (window start)`.
    pub due: CompactString,
    pub says: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub rank: usize,
    pub control: &'static str,
    pub title: &'static str,
    /// `,"control":…,"title":…` as a record's line writes the two fields above, made when the
    /// catalogue is loaded; empty when not made (the line then writes the fields themselves).
    /// With [`RequirementId::json`], it spared about 2 % of the work per record: a record lists
    /// some three actions, each with some six strings of the catalogue (callgrind, 20,000
    /// generated organisations with `--jobs 1`: 1,258.9 M instructions before, 1,231.3 M after).
    #[serde(skip)]
    pub head: &'static str,
    /// Requirement ids of the applicable frameworks this control serves.
    pub closes: Vec<RequirementId>,
    /// `now` (0-3 months), `next` (3-6) or `later` (6-12).
    pub phase: &'static str,
    pub basis: &'static str,
    pub maturity: u8,
    pub target: u8,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PlanSummary {
    pub actions: usize,
    pub now: usize,
    pub next: usize,
    pub later: usize,
    /// How many actions the record lists (`--plan-actions`); the rest are counted above.
    pub listed: usize,
}

/// How much of a framework the organisation's controls already serve, from the mapping.
///
/// A mapping row is `full` only where a control was written to meet exactly that requirement;
/// every ISO 27001 link to NIS2 or the TSC is `partial`: evidence towards the requirement, not
/// compliance (ENISA: its mapping "is not a measure of equivalence").
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub requirements: usize,
    /// Requirements with a control at target that fully meets them.
    pub met: usize,
    /// Requirements with evidence only: some mapped control at target, none that fully meets it.
    pub partial: usize,
    pub open: usize,
    /// Mean, over requirements, of the share of mapped controls at target (0-100): how much of
    /// the evidence the catalogue asks for exists, not a compliance percentage.
    pub evidence_pct: f64,
    /// The same figure counting only what a current ISO 27001 certificate credits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_certificate_evidence_pct: Option<f64>,
}
