//! Builds a store from a seed: the same seed and options give the same store,
//! byte for byte. Orders spread over the history span with weekly, yearly and
//! hourly seasonality; their statuses follow from their age (a two-day-old
//! order is rarely delivered, a year-old one is usually closed).

use super::StoreData;
use super::detail::{self, event_times};
use super::model::*;
use super::rng::Rng;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub seed: u64,
    pub shop_name: String,
    pub domain: String,
    pub orders: u64,
    pub products: u64,
    pub history_days: u64,
    /// The generated history ends here; pass the same value to get the same store.
    pub history_end: Ts,
}

const FIRST_NAMES: [&str; 16] = [
    "Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Nora", "Omar", "Priya",
    "Kenji", "Sofia", "Mateo", "Amara", "Lena",
];
const LAST_NAMES: [&str; 16] = [
    "Smith",
    "Garcia",
    "Chen",
    "Okafor",
    "Muller",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "Silva",
    "Haddad",
    "Nguyen",
    "Johansson",
    "Dubois",
    "Patel",
    "Brown",
    "Ivanova",
];
pub const CITIES: [(&str, &str, &str, &str); 6] = [
    ("Portland", "Oregon", "OR", "US"),
    ("Austin", "Texas", "TX", "US"),
    ("Toronto", "Ontario", "ON", "CA"),
    ("London", "England", "ENG", "GB"),
    ("Berlin", "Berlin", "BE", "DE"),
    ("Sydney", "New South Wales", "NSW", "AU"),
];
const VENDORS: [&str; 5] = [
    "Northwind",
    "Acme Apparel",
    "Blue Fjord",
    "Sunday Goods",
    "Kettle & Co",
];
const PRODUCT_TYPES: [&str; 4] = ["Apparel", "Accessories", "Footwear", "Home"];
const LOCATIONS: [&str; 3] = ["Main Warehouse", "Downtown Store", "East Coast DC"];
/// Orders per local hour of day (America/New_York), evening-heavy.
const HOUR_WEIGHTS: [u32; 24] = [
    2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 10, 11, 10, 10, 10, 11, 12, 14, 15, 14, 11, 7, 4,
];
const NEW_YORK_OFFSET: i64 = 5 * 3_600;

pub fn generate(opts: &GenerateOptions) -> StoreData {
    let end = opts.history_end;
    let start = end - opts.history_days.max(1) as i64 * 86_400;
    let locations: Vec<LocationRec> = LOCATIONS
        .iter()
        .enumerate()
        .map(|(i, name)| LocationRec {
            id: LOCATION_BASE + i as u64,
            name,
            created_at: start - 86_400 * 30,
        })
        .collect();
    let products = (0..opts.products)
        .map(|i| product(opts.seed, i, start, end, locations.len()))
        .collect();
    let customer_count = (opts.orders / 4).max(1);
    let mut customers: Vec<CustomerRec> = (0..customer_count)
        .map(|i| customer(opts.seed, i, start))
        .collect();
    let times = order_times(opts.seed, opts.orders, start, end);
    let mut orders = Vec::with_capacity(times.len());
    for (index, created_at) in times.into_iter().enumerate() {
        let o = order(opts.seed, index as u64, created_at, end, customer_count);
        if let Some(c) = o.customer.and_then(|c| customers.get_mut(c as usize)) {
            c.orders_count += 1;
            c.updated_at = c.updated_at.max(o.created_at);
        }
        orders.push(o);
    }
    let shop = ShopInfo {
        name: opts.shop_name.clone(),
        domain: opts.domain.clone(),
        currency: Currency::Usd,
        presentment: Currency::ALL.to_vec(),
        timezone: "America/New_York",
        created_at: start - 86_400 * 90,
    };
    let mut store = StoreData::new(opts.seed, shop, orders, customers, products, locations);
    store.fill_customer_spend();
    store
}

