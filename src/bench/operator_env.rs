//! A whole operator installation in one process: a Kubernetes API (the
//! in-process stand-in, or a real cluster given a kubeconfig), the Shopify
//! simulator, Postgres, and operator replicas running the real controller.
//! The scenario tests, the operator benchmark and `shopsync demo` drive it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, CustomResourceExt, ResourceExt};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{SYNC_REQUESTED_AT, ShopifyConnection};
use crate::clock::Clock;
use crate::controller::{LeaseSettings, Operator, OperatorError, Settings};
use crate::crypto::MasterKey;
use crate::kube_standin::StandIn;
use crate::simulator::config::SimulatorConfig;
use crate::simulator::{RunningSimulator, start};
use crate::telemetry::metrics::Metrics;

/// One operator process, as far as the test can tell: its own runtime,
/// database pool and API client, so a crash takes every task it started
/// (reconciles, syncs, lease renewal) down at once, as kill -9 would.
pub struct Replica {
    pub identity: String,
    pub metrics: Arc<Metrics>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<Result<(), OperatorError>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

pub struct OperatorEnv {
    pub client: kube::Client,
    /// Set when running against the stand-in rather than a real cluster.
    pub standin: Option<StandIn>,
    pub namespace: String,
    pub sim: RunningSimulator,
    pub pool: PgPool,
    pub master: Arc<MasterKey>,
    /// The simulator's clock, which the operator shares.
    pub clock: Clock,
    pub replicas: Vec<Replica>,
}

impl OperatorEnv {
    /// Starts the simulator with `sim` and connects to a Kubernetes API: the
    /// cluster of `kubeconfig` when given (a fresh namespace there), else a
    /// new stand-in. The CRD is installed either way.
    pub async fn start(
        sim: SimulatorConfig,
        pool: PgPool,
        kubeconfig: Option<&Path>,
    ) -> anyhow::Result<OperatorEnv> {
        let sim = start(sim, "127.0.0.1:0")
            .await
            .context("starting the simulator")?;
        let sim_now = jiff::Timestamp::from_millisecond(sim.sim.clock.now_ms() as i64)
            .context("simulator clock")?;
        let clock = Clock::scaled_from(sim.sim.clock.speed(), sim_now);
        let (client, standin, namespace) = match kubeconfig {
            Some(path) => {
                let client = real_cluster(path).await?;
                let namespace = format!(
                    "shopsync-e2e-{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..8]
                );
                install_crd(&client).await?;
                create_namespace(&client, &namespace).await?;
                (client, None, namespace)
            }
            None => {
                let standin = StandIn::start()
                    .await
                    .context("starting the API stand-in")?;
                standin.install_shopsync_crd().await?;
                (standin.client(), Some(standin), "shops".to_owned())
            }
        };
        Ok(OperatorEnv {
            client,
            standin,
            namespace,
            sim,
            pool,
            master: Arc::new(MasterKey::generate()?),
            clock,
            replicas: Vec::new(),
        })
    }

    /// Settings for a replica: the simulator as every store's endpoint, the
    /// shared clock, a short lease so failover tests are quick.
    pub fn settings(&self, identity: &str) -> Settings {
        let mut s = Settings::new(identity);
        s.clock = self.clock.clone();
        s.shopify_endpoint = url::Url::parse(&self.sim.url()).ok();
        s.namespaces = vec![self.namespace.clone()];
        s.stop_grace = Duration::from_secs(10);
        s.progress_every = Duration::from_millis(500);
        let mut lease = LeaseSettings::new("shopsync-leader", &self.namespace);
        lease.duration = Duration::from_secs(2);
        lease.renew_every = Duration::from_millis(400);
        s.lease = Some(lease);
        s
    }

    /// Starts a replica; returns its index.
    pub fn start_replica(&mut self, settings: Settings) -> usize {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name(format!("replica-{}", self.replicas.len()))
            .build()
            .expect("a runtime for the replica");
        let metrics = Arc::new(Metrics::new());
        let (shutdown, rx) = watch::channel(false);
        let client = {
            let _inside = runtime.enter();
            match &self.standin {
                Some(standin) => standin.client(),
                None => self.client.clone(),
            }
        };
        let options = (*self.pool.connect_options()).clone();
        let master = Arc::clone(&self.master);
        let identity = settings.identity.clone();
        let replica_metrics = Arc::clone(&metrics);
        let task = runtime.spawn(async move {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .expect("the replica's database pool");
            Operator {
                client,
                pool,
                master,
                settings,
                metrics: replica_metrics,
            }
            .run(rx)
            .await
        });
        self.replicas.push(Replica {
            identity,
            metrics,
            shutdown,
            task: Some(task),
            runtime: Some(runtime),
        });
        self.replicas.len() - 1
    }

    /// SIGTERM: the replica finishes its batches, commits, releases the lease.
    pub async fn stop_replica(&mut self, index: usize) -> anyhow::Result<()> {
        let replica = &mut self.replicas[index];
        let _ = replica.shutdown.send(true);
        if let Some(task) = replica.task.take() {
            task.await.context("replica task")??;
        }
        if let Some(runtime) = replica.runtime.take() {
            runtime.shutdown_background();
        }
        Ok(())
    }

    /// kill -9: the replica stops mid-work and keeps the lease until it expires.
    pub fn crash_replica(&mut self, index: usize) {
        let replica = &mut self.replicas[index];
        replica.task.take();
        if let Some(runtime) = replica.runtime.take() {
            runtime.shutdown_background();
        }
    }

