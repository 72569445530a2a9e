//! Manifests are judged as `kubectl apply` would judge them: the schema's CEL
//! rules run client-side (kube's `cel` feature), on every example and on each
//! kind of mistake a user makes, and each rejection says what to fix.

use serde_json::{Value, json};
use shopsync::api::admission::admit;
use shopsync::api::{AccessScope, CustomerData, DeletionPolicy, ShopifyConnection};

fn examples() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in yaml_serde::Deserializer::from_str(&text) {
            let value: Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            docs.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                value,
            ));
        }
    }
    assert!(
        docs.len() >= 3,
        "examples/ should hold a minimal and a full connection and a Secret"
    );
    docs
}

fn minimal() -> Value {
    json!({
        "apiVersion": "shopify.fostr.io/v1alpha1",
        "kind": "ShopifyConnection",
        "metadata": {"name": "acme", "namespace": "shops"},
        "spec": {"store": "acme.myshopify.com", "credentials": {"secretRef": {"name": "acme-shopify"}}}
    })
}

fn with_spec(patch: Value) -> Value {
    let mut manifest = minimal();
    let spec = manifest["spec"].as_object_mut().unwrap();
    for (k, v) in patch.as_object().unwrap() {
        spec.insert(k.clone(), v.clone());
    }
    manifest
}

/// Asserts the manifest is refused and some violation names the field and the fix.
fn assert_rejected(manifest: &Value, old: Option<&Value>, field: &str, fix: &str) {
    let err = admit(manifest, old).expect_err("manifest should be rejected");
    assert!(
        err.0
            .iter()
            .any(|v| v.field.contains(field) && v.message.contains(fix)),
        "expected a violation on {field} mentioning {fix:?}, got:\n{err}"
    );
}

#[test]
fn every_example_is_admitted_and_secrets_hold_the_referenced_key() {
    let docs = examples();
    let secrets: Vec<k8s_openapi::api::core::v1::Secret> = docs
        .iter()
        .filter(|(_, v)| v["kind"] == "Secret")
        .map(|(_, v)| serde_json::from_value(v.clone()).unwrap())
        .collect();
    let mut connections = 0;
    for (file, doc) in docs
        .iter()
        .filter(|(_, v)| v["kind"] == "ShopifyConnection")
    {
        let conn = admit(doc, None).unwrap_or_else(|e| panic!("{file}: {e}"));
        conn.validate_cel()
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let secret_ref = &conn.spec.credentials.secret_ref;
        let secret = secrets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(&secret_ref.name))
            .unwrap_or_else(|| panic!("{file}: no example Secret named {}", secret_ref.name));
        assert!(
            secret
                .string_data
                .as_ref()
                .is_some_and(|d| d.contains_key(&secret_ref.key)),
            "{file}: Secret {} has no key {}",
            secret_ref.name,
            secret_ref.key
        );
        connections += 1;
    }
    assert!(connections >= 2);
}

#[test]
fn minimal_manifest_gets_every_default() {
    let conn: ShopifyConnection = admit(&minimal(), None).unwrap();
    let spec = conn.spec;
    assert_eq!(spec.api_version, "2026-10");
    assert_eq!(spec.poll_interval, "15m");
    assert_eq!(spec.backfill.window.as_deref(), Some("90d"));
    assert!(spec.backfill.since.is_none());
    assert_eq!(spec.scopes, [AccessScope::ReadOrders]);
    assert_eq!(spec.customer_data, CustomerData::Exclude);
    assert_eq!(spec.environment, "production");
    assert_eq!(spec.rate_limit.max_bucket_share, 50);
    assert_eq!(spec.deletion_policy, DeletionPolicy::Retain);
    assert_eq!(spec.credentials.secret_ref.key, "accessToken");
    assert!(
        !spec.suspend
            && !spec.resources.products.enabled
            && !spec.resources.orders.include_cancelled
    );
}

