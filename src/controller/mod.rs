//! The operator: watches ShopifyConnections, plans their syncs, runs them in
//! supervised tasks and writes what happened back as status.
//!
//! Layout, following the reconcile pipeline: [`dereference`] (the Secret),
//! [`validate`] and [`plan`] (pure), [`supervisor`] and [`sync_task`] (the
//! work, outside the reconcile), [`status_writer`] (server-side apply and
//! Events). [`runner`] wires kube-rs; [`leader`] holds the Lease;
//! [`startup`] refuses to start without what the operator needs.

pub mod context;
pub mod dereference;
pub mod identity;
pub mod leader;
pub mod plan;
pub mod reconcile;
pub mod runner;
pub mod schedule;
pub mod settings;
pub mod startup;
pub mod status_writer;
pub mod supervisor;
pub mod sync_task;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::{Recorder, Reporter};
use sqlx::PgPool;
use tokio::sync::{mpsc, watch};

use crate::crypto::MasterKey;
use crate::shopify::LimiterRegistry;
use crate::shopify::http::build_client;
use crate::telemetry::metrics::Metrics;

use context::Context;
use leader::{LeaseError, LeaseLock};
pub use settings::{FINALIZER, LeaseSettings, MANAGER, Settings};
use status_writer::StatusWriter;
use supervisor::Supervisor;

/// Everything the operator runs with.
pub struct Operator {
    pub client: kube::Client,
    pub pool: PgPool,
    pub master: Arc<MasterKey>,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("leadership lost: {0}; exiting so a fresh start rejoins the election")]
    LeadershipLost(#[from] LeaseError),
    #[error("building the Shopify HTTP client: {0}")]
    Http(#[from] crate::shopify::ShopifyError),
}

impl Operator {
    /// Runs until `shutdown` turns true (then stops syncs after their batch
    /// in flight and releases the lease), or until leadership is lost.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), OperatorError> {
        let mut lock = self
            .settings
            .lease
            .clone()
            .map(|l| LeaseLock::new(self.client.clone(), l, &self.settings.identity));
        if let Some(lock) = lock.as_mut() {
            tracing::info!(identity = %self.settings.identity, "waiting for the leader lease");
            tokio::select! {
                _ = lock.acquire() => {}
                _ = shutdown.wait_for(|s| *s) => return Ok(()),
            }
        }
        self.metrics.leader.set(1);
        let result = self.term(lock.as_mut(), shutdown).await;
        self.metrics.leader.set(0);
        if let Some(lock) = lock.as_mut()
            && result.is_ok()
        {
            lock.release().await;
        }
        result
    }

    /// One leadership term.
    async fn term(
        &self,
        lock: Option<&mut LeaseLock>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), OperatorError> {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let recorder = Recorder::new(
            self.client.clone(),
            Reporter {
                controller: MANAGER.to_owned(),
                instance: Some(self.settings.identity.clone()),
            },
        );
        let ctx = Arc::new(Context {
            client: self.client.clone(),
            pool: self.pool.clone(),
            master: Arc::clone(&self.master),
            limiters: LimiterRegistry::new(self.settings.clock.clone()),
            http: build_client(Duration::from_secs(60))?,
            settings: self.settings.clone(),
            supervisor: Arc::new(Supervisor::new(
                self.settings.max_concurrent_syncs,
                self.settings.stop_grace,
                done_tx,
            )),
            status: StatusWriter::new(
                self.client.clone(),
                MANAGER,
                recorder,
                Arc::clone(&self.metrics),
            ),
            metrics: Arc::clone(&self.metrics),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let controllers = runner::run_controllers(Arc::clone(&ctx), done_rx, stop_rx);
        // The lease is renewed for the whole term, shutdown included: syncs
        // still commit their last batch then, and no standby may start yet.
        let lost = async {
            match lock {
                Some(lock) => lock.hold().await,
                None => std::future::pending().await,
            }
        };
        let work = async {
            tokio::pin!(controllers);
            let mut ended = false;
            tokio::select! {
                _ = &mut controllers => ended = true,
                _ = shutdown.wait_for(|s| *s) => {}
            }
            tracing::info!("stopping: syncs finish their batch in flight and commit");
            let _ = stop_tx.send(true);
            if !ended {
                // Reconciles in flight are short; wait for them so none starts a sync later.
                let _ = tokio::time::timeout(Duration::from_secs(10), &mut controllers).await;
            }
            ctx.supervisor.shutdown().await;
        };
        tokio::select! {
            _ = work => Ok(()),
            e = lost => {
                let _ = stop_tx.send(true);
                ctx.supervisor.abort_all().await;
                Err(OperatorError::LeadershipLost(e))
            }
        }
    }
}