/// Creation times, sorted: days drawn by weight, hours by `HOUR_WEIGHTS`.
fn order_times(seed: u64, n: u64, start: Ts, end: Ts) -> Vec<Ts> {
    let days = ((end - start) / 86_400).max(1);
    let mut cumulative = Vec::with_capacity(days as usize);
    let mut total = 0.0;
    for d in 0..days {
        let day_start = start + d * 86_400;
        total += day_weight(day_start, d as f64 / days as f64);
        cumulative.push(total);
    }
    let hour_total: u32 = HOUR_WEIGHTS.iter().sum();
    let mut r = Rng::derive(seed, 0x71AE);
    let mut out: Vec<Ts> = (0..n)
        .map(|_| {
            let x = r.unit() * total;
            let day = cumulative.partition_point(|c| *c <= x) as i64;
            let mut h = r.below(hour_total as u64) as u32;
            let mut hour = 0;
            while h >= HOUR_WEIGHTS[hour] {
                h -= HOUR_WEIGHTS[hour];
                hour += 1;
            }
            let t = start
                + day * 86_400
                + hour as i64 * 3_600
                + NEW_YORK_OFFSET
                + r.below(3_600) as i64;
            t.min(end - 1)
        })
        .collect();
    out.sort_unstable();
    out
}

/// Weekends and the November–December season sell more; the shop grows over time.
fn day_weight(day_start: Ts, progress: f64) -> f64 {
    let Ok(ts) = jiff::Timestamp::from_second(day_start) else {
        return 1.0;
    };
    let date = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
    let weekday =
        [1.0, 0.95, 0.95, 1.0, 1.1, 1.25, 1.2][date.weekday().to_monday_zero_offset() as usize];
    let season = match (date.month(), date.day()) {
        (11, 24..=30) => 2.5,
        (11, _) | (12, 1..=24) => 1.6,
        (1, _) => 0.8,
        _ => 1.0,
    };
    weekday * season * (0.7 + 0.3 * progress)
}

fn order(seed: u64, index: u64, created_at: Ts, end: Ts, customers: u64) -> OrderRec {
    let order_seed = Rng::derive(seed, 0x0D0D_0000_0000 + index).next_u64();
    let mut r = Rng::new(order_seed);
    let t = event_times(order_seed, created_at);
    let processed_at = if r.chance(2) {
        created_at - r.range(86_400, 30 * 86_400)
    } else {
        created_at
    };
    let cancelled = r.chance(3);
    let mut o = OrderRec {
        id: ORDER_BASE + index,
        index,
        seed: order_seed,
        created_at,
        processed_at,
        updated_at: created_at,
        closed_at: None,
        cancelled_at: None,
        cancel_reason: None,
        customer: (!r.chance(15)).then(|| r.below(customers) as u32),
        presentment: *r.pick(&[
            Currency::Usd,
            Currency::Usd,
            Currency::Usd,
            Currency::Eur,
            Currency::Gbp,
            Currency::Cad,
            Currency::Aud,
        ]),
        financial: FinancialStatus::Paid,
        fulfillment: FulfillmentState::Unfulfilled,
        returns: ReturnState::NoReturn,
        test: r.chance(1),
        edited: r.chance(2),
        tags: if r.chance(30) {
            1 << r.below(TAG_VOCABULARY.len() as u64)
        } else {
            0
        },
        note: None,
    };
    let mut latest = created_at;
    if cancelled {
        let at = (created_at + r.range(600, 2 * 86_400)).min(end - 1);
        o.cancelled_at = Some(at);
        o.closed_at = Some(at);
        o.cancel_reason = Some(*r.pick(CancelReason::ALL));
        o.financial = if r.chance(50) {
            FinancialStatus::Voided
        } else {
            FinancialStatus::Refunded
        };
        latest = at;
    } else {
        o.financial = match r.below(100) {
            0..=2 => FinancialStatus::Pending,
            3..=5 => FinancialStatus::Authorized,
            6 => FinancialStatus::PartiallyPaid,
            _ => FinancialStatus::Paid,
        };
        let paid = o.financial == FinancialStatus::Paid;
        if t.fulfilled < end && paid {
            o.fulfillment = match r.below(100) {
                0..=4 => FulfillmentState::PartiallyFulfilled,
                5..=6 => FulfillmentState::OnHold,
                _ => FulfillmentState::Fulfilled,
            };
            if o.fulfillment != FulfillmentState::OnHold {
                // A second parcel ships an hour after the first (detail.rs).
                latest = t.fulfilled + 3_600;
            }
        }
        if o.fulfillment == FulfillmentState::Fulfilled {
            if t.delivered < end {
                latest = latest.max(t.delivered);
            }
            if t.returned < end && r.chance(5) {
                o.returns = *r.pick(&[
                    ReturnState::ReturnRequested,
                    ReturnState::InProgress,
                    ReturnState::Returned,
                ]);
                latest = latest.max(
                    t.returned
                        + if o.returns == ReturnState::Returned {
                            2 * 86_400
                        } else {
                            3_600
                        },
                );
            }
            if t.refunded < end && r.chance(8) {
                o.financial = if r.chance(60) {
                    FinancialStatus::PartiallyRefunded
                } else {
                    FinancialStatus::Refunded
                };
                latest = latest.max(t.refunded);
            }
            let close_at = t.delivered + r.range(86_400, 20 * 86_400);
            if close_at < end && r.chance(70) {
                o.closed_at = Some(close_at);
                latest = latest.max(close_at);
            }
        }
    }
    o.updated_at = (latest + r.range(0, 600)).min(end - 1).max(created_at);
    o
}

