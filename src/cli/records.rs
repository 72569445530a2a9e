//! `shopsync records list|get|count|stats`: decrypted records of one
//! connection as JSON lines, scoped to one environment and checked against
//! an access policy file (deny by default).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::store_options::{StoreOptions, runtime};
use crate::store::{
    AccessGrant, AccessPolicy, ConnectionName, ListQuery, RecordReader, RecordSet, ShopifyId,
};

#[derive(Args, Debug)]
pub struct RecordsArgs {
    #[command(subcommand)]
    pub action: RecordsAction,
}

#[derive(Subcommand, Debug)]
pub enum RecordsAction {
    /// Records of one recordset, oldest update first, as JSON lines.
    List {
        #[command(flatten)]
        scope: ReadScope,
        #[arg(long, default_value = "orders")]
        recordset: RecordSet,
        /// Only records updated at or after this instant (RFC 3339).
        #[arg(long)]
        updated_since: Option<DateTime<Utc>>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Include tombstones of deleted objects.
        #[arg(long)]
        include_deleted: bool,
    },
    /// One record by Shopify id (a number or a GID).
    Get {
        #[command(flatten)]
        scope: ReadScope,
        #[arg(long, default_value = "orders")]
        recordset: RecordSet,
        id: ShopifyId,
    },
    /// Live records per recordset (or of one).
    Count {
        #[command(flatten)]
        scope: ReadScope,
        #[arg(long)]
        recordset: Option<RecordSet>,
    },
    /// Records, tombstones, ciphertext bytes, oldest and newest update per recordset.
    Stats {
        #[command(flatten)]
        scope: ReadScope,
    },
}

/// Who reads what: the connection, the environment, the role and its policy.
#[derive(Args, Debug)]
pub struct ReadScope {
    /// The ShopifyConnection, as NAMESPACE/NAME.
    #[arg(long)]
    pub connection: ConnectionName,
    /// The environment this reader is scoped to; only its keys are loaded.
    #[arg(long, default_value = "production")]
    pub environment: String,
    /// The role the access policy is checked for.
    #[arg(long, env = "SHOPSYNC_ROLE")]
    pub role: String,
    /// The access policy file (see docs/store.md). Without a rule allowing
    /// the role, every read is refused.
    #[arg(long, env = "SHOPSYNC_POLICY_FILE")]
    pub policy_file: PathBuf,
    #[command(flatten)]
    pub store: StoreOptions,
}

impl ReadScope {
    async fn open(&self) -> anyhow::Result<RecordReader> {
        let policy = AccessPolicy::load(&self.policy_file)?;
        let grant = AccessGrant::new(policy, &self.role, &self.environment);
        let master = self.store.master_key()?;
        let pool = self.store.reading_pool().await?;
        Ok(RecordReader::open(pool, master, &self.connection, grant).await?)
    }
}

pub fn run(args: RecordsArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    run_to(args, &mut stdout.lock())
}

/// Runs the command, writing its JSON lines to `out` (stdout for the binary;
/// a buffer in tests).
pub fn run_to(args: RecordsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    runtime()?.block_on(run_async(args, out))
}

async fn run_async(args: RecordsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut out = BufWriter::new(out);
    match args.action {
        RecordsAction::List {
            scope,
            recordset,
            updated_since,
            limit,
            include_deleted,
        } => {
            let reader = scope.open().await?;
            let mut query = ListQuery {
                recordset,
                updated_since,
                after: None,
                limit: limit.clamp(0, 10_000),
                include_deleted,
            };
            // Pages of at most 10,000 keep memory flat for large limits.
            let mut remaining = limit.max(0);
            while remaining > 0 {
                query.limit = remaining.min(10_000);
                let page = reader.list(&query).await?;
                for record in &page {
                    writeln!(out, "{}", record.to_json_line())?;
                }
                match page.last() {
                    Some(last) if page.len() as i64 == query.limit => {
                        query.after = Some((last.updated_at, last.shopify_id));
                        remaining -= page.len() as i64;
                    }
                    _ => break,
                }
            }
        }
        RecordsAction::Get {
            scope,
            recordset,
            id,
        } => {
            let reader = scope.open().await?;
            let record = reader
                .get(recordset, id)
                .await?
                .with_context(|| format!("no {recordset} record {id} in {}", scope.connection))?;
            writeln!(out, "{}", record.to_json_line())?;
        }
        RecordsAction::Count { scope, recordset } => {
            let reader = scope.open().await?;
            for (recordset, count) in reader.count(recordset).await? {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "recordset": recordset.as_str(), "count": count })
                )?;
            }
        }
        RecordsAction::Stats { scope } => {
            let reader = scope.open().await?;
            for stats in reader.stats().await? {
                writeln!(out, "{}", serde_json::to_string(&stats)?)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
