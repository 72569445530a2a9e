//! Builders for record-store tests: keys, connections, orders full of
//! recognisable customer data, readers with an allow-everything policy.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use shopsync::crypto::MasterKey;
use shopsync::store::{
    AccessGrant, AccessPolicy, Checkpoint, Connection, ConnectionIdentity, ConnectionName,
    RecordReader, RecordSet, RecordWrite, RecordWriter, ShopifyId, connections,
};
use sqlx::PgPool;

pub fn master_key() -> Arc<MasterKey> {
    Arc::new(MasterKey::generate().expect("random master key"))
}

pub fn identity(uid: &str, name: &str, environment: &str) -> ConnectionIdentity {
    ConnectionIdentity {
        uid: uid.to_owned(),
        namespace: "shops".to_owned(),
        name: name.to_owned(),
        store: format!("{name}.myshopify.com"),
        environment: environment.to_owned(),
    }
}

pub async fn connection(pool: &PgPool, uid: &str, name: &str, environment: &str) -> Connection {
    connections::register(pool, &identity(uid, name, environment))
        .await
        .expect("register connection")
}

pub async fn writer(pool: &PgPool, master: &Arc<MasterKey>, conn: &Connection) -> RecordWriter {
    RecordWriter::open(pool.clone(), master.clone(), conn.clone())
        .await
        .expect("open writer")
}

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + secs, 0)
        .single()
        .expect("valid time")
}

/// An order whose payload carries a name, an email, a SKU and an amount that
/// tests can search for.
pub fn order(id: i64, updated: i64) -> RecordWrite {
    RecordWrite {
        shopify_id: ShopifyId(id),
        created_at: Some(at(0)),
        updated_at: at(updated),
        payload: shopsync::store::payload_text(&order_payload(id, updated)).expect("JSON"),
    }
}

/// The payload of [`order`].
pub fn order_payload(id: i64, updated: i64) -> serde_json::Value {
    serde_json::json!({
        "id": format!("gid://shopify/Order/{id}"),
        "name": format!("#{id}"),
        "customer": {"firstName": "Philippa", "lastName": format!("Quarrington{id}"), "email": format!("philippa.q{id}@example.org")},
        "lineItems": [{"sku": format!("SKU-ZEBRA-{id}"), "quantity": 2, "originalTotal": "1234.56"}],
        "totalPrice": "9876.54",
        "version": updated,
    })
}

pub fn checkpoint(batch: i64, watermark: i64) -> Checkpoint {
    Checkpoint {
        stream: "incremental".to_owned(),
        watermark: Some(at(watermark)),
        state: serde_json::json!({ "batch": batch }),
    }
}

pub fn allow_all(environment: &str) -> AccessGrant {
    let policy = AccessPolicy::parse(
        "rules:\n  - name: everything\n    roles: [admin]\n    environments: [\"*\"]\n    recordsets: [\"*\"]\n",
        "test-policy.yaml",
    )
    .expect("policy parses");
    AccessGrant::new(policy, "admin", environment)
}

pub async fn reader(pool: &PgPool, master: &Arc<MasterKey>, conn: &Connection) -> RecordReader {
    try_reader(pool, master, conn, &conn.environment)
        .await
        .expect("open reader")
}

pub async fn try_reader(
    pool: &PgPool,
    master: &Arc<MasterKey>,
    conn: &Connection,
    environment: &str,
) -> Result<RecordReader, shopsync::store::StoreError> {
    let name = ConnectionName {
        namespace: conn.namespace.clone(),
        name: conn.name.clone(),
    };
    RecordReader::open(pool.clone(), master.clone(), &name, allow_all(environment)).await
}

pub fn all_orders() -> shopsync::store::ListQuery {
    shopsync::store::ListQuery {
        recordset: RecordSet::Orders,
        updated_since: None,
        after: None,
        limit: 1_000_000,
        include_deleted: false,
    }
}
