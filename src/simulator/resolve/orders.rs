//! `Order`, `LineItem`, `Fulfillment`, `Refund`, `RefundLineItem`, `Return`
//! and `MailingAddress` (reference §4.4–§4.8).

use std::rc::Rc;

use serde_json::Value;

use super::{Address, Ctx, Obj, OrderRef, Result, gid, not_served, obj, opt_time, time, val};
use crate::simulator::data::generate::CITIES;
use crate::simulator::data::model::*;
use crate::simulator::graphql::connection::{PageArgs, paginate_list};
use crate::simulator::graphql::execute::Resolved;
use crate::simulator::graphql::plan::PlanField;

pub fn order<'a>(ctx: &Ctx<'a>, r: &OrderRef<'a>, f: &PlanField) -> Result<'a> {
    let o = r.rec;
    let cur = o.presentment;
    match f.name.as_str() {
        "id" => val(gid("Order", o.id)),
        "legacyResourceId" => val(o.id.to_string()),
        "name" => val(format!("#{}", o.number())),
        "number" => val(o.number()),
        "createdAt" => time(o.created_at),
        "updatedAt" => time(o.updated_at),
        "processedAt" => time(o.processed_at),
        "closed" => val(o.closed_at.is_some()),
        "closedAt" => opt_time(o.closed_at),
        "cancelledAt" => opt_time(o.cancelled_at),
        "cancelReason" => val(o.cancel_reason.map(|c| c.graphql())),
        "displayFinancialStatus" => val(o.financial.graphql()),
        "displayFulfillmentStatus" => val(o.fulfillment.graphql()),
        "returnStatus" => val(o.returns.graphql()),
        "currencyCode" => val(ctx.data.shop.currency.graphql()),
        "presentmentCurrencyCode" => val(cur.graphql()),
        "tags" => val(o.tag_list()),
        "test" => val(o.test),
        "confirmed" => val(true),
        "fullyPaid" => val(matches!(
            o.financial,
            FinancialStatus::Paid | FinancialStatus::PartiallyRefunded | FinancialStatus::Refunded
        )),
        "unpaid" => val(matches!(
            o.financial,
            FinancialStatus::Pending | FinancialStatus::Authorized
        )),
        "edited" => val(o.edited),
        "note" => val(o.note.as_deref()),
        "poNumber" => val(Value::Null),
        "confirmationNumber" => val(confirmation(o.seed)),
        "customerLocale" => val("en"),
        "taxesIncluded" => val(false),
        "customer" => Ok(o
            .customer
            .and_then(|c| ctx.data.customers.get(c as usize))
            .map_or(Resolved::Null, |c| Resolved::Object(Obj::Customer(c)))),
        "email" => val(contact(ctx, r).0),
        "phone" => val(contact(ctx, r).1),
        "billingAddress" | "shippingAddress" => obj(Obj::Address(Rc::new(address_of(ctx, r)))),
        _ => detailed(ctx, r, f),
    }
}

