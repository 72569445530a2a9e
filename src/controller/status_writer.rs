//! Writes status with server-side apply under one field manager, and
//! publishes an Event for every condition that changes.
//!
//! Reconciles and sync tasks both update status. Each update starts from
//! the status this process last applied (or, first, the one on the object),
//! under a per-connection lock, and always applies the whole status: with
//! SSA, a field the manager stops sending is removed, so partial applies
//! from two places would erase each other's fields. An update that changes
//! nothing is not sent, so reconciles stay silent when nothing is due.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use crate::api::conditions::{Condition, ConditionStatus};
use crate::api::{ShopifyConnection, ShopifyConnectionStatus};
use crate::telemetry::metrics::{Metrics, ResultLabel};

type Slot = Arc<tokio::sync::Mutex<Option<ShopifyConnectionStatus>>>;

pub struct StatusWriter {
    client: kube::Client,
    manager: String,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    slots: Mutex<HashMap<ObjectRef<ShopifyConnection>, Slot>>,
}

impl StatusWriter {
    pub fn new(
        client: kube::Client,
        manager: &str,
        recorder: Recorder,
        metrics: Arc<Metrics>,
    ) -> StatusWriter {
        StatusWriter {
            client,
            manager: manager.to_owned(),
            recorder,
            metrics,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: &ObjectRef<ShopifyConnection>) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(slots.entry(key.clone()).or_default())
    }

    /// The status this process last applied, if any.
    pub async fn last_applied(
        &self,
        connection: &ShopifyConnection,
    ) -> Option<ShopifyConnectionStatus> {
        let slot = self.slot(&ObjectRef::from_obj(connection));
        let guard = slot.lock().await;
        guard.clone().or_else(|| connection.status.clone())
    }

    /// Applies `change` to the latest known status and writes the result
    /// when it differs. Returns the status as now applied.
    pub async fn update(
        &self,
        connection: &ShopifyConnection,
        change: impl FnOnce(&mut ShopifyConnectionStatus),
    ) -> Result<ShopifyConnectionStatus, kube::Error> {
        let slot = self.slot(&ObjectRef::from_obj(connection));
        let mut guard = slot.lock().await;
        let before = guard
            .clone()
            .or_else(|| connection.status.clone())
            .unwrap_or_default();
        let mut after = before.clone();
        change(&mut after);
        if guard.is_some() && after == before {
            return Ok(after);
        }
        let api: Api<ShopifyConnection> = Api::namespaced(
            self.client.clone(),
            &connection.namespace().unwrap_or_default(),
        );
        let patch = json!({
            "apiVersion": ShopifyConnection::api_version(&()),
            "kind": ShopifyConnection::kind(&()),
            "status": after,
        });
        let params = PatchParams::apply(&self.manager).force();
        let result = api
            .patch_status(&connection.name_any(), &params, &Patch::Apply(&patch))
            .await;
        self.metrics
            .status_writes
            .get_or_create(&ResultLabel {
                result: if result.is_ok() { "ok" } else { "error" },
            })
            .inc();
        result?;
        self.publish_transitions(connection, &before.conditions, &after.conditions)
            .await;
        *guard = Some(after.clone());
        Ok(after)
    }

    /// Drops what is remembered about a deleted connection.
    pub fn forget(&self, key: &ObjectRef<ShopifyConnection>) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.remove(key);
    }

    async fn publish_transitions(
        &self,
        connection: &ShopifyConnection,
        before: &[Condition],
        after: &[Condition],
    ) {
        let reference = connection.object_ref(&());
        for event in transitions(before, after) {
            if let Err(e) = self.recorder.publish(&event, &reference).await {
                tracing::warn!(error = %e, reason = %event.reason, "publishing an Event failed");
            }
        }
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

/// One Event per condition whose status or reason changed. Conditions that
/// say something is wrong are Warnings.
pub fn transitions(before: &[Condition], after: &[Condition]) -> Vec<Event> {
    after
        .iter()
        .filter(|new| {
            !before.iter().any(|old| {
                old.type_ == new.type_ && old.status == new.status && old.reason == new.reason
            })
        })
        .map(|c| Event {
            type_: if is_bad(c) {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: c.reason.clone(),
            note: Some(truncate(&format!(
                "{} is {:?}: {}",
                c.type_, c.status, c.message
            ))),
            action: c.type_.clone(),
            secondary: None,
        })
        .collect()
}

fn is_bad(c: &Condition) -> bool {
    match c.type_.as_str() {
        "Stalled" | "Throttled" => c.status == ConditionStatus::True,
        "Reconciling" => false,
        // A backfill under way is progress, not a problem.
        "BackfillComplete" if c.reason == "Running" => false,
        _ => c.status == ConditionStatus::False,
    }
}

/// Event notes are limited to 1 KiB by the API server.
fn truncate(note: &str) -> String {
    if note.len() <= 1000 {
        return note.to_owned();
    }
    let mut end = 1000;
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &note[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions::ConditionType;

    #[test]
    fn only_changed_conditions_become_events_and_failures_are_warnings() {
        let before = vec![
            Condition::new(ConditionType::Ready, true, "Synced", "fresh"),
            Condition::new(ConditionType::Synced, true, "Succeeded", "1 record"),
        ];
        let after = vec![
            Condition::new(ConditionType::Ready, false, "InvalidToken", "rotate it"),
            Condition::new(ConditionType::Synced, true, "Succeeded", "2 records"),
            Condition::new(ConditionType::Stalled, true, "InvalidToken", "rotate it"),
        ];
        let events = transitions(&before, &after);
        let reasons: Vec<_> = events
            .iter()
            .map(|e| (e.action.as_str(), e.type_))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("Ready", EventType::Warning),
                ("Stalled", EventType::Warning)
            ]
        );
        assert!(events[0].note.as_deref().unwrap().contains("rotate it"));
    }

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let note = "é".repeat(800);
        let cut = truncate(&note);
        assert!(cut.len() <= 1004);
        assert!(cut.ends_with('…'));
    }
}
