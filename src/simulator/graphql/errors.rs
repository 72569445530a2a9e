//! GraphQL error entries in Shopify's shapes (reference §1.4, §2.5, §2.6, §6, §8).

use serde_json::{Map, Value, json};

/// A source position in the query document (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl From<graphql_parser::Pos> for Pos {
    fn from(p: graphql_parser::Pos) -> Pos {
        Pos {
            line: p.line,
            column: p.column,
        }
    }
}

/// One entry of the response's `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub struct GqlError {
    pub message: String,
    pub locations: Vec<Pos>,
    pub path: Vec<Value>,
    pub extensions: Map<String, Value>,
}

impl GqlError {
    pub fn new(message: impl Into<String>, code: &str) -> GqlError {
        let mut extensions = Map::new();
        extensions.insert("code".into(), Value::String(code.into()));
        GqlError {
            message: message.into(),
            locations: vec![],
            path: vec![],
            extensions,
        }
    }

    pub fn at(mut self, pos: Pos) -> GqlError {
        self.locations.push(pos);
        self
    }

    pub fn with_path(mut self, path: &[Value]) -> GqlError {
        self.path = path.to_vec();
        self
    }

    pub fn ext(mut self, key: &str, value: Value) -> GqlError {
        self.extensions.insert(key.into(), value);
        self
    }

    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(Value::as_str)
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("message".into(), Value::String(self.message.clone()));
        if !self.locations.is_empty() {
            m.insert(
                "locations".into(),
                Value::Array(
                    self.locations
                        .iter()
                        .map(|p| json!({"line": p.line, "column": p.column}))
                        .collect(),
                ),
            );
        }
        if !self.path.is_empty() {
            m.insert("path".into(), Value::Array(self.path.clone()));
        }
        m.insert("extensions".into(), Value::Object(self.extensions.clone()));
        Value::Object(m)
    }
}

/// §2.5: the query was not run because the bucket lacks its requested cost.
pub fn throttled() -> GqlError {
    GqlError::new("Throttled", "THROTTLED").ext(
        "documentation",
        json!("https://shopify.dev/api/usage/rate-limits"),
    )
}

/// §2.6: the requested cost is above the single-query cap.
pub fn max_cost_exceeded(cost: u64, max: u64) -> GqlError {
    GqlError::new(
        format!(
            "Query cost is {cost}, which exceeds the single query max cost limit ({max}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
        ),
        "MAX_COST_EXCEEDED",
    )
    .ext("cost", json!(cost))
    .ext("maxCost", json!(max))
    .ext("documentation", json!("https://shopify.dev/api/usage/limits#rate-limits"))
}

/// §6: a field whose scope is not granted.
pub fn access_denied(field: &str, required: &str) -> GqlError {
    GqlError::new(
        format!("Access denied for {field} field. Required access: {required}"),
        "ACCESS_DENIED",
    )
    .ext(
        "documentation",
        json!("https://shopify.dev/api/usage/access-scopes"),
    )
    .ext("requiredAccess", json!(required))
}

/// §7: a protected customer field the app is not approved for.
pub fn not_approved(type_name: &str) -> GqlError {
    GqlError::new(
        format!(
            "This app is not approved to access the {type_name} object. See https://partners.shopify.com/1/apps/1/customer_data for more details."
        ),
        "ACCESS_DENIED",
    )
}

pub fn undefined_field(type_name: &str, field: &str) -> GqlError {
    GqlError::new(
        format!("Field '{field}' doesn't exist on type '{type_name}'"),
        "undefinedField",
    )
    .ext("typeName", json!(type_name))
    .ext("fieldName", json!(field))
}

pub fn bad_request(message: impl Into<String>) -> GqlError {
    GqlError::new(message, "BAD_REQUEST")
}

pub fn internal(request_id: &str) -> GqlError {
    GqlError::new(
        format!("Internal error. Looks like something went wrong on our end.\nRequest ID: {request_id} (include this in support requests)."),
        "INTERNAL_SERVER_ERROR",
    )
    .ext("requestId", json!(request_id))
}
