//! The NIS2 decision: classification, size, jurisdiction, obligations and fine.
//!
//! The nis2 pack's scripts decide; this module prepares what they read and does the set work.
//!
//! Unknown facts are handled by asking the pack once for every value a missing fact could take
//! (every possible size class, both answers to an unknown member-state choice, every entity
//! type when activities are unknown). When every answer agrees, the classification is made and
//! the missing fact did not matter; when they differ, the classification is `undetermined` and
//! `missing` names the facts whose value changed the answer. Most records know every fact, so
//! this costs one call per activity.

use super::size::{AtLeast, SizeClass, SizeTable, Sizing};
use super::tables::{self, Obligation, Rule, Vocabulary};
use crate::assessment::{
    Aggregation, CarveOut, Classification, Ground, Nis2 as Nis2Out, ObligationRef, Size,
    SupplierExposure,
};
use crate::error::PackError;
use crate::facts::{Facts, Figures};
use crate::group::{Aggregate, Relation};
use crate::pack::compiled::Scripts;
use crate::pack::manifest::Parameter;
use crate::pack::Pack;
use compact_str::CompactString;
use rhai::{Dynamic, Engine, ImmutableString};
use smallvec::{smallvec, SmallVec};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Facts the host prepares for the pack's decisions; `pack.json` names them in `arguments`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Arg {
    EntityType,
    Annex,
    SizeClass,
    InUnion,
    PublicAdministration,
    NationalSecurity,
    Designation,
    CerCriticalEntity,
    Nis1Operator,
    Nis1Choice,
    LocalChoice,
    EstablishedInUnion,
}

const ARG_NAMES: [(&str, Arg); 12] = [
    ("entity_type", Arg::EntityType),
    ("annex", Arg::Annex),
    ("size_class", Arg::SizeClass),
    ("in_union", Arg::InUnion),
    ("public_administration", Arg::PublicAdministration),
    ("national_security", Arg::NationalSecurity),
    ("designation", Arg::Designation),
    ("cer_critical_entity", Arg::CerCriticalEntity),
    ("nis1_operator", Arg::Nis1Operator),
    ("nis1_choice", Arg::Nis1Choice),
    ("local_choice", Arg::LocalChoice),
    ("established_in_union", Arg::EstablishedInUnion),
];

fn arg_name(arg: Arg) -> &'static str {
    ARG_NAMES
        .iter()
        .find(|(_, a)| *a == arg)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

/// The facts fields a prepared argument of the nis2 or soc2 decisions is made from, for
/// explanations.
pub fn argument_sources(name: &str) -> &'static str {
    match name {
        "entity_type" | "annex" => "activities",
        "size_class" => {
            "employees, annual_turnover_eur, balance_sheet_eur (with linked and partner enterprises)"
        }
        "in_union" => "established_in, provides_services_in",
        "public_administration" => "public_or_private, public_administration_level, activities",
        "national_security" => "national_security_activities",
        "designation" => "designations.member_state",
        "cer_critical_entity" => "designations.cer_critical_entity",
        "nis1_operator" => "designations.nis1_operator_of_essential_services",
        "nis1_choice" => "parameter nis1_operators_essential, for the member states with jurisdiction",
        "local_choice" => "parameter local_public_administration, for the member states with jurisdiction",
        "established_in_union" => "established_in",
        // The soc2 pack's decisions.
        "service_organisation" => "service_organisation",
        "soc2_demanded" => "customer_demands.soc2",
        "north_american_customers" => "customer_regions",
        "consumer_only" => "customer_segments",
        "type2_demanded" => "customer_demands.soc2",
        "enterprise_or_regulated" => "customer_segments",
        "has_report" => "certifications",
        _ => "",
    }
}

/// Names of the prepared facts a nis2 decision may receive.
pub fn argument_names() -> impl Iterator<Item = &'static str> {
    ARG_NAMES.iter().map(|(name, _)| *name)
}

#[derive(Debug, Clone)]
struct Call {
    decision: String,
    function: String,
    args: Vec<Arg>,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
struct Fine {
    amount_eur: f64,
    turnover_pct: f64,
}

/// The member states of the pack's table (NIS2 Art. 2(1): entities that provide their services
/// or carry out their activities within the Union), looked up for every country an organisation
/// is established in or serves. A two-letter code, as the facts schema writes every country, is
/// looked up by its letters; searching the table's strings for it took about a sixtieth of the
/// work per record (callgrind, 20,000 generated organisations).
#[derive(Debug, Clone)]
pub struct MemberStates {
    /// Bit `26 × first letter + second letter` of each two-letter code of the table.
    letters: [u64; 11],
    /// Codes of any other form, should a table hold one.
    other: BTreeSet<String>,
}

impl MemberStates {
    fn new(codes: BTreeSet<String>) -> MemberStates {
        let mut letters = [0; 11];
        let mut other = BTreeSet::new();
        for code in codes {
            match MemberStates::place(&code) {
                Some(i) => letters[i / 64] |= 1 << (i % 64),
                None => {
                    other.insert(code);
                }
            }
        }
        MemberStates { letters, other }
    }

    /// The bit of a code of two capital letters.
    fn place(code: &str) -> Option<usize> {
        match code.as_bytes() {
            &[a @ b'A'..=b'Z', b @ b'A'..=b'Z'] => {
                Some(usize::from(a - b'A') * 26 + usize::from(b - b'A'))
            }
            _ => None,
        }
    }

