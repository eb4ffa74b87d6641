//! Reading: portfolio files into records, each with the line it starts on.
//!
//! Formats: JSON Lines (one organisation per line), a JSON array, and CSV whose columns are the
//! facts fields (see [`csv`]). A record that cannot be read becomes an error record at its line;
//! the records after it are still read, so every input record yields exactly one output.

pub mod columns;
pub mod csv;
pub mod head;
pub mod number;
pub mod stream;
pub mod xlsx;

use crate::error::RecordError;
use serde_json::value::RawValue;
use serde_json::Value;

/// One input record: its facts as JSON, or why it could not be read.
#[derive(Debug)]
pub struct Record {
    pub line: usize,
    pub value: Result<Value, RecordError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Json,
    Csv,
    /// A spreadsheet workbook: XLSX, or another format calamine reads (XLS, XLSB, ODS).
    Xlsx,
}

impl Format {
    /// The format a file name suggests, if any.
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(Format::Jsonl)
        } else if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".csv") || lower.ends_with(".tsv") {
            Some(Format::Csv)
        } else if [".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            Some(Format::Xlsx)
        } else {
            None
        }
    }

    /// Guesses from the content: `[` opens a JSON array, `{` a JSON line, anything else is CSV.
    pub fn sniff(text: &str) -> Format {
        match strip_bom(text).trim_start().chars().next() {
            Some('[') => Format::Json,
            Some('{') => Format::Jsonl,
            _ => Format::Csv,
        }
    }
}

impl Format {
    /// Guesses from the first bytes of a file: a zip archive is a workbook; otherwise as
    /// [`Format::sniff`].
    pub fn sniff_bytes(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            return Format::Xlsx;
        }
        Format::sniff(&String::from_utf8_lossy(bytes))
    }
}

/// Removes a byte-order mark, which spreadsheet programs put before the first byte.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Reads every record of `text`.
pub fn read(text: &str, format: Format) -> Vec<Record> {
    let text = strip_bom(text);
    match format {
        Format::Jsonl => read_jsonl(text),
        Format::Json => read_json_array(text, |r| r),
        Format::Csv => csv::read(text),
        // A workbook is binary; it is read from its file by [`xlsx::read`].
        Format::Xlsx => Vec::new(),
    }
}

fn read_jsonl(text: &str) -> Vec<Record> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Record {
            line: i + 1,
            value: parse_object(l, i + 1),
        })
        .collect()
}

pub(crate) fn parse_object(text: &str, line: usize) -> Result<Value, RecordError> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Err(RecordError::new(
            "read",
            line,
            None,
            format!(
                "expected one JSON object per organisation, found {}",
                kind_of(&other)
            ),
        )),
        Err(e) => Err(RecordError::new(
            "read",
            line,
            None,
            format!(
                "not valid JSON at column {}: {}; write each organisation as one JSON object \
                 on a line of its own, such as {{\"id\": \"org-1\", \"established_in\": \
                 [\"DE\"]}}",
                e.column(),
                without_position(&e)
            ),
        )),
    }
}

/// serde_json's message without the position it ends with (`at line 1 column 2`): a record's
/// text is read on its own, so its own line 1 is not the line of the file the record gives.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The objects of a JSON array, each as `keep` makes it of its record, one at a time.
pub(crate) fn read_json_array<T>(text: &str, mut keep: impl FnMut(Record) -> T) -> Vec<T> {
    // An empty file holds no records, as an empty JSON Lines or CSV file does: it is not an
    // array cut short.
    if text.trim().is_empty() {
        return Vec::new();
    }
    let items: Vec<&RawValue> = match serde_json::from_str(text) {
        Ok(items) => items,
        Err(e) => {
            return vec![keep(Record {
                line: e.line(),
                value: Err(RecordError::new(
                    "read",
                    e.line(),
                    None,
                    format!(
                        "the file is not a valid JSON array of organisations, so no record in it \
                         can be read (column {}): {e}; JSON Lines keeps one bad record from \
                         spoiling the others",
                        e.column()
                    ),
                )),
            })];
        }
    };
    let base = text.as_ptr() as usize;
    // The items come in the text's order: each one's line is the last one's plus the line ends
    // between them, so the text is counted through once, not once per item.
    let (mut counted, mut line) = (0, 1);
    items
        .into_iter()
        .map(|raw| {
            let offset = raw.get().as_ptr() as usize - base;
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..offset]).count();
            counted = offset;
            keep(Record {
                line,
                value: parse_object(raw.get(), line),
            })
        })
        .collect()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DESIGN.md "Architecture": each record keeps its source line. In a JSON array that is
    /// the line its object starts on: here by construction, objects of one and two lines,
    /// blank lines, two objects on one line, and a last object after a line that holds only
    /// a comma.
    #[test]
    fn json_array_items_keep_the_line_they_start_on() {
        let text = "[\n  {\"id\":\"a\"},\n  {\"id\":\"b\",\n   \"name\":\"x\"},\n\n\n  \
                    {\"id\":\"c\"}, {\"id\":\"d\"}\n,\n{\"id\":\"e\"}]\n";
        let lines: Vec<usize> = read(text, Format::Json).iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 7, 7, 9]);
        // On one line, every record is on line 1.
        let one: String = text.chars().filter(|c| *c != '\n').collect();
        let lines: Vec<usize> = read(&one, Format::Json).iter().map(|r| r.line).collect();
        assert_eq!(lines, [1; 5]);
    }
}
