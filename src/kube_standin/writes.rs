//! The write verbs: create (POST), replace (PUT), the four PATCH formats and
//! delete, each reduced to the shared rules in `commit.rs`.

use serde_json::{Value, json};

use super::State;
use super::apply;
use super::commit::{self, WriteCtx};
use super::deletion::{self, Deleted};
use super::errors::ApiError;
use super::params::{Query, Selection};
use super::patch::{self, JsonPatchError, PatchKind};
use super::target::Target;

/// A request body as JSON (YAML is accepted too: apply bodies are YAML by name).
pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    serde_json::from_slice(body)
        .or_else(|_| yaml_serde::from_slice(body))
        .map_err(|e| ApiError::bad_request(format!("the body could not be decoded: {e}")))
}

fn object(body: &[u8]) -> Result<Value, ApiError> {
    let v = parse_body(body)?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(ApiError::bad_request("the body must be a JSON object"))
    }
}

pub fn create(
    state: &mut State,
    t: &Target,
    q: &Query,
    manager: String,
    body: &[u8],
) -> Result<Value, ApiError> {
    let body = object(body)?;
    t.check_type(&body)?;
    let cx = WriteCtx::new(t, manager, q.dry_run());
    let created = commit::create(state, &cx, t.ingest(&body), None)?;
    Ok(t.present(&created))
}

pub fn replace(
    state: &mut State,
    t: &Target,
    q: &Query,
    manager: String,
    body: &[u8],
) -> Result<Value, ApiError> {
    let body = object(body)?;
    t.check_type(&body)?;
    let name = t.name()?;
    let kind = &t.kind;
    let old = state
        .objects
        .get(&kind.storage, t.ns_key(), name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&kind.qualified_plural(), name))?;
    let has_rv = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|rv| !rv.is_empty());
    if kind.custom && !has_rv {
        return Err(ApiError::invalid(
            &kind.qualified_kind(),
            name,
            "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
        ));
    }
    let cx = WriteCtx::new(t, manager, q.dry_run());
    let updated = commit::update(state, &cx, &old, t.ingest(&body), None)?;
    Ok(t.present(&updated))
}

/// The outcome of a PATCH: apply may create the object.
pub struct Patched {
    pub object: Value,
    pub created: bool,
}

pub fn patch(
    state: &mut State,
    t: &Target,
    q: &Query,
    manager: String,
    content_type: &str,
    body: &[u8],
) -> Result<Patched, ApiError> {
    let kind = PatchKind::from_content_type(content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(content_type))?;
    if kind == PatchKind::Strategic && t.kind.custom {
        return Err(ApiError::unsupported_media_type(content_type));
    }
    if kind == PatchKind::Apply {
        return server_side_apply(state, t, q, body);
    }
    let name = t.name()?;
    let old = state
        .objects
        .get(&t.kind.storage, t.ns_key(), name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&t.kind.qualified_plural(), name))?;
    let current = t.present(&old.value);
    let doc = parse_body(body)?;
    let patched = match kind {
        PatchKind::Json => patch::json(&current, &doc).map_err(|e| match e {
            JsonPatchError::Malformed(_) => ApiError::bad_request(e.to_string()),
            JsonPatchError::Failed(_) => ApiError::unprocessable(e.to_string()),
        })?,
        _ => {
            let mut d = current;
            patch::merge(&mut d, &doc);
            d
        }
    };
    if !patched.is_object() {
        return Err(ApiError::unprocessable(
            "the patched object is not a JSON object",
        ));
    }
    let cx = WriteCtx::new(t, manager, q.dry_run());
    let updated = commit::update(state, &cx, &old, t.ingest(&patched), None)?;
    Ok(Patched {
        object: t.present(&updated),
        created: false,
    })
}

