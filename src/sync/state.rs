//! What the engine keeps in a checkpoint's `state` so a restart resumes where
//! it stopped: the backfill plan it committed to, how many stages are stored,
//! and how far the current job got — the bulk operation in flight
//! (re-attached to, never resubmitted), how much of its result is committed,
//! and from where a failed job's rest is read again. It is stored in the
//! clear, so it holds ids, counts and times only.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::backfill_plan::{BackfillPlan, Stage};

/// Checkpoint stream names.
pub const BACKFILL: &str = "backfill";
pub const INCREMENTAL: &str = "incremental";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StageState {
    pub index: u32,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// How far one job — a backfill stage or an incremental window, reading the
/// records updated in a range `[from, to)` — got.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct JobCursor {
    /// The bulk operation reading the rest of the range, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// `operation` was started with grouped output. Only such a result is
    /// stored a root at a time; a checkpoint naming another is run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grouped: bool,
    /// Roots at the start of `operation`'s result that are committed; a
    /// restart that re-reads the result skips them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stored_roots: u64,
    /// Every record of the range updated before this instant is committed
    /// (from an earlier operation's result read in `updatedAt` order, such
    /// as a failed job's partial file); the next operation reads from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_from: Option<Timestamp>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl JobCursor {
    /// The operation to re-attach to: one started with grouped output.
    pub fn attached(&self) -> Option<&str> {
        self.operation.as_deref().filter(|_| self.grouped)
    }

    /// The search for what is left of `[from, to)`.
    pub fn search(&self, from: Timestamp, to: Timestamp) -> String {
        updated_between(self.resume_from.map_or(from, |r| r.max(from)), to)
    }
}

/// The search for records updated in `[from, to)`. Every bulk query sorts
/// by `UPDATED_AT`, so this is also how a job's rest is narrowed.
pub fn updated_between(from: Timestamp, to: Timestamp) -> String {
    format!("updated_at:>='{from}' AND updated_at:<'{to}'")
}

/// Progress of a recordset's backfill.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackfillState {
    pub from: Timestamp,
    pub to: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clipped_from: Option<Timestamp>,
    pub stages: Vec<StageState>,
    /// Stages whose records are committed (a prefix of `stages`).
    pub completed: u32,
    /// How far stage `completed` got.
    #[serde(flatten)]
    pub job: JobCursor,
    /// Records committed by the backfill so far.
    #[serde(default)]
    pub records: i64,
    /// A bulk operation already started, with grouped output, for the stage
    /// after stage `completed` (read ahead while that one is stored). It
    /// becomes the next stage's operation when stage `completed` commits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_operation: Option<String>,
}

impl BackfillState {
    pub fn from_plan(plan: &BackfillPlan) -> BackfillState {
        BackfillState {
            from: plan.from,
            to: plan.to,
            clipped_from: plan.clipped_from,
            stages: plan
                .stages
                .iter()
                .map(|s| StageState {
                    index: s.index,
                    from: s.from,
                    to: s.to,
                })
                .collect(),
            completed: 0,
            job: JobCursor::default(),
            records: 0,
            next_operation: None,
        }
    }

    pub fn is_complete(&self) -> bool {
        self.completed as usize >= self.stages.len()
    }

    /// The state once stage `completed` is committed with `records` more
    /// records: the stage read ahead, if any, is the next one's operation.
    pub fn after_stage(&self, records: u64) -> BackfillState {
        BackfillState {
            completed: self.completed + 1,
            job: JobCursor {
                operation: self.next_operation.clone(),
                grouped: self.next_operation.is_some(),
                ..JobCursor::default()
            },
            records: self.records + records as i64,
            next_operation: None,
            ..self.clone()
        }
    }

    /// Replaces the next stage by its two halves, newer first.
    pub fn split_next(&mut self, newer: Stage, older: Stage) {
        self.split(self.completed as usize, newer, older);
    }

    /// Replaces stage `at` by its two halves, newer first.
    pub fn split(&mut self, at: usize, newer: Stage, older: Stage) {
        if at >= self.stages.len() {
            return;
        }
        let halves = [newer, older].map(|s| StageState {
            index: 0,
            from: s.from,
            to: s.to,
        });
        self.stages.splice(at..=at, halves);
        for (i, stage) in self.stages.iter_mut().enumerate() {
            stage.index = i as u32;
        }
    }

