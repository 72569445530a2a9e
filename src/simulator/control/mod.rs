//! The local control API under `/_sim/` (issue 3, item 8): change a store's
//! orders and products, churn random updates, export the ground truth as
//! JSONL, inject faults, move the clock, and read per-store counters.
//! It needs no token: it is the test's hand on the simulator, not Shopify's API.

mod churn;
mod export;
mod grants;

pub use churn::spawn_churn;
pub use export::order_truth;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::simulator::data::model::*;
use crate::simulator::data::rng::Rng;
use crate::simulator::faults::Faults;
use crate::simulator::resolve::parse_gid;
use crate::simulator::server::json_response;
use crate::simulator::{SimStore, Simulator};

pub fn router() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/_sim/stats", get(stats))
        .route("/_sim/clock", post(clock))
        .route("/_sim/stores/{store}/orders", post(create_order))
        .route(
            "/_sim/stores/{store}/orders/{id}",
            axum::routing::patch(update_order).delete(delete_order),
        )
        .route(
            "/_sim/stores/{store}/orders/{id}/cancel",
            post(cancel_order),
        )
        .route("/_sim/stores/{store}/orders/{id}/close", post(close_order))
        .route("/_sim/stores/{store}/products", post(create_product))
        .route(
            "/_sim/stores/{store}/products/{id}",
            axum::routing::patch(update_product).delete(delete_product),
        )
        .route("/_sim/stores/{store}/churn", put(churn::set_churn))
        .route(
            "/_sim/stores/{store}/grants",
            put(grants::set_grants).get(grants::get_grants),
        )
        .route(
            "/_sim/stores/{store}/faults",
            put(set_faults).get(get_faults),
        )
        .route("/_sim/stores/{store}/export", get(export::export))
}

pub(super) fn not_found(what: &str) -> Response {
    json_response(404, &json!({"error": format!("{what} not found")}), &[])
}

/// The answer to a DELETE: the id, or 404 naming what was not found.
fn deletion(deleted: bool, what: &str, id: &str) -> Response {
    if deleted {
        ok(json!({"deleted": id}))
    } else {
        not_found(what)
    }
}

pub(super) fn ok(body: Value) -> Response {
    json_response(200, &body, &[])
}

pub(super) fn store_of(sim: &Simulator, name: &str) -> Result<Arc<SimStore>, Box<Response>> {
    sim.store(name)
        .cloned()
        .ok_or_else(|| Box::new(not_found(&format!("store {name}"))))
}

/// Accepts `123` or `gid://shopify/Order/123`.
fn numeric_id(raw: &str) -> Option<u64> {
    raw.parse().ok().or_else(|| parse_gid(raw).map(|(_, n)| n))
}

async fn stats(State(sim): State<Arc<Simulator>>) -> Response {
    let now_ms = sim.clock.now_ms();
    let mut stores = serde_json::Map::new();
    let mut names: Vec<&String> = sim.stores.keys().collect();
    names.sort();
    for name in names {
        let s = &sim.stores[name];
        let mut v = s.stats.to_json();
        if let Value::Object(m) = &mut v {
            m.insert("throttleStatus".into(), s.bucket().status(now_ms));
            m.insert("lowestAvailable".into(), json!(s.bucket().lowest().floor()));
            m.insert("orders".into(), json!(s.read_data().orders.len()));
            m.insert("bulkOperations".into(), json!(s.bulk_registry().ops.len()));
        }
        stores.insert(name.clone(), v);
    }
    ok(
        json!({"clock": {"now": datetime(sim.clock.now_s()), "speed": sim.clock.speed()}, "stores": stores}),
    )
}

#[derive(Debug, Deserialize)]
struct ClockChange {
    speed: Option<f64>,
    advance_seconds: Option<f64>,
}

