//! The output contract of DESIGN.md: one assessment per input record, in input order.

use crate::error::RecordError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The record's id; null only when the record could not be read far enough to find one.
    pub id: Option<String>,
    /// Line of the record in its source.
    pub line: usize,
    pub packs: std::sync::Arc<Vec<PackRef>>,
    pub as_of: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nis2: Option<Nis2>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ground {
    pub rule: String,
    pub cites: String,
    pub says: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObligationRef {
    pub id: String,
    pub cites: String,
    pub due: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SupplierExposure {
    pub cites: String,
    pub says: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
}
