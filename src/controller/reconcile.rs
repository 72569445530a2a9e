//! One reconcile of one connection, as a pipeline: dereference (the
//! credentials Secret) → validate (pure) → plan (pure) → hand work to the
//! supervisor → update status. It never waits for a sync: syncs run in
//! supervised tasks and ask for the next reconcile when they end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use tracing::Instrument;

use crate::api::conditions::{self, Condition, ConditionType};
use crate::api::{DeletionPolicy, SYNC_REQUESTED_AT, ShopifyConnection};
use crate::store::{StoreError, connections, purge};
use crate::telemetry::metrics::{ConnectionLabel, ResultLabel};

use super::context::Context;
use super::dereference::{self, CredentialsError};
use super::identity::identity;
use super::plan::{self, Observed, Plan, RunningSync};
use super::schedule::{self, Cadence};
use super::settings::FINALIZER;
use super::sync_task::{self, SyncJob};
use super::validate::{self, InvalidSpec};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing status: {0}")]
    Status(#[source] kube::Error),
    #[error("applying the deletion policy: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Finalizer(Box<finalizer::Error<Error>>),
}

impl Error {
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Status(_) => "status_error",
            Error::Store(_) => "store_error",
            Error::Finalizer(_) => "finalizer_error",
        }
    }
}

