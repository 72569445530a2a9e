//! Fault injection, set through `/_sim/stores/{store}/faults` (issue 3, item 8):
//! 5xx rates, added latency, connection resets, 429 with Retry-After on the
//! download path, THROTTLED storms, bulk jobs that stall, fail or expire, and
//! truncated JSONL.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkFault {
    #[default]
    None,
    /// Stays RUNNING until the fault is cleared.
    Stall,
    /// Fails half-way with `INTERNAL_SERVER_ERROR` and a `partialDataUrl`.
    Fail,
    /// Completes, then its URL is already expired.
    Expire,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fraction (0–1) of GraphQL requests answered with `error_status`.
    pub error_rate: f64,
    /// 500, 502 or 503 (503 carries Retry-After); 402 and 423 model frozen and locked shops.
    pub error_status: u16,
    /// Added to every GraphQL and download response, real milliseconds.
    pub latency_ms: u64,
    /// Fraction (0–1) of GraphQL requests whose connection is closed without a response.
    pub reset_rate: f64,
    /// Fraction (0–1) of downloads answered 429 with `Retry-After`.
    pub download_429_rate: f64,
    /// Seconds in `Retry-After` for 429 and 503 (may be fractional).
    pub retry_after_s: f64,
    /// The next N GraphQL requests are THROTTLED, and the bucket is drained.
    pub throttle_storm: u64,
    pub bulk: BulkFault,
    /// Downloads stop half-way through the JSONL, mid-line.
    pub truncate_jsonl: bool,
    /// Fraction (0–1) of GraphQL requests answered HTTP 200 with an
    /// `INTERNAL_SERVER_ERROR` entry, as Shopify does "instead of 500" (§2.7).
    pub internal_error_rate: f64,
    /// Bulk jobs write at most this many objects per simulated second (0: as fast as possible),
    /// so polling logic sees RUNNING jobs whose counts grow.
    pub bulk_objects_per_s: f64,
}

impl Faults {
    pub fn retry_after(&self) -> String {
        let s = if self.retry_after_s > 0.0 {
            self.retry_after_s
        } else {
            2.0
        };
        format!("{s:.1}")
    }
}
