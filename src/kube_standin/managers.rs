//! Field managers: who manages which fields of an object (the API
//! server's `metadata.managedFields`), and how an ordinary write (create,
//! update, merge or JSON patch) moves ownership by what it changed.

use serde_json::{Value, json};

use super::fields::{self, FieldPath, FieldSet, Scope, Seg};
use super::schema::Schema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Apply,
    Update,
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    pub operation: Operation,
    /// `None` for the main resource, `Some("status")` for the subresource.
    pub subresource: Option<String>,
    pub api_version: String,
    pub time: String,
    pub fields: FieldSet,
}

impl ManagedEntry {
    pub(super) fn is(
        &self,
        manager: &str,
        operation: Operation,
        subresource: Option<&str>,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager,
            "operation": match self.operation { Operation::Apply => "Apply", Operation::Update => "Update" },
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields::fields_v1(&self.fields),
        });
        if let Some(s) = &self.subresource {
            v["subresource"] = json!(s);
        }
        v
    }
}

/// Who is writing, and through which endpoint.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    pub manager: &'a str,
    pub subresource: Option<&'a str>,
    pub api_version: &'a str,
    pub time: &'a str,
    pub scope: Scope,
}

/// An ordinary write (create, update, merge or JSON patch): the writer takes
/// the fields it changed, and every other manager loses them.
pub fn record_update(
    entries: &mut Vec<ManagedEntry>,
    w: &Writer<'_>,
    old: Option<&Value>,
    new: &Value,
    schema: &Schema,
) {
    let null = Value::Null;
    let old = old.unwrap_or(&null);
    let old_set = fields::field_set(old, schema, w.scope);
    let new_set = fields::field_set(new, schema, w.scope);
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| differs(old, new, p))
        .chain(old_set.difference(&new_set))
        .cloned()
        .collect();
    if changed.is_empty() {
        return;
    }
    for e in entries.iter_mut() {
        if !e.is(w.manager, Operation::Update, w.subresource) {
            e.fields.retain(|p| !changed.contains(p));
        }
    }
    let idx = match entries
        .iter()
        .position(|e| e.is(w.manager, Operation::Update, w.subresource))
    {
        Some(i) => i,
        None => {
            entries.push(new_entry(w, Operation::Update));
            entries.len() - 1
        }
    };
    let mine = &mut entries[idx];
    mine.fields.retain(|p| new_set.contains(p));
    mine.fields
        .extend(changed.into_iter().filter(|p| new_set.contains(p)));
    mine.time = w.time.to_owned();
    mine.api_version = w.api_version.to_owned();
    entries.retain(|e| !e.fields.is_empty());
}

pub(super) fn new_entry(w: &Writer<'_>, operation: Operation) -> ManagedEntry {
    ManagedEntry {
        manager: w.manager.to_owned(),
        operation,
        subresource: w.subresource.map(str::to_owned),
        api_version: w.api_version.to_owned(),
        time: w.time.to_owned(),
        fields: FieldSet::new(),
    }
}

/// List items and set members count as changed only when they appear or go;
/// leaves when their value differs.
fn differs(old: &Value, new: &Value, path: &FieldPath) -> bool {
    match path.last() {
        Some(Seg::Key(_) | Seg::Value(_)) => fields::value_at(old, path).is_none(),
        _ => fields::value_at(old, path) != fields::value_at(new, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube_standin::apply::apply;
    use crate::kube_standin::apply::tests::writer;

    #[test]
    fn updates_take_changed_fields_from_appliers() {
        let mut entries = Vec::new();
        let live = apply(
            None,
            &json!({"status": {"phase": "Up", "n": 1}}),
            &mut entries,
            &writer("a"),
            false,
            &Schema::none(),
        )
        .unwrap();
        let mut edited = live.clone();
        edited["status"]["phase"] = json!("Down");
        record_update(
            &mut entries,
            &writer("kubectl"),
            Some(&live),
            &edited,
            &Schema::none(),
        );
        let a = entries.iter().find(|e| e.manager == "a").unwrap();
        assert_eq!(a.fields.len(), 1, "a keeps only status.n");
        let k = entries.iter().find(|e| e.manager == "kubectl").unwrap();
        assert_eq!(k.operation, Operation::Update);
        assert_eq!(
            k.to_json()["fieldsV1"],
            json!({"f:status": {"f:phase": {}}})
        );
    }
}
