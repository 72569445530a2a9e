//! One sync of one connection: read the granted scopes, apply the data-scope
//! rules, run (or resume) the staged backfill, then read what changed since
//! the watermark. Every batch of records commits together with the checkpoint
//! that covers it, so a crash anywhere resumes without gaps or duplicates.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::api::ShopifyConnectionSpec;
use crate::shopify::{ShopifyClient, ShopifyError, queries};
use crate::store::{Checkpoint, RecordSet, RecordWriter, RunEnd, RunId, RunOutcome, StoreError};

use super::backfill_plan::{self, BackfillPlan};
use super::bulk_job::{self, JobEnd, Pacing};
use super::records::ConversionError;
use super::report::{ShopInfo, SyncReport};
use super::scope_rules::{self, ScopeDecision};
use super::source::Source;
use super::state::{BACKFILL, BackfillState, INCREMENTAL, IncrementalState};
use commit::{backfill_checkpoint, incremental_checkpoint};

mod commit;

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
    /// Runs of one job (stage or window) before giving up on it.
    pub max_job_attempts: u32,
    /// A backfill stage or incremental window with more orders than this is
    /// halved until it fits: one job's result is held in memory while it is
    /// converted, so this bounds memory whatever the store's size.
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
        }
    }

    /// Runs one sync to its end and reports what happened, errors included.
    pub async fn run_once(mut self) -> SyncReport {
        let outcome = self.sync().await;
        self.report.stats = self.client.take_stats();
        self.report.bucket = self.client.limiter().estimate();
        self.report.fall_forward = self.client.fall_forward();
        self.report.finished = self.client.clock().now();
        let end = RunEnd {
            outcome: if outcome.is_ok() {
                RunOutcome::Succeeded
            } else {
                RunOutcome::Failed
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
        self.report
    }

    async fn sync(&mut self) -> Result<(), SyncError> {
        self.run = Some(self.writer.begin_run("sync").await?);
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

    /// Runs every stage of the backfill not yet committed.
    async fn backfill(&mut self, source: &Source, limited: bool) -> Result<(), SyncError> {
        let recordset = source.recordset();
        let mut state = match self.writer.checkpoint(recordset, BACKFILL).await? {
            Some(cp) => serde_json::from_value(cp.state).map_err(|e| {
                SyncError::GaveUp(format!(
                    "the {recordset} backfill checkpoint is unreadable: {e}"
                ))
            })?,
            None => {
                let plan = match source {
                    Source::Orders { .. } => backfill_plan::plan(
                        &self.spec.backfill,
                        whole_seconds(self.client.clock().now()),
                        limited,
                        self.config.stage_width,
                    )?,
                    // Catalogs are small and have no history limit: one stage, everything.
                    Source::Products => whole_history(whole_seconds(self.client.clock().now())),
                };
                if let Some(asked) = plan.clipped_from {
                    tracing::warn!(store = self.client.store(), asked = %asked, from = %plan.from,
                        "backfill clipped to the last 60 days: the app lacks read_all_orders");
                }
                BackfillState::from_plan(&plan)
            }
        };
        while let Some(stage) = state.next_stage() {
            if state.operation.is_none()
                && matches!(source, Source::Orders { .. })
                && self.too_many_orders(&stage.search()).await?
                && let Some((newer, older)) = stage.halves()
            {
                state.split_next(newer, older);
                self.save(recordset, &backfill_checkpoint(&state)).await?;
                continue;
            }
            tracing::info!(store = self.client.store(), %recordset, stage = state.completed, total = state.stages.len(), "backfill stage");
            let base = state.clone();
            let done = self
                .run_job(
                    source,
                    &stage.search(),
                    base.operation.clone(),
                    |operation| {
                        backfill_checkpoint(&BackfillState {
                            operation,
                            ..base.clone()
                        })
                    },
                    |records| {
                        backfill_checkpoint(&BackfillState {
                            completed: base.completed + 1,
                            operation: None,
                            records: base.records + records as i64,
                            ..base.clone()
                        })
                    },
                    &format!("backfill stage {} of {recordset}", stage.index),
                )
                .await?;
            state =
                serde_json::from_value(done.state).map_err(|e| SyncError::GaveUp(e.to_string()))?;
            self.report.backfill.insert(recordset, state.clone());
        }
        self.report.backfill.insert(recordset, state);
        Ok(())
    }

    /// Reads what changed since the watermark, in windows small enough for
    /// one job each; the watermark advances with every committed window.
    async fn incremental(&mut self, source: &Source) -> Result<(), SyncError> {
        let recordset = source.recordset();
        let backfill_to = self
            .report
            .backfill
            .get(&recordset)
            .map(|b| b.to)
            .unwrap_or_else(|| self.client.clock().now());
        let checkpoint = self.writer.checkpoint(recordset, INCREMENTAL).await?;
        let mut watermark = checkpoint
            .as_ref()
            .and_then(|c| c.watermark)
            .map(to_jiff)
            .unwrap_or(backfill_to);
        let mut state: IncrementalState = checkpoint
            .map(|c| serde_json::from_value(c.state).unwrap_or_default())
            .unwrap_or_default();
        let overlap = SignedDuration::try_from(self.config.overlap).unwrap_or_default();
        let settle = SignedDuration::try_from(self.config.settle).unwrap_or_default();
        let target = state.window_to.unwrap_or_else(|| {
            let now = whole_seconds(self.client.clock().now());
            now.checked_sub(settle).unwrap_or(watermark)
        });
        while target > watermark {
            let from = watermark.checked_sub(overlap).unwrap_or(watermark);
            let mut to = state.window_to.unwrap_or(target);
            if state.operation.is_none() && matches!(source, Source::Orders { .. }) {
                // After a long outage the change set can be a whole backfill's worth.
                while self.too_many_orders(&window_search(from, to)).await?
                    && to.duration_since(watermark) > SignedDuration::from_secs(2)
                {
                    to = whole_seconds(
                        watermark
                            .checked_add(to.duration_since(watermark) / 2)
                            .unwrap_or(to),
                    );
                }
            }
            let search = window_search(from, to);
            let changed = state.operation.is_some() || self.any_changes(source, &search).await?;
            let hold = |operation| {
                incremental_checkpoint(
                    watermark,
                    &IncrementalState {
                        window_to: Some(to),
                        operation,
                    },
                )
            };
            let done = |_| incremental_checkpoint(to, &IncrementalState::default());
            if changed {
                let what = format!("reading {recordset} changes");
                self.run_job(source, &search, state.operation.take(), hold, done, &what)
                    .await?;
            } else {
                self.save(recordset, &done(0)).await?;
            }
            watermark = to;
            state = IncrementalState::default();
        }
        for r in source.written_recordsets() {
            self.report.recordsets.entry(r).or_default().watermark = Some(watermark);
        }
        Ok(())
    }

    /// Runs one bulk job (re-attaching to `operation` when a checkpoint named
    /// one) until its records are committed together with `done`. A failed
    /// job's partial result is stored and the job runs again; so does a job
    /// that was lost. `hold` is the checkpoint of work still in progress.
    async fn run_job(
        &mut self,
        source: &Source,
        search: &str,
        mut operation: Option<String>,
        hold: impl Fn(Option<String>) -> Checkpoint + Sync,
        done: impl Fn(usize) -> Checkpoint + Sync,
        what: &str,
    ) -> Result<Checkpoint, SyncError> {
        let recordset = source.recordset();
        let mut last = String::new();
        for attempt in 1..=self.config.max_job_attempts {
            let op = match operation.take() {
                Some(op) => op,
                None => {
                    let op = bulk_job::start(
                        self.client,
                        &source.bulk_query(search),
                        self.config.pacing,
                    )
                    .await?;
                    self.save(recordset, &hold(Some(op.clone()))).await?;
                    op
                }
            };
            last = match bulk_job::finish(self.client, &op, self.config.pacing).await? {
                JobEnd::Complete(result) => {
                    return self.store(source, result, &hold(Some(op)), &done).await;
                }
                JobEnd::Partial(result, reason) => {
                    // Without grouped output a root in a partial file may be
                    // missing children that were never written, and the store
                    // would keep that incomplete version when the rerun
                    // delivers the same updatedAt. So the partial result is
                    // counted and the whole job runs again.
                    tracing::warn!(
                        store = self.client.store(),
                        roots = result.len(),
                        "bulk job failed with partial data; not storing possibly incomplete orders, running it again"
                    );
                    self.save(recordset, &hold(None)).await?;
                    reason
                }
                JobEnd::Lost(reason) => {
                    self.save(recordset, &hold(None)).await?;
                    reason
                }
            };
            tracing::warn!(store = self.client.store(), reason = %last, attempt, "{what}: running the bulk job again");
        }
        Err(SyncError::GaveUp(format!(
            "{what}: {last}; tried {} times",
            self.config.max_job_attempts
        )))
    }

    /// Whether more orders match `search` than one job should hold.
    async fn too_many_orders(&self, search: &str) -> Result<bool, SyncError> {
        let limit = self.config.max_job_orders + 1;
        let response = self
            .client
            .execute(
                queries::ORDERS_COUNT,
                json!({"query": search, "limit": limit}),
                queries::ORDERS_COUNT_COST,
            )
            .await?;
        let count = response.data["ordersCount"]["count"].as_u64().unwrap_or(0);
        Ok(count > self.config.max_job_orders)
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

fn window_search(from: Timestamp, to: Timestamp) -> String {
    format!("updated_at:>='{from}' AND updated_at:<'{to}'")
}

/// Search filters carry whole seconds, the resolution of Shopify's timestamps.
fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

fn whole_history(now: Timestamp) -> BackfillPlan {
    let from = Timestamp::UNIX_EPOCH;
    BackfillPlan {
        from,
        to: now,
        clipped_from: None,
        stages: vec![backfill_plan::Stage {
            index: 0,
            from,
            to: now,
        }],
    }
}

pub(crate) fn to_chrono(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32).unwrap_or_default()
}

pub(crate) fn to_jiff(t: DateTime<Utc>) -> Timestamp {
    Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}
