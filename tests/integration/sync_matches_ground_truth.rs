//! A full backfill and incremental syncs against the simulator over real
//! HTTP, into real Postgres, compared with the simulator's ground truth: no
//! gaps, no duplicates, cancelled orders tombstoned, scope rules honoured.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;
use shopsync::store::RecordSet;

use crate::support::sync_env::{STORE, SyncEnv, number, open_orders, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_then_incremental_equals_ground_truth() {
    let env = SyncEnv::start(300, 20, 45, |_| {}).await;
    let spec = spec(
        "  scopes: [read_orders, read_all_orders, read_products, read_returns]\n  resources: {products: {enabled: true}, refunds: {enabled: true}, returns: {enabled: true}}\n",
    );

    let report = env.sync(&spec).await;
    assert!(report.succeeded(), "{:?}", report.error);
    let backfill = &report.backfill[&RecordSet::Orders];
    assert!(backfill.is_complete() && backfill.clipped_from.is_none());

    let truth = env.truth("orders").await;
    assert_eq!(
        env.stored_ids("orders").await,
        open_orders(&truth),
        "stored orders differ from the store's open orders"
    );
    let products: BTreeSet<i64> = env
        .truth("products")
        .await
        .iter()
        .map(|p| number(&p["id"]))
        .collect();
    assert_eq!(env.stored_ids("products").await, products);
    let excluded: BTreeSet<i64> = truth
        .iter()
        .map(|o| number(&o["id"]))
        .filter(|id| !open_orders(&truth).contains(id))
        .collect();
    assert_eq!(
        env.tombstoned_ids("orders").await,
        excluded,
        "cancelled and closed orders are tombstones"
    );

    // The store changes: a synced order is cancelled, another is edited, a new one arrives.
    let kept: Vec<i64> = open_orders(&truth).into_iter().take(2).collect();
    let base = format!("/_sim/stores/{STORE}/orders");
    env.control(
        Method::POST,
        &format!("{base}/{}/cancel", kept[0]),
        Some(json!({"reason": "CUSTOMER"})),
    )
    .await;
    env.control(
        Method::PATCH,
        &format!("{base}/{}", kept[1]),
        Some(json!({"tags": ["vip"]})),
    )
    .await;
    let created = env.control(Method::POST, &base, Some(json!({}))).await;
    // Let simulated time pass the settle margin so the changes fall in the window.
    env.control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advance_seconds": 30})),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let report = env.sync(&spec).await;
    assert!(report.succeeded(), "{:?}", report.error);
    let stored = env.stored_ids("orders").await;
    assert!(
        !stored.contains(&kept[0]),
        "a cancelled order must be tombstoned"
    );
    assert!(env.tombstoned_ids("orders").await.contains(&kept[0]));
    assert!(
        stored.contains(&number(&created["id"])),
        "the new order must be synced: {created}"
    );
    assert_eq!(stored, open_orders(&env.truth("orders").await));
    let incremental = &report.recordsets[&RecordSet::Orders];
    assert!(
        incremental.written >= 2,
        "the edited and the new order are rewritten: {incremental:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_read_all_orders_the_backfill_is_clipped_and_says_so() {
    let env = SyncEnv::start(200, 5, 120, |config| {
        config.stores[0].scopes.remove("read_all_orders");
    })
    .await;
    let spec = spec("  backfill: {window: 90d}\n");
    let report = env.sync(&spec).await;
    assert!(report.succeeded(), "{:?}", report.error);
    let backfill = &report.backfill[&RecordSet::Orders];
    assert!(
        backfill.clipped_from.is_some(),
        "the 90-day window must be reported as clipped"
    );
    let sixty_days_ago = report.started.as_second() - 60 * 86_400;
    assert!(backfill.from.as_second() >= sixty_days_ago - 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_scopes_skip_their_recordsets_and_the_rest_syncs() {
    let env = SyncEnv::start(120, 10, 30, |config| {
        config.stores[0].scopes.remove("read_products");
    })
    .await;
    let spec =
        spec("  scopes: [read_orders, read_products]\n  resources: {products: {enabled: true}}\n");
    let report = env.sync(&spec).await;
    assert!(report.succeeded(), "{:?}", report.error);
    let decision = report.decision.expect("scopes were read");
    assert!(
        decision
            .missing
            .iter()
            .any(|s| s.handle() == "read_products")
    );
    assert!(env.stored_ids("products").await.is_empty());
    assert!(
        !env.stored_ids("orders").await.is_empty(),
        "orders keep syncing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_stages_and_change_sets_are_split_to_bound_memory() {
    let env = SyncEnv::start(400, 5, 30, |_| {}).await;
    let config = shopsync::sync::EngineConfig {
        max_job_orders: 40,
        ..shopsync::sync::EngineConfig::default()
    };
    let spec = spec("");
    let report = env.sync_with(&spec, config).await;
    assert!(report.succeeded(), "{:?}", report.error);
    let backfill = &report.backfill[&RecordSet::Orders];
    assert!(
        backfill.stages.len() > 13,
        "weekly stages over 40 orders must be halved: {}",
        backfill.stages.len()
    );
    for pair in backfill.stages.windows(2) {
        assert_eq!(
            pair[0].from, pair[1].to,
            "split stages still tile the window"
        );
    }
    let truth = env.truth("orders").await;
    assert_eq!(env.stored_ids("orders").await, open_orders(&truth));

    // A burst of changes larger than one job is read in several windows.
    let base = format!("/_sim/stores/{STORE}/orders");
    for _ in 0..90 {
        env.control(Method::POST, &base, Some(json!({}))).await;
    }
    env.control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advance_seconds": 30})),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let report = env.sync_with(&spec, config).await;
    assert!(report.succeeded(), "{:?}", report.error);
    assert_eq!(
        env.stored_ids("orders").await,
        open_orders(&env.truth("orders").await)
    );
}
