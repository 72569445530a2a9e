//! `shopsync bench sync`: the sync engine end to end. The simulator runs as a
//! separate process (so this process's peak RSS is the engine's alone), the
//! records go to a scratch Postgres database.
//!
//! 1. Throughput: a backfill of N orders with throttling off, orders/s into
//!    encrypted Postgres and peak RSS.
//! 2. Shopify's limits: a standard-plan store (2000/100) on a sped-up clock,
//!    backfill then polls against a churning store: THROTTLED answers, cost
//!    points per 1,000 orders for the backfill and per changed order for the
//!    polls, and the lowest bucket level seen against the allowed share.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::BenchError;
use crate::api::ShopifyConnectionSpec;
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::shopify::http::{Endpoint, build_client};
use crate::shopify::{AccessToken, LimiterRegistry, ShopifyClient};
use crate::store::RecordSet;
use crate::store::{
    ConnectionIdentity, RecordWriter, connections, counts, local_postgres, migrate,
};
use crate::sync::{Engine, EngineConfig, SyncReport};

const TOKEN: &str = "shpat_simulator_demo";
const STORE: &str = "demo.myshopify.com";

/// What to run.
#[derive(Debug, Clone)]
pub struct SyncBenchConfig {
    pub orders: u64,
    pub database_url: Option<String>,
}

/// A `shopsync simulate` child process, stopped when dropped.
struct SimProcess {
    child: Child,
    url: String,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Killed, it cannot remove its bulk results: a 100,000-order run
        // leaves 700 MB behind.
        let _ = std::fs::remove_dir_all(crate::simulator::files_dir_of(self.child.id(), 0));
    }
}

fn simulator(args: &[&str]) -> Result<SimProcess, BenchError> {
    let exe = std::env::current_exe().map_err(|e| BenchError::Task(e.to_string()))?;
    let mut child = Command::new(exe)
        .arg("simulate")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Task(format!("starting the simulator: {e}")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BenchError::Task("simulator stdout".into()))?;
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .map_err(|e| BenchError::Task(format!("reading the simulator address: {e}")))?;
    // Keep draining: a closed pipe would kill the simulator on its next line.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(SimProcess {
        child,
        url: first.trim().to_owned(),
    })
}

struct Target {
    pool: PgPool,
    master: Arc<MasterKey>,
    admin_url: String,
    name: String,
}

async fn database(config: &SyncBenchConfig) -> Result<Target, BenchError> {
    let admin_url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            local_postgres::resolve(&std::env::temp_dir().join("shopsync-bench-postgres")).await?
        }
    };
    let name = format!("shopsync_bench_sync_{}", std::process::id());
    let url = local_postgres::recreate_database(&admin_url, &name).await?;
    let pool = crate::store::connect(&url, crate::store::RetryPolicy::default()).await?;
    migrate::migrate(&pool)
        .await
        .map_err(|e| BenchError::Task(e.to_string()))?;
    Ok(Target {
        pool,
        master: Arc::new(MasterKey::generate()?),
        admin_url,
        name,
    })
}

/// GETs a JSON document from the simulator.
async fn get_json(http: &reqwest::Client, url: &str) -> Result<serde_json::Value, BenchError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| BenchError::Task(e.to_string()))?;
    response
        .json()
        .await
        .map_err(|e| BenchError::Task(e.to_string()))
}

/// The simulator's clock, so the engine's windows agree with its timestamps.
async fn sim_clock(
    http: &reqwest::Client,
    sim: &SimProcess,
    speed: f64,
) -> Result<Clock, BenchError> {
    let stats: serde_json::Value = http
        .get(format!("{}/_sim/stats", sim.url))
        .send()
        .await
        .map_err(|e| BenchError::Task(e.to_string()))?
        .json()
        .await
        .map_err(|e| BenchError::Task(e.to_string()))?;
    let now: jiff::Timestamp = stats["clock"]["now"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|e: jiff::Error| BenchError::Task(e.to_string()))?;
    Ok(Clock::scaled_from(speed, now))
}

