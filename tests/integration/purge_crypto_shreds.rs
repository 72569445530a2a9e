//! Purge destroys the connection's data keys in one transaction, so every
//! record is unreadable before any row is deleted; then the rows go, in
//! batches. Retain keeps everything. Other connections are untouched.

use crate::support::postgres::fresh_db;
use crate::support::store::*;
use shopsync::api::DeletionPolicy;
use shopsync::store::{RecordSet, RecordWriter, StoreError, data_keys, purge};

async fn record_count(pool: &sqlx::PgPool, connection_id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM records WHERE connection_id = $1")
        .bind(connection_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn purge_makes_every_record_unreadable_before_any_row_is_deleted() {
    let db = fresh_db().await;
    let master = master_key();
    let doomed = connection(&db.pool, "uid-doomed", "doomed", "production").await;
    let kept = connection(&db.pool, "uid-kept", "kept", "production").await;
    for conn in [&doomed, &kept] {
        let mut w = writer(&db.pool, &master, conn).await;
        let run = w.begin_run("backfill").await.unwrap();
        let batch: Vec<_> = (1..=300).map(|id| order(id, id)).collect();
        w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 300))
            .await
            .unwrap();
    }
    let mut late_writer = writer(&db.pool, &master, &doomed).await;

    let destroyed = purge::shred_keys(&db.pool, &doomed).await.unwrap();
    assert_eq!(destroyed, 1);
    assert_eq!(
        record_count(&db.pool, doomed.id).await,
        300,
        "shredding deletes no row"
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM data_keys WHERE connection_id = $1 AND wrapped IS NOT NULL",
    )
    .bind(doomed.id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "no wrapped key of the purged connection survives");
    match data_keys::load_ring(&db.pool, &master, &doomed, "production").await {
        Err(StoreError::KeysDestroyed { connection }) => assert_eq!(connection, "shops/doomed"),
        other => panic!("expected KeysDestroyed, got {other:?}"),
    }
    assert!(matches!(
        try_reader(&db.pool, &master, &doomed, "production").await,
        Err(StoreError::ConnectionNotFound { .. })
    ));
    // A writer that held the key before the purge cannot write on, nor mint a new key.
    let run = late_writer.begin_run("incremental").await.unwrap();
    let late = late_writer
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(1000, 1000)],
            &checkpoint(2, 1000),
        )
        .await;
    assert!(
        matches!(late, Err(StoreError::KeysDestroyed { .. })),
        "{late:?}"
    );
    assert!(matches!(
        RecordWriter::open(db.pool.clone(), master.clone(), doomed.clone()).await,
        Err(StoreError::KeysDestroyed { .. })
    ));

    let deleted = purge::delete_rows(&db.pool, &doomed, 64).await.unwrap();
    assert_eq!(deleted, 300);
    assert_eq!(record_count(&db.pool, doomed.id).await, 0);
    let checkpoints: i64 =
        sqlx::query_scalar("SELECT count(*) FROM checkpoints WHERE connection_id = $1")
            .bind(doomed.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(checkpoints, 0);

    let survivor = reader(&db.pool, &master, &kept).await;
    assert_eq!(survivor.list(&all_orders()).await.unwrap().len(), 300);
}

#[tokio::test]
async fn rows_are_never_deleted_before_the_keys_are_destroyed() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-order", "acme", "production").await;
    let mut w = writer(&db.pool, &master, &conn).await;
    let run = w.begin_run("backfill").await.unwrap();
    w.write_batch(run, RecordSet::Orders, &[order(1, 1)], &checkpoint(1, 1))
        .await
        .unwrap();
    assert!(matches!(
        purge::delete_rows(&db.pool, &conn, 10).await,
        Err(StoreError::NotShredded { .. })
    ));
    assert_eq!(record_count(&db.pool, conn.id).await, 1);
}

#[tokio::test]
async fn deletion_policy_retain_keeps_everything_and_purge_removes_it() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-policy", "acme", "production").await;
    let mut w = writer(&db.pool, &master, &conn).await;
    let run = w.begin_run("backfill").await.unwrap();
    let batch: Vec<_> = (1..=20).map(|id| order(id, id)).collect();
    w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 20))
        .await
        .unwrap();

    assert_eq!(
        purge::apply_deletion_policy(&db.pool, &conn, DeletionPolicy::Retain)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        reader(&db.pool, &master, &conn)
            .await
            .list(&all_orders())
            .await
            .unwrap()
            .len(),
        20
    );

    let report = purge::apply_deletion_policy(&db.pool, &conn, DeletionPolicy::Purge)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.keys_destroyed, report.records_deleted), (1, 20));
    // Idempotent: a controller retrying its finalizer gets the same end state.
    let again = purge::purge(&db.pool, &conn, 10).await.unwrap();
    assert_eq!((again.keys_destroyed, again.records_deleted), (0, 0));
    assert!(matches!(
        shopsync::store::connections::register(
            &db.pool,
            &identity("uid-policy", "acme", "production")
        )
        .await,
        Err(StoreError::Purged { .. })
    ));
}
