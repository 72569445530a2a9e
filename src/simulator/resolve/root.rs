//! `QueryRoot` and `Mutation` fields, `shop`, `currentAppInstallation`,
//! `node`/`nodes`, and `BulkOperation` (reference §3, §4.11, §6).

use std::rc::Rc;

use serde_json::Value;

use super::listing;
use super::{Ctx, Obj, OrderRef, Result, gid, not_served, obj, opt_time, parse_gid, time, val};
use crate::simulator::bulk::{self, BulkOp};
use crate::simulator::data::model::*;
use crate::simulator::graphql::errors::{GqlError, access_denied};
use crate::simulator::graphql::execute::Resolved;
use crate::simulator::graphql::plan::PlanField;
use crate::simulator::schema::Schema;
use crate::simulator::scopes;

pub fn query_root<'a>(ctx: &Ctx<'a>, f: &PlanField) -> Result<'a> {
    let id_arg = || f.arg_str("id").unwrap_or("");
    let typed = |expected: &str| -> Result<'a> {
        match parse_gid(id_arg()) {
            Some((ty, _)) if ty == expected => find_node(ctx, id_arg()),
            _ => Ok(Resolved::Null),
        }
    };
    match f.name.as_str() {
        "shop" => obj(Obj::Shop),
        "__schema" | "__type" => super::introspection::root_field(f),
        "orders" => listing::orders(ctx, f),
        "products" => listing::products(ctx, f),
        "productVariants" => listing::product_variants(ctx, f),
        "customers" => listing::customers(ctx, f),
        "ordersCount" => {
            let (n, exact) = listing::orders_count(ctx, f);
            obj(Obj::Count(n, exact))
        }
        "order" => typed("Order"),
        "product" => typed("Product"),
        "productVariant" => typed("ProductVariant"),
        "customer" => typed("Customer"),
        "fulfillment" => typed("Fulfillment"),
        "refund" => typed("Refund"),
        "return" => typed("Return"),
        "inventoryItem" => typed("InventoryItem"),
        "location" => match f.arg_str("id") {
            Some(_) => typed("Location"),
            None => Ok(ctx
                .data
                .locations
                .first()
                .map_or(Resolved::Null, |l| Resolved::Object(Obj::Location(l)))),
        },
        "bulkOperation" => typed("BulkOperation"),
        "node" => find_node(ctx, id_arg()),
        "nodes" => {
            let ids: Vec<String> = f
                .args
                .get("ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if ids.len() > 250 {
                return Err(GqlError::new(
                    "The `ids` argument may hold at most 250 ids.",
                    "BAD_REQUEST",
                ));
            }
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.push(match find_node(ctx, &id)? {
                    Resolved::Object(o) => Some(o),
                    _ => None,
                });
            }
            Ok(Resolved::Nullable(out))
        }
        "currentAppInstallation" => obj(Obj::App),
        "currentBulkOperation" => {
            let ops = ctx.store.bulk_snapshot();
            Ok(ops.into_iter().last().map_or(Resolved::Null, |op| {
                Resolved::Object(Obj::Bulk(Rc::new(op)))
            }))
        }
        "bulkOperations" => bulk::list(ctx, f),
        other => Err(not_served("QueryRoot", other)),
    }
}

pub fn mutation<'a>(ctx: &Ctx<'a>, f: &PlanField) -> Result<'a> {
    match f.name.as_str() {
        "bulkOperationRunQuery" => {
            let (op, errors) =
                bulk::submit(ctx, f.arg_str("query").unwrap_or(""), group_objects(ctx, f));
            obj(Obj::BulkPayload(op.map(Rc::new), Rc::new(errors)))
        }
        "bulkOperationCancel" => {
            let (op, errors) = bulk::cancel(ctx, f.arg_str("id").unwrap_or(""));
            obj(Obj::BulkPayload(op.map(Rc::new), Rc::new(errors)))
        }
        other => Err(not_served("Mutation", other)),
    }
}

/// Grouping was the default before 2026-01 and is opt-in from 2026-01 (reference §3.1).
fn group_objects(ctx: &Ctx<'_>, f: &PlanField) -> bool {
    if f.defaulted.iter().any(|a| a == "groupObjects") {
        ctx.version.served.as_str() < "2026-01"
    } else {
        f.arg_bool("groupObjects").unwrap_or(false)
    }
}

