//! Sync run history: when a run started and ended, how it ended, how many
//! records per recordset it wrote, the API cost it used and how often it was
//! throttled.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{RecordSet, StoreError};

/// Identifies one sync run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunId(pub i64);

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Succeeded,
    Failed,
    Cancelled,
}

impl RunOutcome {
    fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
            RunOutcome::Cancelled => "cancelled",
        }
    }
}

/// What the sync engine reports when a run ends. `error` must already be
/// free of tokens and customer data: it is stored and shown as is.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub outcome: RunOutcome,
    pub cost_used: f64,
    pub throttled: i32,
    pub error: Option<String>,
}

/// A run as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRecord {
    pub id: i64,
    pub kind: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub records: serde_json::Value,
    pub cost_used: f64,
    pub throttled: i32,
    pub error: Option<String>,
}

pub(super) async fn begin(
    pool: &PgPool,
    connection_id: i64,
    kind: &str,
) -> Result<RunId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sync_runs (connection_id, kind) VALUES ($1, $2) RETURNING id",
    )
    .bind(connection_id)
    .bind(kind)
    .fetch_one(pool)
    .await?;
    Ok(RunId(id))
}

/// Adds `n` to the run's count for `recordset`, in the batch's transaction.
pub(super) async fn add_records(
    tx: &mut PgConnection,
    run: RunId,
    recordset: RecordSet,
    n: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sync_runs SET records = jsonb_set(records, ARRAY[$2::text],
             to_jsonb(COALESCE((records ->> $2::text)::bigint, 0) + $3))
         WHERE id = $1",
    )
    .bind(run.0)
    .bind(recordset.as_str())
    .bind(n as i64)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) async fn finish(pool: &PgPool, run: RunId, end: &RunEnd) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), outcome = $2, cost_used = $3, throttled = $4, error = $5
         WHERE id = $1",
    )
    .bind(run.0)
    .bind(end.outcome.as_str())
    .bind(end.cost_used)
    .bind(end.throttled)
    .bind(end.error.as_deref())
    .execute(pool)
    .await?;
    Ok(())
}

/// The most recent runs of a connection, newest first.
pub async fn recent(
    pool: &PgPool,
    connection_id: i64,
    limit: i64,
) -> Result<Vec<RunRecord>, StoreError> {
    Ok(sqlx::query_as::<_, RunRecord>(
        "SELECT id, kind, started_at, finished_at, outcome, records, cost_used, throttled, error
         FROM sync_runs WHERE connection_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(connection_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
