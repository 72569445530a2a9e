//! Command-line wiring: parses arguments and hands each command to the module
//! that owns it.

mod bench;
mod demo;
mod keygen;
mod keys;
mod progress;
pub mod records;
mod run;
pub mod simulate;
pub mod store_options;
mod sync;

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::api;

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
    /// Write a new master key file (base64, mode 0600).
    Keygen(keygen::KeygenArgs),
    /// Read decrypted records of a connection, scoped and policy-checked.
    Records(records::RecordsArgs),
    /// Rotate the master key or a connection's data key.
    Keys(keys::KeysArgs),
    /// Serve a local Shopify Admin GraphQL API (tests, demos, benchmarks, staging rehearsals).
    Simulate(Box<simulate::SimulateArgs>),
    /// Run the product on embedded defaults: simulator, local Postgres, a sync.
    Demo(demo::DemoArgs),
    /// Sync one ShopifyConnection manifest without a cluster and print its status.
    Sync(sync::SyncArgs),
    /// Run the operator: reconcile ShopifyConnections in the cluster (kubeconfig or in-cluster).
    Run(Box<run::RunArgs>),
    /// Run a benchmark and print its markdown table.
    Bench(bench::BenchArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Crd => {
            let yaml = api::crd::crd_yaml()?;
            std::io::stdout().write_all(yaml.as_bytes())?;
        }
        Command::Version => println!("{}", version_text()),
        Command::Keygen(args) => keygen::run(&args)?,
        Command::Records(args) => records::run(args)?,
        Command::Keys(args) => keys::run(args)?,
        Command::Simulate(args) => simulate::run(&args)?,
        Command::Demo(args) => demo::run(args)?,
        Command::Sync(args) => sync::run(args)?,
        Command::Run(args) => run::run(*args)?,
        Command::Bench(args) => bench::run(args)?,
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
