//! Small change sets read with ordinary queries instead of a bulk job.
//!
//! A routine poll usually finds a handful of changed orders. A bulk job for
//! them takes seconds to run and holds one of the few bulk slots Shopify
//! gives an app per shop (five from 2026-01), which every connection to the
//! store shares; a page of ids plus the orders by id takes two requests.
//! The id page carries each order's `updatedAt`, so orders already stored at
//! that version (the window's overlap lists them again on every poll) are
//! not fetched: the store would keep the stored version anyway.
//! Large change sets (more than [`PAGED_MAX`] orders to fetch) still go
//! through a bulk job, as does any window holding an order whose line items
//! or returns might not fit one page (nothing is stored from it then).

use chrono::{DateTime, Utc};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::shopify::cost::MAX_QUERY_COST;
use crate::shopify::jsonl_text::{TextObject, TextRoot};
use crate::shopify::{ShopifyError, queries};
use crate::store::{RecordSet, ShopifyId};
use crate::sync::records::Converted;
use crate::sync::source::Source;
use crate::sync::state::updated_between;

use super::job::Place;
use super::{Engine, SyncError};

/// Most changed orders a window may need fetched to be read page by page: a
/// paged order costs about 60 actual points against a bulk job's 0.2, so
/// only small change sets, where a bulk job's latency and slot matter more,
/// go this way.
pub const PAGED_MAX: usize = 10;
/// Ids listed per change page (one point each): enough for the window's
/// overlap, whose orders are mostly stored already, to fit one page.
const ID_PAGE: u32 = 100;
/// Line items fetched per order; an order with this many may have more.
const LINE_ITEMS: u32 = 10;
/// Returns fetched per order (the paged document asks for 10).
const RETURNS: usize = 10;
/// Upper bound of the requested cost of one order by id with every field
/// (the simulator, which charges Shopify's rules, asks 206 with 10 line
/// items). Requested cost is what the bucket must hold before Shopify runs a
/// query, so it, not the smaller actual cost, paces these reads.
const ORDER_COST: f64 = 250.0;

/// Whether the window was read here, or needs a bulk job.
pub(super) enum Paged {
    Done,
    NeedsBulk,
}

impl Engine<'_> {
    /// Reads the orders changed in `[from, to)` and commits them with the
    /// window's checkpoint, or says a bulk job must do it.
    pub(super) async fn read_changes_paged(
        &mut self,
        source: &Source,
        from: Timestamp,
        to: Timestamp,
        place: &Place,
    ) -> Result<Paged, SyncError> {
        let Source::Orders { fields, .. } = source else {
            return Ok(Paged::NeedsBulk);
        };
        let search = updated_between(from, to);
        let response = self
            .client
            .execute(
                &queries::changed_ids("orders"),
                json!({"first": ID_PAGE, "query": search}),
                queries::changed_ids_cost(ID_PAGE),
            )
            .await?;
        let page = &response.data["orders"];
        if page["pageInfo"]["hasNextPage"].as_bool() != Some(false) {
            return Ok(Paged::NeedsBulk);
        }
        let nodes = page["nodes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let Some(listed) = listed_versions(nodes) else {
            return Ok(Paged::NeedsBulk);
        };
        let ids: Vec<ShopifyId> = listed.iter().map(|(id, _)| *id).collect();
        let stored = self.writer.stored_versions(RecordSet::Orders, &ids).await?;
        let ids: Vec<Value> = nodes
            .iter()
            .zip(&listed)
            .filter(|(_, (id, at))| stored.get(id).is_none_or(|s| s < at))
            .map(|(node, _)| node["id"].clone())
            .collect();
        if ids.len() > PAGED_MAX {
            return Ok(Paged::NeedsBulk);
        }
        let document = fields.orders_by_id(LINE_ITEMS);
        let budget = self
            .client
            .limiter()
            .request_budget()
            .unwrap_or(MAX_QUERY_COST)
            .min(MAX_QUERY_COST);
        let per_query = ((budget / ORDER_COST).floor() as usize).max(1);
        let mut converted = Converted::default();
        for chunk in ids.chunks(per_query) {
            self.check_stop()?;
            let response = self
                .client
                .execute(
                    &document,
                    json!({"ids": chunk}),
                    ORDER_COST * chunk.len() as f64,
                )
                .await?;
            for node in response.data["nodes"].as_array().into_iter().flatten() {
                // An order deleted since the id page answers null: nothing to store.
                let Value::Object(order) = node.clone() else {
                    continue;
                };
                match text_root(order).map_err(ShopifyError::Decode)? {
                    Some(root) => source.convert_text(&root, &mut converted)?,
                    None => return Ok(Paged::NeedsBulk),
                }
            }
        }
        let records = converted.count(source.recordset());
        let hold = place.hold(&Default::default(), 0);
        self.commit(source, converted, &hold, &place.done(records as u64))
            .await?;
        self.publish(|p| p.records_written += records as u64);
        Ok(Paged::Done)
    }
}

