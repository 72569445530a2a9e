//! Reading a bulk operation's JSONL result. Each line is one object; a node
//! from a nested connection is its own line carrying `__parentId`
//! (shopify-admin-api.md §3.6). shopsync asks for grouped output
//! (`groupObjects: true`), where every child line follows its parent before
//! the next root begins, so a root is complete — and handed out — as soon as
//! the next root line arrives. Memory holds one root at a time whatever the
//! result's size, and in a failed job's partial file every root but the last
//! is complete. Children are still attached by `__parentId`, and a child that
//! names any other parent than the root it follows is an error: the file is
//! not grouped and nothing in it can be trusted to be complete.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// A root object with the child lines that named it as parent, grouped by the
/// child's type (the gid's type segment: `LineItem`, `Return`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    pub root: Map<String, Value>,
    pub children: HashMap<String, Vec<Map<String, Value>>>,
}

/// A line that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonlError {
    #[error("line {line} of the bulk result is not a JSON object: {detail}")]
    BadLine { line: u64, detail: String },
    #[error("line {line} of the bulk result has no `id`")]
    NoId { line: u64 },
    #[error(
        "line {line} of the bulk result names {parent} as its parent, which is not the root it follows; the result is not grouped"
    )]
    NotGrouped { line: u64, parent: String },
}

/// Reads the lines of one grouped result in file order.
#[derive(Debug, Default)]
pub struct GroupedReader {
    current: Option<Assembled>,
    current_id: String,
    lines: u64,
    roots: u64,
}

impl GroupedReader {
    pub fn new() -> GroupedReader {
        GroupedReader::default()
    }

    /// Objects read so far (blank lines are not counted).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Roots read so far, the one still open included.
    pub fn roots(&self) -> u64 {
        self.roots
    }

