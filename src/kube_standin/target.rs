//! Which resource a request path addresses, and how stored objects are
//! presented through it (the requested version's apiVersion; the
//! `events.k8s.io` field names for that Event API).

use std::sync::Arc;

use serde_json::{Value, json};

use super::errors::ApiError;
use super::events;
use super::resources::{Behaviour, Registry, ResourceKind};

/// A resource path: `/api/v1/namespaces/ns/secrets/name`,
/// `/apis/group/version/plural/name/status`, and their collections.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: Arc<ResourceKind>,
    pub version: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Addressed through the `status` subresource.
    pub status: bool,
}

/// Everything else the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryPath {
    Version,
    Health,
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`
    Resources(String, String),
}

#[derive(Debug, Clone)]
pub enum Route {
    Discovery(DiscoveryPath),
    Resource(Target),
    NotFound,
}

pub fn route(registry: &Registry, path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["version"] => Route::Discovery(DiscoveryPath::Version),
        ["healthz" | "livez" | "readyz"] => Route::Discovery(DiscoveryPath::Health),
        ["api"] => Route::Discovery(DiscoveryPath::CoreVersions),
        ["api", "v1"] => Route::Discovery(DiscoveryPath::Resources(String::new(), "v1".into())),
        ["apis"] => Route::Discovery(DiscoveryPath::Groups),
        ["apis", group] => Route::Discovery(DiscoveryPath::Group((*group).into())),
        ["apis", group, version] => {
            Route::Discovery(DiscoveryPath::Resources((*group).into(), (*version).into()))
        }
        ["api", "v1", rest @ ..] => resource(registry, "", "v1", rest),
        ["apis", group, version, rest @ ..] => resource(registry, group, version, rest),
        _ => Route::NotFound,
    }
}

fn resource(registry: &Registry, group: &str, version: &str, rest: &[&str]) -> Route {
    let namespaced_kind = |plural: &str| {
        registry
            .find(group, version, plural)
            .filter(|k| k.namespaced)
    };
    let (namespace, kind, tail) = match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced_kind(plural).is_some() => {
            (Some((*ns).to_owned()), namespaced_kind(plural), tail)
        }
        [plural, tail @ ..] => (None, registry.find(group, version, plural), tail),
        [] => return Route::NotFound,
    };
    let Some(kind) = kind else {
        return Route::NotFound;
    };
    let (name, status) = match tail {
        [] => (None, false),
        [name] => (Some((*name).to_owned()), false),
        [name, "status"] if kind.status_subresource => (Some((*name).to_owned()), true),
        _ => return Route::NotFound,
    };
    // A namespaced kind is only addressable across namespaces as a collection.
    if kind.namespaced && namespace.is_none() && name.is_some() {
        return Route::NotFound;
    }
    Route::Resource(Target {
        kind,
        version: version.to_owned(),
        namespace,
        name,
        status,
    })
}

impl Target {
    pub fn api_version(&self) -> String {
        self.kind.api_version(&self.version)
    }

    /// The namespace part of a storage key ("" for cluster-scoped kinds).
    pub fn ns_key(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    pub fn name(&self) -> Result<&str, ApiError> {
        self.name
            .as_deref()
            .ok_or_else(|| ApiError::method_not_allowed("collection"))
    }

    /// A stored object as this endpoint serves it.
    pub fn present(&self, stored: &Value) -> Value {
        if self.kind.behaviour == Behaviour::EventsV1 {
            return events::to_events_v1(stored);
        }
        let mut v = stored.clone();
        v["apiVersion"] = json!(self.api_version());
        v["kind"] = json!(self.kind.kind);
        v
    }

    /// An object sent to this endpoint, in its stored form.
    pub fn ingest(&self, body: &Value) -> Value {
        if self.kind.behaviour == Behaviour::EventsV1 {
            return events::to_core(body);
        }
        let mut v = body.clone();
        v["apiVersion"] = json!(self.kind.api_version(self.kind.storage_version()));
        v["kind"] = json!(self.kind.kind);
        v
    }

    /// A body's apiVersion and kind, when given, must be this endpoint's.
    pub fn check_type(&self, body: &Value) -> Result<(), ApiError> {
        let want = self.api_version();
        if let Some(have) = body.get("apiVersion").and_then(Value::as_str)
            && have != want
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({have}) does not match the expected API version ({want})"
            )));
        }
        if let Some(have) = body.get("kind").and_then(Value::as_str)
            && have != self.kind.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({have}) does not match the expected kind ({})",
                self.kind.kind
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match route(&Registry::builtin(), path) {
            Route::Resource(t) => t,
            other => panic!("{path} routed to {other:?}"),
        }
    }

    #[test]
    fn namespaced_and_cluster_paths() {
        let t = target("/api/v1/namespaces/shops/secrets/token");
        assert_eq!(t.kind.plural, "secrets");
        assert_eq!(t.namespace.as_deref(), Some("shops"));
        assert_eq!(t.name.as_deref(), Some("token"));
        let t = target("/api/v1/secrets");
        assert!(t.namespace.is_none() && t.name.is_none());
        let t = target("/api/v1/namespaces/shops");
        assert_eq!(t.kind.plural, "namespaces");
        assert_eq!(t.name.as_deref(), Some("shops"));
        let t = target("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.y/status");
        assert!(t.status);
    }

    #[test]
    fn unknown_paths_and_subresources_are_not_found() {
        let r = Registry::builtin();
        for path in [
            "/apis/shopify.fostr.io/v1alpha1/namespaces/ns/shopifyconnections",
            "/api/v1/namespaces/ns/secrets/x/status",
            "/api/v1/secrets/x",
            "/apis/coordination.k8s.io/v2/namespaces/ns/leases",
            "/nothing",
        ] {
            assert!(matches!(route(&r, path), Route::NotFound), "{path}");
        }
        assert!(matches!(
            route(&r, "/apis/events.k8s.io/v1"),
            Route::Discovery(DiscoveryPath::Resources(_, _))
        ));
    }
}
