//! The root connections: `orders`, `products`, `productVariants`, `customers`,
//! with `sortKey`, `reverse` and `query` (reference §4.3, §4.9, §5). Orders
//! sorted by a timestamp seek through the store's `(value, id)` indexes, and a
//! range search on the sort field narrows the seek, so an incremental window
//! costs its page, not the store. What each record offers the search syntax
//! is in `searchable.rs`.

use std::ops::Bound;

use super::searchable::{CustomerSearch, OrderSearch, ProductSearch, VariantSearch};
use super::{Ctx, Obj, OrderRef, Result};
use crate::simulator::data::model::*;
use crate::simulator::graphql::connection::{PageArgs, paginate};
use crate::simulator::graphql::execute::Resolved;
use crate::simulator::graphql::plan::PlanField;
use crate::simulator::scopes;
use crate::simulator::search::{self, Query};

fn lower_max(a: Bound<(i64, u64)>, b: Bound<(i64, u64)>) -> Bound<(i64, u64)> {
    match (a, b) {
        (Bound::Unbounded, x) | (x, Bound::Unbounded) => x,
        (Bound::Included(x), Bound::Included(y)) => Bound::Included(x.max(y)),
        (Bound::Excluded(x), Bound::Included(y)) | (Bound::Included(y), Bound::Excluded(x)) => {
            if x >= y {
                Bound::Excluded(x)
            } else {
                Bound::Included(y)
            }
        }
        (Bound::Excluded(x), Bound::Excluded(y)) => Bound::Excluded(x.max(y)),
    }
}

fn upper_min(a: Bound<(i64, u64)>, b: Bound<(i64, u64)>) -> Bound<(i64, u64)> {
    match (a, b) {
        (Bound::Unbounded, x) | (x, Bound::Unbounded) => x,
        (Bound::Excluded(x), Bound::Excluded(y)) => Bound::Excluded(x.min(y)),
        (Bound::Included(x), Bound::Excluded(y)) | (Bound::Excluded(y), Bound::Included(x)) => {
            if y <= x {
                Bound::Excluded(y)
            } else {
                Bound::Included(x)
            }
        }
        (Bound::Included(x), Bound::Included(y)) => Bound::Included(x.min(y)),
    }
}

fn in_bounds(k: (i64, u64), lo: Bound<(i64, u64)>, hi: Bound<(i64, u64)>) -> bool {
    let above = match lo {
        Bound::Included(b) => k >= b,
        Bound::Excluded(b) => k > b,
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Included(b) => k <= b,
        Bound::Excluded(b) => k < b,
        Bound::Unbounded => true,
    };
    above && below
}

/// `BTreeSet::range` panics on an empty or inverted range; this checks first.
fn valid_range(lo: Bound<(i64, u64)>, hi: Bound<(i64, u64)>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a <= b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b)) => a < b,
        _ => true,
    }
}

