//! Incremental reads: from the watermark (less an overlap) to a little
//! before now, in windows small enough for one job each. The watermark moves
//! with every committed window. A window with few orders changed since the
//! watermark is listed by one cheap page of ids and the orders not stored
//! yet are read page by page (`paged.rs`); a larger one by a bulk job.

use jiff::SignedDuration;

use crate::sync::progress::SyncPhase;
use crate::sync::source::Source;
use crate::sync::state::{INCREMENTAL, IncrementalState, updated_between};

use super::job::{Job, Place};
use super::paged::{PAGED_MAX, Paged};
use super::{Engine, SyncError, to_jiff, whole_seconds};

impl Engine<'_> {
    /// Reads what changed since the watermark.
    pub(super) async fn incremental(&mut self, source: &Source) -> Result<(), SyncError> {
        let recordset = source.recordset();
        self.enter(SyncPhase::Incremental, Some(recordset))?;
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
            self.check_stop()?;
            let from = watermark.checked_sub(overlap).unwrap_or(watermark);
            let mut to = state.window_to.unwrap_or(target);
            let started = state.job.operation.is_some() || state.job.resume_from.is_some();
            let place = Place::Window { watermark, to };
            if !started
                && self.few_new_orders(source, watermark, to).await?
                && let Paged::Done = self.read_changes_paged(source, from, to, &place).await?
            {
                watermark = to;
                state = IncrementalState::default();
                continue;
            }
            let mut expected = None;
            if !started && matches!(source, Source::Orders { .. }) {
                // After a long outage the change set can be a whole backfill's worth.
                loop {
                    let count = self.count_orders(&updated_between(from, to)).await?;
                    if count > self.config.max_job_orders
                        && to.duration_since(watermark) > SignedDuration::from_secs(2)
                    {
                        to = whole_seconds(
                            watermark
                                .checked_add(to.duration_since(watermark) / 2)
                                .unwrap_or(to),
                        );
                        continue;
                    }
                    expected = Some(count);
                    break;
                }
            }
            let place = Place::Window { watermark, to };
            // Whether anything changed is asked of the connection the bulk
            // query reads, not of the count.
            let changed = started || self.any_changes(source, &updated_between(from, to)).await?;
            if !changed {
                self.save(recordset, &place.done(0)).await?;
            } else {
                self.begin_job(from, to, expected);
                let job = Job {
                    source,
                    from,
                    to,
                    cursor: std::mem::take(&mut state.job),
                    place,
                    what: format!("reading {recordset} changes"),
                };
                self.run_job(job).await?;
                self.publish(|p| p.job = None);
            }
            watermark = to;
            state = IncrementalState::default();
        }
        for r in source.written_recordsets() {
            self.report.recordsets.entry(r).or_default().watermark = Some(watermark);
        }
        Ok(())
    }

    /// Whether the orders changed since the watermark (the overlap before it
    /// is mostly stored already) are few enough to be read page by page.
    /// One point; it spares a large window the id page a bulk job makes useless.
    async fn few_new_orders(
        &self,
        source: &Source,
        watermark: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<bool, SyncError> {
        if !matches!(source, Source::Orders { .. }) {
            return Ok(false);
        }
        let fresh = self.count_orders(&updated_between(watermark, to)).await?;
        Ok(fresh <= PAGED_MAX as u64)
    }
}
