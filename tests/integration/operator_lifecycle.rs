//! The real controller loop, through the real kube client, against the API
//! stand-in (or a real cluster with SHOPSYNC_E2E_KUBECONFIG), the simulator
//! and Postgres: a connection's life from create to delete.

use std::collections::BTreeSet;

use kube::ResourceExt;
use serde_json::json;
use shopsync::api::ConditionStatus::{False, True};
use shopsync::api::ConditionType::*;
use shopsync::api::conditions;

use crate::support::operator::{WAIT, is, ready, scenario};

const TOKEN: &str = "shpat_acme";
const STORE: &str = "acme.myshopify.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_becomes_ready_with_freshness_and_matches_the_store() {
    let mut s = scenario(&[("acme", TOKEN)], 300, |_| {}).await;
    let settings = s.env.settings("replica-a");
    s.env.start_replica(settings);
    s.env.apply_secret("acme", TOKEN).await.unwrap();
    let created = s
        .env
        .apply_connection("acme", STORE, json!({"backfill": {"window": "60d"}}))
        .await
        .unwrap();
    let c = s
        .env
        .wait_for("acme", "Ready", WAIT, |c| {
            ready(c) && is(c, BackfillComplete, True, "")
        })
        .await
        .unwrap()
        .unwrap();
    let status = c.status.clone().unwrap();
    assert!(
        c.finalizers()
            .iter()
            .any(|f| f == shopsync::controller::FINALIZER)
    );
    for cond in &status.conditions {
        assert_eq!(cond.observed_generation, c.metadata.generation, "{cond:?}");
        assert!(!cond.message.is_empty(), "{cond:?}");
    }
    assert!(is(Some(&c), CredentialsValid, True, "Accepted"));
    assert!(is(Some(&c), ScopesGranted, True, "AllGranted"));
    assert!(is(Some(&c), Throttled, False, ""));
    assert!(conditions::find(&status.conditions, Reconciling).is_none());
    let orders = status
        .freshness
        .as_ref()
        .and_then(|f| f.orders.clone())
        .unwrap();
    assert!(orders.watermark.is_some() && orders.lag_seconds.is_some());
    assert!(status.next_sync_time.is_some() && status.last_sync_time.is_some());
    assert_eq!(status.api_version.as_deref(), Some("2026-10"));
    let rate = status.rate_limit.unwrap();
    assert!(rate.bucket_size > 0.0 && rate.max_bucket_share == 50);

    let uid = created.metadata.uid.clone().unwrap();
    let stored: Vec<i64> = s.stored_orders(&uid).await;
    let unique: BTreeSet<i64> = stored.iter().copied().collect();
    assert_eq!(stored.len(), unique.len(), "duplicates stored");
    assert_eq!(unique, s.open_orders(STORE).await);
    assert_eq!(orders.records as usize, unique.len());

    // Routine polls keep coming on a 1-minute cadence (1 s real).
    let first = status.last_sync_time.unwrap().0;
    s.env
        .wait_for("acme", "polled again", WAIT, |c| {
            c.and_then(|c| c.status.as_ref()?.last_sync_time.clone())
                .is_some_and(|t| t.0 > first)
        })
        .await
        .unwrap();
    let events = s.env.events("acme").await.unwrap();
    assert!(
        events.iter().any(|(reason, _)| reason == "Synced"),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_retain_keeps_the_records_and_with_purge_shreds_them() {
    let mut s = scenario(&[("acme", TOKEN)], 100, |_| {}).await;
    let settings = s.env.settings("replica-a");
    s.env.start_replica(settings);
    s.env.apply_secret("kept", TOKEN).await.unwrap();
    s.env.apply_secret("gone", TOKEN).await.unwrap();
    let kept = s
        .env
        .apply_connection("kept", STORE, json!({}))
        .await
        .unwrap();
    let gone = s
        .env
        .apply_connection("gone", STORE, json!({"deletionPolicy": "Purge"}))
        .await
        .unwrap();
    for name in ["kept", "gone"] {
        s.env.wait_for(name, "Ready", WAIT, ready).await.unwrap();
    }
    let kept_uid = kept.metadata.uid.unwrap();
    let gone_uid = gone.metadata.uid.unwrap();
    let before = s.stored_orders(&kept_uid).await.len();
    assert!(before > 0 && s.stored_orders(&gone_uid).await.len() == before);

    // Shopify is unreachable during deletion: it must not matter.
    s.control(
        reqwest::Method::PUT,
        &format!("/_sim/stores/{STORE}/faults"),
        Some(json!({"error_rate": 1.0, "error_status": 500})),
    )
    .await;
    s.env.delete_connection("kept").await.unwrap();
    s.env.delete_connection("gone").await.unwrap();
    for name in ["kept", "gone"] {
        s.env
            .wait_for(name, "deleted", WAIT, |c| c.is_none())
            .await
            .unwrap();
    }
    assert_eq!(
        s.stored_orders(&kept_uid).await.len(),
        before,
        "Retain keeps records"
    );
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM records r JOIN connections c ON c.id = r.connection_id WHERE c.uid = $1",
    )
    .bind(&gone_uid)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(rows, 0, "Purge deletes every row");
    let purged: bool =
        sqlx::query_scalar("SELECT purged_at IS NOT NULL FROM connections WHERE uid = $1")
            .bind(&gone_uid)
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert!(
        purged,
        "Purge marks the connection purged (its keys are shredded)"
    );
}
