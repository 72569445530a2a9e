//! Turning an HTTP answer from the Admin API into data or a typed error.
//! Shopify reports most failures with HTTP 200 and an `errors` array, and the
//! `errors` member is a string, an object or an array depending on the
//! status (shopify-admin-api.md §1.4, §2.5–2.7, §8). A response with errors
//! is never read as "no data": partial data alongside errors is an error.

use std::time::Duration;

use serde_json::Value;

use super::cost::QueryCost;
use super::error::ShopifyError;

/// What the headers of a response say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseMeta {
    /// `X-Shopify-API-Version`: the version actually served.
    pub api_version: Option<String>,
    /// `X-Request-ID`, for support tickets.
    pub request_id: Option<String>,
    /// `Retry-After`, in seconds (may be fractional).
    pub retry_after: Option<Duration>,
}

impl ResponseMeta {
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> ResponseMeta {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        ResponseMeta {
            api_version: text("x-shopify-api-version"),
            request_id: text("x-request-id"),
            retry_after: text("retry-after")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64),
        }
    }
}

/// A successful GraphQL answer.
#[derive(Debug, Clone)]
pub struct GraphQlResponse {
    pub data: Value,
    pub cost: Option<QueryCost>,
    pub meta: ResponseMeta,
}

/// Classifies one HTTP answer. `cost` is returned alongside errors too, so the
/// limiter learns the bucket from throttled responses.
pub fn classify(
    store: &str,
    status: u16,
    meta: ResponseMeta,
    body: &[u8],
) -> (Result<GraphQlResponse, ShopifyError>, Option<QueryCost>) {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let cost = json.as_ref().and_then(QueryCost::from_extensions);
    let store = store.to_owned();
    let result = match status {
        200 => json
            .ok_or_else(|| ShopifyError::Decode("the body is not JSON".into()))
            .and_then(|body| graphql_result(body, cost, &meta, &store))
            .map(|data| GraphQlResponse {
                data,
                cost,
                meta: meta.clone(),
            }),
        400 => Err(ShopifyError::GraphQl(error_text(json.as_ref()))),
        401 => Err(ShopifyError::Unauthorized { store }),
        402 => Err(ShopifyError::ShopFrozen { store }),
        403 => Err(ShopifyError::Forbidden {
            store,
            detail: error_text(json.as_ref()),
        }),
        404 => Err(ShopifyError::NotFound { store }),
        423 => Err(ShopifyError::Locked { store }),
        _ => Err(ShopifyError::Server {
            status,
            request_id: meta.request_id.clone(),
            retry_after: meta.retry_after,
        }),
    };
    (result, cost)
}

fn graphql_result(
    mut body: Value,
    cost: Option<QueryCost>,
    meta: &ResponseMeta,
    store: &str,
) -> Result<Value, ShopifyError> {
    if let Some(errors) = body
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        return Err(first_error(errors, cost, meta, store));
    }
    match body.get_mut("data").map(Value::take) {
        Some(Value::Null) | None => Err(ShopifyError::Decode(
            "the response has no data and no errors".into(),
        )),
        Some(data) => Ok(data),
    }
}

