//! A bulk job that fails leaves a partial result. With grouped output every
//! order in it but the last is complete: those are stored, and only the rest
//! of the stage is read again. The simulator's `fail` fault fails every job
//! after its first page and cuts the partial file inside its last order, so
//! this also proves that an incomplete order never reaches the store (the
//! store keeps the first version it sees of an `updatedAt`, so an incomplete
//! one would still be there at the end, short of line items).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shopsync::shopify::jsonl_text::TextGroupedReader;
use shopsync::sync::EngineConfig;

use crate::support::store::{all_orders, reader};
use crate::support::sync_env::{SyncEnv, number, open_orders, spec};

const ORDERS: u64 = 600;

/// Every bulk operation the simulator ran, oldest first.
async fn operations(env: &SyncEnv) -> Vec<Value> {
    let response = env
        .client
        .execute(
            "query Ops { bulkOperations(first: 50) { nodes { id status rootObjectCount objectCount partialDataUrl } } }",
            json!({}),
            60.0,
        )
        .await
        .expect("bulkOperations");
    response.data["bulkOperations"]["nodes"]
        .as_array()
        .cloned()
        .expect("nodes")
}

fn count(op: &Value, field: &str) -> u64 {
    op[field]
        .as_str()
        .and_then(|c| c.parse().ok())
        .expect("count")
}

/// Line item ids per order id.
fn line_items(orders: impl IntoIterator<Item = Value>) -> BTreeMap<i64, Vec<String>> {
    orders
        .into_iter()
        .map(|o| {
            let mut ids: Vec<String> = o["lineItems"]
                .as_array()
                .expect("lineItems")
                .iter()
                .map(|l| l["id"].as_str().expect("line item id").to_owned())
                .collect();
            ids.sort();
            (number(&o["id"]), ids)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_orders_of_a_failed_job_are_kept_and_only_the_rest_is_read_again() {
    // One stage, larger than the simulator's 250-order pages.
    let env = SyncEnv::start(ORDERS, 5, 20, |_| {}).await;
    env.faults(json!({"bulk": "fail"})).await;
    let config = EngineConfig {
        stage_width: jiff::SignedDuration::from_hours(30 * 24),
        ..EngineConfig::default()
    };
    let report = env
        .sync_with(&spec("  backfill: {window: 25d}\n"), config)
        .await;
    assert!(
        report.succeeded(),
        "jobs that fail part-way still make progress: {:?}",
        report.error
    );

    let truth = env.truth("orders").await;
    let open = open_orders(&truth);
    assert_eq!(
        env.stored_ids("orders").await,
        open,
        "equal to the ground truth"
    );

    // Every stored order has all its line items: no incomplete version got in.
    let reader = reader(&env.db.pool, &env.master, &env.connection).await;
    let stored = reader.list(&all_orders()).await.expect("list");
    let stored = line_items(stored.iter().map(|r| r.payload_json().expect("payload")));
    let expected: BTreeMap<i64, Vec<String>> = line_items(truth.iter().cloned())
        .into_iter()
        .filter(|(id, _)| open.contains(id))
        .collect();
    let short: Vec<(&i64, usize, usize)> = expected
        .iter()
        .filter(|(id, items)| stored.get(id) != Some(items))
        .map(|(id, items)| (id, stored.get(id).map_or(0, Vec::len), items.len()))
        .collect();
    assert!(
        short.is_empty(),
        "orders stored without all their line items (id, stored, expected): {short:?}"
    );

    // Only the rest was read again: the failed jobs' complete orders were not
    // re-fetched. The stage's jobs are those up to the first that completed
    // (later ones read the incremental window).
    let ops = operations(&env).await;
    let stage = ops
        .iter()
        .position(|op| op["status"] == "COMPLETED")
        .map(|last| &ops[..=last])
        .expect("the stage's last job completed");
    let failed: Vec<&Value> = stage.iter().filter(|op| op["status"] == "FAILED").collect();
    assert!(failed.len() >= 2, "every job but the last failed: {ops:?}");
    let fetched: u64 = stage.iter().map(|op| count(op, "rootObjectCount")).sum();
    assert!(
        fetched <= ORDERS + 3 * failed.len() as u64,
        "{fetched} orders fetched for {ORDERS}: more than the cut orders were read twice"
    );

    // The first partial file ends inside its last order, which the store got
    // complete from the rerun; every other order in it is complete.
    let url = failed[0]["partialDataUrl"].as_str().expect("partial url");
    let text = env
        .http
        .get(url)
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("body");
    let mut grouped = TextGroupedReader::new();
    let mut complete = Vec::new();
    for line in text.lines() {
        complete.extend(grouped.push_line(line.as_bytes()).expect("grouped line"));
    }
    let cut = grouped.finish().expect("a last order");
    let cut_id = cut.root.str("id").map(|g| number(&json!(g))).expect("id");
    let cut_items = cut.children_of("LineItem").count();
    assert!(
        cut_items < expected_items(&truth, cut_id),
        "the simulator cut the partial file inside its last order"
    );
    for order in &complete {
        let id = order.root.str("id").map(|g| number(&json!(g))).expect("id");
        let items = order.children_of("LineItem").count();
        assert_eq!(items, expected_items(&truth, id), "order {id} is complete");
    }
}

fn expected_items(truth: &[Value], id: i64) -> usize {
    truth
        .iter()
        .find(|o| number(&o["id"]) == id)
        .and_then(|o| o["lineItems"].as_array())
        .map_or(0, Vec::len)
}