    pub fn contains(&self, code: &str) -> bool {
        match MemberStates::place(code) {
            Some(i) => self.letters[i / 64] >> (i % 64) & 1 == 1,
            None => self.other.contains(code),
        }
    }
}

/// The nis2 pack, ready to evaluate: tables parsed, parameters read, decisions bound.
#[derive(Debug, Clone)]
pub struct Nis2Pack {
    pub vocabulary: Vocabulary,
    pub sizes: SizeTable,
    pub member_states: MemberStates,
    /// The rules table, and each rule id's position in it (the last row, should an id repeat).
    pub rules: Vec<Rule>,
    rule_index: foldhash::HashMap<&'static str, usize>,
    obligations: Vec<Obligation>,
    /// Each obligation as a record holds it, made once.
    obligation_refs: Vec<ObligationRef>,
    /// Each obligation's conditions on the classification and entity types, read once.
    obligation_filters: Vec<ObligationFilter>,
    nis1_choice: Parameter,
    local_choice: Parameter,
    fine_essential: (Fine, String),
    fine_important: (Fine, String),
    /// Annex Art. 4(2) applied (`two_period_rule`, default true).
    pub two_period_rule: bool,
    /// NIS2 recital 16 applied for entities that declare independent systems
    /// (`recital16_carve_out`, default false: the directive as written).
    pub recital16_carve_out: Option<Parameter>,
    classification: Call,
    jurisdiction: Call,
}

/// When an obligation applies, as indexes rather than names: every assessment asks it of every
/// obligation.
#[derive(Debug, Clone)]
struct ObligationFilter {
    /// The classifications of `applies_to`.
    applies_to: Vec<Classification>,
    /// Per entity type of the vocabulary, whether `only_entity_types` names it; `None` when the
    /// list is empty (every type).
    only: Option<Vec<bool>>,
    /// Per entity type, whether `except_entity_types` names it; `None` when the list is empty.
    except: Option<Vec<bool>>,
}

impl ObligationFilter {
    fn new(o: &Obligation, vocabulary: &Vocabulary) -> ObligationFilter {
        let named = |list: &[String]| {
            (!list.is_empty()).then(|| {
                vocabulary
                    .types
                    .iter()
                    .map(|t| list.contains(&t.entity_type))
                    .collect()
            })
        };
        ObligationFilter {
            applies_to: o
                .applies_to
                .iter()
                .filter_map(|c| Classification::parse(c))
                .collect(),
            only: named(&o.only_entity_types),
            except: named(&o.except_entity_types),
        }
    }
}

/// The pack's NACE table, when it has one, with the NACE revisions it lists (optional tables
/// `nace_rev2` and `nace_rev2_1`); every entity type it names must be in the pack, and every
/// code in its revision.
fn load_nace(pack: &Pack, vocabulary: &Vocabulary) -> Result<crate::nace::NaceTable, PackError> {
    use crate::nace::{Classification, Revision};
    if !pack.manifest.tables.contains_key("nace") {
        return Ok(crate::nace::NaceTable::default());
    }
    let table_error = |file: &str, message: String| PackError::Table {
        pack: pack.manifest.id.clone(),
        file: file.into(),
        line: 0,
        message,
    };
    let mut classifications = Vec::new();
    for (name, revision) in [
        ("nace_rev2", Revision::Rev2),
        ("nace_rev2_1", Revision::Rev21),
    ] {
        if pack.manifest.tables.contains_key(name) {
            let list = Classification::from_table(revision, pack.table(name)?)
                .map_err(|m| table_error(name, m))?;
            classifications.push(list);
        }
    }
    let rows: Vec<crate::nace::TableRow> = tables::read(pack, "nace", "codes")?;
    let table = crate::nace::NaceTable::with_classifications(rows, classifications)
        .map_err(|m| table_error("nace", m))?;
    if let Some(t) = table.entity_types().find(|t| vocabulary.get(t).is_none()) {
        return Err(table_error(
            "nace",
            format!("`{t}` is not an entity type of this pack's `entity_types` table"),
        ));
    }
    Ok(table)
}

/// The strings passed to scripts, made once per worker thread so that a call neither allocates
/// them nor shares their reference counts with other threads; and the NACE notes this worker
/// has written, as most records of a portfolio repeat a few codes.
pub struct Strings {
    type_names: Vec<ImmutableString>,
    annexes: Vec<ImmutableString>,
    size_names: [ImmutableString; 4],
    designation_names: [ImmutableString; 3],
    nace_notes: std::cell::RefCell<foldhash::HashMap<String, Option<String>>>,
    /// The rule each decision returned for the inputs it was given: the same as the scripts'
    /// own memo, keyed by the inputs themselves, so that a repeated decision neither prepares
    /// arguments nor writes a key.
    decided: std::cell::RefCell<foldhash::HashMap<(usize, Inputs), usize>>,
}

/// Decisions a worker keeps before it starts over.
const DECIDED_CAPACITY: usize = 65_536;

/// NACE notes a worker keeps before it starts over.
const NACE_NOTES_CAPACITY: usize = 4_096;

impl Strings {
    /// [`crate::nace::note`], remembered per codes and declared types (a pure function of them).
    fn nace_note(&self, table: &crate::nace::NaceTable, facts: &Facts) -> Option<String> {
        let codes = facts.nace_codes.as_deref()?;
        let mut key = String::with_capacity(64);
        for c in codes {
            key.push_str(c);
            key.push('\u{1f}');
        }
        match &facts.activities {
            Some(list) => {
                key.push('\u{1e}');
                for a in list {
                    key.push_str(&a.entity_type);
                    key.push('\u{1f}');
                }
            }
            None => key.push('\u{1d}'),
        }
        if let Some(note) = self.nace_notes.borrow().get(&key) {
            return note.clone();
        }
        let declared: Option<Vec<&str>> = facts
            .activities
            .as_ref()
            .map(|list| list.iter().map(|a| a.entity_type.as_str()).collect());
        let note = crate::nace::note(table, codes, declared.as_deref());
        let mut memo = self.nace_notes.borrow_mut();
        if memo.len() >= NACE_NOTES_CAPACITY {
            memo.clear();
        }
        memo.insert(key, note.clone());
        note
    }
}

impl Nis2Pack {
    pub fn load(pack: &Pack) -> Result<Nis2Pack, PackError> {
        let id = pack.manifest.id.clone();
        let manifest_error = |message: String| PackError::Manifest {
            pack: id.clone(),
            message,
        };

        let mut vocabulary = Vocabulary::new(tables::read(pack, "entity_types", "entity_types")?);
        if vocabulary.get("other").is_none() {
            return Err(PackError::Table {
                pack: id.clone(),
                file: "entity_types".into(),
                line: 0,
                message: "the table must list the entity type `other` (activities of no Annex \
                          type)"
                    .into(),
            });
        }
        let sizes = SizeTable::from_json(pack.table("size_classes")?, &id)?;
        let member_states: BTreeSet<String> = tables::read(pack, "member_states", "member_states")?;
        let member_states = MemberStates::new(member_states);
        let rule_list: Vec<Rule> = tables::read(pack, "rules", "rules")?;
        let rule_list: Vec<Rule> = rule_list.into_iter().map(Rule::grounded).collect();
        let obligations: Vec<Obligation> = tables::read(pack, "obligations", "obligations")?;
        vocabulary.nace = load_nace(pack, &vocabulary)?;
        let obligation_filters = obligations
            .iter()
            .map(|o| ObligationFilter::new(o, &vocabulary))
            .collect();
        let obligation_refs = (obligations.iter())
            .map(|o| ObligationRef::of_table(o.id, o.cites, o.due, o.title))
            .collect();
        let rule_index = rule_list
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect();

        let param = |name: &str| {
            pack.manifest
                .parameters
                .get(name)
                .cloned()
                .ok_or_else(|| manifest_error(format!("parameter `{name}` is missing")))
        };
        let fine = |name: &str| -> Result<(Fine, String), PackError> {
            let p = param(name)?;
            let fine = serde_json::from_value(p.default.clone())
                .map_err(|e| manifest_error(format!("parameter `{name}`: {e}")))?;
            Ok((fine, p.cites))
        };
        let call = |decision: &str| -> Result<Call, PackError> {
            let d = pack.manifest.decisions.get(decision).ok_or_else(|| {
                manifest_error(format!(
                    "decision `{decision}` is missing under \"decisions\""
                ))
            })?;
            let mut args = Vec::new();
            for name in &d.arguments {
                let arg = ARG_NAMES.iter().find(|(n, _)| n == name).map(|(_, a)| *a);
                let arg = arg.ok_or_else(|| {
                    let hint = crate::validate::did_you_mean(name, argument_names())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    manifest_error(format!(
                        "decision `{decision}` asks for `{name}`, which the host does not \
                         prepare{hint}"
                    ))
                })?;
                args.push(arg);
            }
            Ok(Call {
                decision: decision.into(),
                function: d.function.clone(),
                args,
            })
        };

        // Packs written before these switches existed get the directive as written.
        let switch = |name: &str, default: bool| -> Result<bool, PackError> {
            match pack.manifest.parameters.get(name) {
                None => Ok(default),
                Some(p) => p.default.as_bool().ok_or_else(|| {
                    manifest_error(format!(
                        "parameter `{name}`: `default` must be true or false, not `{}`",
                        p.default
                    ))
                }),
            }
        };

        Ok(Nis2Pack {
            two_period_rule: switch("two_period_rule", true)?,
            recital16_carve_out: pack.manifest.parameters.get("recital16_carve_out").cloned(),
            sizes,
            member_states,
            rules: rule_list,
            rule_index,
            obligations,
            obligation_refs,
            obligation_filters,
            nis1_choice: param("nis1_operators_essential")?,
            local_choice: param("local_public_administration")?,
            fine_essential: fine("fine_essential")?,
            fine_important: fine("fine_important")?,
            classification: call("classification")?,
            jurisdiction: call("jurisdiction")?,
            vocabulary,
        })
    }

