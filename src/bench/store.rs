//! `shopsync bench store`: the record store's numbers. Encrypted upserts of
//! 1 KB records through the sync engine's write API, a plain binary COPY of
//! the very same ciphertext rows (the physical limit of this Postgres), reads
//! with decryption, and a data-key rotation of every record while a writer
//! keeps writing. Runs in a scratch database that is dropped afterwards.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use futures::TryStreamExt;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::BenchError;
use crate::crypto::MasterKey;
use crate::store::{
    AccessGrant, AccessPolicy, Checkpoint, ConnectionIdentity, ListQuery, RecordReader, RecordSet,
    RecordWrite, RecordWriter, ShopifyId, connections, local_postgres, migrate, rotation,
};

const PAYLOAD_BYTES: usize = 1024;
const WRITE_BATCH: usize = 2_000;
const READ_PAGE: i64 = 10_000;
const ROTATION_BATCH: i64 = 5_000;

/// What to run against.
#[derive(Debug, Clone)]
pub struct StoreBenchConfig {
    pub records: usize,
    pub database_url: Option<String>,
}

struct Results {
    records: usize,
    upsert: Duration,
    copy: Duration,
    read: Duration,
    read_records: usize,
    rotation: Duration,
    rotated: i64,
    writes_during_rotation: usize,
    slowest_write_batch: Duration,
    server: String,
}

/// Runs every measurement and returns the markdown table.
pub async fn run(config: &StoreBenchConfig) -> Result<String, BenchError> {
    let admin_url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            local_postgres::resolve(&std::env::temp_dir().join("shopsync-bench-postgres")).await?
        }
    };
    let name = format!("shopsync_bench_{}", std::process::id());
    let url = local_postgres::recreate_database(&admin_url, &name).await?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await?;
    let outcome = measure(&pool, config.records).await;
    pool.close().await;
    local_postgres::drop_database(&admin_url, &name).await?;
    Ok(render(&outcome?))
}

async fn measure(pool: &PgPool, records: usize) -> Result<Results, BenchError> {
    migrate::migrate(pool)
        .await
        .map_err(crate::store::StoreError::from)?;
    let server: String = sqlx::query_scalar("SELECT current_setting('server_version')")
        .fetch_one(pool)
        .await?;
    let master = Arc::new(MasterKey::generate()?);
    let conn = connections::register(
        pool,
        &ConnectionIdentity {
            uid: "bench-uid".to_owned(),
            namespace: "bench".to_owned(),
            name: "acme".to_owned(),
            store: "acme.myshopify.com".to_owned(),
            environment: "production".to_owned(),
        },
    )
    .await?;
    let mut writer = RecordWriter::open(pool.clone(), master.clone(), conn.clone()).await?;
    let run = writer.begin_run("bench").await?;

    // 1. Encrypted upserts through the write API, batch + checkpoint per
    //    transaction. Only write_batch is timed: building the synthetic
    //    payloads stands in for the sync engine and is not store work.
    let mut upsert = Duration::ZERO;
    let mut next_id = 1i64;
    while (next_id as usize) <= records {
        let end = (next_id as usize + WRITE_BATCH - 1).min(records) as i64;
        let batch: Vec<RecordWrite> = (next_id..=end).map(|id| record(id, 0)).collect();
        let started = Instant::now();
        writer
            .write_batch(run, RecordSet::Orders, &batch, &checkpoint(end))
            .await?;
        upsert += started.elapsed();
        next_id = end + 1;
    }
    sqlx::query("CHECKPOINT").execute(pool).await?;

    // 2. The same ciphertext rows, exported and loaded with a plain binary COPY
    //    into a table of the same shape and indexes.
    sqlx::query("CREATE TABLE bench_plain_copy (LIKE records INCLUDING ALL)")
        .execute(pool)
        .await?;
    let mut c = pool.acquire().await?;
    let chunks: Vec<_> = c
        .copy_out_raw("COPY records TO STDOUT (FORMAT binary)")
        .await?
        .try_collect()
        .await?;
    let started = Instant::now();
    let mut copy_in = c
        .copy_in_raw("COPY bench_plain_copy FROM STDIN (FORMAT binary)")
        .await?;
    for chunk in chunks {
        copy_in.send(chunk).await?;
    }
    copy_in.finish().await?;
    let copy = started.elapsed();
    drop(c);
    sqlx::query("DROP TABLE bench_plain_copy")
        .execute(pool)
        .await?;
    sqlx::query("CHECKPOINT").execute(pool).await?;

    // 3. Reads with decryption, page by page through the list API.
    let policy = AccessPolicy::parse(
        "rules:\n  - name: bench\n    roles: [bench]\n    environments: [production]\n    recordsets: [orders]\n",
        "bench policy",
    )
    .map_err(|e| BenchError::Task(e.to_string()))?;
    let reader = RecordReader::open(
        pool.clone(),
        master.clone(),
        &conn.qualified_name(),
        AccessGrant::new(policy, "bench", "production"),
    )
    .await?;
    let started = Instant::now();
    let mut query = ListQuery {
        recordset: RecordSet::Orders,
        updated_since: None,
        after: None,
        limit: READ_PAGE,
        include_deleted: false,
    };
    let mut read_records = 0;
    loop {
        let page = reader.list(&query).await?;
        read_records += page.len();
        match page.last() {
            Some(last) if page.len() as i64 == READ_PAGE => {
                query.after = Some((last.updated_at, last.shopify_id))
            }
            _ => break,
        }
    }
    let read = started.elapsed();

    // 4. Data-key rotation of every record while a writer keeps writing.
    let started = Instant::now();
    rotation::start_data_key_rotation(pool, &master, &conn).await?;
    let rotating = {
        let (pool, master, conn) = (pool.clone(), master.clone(), conn.clone());
        tokio::spawn(async move {
            rotation::continue_data_key_rotation(&pool, &master, &conn, ROTATION_BATCH, None).await
        })
    };
    let mut writes_during_rotation = 0;
    let mut slowest_write_batch = Duration::ZERO;
    let mut id = records as i64 + 1;
    while !rotating.is_finished() {
        let batch: Vec<RecordWrite> = (id..id + 1_000).map(|id| record(id, 1)).collect();
        let batch_started = Instant::now();
        writer
            .write_batch(run, RecordSet::Orders, &batch, &checkpoint(id + 999))
            .await?;
        slowest_write_batch = slowest_write_batch.max(batch_started.elapsed());
        writes_during_rotation += batch.len();
        id += 1_000;
    }
    let rotation_elapsed = started.elapsed();
    let done = rotating
        .await
        .map_err(|e| BenchError::Task(e.to_string()))??;

    Ok(Results {
        records,
        upsert,
        copy,
        read,
        read_records,
        rotation: rotation_elapsed,
        rotated: done.reencrypted,
        writes_during_rotation,
        slowest_write_batch,
        server,
    })
}

