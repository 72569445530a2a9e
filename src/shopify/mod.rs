//! The Shopify Admin API client: versioned endpoint, cost-aware throttling
//! per store, retries, pagination and bulk operations, behind a read-only
//! guard. Knows nothing about Postgres.

pub mod cost;
pub mod limiter;
