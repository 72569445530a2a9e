//! A reader scoped to one environment never receives another environment's
//! data keys, so it cannot decrypt that environment's rows even with full
//! database access to them.

use crate::support::postgres::fresh_db;
use crate::support::store::*;
use shopsync::crypto::{CryptoError, KeyId};
use shopsync::store::{RecordSet, StoreError, data_keys};

#[tokio::test]
async fn staging_reader_cannot_decrypt_production_records() {
    let db = fresh_db().await;
    let master = master_key();
    let prod = connection(&db.pool, "uid-prod", "acme", "production").await;
    let staging = connection(&db.pool, "uid-stg", "acme-staging", "staging").await;
    for conn in [&prod, &staging] {
        let mut w = writer(&db.pool, &master, conn).await;
        let run = w.begin_run("incremental").await.unwrap();
        let batch: Vec<_> = (1..=10).map(|id| order(id, id)).collect();
        w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 10))
            .await
            .unwrap();
    }

    assert_eq!(
        reader(&db.pool, &master, &staging)
            .await
            .list(&all_orders())
            .await
            .unwrap()
            .len(),
        10
    );
    match try_reader(&db.pool, &master, &prod, "staging").await {
        Err(err @ StoreError::EnvironmentMismatch { .. }) => {
            let text = err.to_string();
            assert!(
                text.contains("production") && text.contains("staging"),
                "{text}"
            );
        }
        other => panic!("expected EnvironmentMismatch, got {other:?}"),
    }

    // Below the reader's check: the staging key ring of the production
    // connection holds nothing that opens its rows.
    let ring = data_keys::load_ring(&db.pool, &master, &prod, "staging")
        .await
        .unwrap();
    assert!(ring.is_empty());
    let prod_key_ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT DISTINCT key_id FROM records WHERE connection_id = $1")
            .bind(prod.id)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(prod_key_ids.len(), 1);
    assert!(matches!(
        ring.get(KeyId::from_uuid(prod_key_ids[0])),
        Err(CryptoError::UnknownKey { .. })
    ));

    // Relabelling the production key as staging does not help: its wrapping
    // is bound to its environment.
    sqlx::query("UPDATE data_keys SET environment = 'staging' WHERE connection_id = $1")
        .bind(prod.id)
        .execute(&db.pool)
        .await
        .unwrap();
    match data_keys::load_ring(&db.pool, &master, &prod, "staging").await {
        Err(StoreError::Crypto(CryptoError::UnwrapFailed { key_id, .. })) => {
            assert_eq!(key_id.as_uuid(), prod_key_ids[0])
        }
        other => panic!("expected UnwrapFailed, got {other:?}"),
    }
}
