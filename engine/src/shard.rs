//! Shards: one portfolio assessed in N parts on N machines, and the parts merged back.
//!
//! `--shard K/N` (K from 0 to N-1, as a Kubernetes indexed Job numbers its pods) assesses only
//! the records of shard K; which shard a record is in is decided by [`crate::prescan`], from its
//! id, and a whole ownership group always goes to one shard. Every assessment carries its input
//! `line` (a JSON line, a CSV or workbook row), and each shard writes its records in input
//! order, so [`merge`] only has to take the smallest line among the shards' next records, and
//! write it in the parts' format. Merged shards are byte-identical to one run.
//!
//! A shard written with `--out` leaves a [`Receipt`] beside its output: which shard of how many,
//! how many assessments it wrote and the SHA-256 of its input. [`check_parts`] holds the parts
//! to their receipts before anything is merged, so a missing shard, a part cut short and the
//! shards of an edited copy of the portfolio are refused rather than merged into a plausible
//! but wrong whole.

use crate::assessment::Classification;
use crate::pipeline::{Stop, Totals};
use crate::write::{OutputFormat, Piece, Writer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 0 to `count - 1`.
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let usage = || {
            format!(
                "`{s}` is not a shard: write K/N with K from 0 to N-1, for example `0/4` for the \
                 first of four"
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(usage)?;
        let index: usize = k.trim().parse().map_err(|_| usage())?;
        let count: usize = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What [`merge`] reads of a record of a JSON Lines part: its line, what it must share with
/// the other records of the run ([`Run`]), and its classification and whether it has errors,
/// for the summary. The packs are taken as the text they are written in.
#[derive(serde::Deserialize)]
struct Stamp<'a> {
    line: usize,
    #[serde(borrow)]
    as_of: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    packs: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    errors: Vec<serde::de::IgnoredAny>,
    nis2: Option<Nis2Stamp>,
}

#[derive(serde::Deserialize)]
struct Nis2Stamp {
    classification: Classification,
}

/// What every record of the parts must share with the first: all shards must come from one
/// run, with the same packs and date. The packs are kept as written and as their JSON value.
struct Run {
    as_of: Option<String>,
    packs: Option<(String, serde_json::Value)>,
}

impl Run {
    /// The run of the record `stamp` was read from `line`; an error when its packs are not
    /// JSON that reads whole (a number out of range, a lone surrogate).
    fn of(stamp: &Stamp, line: &str) -> Result<Run, serde_json::Error> {
        let packs = match (stamp.packs, packs_value(line)?) {
            (Some(text), Some(value)) => Some((text.get().to_string(), value)),
            _ => None,
        };
        Ok(Run {
            as_of: stamp.as_of.as_deref().map(String::from),
            packs,
        })
    }

    /// `assess` writes the same bytes for the packs on every record of a run, so comparing the
    /// text settles nearly every record; text that differs is compared as JSON values (keys in
    /// another order or other spacing are the same packs).
    fn shares(&self, stamp: &Stamp, line: &str) -> Result<bool, serde_json::Error> {
        let same_packs = match (&self.packs, stamp.packs) {
            (None, None) => true,
            (Some((text, value)), Some(record)) => {
                text == record.get() || packs_value(line)?.as_ref() == Some(value)
            }
            _ => false,
        };
        Ok(same_packs && self.as_of.as_deref() == stamp.as_of.as_deref())
    }
}

/// The packs of the record on `line`, read as a JSON value; an error says where in the line
/// they do not read.
fn packs_value(line: &str) -> Result<Option<serde_json::Value>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Packs {
        packs: Option<serde_json::Value>,
    }
    serde_json::from_str::<Packs>(line).map(|p| p.packs)
}

/// The format a shard's output was written in; merge writes the merged output in the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartFormat {
    /// JSON Lines: every record carries its packs and `--as-of`.
    Jsonl,
    /// CSV rows (`--format csv`), joined by their `line` column.
    Csv,
    /// A workbook (`--format xlsx`): its sheet's rows, joined by their `line` column.
    Xlsx,
}

