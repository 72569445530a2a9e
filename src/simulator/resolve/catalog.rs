//! `Customer`, `Product`, `ProductVariant`, `InventoryItem`, `InventoryLevel`,
//! `InventoryQuantity` and `Location` (reference §4.9, §4.10, §4.12).

use std::rc::Rc;

use serde_json::Value;

use super::orders::customer_address;
use super::{Ctx, Obj, Result, gid, not_served, obj, time, val};
use crate::simulator::data::model::*;
use crate::simulator::graphql::connection::{Page, PageArgs, paginate_list};
use crate::simulator::graphql::execute::Resolved;
use crate::simulator::graphql::plan::PlanField;

/// Inventory states a level reports (reference §4.10).
const QUANTITY_NAMES: [&str; 8] = [
    "available",
    "on_hand",
    "committed",
    "reserved",
    "incoming",
    "damaged",
    "safety_stock",
    "quality_control",
];

pub fn customer<'a>(ctx: &Ctx<'a>, c: &'a CustomerRec, name: &str) -> Result<'a> {
    match name {
        "id" => val(gid("Customer", c.id)),
        "legacyResourceId" => val(c.id.to_string()),
        "firstName" => val(c.first_name),
        "lastName" => val(c.last_name),
        "displayName" => val(format!("{} {}", c.first_name, c.last_name)),
        "email" => val(c.email()),
        "phone" => val(c.phone()),
        "defaultEmailAddress" => obj(Obj::Email(c.email())),
        "defaultPhoneNumber" => obj(Obj::Phone(c.phone())),
        "defaultAddress" => obj(Obj::Address(Rc::new(customer_address(c)))),
        "numberOfOrders" => val(c.orders_count.to_string()),
        "amountSpent" => obj(Obj::Money(c.spent_cents, ctx.data.shop.currency)),
        "tags" => val(if c.orders_count > 5 {
            vec!["repeat"]
        } else {
            vec![]
        }),
        "state" => val(if c.seed.is_multiple_of(3) {
            "DISABLED"
        } else {
            "ENABLED"
        }),
        "note" => val(Value::Null),
        "createdAt" => time(c.created_at),
        "updatedAt" => time(c.updated_at),
        "verifiedEmail" => val(!c.seed.is_multiple_of(10)),
        other => Err(not_served("Customer", other)),
    }
}

pub fn product<'a>(ctx: &Ctx<'a>, p: &'a ProductRec, f: &PlanField) -> Result<'a> {
    match f.name.as_str() {
        "id" => val(gid("Product", p.id)),
        "legacyResourceId" => val(p.id.to_string()),
        "title" => val(p.title.clone()),
        "handle" => val(p.handle.clone()),
        "status" => val(p.status.graphql()),
        "vendor" => val(p.vendor),
        "productType" => val(p.product_type),
        "tags" => val(p.tags.clone()),
        "createdAt" => time(p.created_at),
        "updatedAt" => time(p.updated_at),
        "totalInventory" => val(p
            .variants
            .iter()
            .flat_map(|v| v.inventory.iter())
            .map(|q| *q as i64)
            .sum::<i64>()),
        "variantsCount" => obj(Obj::Count(p.variants.len() as u64, true)),
        "variants" => {
            let args = PageArgs::from_field(f, 1, ctx.bulk)?;
            let ids: Vec<(u64, usize)> = p
                .variants
                .iter()
                .enumerate()
                .map(|(i, v)| (v.id, i))
                .collect();
            let page = paginate_list(&args, &ids);
            Ok(variant_page(p, page))
        }
        other => Err(not_served("Product", other)),
    }
}

pub fn variant<'a>(_ctx: &Ctx<'a>, p: &'a ProductRec, i: usize, name: &str) -> Result<'a> {
    let Some(v) = p.variants.get(i) else {
        return Ok(Resolved::Null);
    };
    match name {
        "id" => val(gid("ProductVariant", v.id)),
        "legacyResourceId" => val(v.id.to_string()),
        "sku" => val(v.sku.clone()),
        "title" => val(v.title.clone()),
        "displayName" => val(format!("{} - {}", p.title, v.title)),
        "price" => val(decimal(v.price_cents)),
        "compareAtPrice" => val(v.compare_at_cents.map(decimal)),
        "inventoryQuantity" => val(v.inventory.iter().map(|q| *q as i64).sum::<i64>()),
        "inventoryItem" => obj(Obj::InventoryItem(p, i)),
        "inventoryPolicy" => val(if v.position == 1 { "DENY" } else { "CONTINUE" }),
        "barcode" => val(format!("0{:011}", v.id % 100_000_000_000)),
        "position" => val(v.position),
        "product" => obj(Obj::Product(p)),
        "createdAt" => time(v.created_at),
        "updatedAt" => time(v.updated_at),
        "taxable" => val(true),
        other => Err(not_served("ProductVariant", other)),
    }
}

