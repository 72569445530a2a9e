//! Status and generation on ShopifyConnections follow the API server's
//! custom resource rules: generation moves with spec changes only, status is
//! written only through its subresource, server-side apply merges
//! conditions by type, removes what its manager stops sending and refuses to
//! take fields from another manager unless forced; apply creates objects.

use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use shopsync::api::ShopifyConnection;

use crate::support::standin::{api_error, create_acme, with_crd};

fn cond(type_: &str, status: &str) -> Value {
    json!({"type": type_, "status": status, "reason": "Test", "message": "set by the test",
           "lastTransitionTime": "2026-01-01T00:00:00Z"})
}

fn status_apply(conditions: Vec<Value>) -> Patch<Value> {
    Patch::Apply(json!({
        "apiVersion": "shopify.fostr.io/v1alpha1",
        "kind": "ShopifyConnection",
        "status": {"conditions": conditions},
    }))
}

fn condition_types(c: &ShopifyConnection) -> Vec<(String, String)> {
    c.status
        .as_ref()
        .map(|s| {
            s.conditions
                .iter()
                .map(|c| (c.type_.clone(), format!("{:?}", c.status)))
                .collect()
        })
        .unwrap_or_default()
}

fn generation(c: &ShopifyConnection) -> i64 {
    c.metadata.generation.unwrap_or(-1)
}

#[tokio::test]
async fn generation_counts_spec_changes_and_status_has_its_own_endpoint() {
    let s = with_crd().await;
    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    let created = create_acme(&conns).await;
    assert_eq!(generation(&created), 1);
    let pp = PatchParams::default();

    let labelled = conns
        .patch(
            "acme",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&labelled), 1, "metadata is not spec");

    let status_via_main = conns
        .patch(
            "acme",
            &pp,
            &Patch::Merge(json!({"status": {"observedGeneration": 7}})),
        )
        .await
        .unwrap();
    assert!(
        status_via_main.status.is_none(),
        "the main resource ignores status"
    );
    assert_eq!(
        status_via_main.metadata.resource_version, labelled.metadata.resource_version,
        "an ignored change is no change: no new resourceVersion"
    );

    let suspended = conns
        .patch(
            "acme",
            &pp,
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&suspended), 2);

    let with_status = conns
        .patch_status(
            "acme",
            &pp,
            &Patch::Merge(json!({"spec": {"suspend": false}, "status": {"observedGeneration": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(
        with_status.status.as_ref().unwrap().observed_generation,
        Some(2)
    );
    assert!(with_status.spec.suspend, "the status endpoint ignores spec");
    assert_eq!(generation(&with_status), 2, "status is not spec");

    let mut stale = created;
    stale.spec.suspend = false;
    let conflict = conns.replace("acme", &PostParams::default(), &stale).await;
    assert_eq!(api_error(conflict), ("Conflict".into(), 409));
    stale.metadata.resource_version = None;
    let unconditional = conns.replace("acme", &PostParams::default(), &stale).await;
    assert_eq!(api_error(unconditional), ("Invalid".into(), 422));

    let smp = conns
        .patch(
            "acme",
            &pp,
            &Patch::Strategic(json!({"spec": {"suspend": false}})),
        )
        .await;
    assert_eq!(api_error(smp), ("UnsupportedMediaType".into(), 415));
}

#[tokio::test]
async fn status_apply_merges_conditions_by_type_and_tracks_owners() {
    let s = with_crd().await;
    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    create_acme(&conns).await;
    let controller = PatchParams::apply("shopsync-controller").force();
    conns
        .patch_status(
            "acme",
            &controller,
            &status_apply(vec![cond("Ready", "True"), cond("Synced", "True")]),
        )
        .await
        .unwrap();
    let other = PatchParams::apply("backfill-job");
    let merged = conns
        .patch_status(
            "acme",
            &other,
            &status_apply(vec![cond("BackfillComplete", "False")]),
        )
        .await
        .unwrap();
    assert_eq!(
        condition_types(&merged),
        [
            ("Ready".into(), "True".into()),
            ("Synced".into(), "True".into()),
            ("BackfillComplete".into(), "False".into())
        ]
    );

    // The controller stops sending Synced: it owned it alone, so it goes.
    let pruned = conns
        .patch_status(
            "acme",
            &controller,
            &status_apply(vec![cond("Ready", "False")]),
        )
        .await
        .unwrap();
    assert_eq!(
        condition_types(&pruned),
        [
            ("Ready".into(), "False".into()),
            ("BackfillComplete".into(), "False".into())
        ]
    );

    let clash = conns
        .patch_status("acme", &other, &status_apply(vec![cond("Ready", "True")]))
        .await;
    match clash {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 409);
            assert!(
                status
                    .message
                    .contains("conflict with \"shopsync-controller\""),
                "{}",
                status.message
            );
            assert!(
                status
                    .message
                    .contains(".status.conditions[type=\"Ready\"].status"),
                "{}",
                status.message
            );
        }
        other => panic!("expected an apply conflict, got {other:?}"),
    }
    let forced = conns
        .patch_status(
            "acme",
            &PatchParams::apply("backfill-job").force(),
            &status_apply(vec![cond("Ready", "True")]),
        )
        .await
        .unwrap();
    assert_eq!(condition_types(&forced)[0], ("Ready".into(), "True".into()));

    let managers: Vec<(String, Option<String>)> = forced
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.manager.unwrap_or_default(), m.subresource))
        .collect();
    assert!(managers.contains(&("shopsync-controller".into(), Some("status".into()))));
    assert!(managers.contains(&("backfill-job".into(), Some("status".into()))));

    let unnamed = conns
        .patch_status("acme", &PatchParams::default(), &status_apply(vec![]))
        .await;
    assert_eq!(
        api_error(unnamed).0,
        "Invalid",
        "apply needs a field manager"
    );
    let no_object = conns
        .patch_status(
            "ghost",
            &controller,
            &status_apply(vec![cond("Ready", "True")]),
        )
        .await;
    assert_eq!(api_error(no_object), ("NotFound".into(), 404));
}

#[tokio::test]
async fn apply_creates_the_object_and_owns_its_spec_fields() {
    let s = with_crd().await;
    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    let manifest = |suspend: bool| {
        Patch::Apply(json!({
            "apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
            "metadata": {"name": "acme", "labels": {"team": "a"}},
            "spec": {"store": "acme.myshopify.com", "suspend": suspend,
                     "credentials": {"secretRef": {"name": "acme-shopify"}}},
        }))
    };
    let gitops = PatchParams::apply("flux");
    let created = conns.patch("acme", &gitops, &manifest(true)).await.unwrap();
    assert_eq!(generation(&created), 1);
    assert!(created.spec.suspend);
    let same = conns.patch("acme", &gitops, &manifest(true)).await.unwrap();
    assert_eq!(
        same.metadata.resource_version, created.metadata.resource_version,
        "re-applying is a no-op"
    );

    let edit = conns
        .patch(
            "acme",
            &PatchParams::apply("kubectl-edit"),
            &manifest(false),
        )
        .await;
    assert_eq!(
        api_error(edit).1,
        409,
        "another manager may not silently take spec.suspend"
    );
    let resumed = conns
        .patch("acme", &gitops, &manifest(false))
        .await
        .unwrap();
    assert_eq!(generation(&resumed), 2);
}
