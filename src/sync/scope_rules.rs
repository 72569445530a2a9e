//! Which data a connection may sync, decided from its spec and the scopes
//! Shopify granted — before any query is built, so excluded data is never
//! requested. A missing scope skips what needs it and is reported; the rest
//! keeps syncing (DESIGN.md invariant 5).

use std::collections::BTreeSet;

use crate::api::{AccessScope, CustomerData, ShopifyConnectionSpec};
use crate::shopify::queries::OrderFields;
use crate::store::RecordSet;

/// A recordset that will not sync, and the scope that would let it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub recordset: RecordSet,
    pub needs: AccessScope,
}

/// The outcome of applying the data-scope rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeDecision {
    pub granted: BTreeSet<AccessScope>,
    /// Recordsets that sync, in a stable order.
    pub recordsets: Vec<RecordSet>,
    pub skipped: Vec<Skipped>,
    /// Scopes the spec expects, or an enabled feature needs, that were not granted.
    pub missing: BTreeSet<AccessScope>,
    pub order_fields: OrderFields,
    /// Without read_all_orders only the last 60 days of orders exist for us.
    pub orders_limited_to_60_days: bool,
    /// Inventory per location (read_inventory) alongside products.
    pub inventory: bool,
}

impl ScopeDecision {
    pub fn syncs(&self, recordset: RecordSet) -> bool {
        self.recordsets.contains(&recordset)
    }
}

/// Parses Shopify's granted handles; `write_X` counts as `read_X`, handles
/// shopsync has no use for are ignored.
pub fn parse_granted<'a>(handles: impl IntoIterator<Item = &'a str>) -> BTreeSet<AccessScope> {
    handles
        .into_iter()
        .filter_map(AccessScope::from_handle)
        .collect()
}

