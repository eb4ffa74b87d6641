//! The batch, streamed: read → validate → group → evaluate → write, in input order, with memory
//! that does not grow with the portfolio.
//!
//! [`run`] first reads the input once for ids and ownership ([`crate::prescan`]), then reads it
//! again a chunk of records at a time. A reader thread keeps at most one chunk ready ahead (for
//! a JSON Lines file in UTF-8, one block of lines, whose records are validated where they are
//! in the block, without a copy of their own).
//! Each chunk is validated in parallel, and in the same step a record that needs no other
//! record (outside every ownership component, with an id no other record may carry) is
//! assessed and finished on its worker. So are the records of a component that lies whole in
//! a chunk, together on one worker, when each is valid and carries an id no other record may
//! carry. The others wait: those that take part in ownership until
//! their component is complete, those whose id may repeat until the records before them have
//! been seen. A chunk's waiting records are evaluated in parallel once every component it
//! touches is complete, and the chunk handed to the writer. A waiting component is aggregated
//! ([`crate::group::aggregate`]) by the worker that reaches one of its records first, not
//! between chunks, where one thread would work while the others wait. Chunks leave in the order
//! they came, and within a chunk rayon's indexed `collect` keeps record order (and a chunk's
//! units are put back in it), so the output is the same at any thread count.

use crate::assessment::{Assessment, Classification};
use crate::error::RecordError;
use crate::evaluate::Evaluator;
use crate::facts::Facts;
use crate::group::{self, Aggregate, ErrorMember};
use crate::prescan::{self, Prescan};
use crate::read::stream::{readable_owners, Body, Input, Item};
use crate::read::Format;
use crate::shard::Shard;
use crate::validate::Validator;
use foldhash::HashMap;
use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

/// Rayon workers run Rhai's tree-walking interpreter, which recurses; std's 2 MiB default stack
/// is tight for the call-depth limit the sandbox allows, so workers get more.
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// Records per chunk: enough to keep two cores busy between the sequential steps, few enough
/// that a chunk in flight (facts, values and assessments) stays within a few megabytes.
pub const CHUNK: usize = 512;

/// Records a worker takes at a time within a chunk: small enough that the workers finish a
/// chunk together (each chunk ends in a join, where a worker with nothing left waits).
const LEAF: usize = 16;

/// Builds the thread pool for `jobs` workers (0 = one per core).
pub fn pool(jobs: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .stack_size(WORKER_STACK)
        .build()
}

/// How a batch is run.
#[derive(Debug, Clone)]
pub struct Options {
    pub as_of: String,
    /// Assess only this shard's records.
    pub shard: Option<Shard>,
    /// Records per chunk.
    pub chunk: usize,
    /// Bytes of a JSON Lines file in UTF-8 the assessing pass reads at a time, its records
    /// validated straight from the block; `None` reads such a file record by record, as any
    /// other input is read.
    pub block: Option<usize>,
    /// Called once the ownership pass is over, inside the pool: `assay` hands back to the system
    /// there the memory that pass freed, which its allocator would otherwise keep while the
    /// assessing pass allocates afresh on every worker (BENCHMARKS.md: 17 MB at a million).
    pub after_ownership_pass: fn(),
}

impl Options {
    pub fn new(as_of: &str) -> Options {
        Options {
            as_of: as_of.to_string(),
            shard: None,
            chunk: CHUNK,
            block: Some(prescan::BLOCK),
            after_ownership_pass: || {},
        }
    }
}

/// What a batch came to, for the summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals {
    /// Records in the input.
    pub records: usize,
    /// Assessments written (this shard's records).
    pub assessed: usize,
    /// Per classification, in the order of [`Classification::ALL`].
    pub classifications: [usize; 5],
    /// Error records.
    pub errors: usize,
}

impl Totals {
    /// Counts one record's [`tally`].
    fn count(&mut self, tally: Tally) {
        self.assessed += 1;
        match tally {
            Tally::Error => self.errors += 1,
            Tally::Class(i) => self.classifications[i] += 1,
            Tally::None => {}
        }
    }

