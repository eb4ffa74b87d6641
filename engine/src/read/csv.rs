//! CSV portfolios: columns named after the facts fields.
//!
//! - a nested field is a column named with `.`: `main_establishment.cyber_decisions_in`;
//! - a list is one cell with `;` between items: `FR;DE`;
//! - a list of objects is one column per field, items paired by position:
//!   `owners.id` = `p1;p2`, `owners.share_pct` = `60;30`; a list inside such an item separates
//!   its items with `|` (`certifications.criteria` = `security|availability`);
//! - `activities` may also be one column of entity type ids, each optionally written
//!   `sector/subsector/entity_type` (needed for `other`);
//! - `controls` is a list of control ids (maturity 3, documented) or of `id:maturity` pairs;
//! - an empty cell means the fact is absent.
//!
//! How each column converts comes from the facts schema, so a field added there reads from CSV
//! without a change here. A cell that does not convert (a word where a number belongs) is passed
//! on as text, so that the schema reports it with its field.

use super::number::Decimal;
use super::Record;
use crate::error::RecordError;
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;

const FACTS_SCHEMA: &str = include_str!("../../../schemas/facts.schema.json");

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Text,
    Number,
    Bool,
    List(Box<Kind>),
    Object(BTreeMap<String, Kind>),
    ObjectList(BTreeMap<String, Kind>),
    Controls,
}

fn schema_kinds() -> BTreeMap<String, Kind> {
    let schema: Value = serde_json::from_str(FACTS_SCHEMA).unwrap_or(Value::Null);
    let defs = schema["$defs"].clone();
    match kind_of(&schema, &defs) {
        Kind::Object(fields) => fields,
        _ => BTreeMap::new(),
    }
}

fn kind_of(node: &Value, defs: &Value) -> Kind {
    if let Some(r) = node["$ref"].as_str() {
        let name = r.trim_start_matches("#/$defs/");
        return kind_of(&defs[name], defs);
    }
    if node.get("oneOf").is_some() {
        return Kind::Controls;
    }
    if let Some(values) = node["enum"].as_array() {
        if values.iter().all(Value::is_string) {
            return Kind::Text;
        }
    }
    match node["type"].as_str() {
        Some("number") | Some("integer") => Kind::Number,
        Some("boolean") => Kind::Bool,
        Some("array") => match kind_of(&node["items"], defs) {
            Kind::Object(fields) => Kind::ObjectList(fields),
            item => Kind::List(Box::new(item)),
        },
        Some("object") => Kind::Object(
            node["properties"]
                .as_object()
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| (k.clone(), kind_of(v, defs)))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => Kind::Text,
    }
}

/// How one column is read.
#[derive(Debug, Clone)]
enum Column {
    /// A field, at a path of object keys.
    Field { path: Vec<String>, kind: Kind },
    /// One field of the objects of a list, paired by position.
    ListField {
        list: String,
        field: String,
        kind: Kind,
    },
    /// `activities` written as entity type ids.
    Activities,
    /// Not a facts field: passed through as text.
    Extra(String),
}

fn column(name: &str, kinds: &BTreeMap<String, Kind>) -> Column {
    let parts: Vec<&str> = name.split('.').collect();
    match (parts.as_slice(), kinds.get(parts[0])) {
        (["activities"], Some(_)) => Column::Activities,
        ([_], Some(kind)) => Column::Field {
            path: vec![name.into()],
            kind: kind.clone(),
        },
        ([top, field], Some(Kind::Object(fields))) if fields.contains_key(*field) => {
            Column::Field {
                path: vec![top.to_string(), field.to_string()],
                kind: fields[*field].clone(),
            }
        }
        ([top, field], Some(Kind::ObjectList(fields))) if fields.contains_key(*field) => {
            Column::ListField {
                list: top.to_string(),
                field: field.to_string(),
                kind: fields[*field].clone(),
            }
        }
        _ => Column::Extra(name.into()),
    }
}

