//! The simulator speaks the Admin API over real HTTP: stores by host, tokens,
//! version fall-forward, real GraphQL (variables, aliases, fragments, inline
//! fragments on interfaces, node/nodes), connections, sort keys, search, and
//! Shopify-shaped errors.

use serde_json::{Value, json};

use crate::support::simulator::{DEMO, Sim, TOKEN};

#[tokio::test]
async fn stores_by_host_tokens_and_version_fall_forward() {
    let sim = Sim::start(50, |_| {}).await;
    let q = json!({"query": "{ shop { name myshopifyDomain } }"});

    let ok = sim.post(DEMO, "2026-07", Some(TOKEN), q.clone()).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.headers["x-shopify-api-version"], "2026-07");
    assert!(!ok.headers["x-request-id"].is_empty());
    assert_eq!(ok.body["data"]["shop"]["myshopifyDomain"], DEMO);

    // A retired version is served as the oldest supported one (§1.3).
    let old = sim.post(DEMO, "2025-07", Some(TOKEN), q.clone()).await;
    assert_eq!(old.status, 200);
    assert_eq!(old.headers["x-shopify-api-version"], "2026-01");

    let bad = sim
        .post(DEMO, "2026-10", Some("shpat_wrong"), q.clone())
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.body,
        json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    );
    assert_eq!(sim.post(DEMO, "2026-10", None, q.clone()).await.status, 401);

    let unknown = sim
        .post("nope.myshopify.com", "2026-10", Some(TOKEN), q)
        .await;
    assert_eq!(unknown.status, 404);

    let text = sim
        .client
        .post(sim.url("/admin/api/2026-10/graphql.json"))
        .header("Host", DEMO)
        .header("X-Shopify-Access-Token", TOKEN)
        .header("Content-Type", "text/plain")
        .body("{ shop { name } }")
        .send()
        .await
        .expect("request");
    assert_eq!(text.status(), 400);
}

#[tokio::test]
async fn real_graphql_variables_aliases_fragments_and_nodes() {
    let sim = Sim::start(80, |_| {}).await;
    let first = sim
        .gql(
            "{ orders(first: 2, sortKey: ID) { nodes { id } } }",
            json!({}),
        )
        .await;
    let ids: Vec<String> = first["data"]["orders"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect();
    let body = sim
        .gql(
            "query Pair($a: ID!, $ids: [ID!]!) {
               one: node(id: $a) { __typename id ...OrderBits ... on Product { title } }
               many: nodes(ids: $ids) { id ... on Order { name } }
             }
             fragment OrderBits on Order { name createdAt total: totalPriceSet { shopMoney { amount } } }",
            json!({"a": ids[0], "ids": [ids[0], ids[1], "gid://shopify/Order/1"]}),
        )
        .await;
    let one = &body["data"]["one"];
    assert_eq!(one["__typename"], "Order");
    assert_eq!(one["id"], ids[0].as_str());
    assert!(one["name"].as_str().expect("name").starts_with('#'));
    assert!(
        one["total"]["shopMoney"]["amount"]
            .as_str()
            .expect("Decimal is a string")
            .contains('.')
    );
    assert!(
        one.get("title").is_none(),
        "Product fragment must not apply to an Order"
    );
    let many = body["data"]["many"].as_array().expect("nodes");
    assert_eq!(many.len(), 3);
    assert_eq!(many[1]["id"], ids[1].as_str());
    assert_eq!(many[2], Value::Null);
    // Fields come back in selection order (checked on the raw text; a JSON map would sort them).
    let raw = sim
        .post(
            DEMO,
            "2026-10",
            Some(TOKEN),
            json!({"query": "{ shop { name id currencyCode } }"}),
        )
        .await;
    let text = serde_json::to_string(&raw.body).expect("json");
    assert!(text.contains("currencyCode"));
    let resp = sim
        .client
        .post(sim.url("/admin/api/2026-10/graphql.json"))
        .header("Host", DEMO)
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&json!({"query": "{ shop { name id currencyCode } }"}))
        .send()
        .await
        .expect("request");
    let text = resp.text().await.expect("text");
    let (n, i, c) = (
        text.find("\"name\"").expect("name"),
        text.find("\"id\"").expect("id"),
        text.find("\"currencyCode\"").expect("cc"),
    );
    assert!(n < i && i < c, "selection order lost: {text}");
}

