//! Retrying database work that failed because the database was briefly
//! unreachable. Every retried unit is one transaction, so a failed attempt
//! leaves nothing half-written.

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::StoreError;
use super::local_postgres::redact;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// How long one connection attempt may take (the pool itself keeps
    /// trying within it).
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Whether an error means "the database was not there" rather than "the
/// database said no".
pub fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P01-03: server shutting down or
            // restarting; 40001/40P01: serialization failure, deadlock.
            code.starts_with("08")
                || matches!(&*code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
        }),
        _ => false,
    }
}

/// Runs `op` until it succeeds, fails permanently, or the attempts run out.
pub async fn with_retry<T, F, Fut>(
    policy: RetryPolicy,
    what: &str,
    mut op: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(StoreError::Database(err)) if is_transient(&err) && attempt < policy.attempts => {
                tracing::warn!(operation = what, attempt, error = %err, "database unavailable, retrying");
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
            }
            Err(StoreError::Database(err)) if is_transient(&err) => {
                return Err(StoreError::Unavailable {
                    operation: what.to_owned(),
                    attempts: attempt,
                    cause: err.to_string(),
                });
            }
            other => return other,
        }
    }
}

/// Opens a pool, retrying while the server does not answer, then applies the
/// embedded migrations (under their advisory lock).
pub async fn connect(url: &str, policy: RetryPolicy) -> Result<PgPool, StoreError> {
    let pool = open(url, policy).await?;
    super::migrate::migrate(&pool).await?;
    Ok(pool)
}

/// Opens a pool for reading: retries like [`connect`] but never migrates;
/// instead it refuses a schema older than this binary expects.
pub async fn connect_for_reading(url: &str, policy: RetryPolicy) -> Result<PgPool, StoreError> {
    let pool = open(url, policy).await?;
    let applied = super::migrate::applied_version(&pool).await?;
    let expected = super::migrate::expected_version();
    if applied < expected {
        return Err(StoreError::SchemaBehind { applied, expected });
    }
    Ok(pool)
}

async fn open(url: &str, policy: RetryPolicy) -> Result<PgPool, StoreError> {
    let mut attempt = 1;
    let pool = loop {
        let result = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(policy.connect_timeout)
            .connect(url)
            .await;
        match result {
            Ok(pool) => break pool,
            Err(err) if is_transient(&err) && attempt < policy.attempts => {
                tracing::warn!(url = %redact(url), attempt, error = %err, "database unreachable, retrying");
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
            }
            Err(err) => {
                return Err(StoreError::Unreachable {
                    url: redact(url),
                    attempts: attempt,
                    cause: err.to_string(),
                });
            }
        }
    };
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 10,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
            connect_timeout: Duration::from_secs(1),
        };
        assert_eq!(p.delay(1), Duration::from_millis(100));
        assert_eq!(p.delay(2), Duration::from_millis(200));
        assert_eq!(p.delay(3), Duration::from_millis(400));
        assert_eq!(p.delay(4), Duration::from_millis(700));
    }

    #[test]
    fn only_connection_trouble_is_transient() {
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
    }
}
