//! How the operator is configured: `shopsync run`'s flags, or a test's choice.

use std::time::Duration;

use crate::clock::Clock;
use crate::sync::EngineConfig;

/// Field manager of every status apply, and the Event reporter.
pub const MANAGER: &str = "shopsync";
/// Finalizer that carries spec.deletionPolicy.
pub const FINALIZER: &str = "shopify.fostr.io/deletion-policy";
/// Syncs running at once unless `--max-concurrent-syncs` says otherwise.
pub const DEFAULT_MAX_CONCURRENT_SYNCS: usize = 8;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Namespaces to watch; empty means all.
    pub namespaces: Vec<String>,
    pub max_concurrent_syncs: usize,
    /// Send every store's requests here instead, keeping the store's host name.
    pub shopify_endpoint: Option<url::Url>,
    /// Time as syncs and schedules see it (scaled in tests and benchmarks).
    pub clock: Clock,
    pub engine: EngineConfig,
    /// Longest wait for a stopping sync to commit its batch before it is aborted.
    pub stop_grace: Duration,
    /// Shortest interval between two progress updates of a running sync's status.
    pub progress_every: Duration,
    pub lease: Option<LeaseSettings>,
    /// This replica's name in the lease and in Events.
    pub identity: String,
}

#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub name: String,
    pub namespace: String,
    /// How long a lease stays valid without renewal: a crashed leader's
    /// successor waits this long.
    pub duration: Duration,
    /// How often the holder renews (well inside `duration`).
    pub renew_every: Duration,
}

impl LeaseSettings {
    pub fn new(name: &str, namespace: &str) -> LeaseSettings {
        LeaseSettings {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

impl Settings {
    pub fn new(identity: &str) -> Settings {
        Settings {
            namespaces: Vec::new(),
            max_concurrent_syncs: DEFAULT_MAX_CONCURRENT_SYNCS,
            shopify_endpoint: None,
            clock: Clock::real(),
            engine: EngineConfig::default(),
            stop_grace: Duration::from_secs(30),
            progress_every: Duration::from_secs(10),
            lease: None,
            identity: identity.to_owned(),
        }
    }
}