/// Fields that need the derived detail (money, children).
fn detailed<'a>(ctx: &Ctx<'a>, r: &OrderRef<'a>, f: &PlanField) -> Result<'a> {
    let d = r.detail(ctx.data);
    let cur = r.rec.presentment;
    let remaining = |l: &crate::simulator::data::detail::LineDetail| {
        let left = l.quantity - l.refunded;
        let q = l.quantity.max(1);
        (
            (l.total_cents() - l.discount_cents) * left / q,
            l.tax_cents * left / q,
        )
    };
    let current_sub: i64 = d.lines.iter().map(|l| remaining(l).0).sum();
    let current_tax: i64 = d.lines.iter().map(|l| remaining(l).1).sum();
    match f.name.as_str() {
        "totalPriceSet" => ctx.money_bag(d.total_cents, cur),
        "currentTotalPriceSet" => ctx.money_bag(current_sub + current_tax + d.shipping_cents, cur),
        "subtotalPriceSet" => ctx.money_bag(d.subtotal_cents, cur),
        "currentSubtotalPriceSet" => ctx.money_bag(current_sub, cur),
        "totalTaxSet" => ctx.money_bag(d.tax_cents, cur),
        "currentTotalTaxSet" => ctx.money_bag(current_tax, cur),
        "totalDiscountsSet" | "currentTotalDiscountsSet" => ctx.money_bag(d.discount_cents, cur),
        "totalRefundedSet" => ctx.money_bag(d.refunded_cents, cur),
        "totalShippingPriceSet" => ctx.money_bag(d.shipping_cents, cur),
        "sourceName" => val(d.source_name),
        "discountCodes" => val(d.discount_code.map_or(vec![], |c| vec![c])),
        "subtotalLineItemsQuantity" => val(d.lines.iter().map(|l| l.quantity).sum::<i64>()),
        "currentSubtotalLineItemsQuantity" => {
            val(d.lines.iter().map(|l| l.quantity - l.refunded).sum::<i64>())
        }
        "lineItems" => {
            let args = PageArgs::from_field(f, 1, ctx.bulk)?;
            let ids: Vec<(u64, usize)> =
                d.lines.iter().enumerate().map(|(i, l)| (l.id, i)).collect();
            let page = paginate_list(&args, &ids);
            Ok(Resolved::Connection(map_page(page, |i| {
                Obj::LineItem(r.clone(), i)
            })))
        }
        "returns" => {
            let args = PageArgs::from_field(f, 1, ctx.bulk)?;
            let ids: Vec<(u64, usize)> = d
                .returns
                .iter()
                .enumerate()
                .map(|(i, x)| (x.id, i))
                .collect();
            Ok(Resolved::Connection(map_page(
                paginate_list(&args, &ids),
                |i| Obj::Return(r.clone(), i),
            )))
        }
        "fulfillments" => {
            let n = limit(f, d.fulfillments.len());
            Ok(Resolved::List(
                (0..n).map(|i| Obj::Fulfillment(r.clone(), i)).collect(),
            ))
        }
        "refunds" => {
            let n = limit(f, d.refunds.len());
            Ok(Resolved::List(
                (0..n).map(|i| Obj::Refund(r.clone(), i)).collect(),
            ))
        }
        other => Err(not_served("Order", other)),
    }
}

fn limit(f: &PlanField, len: usize) -> usize {
    f.arg_i64("first")
        .map_or(len, |n| (n.max(0) as usize).min(len))
}

fn map_page<'a, T>(
    page: crate::simulator::graphql::connection::Page<T>,
    f: impl Fn(T) -> Obj<'a>,
) -> crate::simulator::graphql::connection::Page<Obj<'a>> {
    crate::simulator::graphql::connection::Page {
        items: page.items.into_iter().map(|(t, c)| (f(t), c)).collect(),
        has_next: page.has_next,
        has_previous: page.has_previous,
    }
}

