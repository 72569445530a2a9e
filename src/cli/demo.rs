//! `shopsync demo`: the product on embedded defaults. It starts the bundled
//! simulator with a seeded, churning store, finds a PostgreSQL (DATABASE_URL,
//! the local server, or a throwaway cluster), generates a throwaway master
//! key, runs the staged backfill and a few incremental polls, and prints what
//! `kubectl get -o wide` and `kubectl describe` would show.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::api::printer;
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::shopify::http::{Endpoint, build_client};
use crate::shopify::{AccessToken, LimiterRegistry, ShopifyClient};
use crate::simulator::config::SimulatorConfig;
use crate::store::{
    ConnectionIdentity, RecordWriter, connections, counts, local_postgres, migrate,
};
use crate::sync::status::{StatusContext, from_report};
use crate::sync::{Engine, EngineConfig};

const MANIFEST: &str = "apiVersion: shopify.fostr.io/v1alpha1
kind: ShopifyConnection
metadata: {name: demo, namespace: shops, creationTimestamp: null}
spec:
  store: demo.myshopify.com
  credentials: {secretRef: {name: demo-shopify}}
  scopes: [read_orders, read_all_orders, read_products, read_returns]
  pollInterval: 1m
  backfill: {window: 90d}
  resources:
    products: {enabled: true}
    refunds: {enabled: true}
    returns: {enabled: true}
";

const TOKEN: &str = "shpat_simulator_demo";
const DATABASE: &str = "shopsync_demo";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Orders in the simulated store.
    #[arg(long, default_value_t = 5000)]
    pub orders: u64,
    /// Incremental polls after the backfill.
    #[arg(long, default_value_t = 3)]
    pub polls: u32,
    /// Simulated seconds per real second (the 1m poll interval passes in 1/speed minutes).
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Order updates per simulated second while polling.
    #[arg(long, default_value_t = 0.5)]
    pub churn: f64,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let manifest: serde_json::Value = yaml_serde::from_str(MANIFEST)?;
    let mut connection = crate::api::admission::admit(&manifest, None)?;

    println!(
        "== starting the simulator: demo.myshopify.com, {} orders, clock x{}",
        args.orders, args.speed
    );
    let now = jiff::Timestamp::now().as_second();
    let mut config = SimulatorConfig::with_stores(&[("demo", TOKEN)], 42, args.orders, 200, now);
    config.stores[0].data.history_days = 120;
    config.clock_speed = args.speed;
    let sim = crate::simulator::start(config, "127.0.0.1:0").await?;
    let sim_now = jiff::Timestamp::from_millisecond(sim.sim.clock.now_ms() as i64)?;
    let clock = Clock::scaled_from(args.speed, sim_now);
    connection.metadata.creation_timestamp = Some(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(clock.now()),
    );
    println!("   serving {}", sim.url());

    let pool = database().await?;
    let master = Arc::new(MasterKey::generate()?);
    println!(
        "== generated a throwaway master key {} (kept in memory only)",
        master.id()
    );
    let identity = ConnectionIdentity {
        uid: "demo-uid".into(),
        namespace: "shops".into(),
        name: "demo".into(),
        store: connection.spec.store.clone(),
        environment: connection.spec.environment.clone(),
    };
    let registered = connections::register(&pool, &identity).await?;
    let mut writer =
        RecordWriter::open(pool.clone(), Arc::clone(&master), registered.clone()).await?;

    let spec = connection.spec.clone();
    let limiter = LimiterRegistry::new(clock.clone()).for_store(&spec.store);
    limiter.set_share(&identity.uid, spec.rate_limit.max_bucket_share);
    let base = url::Url::parse(&sim.url())?;
    let endpoint = Endpoint::for_store(&spec.store, &spec.api_version, Some(&base))?;
    let client = ShopifyClient::new(
        build_client(Duration::from_secs(60))?,
        &spec.store,
        &spec.api_version,
        endpoint,
        AccessToken::new(TOKEN),
        limiter,
        clock.clone(),
    );

    let poll = spec.poll_every()?;
    for round in 0..=args.polls {
        if round == 0 {
            println!(
                "== backfill: 90 days in weekly bulk-operation stages, then the first incremental read"
            );
        } else {
            println!(
                "== poll {round}/{}: one pollInterval ({}) of simulated time later",
                args.polls, spec.poll_interval
            );
        }
        let report = Engine::new(&client, &mut writer, &spec, EngineConfig::default())
            .run_once()
            .await;
        if let Some((reason, message, _)) = &report.error {
            anyhow::bail!("the demo sync failed ({reason}): {message}");
        }
        let counts: BTreeMap<_, _> = counts::live_counts(&pool, registered.id).await?;
        let status = from_report(
            &report,
            StatusContext {
                previous: connection.status.as_ref(),
                generation: Some(1),
                max_bucket_share: spec.rate_limit.max_bucket_share,
                next_sync: jiff::SignedDuration::try_from(poll)
                    .ok()
                    .and_then(|d| report.finished.checked_add(d).ok()),
                counts: &counts,
            },
        );
        connection.status = Some(status);
        println!("\n$ kubectl get shopifyconnections -n shops -o wide");
        print!(
            "{}",
            printer::table(std::slice::from_ref(&connection), clock.now())
        );
        println!();
        if round == 0 {
            set_churn(&client, &sim.url(), args.churn).await?;
        }
        if round < args.polls {
            clock.sleep(poll).await;
        }
    }
    println!("$ kubectl describe shopifyconnection demo -n shops");
    print!("{}", printer::describe(&connection));
    println!(
        "\nRecords are AES-256-GCM ciphertext in database {DATABASE}; read them with `shopsync records`."
    );
    Ok(())
}

/// A fresh `shopsync_demo` database on whatever PostgreSQL is at hand.
async fn database() -> anyhow::Result<sqlx::PgPool> {
    let scratch = std::env::temp_dir().join("shopsync-demo-postgres");
    let admin_url = local_postgres::resolve(&scratch).await?;
    println!("== PostgreSQL: {}", local_postgres::redact(&admin_url));
    let url = local_postgres::recreate_database(&admin_url, DATABASE).await?;
    let pool = crate::store::connect(&url, crate::store::RetryPolicy::default()).await?;
    migrate::migrate(&pool).await?;
    Ok(pool)
}

async fn set_churn(client: &ShopifyClient, base: &str, per_second: f64) -> anyhow::Result<()> {
    let url = format!("{base}/_sim/stores/demo.myshopify.com/churn");
    let resp = client
        .http()
        .put(url)
        .json(&serde_json::json!({"per_second": per_second}))
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "setting the churn failed: {}",
        resp.status()
    );
    println!("== the store now changes: {per_second} order updates per simulated second");
    Ok(())
}
