//! A full `pg_dump` of a database holding records full of names, emails,
//! SKUs and amounts contains none of them, as text or as hex-encoded bytes.

use std::path::Path;
use std::process::Command;

use crate::support::postgres::fresh_db;
use crate::support::store::*;
use shopsync::store::RecordSet;

const NEEDLES: &[&str] = &[
    "Philippa",
    "Quarrington",
    "philippa.q",
    "example.org",
    "SKU-ZEBRA",
    "9876.54",
    "1234.56",
];

fn pg_dump() -> &'static str {
    ["/usr/bin/pg_dump", "/usr/lib/postgresql/15/bin/pg_dump"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("pg_dump")
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn pg_dump_holds_no_customer_data() {
    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-dump", "acme", "production").await;
    let mut w = writer(&db.pool, &master, &conn).await;
    let run = w.begin_run("backfill").await.unwrap();
    let batch: Vec<_> = (1..=200).map(|id| order(id, id)).collect();
    let plaintext =
        serde_json::to_string(&batch.iter().map(|r| &r.payload).collect::<Vec<_>>()).unwrap();
    for needle in NEEDLES {
        assert!(
            plaintext.contains(needle),
            "the fixture must contain {needle}"
        );
    }
    w.write_batch(run, RecordSet::Orders, &batch, &checkpoint(1, 200))
        .await
        .unwrap();
    w.write_batch(run, RecordSet::Products, &batch[..20], &checkpoint(1, 200))
        .await
        .unwrap();

    // pg_dump refuses sqlx's URL parameters (statement-cache-capacity).
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_query(None);
    let out = Command::new(pg_dump())
        .args(["--no-owner", "--inserts", "-d", url.as_str()])
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        dump.contains("insert into public.records"),
        "the dump must contain the record rows"
    );
    assert!(dump.matches("insert into public.records").count() >= 220);
    assert!(
        dump.contains("uid-dump"),
        "identifiers needed for indexing are in the clear"
    );
    for needle in NEEDLES {
        let needle = needle.to_lowercase();
        assert!(!dump.contains(&needle), "{needle} appears in the dump");
        assert!(
            !dump.contains(&hex(&needle)),
            "{needle} appears hex-encoded in the dump"
        );
    }
}
