//! Every PATCH format kube and kubectl send edits the object (merge, JSON
//! patch with `test`, strategic merge on built-ins), a resourceVersion in a
//! patch is a precondition, and malformed requests get Status errors with the
//! API server's codes (400, 405, 415, 422).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::support::standin::{api_error, secret, standin};

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
