//! The `/_sim/` control API: a store that changes (create, update, cancel,
//! close, delete, churn), determinism of the generated data, and injected
//! faults (5xx, resets, 429 on downloads, truncated JSONL, grouping).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::simulator::{DEMO, Sim, TOKEN};

#[tokio::test]
async fn same_seed_same_store_byte_for_byte() {
    let a = Sim::start(300, |_| {}).await;
    let b = Sim::start(300, |_| {}).await;
    let path = format!("/_sim/stores/{DEMO}/export");
    assert_eq!(
        a.control(Method::GET, &path, None).await,
        b.control(Method::GET, &path, None).await
    );
    let products = format!("{path}?resource=products");
    assert_eq!(
        a.control(Method::GET, &products, None).await,
        b.control(Method::GET, &products, None).await
    );
    let c = Sim::start(300, |cfg| cfg.stores[0].data.seed = 99).await;
    assert_ne!(
        a.control(Method::GET, &path, None).await,
        c.control(Method::GET, &path, None).await
    );
}

#[tokio::test]
async fn orders_and_products_change_through_the_control_api() {
    let sim = Sim::start(50, |_| {}).await;
    let base = format!("/_sim/stores/{DEMO}");
    let created = sim
        .control(Method::POST, &format!("{base}/orders"), Some(json!({})))
        .await;
    let id = created["id"].as_str().expect("gid").to_string();
    let n = id.rsplit('/').next().expect("n").to_string();
    let q = "query($id: ID!) { order(id: $id) { id tags note closed cancelledAt cancelReason displayFinancialStatus } }";
    let o = sim.gql(q, json!({"id": id})).await["data"]["order"].clone();
    assert_eq!(o["displayFinancialStatus"], "PENDING");
    sim.control(
        Method::PATCH,
        &format!("{base}/orders/{n}"),
        Some(json!({"note": "gift wrap", "tags": ["gift"]})),
    )
    .await;
    sim.control(
        Method::POST,
        &format!("{base}/orders/{n}/cancel"),
        Some(json!({"reason": "INVENTORY"})),
    )
    .await;
    let o = sim.gql(q, json!({"id": id})).await["data"]["order"].clone();
    assert_eq!(o["note"], "gift wrap");
    assert_eq!(o["tags"], json!(["gift"]));
    assert_eq!(o["closed"], true);
    assert_eq!(o["cancelReason"], "INVENTORY");
    assert_eq!(o["displayFinancialStatus"], "VOIDED");
    sim.control(Method::DELETE, &format!("{base}/orders/{n}"), None)
        .await;
    assert_eq!(
        sim.gql(q, json!({"id": id})).await["data"]["order"],
        Value::Null
    );

    let p = sim
        .control(
            Method::POST,
            &format!("{base}/products"),
            Some(json!({"title": "Trail Boot", "price": "89.5"})),
        )
        .await;
    let pid = p["id"].as_str().expect("gid").to_string();
    let pq = "query($id: ID!) { product(id: $id) { title status variants(first: 1) { nodes { price } } } }";
    let got = sim.gql(pq, json!({"id": pid})).await;
    assert_eq!(
        got["data"]["product"]["variants"]["nodes"][0]["price"],
        "89.5"
    );
    let pn = pid.rsplit('/').next().expect("n");
    sim.control(
        Method::PATCH,
        &format!("{base}/products/{pn}"),
        Some(json!({"status": "ARCHIVED"})),
    )
    .await;
    assert_eq!(
        sim.gql(pq, json!({"id": pid})).await["data"]["product"]["status"],
        "ARCHIVED"
    );
}