    /// Asks the pack for one decision and checks that the rule it returns exists.
    fn decide(
        &self,
        call: &Call,
        inputs: &Inputs,
        strings: &Strings,
        scripts: &Scripts,
        engine: &Engine,
    ) -> Result<&Rule, PackError> {
        let recording = super::trace::is_recording();
        // The call is one of this pack's, which outlives the worker's memo: its address names it.
        let key = (std::ptr::from_ref(call) as usize, *inputs);
        if !recording {
            if let Some(rule) = strings
                .decided
                .borrow()
                .get(&key)
                .and_then(|&i| self.rules.get(i))
            {
                return Ok(rule);
            }
        }
        let id = scripts.call_rule(engine, &call.decision, &call.function, || {
            self.args(call, inputs, strings)
        })?;
        if recording {
            let values = self.args(call, inputs, strings);
            super::trace::push(|| super::trace::Step {
                pack: scripts.pack.clone(),
                decision: call.decision.clone(),
                function: call.function.clone(),
                arguments: call
                    .args
                    .iter()
                    .zip(values)
                    .map(|(arg, v)| {
                        let shown = if v.is_string() {
                            format!("{:?}", v.to_string())
                        } else {
                            v.to_string()
                        };
                        (arg_name(*arg).to_string(), shown)
                    })
                    .collect(),
                rule: id.clone(),
                record: super::trace::current_record(),
            });
        }
        let found = self
            .rule_index
            .get(id.as_str())
            .and_then(|&i| Some((i, self.rules.get(i)?)));
        if let Some((i, rule)) = found {
            if !recording {
                let mut decided = strings.decided.borrow_mut();
                if decided.len() >= DECIDED_CAPACITY {
                    decided.clear();
                }
                decided.insert(key, i);
            }
            return Ok(rule);
        }
        Err(PackError::Script {
            pack: scripts.pack.clone(),
            file: scripts
                .function_files
                .get(&call.function)
                .cloned()
                .unwrap_or_default(),
            line: 0,
            column: 0,
            message: format!(
                "decision `{}` (function `{}`) returned `{id}`, which is not a rule in \
                 tables/rules.json; add the rule there or return an existing id",
                call.decision, call.function
            ),
        })
    }

    fn is_eu(&self, country: &str) -> bool {
        self.member_states.contains(country)
    }
}

/// One value per prepared fact, for one activity in one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Inputs {
    type_index: usize,
    size: SizeClass,
    in_union: bool,
    public_administration: bool,
    national_security: bool,
    designation: usize,
    cer: bool,
    nis1_operator: bool,
    nis1_choice: bool,
    local_choice: bool,
    established_in_union: bool,
}

impl Nis2Pack {
    /// Fresh copies of the argument strings, for one worker thread.
    pub fn strings(&self) -> Strings {
        let fresh = |s: &str| ImmutableString::from(s.to_string());
        Strings {
            type_names: self
                .vocabulary
                .types
                .iter()
                .map(|t| fresh(&t.entity_type))
                .collect(),
            annexes: self
                .vocabulary
                .types
                .iter()
                .map(|t| fresh(&t.annex))
                .collect(),
            size_names: SizeClass::ALL.map(|c| fresh(c.as_str())),
            designation_names: ["", "essential", "important"].map(fresh),
            nace_notes: Default::default(),
            decided: Default::default(),
        }
    }

    fn args(&self, call: &Call, x: &Inputs, strings: &Strings) -> Vec<Dynamic> {
        call.args
            .iter()
            .map(|arg| match arg {
                Arg::EntityType => strings.type_names[x.type_index].clone().into(),
                Arg::Annex => strings.annexes[x.type_index].clone().into(),
                Arg::SizeClass => strings.size_names[x.size as usize].clone().into(),
                Arg::InUnion => x.in_union.into(),
                Arg::PublicAdministration => x.public_administration.into(),
                Arg::NationalSecurity => x.national_security.into(),
                Arg::Designation => strings.designation_names[x.designation].clone().into(),
                Arg::CerCriticalEntity => x.cer.into(),
                Arg::Nis1Operator => x.nis1_operator.into(),
                Arg::Nis1Choice => x.nis1_choice.into(),
                Arg::LocalChoice => x.local_choice.into(),
                Arg::EstablishedInUnion => x.established_in_union.into(),
            })
            .collect()
    }
}

/// What a missing fact could be, and which facts would settle it. The values are a few
/// constants, so they are borrowed rather than allocated for every record.
struct Dimension<T: 'static> {
    values: &'static [T],
    settle: Vec<String>,
}

impl Dimension<bool> {
    fn known(value: bool) -> Self {
        Dimension {
            values: if value { &[true] } else { &[false] },
            settle: Vec::new(),
        }
    }
}

/// Jurisdiction of one activity under Art. 26. It follows from the jurisdiction rule and the
/// facts alone, so activities decided by the same rule share one.
struct Jurisdiction<'a> {
    rule: &'a Rule,
    /// Member states, sorted, each once.
    countries: Countries<'a>,
    missing: Vec<String>,
    notes: Vec<String>,
}

/// The jurisdictions of an organisation's candidate activities: one per jurisdiction rule
/// decided, and which one each entity type has (an organisation of unknown activities has
/// every type of the vocabulary as a candidate, and a few rules between them).
struct Jurisdictions<'a> {
    distinct: SmallVec<[Jurisdiction<'a>; 2]>,
    /// Which of `distinct` each entity type has: on the stack for a vocabulary of up to 80
    /// types (the shipped one has 71).
    by_type: SmallVec<[Option<usize>; 80]>,
}

impl<'a> Jurisdictions<'a> {
    fn get(&self, entity_type: usize) -> Option<&Jurisdiction<'a>> {
        let k = self.by_type.get(entity_type).copied().flatten()?;
        self.distinct.get(k)
    }
}

/// Member states, on the stack for up to four.
type Countries<'a> = SmallVec<[&'a str; 4]>;

/// The entity types of one candidate set of activities, on the stack for up to four: the
/// vectors made for every organisation were a quarter of its allocations.
type Types = SmallVec<[usize; 4]>;

/// Member states sorted and each once, as a set would hold them.
fn sorted(mut countries: Countries) -> Countries {
    countries.sort_unstable();
    countries.dedup();
    countries
}

const PUBLIC_ADMINISTRATION_TYPES: [&str; 3] = [
    "central_government_public_administration_entity",
    "regional_public_administration_entity",
    "local_public_administration_entity",
];

