//! The Helm chart in `charts/shopsync` runs `shopsync run` the way the
//! operator expects: lint-clean, the generated CRD, and only the flags and
//! environment the operator reads (here); probes, security context and
//! availability (`pod`); exactly the API calls it makes (`rbac`); notes that
//! can be followed (`notes`); valid Kubernetes objects (`schemas`). Rendered by a
//! real helm (`support::helm`) with default values and with a set that turns
//! every option on, then checked on the parsed YAML.

mod notes;
mod pod;
mod rbac;
mod schemas;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use shopsync::api::crd::CRD_PATH;

use crate::support::helm::{
    RELEASE_NAMESPACE, Rendered, chart_dir, helm, repo_dir, run_ok, template, value_args,
};
use crate::support::shopsync_bin;

/// The flags of `shopsync run` the chart may pass; no other.
const RUN_FLAGS: [&str; 8] = [
    "--namespace",
    "--metrics-addr",
    "--max-concurrent-syncs",
    "--shopify-endpoint",
    "--master-key-file",
    "--lease-name",
    "--lease-namespace",
    "--identity",
];

/// The environment variables of `shopsync run` (or its logging, TLS and
/// proxy stack) the chart may set; no other.
const RUN_ENV: [&str; 11] = [
    "DATABASE_URL",
    "SHOPSYNC_SHOPIFY_ENDPOINT",
    "SHOPSYNC_MASTER_KEY_FILE",
    "POD_NAMESPACE",
    "POD_NAME",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "RUST_LOG",
    "SHOPSYNC_LOG_FORMAT",
];

/// The part of `RUN_ENV` that `shopsync run --help` lists (clap settings);
/// the rest is read by the logging, proxy and TLS setup.
const RUN_ENV_IN_HELP: [&str; 5] = [
    "DATABASE_URL",
    "SHOPSYNC_SHOPIFY_ENDPOINT",
    "SHOPSYNC_MASTER_KEY_FILE",
    "POD_NAMESPACE",
    "POD_NAME",
];

const WATCHED: [&str; 2] = ["shops", "tenant-b"];
const ENDPOINT: &str = "http://shopify-sim.staging.svc:8787";
/// The variable `extraEnv` adds in `EVERY_OPTION`.
const EXTRA_ENV: &str = "EXTRA_SETTING";