/// How the rows of one CSV file are read: its delimiter and what each of its columns holds.
#[derive(Debug, Clone)]
pub struct Layout {
    delimiter: u8,
    decimal: Decimal,
    /// The headers as written, for messages.
    headers: Vec<String>,
    columns: Vec<Column>,
}

impl Layout {
    /// Reads the header line. Headers are matched without regard to case or surrounding space
    /// (`Employees ` is `employees`); `mapping` renames a client's own headers first.
    pub fn from_header(header_line: &str, mapping: Option<&ColumnMap>) -> Layout {
        let header_line = header_line.trim_end_matches(['\r', '\n']);
        let delimiter = delimiter_of(header_line);
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(delimiter)
            .from_reader(header_line.as_bytes());
        let headers: Vec<String> = match reader.records().next() {
            Some(Ok(r)) => r.iter().map(|h| h.trim().to_string()).collect(),
            _ => Vec::new(),
        };
        Layout::from_headers(headers, delimiter, mapping)
    }

    /// A layout for headers that are already split (a spreadsheet's first row).
    pub fn from_headers(
        headers: Vec<String>,
        delimiter: u8,
        mapping: Option<&ColumnMap>,
    ) -> Layout {
        let kinds = schema_kinds();
        let columns = headers
            .iter()
            .map(|h| {
                let field = mapping
                    .and_then(|m| m.field_for(h))
                    .map(str::to_string)
                    .unwrap_or_else(|| h.trim().to_lowercase());
                match column(&field, &kinds) {
                    // An unknown column keeps the header as written.
                    Column::Extra(_) => Column::Extra(h.trim().to_string()),
                    c => c,
                }
            })
            .collect();
        Layout {
            delimiter,
            decimal: if delimiter == b';' {
                Decimal::Comma
            } else {
                Decimal::Point
            },
            headers,
            columns,
        }
    }

