//! `--columns FILE`: a client's own column headers mapped to facts fields.
//!
//! The file is a JSON object from header to field, for example
//! `{"Company": "name", "Staff (FTE)": "employees", "Turnover EUR": "annual_turnover_eur"}`.
//! Headers match without regard to case or surrounding space. A field that is not a facts field
//! is an error before anything is read, with the field it was probably meant to be.

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    /// Lower-cased, trimmed header → (the header as the mapping writes it, facts field).
    fields: HashMap<String, (String, String)>,
}

impl ColumnMap {
    pub fn load(path: &Path) -> Result<ColumnMap, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the column mapping `{}`: {e}", path.display()))?;
        ColumnMap::parse(&text).map_err(|e| format!("column mapping `{}`: {e}", path.display()))
    }

    /// Reads a mapping; every problem in it is reported at once, one per line.
    pub fn parse(text: &str) -> Result<ColumnMap, String> {
        let pairs: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| {
                format!(
                    "write it as one JSON object from your header to the facts field, \
                     like {{\"Staff (FTE)\": \"employees\"}} ({e})"
                )
            })?;
        let known = super::csv::field_names();
        let mut fields: HashMap<String, (String, String)> = HashMap::new();
        let mut problems = Vec::new();
        for (header, field) in pairs {
            let Some(field) = field.as_str() else {
                problems.push(format!("the field for `{header}` must be a string"));
                continue;
            };
            if !known.iter().any(|k| k == field) {
                let hint = crate::validate::did_you_mean(field, known.iter().map(String::as_str))
                    .map(|h| format!("; did you mean `{h}`?"))
                    .unwrap_or_default();
                problems.push(format!(
                    "`{field}` (for the column `{header}`) is not a facts field{hint}"
                ));
                continue;
            }
            let key = header.trim().to_lowercase();
            // Headers match without regard to case or space, so these two are one header.
            if let Some((earlier, _)) = fields.get(&key) {
                problems.push(format!(
                    "`{earlier}` and `{header}` are the same header (headers match without \
                     regard to case and surrounding space): keep one"
                ));
                continue;
            }
            fields.insert(key, (header, field.to_string()));
        }
        if problems.is_empty() {
            Ok(ColumnMap { fields })
        } else {
            Err(problems.join("\n  "))
        }
    }

    /// The facts field a header is mapped to.
    pub fn field_for(&self, header: &str) -> Option<&str> {
        self.fields
            .get(&header.trim().to_lowercase())
            .map(|(_, field)| field.as_str())
    }

    /// Mapped headers, as the mapping writes them, that `headers` does not have: probably a
    /// typo in the mapping.
    pub fn absent_from(&self, headers: &[String]) -> Vec<String> {
        let present: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
        let mut absent: Vec<String> = self
            .fields
            .iter()
            .filter(|(k, _)| !present.contains(k))
            .map(|(_, (written, _))| written.clone())
            .collect();
        absent.sort();
        absent
    }
}

#[cfg(test)]
mod tests {
    use super::ColumnMap;

    /// From a fresh-user run: two spellings of one header were accepted and one silently won;
    /// two bad fields were reported one at a time; the absent header was shown lower-cased.
    #[test]
    fn every_problem_is_reported_at_once_and_headers_keep_their_spelling() {
        let e = ColumnMap::parse(
            r#"{"Client ref": "id", "client REF ": "name", "Staff": "employes", "Turnover": "turnover"}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("`Client ref` and `client REF ` are the same header"),
            "{e}"
        );
        assert!(
            e.contains("`employes`") && e.contains("did you mean `employees`?"),
            "{e}"
        );
        assert!(e.contains("`turnover` (for the column `Turnover`)"), "{e}");

        let map = ColumnMap::parse(r#"{"Absent Header": "name", "Ref": "id"}"#).unwrap();
        assert_eq!(map.field_for(" ref "), Some("id"));
        assert_eq!(
            map.absent_from(&["Ref".into()]),
            vec!["Absent Header".to_string()]
        );
    }
}
