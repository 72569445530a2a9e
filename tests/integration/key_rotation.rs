//! Master-key rotation re-wraps data keys and leaves records alone; a wrong
//! master key fails with one error naming the key id; data-key rotation
//! re-encrypts in resumable batches while reads and writes go on.

use std::sync::Arc;

use crate::support::postgres::fresh_db;
use crate::support::store::*;
use shopsync::crypto::{CryptoError, MasterKey};
use shopsync::store::{ListQuery, RecordSet, StoreError, rotation};

async fn ciphertext_digest(pool: &sqlx::PgPool) -> String {
    sqlx::query_scalar(
        "SELECT md5(string_agg(ciphertext, ''::bytea ORDER BY shopify_id)) FROM records",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn master_key_rotation_rewraps_keys_without_touching_records() {
    let db = fresh_db().await;
    let old = master_key();
    let new = master_key();
    let conn = connection(&db.pool, "uid-mk", "acme", "production").await;
    let mut w = writer(&db.pool, &old, &conn).await;
    let run = w.begin_run("incremental").await.unwrap();
    let batch: Vec<_> = (1..=100).map(|id| order(id, id)).collect();
    w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 100))
        .await
        .unwrap();
    let before = ciphertext_digest(&db.pool).await;

    assert_eq!(
        rotation::rotate_master_key(&db.pool, &old, &new)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        rotation::rotate_master_key(&db.pool, &old, &new)
            .await
            .unwrap(),
        0,
        "a second run has nothing left to do"
    );
    assert_eq!(
        ciphertext_digest(&db.pool).await,
        before,
        "records are not rewritten"
    );
    let stored_by: String = sqlx::query_scalar("SELECT master_key_id FROM data_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored_by, new.id().to_string());

    assert_eq!(
        reader(&db.pool, &new, &conn)
            .await
            .list(&all_orders())
            .await
            .unwrap()
            .len(),
        100
    );
    assert!(
        try_reader(&db.pool, &old, &conn, "production")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn wrong_master_key_is_one_error_naming_the_key_id() {
    let db = fresh_db().await;
    let right = master_key();
    let conn = connection(&db.pool, "uid-wrong", "acme", "production").await;
    let mut w = writer(&db.pool, &right, &conn).await;
    let run = w.begin_run("incremental").await.unwrap();
    w.write_batch(
        run,
        RecordSet::Orders,
        &[order(1, 1), order(2, 2)],
        &checkpoint(1, 2),
    )
    .await
    .unwrap();
    let key_id: uuid::Uuid = sqlx::query_scalar("SELECT key_id FROM data_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();

    let wrong = Arc::new(MasterKey::generate().unwrap());
    match try_reader(&db.pool, &wrong, &conn, "production").await {
        Err(err @ StoreError::Crypto(CryptoError::UnwrapFailed { .. })) => {
            let text = err.to_string();
            assert!(text.contains(&key_id.to_string()), "{text}");
            assert!(
                text.contains(wrong.id().as_str()) && text.contains(right.id().as_str()),
                "{text}"
            );
        }
        other => panic!("expected UnwrapFailed, got {other:?}"),
    }
    // A writer with the wrong key fails the same way instead of minting a key.
    assert!(matches!(
        shopsync::store::RecordWriter::open(db.pool.clone(), wrong.clone(), conn.clone()).await,
        Err(StoreError::Crypto(CryptoError::UnwrapFailed { .. }))
    ));
}

#[tokio::test]
async fn data_key_rotation_resumes_and_reads_and_writes_continue() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-dk", "acme", "production").await;
    let mut w = writer(&db.pool, &master, &conn).await;
    let run = w.begin_run("backfill").await.unwrap();
    for chunk in (1..=2000).collect::<Vec<_>>().chunks(500) {
        let batch: Vec<_> = chunk.iter().map(|id| order(*id, *id)).collect();
        w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 2000))
            .await
            .unwrap();
    }
    let reader = reader(&db.pool, &master, &conn).await;

    let started = rotation::start_data_key_rotation(&db.pool, &master, &conn)
        .await
        .unwrap();
    let again = rotation::start_data_key_rotation(&db.pool, &master, &conn)
        .await
        .unwrap();
    assert_eq!(started, again, "starting twice resumes the same rotation");
    // Interrupted after two batches (as if the process stopped).
    let partial = rotation::continue_data_key_rotation(&db.pool, &master, &conn, 300, Some(2))
        .await
        .unwrap();
    assert_eq!((partial.reencrypted, partial.finished), (600, false));
    assert_eq!(
        reader.list(&all_orders()).await.unwrap().len(),
        2000,
        "reads work mid-rotation"
    );

    // A writer holding the old key keeps working: it reseals with the new one.
    let rotate = {
        let (pool, master, conn) = (db.pool.clone(), master.clone(), conn.clone());
        tokio::spawn(async move {
            rotation::continue_data_key_rotation(&pool, &master, &conn, 300, None).await
        })
    };
    for round in 0..5 {
        let batch: Vec<_> = (1..=100).map(|id| order(id * 20, 5000 + round)).collect();
        w.write_batch(
            run,
            RecordSet::Orders,
            &batch,
            &checkpoint(2 + round, 5000 + round),
        )
        .await
        .unwrap();
        assert_eq!(
            reader
                .list(&ListQuery {
                    limit: 50,
                    ..all_orders()
                })
                .await
                .unwrap()
                .len(),
            50
        );
    }
    let done = rotate.await.unwrap().unwrap();
    assert!(done.finished);
    assert!(
        done.reencrypted >= 1300,
        "at least the rows no writer touched: {}",
        done.reencrypted
    );

    let keys: Vec<(uuid::Uuid, i64)> =
        sqlx::query_as("SELECT key_id, count(*) FROM records GROUP BY key_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        keys,
        vec![(started.to.as_uuid(), 2000)],
        "every record is under the new key"
    );
    let old_state: (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT state, wrapped FROM data_keys WHERE key_id = $1")
            .bind(started.from.as_uuid())
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(old_state, ("destroyed".to_owned(), None));

    let all = reader.list(&all_orders()).await.unwrap();
    assert_eq!(all.len(), 2000);
    let rewritten = all.iter().find(|r| r.shopify_id.0 == 40).unwrap();
    assert_eq!(rewritten.payload_json().unwrap()["version"], 5004);
    let untouched = all.iter().find(|r| r.shopify_id.0 == 41).unwrap();
    assert_eq!(untouched.payload_json().unwrap(), order_payload(41, 41));
    assert!(matches!(
        rotation::continue_data_key_rotation(&db.pool, &master, &conn, 300, None).await,
        Err(StoreError::NothingToRotate { .. })
    ));
}
