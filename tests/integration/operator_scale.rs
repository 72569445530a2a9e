//! High availability and scale through the real controller: a leader that
//! dies mid-backfill is replaced and the data ends complete without
//! duplicates; 200 connections on 10 stores never push any store's bucket
//! below what their share allows.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use shopsync::api::ConditionStatus::{False, True};
use shopsync::api::ConditionType::*;

use crate::support::operator::{WAIT, is, ready, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_a_crashed_leaders_backfill_without_duplicates() {
    const STORE: &str = "acme.myshopify.com";
    let mut s = scenario(&[("acme", "shpat_acme")], 600, |_| {}).await;
    s.control(
        reqwest::Method::PUT,
        &format!("/_sim/stores/{STORE}/faults"),
        Some(json!({"latency_ms": 150})),
    )
    .await;
    let a = s.env.start_replica(s.env.settings("replica-a"));
    // Let A win the election before B starts.
    for _ in 0..100 {
        if s.env.replicas[a].metrics.leader.get() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let b = s.env.start_replica(s.env.settings("replica-b"));
    s.env.apply_secret("acme", "shpat_acme").await.unwrap();
    let created = s
        .env
        .apply_connection("acme", STORE, json!({"backfill": {"window": "60d"}}))
        .await
        .unwrap();
    let mid = s
        .env
        .wait_for("acme", "mid-backfill", WAIT, |c| {
            c.and_then(|c| c.status.as_ref()?.backfill.clone())
                .is_some_and(|b| b.completed_stages >= 1)
        })
        .await
        .unwrap()
        .unwrap();
    // Progress reached status while the backfill ran.
    assert!(
        is(Some(&mid), BackfillComplete, False, "Running"),
        "finished before the crash"
    );
    assert_eq!(s.env.replicas[a].metrics.leader.get(), 1, "A leads");
    assert_eq!(s.env.replicas[b].metrics.leader.get(), 0, "B stands by");
    s.env.crash_replica(a);
    s.control(
        reqwest::Method::PUT,
        &format!("/_sim/stores/{STORE}/faults"),
        Some(json!({})),
    )
    .await;
    s.env
        .wait_for("acme", "completed by B", WAIT, |c| {
            ready(c) && is(c, BackfillComplete, True, "")
        })
        .await
        .unwrap();
    assert_eq!(s.env.replicas[b].metrics.leader.get(), 1, "B took over");
    let stored = s.stored_orders(&created.metadata.uid.unwrap()).await;
    let unique: BTreeSet<i64> = stored.iter().copied().collect();
    assert_eq!(stored.len(), unique.len(), "duplicates after failover");
    assert_eq!(unique, s.open_orders(STORE).await, "gaps after failover");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_connections_on_ten_stores_stay_within_each_bucket_share() {
    let stores: Vec<(String, String)> = (0..10)
        .map(|i| (format!("shop-{i}"), format!("shpat_{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = stores
        .iter()
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect();
    let mut s = scenario(&refs, 40, |_| {}).await;
    let mut settings = s.env.settings("replica-a");
    settings.max_concurrent_syncs = 16;
    s.env.start_replica(settings);
    for (i, (name, token)) in stores.iter().enumerate() {
        s.env.apply_secret(name, token).await.unwrap();
        for j in 0..20 {
            s.env
                .apply_connection(
                    &format!("{name}-{j}"),
                    &format!("{name}.myshopify.com"),
                    // A 10-minute cadence (10 s real): 20 polls a second in steady state.
                    json!({
                        "credentials": {"secretRef": {"name": name}},
                        "rateLimit": {"maxBucketShare": 10 + (i as u8 % 3) * 10},
                        "backfill": {"window": "3d"},
                        "pollInterval": "10m",
                    }),
                )
                .await
                .unwrap();
        }
    }
    for (name, _) in &stores {
        for j in [0, 19] {
            s.env
                .wait_for(
                    &format!("{name}-{j}"),
                    "Ready",
                    Duration::from_secs(120),
                    ready,
                )
                .await
                .unwrap();
        }
    }
    // Keep polling for a few more seconds, then read the simulator's view.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stats = s.control(reqwest::Method::GET, "/_sim/stats", None).await;
    for (i, (name, _)) in stores.iter().enumerate() {
        let store = &stats["stores"][format!("{name}.myshopify.com")];
        let share = f64::from(10 + (i as u32 % 3) * 10) / 100.0;
        let size = store["throttleStatus"]["maximumAvailable"]
            .as_f64()
            .unwrap_or(2000.0);
        let lowest = store["lowestAvailable"].as_f64().expect("lowestAvailable");
        assert!(
            lowest >= size * (1.0 - share) - 1.0,
            "{name}: bucket fell to {lowest} of {size}, share {share}"
        );
        assert_eq!(
            store["throttled"].as_u64().unwrap_or(0),
            0,
            "{name} was throttled: {store}"
        );
    }
}