fn confirmation(seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..9)
        .map(|i| ALPHABET[((seed >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// The order's email and phone: the customer's, else the guest's.
fn contact(ctx: &Ctx<'_>, r: &OrderRef<'_>) -> (String, String) {
    match r
        .rec
        .customer
        .and_then(|c| ctx.data.customers.get(c as usize))
    {
        Some(c) => (c.email(), c.phone()),
        None => {
            let s = r.detail(ctx.data).guest_seed;
            (
                format!("guest{}@example.net", s % 100_000),
                format!("+1555{:07}", s % 10_000_000),
            )
        }
    }
}

pub fn customer_address(c: &CustomerRec) -> Address {
    Address {
        id: c.id,
        first_name: c.first_name,
        last_name: c.last_name,
        street_number: 1 + c.seed % 900,
        city: c.city,
        zip: format!("{:05}", c.seed % 100_000),
        phone: c.phone(),
    }
}

fn address_of(ctx: &Ctx<'_>, r: &OrderRef<'_>) -> Address {
    match r
        .rec
        .customer
        .and_then(|c| ctx.data.customers.get(c as usize))
    {
        Some(c) => customer_address(c),
        None => {
            let s = r.detail(ctx.data).guest_seed;
            Address {
                id: 9_000_000_000 + r.rec.index,
                first_name: "Guest",
                last_name: "Buyer",
                street_number: 1 + s % 900,
                city: (s % CITIES.len() as u64) as usize,
                zip: format!("{:05}", s % 100_000),
                phone: format!("+1555{:07}", s % 10_000_000),
            }
        }
    }
}

pub fn address<'a>(a: &Address, name: &str) -> Result<'a> {
    let (city, province, code, country) = CITIES[a.city % CITIES.len()];
    match name {
        "id" => val(gid("MailingAddress", a.id)),
        "address1" => val(format!("{} Market Street", a.street_number)),
        "address2" => val(Value::Null),
        "city" => val(city),
        "province" => val(province),
        "provinceCode" => val(code),
        "country" => val(match country {
            "US" => "United States",
            "CA" => "Canada",
            "GB" => "United Kingdom",
            "DE" => "Germany",
            _ => "Australia",
        }),
        "countryCodeV2" => val(country),
        "zip" => val(a.zip.clone()),
        "firstName" => val(a.first_name),
        "lastName" => val(a.last_name),
        "name" => val(format!("{} {}", a.first_name, a.last_name)),
        "company" => val(Value::Null),
        "phone" => val(a.phone.clone()),
        other => Err(not_served("MailingAddress", other)),
    }
}

pub fn line_item<'a>(ctx: &Ctx<'a>, r: &OrderRef<'a>, i: usize, f: &PlanField) -> Result<'a> {
    let d = r.detail(ctx.data);
    let Some(l) = d.lines.get(i) else {
        return Ok(Resolved::Null);
    };
    let cur = r.rec.presentment;
    let store_seed = ctx.data.seed;
    let product = ctx.data.product_by_index(l.product_index);
    let variant_title =
        crate::simulator::data::detail::VARIANT_TITLES[l.variant_position as usize % 5];
    // Only two fields print the title; building it for every field was a
    // tenth of a bulk job's time.
    let title = || crate::simulator::data::detail::product_title(store_seed, l.product_index);
    let unit_after = (l.total_cents() - l.discount_cents) / l.quantity.max(1);
    match f.name.as_str() {
        "id" => val(gid("LineItem", l.id)),
        "sku" => val(crate::simulator::data::detail::sku(
            l.product_index,
            l.variant_position,
        )),
        "quantity" => val(l.quantity),
        "currentQuantity" | "refundableQuantity" => val(l.quantity - l.refunded),
        "title" => val(title()),
        "name" => val(format!("{} - {variant_title}", title())),
        "variantTitle" => val(variant_title),
        "vendor" => val(product.map_or(Value::Null, |p| Value::String(p.vendor.to_string()))),
        "variant" => Ok(product
            .and_then(|p| {
                p.variants
                    .iter()
                    .position(|v| v.position as u64 == l.variant_position + 1)
                    .map(|v| (p, v))
            })
            .map_or(Resolved::Null, |(p, v)| {
                Resolved::Object(Obj::Variant(p, v))
            })),
        "product" => Ok(product.map_or(Resolved::Null, |p| Resolved::Object(Obj::Product(p)))),
        "originalUnitPriceSet" => ctx.money_bag(l.unit_cents, cur),
        "discountedUnitPriceSet" | "discountedUnitPriceAfterAllDiscountsSet" => {
            ctx.money_bag(unit_after, cur)
        }
        "originalTotalSet" => ctx.money_bag(l.total_cents(), cur),
        "discountedTotalSet" => ctx.money_bag(l.total_cents() - l.discount_cents, cur),
        "totalDiscountSet" => ctx.money_bag(l.discount_cents, cur),
        "unfulfilledQuantity" => val((l.quantity - l.fulfilled - l.refunded).max(0)),
        "nonFulfillableQuantity" => val(if r.rec.cancelled_at.is_some() {
            l.quantity - l.fulfilled
        } else {
            0
        }),
        "requiresShipping" => val(!l.gift_card),
        "taxable" => val(true),
        "isGiftCard" => val(l.gift_card),
        "restockable" => val(l.quantity > l.refunded),
        other => Err(not_served("LineItem", other)),
    }
}

pub fn fulfillment<'a>(ctx: &Ctx<'a>, r: &OrderRef<'a>, i: usize, name: &str) -> Result<'a> {
    let d = r.detail(ctx.data);
    let Some(x) = d.fulfillments.get(i) else {
        return Ok(Resolved::Null);
    };
    match name {
        "id" => val(gid("Fulfillment", x.id)),
        "legacyResourceId" => val(x.id.to_string()),
        "name" => val(format!("#{}-F{}", r.rec.number(), i + 1)),
        "status" => val("SUCCESS"),
        "displayStatus" => val(if x.delivered_at.is_some() {
            "DELIVERED"
        } else {
            "IN_TRANSIT"
        }),
        "createdAt" => time(x.created_at),
        "updatedAt" => time(x.delivered_at.unwrap_or(x.created_at)),
        "deliveredAt" => opt_time(x.delivered_at),
        "inTransitAt" => time(x.created_at + 3_600),
        "estimatedDeliveryAt" => time(x.created_at + 3 * 86_400),
        "trackingInfo" => Ok(Resolved::List(vec![Obj::Tracking(r.clone(), i)])),
        "requiresShipping" => val(true),
        "totalQuantity" => val(x.lines.iter().map(|(_, q)| q).sum::<i64>()),
        "location" => Ok(ctx
            .data
            .locations
            .first()
            .map_or(Resolved::Null, |l| Resolved::Object(Obj::Location(l)))),
        "order" => obj(Obj::Order(r.clone())),
        other => Err(not_served("Fulfillment", other)),
    }
}

pub fn tracking<'a>(ctx: &Ctx<'a>, r: &OrderRef<'a>, i: usize, name: &str) -> Result<'a> {
    let d = r.detail(ctx.data);
    let Some(x) = d.fulfillments.get(i) else {
        return Ok(Resolved::Null);
    };
    match name {
        "company" => val(x.company),
        "number" => val(x.tracking_number.clone()),
        "url" => val(format!(
            "https://tracking.example.com/{}",
            x.tracking_number
        )),
        other => Err(not_served("FulfillmentTrackingInfo", other)),
    }
}

pub fn refund<'a>(ctx: &Ctx<'a>, r: &OrderRef<'a>, i: usize, f: &PlanField) -> Result<'a> {
    let d = r.detail(ctx.data);
    let Some(x) = d.refunds.get(i) else {
        return Ok(Resolved::Null);
    };
    match f.name.as_str() {
        "id" => val(gid("Refund", x.id)),
        "legacyResourceId" => val(x.id.to_string()),
        "createdAt" | "processedAt" | "updatedAt" => time(x.created_at),
        "note" => val(x.note),
        "totalRefundedSet" => ctx.money_bag(x.amount_cents, r.rec.presentment),
        "refundLineItems" => {
            let args = PageArgs::from_field(f, 1, ctx.bulk)?;
            let ids: Vec<(u64, usize)> = (0..x.lines.len())
                .map(|j| (x.id * 16 + j as u64, j))
                .collect();
            Ok(Resolved::Connection(map_page(
                paginate_list(&args, &ids),
                |j| Obj::RefundLine(r.clone(), i, j),
            )))
        }
        "order" => obj(Obj::Order(r.clone())),
        "return" => Ok(x.return_index.map_or(Resolved::Null, |k| {
            Resolved::Object(Obj::Return(r.clone(), k))
        })),
        other => Err(not_served("Refund", other)),
    }
}

pub fn refund_line<'a>(
    ctx: &Ctx<'a>,
    r: &OrderRef<'a>,
    i: usize,
    j: usize,
    name: &str,
) -> Result<'a> {
    let d = r.detail(ctx.data);
    let Some(x) = d.refunds.get(i) else {
        return Ok(Resolved::Null);
    };
    let Some(&(line, qty, restock)) = x.lines.get(j) else {
        return Ok(Resolved::Null);
    };
    let l = &d.lines[line];
    let q = l.quantity.max(1);
    let cur = r.rec.presentment;
    match name {
        "id" => val(gid("RefundLineItem", x.id * 16 + j as u64)),
        "lineItem" => obj(Obj::LineItem(r.clone(), line)),
        "quantity" => val(qty),
        "restockType" => val(restock),
        "restocked" => val(restock != "NO_RESTOCK"),
        "priceSet" => ctx.money_bag(l.unit_cents, cur),
        "subtotalSet" => ctx.money_bag((l.total_cents() - l.discount_cents) * qty / q, cur),
        "totalTaxSet" => ctx.money_bag(l.tax_cents * qty / q, cur),
        other => Err(not_served("RefundLineItem", other)),
    }
}

pub fn return_<'a>(ctx: &Ctx<'a>, r: &OrderRef<'a>, i: usize, name: &str) -> Result<'a> {
    let d = r.detail(ctx.data);
    let Some(x) = d.returns.get(i) else {
        return Ok(Resolved::Null);
    };
    match name {
        "id" => val(gid("Return", x.id)),
        "name" => val(format!("#{}-R{}", r.rec.number(), i + 1)),
        "status" => val(x.status),
        "createdAt" => time(x.created_at),
        "closedAt" => opt_time(x.closed_at),
        "requestApprovedAt" => opt_time(x.approved_at),
        "totalQuantity" => val(x.lines.iter().map(|(_, q)| q).sum::<i64>()),
        "order" => obj(Obj::Order(r.clone())),
        other => Err(not_served("Return", other)),
    }
}
