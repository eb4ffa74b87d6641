//! A record's head: what the ownership pass ([`crate::prescan`]) needs of it, its id, its
//! owners' ids and whether it declares enterprises outside the batch.
//!
//! serde_json reads the head of every JSON line, going through the whole line to know that it
//! is JSON at all (a line that is not is an error record; see below). Most lines hold
//! no escapes and nest shallowly; for those, [`plain`] checks the line against JSON's grammar
//! itself, building no value, and takes the id and the owners' ids as it goes. It gives up, and
//! serde_json reads the line, on anything it does not take on: a backslash or a control
//! character in a string, nesting deeper than [`DEPTH`], a `linked_enterprises` key, an id that
//! is not a plain string or null, an id, an `owners` or an owner's id given twice, and anything
//! that is not JSON. So it only ever answers where serde_json's answer is the same; a test
//! holds it to that on mutated lines (`plain_agrees_with_serde`).
//!
//! [`plain`] reads bytes: outside strings JSON is ASCII, and a string with a byte above 0x7f
//! is checked as UTF-8 on its own, so a line it answers for is UTF-8 throughout, and the
//! ownership pass need not check each whole line first.
//!
//! A line that is not JSON has the head its error record is named by: the id written before
//! the place where it breaks ([`crate::read::stream::fields_before_break`]), no owners and no
//! enterprises outside the batch. Such a record takes part in ownership as any other error
//! record does: the record that names it as its owner is left open by it rather than told that
//! no record of the batch has that id.
//!
//! Most lines name no owner at all, and then the id is all the pass needs. [`id_alone`] takes it
//! from a line that opens with it and names no owner, without going through the rest: a search
//! for two keys costs about a fifth of reading the line's grammar (callgrind, 3,000 generated
//! organisations: the pass went from 6.2 K to 2.6 K instructions a record, of some 70 K).

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Head {
    pub id: Option<String>,
    pub owners: Vec<String>,
    pub linked_outside: bool,
}

impl Head {
    /// The head of a JSON line; empty for a line that is not a JSON object.
    pub fn of_json(text: &str) -> Head {
        plain(text.as_bytes()).map_or_else(|| by_serde(text), Plain::into_head)
    }

    /// The head of a record read as a JSON value.
    pub fn of_value(v: &Value) -> Head {
        RawHead::of(v).into_head()
    }
}

#[derive(Deserialize)]
struct RawHead {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    owners: Option<Value>,
    #[serde(default)]
    linked_enterprises: Option<Value>,
}

impl RawHead {
    /// The three fields of a JSON object (from an object only: see [`crate::facts::from_object`]).
    fn read(text: &str) -> serde_json::Result<RawHead> {
        let mut de = serde_json::Deserializer::from_str(text);
        let head = crate::facts::from_object(&mut de)?;
        de.end()?;
        Ok(head)
    }

    fn of(v: &Value) -> RawHead {
        RawHead {
            id: v.get("id").cloned(),
            owners: v.get("owners").cloned(),
            linked_enterprises: v.get("linked_enterprises").cloned(),
        }
    }

