//! What Shopify objects become: records and tombstones per recordset, the
//! error for an object that cannot be stored, and the include/exclude rule
//! for cancelled and closed (archived) orders. The conversion itself is
//! `records_text.rs`, shared by bulk results and paged reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::api::spec::OrderOptions;
use crate::store::{RecordSet, RecordWrite, Tombstone};

/// What one batch of Shopify objects becomes, per recordset.
#[derive(Debug, Default)]
pub struct Converted {
    pub writes: BTreeMap<RecordSet, Vec<RecordWrite>>,
    pub tombstones: BTreeMap<RecordSet, Vec<Tombstone>>,
    /// The newest `updatedAt` seen, for the watermark.
    pub newest: Option<DateTime<Utc>>,
}

impl Converted {
    pub(super) fn write(&mut self, recordset: RecordSet, write: RecordWrite) {
        self.writes.entry(recordset).or_default().push(write);
    }

    pub(super) fn tombstone(&mut self, recordset: RecordSet, tombstone: Tombstone) {
        self.tombstones
            .entry(recordset)
            .or_default()
            .push(tombstone);
    }

    /// Moves out the writes of one recordset.
    pub fn take_writes(&mut self, recordset: RecordSet) -> Vec<RecordWrite> {
        self.writes.remove(&recordset).unwrap_or_default()
    }

    pub fn take_tombstones(&mut self, recordset: RecordSet) -> Vec<Tombstone> {
        self.tombstones.remove(&recordset).unwrap_or_default()
    }

    pub fn count(&self, recordset: RecordSet) -> usize {
        self.writes.get(&recordset).map_or(0, Vec::len)
    }

    /// Writes and tombstones of every recordset.
    pub fn total(&self) -> u64 {
        let writes: usize = self.writes.values().map(Vec::len).sum();
        let tombstones: usize = self.tombstones.values().map(Vec::len).sum();
        (writes + tombstones) as u64
    }

    #[cfg(test)]
    pub(super) fn writes_of(&self, recordset: RecordSet) -> &[RecordWrite] {
        self.writes.get(&recordset).map_or(&[], Vec::as_slice)
    }

    #[cfg(test)]
    pub(super) fn tombstones_of(&self, recordset: RecordSet) -> &[Tombstone] {
        self.tombstones.get(&recordset).map_or(&[], Vec::as_slice)
    }
}

/// An object Shopify sent that cannot be stored as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Shopify sent a {kind} without a usable {field}: {id}")]
pub struct ConversionError {
    pub kind: &'static str,
    pub field: &'static str,
    pub id: String,
}

/// Cancelled and closed (archived) orders are kept only when asked for.
pub(super) fn excluded(cancelled: bool, closed: bool, options: &OrderOptions) -> bool {
    (cancelled && !options.include_cancelled) || (closed && !options.include_archived)
}
