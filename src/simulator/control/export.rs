//! Ground truth as JSONL (`GET /_sim/stores/{store}/export`): what exists,
//! regardless of scopes, for tests that compare a synced copy with the store.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::store_of;
use crate::simulator::Simulator;
use crate::simulator::data::StoreData;
use crate::simulator::data::model::*;

#[derive(Debug, Deserialize)]
pub(super) struct ExportQuery {
    pub resource: Option<String>,
}

/// Ground truth as JSONL: every order (or product) that exists, regardless of scopes.
pub(super) async fn export(
    State(sim): State<Arc<Simulator>>,
    Path(name): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let data = store.read_data();
    let mut out = String::new();
    let products = q.resource.as_deref() == Some("products");
    if products {
        for p in &data.products {
            out.push_str(&product_truth(p).to_string());
            out.push('\n');
        }
    } else {
        for o in &data.orders {
            out.push_str(&order_truth(&data, o).to_string());
            out.push('\n');
        }
    }
    let mut resp = Response::new(axum::body::Body::from(out));
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/jsonl"),
    );
    resp
}

/// The fields a sync is expected to reproduce, named as the GraphQL API names them.
pub fn order_truth(data: &StoreData, o: &OrderRec) -> Value {
    let d = data.detail(o);
    json!({
        "id": format!("gid://shopify/Order/{}", o.id),
        "name": format!("#{}", o.number()),
        "createdAt": datetime(o.created_at),
        "updatedAt": datetime(o.updated_at),
        "processedAt": datetime(o.processed_at),
        "closedAt": o.closed_at.map(datetime),
        "cancelledAt": o.cancelled_at.map(datetime),
        "displayFinancialStatus": o.financial.graphql(),
        "displayFulfillmentStatus": o.fulfillment.graphql(),
        "returnStatus": o.returns.graphql(),
        "test": o.test,
        "tags": o.tag_list(),
        "totalPrice": decimal(d.total_cents),
        "lineItems": d.lines.iter().map(|l| json!({
            "id": format!("gid://shopify/LineItem/{}", l.id),
            "sku": crate::simulator::data::detail::sku(l.product_index, l.variant_position),
            "quantity": l.quantity,
        })).collect::<Vec<_>>(),
    })
}

fn product_truth(p: &ProductRec) -> Value {
    json!({
        "id": format!("gid://shopify/Product/{}", p.id),
        "title": p.title,
        "status": p.status.graphql(),
        "updatedAt": datetime(p.updated_at),
        "variants": p.variants.iter().map(|v| json!({
            "id": format!("gid://shopify/ProductVariant/{}", v.id),
            "sku": v.sku,
            "price": decimal(v.price_cents),
        })).collect::<Vec<_>>(),
    })
}
