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
    pub max_concurrent_syncs: usize,
    pub database_url: Option<String>,
}

/// What the watcher saw, per connection.
#[derive(Default)]
struct Seen {
    watermark: HashMap<String, Timestamp>,
    acked: HashMap<String, Instant>,
    /// Every watermark change, to split lag into its parts.
    updates: Vec<Update>,
}

/// One watermark change as the watcher saw it (virtual seconds).
struct Update {
    seen_at: Timestamp,
    /// Since the previous watermark: the poll spacing plus any delay.
    gap: f64,
    /// From the watermark to the end of the sync that stored it (settle plus the sync's duration).
    age_at_end: f64,
    /// From the end of the sync to the watcher seeing its status.
    propagation: f64,
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
        .args([
            "--max-concurrent-syncs",
            &config.max_concurrent_syncs.to_string(),
        ])
        .args(["--shopify-endpoint", &env.sim.url()])
        .arg("--no-leader-election")
        .args(["--clock-speed", &config.speed.to_string()])
        .args(["--clock-start", &env.clock.now().to_string()])
        .env("KUBECONFIG", &kubeconfig)
        .env("DATABASE_URL", &db_url)
        .env("SHOPSYNC_MASTER_KEY_FILE", &key_file)
        .env(
            "RUST_LOG",
            std::env::var("SHOPSYNC_BENCH_OPERATOR_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .kill_on_drop(true)
        .spawn()
        .context("starting `shopsync run`")?;
    let operator_pid = operator.id().unwrap_or(0);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let watch_seen = Arc::clone(&seen);
    let watch_clock = env.clock.clone();
    let watch = tokio::spawn(
        watcher(env.connections(), watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .for_each(move |c| {
                if let Ok(c) = c {
                    record(&watch_seen, &c, watch_clock.now());
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

    // The polls of early connections queued behind the creation storm's
    // backfills; one poll interval lets that backlog drain before steady
    // state is measured. Its worst lag is reported on its own.
    let poll = 60.0;
    let spacing = crate::controller::reconcile::poll_spacing(
        Duration::from_secs_f64(poll),
        crate::sync::EngineConfig::default().settle,
    );
    let warm_up = Instant::now();
    let mut storm_lag = 0.0f64;
    while warm_up.elapsed() < Duration::from_secs_f64(poll / config.speed) {
        let now = env.clock.now();
        {
            let s = seen.lock().unwrap_or_else(|p| p.into_inner());
            for w in s.watermark.values() {
                storm_lag = storm_lag.max(now.duration_since(*w).as_secs_f64());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Steady state: sample lag, send on-demand requests.
    let steady = Duration::from_secs_f64(config.minutes as f64 * 60.0 / config.speed);
    let metrics_url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let metrics_before = reqwest::get(&metrics_url).await?.text().await?;
    let cpu_before = CpuSample::take(operator_pid);
    let start = Instant::now();
    let steady_from = env.clock.now();
    let mut worst_lag = 0.0f64;
    let mut worst_by_connection: HashMap<String, f64> = HashMap::new();
    let mut requests: Vec<(String, String, Instant)> = Vec::new();
    let mut n = 0usize;
    while start.elapsed() < steady {
        let now = env.clock.now();
        {
            let s = seen.lock().unwrap_or_else(|p| p.into_inner());
            for (name, w) in &s.watermark {
                let lag = now.duration_since(*w).as_secs_f64();
                worst_lag = worst_lag.max(lag);
                let worst = worst_by_connection.entry(name.clone()).or_default();
                *worst = worst.max(lag);
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
    let (gaps, ages, propagation) = {
        let s = seen.lock().unwrap_or_else(|p| p.into_inner());
        let steady: Vec<&Update> = s
            .updates
            .iter()
            .filter(|u| u.seen_at >= steady_from)
            .collect();
        (
            spread(steady.iter().map(|u| u.gap).collect()),
            spread(steady.iter().map(|u| u.age_at_end).collect()),
            spread(steady.iter().map(|u| u.propagation).collect()),
        )
    };
    let answered = latencies.len();
    latencies.sort_by(f64::total_cmp);
    let stats = env.sim_stats().await?;
    let cpu = CpuSample::take(operator_pid).since(&cpu_before);
    let metrics = reqwest::get(&metrics_url).await?.text().await?;
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
    let start_p99 = histogram_quantile(&metrics, "", "shopsync_sync_request_start_seconds", 0.99);
    let steady_q = |name: &str, q: f64| histogram_quantile(&metrics, &metrics_before, name, q);
    let duration = "shopsync_sync_duration_seconds{outcome=\"succeeded\"}";
    let waited = "shopsync_sync_budget_wait_seconds";
    let syncs = histogram_total(&metrics, duration) - histogram_total(&metrics_before, duration);
    Ok(format!(
        "| measurement ({} connections, {} stores, clock ×{}, {} sync slots) | result | target |\n|---|---|---|\n\
         | all connections Ready after create (backfills) | {:.1} s real | report |\n\
         | worst orders lag from all Ready to one pollInterval later (creation backlog draining) | {:.2} × pollInterval | report |\n\
         | worst orders lag in {} virtual minutes of steady state | {:.2} × pollInterval ({:.0} s) | < 1.1 × |\n\
         | connections whose lag ever exceeded 1.1 × pollInterval | {} of {} | 0 |\n\
         | lag, part 1: watermark to watermark, p50 / p99 / max (virtual) | {gaps} | poll spacing {spacing:?} |\n\
         | lag, part 2: watermark to the end of its sync (settle + sync) | {ages} | report |\n\
         | lag, part 3: end of sync to the status seen by a watcher | {propagation} | report |\n\
         | on-demand: annotation → sync start, p99 (operator histogram bucket) | ≤ {:.2} s | < 2 s |\n\
         | on-demand: annotation → lastHandledSyncRequest, p50 / p99 ({answered} of {} answered) | {:.2} s / {:.2} s | report |\n\
         | most of any store's bucket used (share allowed: 50%) | {:.0}% | ≤ 50% |\n\
         | THROTTLED responses | {throttled} | 0 |\n\
         | operator peak RSS (`shopsync run`, own process) | {:.0} MB | < 256 MB |\n\
         | steady state: syncs completed per real second | {:.1} (routine polls due: {:.1}, requests: 4) | report |\n\
         | steady state: sync duration p50 / p99 (histogram buckets, real time) | ≤ {:.2} s / ≤ {:.2} s | report |\n\
         | steady state: routine poll due → its sync starts, p50 / p99 (real) | ≤ {:.2} s / ≤ {:.2} s | report |\n\
         | steady state: reconcile duration p50 / p99 (real) | ≤ {:.3} s / ≤ {:.3} s | report |\n\
         | steady state: per sync, wait for the store's bucket p50 / p99 | ≤ {:.2} s / ≤ {:.2} s | report |\n\
         | steady state: CPU busy, operator process / whole machine (2 cores = 200%) | {:.0}% / {:.0}% | report |\n",
        config.connections,
        config.stores,
        config.speed,
        config.max_concurrent_syncs,
        all_ready.as_secs_f64(),
        storm_lag / poll,
        config.minutes,
        worst_lag / poll,
        worst_lag,
        worst_by_connection
            .values()
            .filter(|lag| **lag > 1.1 * poll)
            .count(),
        worst_by_connection.len(),
        start_p99,
        requests.len(),
        pct(0.5),
        pct(0.99),
        worst_share,
        rss,
        syncs / steady.as_secs_f64(),
        config.connections as f64 * config.speed / spacing.as_secs_f64(),
        steady_q(duration, 0.5),
        steady_q(duration, 0.99),
        steady_q("shopsync_sync_start_delay_seconds", 0.5),
        steady_q("shopsync_sync_start_delay_seconds", 0.99),
        steady_q("shopsync_reconcile_duration_seconds", 0.5),
        steady_q("shopsync_reconcile_duration_seconds", 0.99),
        steady_q(waited, 0.5),
        steady_q(waited, 0.99),
        cpu.process * 100.0,
        cpu.machine * 100.0,
    ))
}

fn ready(c: &ShopifyConnection) -> bool {
    c.status.as_ref().is_some_and(|s| {
        conditions::find(&s.conditions, ConditionType::Ready)
            .is_some_and(|r| r.status == ConditionStatus::True)
    })
}

fn record(seen: &Mutex<Seen>, c: &ShopifyConnection, now: Timestamp) {
    let Some(status) = &c.status else { return };
    let name = c.metadata.name.clone().unwrap_or_default();
    let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(w) = status
        .freshness
        .as_ref()
        .and_then(|f| f.orders.as_ref())
        .and_then(|o| o.watermark.as_ref())
    {
        let previous = s.watermark.insert(name.clone(), w.0);
        if let Some(previous) = previous.filter(|p| *p < w.0)
            && let Some(ended) = status.last_sync_time.as_ref()
        {
            s.updates.push(Update {
                seen_at: now,
                gap: w.0.duration_since(previous).as_secs_f64(),
                age_at_end: ended.0.duration_since(w.0).as_secs_f64(),
                propagation: now.duration_since(ended.0).as_secs_f64(),
            });
        }
    }
    if let Some(value) = &status.last_handled_sync_request {
        s.acked
            .entry(format!("{name}={value}"))
            .or_insert_with(Instant::now);
    }
}

/// p50 / p99 / max of the values, as a table cell.
fn spread(mut values: Vec<f64>) -> String {
    if values.is_empty() {
        return "none".to_owned();
    }
    values.sort_by(f64::total_cmp);
    let at =
        |q: f64| values[((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1];
    format!("{:.1} / {:.1} / {:.1} s", at(0.5), at(0.99), at(1.0))
}

/// Cumulative bucket counts of one histogram series: `series` is the metric
/// name, optionally followed by one label that picks a series of a family
/// (`name{outcome="succeeded"}`); the encoder writes `le` first.
fn histogram_buckets(text: &str, series: &str) -> Vec<(f64, f64)> {
    let (name, label) = match series.split_once('{') {
        Some((name, label)) => (name, Some(label.trim_end_matches('}'))),
        None => (series, None),
    };
    let prefix = format!("{name}_bucket{{");
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter(|l| label.is_none_or(|label| l.contains(label)))
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
    buckets
}

fn histogram_total(text: &str, series: &str) -> f64 {
    histogram_buckets(text, series)
        .last()
        .map(|b| b.1)
        .unwrap_or(0.0)
}

/// The upper bound of the histogram bucket holding quantile `q` of what was
/// observed between two scrapes (`before` empty: since the start).
fn histogram_quantile(after: &str, before: &str, series: &str, q: f64) -> f64 {
    let earlier = histogram_buckets(before, series);
    let buckets: Vec<(f64, f64)> = histogram_buckets(after, series)
        .into_iter()
        .map(|(le, n)| {
            let then = earlier
                .iter()
                .find(|(l, _)| *l == le)
                .map_or(0.0, |(_, n)| *n);
            (le, n - then)
        })
        .collect();
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

/// CPU time of the operator process and of the whole machine, from /proc.
struct CpuSample {
    at: Instant,
    process_ticks: f64,
    machine_busy_ticks: f64,
}

/// CPU used over an interval, in cores (1.0 = one core busy throughout).
struct CpuUse {
    process: f64,
    machine: f64,
}

impl CpuSample {
    fn take(pid: u32) -> CpuSample {
        // utime and stime are fields 14 and 15 of /proc/PID/stat, counted
        // after the parenthesised command name, which may hold spaces.
        let process_ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                let rest = s.rsplit_once(')')?.1;
                let fields: Vec<&str> = rest.split_whitespace().collect();
                Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
            })
            .unwrap_or(0.0);
        // The first line of /proc/stat: user nice system idle iowait irq softirq steal.
        let machine_busy_ticks = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let fields: Vec<f64> = s
                    .lines()
                    .next()?
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|f| f.parse().ok())
                    .collect();
                let idle = fields.get(3)? + fields.get(4)?;
                Some(fields.iter().take(8).sum::<f64>() - idle)
            })
            .unwrap_or(0.0);
        CpuSample {
            at: Instant::now(),
            process_ticks,
            machine_busy_ticks,
        }
    }

    fn since(&self, earlier: &CpuSample) -> CpuUse {
        // Linux reports both in USER_HZ, 100 per second on every common build.
        let seconds = self.at.duration_since(earlier.at).as_secs_f64().max(1e-9) * 100.0;
        CpuUse {
            process: (self.process_ticks - earlier.process_ticks) / seconds,
            machine: (self.machine_busy_ticks - earlier.machine_busy_ticks) / seconds,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    // As prometheus-client writes them: `le` first, then the family's labels.
    const BEFORE: &str = "x_bucket{le=\"1.0\",outcome=\"succeeded\"} 4\n\
                          x_bucket{le=\"2.0\",outcome=\"succeeded\"} 4\n\
                          x_bucket{le=\"+Inf\",outcome=\"succeeded\"} 4\n\
                          x_bucket{le=\"+Inf\",outcome=\"failed\"} 9\n";
    const AFTER: &str = "x_bucket{le=\"1.0\",outcome=\"succeeded\"} 5\n\
                         x_bucket{le=\"2.0\",outcome=\"succeeded\"} 8\n\
                         x_bucket{le=\"+Inf\",outcome=\"succeeded\"} 8\n\
                         x_bucket{le=\"+Inf\",outcome=\"failed\"} 20\n";

    #[test]
    fn quantiles_cover_only_what_was_observed_between_scrapes() {
        let series = "x{outcome=\"succeeded\"}";
        // Since the start, half of 8 lie within 1 s; between the scrapes 3 of 4 lie above it.
        assert_eq!(histogram_quantile(AFTER, "", series, 0.5), 1.0);
        assert_eq!(histogram_quantile(AFTER, BEFORE, series, 0.5), 2.0);
        assert_eq!(
            histogram_total(AFTER, series) - histogram_total(BEFORE, series),
            4.0
        );
        assert!(histogram_quantile(BEFORE, BEFORE, series, 0.5).is_nan());
    }
}
