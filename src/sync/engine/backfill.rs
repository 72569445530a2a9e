//! The staged backfill: the plan is fixed when it starts and kept in the
//! checkpoint; each stage is one job, halved first while it holds more
//! orders than one job should; stages are committed in order, newest first.

use jiff::Timestamp;

use crate::shopify::bulk::{self, Started};
use crate::sync::backfill_plan::{self, BackfillPlan};
use crate::sync::progress::SyncPhase;
use crate::sync::source::Source;
use crate::sync::state::{BACKFILL, BackfillState, JobCursor};

use super::commit::backfill_checkpoint;
use super::job::{Job, Place};
use super::{Engine, SyncError, whole_seconds};

impl Engine<'_> {
    /// Runs every stage of the backfill not yet committed.
    pub(super) async fn backfill(
        &mut self,
        source: &Source,
        limited: bool,
    ) -> Result<(), SyncError> {
        let recordset = source.recordset();
        self.enter(SyncPhase::Backfill, Some(recordset))?;
        let mut state = self.backfill_state(source, limited).await?;
        self.report.backfill.insert(recordset, state.clone());
        self.publish(|p| {
            p.backfill.insert(recordset, state.clone());
        });
        while let Some(stage) = state.next_stage() {
            self.check_stop()?;
            let fresh = state.job.operation.is_none() && state.job.resume_from.is_none();
            let mut expected = None;
            if fresh && matches!(source, Source::Orders { .. }) {
                let count = self.count_orders(&stage.search()).await?;
                if count > self.config.max_job_orders
                    && let Some((newer, older)) = stage.halves()
                {
                    state.split_next(newer, older);
                    self.save(recordset, &backfill_checkpoint(&state)).await?;
                    self.publish(|p| {
                        p.backfill.insert(recordset, state.clone());
                    });
                    continue;
                }
                expected = Some(count);
            }
            tracing::info!(store = self.client.store(), %recordset, stage = state.completed,
                total = state.stages.len(), from = %stage.from, to = %stage.to, "backfill stage");
            self.begin_job(stage.from, stage.to, expected);
            let job = Job {
                source,
                from: stage.from,
                to: stage.to,
                cursor: state.job.clone(),
                place: Place::Stage(state.clone()),
                what: format!("backfill stage {} of {recordset}", stage.index),
            };
            let (records, place) = self.run_job(job).await?;
            if let Place::Stage(ended) = place {
                state = ended.after_stage(records);
            }
            self.report.backfill.insert(recordset, state.clone());
            self.publish(|p| {
                p.backfill.insert(recordset, state.clone());
                p.job = None;
            });
        }
        Ok(())
    }

    /// Starts the bulk operation of the stage after `base`'s current one, so
    /// Shopify prepares it while the current one is stored (several bulk
    /// queries may run at once from API 2026-01, shopify-admin-api.md §3.2).
    /// The stage is halved first if it is too large, like any stage. Without
    /// a free slot (older API versions allow one job) nothing is read ahead.
    /// The operation is checkpointed at once, so a restart re-attaches to it.
    pub(super) async fn read_ahead(
        &mut self,
        source: &Source,
        base: &mut BackfillState,
        cursor: &JobCursor,
        records: u64,
    ) -> Result<(), SyncError> {
        let at = base.completed as usize + 1;
        let Some(mut next) = base.stage_after_next() else {
            return Ok(());
        };
        let place = |base: &BackfillState| Place::Stage(base.clone());
        if matches!(source, Source::Orders { .. }) {
            while self.count_orders(&next.search()).await? > self.config.max_job_orders
                && let Some((newer, older)) = next.halves()
            {
                base.split(at, newer, older);
                self.save(source.recordset(), &place(base).hold(cursor, records))
                    .await?;
                next = newer;
            }
        }
        match bulk::start(self.client, &source.bulk_query(&next.search())).await? {
            Started::Running(op) => {
                tracing::info!(store = self.client.store(), recordset = %source.recordset(),
                    stage = at, "reading the next backfill stage ahead");
                base.next_operation = Some(op.id);
                self.save(source.recordset(), &place(base).hold(cursor, records))
                    .await?;
            }
            Started::Busy { .. } => {}
        }
        Ok(())
    }

    /// The backfill as the checkpoint left it, or a new plan.
    async fn backfill_state(
        &mut self,
        source: &Source,
        limited: bool,
    ) -> Result<BackfillState, SyncError> {
        let recordset = source.recordset();
        if let Some(cp) = self.writer.checkpoint(recordset, BACKFILL).await? {
            return serde_json::from_value(cp.state).map_err(|e| {
                SyncError::GaveUp(format!(
                    "the {recordset} backfill checkpoint is unreadable: {e}"
                ))
            });
        }
        let now = whole_seconds(self.client.clock().now());
        let plan = match source {
            Source::Orders { .. } => {
                backfill_plan::plan(&self.spec.backfill, now, limited, self.config.stage_width)?
            }
            // Catalogs are small and have no history limit: one stage, everything.
            Source::Products => whole_history(now),
        };
        if let Some(asked) = plan.clipped_from {
            tracing::warn!(store = self.client.store(), asked = %asked, from = %plan.from,
                "backfill clipped to the last 60 days: the app lacks read_all_orders");
        }
        Ok(BackfillState::from_plan(&plan))
    }
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
