//! Resolvers: how each served type answers its fields from a store's data.
//! `Obj` is a cheap handle to one object; `Ctx` is one request's view of a
//! store (its data under a read lock, its grants, the simulated time).

mod catalog;
mod introspection;
mod listing;
mod orders;
mod root;
mod searchable;

use std::cell::OnceCell;
use std::rc::Rc;

use serde_json::{Value, json};

pub use self::root::find_node;
use super::bulk::{BulkOp, UserErr};
use super::data::StoreData;
use super::data::detail::OrderDetail;
use super::data::model::*;
use super::graphql::errors::GqlError;
use super::graphql::execute::{Resolved, Resolver};
use super::graphql::plan::PlanField;
use super::schema::{FieldDef, Schema};
use super::{ApiVersion, SimStore, Simulator};

/// An order with its derived detail computed at most once per request.
#[derive(Clone)]
pub struct OrderRef<'a> {
    pub rec: &'a OrderRec,
    detail: Rc<OnceCell<OrderDetail>>,
}

impl<'a> OrderRef<'a> {
    pub fn new(rec: &'a OrderRec) -> Self {
        OrderRef {
            rec,
            detail: Rc::new(OnceCell::new()),
        }
    }

    pub fn detail(&self, data: &StoreData) -> &OrderDetail {
        self.detail.get_or_init(|| data.detail(self.rec))
    }
}

/// A postal address, derived from a customer or a guest checkout.
#[derive(Debug, Clone)]
pub struct Address {
    pub id: u64,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub street_number: u64,
    pub city: usize,
    pub zip: String,
    pub phone: String,
}

