//! Steering a running operator: on-demand syncs acknowledged in status,
//! suspend, a spec change that cancels and replans a running backfill.

use std::time::Duration;

use serde_json::json;
use shopsync::api::ConditionStatus::{False, True};
use shopsync::api::ConditionType::*;

use crate::support::operator::{WAIT, is, ready, scenario};

const TOKEN: &str = "shpat_acme";
const STORE: &str = "acme.myshopify.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_annotation_pulls_fresh_data_now_and_is_acknowledged() {
    let mut s = scenario(&[("acme", TOKEN)], 100, |_| {}).await;
    let settings = s.env.settings("replica-a");
    s.env.start_replica(settings);
    s.env.apply_secret("acme", TOKEN).await.unwrap();
    // A long poll interval: only the request can explain a fresh sync.
    let created = s
        .env
        .apply_connection("acme", STORE, json!({"pollInterval": "24h"}))
        .await
        .unwrap();
    s.env.wait_for("acme", "Ready", WAIT, ready).await.unwrap();
    let uid = created.metadata.uid.unwrap();
    let before = s.stored_orders(&uid).await.len();

    // Our own status writes do not trigger reconciles: with nothing due, the
    // operator stays quiet.
    let reconciles = || {
        let text = s.env.replicas[0].metrics.encode();
        text.lines()
            .filter(|l| l.starts_with("shopsync_reconciles_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let quiet_from = reconciles();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        reconciles() - quiet_from <= 1.0,
        "reconciles while nothing was due"
    );

    // Watches that drop are re-established; the request below must still arrive.
    if let Some(standin) = &s.env.standin {
        standin.close_watches();
    }

    let order = s
        .control(
            reqwest::Method::POST,
            &format!("/_sim/stores/{STORE}/orders"),
            Some(json!({})),
        )
        .await;
    assert!(order["id"].is_string(), "created an order: {order}");
    // The watermark trails the simulated clock by a few seconds; let it pass.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let value = jiff::Timestamp::now().to_string();
    s.env.request_sync("acme", &value).await.unwrap();
    let c = s
        .env
        .wait_for("acme", "acknowledged", Duration::from_secs(20), |c| {
            c.and_then(|c| c.status.as_ref()?.last_handled_sync_request.clone())
                .as_deref()
                == Some(value.as_str())
        })
        .await
        .unwrap()
        .unwrap();
    assert!(is(Some(&c), Synced, True, "Succeeded"));
    assert_eq!(
        s.stored_orders(&uid).await.len(),
        before + 1,
        "the new order was pulled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_stops_scheduling_and_resume_picks_up() {
    let mut s = scenario(&[("acme", TOKEN)], 60, |_| {}).await;
    let settings = s.env.settings("replica-a");
    s.env.start_replica(settings);
    s.env.apply_secret("acme", TOKEN).await.unwrap();
    s.env
        .apply_connection("acme", STORE, json!({}))
        .await
        .unwrap();
    s.env.wait_for("acme", "Ready", WAIT, ready).await.unwrap();

    s.env
        .patch_spec("acme", json!({"suspend": true}))
        .await
        .unwrap();
    let c = s
        .env
        .wait_for("acme", "suspended", WAIT, |c| {
            is(c, Ready, False, "Suspended")
        })
        .await
        .unwrap()
        .unwrap();
    let status = c.status.unwrap();
    assert!(status.next_sync_time.is_none(), "no sync is scheduled");
    let last = status.last_sync_time.clone();
    // Three poll intervals pass and a request arrives: nothing syncs.
    s.env.request_sync("acme", "while-suspended").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let c = s.env.connections().get("acme").await.unwrap();
    let status = c.status.unwrap();
    assert_eq!(status.last_sync_time, last, "a suspended connection synced");
    assert_ne!(
        status.last_handled_sync_request.as_deref(),
        Some("while-suspended")
    );

    s.env
        .patch_spec("acme", json!({"suspend": false}))
        .await
        .unwrap();
    let c = s
        .env
        .wait_for("acme", "resumed", WAIT, ready)
        .await
        .unwrap()
        .unwrap();
    // The request made while suspended is served once resumed.
    assert_eq!(
        c.status.unwrap().last_handled_sync_request.as_deref(),
        Some("while-suspended")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_change_cancels_the_running_backfill_and_replans() {
    // Slow the store down so the backfill is still running when the spec changes.
    let mut s = scenario(&[("acme", TOKEN)], 400, |_| {}).await;
    s.control(
        reqwest::Method::PUT,
        &format!("/_sim/stores/{STORE}/faults"),
        Some(json!({"latency_ms": 300})),
    )
    .await;
    let settings = s.env.settings("replica-a");
    let replica = s.env.start_replica(settings);
    s.env.apply_secret("acme", TOKEN).await.unwrap();
    let created = s
        .env
        .apply_connection("acme", STORE, json!({}))
        .await
        .unwrap();
    s.env
        .wait_for("acme", "backfilling", WAIT, |c| {
            is(c, Reconciling, True, "FirstSync")
        })
        .await
        .unwrap();
    let changed = s
        .env
        .patch_spec("acme", json!({"backfill": {"window": "10d"}}))
        .await
        .unwrap();
    assert_eq!(changed.metadata.generation, Some(2));
    s.control(
        reqwest::Method::PUT,
        &format!("/_sim/stores/{STORE}/faults"),
        Some(json!({})),
    )
    .await;
    let c = s
        .env
        .wait_for("acme", "Ready for generation 2", WAIT, |c| {
            ready(c) && is(c, BackfillComplete, True, "")
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status.as_ref().unwrap().observed_generation, Some(2));
    let stopped = s.env.replicas[replica].metrics.encode();
    assert!(
        stopped.contains("shopsync_syncs_total{outcome=\"stopped\"}"),
        "the first backfill was stopped: {stopped}"
    );
    // Nothing stored twice; everything stored belongs to the store.
    let uid = created.metadata.uid.unwrap();
    let stored = s.stored_orders(&uid).await;
    let unique: std::collections::BTreeSet<i64> = stored.iter().copied().collect();
    assert_eq!(stored.len(), unique.len());
    assert!(unique.is_subset(&s.open_orders(STORE).await));
}