    fn into_head(self) -> Head {
        let owners = match &self.owners {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|o| o.get("id").and_then(Value::as_str).map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        let linked_outside =
            matches!(&self.linked_enterprises, Some(Value::Array(a)) if !a.is_empty());
        Head {
            id: self.id.as_ref().and_then(Value::as_str).map(String::from),
            owners,
            linked_outside,
        }
    }
}

/// The head of a JSON line as serde_json reads it. A key written twice makes the three-field
/// read fail, where the record itself is read with the last value (a JSON object read whole
/// keeps the last): read whole then, so that the pass sees the id the record is assessed under.
pub(crate) fn by_serde(text: &str) -> Head {
    RawHead::read(text)
        .or_else(|_| serde_json::from_str::<Value>(text).map(|v| RawHead::of(&v)))
        .map_or_else(|_| broken(text), RawHead::into_head)
}

/// The head of a text that is not JSON: the id written before it breaks, nothing else.
pub(crate) fn broken(text: &str) -> Head {
    Head {
        id: crate::read::stream::fields_before_break(text).id,
        owners: Vec::new(),
        linked_outside: false,
    }
}

/// Finds the keys that would make a line's head more than its id, written as JSON writes a
/// key without escapes: another `id`, which every owner's entry needs to name an owner, and
/// `linked_enterprises`. Built once: a finder works out how to search for its needle.
struct NotAlone {
    id: memchr::memmem::Finder<'static>,
    linked: memchr::memmem::Finder<'static>,
}

static NOT_ALONE: std::sync::LazyLock<NotAlone> = std::sync::LazyLock::new(|| NotAlone {
    id: memchr::memmem::Finder::new(b"\"id\""),
    linked: memchr::memmem::Finder::new(b"\"linked_enterprises\""),
});

/// The id of a line whose head is its id alone, as its bytes; `None` for any other line, for
/// [`plain`] or serde_json to read.
///
/// The line must open with `{"id":"`, then an id of printable ASCII and its closing quote, then
/// `,` or `}`; and after that hold no backslash, no other `"id"` and no `"linked_enterprises"`.
/// Without a backslash every key is written as it reads, so such a line names no owner (an
/// owner is named by the `id` of its entry), declares no enterprise outside the batch and
/// gives no second id: if it is JSON, serde_json reads this id; if it is not, this is the id
/// written before it breaks. The rest of the line is not read as JSON at all: whether it is,
/// the assessing pass finds out.
pub fn id_alone(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(b"{\"id\":\"")?;
    let end = memchr::memchr(b'"', rest)?;
    let (id, after) = (&rest[..end], &rest[end + 1..]);
    let printable = |b: &u8| (0x20..0x7f).contains(b) && *b != b'\\';
    if !id.iter().all(printable) || !matches!(after.first(), Some(b',' | b'}')) {
        return None;
    }
    let not_alone = &*NOT_ALONE;
    let alone = memchr::memchr(b'\\', after).is_none()
        && not_alone.id.find(after).is_none()
        && not_alone.linked.find(after).is_none();
    alone.then_some(id)
}

/// How deep [`plain`] follows arrays and objects inside a field's value before it gives up.
const DEPTH: usize = 32;

/// What [`plain`] reads of a line: its id and its owners' ids, as the line's bytes, each
/// checked to be UTF-8.
#[derive(Debug, PartialEq)]
pub struct Plain<'a> {
    pub id: Option<&'a [u8]>,
    pub owners: Vec<&'a [u8]>,
}

impl Plain<'_> {
    fn into_head(self) -> Head {
        // The scan checked every string it took as UTF-8: nothing is replaced.
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        Head {
            id: self.id.map(text),
            owners: self.owners.into_iter().map(text).collect(),
            linked_outside: false,
        }
    }
}

/// The head of a plain JSON line (see the module's documentation), or `None` for serde_json
/// to read.
pub fn plain(bytes: &[u8]) -> Option<Plain<'_>> {
    let mut s = Scan { bytes, at: 0 };
    s.space();
    let mut id: Option<Option<&[u8]>> = None;
    let mut owners: Option<Vec<&[u8]>> = None;
    s.object(|s, key| {
        match key {
            b"id" if id.is_none() => {
                id = Some(match s.peek()? {
                    b'"' => {
                        s.at += 1;
                        Some(s.string()?)
                    }
                    b'n' => s.word(b"null").map(|()| None)?,
                    _ => return None,
                });
            }
            b"owners" if owners.is_none() => owners = Some(s.owners()?),
            b"id" | b"owners" | b"linked_enterprises" => return None,
            _ => s.value(0)?,
        }
        Some(())
    })?;
    s.space();
    (s.at == s.bytes.len()).then(|| Plain {
        id: id.flatten(),
        owners: owners.unwrap_or_default(),
    })
}

