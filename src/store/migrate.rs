//! Schema migrations, embedded in the binary and applied under sqlx's
//! Postgres advisory lock, so two operator replicas starting together cannot
//! race each other.

use sqlx::PgPool;

/// Every migration under `migrations/`, compiled in.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Brings the schema up to date. Idempotent.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
