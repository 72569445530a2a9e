//! What can go wrong talking to Shopify, each variant saying what to do, and
//! whether waiting and trying again can help. Access tokens never appear in
//! any message. Reference: shopify-admin-api.md §1.4, §2.7, §8.

use std::time::Duration;

use super::guard::GuardError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ShopifyError {
    #[error(
        "Shopify rejected the access token for {store} (HTTP 401): put a valid Admin API token in the credentials Secret"
    )]
    Unauthorized { store: String },
    #[error(
        "{store} is frozen for non-payment (HTTP 402): the shop owner must settle the Shopify bill"
    )]
    ShopFrozen { store: String },
    #[error("Shopify refused access to {store} (HTTP 403): {detail}")]
    Forbidden { store: String, detail: String },
    #[error(
        "{store} was not found (HTTP 404): check spec.store, the shop may have been renamed or closed"
    )]
    NotFound { store: String },
    #[error("{store} is locked by Shopify (HTTP 423): contact Shopify support; syncing is paused")]
    Locked { store: String },
    #[error(
        "{store} is inactive (SHOP_INACTIVE): the shop is closed or paused; syncing resumes when it reopens"
    )]
    ShopInactive { store: String },
    #[error(
        "access denied: {message} Grant the missing scope to the app (or disable the recordset that needs it)"
    )]
    AccessDenied {
        message: String,
        required_access: Option<String>,
    },
    #[error(
        "query cost {cost} exceeds Shopify's single-query limit of {max}: the page size must shrink"
    )]
    MaxCostExceeded { cost: f64, max: f64 },
    #[error("Shopify throttled the request: {requested} points requested, {available} available")]
    Throttled {
        requested: f64,
        available: f64,
        retry_after: Duration,
    },
    #[error("Shopify answered HTTP {status}{}", request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Server {
        status: u16,
        request_id: Option<String>,
        retry_after: Option<Duration>,
    },
    #[error("Shopify reported an internal error{}", request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Internal { request_id: Option<String> },
    #[error("could not reach Shopify: {0}")]
    Transport(String),
    #[error("Shopify's response could not be read: {0}")]
    Decode(String),
    #[error("the GraphQL request was refused: {0}")]
    GraphQl(String),
    #[error(transparent)]
    ReadOnly(#[from] GuardError),
    #[error("gave up after {attempts} attempts over {elapsed:?}; last error: {last}")]
    RetriesExhausted {
        attempts: u32,
        elapsed: Duration,
        last: Box<ShopifyError>,
    },
}

impl ShopifyError {
    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. }
                | Self::Server { .. }
                | Self::Internal { .. }
                | Self::Transport(_)
        )
    }

    /// Whether only a person (new token, granted scope, paid bill) can fix it.
    pub fn needs_a_person(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized { .. }
                | Self::ShopFrozen { .. }
                | Self::Forbidden { .. }
                | Self::NotFound { .. }
                | Self::Locked { .. }
                | Self::AccessDenied { .. }
        )
    }

    /// Stable PascalCase label for condition reasons, Events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "InvalidToken",
            Self::ShopFrozen { .. } => "ShopFrozen",
            Self::Forbidden { .. } => "Forbidden",
            Self::NotFound { .. } => "StoreNotFound",
            Self::Locked { .. } => "ShopLocked",
            Self::ShopInactive { .. } => "ShopInactive",
            Self::AccessDenied { .. } => "AccessDenied",
            Self::MaxCostExceeded { .. } => "QueryTooExpensive",
            Self::Throttled { .. } => "Throttled",
            Self::Server { .. } | Self::Internal { .. } => "ShopifyUnavailable",
            Self::Transport(_) => "NetworkError",
            Self::Decode(_) => "BadResponse",
            Self::GraphQl(_) => "QueryRejected",
            Self::ReadOnly(_) => "ReadOnlyViolation",
            Self::RetriesExhausted { last, .. } => last.reason(),
        }
    }
}
