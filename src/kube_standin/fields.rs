//! Field paths and field sets, the unit of ownership in server-side apply.
//! A set holds leaf fields, whole atomic lists, and one entry per item of an
//! associative list (its key), encoded as the API server's `fieldsV1`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::schema::{ListType, Schema};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Field(String),
    /// An item of a map list, by its key fields as canonical JSON (`{"type":"Ready"}`).
    Key(String),
    /// An item of a set list, by its value as JSON.
    Value(String),
}

pub type FieldPath = Vec<Seg>;
pub type FieldSet = BTreeSet<FieldPath>;

/// Which part of the object a write may own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole object.
    All,
    /// Everything but `status` (main resource of a kind with a status subresource).
    NotStatus,
    /// Only `status` (the status subresource).
    StatusOnly,
}

/// Metadata the server owns; nobody manages it through apply or update.
const SERVER_METADATA: [&str; 10] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The fields `object` sets, within `scope`.
pub fn field_set(object: &Value, schema: &Schema, scope: Scope) -> FieldSet {
    let mut set = FieldSet::new();
    let Some(map) = object.as_object() else {
        return set;
    };
    for (k, v) in map {
        let keep = match (k.as_str(), scope) {
            ("apiVersion" | "kind", _) => false,
            ("status", Scope::NotStatus) => false,
            ("status", _) => true,
            (_, Scope::StatusOnly) => false,
            _ => true,
        };
        if !keep {
            continue;
        }
        if k == "metadata" {
            if let Some(meta) = v.as_object() {
                for (mk, mv) in meta {
                    if !SERVER_METADATA.contains(&mk.as_str()) {
                        let path = vec![Seg::Field(k.clone()), Seg::Field(mk.clone())];
                        collect(
                            mv,
                            schema,
                            &mut vec![k.as_str(), mk.as_str()],
                            path,
                            &mut set,
                        );
                    }
                }
            }
            continue;
        }
        collect(
            v,
            schema,
            &mut vec![k.as_str()],
            vec![Seg::Field(k.clone())],
            &mut set,
        );
    }
    set
}

fn collect<'a>(
    value: &'a Value,
    schema: &Schema,
    names: &mut Vec<&'a str>,
    path: FieldPath,
    set: &mut FieldSet,
) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let mut child = path.clone();
                child.push(Seg::Field(k.clone()));
                names.push(k.as_str());
                collect(v, schema, names, child, set);
                names.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => match schema.list_type(names) {
            ListType::Map(keys) if items.iter().all(|i| item_key(i, &keys).is_some()) => {
                for item in items {
                    let Some(key) = item_key(item, &keys) else {
                        continue;
                    };
                    let mut item_path = path.clone();
                    item_path.push(Seg::Key(key));
                    set.insert(item_path.clone());
                    if let Some(fields) = item.as_object() {
                        for (k, v) in fields {
                            let mut child = item_path.clone();
                            child.push(Seg::Field(k.clone()));
                            names.push(k.as_str());
                            collect(v, schema, names, child, set);
                            names.pop();
                        }
                    }
                }
            }
            ListType::Set if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                for item in items {
                    let mut item_path = path.clone();
                    item_path.push(Seg::Value(item.to_string()));
                    set.insert(item_path);
                }
            }
            _ => {
                set.insert(path);
            }
        },
        _ => {
            set.insert(path);
        }
    }
}

/// The canonical key of a map-list item, or None when a key field is missing.
pub fn item_key(item: &Value, keys: &[String]) -> Option<String> {
    let mut key = Map::new();
    for k in keys {
        key.insert(k.clone(), item.get(k)?.clone());
    }
    Some(Value::Object(key).to_string())
}

fn key_matches(item: &Value, key: &str) -> bool {
    let Ok(Value::Object(want)) = serde_json::from_str::<Value>(key) else {
        return false;
    };
    want.iter().all(|(k, v)| item.get(k) == Some(v))
}

/// The value a path points at, if it exists.
pub fn value_at<'a>(object: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut cur = object;
    for seg in path {
        cur = match seg {
            Seg::Field(k) => cur.get(k)?,
            Seg::Key(key) => cur.as_array()?.iter().find(|i| key_matches(i, key))?,
            Seg::Value(v) => {
                let member = set_member(v)?;
                cur.as_array()?.iter().find(|i| **i == member)?
            }
        };
    }
    Some(cur)
}

fn value_at_mut<'a>(object: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = object;
    for seg in path {
        cur = match seg {
            Seg::Field(k) => cur.get_mut(k)?,
            Seg::Key(key) => cur
                .as_array_mut()?
                .iter_mut()
                .find(|i| key_matches(i, key))?,
            Seg::Value(v) => cur
                .as_array_mut()?
                .iter_mut()
                .find(|i| i.to_string() == *v)?,
        };
    }
    Some(cur)
}

