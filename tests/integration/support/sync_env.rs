//! A whole sync setup for tests: the simulator serving one store over real
//! HTTP, a fresh migrated database, a master key, a registered connection,
//! and a client whose clock runs exactly as fast as the simulator's.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use shopsync::api::{ShopifyConnection, ShopifyConnectionSpec};
use shopsync::clock::Clock;
use shopsync::crypto::MasterKey;
use shopsync::shopify::http::{Endpoint, build_client};
use shopsync::shopify::{AccessToken, LimiterRegistry, ShopifyClient};
use shopsync::simulator::config::SimulatorConfig;
use shopsync::simulator::{RunningSimulator, start};
use shopsync::store::{Connection, ConnectionIdentity, RecordWriter, connections};
use shopsync::sync::{Engine, EngineConfig, SyncReport};

use super::postgres::{TestDb, fresh_db};

pub const STORE: &str = "demo.myshopify.com";
pub const TOKEN: &str = "shpat_simulator_demo";

pub struct SyncEnv {
    pub sim: RunningSimulator,
    pub db: TestDb,
    pub master: Arc<MasterKey>,
    pub connection: Connection,
    pub client: ShopifyClient,
    pub http: reqwest::Client,
}

/// Simulated seconds per real second: bulk jobs and bucket refills are quick.
pub const SPEED: f64 = 40.0;

pub fn spec(extra: &str) -> ShopifyConnectionSpec {
    let manifest = format!(
        "apiVersion: shopify.fostr.io/v1alpha1\nkind: ShopifyConnection\nmetadata: {{name: demo, namespace: shops}}\nspec:\n  store: {STORE}\n  credentials: {{secretRef: {{name: t}}}}\n{extra}"
    );
    let value: Value = yaml_serde::from_str(&manifest).expect("test manifest is YAML");
    let conn: ShopifyConnection =
        shopsync::api::admission::admit(&value, None).expect("test manifest is valid");
    conn.spec
}

impl SyncEnv {
    /// One store with `orders` orders over `history_days` days, ending now.
    pub async fn start(
        orders: u64,
        products: u64,
        history_days: u64,
        configure: impl FnOnce(&mut SimulatorConfig),
    ) -> SyncEnv {
        let now = jiff::Timestamp::now().as_second();
        let mut config = SimulatorConfig::with_stores(&[("demo", TOKEN)], 7, orders, products, now);
        config.stores[0].data.history_days = history_days;
        config.clock_speed = SPEED;
        configure(&mut config);
        let sim = start(config, "127.0.0.1:0")
            .await
            .expect("simulator starts");
        let sim_now =
            jiff::Timestamp::from_millisecond(sim.sim.clock.now_ms() as i64).expect("sim clock");
        let clock = Clock::scaled_from(sim.sim.clock.speed(), sim_now);
        let db = fresh_db().await;
        let master = Arc::new(MasterKey::generate().expect("key"));
        let connection = connections::register(
            &db.pool,
            &ConnectionIdentity {
                uid: "uid-demo".into(),
                namespace: "shops".into(),
                name: "demo".into(),
                store: STORE.into(),
                environment: "production".into(),
            },
        )
        .await
        .expect("register");
        let http = build_client(Duration::from_secs(30)).expect("http client");
        let base = url::Url::parse(&sim.url()).expect("sim url");
        let endpoint = Endpoint::for_store(STORE, "2026-10", Some(&base)).expect("endpoint");
        let limiter = LimiterRegistry::new(clock.clone()).for_store(STORE);
        limiter.set_share("uid-demo", 50);
        let client = ShopifyClient::new(
            http.clone(),
            STORE,
            "2026-10",
            endpoint,
            AccessToken::new(TOKEN),
            limiter,
            clock,
        );
        SyncEnv {
            sim,
            db,
            master,
            connection,
            client,
            http,
        }
    }

    pub async fn writer(&self) -> RecordWriter {
        RecordWriter::open(
            self.db.pool.clone(),
            Arc::clone(&self.master),
            self.connection.clone(),
        )
        .await
        .expect("writer")
    }

    pub async fn sync(&self, spec: &ShopifyConnectionSpec) -> SyncReport {
        self.sync_with(spec, EngineConfig::default()).await
    }

    pub async fn sync_with(
        &self,
        spec: &ShopifyConnectionSpec,
        config: EngineConfig,
    ) -> SyncReport {
        let mut writer = self.writer().await;
        Engine::new(&self.client, &mut writer, spec, config)
            .run_once()
            .await
    }

    /// Sets the store's injected faults (`{}` clears them).
    pub async fn faults(&self, faults: Value) {
        self.control(
            reqwest::Method::PUT,
            &format!("/_sim/stores/{STORE}/faults"),
            Some(faults),
        )
        .await;
    }

    /// The store's request counters from `/_sim/stats`.
    pub async fn stats(&self) -> Value {
        let all = self
            .control(reqwest::Method::GET, "/_sim/stats", None)
            .await;
        all["stores"][STORE].clone()
    }

    /// The simulator's ground truth of a resource (`orders` or `products`).
    pub async fn truth(&self, resource: &str) -> Vec<Value> {
        let url = format!(
            "{}/_sim/stores/{STORE}/export?resource={resource}",
            self.sim.url()
        );
        let text = self
            .http
            .get(url)
            .send()
            .await
            .expect("export")
            .text()
            .await
            .expect("export body");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("export line"))
            .collect()
    }

    /// Calls the simulator's control API.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.url()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("control call");
        assert!(
            resp.status().is_success(),
            "control {path}: {}",
            resp.status()
        );
        resp.json().await.unwrap_or(Value::Null)
    }

    /// Live (non-tombstoned) Shopify ids of a recordset, from the clear index columns.
    pub async fn stored_ids(&self, recordset: &str) -> BTreeSet<i64> {
        self.ids(recordset, false).await
    }

    pub async fn tombstoned_ids(&self, recordset: &str) -> BTreeSet<i64> {
        self.ids(recordset, true).await
    }

    async fn ids(&self, recordset: &str, deleted: bool) -> BTreeSet<i64> {
        sqlx::query_scalar(
            "SELECT shopify_id FROM records WHERE connection_id = $1 AND recordset = $2 AND deleted = $3",
        )
        .bind(self.connection.id)
        .bind(recordset)
        .bind(deleted)
        .fetch_all(&self.db.pool)
        .await
        .expect("ids")
        .into_iter()
        .collect()
    }
}

/// Orders a default connection keeps: neither cancelled nor closed.
pub fn open_orders(truth: &[Value]) -> BTreeSet<i64> {
    truth
        .iter()
        .filter(|o| o["cancelledAt"].is_null() && o["closedAt"].is_null())
        .map(|o| number(&o["id"]))
        .collect()
}

/// The numeric id of a gid.
pub fn number(gid: &Value) -> i64 {
    shopsync::shopify::jsonl::gid_number(gid.as_str().expect("gid")).expect("numeric gid")
}
