//! The documents shopsync sends, built from what the data-scope rules allow.
//! Fields a rule excludes are never requested, so excluded data never crosses
//! the wire (shopify-admin-api.md §7: prune at query time). Field names follow
//! the Admin schema; a test validates every document against it.

/// What to select on each order. Built by the sync engine's scope rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderFields {
    /// `customer { id }`: needs read_customers (the Customer type carries the
    /// requirement wherever it appears).
    pub customer_reference: bool,
    /// Names, emails, phones and addresses (`customerData: Include`).
    pub customer_personal: bool,
    /// `variant { id } product { id }` on line items: needs read_products.
    pub product_references: bool,
    /// `refunds` (a plain list on Order).
    pub refunds: bool,
    /// `returns` (a connection on Order): needs read_returns.
    pub returns: bool,
}

const MONEY: &str = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }";

const ORDER_SCALARS: &str = "id legacyResourceId name createdAt updatedAt processedAt closed closedAt \
cancelledAt cancelReason displayFinancialStatus displayFulfillmentStatus returnStatus currencyCode \
presentmentCurrencyCode test confirmed fullyPaid unpaid edited tags sourceName poNumber \
confirmationNumber subtotalLineItemsQuantity currentSubtotalLineItemsQuantity discountCodes taxesIncluded";

const ORDER_MONEY: [&str; 10] = [
    "totalPriceSet",
    "currentTotalPriceSet",
    "subtotalPriceSet",
    "currentSubtotalPriceSet",
    "totalTaxSet",
    "currentTotalTaxSet",
    "totalDiscountsSet",
    "currentTotalDiscountsSet",
    "totalRefundedSet",
    "totalShippingPriceSet",
];

const FULFILLMENTS: &str = "fulfillments { id legacyResourceId name status displayStatus createdAt updatedAt \
deliveredAt inTransitAt estimatedDeliveryAt totalQuantity requiresShipping trackingInfo { company number url } }";

const ADDRESS: &str = "address1 address2 city province provinceCode country countryCodeV2 zip firstName lastName name company phone";

const LINE_ITEM_SCALARS: &str = "id title name sku quantity currentQuantity variantTitle vendor requiresShipping \
taxable isGiftCard refundableQuantity unfulfilledQuantity";

const LINE_ITEM_MONEY: [&str; 4] = [
    "originalUnitPriceSet",
    "discountedUnitPriceSet",
    "originalTotalSet",
    "totalDiscountSet",
];

const RETURN_FIELDS: &str = "id name status createdAt closedAt requestApprovedAt totalQuantity";

/// How a connection's contents are selected: `nodes` for paged reads,
/// `edges { node }` for bulk queries, which accept nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Paged,
    Bulk,
}

fn connection(name_and_args: &str, fields: &str, shape: Shape) -> String {
    match shape {
        Shape::Paged => format!("{name_and_args} {{ nodes {{ {fields} }} }}"),
        Shape::Bulk => format!("{name_and_args} {{ edges {{ node {{ {fields} }} }} }}"),
    }
}

