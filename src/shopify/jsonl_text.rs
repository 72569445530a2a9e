//! Reading a grouped bulk result while keeping every line as text. A record's
//! payload is made of the lines it came in (an order's line, minus the
//! fields that become records of their own, plus its line items' lines), so
//! building a parsed tree per line only to print it again is wasted work:
//! each line is checked once, split into its top-level members (byte ranges
//! into the line), and payloads are spliced together from those ranges.
//!
//! The grouping rules are those of [`super::jsonl`]: a root is complete once
//! the next root line arrives, and a child naming any other parent than the
//! root it follows is an error.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::jsonl::{JsonlError, gid_type};

/// One JSON object kept as its text, with the position of each top-level
/// member. Members can be left out when the object is written again.
#[derive(Clone, PartialEq, Eq)]
pub struct TextObject {
    text: String,
    members: Vec<Member>,
}

/// Byte ranges of one member in the object's text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    key: Range<u32>,
    /// From the key's opening quote to the value's end: `"key":value`.
    whole: Range<u32>,
    value: Range<u32>,
}

/// The object's text is customer data: Debug shows only its member names.
impl fmt::Debug for TextObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.members.iter().map(|m| self.slice(&m.key)))
            .finish()
    }
}

impl TextObject {
    /// Checks `line` as JSON and indexes its members; the error says what
    /// the line holds instead of an object.
    pub fn parse(line: &[u8]) -> Result<TextObject, String> {
        let text = std::str::from_utf8(line)
            .map_err(|e| e.to_string())?
            .to_owned();
        let members = index(&text)?;
        Ok(TextObject { text, members })
    }

    /// The object's text as it arrived.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn slice(&self, range: &Range<u32>) -> &str {
        &self.text[range.start as usize..range.end as usize]
    }

    /// The JSON text of member `key` (the last one, as a parser keeps it).
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.members
            .iter()
            .rev()
            .find(|m| self.slice(&m.key) == key)
            .map(|m| self.slice(&m.value))
    }

    /// Member `key` when it is a string.
    pub fn str(&self, key: &str) -> Option<Cow<'_, str>> {
        let raw = self.raw(key)?;
        if !raw.starts_with('"') {
            return None;
        }
        // Borrows unless the string holds escapes.
        serde_json::from_str::<Cow<'_, str>>(raw)
            .ok()
            .or_else(|| serde_json::from_str::<String>(raw).ok().map(Cow::Owned))
    }

    /// Member `key` is present and not `null`.
    pub fn is_set(&self, key: &str) -> bool {
        self.raw(key).is_some_and(|v| v != "null")
    }

    /// Drops member `key` (every occurrence) and returns its last value's text.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let value = self.raw(key).map(str::to_owned);
        let text = &self.text;
        self.members
            .retain(|m| &text[m.key.start as usize..m.key.end as usize] != key);
        value
    }

    /// Appends the members not named in `skip` (without braces), each
    /// preceded by a comma unless it is the first thing after `{`.
    pub fn write_members(&self, out: &mut String, skip: &[&str]) {
        for m in &self.members {
            if skip.contains(&self.slice(&m.key)) {
                continue;
            }
            if !out.ends_with('{') {
                out.push(',');
            }
            out.push_str(self.slice(&m.whole));
        }
    }
}

/// The members of the object `text`, in order.
fn index(text: &str) -> Result<Vec<Member>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let members = Indexer { base: text }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(members)
}

struct Indexer<'a> {
    base: &'a str,
}

impl<'a> Indexer<'a> {
    fn offset(&self, part: &str) -> u32 {
        (part.as_ptr() as usize - self.base.as_ptr() as usize) as u32
    }
}

