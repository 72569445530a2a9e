//! The unavailability fault: every request answers 503, and kube's default
//! client retries through a short outage as it would against a real server.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};

use crate::support::standin::{api_error, standin};

#[tokio::test]
async fn unavailability_answers_503_and_kube_retries_through_it() {
    let s = standin().await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    s.set_unavailable(true);
    let mut config = s.config();
    config.default_retry = false;
    let impatient: Api<Secret> =
        Api::namespaced(kube::Client::try_from(config).unwrap(), "default");
    let down = impatient.list(&ListParams::default()).await;
    assert_eq!(api_error(down), ("ServiceUnavailable".into(), 503));
    let before = s.request_count();

    // kube's default client retries 503 with backoff, as it would against a
    // real server that is briefly down: the list succeeds once the fault lifts.
    let pending = tokio::spawn(async move { secrets.list(&ListParams::default()).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    s.set_unavailable(false);
    let listed = tokio::time::timeout(std::time::Duration::from_secs(10), pending)
        .await
        .expect("the retried list finishes soon after the fault lifts")
        .unwrap();
    assert!(listed.is_ok(), "{listed:?}");
    assert!(
        s.request_count() >= before + 3,
        "some attempts were refused first"
    );
    let last = s.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", "/api/v1/namespaces/default/secrets")
    );
}
