//! Customer personal data never reaches the database unless the connection
//! says `customerData: Include` (and the app may read customers); payment
//! data never does. Checked on decrypted records after a real sync.

use std::sync::Arc;

use serde_json::Value;
use shopsync::store::{AccessGrant, AccessPolicy, ListQuery, RecordReader, RecordSet};

use crate::support::sync_env::{SyncEnv, spec};

const PERSONAL: [&str; 9] = [
    "email",
    "phone",
    "firstName",
    "lastName",
    "displayName",
    "note",
    "billingAddress",
    "shippingAddress",
    "defaultEmailAddress",
];
const PAYMENT: [&str; 3] = ["transactions", "paymentGatewayNames", "gateway"];

async fn stored_orders(env: &SyncEnv) -> Vec<Value> {
    let policy = AccessPolicy::parse(
        "rules:\n  - name: everything\n    roles: [test]\n    environments: [production]\n    recordsets: ['*']\n",
        "test policy",
    )
    .expect("policy");
    let reader = RecordReader::open(
        env.db.pool.clone(),
        Arc::clone(&env.master),
        &"shops/demo".parse().expect("name"),
        AccessGrant::new(policy, "test", "production"),
    )
    .await
    .expect("reader");
    let records = reader
        .list(&ListQuery {
            recordset: RecordSet::Orders,
            updated_since: None,
            after: None,
            limit: 10_000,
            include_deleted: false,
        })
        .await
        .expect("list");
    assert!(!records.is_empty());
    records
        .iter()
        .map(|r| r.payload_json().expect("payload decrypts"))
        .collect()
}

/// Every key anywhere in a JSON tree.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluded_by_default_and_present_only_when_included() {
    let env = SyncEnv::start(120, 5, 20, |_| {}).await;
    let report = env
        .sync(&spec("  scopes: [read_orders, read_customers]\n"))
        .await;
    assert!(report.succeeded(), "{:?}", report.error);
    let mut all = Vec::new();
    for order in stored_orders(&env).await {
        keys(&order, &mut all);
    }
    for field in PERSONAL.iter().chain(&PAYMENT) {
        assert!(
            !all.iter().any(|k| k == field),
            "{field} must not be stored with customerData: Exclude"
        );
    }
    assert!(
        all.iter().any(|k| k == "customer"),
        "the customer reference (id only) is kept"
    );

    let report = env
        .sync(&spec("  scopes: [read_orders, read_customers]\n  customerData: Include\n  backfill: {window: 0d}\n"))
        .await;
    assert!(report.succeeded(), "{:?}", report.error);
    // Include applies to what is read from now on: force a re-read of every order.
    sqlx::query("DELETE FROM checkpoints")
        .execute(&env.db.pool)
        .await
        .expect("reset");
    sqlx::query("DELETE FROM records")
        .execute(&env.db.pool)
        .await
        .expect("reset");
    let report = env
        .sync(&spec(
            "  scopes: [read_orders, read_customers]\n  customerData: Include\n",
        ))
        .await;
    assert!(report.succeeded(), "{:?}", report.error);
    let orders = stored_orders(&env).await;
    let with_names = orders
        .iter()
        .filter(|o| o["customer"]["firstName"].is_string())
        .count();
    assert!(
        with_names > 0,
        "customerData: Include stores customer names"
    );
    let mut all = Vec::new();
    for order in &orders {
        keys(order, &mut all);
    }
    for field in PAYMENT {
        assert!(!all.iter().any(|k| k == field), "{field} is never stored");
    }
}
