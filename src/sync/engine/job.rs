//! One job: the records updated in a range `[from, to)`, read by bulk
//! operations until all of them are committed. A job re-attaches to the
//! operation its checkpoint names; a failed operation's partial result is
//! stored and only the rest of the range is read again (from the last stored
//! record's `updatedAt`, inclusive, so nothing is skipped); a lost operation
//! is run again. Every step is checkpointed, so a crash or a stop anywhere
//! resumes where it was.

use jiff::Timestamp;

use crate::store::{Checkpoint, RecordSet};
use crate::sync::bulk_job::{self, JobEnd, Waited};
use crate::sync::progress::JobProgress;
use crate::sync::source::Source;
use crate::sync::state::{BackfillState, IncrementalState, JobCursor};

use super::commit::{backfill_checkpoint, incremental_checkpoint};
use super::{Engine, SyncError};

/// Where a job's progress is checkpointed.
#[derive(Debug, Clone)]
pub(super) enum Place {
    /// Stage `completed` of a backfill; the state as the job found it.
    Stage(BackfillState),
    /// An incremental window ending at `to`; the watermark moves to `to`
    /// only when the whole window is committed.
    Window { watermark: Timestamp, to: Timestamp },
}

impl Place {
    /// The checkpoint of the job under way, `records` committed by it so far.
    pub(super) fn hold(&self, cursor: &JobCursor, records: u64) -> Checkpoint {
        match self {
            Place::Stage(base) => backfill_checkpoint(&stage_state(base, Some(cursor), records)),
            Place::Window { watermark, to } => incremental_checkpoint(
                *watermark,
                &IncrementalState {
                    window_to: Some(*to),
                    job: cursor.clone(),
                },
            ),
        }
    }

    /// The checkpoint that commits the job's end.
    pub(super) fn done(&self, records: u64) -> Checkpoint {
        match self {
            Place::Stage(base) => backfill_checkpoint(&stage_state(base, None, records)),
            Place::Window { to, .. } => incremental_checkpoint(*to, &IncrementalState::default()),
        }
    }

    /// The backfill state a checkpoint of this place carries, if it is a stage.
    pub(super) fn backfill_state(
        &self,
        cursor: Option<&JobCursor>,
        records: u64,
    ) -> Option<BackfillState> {
        match self {
            Place::Stage(base) => Some(stage_state(base, cursor, records)),
            Place::Window { .. } => None,
        }
    }
}

/// A backfill state with the job under way at `cursor`, or (`None`) ended.
fn stage_state(base: &BackfillState, cursor: Option<&JobCursor>, records: u64) -> BackfillState {
    match cursor {
        Some(cursor) => BackfillState {
            job: cursor.clone(),
            records: base.records + records as i64,
            ..base.clone()
        },
        None => base.after_stage(records),
    }
}

/// A job to run.
pub(super) struct Job<'s> {
    pub source: &'s Source,
    pub from: Timestamp,
    pub to: Timestamp,
    /// How far it got before (from the checkpoint).
    pub cursor: JobCursor,
    pub place: Place,
    /// For logs and errors: "backfill stage 3 of orders".
    pub what: String,
}

