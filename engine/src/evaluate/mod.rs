//! Evaluation: one organisation at a time, pure, in parallel.
//!
//! [`Evaluator`] holds the packs of a run, loaded and checked once before any record is read.
//! Each rayon worker gets its own Rhai engine and its own compiled scripts on first use (see
//! [`Worker`]): in the prototype, workers sharing one engine gained nothing from the second core.

pub mod controls;
pub mod nis2;
pub mod plan;
pub mod size;
pub mod soc2;
pub mod tables;
pub mod trace;

use crate::assessment::{Assessment, PackRef};
use crate::error::{PackError, RecordError};
use crate::facts::Facts;
use crate::group::Aggregate;
use crate::pack::compiled::Scripts;
use crate::pack::{sandbox, PackSet};
use nis2::Nis2Pack;
use plan::PlanPack;
use soc2::Soc2Pack;
use thread_local::ThreadLocal;

/// What a worker thread keeps between records.
struct Worker {
    engine: rhai::Engine,
    nis2: Scripts,
    soc2: Option<Scripts>,
    strings: nis2::Strings,
    rankings: std::cell::RefCell<plan::Rankings>,
}

/// How many plan actions a record lists by default; the summary counts them all.
pub const DEFAULT_PLAN_ACTIONS: usize = 5;

/// The packs of a run, ready to evaluate records on any thread.
pub struct Evaluator {
    pub packs: PackSet,
    pub nis2: Nis2Pack,
    nis2_pack: crate::pack::Pack,
    /// The SOC 2 decision, when a `soc2` pack is loaded.
    pub soc2: Option<(Soc2Pack, crate::pack::Pack)>,
    /// The plan, when `controls` and `plan` packs are loaded.
    pub plan: Option<PlanPack>,
    plan_actions: usize,
    /// Kept for the process ([`crate::intern::packs`]): every record points at them.
    pack_refs: &'static [PackRef],
    workers: ThreadLocal<Worker>,
    instrument: Option<Instrument>,
}

type Instrument = Box<dyn Fn(&mut rhai::Engine) + Send + Sync>;

impl Evaluator {
    /// Loads the packs, parses their tables and compiles their scripts once, so that every
    /// problem in a pack is reported before any record is assessed.
    pub fn new(packs: PackSet) -> Result<Evaluator, PackError> {
        Evaluator::with_overlays(packs, &[])
    }

    /// As [`Evaluator::new`], with the named overlays applied to the packs they depend on
    /// (`assay assess --overlay nis2-be`). Every assessment names the base packs and the
    /// overlays, each with its version and hash.
    pub fn with_overlays(packs: PackSet, overlays: &[String]) -> Result<Evaluator, PackError> {
        let applied = crate::pack::overlay::apply(&packs, overlays)?;
        let overlay_refs: Vec<(String, PackRef)> = applied
            .overlays
            .iter()
            .filter_map(|(base, id)| packs.get(id).map(|p| (base.clone(), pack_ref(p))))
            .collect();
        let packs = applied.packs;
        let nis2_pack = packs
            .get("nis2")
            .cloned()
            .ok_or_else(|| PackError::Manifest {
                pack: "nis2".into(),
                message: "no pack with id `nis2` was loaded; the NIS2 decision needs one".into(),
            })?;
        let nis2 = Nis2Pack::load(&nis2_pack)?;
        crate::pack::compiled::check_all(&packs)?;
        let soc2 = match packs.get("soc2") {
            Some(p) => Some((Soc2Pack::load(p)?, p.clone())),
            None => None,
        };
        let plan = match (packs.get("controls"), packs.get("plan")) {
            (Some(c), Some(p)) => Some(PlanPack::load(c, p)?),
            (None, Some(_)) => {
                return Err(PackError::Manifest {
                    pack: "plan".into(),
                    message: "the plan needs the `controls` pack, which was not loaded".into(),
                })
            }
            _ => None,
        };
        let used = ["nis2", "soc2", "controls", "plan"];
        let pack_refs = crate::intern::packs(
            used.iter()
                .filter_map(|id| packs.get(id))
                .flat_map(|p| {
                    // Each pack used, then the overlays applied to it.
                    std::iter::once(pack_ref(p)).chain(
                        overlay_refs
                            .iter()
                            .filter(|(base, _)| *base == p.manifest.id)
                            .map(|(_, r)| r.clone()),
                    )
                })
                .collect(),
        );
        Ok(Evaluator {
            packs,
            nis2,
            nis2_pack,
            soc2,
            plan,
            plan_actions: DEFAULT_PLAN_ACTIONS,
            pack_refs,
            workers: ThreadLocal::new(),
            instrument: None,
        })
    }

