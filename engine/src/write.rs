//! Writing: assessments out, in input order.
//!
//! JSON Lines is the default (one compact object per record); `json` writes one array; `csv`
//! writes one flat row per record for spreadsheets; `md` writes a readable document per record.

use crate::assessment::Assessment;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Json,
    Csv,
    /// A document per organisation, for people (see [`crate::markdown`]).
    Md,
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

const CSV_HEADER: [&str; 21] = [
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
    "soc2.needed",
    "soc2.type",
    "soc2.criteria",
    "soc2.missing",
    "plan.actions",
    "plan.now",
    "plan.next",
    "plan.later",
    "plan.first_actions",
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
            Sink::Plain(out) if self.format == OutputFormat::Md => {
                out.write_all(crate::markdown::render(a).as_bytes())?;
            }
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
    let mut row = match &a.nis2 {
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
        ],
        None => {
            let mut row = vec![a.id.clone().unwrap_or_default(), a.line.to_string()];
            row.extend(std::iter::repeat_n(String::new(), 9));
            row
        }
    };
    match &a.soc2 {
        Some(s) => row.extend([
            s.needed.map(|b| b.to_string()).unwrap_or_default(),
            s.report_type.unwrap_or_default().into(),
            s.criteria.join(";"),
            s.missing.join(";"),
        ]),
        None => row.extend(std::iter::repeat_n(String::new(), 4)),
    }
    match &a.plan {
        Some(p) => row.extend([
            p.summary.actions.to_string(),
            p.summary.now.to_string(),
            p.summary.next.to_string(),
            p.summary.later.to_string(),
            p.actions
                .iter()
                .take(3)
                .map(|x| x.control.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        ]),
        None => row.extend(std::iter::repeat_n(String::new(), 5)),
    }
    row.push(errors);
    debug_assert_eq!(row.len(), CSV_HEADER.len());
    row
}
