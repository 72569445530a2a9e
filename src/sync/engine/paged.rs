//! Small change sets read with ordinary queries instead of a bulk job.
//!
//! A routine poll usually finds a handful of changed orders. A bulk job for
//! them takes seconds to run and holds one of the few bulk slots Shopify
//! gives an app per shop (five from 2026-01), which every connection to the
//! store shares; a page of ids plus the orders by id takes two requests.
//! Large change sets (more than [`PAGED_MAX`] orders) still go through a
//! bulk job, as does any window holding an order whose line items or
//! returns might not fit one page (nothing is stored from it then).

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::shopify::cost::MAX_QUERY_COST;
use crate::shopify::jsonl::Assembled;
use crate::shopify::queries;
use crate::sync::source::Source;
use crate::sync::state::updated_between;

use super::job::Place;
use super::{Engine, SyncError};

/// Most changed orders a window may hold to be read page by page: a paged
/// order costs about 60 actual points against a bulk job's 0.2, so only
/// small change sets, where a bulk job's latency and slot matter more, go this way.
pub const PAGED_MAX: u64 = 10;
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
        let first = PAGED_MAX as u32;
        let response = self
            .client
            .execute(
                &queries::changed_ids("orders"),
                json!({"first": first, "query": search}),
                queries::changed_ids_cost(first),
            )
            .await?;
        let page = &response.data["orders"];
        if page["pageInfo"]["hasNextPage"].as_bool() != Some(false) {
            return Ok(Paged::NeedsBulk);
        }
        let ids: Vec<Value> = page["nodes"]
            .as_array()
            .map(|nodes| nodes.iter().map(|n| n["id"].clone()).collect())
            .unwrap_or_default();
        let document = fields.orders_by_id(LINE_ITEMS);
        let budget = self
            .client
            .limiter()
            .request_budget()
            .unwrap_or(MAX_QUERY_COST)
            .min(MAX_QUERY_COST);
        let per_query = ((budget / ORDER_COST).floor() as usize).max(1);
        let mut assembled = Vec::with_capacity(ids.len());
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
                match assemble(order) {
                    Some(a) => assembled.push(a),
                    None => return Ok(Paged::NeedsBulk),
                }
            }
        }
        let converted = source.convert(assembled)?;
        let records = converted.count(source.recordset());
        let hold = place.hold(&Default::default(), 0);
        self.commit(source, converted, &hold, &place.done(records as u64))
            .await?;
        self.publish(|p| p.records_written += records as u64);
        Ok(Paged::Done)
    }
}

/// A paged order in the shape bulk results are assembled into (children by
/// type), so one conversion serves both; `None` when a nested page may be cut.
fn assemble(mut order: Map<String, Value>) -> Option<Assembled> {
    let mut children = HashMap::new();
    for (field, kind, limit) in [
        ("lineItems", "LineItem", LINE_ITEMS as usize),
        ("returns", "Return", RETURNS),
    ] {
        let Some(connection) = order.remove(field) else {
            continue;
        };
        let nodes: Vec<Map<String, Value>> = connection["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_object().cloned())
            .collect();
        if nodes.len() >= limit {
            return None;
        }
        children.insert(kind.to_owned(), nodes);
    }
    Some(Assembled {
        root: order,
        children,
    })
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
        let a = assemble(order.as_object().unwrap().clone()).unwrap();
        assert!(!a.root.contains_key("lineItems"));
        assert_eq!(a.children["LineItem"].len(), 1);
        assert!(a.children["Return"].is_empty());
    }

    #[test]
    fn an_order_whose_line_items_may_be_cut_needs_a_bulk_job() {
        let items: Vec<Value> = (0..LINE_ITEMS)
            .map(|i| json!({"id": format!("gid://shopify/LineItem/{i}")}))
            .collect();
        let order = json!({"id": "gid://shopify/Order/1", "lineItems": {"nodes": items}});
        assert!(assemble(order.as_object().unwrap().clone()).is_none());
    }
}
