//! Checks a connection's spec before anything acts on it. Pure.
//!
//! The API server already ran the CRD's CEL rules; they are run again here
//! because a cluster may serve an older CRD than this binary, or none of
//! its validation (CloudNativePG does the same when webhooks are absent).

use std::time::Duration;

use crate::api::ShopifyConnection;
use crate::api::admission::admit;

/// What the rest of the pipeline needs from a spec that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub poll: Duration,
}

/// The spec cannot be used; only editing it helps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSpec(pub String);

pub fn validate(connection: &ShopifyConnection) -> Result<Valid, InvalidSpec> {
    let manifest = serde_json::to_value(connection)
        .map_err(|e| InvalidSpec(format!("the resource does not serialise: {e}")))?;
    admit(&manifest, None).map_err(|e| InvalidSpec(e.to_string()))?;
    let poll = connection
        .spec
        .poll_every()
        .map_err(|e| InvalidSpec(e.to_string()))?;
    Ok(Valid { poll })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(poll: &str) -> ShopifyConnection {
        let manifest = serde_json::json!({
            "apiVersion": "shopify.fostr.io/v1alpha1",
            "kind": "ShopifyConnection",
            "metadata": {"name": "acme", "namespace": "shops"},
            "spec": {
                "store": "acme.myshopify.com",
                "credentials": {"secretRef": {"name": "acme"}},
                "pollInterval": poll,
                "backfill": {"window": "30d"}
            }
        });
        serde_json::from_value(manifest).unwrap()
    }

    #[test]
    fn a_good_spec_yields_its_poll_interval() {
        assert_eq!(
            validate(&connection("5m")).unwrap(),
            Valid {
                poll: Duration::from_secs(300)
            }
        );
    }

    #[test]
    fn a_bad_spec_says_which_field_to_fix() {
        let err = validate(&connection("5s")).unwrap_err();
        assert!(err.0.contains("pollInterval"), "{err}");
    }
}