    pub fn next_stage(&self) -> Option<Stage> {
        self.stage(self.completed as usize)
    }

    /// The stage after the next one, the one read ahead.
    pub fn stage_after_next(&self) -> Option<Stage> {
        self.stage(self.completed as usize + 1)
    }

    fn stage(&self, at: usize) -> Option<Stage> {
        self.stages.get(at).map(|s| Stage {
            index: s.index,
            from: s.from,
            to: s.to,
        })
    }
}

/// Progress of a recordset's routine polling.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct IncrementalState {
    /// The end of the window being read, once a job for it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_to: Option<Timestamp>,
    /// How far the window's job got.
    #[serde(flatten)]
    pub job: JobCursor,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_rest_of_a_range_starts_at_the_resume_point_inclusive() {
        let (from, to) = (at("2026-11-01T00:00:00Z"), at("2026-11-08T00:00:00Z"));
        let fresh = JobCursor::default();
        assert_eq!(
            fresh.search(from, to),
            "updated_at:>='2026-11-01T00:00:00Z' AND updated_at:<'2026-11-08T00:00:00Z'"
        );
        let resumed = JobCursor {
            resume_from: Some(at("2026-11-03T10:00:07Z")),
            ..JobCursor::default()
        };
        assert_eq!(
            resumed.search(from, to),
            "updated_at:>='2026-11-03T10:00:07Z' AND updated_at:<'2026-11-08T00:00:00Z'",
            "records sharing the last stored second are read again, never skipped"
        );
    }

    #[test]
    fn a_stage_read_ahead_becomes_the_next_stages_operation() {
        let plan = BackfillPlan {
            from: at("2026-11-01T00:00:00Z"),
            to: at("2026-11-15T00:00:00Z"),
            clipped_from: None,
            stages: vec![
                Stage {
                    index: 0,
                    from: at("2026-11-08T00:00:00Z"),
                    to: at("2026-11-15T00:00:00Z"),
                },
                Stage {
                    index: 1,
                    from: at("2026-11-01T00:00:00Z"),
                    to: at("2026-11-08T00:00:00Z"),
                },
            ],
        };
        let mut state = BackfillState::from_plan(&plan);
        state.job = JobCursor {
            operation: Some("gid://shopify/BulkOperation/1".into()),
            grouped: true,
            stored_roots: 500,
            resume_from: None,
        };
        state.next_operation = Some("gid://shopify/BulkOperation/2".into());
        let after = state.after_stage(700);
        assert_eq!(after.completed, 1);
        assert_eq!(after.records, 700);
        assert_eq!(after.next_operation, None);
        assert_eq!(after.job.attached(), Some("gid://shopify/BulkOperation/2"));
        assert_eq!(after.job.stored_roots, 0);
        let last = after.after_stage(10);
        assert!(last.is_complete() && last.job == JobCursor::default());
        assert_eq!(last.stage_after_next(), None);
    }

    #[test]
    fn only_grouped_operations_are_re_attached() {
        let old = JobCursor {
            operation: Some("gid://shopify/BulkOperation/1".into()),
            ..JobCursor::default()
        };
        assert_eq!(old.attached(), None);
        let grouped = JobCursor {
            grouped: true,
            ..old
        };
        assert_eq!(grouped.attached(), Some("gid://shopify/BulkOperation/1"));
    }

    #[test]
    fn checkpoints_keep_their_shape_and_omit_what_is_unset() {
        let state = IncrementalState {
            window_to: Some(at("2026-11-08T00:00:00Z")),
            job: JobCursor {
                operation: Some("gid://shopify/BulkOperation/1".into()),
                grouped: true,
                stored_roots: 500,
                resume_from: None,
            },
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"windowTo": "2026-11-08T00:00:00Z", "operation": "gid://shopify/BulkOperation/1",
                "grouped": true, "storedRoots": 500})
        );
        let back: IncrementalState = serde_json::from_value(json).unwrap();
        assert_eq!(back, state);
        let empty: IncrementalState = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(empty, IncrementalState::default());
    }
}
