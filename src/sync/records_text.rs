//! Turning bulk results kept as text into records, by the same rules as
//! [`super::records`] (line items stay in their order, refunds and returns
//! become records with an `orderId`, excluded orders become tombstones). The
//! payloads are spliced from the lines' own text: nothing is parsed into a
//! tree and printed again, which was most of the engine's work per order.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use super::records::{ConversionError, Converted, excluded};
use crate::api::spec::OrderOptions;
use crate::shopify::jsonl::gid_number;
use crate::shopify::jsonl_text::{TextObject, TextRoot};
use crate::store::{RecordSet, RecordWrite, ShopifyId, Tombstone};

/// Adds the records of one order (its line with `LineItem` and `Return`
/// children) to `out`.
pub fn order(
    assembled: &TextRoot,
    options: &OrderOptions,
    recordsets: &[RecordSet],
    out: &mut Converted,
) -> Result<(), ConversionError> {
    let root = &assembled.root;
    let id = id_of(root, "order")?;
    let updated = time_of(root, "updatedAt", "order")?;
    let created = time_of(root, "createdAt", "order").ok();
    out.newest = out.newest.max(Some(updated));
    let excluded = excluded(
        root.is_set("cancelledAt"),
        root.raw("closed") == Some("true"),
        options,
    );
    let parent = Parent {
        gid: root.raw("id").unwrap_or("null"),
        updated,
        excluded,
    };
    if recordsets.contains(&RecordSet::Refunds) {
        for refund in list(root.raw("refunds")) {
            // Like the parsed path, anything but an object in the list is ignored.
            if refund.get().starts_with('{') {
                let refund =
                    TextObject::parse(refund.get().as_bytes()).map_err(|_| ConversionError {
                        kind: "refund",
                        field: "payload",
                        id: String::new(),
                    })?;
                parent.child(&refund, RecordSet::Refunds, "refund", out)?;
            }
        }
    }
    if recordsets.contains(&RecordSet::Returns) {
        for ret in assembled.children_of("Return") {
            parent.child(ret, RecordSet::Returns, "return", out)?;
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
        return Ok(());
    }
    let payload = with_children(
        assembled,
        &["refunds", "lineItems"],
        "lineItems",
        assembled.children_of("LineItem"),
    );
    out.write(
        RecordSet::Orders,
        RecordWrite {
            shopify_id: id,
            created_at: created,
            updated_at: updated,
            payload: payload_of(payload, root, "order")?,
        },
    );
    Ok(())
}

/// Adds the record of one product (its line with `ProductVariant` children).
pub fn product(assembled: &TextRoot, out: &mut Converted) -> Result<(), ConversionError> {
    let root = &assembled.root;
    let id = id_of(root, "product")?;
    let updated = time_of(root, "updatedAt", "product")?;
    out.newest = out.newest.max(Some(updated));
    let payload = with_children(
        assembled,
        &["variants"],
        "variants",
        assembled.children_of("ProductVariant"),
    );
    out.write(
        RecordSet::Products,
        RecordWrite {
            shopify_id: id,
            created_at: time_of(root, "createdAt", "product").ok(),
            updated_at: updated,
            payload: payload_of(payload, root, "product")?,
        },
    );
    Ok(())
}

/// What a refund or return takes from its order.
struct Parent<'a> {
    /// The order's `id` as JSON text.
    gid: &'a str,
    updated: DateTime<Utc>,
    excluded: bool,
}

impl Parent<'_> {
    fn child(
        &self,
        item: &TextObject,
        recordset: RecordSet,
        kind: &'static str,
        out: &mut Converted,
    ) -> Result<(), ConversionError> {
        let shopify_id = id_of(item, kind)?;
        // Returns have no updatedAt of their own: they change with their order.
        let updated_at = time_of(item, "updatedAt", kind).unwrap_or(self.updated);
        if self.excluded {
            out.tombstone(
                recordset,
                Tombstone {
                    shopify_id,
                    deleted_at: updated_at,
                },
            );
            return Ok(());
        }
        let mut text = String::with_capacity(item.text().len() + self.gid.len() + 12);
        text.push('{');
        item.write_members(&mut text, &["orderId"]);
        if !text.ends_with('{') {
            text.push(',');
        }
        text.push_str("\"orderId\":");
        text.push_str(self.gid);
        text.push('}');
        out.write(
            recordset,
            RecordWrite {
                shopify_id,
                created_at: time_of(item, "createdAt", kind).ok(),
                updated_at,
                payload: payload_of(text, item, kind)?,
            },
        );
        Ok(())
    }
}

