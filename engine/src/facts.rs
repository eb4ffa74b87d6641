//! The facts of one organisation: the input contract of DESIGN.md.
//!
//! Every field is optional except `id`. For the core facts (`established_in`, `employees`,
//! `activities`, ...) `None` means *unknown*, never false or zero. For the declared statuses
//! (`designations`, `owners`, `controls`, ...) `None` means none declared. Records reach this type
//! only once the facts schema has accepted them, or the short way of [`crate::validate`] has
//! found that it would, so the types here can be strict.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Declares a facts struct that is read only from a JSON object with no field it does not
/// declare. serde would read a struct from a JSON array too, one value per field in declaration
/// order, and would pass over fields it does not know; the facts schema takes objects only, and
/// the short way of validation ([`crate::validate`]) must refuse what the schema refuses (a
/// record's own extra fields are taken off by the long way before it reads the facts).
/// `pub field as "name"` reads the field from `name`; `pub field with "path"` reads it with the
/// function at `path`.
macro_rules! object {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                pub $field:ident $(as $json:literal)? $(with $with:literal)?: $ty:ty,
            )*
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $($(#[$field_attr])* pub $field: $ty,)*
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Fields {
                    $(
                        $(#[serde(rename = $json)])?
                        $(#[serde(default, deserialize_with = $with)])?
                        $field: $ty,
                    )*
                }
                let fields: Fields = from_object(deserializer)?;
                Ok($name {
                    $($field: fields.$field,)*
                })
            }
        }
    };
}

/// Reads `T` from a JSON object only: serde reads a struct from a JSON array too, one value
/// per field in declaration order, which no reader of facts should take for a record.
pub fn from_object<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    struct Object<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    deserializer.deserialize_map(Object(std::marker::PhantomData))
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct Facts {
        pub id: CompactString,
        pub name: Option<CompactString>,
        pub established_in: Option<Vec<CompactString>>,
        pub main_establishment: Option<MainEstablishment>,
        pub eu_representative_in: Option<CompactString>,
        pub provides_services_in: Option<Vec<CompactString>>,
        pub public_or_private: Option<CompactString>,
        pub public_administration_level: Option<CompactString>,
        pub national_security_activities: Option<bool>,
        pub employees with "figure": Option<f64>,
        pub annual_turnover_eur with "figure": Option<f64>,
        pub balance_sheet_eur with "figure": Option<f64>,
        pub previous_period: Option<Figures>,
        pub activities: Option<Vec<Activity>>,
        pub nace_codes: Option<Vec<CompactString>>,
        pub owners: Option<Vec<Owner>>,
        pub linked_enterprises: Option<Vec<LinkedEnterprise>>,
        /// The entity's network and information systems and services are independent of its
        /// linked and partner enterprises (NIS2 recital 16).
        pub nis_independent_of_group: Option<bool>,
        pub designations: Option<Designations>,
        pub service_organisation: Option<bool>,
        pub service_models: Option<Vec<CompactString>>,
        pub customer_regions: Option<Vec<CompactString>>,
        pub customer_segments: Option<Vec<CompactString>>,
        pub customer_demands: Option<CustomerDemands>,
        pub data_handled: Option<Vec<CompactString>>,
        pub availability_commitments: Option<bool>,
        pub supplies_nis2_entities: Option<bool>,
        pub certifications: Option<Vec<Certification>>,
        pub controls: Option<Controls>,
    }
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct MainEstablishment {
        pub cyber_decisions_in: Option<CompactString>,
        pub cyber_operations_in: Option<CompactString>,
        pub largest_workforce_in: Option<CompactString>,
    }
}

object! {
    /// Headcount and financial figures of one accounting period (Rec. 2003/361/EC Annex Art. 4).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
    pub struct Figures {
        pub employees with "figure": Option<f64>,
        pub annual_turnover_eur with "figure": Option<f64>,
        pub balance_sheet_eur with "figure": Option<f64>,
    }
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct Activity {
        pub sector: Option<CompactString>,
        pub subsector: Option<CompactString>,
        pub entity_type: CompactString,
    }
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct Owner {
        pub id: CompactString,
        pub share_pct with "figure": Option<f64>,
        pub voting_pct with "figure": Option<f64>,
        /// The owner is one of the investors of Rec. 2003/361/EC Annex Art. 3(2) second
        /// subparagraph, whose holding of up to 50 % makes no partnership.
        pub investor: Option<CompactString>,
        /// The owner controls this entity otherwise than by a majority of the votes
        /// (Rec. 2003/361/EC Annex Art. 3(3)(b)-(d)).
        pub control: Option<CompactString>,
    }
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct LinkedEnterprise {
        pub name: Option<CompactString>,
        pub relation: CompactString,
        pub share_pct with "figure": Option<f64>,
        pub employees with "figure": Option<f64>,
        pub annual_turnover_eur with "figure": Option<f64>,
        pub balance_sheet_eur with "figure": Option<f64>,
        pub previous_period: Option<Figures>,
    }
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct Designations {
        pub nis1_operator_of_essential_services: Option<bool>,
        pub cer_critical_entity: Option<bool>,
        pub member_state: Option<CompactString>,
    }
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct CustomerDemands {
        pub soc2: Option<CompactString>,
        pub iso27001: Option<bool>,
    }
}

