//! The Shopify Admin API client: versioned endpoint, cost-aware throttling
//! per store, retries, pagination and bulk operations, behind a read-only
//! guard. Knows nothing about Postgres.

pub mod bulk;
pub mod client;
pub mod cost;
pub mod error;
pub mod guard;
pub mod http;
pub mod jsonl;
pub mod jsonl_text;
pub mod limiter;
pub mod queries;
pub mod response;
pub mod retry;
pub mod token;

pub use client::{ClientStats, ShopifyClient};
pub use error::ShopifyError;
pub use limiter::{LimiterRegistry, StoreLimiter};
pub use token::AccessToken;
