//! HTTP in, verb out: every request goes through one handler that counts and
//! records it, applies the unavailability fault, resolves the path against
//! the kinds served right now, and dispatches on method and query.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::errors::ApiError;
use super::params::Query;
use super::target::{DiscoveryPath, Route, Target, route};
use super::{RecordedRequest, Shared, discovery, reads, table, watch, writes};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(serve).with_state(shared)
}

async fn serve(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let request = Request {
        method,
        query: Query::parse(uri.query()),
        content_type: header(header::CONTENT_TYPE),
        accept: header(header::ACCEPT),
        user_agent: header(header::USER_AGENT),
        body,
    };
    shared.record(RecordedRequest {
        method: request.method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        content_type: request.content_type.clone(),
    });
    if shared.is_unavailable() {
        return ApiError::unavailable().into_response();
    }
    let found = route(&shared.lock().registry, uri.path());
    let answer = match found {
        Route::NotFound => Err(ApiError::no_route()),
        Route::Discovery(DiscoveryPath::Health) => {
            return (StatusCode::OK, "ok").into_response();
        }
        Route::Discovery(path) if request.method == Method::GET => {
            discovery::answer(&shared.lock().registry, &path, &shared.addr.to_string())
                .map(|v| json(StatusCode::OK, &v))
        }
        Route::Discovery(_) => Err(ApiError::method_not_allowed(request.method.as_str())),
        Route::Resource(target) => resource(&shared, target, &request),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

struct Request {
    method: Method,
    query: Query,
    content_type: String,
    accept: String,
    user_agent: String,
    body: Bytes,
}

impl Request {
    /// `fieldManager`, else what the API server derives from the User-Agent.
    fn manager(&self) -> String {
        self.query
            .get("fieldManager")
            .map(str::to_owned)
            .or_else(|| {
                self.user_agent
                    .split('/')
                    .next()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "unknown".into())
    }
}

fn resource(shared: &Arc<Shared>, t: Target, r: &Request) -> Result<Response, ApiError> {
    let q = &r.query;
    let named = t.name.is_some();
    if r.method == Method::GET && q.flag("watch") {
        let body = watch::start(shared, t, q, table::wanted(&r.accept))?;
        return Ok(stream(body));
    }
    let mut state = shared.lock();
    let state = &mut *state;
    match (r.method.clone(), named) {
        (Method::GET, true) => {
            let obj = reads::get(state, &t)?;
            if table::wanted(&r.accept) {
                let meta =
                    serde_json::json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
                return Ok(as_table(&t, &[obj], q, meta));
            }
            Ok(json(StatusCode::OK, &obj))
        }
        (Method::GET, false) => {
            let listed = reads::list(state, &t, q)?;
            if table::wanted(&r.accept) {
                let list = listed.to_json(&t);
                return Ok(as_table(&t, &listed.items, q, list["metadata"].clone()));
            }
            Ok(json(StatusCode::OK, &listed.to_json(&t)))
        }
        (Method::POST, false) => writes::create(state, &t, q, r.manager(), &r.body)
            .map(|v| json(StatusCode::CREATED, &v)),
        (Method::PUT, true) => {
            writes::replace(state, &t, q, r.manager(), &r.body).map(|v| json(StatusCode::OK, &v))
        }
        (Method::PATCH, true) => writes::patch(state, &t, q, r.manager(), &r.content_type, &r.body)
            .map(|p| {
                let code = if p.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                json(code, &p.object)
            }),
        (Method::DELETE, true) => {
            writes::delete(state, &t, q, &r.body).map(|v| json(StatusCode::OK, &v))
        }
        (Method::DELETE, false) => {
            writes::delete_collection(state, &t, q).map(|v| json(StatusCode::OK, &v))
        }
        (method, _) => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

fn as_table(t: &Target, items: &[Value], q: &Query, meta: Value) -> Response {
    let v = table::render(
        &t.kind,
        items,
        q.get("includeObject"),
        meta,
        jiff::Timestamp::now(),
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, table::CONTENT_TYPE)],
        v.to_string(),
    )
        .into_response()
}

fn json(code: StatusCode, v: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn stream(body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
