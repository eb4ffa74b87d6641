//! Streaming input: a portfolio read a chunk of records at a time, so that memory does not grow
//! with the file.
//!
//! [`Input`] is an opened portfolio that can be read more than once: the pipeline reads it
//! first to find ids and ownership (see [`crate::prescan`]), then to assess. JSON Lines and CSV
//! files stream from disk (standard input is first spooled to a temporary file); a JSON array
//! and a spreadsheet are read whole, as their formats require. A JSON Lines file in UTF-8 is
//! read in blocks of whole lines ([`LineBlocks`]) in both passes, its records taken from the
//! block where they are; any other input record by record. Both readings follow the same rule
//! for what a line's record is.
//!
//! Text is decoded line by line: a line that is not UTF-8 becomes an error record for that line
//! (saying how to fix it), and the lines after it are still read. `--encoding windows-1252`
//! reads the files Excel saves as "CSV" on Western-European Windows.

use super::columns::ColumnMap;
use super::csv::Layout;
pub use super::head::Head;
use super::{Format, Record};
use crate::error::RecordError;
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Encoding {
    #[default]
    Utf8,
    /// Windows-1252 ("ANSI" on Western-European Windows; what Excel writes for "CSV").
    #[value(name = "windows-1252")]
    Windows1252,
}

/// One record as read, before it is parsed: its JSON text, parsed later, in parallel, or the
/// JSON value a CSV row was read into.
pub enum Body {
    Json(String),
    Value(Value),
}

pub struct Item {
    pub line: usize,
    pub body: Result<Body, RecordError>,
    /// For a record that could not be read: what could be, so that its error record still
    /// names the organisation.
    pub salvaged: Salvaged,
}

/// The id and name of a record that could not be read whole, when their cells could be, and
/// its owners when they could be read intact (so that its ownership group still knows it).
#[derive(Debug, Clone, Default)]
pub struct Salvaged {
    pub id: Option<String>,
    pub name: Option<String>,
    pub owners: Option<Vec<crate::facts::Owner>>,
}

/// The owners of a record whose facts are not valid, from its `owners` field, when they can be
/// read as the facts schema states them (absent is none): its ownership group counts it at
/// those holdings, with unknown figures.
pub fn readable_owners(owners: Option<&Value>) -> Option<Vec<crate::facts::Owner>> {
    match owners {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(owners) => serde_json::from_value(owners.clone()).ok(),
    }
}

impl Item {
    /// A record of a JSON Lines file as read: its text, or, when it is not UTF-8, the error
    /// and what could be salvaged of it.
    pub fn of_line(line: usize, bytes: &[u8]) -> Item {
        match std::str::from_utf8(bytes) {
            Ok(text) => Item::json(line, text.to_owned()),
            Err(_) => Item::not_text(line, bytes),
        }
    }

    fn json(line: usize, text: String) -> Item {
        Item {
            line,
            body: Ok(Body::Json(text)),
            salvaged: Salvaged::default(),
        }
    }

    /// A line that could not be decoded: the error, and what could be salvaged of it.
    fn not_text(line: usize, bytes: &[u8]) -> Item {
        Item {
            line,
            body: Err(not_utf8(line, bytes)),
            salvaged: salvage_json(bytes),
        }
    }

    /// The record in place of the line that could not be read; reading stops there.
    pub fn read_error(line: usize, e: &std::io::Error) -> Item {
        Item {
            line,
            body: Err(RecordError::new("read", line, None, e.to_string())),
            salvaged: Salvaged::default(),
        }
    }

    pub fn into_value(self) -> Result<Value, RecordError> {
        self.read_or_salvage().0
    }

    /// As [`Item::into_value`], with what could be salvaged to name the error record of a
    /// record that cannot be read (nothing for one that can): what the reader salvaged, or else
    /// the id and name the line's object gives before it breaks off or is followed by other
    /// text (`{…},` from an array cut into lines; see [`fields_before_break`]). Owners are not
    /// taken from such a line: the ownership pass, which reads the line as serde_json does,
    /// finds none, so it is in no ownership group.
    pub fn read_or_salvage(mut self) -> (Result<Value, RecordError>, Salvaged) {
        let salvaged = std::mem::take(&mut self.salvaged);
        match self.body {
            Ok(Body::Json(text)) => match super::parse_object(&text, self.line) {
                Err(e) if salvaged.id.is_none() && salvaged.name.is_none() => {
                    (Err(e), fields_before_break(&text))
                }
                read => (read, salvaged),
            },
            Ok(Body::Value(v)) => (Ok(v), salvaged),
            Err(e) => (Err(e), salvaged),
        }
    }

    /// What the ownership pass needs: the id, the owners' ids and whether enterprises outside
    /// the batch are declared. A record too broken to say gets an empty head; it becomes an
    /// error record when it is validated.
    pub fn head(&self) -> Head {
        match &self.body {
            Ok(Body::Json(text)) => Head::of_json(text),
            Ok(Body::Value(v)) => Head::of_value(v),
            Err(_) => self.salvaged.head(),
        }
    }
}

impl Salvaged {
    /// What the ownership pass takes from a record that could not be read.
    fn head(&self) -> Head {
        Head {
            id: self.id.clone(),
            owners: (self.owners.iter().flatten())
                .map(|o| o.id.to_string())
                .collect(),
            ..Head::default()
        }
    }
}

