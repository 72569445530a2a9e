//! What a reconcile should do with a connection right now. Pure: everything
//! it looks at comes in as data, so every scheduling rule is a unit test.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::api::ShopifyConnectionStatus;
use crate::api::conditions::{self, ConditionStatus, ConditionType};
use crate::api::status::BackfillPhase;

use super::schedule::{self, Cadence};

/// A stalled connection (only a person can help) is still retried this often,
/// in case the fix happened where no watch sees it (scopes re-granted in Shopify).
pub const STALLED_RETRY: Duration = Duration::from_secs(3600);

/// What started a sync; shown in logs, Events and the Reconciling condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    FirstSync,
    Scheduled,
    Requested,
    SpecChanged,
    CredentialsChanged,
    BackfillUnfinished,
    Retry,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::FirstSync => "FirstSync",
            Why::Scheduled => "Scheduled",
            Why::Requested => "Requested",
            Why::SpecChanged => "SpecChanged",
            Why::CredentialsChanged => "CredentialsChanged",
            Why::BackfillUnfinished => "BackfillUnfinished",
            Why::Retry => "Retry",
        }
    }
}

/// The sync a supervisor task is running, as the plan needs to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningSync {
    pub generation: Option<i64>,
    pub secret_version: String,
    pub why: Why,
    /// Whether it holds a sync slot yet, or is still queued for one.
    pub started: bool,
}

/// Everything the decision depends on.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    pub generation: Option<i64>,
    pub suspended: bool,
    pub status: Option<&'a ShopifyConnectionStatus>,
    /// The value of the sync-requested-at annotation.
    pub requested: Option<&'a str>,
    /// resourceVersion of the credentials Secret.
    pub secret_version: &'a str,
    pub running: Option<&'a RunningSync>,
    /// Failed syncs in a row since the last success.
    pub failures: u32,
    pub cadence: Cadence,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// spec.suspend: stop (and cancel) syncing.
    Suspend,
    /// Start a sync now.
    Start(Why),
    /// Cancel the running sync (it works for an outdated spec or token), then start anew.
    Restart(Why),
    /// A sync is running and still valid; look again later.
    Running,
    /// Nothing to do until then.
    Wait { until: Timestamp },
}

pub fn plan(o: &Observed<'_>) -> Plan {
    if o.suspended {
        return Plan::Suspend;
    }
    if let Some(running) = o.running {
        if running.generation != o.generation {
            return Plan::Restart(Why::SpecChanged);
        }
        if running.secret_version != o.secret_version {
            return Plan::Restart(Why::CredentialsChanged);
        }
        // A routine poll still queued for a slot gives way to a request,
        // which has a lane of its own: someone is waiting for that one.
        let routine = matches!(running.why, Why::Scheduled | Why::Retry);
        if routine && !running.started && unhandled_request(o) {
            return Plan::Restart(Why::Requested);
        }
        return Plan::Running;
    }
    let Some(status) = o.status.filter(|s| s.last_sync_time.is_some()) else {
        return Plan::Start(Why::FirstSync);
    };
    if unhandled_request(o) {
        return Plan::Start(Why::Requested);
    }
    if status.observed_generation != o.generation {
        return Plan::Start(Why::SpecChanged);
    }
    if status.credentials_version.as_deref() != Some(o.secret_version) {
        return Plan::Start(Why::CredentialsChanged);
    }
    let last = status
        .last_sync_time
        .as_ref()
        .map(|t| t.0)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let is = |t, s| conditions::find(&status.conditions, t).is_some_and(|c| c.status == s);
    if is(ConditionType::Stalled, ConditionStatus::True) {
        return due_or_wait(o.now, after(last, STALLED_RETRY), Why::Retry);
    }
    if o.failures > 0 || is(ConditionType::Synced, ConditionStatus::False) {
        let wait = schedule::retry_after(o.failures.max(1), o.cadence.interval());
        return due_or_wait(o.now, after(last, wait), Why::Retry);
    }
    let backfill_unfinished = status
        .backfill
        .as_ref()
        .is_some_and(|b| b.phase != BackfillPhase::Complete);
    if backfill_unfinished {
        // An earlier run stopped mid-backfill (shutdown, takeover): go on now.
        return Plan::Start(Why::BackfillUnfinished);
    }
    due_or_wait(o.now, o.cadence.next_due(last), Why::Scheduled)
}

/// The annotation asks for a sync that status does not yet acknowledge.
fn unhandled_request(o: &Observed<'_>) -> bool {
    o.requested.is_some_and(|request| {
        o.status
            .and_then(|s| s.last_handled_sync_request.as_deref())
            != Some(request)
    })
}

fn due_or_wait(now: Timestamp, due: Timestamp, why: Why) -> Plan {
    if now >= due {
        Plan::Start(why)
    } else {
        Plan::Wait { until: due }
    }
}