impl Engine<'_> {
    /// Announces a job on the progress channel.
    pub(super) fn begin_job(&self, from: Timestamp, to: Timestamp, expected: Option<u64>) {
        self.publish(|p| {
            p.job = Some(JobProgress { from, to, expected });
            p.stage_records = 0;
        });
    }

    /// Runs `job` until every record of its range is committed together with
    /// its place's end checkpoint; returns the records it committed and the
    /// place as it ended (a backfill stage may have read the next one ahead).
    pub(super) async fn run_job(&mut self, job: Job<'_>) -> Result<(u64, Place), SyncError> {
        let Job {
            source,
            from,
            to,
            mut cursor,
            mut place,
            what,
        } = job;
        let recordset = source.recordset();
        let mut records = 0u64;
        let mut fruitless = 0;
        loop {
            self.check_stop()?;
            let op = match cursor.attached() {
                Some(op) => op.to_owned(),
                None => {
                    if let Some(old) = &cursor.operation {
                        tracing::warn!(store = self.client.store(), operation = %old,
                            "{what}: the recorded bulk operation was not started with grouped output; reading its range again");
                    }
                    let query = source.bulk_query(&cursor.search(from, to));
                    let started =
                        bulk_job::start(self.client, &query, self.config.pacing, &self.stop)
                            .await?;
                    let op = started.ok_or(SyncError::Stopped)?;
                    cursor = JobCursor {
                        operation: Some(op.clone()),
                        grouped: true,
                        stored_roots: 0,
                        resume_from: cursor.resume_from,
                    };
                    self.save_job(recordset, &place, &cursor, records).await?;
                    op
                }
            };
            if let Place::Stage(base) = &mut place
                && self.config.read_ahead
                && base.next_operation.is_none()
            {
                self.read_ahead(source, base, &cursor, records).await?;
            }
            let end = match bulk_job::wait(self.client, &op, self.config.pacing, &self.stop).await?
            {
                Waited::Stopped => return Err(SyncError::Stopped),
                Waited::Ended(end) => end,
            };
            let resumed_from = cursor.resume_from;
            let reason = match end {
                JobEnd::Complete(None) => {
                    self.save(recordset, &place.done(records)).await?;
                    self.committed(recordset, &place, None, records, 0, 0);
                    return Ok((records, place));
                }
                JobEnd::Complete(Some(file)) => {
                    match self
                        .store_result(source, &file, false, &mut cursor, &mut records, &place)
                        .await?
                    {
                        None => return Ok((records, place)),
                        Some(problem) => problem,
                    }
                }
                JobEnd::Partial(file, reason) => {
                    match self
                        .store_result(source, &file, true, &mut cursor, &mut records, &place)
                        .await?
                    {
                        None => reason,
                        Some(problem) => format!("{reason}; its partial result: {problem}"),
                    }
                }
                JobEnd::Lost(reason) => reason,
            };
            // This operation is done with; the rest of the range needs another.
            cursor = JobCursor {
                resume_from: cursor.resume_from,
                ..JobCursor::default()
            };
            self.save_job(recordset, &place, &cursor, records).await?;
            if cursor.resume_from > resumed_from {
                fruitless = 0;
                tracing::warn!(store = self.client.store(), reason = %reason,
                    resume_from = ?cursor.resume_from, "{what}: stored what the bulk job delivered; reading the rest of the range");
            } else {
                fruitless += 1;
                tracing::warn!(store = self.client.store(), reason = %reason, attempt = fruitless,
                    "{what}: running the bulk job again");
            }
            if fruitless >= self.config.max_job_attempts {
                return Err(SyncError::GaveUp(format!(
                    "{what}: {reason}; tried {fruitless} times"
                )));
            }
        }
    }

    /// Checkpoints where the job stands without new rows (an operation
    /// started or abandoned).
    async fn save_job(
        &mut self,
        recordset: RecordSet,
        place: &Place,
        cursor: &JobCursor,
        records: u64,
    ) -> Result<(), SyncError> {
        self.save(recordset, &place.hold(cursor, records)).await?;
        self.committed(recordset, place, Some(cursor), records, 0, 0);
        Ok(())
    }

    /// Reports a commit to the report and the progress channel: `roots` more
    /// of the job's roots and `written` more records in all; `cursor` is
    /// where the job now stands (`None`: ended).
    pub(super) fn committed(
        &mut self,
        recordset: RecordSet,
        place: &Place,
        cursor: Option<&JobCursor>,
        records: u64,
        roots: u64,
        written: u64,
    ) {
        let state = place.backfill_state(cursor, records);
        if let Some(state) = &state {
            self.report.backfill.insert(recordset, state.clone());
        }
        self.publish(|p| {
            p.records_written += written;
            p.stage_records += roots;
            if let Some(state) = state {
                p.backfill.insert(recordset, state);
            }
        });
    }
}