/// Each byte's lowest and highest bit.
const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGH: u64 = u64::from_le_bytes([0x80; 8]);

/// A reading position in a line.
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }

    /// JSON's whitespace, as serde_json takes it.
    fn space(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// The rest of a string whose opening quote has been read, up to its closing quote; `None`
    /// at a backslash, a control character or the end of the line, and for a string that is
    /// not UTF-8.
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        // Bytes above 0x7f leave their top bit here; a string without one is ASCII.
        let mut high = 0u64;
        // Eight bytes at a time: a quote, a backslash or a byte below 0x20 ends the string or
        // stops the scan. Each word test is non-zero exactly when one of the eight bytes is
        // such a byte, and its lowest set bit is in the first of them (a borrow only runs
        // upwards, past a byte that already matched), so that byte is found without a loop.
        let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
        while let Some(chunk) = self.bytes.get(self.at..self.at + 8) {
            let w = u64::from_le_bytes(chunk.try_into().ok()?);
            let stop = zero_byte(w ^ (ONES * u64::from(b'"')))
                | zero_byte(w ^ (ONES * u64::from(b'\\')))
                | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
            if stop != 0 {
                self.at += (stop.trailing_zeros() / 8) as usize;
                // The bytes before the one that stopped the word: every bit below its lowest.
                high |= w & ((stop & stop.wrapping_neg()) - 1);
                break;
            }
            high |= w;
            self.at += 8;
        }
        // At the byte that stopped the words, or among the last few bytes of the line.
        loop {
            match self.next()? {
                b'"' => break,
                b'\\' | 0..0x20 => return None,
                b => high |= u64::from(b),
            }
        }
        let string = &self.bytes[start..self.at - 1];
        if high & HIGH != 0 {
            std::str::from_utf8(string).ok()?;
        }
        Some(string)
    }

    /// A number as JSON writes it: `-`, one `0` or digits not starting with `0`, then an
    /// optional fraction and exponent, each with at least one digit; `None` for one beyond the
    /// range of a double (`1e400`), which serde_json refuses ("number out of range").
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            exponent = true;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        // Twenty characters without an exponent stay below 10^20; anything else is read as
        // serde_json reads it, to the nearest double, which is infinite exactly when serde_json
        // finds it out of range.
        if exponent || self.at - start > 20 {
            let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
            text.parse::<f64>().ok().filter(|v| v.is_finite())?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// An object, from its `{`: each field's key is handed to `field`, which reads its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.items(b'{', b'}', |s| {
            s.expect(b'"')?;
            let key = s.string()?;
            s.space();
            s.expect(b':')?;
            s.space();
            field(s, key)
        })
    }

    /// The items of an array or object, from `open` to `close`, separated by commas: `item`
    /// reads each.
    fn items(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.expect(open)?;
        self.space();
        if self.peek() == Some(close) {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.space();
            match self.next()? {
                b',' => self.space(),
                b if b == close => return Some(()),
                _ => return None,
            }
        }
    }

    /// An `owners` value, at the top of the record: the ids of its entries that are objects
    /// with a string `id`, as serde_json's reading takes them ([`RawHead::into_head`]: any
    /// other value names no owner); `None` for an entry that writes `id` twice, which that
    /// reading would take the last of.
    fn owners(&mut self) -> Option<Vec<&'a [u8]>> {
        let mut ids = Vec::new();
        if self.peek()? != b'[' {
            self.value(0)?;
            return Some(ids);
        }
        self.array(|s| {
            if s.peek()? != b'{' {
                return s.value(1);
            }
            let mut id: Option<Option<&[u8]>> = None;
            s.object(|s, key| {
                match key {
                    b"id" if id.is_some() => return None,
                    b"id" if s.peek()? == b'"' => {
                        s.at += 1;
                        id = Some(Some(s.string()?));
                    }
                    b"id" => {
                        s.value(2)?;
                        id = Some(None);
                    }
                    _ => s.value(2)?,
                }
                Some(())
            })?;
            ids.extend(id.flatten());
            Some(())
        })?;
        Some(ids)
    }

    /// An array, from its `[`: `item` reads each item.
    fn array(&mut self, item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.items(b'[', b']', item)
    }

    /// Any JSON value, `depth` arrays and objects down.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.at += 1;
                self.string().map(drop)
            }
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'[' if depth < DEPTH => self.array(|s| s.value(depth + 1)),
            b'{' if depth < DEPTH => self.object(|s, _| s.value(depth + 1)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines [`plain`] reads, and what it reads: the expected heads are serde_json's
    /// (RFC 8259 §2-§7 for what is JSON).
    #[test]
    fn plain_lines() {
        for (line, id) in [
            (r#"{"id":"a"}"#, Some("a")),
            (r#" { "name" : "x" , "id" : "b" } "#, Some("b")),
            (r#"{}"#, None),
            (r#"{"id":null}"#, None),
            (
                r#"{"a":[1,-0.5,2e10,3E-2,true,false,null,{},[]],"id":"é"}"#,
                Some("é"),
            ),
            // At the edges of a double's range, and 25 digits: serde_json reads them too.
            (
                r#"{"a":[1.7976931348623157e308,-1e-400,1234567890123456789012345],"id":"e"}"#,
                Some("e"),
            ),
            (r#"{"a":[true],"id":"é"}"#, Some("é")),
            (r#"{"a":{"b":{"c":[{"d":"e"}]}},"id":"z"}"#, Some("z")),
            ("{\"id\":\"t\"}\r\n\t", Some("t")),
            // Keys other than the three are not read: a second `name` is serde's to judge
            // when the record is read, not the pass's.
            (r#"{"name":"a","name":"b","id":"c"}"#, Some("c")),
            // Owners' ids as serde_json's reading takes them: entries that are objects with
            // a string `id`; anything else names no owner.
            (r#"{"owners":[],"id":"a"}"#, Some("a")),
            (r#"{"owners":null,"id":"a"}"#, Some("a")),
            (r#"{"owners":{"id":"x"},"id":"a"}"#, Some("a")),
            (
                concat!(
                    r#"{"id":"a","owners":[{"id":"p","share_pct":60},{"share_pct":5},7,"#,
                    r#"{"id":3},{"id":"q","x":[{"id":"no"}]}]}"#
                ),
                Some("a"),
            ),
        ] {
            let head = (plain(line.as_bytes()).map(Plain::into_head))
                .unwrap_or_else(|| panic!("plain did not read {line}"));
            assert_eq!(head.id.as_deref(), id, "{line}");
            assert_eq!(head, by_serde(line), "{line}");
        }
        let line =
            r#"{"owners":[{"id":"p"},{"share_pct":5},"q",{"id":"r","owners":[{"id":"s"}]}]}"#;
        let owners = plain(line.as_bytes()).expect("plain").owners;
        assert_eq!(owners, [b"p".as_slice(), b"r"]);
    }

    /// Lines [`plain`] leaves to serde_json: not JSON (RFC 8259), or JSON it does not take on.
    #[test]
    fn lines_left_to_serde() {
        let deep = format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(DEPTH + 1),
            "]".repeat(DEPTH + 1)
        );
        let big = format!("{{\"id\":\"a\",\"x\":1{}}}", "0".repeat(400));
        for line in [
            "",
            "[]",
            r#"{"id":"a",}"#,
            r#"{"id":"a""#,
            r#"{"id":"a"} x"#,
            r#"{"id":"a","id":"b"}"#,
            r#"{"id":7}"#,
            r#"{"id":"a\"b"}"#,
            "{\"id\":\"a\u{1}\"}",
            r#"{"owners":[],"owners":[],"id":"a"}"#,
            r#"{"owners":[{"id":"a","id":"b"}]}"#,
            r#"{"owners":[{"id":"a\"b"}]}"#,
            r#"{"owners":[{"id":"a"},]}"#,
            r#"{"owners":[{"id":"a"}"#,
            r#"{"linked_enterprises":null}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e}"#,
            r#"{"a":-}"#,
            r#"{"a":+1}"#,
            // Beyond a double's range: serde_json refuses the line.
            r#"{"id":"a","owners":[{"id":"p","share_pct":1e400}]}"#,
            r#"{"id":"a","x":-2E+308}"#,
            r#"{"a":tru}"#,
            r#"{"a":[1,]}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            "{\"a\":1}\u{b}",
            &deep,
            &big,
        ] {
            assert_eq!(plain(line.as_bytes()), None, "{line}");
        }
    }

    /// The generator's lines all go the plain way, those with owners too (none declares
    /// enterprises outside the batch): the pass's speed rests on it (`gen portfolio`, 2,000
    /// organisations).
    #[test]
    fn generated_lines_are_plain() {
        let text = crate::gen::portfolio_jsonl(2_000, 11);
        let mut owned = 0;
        for line in text.lines() {
            assert!(!line.contains("\"linked_enterprises\""), "{line}");
            let head = (plain(line.as_bytes()).map(Plain::into_head))
                .unwrap_or_else(|| panic!("plain did not read {line}"));
            assert_eq!(head, by_serde(line), "{line}");
            owned += usize::from(!head.owners.is_empty());
        }
        assert!(owned > 100, "{owned}");
    }

    /// 20,000 generated lines (some with names in other scripts), each broken by inserting,
    /// replacing and removing one to three bytes, JSON's own and bytes of UTF-8 sequences among
    /// them; the same lines for the same seed on every run.
    fn mutated_lines(seed: u64) -> Vec<Vec<u8>> {
        const BYTES: &[u8] =
            b"{}[]\":,\\ \t\r\n0123456789.eE+-tfnulasrid\x01\x1f\x7f\x80\xa9\xbf\xc3\xe2\xf0\xff";
        let text = crate::gen::portfolio_jsonl(400, 5);
        let text = text.replace("Organisation 1", "Organisätion 1 — 株式会社");
        let lines: Vec<&str> = text.lines().collect();
        // splitmix64.
        let mut state = seed;
        let mut random = move |below: usize| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % below as u64) as usize
        };
        (0..20_000)
            .map(|n| {
                let mut line = lines[n % lines.len()].as_bytes().to_vec();
                for _ in 0..1 + random(3) {
                    let at = random(line.len() + 1);
                    let b = BYTES[random(BYTES.len())];
                    match random(3) {
                        0 => line.insert(at, b),
                        1 if at < line.len() => line[at] = b,
                        _ if at < line.len() => {
                            line.remove(at);
                        }
                        _ => {}
                    }
                }
                line
            })
            .collect()
    }

    /// Lines [`id_alone`] answers for, broken ones among them (their error records are named by
    /// the id before the break), and lines it must leave to the whole reading, each because of
    /// what the whole reading would take from it (RFC 8259 §7: a key may be written with
    /// escapes, and `\u0069d` is `id`).
    #[test]
    fn id_alone_takes_only_a_lone_id() {
        for (line, id) in [
            (r#"{"id":"a","employees":3}"#, "a"),
            (r#"{"id":"a"}"#, "a"),
            (r#"{"id":"a","employees":}"#, "a"),
            (r#"{"id":"a"},"#, "a"),
            (r#"{"id":"a","name":"b"#, "a"),
        ] {
            assert_eq!(id_alone(line.as_bytes()), Some(id.as_bytes()), "{line}");
            assert_eq!(by_serde(line).id.as_deref(), Some(id), "{line}");
        }
        // Not UTF-8, and not UTF-8 nor JSON.
        for line in [
            b"{\"id\":\"a\",\"name\":\"\xff\"}".as_slice(),
            b"{\"id\":\"a\",\"name\":\"\xff\",\"employees\":}",
        ] {
            assert_eq!(id_alone(line), Some(b"a".as_slice()));
            let whole = crate::read::stream::head_by_serde(line);
            assert_eq!(whole.id.as_deref(), Some("a"));
        }
        for line in [
            r#"{"id":"a","id":"b"}"#,
            r#"{"id":"a","\u0069d":"b"}"#,
            r#"{"id":"a","owners":[{"id":"p"}]}"#,
            r#"{"id":"a","\u006fwners":[{"\u0069d":"p"}]}"#,
            r#"{"id":"a","linked_enterprises":[{"name":"p"}]}"#,
            r#"{"id":"a\"b"}"#,
            r#"{"id":"a\u0062"}"#,
            r#"{"id":"a" ,"x":1}"#,
            r#"{"id":"é"}"#,
            r#"{"id": "a"}"#,
            r#"{"name":"b","id":"a"}"#,
            r#"{"id":"a","x":{"id":"b"}}"#,
        ] {
            assert_eq!(id_alone(line.as_bytes()), None, "{line}");
        }
    }

    /// Wherever [`id_alone`] answers, the whole reading of the line (serde_json's, or for a
    /// line that is not JSON or not UTF-8 the id before its break) gives that id, no owners
    /// and no enterprises outside the batch, on [`mutated_lines`]. Lines it answers must come up often, broken ones and ones
    /// that are not UTF-8 among them, and lines it leaves too, or the test would prove nothing.
    #[test]
    fn id_alone_agrees_with_the_whole_reading() {
        let (mut answered, mut left, mut broken, mut not_utf8) = (0, 0, 0, 0);
        for line in mutated_lines(0xa10e) {
            let whole = crate::read::stream::head_by_serde(&line);
            match id_alone(&line) {
                Some(id) => {
                    let shown = String::from_utf8_lossy(&line);
                    let id = String::from_utf8(id.to_vec()).expect("an ASCII id");
                    let alone = Head {
                        id: Some(id),
                        owners: Vec::new(),
                        linked_outside: false,
                    };
                    assert_eq!(whole, alone, "{shown}");
                    answered += 1;
                    broken += usize::from(serde_json::from_slice::<Value>(&line).is_err());
                    not_utf8 += usize::from(std::str::from_utf8(&line).is_err());
                }
                None => left += 1,
            }
        }
        assert!(
            answered > 8_000 && broken > 4_000 && not_utf8 > 500 && left > 2_000,
            "{answered} answered ({broken} not JSON, {not_utf8} not UTF-8), {left} left"
        );
    }

    /// Wherever [`plain`] answers, the line is UTF-8 and serde_json answers the same, on
    /// [`mutated_lines`]. Both
    /// kinds of line must come up often, and lines with other scripts must be answered too,
    /// or the test would prove nothing.
    #[test]
    fn plain_agrees_with_serde() {
        let (mut answered, mut left, mut beyond_ascii) = (0, 0, 0);
        for line in mutated_lines(0x5eed) {
            match plain(&line) {
                Some(head) => {
                    let text = std::str::from_utf8(&line).unwrap_or_else(|e| {
                        panic!(
                            "plain read a line that is not UTF-8 ({e}): {}",
                            String::from_utf8_lossy(&line)
                        )
                    });
                    assert_eq!(head.into_head(), by_serde(text), "{text}");
                    answered += 1;
                    beyond_ascii += usize::from(!text.is_ascii());
                }
                None => left += 1,
            }
        }
        assert!(
            answered > 4_000 && left > 4_000 && beyond_ascii > 1_000,
            "{answered} answered ({beyond_ascii} not ASCII), {left} left"
        );
    }
}
