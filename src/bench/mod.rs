//! `shopsync bench TARGET`: benchmarks that print the markdown tables the
//! README shows. Each target lives in its own file.

pub mod simulator;

/// What `shopsync bench` can measure.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Target {
    /// The local Shopify simulator: bulk JSONL, paged reads, generation, memory.
    Simulator,
}

pub fn run(target: Target, orders: u64) -> anyhow::Result<()> {
    match target {
        Target::Simulator => simulator::run(orders),
    }
}