    /// The same layout reading numbers with `decimal` (a workbook's text cells: unknown).
    pub(super) fn with_decimal(mut self, decimal: Decimal) -> Layout {
        self.decimal = decimal;
        self
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn is_empty(&self) -> bool {
        self.headers.iter().all(|h| h.is_empty())
    }

    /// Whether some column is not a facts field: its rows carry fields of their own.
    pub fn has_unknown_columns(&self) -> bool {
        self.columns.iter().any(|c| matches!(c, Column::Extra(_)))
    }

    /// Columns that are not facts fields, with the field they were probably meant to be.
    pub fn unknown_columns(&self) -> Vec<(String, Option<String>)> {
        let names = field_names();
        self.columns
            .iter()
            .filter_map(|c| match c {
                Column::Extra(h) => Some(h),
                _ => None,
            })
            .map(|h| {
                let lower = h.to_lowercase();
                let hint = crate::validate::did_you_mean(&lower, names.iter().map(String::as_str));
                (h.clone(), hint.map(String::from))
            })
            .collect()
    }

    /// Converts one row of cells, split already, into a facts object.
    pub fn convert(&self, record: &::csv::StringRecord) -> Value {
        convert(&self.columns, record, self.decimal)
    }

    /// Two columns that fill the same fact (`controls.A.5.1` twice, or `Employees` beside
    /// `employees`): a row would keep the last of them and lose the other without a word, so
    /// the header is refused.
    pub fn repeated_column(&self) -> Option<String> {
        let mut first: BTreeMap<String, usize> = BTreeMap::new();
        for (i, column) in self.columns.iter().enumerate() {
            let fact = match column {
                Column::Field { path, .. } => path.join("."),
                Column::ListField { list, field, .. } => format!("{list}.{field}"),
                Column::Activities => "activities".into(),
                // An unnamed column (a trailing delimiter) holds nothing to lose.
                Column::Extra(name) if name.is_empty() => continue,
                Column::Extra(name) => name.to_lowercase(),
            };
            let Some(&j) = first.get(&fact) else {
                first.insert(fact, i);
                continue;
            };
            // A column that is no facts field is passed on as written, and not used.
            let (fact, unused) = match column {
                Column::Extra(name) => {
                    let hint = self
                        .unknown_columns()
                        .into_iter()
                        .find(|(h, _)| h == name)
                        .and_then(|(_, hint)| hint)
                        .map(|h| format!("; did you mean `{h}`?"))
                        .unwrap_or_default();
                    (name.clone(), format!(", which is not a facts field{hint}"))
                }
                _ => (fact, String::new()),
            };
            return Some(format!(
                "column {} `{}` and column {} `{}` both give `{fact}`{unused}, so one would be \
                 lost; remove one of them or merge their cells into one column",
                j + 1,
                self.headers[j],
                i + 1,
                self.headers[i],
            ));
        }
        None
    }

    /// The id and name of a row that cannot be read whole (a line that is not UTF-8 text),
    /// each when its own cell is valid UTF-8, so that the error record still names its
    /// organisation.
    /// The id of a row that broke the CSV (a stray quote, a missing or extra cell), when the id
    /// is the first column: no missing or extra cell can shift the first one, while any later
    /// cell might be another column's.
    pub fn salvage_broken(&self, row: &[u8]) -> super::stream::Salvaged {
        let id_first = matches!(
            self.columns.first(),
            Some(Column::Field { path, .. }) if path.len() == 1 && path[0] == "id"
        );
        if !id_first {
            return super::stream::Salvaged::default();
        }
        super::stream::Salvaged {
            id: self.salvage(row).id,
            ..Default::default()
        }
    }

    pub fn salvage(&self, row: &[u8]) -> super::stream::Salvaged {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(row);
        let mut record = ::csv::ByteRecord::new();
        if !matches!(reader.read_byte_record(&mut record), Ok(true)) {
            return super::stream::Salvaged::default();
        }
        let cell = |fact: &str| {
            let i = self.columns.iter().position(
                |c| matches!(c, Column::Field { path, .. } if path.len() == 1 && path[0] == fact),
            )?;
            let text = std::str::from_utf8(record.get(i)?).ok()?.trim();
            (!text.is_empty()).then(|| text.to_string())
        };
        super::stream::Salvaged {
            id: cell("id"),
            name: cell("name"),
            owners: None,
        }
    }
}

/// The delimiter of a CSV file, from its header line: a comma unless the header has no comma
/// outside quotes and does have semicolons (European spreadsheet exports) or tabs. A list inside
/// a cell is still written with `;` between items, quoted as spreadsheet programs do.
fn delimiter_of(header_line: &str) -> u8 {
    let mut quoted = false;
    let (mut commas, mut semicolons, mut tabs) = (0, 0, 0);
    for c in header_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            '\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if commas > 0 {
        b','
    } else if semicolons >= tabs && semicolons > 0 {
        b';'
    } else if tabs > 0 {
        b'\t'
    } else {
        b','
    }
}

/// Every facts field a column may name, nested ones joined with `.`.
pub fn field_names() -> Vec<String> {
    let kinds = schema_kinds();
    let mut names: Vec<String> = kinds.keys().cloned().collect();
    for (top, kind) in &kinds {
        if let Kind::Object(f) | Kind::ObjectList(f) = kind {
            names.extend(f.keys().map(|k| format!("{top}.{k}")));
        }
    }
    names
}

pub use super::columns::ColumnMap;

/// Reads every record of a CSV text. A record whose quoting is broken becomes an error record,
/// and reading starts again on the line after it, so one stray quote loses one record, not the
/// rest of the file.
pub fn read(text: &str) -> Vec<Record> {
    let text = super::strip_bom(text);
    let header_end = text.find('\n').map(|i| i + 1).unwrap_or(text.len());
    let layout = Layout::from_header(&text[..header_end], None);
    if layout.is_empty() {
        return Vec::new();
    }
    let records = read_block(&layout, &text[header_end..], 2);
    match layout.repeated_column() {
        None => records,
        Some(message) => records
            .into_iter()
            .map(|r| Record {
                line: r.line,
                value: Err(RecordError::new("read", r.line, None, message.clone())),
            })
            .collect(),
    }
}

