//! Credentials and scopes through the real controller: a missing Secret, a
//! rejected token and missing scopes each get their own condition, reason,
//! message and Event, without crash-looping; fixing the Secret (token
//! rotation) is picked up through the Secret watch.

use serde_json::json;
use shopsync::api::ConditionStatus::{False, True};
use shopsync::api::ConditionType::*;

use crate::support::operator::{WAIT, condition, is, ready, scenario};

const TOKEN: &str = "shpat_acme";
const STORE: &str = "acme.myshopify.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_then_a_rejected_token_then_a_rotated_one() {
    let mut s = scenario(&[("acme", TOKEN)], 50, |_| {}).await;
    let settings = s.env.settings("replica-a");
    s.env.start_replica(settings);
    s.env
        .apply_connection("acme", STORE, json!({}))
        .await
        .unwrap();

    let c = s
        .env
        .wait_for("acme", "without its Secret", WAIT, |c| {
            is(c, CredentialsValid, False, "SecretNotFound")
        })
        .await
        .unwrap()
        .unwrap();
    assert!(is(Some(&c), Ready, False, "SecretNotFound"));
    let message = &c.status.as_ref().unwrap().conditions[0].message;
    assert!(
        message.contains("accessToken"),
        "says which key to create: {message}"
    );

    s.env.apply_secret("acme", "shpat_wrong").await.unwrap();
    let c = s
        .env
        .wait_for("acme", "rejected", WAIT, |c| {
            is(c, CredentialsValid, False, "InvalidToken") && is(c, Stalled, True, "")
        })
        .await
        .unwrap()
        .unwrap();
    assert!(is(Some(&c), Ready, False, ""));
    let status_json = serde_json::to_string(&c.status).unwrap();
    assert!(
        !status_json.contains("shpat_wrong"),
        "the token leaked into status"
    );

    // A stalled connection is not retried in a loop.
    let requests = s.env.standin.as_ref().map(|k| k.request_count());
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    if let (Some(k), Some(before)) = (s.env.standin.as_ref(), requests) {
        let per_second = (k.request_count() - before) as f64 / 3.0;
        assert!(
            per_second < 10.0,
            "{per_second} API requests per second while stalled"
        );
    }

    // Rotating the token in the Secret is picked up without touching the connection.
    s.env.apply_secret("acme", TOKEN).await.unwrap();
    let c = s
        .env
        .wait_for("acme", "Ready", WAIT, ready)
        .await
        .unwrap()
        .unwrap();
    assert!(is(Some(&c), CredentialsValid, True, "Accepted"));
    assert!(condition(Some(&c), Stalled).is_none(), "Stalled cleared");

    // Events follow the status write that announces the transition.
    let mut events = Vec::new();
    for _ in 0..50 {
        events = s.env.events("acme").await.unwrap();
        if events.iter().any(|(r, _)| r == "Accepted") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for reason in ["SecretNotFound", "InvalidToken", "Accepted"] {
        assert!(
            events.iter().any(|(r, _)| r == reason),
            "no {reason} Event in {events:?}"
        );
    }
    assert!(
        events.iter().all(|(_, note)| !note.contains("shpat_")),
        "a token in an Event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_scopes_are_reported_and_the_rest_syncs() {
    let mut s = scenario(&[("acme", TOKEN)], 80, |c| {
        c.stores[0].scopes.remove("read_products");
    })
    .await;
    let settings = s.env.settings("replica-a");
    s.env.start_replica(settings);
    s.env.apply_secret("acme", TOKEN).await.unwrap();
    let created = s
        .env
        .apply_connection(
            "acme",
            STORE,
            json!({"scopes": ["read_orders", "read_products"], "resources": {"products": {"enabled": true}}}),
        )
        .await
        .unwrap();
    let c = s
        .env
        .wait_for("acme", "synced without products", WAIT, |c| {
            is(c, ScopesGranted, False, "MissingScopes") && ready(c)
        })
        .await
        .unwrap()
        .unwrap();
    let status = c.status.unwrap();
    assert_eq!(status.missing_scopes, vec!["read_products".to_owned()]);
    let ready_reason = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.reason.clone());
    assert_eq!(ready_reason.as_deref(), Some("SyncedWithMissingScopes"));
    let uid = created.metadata.uid.unwrap();
    assert_eq!(
        s.stored_orders(&uid)
            .await
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        s.open_orders(STORE).await
    );
}
