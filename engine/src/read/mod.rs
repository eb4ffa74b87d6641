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
use std::io::{BufRead, Read};

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

    /// Guesses from the content, as [`Format::sniff_reader`] does.
    pub fn sniff(text: &str) -> Format {
        Format::sniff_bytes(text.as_bytes())
    }

    /// Guesses from the content, as [`Format::sniff_reader`] does.
    pub fn sniff_bytes(bytes: &[u8]) -> Format {
        // Reading from memory cannot fail.
        Format::sniff_reader(bytes).unwrap_or(Format::Csv)
    }

    /// Guesses from the content: a zip archive is a workbook; otherwise the first character
    /// that is not white space decides: `[` opens a JSON array, `{` a JSON line, anything else
    /// is CSV (a header line). A byte-order mark at the start, and white space as `str::trim`
    /// counts it (blank lines too), are passed over however far they go; what is passed over is
    /// not kept, so a file is never held in memory to be guessed. (The first 4 KB once decided:
    /// JSON lines after more white space than that were read as CSV.)
    ///
    /// A line that opens with bytes that are not UTF-8 text says nothing about the format: it
    /// is passed over, and the next line with something on it decides, up to the
    /// [`LINES_LOOKED_AT`]th. So a stray line of other bytes above JSON lines leaves them JSON
    /// Lines, where it is an error record of its own, at its line. Only the opening of a line
    /// is looked at: one that opens with `{` is a JSON line whatever bytes follow.
    pub fn sniff_reader(mut reader: impl BufRead) -> std::io::Result<Format> {
        // The four bytes that open a zip archive, read whole however the reader hands them out
        // (a pipe may give fewer at a time), then read again as the opening of the text.
        let mut opening = Vec::with_capacity(4);
        (&mut reader).take(4).read_to_end(&mut opening)?;
        if opening == b"PK\x03\x04" {
            return Ok(Format::Xlsx);
        }
        let mut reader = std::io::Cursor::new(opening).chain(reader);
        let (mut at_start, mut unreadable) = (true, 0);
        loop {
            // Most white space is ASCII: passed over a buffer at a time.
            let buf = reader.fill_buf()?;
            let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            if blank > 0 {
                reader.consume(blank);
                at_start = false;
                continue;
            }
            match next_char(&mut reader)? {
                None => return Ok(Format::Csv),
                Some(Some('\u{feff}')) if at_start => {}
                Some(Some(c)) if c.is_whitespace() => {}
                Some(Some('[')) => return Ok(Format::Json),
                Some(Some('{')) => return Ok(Format::Jsonl),
                Some(Some(_)) => return Ok(Format::Csv),
                Some(None) => {
                    unreadable += 1;
                    if unreadable == LINES_LOOKED_AT {
                        return Ok(Format::Csv);
                    }
                    reader.skip_until(b'\n')?;
                }
            }
            at_start = false;
        }
    }
}

/// How many lines that open with bytes that are not UTF-8 [`Format::sniff_reader`] looks at
/// before it guesses CSV: a stray line or two above a portfolio is a slip, to be reported as
/// the error record of its line, but a file of such lines is not text at all, and is better
/// refused whole, as a CSV file whose header line is not UTF-8 text is.
pub const LINES_LOOKED_AT: usize = 8;

