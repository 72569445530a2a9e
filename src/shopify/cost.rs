//! Shopify's cost report (`extensions.cost`) and the page-size arithmetic
//! that keeps a query under both the single-query cap and our bucket share.
//! Reference: shopify-admin-api.md §2.3–2.6.

use serde::Deserialize;

/// Shopify rejects a query whose requested cost exceeds this before running it.
pub const MAX_QUERY_COST: f64 = 1000.0;

/// Largest page a connection accepts.
pub const MAX_PAGE_SIZE: u32 = 250;

/// The bucket as one response reported it. Shopify sends these numbers both
/// as floats and as integers, so all are read as `f64`.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

/// `extensions.cost` of a response.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryCost {
    pub requested_query_cost: f64,
    /// Null when the query did not run (throttled, rejected).
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

impl QueryCost {
    /// Reads `extensions.cost` from a response body, if present.
    pub fn from_extensions(body: &serde_json::Value) -> Option<QueryCost> {
        serde_json::from_value(body.get("extensions")?.get("cost")?.clone()).ok()
    }
}

/// How many nodes one page may ask for, given what one node costs and the
/// points this request may spend: Shopify charges `2 + first × node_cost`
/// for a connection, and the request must stay under the 1,000-point cap and
/// within `budget`. Never below 1, so a very expensive node still pages.
pub fn page_size(node_cost: f64, budget: f64) -> u32 {
    let budget = budget.min(MAX_QUERY_COST);
    if node_cost <= 0.0 {
        return MAX_PAGE_SIZE;
    }
    let fits = ((budget - 2.0) / node_cost).floor();
    if fits < 1.0 {
        1
    } else {
        (fits as u32).min(MAX_PAGE_SIZE)
    }
}

/// What a connection page of `first` nodes is charged before it runs.
pub fn connection_cost(first: u32, node_cost: f64) -> f64 {
    2.0 + f64::from(first) * node_cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_cost_with_integer_and_float_numbers() {
        let body = json!({"data": {}, "extensions": {"cost": {"requestedQueryCost": 101, "actualQueryCost": 46,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1954, "restoreRate": 100.0}}}});
        let cost = QueryCost::from_extensions(&body).unwrap();
        assert_eq!(cost.requested_query_cost, 101.0);
        assert_eq!(cost.actual_query_cost, Some(46.0));
        assert_eq!(cost.throttle_status.currently_available, 1954.0);
    }

    #[test]
    fn throttled_response_has_no_actual_cost() {
        let body = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 507, "actualQueryCost": null,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 493, "restoreRate": 50.0}}}});
        assert_eq!(
            QueryCost::from_extensions(&body).unwrap().actual_query_cost,
            None
        );
        assert_eq!(QueryCost::from_extensions(&json!({"data": {}})), None);
    }

    #[test]
    fn page_size_follows_the_worked_examples() {
        // orders(first: 250) { nodes { id updatedAt customer { id } } } costs 502.
        assert_eq!(connection_cost(250, 2.0), 502.0);
        assert_eq!(page_size(2.0, 1000.0), 250);
        // lineItems(first: 20) under each order: node cost 23 → 40 orders fit (922).
        assert_eq!(page_size(23.0, 1000.0), 43);
        assert!(connection_cost(page_size(23.0, 1000.0), 23.0) <= 1000.0);
        // A 50% share of a standard bucket still leaves the cap as the binding limit.
        assert_eq!(page_size(3.0, 1000.0), 250);
        // A small share shrinks the page instead of waiting forever.
        assert_eq!(page_size(3.0, 200.0), 66);
        assert_eq!(page_size(5000.0, 1000.0), 1);
    }
}