#[tokio::test]
async fn query_errors_come_back_in_shopify_shapes() {
    let sim = Sim::start(10, |_| {}).await;
    let r = sim.gql("{ shop { nope } }", json!({})).await;
    assert!(r.get("data").is_none());
    let e = &r["errors"][0];
    assert_eq!(e["extensions"]["code"], "undefinedField");
    assert_eq!(e["message"], "Field 'nope' doesn't exist on type 'Shop'");
    assert_eq!(e["locations"][0], json!({"line": 1, "column": 10}));

    let r = sim.gql("{ orders { nodes { id } } }", json!({})).await;
    assert_eq!(
        r["errors"][0]["message"],
        "you must provide one of first or last"
    );
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert_eq!(r["data"]["orders"], Value::Null);

    let r = sim
        .gql("{ orders(first: 251) { nodes { id } } }", json!({}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_REQUEST");

    let syntax = sim
        .post(DEMO, "2026-10", Some(TOKEN), json!({"query": "{ shop { "}))
        .await;
    assert_eq!(syntax.status, 400);
}

async fn all_pages(sim: &Sim, sort: &str, query: &str, reverse: bool) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = sim
            .gql(
                "query($after: String, $q: String, $sort: OrderSortKeys, $rev: Boolean) {
                   orders(first: 37, after: $after, query: $q, sortKey: $sort, reverse: $rev) {
                     edges { cursor node { id updatedAt createdAt closed cancelledAt } }
                     pageInfo { hasNextPage endCursor } } }",
                json!({"after": after, "q": query, "sort": sort, "rev": reverse}),
            )
            .await;
        let conn = &body["data"]["orders"];
        for e in conn["edges"].as_array().expect("edges") {
            out.push(e["node"].clone());
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn pages_sort_keys_and_search_windows_agree_with_ground_truth() {
    let sim = Sim::start(400, |_| {}).await;
    let truth = sim.ground_truth().await;
    assert_eq!(truth.len(), 400);

    let by_updated = all_pages(&sim, "UPDATED_AT", "", false).await;
    assert_eq!(by_updated.len(), 400, "every order exactly once");
    let stamps: Vec<&str> = by_updated
        .iter()
        .map(|o| o["updatedAt"].as_str().expect("ts"))
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "sorted by updatedAt"
    );
    let mut reversed = all_pages(&sim, "UPDATED_AT", "", true).await;
    reversed.reverse();
    assert_eq!(reversed, by_updated);

    // A half-open incremental window, in two of the date forms clients send.
    let (from, to) = ("2026-06-01T00:00:00Z", "2026-09-01 00:00:00+00:00");
    let window = all_pages(
        &sim,
        "UPDATED_AT",
        &format!("updated_at:>='{from}' AND updated_at:<'{to}'"),
        false,
    )
    .await;
    let expected = truth
        .iter()
        .filter(|o| {
            let u = o["updatedAt"].as_str().expect("ts");
            u >= from && u < "2026-09-01T00:00:00Z"
        })
        .count();
    assert!(expected > 20);
    assert_eq!(window.len(), expected);

    let closed = all_pages(&sim, "ID", "status:closed", false).await;
    assert!(!closed.is_empty() && closed.iter().all(|o| o["closed"] == true));
    assert_eq!(
        closed.len(),
        truth.iter().filter(|o| !o["closedAt"].is_null()).count()
    );
    let cancelled = all_pages(&sim, "CREATED_AT", "status:cancelled", false).await;
    assert!(cancelled.iter().all(|o| !o["cancelledAt"].is_null()));

    // id ranges
    let mid = truth[200]["id"]
        .as_str()
        .expect("id")
        .rsplit('/')
        .next()
        .expect("n")
        .to_string();
    let upper = all_pages(&sim, "ID", &format!("id:>={mid}"), false).await;
    assert_eq!(upper.len(), 200);

    // `last` pages end at the end.
    let tail = sim.gql("{ orders(last: 3, sortKey: ID) { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }", json!({})).await;
    assert_eq!(tail["data"]["orders"]["nodes"][2]["id"], truth[399]["id"]);
    assert_eq!(tail["data"]["orders"]["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test]
async fn orders_carry_their_children_and_current_app_scopes() {
    let sim = Sim::start(300, |_| {}).await;
    let body = sim
        .gql(
            "{ currentAppInstallation { accessScopes { handle } }
               orders(first: 10, query: \"financial_status:refunded OR financial_status:partially_refunded\") { nodes {
                 id displayFinancialStatus displayFulfillmentStatus returnStatus tags
                 totalRefundedSet { shopMoney { amount } }
                 lineItems(first: 10) { nodes { id sku quantity currentQuantity variant { id } } }
                 fulfillments { id status trackingInfo { number } }
                 refunds { id processedAt totalRefundedSet { presentmentMoney { amount currencyCode } }
                   refundLineItems(first: 10) { nodes { quantity restockType lineItem { id } } } }
                 returns(first: 5) { nodes { id status } }
               } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let scopes: Vec<&str> = body["data"]["currentAppInstallation"]["accessScopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .map(|s| s["handle"].as_str().expect("handle"))
        .collect();
    assert!(scopes.contains(&"read_orders") && scopes.contains(&"read_all_orders"));
    let orders = body["data"]["orders"]["nodes"].as_array().expect("orders");
    assert!(!orders.is_empty());
    for o in orders {
        let refunds = o["refunds"]
            .as_array()
            .expect("refunds is a list, never null");
        assert!(!refunds.is_empty(), "refunded order without refunds: {o}");
        assert_ne!(o["totalRefundedSet"]["shopMoney"]["amount"], "0.0");
        let line_ids: Vec<&Value> = o["lineItems"]["nodes"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| &l["id"])
            .collect();
        for r in refunds {
            for rl in r["refundLineItems"]["nodes"]
                .as_array()
                .expect("refund lines")
            {
                assert!(
                    line_ids.contains(&&rl["lineItem"]["id"]),
                    "refund line points at a line item of the order"
                );
            }
        }
    }
}

#[tokio::test]
async fn free_text_search_matches_names_emails_and_tags() {
    let sim = Sim::start(100, |_| {}).await;
    let body = sim
        .gql(
            "{ orders(first: 5, query: \"#1042\") { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["orders"]["nodes"], json!([{"name": "#1042"}]));
    let body = sim
        .gql(
            "{ orders(first: 250, query: \"vip\") { nodes { tags } } }",
            json!({}),
        )
        .await;
    let nodes = body["data"]["orders"]["nodes"].as_array().expect("nodes");
    assert!(
        nodes
            .iter()
            .all(|n| n["tags"].as_array().expect("tags").contains(&json!("vip")))
    );
}

#[tokio::test]
async fn counts_are_exact_up_to_the_limit() {
    let sim = Sim::start(120, |_| {}).await;
    let body = sim.gql("{ all: ordersCount { count precision } capped: ordersCount(limit: 50) { count precision } }", json!({})).await;
    assert_eq!(
        body["data"]["all"],
        json!({"count": 120, "precision": "EXACT"})
    );
    assert_eq!(
        body["data"]["capped"],
        json!({"count": 50, "precision": "AT_LEAST"})
    );
}

#[tokio::test]
async fn deprecated_fields_are_flagged_in_a_response_header() {
    let sim = Sim::start(20, |_| {}).await;
    let plain = sim.post(DEMO, "2026-10", Some(TOKEN), json!({"query": "{ customers(first: 1) { nodes { defaultEmailAddress { emailAddress } } } }"})).await;
    assert!(
        plain
            .headers
            .get("x-shopify-api-deprecated-reason")
            .is_none()
    );
    let old = sim
        .post(
            DEMO,
            "2026-10",
            Some(TOKEN),
            json!({"query": "{ customers(first: 1) { nodes { email } } }"}),
        )
        .await;
    assert!(old.headers.get("x-shopify-api-deprecated-reason").is_some());
    assert!(
        old.body["data"]["customers"]["nodes"][0]["email"]
            .as_str()
            .is_some_and(|e| e.contains('@'))
    );
}

#[tokio::test]
async fn each_version_serves_its_own_fields() {
    let sim = Sim::start(10, |_| {}).await;
    let q = json!({"query": "{ productVariants(first: 1) { nodes { inventoryItem { inventoryLevels(first: 1) { nodes { isActive } } } } } }"});
    let old = sim.post(DEMO, "2026-01", Some(TOKEN), q.clone()).await;
    assert_eq!(
        old.body["errors"][0]["extensions"]["code"],
        "undefinedField"
    );
    assert_eq!(
        old.body["errors"][0]["message"],
        "Field 'isActive' doesn't exist on type 'InventoryLevel'"
    );
    let new = sim.post(DEMO, "2026-04", Some(TOKEN), q).await;
    assert!(new.body.get("errors").is_none(), "{}", new.body);
}

/// GraphiQL's introspection query (graphql-js `getIntrospectionQuery()`, trimmed of descriptions).
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema { queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType } directives { name locations args { ...InputValue } } } }
fragment FullType on __Type { kind name
  fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

#[tokio::test]
async fn introspection_describes_the_served_schema() {
    // Default settings: the introspection query fits the 1,000-point cap.
    let sim = Sim::start(5, |_| {}).await;
    let body = sim.gql(INTROSPECTION, json!({})).await;
    assert!(body.get("errors").is_none(), "{}", body["errors"]);
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "QueryRoot");
    let types = schema["types"].as_array().expect("types");
    let order = types.iter().find(|t| t["name"] == "Order").expect("Order");
    let id = order["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "id")
        .expect("id");
    assert_eq!(
        id["type"],
        json!({"kind": "NON_NULL", "name": null, "ofType": {"kind": "SCALAR", "name": "ID", "ofType": null}})
    );
    let node = types.iter().find(|t| t["name"] == "Node").expect("Node");
    assert!(
        node["possibleTypes"]
            .as_array()
            .expect("possible")
            .iter()
            .any(|t| t["name"] == "Order")
    );
    let one = sim
        .gql(
            "{ __type(name: \"OrderSortKeys\") { kind enumValues { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(one["data"]["__type"]["kind"], "ENUM");
    assert!(
        one["data"]["__type"]["enumValues"]
            .as_array()
            .expect("values")
            .iter()
            .any(|v| v["name"] == "UPDATED_AT")
    );
}
