//! Watches against the stand-in behave as kube-runtime expects of a real API
//! server: a watcher lists then follows changes, resumes from its last
//! resourceVersion when its watch is cut, re-lists after 410 Expired, reads
//! streaming lists, and a reflector mirrors the objects.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;
use shopsync::kube_standin::{Options, StandIn};
use tokio::sync::mpsc;

use crate::support::standin::{eventually, named, standin, standin_with};

/// Runs a watcher in the background; its events arrive on the receiver.
fn watch_secrets(
    s: &StandIn,
    config: watcher::Config,
) -> mpsc::UnboundedReceiver<watcher::Event<Secret>> {
    let api: Api<Secret> = Api::namespaced(s.client(), "default");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = watcher(api, config).boxed();
        while let Some(item) = stream.next().await {
            // Errors (a cut watch, a 410) are retried by the next poll.
            if let Ok(event) = item
                && tx.send(event).is_err()
            {
                return;
            }
        }
    });
    rx
}

fn name_of(e: &watcher::Event<Secret>) -> (&'static str, String) {
    let (kind, s) = match e {
        watcher::Event::Apply(s) => ("apply", s),
        watcher::Event::Delete(s) => ("delete", s),
        watcher::Event::InitApply(s) => ("init-apply", s),
        watcher::Event::Init => return ("init", String::new()),
        watcher::Event::InitDone => return ("init-done", String::new()),
    };
    (kind, s.metadata.name.clone().unwrap_or_default())
}

/// Waits for an event of `kind` about `name` ("" for Init/InitDone).
async fn expect(rx: &mut mpsc::UnboundedReceiver<watcher::Event<Secret>>, kind: &str, name: &str) {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = rx.recv().await {
            if name_of(&e) == (kind, name.to_owned()) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no {kind} event for {name:?}");
}

fn list_calls(s: &StandIn) -> usize {
    s.requests()
        .iter()
        .filter(|r| {
            r.method == "GET" && r.path.ends_with("/secrets") && !r.query.contains("watch=true")
        })
        .count()
}

#[tokio::test]
async fn a_watcher_lists_then_follows_changes() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    secrets
        .create(&PostParams::default(), &named("before"))
        .await
        .unwrap();
    let mut rx = watch_secrets(&s, watcher::Config::default());
    expect(&mut rx, "init-apply", "before").await;
    expect(&mut rx, "init-done", "").await;
    secrets
        .create(&PostParams::default(), &named("after"))
        .await
        .unwrap();
    expect(&mut rx, "apply", "after").await;
    secrets
        .delete("before", &DeleteParams::default())
        .await
        .unwrap();
    expect(&mut rx, "delete", "before").await;
}

#[tokio::test]
async fn a_cut_watch_resumes_from_its_last_version_without_relisting() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    let mut rx = watch_secrets(&s, watcher::Config::default());
    expect(&mut rx, "init-done", "").await;
    secrets
        .create(&PostParams::default(), &named("a"))
        .await
        .unwrap();
    expect(&mut rx, "apply", "a").await;

    s.close_watches();
    secrets
        .create(&PostParams::default(), &named("b"))
        .await
        .unwrap();
    expect(&mut rx, "apply", "b").await;
    assert_eq!(
        list_calls(&s),
        1,
        "the watcher resumed with a watch, not a list"
    );
    let watches = s
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("watch=true"))
        .count();
    assert!(watches >= 2, "the watcher opened a second watch");
}

#[tokio::test]
async fn expired_history_makes_the_watcher_list_again() {
    let s = standin_with(Options {
        bookmark_interval: Duration::from_secs(3600),
        ..Options::default()
    })
    .await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    secrets
        .create(&PostParams::default(), &named("a"))
        .await
        .unwrap();
    let mut rx = watch_secrets(&s, watcher::Config::default());
    expect(&mut rx, "init-done", "").await;

    // A change the secrets watch never sees moves the revision past it; once
    // history is compacted, its resourceVersion is too old to resume from.
    Api::<Lease>::namespaced(s.client(), "default")
        .create(&PostParams::default(), &named("elsewhere"))
        .await
        .unwrap();
    s.compact();
    s.close_watches();
    expect(&mut rx, "init", "").await;
    expect(&mut rx, "init-apply", "a").await;
    expect(&mut rx, "init-done", "").await;
    assert_eq!(list_calls(&s), 2);
}

#[tokio::test]
async fn streaming_lists_end_with_the_initial_events_bookmark() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    secrets
        .create(&PostParams::default(), &named("a"))
        .await
        .unwrap();
    let mut rx = watch_secrets(&s, watcher::Config::default().streaming_lists());
    expect(&mut rx, "init-apply", "a").await;
    expect(&mut rx, "init-done", "").await;
    secrets
        .create(&PostParams::default(), &named("b"))
        .await
        .unwrap();
    expect(&mut rx, "apply", "b").await;
    assert_eq!(
        list_calls(&s),
        0,
        "no list call: the watch carried the initial state"
    );
}

#[tokio::test]
async fn a_reflector_mirrors_creates_patches_and_deletes() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    let (store, writer) = reflector::store::<Secret>();
    let stream = reflector(writer, watcher(secrets.clone(), watcher::Config::default()))
        .applied_objects()
        .for_each(|_| async {});
    let task = tokio::spawn(stream);
    store.wait_until_ready().await.unwrap();

    secrets
        .create(&PostParams::default(), &named("a"))
        .await
        .unwrap();
    secrets
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "1"}}})),
        )
        .await
        .unwrap();
    let labelled = eventually(Duration::from_secs(5), || async {
        store.state().iter().any(|s| {
            s.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.get("x").is_some_and(|v| v == "1"))
        })
    })
    .await;
    assert!(labelled, "the store saw the patch");
    secrets.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            store.state().is_empty()
        })
        .await
    );
    task.abort();
}

#[tokio::test]
async fn selector_watches_see_objects_leave_and_enter() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    let stream = secrets
        .watch(&WatchParams::default().labels("app=shop").timeout(10), "0")
        .await
        .unwrap();
    let mut stream = stream.boxed();
    let mut labelled: Secret = named("s");
    labelled.metadata.labels = Some([("app".to_string(), "shop".to_string())].into());
    secrets
        .create(&PostParams::default(), &labelled)
        .await
        .unwrap();
    for app in ["web", "shop"] {
        secrets
            .patch(
                "s",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"app": app}}})),
            )
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match stream.try_next().await.unwrap() {
            Some(WatchEvent::Added(_)) => seen.push("ADDED"),
            Some(WatchEvent::Modified(_)) => seen.push("MODIFIED"),
            Some(WatchEvent::Deleted(_)) => seen.push("DELETED"),
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(seen, ["ADDED", "DELETED", "ADDED"]);
}