pub fn inventory_item<'a>(ctx: &Ctx<'a>, p: &'a ProductRec, i: usize, f: &PlanField) -> Result<'a> {
    let Some(v) = p.variants.get(i) else {
        return Ok(Resolved::Null);
    };
    match f.name.as_str() {
        "id" => val(gid("InventoryItem", v.inventory_item_id)),
        "legacyResourceId" => val(v.inventory_item_id.to_string()),
        "sku" => val(v.sku.clone()),
        "tracked" => val(true),
        "requiresShipping" => val(true),
        "unitCost" => obj(Obj::Money(v.price_cents * 2 / 5, ctx.data.shop.currency)),
        "createdAt" => time(v.created_at),
        "updatedAt" => time(v.updated_at),
        "inventoryLevels" => {
            let args = PageArgs::from_field(f, 1, ctx.bulk)?;
            let ids: Vec<(u64, usize)> = ctx
                .data
                .locations
                .iter()
                .enumerate()
                .map(|(l, loc)| (loc.id, l))
                .collect();
            let page = paginate_list(&args, &ids);
            Ok(Resolved::Connection(Page {
                items: page
                    .items
                    .into_iter()
                    .map(|(l, c)| (Obj::InventoryLevel(p, i, l), c))
                    .collect(),
                has_next: page.has_next,
                has_previous: page.has_previous,
            }))
        }
        "variants" => {
            let args = PageArgs::from_field(f, 1, ctx.bulk)?;
            let page = paginate_list(&args, &[(v.id, i)]);
            Ok(variant_page(p, page))
        }
        other => Err(not_served("InventoryItem", other)),
    }
}

pub fn inventory_level<'a>(
    ctx: &Ctx<'a>,
    p: &'a ProductRec,
    i: usize,
    l: usize,
    f: &PlanField,
) -> Result<'a> {
    let Some(v) = p.variants.get(i) else {
        return Ok(Resolved::Null);
    };
    match f.name.as_str() {
        "id" => val(format!(
            "gid://shopify/InventoryLevel/{}?inventory_item_id={}",
            ctx.data.locations.get(l).map_or(0, |x| x.id),
            v.inventory_item_id
        )),
        "item" => obj(Obj::InventoryItem(p, i)),
        "location" => Ok(ctx
            .data
            .locations
            .get(l)
            .map_or(Resolved::Null, |x| Resolved::Object(Obj::Location(x)))),
        "isActive" => val(true),
        "createdAt" => time(v.created_at),
        "updatedAt" => time(v.updated_at),
        "quantities" => {
            let names: Vec<&'static str> = f
                .args
                .get("names")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter_map(|n| QUANTITY_NAMES.iter().find(|q| **q == n).copied())
                        .collect()
                })
                .unwrap_or_default();
            Ok(Resolved::List(
                names
                    .into_iter()
                    .map(|n| Obj::InventoryQuantity(p, i, l, n))
                    .collect(),
            ))
        }
        other => Err(not_served("InventoryLevel", other)),
    }
}

pub fn inventory_quantity<'a>(
    _ctx: &Ctx<'a>,
    p: &'a ProductRec,
    i: usize,
    l: usize,
    quantity_name: &str,
    name: &str,
) -> Result<'a> {
    let Some(v) = p.variants.get(i) else {
        return Ok(Resolved::Null);
    };
    let available = v.inventory.get(l).copied().unwrap_or(0) as i64;
    let committed = (v.id % 4) as i64;
    let q = match quantity_name {
        "available" => available,
        "on_hand" => available + committed,
        "committed" => committed,
        _ => 0,
    };
    match name {
        "id" => val(format!(
            "gid://shopify/InventoryQuantity/{}?inventory_item_id={}&name={quantity_name}",
            LOCATION_BASE + l as u64,
            v.inventory_item_id
        )),
        "name" => val(quantity_name.to_string()),
        "quantity" => val(q),
        "updatedAt" => time(v.updated_at),
        other => Err(not_served("InventoryQuantity", other)),
    }
}

pub fn location<'a>(l: &'a LocationRec, name: &str) -> Result<'a> {
    match name {
        "id" => val(gid("Location", l.id)),
        "legacyResourceId" => val(l.id.to_string()),
        "name" => val(l.name),
        "isActive" => val(true),
        "createdAt" | "updatedAt" => time(l.created_at),
        other => Err(not_served("Location", other)),
    }
}

/// A page of a product's variants (by index) as a connection of variant objects.
fn variant_page<'a>(p: &'a ProductRec, page: Page<usize>) -> Resolved<Obj<'a>> {
    Resolved::Connection(Page {
        items: page
            .items
            .into_iter()
            .map(|(i, c)| (Obj::Variant(p, i), c))
            .collect(),
        has_next: page.has_next,
        has_previous: page.has_previous,
    })
}
