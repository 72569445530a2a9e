//! One sync of one connection: read the granted scopes, apply the data-scope
//! rules, run (or resume) the staged backfill, then read what changed since
//! the watermark. Every batch of records commits together with the checkpoint
//! that covers it, so a crash anywhere resumes without gaps or duplicates.
//! The caller can watch progress ([`Engine::with_progress`]) and ask for a
//! prompt, clean stop ([`Engine::with_stop`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use tokio::sync::watch;

use crate::api::ShopifyConnectionSpec;
use crate::shopify::{ShopifyClient, ShopifyError, queries};
use crate::store::{RecordSet, RecordWriter, RunEnd, RunId, RunOutcome, StoreError};

use super::backfill_plan;
use super::bulk_job::Pacing;
use super::progress::{SyncPhase, SyncProgress};
use super::records::ConversionError;
use super::report::{ShopInfo, SyncReport};
use super::scope_rules::{self, ScopeDecision};
use super::source::Source;
use super::stop::StopSignal;

mod backfill;
mod commit;
mod incremental;
mod job;
mod paged;
mod result;

/// Tuning of the engine; the defaults suit production.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    pub pacing: Pacing,
    /// Each incremental window starts this much before the watermark, since
    /// Shopify's timestamps have one-second resolution and writes commit late.
    pub overlap: Duration,
    /// The window ends this far behind now, for the same reason.
    pub settle: Duration,
    pub stage_width: SignedDuration,
    /// Records per transaction.
    pub batch_size: usize,
    /// Runs of one job (stage or window) in a row that store nothing new
    /// before giving up on it. A run that stores part of the job (a failed
    /// job's partial result) starts the count again.
    pub max_job_attempts: u32,
    /// Start the next backfill stage's bulk operation while the current one
    /// is stored (when Shopify has a free slot), so its result is ready
    /// sooner.
    pub read_ahead: bool,
    /// A backfill stage or incremental window with more orders than this is
    /// halved until it fits: stages are what a restart resumes and what a
    /// progress bar shows, and a job this size finishes within minutes.
    pub max_job_orders: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            pacing: Pacing::default(),
            overlap: Duration::from_secs(60),
            settle: Duration::from_secs(5),
            stage_width: backfill_plan::DEFAULT_STAGE,
            batch_size: 500,
            max_job_attempts: 5,
            max_job_orders: 10_000,
            read_ahead: true,
        }
    }
}

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Shopify(#[from] ShopifyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Conversion(#[from] ConversionError),
    #[error(transparent)]
    Plan(#[from] backfill_plan::PlanError),
    #[error("{0}")]
    GaveUp(String),
    /// The caller asked the engine to stop; everything committed so far is
    /// checkpointed. Not a failure: the report says `stopped`.
    #[error("the sync was stopped on request; it resumes from its checkpoint")]
    Stopped,
}

impl SyncError {
    /// Stable PascalCase reason for conditions and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            SyncError::Shopify(e) => e.reason(),
            SyncError::Store(_) => "StoreUnavailable",
            SyncError::Conversion(_) => "UnexpectedShopifyData",
            SyncError::Plan(_) => "InvalidSpec",
            SyncError::GaveUp(_) => "BulkOperationFailed",
            SyncError::Stopped => "Stopped",
        }
    }

    /// Whether only a person can fix it (token, scopes, spec).
    pub fn needs_a_person(&self) -> bool {
        match self {
            SyncError::Shopify(e) => e.needs_a_person(),
            SyncError::Plan(_) => true,
            _ => false,
        }
    }
}

/// Drives one connection's sync.
pub struct Engine<'a> {
    client: &'a ShopifyClient,
    writer: &'a mut RecordWriter,
    spec: &'a ShopifyConnectionSpec,
    config: EngineConfig,
    run: Option<RunId>,
    report: SyncReport,
    progress: Option<watch::Sender<SyncProgress>>,
    stop: StopSignal,
}

