//! `shopsync sync` killed with SIGKILL in the middle of a backfill and in the
//! middle of an incremental read resumes from its checkpoints: the rerun
//! re-attaches or continues at the next stage, never starts over, and ends
//! equal to the store's ground truth.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::sync_env::{STORE, SyncEnv, TOKEN, number, open_orders};

const MANIFEST: &str = "apiVersion: shopify.fostr.io/v1alpha1
kind: ShopifyConnection
metadata: {name: demo, namespace: shops}
spec:
  store: demo.myshopify.com
  credentials: {secretRef: {name: t}}
  scopes: [read_orders, read_all_orders]
  backfill: {window: 90d}
";

fn spawn_sync(env: &SyncEnv, dir: &Path) -> Child {
    Command::new(crate::support::shopsync_bin())
        .args(["sync", "-f"])
        .arg(dir.join("conn.yaml"))
        .args(["--shopify-endpoint", &env.sim.url()])
        .env("DATABASE_URL", &env.db.url)
        .env("SHOPSYNC_MASTER_KEY_FILE", dir.join("master.key"))
        .env("SHOPIFY_ACCESS_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shopsync sync starts")
}

async fn checkpoint_state(env: &SyncEnv, stream: &str) -> Option<Value> {
    sqlx::query_scalar(
        "SELECT c.state FROM checkpoints c JOIN connections n ON n.id = c.connection_id
         WHERE n.uid = 'local:shops/demo' AND c.recordset = 'orders' AND c.stream = $1",
    )
    .bind(stream)
    .fetch_optional(&env.db.pool)
    .await
    .expect("checkpoint query")
}

async fn wait_for(
    env: &SyncEnv,
    what: &str,
    stream: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(state) = checkpoint_state(env, stream).await
            && ready(&state)
        {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn kill(mut child: Child) {
    // SIGKILL: no destructor, no flush, no transaction commit.
    child.kill().expect("kill");
    child.wait().expect("reap");
}

/// Waits for a sync to succeed; returns its log.
fn finish(child: Child) -> String {
    let out = child.wait_with_output().expect("sync finishes");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "sync failed: {log}");
    log
}

async fn stored(env: &SyncEnv) -> BTreeSet<i64> {
    sqlx::query_scalar(
        "SELECT r.shopify_id FROM records r JOIN connections n ON n.id = r.connection_id
         WHERE n.uid = 'local:shops/demo' AND r.recordset = 'orders' AND NOT r.deleted",
    )
    .fetch_all(&env.db.pool)
    .await
    .expect("ids")
    .into_iter()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_backfill_and_mid_incremental_resumes_without_gaps() {
    // Real time: the child process syncs on the real clock, as in production.
    let env = SyncEnv::start(900, 5, 80, |config| config.clock_speed = 1.0).await;
    let dir = tempdir();
    std::fs::write(dir.join("conn.yaml"), MANIFEST).expect("manifest");
    let (key, _) = shopsync::crypto::MasterKey::generate_file_contents().expect("key");
    std::fs::write(dir.join("master.key"), key.as_bytes()).expect("key file");

    let child = spawn_sync(&env, &dir);
    // Two bulk jobs recorded: the stage being stored and the next one, read ahead.
    let mid = wait_for(
        &env,
        "two committed stages and two recorded jobs",
        "backfill",
        |s| {
            s["completed"].as_u64() >= Some(2)
                && s["operation"].is_string()
                && s["nextOperation"].is_string()
        },
    )
    .await;
    kill(child);
    let completed_at_kill = mid["completed"].as_u64().expect("completed");
    let total = mid["stages"].as_array().map(Vec::len).expect("stages") as u64;
    assert!(completed_at_kill < total, "the kill must land mid-backfill");

    let log = finish(spawn_sync(&env, &dir));
    // Not a terminal: progress comes as log lines, one pair per job.
    assert!(
        log.contains("job started") && log.contains("job done"),
        "progress log lines: {log}"
    );
    let done = checkpoint_state(&env, "backfill")
        .await
        .expect("backfill checkpoint");
    assert_eq!(done["completed"].as_u64(), Some(total));
    assert_eq!(
        done["from"], mid["from"],
        "the rerun keeps the plan it committed to"
    );
    assert_eq!(stored(&env).await, open_orders(&env.truth("orders").await));
    // Both recorded jobs were re-attached: every stage was read by exactly one job.
    let queries = bulk_queries(&env).await;
    for stage in done["stages"].as_array().expect("stages") {
        let range = format!(
            "updated_at:>='{}' AND updated_at:<'{}'",
            stage["from"].as_str().expect("from"),
            stage["to"].as_str().expect("to")
        );
        let jobs = queries.iter().filter(|q| q.contains(&range)).count();
        assert_eq!(jobs, 1, "stage {range} was read by {jobs} jobs");
    }

    // Changes arrive, more than a paged read takes (engine/paged.rs); kill
    // the next sync while its bulk job is recorded but not read.
    let base = format!("/_sim/stores/{STORE}/orders");
    for _ in 0..15 {
        env.control(Method::POST, &base, Some(json!({}))).await;
    }
    // Past the engine's settle margin (5 s), so the new orders fall in the next window.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let child = spawn_sync(&env, &dir);
    let recorded = wait_for(
        &env,
        "a recorded incremental bulk job",
        "incremental",
        |s| s["operation"].is_string(),
    )
    .await;
    kill(child);
    finish(spawn_sync(&env, &dir));
    let after = checkpoint_state(&env, "incremental")
        .await
        .expect("incremental checkpoint");
    assert!(
        after["operation"].is_null(),
        "the job was re-attached and finished: {after}"
    );
    assert!(recorded["windowTo"].is_string());
    let truth = env.truth("orders").await;
    let (have, want) = (stored(&env).await, open_orders(&truth));
    let missing: Vec<&Value> = truth
        .iter()
        .filter(|o| want.contains(&number(&o["id"])) && !have.contains(&number(&o["id"])))
        .collect();
    assert!(
        have == want,
        "missing {missing:?}, unexpected {:?}; recorded {recorded}; after {after}",
        have.difference(&want).collect::<Vec<_>>()
    );
}

/// The inner query of every bulk operation the simulator ran.
async fn bulk_queries(env: &SyncEnv) -> Vec<String> {
    let response = env
        .client
        .execute(
            "query Ops { bulkOperations(first: 100) { nodes { query } } }",
            json!({}),
            110.0,
        )
        .await
        .expect("bulkOperations");
    response.data["bulkOperations"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["query"].as_str().expect("query").to_owned())
        .collect()
}

fn tempdir() -> std::path::PathBuf {
    let dir = crate::support::postgres::scratch_dir("shopsync-kill-test")
        .join(format!("{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
