//! The test harness's Postgres: each test gets its own migrated database, and
//! a throwaway cluster can be started from the installed server binaries when
//! no server is configured.

use crate::support::postgres::{fresh_db, scratch_dir};
use shopsync::store::local_postgres::{LocalPostgresError, ThrowawayCluster};
use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn each_test_gets_an_empty_migrated_database() {
    let a = fresh_db().await;
    let b = fresh_db().await;
    assert_ne!(a.name, b.name);

    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&a.pool)
        .await
        .unwrap();
    assert_eq!(
        applied as usize,
        shopsync::store::migrate::MIGRATOR.iter().count()
    );

    sqlx::query("INSERT INTO connections (uid, namespace, name, store, environment) VALUES ('u1', 'ns', 'n', 'a.myshopify.com', 'production')")
        .execute(&a.pool)
        .await
        .unwrap();
    let in_b: i64 = sqlx::query_scalar("SELECT count(*) FROM connections")
        .fetch_one(&b.pool)
        .await
        .unwrap();
    assert_eq!(in_b, 0, "databases of different tests must not share rows");

    // Applying again is a no-op (the operator migrates on every start).
    shopsync::store::migrate::migrate(&a.pool).await.unwrap();
}

#[tokio::test]
async fn dropped_test_database_is_removed() {
    let db = fresh_db().await;
    let name = db.name.clone();
    let admin_url = crate::support::postgres::admin_url().await;
    drop(db);
    let mut admin = PgConnection::connect(admin_url).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn throwaway_cluster_starts_once_and_serves() {
    let dir = scratch_dir("shopsync-postgres-selftest");
    let first = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || ThrowawayCluster::ensure_running(&dir)
    })
    .await
    .unwrap()
    .expect("the machine has PostgreSQL server binaries; the throwaway cluster must start");
    let again = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || ThrowawayCluster::ensure_running(&dir)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        first.port(),
        again.port(),
        "a running cluster is reused, not started twice"
    );

    let mut conn = PgConnection::connect(&first.url()).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    conn.close().await.unwrap();

    tokio::task::spawn_blocking(move || first.stop())
        .await
        .unwrap()
        .unwrap();
}

#[test]
fn no_database_error_names_both_fixes() {
    let message = LocalPostgresError::NothingAvailable {
        dir: "target/shopsync-postgres".into(),
    }
    .to_string();
    assert!(message.contains("set DATABASE_URL"), "{message}");
    assert!(message.contains("apt-get install postgresql"), "{message}");
}