/// Evaluates the nis2 pack for one organisation. `group` carries figures aggregated with linked
/// and partner enterprises, when the group step computed them.
pub fn evaluate(
    pack: &Nis2Pack,
    scripts: &Scripts,
    engine: &Engine,
    strings: &Strings,
    facts: &Facts,
    aggregate: Option<&Aggregate>,
) -> Result<Nis2Out, PackError> {
    let own = pack.sizes.sizing(
        &facts.figures(),
        facts.previous_period.as_ref(),
        &AtLeast::default(),
        pack.two_period_rule,
    );
    // An aggregate of the entity alone (kept for its notes and warnings) sizes nothing.
    let counted = aggregate.filter(|a| a.count() > 1);
    let sizing = match counted {
        Some(a) => pack.sizes.sizing(
            &a.figures,
            a.previous.as_ref(),
            &AtLeast {
                now: a.sum.at_least,
                previous: a.sum.previous_at_least,
            },
            pack.two_period_rule,
        ),
        None => own.clone(),
    };
    let figures = counted
        .map(|a| a.figures)
        .unwrap_or_else(|| facts.figures());
    let range = sizing.range;

    // Activities: the declared ones, or every entity type when none is declared.
    let activity_sets: SmallVec<[Types; 1]> = match &facts.activities {
        Some(list) if !list.is_empty() => smallvec![list
            .iter()
            .filter_map(|a| pack.vocabulary.by_type.get(a.entity_type.as_str()).copied())
            .collect()],
        Some(_) => smallvec![pack
            .vocabulary
            .by_type
            .get("other")
            .copied()
            .into_iter()
            .collect()],
        None => (0..pack.vocabulary.types.len())
            .map(|i| smallvec![i])
            .collect(),
    };
    let activities_known = facts.activities.is_some();

    let established_eu: Option<bool> = facts
        .established_in
        .as_ref()
        .map(|list| list.iter().any(|c| pack.is_eu(c)));
    let serves_eu: Option<bool> = facts
        .provides_services_in
        .as_ref()
        .map(|list| list.iter().any(|c| pack.is_eu(c)));
    let in_union = match (established_eu, serves_eu) {
        (Some(true), _) | (_, Some(true)) => Dimension::known(true),
        (Some(false), Some(false)) => Dimension::known(false),
        _ => Dimension {
            values: &[true, false],
            settle: ["established_in", "provides_services_in"]
                .iter()
                .zip([established_eu, serves_eu])
                .filter(|(_, known)| known.is_none())
                .map(|(name, _)| name.to_string())
                .collect(),
        },
    };

    let size = Dimension {
        values: range.class_list(),
        settle: match counted {
            Some(a) => settling_parts(a, &sizing.settle),
            None => sizing.settle.clone(),
        },
    };

    let designations = facts.designations.as_ref();
    let designation = match designations.and_then(|d| d.member_state.as_deref()) {
        Some("essential") => 1,
        Some("important") => 2,
        _ => 0,
    };
    let cer = designations
        .and_then(|d| d.cer_critical_entity)
        .unwrap_or(false);
    let nis1_operator = designations
        .and_then(|d| d.nis1_operator_of_essential_services)
        .unwrap_or(false);
    let national_security = facts.national_security_activities.unwrap_or(false);
    let declared_public_administration = facts.public_or_private.as_deref() == Some("public")
        && facts.public_administration_level.is_some();

    // Jurisdiction of every candidate activity, independent of its classification.
    let mut jurisdictions = Jurisdictions {
        distinct: SmallVec::new(),
        by_type: smallvec![None; pack.vocabulary.types.len()],
    };
    for &t in activity_sets.iter().flatten() {
        if jurisdictions.get(t).is_some() {
            continue;
        }
        let public_administration = declared_public_administration
            || PUBLIC_ADMINISTRATION_TYPES.contains(&pack.vocabulary.types[t].entity_type.as_str());
        let inputs = Inputs {
            type_index: t,
            size: range.min,
            in_union: true,
            public_administration,
            national_security,
            designation,
            cer,
            nis1_operator,
            nis1_choice: false,
            local_choice: false,
            established_in_union: established_eu.unwrap_or(true),
        };
        let rule = pack.decide(&pack.jurisdiction, &inputs, strings, scripts, engine)?;
        let decided = &mut jurisdictions.distinct;
        let k = match decided.iter().position(|j| std::ptr::eq(j.rule, rule)) {
            Some(k) => k,
            None => {
                decided.push(jurisdiction(pack, facts, rule));
                decided.len() - 1
            }
        };
        if let Some(slot) = jurisdictions.by_type.get_mut(t) {
            *slot = Some(k);
        }
    }

    // Member-state choices, read for the member states with jurisdiction.
    let countries: Countries = if activities_known {
        sorted(
            activity_sets[0]
                .iter()
                .filter_map(|&t| jurisdictions.get(t))
                .flat_map(|j| j.countries.iter().copied())
                .collect(),
        )
    } else {
        Countries::new()
    };
    // An unknown activity list already leaves the classification open: asking about member-state
    // choices for activities the organisation may not have would only add noise.
    let local_pa = activities_known
        && activity_sets[0]
            .iter()
            .any(|&t| pack.vocabulary.types[t].entity_type == "local_public_administration_entity");
    let nis1_choice = if nis1_operator && activities_known {
        choice(&pack.nis1_choice, "nis1_operators_essential", &countries)
    } else {
        Dimension::known(false)
    };
    let local_choice = if local_pa {
        choice(
            &pack.local_choice,
            "local_public_administration",
            &countries,
        )
    } else {
        Dimension::known(false)
    };

    // Ask the pack once per scenario.
    struct Answer<'p> {
        coords: [usize; 5],
        outcome: Classification,
        /// Every activity's rule and outcome, in the order declared.
        activities: SmallVec<[(usize, &'p Rule, Classification); 2]>,
    }
    // How many values each dimension has, in the order the answers are made.
    let counts = [
        activity_sets.len(),
        size.values.len(),
        in_union.values.len(),
        nis1_choice.values.len(),
        local_choice.values.len(),
    ];
    let mut answers: SmallVec<[Answer; 1]> = SmallVec::with_capacity(counts.iter().product());
    for (ai, set) in activity_sets.iter().enumerate() {
        for (si, &size_class) in size.values.iter().enumerate() {
            for (ui, &union) in in_union.values.iter().enumerate() {
                for (ni, &nis1) in nis1_choice.values.iter().enumerate() {
                    for (li, &local) in local_choice.values.iter().enumerate() {
                        let mut activities: SmallVec<[_; 2]> = SmallVec::with_capacity(set.len());
                        for &t in set {
                            let entity_type = pack.vocabulary.types[t].entity_type.as_str();
                            let inputs = Inputs {
                                type_index: t,
                                size: size_class,
                                in_union: union,
                                public_administration: declared_public_administration
                                    || PUBLIC_ADMINISTRATION_TYPES.contains(&entity_type),
                                national_security,
                                designation,
                                cer,
                                nis1_operator,
                                nis1_choice: nis1,
                                local_choice: local,
                                established_in_union: established_eu.unwrap_or(true),
                            };
                            let rule = pack.decide(
                                &pack.classification,
                                &inputs,
                                strings,
                                scripts,
                                engine,
                            )?;
                            let outcome = outcome_of(rule, scripts)?;
                            activities.push((t, rule, outcome));
                        }
                        // The strictest activity decides (essential > important >
                        // registration only > out of scope).
                        let outcome = activities
                            .iter()
                            .map(|a| a.2)
                            .max()
                            .unwrap_or(Classification::OutOfScope);
                        answers.push(Answer {
                            coords: [ai, si, ui, ni, li],
                            outcome,
                            activities,
                        });
                    }
                }
            }
        }
    }

    let Some(first) = answers.first() else {
        return Err(PackError::Table {
            pack: scripts.pack.clone(),
            file: "entity_types".into(),
            line: 0,
            message: "no activity could be evaluated: the entity type table is empty or lacks \
                      `other`"
                .into(),
        });
    };
    let agreed = answers.iter().all(|a| a.outcome == first.outcome);
    let classification = if agreed {
        first.outcome
    } else {
        Classification::Undetermined
    };
    // The classifications an undetermined organisation could have, strictest first: when all are
    // essential or important, it is in scope whatever the missing facts say.
    let possible: Vec<Classification> = if agreed {
        Vec::new()
    } else {
        let mut all: Vec<Classification> = answers.iter().map(|a| a.outcome).collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.dedup();
        all
    };

    // Which unknown facts changed the answer: two answers that differ in that fact alone.
    let mut missing: Vec<String> = Vec::new();
    if !agreed {
        let activities = ["activities".to_string()];
        let settles: [&[String]; 5] = [
            if activities_known { &[] } else { &activities },
            &size.settle,
            &in_union.settle,
            &nis1_choice.settle,
            &local_choice.settle,
        ];
        // There is an answer for every combination of values, made in the order of the
        // dimensions: the answers that differ from answer `i` in dimension `d` alone are
        // `stride[d]` apart, the first of them at coordinate 0.
        let mut stride = [1; 5];
        for d in (0..4).rev() {
            stride[d] = stride[d + 1] * counts[d + 1];
        }
        for (d, settle) in settles.iter().enumerate() {
            let matters = answers.iter().enumerate().any(|(i, a)| {
                let first = i - a.coords[d] * stride[d];
                answers.get(first).is_some_and(|f| f.outcome != a.outcome)
            });
            if matters {
                for s in settle.iter() {
                    if !missing.contains(s) {
                        missing.push(s.clone());
                    }
                }
            }
        }
    }

    // Grounds: the size, then the rules that decided (every distinct one when undetermined).
    // The size, usually one rule, and a jurisdiction rule.
    let mut grounds = Vec::with_capacity(4);
    let size_class = range.known();
    grounds.push(Ground::new(
        "size_class",
        match size_class {
            Some(c) => pack.sizes.cites(c),
            None => "Rec. 2003/361/EC Annex Art. 2",
        },
        size_says(pack, counted, &sizing),
    ));
    let mut notes: Vec<String> = aggregate.map(|a| a.notes.clone()).unwrap_or_default();
    let deciding_answers = if agreed { &answers[..1] } else { &answers[..] };
    let mut seen_rules: SmallVec<[&str; 4]> = SmallVec::new();
    for answer in deciding_answers {
        let deciding = answer.activities.iter().filter(|a| a.2 == answer.outcome);
        for &(_, rule, _) in deciding {
            if seen_rules.contains(&rule.id) {
                continue;
            }
            seen_rules.push(rule.id);
            grounds.push(if agreed {
                rule.to_ground()
            } else {
                let says = format!("{} if {}", rule.outcome, rule.says);
                Ground::new(rule.id, rule.cites, says)
            });
            if agreed && facts.designations.is_none() {
                if let Some(note) = &rule.note {
                    notes.push(note.clone());
                }
            }
        }
    }

    // Jurisdiction, lex specialis, obligations: from the activities that bring it into scope.
    // Activities in scope in some answer; for an unknown activity list, the candidates.
    let mut in_scope_types = Types::new();
    if classification != Classification::OutOfScope {
        for answer in if agreed { &answers[..1] } else { &answers[..] } {
            for (t, _, outcome) in &answer.activities {
                if *outcome != Classification::OutOfScope && !in_scope_types.contains(t) {
                    in_scope_types.push(*t);
                }
            }
        }
    }
    let mut jurisdiction_set = Countries::new();
    let mut seen_jurisdiction_rules: SmallVec<[&str; 2]> = SmallVec::new();
    if !activities_known {
        // Which activity it has is unknown: give a jurisdiction only where every candidate
        // activity would lead to the same member states.
        let mut sets = in_scope_types.iter().filter_map(|&t| jurisdictions.get(t));
        if let Some(first_set) = sets.next() {
            if sets.all(|j| j.countries == first_set.countries) {
                jurisdiction_set = first_set.countries.clone();
            }
        }
    }
    for &t in in_scope_types.iter().filter(|_| activities_known) {
        let Some(j) = jurisdictions.get(t) else {
            continue;
        };
        jurisdiction_set.extend(j.countries.iter().copied());
        for m in &j.missing {
            if !missing.contains(m) {
                missing.push(m.clone());
            }
        }
        if !seen_jurisdiction_rules.contains(&j.rule.id) {
            seen_jurisdiction_rules.push(j.rule.id);
            grounds.push(j.rule.to_ground());
            notes.extend(j.notes.iter().cloned());
        }
    }
    let jurisdiction_set = sorted(jurisdiction_set);

    // Only declared activities name a sector act: with unknown activities, DORA is a candidate,
    // not a fact.
    let lex_specialis: Vec<String> = {
        let mut acts: SmallVec<[&String; 2]> = in_scope_types
            .iter()
            .filter(|_| activities_known)
            .filter_map(|&t| pack.vocabulary.types[t].lex_specialis.as_ref())
            .collect();
        acts.sort_unstable();
        acts.dedup();
        acts.into_iter().cloned().collect()
    };
    let all_lex_specialis = activities_known
        && !in_scope_types.is_empty()
        && in_scope_types
            .iter()
            .all(|&t| pack.vocabulary.types[t].lex_specialis.is_some());
    if all_lex_specialis {
        grounds.push(Ground::new(
            "art4_lex_specialis",
            "NIS2 Art. 4; recital 28; Regulation (EU) 2022/2554 Art. 1(2)",
            format!(
                "{} lays down risk-management and reporting duties of at least equivalent effect: \
                 NIS2 Arts. 20, 21, 23 and their supervision do not apply",
                lex_specialis.join(", ")
            ),
        ));
    }

    let obligations = obligations(
        pack,
        classification,
        &in_scope_types,
        &jurisdictions,
        all_lex_specialis,
    );

    // Art. 34(4)-(5): the worldwide turnover of the undertaking the entity belongs to: itself
    // and its linked enterprises in full, not its partners (their share counts for size only).
    let turnover = undertaking_turnover(facts, counted);
    // Art. 34(7): whether and how far public administration entities can be fined is for each
    // member state to decide, so no maximum follows from the directive.
    let public_administration_activity = activities_known
        && in_scope_types.iter().any(|&t| {
            PUBLIC_ADMINISTRATION_TYPES.contains(&pack.vocabulary.types[t].entity_type.as_str())
        });
    if public_administration_activity
        && matches!(
            classification,
            Classification::Essential | Classification::Important
        )
    {
        notes.push(
            "no maximum fine given: whether public administration entities can be fined, and up \
             to what amount, is for the member state to decide (NIS2 Art. 34(7))"
                .into(),
        );
    }
    let max_fine_eur = match classification {
        // Art. 4: where a sector act displaces Arts. 21 and 23, the fines for infringing them
        // (Art. 34(4)-(5)) do not arise under NIS2.
        _ if all_lex_specialis => None,
        _ if public_administration_activity => None,
        Classification::Essential => Some(fine(pack.fine_essential.0, turnover)),
        Classification::Important => Some(fine(pack.fine_important.0, turnover)),
        _ => None,
    };
    if all_lex_specialis {
        notes.push(format!(
            "no NIS2 fine for Arts. 21 and 23: {} applies instead (NIS2 Art. 4)",
            lex_specialis.join(", ")
        ));
    }
    if max_fine_eur.is_some() && turnover.is_none() {
        notes.push(format!(
            "maximum fine shown without turnover: the fixed amount of {}; a worldwide turnover \
             would raise it where the percentage is higher",
            if classification == Classification::Essential {
                &pack.fine_essential.1
            } else {
                &pack.fine_important.1
            }
        ));
    }

    if let Some(note) = strings.nace_note(&pack.vocabulary.nace, facts) {
        notes.push(note);
    }

    let supplier_exposure = supplier_exposure(
        facts,
        classification,
        activities_known,
        &activity_sets,
        pack,
    );

    let carve_out = carve_out(
        pack,
        scripts,
        engine,
        strings,
        facts,
        counted,
        &jurisdiction_set,
    )?;

    if !possible.is_empty()
        && possible
            .iter()
            .all(|c| matches!(c, Classification::Essential | Classification::Important))
    {
        notes.push(
            "in scope whatever the missing facts are: essential or important (NIS2 Art. 3); the \
             duties common to both (Arts. 20, 21, 23, registration) apply now"
                .into(),
        );
    }
    Ok(Nis2Out {
        possible,
        classification,
        size: Size {
            class: size_class.map(SizeClass::as_str),
            possible: if size_class.is_none() {
                range.classes().map(SizeClass::as_str).collect()
            } else {
                Vec::new()
            },
            basis: if counted.is_some() {
                "aggregated"
            } else {
                "own"
            },
            employees: figures.employees,
            annual_turnover_eur: figures.annual_turnover_eur,
            balance_sheet_eur: figures.balance_sheet_eur,
            own_class: own.range.known().map(SizeClass::as_str),
            aggregation: counted.map(|a| Aggregation {
                cites: "Rec. 2003/361/EC Annex Arts. 3 and 6(2)-(3); NIS2 Art. 2(1)",
                enterprises: a.parts().take(LISTED).collect(),
                not_listed: a.count().saturating_sub(LISTED),
                totals: a.figures,
                // Shown only when a total is unknown (known totals equal their known parts).
                totals_at_least: (a.figures != a.sum.at_least).then_some(a.sum.at_least),
                previous_period_totals: a.previous,
                previous_period_totals_at_least: a
                    .previous
                    .filter(|p| *p != a.sum.previous_at_least)
                    .map(|_| a.sum.previous_at_least),
                previous_period_assumed_same: a
                    .sum
                    .assumed_stable
                    .iter()
                    .take(LISTED)
                    .cloned()
                    .collect(),
            }),
            period: sizing.period.clone(),
        },
        grounds,
        missing,
        jurisdiction: jurisdiction_set.into_iter().map(String::from).collect(),
        lex_specialis,
        obligations,
        max_fine_eur,
        supplier_exposure,
        notes,
        carve_out,
    })
}

/// The facts that would settle an aggregate's size: each missing figure with the enterprises
/// that did not give it, then each error record of the ownership group, whose figures are all
/// unknown (and so part of every missing total).
fn settling_parts(a: &Aggregate, figures: &[String]) -> Vec<String> {
    if figures.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = figures.iter().filter_map(|f| whose(a, f)).collect();
    out.extend(a.sum.error_records.iter().map(|named| {
        format!("the figures of {named}, an error record in this ownership group: correct it")
    }));
    out
}

/// A missing figure of an aggregate, with the enterprises that did not give it:
/// `employees of \`P\``; none when only error records left it out.
fn whose(a: &Aggregate, figure: &str) -> Option<String> {
    let previous = figure.starts_with("previous_period.");
    let field = figure.trim_start_matches("previous_period.");
    let names: Vec<String> = a
        .parts()
        .filter(|p| {
            if p.relation == Relation::ErrorRecord {
                return false;
            }
            let f = match p.previous_period {
                Some(before) if previous => before,
                _ => p.figures,
            };
            let value = match field {
                "employees" => f.employees,
                "annual_turnover_eur" => f.annual_turnover_eur,
                _ => f.balance_sheet_eur,
            };
            value.is_none()
        })
        .map(|p| format!("`{}`", p.enterprise))
        .collect();
    if !names.is_empty() {
        Some(format!("{figure} of {}", names.join(", ")))
    } else if a.sum.error_records.is_empty() {
        Some(figure.to_string())
    } else {
        None
    }
}

/// Enterprises listed in `size.aggregation` and named in the size ground: a member of a group of
/// thousands would otherwise carry the whole group, and the batch output grow with its square.
const LISTED: usize = 200;
const NAMED: usize = 12;

/// The size ground's sentence: the enterprises added up, then the class and why.
fn size_says(pack: &Nis2Pack, counted: Option<&Aggregate>, sizing: &Sizing) -> String {
    let mut says = pack
        .sizes
        .explain(&sizing.figures, &sizing.at_least, sizing.range);
    if sizing.from_previous {
        says.insert_str(0, "previous accounting period: ");
    }
    if let Some(period) = &sizing.period {
        says.push_str("; ");
        says.push_str(&period.says);
        says.push_str(" (");
        says.push_str(period.cites);
        says.push(')');
    }
    let Some(a) = counted else {
        return says;
    };
    let mut out = String::with_capacity(says.len() + 120 * a.count().min(NAMED));
    out.push_str("with linked and partner enterprises (");
    for (i, p) in a.parts().take(NAMED).enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        // `linked `L` of `M``: the enterprise, and the one it is reached through.
        let named = |out: &mut String, relation: &str, via: Option<&String>| {
            out.push_str(relation);
            out.push_str(" `");
            out.push_str(&p.enterprise);
            out.push('`');
            if let Some(v) = via {
                out.push_str(" of `");
                out.push_str(v);
                out.push('`');
            }
        };
        match p.relation {
            Relation::Own => out.push_str("own "),
            Relation::Linked => {
                named(&mut out, "linked", p.via.as_ref());
                out.push_str(" in full: ");
            }
            Relation::Partner => {
                named(&mut out, "partner", p.via.as_ref());
                out.push_str(" at ");
                super::size::push_number(&mut out, p.share_pct);
                out.push_str(" %: ");
            }
            Relation::ErrorRecord => {
                named(&mut out, "error record", None);
                out.push_str(": ");
            }
        }
        describe(&mut out, &p.figures);
    }
    if a.count() > NAMED {
        let _ = write!(
            out,
            "; and {} more listed under `size.aggregation`",
            a.count() - NAMED
        );
    }
    out.push_str("), ");
    out.push_str(&says);
    out
}

