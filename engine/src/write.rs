//! Writing: assessments out, in input order.
//!
//! JSON Lines is the default (one compact object per record); `json` writes one array; `csv`
//! writes one flat row per record for spreadsheets; `xlsx` writes the same rows as a workbook;
//! `md` writes a readable document per record. CSV and XLSX have their header row even when
//! there is no record, so that a shard with none still opens; an input with no records at all
//! is refused by `assay assess`, which then does not finish the output, and writes nothing.

use crate::assessment::Assessment;
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Json,
    Csv,
    /// The CSV rows as a workbook (needs `--out`).
    Xlsx,
    /// A document per organisation, for people (see [`crate::markdown`]).
    Md,
}

/// A record on its way out: its bytes, written on the worker that made it (a JSON line, a
/// Markdown document), or the assessment itself for the formats written in one place.
pub enum Piece {
    Line(Vec<u8>),
    Record(Box<Assessment>),
}

impl OutputFormat {
    /// Prepares a record for the writer, on any thread: JSON Lines and Markdown are written out
    /// here, so that the thread that writes only copies bytes.
    pub fn prepare(self, a: Assessment) -> io::Result<Piece> {
        Ok(match self.encode(&a) {
            Some(bytes) => Piece::Line(bytes?),
            None => Piece::Record(Box::new(a)),
        })
    }

    /// A record's own bytes, in the formats where each record stands alone (a JSON line, a
    /// Markdown document); `None` for the formats written in one place.
    pub fn encode(self, a: &Assessment) -> Option<io::Result<Vec<u8>>> {
        match self {
            OutputFormat::Jsonl => Some(crate::json_line::json_line(a).map_err(io::Error::from)),
            OutputFormat::Md => Some(Ok(crate::markdown::render(a).into_bytes())),
            _ => None,
        }
    }
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
    /// The workbook is built in memory (an XLSX sheet holds at most 1,048,576 rows) and
    /// written out by `finish`.
    Xlsx(W, Box<rust_xlsxwriter::Workbook>),
}

