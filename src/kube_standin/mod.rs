//! An in-process stand-in for the Kubernetes API server, for tests, demos
//! and benchmarks: the real `kube::Client`, watchers and controllers (and the
//! real `kubectl`) talk to it over HTTP as they would to a cluster. It keeps
//! objects in memory and follows the API server's rules for the kinds an
//! operator uses; `docs/kube-standin.md` lists what it covers and where it
//! differs. Production code paths must not use this module.

pub mod admission;
mod apply;
mod commit;
mod crd;
mod deletion;
mod discovery;
mod errors;
mod events;
mod fields;
mod intake;
mod jsonpath;
mod managers;
mod objects;
mod params;
mod patch;
mod reads;
mod resources;
mod routes;
mod schema;
mod selectors;
mod table;
mod target;
mod watch;
mod writes;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
use kube::{CustomResourceExt, Resource};
use serde_json::Value;

use objects::Objects;
use resources::{Registry, ResourceId};

pub use errors::ApiError;
pub use resources::AdmissionHook;

#[derive(Debug, thiserror::Error)]
pub enum StandInError {
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("cannot build a kube client for {url}: {source}")]
    Client { url: String, source: kube::Error },
    #[error("the stand-in refused the request: {0}")]
    Api(#[from] kube::Error),
    #[error("cannot write the kubeconfig {path}: {reason}")]
    Kubeconfig { path: String, reason: String },
}

/// Knobs tests turn.
#[derive(Debug, Clone)]
pub struct Options {
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: Duration,
    /// How many changes watches can replay from; older resourceVersions are
    /// answered 410 Expired.
    pub history_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bookmark_interval: Duration::from_secs(3),
            history_limit: 10_000,
        }
    }
}

/// One request as received, for tests that check what a client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
}

/// The kinds served and the objects stored; one lock, held only while a
/// request reads or writes, never across an await.
pub(crate) struct State {
    pub registry: Registry,
    pub objects: Objects,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Bumped to end every open watch.
    closer: tokio::sync::watch::Sender<u64>,
    unavailable: AtomicBool,
    requests: AtomicU64,
    log: Mutex<VecDeque<RecordedRequest>>,
    options: Options,
    addr: SocketAddr,
}

const LOG_LIMIT: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn record(&self, request: RecordedRequest) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut log = lock(&self.log);
        if log.len() == LOG_LIMIT {
            log.pop_front();
        }
        log.push_back(request);
    }

    fn is_unavailable(&self) -> bool {
        self.unavailable.load(Ordering::Relaxed)
    }
}

/// A running stand-in API server on 127.0.0.1. Stops when dropped.
pub struct StandIn {
    shared: Arc<Shared>,
    url: url::Url,
    config: kube::Config,
    client: kube::Client,
    task: tokio::task::JoinHandle<()>,
}

