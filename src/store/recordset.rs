//! The recordsets shopsync stores and the Shopify ids that key them.

use std::fmt;
use std::str::FromStr;

/// A kind of Shopify object kept as records. Its name is stored in the clear
/// (indexing needs it) and bound into each record's associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordSet {
    Orders,
    Products,
    Refunds,
    Returns,
}

impl RecordSet {
    pub const ALL: [RecordSet; 4] = [
        RecordSet::Orders,
        RecordSet::Products,
        RecordSet::Refunds,
        RecordSet::Returns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordSet::Orders => "orders",
            RecordSet::Products => "products",
            RecordSet::Refunds => "refunds",
            RecordSet::Returns => "returns",
        }
    }
}

impl fmt::Display for RecordSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recordset name that is not one of the four.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown recordset {0:?}; expected one of orders, products, refunds, returns")]
pub struct UnknownRecordSet(pub String);

impl FromStr for RecordSet {
    type Err = UnknownRecordSet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordSet::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRecordSet(s.to_owned()))
    }
}

/// The numeric part of a Shopify GID (`gid://shopify/Order/123` → 123).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShopifyId(pub i64);

/// Text that is neither a positive number nor a Shopify GID ending in one.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{0:?} is not a Shopify id: expected a number such as 123 or a GID such as gid://shopify/Order/123"
)]
pub struct InvalidShopifyId(pub String);

impl FromStr for ShopifyId {
    type Err = InvalidShopifyId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidShopifyId(s.to_owned());
        let numeric = match s.strip_prefix("gid://shopify/") {
            Some(rest) => {
                let (_, tail) = rest.rsplit_once('/').ok_or_else(invalid)?;
                // Some GIDs carry a query (`?inventory_item_id=...`); the id precedes it.
                tail.split('?').next().unwrap_or(tail)
            }
            None => s,
        };
        match numeric.parse::<i64>() {
            Ok(id) if id > 0 => Ok(ShopifyId(id)),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for ShopifyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordset_names_round_trip() {
        for r in RecordSet::ALL {
            assert_eq!(r.as_str().parse::<RecordSet>().unwrap(), r);
        }
        let err = "customers".parse::<RecordSet>().unwrap_err().to_string();
        assert!(err.contains("orders, products, refunds, returns"), "{err}");
    }

    #[test]
    fn gid_and_plain_ids_parse() {
        assert_eq!(
            "gid://shopify/Order/123".parse::<ShopifyId>().unwrap(),
            ShopifyId(123)
        );
        assert_eq!(
            "gid://shopify/ProductVariant/9?x=1"
                .parse::<ShopifyId>()
                .unwrap(),
            ShopifyId(9)
        );
        assert_eq!("456".parse::<ShopifyId>().unwrap(), ShopifyId(456));
        for bad in [
            "",
            "gid://shopify/Order/",
            "gid://shopify/Order/abc",
            "-4",
            "0",
            "gid://other/1",
        ] {
            assert!(bad.parse::<ShopifyId>().is_err(), "{bad}");
        }
    }
}