impl PartFormat {
    /// A part's format, known by content as `assess` writes it: a workbook is a zip archive, a
    /// CSV part begins with the header row of [`crate::write::CSV_HEADER`], JSON Lines with an
    /// object (and is checked line by line); anything else is refused.
    fn of(path: &Path) -> Result<(PartFormat, bool), String> {
        let header = crate::write::CSV_HEADER.join(",");
        let mut head = Vec::with_capacity(header.len() + 1);
        File::open(path)
            .and_then(|f| f.take(header.len() as u64 + 1).read_to_end(&mut head))
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let empty = head.iter().all(u8::is_ascii_whitespace);
        let format = if head.starts_with(b"PK\x03\x04") {
            PartFormat::Xlsx
        } else if head.starts_with(header.as_bytes())
            && matches!(head.get(header.len()), Some(b'\n' | b'\r'))
        {
            PartFormat::Csv
        } else if head
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|b| *b == b'{')
        {
            // An empty part is a shard's JSON Lines without a record.
            PartFormat::Jsonl
        } else {
            return Err(format!(
                "`{}` is not the output of `assay assess`: it is neither JSON Lines, nor CSV \
                 beginning with assess's header row, nor a workbook; pass the parts as `assess \
                 --shard K/N` wrote them",
                path.display()
            ));
        };
        Ok((format, empty))
    }

    /// The one format all the parts were written in; parts in different formats are refused.
    pub fn of_parts(paths: &[PathBuf]) -> Result<PartFormat, String> {
        let mut first: Option<(PartFormat, &PathBuf)> = None;
        let mut empty: Option<&PathBuf> = None;
        for path in paths {
            let (format, is_empty) = PartFormat::of(path)?;
            if is_empty {
                // A shard without a record in JSON Lines; in CSV or a workbook, a header row.
                empty.get_or_insert(path);
                continue;
            }
            match first {
                None => first = Some((format, path)),
                Some((f, p)) if f != format => {
                    return Err(format!(
                        "`{}` is {} and `{}` {}: the shards of one run are written in one format; \
                         assess them again with the same --format",
                        display(p),
                        f.name(),
                        display(path),
                        format.name()
                    ))
                }
                Some(_) => {}
            }
        }
        match (first, empty) {
            (Some((format, p)), Some(e)) if format != PartFormat::Jsonl => Err(format!(
                "`{}` is empty while `{}` is {}, which always has its header row: the part was \
                 cut short or never written; run its shard again",
                display(e),
                display(p),
                format.name()
            )),
            (first, _) => Ok(first.map_or(PartFormat::Jsonl, |(f, _)| f)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            PartFormat::Jsonl => "JSON Lines",
            PartFormat::Csv => "CSV",
            PartFormat::Xlsx => "a workbook",
        }
    }

    /// The output format that writes parts of this format.
    fn output(self) -> OutputFormat {
        match self {
            PartFormat::Jsonl => OutputFormat::Jsonl,
            PartFormat::Csv => OutputFormat::Csv,
            PartFormat::Xlsx => OutputFormat::Xlsx,
        }
    }

    /// What a record's place in a part is called: for messages.
    fn place(self) -> &'static str {
        match self {
            PartFormat::Jsonl | PartFormat::Csv => "line",
            PartFormat::Xlsx => "row",
        }
    }

    /// What a part holds one record per: for messages.
    fn unit(self) -> &'static str {
        match self {
            PartFormat::Jsonl => "lines",
            PartFormat::Csv | PartFormat::Xlsx => "rows",
        }
    }
}

/// A workbook row after the header: its row number and its cells.
type SheetRow = (usize, Vec<String>);

/// The parts of one merge, in their one format. A workbook is read whole once, here, for both
/// the check against its receipt and the merge.
pub struct Parts {
    paths: Vec<PathBuf>,
    format: PartFormat,
    /// Each part's rows when the parts are workbooks.
    sheets: Vec<Option<Vec<SheetRow>>>,
}

impl Parts {
    pub fn open(paths: &[PathBuf], format: PartFormat) -> Result<Parts, String> {
        let sheets = paths
            .iter()
            .map(|p| match format {
                PartFormat::Xlsx => sheet_rows(p).map(Some),
                PartFormat::Jsonl | PartFormat::Csv => Ok(None),
            })
            .collect::<Result<_, _>>()?;
        Ok(Parts {
            paths: paths.to_vec(),
            format,
            sheets,
        })
    }
}