/// `12 AWU, turnover EUR 1,000,000, balance sheet unknown`, appended to `out`.
fn describe(out: &mut String, f: &Figures) {
    match f.employees {
        Some(e) => {
            super::size::push_number(out, e);
            out.push_str(" AWU");
        }
        None => out.push_str("unknown AWU"),
    }
    for (what, v) in [
        (", turnover ", f.annual_turnover_eur),
        (", balance sheet ", f.balance_sheet_eur),
    ] {
        out.push_str(what);
        match v {
            Some(v) => {
                out.push_str("EUR ");
                super::size::push_money(out, v);
            }
            None => out.push_str("unknown"),
        }
    }
}

/// NIS2 recital 16: the result on the entity's own figures, when the pack applies the
/// carve-out, the entity declares independent systems, and its figures were aggregated.
fn carve_out(
    pack: &Nis2Pack,
    scripts: &Scripts,
    engine: &Engine,
    strings: &Strings,
    facts: &Facts,
    counted: Option<&Aggregate>,
    jurisdiction: &[&str],
) -> Result<Option<CarveOut>, PackError> {
    // A member-state choice: it applies where a member state with jurisdiction makes it (the
    // Belgian overlay for Belgium), or everywhere when the pack's default says so.
    let applies = pack.recital16_carve_out.as_ref().is_some_and(|p| {
        if jurisdiction.is_empty() {
            p.default.as_bool() == Some(true)
        } else {
            jurisdiction.iter().any(|c| p.choice_in(c) == Some(true))
        }
    });
    if !applies || facts.nis_independent_of_group != Some(true) || counted.is_none() {
        return Ok(None);
    }
    let alone = evaluate(pack, scripts, engine, strings, facts, None)?;
    Ok(Some(CarveOut {
        classification: alone.classification,
        size_class: alone.size.class,
        cites: "NIS2 recital 16; Rec. 2003/361/EC Annex Art. 6(2)".into(),
        says: format!(
            "the entity declares its network and information systems and services independent \
             of its linked and partner enterprises, and the member state may weigh that \
             independence: on its own figures it is {} ({})",
            alone.size.class.unwrap_or("of undetermined size"),
            alone.classification.as_str()
        ),
    }))
}

