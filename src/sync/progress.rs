//! What a running sync has done so far, as plain data the engine publishes
//! on a `tokio::sync::watch` channel: after every committed batch, at every
//! stage or window boundary and at every phase change. The operator turns it
//! into status between syncs' ends; `shopsync sync` draws progress bars from
//! it. Publishing never blocks: a watch channel keeps only the latest value.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::store::RecordSet;

use super::state::BackfillState;

/// Where in a sync the engine is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncPhase {
    /// Nothing sent to Shopify yet.
    #[default]
    Starting,
    /// Reading the granted scopes.
    Scopes,
    /// Running (or resuming) a recordset's staged backfill.
    Backfill,
    /// Reading what changed since the watermark.
    Incremental,
    /// The sync has ended (succeeded, failed or stopped).
    Done,
}

/// The job (one bulk operation's worth: a backfill stage or an incremental
/// window) the engine is working on.
#[derive(Clone, Debug, PartialEq)]
pub struct JobProgress {
    /// Records whose `updatedAt` lies in `[from, to)`.
    pub from: Timestamp,
    pub to: Timestamp,
    /// How many orders Shopify counted in the range before the job started,
    /// when it was counted (products are not).
    pub expected: Option<u64>,
}

/// A snapshot of a running sync.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    /// The recordset being backfilled or read.
    pub recordset: Option<RecordSet>,
    /// The latest committed backfill state per recordset.
    pub backfill: BTreeMap<RecordSet, BackfillState>,
    /// Records (and tombstones) committed in this run so far.
    pub records_written: u64,
    /// Records of the current job committed so far.
    pub stage_records: u64,
    /// The current job; `None` between jobs.
    pub job: Option<JobProgress>,
}