/// Values (as JSON) that switch every option of the chart on.
const EVERY_OPTION: &[(&str, &str)] = &[
    ("watchNamespaces", r#"["shops","tenant-b"]"#),
    (
        "shopifyEndpoint",
        r#""http://shopify-sim.staging.svc:8787""#,
    ),
    ("extraCA.configMap", r#""corp-ca""#),
    ("metrics.serviceMonitor.enabled", "true"),
    ("proxy.httpsProxy", r#""http://proxy.corp:3128""#),
    ("proxy.noProxy", r#"".svc,.cluster.local""#),
    ("extraEnv", r#"[{"name":"EXTRA_SETTING","value":"on"}]"#),
];

fn both_renders() -> [Rendered; 2] {
    [Rendered::new(&[]), Rendered::new(EVERY_OPTION)]
}

/// The container's `--flag=value` pairs after the `run` subcommand.
fn run_flags(r: &Rendered) -> Vec<(String, String)> {
    let c = r.container();
    assert!(
        c["command"].is_null(),
        "the image's ENTRYPOINT (shopsync) is kept"
    );
    let args: Vec<&str> = c["args"]
        .as_array()
        .expect("container args")
        .iter()
        .map(|a| a.as_str().expect("args are strings"))
        .collect();
    assert_eq!(
        args.first(),
        Some(&"run"),
        "the container runs `shopsync run`: {args:?}"
    );
    args[1..]
        .iter()
        .map(|a| {
            let (k, v) = a
                .split_once('=')
                .unwrap_or_else(|| panic!("{a}: pass flags as --flag=value"));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn flag<'a>(flags: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    flags
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The container's environment variable `name`; fails unless it is set exactly once.
fn env<'a>(r: &'a Rendered, name: &str) -> &'a Value {
    let found: Vec<&Value> = env_list(r)
        .into_iter()
        .filter(|e| e["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "{name} set {} times", found.len());
    found[0]
}

fn env_list(r: &Rendered) -> Vec<&Value> {
    r.container()["env"]
        .as_array()
        .expect("env")
        .iter()
        .collect()
}

fn has_env(r: &Rendered, name: &str) -> bool {
    env_list(r).iter().any(|e| e["name"] == name)
}

/// The volume mounted at the directory holding `file`, and that mount.
fn volume_holding<'a>(r: &'a Rendered, file: &str) -> (&'a Value, &'a Value) {
    let dir = Path::new(file).parent().expect("a file in a directory");
    let mount = r.container()["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["mountPath"].as_str().map(Path::new) == Some(dir))
        .unwrap_or_else(|| panic!("nothing is mounted at {}", dir.display()));
    let volume = r.pod()["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume exists");
    let file_name = Path::new(file).file_name().and_then(|f| f.to_str());
    let items = volume["secret"]["items"]
        .as_array()
        .or(volume["configMap"]["items"].as_array())
        .expect("the volume projects named items");
    assert!(
        items.iter().any(|i| i["path"].as_str() == file_name),
        "{file} is not among the projected items {items:?}"
    );
    (volume, mount)
}

#[test]
fn lint_is_clean_in_strict_mode() {
    let chart = chart_dir();
    let chart = chart.to_str().expect("UTF-8 path");
    helm(&["lint", "--strict", chart]);
    let mut args = vec!["lint", "--strict", chart, "--namespace", RELEASE_NAMESPACE];
    let values = value_args(EVERY_OPTION);
    args.extend(values.iter().map(String::as_str));
    helm(&args);
}

#[test]
fn chart_ships_the_generated_crd_byte_for_byte() {
    let name = Path::new(CRD_PATH).file_name().expect("CRD file name");
    let generated = std::fs::read(repo_dir().join(CRD_PATH)).expect("top-level CRD");
    let shipped = std::fs::read(chart_dir().join("crds").join(name)).expect("chart CRD");
    assert!(
        generated == shipped,
        "charts/shopsync/crds/ is stale: cp {CRD_PATH} charts/shopsync/crds/"
    );
    let entries: Vec<_> = std::fs::read_dir(chart_dir().join("crds"))
        .expect("chart crds/")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        entries,
        [name],
        "charts/shopsync/crds/ holds only the generated CRD"
    );
    let with_crds = Rendered::parse(template(&[], &["--include-crds"]));
    let top: Value = yaml_serde::from_slice(&generated).expect("CRD YAML");
    assert_eq!(
        with_crds.one("CustomResourceDefinition"),
        &top,
        "helm installs that CRD"
    );
}

#[test]
fn the_operator_binary_knows_every_flag_and_setting_the_chart_may_pass() {
    let help = run_ok(
        Command::new(shopsync_bin()).args(["run", "--help"]),
        "shopsync run --help",
    );
    let words: BTreeSet<&str> = help
        .split(|c: char| c.is_whitespace() || "[],=".contains(c))
        .collect();
    for name in RUN_FLAGS {
        assert!(
            words.contains(name),
            "`shopsync run` has no {name} flag:\n{help}"
        );
    }
    for name in RUN_ENV_IN_HELP {
        assert!(
            help.contains(&format!("[env: {name}")),
            "`shopsync run` reads no {name}:\n{help}"
        );
    }
}

#[test]
fn container_passes_only_run_flags_and_settings() {
    for r in both_renders() {
        for (name, _) in run_flags(&r) {
            assert!(
                RUN_FLAGS.contains(&name.as_str()),
                "`shopsync run` has no {name} flag"
            );
        }
        for e in env_list(&r) {
            let name = e["name"].as_str().expect("env name");
            assert!(
                RUN_ENV.contains(&name) || name == EXTRA_ENV,
                "`shopsync run` reads no {name}"
            );
        }
        let db = env(&r, "DATABASE_URL");
        assert!(
            db["value"].is_null(),
            "DATABASE_URL never sits in the pod spec"
        );
        assert_eq!(db["valueFrom"]["secretKeyRef"]["name"], "shopsync-database");
        assert_eq!(db["valueFrom"]["secretKeyRef"]["key"], "DATABASE_URL");
    }
}

#[test]
fn default_values_run_one_leader_over_every_namespace() {
    let r = Rendered::new(&[]);
    let flags = run_flags(&r);
    assert_eq!(flag(&flags, "--metrics-addr"), ["0.0.0.0:8080"]);
    assert_eq!(flag(&flags, "--max-concurrent-syncs"), ["8"]);
    assert_eq!(flag(&flags, "--lease-name"), ["shopsync-leader"]);
    assert!(
        flag(&flags, "--namespace").is_empty(),
        "no --namespace: every namespace"
    );
    assert!(
        flag(&flags, "--shopify-endpoint").is_empty(),
        "talks to Shopify directly"
    );
    assert_eq!(r.one("Deployment")["spec"]["replicas"], 2);
    assert_eq!(
        r.one("Deployment")["metadata"]["namespace"],
        RELEASE_NAMESPACE
    );
    // Leader election: the Lease namespace and the candidate's identity.
    for (name, field) in [
        ("POD_NAMESPACE", "metadata.namespace"),
        ("POD_NAME", "metadata.name"),
    ] {
        assert_eq!(
            env(&r, name)["valueFrom"]["fieldRef"]["fieldPath"],
            field,
            "{name}"
        );
    }
    assert_eq!(env(&r, "SHOPSYNC_LOG_FORMAT")["value"], "json");
    for unset in [
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTPS_PROXY",
        "NO_PROXY",
        EXTRA_ENV,
    ] {
        assert!(
            !has_env(&r, unset),
            "{unset} is set without being asked for"
        );
    }
}

#[test]
fn every_option_reaches_the_operator() {
    let r = Rendered::new(EVERY_OPTION);
    let flags = run_flags(&r);
    assert_eq!(flag(&flags, "--namespace"), WATCHED);
    assert_eq!(flag(&flags, "--shopify-endpoint"), [ENDPOINT]);
    let ca_file = env(&r, "SSL_CERT_FILE")["value"]
        .as_str()
        .expect("SSL_CERT_FILE value");
    let (volume, mount) = volume_holding(&r, ca_file);
    assert_eq!(volume["configMap"]["name"], "corp-ca");
    assert_eq!(mount["readOnly"], true);
    assert_eq!(
        env(&r, "SSL_CERT_DIR")["value"],
        "/etc/ssl/certs",
        "SSL_CERT_FILE alone would drop the image's public roots"
    );
    assert_eq!(env(&r, "HTTPS_PROXY")["value"], "http://proxy.corp:3128");
    assert_eq!(env(&r, "NO_PROXY")["value"], ".svc,.cluster.local");
    assert_eq!(env(&r, EXTRA_ENV)["value"], "on");
}

#[test]
fn master_key_is_mounted_read_only_from_its_secret() {
    for r in both_renders() {
        let flags = run_flags(&r);
        let [file] = flag(&flags, "--master-key-file")[..] else {
            panic!("one --master-key-file");
        };
        let (volume, mount) = volume_holding(&r, file);
        assert_eq!(volume["secret"]["secretName"], "shopsync-master-key");
        assert_eq!(volume["secret"]["items"][0]["key"], "master.key");
        assert_eq!(mount["readOnly"], true, "the key is mounted read-only");
        let mode = volume["secret"]["defaultMode"]
            .as_u64()
            .expect("defaultMode");
        assert_eq!(
            mode & 0o222,
            0,
            "nobody may write the key file (mode {mode:o})"
        );
        assert_eq!(
            mode & 0o007,
            0,
            "others may not read the key file (mode {mode:o})"
        );
    }
}
