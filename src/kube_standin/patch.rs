//! The PATCH body formats, told apart by Content-Type, and the two that are
//! pure document transforms: JSON merge patch (RFC 7386) and JSON patch
//! (RFC 6902). Server-side apply lives in `apply.rs`.

use json_patch::PatchOperation;
use serde_json::Value;

/// Which patch a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Json,
    /// Built-in kinds only; applied as a merge patch here, which is what it
    /// amounts to for the fields shopsync touches (no list merge directives).
    Strategic,
    Apply,
}

impl PatchKind {
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// RFC 7386: objects merge key by key, `null` deletes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902, all or nothing. A `test` of `null` against a missing path
/// passes, as in the API server's JSON patch library; kube-rs's finalizer
/// helper depends on that to add the first finalizer safely.
pub fn json(target: &Value, ops: &Value) -> Result<Value, JsonPatchError> {
    let ops: Vec<PatchOperation> = serde_json::from_value(ops.clone())
        .map_err(|e| JsonPatchError::Malformed(e.to_string()))?;
    let mut doc = target.clone();
    for op in &ops {
        if let PatchOperation::Test(test) = op
            && test.value.is_null()
            && doc.pointer(test.path.as_str()).is_none()
        {
            continue;
        }
        json_patch::patch(&mut doc, std::slice::from_ref(op))
            .map_err(|e| JsonPatchError::Failed(e.to_string()))?;
    }
    Ok(doc)
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonPatchError {
    /// The body is not a list of operations (400).
    #[error("the body is not a JSON patch: {0}")]
    Malformed(String),
    /// An operation could not be applied, or a `test` failed (422).
    #[error("the JSON patch could not be applied: {0}")]
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types_map_to_patch_kinds() {
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchKind::Merge)
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml"),
            Some(PatchKind::Apply)
        );
        assert_eq!(PatchKind::from_content_type("application/json"), None);
    }

    #[test]
    fn merge_patch_deletes_with_null_and_replaces_lists() {
        let mut doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"l": [1, 2]}});
        merge(
            &mut doc,
            &json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"l": [3]}}),
        );
        assert_eq!(
            doc,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"l": [3]}})
        );
    }

    #[test]
    fn json_patch_test_of_null_passes_on_a_missing_path() {
        let doc = json!({"metadata": {"name": "x"}});
        let ops = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}
        ]);
        let out = json(&doc, &ops).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["f"]));
    }

    #[test]
    fn json_patch_failed_test_changes_nothing() {
        let doc = json!({"metadata": {"finalizers": ["a"]}});
        let ops = json!([
            {"op": "remove", "path": "/metadata/finalizers/0"},
            {"op": "test", "path": "/metadata/finalizers", "value": ["b"]}
        ]);
        assert!(matches!(json(&doc, &ops), Err(JsonPatchError::Failed(_))));
        assert!(matches!(
            json(&doc, &json!({"op": "add"})),
            Err(JsonPatchError::Malformed(_))
        ));
    }
}