fn outcome_of(rule: &Rule, scripts: &Scripts) -> Result<Classification, PackError> {
    match Classification::parse(&rule.outcome) {
        Some(c) if c != Classification::Undetermined => Ok(c),
        _ => Err(PackError::Table {
            pack: scripts.pack.clone(),
            file: "rules".into(),
            line: 0,
            message: format!(
                "rule `{}` has outcome `{}`; a classification rule must decide essential, \
                 important, registration_only or out_of_scope",
                rule.id, rule.outcome
            ),
        }),
    }
}

/// A member-state choice for the member states with jurisdiction: known when the pack gives
/// the same answer for all of them.
fn choice(param: &Parameter, name: &str, countries: &[&str]) -> Dimension<bool> {
    let values: Vec<Option<bool>> = if countries.is_empty() {
        vec![param.default.as_bool()]
    } else {
        countries.iter().map(|c| param.choice_in(c)).collect()
    };
    match values.first() {
        Some(&Some(v)) if values.iter().all(|x| *x == Some(v)) => Dimension::known(v),
        _ => {
            let unknown: Vec<&str> = countries
                .iter()
                .filter(|c| param.choice_in(c).is_none())
                .copied()
                .collect();
            let place = if unknown.is_empty() {
                "the member state".into()
            } else {
                unknown.join(", ")
            };
            Dimension {
                values: &[true, false],
                settle: vec![format!(
                    "member-state choice `{name}` ({}) in {place}",
                    param.cites
                )],
            }
        }
    }
}

