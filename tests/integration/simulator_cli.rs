//! `shopsync simulate` as a process: the first line it prints is the address
//! it listens on, and the store behind it answers with the documented defaults.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

#[tokio::test]
async fn simulate_prints_its_address_first_and_serves_the_demo_store() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shopsync"))
        .args([
            "simulate",
            "--listen",
            "127.0.0.1:0",
            "--orders",
            "100",
            "--stores",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("shopsync runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").expect("utf-8");
    let rest: Vec<String> = lines.by_ref().take(2).map(|l| l.expect("line")).collect();
    assert!(
        first.starts_with("http://127.0.0.1:"),
        "first line: {first}"
    );
    assert!(
        rest.iter()
            .any(|l| l.contains("store-1.myshopify.com token shpat_simulator_1")),
        "{rest:?}"
    );
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{first}/admin/api/2026-10/graphql.json"))
        .header("Host", "store-1.myshopify.com")
        .header("X-Shopify-Access-Token", "shpat_simulator_1")
        .json(&json!({"query": "{ shop { myshopifyDomain plan { publicDisplayName } } ordersCount { count } }"}))
        .send()
        .await;
    let _ = child.kill();
    let _ = child.wait();
    let body: Value = answer.expect("answer").json().await.expect("json");
    assert_eq!(
        body["data"]["shop"]["myshopifyDomain"],
        "store-1.myshopify.com"
    );
    assert_eq!(body["data"]["shop"]["plan"]["publicDisplayName"], "Basic");
    assert_eq!(body["data"]["ordersCount"]["count"], 100);
}
