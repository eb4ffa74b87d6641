//! Pack text that every assessment carries, kept once for the life of the process.
//!
//! Rule ids, citations, obligations, control titles and requirement ids go into every record.
//! Held as `&'static str`, a record points at them: it neither copies them (an allocation and a
//! free each, some forty a record) nor counts references to them (an atomic operation on a
//! cache line that every worker writes). Each distinct text is kept once, however often packs
//! are loaded: a process that loads packs again (`assay pack diff` loads two versions, a test
//! binary loads them many times) keeps only the text it has not seen before, and the shipped
//! packs' text is some 600 strings, 20 KB.
//!
//! Kept text is never freed: call [`text`] and [`packs`] only while loading packs, never per
//! record, or the process grows with every record it reads.

use crate::assessment::PackRef;
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// Kept text, as pack tables declare it: under its own name, serde's derive does not take the
/// field for one borrowed from the input (which a `&'static str` field would be taken for).
pub type Kept = &'static str;

static TEXT: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

static PACK_LISTS: Mutex<Vec<&'static [PackRef]>> = Mutex::new(Vec::new());

/// The one copy of `text` kept for the process; text not seen before is kept until it ends.
pub fn text(text: &str) -> &'static str {
    let mut kept = TEXT.lock().unwrap_or_else(PoisonError::into_inner);
    let kept = kept.get_or_insert_with(HashSet::new);
    if let Some(&t) = kept.get(text) {
        return t;
    }
    let t: &'static str = Box::leak(Box::from(text));
    kept.insert(t);
    t
}

/// Text fields written as a record's JSON line writes them, `"name":"value"` separated by
/// commas and wrapped in `open` and `close` (`{` and `}` for an object, `,` and nothing for
/// fields that follow others), kept as [`text`] is: JSON made once when a pack loads, to be
/// copied out whole for every record that has it. Only while loading packs, as [`text`].
pub fn json(open: &str, fields: &[(&str, &str)], close: &str) -> &'static str {
    let mut json = String::from(open);
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&serde_json::to_string(name).unwrap_or_default());
        json.push(':');
        json.push_str(&serde_json::to_string(value).unwrap_or_default());
    }
    json.push_str(close);
    text(&json)
}

/// The one copy of a list of packs kept for the process; a list not seen before is kept
/// until it ends.
pub fn packs(list: Vec<PackRef>) -> &'static [PackRef] {
    let mut kept = PACK_LISTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&l) = kept.iter().find(|l| ***l == list[..]) {
        return l;
    }
    let l: &'static [PackRef] = Box::leak(list.into_boxed_slice());
    kept.push(l);
    l
}

/// Reads a string of a pack table as kept text (`#[serde(deserialize_with = ...)]`); for pack
/// tables only, never for a record's fields, as [`text`].
pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Kept, D::Error> {
    let s = String::deserialize(d)?;
    Ok(text(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text, however often it is asked for, is one copy: a pack loaded again adds
    /// nothing.
    #[test]
    fn one_copy_of_each_text() {
        let a = text(&String::from("NIS2 Art. 23(4)(a)"));
        let b = text(&String::from("NIS2 Art. 23(4)(a)"));
        assert!(std::ptr::eq(a, b));
        assert_ne!(text("NIS2 Art. 20(1)"), a);
    }
}
