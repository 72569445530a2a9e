//! Benchmarks behind `shopsync bench TARGET`, each printing the markdown
//! table the README shows. They measure; they never assert.

pub mod operator;
pub mod operator_env;
pub mod simulator;
pub mod store;
pub mod sync;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Postgres(#[from] crate::store::local_postgres::LocalPostgresError),
    #[error("benchmark database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("the concurrent task of the benchmark failed: {0}")]
    Task(String),
}
