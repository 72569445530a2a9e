//! An order's derived parts: line items, money, fulfillments, refunds, returns.
//!
//! Everything here is a pure function of the order record and the store seed,
//! so the same order always has the same line items, and a later change to the
//! catalog (a product price, a deleted product) does not rewrite history.

use super::model::*;
use super::rng::Rng;

/// Everything about one order that is not stored in its record.
#[derive(Debug, Clone)]
pub struct OrderDetail {
    pub lines: Vec<LineDetail>,
    pub fulfillments: Vec<FulfillmentDetail>,
    pub refunds: Vec<RefundDetail>,
    pub returns: Vec<ReturnDetail>,
    pub discount_code: Option<&'static str>,
    pub shipping_cents: i64,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub refunded_cents: i64,
    pub source_name: &'static str,
    pub guest_seed: u64,
}

#[derive(Debug, Clone)]
pub struct LineDetail {
    pub id: u64,
    pub product_index: u64,
    pub variant_position: u64,
    pub quantity: i64,
    pub unit_cents: i64,
    pub discount_cents: i64,
    pub tax_cents: i64,
    pub fulfilled: i64,
    pub refunded: i64,
    pub gift_card: bool,
}

impl LineDetail {
    pub fn total_cents(&self) -> i64 {
        self.unit_cents * self.quantity
    }
}

#[derive(Debug, Clone)]
pub struct FulfillmentDetail {
    pub id: u64,
    pub index: usize,
    pub created_at: Ts,
    pub delivered_at: Option<Ts>,
    pub lines: Vec<(usize, i64)>,
    pub tracking_number: String,
    pub company: &'static str,
}

