//! Wires the kube-rs controller for one leadership term: watches, the
//! trigger filter, the Secret watch, task completions, concurrency.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::ResourceExt;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Config as ControllerConfig;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use tokio::sync::{mpsc, watch};

use crate::api::{SYNC_REQUESTED_AT, ShopifyConnection};

use super::context::Context;
use super::reconcile::{error_policy, reconcile};

type Key = ObjectRef<ShopifyConnection>;

/// Reconciles run at most this many at once (kube-rs#1248: always bound it).
const RECONCILE_CONCURRENCY: u16 = 32;

/// Runs one controller per watched scope (all namespaces, or each one
/// given) until `shutdown` turns true; task completions arrive on `done`.
pub async fn run_controllers(
    ctx: Arc<Context>,
    mut done: mpsc::UnboundedReceiver<Key>,
    shutdown: watch::Receiver<bool>,
) {
    let scopes: Vec<Option<String>> = if ctx.settings.namespaces.is_empty() {
        vec![None]
    } else {
        ctx.settings.namespaces.iter().cloned().map(Some).collect()
    };
    let mut routes: HashMap<Option<String>, mpsc::UnboundedSender<Key>> = HashMap::new();
    let mut controllers = Vec::new();
    for scope in scopes {
        let (tx, rx) = mpsc::unbounded_channel();
        routes.insert(scope.clone(), tx);
        controllers.push(scope_controller(
            Arc::clone(&ctx),
            scope,
            rx,
            shutdown.clone(),
        ));
    }
    // Completions go to the controller that watches their namespace.
    let dispatch = async move {
        while let Some(key) = done.recv().await {
            let route = routes.get(&key.namespace).or_else(|| routes.get(&None));
            if let Some(tx) = route {
                let _ = tx.send(key);
            }
        }
    };
    tokio::select! {
        _ = futures::future::join_all(controllers) => {}
        _ = dispatch => {}
    }
}

async fn scope_controller(
    ctx: Arc<Context>,
    namespace: Option<String>,
    mut completions: mpsc::UnboundedReceiver<Key>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Secrets are watched metadata-only: a change is all we need to know,
    // and holding every Secret's data in memory would be a liability.
    let (connections, secrets): (Api<ShopifyConnection>, Api<PartialObjectMeta<Secret>>) =
        match &namespace {
            Some(ns) => (
                Api::namespaced(ctx.client.clone(), ns),
                Api::namespaced(ctx.client.clone(), ns),
            ),
            None => (Api::all(ctx.client.clone()), Api::all(ctx.client.clone())),
        };
    let (reader, writer) = reflector::store();
    // Status writes (ours) and other metadata churn do not trigger; spec,
    // the request annotation, deletion and finalizers do (kube-rs/controller-rs#50).
    let trigger = watcher(connections, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(trigger_hash, Default::default());
    let secret_changes = watcher(secrets, watcher::Config::default())
        .default_backoff()
        .touched_objects();
    let referencing = reader.clone();
    let completions = futures::stream::poll_fn(move |cx| completions.poll_recv(cx));
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    Controller::for_stream(trigger, reader)
        .watches_stream(secret_changes, move |secret: PartialObjectMeta<Secret>| {
            users_of(&referencing, &secret)
        })
        .reconcile_on(completions)
        .with_config(ControllerConfig::default().concurrency(RECONCILE_CONCURRENCY))
        .graceful_shutdown_on(stop)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "controller event");
            }
        })
        .await;
}

/// What a reconcile reacts to; anything else (status, our own writes,
/// unrelated labels) is filtered out before it reaches the queue.
fn trigger_hash(c: &ShopifyConnection) -> Option<u64> {
    let mut h = DefaultHasher::new();
    c.metadata.generation.hash(&mut h);
    c.annotations().get(SYNC_REQUESTED_AT).hash(&mut h);
    c.metadata.deletion_timestamp.is_some().hash(&mut h);
    c.finalizers().hash(&mut h);
    Some(h.finish())
}

/// The connections in the Secret's namespace that reference it.
fn users_of(store: &Store<ShopifyConnection>, secret: &PartialObjectMeta<Secret>) -> Vec<Key> {
    let namespace = secret.namespace();
    let name = secret.name_any();
    store
        .state()
        .iter()
        .filter(|c| c.namespace() == namespace && c.spec.credentials.secret_ref.name == name)
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}
