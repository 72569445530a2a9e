//! The admission hook for ShopifyConnections: the same CEL rules and schema
//! checks the real API server runs (`crate::api::admission`), with spec
//! defaults filled in as structural defaulting would.

use std::sync::Arc;

use serde_json::Value;

use super::resources::AdmissionHook;
use crate::api::admission::{Rejected, admit};

/// Validates a ShopifyConnection on create (`old` None) and update, and
/// returns it with its spec defaulted.
pub fn shopify_connection() -> AdmissionHook {
    Arc::new(|object: &Value, old: Option<&Value>| {
        let admitted = admit(object, old).map_err(|r| message(&r))?;
        let spec = serde_json::to_value(&admitted.spec).map_err(|e| e.to_string())?;
        let mut out = object.clone();
        out["spec"] = spec;
        Ok(out)
    })
}

/// One violation reads like the API server's field error; several are
/// bracketed and comma-separated, as the API server aggregates them.
fn message(rejected: &Rejected) -> String {
    let lines: Vec<String> = rejected
        .0
        .iter()
        .map(|v| {
            if v.field.is_empty() {
                v.message.clone()
            } else {
                format!("{}: Invalid value: {}", v.field, v.message)
            }
        })
        .collect();
    match lines.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(store: &str) -> Value {
        json!({"apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
               "metadata": {"name": "acme", "namespace": "shops"},
               "spec": {"store": store, "credentials": {"secretRef": {"name": "acme"}}}})
    }

    #[test]
    fn admitted_connections_come_back_defaulted() {
        let out = shopify_connection()(&manifest("acme.myshopify.com"), None).unwrap();
        assert_eq!(out["spec"]["pollInterval"], "15m");
        assert_eq!(
            out["spec"]["credentials"]["secretRef"]["key"],
            "accessToken"
        );
        assert_eq!(out["metadata"]["namespace"], "shops");
    }

    #[test]
    fn rule_violations_name_the_field_and_the_fix() {
        let err = shopify_connection()(&manifest("acme.com"), None).unwrap_err();
        assert!(
            err.contains("store must be the shop's permanent domain"),
            "{err}"
        );
    }

    #[test]
    fn immutable_store_is_checked_against_the_old_object() {
        let old = manifest("acme.myshopify.com");
        let err = shopify_connection()(&manifest("other.myshopify.com"), Some(&old)).unwrap_err();
        assert!(err.contains("store is immutable"), "{err}");
    }
}
