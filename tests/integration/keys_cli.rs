//! `shopsync keys rotate-master` and `shopsync keys rotate-data` through the
//! command line: after both, the records read with the new master key only,
//! and every record is under the connection's new data key.

use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use shopsync::cli::Cli;
use shopsync::crypto::MasterKey;
use shopsync::store::RecordSet;

use crate::support::postgres::{fresh_db, scratch_dir};
use crate::support::store::*;

fn shopsync(args: Vec<String>) -> anyhow::Result<()> {
    std::thread::spawn(move || shopsync::cli::run(Cli::try_parse_from(args)?))
        .join()
        .unwrap()
}

fn key_file(path: &Path) -> Arc<MasterKey> {
    let (contents, _) = MasterKey::generate_file_contents().unwrap();
    std::fs::write(path, contents.as_bytes()).unwrap();
    Arc::new(MasterKey::load(path).unwrap())
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn rotate_master_then_data_key_from_the_command_line() {
    let db = fresh_db().await;
    let dir = scratch_dir("shopsync-keys-cli").join(&db.name);
    std::fs::create_dir_all(&dir).unwrap();
    let (old_path, new_path) = (dir.join("old.key"), dir.join("new.key"));
    let old = key_file(&old_path);
    let new = key_file(&new_path);

    let conn = connection(&db.pool, "uid-keys", "acme", "production").await;
    let mut w = writer(&db.pool, &old, &conn).await;
    let run = w.begin_run("incremental").await.unwrap();
    let batch: Vec<_> = (1..=40).map(|id| order(id, id)).collect();
    w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 40))
        .await
        .unwrap();
    let first_key: uuid::Uuid = sqlx::query_scalar("SELECT key_id FROM data_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();

    let (old_s, new_s) = (
        old_path.display().to_string(),
        new_path.display().to_string(),
    );
    shopsync(args(&[
        "shopsync",
        "keys",
        "rotate-master",
        "--database-url",
        &db.url,
        "--master-key-file",
        &old_s,
        "--new-master-key-file",
        &new_s,
    ]))
    .unwrap();
    assert!(
        try_reader(&db.pool, &old, &conn, "production")
            .await
            .is_err(),
        "the old master key no longer opens anything"
    );

    shopsync(args(&[
        "shopsync",
        "keys",
        "rotate-data",
        "--database-url",
        &db.url,
        "--master-key-file",
        &new_s,
        "--connection",
        "shops/acme",
        "--batch-size",
        "7",
    ]))
    .unwrap();
    let keys: Vec<(uuid::Uuid, i64)> =
        sqlx::query_as("SELECT key_id, count(*) FROM records GROUP BY key_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0].0, first_key, "records moved to a new data key");
    assert_eq!(keys[0].1, 40);

    let records = reader(&db.pool, &new, &conn)
        .await
        .list(&all_orders())
        .await
        .unwrap();
    assert_eq!(records.len(), 40);
    assert_eq!(records[39].payload_json().unwrap(), order_payload(40, 40));

    let wrong = shopsync(args(&[
        "shopsync",
        "keys",
        "rotate-data",
        "--database-url",
        &db.url,
        "--master-key-file",
        &old_s,
        "--connection",
        "shops/acme",
    ]))
    .unwrap_err();
    assert!(
        format!("{wrong:#}").contains("does not unwrap"),
        "{wrong:#}"
    );
    let keys_after: i64 = sqlx::query_scalar("SELECT count(*) FROM data_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(keys_after, 2, "a refused rotation creates no key");
    let mut w = writer(&db.pool, &new, &conn).await;
    let run = w.begin_run("incremental").await.unwrap();
    w.write_batch(run, RecordSet::Orders, &[order(41, 41)], &checkpoint(2, 41))
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