impl<'a> Engine<'a> {
    pub fn new(
        client: &'a ShopifyClient,
        writer: &'a mut RecordWriter,
        spec: &'a ShopifyConnectionSpec,
        config: EngineConfig,
    ) -> Engine<'a> {
        let started = client.clock().now();
        Engine {
            client,
            writer,
            spec,
            config,
            run: None,
            report: SyncReport::new(started),
            progress: None,
            stop: StopSignal::default(),
        }
    }

    /// Publishes a [`SyncProgress`] snapshot after every committed batch, at
    /// every stage or window boundary and at every phase change. Sending
    /// never blocks; receivers see the latest snapshot.
    pub fn with_progress(mut self, tx: watch::Sender<SyncProgress>) -> Self {
        self.progress = Some(tx);
        self
    }

    /// Stops the sync once `stop` turns true: the batch in flight is
    /// committed with its checkpoint and the run returns promptly — between
    /// batches, between stages and windows, and while a bulk job runs (the
    /// checkpoint names it, so the next run re-attaches). The report then
    /// says `stopped` and carries no error.
    pub fn with_stop(mut self, stop: watch::Receiver<bool>) -> Self {
        self.stop = StopSignal::new(stop);
        self
    }

    /// Runs one sync to its end and reports what happened, errors included.
    pub async fn run_once(mut self) -> SyncReport {
        let outcome = match self.sync().await {
            Err(SyncError::Stopped) => {
                tracing::info!(
                    store = self.client.store(),
                    "sync stopped on request; it resumes from its checkpoint"
                );
                self.report.stopped = true;
                Ok(())
            }
            other => other,
        };
        self.report.stats = self.client.take_stats();
        self.report.bucket = self.client.limiter().estimate();
        self.report.fall_forward = self.client.fall_forward();
        self.report.finished = self.client.clock().now();
        let end = RunEnd {
            outcome: match (&outcome, self.report.stopped) {
                (Err(_), _) => RunOutcome::Failed,
                (Ok(()), true) => RunOutcome::Cancelled,
                (Ok(()), false) => RunOutcome::Succeeded,
            },
            cost_used: self.report.stats.cost_used,
            throttled: self.report.stats.throttled as i32,
            error: outcome.as_ref().err().map(ToString::to_string),
        };
        if let Some(run) = self.run
            && let Err(e) = self.writer.finish_run(run, &end).await
        {
            tracing::warn!(error = %e, "recording the end of the sync run failed");
        }
        if let Err(e) = outcome {
            tracing::warn!(store = self.client.store(), reason = e.reason(), error = %e, "sync failed");
            self.report.error = Some((e.reason().to_owned(), e.to_string(), e.needs_a_person()));
        }
        self.publish(|p| {
            p.phase = SyncPhase::Done;
            p.job = None;
        });
        self.report
    }

    async fn sync(&mut self) -> Result<(), SyncError> {
        self.run = Some(self.writer.begin_run("sync").await?);
        self.enter(SyncPhase::Scopes, None)?;
        let decision = self.read_scopes().await?;
        self.report.decision = Some(decision.clone());
        if decision.syncs(RecordSet::Orders) {
            let source = Source::Orders {
                fields: decision.order_fields,
                options: self.spec.resources.orders.clone(),
                recordsets: decision.recordsets.clone(),
            };
            self.backfill(&source, decision.orders_limited_to_60_days)
                .await?;
            self.incremental(&source).await?;
        }
        if decision.syncs(RecordSet::Products) {
            self.backfill(&Source::Products, false).await?;
            self.incremental(&Source::Products).await?;
        }
        Ok(())
    }

    /// Moves to another phase, unless a stop was requested.
    fn enter(&mut self, phase: SyncPhase, recordset: Option<RecordSet>) -> Result<(), SyncError> {
        self.check_stop()?;
        self.publish(|p| {
            p.phase = phase;
            p.recordset = recordset;
            p.job = None;
            p.stage_records = 0;
        });
        Ok(())
    }

    /// `Err(Stopped)` once a stop was requested.
    fn check_stop(&self) -> Result<(), SyncError> {
        if self.stop.is_raised() {
            Err(SyncError::Stopped)
        } else {
            Ok(())
        }
    }

    /// Updates the published progress; cheap, and a no-op without a watcher.
    fn publish(&self, change: impl FnOnce(&mut SyncProgress)) {
        if let Some(tx) = &self.progress {
            tx.send_modify(change);
        }
    }

    async fn read_scopes(&mut self) -> Result<ScopeDecision, SyncError> {
        let response = self
            .client
            .execute(
                queries::SHOP_AND_SCOPES,
                json!({}),
                queries::SHOP_AND_SCOPES_COST,
            )
            .await?;
        let data = &response.data;
        let handles: Vec<&str> = data["currentAppInstallation"]["accessScopes"]
            .as_array()
            .map(|scopes| scopes.iter().filter_map(|s| s["handle"].as_str()).collect())
            .unwrap_or_default();
        self.report.granted_handles = handles.iter().map(|h| (*h).to_owned()).collect();
        self.report.shop = Some(ShopInfo {
            name: data["shop"]["name"].as_str().unwrap_or_default().to_owned(),
            currency: data["shop"]["currencyCode"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            plan: data["shop"]["plan"]["publicDisplayName"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        });
        Ok(scope_rules::decide(
            self.spec,
            scope_rules::parse_granted(handles),
        ))
    }

    /// How many orders match `search`, counted exactly up to one more than
    /// a job should hold.
    async fn count_orders(&self, search: &str) -> Result<u64, SyncError> {
        let limit = self.config.max_job_orders + 1;
        let response = self
            .client
            .execute(
                queries::ORDERS_COUNT,
                json!({"query": search, "limit": limit}),
                queries::ORDERS_COUNT_COST,
            )
            .await?;
        Ok(response.data["ordersCount"]["count"].as_u64().unwrap_or(0))
    }

    /// One cheap page (one point per object) to learn whether anything changed.
    async fn any_changes(&self, source: &Source, search: &str) -> Result<bool, SyncError> {
        let doc = queries::changed_ids(source.root_field());
        let response = self
            .client
            .execute(
                &doc,
                json!({"first": 1, "query": search}),
                queries::changed_ids_cost(1),
            )
            .await?;
        Ok(response.data[source.root_field()]["nodes"]
            .as_array()
            .is_some_and(|n| !n.is_empty()))
    }

    fn run(&self) -> RunId {
        self.run.unwrap_or(RunId(0))
    }
}

/// Search filters carry whole seconds, the resolution of Shopify's timestamps.
fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

pub(crate) fn to_chrono(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32).unwrap_or_default()
}

pub(crate) fn to_jiff(t: DateTime<Utc>) -> Timestamp {
    Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}