    /// Counts a record already written (`assay merge`): an error record, or its classification.
    pub fn count_record(&mut self, error: bool, classification: Option<Classification>) {
        self.count(match (error, classification) {
            (true, _) => Tally::Error,
            (false, Some(c)) => Tally::Class(class_index(c)),
            (false, None) => Tally::None,
        });
    }
}

fn class_index(c: Classification) -> usize {
    Classification::ALL
        .iter()
        .position(|x| *x == c)
        .unwrap_or(4)
}

/// What [`Totals`] needs of an assessment, taken before the worker hands it on.
#[derive(Debug, Clone, Copy)]
enum Tally {
    Error,
    /// Index in [`Classification::ALL`].
    Class(usize),
    None,
}

fn tally(a: &Assessment) -> Tally {
    // A record with any error counts as an error record, as the exit code does.
    if !a.errors.is_empty() {
        return Tally::Error;
    }
    match &a.nis2 {
        Some(n) => Tally::Class(class_index(n.classification)),
        None => Tally::None,
    }
}

/// Why a batch stopped.
#[derive(Debug)]
pub enum Stop {
    /// The input could not be read at all.
    Read(String),
    /// The writer failed (a closed pipe is one of these).
    Write(std::io::Error),
}

/// A record after validation.
struct Validated {
    ordinal: usize,
    line: usize,
    /// For a record whose facts are not valid: its id and name, when they could be read, so
    /// that its error record still names the organisation (valid facts carry their own).
    id: Option<String>,
    name: Option<String>,
    facts: Held,
    warnings: Vec<String>,
    /// For a record whose facts are not valid: its owners, when they can be read.
    owners: Option<Vec<crate::facts::Owner>>,
    /// Set when another record before it has the same id.
    duplicate: Option<RecordError>,
    /// Its ownership component, if it is in one.
    component: Option<u32>,
    /// Whether its facts are valid and another record may carry its id.
    may_repeat: bool,
}

/// Where a validated record's facts are.
// `Here` is what nearly every record holds: boxing its facts would cost an allocation a record.
#[allow(clippy::large_enum_variant)]
enum Held {
    /// With the record: its valid facts, or why they are not valid.
    Here(Result<Facts, Vec<RecordError>>),
    /// Kept for its ownership component until the component is complete, which is always
    /// before the record's chunk leaves.
    Lent,
    /// In its complete component, at this place among the component's valid records, with
    /// what the group step finds for it.
    Grouped(Arc<Group>, usize),
}

/// A complete ownership component, shared by the records in it until the last of them has been
/// assessed.
struct Group {
    /// Line and facts of each valid record, in reading order.
    records: Vec<(usize, Facts)>,
    /// Its error records, which the group step counts with unknown figures.
    failed: Vec<ErrorMember>,
    /// What the group step found, by place in `records`: aggregates, and errors that stop a
    /// record's group.
    found: OnceLock<(HashMap<usize, Aggregate>, HashMap<usize, RecordError>)>,
}

impl Group {
    /// A complete component: its valid records (line and facts, in reading order) and its
    /// error records.
    fn new(records: Vec<(usize, Facts)>, failed: Vec<ErrorMember>) -> Arc<Group> {
        Arc::new(Group {
            records,
            failed,
            found: OnceLock::new(),
        })
    }

    /// The group step's findings, worked out by the first worker that asks.
    fn found(&self) -> &(HashMap<usize, Aggregate>, HashMap<usize, RecordError>) {
        self.found.get_or_init(|| {
            let input: Vec<(usize, &Facts)> = self.records.iter().map(|(l, f)| (*l, f)).collect();
            // A member that is an error record has no figures that can be read: the others
            // count it with unknown figures (group::aggregate), and are told so.
            group::aggregate(&input, &self.failed)
        })
    }
}

