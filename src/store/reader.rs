//! The read path: decrypted records of one connection, scoped to the
//! reader's environment and checked against the access policy before any
//! row is fetched.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::connections::{self, ConnectionName};
use super::data_keys;
use super::policy::AccessGrant;
use super::{Connection, RecordSet, ShopifyId, StoreError};
use crate::crypto::{KeyId, KeyRing, MasterKey, RecordAad};

/// A decrypted record. Debug leaves the payload out: it is customer data.
#[derive(Clone, PartialEq)]
pub struct StoredRecord {
    pub recordset: RecordSet,
    pub shopify_id: ShopifyId,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
    /// The Shopify payload as JSON text (`null` for a tombstone).
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredRecord")
            .field("recordset", &self.recordset)
            .field("shopify_id", &self.shopify_id)
            .field("updated_at", &self.updated_at)
            .field("deleted", &self.deleted)
            .field("payload_bytes", &self.payload.len())
            .finish_non_exhaustive()
    }
}

impl StoredRecord {
    pub fn payload_json(&self) -> Result<serde_json::Value, StoreError> {
        serde_json::from_slice(&self.payload).map_err(|e| StoreError::Payload(e.to_string()))
    }

    /// One JSON object: the index fields and the payload, embedded as is.
    pub fn to_json_line(&self) -> String {
        let meta = serde_json::json!({
            "recordset": self.recordset.as_str(),
            "id": self.shopify_id.0,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted": self.deleted,
        })
        .to_string();
        // The payload is JSON we serialized ourselves and GCM authenticated,
        // so it is spliced in without a parse.
        let mut line = String::with_capacity(meta.len() + self.payload.len() + 12);
        line.push_str(&meta[..meta.len() - 1]);
        line.push_str(",\"payload\":");
        line.push_str(&String::from_utf8_lossy(&self.payload));
        line.push('}');
        line
    }
}

/// Which records to list: newest-last by updated-at, resumable with `after`.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub recordset: RecordSet,
    pub updated_since: Option<DateTime<Utc>>,
    /// Continue after this (updated_at, id), the last record of the previous page.
    pub after: Option<(DateTime<Utc>, ShopifyId)>,
    pub limit: i64,
    pub include_deleted: bool,
}

/// Counts and sizes of one recordset.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordSetStats {
    pub recordset: String,
    pub records: i64,
    pub tombstones: i64,
    pub ciphertext_bytes: i64,
    pub oldest_updated_at: Option<DateTime<Utc>>,
    pub newest_updated_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    shopify_id: i64,
    created_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    deleted: bool,
    key_id: Uuid,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Reads one connection's records on behalf of one grant.
#[derive(Debug)]
pub struct RecordReader {
    pool: PgPool,
    master: Arc<MasterKey>,
    connection: Connection,
    grant: AccessGrant,
    ring: RwLock<Arc<KeyRing>>,
}

