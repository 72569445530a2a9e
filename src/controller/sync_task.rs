//! The body of one supervised sync: wait for a slot, run the engine, write
//! the status it amounts to, count it in the metrics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::watch;
use tracing::Instrument;

use crate::api::ShopifyConnection;
use crate::api::conditions::{self, Condition, ConditionType};
use crate::shopify::ShopifyClient;
use crate::shopify::http::Endpoint;
use crate::store::{RecordSet, RecordWriter, connections, counts};
use crate::sync::progress::{SyncPhase, SyncProgress};
use crate::sync::status::{StatusContext, backfill_status, from_report};
use crate::sync::{Engine, SyncReport};
use crate::telemetry::metrics::{ConnectionLabel, OutcomeLabel, RecordsetLabel, StoreLabel};

use super::context::Context;
use super::dereference::Credentials;
use super::identity::identity;
use super::plan::Why;
use super::schedule::Cadence;
use super::supervisor::{Outcome, SlotClaim};

/// What to sync and why.
pub struct SyncJob {
    pub connection: Arc<ShopifyConnection>,
    pub credentials: Credentials,
    pub why: Why,
    /// The sync-requested-at value this sync answers, if any.
    pub request: Option<String>,
    pub cadence: Cadence,
}

pub async fn run(
    ctx: Arc<Context>,
    job: SyncJob,
    mut stop: watch::Receiver<bool>,
    claim: SlotClaim,
) -> Outcome {
    let name = format!(
        "{}/{}",
        job.connection
            .metadata
            .namespace
            .as_deref()
            .unwrap_or_default(),
        job.connection.metadata.name.as_deref().unwrap_or_default()
    );
    let span = tracing::info_span!("sync", connection = %name, store = %job.connection.spec.store, why = job.why.as_str());
    async move {
        ctx.metrics.syncs_waiting.inc();
        let permit = claim.acquire(&mut stop).await;
        ctx.metrics.syncs_waiting.dec();
        let Some(_permit) = permit else {
            return Outcome::Stopped;
        };
        // Only the sync a request started counts: every later sync carries
        // the same annotation value.
        if job.why == Why::Requested
            && let Some(request) = &job.request
            && let Ok(at) = request.parse::<Timestamp>()
        {
            // A timestamp value (the documented convention) lets us measure
            // how long the request waited to start.
            let waited = Timestamp::now().duration_since(at).as_secs_f64();
            ctx.metrics.request_start_latency.observe(waited.max(0.0));
        }
        if matches!(job.why, Why::Scheduled)
            && let Some(last) = ctx
                .status
                .last_applied(&job.connection)
                .await
                .and_then(|s| s.last_sync_time)
        {
            let clock = &ctx.settings.clock;
            let due = job.cadence.next_due(last.0);
            let late = super::schedule::until(due, clock.now());
            ctx.metrics
                .start_delay
                .observe(clock.to_real(late).as_secs_f64());
        }
        ctx.metrics.syncs_running.inc();
        tracing::debug!("sync started");
        let started = Instant::now();
        let outcome = sync(&ctx, &job, stop).await;
        tracing::debug!(
            outcome = outcome.as_str(),
            seconds = started.elapsed().as_secs_f64(),
            "sync ended"
        );
        ctx.metrics.syncs_running.dec();
        ctx.metrics
            .syncs
            .get_or_create(&OutcomeLabel {
                outcome: outcome.as_str(),
            })
            .inc();
        ctx.metrics
            .sync_duration
            .get_or_create(&OutcomeLabel {
                outcome: outcome.as_str(),
            })
            .observe(started.elapsed().as_secs_f64());
        outcome
    }
    .instrument(span)
    .await
}

