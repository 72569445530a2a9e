//! RBAC grants exactly the API calls `shopsync run` makes, scoped as tightly
//! as each allows: the namespaced resources cluster-wide or per watched
//! namespace, Leases in the release namespace only, and the one CRD read
//! cluster-wide. No wildcards, no Secret writes, every rule commented.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{EVERY_OPTION, WATCHED, flag, run_flags};
use crate::support::helm::{RELEASE_NAMESPACE, Rendered};

/// (API group, resource, verb)
type Grant = (String, String, String);

/// What the controller does with ShopifyConnections, their Secrets and Events.
const NAMESPACED: &[(&str, &str, &[&str])] = &[
    (
        "shopify.fostr.io",
        "shopifyconnections",
        &["get", "list", "watch", "patch", "update"],
    ),
    (
        "shopify.fostr.io",
        "shopifyconnections/status",
        &["get", "patch", "update"],
    ),
    ("", "secrets", &["get", "list", "watch"]),
    ("events.k8s.io", "events", &["create", "patch"]),
    ("", "events", &["create", "patch"]),
];
/// Leader election on a Lease.
const LEADER_ELECTION: &[(&str, &str, &[&str])] = &[(
    "coordination.k8s.io",
    "leases",
    &["get", "create", "update", "patch"],
)];
/// The start-up check that the CRD is installed.
const CRD_CHECK: &[(&str, &str, &[&str])] = &[(
    "apiextensions.k8s.io",
    "customresourcedefinitions",
    &["get"],
)];

fn expected(lists: &[&[(&str, &str, &[&str])]]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for list in lists {
        for (group, resource, verbs) in *list {
            for verb in *verbs {
                out.insert((group.to_string(), resource.to_string(), verb.to_string()));
            }
        }
    }
    out
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().expect("string")).collect())
        .unwrap_or_default()
}

/// Every (group, resource, verb) a Role or ClusterRole grants; fails on
/// wildcards, non-resource URLs and any write to Secrets.
fn grants(role: &Value) -> BTreeSet<Grant> {
    let name = &role["metadata"]["name"];
    let mut out = BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        assert!(
            rule["nonResourceURLs"].is_null(),
            "{name}: non-resource URLs granted"
        );
        let (groups, resources, verbs) = (
            strings(&rule["apiGroups"]),
            strings(&rule["resources"]),
            strings(&rule["verbs"]),
        );
        for word in groups.iter().chain(&resources).chain(&verbs) {
            assert!(!word.contains('*'), "{name}: wildcard in {rule}");
        }
        if resources.contains(&"secrets") {
            for verb in &verbs {
                assert!(
                    ["get", "list", "watch"].contains(verb),
                    "{name}: Secrets `{verb}` granted"
                );
            }
        }
        for g in &groups {
            for r in &resources {
                for v in &verbs {
                    out.insert((g.to_string(), r.to_string(), v.to_string()));
                }
            }
        }
    }
    out
}

/// Grants of every Role, by namespace.
fn roles_by_namespace(r: &Rendered) -> BTreeMap<String, BTreeSet<Grant>> {
    let mut out: BTreeMap<String, BTreeSet<Grant>> = BTreeMap::new();
    for role in r.of_kind("Role") {
        let ns = role["metadata"]["namespace"]
            .as_str()
            .expect("Role namespace");
        out.entry(ns.to_owned()).or_default().extend(grants(role));
    }
    out
}

fn cluster_grants(r: &Rendered) -> BTreeSet<Grant> {
    r.of_kind("ClusterRole")
        .into_iter()
        .flat_map(grants)
        .collect()
}

