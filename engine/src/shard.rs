//! Shards: one portfolio assessed in N parts on N machines, and the parts merged back.
//!
//! `--shard K/N` (K from 0 to N-1, as a Kubernetes indexed Job numbers its pods) assesses only
//! the records of shard K; which shard a record is in is decided by [`crate::prescan`], from its
//! id, and a whole ownership group always goes to one shard. Every assessment carries its input
//! `line`, and each shard writes its records in input order, so [`merge`] only has to take the
//! smallest line among the shards' next records. Merged shards are byte-identical to one run.

use crate::pipeline::Stop;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
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

/// What [`merge`] checks every record against: all shards must come from one run.
#[derive(serde::Deserialize, PartialEq)]
struct Stamp {
    line: usize,
    as_of: Option<String>,
    packs: Option<serde_json::Value>,
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
            None => *first = Some(Stamp { line: 0, ..stamp }),
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
        });
        Ok(())
    }
}

/// The receipt a shard leaves beside its output: which shard of how many, and how many records.
fn receipt_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".shard.json");
    PathBuf::from(name)
}

/// Writes `OUTPUT.shard.json` for `assay merge` to check that no shard is missing.
pub fn write_receipt(
    output: &Path,
    shard: Shard,
    records: usize,
    as_of: &str,
) -> Result<(), String> {
    let receipt = serde_json::json!({
        "shard": shard.index, "of": shard.count, "records": records, "as_of": as_of
    });
    let path = receipt_path(output);
    std::fs::write(&path, format!("{receipt}\n"))
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// Checks, from the receipts beside the parts, that the parts are every shard of one run, each
/// once. `Ok(false)` when no part has a receipt (written to standard output), so nothing can be
/// checked; an error names the missing or repeated shards.
pub fn check_complete(paths: &[PathBuf]) -> Result<bool, String> {
    let mut seen: Vec<(usize, usize, PathBuf)> = Vec::new();
    let mut without = Vec::new();
    for path in paths {
        let receipt = receipt_path(path);
        let Ok(text) = std::fs::read_to_string(&receipt) else {
            without.push(display(path));
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("`{}` is not a shard receipt: {e}", receipt.display()))?;
        let (Some(k), Some(n)) = (v["shard"].as_u64(), v["of"].as_u64()) else {
            return Err(format!("`{}` is not a shard receipt", receipt.display()));
        };
        seen.push((k as usize, n as usize, path.clone()));
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
    let count = seen[0].1;
    if let Some((_, n, p)) = seen.iter().find(|(_, n, _)| *n != count) {
        return Err(format!(
            "`{}` is a shard of {n}, the others of {count}: these are not shards of one run",
            display(p)
        ));
    }
    let mut missing = Vec::new();
    for k in 0..count {
        match seen.iter().filter(|(i, _, _)| *i == k).count() {
            0 => missing.push(format!("{k}/{count}")),
            1 => {}
            _ => return Err(format!("shard {k}/{count} is given more than once")),
        }
    }
    if missing.is_empty() {
        Ok(true)
    } else {
        Err(format!(
            "shard {} missing: run `assess --shard K/N` for it (a failed index is retried) before \
             merging",
            missing.join(", ")
        ))
    }
}

/// Merges shard outputs (JSON Lines) into one, in input order; returns the records written.
pub fn merge(paths: &[PathBuf], out: &mut dyn Write) -> Result<usize, Stop> {
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
    let mut written = 0;
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
        }
        written += 1;
        parts[i].advance(&mut first).map_err(Stop::Read)?;
    }
    out.flush().map_err(Stop::Write)?;
    Ok(written)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