impl RecordReader {
    /// Finds the connection and loads the data keys of the grant's
    /// environment, and no others.
    pub async fn open(
        pool: PgPool,
        master: Arc<MasterKey>,
        name: &ConnectionName,
        grant: AccessGrant,
    ) -> Result<RecordReader, StoreError> {
        let connection = connections::find(&pool, name).await?;
        if connection.environment != grant.environment() {
            return Err(StoreError::EnvironmentMismatch {
                connection: name.to_string(),
                connection_environment: connection.environment.clone(),
                reader_environment: grant.environment().to_owned(),
            });
        }
        let ring = data_keys::load_ring(&pool, &master, &connection, grant.environment()).await?;
        Ok(RecordReader {
            pool,
            master,
            connection,
            grant,
            ring: RwLock::new(Arc::new(ring)),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    pub async fn list(&self, query: &ListQuery) -> Result<Vec<StoredRecord>, StoreError> {
        self.grant.check(query.recordset)?;
        // Each filter is added only when present, so every variant is a
        // plain range scan of records_by_updated (an `$n IS NULL OR ...`
        // filter would defeat the index under a generic plan).
        let mut sql = String::from(
            "SELECT shopify_id, created_at, updated_at, deleted, key_id, nonce, ciphertext FROM records
             WHERE connection_id = $1 AND recordset = $2",
        );
        let mut next = 3;
        if query.updated_since.is_some() {
            sql.push_str(&format!(" AND updated_at >= ${next}"));
            next += 1;
        }
        if query.after.is_some() {
            sql.push_str(&format!(
                " AND (updated_at, shopify_id) > (${next}, ${})",
                next + 1
            ));
            next += 2;
        }
        if !query.include_deleted {
            sql.push_str(" AND NOT deleted");
        }
        sql.push_str(&format!(" ORDER BY updated_at, shopify_id LIMIT ${next}"));
        let mut select = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
            .bind(self.connection.id)
            .bind(query.recordset.as_str());
        if let Some(since) = query.updated_since {
            select = select.bind(since);
        }
        if let Some((at, id)) = query.after {
            select = select.bind(at).bind(id.0);
        }
        let rows = select.bind(query.limit).fetch_all(&self.pool).await?;
        self.decrypt_all(query.recordset, rows).await
    }

    /// One record by id, tombstones included (they say the object was deleted).
    pub async fn get(
        &self,
        recordset: RecordSet,
        id: ShopifyId,
    ) -> Result<Option<StoredRecord>, StoreError> {
        self.grant.check(recordset)?;
        let row = sqlx::query_as::<_, Row>(
            "SELECT shopify_id, created_at, updated_at, deleted, key_id, nonce, ciphertext FROM records
             WHERE connection_id = $1 AND recordset = $2 AND shopify_id = $3",
        )
        .bind(self.connection.id)
        .bind(recordset.as_str())
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(self.decrypt_all(recordset, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Live (not deleted) records per readable recordset, or of one.
    pub async fn count(
        &self,
        recordset: Option<RecordSet>,
    ) -> Result<Vec<(RecordSet, i64)>, StoreError> {
        let mut out = Vec::new();
        for recordset in self.scope(recordset)? {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM records WHERE connection_id = $1 AND recordset = $2 AND NOT deleted",
            )
            .bind(self.connection.id)
            .bind(recordset.as_str())
            .fetch_one(&self.pool)
            .await?;
            out.push((recordset, n));
        }
        Ok(out)
    }

    pub async fn stats(&self) -> Result<Vec<RecordSetStats>, StoreError> {
        let mut out = Vec::new();
        for recordset in self.scope(None)? {
            let stats = sqlx::query_as::<_, (i64, i64, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>(
                "SELECT count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted),
                        COALESCE(sum(octet_length(ciphertext)), 0)::bigint, min(updated_at), max(updated_at)
                 FROM records WHERE connection_id = $1 AND recordset = $2",
            )
            .bind(self.connection.id)
            .bind(recordset.as_str())
            .fetch_one(&self.pool)
            .await?;
            out.push(RecordSetStats {
                recordset: recordset.to_string(),
                records: stats.0,
                tombstones: stats.1,
                ciphertext_bytes: stats.2,
                oldest_updated_at: stats.3,
                newest_updated_at: stats.4,
            });
        }
        Ok(out)
    }

    /// The recordsets a call covers: the one asked for (if allowed), or all
    /// the grant may read (refused if that is none).
    fn scope(&self, recordset: Option<RecordSet>) -> Result<Vec<RecordSet>, StoreError> {
        match recordset {
            Some(r) => {
                self.grant.check(r)?;
                Ok(vec![r])
            }
            None => {
                let readable = self.grant.readable();
                if readable.is_empty() {
                    self.grant.check(RecordSet::Orders)?;
                }
                Ok(readable)
            }
        }
    }

    async fn decrypt_all(
        &self,
        recordset: RecordSet,
        rows: Vec<Row>,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let mut ring = self.current_ring();
        if rows
            .iter()
            .any(|r| !ring.contains(KeyId::from_uuid(r.key_id)))
        {
            // A data-key rotation may have started since the ring was loaded.
            ring = Arc::new(
                data_keys::load_ring(
                    &self.pool,
                    &self.master,
                    &self.connection,
                    self.grant.environment(),
                )
                .await?,
            );
            if let Ok(mut slot) = self.ring.write() {
                *slot = ring.clone();
            }
        }
        rows.into_iter()
            .map(|row| {
                let key_id = KeyId::from_uuid(row.key_id);
                let aad = RecordAad {
                    connection_uid: &self.connection.uid,
                    recordset: recordset.as_str(),
                    shopify_id: row.shopify_id,
                    key_id,
                };
                let payload = ring.get(key_id)?.open(&aad, &row.nonce, &row.ciphertext)?;
                Ok(StoredRecord {
                    recordset,
                    shopify_id: ShopifyId(row.shopify_id),
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                    deleted: row.deleted,
                    payload,
                })
            })
            .collect()
    }

    fn current_ring(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(payload: &str) -> StoredRecord {
        StoredRecord {
            recordset: RecordSet::Orders,
            shopify_id: ShopifyId(7),
            created_at: None,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            deleted: false,
            payload: payload.as_bytes().to_vec(),
        }
    }

    #[test]
    fn json_line_embeds_the_payload() {
        let line: serde_json::Value =
            serde_json::from_str(&record(r##"{"name":"#1007"}"##).to_json_line()).unwrap();
        assert_eq!(line["id"], 7);
        assert_eq!(line["recordset"], "orders");
        assert_eq!(line["payload"]["name"], "#1007");
    }

    #[test]
    fn debug_leaves_the_payload_out() {
        let debug = format!("{:?}", record(r#"{"email":"someone@example.org"}"#));
        assert!(
            debug.contains("payload_bytes") && !debug.contains("example.org"),
            "{debug}"
        );
    }
}
