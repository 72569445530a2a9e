//! CustomResourceDefinitions: validating one, reporting it Established, and
//! serving (or ceasing to serve) the custom resource it declares. Until a CRD
//! exists its resource's paths answer 404, as on a real server.

use serde_json::{Value, json};

use super::State;
use super::resources::{Behaviour, PrinterColumn, ResourceId, ResourceKind};
use super::schema::Schema;

const CRD_KIND: &str = "CustomResourceDefinition";

/// Checks a CRD and fills in the status the API server would report once it
/// serves the resource (NamesAccepted and Established, both True).
pub fn accept(crd: &mut Value, now: &str) -> Result<(), String> {
    let kind = from_crd(crd)?;
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
    if let Ok(kind) = from_crd(stored) {
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

/// The custom resource a CustomResourceDefinition declares.
pub fn from_crd(crd: &Value) -> Result<ResourceKind, String> {
    let spec = crd.get("spec").ok_or("spec: Required value")?;
    let text = |v: Option<&Value>, field: &str| -> Result<String, String> {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("{field}: Required value"))
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let group = text(spec.get("group"), "spec.group")?;
    let names = spec.get("names").ok_or("spec.names: Required value")?;
    let plural = text(names.get("plural"), "spec.names.plural")?;
    let kind = text(names.get("kind"), "spec.names.kind")?;
    let expected = format!("{plural}.{group}");
    let name = crd.pointer("/metadata/name").and_then(Value::as_str);
    if name != Some(expected.as_str()) {
        return Err(format!(
            "metadata.name: Invalid value: {:?}: must be spec.names.plural+\".\"+spec.group ({expected})",
            name.unwrap_or("")
        ));
    }
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or(
            "spec.versions: Invalid value: must have exactly one version marked as storage version",
        )?;
    let storage = versions
        .iter()
        .find(|v| v.get("storage") == Some(&Value::Bool(true)))
        .ok_or(
            "spec.versions: Invalid value: must have exactly one version marked as storage version",
        )?;
    let mut served: Vec<String> = versions
        .iter()
        .filter(|v| v.get("served") == Some(&Value::Bool(true)))
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let storage_name = text(storage.get("name"), "spec.versions[].name")?;
    served.sort_by_key(|v| *v != storage_name);
    let columns = storage
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| cols.iter().filter_map(column).collect::<Vec<_>>())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| vec![PrinterColumn::age()]);
    let selectable = storage
        .get("selectableFields")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(|s| s.get("jsonPath").and_then(Value::as_str))
                .map(|p| p.trim_start_matches('.').to_owned())
                .collect()
        })
        .unwrap_or_default();
    let schema = storage
        .pointer("/schema/openAPIV3Schema")
        .cloned()
        .map(Schema::new)
        .unwrap_or_default();
    Ok(ResourceKind {
        singular: names
            .get("singular")
            .and_then(Value::as_str)
            .map_or_else(|| kind.to_ascii_lowercase(), str::to_owned),
        short_names: strings(names.get("shortNames")),
        categories: strings(names.get("categories")),
        namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        status_subresource: storage.pointer("/subresources/status").is_some(),
        custom: true,
        storage: ResourceId {
            group: group.clone(),
            plural: plural.clone(),
        },
        behaviour: Behaviour::Plain,
        versions: served,
        group,
        plural,
        kind,
        columns,
        schema,
        selectable,
    })
}

fn column(c: &Value) -> Option<PrinterColumn> {
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Some(PrinterColumn {
        name: c.get("name")?.as_str()?.to_owned(),
        type_: s("type"),
        format: s("format"),
        description: s("description"),
        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
        json_path: c.get("jsonPath")?.as_str()?.to_owned(),
    })
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

    #[test]
    fn the_shopsync_crd_declares_a_namespaced_kind_with_status() {
        let crd = serde_json::to_value(crate::api::ShopifyConnection::crd()).unwrap();
        let kind = from_crd(&crd).unwrap();
        assert_eq!(kind.group, "shopify.fostr.io");
        assert_eq!(kind.versions, vec!["v1alpha1".to_owned()]);
        assert_eq!(kind.kind, "ShopifyConnection");
        assert!(kind.namespaced && kind.status_subresource && kind.custom);
        assert_eq!(kind.short_names, vec!["shopconn".to_owned()]);
        assert!(
            kind.columns
                .iter()
                .any(|c| c.name == "Ready" && c.json_path.contains("?(@.type"))
        );
        assert!(kind.selectable("spec.store"));
        assert!(!kind.selectable("spec.suspend"));
    }

    #[test]
    fn crd_names_must_match_plural_and_group() {
        let crd = serde_json::json!({"metadata": {"name": "wrong"}, "spec": {"group": "g.io",
            "names": {"plural": "things", "kind": "Thing"}, "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        assert!(from_crd(&crd).unwrap_err().contains("things.g.io"));
    }
}
