//! The Helm chart in `charts/shopsync` runs `shopsync run` the way the
//! operator expects: only the flags and environment it reads, probes on its
//! health endpoints and metrics port, the restricted security context, the
//! generated CRD, and (in `rbac`) exactly the API calls it makes. Rendered by a
//! real helm (`support::helm`) with default values and with a set that turns
//! every option on, then checked on the parsed YAML.

mod notes;
mod rbac;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use shopsync::api::crd::CRD_PATH;

use crate::support::helm::{
    RELEASE_NAMESPACE, Rendered, chart_dir, helm, repo_dir, target_dir, template, value_args,
};

/// Every flag of `shopsync run`; the chart may pass no other.
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

/// Every environment variable `shopsync run` (or its TLS and proxy stack) reads.
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

#[test]
fn probes_hit_health_endpoints_on_the_metrics_port() {
    for r in both_renders() {
        let flags = run_flags(&r);
        let addr = flag(&flags, "--metrics-addr")[0];
        let port: u64 = addr
            .rsplit_once(':')
            .expect("HOST:PORT")
            .1
            .parse()
            .expect("port");
        let c = r.container();
        let metrics = c["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .find(|p| p["name"] == "metrics")
            .expect("a port named metrics");
        assert_eq!(
            metrics["containerPort"], port,
            "the port --metrics-addr listens on"
        );
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &c[probe]["httpGet"];
            assert_eq!(get["path"], path, "{probe}");
            assert!(
                get["port"] == "metrics" || get["port"] == port,
                "{probe} port {}",
                get["port"]
            );
        }
        let service = r.one("Service");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], "metrics");
        let pod_labels = &r.one("Deployment")["spec"]["template"]["metadata"]["labels"];
        for (k, v) in service["spec"]["selector"].as_object().expect("selector") {
            assert_eq!(
                &pod_labels[k], v,
                "the metrics Service selects the operator pods"
            );
        }
    }
    assert!(
        Rendered::new(&[]).of_kind("ServiceMonitor").is_empty(),
        "off by default"
    );
    let r = Rendered::new(EVERY_OPTION);
    let monitor = r.one("ServiceMonitor");
    let service = r.one("Service");
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], service["spec"]["ports"][0]["name"]);
    assert_eq!(endpoint["path"], "/metrics");
    for (k, v) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("selector")
    {
        assert_eq!(
            &service["metadata"]["labels"][k], v,
            "the ServiceMonitor selects the Service"
        );
    }
}

/// Bytes of a Kubernetes memory quantity ("256Mi", "1G", "134217728").
fn quantity_bytes(q: &str) -> u64 {
    let units = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    for (suffix, factor) in units {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<u64>().expect("quantity") * factor;
        }
    }
    q.parse().expect("quantity")
}

#[test]
fn pods_run_under_the_restricted_profile() {
    for r in both_renders() {
        let pod = r.pod();
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let sc = &r.container()["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true);
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert!(
            sc["capabilities"]["add"].is_null(),
            "no capability is added back"
        );
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
        let resources = &r.container()["resources"];
        for kind in ["cpu", "memory"] {
            assert!(
                resources["requests"][kind].is_string(),
                "requests.{kind} is set"
            );
        }
        let limit = resources["limits"]["memory"]
            .as_str()
            .expect("a memory limit");
        assert!(
            quantity_bytes(limit) <= 256 << 20,
            "memory limit {limit} is over 256Mi"
        );
        let grace = pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("grace period");
        assert!(
            grace >= 60,
            "{grace}s is too short to finish a batch and release the Lease"
        );
    }
}

#[test]
fn replicas_spread_over_nodes_and_survive_drains() {
    let r = Rendered::new(&[]);
    let pod_labels = &r.one("Deployment")["spec"]["template"]["metadata"]["labels"];
    let terms =
        &r.pod()["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"];
    let term = &terms[0]["podAffinityTerm"];
    assert_eq!(term["topologyKey"], "kubernetes.io/hostname");
    for (k, v) in term["labelSelector"]["matchLabels"]
        .as_object()
        .expect("anti-affinity selector")
    {
        assert_eq!(
            &pod_labels[k], v,
            "the anti-affinity term selects the operator pods"
        );
    }
    let pdb = r.one("PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    for (k, v) in pdb["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("PDB selector")
    {
        assert_eq!(
            &pod_labels[k], v,
            "the PodDisruptionBudget selects the operator pods"
        );
    }
    let single = Rendered::new(&[("replicaCount", "1")]);
    assert!(
        single.of_kind("PodDisruptionBudget").is_empty(),
        "a PDB on one replica blocks drains"
    );
}

/// `kubernetes-validate` from PyPI, installed into the target directory on
/// first use; `None` (and the check skipped) where pip cannot install it.
fn kubernetes_validate() -> Option<std::path::PathBuf> {
    let dir = target_dir().join("kubernetes-validate-1.37.0");
    if dir.join("kubernetes_validate").exists() {
        return Some(dir);
    }
    let partial = target_dir().join(format!(
        "kubernetes-validate.partial-{}",
        std::process::id()
    ));
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&partial)
        .arg("kubernetes-validate==1.37.0")
        .output();
    match out {
        Ok(out) if out.status.success() => {
            std::fs::rename(&partial, &dir).expect("move kubernetes-validate into place");
            Some(dir)
        }
        other => {
            eprintln!(
                "skipping schema validation: pip could not install kubernetes-validate: {other:?}"
            );
            let _ = std::fs::remove_dir_all(&partial);
            None
        }
    }
}

#[test]
fn rendered_manifests_pass_kubernetes_schemas() {
    let Some(pythonpath) = kubernetes_validate() else {
        return;
    };
    for (i, values) in [&[][..], EVERY_OPTION].into_iter().enumerate() {
        let file = target_dir().join(format!("helm-chart-render-{}-{i}.yaml", std::process::id()));
        std::fs::write(&file, template(values, &["--include-crds"])).expect("write render");
        // 1.33 is the oldest Kubernetes shopsync supports; --strict rejects unknown fields.
        let out = Command::new("python3")
            .args([
                "-m",
                "kubernetes_validate",
                "--strict",
                "--quiet",
                "-k",
                "1.33.0",
            ])
            .arg(&file)
            .env("PYTHONPATH", &pythonpath)
            .output()
            .expect("python3");
        let _ = std::fs::remove_file(&file);
        assert!(
            out.status.success(),
            "rendered manifests fail Kubernetes 1.33 schemas:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
