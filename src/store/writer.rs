//! The write API the sync engine calls: begin a run, write a batch of records
//! together with its checkpoint in one transaction, tombstone ids, finish the
//! run. Batches are sealed before the transaction opens, so the transaction
//! holds locks only for the database work.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::PgPool;

use super::batch_rows::{latest_per_id, newest_per_id};
use super::checkpoints::{self, Checkpoint};
use super::data_keys;
use super::retry::{RetryPolicy, with_retry};
use super::runs::{self, RunEnd, RunId};
use super::upsert::{PlainRow, SealedColumns, merge};
use super::{Connection, RecordSet, ShopifyId, StoreError};
use crate::crypto::{DataKey, MasterKey};

/// One version of one Shopify object. Debug leaves the payload out: it is
/// customer data.
#[derive(Clone)]
pub struct RecordWrite {
    pub shopify_id: ShopifyId,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The whole Shopify payload as JSON text; stored only as ciphertext.
    /// Text rather than a parsed tree: a parsed order takes ten times the
    /// memory of its text, and the text is what gets sealed.
    pub payload: Box<RawValue>,
}

/// JSON text of a payload.
pub fn payload_text(value: &serde_json::Value) -> Result<Box<RawValue>, StoreError> {
    serde_json::value::to_raw_value(value).map_err(|e| StoreError::Payload(e.to_string()))
}

impl std::fmt::Debug for RecordWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWrite")
            .field("shopify_id", &self.shopify_id)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// An object Shopify reports as deleted.
#[derive(Debug, Clone, Copy)]
pub struct Tombstone {
    pub shopify_id: ShopifyId,
    pub deleted_at: DateTime<Utc>,
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows inserted or replaced.
    pub written: u64,
    /// Versions not stored because the store already held a newer (or the
    /// same) version, or a newer one came later in the same batch.
    pub stale: u64,
}

/// Writes records of one connection. Holds the connection's active data key.
#[derive(Debug)]
pub struct RecordWriter {
    pool: PgPool,
    master: Arc<MasterKey>,
    connection: Connection,
    key: DataKey,
    retry: RetryPolicy,
}

/// The rows of one recordset in a batch, stored with its checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct RecordSetRows<'a> {
    pub recordset: RecordSet,
    pub writes: &'a [RecordWrite],
    pub tombstones: &'a [Tombstone],
    pub checkpoint: &'a Checkpoint,
}

/// What a batch did to one recordset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOutcome {
    pub written: BatchOutcome,
    pub tombstoned: BatchOutcome,
}

/// One statement's rows: one recordset's versions or its deletions.
struct Part<'a> {
    recordset: RecordSet,
    deleted: bool,
    rows: Vec<PlainRow<'a>>,
    checkpoint: Option<&'a Checkpoint>,
}

fn write_row(r: &RecordWrite) -> PlainRow<'_> {
    (
        r.shopify_id.0,
        r.created_at,
        r.updated_at,
        r.payload.get().as_bytes(),
    )
}

fn deletion_row(t: &Tombstone) -> PlainRow<'static> {
    (t.shopify_id.0, None, t.deleted_at, b"null".as_slice())
}

fn outcome(rows: usize, written: u64) -> BatchOutcome {
    BatchOutcome {
        written,
        stale: rows as u64 - written,
    }
}

/// Rows per INSERT inside a batch's transaction; see [`RecordWriter::commit`].
const PIPELINE_CHUNK: usize = 500;

enum Commit {
    /// Rows written per part.
    Done(Vec<u64>),
    /// A data-key rotation switched keys since the batch was sealed.
    KeyChanged,
}