async fn sync(ctx: &Arc<Context>, job: &SyncJob, stop: watch::Receiver<bool>) -> Outcome {
    let connection = &job.connection;
    let spec = &connection.spec;
    let id = identity(connection);
    if announces_start(job.why) {
        let message = match &job.request {
            Some(r) => format!("syncing ({}, request {r})", job.why.as_str()),
            None => format!("syncing ({})", job.why.as_str()),
        };
        let now = Time(ctx.settings.clock.now());
        let generation = connection.metadata.generation;
        let _ = ctx
            .status
            .update(connection, |s| {
                conditions::set(
                    &mut s.conditions,
                    Condition::new(ConditionType::Reconciling, true, job.why.as_str(), message),
                    generation,
                    now,
                )
            })
            .await;
    }
    let registered = match connections::register(&ctx.pool, &id).await {
        Ok(r) => r,
        Err(e) => return store_failed(ctx, job, &e.to_string()).await,
    };
    let mut writer = match RecordWriter::open(
        ctx.pool.clone(),
        Arc::clone(&ctx.master),
        registered.clone(),
    )
    .await
    {
        Ok(w) => w,
        Err(e) => return store_failed(ctx, job, &e.to_string()).await,
    };
    let limiter = ctx.limiters.for_store(&spec.store);
    limiter.set_share(&id.uid, spec.rate_limit.max_bucket_share);
    let endpoint = match Endpoint::for_store(
        &spec.store,
        &spec.api_version,
        ctx.settings.shopify_endpoint.as_ref(),
    ) {
        Ok(e) => e,
        Err(e) => return store_failed(ctx, job, &e.to_string()).await,
    };
    let client = ShopifyClient::new(
        ctx.http.clone(),
        &spec.store,
        &spec.api_version,
        endpoint,
        job.credentials.token.clone(),
        limiter,
        ctx.settings.clock.clone(),
    );
    let (progress_tx, progress_rx) = watch::channel(SyncProgress::default());
    let engine = Engine::new(&client, &mut writer, spec, ctx.settings.engine)
        .with_stop(stop)
        .with_progress(progress_tx)
        .run_once();
    let report = tokio::select! {
        report = engine => report,
        never = report_progress(ctx, connection, progress_rx) => match never {},
    };
    let counts = record_counts(ctx, connection, registered.id, &report).await;
    record_metrics(ctx, job, &report);
    let outcome = if report.stopped {
        Outcome::Stopped
    } else if report.error.is_some() {
        Outcome::Failed
    } else {
        Outcome::Succeeded
    };
    write_status(ctx, job, &report, &counts, outcome).await;
    outcome
}

/// Record counts for status. Counting reads every index entry of the
/// connection, so a sync that stored nothing reuses the counts status shows,
/// as does one whose count fails (status keeps its last true numbers).
async fn record_counts(
    ctx: &Arc<Context>,
    connection: &ShopifyConnection,
    connection_id: i64,
    report: &SyncReport,
) -> BTreeMap<RecordSet, i64> {
    let shown = ctx
        .status
        .last_applied(connection)
        .await
        .and_then(|s| s.freshness)
        .and_then(|freshness| {
            report
                .recordsets
                .keys()
                .map(|r| freshness.get(*r).map(|f| (*r, f.records)))
                .collect::<Option<BTreeMap<_, _>>>()
        });
    let stored_nothing = report
        .recordsets
        .values()
        .all(|r| r.written == 0 && r.tombstoned == 0);
    if stored_nothing && let Some(shown) = shown {
        return shown;
    }
    match counts::live_counts(&ctx.pool, connection_id).await {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, "counting the stored records failed; status keeps the last counts");
            shown.unwrap_or_default()
        }
    }
}

/// While a backfill runs, its progress goes into status, at most once per
/// `progress_every` (a backfill can take hours; a status write per batch
/// would flood the API server and every watcher). Never returns: the sync's
/// end drops it.
async fn report_progress(
    ctx: &Arc<Context>,
    connection: &ShopifyConnection,
    mut progress: watch::Receiver<SyncProgress>,
) -> std::convert::Infallible {
    let generation = connection.metadata.generation;
    loop {
        if progress.changed().await.is_err() {
            return std::future::pending().await;
        }
        let snapshot = progress.borrow_and_update().clone();
        let backfill = snapshot
            .backfill
            .get(&RecordSet::Orders)
            .or_else(|| snapshot.backfill.values().next())
            .filter(|b| snapshot.phase == SyncPhase::Backfill && !b.is_complete());
        if let Some(b) = backfill {
            let status = backfill_status(b);
            let message = format!(
                "backfill: {} of {} stages committed, {} records",
                status.completed_stages, status.total_stages, status.records
            );
            let now = Time(ctx.settings.clock.now());
            let _ = ctx
                .status
                .update(connection, |s| {
                    s.backfill = Some(status);
                    conditions::set(
                        &mut s.conditions,
                        Condition::new(
                            ConditionType::BackfillComplete,
                            false,
                            "Running",
                            message.clone(),
                        ),
                        generation,
                        now.clone(),
                    );
                    if let Some(r) = s
                        .conditions
                        .iter_mut()
                        .find(|c| c.type_ == ConditionType::Reconciling.as_str())
                    {
                        r.message = message;
                    }
                })
                .await;
        }
        tokio::time::sleep(ctx.settings.progress_every).await;
    }
}