impl<'de> DeserializeSeed<'de> for Indexer<'de> {
    type Value = Vec<Member>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Member>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Indexer<'de> {
    type Value = Vec<Member>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Member>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(32));
        // A borrowed key sits right after its opening quote in the text; a
        // key with escapes cannot be borrowed and fails here, which no
        // Shopify field name needs.
        while let Some(key) = map.next_key::<&'de str>()? {
            let value = map.next_value::<&'de RawValue>()?;
            let key_start = self.offset(key);
            let value_start = self.offset(value.get());
            let value_end = value_start + value.get().len() as u32;
            members.push(Member {
                key: key_start..key_start + key.len() as u32,
                whole: key_start - 1..value_end,
                value: value_start..value_end,
            });
        }
        Ok(members)
    }
}

/// A root object and the child lines that followed it, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRoot {
    pub root: TextObject,
    /// Without their `__parentId`.
    pub children: Vec<TextObject>,
}

impl TextRoot {
    /// The children whose gid names type `kind` (`LineItem`, `Return`, …).
    pub fn children_of<'r>(&'r self, kind: &'r str) -> impl Iterator<Item = &'r TextObject> {
        self.children
            .iter()
            .filter(move |c| c.str("id").as_deref().and_then(gid_type) == Some(kind))
    }
}

/// Reads the lines of one grouped result in file order, as text.
#[derive(Debug, Default)]
pub struct TextGroupedReader {
    current: Option<TextRoot>,
    current_id: String,
    lines: u64,
}

impl TextGroupedReader {
    pub fn new() -> TextGroupedReader {
        TextGroupedReader::default()
    }

    /// Objects read so far (blank lines are not counted).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Adds one line; returns the previous root, now complete, when the line
    /// begins a new root. Blank lines and a missing final newline are tolerated.
    pub fn push_line(&mut self, line: &[u8]) -> Result<Option<TextRoot>, JsonlError> {
        let line = line.trim_ascii();
        if line.is_empty() {
            return Ok(None);
        }
        self.lines += 1;
        let number = self.lines;
        let mut object = TextObject::parse(line).map_err(|detail| JsonlError::BadLine {
            line: number,
            detail,
        })?;
        if object.raw("__parentId").is_some() {
            let parent = object.str("__parentId").ok_or(JsonlError::BadLine {
                line: number,
                detail: "`__parentId` is not a string".into(),
            })?;
            return match &mut self.current {
                Some(root) if parent == self.current_id => {
                    object.remove("__parentId");
                    root.children.push(object);
                    Ok(None)
                }
                _ => Err(JsonlError::NotGrouped {
                    line: number,
                    parent: parent.into_owned(),
                }),
            };
        }
        let id = object.str("id").ok_or(JsonlError::NoId { line: number })?;
        self.current_id = id.into_owned();
        Ok(self.current.replace(TextRoot {
            root: object,
            children: Vec::new(),
        }))
    }