/// Everything a batch needs besides its input.
pub struct Context<'a> {
    pub evaluator: &'a Evaluator,
    pub validator: &'a Validator,
}

/// Assesses `input`, handing assessments to `emit` a chunk at a time, in input order, and
/// reporting the records read so far to `progress`. Call it inside the thread pool that should
/// do the work.
pub fn run(
    input: &Input,
    cx: &Context,
    options: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
    emit: &mut dyn FnMut(Vec<Assessment>) -> std::io::Result<()>,
) -> Result<Totals, Stop> {
    run_finished(input, cx, options, progress, &|a| Ok(a), emit)
}

/// The ownership pass of [`run`], for a caller that needs its components too (the group
/// report keeps what it shows of their records alone); hand it to [`run_scanned`].
pub fn scan(input: &Input, options: &Options) -> Result<Prescan, Stop> {
    let scan = prescan::scan(input, options.chunk.max(1), options.shard.is_some());
    let scan = scan.map_err(Stop::Read)?;
    (options.after_ownership_pass)();
    Ok(scan)
}

/// As [`run`], with `finish` applied to each assessment on the worker that made it, in
/// parallel: a writer serialises there, so that the records leave as bytes and the thread that
/// emits them only copies. An error from `finish` stops the batch as a write error.
pub fn run_finished<T: Send>(
    input: &Input,
    cx: &Context,
    options: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
    finish: &(dyn Fn(Assessment) -> std::io::Result<T> + Sync),
    emit: &mut dyn FnMut(Vec<T>) -> std::io::Result<()>,
) -> Result<Totals, Stop> {
    let scan = scan(input, options)?;
    run_scanned(input, &scan, cx, options, progress, finish, emit)
}

/// As [`run_finished`], after the ownership pass: `scan` must be [`scan`]'s of `input`.
pub fn run_scanned<T: Send>(
    input: &Input,
    scan: &Prescan,
    cx: &Context,
    options: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
    finish: &(dyn Fn(Assessment) -> std::io::Result<T> + Sync),
    emit: &mut dyn FnMut(Vec<T>) -> std::io::Result<()>,
) -> Result<Totals, Stop> {
    let chunk = options.chunk.max(1);
    let mut state = State {
        scan,
        cx,
        options,
        finish,
        totals: Totals {
            records: scan.records,
            ..Totals::default()
        },
        read: 0,
        held: HashMap::default(),
        grouped: HashMap::default(),
        failed: HashMap::default(),
        first_line: HashMap::default(),
        by_last: {
            let mut c: Vec<usize> = (0..scan.components.len()).collect();
            c.sort_by_key(|&i| scan.components[i].last);
            c
        },
        next_complete: 0,
        waiting: VecDeque::new(),
    };
    // Looked at before the second reading and once it is read (a stat each), not before each
    // chunk: the per-record loop stays as it was measured, and `--out` keeps no output of a
    // run stopped at the end.
    if !input.unchanged() {
        return Err(rewritten(input));
    }
    progress(0, scan.records);

    let mut step = |records: Records| {
        if state.read + records.len() > scan.records {
            return Err(changed(input, scan.records, "more"));
        }
        state.take(records);
        state.release(false, emit)?;
        progress(state.read, scan.records);
        Ok(())
    };
    // A JSON Lines file in UTF-8 is read in blocks, and its records validated from the block;
    // any other input a chunk of items at a time.
    let blocks = match options.block {
        Some(size) => input.line_blocks(size).map_err(Stop::Read)?,
        None => None,
    };
    match blocks {
        Some(blocks) => {
            let mut lines = 0;
            let read = blocks.read_ahead(|block| {
                let (records, count) = block.records(lines + 1);
                lines += count;
                (records.chunks(chunk)).try_for_each(|part| step(Records::Lines(part)))
            });
            match read {
                Ok(done) => done?,
                Err(e) => step(Records::Items(vec![Item::read_error(lines + 1, &e)]))?,
            }
        }
        None => input
            .read_ahead(chunk, |items| step(Records::Items(items)))
            .map_err(Stop::Read)??,
    }
    if state.read < scan.records {
        return Err(changed(input, scan.records, "fewer"));
    }
    if !input.unchanged() {
        return Err(rewritten(input));
    }
    state.release(true, emit)?;
    Ok(state.totals)
}