impl StandIn {
    /// Starts a server on a free port with default options.
    pub async fn start() -> Result<StandIn, StandInError> {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Result<StandIn, StandInError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(StandInError::Listen)?;
        let addr = listener.local_addr().map_err(StandInError::Listen)?;
        let text = format!("http://{addr}");
        let url = url::Url::parse(&text).map_err(|e| StandInError::Kubeconfig {
            path: text.clone(),
            reason: e.to_string(),
        })?;
        let uri = text
            .parse::<axum::http::Uri>()
            .map_err(|e| StandInError::Kubeconfig {
                path: text.clone(),
                reason: e.to_string(),
            })?;
        let config = kube::Config::new(uri);
        let client = kube::Client::try_from(config.clone())
            .map_err(|source| StandInError::Client { url: text, source })?;
        let mut state = State {
            registry: Registry::builtin(),
            objects: Objects::new(options.history_limit),
        };
        let now = commit::now();
        for ns in ["default", "kube-system", "kube-public"] {
            intake::ensure_namespace(&mut state, ns, &now);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            closer: tokio::sync::watch::channel(0).0,
            unavailable: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
            options,
            addr,
        });
        let app = routes::router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "kube stand-in stopped serving");
            }
        });
        Ok(StandIn {
            shared,
            url,
            config,
            client,
            task,
        })
    }

    pub fn url(&self) -> url::Url {
        self.url.clone()
    }

    /// A client for this server (plain HTTP, default namespace `default`).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The client configuration, for a client built differently (say,
    /// `default_retry = false` to see 503s at once instead of kube's retries).
    pub fn config(&self) -> kube::Config {
        self.config.clone()
    }

    /// A kubeconfig with one context, `standin`, pointing here.
    pub fn kubeconfig(&self) -> Kubeconfig {
        let name = "standin".to_owned();
        Kubeconfig {
            clusters: vec![NamedCluster {
                name: name.clone(),
                cluster: Some(Cluster {
                    server: Some(self.url.as_str().trim_end_matches('/').to_owned()),
                    ..Cluster::default()
                }),
                ..NamedCluster::default()
            }],
            auth_infos: vec![NamedAuthInfo {
                name: name.clone(),
                auth_info: Some(AuthInfo::default()),
                ..NamedAuthInfo::default()
            }],
            contexts: vec![NamedContext {
                name: name.clone(),
                context: Some(Context {
                    cluster: name.clone(),
                    user: Some(name.clone()),
                    namespace: Some("default".into()),
                    ..Context::default()
                }),
                ..NamedContext::default()
            }],
            current_context: Some(name),
            api_version: Some("v1".into()),
            kind: Some("Config".into()),
            ..Kubeconfig::default()
        }
    }

    /// Writes [`Self::kubeconfig`] as YAML, for the real `kubectl`.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), StandInError> {
        let fail = |reason: String| StandInError::Kubeconfig {
            path: path.display().to_string(),
            reason,
        };
        let yaml = yaml_serde::to_string(&self.kubeconfig()).map_err(|e| fail(e.to_string()))?;
        std::fs::write(path, yaml).map_err(|e| fail(e.to_string()))
    }

    /// Validation and defaulting for one custom resource (see [`AdmissionHook`]).
    pub fn set_admission(&self, group: &str, plural: &str, hook: AdmissionHook) {
        let id = ResourceId {
            group: group.to_owned(),
            plural: plural.to_owned(),
        };
        self.shared.lock().registry.set_hook(id, hook);
    }

    /// Creates the ShopifyConnection CRD through the API (so it is served
    /// from then on), with the admission rules the real server enforces.
    pub async fn install_shopsync_crd(&self) -> Result<(), StandInError> {
        use crate::api::ShopifyConnection;
        self.set_admission(
            &ShopifyConnection::group(&()),
            &ShopifyConnection::plural(&()),
            admission::shopify_connection(),
        );
        let crds: Api<CustomResourceDefinition> = Api::all(self.client());
        match crds
            .create(&PostParams::default(), &ShopifyConnection::crd())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.reason == "AlreadyExists" => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Fault: ends every open watch now; clients must watch again.
    pub fn close_watches(&self) {
        self.shared.closer.send_modify(|n| *n += 1);
    }

    /// Fault: while on, every request answers 503 and open watches end.
    pub fn set_unavailable(&self, on: bool) {
        self.shared.unavailable.store(on, Ordering::Relaxed);
        if on {
            self.close_watches();
        }
    }

    /// Forgets the change history, as etcd compaction does: watches from an
    /// older resourceVersion get 410 Expired and clients must list again.
    pub fn compact(&self) {
        self.shared.lock().objects.compact();
    }

    /// Requests received so far (discovery and failed ones included).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The most recent requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    /// The newest resourceVersion handed out.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().objects.rv()
    }

    /// An object exactly as stored (core form for Events), bypassing HTTP.
    pub fn stored(&self, group: &str, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let id = ResourceId {
            group: group.to_owned(),
            plural: plural.to_owned(),
        };
        self.shared
            .lock()
            .objects
            .get(&id, namespace, name)
            .map(|s| s.value.clone())
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.close_watches();
        self.task.abort();
    }
}
