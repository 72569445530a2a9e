//! Server-side apply: merging an applied configuration into the live object
//! (associative lists by key, sets by value, everything else replaced),
//! conflicts with fields other managers set to other values, and removal of
//! fields the applier stops sending and nobody else manages.

use serde_json::{Map, Value};

use super::fields::{self, FieldPath, FieldSet, Scope, Seg};
use super::managers::{ManagedEntry, Operation, Writer, new_entry};
use super::schema::{ListType, Schema};

/// Fields another manager holds with a different value than the apply sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflicts(pub Vec<(String, String)>);

/// Server-side apply of `applied` onto `live` (None when the object does not
/// exist yet). Returns the merged object; `entries` is updated in place.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    entries: &mut Vec<ManagedEntry>,
    w: &Writer<'_>,
    force: bool,
    schema: &Schema,
) -> Result<Value, Conflicts> {
    let empty = Value::Object(Map::new());
    let live = live.unwrap_or(&empty);
    let applied_set = fields::field_set(applied, schema, w.scope);

    let mut conflicts = Vec::new();
    for e in entries.iter() {
        if e.manager == w.manager {
            continue;
        }
        for p in e.fields.intersection(&applied_set) {
            let leaf = !matches!(p.last(), Some(Seg::Key(_) | Seg::Value(_)));
            if leaf && fields::value_at(live, p) != fields::value_at(applied, p) {
                conflicts.push((e.manager.clone(), fields::render(p)));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        conflicts.sort();
        conflicts.dedup();
        return Err(Conflicts(conflicts));
    }

    let mut merged = live.clone();
    merge_into(
        &mut merged,
        &scoped(applied, w.scope),
        schema,
        &mut Vec::new(),
    );

    let pos = entries
        .iter()
        .position(|e| e.is(w.manager, Operation::Apply, w.subresource));
    let previously: FieldSet = pos.map(|i| entries[i].fields.clone()).unwrap_or_default();
    let others: Vec<&ManagedEntry> = entries
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != pos)
        .map(|(_, e)| e)
        .collect();
    let mut dropped: Vec<&FieldPath> = previously.difference(&applied_set).collect();
    // Shallowest first: an item nobody else owns goes whole, fields and all.
    dropped.sort_by_key(|p| p.len());
    for p in dropped {
        let still_owned = others
            .iter()
            .any(|e| e.fields.iter().any(|q| fields::is_under(q, p)));
        if !still_owned && !is_key_field(p) {
            fields::remove_at(&mut merged, p);
        }
    }

    if force {
        for e in entries.iter_mut() {
            if e.manager != w.manager {
                e.fields.retain(|p| {
                    !(applied_set.contains(p)
                        && fields::value_at(live, p) != fields::value_at(applied, p))
                });
            }
        }
    }
    let idx = match pos {
        Some(i) => i,
        None => {
            entries.push(new_entry(w, Operation::Apply));
            entries.len() - 1
        }
    };
    let mine = &mut entries[idx];
    mine.fields = applied_set;
    mine.time = w.time.to_owned();
    mine.api_version = w.api_version.to_owned();
    entries.retain(|e| !e.fields.is_empty());
    Ok(merged)
}

/// A key field of a list item that stays: removing it would orphan the item.
fn is_key_field(path: &[Seg]) -> bool {
    match path {
        [.., Seg::Key(key), Seg::Field(name)] => {
            serde_json::from_str::<Map<String, Value>>(key).is_ok_and(|k| k.contains_key(name))
        }
        _ => false,
    }
}

/// The part of an applied configuration a write may touch.
fn scoped(applied: &Value, scope: Scope) -> Value {
    let mut v = applied.clone();
    if let Some(map) = v.as_object_mut() {
        match scope {
            Scope::All => {}
            Scope::NotStatus => {
                map.remove("status");
            }
            Scope::StatusOnly => map.retain(|k, _| k == "status"),
        }
    }
    v
}

fn merge_into(live: &mut Value, applied: &Value, schema: &Schema, names: &mut Vec<String>) {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            for (k, av) in a {
                if av.is_null() {
                    l.remove(k);
                    continue;
                }
                names.push(k.clone());
                match l.get_mut(k) {
                    Some(lv) => merge_into(lv, av, schema, names),
                    None => {
                        l.insert(k.clone(), av.clone());
                    }
                }
                names.pop();
            }
        }
        (Value::Array(l), Value::Array(a)) => {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            match schema.list_type(&refs) {
                ListType::Map(keys) => {
                    for item in a {
                        let key = fields::item_key(item, &keys);
                        let found = l
                            .iter_mut()
                            .find(|i| key.is_some() && fields::item_key(i, &keys) == key);
                        match found {
                            Some(existing) => merge_into(existing, item, schema, names),
                            None => l.push(item.clone()),
                        }
                    }
                }
                ListType::Set => {
                    for item in a {
                        if !l.contains(item) {
                            l.push(item.clone());
                        }
                    }
                }
                ListType::Atomic => *l = a.clone(),
            }
        }
        (live, applied) => *live = applied.clone(),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(
            json!({"type": "object", "properties": {"status": {"type": "object",
            "properties": {"conditions": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"], "items": {"type": "object"}}}}}}),
        )
    }

    /// A status writer at a fixed time, shared with the managers' tests.
    pub(in crate::kube_standin) fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            subresource: Some("status"),
            api_version: "x/v1",
            time: "2026-01-01T00:00:00Z",
            scope: Scope::StatusOnly,
        }
    }

    fn cond(t: &str, s: &str) -> Value {
        json!({"type": t, "status": s})
    }

    #[test]
    fn conditions_merge_by_type_across_managers() {
        let mut entries = Vec::new();
        let a = json!({"status": {"conditions": [cond("Ready", "True")]}});
        let live = apply(None, &a, &mut entries, &writer("a"), false, &schema()).unwrap();
        let b = json!({"status": {"conditions": [cond("Synced", "False")]}});
        let live = apply(
            Some(&live),
            &b,
            &mut entries,
            &writer("b"),
            false,
            &schema(),
        )
        .unwrap();
        assert_eq!(
            live["status"]["conditions"],
            json!([cond("Ready", "True"), cond("Synced", "False")])
        );
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn reapplying_without_a_field_removes_it() {
        let mut entries = Vec::new();
        let first = json!({"status": {"phase": "Up", "conditions": [cond("Ready", "True"), cond("Old", "True")]}});
        let live = apply(None, &first, &mut entries, &writer("a"), false, &schema()).unwrap();
        let second = json!({"status": {"conditions": [cond("Ready", "False")]}});
        let live = apply(
            Some(&live),
            &second,
            &mut entries,
            &writer("a"),
            false,
            &schema(),
        )
        .unwrap();
        assert_eq!(
            live,
            json!({"status": {"conditions": [cond("Ready", "False")]}})
        );
    }

    #[test]
    fn fields_shared_with_another_manager_stay() {
        let mut entries = Vec::new();
        let both = json!({"status": {"phase": "Up"}});
        let live = apply(None, &both, &mut entries, &writer("a"), false, &schema()).unwrap();
        let live = apply(
            Some(&live),
            &both,
            &mut entries,
            &writer("b"),
            false,
            &schema(),
        )
        .unwrap();
        let live = apply(
            Some(&live),
            &json!({"status": {}}),
            &mut entries,
            &writer("a"),
            false,
            &schema(),
        )
        .unwrap();
        assert_eq!(live["status"]["phase"], "Up");
    }

    #[test]
    fn different_values_conflict_unless_forced() {
        let mut entries = Vec::new();
        let live = apply(
            None,
            &json!({"status": {"phase": "Up"}}),
            &mut entries,
            &writer("a"),
            false,
            &schema(),
        )
        .unwrap();
        let other = json!({"status": {"phase": "Down"}});
        let err = apply(
            Some(&live),
            &other,
            &mut entries,
            &writer("b"),
            false,
            &schema(),
        )
        .unwrap_err();
        assert_eq!(err.0, vec![("a".to_owned(), ".status.phase".to_owned())]);
        let live = apply(
            Some(&live),
            &other,
            &mut entries,
            &writer("b"),
            true,
            &schema(),
        )
        .unwrap();
        assert_eq!(live["status"]["phase"], "Down");
        assert!(
            entries.iter().all(|e| e.manager == "b"),
            "a lost its only field"
        );
    }
}