#[tokio::test]
async fn churn_applies_random_updates_over_time() {
    let sim = Sim::start(200, |c| c.clock_speed = 50.0).await;
    let before = sim.ground_truth().await;
    sim.control(
        Method::PUT,
        &format!("/_sim/stores/{DEMO}/churn"),
        Some(json!({"per_second": 2})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    sim.control(
        Method::PUT,
        &format!("/_sim/stores/{DEMO}/churn"),
        Some(json!({"per_second": 0})),
    )
    .await;
    let after = sim.ground_truth().await;
    let changed = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a["updatedAt"] != b["updatedAt"])
        .count();
    assert!(
        changed >= 20,
        "about 2/s × 35 simulated seconds of churn, saw {changed}"
    );
}

#[tokio::test]
async fn injected_faults_look_like_shopify_failures() {
    let sim = Sim::start(300, |c| c.clock_speed = 0.0).await;
    let faults = format!("/_sim/stores/{DEMO}/faults");
    let q = json!({"query": "{ shop { name } }"});

    sim.control(
        Method::PUT,
        &faults,
        Some(json!({"error_rate": 1.0, "error_status": 503, "retry_after_s": 1.5})),
    )
    .await;
    let r = sim.post(DEMO, "2026-10", Some(TOKEN), q.clone()).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers["retry-after"], "1.5");
    assert_eq!(r.body, json!({"errors": "An unexpected error occurred"}));

    sim.control(Method::PUT, &faults, Some(json!({"reset_rate": 1.0})))
        .await;
    let reset = sim
        .client
        .post(sim.url("/admin/api/2026-10/graphql.json"))
        .header("Host", DEMO)
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&q)
        .send()
        .await;
    let failed = match reset {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(
        failed,
        "a reset connection must not yield a complete response"
    );

    // Bulk results: grouped output, then 429 and truncation on the download path.
    sim.control(Method::PUT, &faults, Some(json!({}))).await;
    let submit = sim
        .gql(
            "mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) { bulkOperation { id } } }",
            json!({"q": "{ orders { edges { node { id lineItems { edges { node { id } } } } } } }"}),
        )
        .await;
    let id = submit["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let url = loop {
        let op = sim
            .gql(
                "query($id: ID!) { node(id: $id) { ... on BulkOperation { status url } } }",
                json!({"id": id}),
            )
            .await;
        if op["data"]["node"]["status"] == "COMPLETED" {
            break op["data"]["node"]["url"].as_str().expect("url").to_string();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let full = sim
        .client
        .get(&url)
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("text");
    let mut current_parent = String::new();
    for line in full.lines() {
        let v: Value = serde_json::from_str(line).expect("json");
        match v["__parentId"].as_str() {
            None => current_parent = v["id"].as_str().expect("id").to_string(),
            Some(p) => assert_eq!(
                p, current_parent,
                "grouped: children follow their parent directly"
            ),
        }
    }

    sim.control(
        Method::PUT,
        &faults,
        Some(json!({"download_429_rate": 1.0, "retry_after_s": 3})),
    )
    .await;
    let resp = sim.client.get(&url).send().await.expect("download");
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3.0");

    sim.control(Method::PUT, &faults, Some(json!({"truncate_jsonl": true})))
        .await;
    let cut = sim
        .client
        .get(&url)
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("text");
    assert!(cut.len() < full.len() && full.starts_with(&cut));
    let stats = sim.stats().await;
    assert!(stats["injected_faults"].as_u64().expect("n") >= 3);
}

#[tokio::test]
async fn tokens_rotate_and_scopes_change_while_running() {
    let sim = Sim::start(20, |_| {}).await;
    let q = json!({"query": "{ currentAppInstallation { accessScopes { handle } } }"});
    let grants = format!("/_sim/stores/{DEMO}/grants");
    sim.control(
        Method::PUT,
        &grants,
        Some(json!({"tokens": ["shpat_rotated"], "scopes": ["read_orders"]})),
    )
    .await;
    assert_eq!(
        sim.post(DEMO, "2026-10", Some(TOKEN), q.clone())
            .await
            .status,
        401
    );
    let r = sim.post(DEMO, "2026-10", Some("shpat_rotated"), q).await;
    assert_eq!(
        r.body["data"]["currentAppInstallation"]["accessScopes"],
        json!([{"handle": "read_orders"}])
    );
    let rest = sim
        .client
        .get(sim.url("/admin/oauth/access_scopes.json"))
        .header("Host", DEMO)
        .header("X-Shopify-Access-Token", "shpat_rotated")
        .send()
        .await
        .expect("rest");
    assert_eq!(
        rest.json::<Value>().await.expect("json"),
        json!({"access_scopes": [{"handle": "read_orders"}]})
    );
}

#[tokio::test]
async fn slow_bulk_jobs_report_growing_counts_and_internal_errors_are_http_200() {
    let sim = Sim::start(600, |c| c.clock_speed = 0.0).await;
    let faults = format!("/_sim/stores/{DEMO}/faults");
    sim.control(
        Method::PUT,
        &faults,
        Some(json!({"bulk_objects_per_s": 10})),
    )
    .await;
    let submit = sim
        .gql(
            "mutation { bulkOperationRunQuery(query: \"{ orders { edges { node { id } } } }\") { bulkOperation { id } } }",
            json!({}),
        )
        .await;
    let id = submit["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let poll = "query($id: ID!) { bulkOperation(id: $id) { status objectCount } }";
    let mut seen = Vec::new();
    for _ in 0..200 {
        let op = sim.gql(poll, json!({"id": id})).await["data"]["bulkOperation"].clone();
        if op["status"] == "COMPLETED" {
            break;
        }
        let n: u64 = op["objectCount"]
            .as_str()
            .expect("string count")
            .parse()
            .expect("n");
        if op["status"] == "RUNNING" && n > 0 && seen.last() != Some(&n) {
            seen.push(n);
        }
        // 250 objects at 10/s need 25 simulated seconds per page.
        sim.control(
            Method::POST,
            "/_sim/clock",
            Some(json!({"advance_seconds": 10})),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        seen.len() >= 2 && seen.windows(2).all(|w| w[0] < w[1]),
        "counts while running: {seen:?}"
    );

    sim.control(
        Method::PUT,
        &faults,
        Some(json!({"internal_error_rate": 1.0})),
    )
    .await;
    let r = sim
        .post(
            DEMO,
            "2026-10",
            Some(TOKEN),
            json!({"query": "{ shop { name } }"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );
    assert_eq!(
        r.body["errors"][0]["extensions"]["requestId"],
        r.headers["x-request-id"].to_str().expect("id")
    );
}
