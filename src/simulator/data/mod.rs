//! One store's data: compact records, the sort indexes the `orders` connection
//! pages through, and the changes the control API makes (reference §4).

pub mod detail;
pub mod generate;
pub mod model;
pub mod rng;

use std::collections::BTreeSet;

use detail::OrderDetail;
use model::*;

/// Sort-key indexes over orders: `(value, id)` pairs, so ties on the value are
/// broken by id exactly as Shopify's cursors do (reference §4.2).
#[derive(Debug, Default)]
pub struct OrderIndex {
    pub created: BTreeSet<(Ts, u64)>,
    pub processed: BTreeSet<(Ts, u64)>,
    pub updated: BTreeSet<(Ts, u64)>,
}

impl OrderIndex {
    fn insert(&mut self, o: &OrderRec) {
        self.created.insert((o.created_at, o.id));
        self.processed.insert((o.processed_at, o.id));
        self.updated.insert((o.updated_at, o.id));
    }

    fn remove(&mut self, o: &OrderRec) {
        self.created.remove(&(o.created_at, o.id));
        self.processed.remove(&(o.processed_at, o.id));
        self.updated.remove(&(o.updated_at, o.id));
    }
}

#[derive(Debug)]
pub struct StoreData {
    pub seed: u64,
    /// Size of the generated catalog; line items are derived against it.
    pub catalog_size: u64,
    pub shop: ShopInfo,
    /// Sorted by id (ids grow with creation).
    pub orders: Vec<OrderRec>,
    pub index: OrderIndex,
    /// Position `i` holds customer id `CUSTOMER_BASE + i`.
    pub customers: Vec<CustomerRec>,
    /// Sorted by id.
    pub products: Vec<ProductRec>,
    pub locations: Vec<LocationRec>,
    next_order_index: u64,
    next_product_index: u64,
}

impl StoreData {
    pub fn new(
        seed: u64,
        shop: ShopInfo,
        orders: Vec<OrderRec>,
        customers: Vec<CustomerRec>,
        products: Vec<ProductRec>,
        locations: Vec<LocationRec>,
    ) -> StoreData {
        let index = OrderIndex {
            created: orders.iter().map(|o| (o.created_at, o.id)).collect(),
            processed: orders.iter().map(|o| (o.processed_at, o.id)).collect(),
            updated: orders.iter().map(|o| (o.updated_at, o.id)).collect(),
        };
        StoreData {
            seed,
            catalog_size: products.len() as u64,
            next_order_index: orders.last().map_or(0, |o| o.index + 1),
            next_product_index: products.last().map_or(0, |p| p.index + 1),
            shop,
            orders,
            index,
            customers,
            products,
            locations,
        }
    }

    pub fn order(&self, id: u64) -> Option<&OrderRec> {
        self.order_position(id).map(|i| &self.orders[i])
    }

    /// Ids are `ORDER_BASE + index` and deletions only move orders left, so
    /// the index is the first guess: O(1) until orders are deleted, and a
    /// binary search below the guess after that (a page of 250 would
    /// otherwise cost 250 cache-missing searches over a million orders).
    fn order_position(&self, id: u64) -> Option<usize> {
        let first = self.orders.first()?.id;
        let guess = (id.checked_sub(first)? as usize).min(self.orders.len() - 1);
        if self.orders[guess].id == id {
            return Some(guess);
        }
        self.orders[..guess]
            .binary_search_by_key(&id, |o| o.id)
            .ok()
    }

    /// The order that owns a child id (line item, fulfillment, refund, return).
    pub fn order_by_index(&self, index: u64) -> Option<&OrderRec> {
        self.order(ORDER_BASE + index)
    }

    pub fn detail(&self, order: &OrderRec) -> OrderDetail {
        detail::derive(order, self.seed, self.catalog_size)
    }

    pub fn customer(&self, id: u64) -> Option<&CustomerRec> {
        id.checked_sub(CUSTOMER_BASE)
            .and_then(|i| self.customers.get(i as usize))
    }