/// Reads the rows of `text`, which starts on line `first_line` of its file, with `layout`.
pub fn read_block(layout: &Layout, text: &str, first_line: usize) -> Vec<Record> {
    // Windows (CRLF) and old Mac (CR) line endings become LF, so that line numbers count the
    // lines a spreadsheet shows. A CR inside a quoted cell becomes LF too, which changes nothing
    // for the facts.
    let normalised;
    let text = if text.contains('\r') {
        normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        text
    };
    let expected = layout.headers.len();

    let mut records = Vec::new();
    let mut offset = 0;
    let mut line = first_line;
    while offset < text.len() {
        let rest = &text[offset..];
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(layout.delimiter)
            .from_reader(rest.as_bytes());
        let mut restart: Option<(usize, usize)> = None;
        let mut record = ::csv::StringRecord::new();
        loop {
            let start = reader.position().clone();
            // The CSV reader passes over empty lines before a row without a word: the row
            // starts after them, and so do its line number and the text checked against the
            // header (which would otherwise take the next row for one a stray quote swallowed).
            let blank = (rest.as_bytes()[start.byte() as usize..].iter())
                .take_while(|&&b| b == b'\n')
                .count();
            let start_byte = start.byte() as usize + blank;
            let start_line = line + start.line() as usize - 1 + blank;
            let broken = match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    if record.len() == 1 && record.get(0).is_some_and(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let raw = &rest[start_byte..reader.position().byte() as usize];
                    match broken_row(&record, expected, raw, layout.delimiter as char) {
                        Some(broken) => broken,
                        None => {
                            records.push(Record {
                                line: start_line,
                                value: Ok(layout.convert(&record)),
                            });
                            continue;
                        }
                    }
                }
                Err(e) => Broken {
                    message: e.to_string(),
                    reread: true,
                },
            };
            records.push(Record {
                line: start_line,
                value: Err(RecordError::new("read", start_line, None, broken.message)),
            });
            if broken.reread {
                // Start again on the line after this record's first line.
                let skip = rest[start_byte..]
                    .find('\n')
                    .map(|i| start_byte + i + 1)
                    .unwrap_or(rest.len());
                restart = Some((offset + skip, start_line + 1));
                break;
            }
        }
        match restart {
            Some((next, next_line)) => {
                offset = next;
                line = next_line;
            }
            None => break,
        }
    }
    records
}

/// A row that cannot be read as it stands, and whether the lines it ran over must be read again.
struct Broken {
    message: String,
    reread: bool,
}

/// Checks one CSV record against the header. `raw` is its text, from its first byte to the start
/// of the next record.
fn broken_row(
    record: &::csv::StringRecord,
    expected: usize,
    raw: &str,
    delimiter: char,
) -> Option<Broken> {
    let spans = raw.trim_end_matches('\n').contains('\n');
    // A quote left open in the last column swallows whole rows without changing the field
    // count: a line inside the record with a full row's worth of commas is taken for such a row.
    let swallowed = expected > 1
        && raw
            .lines()
            .skip(1)
            .any(|l| l.matches(delimiter).count() >= expected - 1);
    if swallowed {
        return Some(Broken {
            message: "a quote opened in this row is never closed and runs on into the rows after \
                      it: those rows were read again on their own"
                .into(),
            reread: true,
        });
    }
    if record.len() == expected {
        return None;
    }
    let mut message = format!(
        "expected {expected} fields as in the header, found {}",
        record.len()
    );
    if spans {
        message.push_str(
            "; a quote that is never closed runs on into the lines after it: those lines were \
             read again on their own",
        );
    }
    Some(Broken {
        message,
        reread: spans,
    })
}

