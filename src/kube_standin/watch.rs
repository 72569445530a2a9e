//! Watches: a chunked stream of `{"type", "object"}` lines. A watch starts
//! from a snapshot (ADDED for what exists), from a replay of the history
//! after a resourceVersion (410 Expired when that history is gone), or as a
//! streaming list ending in an `initial-events-end` bookmark; then it follows
//! new changes, sends BOOKMARKs when asked, and ends at its timeout or when
//! the server closes every watch.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

use super::Shared;
use super::errors::ApiError;
use super::objects::{Change, ChangeType};
use super::params::{Query, Selection};
use super::table;
use super::target::Target;

/// The API server's default for watches that name no timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// Far enough for any test, near enough that a deadline cannot overflow.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// What one watch delivers, and how.
struct Filter {
    target: Target,
    selection: Selection,
    /// `Some(includeObject)` when the client asked for Tables (`kubectl get -w`).
    table: Option<Option<String>>,
}

impl Filter {
    fn selects(&self, stored: &Value) -> bool {
        let meta = &stored["metadata"];
        let ns_ok = self
            .target
            .namespace
            .as_deref()
            .is_none_or(|ns| meta["namespace"].as_str() == Some(ns));
        let name_ok = self
            .target
            .name
            .as_deref()
            .is_none_or(|n| meta["name"].as_str() == Some(n));
        ns_ok && name_ok && self.selection.matches(stored)
    }

    /// The event this watch sees for a change, if any: an object entering
    /// the selection is ADDED, one leaving it DELETED.
    fn event(&self, change: &Change) -> Option<Value> {
        if change.id != self.target.kind.storage {
            return None;
        }
        let now = self.selects(&change.object);
        let before = change.previous.as_ref().is_some_and(|p| self.selects(p));
        let type_ = match (change.type_, before, now) {
            (ChangeType::Deleted, b, n) if b || n => "DELETED",
            (ChangeType::Added, _, true) => "ADDED",
            (ChangeType::Modified, true, true) => "MODIFIED",
            (ChangeType::Modified, false, true) => "ADDED",
            (ChangeType::Modified, true, false) => "DELETED",
            _ => return None,
        };
        Some(self.line(type_, &change.object))
    }

    /// A watch event for a stored object, as an object or a one-row Table.
    fn line(&self, type_: &str, stored: &Value) -> Value {
        let object = self.target.present(stored);
        let object = match &self.table {
            None => object,
            Some(include) => {
                let meta = json!({"resourceVersion": object["metadata"]["resourceVersion"]});
                table::render(
                    &self.target.kind,
                    std::slice::from_ref(&object),
                    include.as_deref(),
                    meta,
                    jiff::Timestamp::now(),
                )
            }
        };
        json!({"type": type_, "object": object})
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({"type": "BOOKMARK", "object": {
            "kind": self.target.kind.kind,
            "apiVersion": self.target.api_version(),
            "metadata": meta,
        }})
    }
}

/// Opens a watch: validates the request and takes its starting point under
/// the store lock, then streams from a task of its own.
pub fn start(
    shared: &Arc<Shared>,
    target: Target,
    q: &Query,
    as_table: bool,
) -> Result<Body, ApiError> {
    let selection = Selection::from_query(q, &target.kind)?;
    let bookmarks = q.flag("allowWatchBookmarks");
    let streaming = q.flag("sendInitialEvents");
    if streaming && (q.get("resourceVersionMatch") != Some("NotOlderThan") || !bookmarks) {
        return Err(ApiError::unprocessable(
            "sendInitialEvents needs resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true",
        ));
    }
    let timeout = q
        .number("timeoutSeconds")?
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs)
        .min(LONGEST_TIMEOUT);
    let from = match q.get("resourceVersion") {
        None | Some("0") => None,
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("resourceVersion: Invalid value: {rv:?}"))
        })?),
    };
    let filter = Filter {
        target,
        selection,
        table: as_table.then(|| q.get("includeObject").map(str::to_owned)),
    };

    let (initial, seen, changes) = {
        let state = shared.lock();
        let changes = state.objects.subscribe();
        let current = state.objects.rv();
        let snapshot = || -> Vec<Value> {
            state
                .objects
                .list(
                    &filter.target.kind.storage,
                    filter.target.namespace.as_deref(),
                )
                .into_iter()
                .filter(|s| filter.selects(&s.value))
                .map(|s| filter.line("ADDED", &s.value))
                .collect()
        };
        let initial = match (streaming, from) {
            (true, _) => {
                let mut events = snapshot();
                events.push(filter.bookmark(current, true));
                events
            }
            (false, None) => snapshot(),
            (false, Some(rv)) => match state.objects.changes_after(rv) {
                Ok(replay) => replay.iter().filter_map(|c| filter.event(c)).collect(),
                Err(compacted) => {
                    let gone =
                        ApiError::expired(format!("too old resource version: {rv} ({compacted})"));
                    let line = json!({"type": "ERROR", "object": gone.status()});
                    return Ok(body_of(vec![line], None));
                }
            },
        };
        (initial, current, changes)
    };

    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stream = OpenWatch {
        filter,
        seen,
        bookmark_every: bookmarks.then_some(shared.options.bookmark_interval),
        deadline: Instant::now() + timeout,
        changes,
        closer: shared.closer.subscribe(),
        tx,
    };
    tokio::spawn(stream.run(initial));
    Ok(body_of(Vec::new(), Some(rx)))
}

