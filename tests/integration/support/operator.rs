//! Operator scenario setup: the real controller against the API stand-in
//! (or the cluster of `SHOPSYNC_E2E_KUBECONFIG`), the simulator and a fresh
//! Postgres database.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use shopsync::api::ShopifyConnection;
use shopsync::api::conditions::{self, ConditionStatus, ConditionType};
use shopsync::bench::operator_env::OperatorEnv;
use shopsync::simulator::config::SimulatorConfig;

use super::postgres::{TestDb, fresh_db};

/// Simulated seconds per real second: a 1-minute poll interval passes in a second.
pub const SPEED: f64 = 60.0;
pub const WAIT: Duration = Duration::from_secs(60);

pub struct Scenario {
    pub env: OperatorEnv,
    pub db: TestDb,
}

/// `stores` as (name, token); each store has `orders` orders over 20 days.
pub async fn scenario(
    stores: &[(&str, &str)],
    orders: u64,
    configure: impl FnOnce(&mut SimulatorConfig),
) -> Scenario {
    let now = jiff::Timestamp::now().as_second();
    let mut config = SimulatorConfig::with_stores(stores, 11, orders, 20, now);
    for s in &mut config.stores {
        s.data.history_days = 20;
    }
    config.clock_speed = SPEED;
    configure(&mut config);
    let db = fresh_db().await;
    let kubeconfig = std::env::var_os("SHOPSYNC_E2E_KUBECONFIG").map(PathBuf::from);
    let env = OperatorEnv::start(config, db.pool.clone(), kubeconfig.as_deref())
        .await
        .expect("operator environment starts");
    Scenario { env, db }
}

pub fn condition(
    c: Option<&ShopifyConnection>,
    type_: ConditionType,
) -> Option<(ConditionStatus, String)> {
    let status = c?.status.as_ref()?;
    conditions::find(&status.conditions, type_).map(|c| (c.status, c.reason.clone()))
}

pub fn is(
    c: Option<&ShopifyConnection>,
    type_: ConditionType,
    status: ConditionStatus,
    reason: &str,
) -> bool {
    condition(c, type_).is_some_and(|(s, r)| s == status && (reason.is_empty() || r == reason))
}

/// Ready=True for the object's current generation.
pub fn ready(c: Option<&ShopifyConnection>) -> bool {
    let Some(c) = c else { return false };
    let generation = c.metadata.generation;
    c.status.as_ref().is_some_and(|s| {
        conditions::find(&s.conditions, ConditionType::Ready).is_some_and(|r| {
            r.status == ConditionStatus::True && r.observed_generation == generation
        })
    })
}

impl Scenario {
    /// Live stored order ids of the connection with this uid.
    pub async fn stored_orders(&self, uid: &str) -> Vec<i64> {
        sqlx::query_scalar(
            "SELECT r.shopify_id FROM records r JOIN connections c ON c.id = r.connection_id
             WHERE c.uid = $1 AND r.recordset = 'orders' AND NOT r.deleted ORDER BY 1",
        )
        .bind(uid)
        .fetch_all(&self.db.pool)
        .await
        .expect("stored ids")
    }

    /// Open (not cancelled, not closed) order ids of a store, from the simulator.
    pub async fn open_orders(&self, store: &str) -> BTreeSet<i64> {
        let url = format!(
            "{}/_sim/stores/{store}/export?resource=orders",
            self.env.sim.url()
        );
        let text = reqwest::get(url)
            .await
            .expect("export")
            .text()
            .await
            .expect("body");
        let truth: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("export line"))
            .collect();
        super::sync_env::open_orders(&truth)
    }

    /// Calls the simulator's control API.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.env
            .sim_control(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("control {path}: {e:#}"))
    }
}
