//! Errors, written for the person who has to fix them: a consultant with a spreadsheet or a
//! rule author with a pack. Each names where the problem is (record and field, or pack, file,
//! line and rule) and what would fix it.

use serde::Serialize;
use thiserror::Error;

/// A problem with a rule pack. Loading errors stop the run (exit code 2); evaluation errors fail
/// one record and the batch goes on.
#[derive(Debug, Clone, Error)]
pub enum PackError {
    #[error("cannot read `{path}`: {message}")]
    Io { path: String, message: String },
    #[error("pack `{pack}`: {message}")]
    Manifest { pack: String, message: String },
    #[error("pack `{pack}`, table `{file}` line {line}: {message}")]
    Table {
        pack: String,
        file: String,
        line: usize,
        message: String,
    },
    #[error("pack `{pack}`, {file}{}: {message}", at(*line, *column))]
    Script {
        pack: String,
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// `:line:column`, or nothing when the script engine gave no position.
fn at(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

/// A problem with one input record. It becomes the record's `errors` entry; the rest of the batch
/// is assessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordError {
    /// A stable code: `read`, `schema`, `unknown_id`, `inconsistent`, `group`, `rule`.
    pub code: &'static str,
    pub message: String,
    /// JSON pointer to the field, when one field is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Line of the record in its source (1-based; for CSV the header is line 1).
    pub line: usize,
}

impl RecordError {
    pub fn new(code: &'static str, line: usize, field: Option<String>, message: String) -> Self {
        RecordError {
            code,
            message,
            field,
            line,
        }
    }
}
