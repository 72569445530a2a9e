//! `shopsync run`: the operator, with a kubeconfig or in-cluster.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use tokio::sync::watch;

use super::store_options::StoreOptions;
use crate::clock::Clock;
use crate::controller::startup;
use crate::controller::{LeaseSettings, Operator, Settings};
use crate::telemetry::health::{self, Health};
use crate::telemetry::metrics::Metrics;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Watch only this namespace (repeatable); all namespaces when absent.
    #[arg(long = "namespace")]
    pub namespaces: Vec<String>,
    /// Where /metrics, /healthz and /readyz are served.
    #[arg(long = "metrics-addr", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Syncs that may run at once across all connections. On-demand requests
    /// (the sync-requested-at annotation) may use a quarter more, in a lane
    /// of their own, so they are not queued behind routine polls.
    #[arg(long = "max-concurrent-syncs", default_value_t = crate::controller::settings::DEFAULT_MAX_CONCURRENT_SYNCS)]
    pub max_concurrent_syncs: usize,
    /// Send every store's requests to this base URL (the simulator, a proxy),
    /// keeping the store's host name.
    #[arg(long = "shopify-endpoint", env = "SHOPSYNC_SHOPIFY_ENDPOINT")]
    pub shopify_endpoint: Option<url::Url>,
    /// Name of the Lease used for leader election.
    #[arg(long = "lease-name", default_value = "shopsync-leader")]
    pub lease_name: String,
    /// Namespace of the Lease (the operator's own namespace).
    #[arg(
        long = "lease-namespace",
        env = "POD_NAMESPACE",
        default_value = "default"
    )]
    pub lease_namespace: String,
    /// This replica's identity in the Lease and in Events.
    #[arg(long = "identity", env = "POD_NAME")]
    pub identity: Option<String>,
    /// Run without leader election (only ever one replica).
    #[arg(long = "no-leader-election")]
    pub no_leader_election: bool,
    /// Longest wait, on shutdown or cancellation, for a sync to commit its
    /// batch in flight.
    #[arg(long = "stop-grace", default_value = "30s", value_parser = parse_duration)]
    pub stop_grace: Duration,
    /// Rehearsals against the simulator only: run time this many times faster,
    /// as the simulator does (`shopsync bench operator`).
    #[arg(long = "clock-speed", hide = true, default_value_t = 1.0)]
    pub clock_speed: f64,
    /// Rehearsals only: the virtual time the sped-up clock starts at (the simulator's now).
    #[arg(long = "clock-start", hide = true, requires = "clock_speed")]
    pub clock_start: Option<jiff::Timestamp>,
    #[command(flatten)]
    pub store: StoreOptions,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<kube::core::Duration>()
        .map(Duration::from)
        .map_err(|e| e.to_string())
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(operate(args))
}

async fn operate(args: RunArgs) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::new());
    let health = Health::new(Arc::clone(&metrics));
    let bound = health::serve(args.metrics_addr, Arc::clone(&health))
        .await
        .with_context(|| format!("serving metrics on {}", args.metrics_addr))?;
    tracing::info!(addr = %bound, "serving /metrics, /healthz, /readyz");

    let master = startup::load_master_key(&args.store.master_key_file)?;
    let client = kube::Client::try_default()
        .await
        .context("no Kubernetes configuration: set KUBECONFIG or run in a cluster")?;
    startup::check_crd(&client).await?;
    let pool = startup::open_store(&args.store.database_url).await?;
    health.set_ready(true);

    let identity = args
        .identity
        .clone()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| format!("shopsync-{}", std::process::id()));
    let mut settings = Settings::new(&identity);
    settings.namespaces = args.namespaces.clone();
    settings.max_concurrent_syncs = args.max_concurrent_syncs;
    settings.shopify_endpoint = args.shopify_endpoint.clone();
    settings.stop_grace = args.stop_grace;
    if args.clock_speed != 1.0 {
        let start = args.clock_start.unwrap_or_else(jiff::Timestamp::now);
        settings.clock = Clock::scaled_from(args.clock_speed, start);
    }
    settings.lease = (!args.no_leader_election)
        .then(|| LeaseSettings::new(&args.lease_name, &args.lease_namespace));

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received; shutting down");
        let _ = shutdown_tx.send(true);
    });
    Operator {
        client,
        pool,
        master,
        settings,
        metrics,
    }
    .run(shutdown_rx)
    .await?;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
