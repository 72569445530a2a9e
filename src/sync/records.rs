//! Turning Shopify objects into records: the order with its line items, its
//! refunds and returns as records of their own recordsets, and the
//! include/exclude rules for cancelled and closed (archived) orders applied
//! as tombstones, so an order that becomes cancelled after it was synced
//! disappears from the stored copy instead of lingering.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::api::spec::OrderOptions;
use crate::shopify::jsonl::{Assembled, gid_number};
use crate::store::{RecordSet, RecordWrite, ShopifyId, Tombstone, payload_text};

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
    fn writes_of(&self, recordset: RecordSet) -> &[RecordWrite] {
        self.writes.get(&recordset).map_or(&[], Vec::as_slice)
    }

    #[cfg(test)]
    fn tombstones_of(&self, recordset: RecordSet) -> &[Tombstone] {
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

/// Converts assembled orders (root lines with `LineItem` and `Return` children).
pub fn orders(
    assembled: Vec<Assembled>,
    options: &OrderOptions,
    recordsets: &[RecordSet],
) -> Result<Converted, ConversionError> {
    let mut out = Converted::default();
    for Assembled {
        mut root,
        mut children,
    } in assembled
    {
        let id = id_of(&root, "order")?;
        let updated = time_of(&root, "updatedAt", "order")?;
        let created = time_of(&root, "createdAt", "order").ok();
        out.newest = out.newest.max(Some(updated));
        let refunds = take_list(&mut root, "refunds");
        let returns = children.remove("Return").unwrap_or_default();
        let line_items = children.remove("LineItem").unwrap_or_default();
        let excluded = is_excluded(&root, options);
        let child_sets = [
            (RecordSet::Refunds, refunds, "refund"),
            (
                RecordSet::Returns,
                returns.into_iter().map(Value::Object).collect(),
                "return",
            ),
        ];
        for (recordset, items, kind) in child_sets {
            if !recordsets.contains(&recordset) {
                continue;
            }
            for item in items {
                let Value::Object(mut item) = item else {
                    continue;
                };
                let child_id = id_of(&item, kind)?;
                // Returns have no updatedAt of their own: they change with their order.
                let child_updated = time_of(&item, "updatedAt", kind).unwrap_or(updated);
                if excluded {
                    out.tombstone(
                        recordset,
                        Tombstone {
                            shopify_id: child_id,
                            deleted_at: child_updated,
                        },
                    );
                } else {
                    item.insert("orderId".into(), root["id"].clone());
                    out.write(
                        recordset,
                        RecordWrite {
                            shopify_id: child_id,
                            created_at: time_of(&item, "createdAt", kind).ok(),
                            updated_at: child_updated,
                            payload: text(item, kind)?,
                        },
                    );
                }
            }
        }
        if excluded {
            out.tombstone(
                RecordSet::Orders,
                Tombstone {
                    shopify_id: id,
                    deleted_at: updated,
                },
            );
        } else {
            root.insert(
                "lineItems".into(),
                Value::Array(line_items.into_iter().map(Value::Object).collect()),
            );
            out.write(
                RecordSet::Orders,
                RecordWrite {
                    shopify_id: id,
                    created_at: created,
                    updated_at: updated,
                    payload: text(root, "order")?,
                },
            );
        }
    }
    Ok(out)
}

/// Converts assembled products (root lines with `ProductVariant` children).
pub fn products(assembled: Vec<Assembled>) -> Result<Converted, ConversionError> {
    let mut out = Converted::default();
    for Assembled {
        mut root,
        mut children,
    } in assembled
    {
        let id = id_of(&root, "product")?;
        let updated = time_of(&root, "updatedAt", "product")?;
        out.newest = out.newest.max(Some(updated));
        let variants = children.remove("ProductVariant").unwrap_or_default();
        root.insert(
            "variants".into(),
            Value::Array(variants.into_iter().map(Value::Object).collect()),
        );
        out.write(
            RecordSet::Products,
            RecordWrite {
                shopify_id: id,
                created_at: time_of(&root, "createdAt", "product").ok(),
                updated_at: updated,
                payload: text(root, "product")?,
            },
        );
    }
    Ok(out)
}

/// An object's JSON text, which is what is kept: the parsed tree is dropped
/// as soon as the record is made.
fn text(object: Map<String, Value>, kind: &'static str) -> Result<Box<RawValue>, ConversionError> {
    let id = object
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    payload_text(&Value::Object(object)).map_err(|_| ConversionError {
        kind,
        field: "payload",
        id,
    })
}

/// Cancelled and closed (archived) orders are kept only when asked for.
pub fn is_excluded(order: &Map<String, Value>, options: &OrderOptions) -> bool {
    let cancelled = order.get("cancelledAt").is_some_and(|v| !v.is_null());
    let closed = order
        .get("closed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    excluded(cancelled, closed, options)
}

pub(super) fn excluded(cancelled: bool, closed: bool, options: &OrderOptions) -> bool {
    (cancelled && !options.include_cancelled) || (closed && !options.include_archived)
}

fn take_list(object: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match object.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn id_of(object: &Map<String, Value>, kind: &'static str) -> Result<ShopifyId, ConversionError> {
    let gid = object.get("id").and_then(Value::as_str).unwrap_or_default();
    gid_number(gid)
        .map(ShopifyId)
        .ok_or_else(|| ConversionError {
            kind,
            field: "id",
            id: gid.to_owned(),
        })
}

fn time_of(
    object: &Map<String, Value>,
    field: &'static str,
    kind: &'static str,
) -> Result<DateTime<Utc>, ConversionError> {
    object
        .get(field)
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ConversionError {
            kind,
            field,
            id: object
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::jsonl::GroupedReader;

    fn assemble(lines: &[&str]) -> Vec<Assembled> {
        let mut reader = GroupedReader::new();
        let mut roots = Vec::new();
        for l in lines {
            roots.extend(reader.push_line(l.as_bytes()).unwrap());
        }
        roots.extend(reader.finish());
        roots
    }

    const ALL: [RecordSet; 3] = [RecordSet::Orders, RecordSet::Refunds, RecordSet::Returns];

    #[test]
    fn an_order_keeps_its_line_items_and_its_refunds_and_returns_become_records() {
        let lines = [
            r#"{"id":"gid://shopify/Order/1","createdAt":"2026-11-01T10:00:00Z","updatedAt":"2026-11-02T10:00:00Z","closed":false,"cancelledAt":null,"refunds":[{"id":"gid://shopify/Refund/5","createdAt":"2026-11-02T09:00:00Z","updatedAt":"2026-11-02T09:30:00Z"}]}"#,
            r#"{"id":"gid://shopify/LineItem/7","sku":"A-1","__parentId":"gid://shopify/Order/1"}"#,
            r#"{"id":"gid://shopify/Return/9","status":"OPEN","__parentId":"gid://shopify/Order/1"}"#,
        ];
        let c = orders(assemble(&lines), &OrderOptions::default(), &ALL).unwrap();
        let order = &c.writes_of(RecordSet::Orders)[0];
        assert_eq!(order.shopify_id, ShopifyId(1));
        let payload: Value = serde_json::from_str(order.payload.get()).unwrap();
        assert_eq!(payload["lineItems"][0]["sku"], "A-1");
        assert!(payload.get("refunds").is_none());
        let refund = &c.writes_of(RecordSet::Refunds)[0];
        let refund_payload: Value = serde_json::from_str(refund.payload.get()).unwrap();
        assert_eq!(refund_payload["orderId"], "gid://shopify/Order/1");
        let ret = &c.writes_of(RecordSet::Returns)[0];
        assert_eq!(
            ret.updated_at, order.updated_at,
            "returns change with their order"
        );
        assert!(c.tombstones.is_empty());
    }

    #[test]
    fn cancelled_and_closed_orders_are_tombstoned_unless_included() {
        let lines = [
            r#"{"id":"gid://shopify/Order/1","updatedAt":"2026-11-02T10:00:00Z","closed":false,"cancelledAt":"2026-11-02T10:00:00Z"}"#,
            r#"{"id":"gid://shopify/Order/2","updatedAt":"2026-11-02T11:00:00Z","closed":true,"cancelledAt":null}"#,
            r#"{"id":"gid://shopify/Order/3","updatedAt":"2026-11-02T12:00:00Z","closed":false,"cancelledAt":null}"#,
        ];
        let c = orders(assemble(&lines), &OrderOptions::default(), &ALL).unwrap();
        assert_eq!(c.tombstones_of(RecordSet::Orders).len(), 2);
        assert_eq!(c.writes_of(RecordSet::Orders).len(), 1);
        let keep_all = OrderOptions {
            include_cancelled: true,
            include_archived: true,
        };
        let c = orders(assemble(&lines), &keep_all, &ALL).unwrap();
        assert_eq!(c.writes_of(RecordSet::Orders).len(), 3);
        assert_eq!(c.newest.unwrap().to_rfc3339(), "2026-11-02T12:00:00+00:00");
    }

    #[test]
    fn disabled_recordsets_produce_no_records_and_bad_objects_are_errors() {
        let lines = [
            r#"{"id":"gid://shopify/Order/1","updatedAt":"2026-11-02T10:00:00Z","refunds":[{"id":"gid://shopify/Refund/5","updatedAt":"2026-11-02T10:00:00Z"}]}"#,
        ];
        let c = orders(
            assemble(&lines),
            &OrderOptions::default(),
            &[RecordSet::Orders],
        )
        .unwrap();
        assert!(c.writes_of(RecordSet::Refunds).is_empty());
        let bad = [r#"{"id":"gid://shopify/Order/1","updatedAt":"yesterday"}"#];
        assert!(orders(assemble(&bad), &OrderOptions::default(), &ALL).is_err());
    }
}
