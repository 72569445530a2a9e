//! What must hold before the operator starts: the CRD is installed, the
//! database answers (and is migrated, under sqlx's advisory lock), the
//! master key loads. Each failure says what to do.

use std::path::Path;
use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{Api, CustomResourceExt};
use sqlx::PgPool;

use crate::api::ShopifyConnection;
use crate::api::crd::CRD_PATH;
use crate::crypto::MasterKey;
use crate::store::{RetryPolicy, connect};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "the ShopifyConnection CRD ({name}) is not installed in the cluster: install the Helm chart, or `kubectl apply -f {CRD_PATH}`"
    )]
    CrdMissing { name: String },
    #[error(
        "the ShopifyConnection CRD ({name}) does not serve {version}: upgrade it (`kubectl apply -f {CRD_PATH}`)"
    )]
    CrdOutdated { name: String, version: String },
    #[error("cannot reach the Kubernetes API server to check the CRD: {0}")]
    ApiServer(#[source] kube::Error),
    #[error("cannot open the record store (DATABASE_URL): {0}")]
    Database(#[source] crate::store::StoreError),
    #[error("cannot load the master key (--master-key-file / SHOPSYNC_MASTER_KEY_FILE): {0}")]
    MasterKey(#[source] crate::crypto::CryptoError),
}

/// Refuses to go on without the CRD.
pub async fn check_crd(client: &kube::Client) -> Result<(), StartupError> {
    let crd = ShopifyConnection::crd();
    let name = crd.metadata.name.clone().unwrap_or_default();
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let installed = api
        .get_opt(&name)
        .await
        .map_err(StartupError::ApiServer)?
        .ok_or_else(|| StartupError::CrdMissing { name: name.clone() })?;
    let version = ShopifyConnection::crd()
        .spec
        .versions
        .first()
        .map(|v| v.name.clone())
        .unwrap_or_default();
    if !installed
        .spec
        .versions
        .iter()
        .any(|v| v.name == version && v.served)
    {
        return Err(StartupError::CrdOutdated { name, version });
    }
    Ok(())
}

/// Connects (a few attempts, then a clear error) and migrates.
pub async fn open_store(url: &str) -> Result<PgPool, StartupError> {
    let policy = RetryPolicy {
        attempts: 5,
        ..RetryPolicy::default()
    };
    connect(url, policy).await.map_err(StartupError::Database)
}

pub fn load_master_key(path: &Path) -> Result<Arc<MasterKey>, StartupError> {
    MasterKey::load(path)
        .map(Arc::new)
        .map_err(StartupError::MasterKey)
}