fn set_member(encoded: &str) -> Option<Value> {
    serde_json::from_str(encoded).ok()
}

/// Removes the field, list item or set member a path points at.
pub fn remove_at(object: &mut Value, path: &[Seg]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let Some(parent) = value_at_mut(object, parent_path) else {
        return;
    };
    match (last, parent) {
        (Seg::Field(k), Value::Object(map)) => {
            map.remove(k);
        }
        (Seg::Key(key), Value::Array(items)) => items.retain(|i| !key_matches(i, key)),
        (Seg::Value(v), Value::Array(items)) => {
            let member = set_member(v);
            items.retain(|i| Some(i) != member.as_ref());
        }
        _ => {}
    }
}

/// True when `path` is `prefix` or below it.
pub fn is_under(path: &[Seg], prefix: &[Seg]) -> bool {
    path.len() >= prefix.len() && path[..prefix.len()] == *prefix
}

/// A path as apply conflicts name it: `.status.conditions[type="Ready"].status`.
pub fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Field(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Key(key) => {
                let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(key)
                    .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                    .unwrap_or_default();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            Seg::Value(v) => out.push_str(&format!("[={v}]")),
        }
    }
    out
}

/// The set in the API server's `fieldsV1` encoding.
pub fn fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        insert_path(&mut root, path);
    }
    Value::Object(root)
}

fn insert_path(node: &mut Map<String, Value>, path: &[Seg]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let name = match first {
        Seg::Field(k) => format!("f:{k}"),
        Seg::Key(k) => format!("k:{k}"),
        Seg::Value(v) => format!("v:{v}"),
    };
    let entry = node
        .entry(name)
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(child) = entry {
        if rest.is_empty() && matches!(first, Seg::Key(_)) {
            child.insert(".".into(), Value::Object(Map::new()));
        }
        insert_path(child, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(
            json!({"type": "object", "properties": {"status": {"type": "object",
            "properties": {"conditions": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"], "items": {"type": "object"}}}}}}),
        )
    }

    fn f(k: &str) -> Seg {
        Seg::Field(k.into())
    }

    #[test]
    fn map_list_items_are_owned_by_key() {
        let obj = json!({"apiVersion": "a/v1", "kind": "K", "metadata": {"name": "n", "labels": {"a": "b"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "phase": "Up"}});
        let set = field_set(&obj, &schema(), Scope::All);
        let key = Seg::Key(r#"{"type":"Ready"}"#.into());
        assert!(set.contains(&vec![f("metadata"), f("labels"), f("a")]));
        assert!(set.contains(&vec![f("status"), f("conditions"), key.clone()]));
        assert!(set.contains(&vec![
            f("status"),
            f("conditions"),
            key.clone(),
            f("status")
        ]));
        assert!(set.contains(&vec![f("status"), f("phase")]));
        assert!(!set.iter().any(|p| p.first() == Some(&f("apiVersion"))));
        assert!(!set.contains(&vec![f("metadata"), f("name")]));
        let status_only = field_set(&obj, &schema(), Scope::StatusOnly);
        assert!(status_only.iter().all(|p| p[0] == f("status")));
        let not_status = field_set(&obj, &schema(), Scope::NotStatus);
        assert!(not_status.iter().all(|p| p[0] != f("status")));
    }

    #[test]
    fn atomic_lists_and_sets() {
        let obj = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"scopes": ["x"]}});
        let set = field_set(&obj, &Schema::none(), Scope::All);
        assert!(set.contains(&vec![f("spec"), f("scopes")]));
        assert!(set.contains(&vec![
            f("metadata"),
            f("finalizers"),
            Seg::Value("\"a\"".into())
        ]));
    }

    #[test]
    fn value_at_and_remove_at_follow_keys() {
        let mut obj =
            json!({"status": {"conditions": [{"type": "A", "status": "x"}, {"type": "B"}]}});
        let path = vec![
            f("status"),
            f("conditions"),
            Seg::Key(r#"{"type":"A"}"#.into()),
            f("status"),
        ];
        assert_eq!(value_at(&obj, &path), Some(&json!("x")));
        remove_at(&mut obj, &path[..3]);
        assert_eq!(obj, json!({"status": {"conditions": [{"type": "B"}]}}));
        assert_eq!(render(&path), ".status.conditions[type=\"A\"].status");
    }

    #[test]
    fn fields_v1_encoding_marks_list_items() {
        let obj = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let v1 = fields_v1(&field_set(&obj, &schema(), Scope::All));
        assert_eq!(
            v1,
            json!({"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {
                ".": {}, "f:status": {}, "f:type": {}}}}})
        );
    }
}
