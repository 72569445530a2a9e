//! Discovery, for kubectl: `/version`, `/api`, `/apis`, and the resource
//! lists of each group version. Only the legacy (v1) documents are served;
//! clients asking for aggregated discovery get plain JSON and fall back, as
//! they do with older servers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::errors::ApiError;
use super::resources::{Registry, ResourceKind};
use super::target::DiscoveryPath;

/// The Kubernetes version the stand-in claims to be (k8s-openapi's `v1_33`).
const MINOR: &str = "33";

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// The JSON answer for a discovery path, or 404.
pub fn answer(
    registry: &Registry,
    path: &DiscoveryPath,
    server_address: &str,
) -> Result<Value, ApiError> {
    match path {
        DiscoveryPath::Version => Ok(json!({
            "major": "1", "minor": MINOR, "gitVersion": format!("v1.{MINOR}.0-shopsync-standin"),
            "gitCommit": "", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "", "compiler": "gc", "platform": "linux/amd64",
        })),
        DiscoveryPath::Health => Ok(json!("ok")),
        DiscoveryPath::CoreVersions => Ok(json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        })),
        DiscoveryPath::Groups => Ok(json!({
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": groups(registry).into_iter().map(|(g, v)| group(&g, &v)).collect::<Vec<_>>(),
        })),
        DiscoveryPath::Group(name) => groups(registry)
            .remove(name)
            .map(|versions| {
                let mut g = group(name, &versions);
                g["kind"] = json!("APIGroup");
                g["apiVersion"] = json!("v1");
                g
            })
            .ok_or_else(ApiError::no_route),
        DiscoveryPath::Resources(group, version) => {
            let kinds: Vec<&ResourceKind> = registry
                .kinds()
                .iter()
                .map(AsRef::as_ref)
                .filter(|k| k.group == *group && k.versions.contains(version))
                .collect();
            if kinds.is_empty() {
                return Err(ApiError::no_route());
            }
            let group_version = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            Ok(json!({
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": kinds.iter().flat_map(|k| resources(k)).collect::<Vec<_>>(),
            }))
        }
    }
}

/// Named groups and their versions, the preferred (storage) version first.
fn groups(registry: &Registry) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for k in registry.kinds().iter().filter(|k| !k.group.is_empty()) {
        let versions = out.entry(k.group.clone()).or_default();
        for v in &k.versions {
            if !versions.contains(v) {
                versions.push(v.clone());
            }
        }
    }
    out
}

fn group(name: &str, versions: &[String]) -> Value {
    let listed: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({
        "name": name,
        "versions": listed,
        "preferredVersion": listed.first().cloned().unwrap_or(Value::Null),
    })
}

fn resources(k: &ResourceKind) -> Vec<Value> {
    let mut main = json!({
        "name": k.plural, "singularName": k.singular, "namespaced": k.namespaced,
        "kind": k.kind, "verbs": VERBS,
    });
    if !k.short_names.is_empty() {
        main["shortNames"] = json!(k.short_names);
    }
    if !k.categories.is_empty() {
        main["categories"] = json!(k.categories);
    }
    let mut out = vec![main];
    if k.status_subresource {
        out.push(json!({
            "name": format!("{}/status", k.plural), "singularName": "", "namespaced": k.namespaced,
            "kind": k.kind, "verbs": ["get", "patch", "update"],
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_groups_and_resources_are_listed() {
        let r = Registry::builtin();
        let groups = answer(&r, &DiscoveryPath::Groups, "127.0.0.1:1").unwrap();
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|g| g["name"].as_str())
            .collect();
        assert!(names.contains(&"coordination.k8s.io") && names.contains(&"events.k8s.io"));
        let core = answer(
            &r,
            &DiscoveryPath::Resources(String::new(), "v1".into()),
            "",
        )
        .unwrap();
        assert_eq!(core["groupVersion"], "v1");
        assert!(
            core["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == "secrets" && x["namespaced"] == true)
        );
        let missing = answer(&r, &DiscoveryPath::Group("shopify.fostr.io".into()), "");
        assert_eq!(missing.unwrap_err().code, 404);
    }
}
