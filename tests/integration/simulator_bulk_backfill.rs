//! A whole bulk backfill and a paged incremental read through the HTTP
//! interface only, through a THROTTLED storm and a failed bulk job, compared
//! with the ground-truth export (issue 3, "Done when"); plus the bulk
//! lifecycle rules: concurrency per version, cancel, validation, expiry.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::simulator::{DEMO, Sim, TOKEN};

const BULK: &str = "{ orders { edges { node { id name updatedAt displayFinancialStatus lineItems { edges { node { id sku quantity } } } } } } }";
const SUBMIT: &str = "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status objectCount } userErrors { field message code } } }";

/// Submits, retrying THROTTLED answers after the wait Shopify's numbers imply.
async fn submit(sim: &Sim, query: &str) -> Value {
    for _ in 0..50 {
        let body = sim.gql(SUBMIT, json!({"q": query})).await;
        if body["errors"][0]["extensions"]["code"] == "THROTTLED" {
            let s = &body["extensions"]["cost"]["throttleStatus"];
            let wait = (10.0 - s["currentlyAvailable"].as_f64().expect("n"))
                / s["restoreRate"].as_f64().expect("r");
            sim.control(
                Method::POST,
                "/_sim/clock",
                Some(json!({"advance_seconds": wait.max(0.0).ceil()})),
            )
            .await;
            continue;
        }
        return body["data"]["bulkOperationRunQuery"].clone();
    }
    panic!("still throttled after 50 attempts");
}