/// Routine polls write status once, at the end; syncs someone waits for
/// (first sync, backfill, a request, a change) also say when they start.
fn announces_start(why: Why) -> bool {
    !matches!(why, Why::Scheduled | Why::Retry)
}

async fn write_status(
    ctx: &Arc<Context>,
    job: &SyncJob,
    report: &SyncReport,
    counts: &BTreeMap<crate::store::RecordSet, i64>,
    outcome: Outcome,
) {
    let connection = &job.connection;
    let previous = ctx.status.last_applied(connection).await;
    let next = job.cadence.next_due(report.finished);
    let mut built = from_report(
        report,
        StatusContext {
            previous: previous.as_ref(),
            generation: connection.metadata.generation,
            max_bucket_share: connection.spec.rate_limit.max_bucket_share,
            next_sync: Some(next),
            counts,
        },
    );
    conditions::remove(&mut built.conditions, ConditionType::Reconciling);
    if outcome == Outcome::Stopped {
        // Progress is kept; the schedule is the next reconcile's business.
        built.next_sync_time = None;
    } else {
        built.credentials_version = Some(job.credentials.version.clone());
        if let Some(request) = &job.request {
            built.last_handled_sync_request = Some(request.clone());
        }
    }
    if let Err(e) = ctx.status.update(connection, |s| *s = built).await {
        tracing::warn!(error = %e, "writing the sync's status failed; the next reconcile retries");
    }
}

async fn store_failed(ctx: &Arc<Context>, job: &SyncJob, message: &str) -> Outcome {
    tracing::warn!(error = %message, "the record store is unavailable");
    let mut report = SyncReport::new(ctx.settings.clock.now());
    report.error = Some((
        "StoreUnavailable".to_owned(),
        format!("the record store is unavailable: {message}"),
        false,
    ));
    write_status(ctx, job, &report, &BTreeMap::new(), Outcome::Failed).await;
    Outcome::Failed
}

fn record_metrics(ctx: &Context, job: &SyncJob, report: &SyncReport) {
    let m = &ctx.metrics;
    let store = StoreLabel {
        store: job.connection.spec.store.clone(),
    };
    for (recordset, r) in &report.recordsets {
        m.records_written
            .get_or_create(&RecordsetLabel {
                recordset: recordset.to_string(),
            })
            .inc_by(r.written);
    }
    m.budget_wait
        .observe(report.stats.budget_wait.as_secs_f64());
    m.api_cost
        .get_or_create(&store)
        .inc_by(report.stats.cost_used);
    m.throttled
        .get_or_create(&store)
        .inc_by(u64::from(report.stats.throttled));
    if let Some(bucket) = report.bucket {
        m.bucket_available
            .get_or_create(&store)
            .set(bucket.available);
        m.bucket_size.get_or_create(&store).set(bucket.maximum);
    }
    let orders = report
        .recordsets
        .get(&crate::store::RecordSet::Orders)
        .and_then(|r| r.watermark);
    if let Some(watermark) = orders {
        let lag = report.finished.duration_since(watermark).as_secs().max(0);
        m.freshness_lag
            .get_or_create(&ConnectionLabel {
                namespace: job
                    .connection
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_default(),
                name: job.connection.metadata.name.clone().unwrap_or_default(),
            })
            .set(lag);
    }
}
