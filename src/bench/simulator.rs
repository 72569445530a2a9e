//! `shopsync bench simulator`: how fast the simulator serves, so a sync
//! benchmark can show it is never the bottleneck (issue 3, "Numbers"):
//! bulk JSONL orders/s, paged `orders(first: 250)` requests/s, time to
//! generate the store, and the store's resident memory.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::simulator::config::{PlanPreset, SimulatorConfig};
use crate::simulator::{Simulator, serve};

const STORE: &str = "demo.myshopify.com";
const TOKEN: &str = "shpat_simulator_demo";
const PAGED_QUERY: &str = "query($after: String) { orders(first: 250, after: $after, sortKey: UPDATED_AT) { edges { cursor node { id updatedAt } } pageInfo { hasNextPage endCursor } } }";
const BULK_QUERY: &str = "{ orders { edges { node { id name updatedAt displayFinancialStatus totalPriceSet { shopMoney { amount currencyCode } } lineItems { edges { node { id sku quantity } } } } } } }";

/// Resident memory of this process, from /proc (Linux); 0 elsewhere.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

pub fn run(orders: u64) -> anyhow::Result<()> {
    let history_end = 1_796_083_200; // 2026-12-01T00:00:00Z, fixed so runs compare
    let mut config = SimulatorConfig::with_stores(&[("demo", TOKEN)], 42, orders, 500, history_end);
    // The bench measures the server, not Shopify's pacing: a bucket that never empties.
    config.stores[0].plan = PlanPreset::Custom {
        maximum: 1e12,
        restore_rate: 1e12,
    };
    let rss_before = rss_bytes();
    let started = Instant::now();
    let sim = Simulator::build(config)?;
    let generate = started.elapsed();
    let rss_store = rss_bytes().saturating_sub(rss_before);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let rss_served_before = rss_bytes();
    let (paged_rps, bulk_rate, bulk_objects) = runtime.block_on(async move {
        let running = serve(sim, "127.0.0.1:0").await?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let url = format!("{}/admin/api/2026-10/graphql.json", running.url());
        let paged = paged_requests_per_second(&client, &url, Duration::from_secs(5)).await?;
        let (rate, objects) = bulk_orders_per_second(&client, &url).await?;
        anyhow::Ok((paged, rate, objects))
    })?;
    let rss_after = rss_bytes();
    println!("| measure | result | target |");
    println!("|---|---|---|");
    println!(
        "| bulk JSONL streamed (orders/s, job + download, {bulk_objects} lines) | {bulk_rate:.0} | ≥ 50,000 |"
    );
    println!("| paged `orders(first: 250)` requests/s (2 clients) | {paged_rps:.0} | ≥ 1,000 |");
    println!(
        "| generate a {orders}-order store | {:.2} s | < 30 s |",
        generate.as_secs_f64()
    );
    println!(
        "| store memory (RSS growth) | {:.0} MiB | proportional to the store |",
        rss_store as f64 / 1048576.0
    );
    println!(
        "| memory growth while serving the runs above | {:.0} MiB | not proportional to requests |",
        rss_after.saturating_sub(rss_served_before) as f64 / 1048576.0
    );
    Ok(())
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    let resp = client
        .post(url)
        .header("Host", STORE)
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&body)
        .send()
        .await?;
    Ok(resp.json().await?)
}

/// Two clients page through orders for `window`, restarting at the end.
async fn paged_requests_per_second(
    client: &reqwest::Client,
    url: &str,
    window: Duration,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let mut after = Value::Null;
            while start.elapsed() < window {
                let v = post(
                    &client,
                    &url,
                    json!({"query": PAGED_QUERY, "variables": {"after": after}}),
                )
                .await?;
                let info = &v["data"]["orders"]["pageInfo"];
                anyhow::ensure!(info.is_object(), "unexpected answer: {v}");
                after = if info["hasNextPage"] == true {
                    info["endCursor"].clone()
                } else {
                    Value::Null
                };
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// Runs one bulk query over every order and downloads the JSONL.
async fn bulk_orders_per_second(client: &reqwest::Client, url: &str) -> anyhow::Result<(f64, u64)> {
    let start = Instant::now();
    let submit = json!({"query": "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { message } } }", "variables": {"q": BULK_QUERY}});
    let v = post(client, url, submit).await?;
    let id = v["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .context("bulk submit failed")?
        .to_string();
    let poll = json!({"query": "query($id: ID!) { bulkOperation(id: $id) { status url rootObjectCount } }", "variables": {"id": id}});
    let (file_url, roots) = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let v = post(client, url, poll.clone()).await?;
        let op = &v["data"]["bulkOperation"];
        match op["status"].as_str() {
            Some("COMPLETED") => {
                let roots: u64 = op["rootObjectCount"].as_str().unwrap_or("0").parse()?;
                break (op["url"].as_str().context("no url")?.to_string(), roots);
            }
            Some("RUNNING" | "CREATED") => continue,
            other => anyhow::bail!("bulk operation ended {other:?}: {v}"),
        }
    };
    let mut resp = client.get(&file_url).send().await?;
    let mut lines = 0u64;
    while let Some(chunk) = resp.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    Ok((roots as f64 / start.elapsed().as_secs_f64(), lines))
}
