//! Query costs over HTTP match Shopify's formula on the reference's worked
//! examples (§2.3), in `extensions.cost` and in `/_sim/stats`; requested vs
//! actual with the refund; MAX_COST_EXCEEDED above 1,000 (§2.6).

use serde_json::json;
use shopsync::simulator::config::PlanPreset;

use crate::support::simulator::Sim;

/// Requested cost of `query` as the response and the stats counter both report it.
async fn requested(sim: &Sim, query: &str) -> (u64, u64) {
    let before = sim.stats().await["cost_requested"]
        .as_u64()
        .expect("counter");
    let body = sim.gql(query, json!({})).await;
    let reported = body["extensions"]["cost"]["requestedQueryCost"]
        .as_u64()
        .expect("requested cost");
    let after = sim.stats().await["cost_requested"]
        .as_u64()
        .expect("counter");
    (reported, after - before)
}

#[tokio::test]
async fn stats_show_costs_matching_the_worked_examples() {
    let sim = Sim::start(300, |c| c.stores[0].plan = PlanPreset::Enterprise).await;
    let examples = [
        ("{ shop { name } }", 1),
        (
            "{ orders(first: 1) { nodes { id name } pageInfo { hasNextPage endCursor } } }",
            3,
        ),
        (
            "{ products(first: 10) { nodes { title variants(first: 5) { nodes { price } } } } }",
            82,
        ),
        (
            "{ orders(first: 250) { nodes { id updatedAt customer { id } } } }",
            502,
        ),
        (
            "{ orders(first: 250) { nodes { id totalPriceSet { shopMoney { amount } } } } }",
            752,
        ),
        (
            "{ orders(first: 40) { nodes { id lineItems(first: 20) { nodes { sku } } } } }",
            922,
        ),
        (
            "mutation { bulkOperationRunQuery(query: \"{ orders { edges { node { id } } } }\") { userErrors { message } } }",
            10,
        ),
    ];
    for (query, cost) in examples {
        assert_eq!(requested(&sim, query).await, (cost, cost), "{query}");
    }
}

#[tokio::test]
async fn actual_cost_is_refunded_and_over_the_cap_is_refused() {
    let sim = Sim::start(30, |c| c.clock_speed = 0.0).await;
    // 30 orders: a page of 250 comes back short, so the actual cost is lower.
    let body = sim
        .gql("{ orders(first: 250) { nodes { id } } }", json!({}))
        .await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 252);
    assert_eq!(cost["actualQueryCost"], 32);
    assert_eq!(cost["throttleStatus"]["currentlyAvailable"], 2000 - 32);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 2000.0);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 100.0);
    let stats = sim.stats().await;
    assert_eq!(stats["cost_actual"], 32);

    let body = sim
        .gql(
            "{ orders(first: 50) { nodes { id lineItems(first: 20) { nodes { sku } } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("data").is_none());
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert_eq!(e["extensions"]["cost"], 1152);
    assert_eq!(e["extensions"]["maxCost"], 1000);
    assert!(
        e["message"].as_str().expect("message").starts_with(
            "Query cost is 1152, which exceeds the single query max cost limit (1000)."
        )
    );
    assert_eq!(
        body["extensions"]["cost"]["actualQueryCost"],
        serde_json::Value::Null
    );
    assert_eq!(sim.stats().await["max_cost_exceeded"], 1);
}

#[tokio::test]
async fn the_cost_debug_header_breaks_the_cost_down_by_field() {
    let sim = Sim::start(30, |_| {}).await;
    let resp = sim
        .client
        .post(sim.url("/admin/api/2026-10/graphql.json"))
        .header("Host", crate::support::simulator::DEMO)
        .header("X-Shopify-Access-Token", crate::support::simulator::TOKEN)
        .header("Shopify-GraphQL-Cost-Debug", "1")
        .json(&json!({"query": "{ orders(first: 10) { nodes { id totalPriceSet { shopMoney { amount } } } } }"}))
        .send()
        .await
        .expect("request");
    let body: serde_json::Value = resp.json().await.expect("json");
    let fields = body["extensions"]["cost"]["fields"]
        .as_array()
        .expect("fields");
    assert_eq!(
        fields[0],
        json!({"path": ["orders"], "definedCost": 2, "requestedTotalCost": 32, "requestedChildrenCost": 30})
    );
    assert!(
        fields
            .iter()
            .any(|f| f["path"] == json!(["orders", "nodes", "totalPriceSet", "shopMoney"]))
    );
}