#[derive(Clone)]
pub enum Obj<'a> {
    Root,
    Mutation,
    Shop,
    ShopPlan,
    App,
    Scope(&'a str),
    Order(OrderRef<'a>),
    LineItem(OrderRef<'a>, usize),
    Fulfillment(OrderRef<'a>, usize),
    Tracking(OrderRef<'a>, usize),
    Refund(OrderRef<'a>, usize),
    RefundLine(OrderRef<'a>, usize, usize),
    Return(OrderRef<'a>, usize),
    /// Shop-currency cents, presentment cents, presentment currency.
    MoneyBag(i64, i64, Currency),
    Money(i64, Currency),
    Address(Rc<Address>),
    Customer(&'a CustomerRec),
    Email(String),
    Phone(String),
    Product(&'a ProductRec),
    Variant(&'a ProductRec, usize),
    InventoryItem(&'a ProductRec, usize),
    InventoryLevel(&'a ProductRec, usize, usize),
    InventoryQuantity(&'a ProductRec, usize, usize, &'static str),
    Location(&'a LocationRec),
    Bulk(Rc<BulkOp>),
    BulkPayload(Option<Rc<BulkOp>>, Rc<Vec<UserErr>>),
    UserError(Rc<UserErr>),
    MetaSchema,
    MetaType(introspection::MetaType),
    MetaField(&'static super::schema::FieldDef),
    MetaInput(&'static super::schema::ArgDef),
    MetaEnumValue(&'static str),
    /// A count and whether it is exact (`AT_LEAST` once a limit is hit, §2.8).
    Count(u64, bool),
}

/// One request's view of a store.
pub struct Ctx<'a> {
    pub sim: &'a std::sync::Arc<Simulator>,
    pub store: &'a std::sync::Arc<SimStore>,
    pub data: &'a StoreData,
    pub grants: &'a super::config::Grants,
    pub version: &'a ApiVersion,
    pub now: Ts,
    /// Inside a bulk operation: connections return everything.
    pub bulk: bool,
}

pub type Result<'a> = std::result::Result<Resolved<Obj<'a>>, GqlError>;

pub fn val<'a>(v: impl Into<Value>) -> Result<'a> {
    Ok(Resolved::Value(v.into()))
}

pub fn obj(o: Obj<'_>) -> Result<'_> {
    Ok(Resolved::Object(o))
}

pub fn gid(type_name: &str, id: u64) -> Value {
    Value::String(format!("gid://shopify/{type_name}/{id}"))
}

pub fn time<'a>(ts: Ts) -> Result<'a> {
    val(datetime(ts))
}

pub fn opt_time<'a>(ts: Option<Ts>) -> Result<'a> {
    val(ts.map_or(Value::Null, |t| Value::String(datetime(t))))
}

/// `(type, numeric id)` of a `gid://shopify/Type/123` (query parameters ignored).
pub fn parse_gid(gid: &str) -> Option<(&str, u64)> {
    let rest = gid.strip_prefix("gid://shopify/")?;
    let (ty, id) = rest.split_once('/')?;
    let id = id.split('?').next()?.parse().ok()?;
    Some((ty, id))
}

pub fn not_served(type_name: &str, field: &str) -> GqlError {
    GqlError::new(
        format!("The simulator does not resolve {type_name}.{field}"),
        "INTERNAL_SERVER_ERROR",
    )
}

impl<'a> Ctx<'a> {
    pub fn money_bag(&self, cents: i64, pres: Currency) -> Result<'a> {
        obj(Obj::MoneyBag(cents, pres.from_usd(cents), pres))
    }
}

impl<'a> Resolver for Ctx<'a> {
    type Obj = Obj<'a>;

    fn type_name(&self, o: &Obj<'a>) -> &'static str {
        match o {
            Obj::Root => "QueryRoot",
            Obj::Mutation => "Mutation",
            Obj::Shop => "Shop",
            Obj::ShopPlan => "ShopPlan",
            Obj::App => "AppInstallation",
            Obj::Scope(_) => "AccessScope",
            Obj::Order(_) => "Order",
            Obj::LineItem(..) => "LineItem",
            Obj::Fulfillment(..) => "Fulfillment",
            Obj::Tracking(..) => "FulfillmentTrackingInfo",
            Obj::Refund(..) => "Refund",
            Obj::RefundLine(..) => "RefundLineItem",
            Obj::Return(..) => "Return",
            Obj::MoneyBag(..) => "MoneyBag",
            Obj::Money(..) => "MoneyV2",
            Obj::Address(_) => "MailingAddress",
            Obj::Customer(_) => "Customer",
            Obj::Email(_) => "CustomerEmailAddress",
            Obj::Phone(_) => "CustomerPhoneNumber",
            Obj::Product(_) => "Product",
            Obj::Variant(..) => "ProductVariant",
            Obj::InventoryItem(..) => "InventoryItem",
            Obj::InventoryLevel(..) => "InventoryLevel",
            Obj::InventoryQuantity(..) => "InventoryQuantity",
            Obj::Location(_) => "Location",
            Obj::Bulk(_) => "BulkOperation",
            Obj::BulkPayload(..) => "BulkOperationRunQueryPayload",
            Obj::UserError(_) => "BulkOperationUserError",
            Obj::Count(..) => "Count",
            Obj::MetaSchema => "__Schema",
            Obj::MetaType(_) => "__Type",
            Obj::MetaField(_) => "__Field",
            Obj::MetaInput(_) => "__InputValue",
            Obj::MetaEnumValue(_) => "__EnumValue",
        }
    }

    fn check_access(
        &self,
        owner: &str,
        def: &FieldDef,
        _field: &PlanField,
    ) -> std::result::Result<(), GqlError> {
        let result = super::scopes::check_field(
            Schema::served(),
            &self.grants.scopes,
            self.grants.protected,
            owner,
            def,
        );
        if result.is_err() {
            super::stats::add(&self.store.stats.access_denied, 1);
        }
        result
    }

    fn resolve(&self, o: &Obj<'a>, f: &PlanField) -> Result<'a> {
        let name = f.name.as_str();
        match o {
            Obj::Root => root::query_root(self, f),
            Obj::Mutation => root::mutation(self, f),
            Obj::Shop => root::shop(self, name),
            Obj::ShopPlan => root::shop_plan(self, name),
            Obj::App => root::app(self, name),
            Obj::Scope(s) => match name {
                "handle" => val(*s),
                "description" => val(format!(
                    "Read access to {}",
                    s.trim_start_matches("read_").replace('_', " ")
                )),
                _ => Err(not_served("AccessScope", name)),
            },
            Obj::Order(r) => orders::order(self, r, f),
            Obj::LineItem(r, i) => orders::line_item(self, r, *i, f),
            Obj::Fulfillment(r, i) => orders::fulfillment(self, r, *i, name),
            Obj::Tracking(r, i) => orders::tracking(self, r, *i, name),
            Obj::Refund(r, i) => orders::refund(self, r, *i, f),
            Obj::RefundLine(r, i, j) => orders::refund_line(self, r, *i, *j, name),
            Obj::Return(r, i) => orders::return_(self, r, *i, name),
            Obj::MoneyBag(shop, pres, cur) => match name {
                "shopMoney" => obj(Obj::Money(*shop, self.data.shop.currency)),
                "presentmentMoney" => obj(Obj::Money(*pres, *cur)),
                _ => Err(not_served("MoneyBag", name)),
            },
            Obj::Money(cents, cur) => match name {
                "amount" => val(decimal(*cents)),
                "currencyCode" => val(cur.graphql()),
                _ => Err(not_served("MoneyV2", name)),
            },
            Obj::Address(a) => orders::address(a, name),
            Obj::Customer(c) => catalog::customer(self, c, name),
            Obj::Email(e) => val(e.clone()),
            Obj::Phone(p) => val(p.clone()),
            Obj::Product(p) => catalog::product(self, p, f),
            Obj::Variant(p, i) => catalog::variant(self, p, *i, name),
            Obj::InventoryItem(p, i) => catalog::inventory_item(self, p, *i, f),
            Obj::InventoryLevel(p, i, l) => catalog::inventory_level(self, p, *i, *l, f),
            Obj::InventoryQuantity(p, i, l, q) => {
                catalog::inventory_quantity(self, p, *i, *l, q, name)
            }
            Obj::Location(l) => catalog::location(l, name),
            Obj::Bulk(op) => root::bulk_operation(self, op, name),
            Obj::BulkPayload(op, errs) => match name {
                "bulkOperation" => Ok(op
                    .clone()
                    .map_or(Resolved::Null, |op| Resolved::Object(Obj::Bulk(op)))),
                "userErrors" => Ok(Resolved::List(
                    errs.iter()
                        .cloned()
                        .map(|e| Obj::UserError(Rc::new(e)))
                        .collect(),
                )),
                _ => Err(not_served("BulkOperationRunQueryPayload", name)),
            },
            Obj::UserError(e) => match name {
                "field" => val(e.field.as_ref().map_or(Value::Null, |f| json!([f]))),
                "message" => val(e.message.clone()),
                "code" => val(e.code),
                _ => Err(not_served("BulkOperationUserError", name)),
            },
            Obj::MetaSchema => introspection::schema_field(name),
            Obj::MetaType(t) => introspection::type_field(*t, f),
            Obj::MetaField(d) => introspection::field_field(d, f),
            Obj::MetaInput(a) => introspection::input_field(a, name),
            Obj::MetaEnumValue(v) => introspection::enum_value_field(v, name),
            Obj::Count(n, exact) => match name {
                "count" => val(*n),
                "precision" => val(if *exact { "EXACT" } else { "AT_LEAST" }),
                _ => Err(not_served("Count", name)),
            },
        }
    }
}