/// The next character of `reader`, consumed with it: `None` at the end, `Some(None)` for bytes
/// that do not make a UTF-8 character (consumed up to the first byte that cannot continue
/// one, so a line end is never taken with them).
fn next_char(reader: &mut impl BufRead) -> std::io::Result<Option<Option<char>>> {
    let (mut bytes, mut len) = ([0u8; 4], 0);
    while len < 4 {
        let Some(&b) = reader.fill_buf()?.first() else {
            break;
        };
        if len > 0 && !(0x80..0xC0).contains(&b) {
            break;
        }
        bytes[len] = b;
        len += 1;
        reader.consume(1);
        let width = match bytes[0] {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        if len == width {
            break;
        }
    }
    if len == 0 {
        return Ok(None);
    }
    let text = std::str::from_utf8(&bytes[..len]).ok();
    Ok(Some(text.and_then(|t| t.chars().next())))
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
        Format::Json => read_json_array(text, |r, _| r),
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
    read_object(text, line, |e| {
        format!(
            "not valid JSON at column {}: {}; write each organisation as one JSON object on a \
             line of its own, such as {{\"id\": \"org-1\", \"established_in\": [\"DE\"]}}",
            e.column(),
            without_position(e)
        )
    })
}

/// A record's JSON text read as one object; `not_json` words the error of text that is not
/// JSON, as the text's place in the file calls for.
fn read_object(
    text: &str,
    line: usize,
    not_json: impl FnOnce(&serde_json::Error) -> String,
) -> Result<Value, RecordError> {
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
        Err(e) => Err(RecordError::new("read", line, None, not_json(&e))),
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

/// The objects of a JSON array, each as `keep` makes it of its record and its text in the
/// array, one at a time.
///
/// An array that is not valid JSON is cut into its items where its own commas stand (outside
/// strings, nested arrays and objects), and each item is read on its own: one object with a
/// syntax error becomes one error record, and the others are read (DESIGN.md "Behaviour on bad
/// input": nothing is dropped). An item cut short by the end of the file, or text after the
/// array, is read as an item too, and fails. Only a file that does not open an array at all
/// is one error record.
pub(crate) fn read_json_array<T>(text: &str, mut keep: impl FnMut(Record, &str) -> T) -> Vec<T> {
    // An empty file holds no records, as an empty JSON Lines or CSV file does: it is not an
    // array cut short.
    if text.trim().is_empty() {
        return Vec::new();
    }
    let items: Vec<&str> = match serde_json::from_str::<Vec<&RawValue>>(text) {
        Ok(items) => items.into_iter().map(RawValue::get).collect(),
        Err(e) => match array_items(text) {
            Some(items) => items,
            None => {
                return vec![keep(
                    Record {
                        line: e.line(),
                        value: Err(RecordError::new(
                            "read",
                            e.line(),
                            None,
                            format!(
                                "the file is not a JSON array of organisations (column {}): {e}; \
                                 write `[{{\"id\": \"org-1\", …}}, …]`, or use JSON Lines",
                                e.column()
                            ),
                        )),
                    },
                    // Not an array: no object of its own to name the record.
                    "",
                )];
            }
        },
    };
    let base = text.as_ptr() as usize;
    // The items come in the text's order: each one's line is the last one's plus the line ends
    // between them, and its column counts from the last of those (or the last one's line
    // start), so the text is counted through once, not once per item: an array on one line
    // may hold a million objects.
    let (mut counted, mut line, mut line_start) = (0, 1, 0);
    items
        .into_iter()
        .map(|item| {
            let offset = item.as_ptr() as usize - base;
            let between = &text.as_bytes()[counted..offset];
            line += memchr::memchr_iter(b'\n', between).count();
            if let Some(end) = memchr::memrchr(b'\n', between) {
                line_start = counted + end + 1;
            }
            counted = offset;
            let column = offset - line_start + 1;
            keep(
                Record {
                    line,
                    value: parse_item(item, line, column),
                },
                item,
            )
        })
        .collect()
}

/// The items of a JSON array as its text writes them, cut at the commas between them, each
/// without the white space around it; empty items (`[{…},]`) are left out. `None` when the text
/// does not open an array.
fn array_items(text: &str) -> Option<Vec<&str>> {
    let bytes = text.as_bytes();
    let open = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes[open] != b'[' {
        return None;
    }
    let mut items = Vec::new();
    let mut push = |from: usize, to: usize| {
        let item = text[from..to].trim();
        if !item.is_empty() {
            items.push(item);
        }
    };
    let (mut depth, mut in_string, mut escaped) = (1usize, false, false);
    let mut start = open + 1;
    for (at, &b) in bytes.iter().enumerate().skip(open + 1) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    push(start, at);
                    // Text after the array is an item of its own, which fails.
                    push(at + 1, text.len());
                    return Some(items);
                }
            }
            b',' if depth == 1 => {
                push(start, at);
                start = at + 1;
            }
            _ => {}
        }
    }
    // Cut short: the last item runs to the end of the text.
    push(start, text.len());
    Some(items)
}

