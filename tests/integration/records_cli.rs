//! `shopsync keygen` and `shopsync records` end to end through the command
//! line parser: a key file is written, records written with that key are read
//! back as JSON lines, and what the policy file does not allow is refused,
//! naming the rule.
//!
//! The commands run in-process (on their own thread, as they build their own
//! runtime) rather than as the `shopsync` binary: the build directory may be
//! shared with other checkouts whose `shopsync` binary differs.

use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use shopsync::cli::{Cli, Command, records};
use shopsync::crypto::MasterKey;
use shopsync::store::RecordSet;

use crate::support::postgres::{fresh_db, scratch_dir};
use crate::support::store::*;

/// Runs `shopsync records ...` with the given key and policy; returns the
/// JSON lines or the error text.
fn records_cmd(
    args: &[&str],
    db_url: &str,
    key: &Path,
    policy: &Path,
) -> Result<Vec<serde_json::Value>, String> {
    let mut argv: Vec<String> = ["shopsync", "records"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect();
    argv.extend(
        [
            "--database-url",
            db_url,
            "--master-key-file",
            &key.display().to_string(),
            "--policy-file",
            &policy.display().to_string(),
            "--role",
            "support",
        ]
        .map(str::to_owned),
    );
    let Command::Records(parsed) = Cli::try_parse_from(&argv)
        .map_err(|e| e.to_string())?
        .command
    else {
        panic!("parsed as another command");
    };
    std::thread::spawn(move || {
        let mut out = Vec::new();
        records::run_to(parsed, &mut out).map_err(|e| format!("{e:#}"))?;
        Ok(String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is JSON"))
            .collect())
    })
    .join()
    .unwrap()
}

fn keygen(out: &Path) -> anyhow::Result<()> {
    let out = out.to_owned();
    std::thread::spawn(move || {
        shopsync::cli::run(Cli::try_parse_from([
            "shopsync".as_ref(),
            "keygen".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ])?)
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn keygen_then_records_commands_read_what_was_written() {
    let db = fresh_db().await;
    let dir = scratch_dir("shopsync-records-cli").join(&db.name);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("master.key");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "rules:\n  - name: support-orders\n    roles: [support]\n    environments: [production]\n    recordsets: [orders]\n",
    )
    .unwrap();

    keygen(&key).unwrap();
    let again = keygen(&key).unwrap_err().to_string();
    assert!(
        again.contains("already exists"),
        "keygen must refuse to overwrite: {again}"
    );

    let master = Arc::new(MasterKey::load(&key).unwrap());
    let conn = connection(&db.pool, "uid-cli", "acme", "production").await;
    let mut w = writer(&db.pool, &master, &conn).await;
    let run = w.begin_run("incremental").await.unwrap();
    let batch: Vec<_> = (1..=30).map(|id| order(id, id)).collect();
    w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 30))
        .await
        .unwrap();
    w.write_batch(run, RecordSet::Products, &batch[..3], &checkpoint(1, 30))
        .await
        .unwrap();

    let listed = records_cmd(
        &["list", "--connection", "shops/acme", "--limit", "25"],
        &db.url,
        &key,
        &policy,
    )
    .unwrap();
    assert_eq!(listed.len(), 25);
    assert_eq!(listed[0]["id"], 1);
    assert_eq!(listed[0]["payload"], order_payload(1, 1));

    let got = records_cmd(
        &["get", "--connection", "shops/acme", "gid://shopify/Order/7"],
        &db.url,
        &key,
        &policy,
    )
    .unwrap();
    assert_eq!(got[0]["payload"], order_payload(7, 7));

    let counted = records_cmd(
        &["count", "--connection", "shops/acme"],
        &db.url,
        &key,
        &policy,
    )
    .unwrap();
    assert_eq!(
        counted,
        vec![serde_json::json!({"recordset": "orders", "count": 30})]
    );
    let stats = records_cmd(
        &["stats", "--connection", "shops/acme"],
        &db.url,
        &key,
        &policy,
    )
    .unwrap();
    assert_eq!(stats[0]["records"], 30);

    let refused = records_cmd(
        &[
            "list",
            "--connection",
            "shops/acme",
            "--recordset",
            "products",
        ],
        &db.url,
        &key,
        &policy,
    )
    .unwrap_err();
    assert!(
        refused.contains("default-deny") && refused.contains("support-orders"),
        "{refused}"
    );

    let wrong_key = dir.join("other.key");
    std::fs::write(&wrong_key, [9u8; 32]).unwrap();
    let wrong = records_cmd(
        &["count", "--connection", "shops/acme"],
        &db.url,
        &wrong_key,
        &policy,
    )
    .unwrap_err();
    assert!(wrong.contains("does not unwrap"), "{wrong}");
    std::fs::remove_dir_all(&dir).unwrap();
}
