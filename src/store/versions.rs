//! Which version of a record is stored already: its `updated_at`, read from
//! the clear index columns (no key, no policy). An incremental read asks this
//! of the ids a change page lists, so orders it stored on an earlier poll,
//! which the window's overlap lists again, are not fetched twice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{RecordSet, ShopifyId, StoreError};

/// `updated_at` of each of `ids` stored for the connection, tombstones
/// included (a tombstone's is its deletion time); absent ids are not stored.
pub async fn stored_versions(
    pool: &PgPool,
    connection_id: i64,
    recordset: RecordSet,
    ids: &[ShopifyId],
) -> Result<HashMap<ShopifyId, DateTime<Utc>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let numbers: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let rows: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT shopify_id, updated_at FROM records
         WHERE connection_id = $1 AND recordset = $2 AND shopify_id = ANY($3)",
    )
    .bind(connection_id)
    .bind(recordset.as_str())
    .bind(&numbers)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, at)| (ShopifyId(id), at))
        .collect())
}
