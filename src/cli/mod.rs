//! Command-line wiring: parses arguments and hands each command to the module
//! that owns it.

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::api;

pub mod simulate;

#[derive(Parser, Debug)]
#[command(
    name = "shopsync",
    version,
    about = "Keeps an encrypted, read-only copy of Shopify store data in Postgres, driven by ShopifyConnection resources."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the ShopifyConnection CustomResourceDefinition as YAML.
    Crd,
    /// Print the version of shopsync and of the APIs it speaks.
    Version,
    /// Serve a local Shopify Admin GraphQL API (tests, demos, benchmarks, staging rehearsals).
    Simulate(Box<simulate::SimulateArgs>),
    /// Run a benchmark and print its markdown table (targets: simulator).
    Bench {
        /// What to benchmark.
        target: crate::bench::Target,
        /// Orders in the generated store for the benchmark.
        #[arg(long, default_value_t = 1_000_000)]
        orders: u64,
    },
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Crd => {
            let yaml = api::crd::crd_yaml()?;
            std::io::stdout().write_all(yaml.as_bytes())?;
        }
        Command::Version => println!("{}", version_text()),
        Command::Simulate(args) => simulate::run(&args)?,
        Command::Bench { target, orders } => crate::bench::run(target, orders)?,
    }
    Ok(())
}

fn version_text() -> String {
    format!(
        "shopsync {}\nresource: {}/v1alpha1 ShopifyConnection\nshopify admin api (default): {}\nkubernetes: 1.33 or newer",
        env!("CARGO_PKG_VERSION"),
        api::GROUP,
        api::spec::DEFAULT_API_VERSION,
    )
}