/// The id and `updatedAt` of each order a change page lists; `None` when an
/// id is unreadable (the bulk path then reports it). A missing or unreadable
/// time counts as the earliest, so that order is fetched rather than skipped.
fn listed_versions(nodes: &[Value]) -> Option<Vec<(ShopifyId, DateTime<Utc>)>> {
    nodes
        .iter()
        .map(|n| {
            let id = n["id"].as_str()?.parse::<ShopifyId>().ok()?;
            let at = n["updatedAt"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc));
            Some((id, at))
        })
        .collect()
}

/// A paged order in the shape a bulk result's lines take (the order, then
/// its line items and returns as children), so one conversion serves both;
/// `None` when a nested page may be cut.
fn text_root(mut order: Map<String, Value>) -> Result<Option<TextRoot>, String> {
    let mut children = Vec::new();
    for (field, limit) in [("lineItems", LINE_ITEMS as usize), ("returns", RETURNS)] {
        let Some(connection) = order.remove(field) else {
            continue;
        };
        let nodes = connection["nodes"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        if nodes.len() >= limit {
            return Ok(None);
        }
        for node in nodes {
            children.push(TextObject::parse(node.to_string().as_bytes())?);
        }
    }
    let root = TextObject::parse(Value::Object(order).to_string().as_bytes())?;
    Ok(Some(TextRoot { root, children }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paged_order_takes_the_bulk_shape() {
        let order = json!({
            "id": "gid://shopify/Order/1",
            "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/2", "sku": "A"}]},
            "returns": {"nodes": []},
        });
        let root = text_root(order.as_object().unwrap().clone())
            .unwrap()
            .unwrap();
        assert!(root.root.raw("lineItems").is_none() && root.root.raw("returns").is_none());
        let items: Vec<_> = root.children_of("LineItem").collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].str("sku").as_deref(), Some("A"));
        assert_eq!(root.children_of("Return").count(), 0);
    }

    #[test]
    fn a_change_page_lists_versions_and_refuses_an_unreadable_id() {
        let nodes = vec![
            json!({"id": "gid://shopify/Order/7", "updatedAt": "2026-01-02T03:04:05Z"}),
            json!({"id": "gid://shopify/Order/8"}),
        ];
        let listed = listed_versions(&nodes).unwrap();
        assert_eq!(listed[0].0, ShopifyId(7));
        assert_eq!(listed[0].1.to_rfc3339(), "2026-01-02T03:04:05+00:00");
        assert_eq!(listed[1], (ShopifyId(8), DateTime::<Utc>::MIN_UTC));
        assert!(listed_versions(&[json!({"id": "Order/9"})]).is_none());
    }

    #[test]
    fn an_order_whose_line_items_may_be_cut_needs_a_bulk_job() {
        let items: Vec<Value> = (0..LINE_ITEMS)
            .map(|i| json!({"id": format!("gid://shopify/LineItem/{i}")}))
            .collect();
        let order = json!({"id": "gid://shopify/Order/1", "lineItems": {"nodes": items}});
        assert!(
            text_root(order.as_object().unwrap().clone())
                .unwrap()
                .is_none()
        );
    }
}