    pub fn product(&self, id: u64) -> Option<&ProductRec> {
        self.products
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.products[i])
    }

    pub fn product_by_index(&self, index: u64) -> Option<&ProductRec> {
        self.product(PRODUCT_BASE + index)
    }

    /// A variant and its product, by variant id or inventory item id.
    pub fn variant(&self, id: u64, by_inventory_item: bool) -> Option<(&ProductRec, usize)> {
        let base = if by_inventory_item {
            INVENTORY_ITEM_BASE
        } else {
            VARIANT_BASE
        };
        let index = id.checked_sub(base)? / VARIANTS_PER_PRODUCT;
        let p = self.product_by_index(index)?;
        let pos = p.variants.iter().position(|v| {
            if by_inventory_item {
                v.inventory_item_id == id
            } else {
                v.id == id
            }
        })?;
        Some((p, pos))
    }

    pub fn location(&self, id: u64) -> Option<&LocationRec> {
        self.locations.iter().find(|l| l.id == id)
    }

    /// Customer lifetime spend is a sum over their orders; computed once after generation.
    pub fn fill_customer_spend(&mut self) {
        let mut spend = vec![0i64; self.customers.len()];
        for o in &self.orders {
            if let Some(c) = o.customer {
                let d = detail::derive(o, self.seed, self.catalog_size);
                spend[c as usize] += d.total_cents - d.refunded_cents;
            }
        }
        for (c, s) in self.customers.iter_mut().zip(spend) {
            c.spent_cents = s;
        }
    }

    /// Adds a new order placed at `now`: pending payment, unfulfilled.
    pub fn create_order(&mut self, now: Ts, customer: Option<u32>, seed: u64) -> u64 {
        let index = self.next_order_index;
        self.next_order_index += 1;
        let o = OrderRec {
            id: ORDER_BASE + index,
            index,
            seed,
            created_at: now,
            processed_at: now,
            updated_at: now,
            closed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            customer: customer.filter(|c| (*c as usize) < self.customers.len()),
            presentment: Currency::Usd,
            financial: FinancialStatus::Pending,
            fulfillment: FulfillmentState::Unfulfilled,
            returns: ReturnState::NoReturn,
            test: false,
            edited: false,
            tags: 0,
            note: None,
        };
        self.index.insert(&o);
        let id = o.id;
        self.orders.push(o);
        id
    }

    /// Applies `change` to an order and bumps `updatedAt` to `now`, keeping the indexes right.
    pub fn update_order(&mut self, id: u64, now: Ts, change: impl FnOnce(&mut OrderRec)) -> bool {
        let Some(i) = self.order_position(id) else {
            return false;
        };
        self.index.remove(&self.orders[i]);
        let o = &mut self.orders[i];
        change(o);
        o.updated_at = o.updated_at.max(now);
        self.index.insert(&self.orders[i]);
        true
    }

    pub fn delete_order(&mut self, id: u64) -> bool {
        let Some(i) = self.order_position(id) else {
            return false;
        };
        let o = self.orders.remove(i);
        self.index.remove(&o);
        true
    }

    /// Adds a one-variant product created at `now`.
    pub fn create_product(&mut self, now: Ts, title: &str, price_cents: i64) -> u64 {
        let index = self.next_product_index;
        self.next_product_index += 1;
        let p = ProductRec {
            id: PRODUCT_BASE + index,
            index,
            handle: title.to_lowercase().replace(' ', "-"),
            title: title.to_string(),
            vendor: "Simulator",
            product_type: "Apparel",
            status: ProductStatus::Active,
            tags: vec![],
            created_at: now,
            updated_at: now,
            variants: vec![VariantRec {
                id: VARIANT_BASE + index * VARIANTS_PER_PRODUCT,
                inventory_item_id: INVENTORY_ITEM_BASE + index * VARIANTS_PER_PRODUCT,
                position: 1,
                title: "Default Title".to_string(),
                sku: detail::sku(index, 0),
                price_cents,
                compare_at_cents: None,
                inventory: vec![0; self.locations.len()],
                created_at: now,
                updated_at: now,
            }],
        };
        let id = p.id;
        self.products.push(p);
        id
    }

    pub fn update_product(
        &mut self,
        id: u64,
        now: Ts,
        change: impl FnOnce(&mut ProductRec),
    ) -> bool {
        let Ok(i) = self.products.binary_search_by_key(&id, |p| p.id) else {
            return false;
        };
        let p = &mut self.products[i];
        change(p);
        p.updated_at = p.updated_at.max(now);
        for v in &mut p.variants {
            v.updated_at = p.updated_at;
        }
        true
    }

    pub fn delete_product(&mut self, id: u64) -> bool {
        let Ok(i) = self.products.binary_search_by_key(&id, |p| p.id) else {
            return false;
        };
        self.products.remove(i);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::generate::{GenerateOptions, generate};

    fn opts(seed: u64) -> GenerateOptions {
        GenerateOptions {
            seed,
            shop_name: "Demo".into(),
            domain: "demo.myshopify.com".into(),
            orders: 2_000,
            products: 50,
            history_days: 365,
            history_end: 1_796_000_000,
        }
    }

    #[test]
    fn same_seed_same_store() {
        let (a, b) = (generate(&opts(42)), generate(&opts(42)));
        let render = |s: &super::StoreData| {
            s.orders
                .iter()
                .map(|o| format!("{:?}|{:?}", o, s.detail(o)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(render(&a), render(&b));
        assert_ne!(render(&a), render(&generate(&opts(43))));
    }

    #[test]
    fn orders_are_found_by_id_before_and_after_deletions() {
        let mut s = generate(&opts(3));
        let ids: Vec<u64> = s.orders.iter().map(|o| o.id).collect();
        assert!(s.delete_order(ids[10]) && s.delete_order(ids[500]));
        assert!(s.order(ids[10]).is_none() && s.order(ids[500]).is_none());
        for id in ids.iter().filter(|i| **i != ids[10] && **i != ids[500]) {
            assert_eq!(s.order(*id).map(|o| o.id), Some(*id));
        }
        assert!(s.order(1).is_none() && s.order(u64::MAX).is_none());
    }

    #[test]
    fn orders_are_varied_and_consistent_in_time() {
        let s = generate(&opts(7));
        assert_eq!(s.orders.len(), 2_000);
        let mut refunded = 0;
        let mut fulfilled = 0;
        for o in &s.orders {
            assert!(o.updated_at >= o.created_at && o.updated_at < 1_796_000_000);
            let d = s.detail(o);
            assert!((1..=10).contains(&d.lines.len()));
            refunded += usize::from(!d.refunds.is_empty());
            fulfilled += usize::from(!d.fulfillments.is_empty());
            for f in &d.fulfillments {
                assert!(
                    f.created_at <= o.updated_at,
                    "fulfilled after the last update"
                );
            }
        }
        assert!(
            refunded > 20 && fulfilled > 1000,
            "refunded {refunded}, fulfilled {fulfilled}"
        );
        assert!(s.orders.iter().any(|o| o.cancelled_at.is_some()));
        assert!(
            s.orders
                .iter()
                .any(|o| o.closed_at.is_some() && o.cancelled_at.is_none())
        );
    }
}
