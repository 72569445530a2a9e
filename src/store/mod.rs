//! Postgres: schema and migrations, encrypted records, checkpoints and run
//! history. Knows nothing about Shopify.

mod batch_rows;
pub mod checkpoints;
pub mod connections;
pub mod counts;
pub mod data_keys;
pub mod local_postgres;
pub mod migrate;
pub mod policy;
pub mod purge;
pub mod reader;
pub mod recordset;
pub mod retry;
pub mod rotation;
pub mod runs;
mod upsert;
pub mod versions;
pub mod writer;

pub use checkpoints::Checkpoint;
pub use connections::{Connection, ConnectionIdentity, ConnectionName};
pub use policy::{AccessGrant, AccessPolicy, PolicyRefusal};
pub use reader::{ListQuery, RecordReader, RecordSetStats, StoredRecord};
pub use recordset::{RecordSet, ShopifyId};
pub use retry::{RetryPolicy, connect, connect_for_reading};
pub use runs::{RunEnd, RunId, RunOutcome};
pub use writer::{
    BatchOutcome, RecordSetRows, RecordWrite, RecordWriter, SetOutcome, Tombstone, payload_text,
};

use crate::crypto::CryptoError;

/// Why a store operation failed, phrased so the reader knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database schema failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database at {url} is unreachable after {attempts} attempts ({cause}); check that it runs and that DATABASE_URL points at it"
    )]
    Unreachable {
        url: String,
        attempts: u32,
        cause: String,
    },
    #[error(
        "{operation} failed: the database was unavailable for {attempts} attempts ({cause}); nothing of it was written"
    )]
    Unavailable {
        operation: String,
        attempts: u32,
        cause: String,
    },
    #[error(
        "the database schema is at migration {applied} but this shopsync needs {expected}; start the operator (or `shopsync sync`) of this version once to migrate it"
    )]
    SchemaBehind { applied: i64, expected: i64 },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Policy(#[from] Box<PolicyRefusal>),
    #[error(
        "no connection {connection} in the store; check the namespace and name (kubectl get shopifyconnections -A)"
    )]
    ConnectionNotFound { connection: String },
    #[error(
        "connection {connection} belongs to environment {connection_environment}; this reader is scoped to {reader_environment} and never receives that environment's keys"
    )]
    EnvironmentMismatch {
        connection: String,
        connection_environment: String,
        reader_environment: String,
    },
    #[error(
        "the data keys of connection {connection} were destroyed (deletion policy Purge); its records can never be decrypted again"
    )]
    KeysDestroyed { connection: String },
    #[error("connection {connection} was purged; a new resource gets a new uid and starts afresh")]
    Purged { connection: String },
    #[error(
        "connection {connection} has not been crypto-shredded; rows are deleted only after its keys are destroyed"
    )]
    NotShredded { connection: String },
    #[error(
        "connection {connection} has no data key to rotate (nothing was written yet) or no rotation in progress"
    )]
    NothingToRotate { connection: String },
    #[error("a record payload is not valid JSON: {0}")]
    Payload(String),
}