/// The root without the members in `skip`, with `field` holding `children`.
fn with_children<'c>(
    assembled: &'c TextRoot,
    skip: &[&str],
    field: &str,
    children: impl Iterator<Item = &'c TextObject>,
) -> String {
    let root = &assembled.root;
    let size = root.text().len()
        + assembled
            .children
            .iter()
            .map(|c| c.text().len() + 1)
            .sum::<usize>();
    let mut text = String::with_capacity(size + field.len() + 8);
    text.push('{');
    root.write_members(&mut text, skip);
    if !text.ends_with('{') {
        text.push(',');
    }
    text.push('"');
    text.push_str(field);
    text.push_str("\":[");
    for (i, child) in children.enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push('{');
        child.write_members(&mut text, &[]);
        text.push('}');
    }
    text.push_str("]}");
    text
}

/// The elements of a JSON array's text; nothing when it is not an array.
fn list(raw: Option<&str>) -> Vec<&RawValue> {
    raw.and_then(|r| serde_json::from_str::<Vec<&RawValue>>(r).ok())
        .unwrap_or_default()
}

fn payload_of(
    text: String,
    object: &TextObject,
    kind: &'static str,
) -> Result<Box<RawValue>, ConversionError> {
    RawValue::from_string(text).map_err(|_| ConversionError {
        kind,
        field: "payload",
        id: object.str("id").unwrap_or_default().into_owned(),
    })
}

fn id_of(object: &TextObject, kind: &'static str) -> Result<ShopifyId, ConversionError> {
    let gid = object.str("id").unwrap_or_default();
    gid_number(&gid)
        .map(ShopifyId)
        .ok_or_else(|| ConversionError {
            kind,
            field: "id",
            id: gid.into_owned(),
        })
}