    pub fn connections(&self) -> Api<ShopifyConnection> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates or replaces the Secret `name` holding `token` under `accessToken`.
    pub async fn apply_secret(&self, name: &str, token: &str) -> anyhow::Result<()> {
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace},
            "stringData": {"accessToken": token},
        });
        self.secrets()
            .patch(
                name,
                &PatchParams::apply("shopsync-test").force(),
                &Patch::Apply(&secret),
            )
            .await
            .with_context(|| format!("applying Secret {name}"))?;
        Ok(())
    }

    /// Applies a ShopifyConnection `name` for `store` whose Secret is
    /// `name`; `spec` (JSON) is merged over that.
    pub async fn apply_connection(
        &self,
        name: &str,
        store: &str,
        spec: Value,
    ) -> anyhow::Result<ShopifyConnection> {
        let mut full = json!({
            "store": store,
            "credentials": {"secretRef": {"name": name}},
            "pollInterval": "1m",
            "backfill": {"window": "30d"},
        });
        merge(&mut full, spec);
        let manifest = json!({
            "apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": full,
        });
        self.connections()
            .patch(
                name,
                &PatchParams::apply("shopsync-test").force(),
                &Patch::Apply(&manifest),
            )
            .await
            .with_context(|| format!("applying ShopifyConnection {name}"))
    }

    /// Merges `spec` into the connection's spec (a `kubectl patch --type merge`).
    pub async fn patch_spec(&self, name: &str, spec: Value) -> anyhow::Result<ShopifyConnection> {
        Ok(self
            .connections()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": spec})),
            )
            .await?)
    }

    /// `kubectl annotate shopifyconnection NAME shopify.fostr.io/sync-requested-at=VALUE --overwrite`.
    pub async fn request_sync(&self, name: &str, value: &str) -> anyhow::Result<()> {
        self.connections()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {SYNC_REQUESTED_AT: value}}})),
            )
            .await?;
        Ok(())
    }

    pub async fn delete_connection(&self, name: &str) -> anyhow::Result<()> {
        self.connections()
            .delete(name, &DeleteParams::default())
            .await?;
        Ok(())
    }

    /// Polls until `check` holds for the connection (or it is gone, when
    /// `check` accepts `None`), failing with the last state seen.
    pub async fn wait_for(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        check: impl Fn(Option<&ShopifyConnection>) -> bool,
    ) -> anyhow::Result<Option<ShopifyConnection>> {
        let deadline = Instant::now() + timeout;
        loop {
            let current = self.connections().get_opt(name).await?;
            if check(current.as_ref()) {
                return Ok(current);
            }
            if Instant::now() > deadline {
                let shown = current
                    .as_ref()
                    .map(|c| serde_json::to_string_pretty(&c.status).unwrap_or_default())
                    .unwrap_or_else(|| "<gone>".into());
                bail!(
                    "timed out after {timeout:?} waiting for {name} to be {what}; status: {shown}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Events the operator published about `name`, as (reason, note).
    pub async fn events(&self, name: &str) -> anyhow::Result<Vec<(String, String)>> {
        use k8s_openapi::api::events::v1::Event;
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = api.list(&Default::default()).await?;
        Ok(list
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect())
    }

    /// Makes the simulator update `per_second` random orders of `store` per simulated second.
    pub async fn control_churn(&self, store: &str, per_second: f64) -> anyhow::Result<()> {
        self.sim_control(
            reqwest::Method::PUT,
            &format!("/_sim/stores/{store}/churn"),
            Some(json!({"per_second": per_second})),
        )
        .await?;
        Ok(())
    }

    /// The simulator's `/_sim/stats`.
    pub async fn sim_stats(&self) -> anyhow::Result<Value> {
        self.sim_control(reqwest::Method::GET, "/_sim/stats", None)
            .await
    }

    /// Calls the simulator's `/_sim/` control API; errors on a non-2xx answer.
    pub async fn sim_control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.sim.url()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await?.error_for_status()?;
        Ok(resp.json().await.unwrap_or(Value::Null))
    }

    /// Removes what a real-cluster run created.
    pub async fn cleanup(&self) {
        if self.standin.is_none() {
            let api: Api<Namespace> = Api::all(self.client.clone());
            let _ = api.delete(&self.namespace, &DeleteParams::default()).await;
        }
    }
}

impl Drop for OperatorEnv {
    fn drop(&mut self) {
        for r in &mut self.replicas {
            if let Some(runtime) = r.runtime.take() {
                runtime.shutdown_background();
            }
        }
    }
}

async fn real_cluster(path: &Path) -> anyhow::Result<kube::Client> {
    let kubeconfig = Kubeconfig::read_from(path)
        .with_context(|| format!("reading kubeconfig {}", path.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .context("kubeconfig")?;
    Ok(kube::Client::try_from(config)?)
}

async fn install_crd(client: &kube::Client) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = ShopifyConnection::crd();
    api.patch(
        &crd.name_any(),
        &PatchParams::apply("shopsync-test").force(),
        &Patch::Apply(&crd),
    )
    .await
    .context("installing the CRD")?;
    // A real API server serves the resource only once the CRD is Established.
    for _ in 0..60 {
        let established = api.get(&crd.name_any()).await?.status.is_some_and(|s| {
            s.conditions
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
        if established {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bail!("the CRD was not Established within 30 s")
}

async fn create_namespace(client: &kube::Client, name: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}}))?;
    api.create(&PostParams::default(), &ns).await?;
    Ok(())
}

/// JSON merge patch semantics (RFC 7386).
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}