/// Any served object by gid; null when it does not exist or is not readable.
pub fn find_node<'a>(ctx: &Ctx<'a>, id: &str) -> Result<'a> {
    let Some((ty, n)) = parse_gid(id) else {
        return Err(GqlError::new(
            format!("Invalid global id '{id}'"),
            "argumentLiteralsIncompatible",
        ));
    };
    if let Some(access) = Schema::served().get(ty).and_then(|t| t.access.as_ref())
        && !scopes::granted(&ctx.grants.scopes, access)
    {
        return Err(access_denied("node", &access.text));
    }
    let data = ctx.data;
    let visible = |o: &OrderRec| scopes::order_visible(&ctx.grants.scopes, o.created_at, ctx.now);
    let order_child = |base: u64, per: u64| -> Option<(OrderRef<'a>, usize)> {
        let offset = n.checked_sub(base)?;
        let o = data.order_by_index(offset / per).filter(|o| visible(o))?;
        Some((OrderRef::new(o), (offset % per) as usize))
    };
    let found = match ty {
        "Order" => data
            .order(n)
            .filter(|o| visible(o))
            .map(|o| Obj::Order(OrderRef::new(o))),
        "LineItem" => order_child(LINE_ITEM_BASE, LINES_PER_ORDER)
            .filter(|(r, i)| *i < r.detail(data).lines.len())
            .map(|(r, i)| Obj::LineItem(r, i)),
        "Fulfillment" => order_child(FULFILLMENT_BASE, EVENTS_PER_ORDER)
            .filter(|(r, i)| *i < r.detail(data).fulfillments.len())
            .map(|(r, i)| Obj::Fulfillment(r, i)),
        "Refund" => order_child(REFUND_BASE, EVENTS_PER_ORDER)
            .filter(|(r, i)| *i < r.detail(data).refunds.len())
            .map(|(r, i)| Obj::Refund(r, i)),
        "Return" => order_child(RETURN_BASE, EVENTS_PER_ORDER)
            .filter(|(r, i)| *i < r.detail(data).returns.len())
            .map(|(r, i)| Obj::Return(r, i)),
        "Customer" => data.customer(n).map(Obj::Customer),
        "Product" => data.product(n).map(Obj::Product),
        "ProductVariant" => data.variant(n, false).map(|(p, i)| Obj::Variant(p, i)),
        "InventoryItem" => data.variant(n, true).map(|(p, i)| Obj::InventoryItem(p, i)),
        "Location" => data.location(n).map(Obj::Location),
        "BulkOperation" => ctx
            .store
            .bulk_snapshot()
            .into_iter()
            .find(|op| op.id == n)
            .map(|op| Obj::Bulk(Rc::new(op))),
        "AppInstallation" => (n == ctx.store.app_installation_id()).then_some(Obj::App),
        "Shop" => (n == ctx.store.shop_id()).then_some(Obj::Shop),
        _ => None,
    };
    Ok(found.map_or(Resolved::Null, Resolved::Object))
}

pub fn shop<'a>(ctx: &Ctx<'a>, name: &str) -> Result<'a> {
    let s = &ctx.data.shop;
    match name {
        "id" => val(gid("Shop", ctx.store.shop_id())),
        "name" => val(s.name.clone()),
        "myshopifyDomain" => val(s.domain.clone()),
        "email" | "contactEmail" => val(format!("owner@{}", s.domain)),
        "currencyCode" => val(s.currency.graphql()),
        "ianaTimezone" => val(s.timezone),
        "timezoneOffset" => val("-0500"),
        "timezoneOffsetMinutes" => val(-300),
        "enabledPresentmentCurrencies" => val(s
            .presentment
            .iter()
            .map(|c| c.graphql())
            .collect::<Vec<_>>()),
        "taxesIncluded" => val(false),
        "createdAt" => time(s.created_at),
        "updatedAt" => time(s.created_at),
        "plan" => obj(Obj::ShopPlan),
        other => Err(not_served("Shop", other)),
    }
}

pub fn shop_plan<'a>(ctx: &Ctx<'a>, name: &str) -> Result<'a> {
    let plan = ctx.store.config.plan;
    match name {
        "publicDisplayName" => val(plan.display_name()),
        "partnerDevelopment" => val(false),
        "shopifyPlus" => val(matches!(
            plan,
            crate::simulator::config::PlanPreset::Plus
                | crate::simulator::config::PlanPreset::Enterprise
        )),
        other => Err(not_served("ShopPlan", other)),
    }
}

pub fn app<'a>(ctx: &Ctx<'a>, name: &str) -> Result<'a> {
    match name {
        "id" => val(gid("AppInstallation", ctx.store.app_installation_id())),
        "accessScopes" => Ok(Resolved::List(
            ctx.grants
                .scopes
                .iter()
                .map(|s| Obj::Scope(s.as_str()))
                .collect(),
        )),
        other => Err(not_served("AppInstallation", other)),
    }
}

pub fn bulk_operation<'a>(ctx: &Ctx<'a>, op: &BulkOp, name: &str) -> Result<'a> {
    match name {
        "id" => val(gid("BulkOperation", op.id)),
        "status" => val(op.status.graphql()),
        "type" => val("QUERY"),
        "errorCode" => val(op.error_code),
        "createdAt" => time(op.created_at),
        "completedAt" => opt_time(op.completed_at),
        // UnsignedInt64 is a JSON string (reference §3.3).
        "objectCount" => val(op.object_count.to_string()),
        "rootObjectCount" => val(op.root_object_count.to_string()),
        "fileSize" => val(op.file_size.map(|n| n.to_string())),
        "url" => val(op.url(ctx.sim, &ctx.store.config.domain, false)),
        "partialDataUrl" => val(op.url(ctx.sim, &ctx.store.config.domain, true)),
        "query" => val(op.query.clone()),
        other => Err(not_served("BulkOperation", other)),
    }
}
