//! An unreachable database is retried with backoff and then reported with one
//! clear error; a password in the URL never appears in it.

use std::time::Duration;

use shopsync::store::{RetryPolicy, StoreError, connect};

#[tokio::test]
async fn unreachable_database_is_retried_then_reported() {
    // A port nothing listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://shopsync:s3cret-pw@127.0.0.1:{port}/shopsync");
    let policy = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(100),
        connect_timeout: Duration::from_millis(500),
    };
    match connect(&url, policy).await {
        Err(err @ StoreError::Unreachable { attempts: 3, .. }) => {
            let text = err.to_string();
            assert!(!text.contains("s3cret-pw"), "{text}");
            assert!(text.contains("DATABASE_URL"), "{text}");
        }
        other => panic!("expected Unreachable after 3 attempts, got {other:?}"),
    }
}

/// Terminates the writer's one connection and waits until it is gone, so
/// the next batch meets a dead connection rather than racing the termination.
async fn kill_writer_connection(admin: &sqlx::PgPool, writer_pool: &sqlx::PgPool) {
    // The pool returns a connection in the background; wait until it is
    // back and idle, so the one that gets killed is the one handed out next.
    while writer_pool.size() != 1 || writer_pool.num_idle() != 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'shopsync-retry-test'",
    )
    .fetch_all(admin)
    .await
    .unwrap();
    assert_eq!(
        killed,
        vec![true],
        "the writer's one connection was terminated"
    );
    while sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'shopsync-retry-test')",
    )
    .fetch_one(admin)
    .await
    .unwrap()
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A connection that dies between batches (a server restart, a failover) is
/// retried: the batch lands exactly once and its checkpoint with it.
#[tokio::test]
async fn dead_connection_writes_nothing_without_retries_and_lands_once_with_them() {
    use crate::support::postgres::fresh_db;
    use crate::support::store::*;
    use shopsync::store::{RecordSet, RecordWriter};
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    let db = fresh_db().await;
    let master = master_key();
    let conn = connection(&db.pool, "uid-retry", "acme", "production").await;
    let options: PgConnectOptions = db.url.parse().unwrap();
    // No liveness check on acquire, so the dead connection reaches the writer.
    let fragile = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(options.application_name("shopsync-retry-test"))
        .await
        .unwrap();
    let mut w = RecordWriter::open(fragile.clone(), master.clone(), conn.clone())
        .await
        .unwrap();
    let run = w.begin_run("incremental").await.unwrap();
    w.write_batch(run, RecordSet::Orders, &[order(1, 1)], &checkpoint(1, 1))
        .await
        .unwrap();

    // Without retries, the dead connection fails the batch, and nothing of
    // it is written.
    kill_writer_connection(&db.pool, &fragile).await;
    let mut w = w.with_retry_policy(RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    });
    match w
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(2, 2), order(3, 3)],
            &checkpoint(2, 3),
        )
        .await
    {
        Err(err @ StoreError::Unavailable { .. }) => assert!(
            err.to_string().contains("nothing of it was written"),
            "{err}"
        ),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);

    // With retries, the batch lands on a fresh connection. (The pool dropped
    // the broken connection; a read puts a live one back, which is then killed.)
    assert!(
        w.checkpoint(RecordSet::Orders, "incremental")
            .await
            .unwrap()
            .is_some()
    );
    kill_writer_connection(&db.pool, &fragile).await;
    let mut w = w.with_retry_policy(RetryPolicy::default());
    let outcome = w
        .write_batch(
            run,
            RecordSet::Orders,
            &[order(2, 2), order(3, 3)],
            &checkpoint(2, 3),
        )
        .await
        .unwrap();
    assert_eq!(outcome.written, 2);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 3);
    let saved = w
        .checkpoint(RecordSet::Orders, "incremental")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved, checkpoint(2, 3));
}
