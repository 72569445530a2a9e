//! Live record counts per recordset of one connection, for status. Counting
//! reads only clear index columns, so it needs no key and no policy.

use std::collections::BTreeMap;
use std::str::FromStr;

use sqlx::PgPool;

use super::{RecordSet, StoreError};

/// Records per recordset, tombstones excluded.
pub async fn live_counts(
    pool: &PgPool,
    connection_id: i64,
) -> Result<BTreeMap<RecordSet, i64>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT recordset, count(*) FROM records WHERE connection_id = $1 AND NOT deleted GROUP BY recordset",
    )
    .bind(connection_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, n)| RecordSet::from_str(&name).ok().map(|r| (r, n)))
        .collect())
}