#[test]
fn store_must_be_a_myshopify_domain() {
    for bad in [
        "acme.com",
        "shop.acme.com",
        "ACME.myshopify.com",
        "acme.myshopify.com.evil.io",
        "https://acme.myshopify.com",
    ] {
        assert_rejected(
            &with_spec(json!({"store": bad})),
            None,
            "store",
            "<name>.myshopify.com",
        );
    }
}

#[test]
fn store_is_immutable() {
    let old = minimal();
    let new = with_spec(json!({"store": "other.myshopify.com"}));
    assert_rejected(&new, Some(&old), "store", "immutable");
    admit(&minimal(), Some(&old)).expect("an unchanged store is fine on update");
}

#[test]
fn poll_interval_is_bounded_between_a_minute_and_a_day() {
    for bad in ["10s", "59s", "25h", "soon", "15"] {
        assert_rejected(
            &with_spec(json!({"pollInterval": bad})),
            None,
            "pollInterval",
            "1m to 24h",
        );
    }
    for good in ["1m", "15m", "1h30m", "24h", "90s"] {
        admit(&with_spec(json!({"pollInterval": good})), None)
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn backfill_takes_exactly_one_of_window_and_since() {
    let both = with_spec(json!({"backfill": {"window": "30d", "since": "2026-01-01T00:00:00Z"}}));
    assert_rejected(&both, None, "backfill", "exactly one of window");
    assert_rejected(
        &with_spec(json!({"backfill": {}})),
        None,
        "backfill",
        "exactly one of window",
    );
    assert_rejected(
        &with_spec(json!({"backfill": {"window": "3 months"}})),
        None,
        "window",
        "days such as 90d",
    );
    admit(
        &with_spec(json!({"backfill": {"since": "2026-01-01T00:00:00Z"}})),
        None,
    )
    .unwrap();
    admit(&with_spec(json!({"backfill": {"window": "0d"}})), None).unwrap();
}

#[test]
fn unknown_scopes_are_refused_with_the_known_list() {
    let bad = with_spec(json!({"scopes": ["read_orders", "read_order"]}));
    assert_rejected(&bad, None, "scopes", "read_all_orders");
    let write = with_spec(json!({"scopes": ["write_orders"]}));
    assert_rejected(&write, None, "scopes", "read scopes shopsync knows");
}

#[test]
fn enabled_recordsets_need_their_scopes() {
    let products = with_spec(json!({"resources": {"products": {"enabled": true}}}));
    assert_rejected(&products, None, "", "read_products");
    let returns = with_spec(json!({"resources": {"returns": {"enabled": true}}}));
    assert_rejected(&returns, None, "", "read_returns");
    let customers = with_spec(json!({"customerData": "Include"}));
    assert_rejected(&customers, None, "", "read_customers");
    let no_orders = with_spec(json!({"scopes": ["read_products"]}));
    assert_rejected(&no_orders, None, "", "add read_orders");
}

#[test]
fn api_version_must_be_a_shopify_release() {
    for bad in ["2026-02", "2026-1", "latest", "v2026-10"] {
        assert_rejected(
            &with_spec(json!({"apiVersion": bad})),
            None,
            "apiVersion",
            "YYYY-01",
        );
    }
    admit(&with_spec(json!({"apiVersion": "unstable"})), None).unwrap();
    admit(&with_spec(json!({"apiVersion": "2026-07"})), None).unwrap();
}

#[test]
fn bucket_share_is_a_percentage() {
    for bad in [0, 101] {
        let manifest = with_spec(json!({"rateLimit": {"maxBucketShare": bad}}));
        assert_rejected(&manifest, None, "maxBucketShare", "1 to 100");
    }
}

#[test]
fn environment_is_a_dns_label() {
    assert_rejected(
        &with_spec(json!({"environment": "Prod Env"})),
        None,
        "environment",
        "DNS label",
    );
}

#[test]
fn wrong_kind_is_refused() {
    let mut manifest = minimal();
    manifest["kind"] = json!("ShopifyConnector");
    let err = admit(&manifest, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected apiVersion shopify.fostr.io/v1alpha1 and kind ShopifyConnection")
    );
}
