//! The `data` tree with fields in selection order, as GraphQL requires
//! (serde_json's map sorts keys unless a crate-wide feature is enabled, which
//! would reorder other modules' output).

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// Response keys borrow the plan's field keys: a page of 250 orders would
/// otherwise allocate a key string per field per order.
#[derive(Debug, Clone, PartialEq)]
pub enum Out<'p> {
    Null,
    Value(Value),
    Object(Vec<(Cow<'p, str>, Out<'p>)>),
    List(Vec<Out<'p>>),
}

/// One step of a response path, kept borrowed until an error needs it.
#[derive(Debug, Clone, Copy)]
pub enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

/// A path as the `path` member of an error entry.
pub fn segments(path: &[Seg<'_>]) -> Vec<Value> {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => Value::String((*k).to_string()),
            Seg::Index(i) => Value::from(*i),
        })
        .collect()
}

impl<'p> Out<'p> {
    pub fn get(&self, key: &str) -> Option<&Out<'p>> {
        match self {
            Out::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Out::Value(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn string(s: impl Into<String>) -> Out<'p> {
        Out::Value(Value::String(s.into()))
    }
}

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Null => s.serialize_unit(),
            Out::Value(v) => v.serialize(s),
            Out::Object(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Out::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_field_order() {
        let o = Out::Object(vec![
            ("b".into(), Out::string("1")),
            ("a".into(), Out::List(vec![Out::Null])),
        ]);
        assert_eq!(
            serde_json::to_string(&o).expect("serialises"),
            r#"{"b":"1","a":[null]}"#
        );
        assert_eq!(o.get("b").and_then(Out::as_str), Some("1"));
    }
}