pub fn orders<'a>(ctx: &Ctx<'a>, f: &PlanField) -> Result<'a> {
    let sort = f.arg_str("sortKey").unwrap_or("PROCESSED_AT");
    let query = search::parse(f.arg_str("query").unwrap_or(""));
    let now = ctx.now;
    let scopes = &ctx.grants.scopes;
    let data = ctx.data;
    let accept = |o: &'a OrderRec| {
        (scopes::order_visible(scopes, o.created_at, now)
            && query.matches(&OrderSearch { ctx, o }, now))
        .then(|| Obj::Order(OrderRef::new(o)))
    };
    let timed = match sort {
        "PROCESSED_AT" => Some((&data.index.processed, "processed_at")),
        "CREATED_AT" => Some((&data.index.created, "created_at")),
        "UPDATED_AT" => Some((&data.index.updated, "updated_at")),
        _ => None,
    };
    if let Some((set, field)) = timed {
        let args = PageArgs::from_field(f, 1000, ctx.bulk)?;
        let (lo, hi) = args.bounds();
        let (tlo, thi) = query.time_bounds(field, now);
        let lo = lower_max(
            lo,
            tlo.map_or(Bound::Unbounded, |t| Bound::Included((t, 0))),
        );
        let hi = upper_min(
            hi,
            thi.map_or(Bound::Unbounded, |t| Bound::Excluded((t, 0))),
        );
        if !valid_range(lo, hi) {
            return Ok(Resolved::Connection(paginate(
                &args,
                1000,
                std::iter::empty(),
                |_, _| None::<Obj>,
            )));
        }
        let candidates = set.range((lo, hi)).map(|&(v, id)| (v, id));
        let page = paginate(&args, 1000, candidates, |_, id| {
            data.order(id).and_then(accept)
        });
        return Ok(Resolved::Connection(page));
    }
    let args = PageArgs::from_field(f, 1, ctx.bulk)?;
    let (lo, hi) = args.bounds();
    if matches!(sort, "ID" | "ORDER_NUMBER" | "RELEVANCE") {
        let start = data
            .orders
            .partition_point(|o| !in_bounds((o.id as i64, o.id), lo, Bound::Unbounded));
        let end = data
            .orders
            .partition_point(|o| in_bounds((o.id as i64, o.id), Bound::Unbounded, hi))
            .max(start);
        let candidates = data.orders[start..end].iter().map(|o| (o.id as i64, o.id));
        let page = paginate(&args, 1, candidates, |_, id| {
            data.order(id).and_then(accept)
        });
        return Ok(Resolved::Connection(page));
    }
    // Keys with no index are computed for every order and sorted: correct, not fast.
    let mut keyed: Vec<(i64, u64)> = data
        .orders
        .iter()
        .map(|o| {
            let key = match sort {
                "TOTAL_PRICE" | "CURRENT_TOTAL_PRICE" => data.detail(o).total_cents,
                "TOTAL_ITEMS_QUANTITY" => data.detail(o).lines.iter().map(|l| l.quantity).sum(),
                "FINANCIAL_STATUS" => o.financial as i64,
                "FULFILLMENT_STATUS" => o.fulfillment as i64,
                "CUSTOMER_NAME" => o
                    .customer
                    .and_then(|c| data.customers.get(c as usize))
                    .map_or(i64::MAX, name_rank),
                "DESTINATION" => o
                    .customer
                    .and_then(|c| data.customers.get(c as usize))
                    .map_or(0, |c| c.city as i64),
                _ => 0,
            };
            (key, o.id)
        })
        .filter(|k| in_bounds(*k, lo, hi))
        .collect();
    keyed.sort_unstable();
    let page = paginate(&args, 1, keyed.into_iter(), |_, id| {
        data.order(id).and_then(accept)
    });
    Ok(Resolved::Connection(page))
}

/// Orders names by their first letters, so a customer-name sort is stable in an i64.
fn name_rank(c: &CustomerRec) -> i64 {
    let s = format!("{}{}", c.last_name, c.first_name).to_lowercase();
    let mut bytes = [0u8; 7];
    for (b, c) in bytes.iter_mut().zip(s.bytes()) {
        *b = c;
    }
    bytes.iter().fold(0i64, |acc, b| (acc << 8) | *b as i64)
}

/// Pages a small collection already reduced to `(sort key, id)` pairs.
fn sorted_page<'a>(
    ctx: &Ctx<'a>,
    f: &PlanField,
    scale: i64,
    mut keyed: Vec<(i64, u64)>,
    load: impl Fn(u64) -> Option<Obj<'a>>,
) -> Result<'a> {
    let args = PageArgs::from_field(f, scale, ctx.bulk)?;
    let (lo, hi) = args.bounds();
    keyed.retain(|k| in_bounds(*k, lo, hi));
    keyed.sort_unstable();
    Ok(Resolved::Connection(paginate(
        &args,
        scale,
        keyed.into_iter(),
        |_, id| load(id),
    )))
}

pub fn products<'a>(ctx: &Ctx<'a>, f: &PlanField) -> Result<'a> {
    let query = search::parse(f.arg_str("query").unwrap_or(""));
    let sort = f.arg_str("sortKey").unwrap_or("ID");
    let data = ctx.data;
    let matching: Vec<&ProductRec> = data
        .products
        .iter()
        .filter(|p| query.matches(&ProductSearch(p), ctx.now))
        .collect();
    let (scale, keyed) = product_keys(sort, &matching);
    sorted_page(ctx, f, scale, keyed, |id| {
        data.product(id).map(Obj::Product)
    })
}

