//! What the engine keeps in a checkpoint's `state` so a restart resumes where
//! it stopped: the backfill plan it committed to, how many stages are stored,
//! and the bulk operation in flight (re-attached to, never resubmitted). It
//! is stored in the clear, so it holds ids and times only.

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
    /// The bulk operation running for stage `completed`, if one was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Records committed by the backfill so far.
    #[serde(default)]
    pub records: i64,
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
            operation: None,
            records: 0,
        }
    }

    pub fn is_complete(&self) -> bool {
        self.completed as usize >= self.stages.len()
    }

    pub fn next_stage(&self) -> Option<Stage> {
        self.stages.get(self.completed as usize).map(|s| Stage {
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
    /// The window being read by a running bulk operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_to: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}
