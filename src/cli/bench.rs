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
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum BenchTarget {
    /// Encrypted upserts vs plain COPY, decrypting reads, data-key rotation.
    Store,
    /// The local Shopify simulator: bulk JSONL, paged reads, generation, memory.
    Simulator,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.target {
        // The simulator benchmark starts its own runtime and server.
        BenchTarget::Simulator => bench::simulator::run(args.records as u64),
        BenchTarget::Store => run_store(&args),
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
