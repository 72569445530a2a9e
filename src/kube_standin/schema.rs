//! What the stand-in needs from a structural schema: how each list merges
//! under server-side apply (`x-kubernetes-list-type`), and which fields a
//! custom resource may hold (unknown ones are pruned, as the API server does
//! for CRDs without `x-kubernetes-preserve-unknown-fields`).

use serde_json::Value;

/// How a list is owned and merged by server-side apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// The whole list is one value: one owner, replaced as a unit.
    Atomic,
    /// Items are identified by these key fields and owned one by one.
    Map(Vec<String>),
    /// Scalar items, each owned on its own.
    Set,
}

/// A kind's openAPIV3Schema, or none for built-in kinds (which only get the
/// ObjectMeta rules every kind shares).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    root: Option<Value>,
}

impl Schema {
    pub fn none() -> Self {
        Schema { root: None }
    }

    pub fn new(open_api_v3: Value) -> Self {
        Schema {
            root: Some(open_api_v3),
        }
    }

    /// The list type at a path of field names (list items are not named:
    /// `["status", "conditions"]`, then `["status", "conditions", "x"]` for a
    /// field of an item).
    pub fn list_type(&self, names: &[&str]) -> ListType {
        match names {
            ["metadata", "ownerReferences"] => return ListType::Map(vec!["uid".into()]),
            ["metadata", "finalizers"] => return ListType::Set,
            _ => {}
        }
        let Some(schema) = self.root.as_ref().and_then(|r| walk(r, names)) else {
            return ListType::Atomic;
        };
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => {
                let keys = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|k| {
                        k.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                ListType::Map(keys)
            }
            Some("set") => ListType::Set,
            _ => ListType::Atomic,
        }
    }

    /// Drops fields the schema does not declare, everywhere but the type
    /// fields and metadata. Built-in kinds are left alone.
    pub fn prune(&self, object: &mut Value) {
        let (Some(root), Some(map)) = (self.root.as_ref(), object.as_object_mut()) else {
            return;
        };
        let Some(props) = root.get("properties").and_then(Value::as_object) else {
            return;
        };
        if preserves_unknown(root) {
            return;
        }
        map.retain(|k, _| {
            matches!(k.as_str(), "apiVersion" | "kind" | "metadata") || props.contains_key(k)
        });
        for (k, v) in map.iter_mut() {
            if let Some(s) = props.get(k)
                && k != "metadata"
            {
                prune_value(s, v);
            }
        }
    }
}

fn preserves_unknown(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

fn walk<'a>(mut schema: &'a Value, names: &[&str]) -> Option<&'a Value> {
    for name in names {
        let container = items_of(schema);
        schema = container
            .get("properties")
            .and_then(|p| p.get(*name))
            .or_else(|| {
                container
                    .get("additionalProperties")
                    .filter(|a| a.is_object())
            })?;
    }
    Some(schema)
}

fn items_of(schema: &Value) -> &Value {
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        schema.get("items").unwrap_or(schema)
    } else {
        schema
    }
}

fn prune_value(schema: &Value, value: &mut Value) {
    if preserves_unknown(schema) {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                map.retain(|k, _| props.contains_key(k));
                for (k, v) in map.iter_mut() {
                    if let Some(s) = props.get(k) {
                        prune_value(s, v);
                    }
                }
            } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object())
            {
                for v in map.values_mut() {
                    prune_value(extra, v);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    prune_value(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "store": {"type": "string"},
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "tags": {"type": "array", "x-kubernetes-list-type": "set",
                             "items": {"type": "string"}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                }},
                "status": {"type": "object", "properties": {
                    "conditions": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["type"],
                        "items": {"type": "object", "properties": {
                            "type": {"type": "string"}, "status": {"type": "string"}}}}
                }}
            }
        }))
    }

    #[test]
    fn list_types_come_from_the_schema_extensions() {
        let s = schema();
        assert_eq!(
            s.list_type(&["status", "conditions"]),
            ListType::Map(vec!["type".into()])
        );
        assert_eq!(s.list_type(&["spec", "tags"]), ListType::Set);
        assert_eq!(s.list_type(&["spec", "scopes"]), ListType::Atomic);
        assert_eq!(s.list_type(&["spec", "nothing"]), ListType::Atomic);
        assert_eq!(
            Schema::none().list_type(&["metadata", "ownerReferences"]),
            ListType::Map(vec!["uid".into()])
        );
    }

    #[test]
    fn pruning_drops_undeclared_fields_only() {
        let mut obj = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "whatever": 1},
            "spec": {"store": "s", "bogus": true, "labels": {"k": "v"}, "free": {"any": 1}},
            "status": {"conditions": [{"type": "Ready", "status": "True", "extra": 1}], "nope": 2},
            "top": 3
        });
        schema().prune(&mut obj);
        assert_eq!(
            obj,
            json!({
                "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "whatever": 1},
                "spec": {"store": "s", "labels": {"k": "v"}, "free": {"any": 1}},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}
            })
        );
    }
}
