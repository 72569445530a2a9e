//! A ciphertext moved to another id, recordset, connection or key id, or
//! altered in place, fails its integrity check instead of decrypting.

use crate::support::postgres::fresh_db;
use crate::support::store::*;
use shopsync::crypto::CryptoError;
use shopsync::store::{RecordSet, ShopifyId, StoreError, rotation};

fn assert_integrity(
    result: Result<Option<shopsync::store::StoredRecord>, StoreError>,
    expected_id: i64,
) {
    match result {
        Err(StoreError::Crypto(CryptoError::Integrity { shopify_id, .. })) => {
            assert_eq!(shopify_id, expected_id)
        }
        other => panic!("expected an integrity error for {expected_id}, got {other:?}"),
    }
}

async fn tamper(pool: &sqlx::PgPool, sql: &str) {
    let n = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap()
        .rows_affected();
    assert!(n >= 1, "tampering statement changed nothing: {sql}");
}

#[tokio::test]
async fn moved_or_altered_ciphertexts_fail_integrity() {
    let db = fresh_db().await;
    let master = master_key();
    let a = connection(&db.pool, "uid-a", "acme", "production").await;
    let b = connection(&db.pool, "uid-b", "bravo", "production").await;
    let mut wa = writer(&db.pool, &master, &a).await;
    let mut wb = writer(&db.pool, &master, &b).await;
    let run = wa.begin_run("incremental").await.unwrap();
    let batch: Vec<_> = (1..=6).map(|id| order(id, 10)).collect();
    wa.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 10))
        .await
        .unwrap();
    let run_b = wb.begin_run("incremental").await.unwrap();
    wb.write_batch(
        run_b,
        RecordSet::Orders,
        &[order(100, 10)],
        &checkpoint(1, 10),
    )
    .await
    .unwrap();

    // Swapped id: row 1's ciphertext now claims to be order 901.
    tamper(
        &db.pool,
        &format!(
            "UPDATE records SET shopify_id = 901 WHERE connection_id = {} AND shopify_id = 1",
            a.id
        ),
    )
    .await;
    // Swapped recordset: order 2 presented as a product.
    tamper(
        &db.pool,
        &format!(
            "UPDATE records SET recordset = 'products' WHERE connection_id = {} AND shopify_id = 2",
            a.id
        ),
    )
    .await;
    // Swapped payloads between two rows under the same key.
    tamper(
        &db.pool,
        &format!(
            "UPDATE records r SET nonce = s.nonce, ciphertext = s.ciphertext FROM records s
             WHERE r.connection_id = {0} AND s.connection_id = {0} AND r.shopify_id = 3 AND s.shopify_id = 4",
            a.id
        ),
    )
    .await;
    // One flipped bit.
    tamper(
        &db.pool,
        &format!(
            "UPDATE records SET ciphertext = set_byte(ciphertext, 5, get_byte(ciphertext, 5) # 1)
             WHERE connection_id = {} AND shopify_id = 5",
            a.id
        ),
    )
    .await;
    // Copied to another connection, relabelled with that connection's key.
    tamper(
        &db.pool,
        &format!(
            "INSERT INTO records (connection_id, recordset, shopify_id, updated_at, key_id, nonce, ciphertext)
             SELECT {b}, recordset, 6, updated_at, (SELECT key_id FROM data_keys WHERE connection_id = {b}), nonce, ciphertext
             FROM records WHERE connection_id = {a} AND shopify_id = 6",
            a = a.id,
            b = b.id
        ),
    )
    .await;
    // Copied to another connection as is: its key is not in that reader's ring.
    tamper(
        &db.pool,
        &format!(
            "INSERT INTO records (connection_id, recordset, shopify_id, updated_at, key_id, nonce, ciphertext)
             SELECT {b}, recordset, 7, updated_at, key_id, nonce, ciphertext FROM records WHERE connection_id = {a} AND shopify_id = 6",
            a = a.id,
            b = b.id
        ),
    )
    .await;

    let ra = reader(&db.pool, &master, &a).await;
    assert_integrity(ra.get(RecordSet::Orders, ShopifyId(901)).await, 901);
    assert_integrity(ra.get(RecordSet::Products, ShopifyId(2)).await, 2);
    assert_integrity(ra.get(RecordSet::Orders, ShopifyId(3)).await, 3);
    assert_integrity(ra.get(RecordSet::Orders, ShopifyId(5)).await, 5);
    assert!(
        ra.get(RecordSet::Orders, ShopifyId(6))
            .await
            .unwrap()
            .is_some(),
        "the original stays readable"
    );
    let rb = reader(&db.pool, &master, &b).await;
    assert_integrity(rb.get(RecordSet::Orders, ShopifyId(6)).await, 6);
    match rb.get(RecordSet::Orders, ShopifyId(7)).await {
        Err(StoreError::Crypto(CryptoError::UnknownKey { .. })) => {}
        other => panic!("expected an unknown-key error, got {other:?}"),
    }
    assert!(
        rb.get(RecordSet::Orders, ShopifyId(100))
            .await
            .unwrap()
            .is_some()
    );

    // A listing never returns garbage: one bad row fails the whole call.
    assert!(matches!(
        ra.list(&all_orders()).await,
        Err(StoreError::Crypto(CryptoError::Integrity { .. }))
    ));
}

#[tokio::test]
async fn relabelled_key_id_fails_integrity() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-k", "acme", "production").await;
    let mut w = writer(&db.pool, &master, &conn).await;
    let run = w.begin_run("incremental").await.unwrap();
    w.write_batch(run, RecordSet::Orders, &[order(1, 10)], &checkpoint(1, 10))
        .await
        .unwrap();
    // Start a rotation but do not re-encrypt: the ring now holds two keys.
    let progress = rotation::start_data_key_rotation(&db.pool, &master, &conn)
        .await
        .unwrap();
    tamper(
        &db.pool,
        &format!(
            "UPDATE records SET key_id = '{}' WHERE connection_id = {} AND shopify_id = 1",
            progress.to, conn.id
        ),
    )
    .await;
    let r = reader(&db.pool, &master, &conn).await;
    assert_integrity(r.get(RecordSet::Orders, ShopifyId(1)).await, 1);
}
