//! A local Shopify Admin GraphQL API for tests, demos, benchmarks and staging
//! rehearsals (issue 3). Facts it follows are in
//! `../shared/reference/shopify-admin-api.md`; section numbers in comments
//! refer to that file. Production code paths must not use this module.

pub mod bucket;
pub mod bulk;
pub mod clock;
pub mod config;
pub mod control;
pub mod cost;
pub mod data;
pub mod faults;
pub mod graphql;
pub mod request;
pub mod resolve;
pub mod schema;
pub mod scopes;
pub mod search;
pub mod server;
pub mod stats;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bucket::Bucket;
use bulk::BulkRegistry;
use clock::SimClock;
use config::{SimulatorConfig, StoreConfig};
use data::StoreData;
use faults::Faults;
use stats::Stats;

#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("generating the stores stopped unexpectedly: {0}")]
    Generate(String),
    #[error("cannot create the bulk result directory {path}: {source}")]
    Files {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {0} is configured twice")]
    DuplicateStore(String),
}

/// The version a request is served with, after fall-forward (§1.3).
#[derive(Debug, Clone)]
pub struct ApiVersion {
    pub requested: String,
    pub served: String,
}

/// One simulated store: its data, grants, bucket, bulk jobs, faults and counters.
#[derive(Debug)]
pub struct SimStore {
    pub config: StoreConfig,
    grants: RwLock<Arc<config::Grants>>,
    pub clock: Arc<SimClock>,
    data: RwLock<StoreData>,
    pub bucket: Mutex<Bucket>,
    bulk: Mutex<BulkRegistry>,
    faults: Mutex<Faults>,
    pub stats: Stats,
    /// Random updates per simulated second, driven by the churn task.
    pub churn_per_s: Mutex<f64>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl SimStore {
    pub fn read_data(&self) -> RwLockReadGuard<'_, StoreData> {
        match self.data.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn write_data(&self) -> RwLockWriteGuard<'_, StoreData> {
        match self.data.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The grants in force now; a request keeps the snapshot it started with.
    pub fn grants(&self) -> Arc<config::Grants> {
        match self.grants.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    pub fn set_grants(&self, grants: config::Grants) {
        match self.grants.write() {
            Ok(mut g) => *g = Arc::new(grants),
            Err(p) => *p.into_inner() = Arc::new(grants),
        }
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// Consumes one request of a THROTTLED storm; true while the storm lasts.
    pub fn take_throttle_storm(&self) -> bool {
        let mut f = lock(&self.faults);
        if f.throttle_storm > 0 {
            f.throttle_storm -= 1;
            true
        } else {
            false
        }
    }

    pub fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        lock(&self.bucket)
    }

    pub fn bulk_snapshot(&self) -> Vec<bulk::BulkOp> {
        let now = self.clock.now_s();
        self.bulk_registry().snapshot(now)
    }

    pub fn shop_id(&self) -> u64 {
        60_000_000_000 + self.config.data.seed % 1_000_000_000
    }

    pub fn app_installation_id(&self) -> u64 {
        500_000_000_000 + self.config.data.seed % 1_000_000_000
    }
}

/// Where the `n`th simulator of process `pid` keeps its bulk result files;
/// whoever kills a simulator process (which then cannot remove them) can
/// remove them here.
pub fn files_dir_of(pid: u32, n: u64) -> PathBuf {
    std::env::temp_dir().join(format!("shopsync-simulator-{pid}-{n}"))
}

/// Bulk result files live here and are removed with the simulator.
#[derive(Debug)]
struct FilesDir(PathBuf);

impl Drop for FilesDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug)]
pub struct Simulator {
    pub config: SimulatorConfig,
    pub clock: Arc<SimClock>,
    pub stores: HashMap<String, Arc<SimStore>>,
    base_url: OnceLock<String>,
    files: FilesDir,
    /// Set when the server stops; background bulk jobs end with it.
    pub stopped: std::sync::atomic::AtomicBool,
}