/// Where a part's records come from.
enum Source {
    /// JSON Lines, and the lines read so far from the file (blank ones too), for messages.
    Lines(Box<dyn BufRead>, usize),
    Csv(Box<csv::Reader<File>>),
    /// A workbook's rows after its header row, with their row numbers (read whole, as
    /// `assess` reads a workbook: a sheet holds at most 1,048,576 rows).
    Rows(std::vec::IntoIter<SheetRow>),
}

/// One shard's output, read a record at a time.
struct Part {
    path: PathBuf,
    format: PartFormat,
    source: Source,
    next: Option<Next>,
}

/// A part's next record: as it was written, its portfolio line and where it is in the part.
struct Next {
    record: Written,
    line: usize,
    /// The record's line in the part's file (its row in a workbook).
    file_line: usize,
    /// An error record.
    error: bool,
    classification: Option<Classification>,
}

/// A record as a part holds it.
enum Written {
    /// A JSON line, its end included when it has one.
    Line(String),
    /// A row's cells, as `assess` wrote them (a CSV part's already defused).
    Cells(Vec<String>),
}

impl Part {
    /// A part to read; a workbook's rows are given, read by [`Parts::open`].
    fn open(path: &Path, format: PartFormat, sheet: Option<Vec<SheetRow>>) -> Result<Part, String> {
        let cannot = |e: &dyn fmt::Display| format!("cannot read `{}`: {e}", path.display());
        let source = match format {
            PartFormat::Jsonl => {
                let file = File::open(path).map_err(|e| cannot(&e))?;
                Source::Lines(Box::new(BufReader::new(file)), 0)
            }
            PartFormat::Csv => {
                let mut reader = csv::Reader::from_path(path).map_err(|e| cannot(&e))?;
                let header = reader.headers().map_err(|e| cannot(&e))?;
                if header.iter().ne(crate::write::CSV_HEADER) {
                    return Err(not_assessed(
                        path,
                        PartFormat::Csv,
                        1,
                        "its header row differs",
                    ));
                }
                Source::Csv(Box::new(reader))
            }
            PartFormat::Xlsx => Source::Rows(sheet.unwrap_or_default().into_iter()),
        };
        Ok(Part {
            path: path.to_path_buf(),
            format,
            source,
            next: None,
        })
    }

    /// "line 1 of `part-2.jsonl` (portfolio line 5)": a part's own line is what an editor
    /// shows, the portfolio line is what the records and the other parts speak of.
    fn at(&self, file_line: usize, line: usize) -> String {
        format!(
            "{} {file_line} of `{}` (portfolio line {line})",
            self.format.place(),
            self.path.display()
        )
    }

    fn advance(&mut self, first: &mut Option<Run>) -> Result<(), String> {
        let next = match &mut self.source {
            Source::Lines(..) => self.next_line(first)?,
            Source::Csv(reader) => {
                let mut record = csv::StringRecord::new();
                let read = reader
                    .read_record(&mut record)
                    .map_err(|e| not_assessed(&self.path, PartFormat::Csv, 0, &e.to_string()))?;
                let file_line = record.position().map_or(0, |p| p.line() as usize);
                read.then(|| {
                    let cells = record.iter().map(String::from).collect();
                    row(&self.path, PartFormat::Csv, file_line, cells)
                })
                .transpose()?
            }
            Source::Rows(rows) => rows
                .next()
                .map(|(row_number, cells)| row(&self.path, PartFormat::Xlsx, row_number, cells))
                .transpose()?,
        };
        if let (Some(previous), Some(next)) = (&self.next, &next) {
            if next.line <= previous.line {
                return Err(format!(
                    "{} comes after portfolio line {}: a shard's output must be in input order, \
                     as `assay assess` writes it",
                    self.at(next.file_line, next.line),
                    previous.line
                ));
            }
        }
        self.next = next;
        Ok(())
    }