fn time_of(
    object: &TextObject,
    field: &'static str,
    kind: &'static str,
) -> Result<DateTime<Utc>, ConversionError> {
    object
        .str(field)
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ConversionError {
            kind,
            field,
            id: object.str("id").unwrap_or_default().into_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::jsonl::GroupedReader;
    use crate::shopify::jsonl_text::TextGroupedReader;
    use crate::sync::records;
    use serde_json::Value;

    const ALL: [RecordSet; 3] = [RecordSet::Orders, RecordSet::Refunds, RecordSet::Returns];

    const ORDERS: [&str; 9] = [
        r##"{"id":"gid://shopify/Order/1","name":"#1","createdAt":"2026-11-01T10:00:00Z","updatedAt":"2026-11-02T10:00:00Z","closed":false,"cancelledAt":null,"totalPriceSet":{"shopMoney":{"amount":"1.50","currencyCode":"USD"}},"refunds":[{"id":"gid://shopify/Refund/5","createdAt":"2026-11-02T09:00:00Z","updatedAt":"2026-11-02T09:30:00Z","orderId":"stale"},7]}"##,
        r#"{"id":"gid://shopify/LineItem/7","sku":"A-1","quantity":2,"__parentId":"gid://shopify/Order/1"}"#,
        r#"{"id":"gid://shopify/LineItem/8","sku":"B-\"2\"","__parentId":"gid://shopify/Order/1"}"#,
        r#"{"id":"gid://shopify/Return/9","status":"OPEN","createdAt":"2026-11-02T08:00:00Z","__parentId":"gid://shopify/Order/1"}"#,
        r#"{"id":"gid://shopify/Order/2","updatedAt":"2026-11-02T11:00:00Z","closed":true,"cancelledAt":null,"refunds":[{"id":"gid://shopify/Refund/6","updatedAt":"2026-11-02T11:00:00Z"}]}"#,
        r#"{"id":"gid://shopify/Return/10","__parentId":"gid://shopify/Order/2"}"#,
        r#"{"id":"gid://shopify/Order/3","updatedAt":"2026-11-02T12:00:00Z","cancelledAt":"2026-11-02T12:00:00Z","refunds":[]}"#,
        r#"{"id":"gid://shopify/Order/4","updatedAt":"2026-11-02T13:00:00Z","lineItems":"stale"}"#,
        r#"{"id":"gid://shopify/Unknown/1","__parentId":"gid://shopify/Order/4"}"#,
    ];

    fn parsed(lines: &[&str], options: &OrderOptions, sets: &[RecordSet]) -> Converted {
        let mut reader = GroupedReader::new();
        let mut roots = Vec::new();
        for l in lines {
            roots.extend(reader.push_line(l.as_bytes()).unwrap());
        }
        roots.extend(reader.finish());
        records::orders(roots, options, sets).unwrap()
    }

    fn spliced(lines: &[&str], options: &OrderOptions, sets: &[RecordSet]) -> Converted {
        let mut reader = TextGroupedReader::new();
        let mut roots = Vec::new();
        for l in lines {
            roots.extend(reader.push_line(l.as_bytes()).unwrap());
        }
        roots.extend(reader.finish());
        let mut out = Converted::default();
        for root in &roots {
            order(root, options, sets, &mut out).unwrap();
        }
        out
    }

    /// Every record as (recordset, id, created, updated, payload as a tree),
    /// tombstones as (recordset, id, deleted-at).
    #[allow(clippy::type_complexity)]
    fn flat(
        c: &Converted,
    ) -> (
        Vec<(RecordSet, i64, Option<DateTime<Utc>>, DateTime<Utc>, Value)>,
        Vec<(RecordSet, i64, DateTime<Utc>)>,
    ) {
        let writes = c
            .writes
            .iter()
            .flat_map(|(set, ws)| {
                ws.iter().map(move |w| {
                    let payload = serde_json::from_str(w.payload.get()).unwrap();
                    (*set, w.shopify_id.0, w.created_at, w.updated_at, payload)
                })
            })
            .collect();
        let tombstones = c
            .tombstones
            .iter()
            .flat_map(|(set, ts)| ts.iter().map(move |t| (*set, t.shopify_id.0, t.deleted_at)))
            .collect();
        (writes, tombstones)
    }

    #[test]
    fn splicing_gives_the_records_the_parsed_conversion_gives() {
        let keep_all = OrderOptions {
            include_cancelled: true,
            include_archived: true,
        };
        for options in [OrderOptions::default(), keep_all.clone()] {
            for sets in [&ALL[..], &[RecordSet::Orders][..]] {
                let expected = parsed(&ORDERS, &options, sets);
                let got = spliced(&ORDERS, &options, sets);
                assert_eq!(flat(&got), flat(&expected), "{options:?} {sets:?}");
                assert_eq!(got.newest, expected.newest);
            }
        }
        let kept = spliced(&ORDERS, &keep_all, &ALL);
        assert_eq!(kept.count(RecordSet::Orders), 4);
        assert_eq!(kept.count(RecordSet::Refunds), 2);
        let order: Value =
            serde_json::from_str(kept.writes[&RecordSet::Orders][0].payload.get()).unwrap();
        assert_eq!(order["lineItems"][1]["sku"], "B-\"2\"");
        assert!(order.get("refunds").is_none());
    }

    #[test]
    fn products_keep_their_variants() {
        let mut reader = TextGroupedReader::new();
        reader
            .push_line(br#"{"id":"gid://shopify/Product/1","updatedAt":"2026-11-02T10:00:00Z","title":"T"}"#)
            .unwrap();
        reader
            .push_line(br#"{"id":"gid://shopify/ProductVariant/2","sku":"S","__parentId":"gid://shopify/Product/1"}"#)
            .unwrap();
        let mut out = Converted::default();
        product(&reader.finish().unwrap(), &mut out).unwrap();
        let p: Value =
            serde_json::from_str(out.writes[&RecordSet::Products][0].payload.get()).unwrap();
        assert_eq!(
            p,
            serde_json::json!({"id":"gid://shopify/Product/1","updatedAt":"2026-11-02T10:00:00Z","title":"T",
                "variants":[{"id":"gid://shopify/ProductVariant/2","sku":"S"}]})
        );
    }

    #[test]
    fn orders_without_a_usable_id_or_updated_at_are_errors() {
        let mut out = Converted::default();
        for bad in [
            r#"{"id":"gid://shopify/Order/x","updatedAt":"2026-11-02T10:00:00Z"}"#,
            r#"{"id":"gid://shopify/Order/1","updatedAt":"yesterday"}"#,
        ] {
            let mut reader = TextGroupedReader::new();
            reader.push_line(bad.as_bytes()).unwrap();
            let root = reader.finish().unwrap();
            assert!(
                order(&root, &OrderOptions::default(), &ALL, &mut out).is_err(),
                "{bad}"
            );
        }
    }
}