async fn clock(
    State(sim): State<Arc<Simulator>>,
    axum::Json(c): axum::Json<ClockChange>,
) -> Response {
    if let Some(s) = c.speed {
        sim.clock.set_speed(s);
    }
    if let Some(a) = c.advance_seconds {
        sim.clock.advance_ms(a * 1000.0);
    }
    ok(json!({"now": datetime(sim.clock.now_s()), "speed": sim.clock.speed()}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OrderChange {
    customer_id: Option<String>,
    note: Option<String>,
    tags: Option<Vec<String>>,
    financial_status: Option<String>,
    fulfillment_status: Option<String>,
    reason: Option<String>,
}

async fn create_order(
    State(sim): State<Arc<Simulator>>,
    Path(name): Path<String>,
    body: Option<axum::Json<OrderChange>>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let change = body.map(|b| b.0).unwrap_or_default();
    let now = sim.clock.now_s();
    let customer = change
        .customer_id
        .as_deref()
        .and_then(numeric_id)
        .and_then(|c| c.checked_sub(CUSTOMER_BASE));
    let mut data = store.write_data();
    let seed = Rng::derive(
        store.config.data.seed,
        0xC4EA_7E00 + data.orders.len() as u64,
    )
    .next_u64();
    let id = data.create_order(now, customer.map(|c| c as u32), seed);
    ok(json!({"id": format!("gid://shopify/Order/{id}")}))
}

/// Applies an order change; `None` when the order does not exist.
fn change_order(
    sim: &Simulator,
    store: &SimStore,
    raw: &str,
    f: impl FnOnce(&mut OrderRec),
) -> Option<Value> {
    let id = numeric_id(raw)?;
    let now = sim.clock.now_s();
    let mut data = store.write_data();
    if !data.update_order(id, now, f) {
        return None;
    }
    data.order(id).map(
        |o| json!({"id": format!("gid://shopify/Order/{id}"), "updatedAt": datetime(o.updated_at)}),
    )
}

async fn update_order(
    State(sim): State<Arc<Simulator>>,
    Path((name, id)): Path<(String, String)>,
    axum::Json(change): axum::Json<OrderChange>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = change_order(&sim, &store, &id, |o| {
        if let Some(n) = change.note {
            o.note = Some(n.into_boxed_str());
        }
        if let Some(tags) = change.tags {
            o.tags = TAG_VOCABULARY
                .iter()
                .enumerate()
                .filter(|(_, t)| tags.iter().any(|x| x == *t))
                .fold(0, |acc, (i, _)| acc | (1 << i));
        }
        if let Some(s) = change
            .financial_status
            .as_deref()
            .and_then(FinancialStatus::from_graphql)
        {
            o.financial = s;
        }
        if let Some(s) = change
            .fulfillment_status
            .as_deref()
            .and_then(FulfillmentState::from_graphql)
        {
            o.fulfillment = s;
        }
    });
    result.map_or_else(|| not_found("order"), ok)
}

async fn cancel_order(
    State(sim): State<Arc<Simulator>>,
    Path((name, id)): Path<(String, String)>,
    body: Option<axum::Json<OrderChange>>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let now = sim.clock.now_s();
    let reason = body
        .and_then(|b| b.0.reason)
        .and_then(|r| CancelReason::from_graphql(&r))
        .unwrap_or(CancelReason::Customer);
    let result = change_order(&sim, &store, &id, |o| {
        o.cancelled_at = Some(now);
        o.closed_at = Some(now);
        o.cancel_reason = Some(reason);
        o.financial = match o.financial {
            FinancialStatus::Pending | FinancialStatus::Authorized => FinancialStatus::Voided,
            _ => FinancialStatus::Refunded,
        };
    });
    result.map_or_else(|| not_found("order"), ok)
}

async fn close_order(
    State(sim): State<Arc<Simulator>>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let now = sim.clock.now_s();
    change_order(&sim, &store, &id, |o| o.closed_at = Some(now))
        .map_or_else(|| not_found("order"), ok)
}

async fn delete_order(
    State(sim): State<Arc<Simulator>>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let deleted = numeric_id(&id).is_some_and(|n| store.write_data().delete_order(n));
    deletion(deleted, "order", &id)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProductChange {
    title: Option<String>,
    price: Option<String>,
    status: Option<String>,
}

fn cents(price: &str) -> Option<i64> {
    let (units, frac) = price.split_once('.').unwrap_or((price, "0"));
    let frac = format!("{frac:0<2}");
    Some(units.parse::<i64>().ok()? * 100 + frac.get(..2)?.parse::<i64>().ok()?)
}

async fn create_product(
    State(sim): State<Arc<Simulator>>,
    Path(name): Path<String>,
    axum::Json(p): axum::Json<ProductChange>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let title = p.title.unwrap_or_else(|| "New Product".into());
    let price = p.price.as_deref().and_then(cents).unwrap_or(1000);
    let id = store
        .write_data()
        .create_product(sim.clock.now_s(), &title, price);
    ok(json!({"id": format!("gid://shopify/Product/{id}")}))
}

async fn update_product(
    State(sim): State<Arc<Simulator>>,
    Path((name, id)): Path<(String, String)>,
    axum::Json(p): axum::Json<ProductChange>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let Some(n) = numeric_id(&id) else {
        return not_found("product");
    };
    let done = store
        .write_data()
        .update_product(n, sim.clock.now_s(), |prod| {
            if let Some(t) = p.title {
                prod.title = t;
            }
            if let Some(s) = p.status.as_deref().and_then(ProductStatus::from_graphql) {
                prod.status = s;
            }
            if let Some(c) = p.price.as_deref().and_then(cents) {
                for v in &mut prod.variants {
                    v.price_cents = c;
                }
            }
        });
    if done {
        ok(json!({"id": format!("gid://shopify/Product/{n}")}))
    } else {
        not_found("product")
    }
}

async fn delete_product(
    State(sim): State<Arc<Simulator>>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let deleted = numeric_id(&id).is_some_and(|n| store.write_data().delete_product(n));
    deletion(deleted, "product", &id)
}

async fn set_faults(
    State(sim): State<Arc<Simulator>>,
    Path(name): Path<String>,
    axum::Json(f): axum::Json<Faults>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    store.set_faults(f.clone());
    ok(serde_json::to_value(f).unwrap_or(Value::Null))
}

async fn get_faults(State(sim): State<Arc<Simulator>>, Path(name): Path<String>) -> Response {
    match store_of(&sim, &name) {
        Ok(s) => ok(serde_json::to_value(s.faults()).unwrap_or(Value::Null)),
        Err(r) => *r,
    }
}
