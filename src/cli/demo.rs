//! `shopsync demo`: the product on embedded defaults. It starts the bundled
//! simulator with a seeded, churning store, finds a PostgreSQL (DATABASE_URL,
//! the local server, or a throwaway cluster), generates a throwaway master
//! key, starts the in-process Kubernetes API stand-in and the operator (the
//! same controller `shopsync run` runs), applies a Secret and a
//! ShopifyConnection, and prints what `kubectl get -o wide` and `kubectl
//! describe` show while it backfills, polls and answers an on-demand request.

use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::api::printer;
use crate::api::{SYNC_REQUESTED_AT, ShopifyConnection};
use crate::bench::operator_env::OperatorEnv;
use crate::simulator::config::SimulatorConfig;
use crate::store::{local_postgres, migrate};

const TOKEN: &str = "shpat_simulator_demo";
/// The manifests the demo applies, as a user would with kubectl.
const EXAMPLE: &str = include_str!("../../examples/demo.yaml");
const DATABASE: &str = "shopsync_demo";
const NAME: &str = "demo";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Orders in the simulated store.
    #[arg(long, default_value_t = 5000)]
    pub orders: u64,
    /// Routine polls to watch after the backfill.
    #[arg(long, default_value_t = 3)]
    pub polls: u32,
    /// Simulated seconds per real second (the 1m poll interval passes in 1/speed minutes).
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Order updates per simulated second while polling.
    #[arg(long, default_value_t = 0.5)]
    pub churn: f64,
    /// Keep everything running at the end and print a kubeconfig for real kubectl.
    #[arg(long)]
    pub keep_running: bool,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    println!(
        "== starting the simulator: demo.myshopify.com, {} orders over 120 days, clock x{}",
        args.orders, args.speed
    );
    let now = jiff::Timestamp::now().as_second();
    let mut config = SimulatorConfig::with_stores(&[("demo", TOKEN)], 42, args.orders, 200, now);
    config.stores[0].data.history_days = 120;
    config.clock_speed = args.speed;
    let pool = database().await?;
    let mut env = OperatorEnv::start(config, pool, None).await?;
    println!("   serving {}", env.sim.url());
    println!(
        "== generated a throwaway master key {} (kept in memory only)",
        env.master.id()
    );
    let standin = env.standin.as_ref().context("the API stand-in")?;
    println!(
        "== Kubernetes API stand-in at {} with the ShopifyConnection CRD installed",
        standin.url()
    );
    let mut settings = env.settings("shopsync-demo-0");
    settings.lease = None;
    env.start_replica(settings);
    println!("== operator running (the controller of `shopsync run`), watching namespace shops");

    println!("\n$ kubectl apply -f examples/demo.yaml   # a Secret and a ShopifyConnection");
    for doc in yaml_serde::Deserializer::from_str(EXAMPLE) {
        let doc: serde_json::Value = serde::Deserialize::deserialize(doc)?;
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        match doc["kind"].as_str() {
            Some("Secret") => {
                let token = doc["stringData"]["accessToken"]
                    .as_str()
                    .unwrap_or_default();
                env.apply_secret(name, token).await?;
            }
            Some("ShopifyConnection") => {
                let store = doc["spec"]["store"].as_str().unwrap_or_default();
                env.apply_connection(name, store, doc["spec"].clone())
                    .await?;
            }
            _ => {}
        }
    }

    let wait = Duration::from_secs(600);
    let c = env
        .wait_for(NAME, "Ready", wait, |c| c.is_some_and(is_ready))
        .await?
        .context("the connection disappeared")?;
    println!(
        "== backfill done: 90 days in weekly bulk-operation stages, then the first incremental read"
    );
    show_table(&env, &c);

    env.control_churn("demo.myshopify.com", args.churn).await?;
    println!(
        "== the store now changes: {} order updates per simulated second",
        args.churn
    );
    let mut last = sync_time(&c);
    for round in 1..=args.polls {
        let c = env
            .wait_for(NAME, "polled", wait, |c| {
                c.is_some_and(|c| sync_time(c) > last)
            })
            .await?
            .context("the connection disappeared")?;
        last = sync_time(&c);
        println!(
            "== routine poll {round}/{} (pollInterval 1m of simulated time)",
            args.polls
        );
        show_table(&env, &c);
    }

    let request = jiff::Timestamp::now().to_string();
    println!(
        "$ kubectl annotate shopifyconnection demo -n shops {SYNC_REQUESTED_AT}={request} --overwrite"
    );
    env.request_sync(NAME, &request).await?;
    println!(
        "$ kubectl wait shopifyconnection/demo -n shops --for=jsonpath='{{.status.lastHandledSyncRequest}}'={request}"
    );
    let c = env
        .wait_for(NAME, "acknowledged", wait, |c| {
            c.and_then(|c| c.status.as_ref()?.last_handled_sync_request.clone())
                .is_some_and(|v| v == request)
        })
        .await?
        .context("the connection disappeared")?;
    println!("shopifyconnection.shopify.fostr.io/demo condition met\n");
    show_table(&env, &c);

    println!("$ kubectl describe shopifyconnection demo -n shops");
    print!("{}", printer::describe(&c));
    println!("Events:\n  Reason             Message");
    for (reason, note) in env.events(NAME).await? {
        println!("  {reason:<18} {note}");
    }
    println!(
        "\nRecords are AES-256-GCM ciphertext in database {DATABASE}; read them with `shopsync records`."
    );
    if args.keep_running {
        let path = std::env::temp_dir().join("shopsync-demo.kubeconfig");
        if let Some(standin) = &env.standin {
            standin.write_kubeconfig(&path)?;
        }
        println!(
            "\nStill running. Try real kubectl:\n  export KUBECONFIG={}\n  kubectl get shopconn -n shops -o wide\nCtrl-C stops.",
            path.display()
        );
        tokio::signal::ctrl_c().await?;
    }
    env.stop_replica(0).await?;
    Ok(())
}

fn is_ready(c: &ShopifyConnection) -> bool {
    c.status.as_ref().is_some_and(|s| {
        crate::api::conditions::find(&s.conditions, crate::api::ConditionType::Ready).is_some_and(
            |r| {
                r.status == crate::api::ConditionStatus::True
                    && r.observed_generation == c.metadata.generation
            },
        )
    })
}

fn sync_time(c: &ShopifyConnection) -> Option<jiff::Timestamp> {
    c.status.as_ref()?.last_sync_time.as_ref().map(|t| t.0)
}

fn show_table(env: &OperatorEnv, c: &ShopifyConnection) {
    println!("\n$ kubectl get shopifyconnections -n shops -o wide");
    print!(
        "{}",
        printer::table(std::slice::from_ref(c), env.clock.now())
    );
    println!();
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
