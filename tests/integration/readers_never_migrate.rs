//! Read-only commands never change the schema: on a database that is not
//! migrated they refuse with a message saying what to run, and they leave it
//! untouched.

use shopsync::store::{RetryPolicy, StoreError, connect_for_reading};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::support::postgres::{admin_url, fresh_db};

#[tokio::test]
async fn reading_an_unmigrated_database_is_refused_without_migrating_it() {
    let admin = admin_url().await;
    // The harness's naming (prefix, creation time, pid) so its stale-database
    // sweep recognises the age correctly.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let name = format!("shopsync_test_{secs}_{}_unmigrated", std::process::id());
    let mut conn = PgConnection::connect(admin).await.unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{name}\""),
        format!("CREATE DATABASE \"{name}\""),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let url = admin
        .parse::<PgConnectOptions>()
        .unwrap()
        .database(&name)
        .to_url_lossy()
        .to_string();

    match connect_for_reading(&url, RetryPolicy::default()).await {
        Err(err @ StoreError::SchemaBehind { applied: 0, .. }) => {
            assert!(err.to_string().contains("to migrate it"), "{err}")
        }
        other => panic!("expected SchemaBehind, got {other:?}"),
    }
    let mut unmigrated = PgConnection::connect(&url).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut unmigrated)
            .await
            .unwrap();
    assert_eq!(tables, 0, "the reader created nothing");
    unmigrated.close().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();

    let migrated = fresh_db().await;
    assert!(
        connect_for_reading(&migrated.url, RetryPolicy::default())
            .await
            .is_ok()
    );
}
