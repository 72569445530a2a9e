//! CustomResourceDefinitions: validating one, reporting it Established, and
//! serving (or ceasing to serve) the custom resource it declares. Until a CRD
//! exists its resource's paths answer 404, as on a real server.

use serde_json::{Value, json};

use super::State;
use super::resources::{self, ResourceId};

const CRD_KIND: &str = "CustomResourceDefinition";

/// Checks a CRD and fills in the status the API server would report once it
/// serves the resource (NamesAccepted and Established, both True).
pub fn accept(crd: &mut Value, now: &str) -> Result<(), String> {
    let kind = resources::from_crd(crd)?;
    let condition = |type_: &str, reason: &str, message: &str| {
        json!({"type": type_, "status": "True", "lastTransitionTime": now,
               "reason": reason, "message": message})
    };
    let mut accepted = json!({
        "plural": kind.plural,
        "singular": kind.singular,
        "kind": kind.kind,
        "listKind": kind.list_kind(),
    });
    if !kind.short_names.is_empty() {
        accepted["shortNames"] = json!(kind.short_names);
    }
    if !kind.categories.is_empty() {
        accepted["categories"] = json!(kind.categories);
    }
    crd["status"] = json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": accepted,
        "storedVersions": [kind.storage_version()],
    });
    Ok(())
}

/// After a CRD is stored: serve its resource (again, with any new columns).
pub fn after_write(state: &mut State, stored: &Value) {
    if stored["kind"] != CRD_KIND {
        return;
    }
    if let Ok(kind) = resources::from_crd(stored) {
        state.registry.register(kind);
    }
}

/// After a CRD is deleted: stop serving its resource and drop its objects.
pub fn after_delete(state: &mut State, gone: &Value) {
    if gone["kind"] != CRD_KIND {
        return;
    }
    let (Some(group), Some(plural)) = (
        gone.pointer("/spec/group").and_then(Value::as_str),
        gone.pointer("/spec/names/plural").and_then(Value::as_str),
    ) else {
        return;
    };
    let id = ResourceId {
        group: group.to_owned(),
        plural: plural.to_owned(),
    };
    state.registry.unregister(&id);
    state.objects.remove_all(&id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn an_accepted_crd_reports_established() {
        let mut crd = serde_json::to_value(crate::api::ShopifyConnection::crd()).unwrap();
        accept(&mut crd, "2026-01-01T00:00:00Z").unwrap();
        let conditions = crd["status"]["conditions"].as_array().unwrap();
        assert!(
            conditions
                .iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        );
        assert_eq!(
            crd["status"]["acceptedNames"]["listKind"],
            "ShopifyConnectionList"
        );
        assert_eq!(crd["status"]["storedVersions"], json!(["v1alpha1"]));
    }
}
