//! Shards: one portfolio assessed in N parts on N machines, and the parts merged back.
//!
//! `--shard K/N` (K from 0 to N-1, as a Kubernetes indexed Job numbers its pods) assesses only
//! the records of shard K; which shard a record is in is decided by [`crate::prescan`], from its
//! id, and a whole ownership group always goes to one shard. Every assessment carries its input
//! `line`, and each shard writes its records in input order, so [`merge`] only has to take the
//! smallest line among the shards' next records. Merged shards are byte-identical to one run.
//!
//! A shard written with `--out` leaves a [`Receipt`] beside its output: which shard of how many,
//! how many assessments it wrote and the SHA-256 of its input. [`check_parts`] holds the parts
//! to their receipts before anything is merged, so a missing shard, a part cut short and the
//! shards of an edited copy of the portfolio are refused rather than merged into a plausible
//! but wrong whole.

use crate::assessment::Classification;
use crate::pipeline::{Stop, Totals};
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

/// What [`merge`] checks every record against: all shards must come from one run. It reads the
/// classification and whether there are errors too, for the summary.
#[derive(serde::Deserialize, PartialEq)]
struct Stamp {
    line: usize,
    as_of: Option<String>,
    packs: Option<serde_json::Value>,
    #[serde(default)]
    errors: Vec<serde::de::IgnoredAny>,
    nis2: Option<Nis2Stamp>,
}

#[derive(serde::Deserialize, PartialEq)]
struct Nis2Stamp {
    classification: Classification,
}

/// One shard's output, read a record at a time.
struct Part {
    path: PathBuf,
    reader: Box<dyn BufRead>,
    /// Lines read so far from this file (blank ones too), for messages.
    lines_read: usize,
    next: Option<Next>,
}

/// A part's next record: its text, its portfolio line and its line in the part's file.
struct Next {
    text: String,
    line: usize,
    file_line: usize,
    /// An error record.
    error: bool,
    classification: Option<Classification>,
}

impl Part {
    /// "line 1 of `part-2.jsonl` (portfolio line 5)": a part's own line is what an editor
    /// shows, the portfolio line is what the records and the other parts speak of.
    fn at(&self, file_line: usize, line: usize) -> String {
        format!(
            "line {file_line} of `{}` (portfolio line {line})",
            self.path.display()
        )
    }

    fn advance(&mut self, first: &mut Option<Stamp>) -> Result<(), String> {
        let mut text = String::new();
        loop {
            text.clear();
            let n = self
                .reader
                .read_line(&mut text)
                .map_err(|e| format!("cannot read `{}`: {e}", self.path.display()))?;
            if n == 0 {
                self.next = None;
                return Ok(());
            }
            self.lines_read += 1;
            if !text.trim().is_empty() {
                break;
            }
        }
        let file_line = self.lines_read;
        let stamp: Stamp = serde_json::from_str(&text).map_err(|e| {
            format!(
                "line {file_line} of `{}` is not the JSON Lines output of `assay assess`: {e}",
                self.path.display()
            )
        })?;
        if let Some(previous) = &self.next {
            if stamp.line <= previous.line {
                return Err(format!(
                    "{} comes after portfolio line {}: a shard's output must be in input order, \
                     as `assay assess` writes it",
                    self.at(file_line, stamp.line),
                    previous.line
                ));
            }
        }
        match first {
            None => {
                *first = Some(Stamp {
                    line: 0,
                    errors: Vec::new(),
                    nis2: None,
                    as_of: stamp.as_of.clone(),
                    packs: stamp.packs.clone(),
                })
            }
            Some(f) if f.as_of != stamp.as_of || f.packs != stamp.packs => {
                return Err(format!(
                    "{}: assessed with other packs or another --as-of than the first shard; \
                     shards of one run must use the same packs and date",
                    self.at(file_line, stamp.line)
                ))
            }
            Some(_) => {}
        }
        self.next = Some(Next {
            text,
            line: stamp.line,
            file_line,
            error: !stamp.errors.is_empty(),
            classification: stamp.nis2.map(|n| n.classification),
        });
        Ok(())
    }
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
}