#[derive(Debug, Clone)]
pub struct RefundDetail {
    pub id: u64,
    pub created_at: Ts,
    pub note: Option<&'static str>,
    /// (line index, quantity, restock type GraphQL value)
    pub lines: Vec<(usize, i64, &'static str)>,
    pub amount_cents: i64,
    pub return_index: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct ReturnDetail {
    pub id: u64,
    pub index: usize,
    pub status: &'static str,
    pub created_at: Ts,
    pub approved_at: Option<Ts>,
    pub closed_at: Option<Ts>,
    pub lines: Vec<(usize, i64)>,
}

pub const PRODUCT_NOUNS: [&str; 12] = [
    "Hoodie",
    "T-Shirt",
    "Sneakers",
    "Backpack",
    "Mug",
    "Cap",
    "Jacket",
    "Scarf",
    "Socks",
    "Water Bottle",
    "Notebook",
    "Sunglasses",
];
pub const PRODUCT_ADJECTIVES: [&str; 10] = [
    "Classic", "Organic", "Vintage", "Everyday", "Alpine", "Coastal", "Urban", "Recycled",
    "Merino", "Limited",
];
pub const VARIANT_TITLES: [&str; 5] = ["S", "M", "L", "XL", "XXL"];
const CARRIERS: [&str; 4] = ["UPS", "FedEx", "USPS", "DHL Express"];
const DISCOUNT_CODES: [&str; 4] = ["WELCOME10", "SPRING10", "VIP10", "BFCM10"];
const SOURCES: [&str; 4] = ["web", "web", "pos", "shopify_draft_order"];
const REFUND_NOTES: [&str; 3] = ["Damaged in transit", "Customer changed mind", "Wrong size"];

/// Number of variants of a catalog product (1–5).
pub fn variant_count(store_seed: u64, product_index: u64) -> u64 {
    1 + Rng::derive(store_seed, 0x5052_0000 + product_index).below(5)
}

/// A product's title, a pure function of its catalog position.
pub fn product_title(store_seed: u64, product_index: u64) -> String {
    let mut r = Rng::derive(store_seed, 0x5052_0000 + product_index);
    r.next_u64();
    format!(
        "{} {} {}",
        r.pick(&PRODUCT_ADJECTIVES),
        r.pick(&PRODUCT_NOUNS),
        product_index + 1
    )
}

/// The launch price of a variant, in shop-currency cents.
pub fn variant_price_cents(store_seed: u64, product_index: u64, position: u64) -> i64 {
    let mut r = Rng::derive(store_seed, 0x5052_0000 + product_index);
    r.next_u64();
    r.next_u64();
    let base = [1500, 1999, 2500, 3495, 4999, 7900, 12000][r.below(7) as usize];
    base + position as i64 * 200
}

pub fn sku(product_index: u64, position: u64) -> String {
    format!(
        "SKU-{:05}-{}",
        product_index + 1,
        VARIANT_TITLES[(position as usize) % VARIANT_TITLES.len()]
    )
}

/// When things happened to an order, shared by the generator (which sets
/// `updatedAt` to the latest of them) and the derivation below.
#[derive(Debug, Clone, Copy)]
pub struct EventTimes {
    pub fulfilled: Ts,
    pub delivered: Ts,
    pub refunded: Ts,
    pub returned: Ts,
}

pub fn event_times(order_seed: u64, created_at: Ts) -> EventTimes {
    let mut r = Rng::derive(order_seed, 0xE7E7);
    let fulfilled = created_at + r.range(3_600, 4 * 86_400);
    let delivered = fulfilled + r.range(86_400, 5 * 86_400);
    let refunded = delivered + r.range(3_600, 10 * 86_400);
    let returned = delivered + r.range(3_600, 7 * 86_400);
    EventTimes {
        fulfilled,
        delivered,
        refunded,
        returned,
    }
}

/// Derives an order's parts; `product_count` is the size of the original catalog.
pub fn derive(order: &OrderRec, store_seed: u64, product_count: u64) -> OrderDetail {
    let mut r = Rng::derive(order.seed, 0xDE7A);
    let times = event_times(order.seed, order.created_at);
    let line_count = 1 + [0, 0, 0, 1, 1, 2, 3, 4, 6, 9][r.below(10) as usize];
    let discount_code = r.chance(20).then(|| *r.pick(&DISCOUNT_CODES));
    let mut lines = Vec::with_capacity(line_count);
    for k in 0..line_count as u64 {
        let product_index = r.below(product_count.max(1));
        let variant_position = r.below(variant_count(store_seed, product_index));
        let quantity = 1 + [0, 0, 0, 0, 1, 1, 2][r.below(7) as usize];
        let unit_cents = variant_price_cents(store_seed, product_index, variant_position);
        let gross = unit_cents * quantity;
        let discount_cents = if discount_code.is_some() {
            gross / 10
        } else {
            0
        };
        lines.push(LineDetail {
            id: LINE_ITEM_BASE + order.index * LINES_PER_ORDER + k,
            product_index,
            variant_position,
            quantity,
            unit_cents,
            discount_cents,
            tax_cents: (gross - discount_cents) * 8 / 100,
            fulfilled: 0,
            refunded: 0,
            gift_card: r.chance(1),
        });
    }
    let shipping_cents = [0, 599, 999][r.below(3) as usize];
    let fulfillments = fulfil(order, &mut lines, &times, &mut r);
    let returns = returns_of(order, &lines, &times);
    let refunds = refund(order, &mut lines, &times, &returns, &mut r);
    let subtotal_cents: i64 = lines
        .iter()
        .map(|l| l.total_cents() - l.discount_cents)
        .sum();
    let discount_cents: i64 = lines.iter().map(|l| l.discount_cents).sum();
    let tax_cents: i64 = lines.iter().map(|l| l.tax_cents).sum();
    let refunded_cents = refunds.iter().map(|f| f.amount_cents).sum();
    OrderDetail {
        discount_code,
        shipping_cents,
        subtotal_cents,
        discount_cents,
        tax_cents,
        total_cents: subtotal_cents + tax_cents + shipping_cents,
        refunded_cents,
        source_name: r.pick_str(&SOURCES),
        guest_seed: r.next_u64(),
        lines,
        fulfillments,
        refunds,
        returns,
    }
}

fn fulfil(
    order: &OrderRec,
    lines: &mut [LineDetail],
    t: &EventTimes,
    r: &mut Rng,
) -> Vec<FulfillmentDetail> {
    let upto = match order.fulfillment {
        FulfillmentState::Fulfilled => lines.len(),
        FulfillmentState::PartiallyFulfilled => lines
            .len()
            .div_ceil(2)
            .min(lines.len().saturating_sub(1))
            .max(1),
        _ => 0,
    };
    if upto == 0 || order.cancelled_at.is_some() {
        return vec![];
    }
    // Large orders ship in two parcels.
    let split = if upto > 3 { upto / 2 } else { upto };
    let mut out = Vec::new();
    for (n, range) in [(0, 0..split), (1, split..upto)] {
        if range.is_empty() {
            continue;
        }
        let mut taken = Vec::new();
        for i in range {
            lines[i].fulfilled = lines[i].quantity;
            taken.push((i, lines[i].quantity));
        }
        out.push(FulfillmentDetail {
            id: FULFILLMENT_BASE + order.index * EVENTS_PER_ORDER + n,
            index: n as usize,
            created_at: t.fulfilled + n as i64 * 3_600,
            delivered_at: (t.delivered <= order.updated_at).then_some(t.delivered),
            lines: taken,
            tracking_number: format!("1Z{:016}", r.below(10_000_000_000_000_000)),
            company: r.pick_str(&CARRIERS),
        });
    }
    out
}

fn returns_of(order: &OrderRec, lines: &[LineDetail], t: &EventTimes) -> Vec<ReturnDetail> {
    let status = match order.returns {
        ReturnState::NoReturn => return vec![],
        ReturnState::ReturnRequested => "REQUESTED",
        ReturnState::InProgress => "OPEN",
        ReturnState::Returned => "CLOSED",
    };
    let approved_at = (status != "REQUESTED").then_some(t.returned + 3_600);
    vec![ReturnDetail {
        id: RETURN_BASE + order.index * EVENTS_PER_ORDER,
        index: 0,
        status,
        created_at: t.returned,
        approved_at,
        closed_at: (status == "CLOSED").then_some(t.returned + 2 * 86_400),
        lines: vec![(0, 1.min(lines.first().map_or(0, |l| l.quantity)))],
    }]
}

fn refund(
    order: &OrderRec,
    lines: &mut [LineDetail],
    t: &EventTimes,
    returns: &[ReturnDetail],
    r: &mut Rng,
) -> Vec<RefundDetail> {
    let cancelled = order.cancelled_at.is_some();
    let mut refunds = Vec::new();
    let mut push = |lines: &mut [LineDetail],
                    which: Vec<(usize, i64)>,
                    restock: &'static str,
                    at: Ts,
                    ret: Option<usize>| {
        let mut amount = 0;
        let mut refund_lines = Vec::new();
        for (i, qty) in which {
            let l = &mut lines[i];
            l.refunded += qty;
            let net_unit = (l.total_cents() - l.discount_cents + l.tax_cents) / l.quantity.max(1);
            amount += net_unit * qty;
            refund_lines.push((i, qty, restock));
        }
        let n = refunds.len() as u64;
        refunds.push(RefundDetail {
            id: REFUND_BASE + order.index * EVENTS_PER_ORDER + n,
            created_at: at,
            note: Some(REFUND_NOTES[(order.seed % 3) as usize]),
            lines: refund_lines,
            amount_cents: amount,
            return_index: ret,
        });
    };
    match order.financial {
        FinancialStatus::Refunded => {
            let all = lines
                .iter()
                .enumerate()
                .map(|(i, l)| (i, l.quantity))
                .collect();
            let restock = if cancelled { "CANCEL" } else { "NO_RESTOCK" };
            let at = order.cancelled_at.unwrap_or(t.refunded);
            push(lines, all, restock, at, None);
        }
        FinancialStatus::PartiallyRefunded if !lines.is_empty() => {
            let i = r.below(lines.len() as u64) as usize;
            push(lines, vec![(i, 1)], "NO_RESTOCK", t.refunded, None);
        }
        _ => {}
    }
    if let Some(ret) = returns.iter().find(|x| x.status == "CLOSED") {
        let remaining: Vec<(usize, i64)> = ret
            .lines
            .iter()
            .filter(|(i, q)| lines[*i].quantity - lines[*i].refunded >= *q && *q > 0)
            .copied()
            .collect();
        if !remaining.is_empty() {
            push(
                lines,
                remaining,
                "RETURN",
                ret.closed_at.unwrap_or(t.returned),
                Some(ret.index),
            );
        }
    }
    refunds
}
