//! What a batch stores of each id: Postgres refuses to update one row twice
//! in a statement, and only the newest version (or the latest deletion) of
//! an id could win anyway.

use super::writer::{RecordWrite, Tombstone};

/// The newest version of each id in a batch.
pub(super) fn newest_per_id(records: &[RecordWrite]) -> Vec<&RecordWrite> {
    let mut refs: Vec<&RecordWrite> = records.iter().collect();
    refs.sort_by_key(|r| (r.shopify_id, r.updated_at));
    let mut out: Vec<&RecordWrite> = Vec::with_capacity(refs.len());
    for r in refs {
        match out.last_mut() {
            Some(last) if last.shopify_id == r.shopify_id => *last = r,
            _ => out.push(r),
        }
    }
    out
}

/// The latest deletion of each id in a batch.
pub(super) fn latest_per_id(tombstones: &[Tombstone]) -> Vec<Tombstone> {
    let mut sorted = tombstones.to_vec();
    sorted.sort_by_key(|t| (t.shopify_id, t.deleted_at));
    sorted.dedup_by(|later, earlier| {
        // dedup_by keeps the first of a run; make it the latest deletion.
        if later.shopify_id == earlier.shopify_id {
            earlier.deleted_at = later.deleted_at;
            true
        } else {
            false
        }
    });
    sorted
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::{ShopifyId, payload_text};
    use chrono::{DateTime, TimeZone, Utc};

    pub(in crate::store) fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    pub(in crate::store) fn write(id: i64, updated: i64) -> RecordWrite {
        RecordWrite {
            shopify_id: ShopifyId(id),
            created_at: None,
            updated_at: at(updated),
            payload: payload_text(&serde_json::json!({ "v": updated })).unwrap(),
        }
    }

    #[test]
    fn batch_keeps_the_newest_version_of_each_id() {
        let batch = [write(2, 10), write(1, 30), write(2, 50), write(1, 20)];
        let newest: Vec<(i64, DateTime<Utc>)> = newest_per_id(&batch)
            .iter()
            .map(|r| (r.shopify_id.0, r.updated_at))
            .collect();
        assert_eq!(newest, vec![(1, at(30)), (2, at(50))]);
    }

    #[test]
    fn batch_keeps_the_latest_deletion_of_each_id() {
        let t = |id, secs| Tombstone {
            shopify_id: ShopifyId(id),
            deleted_at: at(secs),
        };
        let latest: Vec<(i64, DateTime<Utc>)> =
            latest_per_id(&[t(2, 10), t(1, 30), t(2, 50), t(1, 20)])
                .iter()
                .map(|t| (t.shopify_id.0, t.deleted_at))
                .collect();
        assert_eq!(latest, vec![(1, at(30)), (2, at(50))]);
    }
}
