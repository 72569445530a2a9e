//! HTTP routes (checklist §9.1, §9.2): `POST /admin/api/{version}/graphql.json`
//! per store by `Host`, the token check with Shopify's 401 body, version
//! fall-forward in `X-Shopify-API-Version`, a request id on every answer,
//! the REST access-scopes endpoint, the bulk download path and `/_sim/`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::data::rng::Rng;
use super::stats::add;
use super::{SimStore, Simulator, bulk, control, request};

pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/admin/api/{version}/graphql.json", post(graphql))
        .route("/admin/api/graphql.json", post(graphql_unversioned))
        .route("/admin/oauth/access_scopes.json", get(access_scopes))
        .route("/_bulk/{store}/{file}", get(bulk::download::download))
        .merge(control::router())
        .with_state(sim)
}

pub fn json_response(
    status: u16,
    body: &impl serde::Serialize,
    headers: &[(&'static str, String)],
) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string());
    json_text_response(status, text, headers)
}

/// A response whose JSON is already serialised.
pub fn json_text_response(
    status: u16,
    text: String,
    headers: &[(&'static str, String)],
) -> Response {
    let mut resp = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), text).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(*name, v);
        }
    }
    resp
}

/// The store named by the `Host` header and an authenticated token, or the error answer.
fn authenticate<'s>(
    sim: &'s Simulator,
    headers: &HeaderMap,
) -> Result<&'s Arc<SimStore>, Box<Response>> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let Some(store) = sim.store(host) else {
        return Err(Box::new(json_response(
            404,
            &json!({"errors": "Not Found"}),
            &[],
        )));
    };
    add(&store.stats.requests, 1);
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|t| t.to_str().ok());
    if !token.is_some_and(|t| store.grants().tokens.iter().any(|k| k == t)) {
        add(&store.stats.unauthorized, 1);
        let body = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
        return Err(Box::new(json_response(401, &body, &[])));
    }
    Ok(store)
}

async fn graphql_unversioned(
    State(sim): State<Arc<Simulator>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_graphql(sim, String::new(), headers, body).await
}

async fn graphql(
    State(sim): State<Arc<Simulator>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_graphql(sim, version, headers, body).await
}

async fn serve_graphql(
    sim: Arc<Simulator>,
    version: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let store = match authenticate(&sim, &headers) {
        Ok(s) => Arc::clone(s),
        Err(resp) => return with_request_id(*resp, &request_id),
    };
    let version = sim.version_for(&version);
    let mut extra = vec![
        ("x-shopify-api-version", version.served.clone()),
        ("x-request-id", request_id.clone()),
    ];
    let faults = store.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    let roll = fault_roll(&store);
    if roll < faults.reset_rate {
        add(&store.stats.injected_faults, 1);
        return reset_connection();
    }
    if roll < faults.reset_rate + faults.error_rate {
        add(&store.stats.injected_faults, 1);
        let status = if faults.error_status == 0 {
            500
        } else {
            faults.error_status
        };
        let message = match status {
            402 => "This shop's plan does not have access to this feature",
            423 => "This shop is unavailable",
            _ => "An unexpected error occurred",
        };
        if status == 503 {
            extra.push(("retry-after", faults.retry_after()));
        }
        return json_response(status, &json!({"errors": message}), &extra);
    }
    if roll < faults.reset_rate + faults.error_rate + faults.internal_error_rate {
        add(&store.stats.injected_faults, 1);
        let body =
            json!({"errors": [crate::simulator::graphql::errors::internal(&request_id).to_json()]});
        return json_response(200, &body, &extra);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return json_response(
            400,
            &json!({"errors": {"query": "Required parameter missing or invalid"}}),
            &extra,
        );
    }
    // `Shopify-GraphQL-Cost-Debug: 1` (older docs: `X-GraphQL-Cost-Include-Fields: true`) adds a per-field breakdown.
    let cost_debug = headers
        .get("shopify-graphql-cost-debug")
        .is_some_and(|v| v == "1")
        || headers
            .get("x-graphql-cost-include-fields")
            .is_some_and(|v| v == "true");
    let answer = request::execute(&sim, &store, cost_debug, &version, &body);
    if answer.deprecated {
        // The value Shopify sends points at its deprecation practices [inferred].
        let reason = "https://shopify.dev/api/usage/versioning#deprecation-practices";
        extra.push(("x-shopify-api-deprecated-reason", reason.to_string()));
    }
    json_text_response(answer.status, answer.body, &extra)
}

fn with_request_id(mut resp: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// A uniform number in [0, 1) per request, for fault rates.
fn fault_roll(store: &SimStore) -> f64 {
    let n = store
        .stats
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    Rng::derive(store.config.data.seed ^ 0xFA17, n).unit()
}

/// Ends the response abruptly: the body fails before any byte is written, so
/// the client sees the connection close mid-message.
pub fn reset_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected reset"))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("100"));
    resp
}

/// `GET /admin/oauth/access_scopes.json` (no version, reference §6).
async fn access_scopes(State(sim): State<Arc<Simulator>>, headers: HeaderMap) -> Response {
    let store = match authenticate(&sim, &headers) {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    let scopes: Vec<Value> = store
        .grants()
        .scopes
        .iter()
        .map(|s| json!({"handle": s}))
        .collect();
    json_response(200, &json!({"access_scopes": scopes}), &[])
}