/// The input read a second time did not hold the records the ownership pass found: its
/// components and shards would no longer be the input's.
fn changed(input: &Input, records: usize, second: &str) -> Stop {
    changed_as(
        input,
        &format!("the first reading found {records} records, the second {second}"),
    )
}

/// The input file was written to or replaced since it was opened ([`Input::unchanged`]): the
/// records read now may not be those the ownership pass grouped, even if as many.
fn rewritten(input: &Input) -> Stop {
    changed_as(
        input,
        "it was written to or replaced after assay first read it (its length, modification \
         time or file differ)",
    )
}

fn changed_as(input: &Input, how: &str) -> Stop {
    Stop::Read(format!(
        "{} changed while it was assessed: {how}. assay reads its input twice (first for \
         ownership groups), so it must stay as it is until the run ends: save a file that is \
         still being written, or the output of a command, to a file first, or give it on \
         standard input (`-`)",
        input.describe()
    ))
}

/// A chunk's records as read: items, or records of a block of a JSON Lines file with their
/// line numbers.
enum Records<'a> {
    Items(Vec<Item>),
    Lines(&'a [(usize, &'a [u8])]),
}

impl Records<'_> {
    fn len(&self) -> usize {
        match self {
            Records::Items(items) => items.len(),
            Records::Lines(lines) => lines.len(),
        }
    }
}

/// One record of [`Records`].
enum Record<'a> {
    Item(Item),
    Line(usize, &'a [u8]),
}

/// A record of a chunk on its way out.
enum Slot<T> {
    /// Assessed and finished on the worker that validated it: a record outside every ownership
    /// component whose id no other record may carry needs nothing from the records around it.
    Done(Tally, std::io::Result<T>),
    /// Waits for the steps that look across records (duplicate ids, the group step).
    Pending {
        /// Whether the step between chunks must look at it: a record of a component, or one
        /// whose id may repeat. The others wait only for the chunk's turn, and the step passes
        /// them by without reading the record.
        look: bool,
        v: Box<Validated>,
    },
}

/// The assessing pass, between chunks.
struct State<'a, T> {
    scan: &'a Prescan,
    cx: &'a Context<'a>,
    options: &'a Options,
    finish: &'a (dyn Fn(Assessment) -> std::io::Result<T> + Sync),
    totals: Totals,
    /// Records read so far.
    read: usize,
    /// Facts of the records of incomplete components, by component.
    held: HashMap<u32, Vec<(usize, usize, Facts)>>,
    /// The records of complete components, by ordinal, until their chunk leaves: the component
    /// and the record's place in it.
    grouped: HashMap<usize, (Arc<Group>, usize)>,
    /// Error records of incomplete components, by component: the group step counts them with
    /// unknown figures.
    failed: HashMap<u32, Vec<ErrorMember>>,
    /// First line of each id that is on more than one record.
    first_line: HashMap<String, usize>,
    /// Components in the order they complete.
    by_last: Vec<usize>,
    next_complete: usize,
    /// Chunks read, with the ordinal after which their pending records can be evaluated.
    waiting: VecDeque<(Vec<Slot<T>>, usize)>,
}

