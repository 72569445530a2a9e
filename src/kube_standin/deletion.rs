//! DELETE: preconditions, then either removal or, while finalizers remain,
//! a deletionTimestamp that holds the object until the last one is removed
//! (and forbids adding new ones).

use serde_json::{Map, Value, json};

use super::State;
use super::commit::WriteCtx;
use super::crd;
use super::errors::ApiError;
use super::objects::{ChangeType, Stored};
use super::resources::ResourceKind;

/// The outcome of a DELETE.
pub enum Deleted {
    /// Finalizers remain: the object now carries a deletionTimestamp.
    Pending(Value),
    Gone(Value),
}

pub fn delete(
    state: &mut State,
    cx: &WriteCtx<'_>,
    preconditions: Option<&Value>,
) -> Result<Deleted, ApiError> {
    let kind = cx.kind();
    let name = cx.target.name()?.to_owned();
    let ns = cx.target.ns_key().to_owned();
    let plural = kind.qualified_plural();
    let old = state
        .objects
        .get(&kind.storage, &ns, &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&plural, &name))?;
    for field in ["uid", "resourceVersion"] {
        let want = preconditions
            .and_then(|p| p.get(field))
            .and_then(Value::as_str);
        let have = old.value["metadata"][field].as_str().unwrap_or_default();
        if let Some(want) = want
            && want != have
        {
            let label = if field == "uid" {
                "UID"
            } else {
                "ResourceVersion"
            };
            return Err(ApiError::conflict(
                &plural,
                &name,
                &format!(
                    "Precondition failed: {label} in precondition: {want}, {label} in object meta: {have}"
                ),
            ));
        }
    }
    let has_finalizers = old.value["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if has_finalizers {
        if old.value["metadata"].get("deletionTimestamp").is_some() || cx.dry_run {
            return Ok(Deleted::Pending(old.value));
        }
        let mut value = old.value.clone();
        value["metadata"]["deletionTimestamp"] = json!(cx.now);
        value["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        if let Some(g) = value["metadata"]["generation"].as_i64() {
            value["metadata"]["generation"] = json!(g + 1);
        }
        let stored = state.objects.put(
            &kind.storage,
            Stored {
                value,
                managers: old.managers,
            },
            ChangeType::Modified,
        );
        return Ok(Deleted::Pending(stored));
    }
    if cx.dry_run {
        return Ok(Deleted::Gone(old.value));
    }
    let gone = state
        .objects
        .remove(&kind.storage, &ns, &name, None)
        .ok_or_else(|| ApiError::not_found(&plural, &name))?;
    crd::after_delete(state, &gone);
    Ok(Deleted::Gone(gone))
}

pub(super) fn check_no_new_finalizers(
    kind: &ResourceKind,
    name: &str,
    old_meta: &Value,
    meta: &Map<String, Value>,
) -> Result<(), ApiError> {
    let old: Vec<&Value> = old_meta["finalizers"]
        .as_array()
        .map(|f| f.iter().collect())
        .unwrap_or_default();
    let added: Vec<String> = meta
        .get("finalizers")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter(|x| !old.contains(x))
                .map(Value::to_string)
                .collect()
        })
        .unwrap_or_default();
    if added.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        &kind.qualified_kind(),
        name,
        &format!(
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers [{}]",
            added.join(", ")
        ),
    ))
}
