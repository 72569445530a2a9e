//! The compact records a store keeps in memory. An order holds only what can
//! change (timestamps, statuses, notes); its line items, fulfillments,
//! refunds and returns are derived from its seed on demand (`detail.rs`), so a
//! 1,000,000-order store fits in about 100 MB and generates in seconds.

/// Seconds since the Unix epoch, UTC (Shopify's `DateTime` has one-second resolution).
pub type Ts = i64;

/// Global ids are `base + index`, so a gid maps back to its record without a map.
pub const ORDER_BASE: u64 = 5_100_000_000_000;
pub const LINE_ITEM_BASE: u64 = 13_000_000_000_000;
pub const FULFILLMENT_BASE: u64 = 4_300_000_000_000;
pub const REFUND_BASE: u64 = 880_000_000_000;
pub const RETURN_BASE: u64 = 9_400_000_000;
pub const CUSTOMER_BASE: u64 = 7_200_000_000_000;
pub const PRODUCT_BASE: u64 = 8_000_000_000_000;
pub const VARIANT_BASE: u64 = 44_000_000_000_000;
pub const INVENTORY_ITEM_BASE: u64 = 46_000_000_000_000;
pub const LOCATION_BASE: u64 = 70_000_000_000;
/// Children per order in the id space: line items (≤ 10), fulfillments, refunds, returns (≤ 4).
pub const LINES_PER_ORDER: u64 = 16;
pub const EVENTS_PER_ORDER: u64 = 4;
pub const VARIANTS_PER_PRODUCT: u64 = 8;

macro_rules! shopify_enum {
    ($name:ident { $($variant:ident => $gql:literal, $search:literal;)* }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The GraphQL enum value.
            pub fn graphql(self) -> &'static str { match self { $($name::$variant => $gql),* } }
            /// The value the search syntax uses (reference §4.3).
            pub fn search(self) -> &'static str { match self { $($name::$variant => $search),* } }
            pub fn from_graphql(s: &str) -> Option<$name> { $name::ALL.iter().copied().find(|v| v.graphql() == s) }
        }
    };
}

shopify_enum!(FinancialStatus {
    Authorized => "AUTHORIZED", "authorized";
    Expired => "EXPIRED", "expired";
    Paid => "PAID", "paid";
    PartiallyPaid => "PARTIALLY_PAID", "partially_paid";
    PartiallyRefunded => "PARTIALLY_REFUNDED", "partially_refunded";
    Pending => "PENDING", "pending";
    Refunded => "REFUNDED", "refunded";
    Voided => "VOIDED", "voided";
});

shopify_enum!(FulfillmentState {
    Unfulfilled => "UNFULFILLED", "unfulfilled";
    PartiallyFulfilled => "PARTIALLY_FULFILLED", "partial";
    Fulfilled => "FULFILLED", "fulfilled";
    OnHold => "ON_HOLD", "on_hold";
});

shopify_enum!(ReturnState {
    NoReturn => "NO_RETURN", "no_return";
    ReturnRequested => "RETURN_REQUESTED", "return_requested";
    InProgress => "IN_PROGRESS", "in_progress";
    Returned => "RETURNED", "returned";
});

shopify_enum!(CancelReason {
    Customer => "CUSTOMER", "customer";
    Declined => "DECLINED", "declined";
    Fraud => "FRAUD", "fraud";
    Inventory => "INVENTORY", "inventory";
    Other => "OTHER", "other";
    Staff => "STAFF", "staff";
});

shopify_enum!(ProductStatus {
    Active => "ACTIVE", "active";
    Archived => "ARCHIVED", "archived";
    Draft => "DRAFT", "draft";
});

shopify_enum!(Currency {
    Usd => "USD", "usd";
    Eur => "EUR", "eur";
    Gbp => "GBP", "gbp";
    Cad => "CAD", "cad";
    Aud => "AUD", "aud";
});

impl Currency {
    /// Units of this currency per 1,000 USD; fixed so amounts are reproducible.
    pub fn per_thousand_usd(self) -> i64 {
        match self {
            Currency::Usd => 1000,
            Currency::Eur => 921,
            Currency::Gbp => 787,
            Currency::Cad => 1371,
            Currency::Aud => 1523,
        }
    }

    /// Converts shop-currency (USD) cents to this currency's cents.
    pub fn from_usd(self, cents: i64) -> i64 {
        (cents * self.per_thousand_usd() + 500).div_euclid(1000)
    }
}

/// Order tags come from a fixed vocabulary, stored as a bit set.
pub const TAG_VOCABULARY: [&str; 8] = [
    "wholesale",
    "vip",
    "gift",
    "subscription",
    "priority",
    "repeat-customer",
    "influencer",
    "b2b",
];