impl RecordWriter {
    pub async fn open(
        pool: PgPool,
        master: Arc<MasterKey>,
        connection: Connection,
    ) -> Result<RecordWriter, StoreError> {
        let key = data_keys::active_key(&pool, &master, &connection).await?;
        Ok(RecordWriter {
            pool,
            master,
            connection,
            key,
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> RecordWriter {
        self.retry = retry;
        self
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Starts a run; `kind` says what drives it (`incremental`, `backfill`).
    pub async fn begin_run(&self, kind: &str) -> Result<RunId, StoreError> {
        with_retry(self.retry, "begin sync run", || {
            runs::begin(&self.pool, self.connection.id, kind)
        })
        .await
    }

    pub async fn finish_run(&self, run: RunId, end: &RunEnd) -> Result<(), StoreError> {
        with_retry(self.retry, "finish sync run", || {
            runs::finish(&self.pool, run, end)
        })
        .await
    }

    /// Where `stream` of `recordset` got to, if anywhere.
    pub async fn checkpoint(
        &self,
        recordset: RecordSet,
        stream: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        checkpoints::load(&self.pool, self.connection.id, recordset, stream).await
    }

    /// `updated_at` of the given ids as stored now (see [`super::versions`]).
    pub async fn stored_versions(
        &self,
        recordset: RecordSet,
        ids: &[ShopifyId],
    ) -> Result<HashMap<ShopifyId, DateTime<Utc>>, StoreError> {
        super::versions::stored_versions(&self.pool, self.connection.id, recordset, ids).await
    }

    /// Upserts `records` and advances `checkpoint` in one transaction: either
    /// both are stored or neither is.
    pub async fn write_batch(
        &mut self,
        run: RunId,
        recordset: RecordSet,
        records: &[RecordWrite],
        checkpoint: &Checkpoint,
    ) -> Result<BatchOutcome, StoreError> {
        let outcomes = self
            .write_sets(
                run,
                &[RecordSetRows {
                    recordset,
                    writes: records,
                    tombstones: &[],
                    checkpoint,
                }],
            )
            .await?;
        Ok(outcomes[0].written)
    }

    /// Upserts and tombstones the rows of several recordsets and saves each
    /// one's checkpoint, all in one transaction.
    pub async fn write_sets(
        &mut self,
        run: RunId,
        sets: &[RecordSetRows<'_>],
    ) -> Result<Vec<SetOutcome>, StoreError> {
        let mut parts = Vec::with_capacity(sets.len() * 2);
        for set in sets {
            let deletions = latest_per_id(set.tombstones);
            parts.push(Part {
                recordset: set.recordset,
                deleted: true,
                rows: deletions.iter().map(deletion_row).collect(),
                checkpoint: None,
            });
            parts.push(Part {
                recordset: set.recordset,
                deleted: false,
                rows: newest_per_id(set.writes)
                    .into_iter()
                    .map(write_row)
                    .collect(),
                checkpoint: Some(set.checkpoint),
            });
        }
        let written = self.seal_and_commit(run, &parts).await?;
        Ok(sets
            .iter()
            .zip(written.chunks(2))
            .map(|(set, w)| SetOutcome {
                tombstoned: outcome(set.tombstones.len(), w[0]),
                written: outcome(set.writes.len(), w[1]),
            })
            .collect())
    }

    /// Marks ids deleted as of their deletion time; the payload is replaced by
    /// an encrypted `null`. An older version arriving later does not revive them.
    pub async fn tombstone(
        &mut self,
        run: RunId,
        recordset: RecordSet,
        tombstones: &[Tombstone],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<BatchOutcome, StoreError> {
        let deletions = latest_per_id(tombstones);
        let part = Part {
            recordset,
            deleted: true,
            rows: deletions.iter().map(deletion_row).collect(),
            checkpoint,
        };
        let written = self.seal_and_commit(run, &[part]).await?;
        Ok(outcome(tombstones.len(), written[0]))
    }

    async fn seal_and_commit(
        &mut self,
        run: RunId,
        parts: &[Part<'_>],
    ) -> Result<Vec<u64>, StoreError> {
        loop {
            let outcome = with_retry(self.retry, "write batch", || self.commit(run, parts)).await?;
            match outcome {
                Commit::Done(written) => return Ok(written),
                Commit::KeyChanged => {
                    self.key =
                        data_keys::active_key(&self.pool, &self.master, &self.connection).await?;
                    tracing::info!(connection = %self.connection.qualified_name(), key_id = %self.key.id(),
                        "data key rotated; resealing the batch with the new key");
                }
            }
        }
    }

    /// One transaction. The rows go to the server in chunks, and each chunk
    /// is sealed while the server merges the previous one, so client and
    /// server work overlap instead of taking turns.
    async fn commit(&self, run: RunId, parts: &[Part<'_>]) -> Result<Commit, StoreError> {
        let chunks: Vec<(usize, &[PlainRow<'_>])> = parts
            .iter()
            .enumerate()
            .flat_map(|(i, part)| part.rows.chunks(PIPELINE_CHUNK).map(move |rows| (i, rows)))
            .collect();
        let mut next = 0;
        let mut sealed = self.seal_chunk(parts, chunks.get(next))?;
        let mut tx = self.pool.begin().await?;
        let active = data_keys::lock_active_key_id(&mut tx, &self.connection).await?;
        if active != Some(self.key.id()) {
            return Ok(Commit::KeyChanged);
        }
        let key_id = self.key.id().as_uuid();
        let mut written = vec![0; parts.len()];
        while let Some((i, rows)) = sealed {
            let part = &parts[i];
            next += 1;
            let (merged, after) = tokio::join!(
                merge(
                    &mut tx,
                    self.connection.id,
                    part.recordset.as_str(),
                    key_id,
                    part.deleted,
                    &rows
                ),
                async { self.seal_chunk(parts, chunks.get(next)) },
            );
            written[i] += merged?;
            sealed = after?;
        }
        for (i, part) in parts.iter().enumerate() {
            if let Some(checkpoint) = part.checkpoint {
                checkpoints::save(&mut tx, self.connection.id, part.recordset, checkpoint).await?;
            }
            // One count per recordset, after its last part.
            if parts[i + 1..].iter().all(|p| p.recordset != part.recordset) {
                let total = parts
                    .iter()
                    .zip(&written)
                    .filter(|(p, _)| p.recordset == part.recordset)
                    .map(|(_, w)| w)
                    .sum();
                runs::add_records(&mut tx, run, part.recordset, total).await?;
            }
        }
        tx.commit().await?;
        Ok(Commit::Done(written))
    }

    /// Seals `chunk` (part index, rows) of `parts`, if there is one.
    fn seal_chunk(
        &self,
        parts: &[Part<'_>],
        chunk: Option<&(usize, &[PlainRow<'_>])>,
    ) -> Result<Option<(usize, SealedColumns)>, StoreError> {
        chunk
            .map(|&(i, rows)| self.seal(parts[i].recordset, rows).map(|s| (i, s)))
            .transpose()
    }

    fn seal(
        &self,
        recordset: RecordSet,
        rows: &[PlainRow<'_>],
    ) -> Result<SealedColumns, StoreError> {
        let mut sealed = SealedColumns::with_capacity(rows.len());
        for row in rows {
            sealed.push(&self.key, &self.connection.uid, recordset.as_str(), row)?;
        }
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::batch_rows::tests::write;

    #[test]
    fn debug_leaves_the_payload_out() {
        let mut w = write(1, 1);
        w.payload = payload_text(&serde_json::json!({ "email": "someone@example.org" })).unwrap();
        let debug = format!("{w:?}");
        assert!(
            debug.contains("shopify_id") && !debug.contains("example.org"),
            "{debug}"
        );
    }
}
