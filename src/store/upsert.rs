//! The batched, guarded merge of sealed rows into `records`: one multi-row
//! INSERT over arrays (UNNEST), so a batch costs one round trip, with an
//! updated-at guard so an older version never overwrites a newer one.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::StoreError;
use crate::crypto::{DataKey, RecordAad};

/// (Shopify id, created-at, updated-at, plaintext payload) of one row to seal.
pub(crate) type PlainRow<'a> = (i64, Option<DateTime<Utc>>, DateTime<Utc>, &'a [u8]);

/// A batch's rows sealed under one key, column by column as the INSERT binds them.
#[derive(Debug, Default)]
pub(crate) struct SealedColumns {
    pub shopify_ids: Vec<i64>,
    pub created_at: Vec<Option<DateTime<Utc>>>,
    pub updated_at: Vec<DateTime<Utc>>,
    pub nonces: Vec<Vec<u8>>,
    pub ciphertexts: Vec<Vec<u8>>,
}

impl SealedColumns {
    pub fn with_capacity(n: usize) -> SealedColumns {
        SealedColumns {
            shopify_ids: Vec::with_capacity(n),
            created_at: Vec::with_capacity(n),
            updated_at: Vec::with_capacity(n),
            nonces: Vec::with_capacity(n),
            ciphertexts: Vec::with_capacity(n),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.shopify_ids.is_empty()
    }

    /// Seals one payload for (connection, recordset, id) under `key`.
    pub fn push(
        &mut self,
        key: &DataKey,
        connection_uid: &str,
        recordset: &str,
        row: &PlainRow<'_>,
    ) -> Result<(), StoreError> {
        let &(shopify_id, created_at, updated_at, plaintext) = row;
        let sealed = key.seal(
            &RecordAad {
                connection_uid,
                recordset,
                shopify_id,
                key_id: key.id(),
            },
            plaintext,
        )?;
        self.shopify_ids.push(shopify_id);
        self.created_at.push(created_at);
        self.updated_at.push(updated_at);
        self.nonces.push(sealed.nonce.to_vec());
        self.ciphertexts.push(sealed.ciphertext);
        Ok(())
    }
}

/// Merges `rows` into `records` inside the caller's transaction. A row wins
/// only when it is newer than the stored one, or when it is a tombstone for
/// the same instant (deletion beats an edit stamped at the same time).
/// Returns how many rows were inserted or replaced.
pub(crate) async fn merge(
    tx: &mut PgConnection,
    connection_id: i64,
    recordset: &str,
    key_id: uuid::Uuid,
    deleted: bool,
    rows: &SealedColumns,
) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let result = sqlx::query(
        "INSERT INTO records (connection_id, recordset, shopify_id, created_at, updated_at,
                              deleted, key_id, nonce, ciphertext)
         SELECT $1, $2, r.id, r.created_at, r.updated_at, $3, $4, r.nonce, r.ciphertext
         FROM UNNEST($5::bigint[], $6::timestamptz[], $7::timestamptz[], $8::bytea[], $9::bytea[])
              AS r (id, created_at, updated_at, nonce, ciphertext)
         ON CONFLICT (connection_id, recordset, shopify_id) DO UPDATE SET
             created_at = COALESCE(EXCLUDED.created_at, records.created_at),
             updated_at = EXCLUDED.updated_at,
             deleted = EXCLUDED.deleted,
             key_id = EXCLUDED.key_id,
             nonce = EXCLUDED.nonce,
             ciphertext = EXCLUDED.ciphertext
         WHERE records.updated_at < EXCLUDED.updated_at
            OR (EXCLUDED.deleted AND NOT records.deleted AND records.updated_at = EXCLUDED.updated_at)",
    )
    .bind(connection_id)
    .bind(recordset)
    .bind(deleted)
    .bind(key_id)
    .bind(&rows.shopify_ids)
    .bind(&rows.created_at)
    .bind(&rows.updated_at)
    .bind(&rows.nonces)
    .bind(&rows.ciphertexts)
    .execute(&mut *tx)
    .await?;
    Ok(result.rows_affected())
}