fn receipt_path(output: &Path) -> PathBuf {
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
/// once, of one input, and whole: each part has as many lines as its receipt says its shard
/// wrote, so a part cut short (a copy, a disk that filled, a run killed with an earlier run's
/// receipt still beside it) is refused. `Ok(false)` when no part has a receipt (written to
/// standard output), so nothing can be checked; an error names the part and what to do.
pub fn check_parts(paths: &[PathBuf]) -> Result<bool, String> {
    let mut seen: Vec<(Receipt, &PathBuf)> = Vec::new();
    let mut without = Vec::new();
    for path in paths {
        match read_receipt(path)? {
            Some(receipt) => seen.push((receipt, path)),
            None => without.push(format!("`{}`", display(path))),
        }
    }
    if seen.is_empty() {
        return Ok(false);
    }
    if !without.is_empty() {
        return Err(format!(
            "{} has no `.shard.json` receipt while the other parts have one: pass the outputs of \
             `assess --shard K/N --out FILE`",
            without.join(", ")
        ));
    }
    check_one_input(&seen)?;
    check_every_shard(&seen)?;
    for (receipt, path) in &seen {
        let lines = count_lines(path)?;
        let assessed = receipt.assessed.unwrap_or_default();
        if lines != assessed {
            return Err(format!(
                "`{}` has {lines} lines but its shard {}/{} wrote {assessed} assessments \
                 (`{}`): the part is cut short or not the output its receipt describes; run \
                 `assess --shard {}/{}` again for it",
                display(path),
                receipt.shard,
                receipt.of,
                receipt_path(path).display(),
                receipt.shard,
                receipt.of
            ));
        }
    }
    Ok(true)
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

fn check_one_input(seen: &[(Receipt, &PathBuf)]) -> Result<(), String> {
    let (first, first_path) = &seen[0];
    for (receipt, path) in &seen[1..] {
        if receipt.input_sha256 != first.input_sha256 {
            return Err(format!(
                "`{}` was assessed from another input than `{}` (their receipts name different \
                 SHA-256 fingerprints): these are not shards of one portfolio; assess every \
                 shard from the same file",
                display(path),
                display(first_path)
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
            _ => return Err(format!("shard {k}/{count} is given more than once")),
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

/// Lines in a part, as a writer leaves them: a last line without its newline (a writer killed
/// mid-record) counts as one.
fn count_lines(path: &Path) -> Result<usize, String> {
    let cannot = |e: std::io::Error| format!("cannot read `{}`: {e}", path.display());
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path).map_err(cannot)?);
    let (mut lines, mut last) = (0, b'\n');
    loop {
        let buf = reader.fill_buf().map_err(cannot)?;
        let Some(&end) = buf.last() else { break };
        lines += buf.iter().filter(|b| **b == b'\n').count();
        last = end;
        let n = buf.len();
        reader.consume(n);
    }
    Ok(lines + usize::from(last != b'\n'))
}

/// Merges shard outputs (JSON Lines) into one, in input order; returns the records written.
/// Merges the parts into `out` in input order; what they hold is counted as `assess` counts it.
pub fn merge(paths: &[PathBuf], out: &mut dyn Write) -> Result<Totals, Stop> {
    let mut first = None;
    let mut parts = Vec::new();
    for path in paths {
        let reader: Box<dyn BufRead> =
            Box::new(BufReader::new(File::open(path).map_err(|e| {
                Stop::Read(format!("cannot read `{}`: {e}", path.display()))
            })?));
        let mut part = Part {
            path: path.clone(),
            reader,
            lines_read: 0,
            next: None,
        };
        part.advance(&mut first).map_err(Stop::Read)?;
        parts.push(part);
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
                        "portfolio line {} is in both `{}` (its line {}) and `{}` (its line {}): \
                         these are not shards of one run",
                        next.line,
                        display(&parts[s].path),
                        n.file_line,
                        display(&p.path),
                        next.file_line
                    )))
                }
                Some((_, n)) if n.line < next.line => {}
                _ => smallest = Some(i),
            }
        }
        let Some(i) = smallest else { break };
        if let Some(next) = &parts[i].next {
            out.write_all(next.text.as_bytes()).map_err(Stop::Write)?;
            if !next.text.ends_with('\n') {
                out.write_all(b"\n").map_err(Stop::Write)?;
            }
            totals.count_record(next.error, next.classification);
        }
        parts[i].advance(&mut first).map_err(Stop::Read)?;
    }
    out.flush().map_err(Stop::Write)?;
    totals.records = totals.assessed;
    Ok(totals)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
