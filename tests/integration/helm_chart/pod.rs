//! The operator pods: probes on the health endpoints of the metrics port,
//! the restricted security context, resources and grace period fit for the
//! operator, and replicas spread over nodes behind a PodDisruptionBudget.

use super::{EVERY_OPTION, both_renders, flag, run_flags};
use crate::support::helm::Rendered;

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