/// Applies the rules.
pub fn decide(spec: &ShopifyConnectionSpec, granted: BTreeSet<AccessScope>) -> ScopeDecision {
    use AccessScope::*;
    let has = |s: AccessScope| granted.contains(&s);
    let orders_ok = has(ReadOrders) || has(ReadMarketplaceOrders);
    let returns_ok = has(ReadReturns) || has(ReadMarketplaceReturns);
    let resources = &spec.resources;

    let mut recordsets = Vec::new();
    let mut skipped = Vec::new();
    let mut missing: BTreeSet<AccessScope> =
        spec.scopes.iter().copied().filter(|s| !has(*s)).collect();
    let mut need =
        |ok: bool, recordset: RecordSet, scope: AccessScope, recordsets: &mut Vec<RecordSet>| {
            if ok {
                recordsets.push(recordset);
            } else {
                skipped.push(Skipped {
                    recordset,
                    needs: scope,
                });
                missing.insert(scope);
            }
        };

    need(orders_ok, RecordSet::Orders, ReadOrders, &mut recordsets);
    if resources.products.enabled {
        need(
            has(ReadProducts),
            RecordSet::Products,
            ReadProducts,
            &mut recordsets,
        );
    }
    // Refunds and returns are read through their orders.
    if resources.refunds.enabled {
        need(orders_ok, RecordSet::Refunds, ReadOrders, &mut recordsets);
    }
    if resources.returns.enabled {
        let scope = if orders_ok { ReadReturns } else { ReadOrders };
        need(
            orders_ok && returns_ok,
            RecordSet::Returns,
            scope,
            &mut recordsets,
        );
    }

    let inventory = resources.products.enabled && resources.products.inventory && has(ReadProducts);
    if inventory && !has(ReadInventory) {
        missing.insert(ReadInventory);
    }
    let wants_personal = spec.customer_data == CustomerData::Include;
    if wants_personal && !has(ReadCustomers) {
        missing.insert(ReadCustomers);
    }
    let order_fields = OrderFields {
        customer_reference: has(ReadCustomers),
        customer_personal: wants_personal && has(ReadCustomers),
        product_references: has(ReadProducts),
        refunds: recordsets.contains(&RecordSet::Refunds),
        returns: recordsets.contains(&RecordSet::Returns),
    };
    ScopeDecision {
        orders_limited_to_60_days: !has(ReadAllOrders),
        inventory: inventory && has(ReadInventory),
        granted,
        recordsets,
        skipped,
        missing,
        order_fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ShopifyConnection;

    fn spec(yaml_spec: &str) -> ShopifyConnectionSpec {
        let manifest = format!(
            "apiVersion: shopify.fostr.io/v1alpha1\nkind: ShopifyConnection\nmetadata: {{name: a}}\nspec:\n  store: a.myshopify.com\n  credentials: {{secretRef: {{name: s}}}}\n{yaml_spec}"
        );
        let conn: ShopifyConnection = yaml_serde::from_str(&manifest).unwrap();
        conn.spec
    }

    #[test]
    fn orders_only_with_read_orders() {
        let d = decide(&spec(""), parse_granted(["read_orders"]));
        assert_eq!(d.recordsets, [RecordSet::Orders]);
        assert!(d.missing.is_empty() && d.skipped.is_empty());
        assert!(d.orders_limited_to_60_days);
        assert_eq!(d.order_fields, OrderFields::default());
    }

    #[test]
    fn missing_scopes_skip_what_needs_them_and_the_rest_syncs() {
        let s = spec(
            "  scopes: [read_orders, read_products, read_returns]\n  resources: {products: {enabled: true}, returns: {enabled: true}, refunds: {enabled: true}}\n",
        );
        let d = decide(&s, parse_granted(["read_orders", "write_products"]));
        assert_eq!(
            d.recordsets,
            [RecordSet::Orders, RecordSet::Products, RecordSet::Refunds]
        );
        assert_eq!(
            d.skipped,
            [Skipped {
                recordset: RecordSet::Returns,
                needs: AccessScope::ReadReturns
            }]
        );
        assert_eq!(d.missing, BTreeSet::from([AccessScope::ReadReturns]));
        assert!(
            d.order_fields.refunds && !d.order_fields.returns && d.order_fields.product_references
        );
    }

    #[test]
    fn without_orders_scope_order_based_recordsets_are_skipped_but_products_sync() {
        let s = spec(
            "  scopes: [read_orders, read_products]\n  resources: {products: {enabled: true}, refunds: {enabled: true}}\n",
        );
        let d = decide(&s, parse_granted(["read_products"]));
        assert_eq!(d.recordsets, [RecordSet::Products]);
        assert_eq!(d.skipped.len(), 2);
        assert_eq!(d.missing, BTreeSet::from([AccessScope::ReadOrders]));
    }

    #[test]
    fn personal_data_only_when_included_and_granted() {
        let include = spec("  scopes: [read_orders, read_customers]\n  customerData: Include\n");
        let d = decide(&include, parse_granted(["read_orders", "read_customers"]));
        assert!(d.order_fields.customer_personal);
        let d = decide(&include, parse_granted(["read_orders"]));
        assert!(!d.order_fields.customer_personal && !d.order_fields.customer_reference);
        assert!(d.missing.contains(&AccessScope::ReadCustomers));
        let exclude = spec("");
        let d = decide(&exclude, parse_granted(["read_orders", "read_customers"]));
        assert!(d.order_fields.customer_reference && !d.order_fields.customer_personal);
    }

    #[test]
    fn read_all_orders_lifts_the_sixty_day_limit_and_inventory_needs_its_scope() {
        let s = spec(
            "  scopes: [read_orders, read_products]\n  resources: {products: {enabled: true, inventory: true}}\n",
        );
        let d = decide(
            &s,
            parse_granted(["read_orders", "read_all_orders", "read_products"]),
        );
        assert!(!d.orders_limited_to_60_days);
        assert!(!d.inventory && d.missing.contains(&AccessScope::ReadInventory));
    }
}