/// The turnover of the undertaking: the entity's own plus its linked enterprises' (in full).
fn undertaking_turnover(facts: &Facts, counted: Option<&Aggregate>) -> Option<f64> {
    let Some(a) = counted else {
        return facts.annual_turnover_eur;
    };
    // The entity's own part, and the group's linked members; partners are left out. An error
    // record of the group may be linked, so its unknown turnover leaves the total unknown.
    a.sum
        .parts
        .iter()
        .enumerate()
        .filter(|(k, p)| {
            *k == a.entity || matches!(p.relation, Relation::Linked | Relation::ErrorRecord)
        })
        .map(|(_, p)| p.figures.annual_turnover_eur)
        .sum()
}

fn fine(f: Fine, turnover: Option<f64>) -> f64 {
    let share = turnover.map(|t| t * f.turnover_pct / 100.0).unwrap_or(0.0);
    f.amount_eur.max(share).round()
}

/// Turns a jurisdiction rule into member states (Art. 26).
fn jurisdiction<'a>(pack: &Nis2Pack, facts: &'a Facts, rule: &'a Rule) -> Jurisdiction<'a> {
    let eu = |list: &'a Option<Vec<CompactString>>| -> Option<Countries<'a>> {
        list.as_ref().map(|l| {
            sorted(
                l.iter()
                    .map(CompactString::as_str)
                    .filter(|c| pack.is_eu(c))
                    .collect(),
            )
        })
    };
    let mut out = Jurisdiction {
        rule,
        countries: Countries::new(),
        missing: Vec::new(),
        notes: Vec::new(),
    };
    let established = || eu(&facts.established_in);
    let registered_office = facts
        .established_in
        .as_ref()
        .and_then(|l| l.first())
        .map(CompactString::as_str)
        .filter(|c| pack.is_eu(c));
    match rule.outcome.as_str() {
        "services" => match eu(&facts.provides_services_in) {
            Some(set) => out.countries = set,
            None => out.missing.push("provides_services_in".into()),
        },
        "main_establishment" => {
            let cascade = facts
                .main_establishment
                .as_ref()
                .map(|me| {
                    [
                        me.cyber_decisions_in.as_deref(),
                        me.cyber_operations_in.as_deref(),
                        me.largest_workforce_in.as_deref(),
                    ]
                })
                .unwrap_or_default();
            if let Some(c) = cascade.into_iter().flatten().find(|c| pack.is_eu(c)) {
                out.countries.push(c);
            } else {
                match established() {
                    Some(set) if set.len() == 1 => out.countries = set,
                    Some(set) if !set.is_empty() => {
                        let office = registered_office
                            .unwrap_or_else(|| set.first().copied().unwrap_or_default());
                        out.notes.push(format!(
                            "main establishment not declared: {office} was taken as the place \
                             where cybersecurity decisions are predominantly taken (Art. 26(2)); \
                             declare `main_establishment` to settle it"
                        ));
                        out.countries.push(office);
                    }
                    Some(_) => {}
                    None => out.missing.push("established_in".into()),
                }
            }
        }
        "representative" => match facts
            .eu_representative_in
            .as_deref()
            .filter(|c| pack.is_eu(c))
        {
            Some(c) => out.countries.push(c),
            None => {
                out.notes.push(
                    "established outside the Union without a representative: it must designate \
                     one in a member state where it offers services (Art. 26(3)); until then \
                     every such member state may act"
                        .into(),
                );
                match eu(&facts.provides_services_in) {
                    Some(set) => out.countries = set,
                    None => out.missing.push("provides_services_in".into()),
                }
            }
        },
        "establishing_state" => match (registered_office, established()) {
            (Some(c), _) => out.countries.push(c),
            (None, Some(set)) => out.countries = set,
            (None, None) => out.missing.push("established_in".into()),
        },
        "establishment" => match established() {
            Some(set) => out.countries = set,
            None => out.missing.push("established_in".into()),
        },
        _ => {
            if facts.established_in.is_none() {
                out.missing.push("established_in".into());
            } else {
                out.notes.push(rule.says.to_string());
            }
        }
    }
    out
}

fn obligations(
    pack: &Nis2Pack,
    classification: Classification,
    in_scope_types: &[usize],
    jurisdictions: &Jurisdictions,
    lex_specialis: bool,
) -> Vec<ObligationRef> {
    let digital_registry = in_scope_types.iter().any(|t| {
        jurisdictions
            .get(*t)
            .map(|j| {
                matches!(
                    j.rule.id,
                    "art26_1_b_main_establishment" | "art26_3_representative"
                )
            })
            .unwrap_or(false)
    });
    let named = |types: &[bool], t: usize| types.get(t).copied().unwrap_or(false);
    // Room for every obligation, so that the list is not regrown as it fills.
    let mut applying = Vec::with_capacity(pack.obligations.len());
    let found = (pack.obligations.iter())
        .zip(&pack.obligation_refs)
        .zip(&pack.obligation_filters)
        .filter(|(_, f)| f.applies_to.contains(&classification))
        .filter(|((o, _), _)| !(lex_specialis && o.suppressed_by_lex_specialis))
        .filter(|(_, f)| {
            f.only
                .as_ref()
                .is_none_or(|only| in_scope_types.iter().any(|&t| named(only, t)))
        })
        .filter(|(_, f)| {
            f.except
                .as_ref()
                .is_none_or(|except| in_scope_types.iter().any(|&t| !named(except, t)))
        })
        .map(|(o, _)| o)
        .filter(|(o, _)| match o.registry.as_deref() {
            Some("art27") => digital_registry,
            Some("art3_4") => !digital_registry,
            _ => true,
        })
        .map(|(_, held)| held.clone());
    applying.extend(found);
    applying
}

