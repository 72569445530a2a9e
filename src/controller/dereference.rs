//! Loads what a connection points at: the credentials Secret. The only
//! step of the reconcile pipeline besides status that reads the cluster.

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::api::ShopifyConnection;
use crate::shopify::AccessToken;

/// The access token and the Secret version it came from.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub token: AccessToken,
    /// The Secret's resourceVersion: a change means the token was rotated.
    pub version: String,
}

/// Why there is no usable token. Each is a condition reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error(
        "Secret {namespace}/{name} does not exist: create it with the store's Admin API access token under key {key:?} (spec.credentials.secretRef)"
    )]
    SecretNotFound {
        namespace: String,
        name: String,
        key: String,
    },
    #[error(
        "Secret {namespace}/{name} has no key {key:?}: add the access token under that key, or point spec.credentials.secretRef.key at the key that holds it"
    )]
    KeyNotFound {
        namespace: String,
        name: String,
        key: String,
    },
    #[error(
        "Secret {namespace}/{name} key {key:?} is empty or not UTF-8: store the Admin API access token there"
    )]
    EmptyToken {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("reading Secret {namespace}/{name}: {message}")]
    Unreadable {
        namespace: String,
        name: String,
        message: String,
    },
}

impl CredentialsError {
    pub fn reason(&self) -> &'static str {
        match self {
            CredentialsError::SecretNotFound { .. } => "SecretNotFound",
            CredentialsError::KeyNotFound { .. } => "SecretKeyNotFound",
            CredentialsError::EmptyToken { .. } => "EmptyToken",
            CredentialsError::Unreadable { .. } => "SecretUnreadable",
        }
    }

    /// A transient API failure is retried; the others wait for the Secret to change.
    pub fn is_transient(&self) -> bool {
        matches!(self, CredentialsError::Unreadable { .. })
    }
}

/// Reads the token the connection's secretRef names.
pub async fn credentials(
    client: &kube::Client,
    connection: &ShopifyConnection,
) -> Result<Credentials, CredentialsError> {
    let namespace = connection
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let secret_ref = &connection.spec.credentials.secret_ref;
    let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = api
        .get_opt(&secret_ref.name)
        .await
        .map_err(|e| CredentialsError::Unreadable {
            namespace: namespace.clone(),
            name: secret_ref.name.clone(),
            message: e.to_string(),
        })?;
    let Some(secret) = secret else {
        return Err(CredentialsError::SecretNotFound {
            namespace,
            name: secret_ref.name.clone(),
            key: secret_ref.key.clone(),
        });
    };
    token_from(&secret, &namespace, &secret_ref.name, &secret_ref.key)
}

/// Pure part: the token out of a Secret object.
pub fn token_from(
    secret: &Secret,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Credentials, CredentialsError> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .or_else(|| {
            // stringData is write-only on a real server, but harmless to honour.
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|s| s.clone().into_bytes())
        });
    let Some(bytes) = bytes else {
        return Err(CredentialsError::KeyNotFound {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            key: key.to_owned(),
        });
    };
    let token = String::from_utf8(bytes)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CredentialsError::EmptyToken {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            key: key.to_owned(),
        })?;
    Ok(Credentials {
        token: AccessToken::new(token),
        version: secret.metadata.resource_version.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;

    fn secret(data: &[(&str, &[u8])]) -> Secret {
        let mut s = Secret::default();
        s.metadata.resource_version = Some("42".into());
        s.data = Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.to_vec())))
                .collect::<BTreeMap<_, _>>(),
        );
        s
    }

    #[test]
    fn reads_the_named_key_and_the_version() {
        let c = token_from(
            &secret(&[("accessToken", b"shpat_x\n")]),
            "ns",
            "s",
            "accessToken",
        )
        .unwrap();
        assert_eq!(c.version, "42");
        assert!(!c.token.is_empty());
    }

    #[test]
    fn a_missing_or_empty_key_says_what_to_fix() {
        let err = token_from(&secret(&[("other", b"x")]), "ns", "s", "accessToken").unwrap_err();
        assert_eq!(err.reason(), "SecretKeyNotFound");
        assert!(err.to_string().contains("spec.credentials.secretRef.key"));
        let err =
            token_from(&secret(&[("accessToken", b"  ")]), "ns", "s", "accessToken").unwrap_err();
        assert_eq!(err.reason(), "EmptyToken");
        assert!(!err.to_string().contains("shpat"));
    }
}
