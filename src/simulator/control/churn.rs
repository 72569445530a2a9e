//! Churn: N random order updates per simulated second
//! (`PUT /_sim/stores/{store}/churn`), so incremental syncs have work to find.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{ok, store_of};
use crate::simulator::data::model::*;
use crate::simulator::data::rng::Rng;
use crate::simulator::{SimStore, Simulator, lock};

#[derive(Debug, Deserialize)]
pub(super) struct Churn {
    pub per_second: f64,
}

pub(super) async fn set_churn(
    State(sim): State<Arc<Simulator>>,
    Path(name): Path<String>,
    axum::Json(c): axum::Json<Churn>,
) -> Response {
    let store = match store_of(&sim, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    *lock(&store.churn_per_s) = c.per_second.max(0.0);
    ok(json!({"per_second": c.per_second.max(0.0)}))
}

/// Applies `per_second` random order updates per simulated second to every churning store.
pub fn spawn_churn(sim: Arc<Simulator>) {
    tokio::spawn(async move {
        let mut last = sim.clock.now_ms();
        let mut owed: std::collections::HashMap<String, f64> = Default::default();
        let mut rng = Rng::new(0xC4_0000);
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let now_ms = sim.clock.now_ms();
            let elapsed_s = ((now_ms - last) / 1000.0).max(0.0);
            last = now_ms;
            for (name, store) in &sim.stores {
                let rate = *lock(&store.churn_per_s);
                if rate <= 0.0 {
                    continue;
                }
                let due = owed.entry(name.clone()).or_default();
                *due += rate * elapsed_s;
                let n = due.floor() as u64;
                *due -= n as f64;
                if n > 0 {
                    churn(store, n.min(100_000), (now_ms / 1000.0) as Ts, &mut rng);
                }
            }
        }
    });
}

fn churn(store: &SimStore, n: u64, now: Ts, rng: &mut Rng) {
    let mut data = store.write_data();
    for _ in 0..n {
        if data.orders.is_empty() {
            return;
        }
        let i = rng.below(data.orders.len() as u64) as usize;
        let id = data.orders[i].id;
        let roll = rng.below(10);
        let tag = rng.below(TAG_VOCABULARY.len() as u64);
        data.update_order(id, now, |o| match roll {
            0..=6 => o.tags ^= 1 << tag,
            7..=8 if o.financial == FinancialStatus::Paid && o.cancelled_at.is_none() => {
                o.fulfillment = FulfillmentState::Fulfilled;
            }
            _ if o.closed_at.is_none() => o.closed_at = Some(now),
            _ => o.tags ^= 1 << tag,
        });
    }
}
