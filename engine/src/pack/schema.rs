//! `schemas/pack.schema.json`: the manifest contract, checked with the jsonschema crate (no
//! network, the schema is embedded), and a way back from a JSON pointer to a line in the file.

use serde_json::Value;
use std::sync::OnceLock;

const PACK_SCHEMA: &str = include_str!("../../../schemas/pack.schema.json");

/// One way a manifest breaks the schema: where (a JSON pointer) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl Problem {
    /// The field in dotted form, or `the manifest` for the whole file.
    pub fn subject(&self) -> String {
        if self.pointer.is_empty() {
            "the manifest".into()
        } else {
            format!(
                "`{}`",
                self.pointer.trim_start_matches('/').replace('/', ".")
            )
        }
    }
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(PACK_SCHEMA)
            .unwrap_or_else(|e| unreachable!("shipped pack schema is JSON: {e}"));
        jsonschema::options()
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&schema)
            .unwrap_or_else(|e| unreachable!("shipped pack schema compiles: {e}"))
    })
}

/// Every way `manifest` breaks the pack schema, plus what the schema cannot say: the version
/// requirements of `depends` must parse as semver.
pub fn manifest_problems(manifest: &Value) -> Vec<Problem> {
    let mut problems: Vec<Problem> = validator()
        .iter_errors(manifest)
        .map(|e| {
            let pointer = e.instance_path().as_str().to_string();
            let message = match e.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    let known = known_fields(&pointer);
                    let hints: Vec<String> = unexpected
                        .iter()
                        .map(
                            |u| match crate::validate::did_you_mean(u, known.iter().copied()) {
                                Some(m) => {
                                    format!("`{u}` is not a manifest field; did you mean `{m}`?")
                                }
                                None => format!("`{u}` is not a manifest field"),
                            },
                        )
                        .collect();
                    hints.join("; ")
                }
                jsonschema::error::ValidationErrorKind::FalseSchema => {
                    "this field is not allowed here".to_string()
                }
                jsonschema::error::ValidationErrorKind::Pattern { .. } if pointer == "/version" => {
                    not_a_version(e.instance())
                }
                _ if is_choice_value(manifest, &pointer) => format!(
                    "{} is not a member-state choice: write true, false, or null when the \
                     member state's choice is not known",
                    e.instance()
                ),
                _ => e.to_string(),
            };
            Problem { pointer, message }
        })
        .collect();
    if let Some(depends) = manifest.get("depends").and_then(Value::as_array) {
        for (i, d) in depends.iter().enumerate() {
            if let Some(req) = d.get("version").and_then(Value::as_str) {
                if let Err(e) = semver::VersionReq::parse(req) {
                    problems.push(Problem {
                        pointer: format!("/depends/{i}/version"),
                        message: format!(
                            "`{req}` is not a semver requirement ({e}); write e.g. \"^1.0\""
                        ),
                    });
                }
            }
        }
    }
    problems
}

/// The message for a `version` that the schema's semver pattern refuses: the pattern itself
/// would mean nothing to a rule author. `1.0` is completed to `1.0.0` in the example.
fn not_a_version(value: &Value) -> String {
    let written = value
        .as_str()
        .map(str::to_string)
        .unwrap_or(value.to_string());
    let numbers: Vec<&str> = written.split('.').collect();
    let example = if numbers.len() < 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        let mut parts = numbers.clone();
        parts.resize(3, "0");
        parts.join(".")
    } else {
        "1.0.0".to_string()
    };
    format!(
        "`{written}` is not a semantic version: versions are MAJOR.MINOR.PATCH, three numbers, \
         e.g. `{example}` (rules/README.md, \"Versioning\", says which part to raise)"
    )
}

/// Whether `pointer` is the default or a per-country value of a choice_by_member_state
/// parameter.
fn is_choice_value(manifest: &Value, pointer: &str) -> bool {
    let parts: Vec<&str> = pointer.split('/').collect();
    let is_value = matches!(
        parts.as_slice(),
        ["", "parameters", _, "default"] | ["", "parameters", _, "by_member_state", _]
    );
    is_value
        && manifest
            .pointer(&format!("/parameters/{}/type", parts[2]))
            .and_then(Value::as_str)
            == Some("choice_by_member_state")
}

