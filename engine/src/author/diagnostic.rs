//! A problem in a pack file, with its place, the source line and a hint, rendered by miette.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity};
use std::fmt;

/// One finding of `pack check`.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    /// Path of the file inside the pack (`scope.rhai`, `pack.json`).
    pub file: String,
    /// 1-based line and column; 0 when the problem is about the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The text of the file, for the source line.
    pub source: String,
}

impl Finding {
    pub fn error(file: &str, source: &str, at: (usize, usize), message: String) -> Finding {
        Finding {
            severity: Severity::Error,
            file: file.to_string(),
            line: at.0,
            column: at.1,
            message,
            hint: None,
            source: source.to_string(),
        }
    }

    pub fn warning(file: &str, source: &str, at: (usize, usize), message: String) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(file, source, at, message)
        }
    }

    pub fn hint(mut self, hint: Option<String>) -> Finding {
        self.hint = hint;
        self
    }

    /// `file:line:col`, or `file` when there is no position.
    pub fn place(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }

    /// Byte offset of the position in the source.
    fn offset(&self) -> Option<usize> {
        if self.line == 0 {
            return None;
        }
        let mut offset = 0;
        for (i, line) in self.source.split_inclusive('\n').enumerate() {
            if i + 1 == self.line {
                let col: usize = line
                    .char_indices()
                    .nth(self.column.saturating_sub(1))
                    .map(|(b, _)| b)
                    .unwrap_or(line.trim_end_matches('\n').len());
                return Some(offset + col);
            }
            offset += line.len();
        }
        // Past the last line: the end of the file (an unclosed block).
        (!self.source.is_empty()).then(|| self.source.trim_end().len().saturating_sub(1))
    }

    /// The finding drawn with miette: place, message, the source line with a marker, the hint.
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
        if handler.render_report(&mut out, self).is_err() {
            out = format!("{}: {}\n", self.place(), self.message);
        }
        out
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)
    }
}

impl std::error::Error for Finding {}

impl Diagnostic for Finding {
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.offset()
            .map(|_| &self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let offset = self.offset()?;
        let label = LabeledSpan::new(Some(self.place()), offset, 1);
        Some(Box::new(std::iter::once(label)))
    }
}
