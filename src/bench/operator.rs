//! `shopsync bench operator`: many connections over many simulated stores,
//! with the operator as its own process (`shopsync run`, so its RSS is its
//! own) against the in-process API stand-in, the simulator and Postgres,
//! on a sped-up clock. Measures freshness lag against the poll interval,
//! on-demand latency, bucket use per store and the operator's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use jiff::Timestamp;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

use super::operator_env::OperatorEnv;
use crate::api::ShopifyConnection;
use crate::api::conditions::{self, ConditionStatus, ConditionType};
use crate::crypto::MasterKey;
use crate::simulator::config::SimulatorConfig;
use crate::store::local_postgres;

#[derive(Debug, Clone)]
pub struct OperatorBenchConfig {
    pub connections: usize,
    pub stores: usize,
    /// Virtual seconds per real second.
    pub speed: f64,
    /// Virtual minutes of steady state measured after every backfill is done.
    pub minutes: u64,
    pub database_url: Option<String>,
}

/// What the watcher saw, per connection.
#[derive(Default)]
struct Seen {
    watermark: HashMap<String, Timestamp>,
    acked: HashMap<String, Instant>,
}

pub async fn run(config: &OperatorBenchConfig) -> anyhow::Result<String> {
    let admin_url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            local_postgres::resolve(&std::env::temp_dir().join("shopsync-bench-postgres")).await?
        }
    };
    let db_name = format!("shopsync_bench_operator_{}", std::process::id());
    let db_url = local_postgres::recreate_database(&admin_url, &db_name).await?;
    let pool = crate::store::connect(&db_url, crate::store::RetryPolicy::default()).await?;

    let names: Vec<(String, String)> = (0..config.stores)
        .map(|i| (format!("shop-{i}"), format!("shpat_bench_{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = names
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let mut sim = SimulatorConfig::with_stores(&refs, 3, 30, 0, Timestamp::now().as_second());
    for s in &mut sim.stores {
        s.data.history_days = 5;
    }
    sim.clock_speed = config.speed;
    let env = OperatorEnv::start(sim, pool, None).await?;
    let standin = env.standin.as_ref().context("the stand-in")?;

    let dir = std::env::temp_dir().join(format!("shopsync-bench-operator-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, yaml_serde::to_string(&standin.kubeconfig())?)?;
    let key_file = dir.join("master.key");
    let (key, _) = MasterKey::generate_file_contents()?;
    std::fs::write(&key_file, key.as_bytes())?;
    let metrics_port = free_port()?;
    let mut operator = tokio::process::Command::new(std::env::current_exe()?)
        .arg("run")
        .args(["--namespace", &env.namespace])
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
        .args(["--max-concurrent-syncs", "48"])
        .args(["--shopify-endpoint", &env.sim.url()])
        .arg("--no-leader-election")
        .args(["--clock-speed", &config.speed.to_string()])
        .args(["--clock-start", &env.clock.now().to_string()])
        .env("KUBECONFIG", &kubeconfig)
        .env("DATABASE_URL", &db_url)
        .env("SHOPSYNC_MASTER_KEY_FILE", &key_file)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .context("starting `shopsync run`")?;
    let operator_pid = operator.id().unwrap_or(0);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let watch_seen = Arc::clone(&seen);
    let watch = tokio::spawn(
        watcher(env.connections(), watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .for_each(move |c| {
                if let Ok(c) = c {
                    record(&watch_seen, &c);
                }
                futures::future::ready(())
            }),
    );

    let created = Instant::now();
    for (i, (name, token)) in names.iter().enumerate() {
        env.apply_secret(name, token).await?;
        let per_store = config.connections / config.stores
            + usize::from(i < config.connections % config.stores);
        for j in 0..per_store {
            env.apply_connection(
                &format!("{name}-{j}"),
                &format!("{name}.myshopify.com"),
                json!({"credentials": {"secretRef": {"name": name}}, "backfill": {"window": "3d"}, "pollInterval": "1m"}),
            )
            .await?;
        }
    }
    for (name, _) in &names {
        env.control_churn(&format!("{name}.myshopify.com"), 0.05)
            .await?;
    }
    loop {
        let all = env.connections().list(&Default::default()).await?;
        if all.items.iter().all(ready) {
            break;
        }
        if created.elapsed() > Duration::from_secs(900) {
            anyhow::bail!("not every connection became Ready within 15 minutes");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all_ready = created.elapsed();

    // Steady state: sample lag, send on-demand requests.
    let poll = 60.0;
    let steady = Duration::from_secs_f64(config.minutes as f64 * 60.0 / config.speed);
    let start = Instant::now();
    let mut worst_lag = 0.0f64;
    let mut requests: Vec<(String, String, Instant)> = Vec::new();
    let mut n = 0usize;
    while start.elapsed() < steady {
        let now = env.clock.now();
        {
            let s = seen.lock().unwrap_or_else(|p| p.into_inner());
            for w in s.watermark.values() {
                worst_lag = worst_lag.max(now.duration_since(*w).as_secs_f64());
            }
        }
        let name = format!(
            "{}-{}",
            names[n % names.len()].0,
            (n / names.len()) % (config.connections / config.stores).max(1)
        );
        // A timestamp, the documented convention, so the operator's
        // request-to-start histogram measures it too.
        let value = Timestamp::now().to_string();
        env.request_sync(&name, &value).await?;
        requests.push((name, value, Instant::now()));
        n += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut latencies: Vec<f64> = {
        let s = seen.lock().unwrap_or_else(|p| p.into_inner());
        requests
            .iter()
            .filter_map(|(name, value, sent)| {
                s.acked
                    .get(&format!("{name}={value}"))
                    .map(|at| at.duration_since(*sent).as_secs_f64())
            })
            .collect()
    };
    let answered = latencies.len();
    latencies.sort_by(f64::total_cmp);
    let stats = env.sim_stats().await?;
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await?
        .text()
        .await?;
    let rss = peak_rss_mb(operator_pid);
    let _ = operator.start_kill();
    let _ = operator.wait().await;
    watch.abort();
    drop(env);
    let _ = local_postgres::drop_database(&admin_url, &db_name).await;
    let _ = std::fs::remove_dir_all(&dir);

    let mut worst_share = 0.0f64;
    let mut throttled = 0u64;
    if let Some(stores) = stats["stores"].as_object() {
        for s in stores.values() {
            let size = s["throttleStatus"]["maximumAvailable"]
                .as_f64()
                .unwrap_or(1.0);
            let lowest = s["lowestAvailable"].as_f64().unwrap_or(size);
            worst_share = worst_share.max((size - lowest) / size * 100.0);
            throttled += s["throttled"].as_u64().unwrap_or(0);
        }
    }
    let pct = |p: f64| {
        latencies
            .get(((answered as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let start_p99 = histogram_quantile(&metrics, "shopsync_sync_request_start_seconds", 0.99);
    Ok(format!(
        "| measurement ({} connections, {} stores, clock ×{}) | result | target |\n|---|---|---|\n\
         | all connections Ready after create (backfills) | {:.1} s real | report |\n\
         | worst orders lag in {} virtual minutes of steady state | {:.2} × pollInterval ({:.0} s) | < 1.1 × |\n\
         | on-demand: annotation → sync start, p99 (operator histogram bucket) | ≤ {:.2} s | < 2 s |\n\
         | on-demand: annotation → lastHandledSyncRequest, p50 / p99 ({answered} of {} answered) | {:.2} s / {:.2} s | report |\n\
         | most of any store's bucket used (share allowed: 50%) | {:.0}% | ≤ 50% |\n\
         | THROTTLED responses | {throttled} | 0 |\n\
         | operator peak RSS (`shopsync run`, own process) | {:.0} MB | < 256 MB |\n",
        config.connections,
        config.stores,
        config.speed,
        all_ready.as_secs_f64(),
        config.minutes,
        worst_lag / poll,
        worst_lag,
        start_p99,
        requests.len(),
        pct(0.5),
        pct(0.99),
        worst_share,
        rss,
    ))
}

fn ready(c: &ShopifyConnection) -> bool {
    c.status.as_ref().is_some_and(|s| {
        conditions::find(&s.conditions, ConditionType::Ready)
            .is_some_and(|r| r.status == ConditionStatus::True)
    })
}

fn record(seen: &Mutex<Seen>, c: &ShopifyConnection) {
    let Some(status) = &c.status else { return };
    let name = c.metadata.name.clone().unwrap_or_default();
    let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(w) = status
        .freshness
        .as_ref()
        .and_then(|f| f.orders.as_ref())
        .and_then(|o| o.watermark.as_ref())
    {
        s.watermark.insert(name.clone(), w.0);
    }
    if let Some(value) = &status.last_handled_sync_request {
        s.acked
            .entry(format!("{name}={value}"))
            .or_insert_with(Instant::now);
    }
}

/// The upper bound of the histogram bucket holding quantile `q`.
fn histogram_quantile(text: &str, name: &str, q: f64) -> f64 {
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with(&format!("{name}_bucket{{")))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let count: f64 = l.rsplit(' ').next()?.parse().ok()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last().map(|b| b.1).unwrap_or(0.0);
    if total == 0.0 {
        return f64::NAN;
    }
    buckets
        .iter()
        .find(|(_, count)| *count >= total * q)
        .map(|(le, _)| *le)
        .unwrap_or(f64::NAN)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Peak resident set (VmHWM) of a process, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
