//! The sync engine against a misbehaving Shopify: THROTTLED storms, 5xx
//! bursts with Retry-After, reset connections, throttled and truncated
//! downloads, expired and stalled bulk jobs. Each ends with complete data and
//! a status that says what happened; the token never reaches the download host.

use std::time::Duration;

use serde_json::json;
use shopsync::store::RecordSet;
use shopsync::sync::EngineConfig;
use shopsync::sync::bulk_job::Pacing;

use crate::support::sync_env::{SyncEnv, open_orders, spec};

async fn assert_complete(env: &SyncEnv) {
    let truth = env.truth("orders").await;
    assert_eq!(
        env.stored_ids("orders").await,
        open_orders(&truth),
        "stored orders differ from the ground truth"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storms_of_throttling_errors_and_resets_end_with_complete_data() {
    let env = SyncEnv::start(250, 5, 40, |_| {}).await;
    env.faults(json!({
        "throttle_storm": 8,
        "error_rate": 0.2, "error_status": 503, "retry_after_s": 0.5,
        "reset_rate": 0.1,
        "download_429_rate": 0.4,
    }))
    .await;
    let report = env.sync(&spec("")).await;
    assert!(report.succeeded(), "{:?}", report.error);
    assert!(
        report.stats.throttled >= 1,
        "the storm must have been seen: {:?}",
        report.stats
    );
    assert!(report.stats.retries >= 1);
    assert_complete(&env).await;
    let stats = env.stats().await;
    assert_eq!(
        stats["token_on_download"], 0,
        "the access token must never be sent to the download host"
    );
    assert!(stats["downloads"].as_u64().unwrap_or(0) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_never_deliver_report_honestly_then_recover_completely() {
    // Every result expires as it completes: nothing usable, run after run.
    // (Jobs that fail part-way still deliver: failed_jobs_keep_their_complete_orders.rs.)
    let env = SyncEnv::start(300, 5, 20, |_| {}).await;
    env.faults(json!({"bulk": "expire"})).await;
    let config = EngineConfig {
        max_job_attempts: 2,
        ..EngineConfig::default()
    };
    let report = env.sync_with(&spec(""), config).await;
    let (reason, message, _) = report
        .error
        .clone()
        .expect("a job that never delivers is reported");
    assert_eq!(reason, "BulkOperationFailed");
    assert!(
        message.contains("Expired") && message.contains("tried 2 times"),
        "{message}"
    );
    assert!(env.stored_ids("orders").await.is_empty());

    env.faults(json!({})).await;
    let report = env.sync(&spec("")).await;
    assert!(report.succeeded(), "{:?}", report.error);
    assert_complete(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_results_are_never_stored_as_complete() {
    let env = SyncEnv::start(200, 5, 40, |_| {}).await;
    env.faults(json!({"truncate_jsonl": true})).await;
    let config = EngineConfig {
        max_job_attempts: 2,
        ..EngineConfig::default()
    };
    let report = env.sync_with(&spec(""), config).await;
    assert!(
        report.error.is_some(),
        "a result that is always cut short must not pass as complete"
    );
    let backfill = report.backfill.get(&RecordSet::Orders);
    assert!(backfill.is_none_or(|b| !b.is_complete()));

    env.faults(json!({})).await;
    let report = env.sync(&spec("")).await;
    assert!(report.succeeded(), "{:?}", report.error);
    assert_complete(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_job_is_waited_for_and_picked_up_when_it_moves() {
    let env = SyncEnv::start(150, 5, 20, |_| {}).await;
    env.faults(json!({"bulk": "stall"})).await;
    let sim_url = env.sim.url();
    let http = env.http.clone();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let url = format!("{sim_url}/_sim/stores/demo.myshopify.com/faults");
        http.put(url)
            .json(&json!({}))
            .send()
            .await
            .expect("clear faults");
    });
    let config = EngineConfig {
        pacing: Pacing {
            max_job: Duration::from_secs(3600),
            ..Pacing::default()
        },
        ..EngineConfig::default()
    };
    let report = env.sync_with(&spec(""), config).await;
    release.await.expect("release task");
    assert!(report.succeeded(), "{:?}", report.error);
    assert_complete(&env).await;
}
