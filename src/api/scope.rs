//! The Shopify access scopes a `ShopifyConnection` may expect, and what each recordset needs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A read scope of the Shopify Admin API that shopsync knows how to use.
///
/// Only read scopes are accepted: shopsync is strictly read-only, so a manifest
/// that expects a `write_*` scope is a mistake worth catching at apply time.
#[derive(
    Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessScope {
    ReadOrders,
    ReadAllOrders,
    ReadMarketplaceOrders,
    ReadProducts,
    ReadInventory,
    ReadLocations,
    ReadReturns,
    ReadMarketplaceReturns,
    ReadCustomers,
    ReadAssignedFulfillmentOrders,
    ReadMerchantManagedFulfillmentOrders,
    ReadThirdPartyFulfillmentOrders,
    ReadMarketplaceFulfillmentOrders,
}

impl AccessScope {
    /// Every known scope, in declaration order.
    pub const ALL: [AccessScope; 13] = [
        Self::ReadOrders,
        Self::ReadAllOrders,
        Self::ReadMarketplaceOrders,
        Self::ReadProducts,
        Self::ReadInventory,
        Self::ReadLocations,
        Self::ReadReturns,
        Self::ReadMarketplaceReturns,
        Self::ReadCustomers,
        Self::ReadAssignedFulfillmentOrders,
        Self::ReadMerchantManagedFulfillmentOrders,
        Self::ReadThirdPartyFulfillmentOrders,
        Self::ReadMarketplaceFulfillmentOrders,
    ];

    /// The handle Shopify uses for this scope (`read_orders`, …).
    pub fn handle(self) -> &'static str {
        match self {
            Self::ReadOrders => "read_orders",
            Self::ReadAllOrders => "read_all_orders",
            Self::ReadMarketplaceOrders => "read_marketplace_orders",
            Self::ReadProducts => "read_products",
            Self::ReadInventory => "read_inventory",
            Self::ReadLocations => "read_locations",
            Self::ReadReturns => "read_returns",
            Self::ReadMarketplaceReturns => "read_marketplace_returns",
            Self::ReadCustomers => "read_customers",
            Self::ReadAssignedFulfillmentOrders => "read_assigned_fulfillment_orders",
            Self::ReadMerchantManagedFulfillmentOrders => {
                "read_merchant_managed_fulfillment_orders"
            }
            Self::ReadThirdPartyFulfillmentOrders => "read_third_party_fulfillment_orders",
            Self::ReadMarketplaceFulfillmentOrders => "read_marketplace_fulfillment_orders",
        }
    }

    /// Parses a handle as Shopify reports it. A granted `write_X` implies `read_X`
    /// (Shopify lists only the collapsed form), so both spellings map to the read scope.
    pub fn from_handle(handle: &str) -> Option<AccessScope> {
        let read = handle
            .strip_prefix("write_")
            .map(|rest| format!("read_{rest}"));
        let wanted = read.as_deref().unwrap_or(handle);
        Self::ALL.into_iter().find(|s| s.handle() == wanted)
    }
}

impl std::fmt::Display for AccessScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.handle())
    }
}

/// The message of the schema rule on `spec.scopes`; a test keeps it in step with [`AccessScope::ALL`].
pub(crate) const UNKNOWN_SCOPE_MESSAGE: &str = "scopes must be Shopify read scopes shopsync knows: \
read_orders, read_all_orders, read_marketplace_orders, read_products, read_inventory, read_locations, \
read_returns, read_marketplace_returns, read_customers, read_assigned_fulfillment_orders, \
read_merchant_managed_fulfillment_orders, read_third_party_fulfillment_orders, \
read_marketplace_fulfillment_orders";

/// The CEL rule on `spec.scopes`: every entry is a known handle. The schema's enum
/// rejects unknown values too, but only a rule can say which values are known.
pub(crate) fn cel_known_scopes_rule() -> String {
    let quoted: Vec<String> = AccessScope::ALL
        .iter()
        .map(|s| format!("'{}'", s.handle()))
        .collect();
    format!("self.all(s, s in [{}])", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_through_serde() {
        for scope in AccessScope::ALL {
            let json = serde_json::to_value(scope).unwrap();
            assert_eq!(json, scope.handle());
            assert_eq!(AccessScope::from_handle(scope.handle()), Some(scope));
        }
    }

    #[test]
    fn unknown_scope_message_lists_every_known_scope() {
        for scope in AccessScope::ALL {
            assert!(
                UNKNOWN_SCOPE_MESSAGE.contains(scope.handle()),
                "{scope} missing from the message"
            );
        }
        assert_eq!(
            UNKNOWN_SCOPE_MESSAGE.matches("read_").count(),
            AccessScope::ALL.len()
        );
    }

    #[test]
    fn write_scope_implies_read_scope() {
        assert_eq!(
            AccessScope::from_handle("write_orders"),
            Some(AccessScope::ReadOrders)
        );
        assert_eq!(AccessScope::from_handle("write_discounts"), None);
        assert_eq!(AccessScope::from_handle("read_orderz"), None);
    }
}
