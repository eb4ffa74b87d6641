//! Spreadsheet portfolios (XLSX and the other formats calamine reads): the first sheet, its first
//! row as headers, one organisation per row after it, cells read as the CSV reader reads them.
//!
//! A workbook is read whole (calamine unpacks a sheet at once); a sheet holds at most 1,048,576
//! rows, so memory stays bounded by the format. Line numbers are the sheet's row numbers.

use super::columns::ColumnMap;
use super::csv::Layout;
use super::Record;
use crate::error::RecordError;
use calamine::{Data, Reader};
use std::path::Path;

/// The records of the first sheet of the workbook at `path`, each as `keep` makes it of its
/// record, one row at a time; and the layout of its columns.
pub fn read<T>(
    path: &Path,
    mapping: Option<&ColumnMap>,
    mut keep: impl FnMut(Record) -> T,
) -> Result<(Vec<T>, Layout), String> {
    // By content rather than by file name: standard input is spooled to a file without one.
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot open the workbook `{}`: {e}", path.display()))?;
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| format!("cannot open the workbook `{}`: {e}", path.display()))?;
    let sheet = workbook.sheet_names().first().cloned().unwrap_or_default();
    let range = match workbook.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(e)) => return Err(format!("cannot read the sheet `{sheet}`: {e}")),
        None => return Err(format!("the workbook `{}` has no sheet", path.display())),
    };
    let first_row = range.start().map(|(row, _)| row as usize + 1).unwrap_or(1);
    let mut rows = range.rows();
    let headers: Vec<String> = match rows.next() {
        Some(cells) => cells.iter().map(|c| text(c).unwrap_or_default()).collect(),
        None => Vec::new(),
    };
    // A number typed as text says nothing of the decimal mark the sheet's author used.
    let layout =
        Layout::from_headers(headers, b',', mapping).with_decimal(super::number::Decimal::Unknown);

    let mut records = Vec::new();
    for (i, cells) in rows.enumerate() {
        let line = first_row + 1 + i;
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let mut row = Vec::with_capacity(cells.len());
        let mut broken = None;
        for (col, cell) in cells.iter().enumerate() {
            match text(cell) {
                Ok(t) => row.push(t),
                Err(e) => {
                    let header = layout.headers().get(col).cloned().unwrap_or_default();
                    broken = Some(format!(
                        "the cell in column `{header}` holds the spreadsheet error `{e}`; \
                         correct the formula or enter the value"
                    ));
                    break;
                }
            }
        }
        let value = match broken {
            Some(message) => Err(RecordError::new("read", line, None, message)),
            None => Ok(layout.convert(&::csv::StringRecord::from(row))),
        };
        records.push(keep(Record { line, value }));
    }
    Ok((records, layout))
}

/// A cell as the text a CSV export would hold; a spreadsheet error (`#DIV/0!`) as `Err`.
fn text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Whole numbers print without a fraction, so that `120` is not read as `120.0`.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (*f as i64).to_string(),
        // A number cell is exact: one with three decimals gets a fourth, so that `1.125` is not
        // taken for a text cell whose `.` might group thousands.
        Data::Float(f) => {
            let t = f.to_string();
            if super::number::ambiguous(&t).is_some() {
                t + "0"
            } else {
                t
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02}")
        }
        Data::Error(e) => return Err(e.to_string()),
    })
}
