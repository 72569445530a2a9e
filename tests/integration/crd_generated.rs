//! The committed CRD is exactly what `shopsync crd` prints, and it is a CRD
//! the API server accepts: structural schema, compilable CEL, the printer
//! columns and names users rely on.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;
use shopsync::api::crd::{CRD_PATH, crd_yaml};

fn committed() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CRD_PATH);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn generated_crd() -> CustomResourceDefinition {
    yaml_serde::from_str(&crd_yaml().unwrap())
        .expect("generated YAML is a CustomResourceDefinition")
}

fn schema() -> Value {
    let crd = generated_crd();
    serde_json::to_value(
        crd.spec.versions[0]
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema
            .as_ref()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn committed_crd_matches_generated() {
    let generated = crd_yaml().unwrap();
    assert!(
        committed() == generated,
        "{CRD_PATH} is out of date with src/api/; regenerate it with `cargo run -- crd > {CRD_PATH}` and commit the result"
    );
}

#[test]
fn names_scope_and_subresources() {
    let crd = generated_crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("shopifyconnections.shopify.fostr.io")
    );
    assert_eq!(crd.spec.group, "shopify.fostr.io");
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.names.kind, "ShopifyConnection");
    assert_eq!(
        crd.spec.names.short_names,
        Some(vec!["shopconn".to_owned()])
    );
    assert_eq!(crd.spec.names.categories, Some(vec!["fostr".to_owned()]));
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(version.served && version.storage);
    assert!(
        version
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some()
    );
}

#[test]
fn printer_columns_in_order() {
    let crd = generated_crd();
    let columns = crd.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap();
    let default_view: Vec<&str> = columns
        .iter()
        .filter(|c| c.priority.unwrap_or(0) == 0)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        default_view,
        ["Store", "Ready", "Lag", "Last Sync", "Backfill", "Age"]
    );
    let ready = columns.iter().find(|c| c.name == "Ready").unwrap();
    assert_eq!(
        ready.json_path,
        ".status.conditions[?(@.type==\"Ready\")].status"
    );
}

/// The API server only accepts structural schemas: every node typed, nothing
/// left open. We have no deliberate `x-kubernetes-preserve-unknown-fields`.
#[test]
fn schema_is_structural() {
    fn walk(node: &Value, path: &str, problems: &mut Vec<String>) {
        let Some(obj) = node.as_object() else { return };
        if obj.contains_key("x-kubernetes-preserve-unknown-fields") {
            problems.push(format!("{path}: x-kubernetes-preserve-unknown-fields"));
        }
        for forbidden in ["$ref", "allOf", "oneOf", "anyOf", "not"] {
            if obj.contains_key(forbidden) {
                problems.push(format!("{path}: {forbidden}"));
            }
        }
        if !obj.contains_key("type") && !obj.contains_key("x-kubernetes-int-or-string") {
            problems.push(format!("{path}: no type"));
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            for (name, child) in props {
                walk(child, &format!("{path}.{name}"), problems);
            }
        }
        if let Some(items) = obj.get("items") {
            walk(items, &format!("{path}[]"), problems);
        }
    }
    let mut problems = Vec::new();
    walk(&schema(), "", &mut problems);
    assert!(problems.is_empty(), "not structural: {problems:#?}");
}

#[test]
fn conditions_merge_by_type_under_server_side_apply() {
    let conditions = &schema()["properties"]["status"]["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    assert_eq!(
        conditions["x-kubernetes-list-map-keys"],
        serde_json::json!(["type"])
    );
}

#[test]
fn every_cel_rule_compiles_and_has_a_message() {
    let compiled = kube::core::cel::compile_schema(&schema());
    assert!(
        !compiled.has_errors(),
        "{:#?}",
        compiled.compilation_errors()
    );

    fn rules(node: &Value, out: &mut Vec<Value>) {
        match node {
            Value::Object(obj) => {
                if let Some(Value::Array(list)) = obj.get("x-kubernetes-validations") {
                    out.extend(list.iter().cloned());
                }
                obj.values().for_each(|v| rules(v, out));
            }
            Value::Array(list) => list.iter().for_each(|v| rules(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    rules(&schema(), &mut all);
    assert!(
        all.len() >= 12,
        "expected the spec's rules, found {}",
        all.len()
    );
    for rule in all {
        assert!(
            rule.get("message").is_some(),
            "rule without a message: {rule}"
        );
    }
}

#[test]
fn defaults_are_in_the_schema() {
    let spec = &schema()["properties"]["spec"]["properties"];
    assert_eq!(spec["apiVersion"]["default"], "2026-10");
    assert_eq!(spec["pollInterval"]["default"], "15m");
    assert_eq!(
        spec["backfill"]["default"],
        serde_json::json!({"window": "90d"})
    );
    assert_eq!(spec["customerData"]["default"], "Exclude");
    assert_eq!(spec["environment"]["default"], "production");
    assert_eq!(spec["deletionPolicy"]["default"], "Retain");
    assert_eq!(
        spec["rateLimit"]["default"],
        serde_json::json!({"maxBucketShare": 50})
    );
    assert_eq!(
        spec["scopes"]["default"],
        serde_json::json!(["read_orders"])
    );
}