/// An order-shaped payload of about 1 KB (serialized), made of synthetic data.
fn record(id: i64, version: i64) -> RecordWrite {
    let mut payload = serde_json::json!({
        "id": format!("gid://shopify/Order/{id}"),
        "name": format!("#{}", 1000 + id),
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "currentTotalPriceSet": {"shopMoney": {"amount": format!("{}.{:02}", id % 1000, id % 100), "currencyCode": "EUR"}},
        "lineItems": [{"sku": format!("SKU-{:06}", id % 997), "quantity": 1 + id % 4, "title": "Bench item"}],
        "version": version,
        "note": "",
    });
    let filler = PAYLOAD_BYTES.saturating_sub(payload.to_string().len());
    payload["note"] = serde_json::Value::String("x".repeat(filler));
    RecordWrite {
        shopify_id: ShopifyId(id),
        created_at: Some(at(id)),
        updated_at: at(id + version * 10_000_000),
        // Serializing a JSON value cannot fail.
        payload: serde_json::value::to_raw_value(&payload).unwrap_or_default(),
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or_default()
}

fn checkpoint(through: i64) -> Checkpoint {
    Checkpoint {
        stream: "bench".to_owned(),
        watermark: Some(at(through)),
        state: serde_json::json!({ "through": through }),
    }
}

fn rate(n: usize, elapsed: Duration) -> String {
    let per_sec = n as f64 / elapsed.as_secs_f64().max(1e-9);
    group_thousands(per_sec.round() as u64)
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn render(r: &Results) -> String {
    let upsert_rate = r.records as f64 / r.upsert.as_secs_f64().max(1e-9);
    let copy_rate = r.records as f64 / r.copy.as_secs_f64().max(1e-9);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Record store, {} records of {PAYLOAD_BYTES} B JSON, write batches of {WRITE_BATCH}, PostgreSQL {}, {} CPUs\n",
        group_thousands(r.records as u64),
        r.server,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    );
    let _ = writeln!(out, "| measurement | result | target |");
    let _ = writeln!(out, "|---|---|---|");
    let _ = writeln!(
        out,
        "| encrypted upsert (seal + batch merge + checkpoint per transaction) | {} records/s ({:.1} s) | ≥ 20,000 records/s |",
        rate(r.records, r.upsert),
        r.upsert.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| plain binary COPY of the same ciphertext rows | {} records/s ({:.1} s) | physical limit |",
        rate(r.records, r.copy),
        r.copy.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| upsert / COPY | {:.2} | ≥ 0.50 |",
        upsert_rate / copy_rate
    );
    let _ = writeln!(
        out,
        "| reads with decryption (list, pages of {READ_PAGE}) | {} records/s ({:.1} s) | ≥ 50,000 records/s |",
        rate(r.read_records, r.read),
        r.read.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| data-key rotation of {} records | {:.1} s ({} records/s) | writers not blocked |",
        group_thousands(r.rotated.max(0) as u64),
        r.rotation.as_secs_f64(),
        rate(r.rotated.max(0) as usize, r.rotation)
    );
    let _ = writeln!(
        out,
        "| writer during rotation (batches of 1,000) | {} records/s, slowest batch {} ms | keeps writing |",
        rate(r.writes_during_rotation, r.rotation),
        r.slowest_write_batch.as_millis()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_about_one_kilobyte() {
        let len = record(123_456, 0).payload.get().len();
        assert!((PAYLOAD_BYTES..PAYLOAD_BYTES + 16).contains(&len), "{len}");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }
}