fn spec() -> Result<ShopifyConnectionSpec, BenchError> {
    let manifest: serde_json::Value = yaml_serde::from_str(&format!(
        "apiVersion: shopify.fostr.io/v1alpha1\nkind: ShopifyConnection\nmetadata: {{name: bench, namespace: bench}}\nspec:\n  store: {STORE}\n  credentials: {{secretRef: {{name: t}}}}\n  scopes: [read_orders, read_all_orders]\n  pollInterval: 1m\n  backfill: {{window: 90d}}\n"
    ))
    .map_err(|e| BenchError::Task(e.to_string()))?;
    crate::api::admission::admit(&manifest, None)
        .map(|c| c.spec)
        .map_err(|e| BenchError::Task(e.to_string()))
}

struct Connected {
    client: ShopifyClient,
    writer: RecordWriter,
    connection_id: i64,
}

async fn connect(
    target: &Target,
    sim: &SimProcess,
    clock: Clock,
    uid: &str,
) -> Result<Connected, BenchError> {
    let registered = connections::register(
        &target.pool,
        &ConnectionIdentity {
            uid: uid.into(),
            namespace: "bench".into(),
            name: uid.into(),
            store: STORE.into(),
            environment: "production".into(),
        },
    )
    .await?;
    let writer = RecordWriter::open(
        target.pool.clone(),
        Arc::clone(&target.master),
        registered.clone(),
    )
    .await?;
    let limiter = LimiterRegistry::new(clock.clone()).for_store(STORE);
    limiter.set_share(uid, 50);
    let base = url::Url::parse(&sim.url).map_err(|e| BenchError::Task(e.to_string()))?;
    let endpoint = Endpoint::for_store(STORE, "2026-10", Some(&base))
        .map_err(|e| BenchError::Task(e.to_string()))?;
    let http =
        build_client(Duration::from_secs(120)).map_err(|e| BenchError::Task(e.to_string()))?;
    let client = ShopifyClient::new(
        http,
        STORE,
        "2026-10",
        endpoint,
        AccessToken::new(TOKEN),
        limiter,
        clock,
    );
    Ok(Connected {
        client,
        writer,
        connection_id: registered.id,
    })
}

impl Connected {
    /// One sync with the default engine; a failed sync fails the benchmark.
    async fn sync(&mut self, spec: &ShopifyConnectionSpec) -> Result<SyncReport, BenchError> {
        let report = Engine::new(
            &self.client,
            &mut self.writer,
            spec,
            EngineConfig::default(),
        )
        .run_once()
        .await;
        check(&report)?;
        Ok(report)
    }
}

fn check(report: &SyncReport) -> Result<(), BenchError> {
    match &report.error {
        Some((reason, message, _)) => Err(BenchError::Task(format!(
            "sync failed ({reason}): {message}"
        ))),
        None => Ok(()),
    }
}