object! {
    #[derive(Debug, Clone, Default)]
    pub struct Certification {
        pub scheme: CompactString,
        pub edition: Option<CompactString>,
        pub expires: Option<CompactString>,
        pub scope_covers_services: Option<bool>,
        /// `type` in the facts.
        pub report_type as "type": Option<CompactString>,
        pub period_end: Option<CompactString>,
        pub criteria: Option<Vec<CompactString>>,
    }
}

/// Controls in place: either a map of control id to maturity, or a list of ids that each mean
/// maturity 3, documented.
#[derive(Debug, Clone)]
pub enum Controls {
    List(Vec<CompactString>),
    Map(BTreeMap<CompactString, ControlState>),
}

/// The shape decides which: a list or a map (the schema's `oneOf`). Read by shape rather than
/// by serde's `untagged`, which would first copy the value to try each in turn.
impl<'de> Deserialize<'de> for Controls {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shape;
        impl<'de> serde::de::Visitor<'de> for Shape {
            type Value = Controls;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of control ids or a map of control id to its state")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Controls, A::Error> {
                Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Controls::List)
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Controls, A::Error> {
                Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Controls::Map)
            }
        }
        deserializer.deserialize_any(Shape)
    }
}

object! {
    #[derive(Debug, Clone, Copy, Default)]
    pub struct ControlState {
        pub maturity with "whole_number": Option<u8>,
        pub documented: Option<bool>,
    }
}

/// A headcount, an amount in euros or a holding as the facts give it, but minus zero as zero.
/// JSON may write `-0` or `-0.0`, which the schema's minimum of zero lets through; kept, its
/// sign was echoed in the output's figures (`"employees": -0.0`) while its grounds, which print
/// minus zero as `0`, said `0 AWU`, and a holding was said at `-0 %`. Read once here, it is
/// plain zero wherever it is used: in the size, in a group's parts and totals, in the previous
/// period and in the holdings.
fn figure<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.map(plain_zero))
}

/// `v`, with minus zero as zero ([`figure`]), for a figure or a holding read from a record's
/// JSON rather than through [`Facts`].
pub fn plain_zero(v: f64) -> f64 {
    // Only zero and minus zero equal 0.0, so every other figure keeps its bits.
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

/// A number the facts schema states as an `integer`, which JSON Schema takes written `3` or
/// `3.0` alike.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u8>, D::Error> {
    let Some(n) = Option::<f64>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if n.fract() == 0.0 && (0.0..=f64::from(u8::MAX)).contains(&n) {
        Ok(Some(n as u8))
    } else {
        Err(serde::de::Error::custom(format_args!(
            "{n} is not a whole number from 0 to 255"
        )))
    }
}

impl Facts {
    /// This period's figures, as declared.
    pub fn figures(&self) -> Figures {
        Figures {
            employees: self.employees,
            annual_turnover_eur: self.annual_turnover_eur,
            balance_sheet_eur: self.balance_sheet_eur,
        }
    }
}

impl Figures {
    /// These figures with the absent ones taken from `other`: a previous period that gives
    /// only a headcount is read as unchanged in the rest (the stability the two-period rule
    /// would otherwise have to assume for the whole period).
    pub fn or(&self, other: &Figures) -> Figures {
        Figures {
            employees: self.employees.or(other.employees),
            annual_turnover_eur: self.annual_turnover_eur.or(other.annual_turnover_eur),
            balance_sheet_eur: self.balance_sheet_eur.or(other.balance_sheet_eur),
        }
    }

    /// True when every figure given here is also given in `other`.
    pub fn covers(&self, other: &Figures) -> bool {
        (self.employees.is_some() || other.employees.is_none())
            && (self.annual_turnover_eur.is_some() || other.annual_turnover_eur.is_none())
            && (self.balance_sheet_eur.is_some() || other.balance_sheet_eur.is_none())
    }
}

impl LinkedEnterprise {
    /// This period's figures, as declared.
    pub fn figures(&self) -> Figures {
        Figures {
            employees: self.employees,
            annual_turnover_eur: self.annual_turnover_eur,
            balance_sheet_eur: self.balance_sheet_eur,
        }
    }
}
