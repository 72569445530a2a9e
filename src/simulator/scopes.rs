//! Access scopes and protected customer data (reference §6, §7): a field whose
//! scope is not granted, or whose return type needs one, resolves to null with
//! `ACCESS_DENIED` naming the scope; protected fields are null unless the app
//! is approved; without `read_all_orders` only the last 60 days of orders exist.

use std::collections::BTreeSet;

use super::config::ProtectedAccess;
use super::data::model::Ts;
use super::graphql::errors::{GqlError, access_denied, not_approved};
use super::schema::{Access, FieldDef, Schema};

/// Orders older than this need `read_all_orders` (reference §5).
pub const RECENT_ORDERS_S: i64 = 60 * 86_400;

/// A granted `write_X` implies `read_X` (reference §6).
pub fn granted(scopes: &BTreeSet<String>, access: &Access) -> bool {
    access.scopes.iter().any(|s| {
        scopes.contains(s)
            || s.strip_prefix("read_")
                .is_some_and(|rest| scopes.contains(&format!("write_{rest}")))
    })
}

/// Checks one field of `owner` for scopes (field and return type) and protected data.
pub fn check_field(
    schema: &Schema,
    scopes: &BTreeSet<String>,
    protected: ProtectedAccess,
    owner: &str,
    def: &FieldDef,
) -> Result<(), GqlError> {
    if let Some(a) = &def.access
        && !granted(scopes, a)
    {
        return Err(access_denied(&def.name, &a.text));
    }
    // A connection is gated by its node type (`orders` by `Order`).
    let base = def.ty.base();
    let node = if schema.is_connection(base) {
        base.trim_end_matches("Connection")
    } else {
        base
    };
    if let Some(a) = schema.get(node).and_then(|t| t.access.as_ref())
        && !granted(scopes, a)
    {
        return Err(access_denied(&def.name, &a.text));
    }
    if let Some(content) = &def.protected
        && !protected.allows(content)
    {
        return Err(not_approved(owner));
    }
    Ok(())
}

/// Whether an order created at `created_at` is readable at all.
pub fn order_visible(scopes: &BTreeSet<String>, created_at: Ts, now: Ts) -> bool {
    scopes.contains("read_all_orders") || created_at >= now - RECENT_ORDERS_S
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes_gate_fields_and_types() {
        let schema = Schema::served();
        let q = schema.get("QueryRoot").expect("root");
        let orders = q.field("orders").expect("orders");
        let err = check_field(
            schema,
            &set(&["read_products"]),
            ProtectedAccess::ALL,
            "QueryRoot",
            orders,
        )
        .expect_err("orders need read_orders");
        assert_eq!(err.code(), Some("ACCESS_DENIED"));
        assert!(err.message.contains(
            "Access denied for orders field. Required access: `read_orders` access scope"
        ));
        assert!(
            check_field(
                schema,
                &set(&["write_orders"]),
                ProtectedAccess::ALL,
                "QueryRoot",
                orders
            )
            .is_ok()
        );
        let email = schema
            .get("Order")
            .and_then(|o| o.field("email"))
            .expect("email");
        assert!(
            check_field(
                schema,
                &set(&["read_orders"]),
                ProtectedAccess::NONE,
                "Order",
                email
            )
            .is_err()
        );
        assert!(order_visible(
            &set(&["read_orders"]),
            1000 * 86_400,
            1059 * 86_400
        ));
        assert!(!order_visible(
            &set(&["read_orders"]),
            1000 * 86_400,
            1061 * 86_400
        ));
    }
}
