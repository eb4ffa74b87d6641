//! Writing: assessments out, in input order.
//!
//! JSON Lines is the default (one compact object per record); `json` writes one array; `csv`
//! writes one flat row per record for spreadsheets.

use crate::assessment::Assessment;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Json,
    Csv,
}

/// Writes records one after another; `finish` closes what the format needs closed.
pub struct Writer<W: Write> {
    sink: Sink<W>,
    format: OutputFormat,
    written: usize,
}

enum Sink<W: Write> {
    Plain(W),
    Csv(Box<csv::Writer<W>>),
}

const CSV_HEADER: [&str; 12] = [
    "id",
    "line",
    "nis2.classification",
    "nis2.size.class",
    "nis2.size.basis",
    "nis2.jurisdiction",
    "nis2.missing",
    "nis2.grounds",
    "nis2.lex_specialis",
    "nis2.obligations",
    "nis2.max_fine_eur",
    "errors",
];

impl<W: Write> Writer<W> {
    pub fn new(out: W, format: OutputFormat) -> Writer<W> {
        let sink = match format {
            OutputFormat::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
            _ => Sink::Plain(out),
        };
        Writer {
            sink,
            format,
            written: 0,
        }
    }

    pub fn write(&mut self, a: &Assessment) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(out) if self.format == OutputFormat::Jsonl => {
                serde_json::to_writer(&mut *out, a)?;
                out.write_all(b"\n")?;
            }
            Sink::Plain(out) => {
                out.write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, a)?;
            }
            Sink::Csv(w) => {
                if self.written == 0 {
                    w.write_record(CSV_HEADER)?;
                }
                w.write_record(csv_row(a).into_iter().map(defuse))?;
            }
        }
        self.written += 1;
        Ok(())
    }

    pub fn finish(self) -> io::Result<W> {
        let mut out = match self.sink {
            Sink::Plain(out) => out,
            Sink::Csv(w) => w.into_inner().map_err(|e| e.into_error())?,
        };
        if self.format == OutputFormat::Json {
            out.write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        out.flush()?;
        Ok(out)
    }
}

/// A cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice
/// for CSV injection): ids and names come from client files.
fn defuse(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

fn csv_row(a: &Assessment) -> Vec<String> {
    let join = |v: &[String]| v.join(";");
    let errors = a
        .errors
        .iter()
        .map(|e| match &e.field {
            Some(f) => format!("{f}: {}", e.message),
            None => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join(" | ");
    match &a.nis2 {
        Some(n) => vec![
            a.id.clone().unwrap_or_default(),
            a.line.to_string(),
            n.classification.as_str().into(),
            n.size.class.unwrap_or("").into(),
            n.size.basis.into(),
            join(&n.jurisdiction),
            join(&n.missing),
            n.grounds
                .iter()
                .map(|g| g.rule.clone())
                .collect::<Vec<_>>()
                .join(";"),
            join(&n.lex_specialis),
            n.obligations
                .iter()
                .map(|o| o.id.clone())
                .collect::<Vec<_>>()
                .join(";"),
            n.max_fine_eur.map(|f| f.to_string()).unwrap_or_default(),
            errors,
        ],
        None => {
            let mut row = vec![a.id.clone().unwrap_or_default(), a.line.to_string()];
            row.extend(std::iter::repeat_n(String::new(), CSV_HEADER.len() - 3));
            row.push(errors);
            row
        }
    }
}
