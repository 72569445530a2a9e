//! What one sync did, in plain data: the controller turns it into status and
//! `shopsync sync` prints it.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::shopify::ClientStats;
use crate::shopify::limiter::BucketEstimate;
use crate::store::RecordSet;

use super::scope_rules::ScopeDecision;
use super::state::BackfillState;

/// The shop as Shopify describes it (no scope needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopInfo {
    pub name: String,
    pub currency: String,
    pub plan: String,
}

/// One recordset's part in a sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordsetReport {
    /// Everything changed before this instant is stored.
    pub watermark: Option<Timestamp>,
    pub written: u64,
    pub tombstoned: u64,
}

/// The outcome of one sync.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub started: Timestamp,
    pub finished: Timestamp,
    pub shop: Option<ShopInfo>,
    pub granted_handles: Vec<String>,
    pub decision: Option<ScopeDecision>,
    pub recordsets: BTreeMap<RecordSet, RecordsetReport>,
    pub backfill: BTreeMap<RecordSet, BackfillState>,
    pub stats: ClientStats,
    pub bucket: Option<BucketEstimate>,
    /// `(requested, served)` when Shopify served another API version.
    pub fall_forward: Option<(String, String)>,
    /// `(reason, message, needs a person)` when the sync failed.
    pub error: Option<(String, String, bool)>,
    /// The sync ended early because a stop was requested; everything it
    /// committed is checkpointed and the next run resumes there.
    pub stopped: bool,
}

impl SyncReport {
    pub fn new(started: Timestamp) -> SyncReport {
        SyncReport {
            started,
            finished: started,
            shop: None,
            granted_handles: Vec::new(),
            decision: None,
            recordsets: BTreeMap::new(),
            backfill: BTreeMap::new(),
            stats: ClientStats::default(),
            bucket: None,
            fall_forward: None,
            error: None,
            stopped: false,
        }
    }

    /// No error (a stopped sync did not fail either).
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}