    /// The next JSON line, checked against the first record's packs and date.
    fn next_line(&mut self, first: &mut Option<Run>) -> Result<Option<Next>, String> {
        let Source::Lines(reader, lines_read) = &mut self.source else {
            return Ok(None);
        };
        let mut text = String::new();
        loop {
            text.clear();
            let n = reader
                .read_line(&mut text)
                .map_err(|e| format!("cannot read `{}`: {e}", self.path.display()))?;
            if n == 0 {
                return Ok(None);
            }
            *lines_read += 1;
            if !text.trim().is_empty() {
                break;
            }
        }
        let file_line = *lines_read;
        let not_output = |e: serde_json::Error| {
            not_assessed(&self.path, PartFormat::Jsonl, file_line, &e.to_string())
        };
        let stamp: Stamp = serde_json::from_str(&text).map_err(not_output)?;
        match first {
            None => *first = Some(Run::of(&stamp, &text).map_err(not_output)?),
            Some(run) if !run.shares(&stamp, &text).map_err(not_output)? => {
                return Err(format!(
                    "{}: assessed with other packs or another --as-of than the first shard; \
                     shards of one run must use the same packs and date",
                    self.at(file_line, stamp.line)
                ))
            }
            Some(_) => {}
        }
        let (line, error) = (stamp.line, !stamp.errors.is_empty());
        let classification = stamp.nis2.map(|n| n.classification);
        Ok(Some(Next {
            record: Written::Line(text),
            line,
            file_line,
            error,
            classification,
        }))
    }
}

/// A CSV or workbook row as [`crate::write`] lays it out: its portfolio line from the `line`
/// column, its class from `nis2.classification`, an error record when `errors` is not empty.
fn row(
    path: &Path,
    format: PartFormat,
    file_line: usize,
    cells: Vec<String>,
) -> Result<Next, String> {
    let header = &crate::write::CSV_HEADER;
    let cell = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| cells.get(i))
            .map_or("", String::as_str)
    };
    if cells.len() != header.len() {
        return Err(not_assessed(
            path,
            format,
            file_line,
            &format!("{} cells where assess writes {}", cells.len(), header.len()),
        ));
    }
    // As assess writes it: `07` or `+7` would read as line 7 but be copied as written.
    let line = cell("line")
        .parse::<usize>()
        .ok()
        .filter(|n| n.to_string() == cell("line"))
        .ok_or_else(|| {
            not_assessed(
                path,
                format,
                file_line,
                &format!("its `line` cell `{}` is not a portfolio line", cell("line")),
            )
        })?;
    Ok(Next {
        line,
        file_line,
        error: !cell("errors").is_empty(),
        classification: Classification::parse(cell("nis2.classification")),
        record: Written::Cells(cells),
    })
}

/// The rows of a workbook's first sheet after its header row, with their row numbers, the
/// header checked against [`crate::write::CSV_HEADER`]. Numbers are written back as the
/// shortest text that reads as the same number, so the merged workbook holds the same cells.
fn sheet_rows(path: &Path) -> Result<Vec<SheetRow>, String> {
    use calamine::{Data, Reader};
    let cannot = |e: &dyn fmt::Display| {
        format!(
            "cannot read the workbook `{}`: {e}; pass the workbook `assess --shard K/N` \
                 wrote, whole, or run that shard again",
            path.display()
        )
    };
    let mut book = calamine::open_workbook_auto(path).map_err(|e| cannot(&e))?;
    let sheets = book.sheet_names().len();
    if sheets != 1 {
        let why = format!("it has {sheets} sheets, where assess writes one");
        return Err(not_assessed(path, PartFormat::Xlsx, 0, &why));
    }
    let range = match book.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(e)) => return Err(cannot(&e)),
        None => return Err(cannot(&"it has no sheet")),
    };
    let text = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        other => other.to_string(),
    };
    let first = range.start().map_or(1, |(row, _)| row as usize + 1);
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(text).collect())
        .unwrap_or_default();
    if first != 1 || header.iter().ne(crate::write::CSV_HEADER) {
        return Err(not_assessed(
            path,
            PartFormat::Xlsx,
            first,
            "its header row differs",
        ));
    }
    Ok(rows
        .enumerate()
        .map(|(i, cells)| (i + 2, cells.iter().map(text).collect()))
        .collect())
}

/// A part that is not what `assay assess` writes, at `file_line` (0 when not known).
fn not_assessed(path: &Path, format: PartFormat, file_line: usize, why: &str) -> String {
    let at = match file_line {
        0 => String::new(),
        n => format!("{} {n} of ", format.place()),
    };
    let what = match format {
        PartFormat::Jsonl => "JSON Lines output",
        PartFormat::Csv => "CSV output (`--format csv`)",
        PartFormat::Xlsx => "workbook (`--format xlsx`)",
    };
    format!(
        "{at}`{}` is not the {what} of `assay assess`: {why}",
        path.display()
    )
}