#[derive(Debug, Clone)]
pub struct OrderRec {
    pub id: u64,
    /// Position in creation order; derives child ids and the order number.
    pub index: u64,
    pub seed: u64,
    pub created_at: Ts,
    pub processed_at: Ts,
    pub updated_at: Ts,
    pub closed_at: Option<Ts>,
    pub cancelled_at: Option<Ts>,
    pub cancel_reason: Option<CancelReason>,
    pub customer: Option<u32>,
    pub presentment: Currency,
    pub financial: FinancialStatus,
    pub fulfillment: FulfillmentState,
    pub returns: ReturnState,
    pub test: bool,
    pub edited: bool,
    pub tags: u8,
    pub note: Option<Box<str>>,
}

impl OrderRec {
    pub fn number(&self) -> u64 {
        1001 + self.index
    }

    pub fn tag_list(&self) -> Vec<&'static str> {
        TAG_VOCABULARY
            .iter()
            .enumerate()
            .filter(|(i, _)| self.tags & (1 << i) != 0)
            .map(|(_, t)| *t)
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct CustomerRec {
    pub id: u64,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub city: usize,
    pub seed: u64,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub orders_count: u32,
    pub spent_cents: i64,
}

impl CustomerRec {
    pub fn email(&self) -> String {
        format!(
            "{}.{}{}@example.com",
            self.first_name.to_lowercase(),
            self.last_name.to_lowercase(),
            self.seed % 1000
        )
    }

    pub fn phone(&self) -> String {
        format!("+1555{:07}", self.seed % 10_000_000)
    }
}

#[derive(Debug, Clone)]
pub struct VariantRec {
    pub id: u64,
    pub inventory_item_id: u64,
    pub position: u32,
    pub title: String,
    pub sku: String,
    pub price_cents: i64,
    pub compare_at_cents: Option<i64>,
    /// Available quantity per location, in `StoreData::locations` order.
    pub inventory: Vec<i32>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

#[derive(Debug, Clone)]
pub struct ProductRec {
    pub id: u64,
    pub index: u64,
    pub title: String,
    pub handle: String,
    pub vendor: &'static str,
    pub product_type: &'static str,
    pub status: ProductStatus,
    pub tags: Vec<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub variants: Vec<VariantRec>,
}

#[derive(Debug, Clone)]
pub struct LocationRec {
    pub id: u64,
    pub name: &'static str,
    pub created_at: Ts,
}

/// What `shop { … }` answers.
#[derive(Debug, Clone)]
pub struct ShopInfo {
    pub name: String,
    pub domain: String,
    pub currency: Currency,
    pub presentment: Vec<Currency>,
    pub timezone: &'static str,
    pub created_at: Ts,
}

/// Formats cents the way Shopify prints a `Decimal`: `"55.0"`, `"19.99"`, `"10.5"`.
pub fn decimal(cents: i64) -> String {
    // Written digit by digit: every amount a bulk job serves goes through
    // here, and `format!` was most of its cost.
    let abs = cents.unsigned_abs();
    let (units, frac) = (abs / 100, abs % 100);
    let mut out = String::with_capacity(24);
    if cents < 0 {
        out.push('-');
    }
    push_digits(&mut out, units, 1);
    out.push('.');
    if frac % 10 == 0 {
        push_digits(&mut out, frac / 10, 1);
    } else {
        push_digits(&mut out, frac, 2);
    }
    out
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while n > 0 || digits.len() - start < width {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for d in &digits[start..] {
        out.push(char::from(*d));
    }
}

/// `2026-06-22T22:34:00Z`, as Shopify prints `DateTime` (reference §4.1).
/// Hand-rolled (civil-from-days, H. Hinnant): it runs for every timestamp served.
pub fn datetime(ts: Ts) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3_600,
            secs % 3_600 / 60,
            secs % 60
        );
    }
    let mut out = String::with_capacity(20);
    let parts = [
        (year, 4, '-'),
        (month, 2, '-'),
        (day, 2, 'T'),
        (secs / 3_600, 2, ':'),
        (secs % 3_600 / 60, 2, ':'),
        (secs % 60, 2, 'Z'),
    ];
    for (value, width, then) in parts {
        push_digits(&mut out, value as u64, width);
        out.push(then);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_like_shopify() {
        assert_eq!(decimal(5500), "55.0");
        assert_eq!(decimal(1999), "19.99");
        assert_eq!(decimal(1050), "10.5");
        assert_eq!(decimal(7), "0.07");
        assert_eq!(decimal(-250), "-2.5");
        assert_eq!(decimal(0), "0.0");
        assert_eq!(decimal(-5), "-0.05");
        assert_eq!(decimal(12_345_678_900), "123456789.0");
    }

    #[test]
    fn datetimes_have_seconds_and_z() {
        assert_eq!(datetime(1_782_167_640), "2026-06-22T22:34:00Z");
        for ts in [0, 951_782_400, 1_709_164_800, 4_102_444_799, 1_796_083_199] {
            let expected = jiff::Timestamp::from_second(ts)
                .expect("ts")
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(datetime(ts), expected);
        }
    }
}
