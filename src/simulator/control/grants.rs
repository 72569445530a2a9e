//! `PUT|GET /_sim/stores/{store}/grants`: rotate tokens, grant or revoke
//! scopes, change protected-data approval while the simulator runs (token
//! rotation is a credential change a client must pick up, reference §1.2).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ok, store_of};
use crate::simulator::Simulator;
use crate::simulator::server::json_response;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct GrantsChange {
    pub tokens: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub protected_data: Option<String>,
}

fn grants_json(g: &crate::simulator::config::Grants) -> Value {
    let p = g.protected;
    json!({
        "tokens": g.tokens,
        "scopes": g.scopes,
        "protected_data": {"name": p.name, "email": p.email, "phone": p.phone, "address": p.address},
    })
}

/// Rotates tokens, grants or revokes scopes, changes protected-data approval.
pub(super) async fn set_grants(
    State(sim): State<Arc<Simulator>>,
    Path(name): Path<String>,
    axum::Json(change): axum::Json<GrantsChange>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let mut grants = (*store.grants()).clone();
    if let Some(t) = change.tokens {
        grants.tokens = t;
    }
    if let Some(s) = change.scopes {
        grants.scopes = s.into_iter().collect();
    }
    if let Some(p) = change.protected_data {
        match crate::simulator::config::ProtectedAccess::parse(&p) {
            Ok(p) => grants.protected = p,
            Err(e) => return json_response(400, &json!({"error": e}), &[]),
        }
    }
    let body = grants_json(&grants);
    store.set_grants(grants);
    ok(body)
}

pub(super) async fn get_grants(
    State(sim): State<Arc<Simulator>>,
    Path(name): Path<String>,
) -> Response {
    match store_of(&sim, &name) {
        Ok(s) => ok(grants_json(&s.grants())),
        Err(r) => *r,
    }
}