/// The receipt a shard leaves beside its output (`FILE.shard.json`), for [`check_parts`].
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// Which shard, from 0 to `of - 1`.
    pub shard: usize,
    pub of: usize,
    /// Records in the whole input.
    pub records: usize,
    /// Assessments this shard wrote: the lines its output must have. Receipts written before
    /// assay recorded it have none, and are refused.
    #[serde(default)]
    pub assessed: Option<usize>,
    /// SHA-256 over the input's bytes (see [`Fingerprinted`]).
    #[serde(default)]
    pub input_sha256: Option<String>,
    pub as_of: String,
    /// The packs the shard was assessed with, as its records name them: CSV rows and workbooks
    /// do not carry them, so merge holds the parts to one another by their receipts. Receipts
    /// written before assay recorded it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packs: Option<serde_json::Value>,
}

/// Where the receipt of the part `output` is.
pub fn receipt_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".shard.json");
    PathBuf::from(name)
}

/// Writes `OUTPUT.shard.json`, replacing an earlier one only once the new one is whole.
pub fn write_receipt(output: &Path, receipt: &Receipt) -> Result<(), String> {
    let path = receipt_path(output);
    let file = crate::write::OutputFile::create(&path)?;
    let text = serde_json::to_string(receipt).map_err(|e| e.to_string())?;
    writeln!(file.writer()?, "{text}")
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    file.commit()
}

/// Reads through to another reader and keeps the SHA-256 of what passed: a shard's receipt
/// names its input by it, so that [`check_parts`] can tell shards of an edited copy apart.
pub struct Fingerprinted<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Fingerprinted<R> {
    pub fn new(inner: R) -> Fingerprinted<R> {
        Fingerprinted {
            inner,
            hasher: Sha256::new(),
        }
    }

