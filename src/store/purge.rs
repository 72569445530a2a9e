//! Deleting a connection's data. Purge crypto-shreds first: one transaction
//! destroys every data key of the connection, so its records are unreadable
//! from that commit on, and only then are the rows deleted, in batches that
//! keep locks and WAL bursts small. Retain keeps everything.

use sqlx::PgPool;

use super::{Connection, StoreError};
use crate::api::DeletionPolicy;

/// What a purge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub keys_destroyed: u64,
    pub records_deleted: u64,
}

/// Destroys the connection's data keys and marks it purged, in one
/// transaction. Idempotent.
pub async fn shred_keys(pool: &PgPool, conn: &Connection) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    // The exclusive row lock orders this against a writer creating a key.
    sqlx::query("UPDATE connections SET purged_at = COALESCE(purged_at, now()) WHERE id = $1")
        .bind(conn.id)
        .execute(&mut *tx)
        .await?;
    let destroyed = sqlx::query(
        "UPDATE data_keys SET state = 'destroyed', wrapped = NULL, destroyed_at = now()
         WHERE connection_id = $1 AND state <> 'destroyed'",
    )
    .bind(conn.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE key_rotations SET finished_at = now() WHERE connection_id = $1 AND finished_at IS NULL")
        .bind(conn.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(connection = %conn.qualified_name(), keys = destroyed, "data keys destroyed (crypto-shredded)");
    Ok(destroyed)
}

/// Deletes the connection's records, checkpoints and run history in batches
/// of `batch_size`. The connection row and the (empty) key rows stay as the
/// record that a purge happened.
pub async fn delete_rows(
    pool: &PgPool,
    conn: &Connection,
    batch_size: i64,
) -> Result<u64, StoreError> {
    let purged: bool =
        sqlx::query_scalar("SELECT purged_at IS NOT NULL FROM connections WHERE id = $1")
            .bind(conn.id)
            .fetch_one(pool)
            .await?;
    if !purged {
        return Err(StoreError::NotShredded {
            connection: conn.qualified_name().to_string(),
        });
    }
    let mut deleted = 0;
    loop {
        let n = sqlx::query(
            "DELETE FROM records WHERE (connection_id, recordset, shopify_id) IN
                 (SELECT connection_id, recordset, shopify_id FROM records WHERE connection_id = $1 LIMIT $2)",
        )
        .bind(conn.id)
        .bind(batch_size)
        .execute(pool)
        .await?
        .rows_affected();
        deleted += n;
        if n == 0 {
            break;
        }
    }
    sqlx::query("DELETE FROM checkpoints WHERE connection_id = $1")
        .bind(conn.id)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM sync_runs WHERE connection_id = $1")
        .bind(conn.id)
        .execute(pool)
        .await?;
    tracing::info!(connection = %conn.qualified_name(), records = deleted, "purged connection rows deleted");
    Ok(deleted)
}

/// Shreds, then deletes. Safe to call again after an interruption.
pub async fn purge(
    pool: &PgPool,
    conn: &Connection,
    batch_size: i64,
) -> Result<PurgeReport, StoreError> {
    let keys_destroyed = shred_keys(pool, conn).await?;
    let records_deleted = delete_rows(pool, conn, batch_size).await?;
    Ok(PurgeReport {
        keys_destroyed,
        records_deleted,
    })
}

/// What the controller calls when a resource is deleted.
pub async fn apply_deletion_policy(
    pool: &PgPool,
    conn: &Connection,
    policy: DeletionPolicy,
) -> Result<Option<PurgeReport>, StoreError> {
    match policy {
        DeletionPolicy::Retain => Ok(None),
        DeletionPolicy::Purge => purge(pool, conn, 10_000).await.map(Some),
    }
}
