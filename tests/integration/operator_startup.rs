//! `shopsync run` as a process, against the API stand-in: it refuses to
//! start without its CRD, database or master key, saying what to do; when
//! all is there it serves /healthz, /readyz and /metrics, takes the lease,
//! and on SIGTERM exits cleanly and gives the lease up.

use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use shopsync::kube_standin::StandIn;
use tokio::process::Command;

use crate::support::postgres::{fresh_db, scratch_dir};

struct Files {
    kubeconfig: std::path::PathBuf,
    key: std::path::PathBuf,
}

async fn files(standin: &StandIn, name: &str) -> Files {
    let dir = scratch_dir(name);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let kubeconfig = dir.join("kubeconfig");
    standin.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let key = dir.join("master.key");
    let (contents, _) = shopsync::crypto::MasterKey::generate_file_contents().expect("key");
    std::fs::write(&key, contents.as_bytes()).expect("write key");
    Files { kubeconfig, key }
}

fn run(f: &Files, database_url: &str, metrics_port: u16) -> Command {
    let mut cmd = Command::new(crate::support::shopsync_bin());
    cmd.arg("run")
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
        .args([
            "--lease-namespace",
            "shopsync-system",
            "--identity",
            "replica-1",
        ])
        .env("KUBECONFIG", &f.kubeconfig)
        .env("DATABASE_URL", database_url)
        .env("SHOPSYNC_MASTER_KEY_FILE", &f.key)
        .env("SHOPSYNC_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_to_start_without_crd_database_or_key_and_says_what_to_do() {
    let standin = StandIn::start().await.unwrap();
    let db = fresh_db().await;
    let f = files(&standin, "operator-startup-refusals").await;

    let out = run(&f, &db.url, free_port()).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("CRD")
            && stderr.contains("kubectl apply -f crds/shopifyconnections.shopify.fostr.io.yaml"),
        "{stderr}"
    );

    standin.install_shopsync_crd().await.unwrap();
    let out = run(&f, "postgres://nobody@127.0.0.1:1/none", free_port())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");

    let mut missing_key = run(&f, &db.url, free_port());
    missing_key.env("SHOPSYNC_MASTER_KEY_FILE", "/nonexistent/master.key");
    let out = missing_key.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("SHOPSYNC_MASTER_KEY_FILE") && stderr.contains("/nonexistent/master.key"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_health_and_metrics_holds_the_lease_and_releases_it_on_sigterm() {
    let standin = StandIn::start().await.unwrap();
    standin.install_shopsync_crd().await.unwrap();
    let db = fresh_db().await;
    let f = files(&standin, "operator-startup-serves").await;
    let port = free_port();
    let mut child = run(&f, &db.url, port).spawn().unwrap();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");

    let leases: Api<Lease> = Api::namespaced(standin.client(), "shopsync-system");
    let deadline = Instant::now() + Duration::from_secs(30);
    let holder = loop {
        let lease = leases.get_opt("shopsync-leader").await.unwrap();
        let holder = lease.and_then(|l| l.spec?.holder_identity);
        if holder.is_some() || Instant::now() > deadline {
            break holder;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(holder.as_deref(), Some("replica-1"));
    assert_eq!(
        http.get(url("/healthz")).send().await.unwrap().status(),
        200
    );
    assert_eq!(http.get(url("/readyz")).send().await.unwrap().status(), 200);
    let metrics = http
        .get(url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("shopsync_leader 1"), "{metrics}");

    let pid = child.id().expect("pid") as i32;
    // SIGTERM, as the kubelet sends it.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    let lease = leases.get("shopsync-leader").await.unwrap();
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity),
        None,
        "the lease was released"
    );
}