fn server_side_apply(
    state: &mut State,
    t: &Target,
    q: &Query,
    body: &[u8],
) -> Result<Patched, ApiError> {
    let manager = q.get("fieldManager").ok_or_else(|| {
        ApiError::unprocessable(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        )
    })?;
    let name = t.name()?;
    let mut body = object(body)?;
    if body.get("apiVersion").is_none() || body.get("kind").is_none() {
        return Err(ApiError::bad_request(
            "invalid object type: apply needs apiVersion and kind in the body",
        ));
    }
    t.check_type(&body)?;
    let meta = match body.get_mut("metadata") {
        None | Some(Value::Null) => {
            body["metadata"] = json!({});
            &mut body["metadata"]
        }
        Some(m) if m.is_object() => m,
        Some(_) => return Err(ApiError::bad_request("metadata must be an object")),
    };
    match meta.get("name").and_then(Value::as_str) {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        Some(_) => {}
        None => meta["name"] = json!(name),
    }
    let force = q.flag("force");
    let applied = t.ingest(&body);
    let cx = WriteCtx::new(t, manager.to_owned(), q.dry_run());
    let schema = &t.kind.schema;
    let old = state
        .objects
        .get(&t.kind.storage, t.ns_key(), name)
        .cloned();
    let (object, created) = match old {
        None if t.status => return Err(ApiError::not_found(&t.kind.qualified_plural(), name)),
        None => {
            let mut entries = Vec::new();
            let merged = apply::apply(None, &applied, &mut entries, &cx.writer(), force, schema)
                .map_err(|c| ApiError::apply_conflicts(&c.0))?;
            (commit::create(state, &cx, merged, Some(entries))?, true)
        }
        Some(old) => {
            let mut entries = old.managers.clone();
            let merged = apply::apply(
                Some(&old.value),
                &applied,
                &mut entries,
                &cx.writer(),
                force,
                schema,
            )
            .map_err(|c| ApiError::apply_conflicts(&c.0))?;
            (
                commit::update(state, &cx, &old, merged, Some(entries))?,
                false,
            )
        }
    };
    Ok(Patched {
        object: t.present(&object),
        created,
    })
}

/// What a DELETE answers: the object (still there with a deletionTimestamp,
/// or as it was last), or for built-in kinds a `Status` once it is gone.
pub fn delete(state: &mut State, t: &Target, q: &Query, body: &[u8]) -> Result<Value, ApiError> {
    let options = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        parse_body(body)?
    };
    let dry_run = q.dry_run()
        || options["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "All"));
    let cx = WriteCtx::new(t, String::new(), dry_run);
    match deletion::delete(state, &cx, options.get("preconditions"))? {
        Deleted::Pending(v) => Ok(t.present(&v)),
        Deleted::Gone(v) if t.kind.custom => Ok(t.present(&v)),
        Deleted::Gone(v) => Ok(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": v["metadata"]["name"], "group": t.kind.group,
                        "kind": t.kind.plural, "uid": v["metadata"]["uid"]},
        })),
    }
}

/// DELETE on a collection: every selected object, as a list of what was deleted.
pub fn delete_collection(state: &mut State, t: &Target, q: &Query) -> Result<Value, ApiError> {
    let selection = Selection::from_query(q, &t.kind)?;
    let names: Vec<(String, String)> = state
        .objects
        .list(&t.kind.storage, t.namespace.as_deref())
        .into_iter()
        .filter(|s| selection.matches(&s.value))
        .map(|s| {
            let m = &s.value["metadata"];
            (
                m["namespace"].as_str().unwrap_or_default().to_owned(),
                m["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut items = Vec::new();
    for (ns, name) in names {
        let one = Target {
            namespace: (!ns.is_empty()).then_some(ns),
            name: Some(name),
            ..t.clone()
        };
        let cx = WriteCtx::new(&one, String::new(), q.dry_run());
        match deletion::delete(state, &cx, None)? {
            Deleted::Pending(v) | Deleted::Gone(v) => items.push(t.present(&v)),
        }
    }
    Ok(json!({
        "kind": t.kind.list_kind(),
        "apiVersion": t.api_version(),
        "metadata": {"resourceVersion": state.objects.rv().to_string()},
        "items": items,
    }))
}
