//! Every field the simulator serves resolves: a query built from the served
//! schema itself selects every field of every type reachable from the roots,
//! and the answer has no resolver errors and no null where the schema says
//! the type is non-null.

use serde_json::{Value, json};
use shopsync::simulator::config::PlanPreset;
use shopsync::simulator::schema::{Schema, TypeKind, TypeRef};

use crate::support::simulator::Sim;

/// Arguments for fields that need them.
fn args_for(type_name: &str, field: &str, conn: bool) -> String {
    match (type_name, field) {
        ("InventoryLevel", "quantities") => {
            "(names: [\"available\", \"on_hand\", \"committed\"])".into()
        }
        _ if conn => "(first: 2)".into(),
        _ => String::new(),
    }
}

/// Selects every field of `type_name`, descending `depth` levels into objects.
fn selection(schema: &Schema, type_name: &str, depth: usize) -> String {
    let Some(t) = schema.get(type_name) else {
        return String::new();
    };
    let mut parts = vec!["__typename".to_string()];
    for f in &t.fields {
        if f.args
            .iter()
            .any(|a| a.ty.is_non_null() && a.default.is_none())
            && f.name != "quantities"
        {
            continue;
        }
        let base = f.ty.base();
        let kind = schema.get(base).map(|b| b.kind.clone());
        match kind {
            Some(TypeKind::Scalar | TypeKind::Enum) => parts.push(f.name.clone()),
            _ if depth == 0 => {}
            _ if schema.is_connection(base) => {
                let node = base.trim_end_matches("Connection");
                let inner = selection(schema, node, depth - 1);
                parts.push(format!(
                    "{}{} {{ edges {{ cursor node {{ {inner} }} }} nodes {{ id }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }}",
                    f.name,
                    args_for(type_name, &f.name, true)
                ));
            }
            _ => parts.push(format!(
                "{}{} {{ {} }}",
                f.name,
                args_for(type_name, &f.name, false),
                selection(schema, base, depth - 1)
            )),
        }
    }
    parts.join(" ")
}

/// Walks an answer against the schema; collects `path: problem` for non-null violations.
fn check(schema: &Schema, ty: &TypeRef, v: &Value, path: &str, out: &mut Vec<String>) {
    match ty {
        TypeRef::NonNull(inner) => {
            if v.is_null() {
                out.push(format!("{path}: null for {ty}"));
            } else {
                check(schema, inner, v, path, out);
            }
        }
        TypeRef::List(inner) => {
            for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                check(schema, inner, item, &format!("{path}[{i}]"), out);
            }
        }
        TypeRef::Named(name) => {
            let (Some(t), Some(obj)) = (schema.get(name), v.as_object()) else {
                return;
            };
            let concrete = obj
                .get("__typename")
                .and_then(Value::as_str)
                .and_then(|n| schema.get(n))
                .unwrap_or(t);
            for (key, value) in obj {
                if let Some(f) = concrete.field(key) {
                    check(schema, &f.ty, value, &format!("{path}.{key}"), out);
                }
            }
        }
    }
}

#[tokio::test]
async fn every_served_field_resolves_with_the_declared_nullability() {
    let sim = Sim::start(120, |c| {
        c.max_cost = u64::MAX;
        c.stores[0].plan = PlanPreset::Custom {
            maximum: 1e12,
            restore_rate: 1e12,
        };
    })
    .await;
    let schema = Schema::served();
    let refunded = sim
        .gql(
            "{ orders(first: 1, query: \"financial_status:refunded\") { nodes { id } } }",
            json!({}),
        )
        .await;
    let order_id = refunded["data"]["orders"]["nodes"][0]["id"]
        .as_str()
        .expect("a refunded order")
        .to_string();
    let queries = [
        format!(
            "{{ shop {{ {} }} currentAppInstallation {{ {} }} }}",
            selection(schema, "Shop", 2),
            selection(schema, "AppInstallation", 2)
        ),
        format!(
            "{{ orders(first: 3, reverse: true) {{ nodes {{ {} }} }} }}",
            selection(schema, "Order", 3)
        ),
        format!(
            "query($id: ID!) {{ order(id: $id) {{ {} }} }}",
            selection(schema, "Order", 3)
        ),
        format!(
            "{{ products(first: 3) {{ nodes {{ {} }} }} }}",
            selection(schema, "Product", 4)
        ),
        format!(
            "{{ customers(first: 3) {{ nodes {{ {} }} }} }}",
            selection(schema, "Customer", 2)
        ),
        format!(
            "{{ productVariants(first: 3) {{ nodes {{ {} }} }} }}",
            selection(schema, "ProductVariant", 3)
        ),
        "{ ordersCount { count precision } location { id name } }".to_string(),
    ];
    assert!(
        queries[1].contains("lineItems(first: 2)")
            && queries[1].contains("refundLineItems(first: 2)")
    );
    assert!(
        queries[3].contains("inventoryLevels(first: 2)")
            && queries[3].contains("quantities(names:")
    );
    for query in &queries {
        let body = sim.gql(query, json!({"id": order_id})).await;
        let text = body.to_string();
        assert!(text.len() > 300, "{text}");
        assert!(
            body.get("errors").is_none(),
            "{query}\n=> {}",
            body["errors"]
        );
        let mut problems = Vec::new();
        let root = schema.get("QueryRoot").expect("root");
        for (key, value) in body["data"].as_object().expect("data") {
            let f = root.field(key).expect("root field");
            check(schema, &f.ty, value, key, &mut problems);
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
    let body = sim.gql(&queries[2], json!({"id": order_id})).await;
    let order = &body["data"]["order"];
    assert!(
        !order["refunds"][0]["refundLineItems"]["edges"][0]["node"]["lineItem"]["sku"].is_null(),
        "{order}"
    );
}