pub async fn reconcile(
    connection: Arc<ShopifyConnection>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let api: Api<ShopifyConnection> = Api::namespaced(
        ctx.client.clone(),
        &connection.namespace().unwrap_or_default(),
    );
    let span = tracing::info_span!("reconcile", connection = %ObjectRef::from_obj(&*connection));
    let result = finalizer(&api, FINALIZER, connection, |event| async {
        match event {
            finalizer::Event::Apply(c) => apply(c, &ctx).await,
            finalizer::Event::Cleanup(c) => cleanup(c, &ctx).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    ctx.metrics
        .reconcile_duration
        .observe(started.elapsed().as_secs_f64());
    ctx.metrics
        .reconciles
        .get_or_create(&ResultLabel {
            result: match &result {
                Ok(_) => "ok",
                Err(e) => e.metric_label(),
            },
        })
        .inc();
    result
}

/// Failed reconciles (API server or database trouble) are retried soon;
/// problems a person must fix never get here, they are conditions. A
/// finalizer patch that lost a race with our own cache is retried at once.
pub fn error_policy(
    connection: Arc<ShopifyConnection>,
    error: &Error,
    _ctx: Arc<Context>,
) -> Action {
    let stale_cache = matches!(
        error,
        Error::Finalizer(e) if matches!(
            **e,
            finalizer::Error::AddFinalizer(kube::Error::Api(ref s))
                | finalizer::Error::RemoveFinalizer(kube::Error::Api(ref s))
                if s.code == 409 || s.code == 422
        )
    );
    if stale_cache {
        tracing::debug!(connection = %ObjectRef::from_obj(&*connection), "finalizer patch raced the cache; retrying");
        return Action::requeue(Duration::from_millis(500));
    }
    tracing::warn!(connection = %ObjectRef::from_obj(&*connection), error = %error, "reconcile failed; retrying");
    Action::requeue(Duration::from_secs(15))
}

async fn apply(connection: Arc<ShopifyConnection>, ctx: &Arc<Context>) -> Result<Action, Error> {
    let key = ObjectRef::from_obj(&*connection);
    let generation = connection.metadata.generation;
    let credentials = match dereference::credentials(&ctx.client, &connection).await {
        Ok(c) => c,
        Err(e) => return credentials_problem(&connection, ctx, &e).await,
    };
    let valid = match validate::validate(&connection) {
        Ok(v) => v,
        Err(e) => return invalid_spec(&connection, ctx, &e).await,
    };
    let spacing = poll_spacing(valid.poll, ctx.settings.engine.settle);
    let cadence = Cadence::new(&connection.uid().unwrap_or_default(), spacing);
    let clock = &ctx.settings.clock;
    let status = ctx.status.last_applied(&connection).await;
    let running = ctx.supervisor.running(&key);
    let requested = connection.annotations().get(SYNC_REQUESTED_AT).cloned();
    let observed = Observed {
        generation,
        suspended: connection.spec.suspend,
        status: status.as_ref(),
        requested: requested.as_deref(),
        secret_version: &credentials.version,
        running: running.as_ref(),
        failures: ctx.supervisor.failures(&key),
        cadence,
        now: clock.now(),
    };
    let decision = plan::plan(&observed);
    tracing::debug!(connection = %key, ?decision, "planned");
    let poll_real = clock.to_real(valid.poll);
    match decision {
        Plan::Suspend => {
            ctx.supervisor.cancel(&key).await;
            suspended(&connection, ctx).await?;
            Ok(Action::await_change())
        }
        Plan::Start(why) | Plan::Restart(why) => {
            let job = SyncJob {
                connection: Arc::clone(&connection),
                credentials: credentials.clone(),
                why,
                request: requested,
                cadence,
            };
            let task_ctx = Arc::clone(ctx);
            ctx.supervisor.start(
                key,
                RunningSync {
                    generation,
                    secret_version: credentials.version,
                    why,
                    started: false,
                },
                move |stop, claim| sync_task::run(task_ctx, job, stop, claim).boxed(),
            );
            // The task asks for a reconcile when it ends; this is a safety net.
            Ok(Action::requeue(poll_real.max(Duration::from_secs(1))))
        }
        Plan::Running => Ok(Action::requeue(poll_real.max(Duration::from_secs(1)))),
        Plan::Wait { until } => {
            let wait = clock.to_real(schedule::until(clock.now(), until));
            Ok(Action::requeue(wait.max(Duration::from_millis(50))))
        }
    }
}

/// How far apart routine polls start. pollInterval is the freshness the
/// user asks for: the stored data should never be older than that. A sync
/// reads up to `settle` before its start and takes a moment to run and
/// report, so polls start `settle` plus a twentieth of the interval sooner
/// than pollInterval apart (never less than half of it).
pub fn poll_spacing(poll: Duration, settle: Duration) -> Duration {
    poll.saturating_sub(settle)
        .saturating_sub(poll / 20)
        .max(poll / 2)
}

async fn credentials_problem(
    connection: &ShopifyConnection,
    ctx: &Arc<Context>,
    problem: &CredentialsError,
) -> Result<Action, Error> {
    if problem.is_transient() {
        tracing::warn!(error = %problem, "reading the credentials Secret failed; retrying");
        return Ok(Action::requeue(Duration::from_secs(10)));
    }
    // Without a token nothing may run on the old one.
    ctx.supervisor
        .cancel(&ObjectRef::from_obj(connection))
        .await;
    let generation = connection.metadata.generation;
    let now = Time(ctx.settings.clock.now());
    let reason = problem.reason();
    let message = problem.to_string();
    ctx.status
        .update(connection, |s| {
            let conds = &mut s.conditions;
            conditions::set(
                conds,
                Condition::new(
                    ConditionType::CredentialsValid,
                    false,
                    reason,
                    message.clone(),
                ),
                generation,
                now.clone(),
            );
            conditions::set(
                conds,
                Condition::new(ConditionType::Ready, false, reason, message.clone()),
                generation,
                now.clone(),
            );
            conditions::remove(conds, ConditionType::Reconciling);
            s.observed_generation = generation;
            s.credentials_version = None;
            s.next_sync_time = None;
        })
        .await
        .map_err(Error::Status)?;
    // The Secret watch brings us back as soon as it is created or fixed.
    Ok(Action::requeue(Duration::from_secs(300)))
}

async fn invalid_spec(
    connection: &ShopifyConnection,
    ctx: &Arc<Context>,
    problem: &InvalidSpec,
) -> Result<Action, Error> {
    ctx.supervisor
        .cancel(&ObjectRef::from_obj(connection))
        .await;
    let generation = connection.metadata.generation;
    let now = Time(ctx.settings.clock.now());
    let message = format!("{problem} (edit the spec; nothing syncs until then)");
    ctx.status
        .update(connection, |s| {
            for type_ in [ConditionType::Stalled, ConditionType::Ready] {
                conditions::set(
                    &mut s.conditions,
                    Condition::new(
                        type_,
                        type_ == ConditionType::Stalled,
                        "InvalidSpec",
                        message.clone(),
                    ),
                    generation,
                    now.clone(),
                );
            }
            s.observed_generation = generation;
            s.next_sync_time = None;
        })
        .await
        .map_err(Error::Status)?;
    Ok(Action::await_change())
}

async fn suspended(connection: &ShopifyConnection, ctx: &Arc<Context>) -> Result<(), Error> {
    let generation = connection.metadata.generation;
    let now = Time(ctx.settings.clock.now());
    let message =
        "spec.suspend is true: no syncs are scheduled or requested; set it to false to resume";
    ctx.status
        .update(connection, |s| {
            for type_ in [ConditionType::Ready, ConditionType::Synced] {
                conditions::set(
                    &mut s.conditions,
                    Condition::new(type_, false, "Suspended", message),
                    generation,
                    now.clone(),
                );
            }
            conditions::remove(&mut s.conditions, ConditionType::Reconciling);
            s.observed_generation = generation;
            s.next_sync_time = None;
        })
        .await
        .map_err(Error::Status)?;
    Ok(())
}

/// Deletion: stop syncing, then apply spec.deletionPolicy. Never talks to
/// Shopify, so an unreachable store cannot hold the resource hostage.
async fn cleanup(connection: Arc<ShopifyConnection>, ctx: &Arc<Context>) -> Result<Action, Error> {
    let key = ObjectRef::from_obj(&*connection);
    ctx.supervisor.cancel(&key).await;
    let id = identity(&connection);
    ctx.limiters.for_store(&id.store).remove_share(&id.uid);
    let policy = connection.spec.deletion_policy;
    let note = match policy {
        DeletionPolicy::Retain => {
            "deletionPolicy Retain: the records and their keys are kept".to_owned()
        }
        DeletionPolicy::Purge => match connections::register(&ctx.pool, &id).await {
            Ok(conn) => {
                let report = purge::apply_deletion_policy(&ctx.pool, &conn, policy).await?;
                let (keys, records) = report
                    .map(|r| (r.keys_destroyed, r.records_deleted))
                    .unwrap_or_default();
                format!(
                    "deletionPolicy Purge: {keys} data keys destroyed, {records} records deleted"
                )
            }
            Err(StoreError::Purged { .. }) => "deletionPolicy Purge: already purged".to_owned(),
            Err(e) => return Err(e.into()),
        },
    };
    let event = Event {
        type_: EventType::Normal,
        reason: match policy {
            DeletionPolicy::Retain => "Retained".into(),
            DeletionPolicy::Purge => "Purged".into(),
        },
        note: Some(note),
        action: "Delete".into(),
        secondary: None,
    };
    if let Err(e) = ctx
        .status
        .recorder()
        .publish(&event, &connection.object_ref(&()))
        .await
    {
        tracing::warn!(error = %e, "publishing the deletion Event failed");
    }
    ctx.status.forget(&key);
    ctx.metrics.freshness_lag.remove(&ConnectionLabel {
        namespace: id.namespace,
        name: id.name,
    });
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_start_early_enough_to_keep_data_fresher_than_the_interval() {
        let settle = Duration::from_secs(5);
        assert_eq!(
            poll_spacing(Duration::from_secs(60), settle),
            Duration::from_secs(52)
        );
        assert_eq!(
            poll_spacing(Duration::from_secs(3600), settle),
            Duration::from_secs(3415)
        );
        // A very short interval keeps at least half of itself between polls.
        assert_eq!(
            poll_spacing(Duration::from_secs(8), settle),
            Duration::from_secs(4)
        );
    }
}
