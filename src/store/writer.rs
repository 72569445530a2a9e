//! The write API the sync engine calls: begin a run, write a batch of records
//! together with its checkpoint in one transaction, tombstone ids, finish the
//! run. Batches are sealed before the transaction opens, so the transaction
//! holds locks only for the database work.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::PgPool;

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

/// Rows per INSERT inside a batch's transaction; see [`RecordWriter::commit`].
const PIPELINE_CHUNK: usize = 500;

enum Commit {
    Done(u64),
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
        let newest = newest_per_id(records);
        let items: Vec<_> = newest
            .iter()
            .map(|r| {
                let text = r.payload.get().as_bytes();
                (r.shopify_id.0, r.created_at, r.updated_at, text)
            })
            .collect();
        let written = self
            .seal_and_commit(run, recordset, false, &items, Some(checkpoint))
            .await?;
        Ok(BatchOutcome {
            written,
            stale: records.len() as u64 - written,
        })
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
        let mut sorted = tombstones.to_vec();
        sorted.sort_by_key(|t| (t.shopify_id, t.deleted_at));
        sorted.dedup_by(|later, earlier| {
            // dedup_by keeps the first of a run; make it the latest deletion.
            if later.shopify_id == earlier.shopify_id {
                earlier.deleted_at = later.deleted_at;
                true
            } else {
                false
            }
        });
        let items: Vec<_> = sorted
            .iter()
            .map(|t| (t.shopify_id.0, None, t.deleted_at, b"null".as_slice()))
            .collect();
        let written = self
            .seal_and_commit(run, recordset, true, &items, checkpoint)
            .await?;
        Ok(BatchOutcome {
            written,
            stale: tombstones.len() as u64 - written,
        })
    }

    async fn seal_and_commit(
        &mut self,
        run: RunId,
        recordset: RecordSet,
        deleted: bool,
        items: &[PlainRow<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<u64, StoreError> {
        loop {
            let outcome = with_retry(self.retry, "write batch", || {
                self.commit(run, recordset, deleted, items, checkpoint)
            })
            .await?;
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

    /// One transaction. The batch goes to the server in chunks, and each
    /// chunk is sealed while the server merges the previous one, so client
    /// and server work overlap instead of taking turns.
    async fn commit(
        &self,
        run: RunId,
        recordset: RecordSet,
        deleted: bool,
        items: &[PlainRow<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Commit, StoreError> {
        let mut chunks = items.chunks(PIPELINE_CHUNK);
        let mut sealed = self.seal(recordset, chunks.next().unwrap_or_default())?;
        let mut tx = self.pool.begin().await?;
        let active = data_keys::lock_active_key_id(&mut tx, &self.connection).await?;
        if active != Some(self.key.id()) {
            return Ok(Commit::KeyChanged);
        }
        let mut written = 0;
        loop {
            let next = chunks.next();
            let key_id = self.key.id().as_uuid();
            let (merged, next_sealed) = tokio::join!(
                merge(
                    &mut tx,
                    self.connection.id,
                    recordset.as_str(),
                    key_id,
                    deleted,
                    &sealed
                ),
                async { next.map(|chunk| self.seal(recordset, chunk)).transpose() },
            );
            written += merged?;
            match next_sealed? {
                Some(next) => sealed = next,
                None => break,
            }
        }
        if let Some(checkpoint) = checkpoint {
            checkpoints::save(&mut tx, self.connection.id, recordset, checkpoint).await?;
        }
        runs::add_records(&mut tx, run, recordset, written).await?;
        tx.commit().await?;
        Ok(Commit::Done(written))
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

/// The newest version of each id in a batch (Postgres refuses to update one
/// row twice in a statement, and only the newest could win anyway).
fn newest_per_id(records: &[RecordWrite]) -> Vec<&RecordWrite> {
    let mut refs: Vec<&RecordWrite> = records.iter().collect();
    refs.sort_by_key(|r| (r.shopify_id, r.updated_at));
    let mut out: Vec<&RecordWrite> = Vec::with_capacity(refs.len());
    for r in refs {
        match out.last_mut() {
            Some(last) if last.shopify_id == r.shopify_id => *last = r,
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    fn write(id: i64, updated: i64) -> RecordWrite {
        RecordWrite {
            shopify_id: ShopifyId(id),
            created_at: None,
            updated_at: at(updated),
            payload: payload_text(&serde_json::json!({ "v": updated })).unwrap(),
        }
    }

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

    #[test]
    fn batch_keeps_the_newest_version_of_each_id() {
        let batch = [write(2, 10), write(1, 30), write(2, 50), write(1, 20)];
        let newest: Vec<(i64, DateTime<Utc>)> = newest_per_id(&batch)
            .iter()
            .map(|r| (r.shopify_id.0, r.updated_at))
            .collect();
        assert_eq!(newest, vec![(1, at(30)), (2, at(50))]);
    }
}