/// The columns of a CSV row and of a workbook's sheet, in order.
pub const CSV_HEADER: [&str; 25] = [
    "id",
    "name",
    "line",
    "nis2.classification",
    // For `undetermined`: the classifications the missing facts leave open.
    "nis2.possible",
    "nis2.size.class",
    // When the size class is open: the classes it could be.
    "nis2.size.possible",
    "nis2.size.basis",
    "nis2.size.own_class",
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

/// The columns that hold numbers: a workbook gets them as numbers, so that it can sort and sum.
const NUMBER_COLUMNS: [&str; 6] = [
    "line",
    "nis2.max_fine_eur",
    "plan.actions",
    "plan.now",
    "plan.next",
    "plan.later",
];

impl<W: Write> Writer<W> {
    pub fn new(out: W, format: OutputFormat) -> Writer<W> {
        let sink = match format {
            OutputFormat::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
            OutputFormat::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                book.add_worksheet();
                Sink::Xlsx(out, Box::new(book))
            }
            _ => Sink::Plain(out),
        };
        Writer {
            sink,
            format,
            written: 0,
        }
    }

    /// Dates a workbook by the assessment date instead of the clock: XLSX keeps its creation
    /// time in `docProps/core.xml`, and the same input, packs and date must give the same bytes.
    /// Other formats carry no date of their own.
    pub fn dated(mut self, as_of: &str) -> io::Result<Writer<W>> {
        if let Sink::Xlsx(_, book) = &mut self.sink {
            let date = rust_xlsxwriter::ExcelDateTime::parse_from_str(as_of)
                .map_err(|e| io::Error::other(format!("`{as_of}` as a workbook date: {e}")))?;
            let properties = rust_xlsxwriter::DocProperties::new().set_creation_datetime(&date);
            book.set_properties(&properties);
        }
        Ok(self)
    }

    pub fn write(&mut self, a: &Assessment) -> io::Result<()> {
        if let Some(bytes) = self.format.encode(a) {
            return self.write_pieces(&[Piece::Line(bytes?)]);
        }
        match &mut self.sink {
            Sink::Plain(out) => {
                out.write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, a)?;
            }
            Sink::Csv(_) => return self.write_row(csv_row(a).into_iter().map(defuse).collect()),
            Sink::Xlsx(..) => return self.write_row(csv_row(a)),
        }
        self.written += 1;
        Ok(())
    }

    /// A row in CSV or a workbook, its cells as they are written (a CSV row's defused):
    /// [`Writer::write`] writes an assessment's row with it, `assay merge` the rows of shards.
    pub fn write_row(&mut self, cells: Vec<String>) -> io::Result<()> {
        match &mut self.sink {
            Sink::Csv(w) => {
                if self.written == 0 {
                    w.write_record(CSV_HEADER).map_err(csv_error)?;
                }
                w.write_record(cells).map_err(csv_error)?;
            }
            Sink::Xlsx(_, book) => {
                if self.written == 0 {
                    xlsx_row(book, 0, CSV_HEADER.iter().map(|h| h.to_string()).collect())?;
                }
                xlsx_row(book, self.written + 1, cells)?;
            }
            Sink::Plain(_) => {
                return Err(io::Error::other(format!(
                    "a row reached the {:?} writer",
                    self.format
                )))
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Writes records prepared by [`OutputFormat::prepare`], in order.
    ///
    /// Lines in a row are handed to the output together, as slices of the pieces, so that a
    /// file takes them in one system call each time without their bytes being copied into the
    /// output's buffer first (about 4 KB a record).
    pub fn write_pieces(&mut self, pieces: &[Piece]) -> io::Result<()> {
        let mut lines: Vec<io::IoSlice> = Vec::new();
        for piece in pieces {
            match (piece, &self.sink) {
                (Piece::Line(line), Sink::Plain(_))
                    if matches!(self.format, OutputFormat::Jsonl | OutputFormat::Md) =>
                {
                    lines.push(io::IoSlice::new(line));
                }
                (Piece::Line(_), _) => {
                    return Err(io::Error::other(format!(
                        "a record prepared as bytes reached the {:?} writer",
                        self.format
                    )))
                }
                (Piece::Record(a), _) => {
                    self.write_lines(&mut lines)?;
                    self.write(a)?;
                }
            }
        }
        self.write_lines(&mut lines)
    }

    /// Writes whole `lines` (each a record's) and empties the list.
    fn write_lines(&mut self, lines: &mut Vec<io::IoSlice>) -> io::Result<()> {
        let Sink::Plain(out) = &mut self.sink else {
            return Ok(());
        };
        let count = lines.len();
        let mut rest = &mut lines[..];
        while !rest.is_empty() {
            match out.write_vectored(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.written += count;
        lines.clear();
        Ok(())
    }

    /// Runs `produce` with a sink whose pieces a thread of their own writes, in order, so that
    /// copying the output overlaps the work on the next records. Returns what `produce`
    /// returned and the writer, or why writing failed. Once writing fails, the sink refuses
    /// further pieces.
    ///
    /// The writer comes back unfinished, for the caller to [`Writer::finish`] once it knows
    /// what `produce` came to: a run that is refused for want of records finishes nothing, and
    /// so leaves no header row or `[]` behind it.
    pub fn on_own_thread<R>(
        mut self,
        produce: impl FnOnce(&mut (dyn FnMut(Vec<Piece>) -> io::Result<()> + Send)) -> R,
    ) -> (R, io::Result<Writer<W>>)
    where
        W: Send,
    {
        std::thread::scope(|s| {
            // No queue: the thread holds one chunk while the next is made.
            let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Piece>>(0);
            let writing = s.spawn(move || -> io::Result<Writer<W>> {
                for pieces in receive {
                    self.write_pieces(&pieces)?;
                }
                Ok(self)
            });
            let produced = produce(&mut |pieces| {
                send.send(pieces)
                    .map_err(|_| io::Error::other("the writer stopped"))
            });
            drop(send);
            let written = writing
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the writer panicked")));
            (produced, written)
        })
    }

    /// Writes a chunk of records; JSON lines and Markdown documents are encoded in parallel, on
    /// the current rayon pool, and written in order.
    pub fn write_chunk(&mut self, chunk: &[Assessment]) -> io::Result<()> {
        let format = self.format;
        let encoded: Option<Vec<Piece>> = chunk
            .par_iter()
            .map(|a| format.encode(a).map(|bytes| bytes.map(Piece::Line)))
            .collect::<Option<io::Result<_>>>()
            .transpose()?;
        match encoded {
            Some(pieces) => self.write_pieces(&pieces),
            None => chunk.iter().try_for_each(|a| self.write(a)),
        }
    }

    pub fn finish(self) -> io::Result<W> {
        let mut out = match self.sink {
            Sink::Plain(out) => out,
            Sink::Csv(mut w) => {
                if self.written == 0 {
                    w.write_record(CSV_HEADER).map_err(csv_error)?;
                }
                w.into_inner().map_err(|e| e.into_error())?
            }
            Sink::Xlsx(mut out, mut book) => {
                if self.written == 0 {
                    xlsx_row(
                        &mut book,
                        0,
                        CSV_HEADER.iter().map(|h| h.to_string()).collect(),
                    )?;
                }
                let bytes = book.save_to_buffer().map_err(io::Error::other)?;
                out.write_all(&bytes)?;
                out
            }
        };
        if self.format == OutputFormat::Json {
            out.write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        out.flush()?;
        Ok(out)
    }
}

/// The csv crate wraps a failed write in its own error, whose conversion to `io::Error` says
/// `Other`: the kind is kept here so that a reader hanging up (`| head`) is still known as a
/// closed pipe, as it is for the other formats.
fn csv_error(e: csv::Error) -> io::Error {
    match e.kind() {
        csv::ErrorKind::Io(io) => io::Error::new(io.kind(), e),
        _ => io::Error::other(e),
    }
}

/// A file named by `--out`, written under a temporary name in its folder and renamed over its
/// name only by [`OutputFile::commit`]: a run that fails (a full disk, a part refused) leaves
/// what was there, and no reader sees half a file. A name that is not a regular file
/// (`/dev/null`, a named pipe) is written in place: renaming over it would replace it.
pub struct OutputFile {
    file: File,
    /// The temporary name, removed when dropped uncommitted, and the name to rename it to.
    staged: Option<(tempfile::TempPath, PathBuf)>,
}

impl OutputFile {
    pub fn create(path: &Path) -> Result<OutputFile, String> {
        let cannot = |e: io::Error| format!("cannot write `{}`: {e}", path.display());
        // Through a symbolic link to the file it names: renaming over the link would replace it.
        let path = &path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let file = File::create(path).map_err(cannot)?;
            return Ok(OutputFile { file, staged: None });
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let prefix = format!(
            ".{}.",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let mut temp = tempfile::Builder::new();
        temp.prefix(&prefix).suffix(".part");
        // The mode a plain `File::create` gives (0666 less the umask), not tempfile's 0600:
        // the shards of a cluster are often read by another user than the one that wrote them.
        #[cfg(unix)]
        temp.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        // Staged in one step with its making: an interrupt removes it (crate::interrupt).
        let (file, temp) = crate::interrupt::RUN.stage(path, || {
            let (file, temp) = temp.tempfile_in(folder).map_err(cannot)?.into_parts();
            let name = temp.to_path_buf();
            Ok::<_, String>(((file, temp), name))
        })?;
        Ok(OutputFile {
            file,
            staged: Some((temp, path.to_path_buf())),
        })
    }

    /// A handle to write through; every handle writes to the same file.
    pub fn writer(&self) -> Result<File, String> {
        self.file
            .try_clone()
            .map_err(|e| format!("cannot write the output: {e}"))
    }

    /// Renames the finished file over its name. Call it once everything is written and flushed.
    /// An interrupt comes before or after, never in between (crate::interrupt).
    pub fn commit(mut self) -> Result<(), String> {
        let Some((temp, path)) = self.staged.take() else {
            return Ok(());
        };
        let cannot = |e: io::Error| format!("cannot write `{}`: {e}", path.display());
        let name = temp.to_path_buf();
        crate::interrupt::RUN.commit(&name, || {
            // A failure drops `temp` here, under the lock, which removes the file.
            self.file.sync_all().map_err(cannot)?;
            temp.persist(&path).map_err(|e| cannot(e.error))
        })
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // Uncommitted: the temporary file is removed as it is forgotten.
        if let Some((temp, _)) = self.staged.take() {
            let name = temp.to_path_buf();
            crate::interrupt::RUN.abandon(&name, || drop(temp));
        }
    }
}

/// Refuses an output that is one of the inputs, before anything is written: writing it would
/// destroy what is being read. Paths are compared once resolved (`./a` and `a` are one file).
pub fn refuse_overwriting(out: &Path, inputs: &[&Path], what: &str) -> Result<(), String> {
    let Ok(target) = out.canonicalize() else {
        return Ok(());
    };
    match inputs
        .iter()
        .find(|i| i.canonicalize().is_ok_and(|i| i == target))
    {
        Some(input) => Err(format!(
            "--out `{}` is the same file as {what} `{}`: writing it would destroy what is being \
             read; name another file",
            out.display(),
            input.display()
        )),
        None => Ok(()),
    }
}

/// One row of the sheet; cells are written as text or numbers, never as formulas, so a client's
/// `=…` id cannot run.
fn xlsx_row(
    book: &mut rust_xlsxwriter::Workbook,
    row: usize,
    cells: Vec<String>,
) -> io::Result<()> {
    let sheet = book.worksheet_from_index(0).map_err(io::Error::other)?;
    let row = u32::try_from(row)
        .ok()
        .filter(|r| *r < 1_048_576)
        .ok_or_else(|| {
            io::Error::other(
                "an XLSX sheet holds at most 1,048,576 rows; write csv or jsonl for this portfolio",
            )
        })?;
    for (col, (cell, header)) in cells.iter().zip(CSV_HEADER).enumerate() {
        let col = col as u16;
        let number = NUMBER_COLUMNS
            .contains(&header)
            .then(|| cell.parse::<f64>().ok())
            .flatten();
        match number {
            Some(n) if row > 0 => sheet.write_number(row, col, n),
            _ => sheet.write_string(row, col, cell),
        }
        .map_err(io::Error::other)?;
    }
    Ok(())
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
            a.id.as_deref().unwrap_or_default().to_string(),
            a.name.as_deref().unwrap_or_default().to_string(),
            a.line.to_string(),
            n.classification.as_str().into(),
            n.possible
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            n.size.class.unwrap_or("").into(),
            n.size.possible.join(";"),
            n.size.basis.into(),
            n.size.own_class.unwrap_or("").into(),
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
                .map(|o| o.id)
                .collect::<Vec<_>>()
                .join(";"),
            n.max_fine_eur.map(|f| f.to_string()).unwrap_or_default(),
        ],
        None => {
            let mut row = vec![
                a.id.as_deref().unwrap_or_default().to_string(),
                a.name.as_deref().unwrap_or_default().to_string(),
                a.line.to_string(),
            ];
            row.extend(std::iter::repeat_n(String::new(), 12));
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
                .map(|x| x.control)
                .collect::<Vec<_>>()
                .join(";"),
        ]),
        None => row.extend(std::iter::repeat_n(String::new(), 5)),
    }
    row.push(errors);
    debug_assert_eq!(row.len(), CSV_HEADER.len());
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that takes at most `step` bytes a call, across slices, and is interrupted on
    /// every third call, as a pipe or a signal may make a real one do.
    struct Trickle {
        bytes: Vec<u8>,
        calls: usize,
        step: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[io::IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[io::IoSlice]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls % 3 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let mut taken = 0;
            for buf in bufs {
                let n = buf.len().min(self.step - taken);
                self.bytes.extend_from_slice(&buf[..n]);
                taken += n;
                if taken == self.step {
                    break;
                }
            }
            Ok(taken)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// DESIGN.md "Assessment (output contract)": one object per input record, in input order;
    /// here whole and in order however the output takes the bytes handed to it (7 bytes a call,
    /// cut across records, with interruptions).
    #[test]
    fn lines_handed_over_together_arrive_whole_and_in_order() {
        let lines: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("{{\"record\":{i},\"text\":\"{}\"}}\n", "x".repeat(i % 13)).into())
            .collect();
        let pieces: Vec<Piece> = lines.iter().cloned().map(Piece::Line).collect();
        let out = Trickle {
            bytes: Vec::new(),
            calls: 0,
            step: 7,
        };
        let mut writer = Writer::new(out, OutputFormat::Jsonl);
        writer.write_pieces(&pieces[..20]).expect("written");
        writer.write_pieces(&pieces[20..]).expect("written");
        assert_eq!(writer.written, 50);
        let out = writer.finish().expect("finished");
        assert_eq!(out.bytes, lines.concat());
    }
}
