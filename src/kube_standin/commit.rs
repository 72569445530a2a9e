//! What every create and update does before it is stored, whatever verb
//! carried it: server-owned metadata, status-subresource rules, finalizers on
//! deleting objects, admission (see `intake.rs`), generation, field managers,
//! no-op detection, and removal once the last finalizer goes.

use serde_json::{Map, Value, json};

use super::State;
use super::crd;
use super::deletion::check_no_new_finalizers;
use super::errors::ApiError;
use super::fields::Scope;
use super::intake::{admit, check_name, ensure_namespace, random_suffix};
use super::managers::{self, ManagedEntry, Writer};
use super::objects::{ChangeType, Stored};
use super::resources::{Behaviour, ResourceKind};
use super::target::Target;

/// Who writes, through which endpoint, and whether to store the result.
pub struct WriteCtx<'a> {
    pub target: &'a Target,
    pub api_version: String,
    pub manager: String,
    pub dry_run: bool,
    pub now: String,
}

/// Metadata clients cannot set.
const SERVER_OWNED: [&str; 7] = [
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "selfLink",
];

impl<'a> WriteCtx<'a> {
    pub fn new(target: &'a Target, manager: String, dry_run: bool) -> Self {
        WriteCtx {
            target,
            api_version: target.api_version(),
            manager,
            dry_run,
            now: now(),
        }
    }

    pub fn writer(&self) -> Writer<'_> {
        Writer {
            manager: &self.manager,
            subresource: self.target.status.then_some("status"),
            api_version: &self.api_version,
            time: &self.now,
            scope: self.scope(),
        }
    }

    pub fn scope(&self) -> Scope {
        match (self.target.status, self.target.kind.status_subresource) {
            (true, _) => Scope::StatusOnly,
            (false, true) => Scope::NotStatus,
            (false, false) => Scope::All,
        }
    }

    pub(super) fn kind(&self) -> &ResourceKind {
        &self.target.kind
    }
}

/// Now, as metadata timestamps are written (RFC 3339, whole seconds).
pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| jiff::Timestamp::now().to_string())
}

/// Creates an object. `applied` carries the managers when apply creates it.
pub fn create(
    state: &mut State,
    cx: &WriteCtx<'_>,
    mut obj: Value,
    applied: Option<Vec<ManagedEntry>>,
) -> Result<Value, ApiError> {
    let kind = cx.kind();
    let meta = metadata_mut(&mut obj)?;
    for k in SERVER_OWNED.iter().chain(&["resourceVersion"]) {
        meta.remove(*k);
    }
    let name = place(cx, meta)?;
    check_name(kind, &name)?;
    meta.insert("name".into(), json!(name));
    if state
        .objects
        .get(&kind.storage, cx.target.ns_key(), &name)
        .is_some()
    {
        return Err(ApiError::already_exists(&kind.qualified_plural(), &name));
    }
    if kind.status_subresource
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    let mut obj = admit(state, kind, obj, None)?;
    if kind.behaviour == Behaviour::Crd {
        crd::accept(&mut obj, &cx.now)
            .map_err(|m| ApiError::invalid(&kind.qualified_kind(), &name, &m))?;
    }
    let meta = metadata_mut(&mut obj)?;
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(cx.now));
    if kind.tracks_generation() {
        meta.insert("generation".into(), json!(1));
    }
    let managers = match applied {
        Some(m) => m,
        None => {
            let mut m = Vec::new();
            managers::record_update(&mut m, &cx.writer(), None, &obj, &kind.schema);
            m
        }
    };
    if cx.dry_run {
        return Ok(obj);
    }
    if let Some(ns) = &cx.target.namespace {
        ensure_namespace(state, ns, &cx.now);
    }
    let stored = state.objects.put(
        &kind.storage,
        Stored {
            value: obj,
            managers,
        },
        ChangeType::Added,
    );
    crd::after_write(state, &stored);
    Ok(stored)
}

/// Settles a new object's namespace (the request's) and name (given, or
/// generated from `generateName`).
fn place(cx: &WriteCtx<'_>, meta: &mut Map<String, Value>) -> Result<String, ApiError> {
    match (
        &cx.target.namespace,
        meta.get("namespace").and_then(Value::as_str),
    ) {
        (Some(want), Some(have)) if want != have => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        (Some(want), _) => {
            meta.insert("namespace".into(), json!(want));
        }
        (None, _) => {
            meta.remove("namespace");
        }
    }
    let name = match (
        meta.get("name").and_then(Value::as_str),
        meta.get("generateName").and_then(Value::as_str),
    ) {
        (Some(n), _) if !n.is_empty() => n.to_owned(),
        (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{}", random_suffix()),
        _ => {
            return Err(ApiError::invalid(
                &cx.kind().qualified_kind(),
                "",
                "metadata.name: Required value: name or generateName is required",
            ));
        }
    };
    if let Some(t) = &cx.target.name
        && *t != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({t})"
        )));
    }
    Ok(name)
}

