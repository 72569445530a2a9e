//! Turning Shopify objects, kept as text, into records: an order keeps its
//! line items, its refunds and returns become records of their own
//! recordsets with an `orderId`, and cancelled or closed (archived) orders
//! become tombstones unless included, so an order cancelled after it was
//! synced disappears from the stored copy instead of lingering. Bulk results
//! and paged reads both arrive here as [`TextRoot`]s. The payloads are
//! spliced from the objects' own text: nothing is parsed into a tree and
//! printed again, which was most of the engine's work per order.

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
    use crate::shopify::jsonl_text::TextGroupedReader;
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

    fn convert(
        lines: &[&str],
        options: &OrderOptions,
        sets: &[RecordSet],
    ) -> Result<Converted, ConversionError> {
        let mut reader = TextGroupedReader::new();
        let mut roots = Vec::new();
        for l in lines {
            roots.extend(reader.push_line(l.as_bytes()).unwrap());
        }
        roots.extend(reader.finish());
        let mut out = Converted::default();
        for root in &roots {
            order(root, options, sets, &mut out)?;
        }
        Ok(out)
    }

    fn payload(w: &RecordWrite) -> Value {
        serde_json::from_str(w.payload.get()).unwrap()
    }

    #[test]
    fn an_order_keeps_its_line_items_and_its_refunds_and_returns_become_records() {
        let c = convert(&ORDERS[..4], &OrderOptions::default(), &ALL).unwrap();
        let order = &c.writes_of(RecordSet::Orders)[0];
        assert_eq!(order.shopify_id, ShopifyId(1));
        let p = payload(order);
        assert_eq!(p["lineItems"][0]["sku"], "A-1");
        assert_eq!(p["lineItems"][1]["sku"], "B-\"2\"");
        assert_eq!(p["totalPriceSet"]["shopMoney"]["amount"], "1.50");
        assert!(p.get("refunds").is_none() && p.get("returns").is_none());
        let refund = &c.writes_of(RecordSet::Refunds)[0];
        assert_eq!(refund.shopify_id, ShopifyId(5));
        assert_eq!(payload(refund)["orderId"], "gid://shopify/Order/1");
        let ret = &c.writes_of(RecordSet::Returns)[0];
        assert_eq!(payload(ret)["orderId"], "gid://shopify/Order/1");
        assert_eq!(
            ret.updated_at, order.updated_at,
            "returns change with their order"
        );
        assert!(c.tombstones.is_empty());
    }

    #[test]
    fn cancelled_and_closed_orders_are_tombstoned_unless_included() {
        let c = convert(&ORDERS, &OrderOptions::default(), &ALL).unwrap();
        let tombstoned: Vec<i64> = c
            .tombstones_of(RecordSet::Orders)
            .iter()
            .map(|t| t.shopify_id.0)
            .collect();
        assert_eq!(tombstoned, [2, 3]);
        assert_eq!(c.count(RecordSet::Orders), 2);
        let keep_all = OrderOptions {
            include_cancelled: true,
            include_archived: true,
        };
        let kept = convert(&ORDERS, &keep_all, &ALL).unwrap();
        assert_eq!(kept.count(RecordSet::Orders), 4);
        assert_eq!(kept.count(RecordSet::Refunds), 2);
        assert_eq!(kept.count(RecordSet::Returns), 2);
        assert_eq!(
            kept.newest.unwrap().to_rfc3339(),
            "2026-11-02T13:00:00+00:00"
        );
    }

    #[test]
    fn disabled_recordsets_produce_no_records() {
        let c = convert(&ORDERS, &OrderOptions::default(), &[RecordSet::Orders]).unwrap();
        assert!(c.writes_of(RecordSet::Refunds).is_empty());
        assert!(c.writes_of(RecordSet::Returns).is_empty());
        assert_eq!(c.count(RecordSet::Orders), 2);
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