/// Field names allowed at a place of the manifest, for "did you mean".
fn known_fields(pointer: &str) -> Vec<&'static str> {
    let depth = pointer.matches('/').count();
    if pointer.is_empty() {
        vec![
            "id",
            "version",
            "title",
            "jurisdiction",
            "effective",
            "sources",
            "depends",
            "overrides",
            "parameters",
            "tables",
            "scripts",
            "decisions",
        ]
    } else if pointer.starts_with("/parameters/") && depth == 2 {
        vec!["type", "cites", "description", "default", "by_member_state"]
    } else if pointer.starts_with("/decisions/") {
        vec!["function", "arguments"]
    } else if pointer == "/effective" {
        vec!["from", "until"]
    } else {
        vec!["id", "version", "title", "url"]
    }
}

/// The line and column (both 1-based) where the value at `pointer` starts in `text`, found by
/// walking the JSON text: objects by key, arrays by index. `None` when the text does not
/// parse that far (then the caller points at the file).
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let offset = offset_of(text, pointer)?;
    Some(line_col(text, offset))
}

/// The byte offset where the value at `pointer` starts.
pub fn offset_of(text: &str, pointer: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match bytes.get(pos)? {
            b'{' => {
                pos = skip_ws(bytes, pos + 1);
                loop {
                    if bytes.get(pos)? == &b'}' {
                        return None;
                    }
                    let key_start = pos;
                    let key_end = skip_string(bytes, pos)?;
                    let key: String = serde_json::from_slice(&bytes[key_start..key_end]).ok()?;
                    pos = skip_ws(bytes, key_end);
                    if bytes.get(pos)? != &b':' {
                        return None;
                    }
                    pos = skip_ws(bytes, pos + 1);
                    if key == segment {
                        break;
                    }
                    pos = skip_ws(bytes, skip_value(bytes, pos)?);
                    if bytes.get(pos)? == &b',' {
                        pos = skip_ws(bytes, pos + 1);
                    }
                }
            }
            b'[' => {
                let index: usize = segment.parse().ok()?;
                pos = skip_ws(bytes, pos + 1);
                for _ in 0..index {
                    pos = skip_ws(bytes, skip_value(bytes, pos)?);
                    if bytes.get(pos)? != &b',' {
                        return None;
                    }
                    pos = skip_ws(bytes, pos + 1);
                }
            }
            _ => return None,
        }
    }
    Some(pos)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// The offset just after the string starting at `pos`.
fn skip_string(bytes: &[u8], pos: usize) -> Option<usize> {
    if bytes.get(pos)? != &b'"' {
        return None;
    }
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The offset just after the value starting at `pos`.
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = pos;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']') {
                i += 1;
            }
            // Trailing whitespace belongs to no value.
            while i > pos && bytes[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_and_indexes() {
        let text = "{\n  \"a\": {\"b\": [1, {\"c\": true}]},\n  \"d\": \"x\"\n}";
        assert_eq!(locate(text, "/d"), Some((3, 8)));
        assert_eq!(locate(text, "/a/b/1/c"), Some((2, 24)));
        assert_eq!(locate(text, "/a/b/0"), Some((2, 15)));
        assert_eq!(locate(text, "/z"), None);
    }

    #[test]
    fn a_choice_of_maybe_breaks_the_schema() {
        // The defect found by the adversarial run: "maybe" was taken as unknown.
        let manifest = serde_json::json!({
            "id": "p", "version": "1.0.0", "title": "t", "jurisdiction": "EU",
            "effective": {"from": "2024-10-18"},
            "sources": [{"title": "s", "url": "https://example.org"}],
            "parameters": {"c": {"type": "choice_by_member_state", "cites": "x",
                                  "description": "y", "default": "maybe"}}
        });
        let problems = manifest_problems(&manifest);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/parameters/c/default");
    }
}
