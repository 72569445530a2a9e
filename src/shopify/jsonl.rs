//! Reading a bulk operation's JSONL result. Each line is one object; a node
//! from a nested connection is its own line carrying `__parentId`. Children
//! come after their parent but, without `groupObjects`, not necessarily right
//! after it (shopify-admin-api.md §3.6), so children are attached by
//! `__parentId`, never by adjacency. Memory is bounded by one stage's roots:
//! the engine sizes stages so that holds.

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
        "{count} child lines name parents that are not in the result (first: {example}); the file is incomplete"
    )]
    Orphans { count: usize, example: String },
}

/// Collects the lines of one result, in any order.
#[derive(Debug, Default)]
pub struct Assembler {
    roots: Vec<Map<String, Value>>,
    index: HashMap<String, usize>,
    /// Children whose parent has not been seen yet.
    waiting: HashMap<String, Vec<Map<String, Value>>>,
    children: Vec<HashMap<String, Vec<Map<String, Value>>>>,
    lines: u64,
}

impl Assembler {
    pub fn new() -> Assembler {
        Assembler::default()
    }

    /// Lines read so far (blank lines are not counted).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Adds one line; blank lines and a missing final newline are tolerated.
    pub fn push_line(&mut self, line: &[u8]) -> Result<(), JsonlError> {
        let line = trim_ascii(line);
        if line.is_empty() {
            return Ok(());
        }
        self.lines += 1;
        let number = self.lines;
        let mut object: Map<String, Value> = match serde_json::from_slice(line) {
            Ok(Value::Object(o)) => o,
            Ok(other) => {
                return Err(JsonlError::BadLine {
                    line: number,
                    detail: format!("found {other}"),
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
            Some(Value::String(parent)) => {
                match self.index.get(&parent) {
                    Some(&i) => attach(&mut self.children[i], object),
                    None => self.waiting.entry(parent).or_default().push(object),
                }
                Ok(())
            }
            _ => {
                let id = object
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or(JsonlError::NoId { line: number })?
                    .to_owned();
                let mut children = HashMap::new();
                for child in self.waiting.remove(&id).unwrap_or_default() {
                    attach(&mut children, child);
                }
                self.index.insert(id, self.roots.len());
                self.roots.push(object);
                self.children.push(children);
                Ok(())
            }
        }
    }

    /// Every root with its children. Children whose parent never appeared
    /// mean the file was cut short: that is an error, not a silent drop.
    pub fn finish(self) -> Result<Vec<Assembled>, JsonlError> {
        if let Some(parent) = self.waiting.keys().next() {
            return Err(JsonlError::Orphans {
                count: self.waiting.values().map(Vec::len).sum(),
                example: parent.clone(),
            });
        }
        Ok(self
            .roots
            .into_iter()
            .zip(self.children)
            .map(|(root, children)| Assembled { root, children })
            .collect())
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

    fn assemble(text: &str) -> Result<Vec<Assembled>, JsonlError> {
        let mut a = Assembler::new();
        for line in text.split('\n') {
            a.push_line(line.as_bytes())?;
        }
        a.finish()
    }

    #[test]
    fn children_attach_by_parent_id_not_by_adjacency() {
        let text = r##"{"id":"gid://shopify/Order/1","name":"#1001"}
{"id":"gid://shopify/Order/2","name":"#1002"}
{"id":"gid://shopify/LineItem/7","sku":"A-1","__parentId":"gid://shopify/Order/1"}
{"id":"gid://shopify/Return/9","__parentId":"gid://shopify/Order/2"}
{"id":"gid://shopify/LineItem/8","sku":"B-2","__parentId":"gid://shopify/Order/2"}"##;
        let orders = assemble(text).unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0].children["LineItem"][0]["sku"], "A-1");
        assert_eq!(orders[1].children["LineItem"][0]["sku"], "B-2");
        assert_eq!(orders[1].children["Return"].len(), 1);
        assert!(!orders[0].children["LineItem"][0].contains_key("__parentId"));
    }

    #[test]
    fn a_child_before_its_parent_still_attaches() {
        let text = "{\"id\":\"gid://shopify/LineItem/7\",\"__parentId\":\"gid://shopify/Order/1\"}\n{\"id\":\"gid://shopify/Order/1\"}";
        let orders = assemble(text).unwrap();
        assert_eq!(orders[0].children["LineItem"].len(), 1);
    }

    #[test]
    fn truncated_files_are_errors_not_silent_drops() {
        let orphan =
            "{\"id\":\"gid://shopify/LineItem/7\",\"__parentId\":\"gid://shopify/Order/1\"}\n";
        assert!(matches!(assemble(orphan), Err(JsonlError::Orphans { .. })));
        let cut = "{\"id\":\"gid://shopify/Order/1\"}\n{\"id\":\"gid://sho";
        assert!(matches!(
            assemble(cut),
            Err(JsonlError::BadLine { line: 2, .. })
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