    pub fn sha256(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl<R: Read> Read for Fingerprinted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The SHA-256 of a file's bytes.
pub fn file_sha256(path: &Path) -> Result<String, String> {
    let file = File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut reading = Fingerprinted::new(file);
    std::io::copy(&mut reading, &mut std::io::sink())
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(reading.sha256())
}

/// Checks, from the receipts beside the parts, that the parts are every shard of one run, each
/// once, of one input, packs and date, and whole: each part has as many records as its receipt
/// says its shard wrote, so a part cut short (a copy, a disk that filled, a run killed with an
/// earlier run's receipt still beside it) is refused. Returns the run's `--as-of`, `None` when no
/// part has a receipt (written to standard output), so nothing can be checked; an error names
/// the part and what to do.
pub fn check_parts(parts: &Parts) -> Result<Option<String>, String> {
    let format = parts.format;
    let mut seen: Vec<(Receipt, &PathBuf)> = Vec::new();
    let mut without = Vec::new();
    for path in &parts.paths {
        match read_receipt(path)? {
            Some(receipt) => seen.push((receipt, path)),
            None => without.push(format!("`{}`", display(path))),
        }
    }
    if seen.is_empty() {
        return Ok(None);
    }
    if !without.is_empty() {
        return Err(format!(
            "{} has no `.shard.json` receipt while the other parts have one: pass the outputs of \
             `assess --shard K/N --out FILE`",
            without.join(", ")
        ));
    }
    check_one_run(&seen)?;
    check_every_shard(&seen)?;
    // Every part has its receipt here, so `seen` is in the parts' order.
    for ((receipt, path), sheet) in seen.iter().zip(&parts.sheets) {
        let again = format!(
            "run `assess --shard {}/{}` again for it",
            receipt.shard, receipt.of
        );
        if format != PartFormat::Jsonl && receipt.packs.is_none() {
            // CSV rows and workbooks do not carry the packs; only the receipt can say.
            return Err(format!(
                "`{}` does not name the packs its shard was assessed with (an earlier assay \
                 wrote it), and CSV and workbook rows do not carry them, so `{}` cannot be \
                 checked: {again}",
                receipt_path(path).display(),
                display(path)
            ));
        }
        let Some(records) = count_records(path, format, sheet.as_deref())? else {
            return Err(format!(
                "`{}` ends in the middle of a row: the part is cut short (a copy, a full disk, \
                 a run killed); {again}",
                display(path)
            ));
        };
        let assessed = receipt.assessed.unwrap_or_default();
        if records != assessed {
            return Err(format!(
                "`{}` has {records} {} but its shard {}/{} wrote {assessed} assessments \
                 (`{}`): the part is cut short or not the output its receipt describes; run \
                 `assess --shard {}/{}` again for it",
                display(path),
                format.unit(),
                receipt.shard,
                receipt.of,
                receipt_path(path).display(),
                receipt.shard,
                receipt.of
            ));
        }
    }
    Ok(Some(seen[0].0.as_of.clone()))
}

/// A part's receipt, `None` when it has none; a receipt without the counts and fingerprint
/// that merge checks (written by an earlier assay) is refused rather than trusted.
fn read_receipt(part: &Path) -> Result<Option<Receipt>, String> {
    let path = receipt_path(part);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let receipt: Receipt = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not a shard receipt: {e}", path.display()))?;
    if receipt.assessed.is_none() || receipt.input_sha256.is_none() {
        return Err(format!(
            "`{}` does not say how many assessments its shard wrote or which input it read (an \
             earlier assay wrote it), so `{}` cannot be checked: run `assess --shard {}/{}` \
             again for it",
            path.display(),
            display(part),
            receipt.shard,
            receipt.of
        ));
    }
    Ok(Some(receipt))
}

/// One input, one date, one set of packs: the receipts of the shards of one run agree.
fn check_one_run(seen: &[(Receipt, &PathBuf)]) -> Result<(), String> {
    let (first, first_path) = &seen[0];
    for (receipt, path) in &seen[1..] {
        let (path, first_path) = (display(path), display(first_path));
        if receipt.input_sha256 != first.input_sha256 {
            return Err(format!(
                "`{path}` was assessed from another input than `{first_path}` (their receipts \
                 name different SHA-256 fingerprints): these are not shards of one portfolio; \
                 assess every shard from the same file"
            ));
        }
        let other_packs = matches!((&receipt.packs, &first.packs), (Some(a), Some(b)) if a != b);
        if receipt.as_of != first.as_of || other_packs {
            return Err(format!(
                "`{path}` was assessed with other packs or another --as-of than `{first_path}` \
                 (their receipts say so): shards of one run must use the same packs and date; \
                 assess the shard again with the others' --as-of and packs"
            ));
        }
    }
    Ok(())
}

fn check_every_shard(seen: &[(Receipt, &PathBuf)]) -> Result<(), String> {
    let count = seen[0].0.of;
    if let Some((r, p)) = seen.iter().find(|(r, _)| r.of != count) {
        return Err(format!(
            "`{}` is a shard of {}, the others of {count}: these are not shards of one run",
            display(p),
            r.of
        ));
    }
    let mut missing = Vec::new();
    for k in 0..count {
        match seen.iter().filter(|(r, _)| r.shard == k).count() {
            0 => missing.push(format!("{k}/{count}")),
            1 => {}
            _ => {
                let parts: Vec<String> = seen
                    .iter()
                    .filter(|(r, _)| r.shard == k)
                    .map(|(_, p)| format!("`{}`", display(p)))
                    .collect();
                return Err(format!(
                    "shard {k}/{count} is given more than once ({}): pass each shard's output once",
                    parts.join(", ")
                ));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "shard {} missing: run `assess --shard K/N` for it (a failed index is retried) before \
             merging",
            missing.join(", ")
        ))
    }
}

/// Records in a part, as a writer leaves them: JSON lines (a last line without its newline, a
/// writer killed mid-record, counts as one), CSV rows after the header, a workbook's rows after
/// the header (read by [`Parts::open`]). `None` for a CSV part that does not end where its last row ends (cut inside a
/// quoted cell, the csv reader would close the quote and read a whole row).
fn count_records(
    path: &Path,
    format: PartFormat,
    sheet: Option<&[SheetRow]>,
) -> Result<Option<usize>, String> {
    let cannot = |e: &dyn fmt::Display| format!("cannot read `{}`: {e}", path.display());
    match format {
        PartFormat::Jsonl => count_lines(path).map(Some).map_err(|e| cannot(&e)),
        PartFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_path(path)
                .map_err(|e| cannot(&e))?;
            let (mut rows, mut last) = (0, None);
            for record in reader.byte_records() {
                let record = record.map_err(|e| cannot(&e))?;
                rows += 1;
                last = Some(record);
            }
            let whole = match last {
                Some(row) => ends_with_row(path, &row).map_err(|e| cannot(&e))?,
                None => ends_with_newline(path).map_err(|e| cannot(&e))?,
            };
            Ok(whole.then_some(rows))
        }
        PartFormat::Xlsx => Ok(Some(sheet.map_or(0, <[SheetRow]>::len))),
    }
}

/// Whether the file ends with `row` as the csv writer writes it (as `assess` wrote it): a part
/// cut inside the row's last quoted cell ends otherwise, though the reader reads a whole row.
fn ends_with_row(path: &Path, row: &csv::ByteRecord) -> std::io::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_byte_record(row)?;
    let written = writer.into_inner().map_err(|e| e.into_error())?;
    let start = row.position().map_or(0, |p| p.byte());
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity(written.len());
    file.take(written.len() as u64 + 1).read_to_end(&mut tail)?;
    Ok(tail == written)
}

