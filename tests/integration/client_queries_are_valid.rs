//! Every document the client sends validates against the Admin API schema the
//! simulator serves for 2026-10 — a slice that `simulator_schema_fidelity`
//! proves identical, type for type, to Shopify's own published schema — and
//! every bulk inner query also passes Shopify's bulk-query rules.

use serde_json::{Map, Value, json};
use shopsync::shopify::bulk;
use shopsync::shopify::queries::{self, OrderFields};
use shopsync::simulator::bulk::validate;
use shopsync::simulator::graphql::plan::{PlanFailure, plan_for_version};
use shopsync::simulator::schema::Schema;

fn vars(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn assert_valid(name: &str, doc: &str, variables: Value) {
    let result = plan_for_version(Schema::served(), doc, &vars(variables), None, "2026-10");
    if let Err(failure) = result {
        let detail = match failure {
            PlanFailure::Syntax(e) => format!("{e:?}"),
            PlanFailure::Invalid(errors) => format!("{errors:?}"),
        };
        panic!("{name} does not validate against the 2026-10 Admin schema: {detail}\n{doc}");
    }
}

fn assert_valid_bulk(name: &str, inner: &str) {
    assert_valid(name, inner, json!({}));
    let plan =
        plan_for_version(Schema::served(), inner, &Map::new(), None, "2026-10").expect("plans");
    if let Err(rule) = validate::check(&plan, Schema::served()) {
        panic!("{name} breaks a bulk-query rule: {rule}\n{inner}");
    }
}

fn every_order_selection() -> Vec<OrderFields> {
    let mut out = Vec::new();
    for bits in 0..32u8 {
        out.push(OrderFields {
            customer_reference: bits & 1 != 0,
            customer_personal: bits & 2 != 0,
            product_references: bits & 4 != 0,
            refunds: bits & 8 != 0,
            returns: bits & 16 != 0,
        });
    }
    out
}

#[test]
fn paged_and_metadata_queries_validate() {
    assert_valid("SHOP_AND_SCOPES", queries::SHOP_AND_SCOPES, json!({}));
    assert_valid(
        "bulk start (grouped output)",
        &bulk::start_document(),
        json!({"query": "{ orders { edges { node { id } } } }"}),
    );
    assert_valid(
        "bulk poll",
        &bulk::poll_document(),
        json!({"id": "gid://shopify/BulkOperation/1"}),
    );
    assert_valid(
        "ORDERS_COUNT",
        queries::ORDERS_COUNT,
        json!({"query": "status:any", "limit": 10001}),
    );
    for root in ["orders", "products"] {
        assert_valid(
            &format!("changed_ids({root})"),
            &queries::changed_ids(root),
            json!({"first": 1, "query": "x"}),
        );
    }
    for fields in every_order_selection() {
        assert_valid(
            &format!("orders_by_id {fields:?}"),
            &fields.orders_by_id(10),
            json!({"ids": ["gid://shopify/Order/1"]}),
        );
    }
}

#[test]
fn bulk_documents_validate_and_follow_the_bulk_rules() {
    let search = "updated_at:>='2026-11-01T00:00:00Z' AND updated_at:<'2026-11-02T00:00:00Z'";
    for fields in every_order_selection() {
        assert_valid_bulk(
            &format!("bulk_orders {fields:?}"),
            &fields.bulk_orders(search),
        );
    }
    assert_valid_bulk("bulk_products", &queries::bulk_products(search));
}