/// A portfolio that can be read, chunk by chunk, as often as needed.
pub struct Input {
    source: Source,
    pub format: Format,
    encoding: Encoding,
    /// The CSV or spreadsheet columns, for warnings about unknown ones.
    layout: Option<Layout>,
    /// SHA-256 of standard input, taken while it was spooled (a shard's receipt names its
    /// input by it); a file is hashed from its path when needed.
    standard_input_sha256: Option<String>,
    /// What the file's metadata said when it was opened, for a file read as it lies (not
    /// copied, not read whole).
    stamp: Option<Stamp>,
}

/// What a file's metadata says of its content: its length, when it was last written, and (on
/// Unix) which file it is. A file saved again, or replaced by another, between assay's two
/// readings of it changes one of them even when it keeps its number of records, which is all
/// the readings themselves can compare.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    file: (u64, u64),
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            file: {
                use std::os::unix::fs::MetadataExt;
                (m.dev(), m.ino())
            },
        })
    }
}

enum Source {
    File(PathBuf),
    /// Standard input, copied to a file that is removed when the input is dropped.
    Spooled(Spool),
    Memory(Vec<Kept>),
}

/// A record of input read whole (a workbook's row, an object of a JSON array, a portfolio
/// given in memory), kept as its JSON text until it is assessed: about 470 bytes for a
/// generated organisation, where its parsed value, copied once more for each reading, took
/// some 7 KB. The text goes the short way of validation, as a JSON line does.
struct Kept {
    line: usize,
    text: Result<String, RecordError>,
    /// For a record that could not be read: what could be, to name its error record.
    salvaged: Salvaged,
}

/// `record` as [`Kept`], its value written back as the JSON it was read from (serde_json reads
/// the text back to the same value: keys in their order, numbers to the same bits).
fn kept(record: Record) -> Kept {
    Kept {
        line: record.line,
        text: record.value.map(|v| v.to_string()),
        salvaged: Salvaged::default(),
    }
}

/// An object of a JSON array as [`Kept`], from its text in the array: one that cannot be read
/// keeps the id and name written before the place where it breaks.
fn kept_item(record: Record, item: &str) -> Kept {
    let salvaged = match &record.value {
        Ok(_) => Salvaged::default(),
        Err(_) => fields_before_break(item),
    };
    Kept {
        salvaged,
        ..kept(record)
    }
}

/// What kind of file a portfolio path names, where that changes how it is read.
#[derive(PartialEq)]
enum FileKind {
    /// A named pipe (`mkfifo`, or `/dev/stdin` fed by a pipe): read once, as standard input
    /// is, and copied. assay reads its input more than once (the ownership pass, the assessing
    /// pass, the group report), and opening a pipe a second time waits for a writer that never
    /// comes (finding: `assay assess pipe.jsonl` hung for good once the first reading was done).
    Pipe,
    /// A device (`/dev/zero`, a terminal, a disk), which no portfolio is: one such as
    /// `/dev/zero` never ends, and its first pass would never finish (a finding of a helper's
    /// hostile-input check).
    Device,
    /// Anything else, read in place (or refused when it cannot be opened).
    Other,
}

fn file_kind(path: &Path) -> FileKind {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata(path).map(|m| m.file_type()) {
            Ok(kind) if kind.is_fifo() => FileKind::Pipe,
            Ok(kind) if kind.is_char_device() || kind.is_block_device() => FileKind::Device,
            _ => FileKind::Other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        FileKind::Other
    }
}

/// Standard input's copy: the client's whole portfolio, so an interrupt removes it too
/// ([`crate::interrupt`]); dropped, it is removed and forgotten in one step.
struct Spool(Option<tempfile::TempPath>);

impl std::ops::Deref for Spool {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(temp) = self.0.take() {
            let path = temp.to_path_buf();
            crate::interrupt::RUN.drop_scratch(&path, || drop(temp));
        }
    }
}

impl Input {
    /// Opens `path` (`-` for standard input) in `format`, or the format its name or its first
    /// bytes suggest.
    pub fn open(
        path: &str,
        format: Option<Format>,
        mapping: Option<&ColumnMap>,
        encoding: Encoding,
    ) -> Result<Input, String> {
        Input::open_with(path, std::io::stdin(), format, mapping, encoding)
    }