impl<T: Send> State<'_, T> {
    /// Validates a chunk, assesses at once the records that need no other record (unless the
    /// chunk is to wait long), and keeps aside the facts the components of the others need.
    fn take(&mut self, records: Records) {
        let base = self.read;
        self.read += records.len();
        let scan = self.scan;
        // A record finished at once keeps its bytes (4 KB) until its chunk leaves. A chunk
        // that must wait for a group ending far ahead (or queues behind one that does) keeps
        // its validated facts instead, which take about half as much, and is assessed when it
        // leaves; any other is finished at once.
        let mut components: Vec<Option<u32>> = vec![None; records.len()];
        for (ordinal, c) in scan.components_in(base..self.read) {
            components[ordinal - base] = Some(c);
        }
        let group_ends = (components.iter().flatten()).map(|&c| scan.components[c as usize].last);
        let leaves_after = (self.waiting.iter().map(|w| w.1))
            .chain(group_ends)
            .max()
            .unwrap_or(0);
        let early = leaves_after < self.read + self.options.chunk;
        let shard = self.options.shard;
        let cx = self.cx;
        let as_of = self.options.as_of.as_str();
        let finish = self.finish;
        let vocabulary = &cx.evaluator.nis2.vocabulary;
        let validator = cx.validator;
        let components = &components;
        // Validates the record at place `i` of the chunk.
        let validate = |i: usize, record: Record| -> Validated {
            let text = |v: &serde_json::Value, key| v.get(key)?.as_str().map(String::from);
            // A record whose JSON text is valid and has only facts fields (a JSON line, a
            // CSV or workbook row, an object of an array) goes the short way, a JSON line
            // straight from its block; any other record is read into a JSON value, for the
            // schema to find and word its problems and for its own fields to be checked
            // for typos.
            let (line, short) = match record {
                Record::Line(line, bytes) => {
                    let facts = std::str::from_utf8(bytes)
                        .ok()
                        .and_then(|json| validator.validate_json(json, line, vocabulary));
                    (line, facts.ok_or_else(|| Item::of_line(line, bytes)))
                }
                Record::Item(item) => {
                    let facts = match &item.body {
                        Ok(Body::Json(json)) => {
                            validator.validate_json(json, item.line, vocabulary)
                        }
                        _ => None,
                    };
                    (item.line, facts.ok_or(item))
                }
            };
            let (id, name, facts, warnings, owners) = match short {
                Ok(facts) => (None, None, Ok(facts), Vec::new(), None),
                Err(item) => match item.read_or_salvage() {
                    (Ok(v), _) => {
                        let facts = validator.validate(&v, line, vocabulary);
                        let (id, name, owners) = if facts.is_err() {
                            (
                                text(&v, "id"),
                                text(&v, "name"),
                                readable_owners(v.get("owners")),
                            )
                        } else {
                            (None, None, None)
                        };
                        (id, name, facts, validator.likely_typos(&v), owners)
                    }
                    (Err(e), salvaged) => (
                        salvaged.id,
                        salvaged.name,
                        Err(vec![e]),
                        Vec::new(),
                        salvaged.owners,
                    ),
                },
            };
            let ordinal = base + i;
            let component = components[i];
            let may_repeat = facts.as_ref().is_ok_and(|f| scan.maybe_duplicate(&f.id));
            Validated {
                ordinal,
                line,
                id,
                name,
                facts: Held::Here(facts),
                warnings,
                owners,
                duplicate: None,
                component,
                may_repeat,
            }
        };
        // A record that needs no other record is finished at once, unless the chunk is to wait.
        let settle = |v: Validated| -> Slot<T> {
            let look = v.component.is_some() || v.may_repeat;
            if early && !look {
                let a = assess(cx, as_of, v);
                Slot::Done(tally(&a), finish(a))
            } else {
                Slot::Pending {
                    look,
                    v: Box::new(v),
                }
            }
        };
        let in_shard = |i: usize| shard.is_none_or(|s| scan.shard_of(base + i, s.count) == s.index);
        // The records of a component that lies whole in this chunk (none of them read before,
        // the last read now) are taken together, on one worker, and finished with the group
        // step's findings, so that the chunk need not wait for a second parallel step; other
        // components wait for that step, as does every record of a chunk that is to wait.
        let whole = |c: u32| {
            early
                && scan.components[c as usize].last < self.read
                && !self.held.contains_key(&c)
                && !self.failed.contains_key(&c)
        };
        let count = records.len();
        let records: Vec<Record> = match records {
            Records::Items(items) => items.into_iter().map(Record::Item).collect(),
            Records::Lines(lines) => (lines.iter())
                .map(|&(line, bytes)| Record::Line(line, bytes))
                .collect(),
        };
        let units = units_of(records, components, whole, in_shard);
        let taken: Vec<Taken<T>> = (units.into_par_iter().with_max_len(LEAF))
            .map(|unit| match unit {
                Unit::One(i, record) => Taken::One(i, settle(validate(i, record))),
                Unit::Component(members) => {
                    let (places, validated): (Vec<usize>, Vec<Validated>) = (members.into_iter())
                        .map(|(i, record)| (i, validate(i, record)))
                        .unzip();
                    Taken::Component(places, finish_component(cx, as_of, finish, validated))
                }
            })
            .collect();
        // Back in reading order.
        let mut placed: Vec<Option<Slot<T>>> = (0..count).map(|_| None).collect();
        for t in taken {
            match t {
                Taken::One(i, slot) => placed[i] = Some(slot),
                Taken::Component(places, slots) => {
                    for (i, slot) in places.into_iter().zip(slots) {
                        placed[i] = Some(slot);
                    }
                }
            }
        }
        let mut slots: Vec<Slot<T>> = placed.into_iter().flatten().collect();

        let mut ready_after = 0;
        for slot in &mut slots {
            let Slot::Pending { look: true, v } = slot else {
                continue;
            };
            let component = v.component;
            // An error record of a component, for the group step to count (owners are read
            // only for records whose facts are not valid).
            let member = |v: &mut Validated, id, repeats_id| ErrorMember {
                id,
                line: v.line,
                owners: v.owners.take(),
                repeats_id,
            };
            let Held::Here(Ok(facts)) = &v.facts else {
                if let Some(c) = component {
                    let id = v.id.clone();
                    self.failed.entry(c).or_default().push(member(v, id, false));
                }
                continue;
            };
            if v.may_repeat {
                match self.first_line.get(facts.id.as_str()) {
                    Some(&earlier) => {
                        v.duplicate = Some(RecordError::new(
                            "schema",
                            v.line,
                            Some("/id".into()),
                            format!(
                                "`id`: `{}` is already used by the record on line {earlier}; \
                                 ids must be unique within a batch",
                                facts.id
                            ),
                        ));
                        if let Some(c) = component {
                            let id = Some(facts.id.to_string());
                            self.failed.entry(c).or_default().push(member(v, id, true));
                        }
                        continue;
                    }
                    None => {
                        self.first_line.insert(facts.id.to_string(), v.line);
                    }
                }
            }
            if let Some(c) = component {
                if let Held::Here(Ok(facts)) = std::mem::replace(&mut v.facts, Held::Lent) {
                    self.held
                        .entry(c)
                        .or_default()
                        .push((v.ordinal, v.line, facts));
                    ready_after = ready_after.max(scan.components[c as usize].last);
                }
            }
        }
        self.waiting.push_back((slots, ready_after));
        self.complete_components();
    }

    /// Hands every component whose last record has been read to its records.
    fn complete_components(&mut self) {
        while let Some(&c) = self.by_last.get(self.next_complete) {
            if self.scan.components[c].last >= self.read {
                break;
            }
            self.next_complete += 1;
            let failed = self.failed.remove(&(c as u32));
            let Some(held) = self.held.remove(&(c as u32)) else {
                continue;
            };
            let mut records = Vec::with_capacity(held.len());
            let mut ordinals = Vec::with_capacity(held.len());
            for (ordinal, line, facts) in held {
                ordinals.push(ordinal);
                records.push((line, facts));
            }
            let group = Group::new(records, failed.unwrap_or_default());
            for (k, ordinal) in ordinals.into_iter().enumerate() {
                self.grouped.insert(ordinal, (Arc::clone(&group), k));
            }
        }
    }

    /// Evaluates the pending records of the waiting chunks whose components are complete (all,
    /// at the end), and emits those chunks.
    fn release(
        &mut self,
        all: bool,
        emit: &mut dyn FnMut(Vec<T>) -> std::io::Result<()>,
    ) -> Result<(), Stop> {
        while let Some((_, ready_after)) = self.waiting.front() {
            if !all && *ready_after >= self.read {
                break;
            }
            let Some((mut chunk, _)) = self.waiting.pop_front() else {
                break;
            };
            let mut pending = false;
            for slot in &mut chunk {
                match slot {
                    // A record whose facts went to its component goes with the component, to
                    // be assessed with the group step's findings on a worker.
                    Slot::Pending { look: true, v } => {
                        if let Held::Lent = v.facts {
                            if let Some((group, k)) = self.grouped.remove(&v.ordinal) {
                                v.facts = Held::Grouped(group, k);
                            }
                        }
                        pending = true;
                    }
                    Slot::Pending { .. } => pending = true,
                    Slot::Done(..) => {}
                }
            }
            let (cx, as_of, finish) = (self.cx, self.options.as_of.as_str(), self.finish);
            let settle = |slot| match slot {
                Slot::Done(t, r) => (t, r),
                Slot::Pending { v, .. } => {
                    let a = assess(cx, as_of, *v);
                    (tally(&a), finish(a))
                }
            };
            let finished: Vec<(Tally, std::io::Result<T>)> = if !pending {
                chunk.into_iter().map(settle).collect()
            } else {
                chunk
                    .into_par_iter()
                    .with_max_len(LEAF)
                    .map(settle)
                    .collect()
            };
            let mut out = Vec::with_capacity(finished.len());
            for (t, r) in finished {
                self.totals.count(t);
                out.push(r.map_err(Stop::Write)?);
            }
            emit(out).map_err(Stop::Write)?;
        }
        Ok(())
    }
}

