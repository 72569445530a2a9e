//! A fresh, migrated database per test.
//!
//! The server is `DATABASE_URL`, else the local default
//! (`postgres://postgres@127.0.0.1:5432/postgres`), else a throwaway cluster
//! under `target/shopsync-postgres` started once and shared by every test
//! process of the run. If none can be had, the error names both fixes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use shopsync::store::local_postgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

const PREFIX: &str = "shopsync_test_";
/// Test databases older than this are left over from killed runs and dropped.
const STALE_AFTER_SECS: u64 = 6 * 3600;

static ADMIN_URL: OnceCell<String> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// An empty database with every migration applied, dropped when this is.
pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
    pub name: String,
    admin_url: String,
}

/// Where throwaway clusters and other scratch files of the test run live.
pub fn scratch_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join(name)
}

/// The admin URL of the server tests use, resolved once per process.
pub async fn admin_url() -> &'static str {
    ADMIN_URL
        .get_or_init(|| async {
            let url = local_postgres::resolve(&scratch_dir("shopsync-postgres"))
                .await
                .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"));
            drop_stale_databases(&url).await;
            url
        })
        .await
}

/// A new database for one test, migrated.
pub async fn fresh_db() -> TestDb {
    let admin_url = admin_url().await.to_owned();
    let name = format!(
        "{PREFIX}{}_{}_{}",
        unix_now(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("connect as admin");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let _ = admin.close().await;

    let options: PgConnectOptions = admin_url.parse().expect("admin URL parses");
    let options = options.database(&name);
    let url = options.to_url_lossy().to_string();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .expect("connect to test database");
    shopsync::store::migrate::migrate(&pool)
        .await
        .expect("migrations apply");
    TestDb {
        pool,
        url,
        name,
        admin_url,
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside any async context we can rely on, so the DROP
        // DATABASE gets its own thread and runtime. FORCE ends open sessions.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(drop_database(&admin_url, &name));
            }
        })
        .join();
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = PgConnection::connect(admin_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
    }
}

async fn drop_stale_databases(admin_url: &str) {
    let Ok(mut admin) = PgConnection::connect(admin_url).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'shopsync_test_%'")
            .fetch_all(&mut admin)
            .await
            .unwrap_or_default();
    let _ = admin.close().await;
    let now = unix_now();
    for name in names {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER_SECS) {
            drop_database(admin_url, &name).await;
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
