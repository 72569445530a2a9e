//! The record store's name for a connection: its Kubernetes uid (which
//! record ciphertexts are bound to), namespace, name, store and environment.

use crate::api::ShopifyConnection;
use crate::store::ConnectionIdentity;

/// Without a cluster (`shopsync sync`) there is no uid: one derived from the
/// name keeps the same manifest on the same records across runs.
pub fn identity(connection: &ShopifyConnection) -> ConnectionIdentity {
    let namespace = connection
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let name = connection.metadata.name.clone().unwrap_or_default();
    ConnectionIdentity {
        uid: connection
            .metadata
            .uid
            .clone()
            .unwrap_or_else(|| format!("local:{namespace}/{name}")),
        namespace,
        name,
        store: connection.spec.store.clone(),
        environment: connection.spec.environment.clone(),
    }
}