/// What a worker takes at a time in a chunk's parallel step, with each record's place in the
/// chunk: one record, or the records (in reading order) of an ownership component that lies
/// whole in it.
enum Unit<'a> {
    One(usize, Record<'a>),
    Component(Vec<(usize, Record<'a>)>),
}

/// A unit taken: its records' slots, by place in the chunk.
enum Taken<T> {
    One(usize, Slot<T>),
    Component(Vec<usize>, Vec<Slot<T>>),
}

/// A chunk's records (with the component of each) as units, in reading order of their first
/// record: a record of a component that lies `whole` in the chunk joins its component's unit,
/// any other record of the shard is a unit of its own.
fn units_of<'a>(
    records: Vec<Record<'a>>,
    components: &[Option<u32>],
    whole: impl Fn(u32) -> bool,
    in_shard: impl Fn(usize) -> bool,
) -> Vec<Unit<'a>> {
    let mut units = Vec::with_capacity(records.len());
    let mut unit_of: HashMap<u32, usize> = HashMap::default();
    for ((i, record), component) in records.into_iter().enumerate().zip(components) {
        if !in_shard(i) {
            continue;
        }
        match component {
            Some(c) if whole(*c) => match unit_of.get(c) {
                Some(&u) => {
                    if let Unit::Component(members) = &mut units[u] {
                        members.push((i, record));
                    }
                }
                None => {
                    unit_of.insert(*c, units.len());
                    units.push(Unit::Component(vec![(i, record)]));
                }
            },
            _ => units.push(Unit::One(i, record)),
        }
    }
    units
}