    /// As [`Input::open`], with `standard_input` read in place of standard input for `-`:
    /// `assay report` reads standard input first to tell assessments from a portfolio, and
    /// hands a portfolio's bytes on here, to be read as `assay assess` reads them.
    pub fn open_with(
        path: &str,
        standard_input: impl Read,
        format: Option<Format>,
        mapping: Option<&ColumnMap>,
        encoding: Encoding,
    ) -> Result<Input, String> {
        let mut standard_input_sha256 = None;
        let kind = match path {
            "-" => FileKind::Other,
            _ => file_kind(Path::new(path)),
        };
        if kind == FileKind::Device {
            return Err(format!(
                "`{path}` is a device, not a portfolio file: give the file the portfolio is in, \
                 or `-` to read it from standard input"
            ));
        }
        let pipe = kind == FileKind::Pipe;
        let source = if path == "-" || pipe {
            let (name, reader): (String, Box<dyn Read + '_>) = if pipe {
                let file = File::open(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
                (format!("`{path}`"), Box::new(file))
            } else {
                ("standard input".to_string(), Box::new(standard_input))
            };
            // The copy is the client's whole portfolio: an interrupt removes it too.
            let (mut file, spool) = crate::interrupt::RUN
                .scratch(|| {
                    let (file, temp) = tempfile::NamedTempFile::new()?.into_parts();
                    let path = temp.to_path_buf();
                    Ok::<_, std::io::Error>(((file, Spool(Some(temp))), path))
                })
                .map_err(|e| format!("cannot spool {name} to a temporary file: {e}"))?;
            let mut stdin = crate::shard::Fingerprinted::new(reader);
            std::io::copy(&mut stdin, &mut file).map_err(|e| format!("cannot read {name}: {e}"))?;
            standard_input_sha256 = Some(stdin.sha256());
            Source::Spooled(spool)
        } else {
            Source::File(PathBuf::from(path))
        };
        let file_path: &Path = match &source {
            Source::File(p) => p,
            Source::Spooled(p) => p,
            Source::Memory(_) => unreachable!("not built yet"),
        };
        let format = match format.or_else(|| Format::from_path(path)) {
            Some(f) => f,
            None => File::open(file_path)
                .and_then(|file| Format::sniff_reader(BufReader::new(file)))
                .map_err(|e| format!("cannot read `{path}`: {e}"))?,
        };
        let stamp = match &source {
            Source::File(p) => Stamp::of(p),
            _ => None,
        };
        let mut input = Input {
            source,
            format,
            encoding,
            layout: None,
            standard_input_sha256,
            stamp,
        };
        match format {
            Format::Xlsx => {
                // Each row is kept as text as soon as it is read: the sheet's values are never
                // all held at once.
                let (records, layout) = super::xlsx::read(input.path(), mapping, kept)?;
                if let Some(problem) = layout.repeated_column() {
                    return Err(format!("the header row of `{path}`: {problem}"));
                }
                input.layout = Some(layout);
                input.source = Source::Memory(records);
            }
            Format::Json => {
                let bytes = std::fs::read(input.path())
                    .map_err(|e| format!("cannot read `{path}`: {e}"))?;
                let text = decode_whole(&bytes, encoding).map_err(|e| format!("`{path}`: {e}"))?;
                let records = super::read_json_array(super::strip_bom(&text), kept_item);
                input.source = Source::Memory(records);
            }
            Format::Csv => {
                let mut reader = BufReader::new(
                    File::open(input.path()).map_err(|e| format!("cannot read `{path}`: {e}"))?,
                );
                let mut header = Vec::new();
                reader
                    .read_until(b'\n', &mut header)
                    .map_err(|e| format!("cannot read `{path}`: {e}"))?;
                let header = decode(strip_bom(&header), encoding).map_err(|_| {
                    format!("the header line of `{path}` is not UTF-8 text; {UTF8_FIX}")
                })?;
                let layout = Layout::from_header(&header, mapping);
                if let Some(problem) = layout.repeated_column() {
                    return Err(format!("the header line of `{path}`: {problem}"));
                }
                input.layout = Some(layout);
            }
            // A directory opens but cannot be read: refused here, as the other formats refuse
            // it, rather than read as records (the metadata only: a pipe's bytes stay unread).
            Format::Jsonl => {
                if std::fs::metadata(input.path()).is_ok_and(|m| m.is_dir()) {
                    return Err(format!("cannot read `{path}`: it is a directory"));
                }
            }
        }
        Ok(input)
    }

    /// A portfolio already in memory (tests, benches, the library API).
    pub fn from_text(text: &str, format: Format) -> Input {
        let layout = (format == Format::Csv).then(|| {
            let text = super::strip_bom(text);
            Layout::from_header(text.lines().next().unwrap_or(""), None)
        });
        Input {
            source: Source::Memory(super::read(text, format).into_iter().map(kept).collect()),
            format,
            encoding: Encoding::Utf8,
            layout,
            standard_input_sha256: None,
            stamp: None,
        }
    }

    /// Whether the file still lies as it did when it was opened: its length, the time it was
    /// last written and (on Unix) which file it is ([`Stamp`]). Always so for input copied or
    /// read whole when it was opened.
    pub fn unchanged(&self) -> bool {
        match (&self.stamp, &self.source) {
            (Some(stamp), Source::File(p)) => Stamp::of(p).as_ref() == Some(stamp),
            _ => true,
        }
    }

    /// The input, named for a message: its path in backticks, or standard input.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::File(p) => format!("`{}`", p.display()),
            Source::Spooled(_) => "standard input".to_string(),
            Source::Memory(_) => "the input".to_string(),
        }
    }

    fn path(&self) -> &Path {
        match &self.source {
            Source::File(p) => p,
            Source::Spooled(p) => p,
            Source::Memory(_) => Path::new(""),
        }
    }

    /// The first line two records share, for input read whole (a JSON array may hold several
    /// objects on one line, all of which carry that line).
    pub fn shared_line(&self) -> Option<usize> {
        match &self.source {
            Source::Memory(records) => (records.windows(2))
                .find(|pair| pair[0].line == pair[1].line)
                .map(|pair| pair[0].line),
            _ => None,
        }
    }

    /// SHA-256 of the bytes read from standard input, when the input was `-`.
    pub fn standard_input_sha256(&self) -> Option<&str> {
        self.standard_input_sha256.as_deref()
    }

    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref()
    }

    /// Every record, read whole into memory (for reports that need the whole portfolio).
    pub fn records(&self) -> Result<Vec<Record>, String> {
        let mut items = self.items()?;
        let mut records = Vec::new();
        loop {
            let chunk = items.next_chunk(4096);
            if chunk.is_empty() {
                return Ok(records);
            }
            records.extend(chunk.into_iter().map(|item| Record {
                line: item.line,
                value: item.into_value(),
            }));
        }
    }

    /// Reads the records from the start.
    /// Reads the input a chunk of `chunk` records at a time on a thread of its own, one chunk
    /// ahead, and hands each chunk to `each` on the calling thread, so that reading overlaps the
    /// work on the chunk before. Stops at the end of the input, or at the first error of `each`.
    pub fn read_ahead<E>(
        &self,
        chunk: usize,
        mut each: impl FnMut(Vec<Item>) -> Result<(), E>,
    ) -> Result<Result<(), E>, String> {
        let mut items = self.items()?;
        Ok(std::thread::scope(|s| {
            let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Item>>(1);
            s.spawn(move || loop {
                let items = items.next_chunk(chunk);
                if items.is_empty() || send.send(items).is_err() {
                    break;
                }
            });
            receive.into_iter().try_for_each(&mut each)
        }))
    }

    /// For a JSON Lines file in UTF-8, its lines in blocks of about `size` bytes (see
    /// [`LineBlocks`]); `None` for any other input.
    pub fn line_blocks(&self, size: usize) -> Result<Option<LineBlocks>, String> {
        if self.format != Format::Jsonl || self.encoding != Encoding::Utf8 {
            return Ok(None);
        }
        if let Source::Memory(_) = self.source {
            return Ok(None);
        }
        let file = File::open(self.path())
            .map_err(|e| format!("cannot read `{}`: {e}", self.path().display()))?;
        Ok(Some(LineBlocks::new(file, size)))
    }

    pub fn items(&self) -> Result<Box<dyn Chunks + Send + '_>, String> {
        let open = || {
            File::open(self.path())
                .map(|f| BufReader::with_capacity(1 << 16, f))
                .map_err(|e| format!("cannot read `{}`: {e}", self.path().display()))
        };
        Ok(match (&self.source, self.format) {
            (Source::Memory(records), _) => Box::new(MemoryChunks { records, next: 0 }),
            (_, Format::Csv) => {
                let mut reader = open()?;
                // The header was read when the input was opened.
                let mut header = Vec::new();
                reader
                    .read_until(b'\n', &mut header)
                    .map_err(|e| e.to_string())?;
                Box::new(CsvChunks {
                    reader,
                    layout: self
                        .layout
                        .clone()
                        .unwrap_or_else(|| Layout::from_header("", None)),
                    encoding: self.encoding,
                    line: 2,
                    buf: Vec::new(),
                    eof: false,
                })
            }
            _ => Box::new(JsonlChunks {
                reader: open()?,
                encoding: self.encoding,
                line: 0,
                expected: 0,
                failed: false,
            }),
        })
    }
}

