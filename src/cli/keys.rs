//! `shopsync keys rotate-master|rotate-data`: key rotation from the command
//! line. Both are resumable: running one again after an interruption
//! continues where it stopped.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::store_options::{StoreOptions, runtime};
use crate::crypto::MasterKey;
use crate::store::{ConnectionName, connections, rotation};

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Re-wrap every data key from the current master key (--master-key-file)
    /// to a new one. Records are not touched.
    RotateMaster {
        #[command(flatten)]
        store: StoreOptions,
        /// File holding the new master key (from `shopsync keygen`).
        #[arg(long)]
        new_master_key_file: PathBuf,
    },
    /// Give a connection a new data key and re-encrypt its records in the
    /// background of normal operation (reads and writes continue).
    RotateData {
        #[command(flatten)]
        store: StoreOptions,
        /// The ShopifyConnection, as NAMESPACE/NAME.
        #[arg(long)]
        connection: ConnectionName,
        /// Records re-encrypted per transaction.
        #[arg(long, default_value_t = 2_000)]
        batch_size: i64,
    },
}

pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match args.action {
            KeysAction::RotateMaster {
                store,
                new_master_key_file,
            } => {
                let old = store.master_key()?;
                let new = MasterKey::load(&new_master_key_file)?;
                let pool = store.pool().await?;
                let n = rotation::rotate_master_key(&pool, &old, &new).await?;
                println!(
                    "re-wrapped {n} data keys from master key {} to {}; start shopsync with the new key file now",
                    old.id(),
                    new.id()
                );
            }
            KeysAction::RotateData {
                store,
                connection,
                batch_size,
            } => {
                let master = store.master_key()?;
                let pool = store.pool().await?;
                let conn = connections::find(&pool, &connection).await?;
                let done = rotation::rotate_data_key(&pool, &master, &conn, batch_size).await?;
                println!(
                    "connection {connection}: data key {} replaced by {}; {} records re-encrypted; old key destroyed",
                    done.from, done.to, done.reencrypted
                );
            }
        }
        Ok(())
    })
}
