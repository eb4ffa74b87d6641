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
    /// Lower-cased, trimmed header → facts field.
    fields: HashMap<String, String>,
}

impl ColumnMap {
    pub fn load(path: &Path) -> Result<ColumnMap, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the column mapping `{}`: {e}", path.display()))?;
        ColumnMap::parse(&text).map_err(|e| format!("column mapping `{}`: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<ColumnMap, String> {
        let pairs: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| {
                format!(
                    "write it as one JSON object from your header to the facts field, \
                     like {{\"Staff (FTE)\": \"employees\"}} ({e})"
                )
            })?;
        let known = super::csv::field_names();
        let mut fields = HashMap::new();
        for (header, field) in pairs {
            let Some(field) = field.as_str() else {
                return Err(format!("the field for `{header}` must be a string"));
            };
            if !known.iter().any(|k| k == field) {
                let hint = crate::validate::did_you_mean(field, known.iter().map(String::as_str))
                    .map(|h| format!("; did you mean `{h}`?"))
                    .unwrap_or_default();
                return Err(format!(
                    "`{field}` (for the column `{header}`) is not a facts field{hint}"
                ));
            }
            fields.insert(header.trim().to_lowercase(), field.to_string());
        }
        Ok(ColumnMap { fields })
    }

    /// The facts field a header is mapped to.
    pub fn field_for(&self, header: &str) -> Option<&str> {
        self.fields
            .get(&header.trim().to_lowercase())
            .map(String::as_str)
    }

    /// Mapped headers that `headers` does not have: probably a typo in the mapping.
    pub fn absent_from(&self, headers: &[String]) -> Vec<String> {
        let present: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
        let mut absent: Vec<String> = self
            .fields
            .keys()
            .filter(|k| !present.contains(k))
            .cloned()
            .collect();
        absent.sort();
        absent
    }
}