fn product_keys(sort: &str, products: &[&ProductRec]) -> (i64, Vec<(i64, u64)>) {
    let by_text = |text: &dyn Fn(&ProductRec) -> String| {
        let mut v: Vec<(String, u64)> = products.iter().map(|p| (text(p), p.id)).collect();
        v.sort();
        v.into_iter()
            .enumerate()
            .map(|(rank, (_, id))| (rank as i64, id))
            .collect()
    };
    match sort {
        "UPDATED_AT" => (
            1000,
            products.iter().map(|p| (p.updated_at, p.id)).collect(),
        ),
        "CREATED_AT" | "PUBLISHED_AT" => (
            1000,
            products.iter().map(|p| (p.created_at, p.id)).collect(),
        ),
        "TITLE" => (1, by_text(&|p| p.title.to_lowercase())),
        "VENDOR" => (1, by_text(&|p| p.vendor.to_string())),
        "PRODUCT_TYPE" => (1, by_text(&|p| p.product_type.to_string())),
        "INVENTORY_TOTAL" => (
            1,
            products
                .iter()
                .map(|p| {
                    (
                        p.variants
                            .iter()
                            .flat_map(|v| &v.inventory)
                            .map(|q| *q as i64)
                            .sum(),
                        p.id,
                    )
                })
                .collect(),
        ),
        _ => (1, products.iter().map(|p| (p.id as i64, p.id)).collect()),
    }
}

pub fn product_variants<'a>(ctx: &Ctx<'a>, f: &PlanField) -> Result<'a> {
    let query = search::parse(f.arg_str("query").unwrap_or(""));
    let sort = f.arg_str("sortKey").unwrap_or("ID");
    let data = ctx.data;
    let mut keyed = Vec::new();
    for p in &data.products {
        for v in &p.variants {
            let s = VariantSearch(p, v);
            if query.matches(&s, ctx.now) {
                let key = match sort {
                    "POSITION" => v.position as i64,
                    "INVENTORY_QUANTITY" => v.inventory.iter().map(|q| *q as i64).sum(),
                    _ => v.id as i64,
                };
                keyed.push((key, v.id));
            }
        }
    }
    sorted_page(ctx, f, 1, keyed, |id| {
        data.variant(id, false).map(|(p, i)| Obj::Variant(p, i))
    })
}

pub fn customers<'a>(ctx: &Ctx<'a>, f: &PlanField) -> Result<'a> {
    let query = search::parse(f.arg_str("query").unwrap_or(""));
    let sort = f.arg_str("sortKey").unwrap_or("ID");
    let data = ctx.data;
    let keyed: Vec<(i64, u64)> = data
        .customers
        .iter()
        .filter(|c| query.matches(&CustomerSearch(c), ctx.now))
        .map(|c| match sort {
            "UPDATED_AT" => (c.updated_at, c.id),
            "CREATED_AT" => (c.created_at, c.id),
            "NAME" => (name_rank(c), c.id),
            _ => (c.id as i64, c.id),
        })
        .collect();
    let scale = if matches!(sort, "UPDATED_AT" | "CREATED_AT") {
        1000
    } else {
        1
    };
    sorted_page(ctx, f, scale, keyed, |id| {
        data.customer(id).map(Obj::Customer)
    })
}

/// `ordersCount(query:, limit:)`: exact up to the limit, then `AT_LEAST` (reference §2.8).
pub fn orders_count<'a>(ctx: &Ctx<'a>, f: &PlanField) -> (u64, bool) {
    let query: Query = search::parse(f.arg_str("query").unwrap_or(""));
    let limit = f.arg_i64("limit").map_or(u64::MAX, |l| l.max(0) as u64);
    let scopes = &ctx.grants.scopes;
    let mut n = 0u64;
    for o in &ctx.data.orders {
        if scopes::order_visible(scopes, o.created_at, ctx.now)
            && query.matches(&OrderSearch { ctx, o }, ctx.now)
        {
            n += 1;
            if n > limit {
                return (limit, false);
            }
        }
    }
    (n, true)
}