fn convert(columns: &[Column], record: &::csv::StringRecord, decimal: Decimal) -> Value {
    let mut object = Map::new();
    let mut lists: BTreeMap<String, Vec<Map<String, Value>>> = BTreeMap::new();
    for (column, cell) in columns.iter().zip(record.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        match column {
            Column::Field { path, kind } => {
                let value = cell_value(cell, kind, decimal);
                if let [top, field] = path.as_slice() {
                    let entry = object
                        .entry(top.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = entry {
                        m.insert(field.clone(), value);
                    }
                } else {
                    object.insert(path[0].clone(), value);
                }
            }
            Column::ListField { list, field, kind } => {
                let items = lists.entry(list.clone()).or_default();
                for (i, part) in cell.split(';').map(str::trim).enumerate() {
                    if items.len() <= i {
                        items.push(Map::new());
                    }
                    if part.is_empty() {
                        continue;
                    }
                    // A list inside a list of objects separates its items with `|`.
                    let value = match kind {
                        Kind::List(item) => Value::Array(
                            part.split('|')
                                .map(str::trim)
                                .filter(|p| !p.is_empty())
                                .map(|p| cell_value(p, item, decimal))
                                .collect(),
                        ),
                        _ => cell_value(part, kind, decimal),
                    };
                    items[i].insert(field.clone(), value);
                }
            }
            Column::Activities => {
                let items = lists.entry("activities".into()).or_default();
                for part in cell.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    let mut item = Map::new();
                    let pieces: Vec<&str> = part.split('/').map(str::trim).collect();
                    if let [sector, subsector, entity_type] = pieces.as_slice() {
                        item.insert("sector".into(), Value::String(sector.to_string()));
                        item.insert("subsector".into(), Value::String(subsector.to_string()));
                        item.insert("entity_type".into(), Value::String(entity_type.to_string()));
                    } else {
                        item.insert("entity_type".into(), Value::String(part.to_string()));
                    }
                    items.push(item);
                }
            }
            Column::Extra(name) => {
                object.insert(name.clone(), Value::String(cell.to_string()));
            }
        }
    }
    for (name, items) in lists {
        object.insert(
            name,
            Value::Array(items.into_iter().map(Value::Object).collect()),
        );
    }
    Value::Object(object)
}

fn cell_value(cell: &str, kind: &Kind, decimal: Decimal) -> Value {
    match kind {
        Kind::Number => super::number::parse(cell, decimal)
            .and_then(number)
            .unwrap_or_else(|| Value::String(cell.into())),
        Kind::Bool => match cell.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Value::Bool(true),
            "false" | "no" | "n" | "0" => Value::Bool(false),
            _ => Value::String(cell.into()),
        },
        Kind::List(item) => Value::Array(
            cell.split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| cell_value(p, item, decimal))
                .collect(),
        ),
        Kind::Controls => {
            let parts: Vec<&str> = cell
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            if parts.iter().any(|p| p.contains(':')) {
                let mut map = Map::new();
                for p in parts {
                    let (id, maturity) = p.split_once(':').unwrap_or((p, "3"));
                    let maturity = maturity
                        .trim()
                        .parse::<u64>()
                        .map(Value::from)
                        .unwrap_or_else(|_| Value::String(maturity.trim().into()));
                    let mut state = Map::new();
                    state.insert("maturity".into(), maturity);
                    map.insert(id.trim().into(), Value::Object(state));
                }
                Value::Object(map)
            } else {
                Value::Array(parts.into_iter().map(|p| Value::String(p.into())).collect())
            }
        }
        Kind::Text | Kind::Object(_) | Kind::ObjectList(_) => Value::String(cell.into()),
    }
}

/// A JSON number, as an integer when the value is whole (so `120` stays `120`).
fn number(v: f64) -> Option<Value> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Some(Value::from(v as i64))
    } else {
        Number::from_f64(v).map(Value::Number)
    }
}