/// Runs both measurements and returns the markdown table.
pub async fn run(config: &SyncBenchConfig) -> Result<String, BenchError> {
    let target = database(config).await?;
    let http =
        build_client(Duration::from_secs(60)).map_err(|e| BenchError::Task(e.to_string()))?;
    let spec = spec()?;

    // 1. Throughput, throttling off.
    let orders = config.orders.to_string();
    let sim = simulator(&[
        "--orders",
        &orders,
        "--products",
        "50",
        "--history-days",
        "80",
        "--plan",
        "1000000000/1000000000",
        "--clock-speed",
        "1000",
    ])?;
    let clock = sim_clock(&http, &sim, 1000.0).await?;
    let mut conn = connect(&target, &sim, clock, "throughput").await?;
    let started = Instant::now();
    let report = conn.sync(&spec).await?;
    let elapsed = started.elapsed();
    let orders_report = report
        .recordsets
        .get(&RecordSet::Orders)
        .cloned()
        .unwrap_or_default();
    let processed = orders_report.written + orders_report.tombstoned;
    let stored = counts::live_counts(&target.pool, conn.connection_id)
        .await?
        .get(&RecordSet::Orders)
        .copied()
        .unwrap_or(0);
    let backfill_cost = report.stats.cost_used;
    let throughput_rss = peak_rss_mb();
    drop(sim);

    // 2. Standard plan, sped-up clock, churning store.
    let speed = 60.0;
    let sim = simulator(&[
        "--orders",
        "20000",
        "--products",
        "50",
        "--history-days",
        "80",
        "--plan",
        "standard",
        "--clock-speed",
        "60",
    ])?;
    let clock = sim_clock(&http, &sim, speed).await?;
    let mut conn2 = connect(&target, &sim, clock.clone(), "standard-plan").await?;
    let report = conn2.sync(&spec).await?;
    let std_backfill_orders = report
        .recordsets
        .get(&RecordSet::Orders)
        .map(|r| r.written + r.tombstoned)
        .unwrap_or(0);
    let std_backfill_cost = report.stats.cost_used;
    let mut throttled = report.stats.throttled;
    http.put(format!("{}/_sim/stores/{STORE}/churn", sim.url))
        .json(&serde_json::json!({"per_second": 2.0}))
        .send()
        .await
        .map_err(|e| BenchError::Task(e.to_string()))?;
    let (mut poll_cost, mut changed, mut bucket) = (0.0, 0u64, 2000.0);
    let polls = 10;
    for _ in 0..polls {
        clock.sleep(Duration::from_secs(60)).await;
        let report = conn2.sync(&spec).await?;
        poll_cost += report.stats.cost_used;
        throttled += report.stats.throttled;
        changed += report
            .recordsets
            .get(&RecordSet::Orders)
            .map(|r| r.written + r.tombstoned)
            .unwrap_or(0);
        if let Some(b) = report.bucket {
            bucket = b.maximum;
        }
    }
    let stats = get_json(&http, &format!("{}/_sim/stats", sim.url)).await?;
    let lowest = stats["stores"][STORE]["lowestAvailable"]
        .as_f64()
        .unwrap_or(bucket);
    drop(sim);
    let peak_rss = peak_rss_mb();
    target.pool.close().await;
    local_postgres::drop_database(&target.admin_url, &target.name).await?;

    let mut out = String::new();
    let _ = writeln!(out, "| measurement | value |");
    let _ = writeln!(out, "|---|---|");
    let _ = writeln!(
        out,
        "| backfill, throttling off: orders processed | {processed} ({stored} kept, the rest cancelled/closed tombstones) |"
    );
    let _ = writeln!(
        out,
        "| backfill, throttling off: time | {:.1} s |",
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| backfill, throttling off: orders/s into encrypted Postgres | {:.0} |",
        processed as f64 / elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| backfill cost (Shopify points per 1,000 orders) | {:.1} |",
        per_thousand(backfill_cost, processed)
    );
    let _ = writeln!(
        out,
        "| standard plan backfill of {std_backfill_orders} orders: points per 1,000 orders | {:.1} |",
        per_thousand(std_backfill_cost, std_backfill_orders)
    );
    let _ = writeln!(
        out,
        "| standard plan, {polls} polls at 1m with 2 changes/s: orders changed | {changed} |"
    );
    let _ = writeln!(
        out,
        "| incremental cost per changed order | {:.2} points |",
        if changed > 0 {
            poll_cost / changed as f64
        } else {
            0.0
        }
    );
    let _ = writeln!(
        out,
        "| THROTTLED responses (standard plan, backfill + polls) | {throttled} |"
    );
    let _ = writeln!(
        out,
        "| lowest bucket level the simulator saw, backfill + polls | {lowest:.0} of {bucket:.0} (a 50% share allows down to {:.0}) |",
        bucket / 2.0
    );
    let _ = writeln!(
        out,
        "| peak RSS of the sync process after the throughput backfill | {throughput_rss:.0} MB |"
    );
    let _ = writeln!(
        out,
        "| peak RSS of the sync process at the end | {peak_rss:.0} MB |"
    );
    Ok(out)
}

fn per_thousand(cost: f64, orders: u64) -> f64 {
    if orders == 0 {
        0.0
    } else {
        cost / orders as f64 * 1000.0
    }
}

/// Peak resident set of this process (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