/// Initial lines, then whatever the task sends until it ends.
fn body_of(initial: Vec<Value>, mut rx: Option<mpsc::Receiver<Bytes>>) -> Body {
    let first = futures::stream::iter(initial.into_iter().map(|v| line(&v)));
    let rest = futures::stream::poll_fn(move |cx| match rx.as_mut() {
        Some(rx) => rx.poll_recv(cx),
        None => std::task::Poll::Ready(None),
    });
    Body::from_stream(first.chain(rest).map(Ok::<Bytes, Infallible>))
}

fn line(v: &Value) -> Bytes {
    let mut text = v.to_string();
    text.push('\n');
    Bytes::from(text)
}

struct OpenWatch {
    filter: Filter,
    /// The newest revision this watch has passed, for bookmarks.
    seen: u64,
    bookmark_every: Option<Duration>,
    deadline: Instant,
    changes: broadcast::Receiver<Arc<Change>>,
    closer: watch::Receiver<u64>,
    tx: mpsc::Sender<Bytes>,
}

impl OpenWatch {
    async fn run(mut self, initial: Vec<Value>) {
        for v in initial {
            if self.tx.send(line(&v)).await.is_err() {
                return;
            }
        }
        let every = self.bookmark_every.unwrap_or(Duration::from_secs(3600));
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        loop {
            tokio::select! {
                _ = self.tx.closed() => return,
                _ = self.closer.changed() => return,
                _ = tokio::time::sleep_until(self.deadline) => return,
                _ = ticks.tick(), if self.bookmark_every.is_some() => {
                    let mark = self.filter.bookmark(self.seen, false);
                    if self.tx.send(line(&mark)).await.is_err() {
                        return;
                    }
                }
                change = self.changes.recv() => match change {
                    Ok(change) => {
                        self.seen = change.rv;
                        if let Some(event) = self.filter.event(&change)
                            && self.tx.send(line(&event)).await.is_err()
                        {
                            return;
                        }
                    }
                    // Lagged or closed: ending the stream makes the client
                    // re-watch from its last resourceVersion, replayed from history.
                    Err(_) => return,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube_standin::resources::Registry;
    use crate::kube_standin::target::{Route, route};

    fn filter(path: &str, query: &str) -> Filter {
        let Route::Resource(target) = route(&Registry::builtin(), path) else {
            panic!("no route for {path}");
        };
        let selection = Selection::from_query(&Query::parse(Some(query)), &target.kind).unwrap();
        Filter {
            target,
            selection,
            table: None,
        }
    }

    fn change(type_: ChangeType, object: Value, previous: Option<Value>) -> Change {
        Change {
            rv: 9,
            id: crate::kube_standin::resources::ResourceId {
                group: "".into(),
                plural: "secrets".into(),
            },
            type_,
            object,
            previous,
        }
    }

    fn secret(ns: &str, app: &str) -> Value {
        json!({"metadata": {"namespace": ns, "name": "s", "labels": {"app": app}}})
    }

    #[test]
    fn objects_leaving_a_selection_are_deleted_for_that_watch() {
        let f = filter("/api/v1/namespaces/a/secrets", "labelSelector=app%3Dshop");
        let moved = change(
            ChangeType::Modified,
            secret("a", "web"),
            Some(secret("a", "shop")),
        );
        assert_eq!(f.event(&moved).unwrap()["type"], "DELETED");
        let entered = change(
            ChangeType::Modified,
            secret("a", "shop"),
            Some(secret("a", "web")),
        );
        assert_eq!(f.event(&entered).unwrap()["type"], "ADDED");
        let elsewhere = change(ChangeType::Added, secret("b", "shop"), None);
        assert!(f.event(&elsewhere).is_none());
    }

    #[test]
    fn bookmarks_carry_only_a_resource_version() {
        let f = filter("/api/v1/secrets", "");
        let b = f.bookmark(42, true);
        assert_eq!(b["object"]["metadata"]["resourceVersion"], "42");
        assert_eq!(b["object"]["kind"], "Secret");
        assert_eq!(
            b["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
            "true"
        );
    }
}