    /// Adds one line; returns the previous root, now complete, when the line
    /// begins a new root. Blank lines and a missing final newline are tolerated.
    pub fn push_line(&mut self, line: &[u8]) -> Result<Option<Assembled>, JsonlError> {
        let line = trim_ascii(line);
        if line.is_empty() {
            return Ok(None);
        }
        self.lines += 1;
        let number = self.lines;
        let mut object = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(o)) => o,
            Ok(other) => {
                return Err(JsonlError::BadLine {
                    line: number,
                    detail: format!("found {}", kind(&other)),
                });
            }
            Err(e) => {
                return Err(JsonlError::BadLine {
                    line: number,
                    detail: e.to_string(),
                });
            }
        };
        match object.remove("__parentId") {
            Some(Value::String(parent)) => match &mut self.current {
                Some(root) if parent == self.current_id => {
                    attach(&mut root.children, object);
                    Ok(None)
                }
                _ => Err(JsonlError::NotGrouped {
                    line: number,
                    parent,
                }),
            },
            Some(other) => Err(JsonlError::BadLine {
                line: number,
                detail: format!("`__parentId` is {}", kind(&other)),
            }),
            None => {
                let id = object
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or(JsonlError::NoId { line: number })?;
                self.current_id = id.to_owned();
                self.roots += 1;
                Ok(self.current.replace(Assembled {
                    root: object,
                    children: HashMap::new(),
                }))
            }
        }
    }

    /// The last root. Complete only when the whole file was read; a failed
    /// job's partial file may end inside it.
    pub fn finish(self) -> Option<Assembled> {
        self.current
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn attach(children: &mut HashMap<String, Vec<Map<String, Value>>>, child: Map<String, Value>) {
    let kind = child
        .get("id")
        .and_then(Value::as_str)
        .and_then(gid_type)
        .unwrap_or("Unknown")
        .to_owned();
    children.entry(kind).or_default().push(child);
}

/// `gid://shopify/LineItem/7` → `LineItem`.
pub fn gid_type(gid: &str) -> Option<&str> {
    gid.strip_prefix("gid://shopify/")?.split('/').next()
}

/// `gid://shopify/Order/123` → 123 (query parameters ignored).
pub fn gid_number(gid: &str) -> Option<i64> {
    let tail = gid.strip_prefix("gid://shopify/")?.split('/').nth(1)?;
    tail.split('?').next()?.parse().ok()
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every root of a whole file, in order.
    fn read(text: &str) -> Result<Vec<Assembled>, JsonlError> {
        let mut reader = GroupedReader::new();
        let mut roots = Vec::new();
        for line in text.split('\n') {
            roots.extend(reader.push_line(line.as_bytes())?);
        }
        roots.extend(reader.finish());
        Ok(roots)
    }

    #[test]
    fn a_root_is_handed_out_when_the_next_root_begins() {
        let mut reader = GroupedReader::new();
        let lines = [
            r##"{"id":"gid://shopify/Order/1","name":"#1001"}"##,
            r#"{"id":"gid://shopify/LineItem/7","sku":"A-1","__parentId":"gid://shopify/Order/1"}"#,
            r#"{"id":"gid://shopify/Return/9","__parentId":"gid://shopify/Order/1"}"#,
            r##"{"id":"gid://shopify/Order/2","name":"#1002"}"##,
        ];
        let out: Vec<Option<Assembled>> = lines
            .iter()
            .map(|l| reader.push_line(l.as_bytes()).unwrap())
            .collect();
        assert!(out[..3].iter().all(Option::is_none));
        let first = out[3]
            .clone()
            .expect("order 1 is complete once order 2 begins");
        assert_eq!(first.children["LineItem"][0]["sku"], "A-1");
        assert_eq!(first.children["Return"].len(), 1);
        assert!(!first.children["LineItem"][0].contains_key("__parentId"));
        assert_eq!((reader.lines(), reader.roots()), (4, 2));
        assert_eq!(reader.finish().unwrap().root["name"], "#1002");
    }

    #[test]
    fn blank_lines_and_a_missing_final_newline_are_tolerated() {
        let text = "{\"id\":\"gid://shopify/Order/1\"}\n\n{\"id\":\"gid://shopify/LineItem/2\",\"__parentId\":\"gid://shopify/Order/1\"}";
        let roots = read(text).unwrap();
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].children["LineItem"].len(), 1);
    }

    #[test]
    fn ungrouped_output_is_an_error_not_a_misattribution() {
        let text = r##"{"id":"gid://shopify/Order/1","name":"#1001"}
{"id":"gid://shopify/Order/2","name":"#1002"}
{"id":"gid://shopify/LineItem/7","sku":"A-1","__parentId":"gid://shopify/Order/1"}"##;
        assert_eq!(
            read(text),
            Err(JsonlError::NotGrouped {
                line: 3,
                parent: "gid://shopify/Order/1".into()
            })
        );
        let orphan =
            "{\"id\":\"gid://shopify/LineItem/7\",\"__parentId\":\"gid://shopify/Order/1\"}\n";
        assert!(matches!(
            read(orphan),
            Err(JsonlError::NotGrouped { line: 1, .. })
        ));
    }

    #[test]
    fn cut_lines_and_lines_without_ids_are_errors() {
        let cut = "{\"id\":\"gid://shopify/Order/1\"}\n{\"id\":\"gid://sho";
        assert!(matches!(
            read(cut),
            Err(JsonlError::BadLine { line: 2, .. })
        ));
        assert_eq!(read("{\"name\":\"x\"}"), Err(JsonlError::NoId { line: 1 }));
        assert!(matches!(
            read("[1]"),
            Err(JsonlError::BadLine { line: 1, .. })
        ));
    }

    #[test]
    fn gids_split_into_type_and_number() {
        assert_eq!(gid_type("gid://shopify/Order/8837991727410"), Some("Order"));
        assert_eq!(
            gid_number("gid://shopify/Order/8837991727410"),
            Some(8837991727410)
        );
        assert_eq!(
            gid_number("gid://shopify/InventoryLevel/5?inventory_item_id=3"),
            Some(5)
        );
        assert_eq!(gid_number("Order/1"), None);
    }
}