/// Records, a chunk at a time; an empty chunk means the end.
pub trait Chunks {
    fn next_chunk(&mut self, max: usize) -> Vec<Item>;
}

struct MemoryChunks<'a> {
    records: &'a [Kept],
    next: usize,
}

impl Chunks for MemoryChunks<'_> {
    fn next_chunk(&mut self, max: usize) -> Vec<Item> {
        let end = (self.next + max).min(self.records.len());
        let chunk = self.records[self.next..end]
            .iter()
            .map(|r| Item {
                line: r.line,
                body: r.text.clone().map(Body::Json),
                salvaged: r.salvaged.clone(),
            })
            .collect();
        self.next = end;
        chunk
    }
}

/// The id and name of a JSON object that cannot be read whole, as far as it can be read: those
/// of an object followed by other text (`{…},` from an array cut into lines), or those written
/// before the place where the object breaks (`{"id": "acme-1", "employees": }`). Only the
/// object's own fields count, not those of objects inside it; a field given twice counts as
/// serde_json reads it, the last time.
pub(crate) fn fields_before_break(text: &str) -> Salvaged {
    /// Notes the object's `id` and `name` as they are read; whatever stops the reading, what
    /// was noted stays.
    struct Noted<'a>(&'a mut Salvaged);

    impl<'de> serde::de::Visitor<'de> for Noted<'_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<std::borrow::Cow<str>>()? {
                let field = match key.as_ref() {
                    "id" => &mut self.0.id,
                    "name" => &mut self.0.name,
                    _ => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    }
                };
                *field = intact(map.next_value::<Value>()?);
            }
            Ok(())
        }
    }

    let mut salvaged = Salvaged::default();
    let mut de = serde_json::Deserializer::from_str(text);
    // An error is where the object breaks: what was read before it is kept.
    let _ = serde::Deserializer::deserialize_map(&mut de, Noted(&mut salvaged));
    salvaged
}

/// A salvaged text field, unless a replacement character stands in it (a byte that could not
/// be read): a name cut that way would name the wrong organisation.
fn intact(value: Value) -> Option<String> {
    match value {
        Value::String(s) if !s.contains(char::REPLACEMENT_CHARACTER) => Some(s),
        _ => None,
    }
}

/// The id and name of a JSON line that is not UTF-8, when they can be read with the rest of
/// the line replaced and are themselves intact, so that its error record names the
/// organisation (as a CSV row's does); of a line that is not JSON either, those written
/// before it breaks.
fn salvage_json(bytes: &[u8]) -> Salvaged {
    let text = String::from_utf8_lossy(bytes);
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&text) else {
        return fields_before_break(&text);
    };
    let owners = readable_owners(fields.get("owners")).filter(|owners| {
        owners
            .iter()
            .all(|o| !o.id.contains(char::REPLACEMENT_CHARACTER))
    });
    Salvaged {
        id: fields.get("id").cloned().and_then(intact),
        name: fields.get("name").cloned().and_then(intact),
        owners,
    }
}