fn money(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("{f} {{ {MONEY} }}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl OrderFields {
    fn order_body(&self, shape: Shape, line_items_first: u32) -> String {
        let mut parts = vec![
            ORDER_SCALARS.to_owned(),
            money(&ORDER_MONEY),
            FULFILLMENTS.to_owned(),
        ];
        if self.customer_personal {
            parts.push(format!(
                "customer {{ id firstName lastName displayName defaultEmailAddress {{ emailAddress }} defaultPhoneNumber {{ phoneNumber }} }} \
                 email phone note billingAddress {{ {ADDRESS} }} shippingAddress {{ {ADDRESS} }}"
            ));
        } else if self.customer_reference {
            parts.push("customer { id }".to_owned());
        }
        if self.refunds {
            parts.push(format!(
                "refunds {{ id legacyResourceId createdAt processedAt updatedAt totalRefundedSet {{ {MONEY} }} }}"
            ));
        }
        let mut line_item = format!("{LINE_ITEM_SCALARS} {}", money(&LINE_ITEM_MONEY));
        if self.product_references {
            line_item.push_str(" variant { id } product { id }");
        }
        let line_items_args = match shape {
            Shape::Paged => format!("lineItems(first: {line_items_first})"),
            Shape::Bulk => "lineItems".to_owned(),
        };
        parts.push(connection(&line_items_args, &line_item, shape));
        if self.returns {
            let args = match shape {
                Shape::Paged => "returns(first: 10)".to_owned(),
                Shape::Bulk => "returns".to_owned(),
            };
            parts.push(connection(&args, RETURN_FIELDS, shape));
        }
        parts.join(" ")
    }

    /// The inner document of a bulk job reading every order matching
    /// `search` (Shopify search syntax), newest changes last.
    pub fn bulk_orders(&self, search: &str) -> String {
        let args = format!("orders(query: {}, sortKey: UPDATED_AT)", quote(search));
        format!(
            "{{ {} }}",
            connection(&args, &self.order_body(Shape::Bulk, 0), Shape::Bulk)
        )
    }

    /// A paged read of full orders by id (small change sets).
    pub fn orders_by_id(&self, line_items_first: u32) -> String {
        format!(
            "query OrdersById($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Order {{ {} }} }} }}",
            self.order_body(Shape::Paged, line_items_first)
        )
    }
}

/// The shop's metadata and the scopes granted to the app; no scope needed.
pub const SHOP_AND_SCOPES: &str = "query ShopAndScopes { shop { id name myshopifyDomain currencyCode ianaTimezone \
plan { publicDisplayName partnerDevelopment shopifyPlus } } currentAppInstallation { accessScopes { handle } } }";

/// Requested cost of [`SHOP_AND_SCOPES`]: shop, plan, installation, scope list.
pub const SHOP_AND_SCOPES_COST: f64 = 4.0;

/// Which orders or products changed in a window: ids and timestamps only, one
/// cost point per object, so finding a change costs almost nothing.
pub fn changed_ids(root: &str) -> String {
    format!(
        "query Changed($first: Int!, $after: String, $query: String!) {{ {root}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{ \
         nodes {{ id updatedAt }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

/// Requested cost of one [`changed_ids`] page.
pub fn changed_ids_cost(first: u32) -> f64 {
    super::cost::connection_cost(first, 1.0)
}

/// The inner document of a bulk job reading products, their variants and
/// each variant's inventory item.
pub fn bulk_products(search: &str) -> String {
    let variant = "id sku title displayName price compareAtPrice inventoryQuantity barcode position createdAt updatedAt inventoryItem { id tracked }";
    let product = format!(
        "id title handle status vendor productType tags createdAt updatedAt totalInventory {}",
        connection("variants", variant, Shape::Bulk)
    );
    let args = format!("products(query: {}, sortKey: UPDATED_AT)", quote(search));
    format!("{{ {} }}", connection(&args, &product, Shape::Bulk))
}

/// A GraphQL string literal.
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSONAL: [&str; 8] = [
        "firstName",
        "lastName",
        "displayName",
        "email",
        "phone",
        "address1",
        "zip",
        "note",
    ];

    #[test]
    fn excluded_customer_data_is_never_requested() {
        let fields = OrderFields {
            customer_reference: true,
            ..OrderFields::default()
        };
        let doc = fields.bulk_orders("updated_at:>='2026-01-01T00:00:00Z'");
        for personal in PERSONAL {
            let as_field = format!(" {personal} ");
            assert!(!doc.contains(&as_field), "{personal} requested: {doc}");
        }
        assert!(doc.contains("customer { id }"));
        assert!(!fields.orders_by_id(10).contains("email"));
    }

    #[test]
    fn included_customer_data_is_requested() {
        let fields = OrderFields {
            customer_personal: true,
            ..OrderFields::default()
        };
        let doc = fields.bulk_orders("status:any");
        assert!(
            doc.contains("defaultEmailAddress { emailAddress }") && doc.contains("shippingAddress")
        );
    }

    #[test]
    fn payment_details_are_never_requested() {
        let all = OrderFields {
            customer_reference: true,
            customer_personal: true,
            product_references: true,
            refunds: true,
            returns: true,
        };
        for doc in [all.bulk_orders("x"), all.orders_by_id(5)] {
            for payment in [
                "transactions",
                "gateway",
                "paymentGatewayNames",
                "creditCard",
                "paymentDetails",
            ] {
                assert!(!doc.contains(payment), "{payment} in {doc}");
            }
        }
    }

    #[test]
    fn bulk_documents_select_edges_and_node_only() {
        let doc = OrderFields {
            returns: true,
            ..OrderFields::default()
        }
        .bulk_orders("x");
        assert!(!doc.contains("nodes"), "{doc}");
        assert!(
            doc.contains("lineItems { edges { node {") && doc.contains("returns { edges { node {")
        );
        assert!(bulk_products("x").contains("variants { edges { node {"));
    }

    #[test]
    fn disabled_recordsets_are_not_selected() {
        let doc = OrderFields::default().bulk_orders("x");
        assert!(
            !doc.contains("refunds {")
                && !doc.contains("returns {")
                && !doc.contains("variant { id }")
        );
        assert!(!doc.contains("customer"));
    }

    #[test]
    fn search_strings_are_quoted_safely() {
        let doc = bulk_products("updated_at:>='2026-01-01' \"x\"");
        assert!(
            doc.contains(r#"query: "updated_at:>='2026-01-01' \"x\"""#),
            "{doc}"
        );
    }
}
