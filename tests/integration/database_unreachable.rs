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