const UTF8_FIX: &str = "save the file as UTF-8, or pass `--encoding windows-1252` if Excel \
                        saved it as CSV on Windows";

fn not_utf8(line: usize, bytes: &[u8]) -> RecordError {
    let at = std::str::from_utf8(bytes)
        .err()
        .map(|e| e.valid_up_to() + 1)
        .unwrap_or(0);
    RecordError::new(
        "read",
        line,
        None,
        format!("this line is not UTF-8 text (byte {at} of the line); {UTF8_FIX}"),
    )
}

fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, ()> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes).map(String::from).map_err(drop),
        Encoding::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text.into_owned())
        }
    }
}

fn decode_whole(bytes: &[u8], encoding: Encoding) -> Result<String, String> {
    decode(bytes, encoding).map_err(|()| format!("the file is not UTF-8 text; {UTF8_FIX}"))
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

struct JsonlChunks {
    reader: BufReader<File>,
    encoding: Encoding,
    line: usize,
    /// Room to give the next line: the last one's length and a little more.
    expected: usize,
    /// Set once the file could not be read further: its error record was the last record.
    failed: bool,
}

impl Chunks for JsonlChunks {
    fn next_chunk(&mut self, max: usize) -> Vec<Item> {
        let mut chunk = Vec::with_capacity(max);
        if self.failed {
            return chunk;
        }
        while chunk.len() < max {
            // Each line is read into a buffer of its own, which becomes the record's text
            // without another copy; lines of a file are much alike, so the last one's length
            // (within bounds: one long line must not make every buffer long) is the room given.
            let mut bytes = Vec::with_capacity(self.expected);
            match read_line(&mut self.reader, &mut bytes) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    self.line += 1;
                    chunk.push(Item::read_error(self.line, &e));
                    self.failed = true;
                    break;
                }
            }
            self.expected = (bytes.len() + 64).min(16 * 1024);
            self.line += 1;
            let Some(record) = record_range(&bytes, self.line == 1) else {
                continue;
            };
            bytes.truncate(record.end);
            bytes.drain(..record.start);
            // The text is kept until its chunk leaves: a line much shorter than the room it was
            // given (after a long one) gives the room back.
            if bytes.capacity() > 2 * bytes.len() + 1024 {
                bytes.shrink_to_fit();
            }
            chunk.push(match self.encoding {
                Encoding::Utf8 => match String::from_utf8(bytes) {
                    Ok(text) => Item::json(self.line, text),
                    Err(e) => Item::not_text(self.line, e.as_bytes()),
                },
                encoding => match decode(&bytes, encoding) {
                    Ok(text) => Item::json(self.line, text),
                    Err(()) => Item::not_text(self.line, &bytes),
                },
            });
        }
        chunk
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where a record's text is in a line of JSON Lines as read (its `\n` included, if it has one):
/// without the line end (`\n`, then one `\r`) and, on the file's first line, the byte-order
/// mark. `None` for a blank line, which is no record.
fn record_range(line: &[u8], first: bool) -> Option<std::ops::Range<usize>> {
    let start = if first && line.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let mut end = line.len();
    for b in [b'\n', b'\r'] {
        if end > start && line[end - 1] == b {
            end -= 1;
        }
    }
    let record = start..end;
    (!line[record.clone()].iter().all(u8::is_ascii_whitespace)).then_some(record)
}

/// A JSON Lines file in UTF-8 read for the ownership pass in blocks of whole lines: the pass
/// needs only each record's [`Head`], which workers find in a block without a buffer for each
/// line.
pub struct LineBlocks {
    file: File,
    size: usize,
    /// The start of a line the last block did not end with.
    carry: Vec<u8>,
    first: bool,
    done: bool,
}

/// Whole lines of a JSON Lines file.
pub struct Block {
    bytes: Vec<u8>,
    /// Whether it starts the file (where a byte-order mark may be).
    first: bool,
}

impl LineBlocks {
    /// Blocks of about `size` bytes; a line longer than that makes its block longer.
    fn new(file: File, size: usize) -> LineBlocks {
        LineBlocks {
            file,
            size: size.max(1),
            carry: Vec::new(),
            first: true,
            done: false,
        }
    }

    /// The next block, read into `spare` (the buffer of a block done with) when there is one;
    /// `None` at the end of the file.
    fn next_block(&mut self, spare: Option<Vec<u8>>) -> std::io::Result<Option<Block>> {
        if self.done {
            return Ok(None);
        }
        let mut bytes = spare.unwrap_or_default();
        bytes.clear();
        bytes.extend_from_slice(&self.carry);
        bytes.reserve(self.size.saturating_sub(bytes.len()));
        // Bytes already searched for a line end, in vain.
        let mut searched = 0;
        loop {
            // At least doubling, so that a long line is read in few steps.
            let room = (self.size.saturating_sub(bytes.len()))
                .max(bytes.len())
                .max(4096);
            let read = (&mut self.file).take(room as u64).read_to_end(&mut bytes)?;
            if read == 0 {
                self.done = true;
                break;
            }
            if bytes.len() >= self.size {
                if let Some(i) = memchr::memrchr(b'\n', &bytes[searched..]) {
                    let end = searched + i + 1;
                    self.carry.clear();
                    self.carry.extend_from_slice(&bytes[end..]);
                    bytes.truncate(end);
                    break;
                }
                searched = bytes.len();
            }
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        let first = std::mem::replace(&mut self.first, false);
        Ok(Some(Block { bytes, first }))
    }

    /// Reads the blocks on a thread of its own, one ahead of `each`. Three buffers go round:
    /// the one being read into, the one read ahead and the one `each` has; a buffer is freed
    /// only by the reader, which allocated it (freed on another thread, the allocator would
    /// not give its memory back to the reader soon enough, and the reader would take more).
    ///
    /// `each` may stop the reading with an error of its own, which is returned inside; an error
    /// reading the file stops it too, and is returned outside.
    pub fn read_ahead<E>(
        mut self,
        mut each: impl FnMut(&Block) -> Result<(), E>,
    ) -> std::io::Result<Result<(), E>> {
        const BUFFERS: usize = 3;
        std::thread::scope(|s| {
            let (send, receive) = std::sync::mpsc::sync_channel::<std::io::Result<Block>>(1);
            let (give_back, spares) = std::sync::mpsc::sync_channel::<Vec<u8>>(BUFFERS);
            s.spawn(move || {
                let mut made = 0;
                loop {
                    let spare = if made < BUFFERS {
                        spares.try_recv().ok()
                    } else {
                        spares.recv().ok()
                    };
                    made += usize::from(spare.is_none());
                    let block = self.next_block(spare).transpose();
                    let end = !matches!(block, Some(Ok(_)));
                    if block.is_none_or(|b| send.send(b).is_err()) || end {
                        break;
                    }
                }
                // The buffers still out are freed here, on the reader's thread.
                drop(send);
                spares.iter().for_each(drop);
            });
            let mut result = Ok(Ok(()));
            for block in &receive {
                match block {
                    Ok(block) => {
                        let done = each(&block);
                        let _ = give_back.send(block.bytes);
                        if done.is_err() {
                            result = Ok(done);
                            break;
                        }
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            // The reader stops at its next send, and frees its buffers.
            drop(receive);
            drop(give_back);
            result
        })
    }
}

impl Block {
    /// The records' bytes, in order, as [`JsonlChunks`] finds them, each with its line number
    /// (the block's first line is `first_line`); and how many lines the block holds, blank
    /// ones included.
    pub fn records(&self, first_line: usize) -> (Vec<(usize, &[u8])>, usize) {
        let mut records = Vec::with_capacity(self.bytes.len() / 256 + 1);
        let mut start = 0;
        let mut line = first_line;
        while start < self.bytes.len() {
            let end = memchr::memchr(b'\n', &self.bytes[start..])
                .map_or(self.bytes.len(), |i| start + i + 1);
            let bytes = &self.bytes[start..end];
            if let Some(record) = record_range(bytes, self.first && start == 0) {
                records.push((line, &bytes[record]));
            }
            line += 1;
            start = end;
        }
        (records, line - first_line)
    }
}

/// The head of a record of a [`Block`] that the plain reading ([`super::head::plain`]) left:
/// read by serde_json from its text, or, when it is not UTF-8, salvaged from its bytes as
/// [`JsonlChunks`] salvages them.
pub fn head_by_serde(record: &[u8]) -> Head {
    match std::str::from_utf8(record) {
        Ok(text) => super::head::by_serde(text),
        Err(_) => salvage_json(record).head(),
    }
}

/// Appends the next line of `reader`, its `\n` included, to `out`; the bytes read, 0 at the
/// end. As [`BufRead::read_until`], with the memchr crate's vectorised search for the line's
/// end: the reader thread goes through every byte of the file, once in each pass.
fn read_line(reader: &mut impl BufRead, out: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let (found, used) = {
            let available = match reader.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            match memchr::memchr(b'\n', available) {
                Some(i) => {
                    out.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    out.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        reader.consume(used);
        read += used;
        if found {
            return Ok(read);
        }
    }
}

/// CSV rows, read in blocks of whole lines that end outside quotes, each block parsed by the
/// CSV reader of [`super::csv`]. A block that never closes a quote is cut after many lines, so
/// one stray quote cannot make the reader hold the whole file.
struct CsvChunks {
    reader: BufReader<File>,
    layout: Layout,
    encoding: Encoding,
    /// The line number of the next line to read.
    line: usize,
    buf: Vec<u8>,
    eof: bool,
}

/// A block left with an open quote is cut after this many times the chunk size in lines.
const OPEN_QUOTE_LIMIT: usize = 16;

impl Chunks for CsvChunks {
    fn next_chunk(&mut self, max: usize) -> Vec<Item> {
        // A block of blank lines yields nothing; only the end of the file may.
        loop {
            let chunk = self.block(max);
            if !chunk.is_empty() || self.eof {
                return chunk;
            }
        }
    }
}

impl CsvChunks {
    fn block(&mut self, max: usize) -> Vec<Item> {
        let mut chunk = Vec::new();
        let mut block = String::new();
        let mut block_line = self.line;
        let mut lines = 0;
        let mut open_quote = false;
        loop {
            if (lines >= max && !open_quote) || lines >= max * OPEN_QUOTE_LIMIT {
                break;
            }
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    self.eof = true;
                    chunk.push(Item {
                        line: self.line,
                        body: Err(RecordError::new("read", self.line, None, e.to_string())),
                        salvaged: Salvaged::default(),
                    });
                    break;
                }
            }
            let text = match decode(&self.buf, self.encoding) {
                Ok(text) => text,
                Err(()) => {
                    // Rows before this line are parsed first, so the output keeps input order.
                    flush(&self.layout, &mut block, block_line, &mut chunk);
                    chunk.push(Item {
                        line: self.line,
                        body: Err(not_utf8(self.line, &self.buf)),
                        salvaged: self.layout.salvage(&self.buf),
                    });
                    self.line += 1;
                    lines += 1;
                    block_line = self.line;
                    open_quote = false;
                    continue;
                }
            };
            let text = if text.contains('\r') {
                text.replace("\r\n", "\n").replace('\r', "\n")
            } else {
                text
            };
            let count = text.matches('\n').count().max(1);
            if text.matches('"').count() % 2 == 1 {
                open_quote = !open_quote;
            }
            block.push_str(&text);
            if !text.ends_with('\n') {
                block.push('\n');
            }
            self.line += count;
            lines += count;
        }
        flush(&self.layout, &mut block, block_line, &mut chunk);
        chunk
    }
}

fn flush(layout: &Layout, block: &mut String, first_line: usize, chunk: &mut Vec<Item>) {
    if block.is_empty() {
        return;
    }
    // A row leaves this thread as its JSON text, for the short way of validation: a value's
    // dozens of blocks freed by the workers that assess it made this thread's allocator collect
    // them, on every row. The rows of a file with columns of its own take the long way, which
    // needs the value: writing it out here and reading it back there would only add to this
    // thread's work (40,000 rows with 1,000 extra columns: 13.0 s as values, 20.8 s as text).
    let own_fields = layout.has_unknown_columns();
    let body = |v: Value| {
        if own_fields {
            Body::Value(v)
        } else {
            Body::Json(v.to_string())
        }
    };
    for r in super::csv::read_block(layout, block, first_line) {
        // A broken row still names its organisation when its id can be read safely.
        let salvaged = match &r.value {
            Err(_) => block
                .lines()
                .nth(r.line - first_line)
                .map(|row| layout.salvage_broken(row.as_bytes()))
                .unwrap_or_default(),
            Ok(_) => Salvaged::default(),
        };
        chunk.push(Item {
            line: r.line,
            body: r.value.map(body),
            salvaged,
        });
    }
    block.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON Lines reader gives each record its text and its line in the file (DESIGN.md
    /// "Behaviour on bad input": an error record names its source line): a byte order mark
    /// before the first line (RFC 8259 §8.1), `\r\n` endings, blank and white lines (skipped,
    /// still counted), a last line without its newline, and a line that is not UTF-8 (an error
    /// record, its line counted). Lines run across the reader's 64 KB buffer too.
    #[test]
    fn json_lines_keep_their_text_and_line_numbers() {
        let long = format!("{{\"id\":\"long\",\"name\":\"{}\"}}", "x".repeat(70_000));
        let mut file: Vec<u8> = Vec::new();
        file.extend_from_slice(b"\xEF\xBB\xBF{\"id\":\"a\"}\r\n");
        file.extend_from_slice(b"\n   \t\r\n");
        file.extend_from_slice(b"{\"id\":\"b\"}\n");
        file.extend_from_slice(b"{\"id\":\"\xDF\"}\n");
        file.extend_from_slice(long.as_bytes());
        file.extend_from_slice(b"\n{\"id\":\"c\"}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.jsonl");
        std::fs::write(&path, &file).unwrap();
        let input = Input::open(path.to_str().unwrap(), None, None, Encoding::Utf8).unwrap();
        let items = input.items().unwrap().next_chunk(100);
        let read: Vec<(usize, Option<&str>)> = items
            .iter()
            .map(|i| match &i.body {
                Ok(Body::Json(text)) => (i.line, Some(text.as_str())),
                _ => (i.line, None),
            })
            .collect();
        assert_eq!(
            read,
            [
                (1, Some("{\"id\":\"a\"}")),
                (4, Some("{\"id\":\"b\"}")),
                (5, None),
                (6, Some(long.as_str())),
                (7, Some("{\"id\":\"c\"}")),
            ]
        );
    }

    /// What the reader makes of a file's lines, as in the test above.
    fn lines_of(file: &[u8], encoding: Encoding) -> Vec<(usize, Option<String>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.jsonl");
        std::fs::write(&path, file).unwrap();
        let input = Input::open(path.to_str().unwrap(), None, None, encoding).unwrap();
        let mut items = input.items().unwrap();
        let mut read = Vec::new();
        loop {
            let chunk = items.next_chunk(3);
            if chunk.is_empty() {
                return read;
            }
            read.extend(chunk.into_iter().map(|i| match i.body {
                Ok(Body::Json(text)) => (i.line, Some(text)),
                _ => (i.line, None),
            }));
        }
    }

    /// Line ends as the reader before `read_line` took them (`git show 2321d09`): one `\n`,
    /// then one `\r`, cut from each line; a line of white space, `\r` alone included, is
    /// skipped and counted; a byte order mark is cut from the first line only, even when
    /// nothing follows it (RFC 8259 §8.1: a parser MAY ignore one), and left to the JSON
    /// parser on any other line; `--encoding windows-1252` reads each line's bytes as that
    /// code page (0xE9 is `é`).
    #[test]
    fn json_lines_end_where_they_ended_before() {
        let s = |t: &str| Some(t.to_string());
        let file = b"\xEF\xBB\xBF\n\r\n\r\n\r{\"id\":\"a\"}\r\r\n\xEF\xBB\xBF{}\n\r";
        assert_eq!(
            lines_of(file, Encoding::Utf8),
            [(4, s("\r{\"id\":\"a\"}\r")), (5, s("\u{feff}{}"))]
        );
        let file = b"\xEF\xBB\xBF{\"name\":\"Caf\xE9\"}\r\n\n{\"id\":\"\x80\"}";
        assert_eq!(
            lines_of(file, Encoding::Windows1252),
            [(1, s("{\"name\":\"Café\"}")), (3, s("{\"id\":\"€\"}"))]
        );
        assert_eq!(lines_of(b"", Encoding::Utf8), []);
        assert_eq!(lines_of(b"\xEF\xBB\xBF", Encoding::Utf8), []);
    }

    /// A source that hands out its bytes a few at a time, is interrupted now and then, and
    /// fails for good at `fail_at`, if given.
    struct Stuttering {
        bytes: Vec<u8>,
        at: usize,
        step: u64,
        fail_at: Option<usize>,
    }

    impl std::io::Read for Stuttering {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            // A linear congruential generator (Knuth, MMIX): the same stutter every run.
            self.step = self.step.wrapping_mul(6364136223846793005).wrapping_add(1);
            let roll = (self.step >> 33) as usize;
            if roll % 5 == 0 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            if self.fail_at.is_some_and(|f| self.at >= f) {
                self.fail_at = None;
                return Err(std::io::Error::other("the disk went away"));
            }
            let end = (self.bytes.len())
                .min(self.at + 1 + roll % 7)
                .min(self.at + buf.len())
                .min(self.fail_at.unwrap_or(usize::MAX).max(self.at + 1));
            let n = end - self.at;
            buf[..n].copy_from_slice(&self.bytes[self.at..end]);
            self.at = end;
            Ok(n)
        }
    }

    /// `read_line` gives the lines, the byte counts and the errors that std's
    /// `BufRead::read_until(b'\n', …)` gives (the function it stands in for), whatever the
    /// reader's buffer size, across short and interrupted reads and a read that fails
    /// mid-line, after which both go on from the same byte.
    #[test]
    fn read_line_reads_what_read_until_reads() {
        let mut step = 1u64;
        for case in 0..200 {
            let mut bytes = Vec::new();
            for _ in 0..(case * 3) {
                step = step.wrapping_mul(6364136223846793005).wrapping_add(1);
                bytes.push(match (step >> 40) % 6 {
                    0 => b'\n',
                    1 => b'\r',
                    _ => (step >> 48) as u8,
                });
            }
            let fail_at = (case % 3 == 0).then_some(case);
            let source = |seed| Stuttering {
                bytes: bytes.clone(),
                at: 0,
                step: seed,
                fail_at,
            };
            let capacity = 1 + case % 9;
            let mut ours = BufReader::with_capacity(capacity, source(case as u64));
            let mut std = BufReader::with_capacity(capacity, source(case as u64 + 7));
            loop {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let x = read_line(&mut ours, &mut a).map_err(|e| e.to_string());
                let y = std.read_until(b'\n', &mut b).map_err(|e| e.to_string());
                // On an error each keeps what it read before it; the next line starts after.
                if x.is_ok() {
                    assert_eq!((&x, &a), (&y, &b), "case {case}");
                } else {
                    assert_eq!(x, y, "case {case}");
                }
                if x == Ok(0) {
                    break;
                }
            }
        }
    }

    /// A record read whole is kept as text and read again from it ([`kept`]): the value read
    /// again must be the value read, keys in their order and every number to the same bits,
    /// or a workbook's figure could cross a threshold (NIS2 Art. 3; Rec. 2003/361/EC Art. 2)
    /// on its way.
    #[test]
    fn a_record_kept_as_text_reads_back_to_the_same_value() {
        let figures: [f64; 7] = [0.1, 49_999_999.99, 50_000_000.0, 1e300, -0.0, 5e-324, 249.5];
        let mut object = serde_json::Map::new();
        object.insert("id".into(), Value::from("Ünïcode \"quoted\" \\ \n\t\u{1}"));
        for (i, f) in figures.iter().enumerate() {
            object.insert(format!("f{i}"), Value::from(*f));
        }
        object.insert("max".into(), Value::from(u64::MAX));
        object.insert("min".into(), Value::from(i64::MIN));
        object.insert("a_last_key_first".into(), Value::Null);
        let value = Value::Object(object);
        let Kept { line, text, .. } = kept(Record {
            line: 7,
            value: Ok(value.clone()),
        });
        let again = crate::read::parse_object(&text.expect("a value"), line).expect("an object");
        assert_eq!(line, 7);
        assert_eq!(again, value);
        let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        assert_eq!(keys(&again), keys(&value));
        for (i, f) in figures.iter().enumerate() {
            let read = again[format!("f{i}")].as_f64().expect("a number");
            assert_eq!(read.to_bits(), f.to_bits(), "{f}");
        }
        // And 20,000 doubles drawn from all bit patterns: serde_json reads a number back to the
        // double it was written from only when it rounds once (its `float_roundtrip`).
        for i in 0..20_000u64 {
            let f = f64::from_bits(crate::prescan::mix(i));
            if !f.is_finite() {
                continue;
            }
            let Kept { text, .. } = kept(Record {
                line: 1,
                value: Ok(serde_json::json!({ "employees": f })),
            });
            let again = crate::read::parse_object(&text.expect("a value"), 1).expect("an object");
            let read = again["employees"].as_f64().expect("a number");
            assert_eq!(read.to_bits(), f.to_bits(), "{f:e}");
        }
    }
}