/// Polls `bulkOperation(id:)` until the job leaves CREATED/RUNNING.
async fn finished(sim: &Sim, id: &str) -> Value {
    for _ in 0..500 {
        let body = sim
            .gql(
                "query($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl } }",
                json!({"id": id}),
            )
            .await;
        let op = body["data"]["bulkOperation"].clone();
        if !matches!(
            op["status"].as_str(),
            Some("CREATED" | "RUNNING" | "CANCELING")
        ) {
            return op;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("bulk operation {id} never finished");
}

async fn download(sim: &Sim, url: &str, with_token: bool) -> (u16, String) {
    let mut req = sim.client.get(url);
    if with_token {
        req = req.header("X-Shopify-Access-Token", TOKEN);
    }
    let resp = req.send().await.expect("download");
    (resp.status().as_u16(), resp.text().await.expect("text"))
}

/// Assembles JSONL into orders with their line items, by `__parentId` only.
fn assemble(jsonl: &str) -> BTreeMap<String, Value> {
    assert!(
        jsonl.ends_with('\n') && !jsonl.contains("\n\n"),
        "every line ends in \\n, no blank lines"
    );
    let mut orders = BTreeMap::new();
    let mut children = Vec::new();
    for line in jsonl.lines() {
        let v: Value = serde_json::from_str(line).expect("each line is JSON");
        match v.get("__parentId") {
            Some(_) => children.push(v),
            None => {
                let mut o = v.clone();
                o["lineItems"] = json!([]);
                orders.insert(v["id"].as_str().expect("id").to_string(), o);
            }
        }
    }
    for c in children {
        let parent = orders
            .get_mut(c["__parentId"].as_str().expect("parent"))
            .expect("parent line exists");
        let lines = parent["lineItems"].as_array_mut().expect("array");
        lines.push(json!({"id": c["id"], "sku": c["sku"], "quantity": c["quantity"]}));
    }
    orders
}

fn truth_map(truth: &[Value]) -> BTreeMap<String, (String, Value)> {
    truth
        .iter()
        .map(|o| {
            (
                o["id"].as_str().expect("id").to_string(),
                (
                    o["updatedAt"].as_str().expect("ts").to_string(),
                    o["lineItems"].clone(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn bulk_backfill_then_paged_incremental_read_match_the_ground_truth() {
    let sim = Sim::start(600, |c| c.clock_speed = 0.0).await;
    let faults = format!("/_sim/stores/{DEMO}/faults");

    // A failed job first: FAILED with partial data a client can reuse.
    sim.control(Method::PUT, &faults, Some(json!({"bulk": "fail"})))
        .await;
    let op = submit(&sim, BULK).await;
    let failed = finished(&sim, op["bulkOperation"]["id"].as_str().expect("id")).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["errorCode"], "INTERNAL_SERVER_ERROR");
    assert_eq!(failed["url"], Value::Null);
    let (status, partial) = download(
        &sim,
        failed["partialDataUrl"].as_str().expect("partial url"),
        false,
    )
    .await;
    assert_eq!(status, 200);
    let partial_orders = assemble(&partial);
    assert!(!partial_orders.is_empty() && partial_orders.len() < 600);

    // The backfill, submitted into a THROTTLED storm.
    sim.control(Method::PUT, &faults, Some(json!({"throttle_storm": 4})))
        .await;
    let op = submit(&sim, BULK).await;
    assert_eq!(op["userErrors"], json!([]));
    assert_eq!(op["bulkOperation"]["status"], "CREATED");
    assert_eq!(
        op["bulkOperation"]["objectCount"], "0",
        "counts are strings"
    );
    let done = finished(&sim, op["bulkOperation"]["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["rootObjectCount"], "600");
    let url = done["url"].as_str().expect("url");
    let (status, jsonl) = download(&sim, url, false).await;
    assert_eq!(status, 200);
    assert_eq!(
        jsonl.lines().count().to_string(),
        done["objectCount"].as_str().expect("count")
    );
    let mut synced = assemble(&jsonl);
    let truth = truth_map(&sim.ground_truth().await);
    assert_eq!(synced.len(), truth.len());
    for (id, (updated, lines)) in &truth {
        let o = &synced[id];
        assert_eq!(o["updatedAt"].as_str(), Some(updated.as_str()));
        assert_eq!(&o["lineItems"], lines, "line items of {id}");
    }
    let watermark = synced
        .values()
        .map(|o| o["updatedAt"].as_str().expect("ts").to_string())
        .max()
        .expect("max");

    // The store changes; an incremental paged read picks the changes up.
    let ids: Vec<String> = truth.keys().cloned().collect();
    let num = |gid: &str| gid.rsplit('/').next().expect("numeric id").to_string();
    let base = format!("/_sim/stores/{DEMO}/orders");
    sim.control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advance_seconds": 60})),
    )
    .await;
    sim.control(
        Method::PATCH,
        &format!("{base}/{}", num(&ids[10])),
        Some(json!({"tags": ["vip"]})),
    )
    .await;
    sim.control(
        Method::POST,
        &format!("{base}/{}/cancel", num(&ids[11])),
        Some(json!({"reason": "FRAUD"})),
    )
    .await;
    sim.control(
        Method::POST,
        &format!("{base}/{}/close", num(&ids[12])),
        None,
    )
    .await;
    let created = sim.control(Method::POST, &base, None).await;
    sim.control(Method::DELETE, &format!("{base}/{}", num(&ids[13])), None)
        .await;
    sim.control(Method::PUT, &faults, Some(json!({"throttle_storm": 2})))
        .await;
    let q = format!("updated_at:>='{watermark}'");
    let mut after = Value::Null;
    let mut changed = 0;
    loop {
        let body = sim
            .gql(
                "query($after: String, $q: String!) { orders(first: 40, after: $after, query: $q, sortKey: UPDATED_AT) {
                   edges { node { id updatedAt lineItems(first: 20) { nodes { id sku quantity } } } }
                   pageInfo { hasNextPage endCursor } } }",
                json!({"after": after, "q": q}),
            )
            .await;
        if body["errors"][0]["extensions"]["code"] == "THROTTLED" {
            sim.control(
                Method::POST,
                "/_sim/clock",
                Some(json!({"advance_seconds": 30})),
            )
            .await;
            continue;
        }
        let conn = &body["data"]["orders"];
        for e in conn["edges"].as_array().unwrap_or_else(|| panic!("{body}")) {
            let n = &e["node"];
            changed += 1;
            synced.insert(
                n["id"].as_str().expect("id").to_string(),
                json!({"id": n["id"], "updatedAt": n["updatedAt"], "lineItems": n["lineItems"]["nodes"]}),
            );
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert!(
        changed >= 4,
        "three updates and one new order (plus the boundary second): {changed}"
    );
    let truth = truth_map(&sim.ground_truth().await);
    assert!(truth.contains_key(created["id"].as_str().expect("new id")));
    for (id, (updated, lines)) in &truth {
        assert_eq!(
            synced[id]["updatedAt"].as_str(),
            Some(updated.as_str()),
            "{id}"
        );
        assert_eq!(&synced[id]["lineItems"], lines);
    }
    // A deletion is invisible to an updated_at read: the only extra record is the deleted one.
    let extra: Vec<&String> = synced.keys().filter(|k| !truth.contains_key(*k)).collect();
    assert_eq!(extra, vec![&ids[13]]);
    let stats = sim.stats().await;
    assert_eq!(stats["throttled"], 6);
    assert_eq!(stats["token_on_download"], 0);
}

#[tokio::test]
async fn downloads_need_no_token_count_those_that_send_one_and_expire() {
    let sim = Sim::start(40, |c| c.clock_speed = 0.0).await;
    let op = submit(
        &sim,
        "{ products { edges { node { id title variants { edges { node { id sku price } } } } } } }",
    )
    .await;
    let done = finished(&sim, op["bulkOperation"]["id"].as_str().expect("id")).await;
    let url = done["url"].as_str().expect("url").to_string();
    let (status, body) = download(&sim, &url, true).await;
    assert_eq!(status, 200);
    assert!(
        body.lines()
            .any(|l| l.contains("\"__parentId\":\"gid://shopify/Product/"))
    );
    assert_eq!(sim.stats().await["token_on_download"], 1);

    sim.control(
        Method::POST,
        "/_sim/clock",
        Some(json!({"advance_seconds": 8 * 86_400})),
    )
    .await;
    let (status, body) = download(&sim, &url, false).await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>ExpiredToken</Code>"));
    let again = finished(&sim, op["bulkOperation"]["id"].as_str().expect("id")).await;
    assert_eq!(again["status"], "EXPIRED");

    let empty = submit(
        &sim,
        "{ orders(query: \"name:nothing-matches\") { edges { node { id } } } }",
    )
    .await;
    let done = finished(&sim, empty["bulkOperation"]["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["url"], Value::Null, "no url for an empty result");
}

#[tokio::test]
async fn concurrency_is_one_before_2026_01_and_five_after_and_cancel_frees_a_slot() {
    let sim = Sim::start(30, |c| {
        c.versions = vec!["2025-10".into(), "2026-01".into(), "2026-10".into()];
        c.stores[0].plan = shopsync::simulator::config::PlanPreset::Plus;
    })
    .await;
    sim.control(
        Method::PUT,
        &format!("/_sim/stores/{DEMO}/faults"),
        Some(json!({"bulk": "stall"})),
    )
    .await;
    let submit_at = |version: &'static str| {
        let sim = &sim;
        async move {
            let r = sim
                .post(
                    DEMO,
                    version,
                    Some(TOKEN),
                    json!({"query": SUBMIT, "variables": {"q": BULK}}),
                )
                .await;
            r.body["data"]["bulkOperationRunQuery"].clone()
        }
    };
    let first = submit_at("2025-10").await;
    let first_id = first["bulkOperation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let second = submit_at("2025-10").await;
    assert_eq!(second["bulkOperation"], Value::Null);
    assert_eq!(second["userErrors"][0]["code"], "OPERATION_IN_PROGRESS");
    assert_eq!(
        second["userErrors"][0]["message"],
        format!("A bulk query operation for this app and shop is already in progress: {first_id}.")
    );
    for _ in 0..4 {
        assert_eq!(submit_at("2026-10").await["userErrors"], json!([]));
    }
    let sixth = submit_at("2026-10").await;
    assert_eq!(sixth["userErrors"][0]["code"], "OPERATION_IN_PROGRESS");

    let cancel = sim
        .gql("mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }", json!({"id": first_id}))
        .await;
    assert_eq!(
        cancel["data"]["bulkOperationCancel"]["bulkOperation"]["status"],
        "CANCELING"
    );
    assert_eq!(cancel["extensions"]["cost"]["requestedQueryCost"], 10);
    assert_eq!(finished(&sim, &first_id).await["status"], "CANCELED");
    assert_eq!(submit_at("2026-10").await["userErrors"], json!([]));
}

#[tokio::test]
async fn invalid_bulk_queries_come_back_as_user_errors() {
    let sim = Sim::start(10, |_| {}).await;
    let r = submit(&sim, "{ orders { nodes { id } } }").await;
    assert_eq!(r["bulkOperation"], Value::Null);
    assert_eq!(r["userErrors"][0]["code"], "INVALID");
    assert_eq!(r["userErrors"][0]["field"], json!(["query"]));
    assert!(
        r["userErrors"][0]["message"]
            .as_str()
            .expect("m")
            .contains("Selecting via 'nodes' is not supported")
    );
    let r = submit(&sim, "{ shop { id } }").await;
    assert_eq!(
        r["userErrors"][0]["message"],
        "Bulk queries must contain at least one connection."
    );
}

#[tokio::test]
async fn grouping_is_the_default_only_before_2026_01() {
    let sim = Sim::start(60, |c| {
        c.versions = vec!["2025-10".into(), "2026-10".into()]
    })
    .await;
    let mut adjacency = Vec::new();
    for version in ["2025-10", "2026-10"] {
        let r = sim
            .post(
                DEMO,
                version,
                Some(TOKEN),
                json!({"query": SUBMIT, "variables": {"q": BULK}}),
            )
            .await;
        let id = r.body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let done = finished(&sim, &id).await;
        let (_, jsonl) = download(&sim, done["url"].as_str().expect("url"), false).await;
        // Grouped output never has a child line whose parent is not the last parent line.
        let mut last_parent = String::new();
        let mut grouped = true;
        for line in jsonl.lines() {
            let v: Value = serde_json::from_str(line).expect("json");
            match v["__parentId"].as_str() {
                None => last_parent = v["id"].as_str().expect("id").to_string(),
                Some(p) => grouped &= p == last_parent,
            }
        }
        adjacency.push(grouped);
    }
    assert_eq!(adjacency, vec![true, false]);
}
