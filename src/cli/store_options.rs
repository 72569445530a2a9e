//! Options every command that touches the record store shares, named the same
//! everywhere: `DATABASE_URL` and `--master-key-file` /
//! `SHOPSYNC_MASTER_KEY_FILE`. The key is only ever read from a file.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use sqlx::PgPool;

use crate::crypto::MasterKey;
use crate::store::{RetryPolicy, connect, connect_for_reading};

#[derive(Args, Debug, Clone)]
pub struct StoreOptions {
    /// Postgres connection URL.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// File holding the 32-byte master key, raw or base64 (in a cluster: a
    /// mounted Secret). Create one with `shopsync keygen`.
    #[arg(long = "master-key-file", env = "SHOPSYNC_MASTER_KEY_FILE")]
    pub master_key_file: PathBuf,
}

impl StoreOptions {
    pub fn master_key(&self) -> anyhow::Result<Arc<MasterKey>> {
        Ok(Arc::new(MasterKey::load(&self.master_key_file)?))
    }

    /// Connects (retrying while the server does not answer) and migrates.
    pub async fn pool(&self) -> anyhow::Result<PgPool> {
        connect(&self.database_url, RetryPolicy::default())
            .await
            .context("opening the record store")
    }

    /// Connects for reading only: never migrates (a reader's database role
    /// may lack DDL rights), refuses an outdated schema instead.
    pub async fn reading_pool(&self) -> anyhow::Result<PgPool> {
        connect_for_reading(&self.database_url, RetryPolicy::default())
            .await
            .context("opening the record store for reading")
    }
}

/// A current-thread runtime for the store commands; the work is one
/// connection's sequential queries.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
