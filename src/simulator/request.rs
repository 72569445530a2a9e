//! One GraphQL request against one store, after authentication: plan, price,
//! admit through the bucket, execute, refund, and wrap in Shopify's envelope
//! with `extensions.cost` on every response (reference §1.1, §2).

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::graphql::errors::{self, GqlError};
use super::graphql::execute::Executor;
use super::graphql::output::Out;
use super::graphql::plan::{self, PlanFailure, PlanField};
use super::resolve::{Ctx, Obj};
use super::schema::Schema;
use super::stats::add;
use super::{ApiVersion, SimStore, Simulator, cost};

#[derive(Debug, Deserialize)]
pub struct GraphqlBody {
    pub query: Option<String>,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
}

/// HTTP status and JSON body.
pub struct Answer {
    pub status: u16,
    /// The JSON text of the answer.
    pub body: String,
    /// The query selected a deprecated field (`X-Shopify-API-Deprecated-Reason`, §1.1).
    pub deprecated: bool,
}

/// Whether any planned field is deprecated on the type it is selected from.
fn touches_deprecated(schema: &Schema, owner: &str, fields: &[PlanField]) -> bool {
    fields.iter().any(|f| {
        let on = f.condition.as_deref().unwrap_or(owner);
        match schema.field_def(on, &f.name) {
            Some(def) => {
                def.deprecated.is_some() || touches_deprecated(schema, def.ty.base(), &f.children)
            }
            None => false,
        }
    })
}

fn envelope(data: Option<Out<'_>>, errors: &[GqlError], cost: Value) -> String {
    let mut m = Vec::with_capacity(3);
    if !errors.is_empty() {
        let list = errors.iter().map(GqlError::to_json).collect();
        m.push((Cow::Borrowed("errors"), Out::Value(Value::Array(list))));
    }
    if let Some(d) = data {
        m.push((Cow::Borrowed("data"), d));
    }
    m.push((
        Cow::Borrowed("extensions"),
        Out::Value(json!({ "cost": cost })),
    ));
    to_text(&Out::Object(m))
}

fn to_text(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

fn cost_block(store: &SimStore, now_ms: f64, requested: u64, actual: Option<u64>) -> Value {
    json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": store.bucket().status(now_ms),
    })
}

/// Executes a request body for `store`; `cost_debug` adds the per-field cost breakdown.
pub fn execute(
    sim: &Arc<Simulator>,
    store: &Arc<SimStore>,
    cost_debug: bool,
    version: &ApiVersion,
    body: &[u8],
) -> Answer {
    let parsed: Result<GraphqlBody, _> = serde_json::from_slice(body);
    let Some(req) = parsed
        .ok()
        .filter(|b| b.query.as_deref().is_some_and(|q| !q.trim().is_empty()))
    else {
        return Answer {
            status: 400,
            body: json!({"errors": {"query": "Required parameter missing or invalid"}}).to_string(),
            deprecated: false,
        };
    };
    let query = req.query.unwrap_or_default();
    let variables = match req.variables {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let schema = Schema::served();
    let now_ms = sim.clock.now_ms();
    let planned = match plan::plan_for_version(
        schema,
        &query,
        &variables,
        req.operation_name.as_deref(),
        &version.served,
    ) {
        Ok(p) => p,
        Err(PlanFailure::Syntax(e)) => {
            add(&store.stats.invalid_queries, 1);
            return Answer {
                status: 400,
                body: json!({"errors": [e.to_json()]}).to_string(),
                deprecated: false,
            };
        }
        Err(PlanFailure::Invalid(errs)) => {
            add(&store.stats.invalid_queries, 1);
            return Answer {
                status: 200,
                body: envelope(None, &errs, cost_block(store, now_ms, 0, None)),
                deprecated: false,
            };
        }
    };
    store.stats.record_operation(planned.name.as_deref());
    let requested = cost::requested(&planned, schema);
    add(&store.stats.cost_requested, requested);
    if requested > sim.config.max_cost {
        add(&store.stats.max_cost_exceeded, 1);
        let errs = [errors::max_cost_exceeded(requested, sim.config.max_cost)];
        return Answer {
            status: 200,
            body: envelope(None, &errs, cost_block(store, now_ms, requested, None)),
            deprecated: false,
        };
    }
    let admitted = if store.take_throttle_storm() {
        store.bucket().drain(now_ms);
        false
    } else {
        store.bucket().try_take(requested as f64, now_ms)
    };
    if !admitted {
        add(&store.stats.throttled, 1);
        let errs = [errors::throttled()];
        return Answer {
            status: 200,
            body: envelope(None, &errs, cost_block(store, now_ms, requested, None)),
            deprecated: false,
        };
    }
    let (data, errs, actual) = {
        let data = store.read_data();
        let grants = store.grants();
        let ctx = Ctx {
            sim,
            store,
            data: &data,
            grants: &grants,
            version,
            now: (now_ms / 1000.0).floor() as i64,
            bulk: false,
        };
        let mut exec = Executor::new(&ctx, schema);
        let root = if planned.mutation {
            Obj::Mutation
        } else {
            Obj::Root
        };
        let out = exec.object(&root, &planned.fields, &mut Vec::new());
        let actual = if planned.mutation {
            requested
        } else {
            exec.actual_cost.min(requested)
        };
        (out, exec.errors, actual)
    };
    add(&store.stats.cost_actual, actual);
    store.bucket().refund((requested - actual) as f64, now_ms);
    let available = store.bucket().available(now_ms);
    store.stats.record_bucket(now_ms, available);
    let mut cost = cost_block(store, now_ms, requested, Some(actual));
    if cost_debug && let Value::Object(m) = &mut cost {
        m.insert(
            "fields".into(),
            Value::Array(cost::breakdown(&planned, schema)),
        );
    }
    let root = if planned.mutation {
        "Mutation"
    } else {
        "QueryRoot"
    };
    let deprecated = touches_deprecated(schema, root, &planned.fields);
    Answer {
        status: 200,
        body: envelope(Some(data), &errs, cost),
        deprecated,
    }
}