impl Simulator {
    /// Generates every store's data (the slow part for large stores).
    pub fn build(config: SimulatorConfig) -> Result<Arc<Simulator>, SimulatorError> {
        let clock = Arc::new(SimClock::new(config.clock_speed));
        let mut stores = HashMap::new();
        for sc in &config.stores {
            let data = data::generate::generate(&sc.data);
            let (max, rate) = sc.plan.bucket();
            let grants = config::Grants {
                tokens: sc.tokens.clone(),
                scopes: sc.scopes.clone(),
                protected: sc.protected,
            };
            let store = SimStore {
                config: sc.clone(),
                grants: RwLock::new(Arc::new(grants)),
                clock: Arc::clone(&clock),
                data: RwLock::new(data),
                bucket: Mutex::new(Bucket::new(max, rate, clock.now_ms())),
                bulk: Mutex::new(BulkRegistry::default()),
                faults: Mutex::new(Faults::default()),
                stats: Stats::default(),
                churn_per_s: Mutex::new(0.0),
            };
            if stores.insert(sc.domain.clone(), Arc::new(store)).is_some() {
                return Err(SimulatorError::DuplicateStore(sc.domain.clone()));
            }
        }
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = files_dir_of(std::process::id(), n);
        std::fs::create_dir_all(&dir).map_err(|source| SimulatorError::Files {
            path: dir.clone(),
            source,
        })?;
        Ok(Arc::new(Simulator {
            config,
            clock,
            stores,
            base_url: OnceLock::new(),
            files: FilesDir(dir),
            stopped: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    pub fn store(&self, host: &str) -> Option<&Arc<SimStore>> {
        let name = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
        self.stores.get(&name)
    }

    pub fn files_dir(&self) -> &Path {
        &self.files.0
    }

    /// Where bulk result URLs point (`--public-url`, else the listen address).
    pub fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map_or("http://127.0.0.1", String::as_str)
    }

    /// Fall-forward: an unknown or retired version is served as the oldest supported one (§1.3).
    pub fn version_for(&self, requested: &str) -> ApiVersion {
        let versions = &self.config.versions;
        let served = if versions.iter().any(|v| v == requested) {
            requested.to_string()
        } else {
            versions
                .first()
                .cloned()
                .unwrap_or_else(|| "2026-01".to_string())
        };
        ApiVersion {
            requested: requested.to_string(),
            served,
        }
    }
}

/// A simulator serving HTTP on a bound address.
pub struct RunningSimulator {
    pub addr: SocketAddr,
    pub sim: Arc<Simulator>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSimulator {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the server stops (it runs until the process ends).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.sim
            .stopped
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Builds the stores and serves them on `listen` (port 0 picks a free port).
pub async fn start(
    config: SimulatorConfig,
    listen: &str,
) -> Result<RunningSimulator, SimulatorError> {
    let listener = bind(listen).await?;
    let sim = tokio::task::spawn_blocking(move || Simulator::build(config))
        .await
        .map_err(|e| SimulatorError::Generate(e.to_string()))??;
    serve_on(sim, listener)
}

/// Serves an already built simulator on `listen`.
pub async fn serve(sim: Arc<Simulator>, listen: &str) -> Result<RunningSimulator, SimulatorError> {
    serve_on(sim, bind(listen).await?)
}

async fn bind(listen: &str) -> Result<tokio::net::TcpListener, SimulatorError> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| SimulatorError::Listen {
            addr: listen.to_string(),
            source,
        })
}

fn serve_on(
    sim: Arc<Simulator>,
    listener: tokio::net::TcpListener,
) -> Result<RunningSimulator, SimulatorError> {
    let addr = listener
        .local_addr()
        .map_err(|source| SimulatorError::Listen {
            addr: "listener".to_string(),
            source,
        })?;
    let public = sim.config.public_url.clone();
    let _ = sim
        .base_url
        .set(public.unwrap_or_else(|| format!("http://{addr}")));
    control::spawn_churn(Arc::clone(&sim));
    let app = server::router(Arc::clone(&sim));
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "simulator server stopped");
        }
    });
    Ok(RunningSimulator {
        addr,
        sim,
        task: Some(task),
    })
}