/// Replaces `old` with `candidate` under the rules of the endpoint written to.
pub fn update(
    state: &mut State,
    cx: &WriteCtx<'_>,
    old: &Stored,
    candidate: Value,
    applied: Option<Vec<ManagedEntry>>,
) -> Result<Value, ApiError> {
    let kind = cx.kind();
    let name = cx.target.name()?.to_owned();
    let old_meta = old.value.get("metadata").cloned().unwrap_or_default();
    let mut new = candidate;
    let meta = metadata_mut(&mut new)?;
    if let Some(n) = meta.get("name").and_then(Value::as_str)
        && n != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        )));
    }
    if let (Some(want), Some(have)) = (
        &cx.target.namespace,
        meta.get("namespace").and_then(Value::as_str),
    ) && want != have
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let stale = meta
        .get("resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|rv| Some(rv) != old_meta["resourceVersion"].as_str());
    if stale {
        return Err(ApiError::stale(&kind.qualified_plural(), &name));
    }
    let mut new = if cx.target.status {
        let mut from_old = old.value.clone();
        set_or_remove(&mut from_old, "status", new.get("status").cloned());
        from_old
    } else {
        if kind.status_subresource {
            set_or_remove(&mut new, "status", old.value.get("status").cloned());
        }
        new
    };
    let meta = metadata_mut(&mut new)?;
    for k in SERVER_OWNED.iter().chain(&["name", "namespace"]) {
        match old_meta.get(*k) {
            Some(v) => meta.insert((*k).to_owned(), v.clone()),
            None => meta.remove(*k),
        };
    }
    if old_meta.get("deletionTimestamp").is_some() {
        check_no_new_finalizers(kind, &name, &old_meta, meta)?;
    }
    let mut new = admit(state, kind, new, Some(&old.value))?;
    // The hook's answer is trusted to be an object; check before indexing into it.
    metadata_mut(&mut new)?;
    if kind.behaviour == Behaviour::Crd {
        crd::accept(&mut new, &cx.now)
            .map_err(|m| ApiError::invalid(&kind.qualified_kind(), &name, &m))?;
    }
    if kind.tracks_generation() && spec_of(&new) != spec_of(&old.value) {
        let generation = old_meta["generation"].as_i64().unwrap_or(1) + 1;
        new["metadata"]["generation"] = json!(generation);
    }
    let managers = match applied {
        Some(m) => m,
        None => {
            let mut m = old.managers.clone();
            managers::record_update(&mut m, &cx.writer(), Some(&old.value), &new, &kind.schema);
            m
        }
    };
    if without_bookkeeping(&new) == without_bookkeeping(&old.value)
        && same_fields(&managers, &old.managers)
    {
        // No change: no new resourceVersion and no watch event, as on a real server.
        return Ok(old.value.clone());
    }
    if cx.dry_run {
        return Ok(new);
    }
    let deleting = new["metadata"].get("deletionTimestamp").is_some();
    let finalized = new["metadata"]["finalizers"]
        .as_array()
        .is_none_or(Vec::is_empty);
    if deleting && finalized {
        let ns = cx.target.ns_key();
        new["metadata"]["managedFields"] =
            Value::Array(managers.iter().map(ManagedEntry::to_json).collect());
        let gone = state.objects.remove(&kind.storage, ns, &name, Some(new));
        if let Some(g) = &gone {
            crd::after_delete(state, g);
        }
        return gone.ok_or_else(|| ApiError::not_found(&kind.qualified_plural(), &name));
    }
    let stored = state.objects.put(
        &kind.storage,
        Stored {
            value: new,
            managers,
        },
        ChangeType::Modified,
    );
    crd::after_write(state, &stored);
    Ok(stored)
}

pub(super) fn metadata_mut(obj: &mut Value) -> Result<&mut Map<String, Value>, ApiError> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if meta.is_null() {
        *meta = json!({});
    }
    meta.as_object_mut()
        .ok_or_else(|| ApiError::bad_request("metadata must be an object"))
}

fn set_or_remove(obj: &mut Value, key: &str, value: Option<Value>) {
    if let Some(map) = obj.as_object_mut() {
        match value {
            Some(v) => map.insert(key.to_owned(), v),
            None => map.remove(key),
        };
    }
}

/// Everything `metadata.generation` tracks: all but metadata and status.
fn spec_of(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

fn without_bookkeeping(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    v
}

fn same_fields(a: &[ManagedEntry], b: &[ManagedEntry]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.manager == y.manager && x.operation == y.operation && x.fields == y.fields
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_ignores_metadata_and_status() {
        let a = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"x": 1}, "status": {"y": 1}});
        let b = json!({"metadata": {"labels": {"a": "2"}}, "spec": {"x": 1}, "status": {"y": 2}});
        assert_eq!(spec_of(&a), spec_of(&b));
        let c = json!({"metadata": {}, "spec": {"x": 2}});
        assert_ne!(spec_of(&a), spec_of(&c));
    }
}
