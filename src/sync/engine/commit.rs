//! Committing converted records: in batches, each in one transaction with a
//! checkpoint, the advanced checkpoint only with the last batch; and the
//! checkpoints of the backfill and incremental streams.

use serde_json::json;

use jiff::Timestamp;

use super::{Engine, SyncError, to_chrono};
use crate::store::{Checkpoint, RecordSet, RecordSetRows};
use crate::sync::records::Converted;
use crate::sync::source::Source;
use crate::sync::state::{BACKFILL, BackfillState, INCREMENTAL, IncrementalState};

impl Engine<'_> {
    /// Saves a checkpoint that covers no new rows (a bulk operation id).
    pub(super) async fn save(
        &mut self,
        recordset: RecordSet,
        checkpoint: &Checkpoint,
    ) -> Result<(), SyncError> {
        let run = self.run();
        self.writer
            .write_batch(run, recordset, &[], checkpoint)
            .await?;
        Ok(())
    }

    /// Writes converted objects in batches. Every batch but the last carries
    /// `hold` (progress not yet made); the last carries `done`, so the
    /// checkpoint moves only with the final rows it covers.
    pub(super) async fn commit(
        &mut self,
        source: &Source,
        mut converted: Converted,
        hold: &Checkpoint,
        done: &Checkpoint,
    ) -> Result<(), SyncError> {
        let run = self.run();
        let size = self.config.batch_size.max(1);
        let driving = source.recordset();
        for recordset in source.written_recordsets() {
            let last_set = recordset == driving;
            let (hold_cp, done_cp) = if last_set {
                (hold.clone(), done.clone())
            } else {
                (via(driving, hold), via(driving, done))
            };
            let tombstones = converted.take_tombstones(recordset);
            for chunk in tombstones.chunks(size) {
                let outcome = self
                    .writer
                    .tombstone(run, recordset, chunk, Some(&hold_cp))
                    .await?;
                self.report
                    .recordsets
                    .entry(recordset)
                    .or_default()
                    .tombstoned += outcome.written;
            }
            let writes = converted.take_writes(recordset);
            let chunks: Vec<_> = writes.chunks(size).collect();
            if chunks.is_empty() {
                self.writer
                    .write_batch(run, recordset, &[], &done_cp)
                    .await?;
            }
            for (i, chunk) in chunks.iter().enumerate() {
                let cp = if i + 1 == chunks.len() {
                    &done_cp
                } else {
                    &hold_cp
                };
                let outcome = self.writer.write_batch(run, recordset, chunk, cp).await?;
                self.report.recordsets.entry(recordset).or_default().written += outcome.written;
            }
        }
        Ok(())
    }
}

impl Engine<'_> {
    /// Writes one batch of a bulk result — every recordset's rows and
    /// deletions and their checkpoints — in one transaction: the reading task
    /// already bounds a batch, and a commit per recordset and kind would
    /// only add round trips and fsyncs.
    pub(super) async fn commit_batch(
        &mut self,
        source: &Source,
        mut converted: Converted,
        done: &Checkpoint,
    ) -> Result<(), SyncError> {
        let run = self.run();
        let driving = source.recordset();
        let sets: Vec<_> = source
            .written_recordsets()
            .into_iter()
            .map(|recordset| {
                let checkpoint = if recordset == driving {
                    done.clone()
                } else {
                    via(driving, done)
                };
                (
                    recordset,
                    converted.take_writes(recordset),
                    converted.take_tombstones(recordset),
                    checkpoint,
                )
            })
            .collect();
        let rows: Vec<_> = sets
            .iter()
            .map(
                |(recordset, writes, tombstones, checkpoint)| RecordSetRows {
                    recordset: *recordset,
                    writes,
                    tombstones,
                    checkpoint,
                },
            )
            .collect();
        let outcomes = self.writer.write_sets(run, &rows).await?;
        for (set, outcome) in rows.iter().zip(outcomes) {
            let report = self.report.recordsets.entry(set.recordset).or_default();
            report.written += outcome.written.written;
            report.tombstoned += outcome.tombstoned.written;
        }
        Ok(())
    }
}

/// The checkpoint of a recordset fed through `driving`'s records.
fn via(driving: RecordSet, cp: &Checkpoint) -> Checkpoint {
    Checkpoint {
        stream: cp.stream.clone(),
        watermark: cp.watermark,
        state: json!({"via": driving.as_str()}),
    }
}

pub(super) fn backfill_checkpoint(state: &BackfillState) -> Checkpoint {
    Checkpoint {
        stream: BACKFILL.to_owned(),
        watermark: Some(to_chrono(state.to)),
        state: serde_json::to_value(state).unwrap_or_default(),
    }
}

pub(super) fn incremental_checkpoint(watermark: Timestamp, state: &IncrementalState) -> Checkpoint {
    Checkpoint {
        stream: INCREMENTAL.to_owned(),
        watermark: Some(to_chrono(watermark)),
        state: serde_json::to_value(state).unwrap_or_default(),
    }
}
