//! A simulator on a real TCP port and a reqwest client that talks to it the
//! way a Shopify client would: by store host, with an access token.

use reqwest::Method;
use serde_json::{Value, json};
use shopsync::simulator::config::SimulatorConfig;
use shopsync::simulator::{RunningSimulator, start};

pub const DEMO: &str = "demo.myshopify.com";
pub const TOKEN: &str = "shpat_simulator_demo";
/// 2026-12-01T00:00:00Z: tests pin the history so their stores are reproducible.
pub const HISTORY_END: i64 = 1_796_083_200;

pub struct Sim {
    pub running: RunningSimulator,
    pub client: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Sim {
    /// One demo store with `orders` orders; `tweak` adjusts the configuration first.
    pub async fn start(orders: u64, tweak: impl FnOnce(&mut SimulatorConfig)) -> Sim {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut config =
            SimulatorConfig::with_stores(&[("demo", TOKEN)], 7, orders, 40, HISTORY_END);
        tweak(&mut config);
        let running = start(config, "127.0.0.1:0")
            .await
            .expect("simulator starts");
        Sim {
            running,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// A raw GraphQL POST: host, version and token as given.
    pub async fn post(&self, host: &str, version: &str, token: Option<&str>, body: Value) -> Reply {
        let mut req = self
            .client
            .post(self.url(&format!("/admin/api/{version}/graphql.json")))
            .header("Host", host)
            .json(&body);
        if let Some(t) = token {
            req = req.header("X-Shopify-Access-Token", t);
        }
        let resp = req.send().await.expect("request reaches the simulator");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A GraphQL query to the demo store at 2026-10.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let r = self
            .post(
                DEMO,
                "2026-10",
                Some(TOKEN),
                json!({"query": query, "variables": variables}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// A `/_sim/` control call; returns the JSON (or the text, for JSONL).
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("control call");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let text = resp.text().await.expect("body");
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    pub async fn stats(&self) -> Value {
        self.control(Method::GET, "/_sim/stats", None).await["stores"][DEMO].clone()
    }

    /// Ground truth of the demo store's orders, one JSON value per line.
    pub async fn ground_truth(&self) -> Vec<Value> {
        let text = self
            .control(Method::GET, &format!("/_sim/stores/{DEMO}/export"), None)
            .await;
        text.as_str()
            .expect("JSONL text")
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }
}
