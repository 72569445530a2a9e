//! A kube stand-in API server per test, and fixtures for the objects the
//! operator deals with.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use serde_json::json;
use shopsync::api::ShopifyConnection;
use shopsync::kube_standin::{Options, StandIn};

/// A stand-in with default options.
pub async fn standin() -> StandIn {
    standin_with(Options::default()).await
}

pub async fn standin_with(options: Options) -> StandIn {
    let _ = rustls::crypto::ring::default_provider().install_default();
    StandIn::start_with(options)
        .await
        .expect("the stand-in starts on a free port")
}

/// A stand-in serving the ShopifyConnection CRD.
pub async fn with_crd() -> StandIn {
    let s = standin().await;
    s.install_shopsync_crd().await.expect("CRD installs");
    s
}

/// A minimal valid connection for `store`.
pub fn connection(name: &str, store: &str) -> ShopifyConnection {
    serde_json::from_value(json!({
        "apiVersion": "shopify.fostr.io/v1alpha1",
        "kind": "ShopifyConnection",
        "metadata": {"name": name},
        "spec": {"store": store, "credentials": {"secretRef": {"name": format!("{name}-shopify")}}},
    }))
    .expect("fixture connection decodes")
}

/// Creates the fixture connection `acme` (store acme.myshopify.com).
pub async fn create_acme(conns: &kube::Api<ShopifyConnection>) -> ShopifyConnection {
    conns
        .create(
            &kube::api::PostParams::default(),
            &connection("acme", "acme.myshopify.com"),
        )
        .await
        .expect("creating the fixture connection")
}

/// An object of any kind with just a name.
pub fn named<K: Default + kube::Resource>(name: &str) -> K {
    let mut k = K::default();
    k.meta_mut().name = Some(name.into());
    k
}

/// A Secret holding an access token, with labels.
pub fn secret(name: &str, labels: &[(&str, &str)]) -> Secret {
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

/// Polls `check` until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The API error's reason and code, or a panic naming what came back instead.
pub fn api_error<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> (String, u16) {
    match result {
        Err(kube::Error::Api(status)) => (status.reason.clone(), status.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}