/// The records of a component that lies whole in a chunk, validated in reading order: when
/// every one is valid and carries an id no other record may carry, the component is complete
/// and needs nothing from the step between chunks, so its records are assessed here, with the
/// group step's findings, as [`State::complete_components`] and [`assess`] would assess them;
/// otherwise each waits for that step, as any record of a component.
fn finish_component<T>(
    cx: &Context,
    as_of: &str,
    finish: &(dyn Fn(Assessment) -> std::io::Result<T> + Sync),
    mut members: Vec<Validated>,
) -> Vec<Slot<T>> {
    let complete = (members.iter()).all(|v| matches!(v.facts, Held::Here(Ok(_))) && !v.may_repeat);
    if !complete {
        return (members.into_iter())
            .map(|v| Slot::Pending {
                look: true,
                v: Box::new(v),
            })
            .collect();
    }
    let mut records = Vec::with_capacity(members.len());
    for v in &mut members {
        if let Held::Here(Ok(facts)) = std::mem::replace(&mut v.facts, Held::Lent) {
            records.push((v.line, facts));
        }
    }
    let group = Group::new(records, Vec::new());
    (members.into_iter().enumerate())
        .map(|(k, mut v)| {
            v.facts = Held::Grouped(Arc::clone(&group), k);
            let a = assess(cx, as_of, v);
            Slot::Done(tally(&a), finish(a))
        })
        .collect()
}

