//! The stand-in keeps built-in objects as a real API server does, seen
//! through the real kube client: server-set metadata, AlreadyExists and stale
//! writes refused with 409, Leases replaced under optimistic concurrency,
//! deletes answered with a Status.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};

use crate::support::standin::{api_error, secret, standin};

#[tokio::test]
async fn created_objects_get_server_metadata_and_names_are_unique() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "shops");
    let created = secrets
        .create(&PostParams::default(), &secret("acme", &[]))
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.as_deref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    assert!(
        meta.resource_version
            .as_deref()
            .is_some_and(|rv| rv.parse::<u64>().is_ok())
    );
    assert_eq!(meta.namespace.as_deref(), Some("shops"));
    assert_eq!(created.type_.as_deref(), Some("Opaque"));
    let data = created.data.unwrap();
    assert_eq!(data["accessToken"].0, b"shpat_test");
    assert!(created.string_data.is_none(), "stringData is write-only");

    let namespaces: Api<Namespace> = Api::all(s.client());
    let shops = namespaces.get("shops").await.unwrap();
    assert_eq!(
        shops.status.and_then(|st| st.phase).as_deref(),
        Some("Active"),
        "created on first use"
    );
    namespaces.get("default").await.unwrap();

    let again = secrets
        .create(&PostParams::default(), &secret("acme", &[]))
        .await;
    assert_eq!(api_error(again), ("AlreadyExists".into(), 409));

    let mut generated = secret("", &[]);
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("token-".into());
    let made = secrets
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    let name = made.metadata.name.unwrap();
    assert!(
        name.starts_with("token-") && name.len() == "token-".len() + 5,
        "{name}"
    );

    let invalid = secrets
        .create(&PostParams::default(), &secret("Not_A_Name", &[]))
        .await;
    assert_eq!(api_error(invalid), ("Invalid".into(), 422));
}

#[tokio::test]
async fn stale_updates_conflict_and_fresh_ones_advance_the_resource_version() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    let v1 = secrets
        .create(&PostParams::default(), &secret("acme", &[]))
        .await
        .unwrap();
    let mut edit = v1.clone();
    edit.metadata.labels = Some(BTreeMap::from([("tier".into(), "gold".into())]));
    let v2 = secrets
        .replace("acme", &PostParams::default(), &edit)
        .await
        .unwrap();
    let rv = |s: &Secret| {
        s.metadata
            .resource_version
            .clone()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&v2) > rv(&v1));

    let stale = secrets.replace("acme", &PostParams::default(), &edit).await;
    assert_eq!(api_error(stale), ("Conflict".into(), 409));

    let missing = secrets
        .replace("nope", &PostParams::default(), &secret("nope", &[]))
        .await;
    assert_eq!(api_error(missing), ("NotFound".into(), 404));
}

#[tokio::test]
async fn leases_are_taken_over_only_from_the_current_version() {
    let s = standin().await;
    let leases: Api<Lease> = Api::namespaced(s.client(), "shopsync-system");
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some("shopsync-leader".into()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("pod-a".into()),
            lease_duration_seconds: Some(15),
            ..LeaseSpec::default()
        }),
    };
    let held = leases.create(&PostParams::default(), &lease).await.unwrap();
    let mut takeover = held.clone();
    takeover.spec.as_mut().unwrap().holder_identity = Some("pod-b".into());
    let taken = leases
        .replace("shopsync-leader", &PostParams::default(), &takeover)
        .await
        .unwrap();
    assert_eq!(
        taken.spec.unwrap().holder_identity.as_deref(),
        Some("pod-b")
    );

    // pod-a still holds the old version: its renewal must lose.
    let mut renewal = held;
    renewal.spec.as_mut().unwrap().lease_duration_seconds = Some(30);
    let lost = leases
        .replace("shopsync-leader", &PostParams::default(), &renewal)
        .await;
    assert_eq!(api_error(lost), ("Conflict".into(), 409));
    let all = Api::<Lease>::all(s.client())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
}

#[tokio::test]
async fn deletes_remove_and_answer_not_found_afterwards() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    secrets
        .create(&PostParams::default(), &secret("acme", &[]))
        .await
        .unwrap();
    let answer = secrets
        .delete("acme", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        answer.is_right(),
        "built-in kinds answer a Status once gone"
    );
    assert_eq!(
        api_error(secrets.get("acme").await),
        ("NotFound".into(), 404)
    );
    let again = secrets.delete("acme", &DeleteParams::default()).await;
    assert_eq!(api_error(again), ("NotFound".into(), 404));
}
