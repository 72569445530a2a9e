//! Records written through the sync engine's API come back decrypted, with
//! their checkpoint, run counts, tombstones and stats; an older version never
//! replaces a newer one.

use crate::support::postgres::fresh_db;
use crate::support::store::*;
use shopsync::store::{ListQuery, RecordSet, RunEnd, RunOutcome, ShopifyId, Tombstone, runs};

#[tokio::test]
async fn written_records_read_back_decrypted() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-rt", "acme", "production").await;
    let mut writer = writer(&db.pool, &master, &conn).await;

    let run = writer.begin_run("incremental").await.unwrap();
    let batch: Vec<_> = (1..=50).map(|id| order(id, id)).collect();
    let outcome = writer
        .write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 50))
        .await
        .unwrap();
    assert_eq!(outcome.written, 50);
    writer
        .finish_run(
            run,
            &RunEnd {
                outcome: RunOutcome::Succeeded,
                cost_used: 42.5,
                throttled: 1,
                error: None,
            },
        )
        .await
        .unwrap();

    let reader = reader(&db.pool, &master, &conn).await;
    let listed = reader.list(&all_orders()).await.unwrap();
    assert_eq!(listed.len(), 50);
    for (record, written) in listed.iter().zip(&batch) {
        assert_eq!(record.shopify_id, written.shopify_id);
        assert_eq!(record.updated_at, written.updated_at);
        assert_eq!(record.payload, written.payload.get().as_bytes());
    }
    let one = reader
        .get(RecordSet::Orders, ShopifyId(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.payload_json().unwrap(), order_payload(7, 7));
    let line: serde_json::Value = serde_json::from_str(&one.to_json_line()).unwrap();
    assert_eq!(line["payload"], order_payload(7, 7));
    assert_eq!(line["id"], 7);
    assert!(
        reader
            .get(RecordSet::Orders, ShopifyId(999))
            .await
            .unwrap()
            .is_none()
    );

    let since = reader
        .list(&ListQuery {
            updated_since: Some(at(41)),
            ..all_orders()
        })
        .await
        .unwrap();
    assert_eq!(
        since.iter().map(|r| r.shopify_id.0).collect::<Vec<_>>(),
        (41..=50).collect::<Vec<_>>()
    );
    let page = reader
        .list(&ListQuery {
            after: Some((at(10), ShopifyId(10))),
            limit: 5,
            ..all_orders()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.shopify_id.0).collect::<Vec<_>>(),
        vec![11, 12, 13, 14, 15]
    );

    assert_eq!(
        reader.count(Some(RecordSet::Orders)).await.unwrap(),
        vec![(RecordSet::Orders, 50)]
    );
    let stats = reader.stats().await.unwrap();
    let orders = stats.iter().find(|s| s.recordset == "orders").unwrap();
    assert_eq!((orders.records, orders.tombstones), (50, 0));
    assert_eq!(orders.oldest_updated_at, Some(at(1)));
    assert_eq!(orders.newest_updated_at, Some(at(50)));
    assert!(orders.ciphertext_bytes > 50 * 100);

    let saved = writer
        .checkpoint(RecordSet::Orders, "incremental")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved, checkpoint(1, 50));
    let history = runs::recent(&db.pool, conn.id, 5).await.unwrap();
    assert_eq!(history[0].records, serde_json::json!({ "orders": 50 }));
    assert_eq!(history[0].outcome.as_deref(), Some("succeeded"));
    assert_eq!((history[0].cost_used, history[0].throttled), (42.5, 1));
}

#[tokio::test]
async fn an_older_version_never_overwrites_a_newer_one() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-guard", "acme", "production").await;
    let mut writer = writer(&db.pool, &master, &conn).await;
    let run = writer.begin_run("incremental").await.unwrap();

    writer
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(1, 100)],
            &checkpoint(1, 100),
        )
        .await
        .unwrap();
    let stale = writer
        .write_batch(run, RecordSet::Orders, &[order(1, 50)], &checkpoint(2, 100))
        .await
        .unwrap();
    assert_eq!((stale.written, stale.stale), (0, 1));
    let same = writer
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(1, 100)],
            &checkpoint(3, 100),
        )
        .await
        .unwrap();
    assert_eq!(same.written, 0, "re-delivering the same version is a no-op");
    // Within one batch, the newest of duplicates wins regardless of order.
    let dupes = [order(2, 30), order(2, 90), order(2, 60)];
    let outcome = writer
        .write_batch(run, RecordSet::Orders, &dupes, &checkpoint(4, 100))
        .await
        .unwrap();
    assert_eq!((outcome.written, outcome.stale), (1, 2));

    let reader = reader(&db.pool, &master, &conn).await;
    let one = reader
        .get(RecordSet::Orders, ShopifyId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.payload_json().unwrap()["version"], 100);
    let two = reader
        .get(RecordSet::Orders, ShopifyId(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(two.payload_json().unwrap()["version"], 90);

    let newer = writer
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(1, 150)],
            &checkpoint(5, 150),
        )
        .await
        .unwrap();
    assert_eq!(newer.written, 1);
    let one = reader
        .get(RecordSet::Orders, ShopifyId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.payload_json().unwrap()["version"], 150);
}

#[tokio::test]
async fn tombstones_hide_records_and_older_versions_do_not_revive_them() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-tomb", "acme", "production").await;
    let mut writer = writer(&db.pool, &master, &conn).await;
    let run = writer.begin_run("incremental").await.unwrap();
    writer
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(1, 10), order(2, 10)],
            &checkpoint(1, 10),
        )
        .await
        .unwrap();

    let tomb = [
        Tombstone {
            shopify_id: ShopifyId(1),
            deleted_at: at(20),
        },
        Tombstone {
            shopify_id: ShopifyId(3),
            deleted_at: at(20),
        },
    ];
    let outcome = writer
        .tombstone(run, RecordSet::Orders, &tomb, None)
        .await
        .unwrap();
    assert_eq!(
        outcome.written, 2,
        "an unknown id gets a tombstone too, so its late arrival cannot revive it"
    );
    let revived = writer
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(1, 15), order(3, 5)],
            &checkpoint(2, 20),
        )
        .await
        .unwrap();
    assert_eq!(revived.written, 0);

    let reader = reader(&db.pool, &master, &conn).await;
    let listed = reader.list(&all_orders()).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.shopify_id.0).collect::<Vec<_>>(),
        vec![2]
    );
    let gone = reader
        .get(RecordSet::Orders, ShopifyId(1))
        .await
        .unwrap()
        .unwrap();
    assert!(gone.deleted);
    assert_eq!(gone.payload_json().unwrap(), serde_json::Value::Null);
    assert_eq!(
        reader.count(Some(RecordSet::Orders)).await.unwrap(),
        vec![(RecordSet::Orders, 1)]
    );
    let stats = reader.stats().await.unwrap();
    assert_eq!(
        stats
            .iter()
            .find(|s| s.recordset == "orders")
            .unwrap()
            .tombstones,
        2
    );
}