fn after(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;
    use crate::api::conditions::Condition;
    use crate::api::status::BackfillStatus;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn healthy() -> ShopifyConnectionStatus {
        let mut s = ShopifyConnectionStatus {
            observed_generation: Some(2),
            credentials_version: Some("7".into()),
            last_sync_time: Some(Time(at("2026-12-04T10:00:00Z"))),
            last_handled_sync_request: Some("r1".into()),
            backfill: Some(BackfillStatus {
                phase: BackfillPhase::Complete,
                ..Default::default()
            }),
            ..Default::default()
        };
        conditions::set(
            &mut s.conditions,
            Condition::new(ConditionType::Synced, true, "Succeeded", ""),
            Some(2),
            Time(at("2026-12-04T10:00:00Z")),
        );
        s
    }

    fn observed<'a>(status: Option<&'a ShopifyConnectionStatus>, now: &str) -> Observed<'a> {
        Observed {
            generation: Some(2),
            suspended: false,
            status,
            requested: Some("r1"),
            secret_version: "7",
            running: None,
            failures: 0,
            cadence: Cadence::new("uid", Duration::from_secs(60)),
            now: at(now),
        }
    }

    #[test]
    fn a_new_connection_syncs_at_once() {
        assert_eq!(
            plan(&observed(None, "2026-12-04T10:00:00Z")),
            Plan::Start(Why::FirstSync)
        );
    }

    #[test]
    fn a_healthy_connection_waits_for_its_slot_then_syncs() {
        let s = healthy();
        let o = observed(Some(&s), "2026-12-04T10:00:01Z");
        let Plan::Wait { until } = plan(&o) else {
            panic!("expected to wait: {:?}", plan(&o))
        };
        assert_eq!(until, o.cadence.next_due(at("2026-12-04T10:00:00Z")));
        let later = Observed { now: until, ..o };
        assert_eq!(plan(&later), Plan::Start(Why::Scheduled));
    }

    #[test]
    fn a_new_annotation_value_syncs_now_and_a_handled_one_does_not() {
        let s = healthy();
        let o = Observed {
            requested: Some("r2"),
            ..observed(Some(&s), "2026-12-04T10:00:01Z")
        };
        assert_eq!(plan(&o), Plan::Start(Why::Requested));
        let handled = Observed {
            requested: Some("r1"),
            ..o
        };
        assert!(matches!(plan(&handled), Plan::Wait { .. }));
    }

    #[test]
    fn spec_and_secret_changes_sync_now_or_restart_a_running_sync() {
        let s = healthy();
        let o = Observed {
            generation: Some(3),
            ..observed(Some(&s), "2026-12-04T10:00:01Z")
        };
        assert_eq!(plan(&o), Plan::Start(Why::SpecChanged));
        let rotated = Observed {
            secret_version: "8",
            ..observed(Some(&s), "2026-12-04T10:00:01Z")
        };
        assert_eq!(plan(&rotated), Plan::Start(Why::CredentialsChanged));

        let running = RunningSync {
            generation: Some(2),
            secret_version: "7".into(),
            why: Why::Scheduled,
            started: true,
        };
        let busy = Observed {
            running: Some(&running),
            ..observed(Some(&s), "2026-12-04T10:00:01Z")
        };
        assert_eq!(plan(&busy), Plan::Running);
        assert_eq!(
            plan(&Observed {
                generation: Some(3),
                ..busy.clone()
            }),
            Plan::Restart(Why::SpecChanged)
        );
        assert_eq!(
            plan(&Observed {
                secret_version: "9",
                ..busy
            }),
            Plan::Restart(Why::CredentialsChanged)
        );
    }

    #[test]
    fn a_request_replaces_a_routine_poll_still_queued_for_a_slot() {
        let s = healthy();
        let queued = RunningSync {
            generation: Some(2),
            secret_version: "7".into(),
            why: Why::Scheduled,
            started: false,
        };
        let o = Observed {
            running: Some(&queued),
            requested: Some("r2"),
            ..observed(Some(&s), "2026-12-04T10:00:01Z")
        };
        assert_eq!(plan(&o), Plan::Restart(Why::Requested));
        // Not once it runs, nor when the queued sync is not routine, nor
        // when the request is already handled: those finish first.
        let started = RunningSync {
            started: true,
            ..queued.clone()
        };
        assert_eq!(
            plan(&Observed {
                running: Some(&started),
                ..o.clone()
            }),
            Plan::Running
        );
        let first = RunningSync {
            why: Why::BackfillUnfinished,
            ..queued.clone()
        };
        assert_eq!(
            plan(&Observed {
                running: Some(&first),
                ..o.clone()
            }),
            Plan::Running
        );
        assert_eq!(
            plan(&Observed {
                requested: Some("r1"),
                ..o
            }),
            Plan::Running
        );
    }

    #[test]
    fn suspend_wins_over_everything() {
        let o = Observed {
            suspended: true,
            requested: Some("new"),
            ..observed(None, "2026-12-04T10:00:01Z")
        };
        assert_eq!(plan(&o), Plan::Suspend);
    }

    #[test]
    fn failures_back_off_but_never_beyond_the_interval() {
        let s = healthy();
        let o = Observed {
            failures: 3,
            ..observed(Some(&s), "2026-12-04T10:00:05Z")
        };
        assert_eq!(
            plan(&o),
            Plan::Wait {
                until: at("2026-12-04T10:00:20Z")
            }
        );
        let later = Observed {
            now: at("2026-12-04T10:00:20Z"),
            ..o
        };
        assert_eq!(plan(&later), Plan::Start(Why::Retry));
    }

    #[test]
    fn a_stalled_connection_is_retried_only_hourly() {
        let mut s = healthy();
        conditions::set(
            &mut s.conditions,
            Condition::new(ConditionType::Stalled, true, "InvalidToken", ""),
            Some(2),
            Time(at("2026-12-04T10:00:00Z")),
        );
        let o = observed(Some(&s), "2026-12-04T10:30:00Z");
        assert_eq!(
            plan(&o),
            Plan::Wait {
                until: at("2026-12-04T11:00:00Z")
            }
        );
    }

    #[test]
    fn an_unfinished_backfill_resumes_at_once() {
        let mut s = healthy();
        s.backfill.as_mut().unwrap().phase = BackfillPhase::Running;
        let o = observed(Some(&s), "2026-12-04T10:00:01Z");
        assert_eq!(plan(&o), Plan::Start(Why::BackfillUnfinished));
    }
}
