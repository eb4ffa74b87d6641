//! What the command line tells the person running it, on stderr: column warnings, a progress bar
//! when stderr is a terminal (nothing otherwise), and the summary table.

use assay::assessment::Classification;
use assay::pipeline::Totals;
use assay::read::columns::ColumnMap;
use assay::read::csv::Layout;
use assay::shard::Shard;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

pub fn column_warnings(layout: &Layout, mapping: Option<&ColumnMap>) {
    // Without a mapping, point to one; with one, the fix is an entry in it.
    let map_it = match mapping {
        None => " (or map it with --columns)",
        Some(_) => " (add it to the column mapping)",
    };
    for (column, hint) in layout.unknown_columns() {
        let hint = hint
            .map(|h| format!("; did you mean `{h}`?{map_it}"))
            .unwrap_or_default();
        let column = shown(&column);
        eprintln!("warning: column `{column}` is not a facts field and is not used{hint}");
    }
    if let Some(mapping) = mapping {
        for header in mapping.absent_from(layout.headers()) {
            let header = shown(&header);
            eprintln!("warning: the column mapping names `{header}`, which the file does not have");
        }
    }
}

/// A header as the terminal is shown it: control characters escaped (`\u{1b}`), so that the
/// bytes of a file that is not what it seems (a binary file read as CSV) cannot move the
/// cursor, recolour or retitle the terminal of the person running the command.
fn shown(header: &str) -> std::borrow::Cow<'_, str> {
    if !header.chars().any(char::is_control) {
        return header.into();
    }
    let escape = |c: char| match c.is_control() {
        true => c.escape_unicode().to_string(),
        false => c.to_string(),
    };
    header.chars().map(escape).collect::<String>().into()
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new() -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} organisations, {per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress(Some(bar))
    }

    pub fn set(&self, done: usize, total: usize) {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Counts per classification on stderr.
pub fn summary(totals: &Totals, shard: Option<Shard>) {
    let mut err = std::io::stderr().lock();
    let bold = std::io::stderr().is_terminal();
    let of_shard = shard
        .map(|s| format!(" (shard {s} of {} records)", totals.records))
        .unwrap_or_default();
    let _ = writeln!(
        err,
        "{}assessed {} {}{of_shard}{}",
        if bold { "\x1b[1m" } else { "" },
        totals.assessed,
        if totals.assessed == 1 {
            "record"
        } else {
            "records"
        },
        if bold { "\x1b[0m" } else { "" }
    );
    for (c, n) in Classification::ALL.iter().zip(totals.classifications) {
        let _ = writeln!(err, "  {:<18} {n:>8}", c.as_str());
    }
    let _ = writeln!(err, "  {:<18} {:>8}", "errors", totals.errors);
    if totals.errors > 0 {
        let _ = writeln!(
            err,
            "error records carry `errors` with the line, field and a fix"
        );
    }
}
