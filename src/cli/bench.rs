//! `shopsync bench TARGET`: runs one benchmark and prints its markdown table.
//! Each target lives in `src/bench/`.

use clap::{Args, ValueEnum};

use anyhow::Context;

use crate::bench;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to measure.
    pub target: BenchTarget,
    /// Records (for the simulator: orders) per measurement; the README's
    /// numbers use 1,000,000.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: usize,
    /// Postgres server to create the scratch benchmark database on; default:
    /// the local server, else a throwaway cluster.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// operator: ShopifyConnections to create.
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    /// operator: simulated stores they spread over.
    #[arg(long, default_value_t = 100)]
    pub stores: usize,
    /// operator: virtual seconds per real second.
    #[arg(long, default_value_t = 10.0)]
    pub speed: f64,
    /// operator: virtual minutes of steady state to measure.
    #[arg(long, default_value_t = 5)]
    pub minutes: u64,
    /// operator: `--max-concurrent-syncs` of the operator under test
    /// (default: the operator's own default).
    #[arg(long = "max-concurrent-syncs", default_value_t = crate::controller::settings::DEFAULT_MAX_CONCURRENT_SYNCS)]
    pub max_concurrent_syncs: usize,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum BenchTarget {
    /// Encrypted upserts vs plain COPY, decrypting reads, data-key rotation.
    Store,
    /// The local Shopify simulator: bulk JSONL, paged reads, generation, memory.
    Simulator,
    /// The sync engine end to end: backfill throughput, cost per order, throttling, RSS.
    Sync,
    /// The operator: freshness lag, on-demand latency, bucket use and RSS for many connections.
    Operator,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.target {
        // The simulator benchmark starts its own runtime and server.
        BenchTarget::Simulator => bench::simulator::run(args.records as u64),
        BenchTarget::Store => run_store(&args),
        BenchTarget::Sync => run_sync(&args),
        BenchTarget::Operator => run_operator(&args),
    }
}

fn run_store(args: &BenchArgs) -> anyhow::Result<()> {
    // Multi-threaded: the benchmarks run writers, readers and a rotation
    // side by side, and their encryption work should not share one thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let table = bench::store::run(&bench::store::StoreBenchConfig {
            records: args.records,
            database_url: args.database_url.clone(),
        })
        .await?;
        println!("{table}");
        Ok(())
    })
}

fn run_sync(args: &BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let table = bench::sync::run(&bench::sync::SyncBenchConfig {
            orders: args.records as u64,
            database_url: args.database_url.clone(),
        })
        .await?;
        println!("{table}");
        Ok(())
    })
}

fn run_operator(args: &BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let table = bench::operator::run(&bench::operator::OperatorBenchConfig {
            connections: args.connections,
            stores: args.stores,
            speed: args.speed,
            minutes: args.minutes,
            max_concurrent_syncs: args.max_concurrent_syncs,
            database_url: args.database_url.clone(),
        })
        .await?;
        println!("{table}");
        Ok(())
    })
}
