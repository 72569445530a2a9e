//! Scopes and protected customer data (§5, §6, §7): ACCESS_DENIED naming the
//! scope with partial data, the 60-day window without read_all_orders, and
//! protected fields redacted unless approved.

use serde_json::{Value, json};
use shopsync::simulator::config::ProtectedAccess;

use crate::support::simulator::{HISTORY_END, Sim};

#[tokio::test]
async fn missing_scopes_deny_the_field_and_keep_the_siblings() {
    let sim = Sim::start(50, |c| {
        c.stores[0].scopes = ["read_products"].iter().map(|s| s.to_string()).collect();
    })
    .await;
    let body = sim.gql("{ shop { name } orders(first: 1) { nodes { id } } products(first: 1) { nodes { id } } }", json!({})).await;
    assert_eq!(body["data"]["shop"]["name"], "Demo");
    assert_eq!(body["data"]["orders"], Value::Null);
    assert!(body["data"]["products"]["nodes"][0]["id"].is_string());
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "ACCESS_DENIED");
    assert_eq!(e["path"], json!(["orders"]));
    assert!(e["message"].as_str().expect("message").starts_with(
        "Access denied for orders field. Required access: `read_orders` access scope"
    ));
    assert_eq!(
        e["extensions"]["documentation"],
        "https://shopify.dev/api/usage/access-scopes"
    );
}

#[tokio::test]
async fn without_read_all_orders_only_sixty_days_of_orders_exist() {
    let sim = Sim::start(400, |c| {
        c.stores[0].scopes = ["read_orders", "read_customers"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        c.clock_speed = 0.0;
    })
    .await;
    // The simulated clock runs at wall time; move it to the end of the generated history.
    let now = jiff::Timestamp::now().as_second();
    let back = HISTORY_END - now;
    assert!(back < 0, "history ends in the past");
    let truth = sim.ground_truth().await;
    let cutoff = jiff::Timestamp::from_second(now - 60 * 86_400)
        .expect("ts")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let recent = truth
        .iter()
        .filter(|o| o["createdAt"].as_str().expect("ts") >= cutoff.as_str())
        .count();
    let body = sim
        .gql("{ ordersCount(limit: null) { count } }", json!({}))
        .await;
    assert_eq!(body["data"]["ordersCount"]["count"], recent as u64);
    assert!(recent < truth.len());
    let oldest = truth[0]["id"].as_str().expect("id");
    let body = sim
        .gql(
            "query($id: ID!) { order(id: $id) { id } }",
            json!({"id": oldest}),
        )
        .await;
    assert_eq!(
        body["data"]["order"],
        Value::Null,
        "a two-year-old order is invisible"
    );
}

#[tokio::test]
async fn protected_customer_fields_are_redacted_unless_approved() {
    let q = "{ orders(first: 5, sortKey: ID, query: \"customer_id:>0\") { nodes { id email customer { id firstName displayName defaultEmailAddress { emailAddress } } shippingAddress { city address1 } } } }";
    let approved = Sim::start(60, |_| {}).await;
    let body = approved.gql(q, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(
        body["data"]["orders"]["nodes"][0]["email"]
            .as_str()
            .expect("email")
            .contains('@')
    );

    let redacted = Sim::start(60, |c| c.stores[0].protected = ProtectedAccess::NONE).await;
    let body = redacted.gql(q, json!({})).await;
    let first = &body["data"]["orders"]["nodes"][0];
    assert!(first["id"].is_string());
    assert_eq!(first["email"], Value::Null);
    assert_eq!(first["customer"]["firstName"], Value::Null);
    assert!(first["customer"]["id"].is_string());
    assert_eq!(first["shippingAddress"]["address1"], Value::Null);
    assert!(
        first["shippingAddress"]["city"].is_string(),
        "city is not protected"
    );
    let errors = body["errors"].as_array().expect("errors");
    assert!(errors.iter().any(|e| {
        e["path"] == json!(["orders", "nodes", 0, "email"])
            && e["message"]
                .as_str()
                .expect("m")
                .starts_with("This app is not approved to access the Order object")
    }));
}

#[tokio::test]
async fn a_bulk_job_without_the_scope_fails_with_access_denied() {
    let sim = Sim::start(20, |c| {
        c.stores[0].scopes = ["read_products"].iter().map(|s| s.to_string()).collect();
    })
    .await;
    let body = sim
        .gql(
            "mutation { bulkOperationRunQuery(query: \"{ orders { edges { node { id } } } }\") { bulkOperation { id } } }",
            json!({}),
        )
        .await;
    let id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    for _ in 0..200 {
        let op = sim
            .gql(
                "query($id: ID!) { bulkOperation(id: $id) { status errorCode url } }",
                json!({"id": id}),
            )
            .await;
        let op = &op["data"]["bulkOperation"];
        if op["status"] == "FAILED" {
            assert_eq!(op["errorCode"], "ACCESS_DENIED");
            assert_eq!(op["url"], Value::Null);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the job never failed");
}