/// The error that decides what happens next: throttling first (it is
/// retryable and says how long to wait), then the rest in the order given.
fn first_error(
    errors: &[Value],
    cost: Option<QueryCost>,
    meta: &ResponseMeta,
    store: &str,
) -> ShopifyError {
    let code = |e: &Value| {
        e.pointer("/extensions/code")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if errors
        .iter()
        .any(|e| code(e).as_deref() == Some("THROTTLED"))
    {
        let (requested, available, rate) = cost
            .map(|c| {
                (
                    c.requested_query_cost,
                    c.throttle_status.currently_available,
                    c.throttle_status.restore_rate,
                )
            })
            .unwrap_or((0.0, 0.0, 0.0));
        let wait = if rate > 0.0 {
            ((requested - available) / rate).max(0.0)
        } else {
            1.0
        };
        return ShopifyError::Throttled {
            requested,
            available,
            retry_after: meta.retry_after.unwrap_or(Duration::from_secs_f64(wait)),
        };
    }
    let first = &errors[0];
    let message = first
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    match code(first).as_deref() {
        Some("MAX_COST_EXCEEDED") => ShopifyError::MaxCostExceeded {
            cost: first
                .pointer("/extensions/cost")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            max: first
                .pointer("/extensions/maxCost")
                .and_then(Value::as_f64)
                .unwrap_or(1000.0),
        },
        Some("INTERNAL_SERVER_ERROR") => ShopifyError::Internal {
            request_id: first
                .pointer("/extensions/requestId")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| meta.request_id.clone()),
        },
        Some("SHOP_INACTIVE") => ShopifyError::ShopInactive {
            store: store.to_owned(),
        },
        Some("ACCESS_DENIED") => ShopifyError::AccessDenied {
            message,
            required_access: first
                .pointer("/extensions/requiredAccess")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        _ if message.contains("not approved to access")
            || message.contains("not approved to use") =>
        {
            ShopifyError::AccessDenied {
                message,
                required_access: Some("protected customer data approval".into()),
            }
        }
        _ => ShopifyError::GraphQl(
            errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}

/// Renders the `errors` member whatever its shape (string, object, array).
fn error_text(body: Option<&Value>) -> String {
    match body.and_then(|b| b.get("errors")) {
        Some(Value::String(s)) => s.clone(),
        Some(other @ (Value::Object(_) | Value::Array(_))) => other.to_string(),
        _ => "no details given".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(status: u16, body: Value) -> Result<GraphQlResponse, ShopifyError> {
        classify(
            "acme.myshopify.com",
            status,
            ResponseMeta::default(),
            body.to_string().as_bytes(),
        )
        .0
    }

    #[test]
    fn data_comes_back_with_its_cost() {
        let ok = run(200, json!({"data": {"shop": {"name": "Acme"}}, "extensions": {"cost": {"requestedQueryCost": 1, "actualQueryCost": 1, "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1999, "restoreRate": 100.0}}}})).unwrap();
        assert_eq!(ok.data["shop"]["name"], "Acme");
        assert_eq!(ok.cost.unwrap().actual_query_cost, Some(1.0));
    }

    #[test]
    fn throttled_is_retryable_and_says_how_long_to_wait() {
        let body = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 507, "actualQueryCost": null,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 493, "restoreRate": 50.0}}}});
        let (result, cost) = classify(
            "s",
            200,
            ResponseMeta::default(),
            body.to_string().as_bytes(),
        );
        assert!(
            cost.is_some(),
            "the bucket is learnt from throttled answers too"
        );
        match result.unwrap_err() {
            e @ ShopifyError::Throttled { .. } => {
                assert!(e.is_retryable());
                let ShopifyError::Throttled { retry_after, .. } = e else {
                    unreachable!()
                };
                assert_eq!(retry_after, Duration::from_millis(280));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn partial_data_with_access_denied_is_an_error_not_an_empty_result() {
        let body = json!({"errors": [{"message": "Access denied for orders field. Required access: `read_orders` access scope.",
            "path": ["orders"], "extensions": {"code": "ACCESS_DENIED", "requiredAccess": "`read_orders` access scope."}}],
            "data": {"orders": null}});
        let err = run(200, body).unwrap_err();
        assert!(matches!(err, ShopifyError::AccessDenied { .. }));
        assert!(err.needs_a_person() && !err.is_retryable());
    }

    #[test]
    fn status_codes_map_to_their_errors() {
        let body = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
        assert!(matches!(
            run(401, body),
            Err(ShopifyError::Unauthorized { .. })
        ));
        assert!(matches!(
            run(423, json!({"errors": "This shop is unavailable"})),
            Err(ShopifyError::Locked { .. })
        ));
        let e = run(503, json!({"errors": "An unexpected error occurred"})).unwrap_err();
        assert!(e.is_retryable());
        let e = run(
            400,
            json!({"errors": {"query": "Required parameter missing or invalid"}}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("Required parameter missing"));
        assert!(matches!(
            run(200, json!({"data": null})),
            Err(ShopifyError::Decode(_))
        ));
        let cost = json!({"errors": [{"message": "Query cost is 2003", "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 2003, "maxCost": 1000}}]});
        assert!(
            matches!(run(200, cost), Err(ShopifyError::MaxCostExceeded { cost, .. }) if cost == 2003.0)
        );
    }

    #[test]
    fn retry_after_header_is_read_as_fractional_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "2.5".parse().unwrap());
        headers.insert("x-shopify-api-version", "2026-01".parse().unwrap());
        let meta = ResponseMeta::from_headers(&headers);
        assert_eq!(meta.retry_after, Some(Duration::from_millis(2500)));
        assert_eq!(meta.api_version.as_deref(), Some("2026-01"));
    }
}