/// A Role or ClusterRole: (kind, name, namespace; empty for a ClusterRole).
type RoleKey = (String, String, String);

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Every Role and ClusterRole is bound to the operator's ServiceAccount, and
/// no binding grants a role the chart does not define.
fn assert_bound_to_the_operator(r: &Rendered) {
    let account = r.pod()["serviceAccountName"]
        .as_str()
        .expect("serviceAccountName");
    assert_eq!(r.one("ServiceAccount")["metadata"]["name"], account);
    let roles: BTreeSet<RoleKey> = ["Role", "ClusterRole"]
        .iter()
        .flat_map(|kind| {
            r.of_kind(kind).into_iter().map(move |d| {
                (
                    kind.to_string(),
                    text(&d["metadata"]["name"]),
                    text(&d["metadata"]["namespace"]),
                )
            })
        })
        .collect();
    let mut bound = BTreeSet::new();
    for kind in ["RoleBinding", "ClusterRoleBinding"] {
        for binding in r.of_kind(kind) {
            let role_kind = text(&binding["roleRef"]["kind"]);
            // A RoleBinding's Role lives in the binding's namespace.
            let ns = if role_kind == "Role" {
                text(&binding["metadata"]["namespace"])
            } else {
                String::new()
            };
            let target: RoleKey = (role_kind, text(&binding["roleRef"]["name"]), ns);
            assert!(
                roles.contains(&target),
                "{kind} binds {target:?}, which the chart does not define"
            );
            let subjects = binding["subjects"].as_array().expect("subjects");
            assert_eq!(subjects.len(), 1, "{kind} binds only the operator");
            assert_eq!(subjects[0]["kind"], "ServiceAccount");
            assert_eq!(subjects[0]["name"], account);
            assert_eq!(subjects[0]["namespace"], RELEASE_NAMESPACE);
            bound.insert(target);
        }
    }
    assert_eq!(bound, roles, "every role is bound to the operator");
}

/// Names that rules with resourceNames are limited to, by resource.
fn resource_names(r: &Rendered) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for kind in ["Role", "ClusterRole"] {
        for role in r.of_kind(kind) {
            for rule in role["rules"].as_array().expect("rules") {
                for res in strings(&rule["resources"]) {
                    let names = strings(&rule["resourceNames"])
                        .into_iter()
                        .map(str::to_owned);
                    out.entry(res.to_owned()).or_default().extend(names);
                }
            }
        }
    }
    out
}

#[test]
fn cluster_wide_mode_grants_exactly_the_operator_calls() {
    let r = Rendered::new(&[]);
    assert_eq!(cluster_grants(&r), expected(&[NAMESPACED, CRD_CHECK]));
    let roles = roles_by_namespace(&r);
    assert_eq!(
        roles.keys().collect::<Vec<_>>(),
        [RELEASE_NAMESPACE],
        "Roles only for the Lease"
    );
    assert_eq!(roles[RELEASE_NAMESPACE], expected(&[LEADER_ELECTION]));
    assert_bound_to_the_operator(&r);
}

#[test]
fn namespaces_mode_grants_nothing_namespaced_cluster_wide() {
    let r = Rendered::new(EVERY_OPTION);
    assert_eq!(
        cluster_grants(&r),
        expected(&[CRD_CHECK]),
        "only the CRD check is cluster-wide"
    );
    let roles = roles_by_namespace(&r);
    let mut namespaces: Vec<&str> = WATCHED.to_vec();
    namespaces.push(RELEASE_NAMESPACE);
    namespaces.sort();
    assert_eq!(
        roles.keys().map(String::as_str).collect::<Vec<_>>(),
        namespaces
    );
    assert_eq!(roles[RELEASE_NAMESPACE], expected(&[LEADER_ELECTION]));
    for ns in WATCHED {
        assert_eq!(
            roles[ns],
            expected(&[NAMESPACED]),
            "Role in watched namespace {ns}"
        );
    }
    assert_bound_to_the_operator(&r);
}

#[test]
fn named_rules_name_what_the_operator_uses() {
    for r in [Rendered::new(&[]), Rendered::new(EVERY_OPTION)] {
        let flags = run_flags(&r);
        let names = resource_names(&r);
        let lease = flag(&flags, "--lease-name");
        assert_eq!(
            names["leases"].iter().collect::<Vec<_>>(),
            lease,
            "Lease rules name --lease-name"
        );
        let crd = names["customresourcedefinitions"]
            .iter()
            .collect::<Vec<_>>();
        assert_eq!(crd, ["shopifyconnections.shopify.fostr.io"]);
    }
}

#[test]
fn every_rbac_rule_says_why() {
    for r in [Rendered::new(&[]), Rendered::new(EVERY_OPTION)] {
        let rules: usize = ["Role", "ClusterRole"]
            .iter()
            .flat_map(|k| r.of_kind(k))
            .map(|role| role["rules"].as_array().expect("rules").len())
            .sum();
        let lines: Vec<&str> = r.text.lines().map(str::trim).collect();
        let mut commented = 0;
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("- apiGroups:") && i > 0 && lines[i - 1].starts_with('#') {
                commented += 1;
            }
        }
        assert_eq!(
            commented,
            rules,
            "{} RBAC rules lack a comment saying why",
            rules - commented.min(rules)
        );
    }
}
