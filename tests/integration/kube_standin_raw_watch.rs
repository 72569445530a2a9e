//! Raw watches on the stand-in, as lines on the wire: replay after a
//! resourceVersion, BOOKMARKs when allowed, `timeoutSeconds` honoured, and a
//! 410 Expired ERROR event once the history asked for is gone.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use serde_json::Value;
use shopsync::kube_standin::{Options, StandIn};

use crate::support::standin::{named, standin_with};

/// The lines of a raw watch until it ends or `max` arrive.
async fn raw_watch(s: &StandIn, query: &str, max: usize) -> Vec<Value> {
    let url = s
        .url()
        .join(&format!("/api/v1/namespaces/default/secrets?{query}"))
        .unwrap();
    let mut body = reqwest::get(url).await.unwrap().bytes_stream();
    let mut text = String::new();
    let mut lines = Vec::new();
    while lines.len() < max {
        let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(10), body.next()).await
        else {
            break;
        };
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = text.find('\n') {
            lines.push(serde_json::from_str(&text[..end]).unwrap());
            text.drain(..=end);
        }
    }
    lines
}

#[tokio::test]
async fn raw_watches_replay_bookmark_time_out_and_expire() {
    let s = standin_with(Options {
        bookmark_interval: Duration::from_millis(100),
        history_limit: 3,
    })
    .await;
    let secrets: Api<Secret> = Api::namespaced(s.client(), "default");
    let first = secrets
        .create(&PostParams::default(), &named("a"))
        .await
        .unwrap();
    let rv: u64 = first.metadata.resource_version.unwrap().parse().unwrap();
    secrets
        .create(&PostParams::default(), &named("b"))
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let replay = raw_watch(
        &s,
        &format!("watch=1&resourceVersion={rv}&timeoutSeconds=1"),
        10,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "timeoutSeconds ended the watch"
    );
    let types: Vec<&str> = replay.iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(
        types,
        ["ADDED"],
        "only b came after a; the stream ended at its timeout"
    );
    assert_eq!(replay[0]["object"]["metadata"]["name"], "b");

    let marks = raw_watch(
        &s,
        &format!("watch=true&allowWatchBookmarks=true&resourceVersion={rv}"),
        2,
    )
    .await;
    assert_eq!(marks[1]["type"], "BOOKMARK");
    let mark_rv = marks[1]["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap();
    assert!(mark_rv.parse::<u64>().unwrap() > rv);

    for name in ["c", "d", "e"] {
        secrets
            .create(&PostParams::default(), &named(name))
            .await
            .unwrap();
    }
    let expired = raw_watch(&s, &format!("watch=true&resourceVersion={rv}"), 1).await;
    assert_eq!(expired[0]["type"], "ERROR");
    assert_eq!(expired[0]["object"]["code"], 410);
    assert_eq!(expired[0]["object"]["reason"], "Expired");
}
