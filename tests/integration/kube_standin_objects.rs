//! The stand-in API server keeps built-in objects as a real one does, seen
//! through the real kube client: server-set metadata, AlreadyExists and stale
//! writes refused with 409, selectors and pages, patches of every format,
//! Leases replaced under optimistic concurrency, and faults on demand.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::support::standin::{api_error, standin};

fn secret(name: &str, labels: &[(&str, &str)]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        string_data: Some(BTreeMap::from([(
            "accessToken".into(),
            "shpat_test".into(),
        )])),
        ..Secret::default()
    }
}

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
async fn lists_honour_selectors_and_pages() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    for (name, tier) in [
        ("a", "gold"),
        ("b", "silver"),
        ("c", "gold"),
        ("d", "bronze"),
    ] {
        secrets
            .create(&PostParams::default(), &secret(name, &[("tier", tier)]))
            .await
            .unwrap();
    }
    Api::<Secret>::namespaced(s.client(), "elsewhere")
        .create(&PostParams::default(), &secret("e", &[("tier", "gold")]))
        .await
        .unwrap();

    let names = |l: kube::core::ObjectList<Secret>| -> Vec<String> {
        l.items
            .into_iter()
            .filter_map(|s| s.metadata.name)
            .collect()
    };
    let gold = secrets
        .list(&ListParams::default().labels("tier=gold"))
        .await
        .unwrap();
    assert_eq!(names(gold), ["a", "c"]);
    let not_gold = secrets
        .list(&ListParams::default().labels("tier!=gold"))
        .await
        .unwrap();
    assert_eq!(names(not_gold), ["b", "d"]);
    let set = secrets
        .list(&ListParams::default().labels("tier in (silver,bronze)"))
        .await
        .unwrap();
    assert_eq!(names(set), ["b", "d"]);
    let by_name = secrets
        .list(&ListParams::default().fields("metadata.name=c"))
        .await
        .unwrap();
    assert_eq!(names(by_name), ["c"]);
    let everywhere = Api::<Secret>::all(s.client())
        .list(&ListParams::default().labels("tier=gold"))
        .await
        .unwrap();
    assert_eq!(names(everywhere), ["a", "c", "e"]);

    let first = secrets.list(&ListParams::default().limit(3)).await.unwrap();
    let token = first.metadata.continue_.clone().expect("a continue token");
    let list_rv = first.metadata.resource_version.clone();
    assert_eq!(first.metadata.remaining_item_count, Some(1));
    assert_eq!(names(first), ["a", "b", "c"]);
    let rest = secrets
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(
        rest.metadata.resource_version, list_rv,
        "pages share the list's revision"
    );
    assert!(rest.metadata.continue_.as_deref().is_none_or(str::is_empty));
    assert_eq!(names(rest), ["d"]);

    let bad = secrets
        .list(&ListParams::default().fields("data.accessToken=x"))
        .await;
    assert_eq!(api_error(bad), ("BadRequest".into(), 400));
}

#[tokio::test]
async fn every_patch_format_edits_the_object() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    secrets
        .create(&PostParams::default(), &secret("acme", &[("a", "1")]))
        .await
        .unwrap();
    let pp = PatchParams::default();
    let merged = secrets
        .patch(
            "acme",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"a": null, "b": "2"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        merged.metadata.labels,
        Some(BTreeMap::from([("b".into(), "2".into())]))
    );

    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/labels/b", "value": "2"},
        {"op": "add", "path": "/metadata/labels/c", "value": "3"}
    ]))
    .unwrap();
    let patched = secrets
        .patch("acme", &pp, &Patch::Json::<()>(ops))
        .await
        .unwrap();
    assert_eq!(patched.metadata.labels.unwrap().len(), 2);

    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/labels/b", "value": "nope"}
    ]))
    .unwrap();
    let refused = secrets
        .patch("acme", &pp, &Patch::Json::<()>(failing))
        .await;
    assert_eq!(api_error(refused).1, 422);

    let strategic = secrets
        .patch(
            "acme",
            &pp,
            &Patch::Strategic(json!({"metadata": {"annotations": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(strategic.metadata.annotations.unwrap()["x"], "y");

    let stale_rv = secrets
        .patch(
            "acme",
            &pp,
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1", "labels": {"d": "4"}}})),
        )
        .await;
    assert_eq!(api_error(stale_rv), ("Conflict".into(), 409));
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

#[tokio::test]
async fn raw_http_gets_status_errors_for_bad_requests() {
    let s = standin().await;
    let http = reqwest::Client::new();
    let base = s.url();
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    secrets
        .create(&PostParams::default(), &secret("acme", &[]))
        .await
        .unwrap();

    let status_of = |r: reqwest::Response| async move {
        let code = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["kind"], "Status");
        (code, body["reason"].as_str().unwrap_or("").to_owned())
    };
    let path = base
        .join("/api/v1/namespaces/default/secrets/acme")
        .unwrap();
    let unsupported = http
        .patch(path.clone())
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_of(unsupported).await,
        (415, "UnsupportedMediaType".into())
    );
    let post_named = http.post(path.clone()).body("{}").send().await.unwrap();
    assert_eq!(
        status_of(post_named).await,
        (405, "MethodNotAllowed".into())
    );
    let garbage = http
        .put(path)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(garbage).await, (400, "BadRequest".into()));
    let unknown = http
        .get(base.join("/apis/nothing.io/v1/things").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(unknown).await, (404, "NotFound".into()));
}

#[tokio::test]
async fn unavailability_answers_503_and_kube_retries_through_it() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    s.set_unavailable(true);
    let raw = reqwest::get(s.url().join("/api/v1/namespaces/default/secrets").unwrap())
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 503);
    let before = s.request_count();

    // kube's default client retries 503 with backoff, as it would against a
    // real server that is briefly down: the list succeeds once the fault lifts.
    let pending = tokio::spawn(async move { secrets.list(&ListParams::default()).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    s.set_unavailable(false);
    let listed = tokio::time::timeout(std::time::Duration::from_secs(10), pending)
        .await
        .expect("the retried list finishes soon after the fault lifts")
        .unwrap();
    assert!(listed.is_ok(), "{listed:?}");
    assert!(
        s.request_count() >= before + 3,
        "some attempts were refused first"
    );
    let last = s.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", "/api/v1/namespaces/default/secrets")
    );
}
