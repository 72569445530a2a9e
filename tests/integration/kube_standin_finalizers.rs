//! Finalizers hold a ShopifyConnection's deletion as on a real server: the
//! DELETE marks it (deletionTimestamp, generation bumped), no finalizer may
//! be added from then on, and removing the last one (with the JSON patches
//! kube-runtime's finalizer helper sends) deletes it; a watch sees each step.

use futures::StreamExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::json;
use shopsync::api::ShopifyConnection;

use crate::support::standin::{api_error, create_acme, with_crd};

#[tokio::test]
async fn finalizers_hold_deletion_until_the_last_one_goes() {
    let s = with_crd().await;
    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    create_acme(&conns).await;
    let events = conns
        .watch(
            &WatchParams::default()
                .fields("metadata.name=acme")
                .timeout(10),
            "0",
        )
        .await
        .unwrap();
    // The JSON patch kube-runtime's finalizer helper sends for the first finalizer.
    let add: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": ["shopify.fostr.io/cleanup"]}
    ]))
    .unwrap();
    conns
        .patch("acme", &PatchParams::default(), &Patch::Json::<()>(add))
        .await
        .unwrap();

    let deleting = conns
        .delete("acme", &DeleteParams::default())
        .await
        .unwrap();
    let held = deleting.left().expect("the object is still there");
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(
        held.metadata.generation.unwrap_or(-1),
        2,
        "marking for deletion bumps the generation"
    );
    let again = conns.get("acme").await.unwrap();
    assert!(again.metadata.deletion_timestamp.is_some());

    let sneak = conns
        .patch(
            "acme",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"finalizers": ["shopify.fostr.io/cleanup", "late"]}}),
            ),
        )
        .await;
    assert_eq!(api_error(sneak), ("Invalid".into(), 422));

    let remove: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers/0", "value": "shopify.fostr.io/cleanup"},
        {"op": "remove", "path": "/metadata/finalizers/0"}
    ]))
    .unwrap();
    conns
        .patch("acme", &PatchParams::default(), &Patch::Json::<()>(remove))
        .await
        .unwrap();
    assert_eq!(api_error(conns.get("acme").await), ("NotFound".into(), 404));

    let seen: Vec<&str> = events
        .take_while(|e| futures::future::ready(e.is_ok()))
        .map(|e| match e {
            Ok(WatchEvent::Added(_)) => "ADDED",
            Ok(WatchEvent::Modified(_)) => "MODIFIED",
            Ok(WatchEvent::Deleted(_)) => "DELETED",
            _ => "OTHER",
        })
        .take(4)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(seen, ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]);
}