/// An item of a JSON array, from its `line` and `column` in the file.
fn parse_item(item: &str, line: usize, column: usize) -> Result<Value, RecordError> {
    read_object(item, line, |e| {
        // serde_json counts from the item's start.
        let (at_line, at_column) = match e.line() {
            1 => (line, column + e.column().saturating_sub(1)),
            n => (line + n - 1, e.column()),
        };
        format!(
            "this object of the array is not valid JSON (line {at_line}, column {at_column}): \
             {}; the array's other objects are read on their own",
            without_position(e)
        )
    })
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

    /// Finding: a stray line of bytes that are not UTF-8 above JSON lines made them CSV. Such
    /// lines are passed over, up to `LINES_LOOKED_AT` of them, and the next line decides;
    /// a character cut short by the line end does not take the line end with it. Expected
    /// values: `Format::sniff_reader`'s doc comment.
    #[test]
    fn lines_that_open_with_bytes_not_utf8_do_not_decide_the_format() {
        let after = |stray: &[u8], n: usize, then: &[u8]| {
            let mut bytes = stray.repeat(n);
            bytes.extend_from_slice(then);
            Format::sniff_bytes(&bytes)
        };
        assert_eq!(
            after(b"\xFF\xFE stray\n", 1, b"{\"id\":\"a\"}\n"),
            Format::Jsonl
        );
        assert_eq!(after(b"\xC3\n\n", 1, b"  {}"), Format::Jsonl);
        assert_eq!(after(b"\xE9t\xE9\r\n", 1, b"[{}]"), Format::Json);
        assert_eq!(after(b"Soci\xE9t\xE9\n", 1, b"{}"), Format::Csv);
        assert_eq!(after(b"\xE9,n\n", 1, b"w1,Alpha\n"), Format::Csv);
        let most = LINES_LOOKED_AT - 1;
        assert_eq!(after(b"\xFF\n", most, b"{}"), Format::Jsonl);
        assert_eq!(after(b"\xFF\n", most + 1, b"{}"), Format::Csv);
    }

    /// The guess reads past white space a buffer at a time: white space that is not ASCII (a
    /// no-break space, an ideographic space) is read whole across the ends of the reader's
    /// buffers (here one byte long), and a byte-order mark counts only at the start. Expected
    /// values: `Format::sniff_reader`'s doc comment.
    #[test]
    fn the_guess_reads_white_space_across_buffer_ends() {
        let guess = |bytes: &[u8]| {
            Format::sniff_reader(std::io::BufReader::with_capacity(1, bytes)).unwrap()
        };
        assert_eq!(
            guess("\u{feff}\u{a0}\n\u{3000}\u{b}{}".as_bytes()),
            Format::Jsonl
        );
        assert_eq!(guess("  \u{2003}[".as_bytes()), Format::Json);
        assert_eq!(guess(" \u{feff}{}".as_bytes()), Format::Csv);
        assert_eq!(guess(b"PK\x03\x04"), Format::Xlsx);
        assert_eq!(guess(b" \n "), Format::Csv);
    }

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

    /// DESIGN.md "Behaviour on bad input": every input record yields exactly one output record
    /// and nothing is dropped. A JSON array with a broken object keeps its other objects: the
    /// broken one is an error record that says where (line 3, column 12 here: the missing
    /// comma before `"name"`), an object cut short by the end of the file is one too, and so is
    /// text after the array; commas with nothing between them make no record.
    #[test]
    fn a_broken_object_spoils_only_itself() {
        let read_ok = |text: &str| -> Vec<(usize, Result<String, String>)> {
            read(text, Format::Json)
                .into_iter()
                .map(|r| {
                    let value = r.value.map(|v| v["id"].to_string());
                    (r.line, value.map_err(|e| e.message))
                })
                .collect()
        };
        let text = "[\n {\"id\":\"a\", \"x\":\"[{,\\\"\"},\n {\"id\":\"b\" \"name\":\"B\"},\n\
                    {\"id\":\"c\",\n  \"y\":{\"z\":[1,2]}},,\n 7\n]\n";
        let records = read_ok(text);
        assert_eq!(records.len(), 4, "{records:?}");
        assert_eq!(records[0], (2, Ok("\"a\"".into())));
        assert_eq!(records[1].0, 3);
        let message = records[1].1.as_ref().expect_err("b is broken");
        assert!(message.contains("line 3, column 12"), "{message}");
        assert_eq!(records[2], (4, Ok("\"c\"".into())));
        let message = records[3].1.as_ref().expect_err("7 is not an object");
        assert!(message.contains("found a number"), "{message}");

        // On one line, columns count from the line's start: the missing comma before `"x"`
        // is at column 24.
        let records = read_ok(r#"[{"id":"a"}, {"id":"b" "x":1}]"#);
        assert_eq!(records.len(), 2, "{records:?}");
        assert!(records[1]
            .1
            .as_ref()
            .is_err_and(|m| m.contains("line 1, column 24")));

        // Cut short: the whole objects are read, the last is an error record.
        let records = read_ok("[{\"id\":\"a\"},\n{\"id\":\"b\",\"name\":\"B");
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(records[0], (1, Ok("\"a\"".into())));
        assert_eq!(records[1].0, 2);
        assert!(records[1].1.as_ref().is_err());

        // Text after the array is an error record of its own.
        let records = read_ok("[{\"id\":\"a\"}]\nx");
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(records[0], (1, Ok("\"a\"".into())));
        assert!(records[1]
            .1
            .as_ref()
            .is_err_and(|m| m.contains("line 2, column 1")));

        // A file that does not open an array is one error record.
        let records = read_ok("{\"id\":\"a\"}");
        assert_eq!(records.len(), 1, "{records:?}");
        assert!(records[0]
            .1
            .as_ref()
            .is_err_and(|m| m.contains("not a JSON array")));
    }
}