/// Assesses a validated record; a record of a component with its facts as its component holds
/// them, and with what the group step found for it: its aggregate, or the error that stops its
/// group.
fn assess(cx: &Context, as_of: &str, v: Validated) -> Assessment {
    let evaluator = cx.evaluator;
    let (facts, aggregate, group_error) = match &v.facts {
        Held::Here(facts) => (facts.as_ref(), None, None),
        Held::Grouped(group, k) => {
            let (aggregates, errors) = group.found();
            (Ok(&group.records[*k].1), aggregates.get(k), errors.get(k))
        }
        // A component is complete before its chunk leaves (`complete_components`).
        Held::Lent => unreachable!("record {}: its component is not complete", v.line),
    };
    let errors = match (facts, &v.duplicate, group_error) {
        (Err(errors), _, _) => Some(errors.clone()),
        (Ok(_), Some(e), _) | (Ok(_), None, Some(e)) => Some(vec![e.clone()]),
        _ => None,
    };
    let mut assessment = match (facts, errors) {
        (Ok(f), None) => evaluator.assess(f, v.line, aggregate, as_of),
        (facts, errors) => Assessment {
            id: facts
                .as_ref()
                .map_or(v.id.map(Into::into), |f| Some(f.id.clone())),
            name: facts
                .as_ref()
                .map_or(v.name.map(Into::into), |f| f.name.clone()),
            line: v.line,
            packs: evaluator.pack_refs(),
            as_of: as_of.into(),
            nis2: None,
            soc2: None,
            plan: None,
            errors: errors.unwrap_or_default(),
            warnings: Vec::new(),
        },
    };
    // The reader's warnings first, then those of the group step.
    assessment.warnings.splice(0..0, v.warnings);
    assessment
}

/// Assesses every record of `text`, one assessment per record, in order: the whole batch in
/// memory, for tests and small portfolios.
pub fn assess_text(
    text: &str,
    format: Format,
    evaluator: &Evaluator,
    validator: &Validator,
    as_of: &str,
) -> Vec<Assessment> {
    let input = Input::from_text(text, format);
    let cx = Context {
        evaluator,
        validator,
    };
    // Records in memory are read to their end: no stop can come of reading them.
    collect(&input, &cx, &Options::new(as_of)).expect("records in memory are read")
}

/// Runs a batch and keeps every assessment; `Err` when the input could not be read to its end
/// (a file that changed between the two passes, say).
pub fn collect(input: &Input, cx: &Context, options: &Options) -> Result<Vec<Assessment>, String> {
    let mut out = Vec::new();
    let mut keep = |chunk: Vec<Assessment>| {
        out.extend(chunk);
        Ok(())
    };
    match run(input, cx, options, &|_, _| {}, &mut keep) {
        Ok(_) => Ok(out),
        Err(Stop::Read(e)) => Err(e),
        // Keeping cannot fail.
        Err(Stop::Write(e)) => Err(e.to_string()),
    }
}
