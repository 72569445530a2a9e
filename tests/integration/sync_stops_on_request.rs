//! The operator's stop hook: a sync asked to stop commits the batch in flight
//! with its checkpoint, returns promptly with `stopped` and no error, and is
//! recorded as ended; the next run resumes there and ends equal to the
//! store's ground truth. The progress hook reports along the way.

use std::time::{Duration, Instant};

use serde_json::json;
use shopsync::store::RecordSet;
use shopsync::sync::bulk_job::Pacing;
use shopsync::sync::{Engine, EngineConfig, SyncPhase, SyncProgress};
use tokio::sync::watch;

use crate::support::sync_env::{SyncEnv, open_orders, spec};

/// The outcome and end time of the connection's runs, oldest first.
async fn runs(env: &SyncEnv) -> Vec<(Option<String>, bool)> {
    sqlx::query_as::<_, (Option<String>, Option<chrono::DateTime<chrono::Utc>>)>(
        "SELECT outcome, finished_at FROM sync_runs WHERE connection_id = $1 ORDER BY id",
    )
    .bind(env.connection.id)
    .fetch_all(&env.db.pool)
    .await
    .expect("runs")
    .into_iter()
    .map(|(outcome, finished)| (outcome, finished.is_some()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_mid_backfill_then_resumed_equals_the_ground_truth() {
    let env = SyncEnv::start(900, 5, 80, |_| {}).await;
    let spec = spec("");
    let (progress_tx, mut progress) = watch::channel(SyncProgress::default());
    let (stop_tx, stop) = watch::channel(false);
    // Ask for a stop once two stages are committed.
    let stopper = tokio::spawn(async move {
        let seen = progress
            .wait_for(|p| {
                p.backfill
                    .get(&RecordSet::Orders)
                    .is_some_and(|b| b.completed >= 2)
            })
            .await
            .map(|p| p.clone())
            .expect("progress");
        stop_tx.send_replace(true);
        (seen, progress, stop_tx)
    });
    let mut writer = env.writer().await;
    let report = Engine::new(&env.client, &mut writer, &spec, EngineConfig::default())
        .with_progress(progress_tx)
        .with_stop(stop)
        .run_once()
        .await;
    let (seen, progress, _stop_tx) = stopper.await.expect("stopper");

    assert!(report.stopped, "the report says the sync was stopped");
    assert!(
        report.succeeded(),
        "a stop is not an error: {:?}",
        report.error
    );
    let backfill = &report.backfill[&RecordSet::Orders];
    assert!(
        !backfill.is_complete(),
        "stopped mid-backfill: {} of {} stages",
        backfill.completed,
        backfill.stages.len()
    );
    assert_eq!(seen.phase, SyncPhase::Backfill);
    assert_eq!(seen.recordset, Some(RecordSet::Orders));
    assert!(seen.records_written > 0);
    let last = progress.borrow().clone();
    assert_eq!(last.phase, SyncPhase::Done);
    assert_eq!(
        last.backfill[&RecordSet::Orders],
        *backfill,
        "progress and report agree on the committed backfill"
    );
    assert_eq!(
        runs(&env).await,
        [(Some("cancelled".to_owned()), true)],
        "the stopped run is recorded as ended"
    );
    assert_eq!(
        env.stored_ids("orders").await.len() as i64,
        backfill.records,
        "the checkpoint counts exactly the records committed"
    );

    let report = env.sync(&spec).await;
    assert!(report.succeeded() && !report.stopped, "{:?}", report.error);
    assert!(report.backfill[&RecordSet::Orders].is_complete());
    let truth = env.truth("orders").await;
    assert_eq!(env.stored_ids("orders").await, open_orders(&truth));
    let all: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM records WHERE connection_id = $1 AND recordset = 'orders'",
    )
    .bind(env.connection.id)
    .fetch_one(&env.db.pool)
    .await
    .expect("count");
    assert_eq!(
        all as usize,
        truth.len(),
        "one row per order: no duplicates, none missing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_a_bulk_job_runs_returns_at_once_and_the_next_run_re_attaches() {
    // Real time, one stage, and a job that stays RUNNING.
    let env = SyncEnv::start(200, 5, 20, |config| config.clock_speed = 1.0).await;
    env.faults(json!({"bulk": "stall"})).await;
    let spec = spec("  backfill: {window: 25d}\n");
    let config = EngineConfig {
        stage_width: jiff::SignedDuration::from_hours(30 * 24),
        // Without the stop hook the engine would sleep a minute between polls.
        pacing: Pacing {
            first_poll: Duration::from_secs(60),
            max_poll: Duration::from_secs(60),
            ..Pacing::default()
        },
        ..EngineConfig::default()
    };
    let (progress_tx, mut progress) = watch::channel(SyncProgress::default());
    let (stop_tx, stop) = watch::channel(false);
    let stats_env = (env.http.clone(), env.sim.url());
    let stopper = tokio::spawn(async move {
        progress
            .wait_for(|p| p.job.is_some())
            .await
            .expect("a job begins");
        // The job is submitted right after it is announced; wait until the simulator has it.
        let (http, url) = stats_env;
        loop {
            let stats: serde_json::Value = http
                .get(format!("{url}/_sim/stats"))
                .send()
                .await
                .expect("stats")
                .json()
                .await
                .expect("stats json");
            if stats["stores"][crate::support::sync_env::STORE]["bulk_started"].as_u64() >= Some(1)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop_tx.send_replace(true);
        (Instant::now(), stop_tx)
    });
    let mut writer = env.writer().await;
    let report = Engine::new(&env.client, &mut writer, &spec, config)
        .with_progress(progress_tx)
        .with_stop(stop)
        .run_once()
        .await;
    let returned = Instant::now();
    let (asked, _stop_tx) = stopper.await.expect("stopper");
    assert!(report.stopped && report.succeeded(), "{:?}", report.error);
    let latency = returned.duration_since(asked);
    assert!(
        latency < Duration::from_secs(2),
        "returned {latency:?} after the stop, while the job was running"
    );
    let operation = report.backfill[&RecordSet::Orders]
        .job
        .operation
        .clone()
        .expect("the checkpoint names the running job");

    env.faults(json!({})).await;
    let config = EngineConfig {
        pacing: Pacing::default(),
        ..config
    };
    let report = env.sync_with(&spec, config).await;
    assert!(report.succeeded() && !report.stopped, "{:?}", report.error);
    assert_eq!(
        env.stats().await["bulk_started"],
        1,
        "the rerun re-attached to {operation} instead of starting another job"
    );
    assert_eq!(
        env.stored_ids("orders").await,
        open_orders(&env.truth("orders").await)
    );
}
