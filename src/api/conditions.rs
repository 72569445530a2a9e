//! Status conditions with `metav1.Condition` semantics: one entry per type,
//! `lastTransitionTime` moves only when the status flips, and every entry
//! records the generation it describes so `kubectl wait` is never fooled by a
//! stale `Ready`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The condition types shopsync writes. `Ready` summarises the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionType {
    Ready,
    CredentialsValid,
    ScopesGranted,
    BackfillComplete,
    Synced,
    Throttled,
    Reconciling,
    Stalled,
}

impl ConditionType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::CredentialsValid => "CredentialsValid",
            Self::ScopesGranted => "ScopesGranted",
            Self::BackfillComplete => "BackfillComplete",
            Self::Synced => "Synced",
            Self::Throttled => "Throttled",
            Self::Reconciling => "Reconciling",
            Self::Stalled => "Stalled",
        }
    }
}

/// True, False or Unknown, as Kubernetes spells them.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl From<bool> for ConditionStatus {
    fn from(value: bool) -> Self {
        if value { Self::True } else { Self::False }
    }
}

/// One observation about the connection.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Kind of observation: Ready, CredentialsValid, ScopesGranted,
    /// BackfillComplete, Synced, Throttled, Reconciling or Stalled.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// One-word PascalCase cause, stable enough to alert on.
    pub reason: String,
    /// What happened and, when something is wrong, what to do about it.
    pub message: String,
    /// When status last changed.
    pub last_transition_time: Time,
    /// The metadata.generation this condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl Condition {
    pub fn new(
        type_: ConditionType,
        status: impl Into<ConditionStatus>,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        Condition {
            type_: type_.as_str().to_owned(),
            status: status.into(),
            reason: reason.to_owned(),
            message: message.into(),
            last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
            observed_generation: None,
        }
    }

    pub fn is(&self, type_: ConditionType) -> bool {
        self.type_ == type_.as_str()
    }
}

/// Finds the condition of a type.
pub fn find(conditions: &[Condition], type_: ConditionType) -> Option<&Condition> {
    conditions.iter().find(|c| c.is(type_))
}

/// Sets a condition, keyed by type. The transition time is `now` when the
/// status changed (or the type is new) and is kept otherwise, so a condition
/// re-asserted on every sync does not look freshly flipped.
pub fn set(
    conditions: &mut Vec<Condition>,
    mut new: Condition,
    generation: Option<i64>,
    now: Time,
) {
    new.observed_generation = generation;
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            new.last_transition_time = if existing.status == new.status {
                existing.last_transition_time.clone()
            } else {
                now
            };
            *existing = new;
        }
        None => {
            new.last_transition_time = now;
            conditions.push(new);
        }
    }
}

/// Removes a condition type that no longer applies.
pub fn remove(conditions: &mut Vec<Condition>, type_: ConditionType) {
    conditions.retain(|c| !c.is(type_));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn new_condition_gets_now_and_generation() {
        let mut conds = Vec::new();
        set(
            &mut conds,
            Condition::new(ConditionType::Ready, true, "Synced", "fresh"),
            Some(3),
            at(10),
        );
        let ready = find(&conds, ConditionType::Ready).unwrap();
        assert_eq!(ready.status, ConditionStatus::True);
        assert_eq!(ready.last_transition_time, at(10));
        assert_eq!(ready.observed_generation, Some(3));
    }

    #[test]
    fn same_status_keeps_transition_time_but_updates_message_and_generation() {
        let mut conds = Vec::new();
        set(
            &mut conds,
            Condition::new(ConditionType::Synced, true, "Ok", "a"),
            Some(1),
            at(10),
        );
        set(
            &mut conds,
            Condition::new(ConditionType::Synced, true, "Ok", "b"),
            Some(2),
            at(20),
        );
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].last_transition_time, at(10));
        assert_eq!(conds[0].message, "b");
        assert_eq!(conds[0].observed_generation, Some(2));
    }

    #[test]
    fn flipped_status_moves_transition_time() {
        let mut conds = Vec::new();
        set(
            &mut conds,
            Condition::new(ConditionType::Throttled, false, "Ok", ""),
            None,
            at(10),
        );
        set(
            &mut conds,
            Condition::new(ConditionType::Throttled, true, "Throttled", ""),
            None,
            at(30),
        );
        assert_eq!(conds[0].last_transition_time, at(30));
        remove(&mut conds, ConditionType::Throttled);
        assert!(conds.is_empty());
    }
}