fn count_lines(path: &Path) -> std::io::Result<usize> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let (mut lines, mut last) = (0, b'\n');
    loop {
        let buf = reader.fill_buf()?;
        let Some(&end) = buf.last() else { break };
        lines += buf.iter().filter(|b| **b == b'\n').count();
        last = end;
        let n = buf.len();
        reader.consume(n);
    }
    Ok(lines + usize::from(last != b'\n'))
}

/// Whether a file is empty or ends with a line's end.
fn ends_with_newline(path: &Path) -> std::io::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path)?;
    if file.seek(SeekFrom::End(0))? == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Merges the parts into `out` in input order, in the format they were written in (a
/// workbook dated `as_of`, as `assess` dates it); what they hold is counted as `assess` counts
/// it.
pub fn merge(given: Parts, as_of: Option<&str>, out: &mut dyn Write) -> Result<Totals, Stop> {
    let format = given.format;
    let mut first = None;
    let mut parts = Vec::new();
    for (path, sheet) in given.paths.iter().zip(given.sheets) {
        let mut part = Part::open(path, format, sheet).map_err(Stop::Read)?;
        part.advance(&mut first).map_err(Stop::Read)?;
        parts.push(part);
    }
    let mut writer = Writer::new(out, format.output());
    if let (PartFormat::Xlsx, Some(date)) = (format, as_of) {
        writer = writer.dated(date).map_err(Stop::Write)?;
    }
    let mut totals = Totals::default();
    loop {
        let mut smallest: Option<usize> = None;
        for (i, p) in parts.iter().enumerate() {
            let Some(next) = &p.next else { continue };
            let least = smallest.and_then(|s| parts[s].next.as_ref().map(|n| (s, n)));
            match least {
                Some((s, n)) if n.line == next.line => {
                    return Err(Stop::Read(format!(
                        "portfolio line {} is in both `{}` (its {} {}) and `{}` (its {} {}): \
                         these are not shards of one run",
                        next.line,
                        display(&parts[s].path),
                        format.place(),
                        n.file_line,
                        display(&p.path),
                        format.place(),
                        next.file_line
                    )))
                }
                Some((_, n)) if n.line < next.line => {}
                _ => smallest = Some(i),
            }
        }
        let Some(i) = smallest else { break };
        if let Some(next) = parts[i].next.take() {
            match next.record {
                Written::Line(mut text) => {
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    writer.write_pieces(&[Piece::Line(text.into_bytes())])
                }
                Written::Cells(cells) => writer.write_row(cells),
            }
            .map_err(Stop::Write)?;
            totals.count_record(next.error, next.classification);
            // Kept for the order check of the part's next record.
            parts[i].next = Some(Next {
                record: Written::Cells(Vec::new()),
                ..next
            });
        }
        parts[i].advance(&mut first).map_err(Stop::Read)?;
    }
    writer.finish().map_err(Stop::Write)?;
    totals.records = totals.assessed;
    Ok(totals)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
