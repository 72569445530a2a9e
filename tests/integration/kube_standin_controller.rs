//! kube-runtime's own machinery runs unchanged against the stand-in: a
//! Controller reconciles on create and spec change, writes status with
//! server-side apply and settles (a no-op apply makes no new event); the
//! finalizer helper holds deletion until cleanup ran; a Recorder's Events,
//! repeated as a series, are what `kubectl describe` lists.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::finalizer::{Event as Finalize, finalizer};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use shopsync::api::ShopifyConnection;

use crate::support::standin::{api_error, create_acme, eventually, with_crd};

const FINALIZER: &str = "shopify.fostr.io/cleanup";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failed(String);

#[derive(Default)]
struct Seen {
    reconciled: Vec<(String, i64)>,
    cleaned: Vec<String>,
}

struct Ctx {
    client: Client,
    seen: Mutex<Seen>,
}

async fn reconcile(obj: Arc<ShopifyConnection>, ctx: Arc<Ctx>) -> Result<Action, Failed> {
    let ns = obj.namespace().unwrap_or_default();
    let api: Api<ShopifyConnection> = Api::namespaced(ctx.client.clone(), &ns);
    finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalize::Apply(c) => {
                let generation = c.metadata.generation.unwrap_or(0);
                ctx.seen
                    .lock()
                    .unwrap()
                    .reconciled
                    .push((c.name_any(), generation));
                let status = Patch::Apply(json!({
                    "apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
                    "status": {"observedGeneration": generation, "conditions": [{
                        "type": "Ready", "status": "True", "reason": "Reconciled",
                        "message": "seen by the test controller", "observedGeneration": generation,
                        "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
                }));
                api.patch_status(
                    &c.name_any(),
                    &PatchParams::apply("test-controller").force(),
                    &status,
                )
                .await?;
                Ok::<_, kube::Error>(Action::await_change())
            }
            Finalize::Cleanup(c) => {
                ctx.seen.lock().unwrap().cleaned.push(c.name_any());
                Ok(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Failed(e.to_string()))
}

fn error_policy(_obj: Arc<ShopifyConnection>, _err: &Failed, _ctx: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_millis(100))
}

#[tokio::test]
async fn a_controller_reconciles_settles_and_finalizes() {
    let s = with_crd().await;
    let client = s.client();
    let conns: Api<ShopifyConnection> = Api::namespaced(client.clone(), "shops");
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        seen: Mutex::new(Seen::default()),
    });
    let controller = Controller::new(
        Api::<ShopifyConnection>::all(client),
        watcher::Config::default(),
    )
    .run(reconcile, error_policy, Arc::clone(&ctx))
    .for_each(|_| async {});
    let task = tokio::spawn(controller);

    create_acme(&conns).await;
    let observed = |generation: i64| {
        let conns = conns.clone();
        async move {
            conns.get("acme").await.ok().is_some_and(|c| {
                c.finalizers().iter().any(|f| f == FINALIZER)
                    && c.status.and_then(|st| st.observed_generation) == Some(generation)
            })
        }
    };
    assert!(
        eventually(Duration::from_secs(10), || observed(1)).await,
        "status for generation 1"
    );

    conns
        .patch(
            "acme",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || observed(2)).await,
        "status for generation 2"
    );

    // Re-applying the same status changes nothing, so nothing wakes the controller again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = ctx.seen.lock().unwrap().reconciled.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = ctx.seen.lock().unwrap().reconciled.len();
    assert_eq!(settled, later, "the controller settled");
    assert!(later <= 8, "no reconcile storm: {later} reconciles");

    conns
        .delete("acme", &DeleteParams::default())
        .await
        .unwrap();
    let gone = eventually(Duration::from_secs(10), || async {
        matches!(conns.get("acme").await, Err(kube::Error::Api(ref s)) if s.code == 404)
    })
    .await;
    assert!(gone, "the finalizer was removed after cleanup");
    assert_eq!(ctx.seen.lock().unwrap().cleaned, ["acme"]);
    task.abort();
}

#[tokio::test]
async fn recorder_events_are_listed_as_core_events_for_describe() {
    let s = with_crd().await;
    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    let conn = create_acme(&conns).await;
    let recorder = Recorder::new(
        s.client(),
        Reporter {
            controller: "shopsync".into(),
            instance: Some("shopsync-0".into()),
        },
    );
    let synced = Event {
        type_: EventType::Normal,
        reason: "Synced".into(),
        note: Some("synced 3 orders".into()),
        action: "Sync".into(),
        secondary: None,
    };
    let reference = conn.object_ref(&());
    recorder.publish(&synced, &reference).await.unwrap();
    recorder.publish(&synced, &reference).await.unwrap();

    let writes: Vec<String> = s
        .requests()
        .into_iter()
        .filter(|r| {
            r.path == "/apis/events.k8s.io/v1/namespaces/shops/events"
                || r.path
                    .starts_with("/apis/events.k8s.io/v1/namespaces/shops/events/")
        })
        .map(|r| r.method)
        .collect();
    assert_eq!(writes, ["POST", "PATCH"], "a repeat is a series patch");

    // What `kubectl describe` asks for.
    let uid = conn.uid().unwrap();
    let selector = format!(
        "involvedObject.name=acme,involvedObject.namespace=shops,involvedObject.kind=ShopifyConnection,involvedObject.uid={uid}"
    );
    let events = Api::<CoreEvent>::namespaced(s.client(), "shops")
        .list(&ListParams::default().fields(&selector))
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    let e = &events.items[0];
    assert_eq!(e.message.as_deref(), Some("synced 3 orders"));
    assert_eq!(e.reason.as_deref(), Some("Synced"));
    assert_eq!(e.reporting_component.as_deref(), Some("shopsync"));
    assert_eq!(e.series.as_ref().map(|s| s.count), Some(Some(2)));

    let none = Api::<CoreEvent>::namespaced(s.client(), "shops")
        .list(&ListParams::default().fields("involvedObject.name=other"))
        .await
        .unwrap();
    assert!(none.items.is_empty());
    let unsupported = Api::<CoreEvent>::namespaced(s.client(), "shops")
        .list(&ListParams::default().fields("note.text=x"))
        .await;
    assert_eq!(api_error(unsupported).1, 400);
}