/// Indirect exposure as a supplier of essential or important entities (Art. 21(2)(d), 21(3);
/// Implementing Regulation 2024/2690 Annex 5.1).
fn supplier_exposure(
    facts: &Facts,
    classification: Classification,
    activities_known: bool,
    activity_sets: &[Types],
    pack: &Nis2Pack,
) -> Option<SupplierExposure> {
    if facts.supplies_nis2_entities != Some(true) {
        return None;
    }
    let declared_cloud = activities_known
        && activity_sets[0]
            .iter()
            .any(|&t| pack.vocabulary.types[t].entity_type == "cloud_computing_service_provider");
    let hosted = facts
        .service_models
        .as_ref()
        .map(|m| {
            m.iter()
                .any(|s| matches!(s.as_str(), "saas" | "paas" | "iaas"))
        })
        .unwrap_or(false);
    let question = (hosted && !declared_cloud).then(|| {
        "Is the hosted service a cloud computing service (on-demand administration, broad remote \
         access, a scalable and elastic pool of shared resources; Art. 6(30), recital 33)? If so \
         it is an Annex I cloud computing service provider, in scope directly once medium-sized \
         (Art. 2(1)), and should declare that activity."
            .to_string()
    });
    let says = match classification {
        Classification::Essential | Classification::Important => {
            "also a supplier of NIS2 entities: its customers will pass supply-chain security terms \
             down to it on top of its own duties"
        }
        _ => {
            "outside NIS2 itself, but its customers are essential or important entities that must \
             manage supply-chain security and pass security terms down to their suppliers: expect \
             them in contracts"
        }
    };
    Some(SupplierExposure {
        cites: "NIS2 Art. 21(2)(d), Art. 21(3); Implementing Regulation (EU) 2024/2690 Annex 5.1"
            .into(),
        says: says.into(),
        question,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped table's 27 member states (rules/nis2/tables/member-states.json, ISO 3166-1
    /// alpha-2) are in the Union and nothing else is: the first and last codes of the alphabet,
    /// neighbours of member states' codes, lower case (which the facts schema refuses before
    /// this is asked) and codes of other lengths.
    #[test]
    fn member_states_are_the_tables_codes() {
        let pack = crate::pack::PackSet::shipped().unwrap();
        let codes: BTreeSet<String> =
            tables::read(pack.get("nis2").unwrap(), "member_states", "member_states").unwrap();
        assert_eq!(codes.len(), 27);
        let states = MemberStates::new(codes.clone());
        let mut members = 0;
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b]).unwrap();
                assert_eq!(states.contains(&code), codes.contains(&code), "{code}");
                members += usize::from(states.contains(&code));
            }
        }
        assert_eq!(members, 27);
        for code in ["de", "D", "DEU", "", "AZ", "ZZ", "AA", "EL", "UK"] {
            assert!(!states.contains(code), "{code}");
        }
        // A code of another form in a table is looked up as it is written.
        let odd = MemberStates::new(["FR".to_string(), "XK-1".to_string()].into());
        assert!(odd.contains("FR") && odd.contains("XK-1") && !odd.contains("XK"));
    }

    fn table() -> SizeTable {
        let pack = crate::pack::PackSet::shipped().unwrap();
        SizeTable::from_json(
            pack.get("nis2").unwrap().table("size_classes").unwrap(),
            "nis2",
        )
        .unwrap()
    }

    fn class(e: f64, t: f64, b: f64) -> SizeClass {
        table().classify(e, t, b)
    }

    // Rec. 2003/361/EC Annex Art. 2: headcount "fewer than", money "not exceeding".
    #[test]
    fn headcount_ceilings_are_strict() {
        assert_eq!(class(9.0, 1e6, 1e6), SizeClass::Micro);
        assert_eq!(class(10.0, 1e6, 1e6), SizeClass::Small); // Art. 2(3): fewer than 10
        assert_eq!(class(49.0, 1e6, 1e6), SizeClass::Small);
        assert_eq!(class(50.0, 1e6, 1e6), SizeClass::Medium); // Art. 2(2): fewer than 50
        assert_eq!(class(249.0, 1e6, 1e6), SizeClass::Medium);
        assert_eq!(class(250.0, 1e6, 1e6), SizeClass::Large); // Art. 2(1): fewer than 250
        assert_eq!(class(49.99, 1e6, 1e6), SizeClass::Small);
    }

    #[test]
    fn financial_ceilings_are_inclusive_and_either_suffices() {
        // Art. 2(3): micro = turnover or balance sheet not exceeding EUR 2 m.
        assert_eq!(class(5.0, 2_000_000.0, 9e9), SizeClass::Micro);
        assert_eq!(class(5.0, 2_000_001.0, 2_000_001.0), SizeClass::Small);
        // Art. 2(2): small = not exceeding EUR 10 m.
        assert_eq!(class(30.0, 10_000_000.0, 10_000_000.0), SizeClass::Small);
        assert_eq!(class(30.0, 10_000_001.0, 10_000_000.0), SizeClass::Small);
        assert_eq!(class(30.0, 10_000_001.0, 10_000_001.0), SizeClass::Medium);
        // Art. 2(1): medium = turnover not exceeding 50 m or balance sheet not exceeding 43 m.
        assert_eq!(class(120.0, 50_000_000.0, 43_000_000.0), SizeClass::Medium);
        assert_eq!(class(120.0, 50_000_001.0, 43_000_000.0), SizeClass::Medium);
        assert_eq!(class(120.0, 50_000_000.0, 43_000_001.0), SizeClass::Medium);
        assert_eq!(class(120.0, 50_000_001.0, 43_000_001.0), SizeClass::Large);
        // reference/users-inputs-scaling.md §2.2 example 4: 45 AWU, 12 m, 9 m is small; 11 m medium.
        assert_eq!(class(45.0, 12_000_000.0, 9_000_000.0), SizeClass::Small);
        assert_eq!(class(45.0, 12_000_000.0, 11_000_000.0), SizeClass::Medium);
    }

    // DESIGN.md "Facts": 120 AWU with no financial figures is at least medium.
    #[test]
    fn unknown_figures_give_a_range_and_name_what_settles_it() {
        let t = table();
        let f = Figures {
            employees: Some(120.0),
            ..Figures::default()
        };
        let r = t.range(&f, &Figures::default());
        assert_eq!((r.min, r.max), (SizeClass::Medium, SizeClass::Large));
        assert_eq!(
            t.settling_figures(&f, &Figures::default()),
            vec!["annual_turnover_eur", "balance_sheet_eur"]
        );
        // Turnover known at or below EUR 10 m: headcount alone settles it.
        let f = Figures {
            annual_turnover_eur: Some(5e6),
            ..Figures::default()
        };
        assert_eq!(
            t.settling_figures(&f, &Figures::default()),
            vec!["employees", "balance_sheet_eur"]
        );
        let f = Figures {
            employees: Some(300.0),
            ..Figures::default()
        };
        assert_eq!(
            t.range(&f, &Figures::default()).known(),
            Some(SizeClass::Large)
        );
    }

    // A group total with an unknown part is at least its known parts (Rec. 2003/361/EC Annex
    // Art. 6(2) adds figures, none below zero): known parts of 200 AWU give medium or large, as
    // fewer than 250 AWU with unknown financial figures may be medium (Annex Art. 2(1)); known
    // parts of 300 AWU are large (250 AWU or more) and nothing is left to settle.
    #[test]
    fn unknown_totals_are_at_least_their_known_parts() {
        let t = table();
        let unknown = Figures::default();
        let floor = |e: f64| Figures {
            employees: Some(e),
            annual_turnover_eur: Some(40e6),
            balance_sheet_eur: Some(40e6),
        };
        let r = t.range(&unknown, &floor(200.0));
        assert_eq!((r.min, r.max), (SizeClass::Medium, SizeClass::Large));
        let r = t.range(&unknown, &floor(300.0));
        assert_eq!(r.known(), Some(SizeClass::Large));
        let at_least = AtLeast {
            now: floor(300.0),
            previous: Figures::default(),
        };
        assert!(t.sizing(&unknown, None, &at_least, true).settle.is_empty());
        // With no lower bound the same unknown figures could be any class.
        let r = t.range(&unknown, &Figures::default());
        assert_eq!((r.min, r.max), (SizeClass::Micro, SizeClass::Large));
    }
}