fn customer(seed: u64, index: u64, start: Ts) -> CustomerRec {
    let mut r = Rng::derive(seed, 0xC057_0000_0000 + index);
    let created_at = start - r.range(0, 365 * 86_400);
    CustomerRec {
        id: CUSTOMER_BASE + index,
        first_name: r.pick_str(&FIRST_NAMES),
        last_name: r.pick_str(&LAST_NAMES),
        city: r.below(CITIES.len() as u64) as usize,
        seed: r.next_u64(),
        created_at,
        updated_at: created_at,
        orders_count: 0,
        spent_cents: 0,
    }
}

fn product(seed: u64, index: u64, start: Ts, end: Ts, locations: usize) -> ProductRec {
    let mut r = Rng::derive(seed, 0x9A0D_0000_0000 + index);
    let created_at = start - r.range(0, 180 * 86_400);
    let updated_at = created_at + r.range(0, (end - created_at).max(1));
    let title = detail::product_title(seed, index);
    let id = PRODUCT_BASE + index;
    let variants = (0..detail::variant_count(seed, index))
        .map(|p| {
            let price_cents = detail::variant_price_cents(seed, index, p);
            VariantRec {
                id: VARIANT_BASE + index * VARIANTS_PER_PRODUCT + p,
                inventory_item_id: INVENTORY_ITEM_BASE + index * VARIANTS_PER_PRODUCT + p,
                position: p as u32 + 1,
                title: detail::VARIANT_TITLES[p as usize].to_string(),
                sku: detail::sku(index, p),
                price_cents,
                compare_at_cents: r.chance(20).then_some(price_cents * 5 / 4),
                inventory: (0..locations).map(|_| r.range(-2, 150) as i32).collect(),
                created_at,
                updated_at,
            }
        })
        .collect();
    ProductRec {
        id,
        index,
        handle: title.to_lowercase().replace(' ', "-"),
        title,
        vendor: r.pick_str(&VENDORS),
        product_type: r.pick_str(&PRODUCT_TYPES),
        status: match r.below(20) {
            0..=1 => ProductStatus::Draft,
            2 => ProductStatus::Archived,
            _ => ProductStatus::Active,
        },
        tags: if r.chance(40) {
            vec!["featured".to_string()]
        } else {
            vec![]
        },
        created_at,
        updated_at,
        variants,
    }
}
