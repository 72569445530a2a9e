//! The HTTP side of the client: one reqwest client per process, rustls with
//! the ring provider (the same one kube uses, so the process has exactly one),
//! the standard proxy variables, an extra CA bundle from `SSL_CERT_FILE`, and
//! the endpoint a store's requests go to.

use std::time::Duration;

use url::Url;

use super::error::ShopifyError;

/// Installs ring as the process-wide rustls provider; harmless when already done.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the HTTP client. reqwest reads `HTTPS_PROXY` / `HTTP_PROXY` /
/// `NO_PROXY` itself; `SSL_CERT_FILE` names a PEM bundle to trust (a
/// corporate TLS-inspecting proxy, say). Note that with `SSL_CERT_FILE` set,
/// the platform root loader (rustls-native-certs) reads that file instead of
/// the system store: to keep the public roots too, also set
/// `SSL_CERT_DIR=/etc/ssl/certs` (the Helm chart does) or append the system
/// bundle to the file.
pub fn build_client(timeout: Duration) -> Result<reqwest::Client, ShopifyError> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("shopsync/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = std::env::var_os("SSL_CERT_FILE") {
        let pem = std::fs::read(&path).map_err(|e| {
            ShopifyError::Transport(format!(
                "reading SSL_CERT_FILE {}: {e}",
                path.to_string_lossy()
            ))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ShopifyError::Transport(format!(
                "SSL_CERT_FILE {} is not a PEM certificate bundle: {e}",
                path.to_string_lossy()
            ))
        })?;
        if certs.is_empty() {
            return Err(ShopifyError::Transport(format!(
                "SSL_CERT_FILE {} holds no PEM certificate",
                path.to_string_lossy()
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| ShopifyError::Transport(format!("building the HTTP client: {e}")))
}

/// Where a store's GraphQL requests go, and the Host they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: Url,
    /// Set when an override sends the request elsewhere: the store's own
    /// host name still goes in the Host header, as Shopify routes by it.
    pub host_header: Option<String>,
}

impl Endpoint {
    /// `https://{store}/admin/api/{version}/graphql.json`, or the same path
    /// under `override_base` (the simulator, a proxy) with `Host: {store}`.
    pub fn for_store(
        store: &str,
        version: &str,
        override_base: Option<&Url>,
    ) -> Result<Endpoint, ShopifyError> {
        let path = format!("admin/api/{version}/graphql.json");
        match override_base {
            None => {
                let url = Url::parse(&format!("https://{store}/{path}")).map_err(|e| {
                    ShopifyError::Transport(format!("store {store} makes no URL: {e}"))
                })?;
                Ok(Endpoint {
                    url,
                    host_header: None,
                })
            }
            Some(base) => {
                let mut base = base.clone();
                if !base.path().ends_with('/') {
                    base.set_path(&format!("{}/", base.path()));
                }
                let url = base.join(&path).map_err(|e| {
                    ShopifyError::Transport(format!("endpoint override {base}: {e}"))
                })?;
                Ok(Endpoint {
                    url,
                    host_header: Some(store.to_owned()),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_endpoint_uses_the_store_host() {
        let e = Endpoint::for_store("acme.myshopify.com", "2026-10", None).unwrap();
        assert_eq!(
            e.url.as_str(),
            "https://acme.myshopify.com/admin/api/2026-10/graphql.json"
        );
        assert_eq!(e.host_header, None);
    }

    #[test]
    fn override_keeps_the_store_host_name() {
        let base = Url::parse("http://127.0.0.1:8080").unwrap();
        let e = Endpoint::for_store("acme.myshopify.com", "2026-07", Some(&base)).unwrap();
        assert_eq!(
            e.url.as_str(),
            "http://127.0.0.1:8080/admin/api/2026-07/graphql.json"
        );
        assert_eq!(e.host_header.as_deref(), Some("acme.myshopify.com"));
        let prefixed = Url::parse("http://proxy.internal/shopify").unwrap();
        let e = Endpoint::for_store("acme.myshopify.com", "2026-07", Some(&prefixed)).unwrap();
        assert_eq!(
            e.url.as_str(),
            "http://proxy.internal/shopify/admin/api/2026-07/graphql.json"
        );
    }

    #[test]
    fn a_bad_ca_bundle_is_reported_by_path() {
        // Only this test touches SSL_CERT_FILE in the unit-test process.
        let dir = std::env::temp_dir().join(format!("shopsync-ca-{}", std::process::id()));
        std::fs::write(&dir, b"not a certificate").unwrap();
        // SAFETY: no other thread of this test binary reads SSL_CERT_FILE.
        unsafe { std::env::set_var("SSL_CERT_FILE", &dir) };
        let err = build_client(Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        unsafe { std::env::remove_var("SSL_CERT_FILE") };
        let _ = std::fs::remove_file(&dir);
        assert!(err.contains("SSL_CERT_FILE"), "{err}");
    }
}
