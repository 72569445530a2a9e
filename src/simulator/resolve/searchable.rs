//! What orders, products, variants and customers offer the search syntax:
//! the snake_case filter names of reference §4.3 and §4.9 mapped to record
//! fields. Unknown names return `None` and are ignored.

use super::Ctx;
use crate::simulator::data::model::*;
use crate::simulator::search::{FieldValue, Searchable};

pub(super) struct OrderSearch<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub o: &'a OrderRec,
}

impl Searchable for OrderSearch<'_, '_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let o = self.o;
        Some(match name {
            "updated_at" => FieldValue::Time(o.updated_at),
            "created_at" => FieldValue::Time(o.created_at),
            "processed_at" => FieldValue::Time(o.processed_at),
            "id" => FieldValue::Number(o.id),
            "customer_id" => FieldValue::Number(o.customer.map_or(0, |c| CUSTOMER_BASE + c as u64)),
            "test" => FieldValue::Bool(o.test),
            "tag" => FieldValue::Set(o.tag_list()),
            "name" => {
                FieldValue::OwnedSet(vec![format!("#{}", o.number()), o.number().to_string()])
            }
            "status" => {
                let mut s = Vec::new();
                if o.closed_at.is_none() {
                    s.push("not_closed");
                    if o.cancelled_at.is_none() {
                        s.push("open");
                    }
                } else {
                    s.push("closed");
                }
                if o.cancelled_at.is_some() {
                    s.push("cancelled");
                }
                FieldValue::Set(s)
            }
            "financial_status" => FieldValue::Text(o.financial.search()),
            "fulfillment_status" => FieldValue::Set(match o.fulfillment {
                FulfillmentState::Fulfilled => vec!["fulfilled", "shipped"],
                FulfillmentState::PartiallyFulfilled => vec!["partial", "unfulfilled"],
                FulfillmentState::Unfulfilled => vec!["unfulfilled", "unshipped"],
                FulfillmentState::OnHold => vec!["on_hold", "unfulfilled"],
            }),
            "return_status" => FieldValue::Text(o.returns.search()),
            // Free text matches the order name, the customer's email and the tags.
            "default" => {
                let mut words = vec![format!("#{}", o.number())];
                if let Some(c) = o
                    .customer
                    .and_then(|c| self.ctx.data.customers.get(c as usize))
                {
                    words.push(c.email());
                }
                words.extend(o.tag_list().into_iter().map(str::to_string));
                FieldValue::OwnedSet(words)
            }
            "email" => FieldValue::Owned(
                o.customer
                    .and_then(|c| self.ctx.data.customers.get(c as usize))
                    .map_or(String::new(), |c| c.email()),
            ),
            "sku" => FieldValue::OwnedSet(
                self.ctx
                    .data
                    .detail(o)
                    .lines
                    .iter()
                    .map(|l| {
                        crate::simulator::data::detail::sku(l.product_index, l.variant_position)
                    })
                    .collect(),
            ),
            _ => return None,
        })
    }
}

pub(super) struct ProductSearch<'a>(pub &'a ProductRec);

impl Searchable for ProductSearch<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let p = self.0;
        Some(match name {
            "updated_at" => FieldValue::Time(p.updated_at),
            "created_at" => FieldValue::Time(p.created_at),
            "id" => FieldValue::Number(p.id),
            "status" => FieldValue::Text(p.status.search()),
            "title" => FieldValue::Text(&p.title),
            "vendor" => FieldValue::Text(p.vendor),
            "product_type" => FieldValue::Text(p.product_type),
            "tag" => FieldValue::Set(p.tags.iter().map(String::as_str).collect()),
            "sku" => FieldValue::Set(p.variants.iter().map(|v| v.sku.as_str()).collect()),
            "default" => FieldValue::Set(vec![p.title.as_str()]),
            _ => return None,
        })
    }
}

pub(super) struct VariantSearch<'a>(pub &'a ProductRec, pub &'a VariantRec);

impl Searchable for VariantSearch<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "updated_at" => FieldValue::Time(self.1.updated_at),
            "created_at" => FieldValue::Time(self.1.created_at),
            "id" => FieldValue::Number(self.1.id),
            "sku" => FieldValue::Text(&self.1.sku),
            "product_id" => FieldValue::Number(self.0.id),
            "title" => FieldValue::Text(&self.1.title),
            _ => return None,
        })
    }
}

pub(super) struct CustomerSearch<'a>(pub &'a CustomerRec);

impl Searchable for CustomerSearch<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "updated_at" => FieldValue::Time(self.0.updated_at),
            "created_at" => FieldValue::Time(self.0.created_at),
            "id" => FieldValue::Number(self.0.id),
            "email" => FieldValue::Owned(self.0.email()),
            _ => return None,
        })
    }
}
