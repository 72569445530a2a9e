//! Sync checkpoints: how far each stream of a recordset has got. Saved only
//! inside the transaction that commits the rows they cover.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{RecordSet, StoreError};

/// Progress of one stream (`incremental`, or a backfill stage's name).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub stream: String,
    /// Everything updated at or before this instant is stored.
    pub watermark: Option<DateTime<Utc>>,
    /// Engine-specific resume state (a cursor, a bulk operation id). Must not
    /// hold customer data: it is stored in the clear.
    pub state: serde_json::Value,
}

pub(super) async fn save(
    tx: &mut PgConnection,
    connection_id: i64,
    recordset: RecordSet,
    checkpoint: &Checkpoint,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (connection_id, recordset, stream, watermark, state, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (connection_id, recordset, stream) DO UPDATE SET
             watermark = EXCLUDED.watermark, state = EXCLUDED.state, updated_at = now()",
    )
    .bind(connection_id)
    .bind(recordset.as_str())
    .bind(&checkpoint.stream)
    .bind(checkpoint.watermark)
    .bind(&checkpoint.state)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) async fn load(
    pool: &PgPool,
    connection_id: i64,
    recordset: RecordSet,
    stream: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    let row: Option<(Option<DateTime<Utc>>, serde_json::Value)> = sqlx::query_as(
        "SELECT watermark, state FROM checkpoints
         WHERE connection_id = $1 AND recordset = $2 AND stream = $3",
    )
    .bind(connection_id)
    .bind(recordset.as_str())
    .bind(stream)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(watermark, state)| Checkpoint {
        stream: stream.to_owned(),
        watermark,
        state,
    }))
}