    /// The last root. Complete only when the whole file was read; a failed
    /// job's partial file may end inside it.
    pub fn finish(self) -> Option<TextRoot> {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> TextObject {
        TextObject::parse(text.as_bytes()).unwrap()
    }

    fn rewritten(o: &TextObject, skip: &[&str]) -> String {
        let mut out = String::from("{");
        o.write_members(&mut out, skip);
        out.push('}');
        out
    }

    #[test]
    fn members_are_read_and_left_out_without_touching_the_rest() {
        let o = object(
            r#" { "id" : "gid://shopify/Order/1", "n":{"a":[1,2]},"refunds":[{"id":"x"}], "s":"a\"b" } "#,
        );
        assert_eq!(o.str("id").as_deref(), Some("gid://shopify/Order/1"));
        assert_eq!(o.raw("n"), Some(r#"{"a":[1,2]}"#));
        assert_eq!(o.str("s").as_deref(), Some("a\"b"));
        assert_eq!(o.str("n"), None, "not a string");
        let out = rewritten(&o, &["refunds"]);
        assert_eq!(
            out,
            r#"{"id" : "gid://shopify/Order/1","n":{"a":[1,2]},"s":"a\"b"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["s"], "a\"b");
        assert_eq!(rewritten(&o, &["id", "n", "refunds", "s"]), "{}");
    }

    #[test]
    fn the_last_of_duplicate_members_wins_like_a_parser() {
        let mut o = object(r#"{"a":1,"a":null}"#);
        assert!(!o.is_set("a"));
        assert_eq!(o.remove("a").as_deref(), Some("null"));
        assert_eq!(rewritten(&o, &[]), "{}");
    }

    #[test]
    fn anything_but_one_whole_object_is_refused() {
        for bad in [
            "[1]",
            "\"x\"",
            "{\"a\":1} {",
            "{\"a\":",
            "{\"a\\u0062\":1}",
            "\u{ff}",
        ] {
            assert!(TextObject::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let invalid_utf8 = [b'{', b'"', 0xff, b'"', b':', b'1', b'}'];
        assert!(TextObject::parse(&invalid_utf8).is_err());
    }

    #[test]
    fn debug_names_members_but_shows_no_values() {
        let debug = format!("{:?}", object(r#"{"email":"someone@example.org"}"#));
        assert!(
            debug.contains("email") && !debug.contains("example.org"),
            "{debug}"
        );
    }

    #[test]
    fn roots_are_handed_out_with_their_children_when_the_next_root_begins() {
        let mut reader = TextGroupedReader::new();
        let lines = [
            r##"{"id":"gid://shopify/Order/1","name":"#1001"}"##,
            r#"{"id":"gid://shopify/LineItem/7","sku":"A-1","__parentId":"gid://shopify/Order/1"}"#,
            "",
            r#"{"id":"gid://shopify/Return/9","__parentId":"gid://shopify/Order/1"}"#,
            r##"{"id":"gid://shopify/Order/2","name":"#1002"}"##,
        ];
        let out: Vec<Option<TextRoot>> = lines
            .iter()
            .map(|l| reader.push_line(l.as_bytes()).unwrap())
            .collect();
        assert!(out[..4].iter().all(Option::is_none));
        let first = out[4]
            .clone()
            .expect("order 1 is complete once order 2 begins");
        let items: Vec<_> = first.children_of("LineItem").collect();
        assert_eq!(items.len(), 1);
        assert_eq!(
            rewritten(items[0], &[]),
            r#"{"id":"gid://shopify/LineItem/7","sku":"A-1"}"#
        );
        assert_eq!(first.children_of("Return").count(), 1);
        assert_eq!(reader.lines(), 4);
        assert_eq!(
            reader.finish().unwrap().root.str("name").as_deref(),
            Some("#1002")
        );
    }

    #[test]
    fn ungrouped_output_cut_lines_and_lines_without_ids_are_errors() {
        let mut reader = TextGroupedReader::new();
        reader
            .push_line(br#"{"id":"gid://shopify/Order/1"}"#)
            .unwrap();
        reader
            .push_line(br#"{"id":"gid://shopify/Order/2"}"#)
            .unwrap();
        assert_eq!(
            reader.push_line(
                br#"{"id":"gid://shopify/LineItem/7","__parentId":"gid://shopify/Order/1"}"#
            ),
            Err(JsonlError::NotGrouped {
                line: 3,
                parent: "gid://shopify/Order/1".into()
            })
        );
        assert!(matches!(
            TextGroupedReader::new().push_line(br#"{"id":"gid://sho"#),
            Err(JsonlError::BadLine { line: 1, .. })
        ));
        assert_eq!(
            TextGroupedReader::new().push_line(br#"{"name":"x"}"#),
            Err(JsonlError::NoId { line: 1 })
        );
        assert!(matches!(
            TextGroupedReader::new().push_line(br#"{"id":"a","__parentId":7}"#),
            Err(JsonlError::BadLine { line: 1, .. })
        ));
        assert!(matches!(
            TextGroupedReader::new().push_line(
                br#"{"id":"gid://shopify/LineItem/7","__parentId":"gid://shopify/Order/1"}"#
            ),
            Err(JsonlError::NotGrouped { line: 1, .. })
        ));
        assert!(matches!(
            TextGroupedReader::new().push_line(b"[1]"),
            Err(JsonlError::BadLine { line: 1, .. })
        ));
    }
}