    /// The nis2 pack as evaluated (overlays applied).
    pub fn nis2_pack(&self) -> &crate::pack::Pack {
        &self.nis2_pack
    }

    /// Lets `setup` change every worker's engine before its first record, e.g. to register the
    /// debugger that `pack test --coverage` uses to see which script lines run. Call it before
    /// assessing anything.
    pub fn instrument(&mut self, setup: impl Fn(&mut rhai::Engine) + Send + Sync + 'static) {
        self.instrument = Some(Box::new(setup));
        self.workers = ThreadLocal::new();
    }

    /// How many plan actions each record lists (0 = all).
    pub fn with_plan_actions(mut self, n: usize) -> Evaluator {
        self.plan_actions = n;
        self
    }

    pub fn pack_refs(&self) -> &'static [PackRef] {
        self.pack_refs
    }

    fn worker(&self) -> &Worker {
        self.workers.get_or(|| {
            let mut engine = sandbox::engine();
            if let Some(setup) = &self.instrument {
                setup(&mut engine);
            }
            // The scripts compiled once in `new`, so compiling them again cannot fail.
            let nis2 = Scripts::compile(&engine, &self.nis2_pack)
                .unwrap_or_else(|e| unreachable!("pack compiled before: {e}"));
            let soc2 = self.soc2.as_ref().map(|(_, pack)| {
                Scripts::compile(&engine, pack)
                    .unwrap_or_else(|e| unreachable!("pack compiled before: {e}"))
            });
            Worker {
                engine,
                nis2,
                soc2,
                strings: self.nis2.strings(),
                rankings: Default::default(),
            }
        })
    }

    /// Assesses one validated record. A pack that fails on it yields an error record naming the
    /// pack, file, line and decision; other records are not affected.
    pub fn assess(
        &self,
        facts: &Facts,
        line: usize,
        aggregate: Option<&Aggregate>,
        as_of: &str,
    ) -> Assessment {
        let worker = self.worker();
        trace::start_record(&facts.id);
        let mut assessment = Assessment {
            id: Some(facts.id.clone()),
            name: facts.name.clone(),
            line,
            packs: self.pack_refs,
            as_of: as_of.into(),
            nis2: None,
            soc2: None,
            plan: None,
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let Some(date) = soc2::date(as_of) else {
            assessment.errors.push(RecordError::new(
                "usage",
                line,
                None,
                format!("the assessment date `{as_of}` is not a date YYYY-MM-DD"),
            ));
            return assessment;
        };
        match nis2::evaluate(
            &self.nis2,
            &worker.nis2,
            &worker.engine,
            &worker.strings,
            facts,
            aggregate,
        ) {
            Ok(out) => {
                assessment.nis2 = Some(out);
                if let Some(a) = aggregate {
                    assessment.warnings.extend(a.warnings.iter().cloned());
                }
            }
            Err(e) => assessment
                .errors
                .push(RecordError::new("rule", line, None, e.to_string())),
        }
        if let (Some((pack, _)), Some(scripts)) = (&self.soc2, &worker.soc2) {
            match soc2::evaluate(pack, scripts, &worker.engine, facts, date) {
                Ok(out) => assessment.soc2 = Some(out),
                Err(e) => {
                    assessment
                        .errors
                        .push(RecordError::new("rule", line, None, e.to_string()))
                }
            }
        }
        if let Some(pack) = &self.plan {
            match plan::maturity(pack, facts, assessment.soc2.as_ref(), date, line) {
                Ok(maturity) => {
                    assessment.plan = Some(plan::evaluate(
                        pack,
                        facts,
                        assessment.nis2.as_ref(),
                        assessment.soc2.as_ref(),
                        maturity,
                        date,
                        self.plan_actions,
                        &worker.rankings,
                    ))
                }
                Err(errors) => assessment.errors.extend(errors),
            }
        }
        assessment
    }
}

/// What an assessment says about one pack: id, version and the hash over its files.
pub fn pack_ref(pack: &crate::pack::Pack) -> PackRef {
    PackRef {
        id: pack.manifest.id.clone(),
        version: pack.manifest.version.to_string(),
        sha256: pack.sha256(),
    }
}
