//! Per-store counters for `/_sim/stats` (checklist §9.8): requests, costs,
//! throttles, bulk jobs, downloads and tokens sent where none is needed.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Default)]
        pub struct Stats { $(pub $name: AtomicU64),* }
        impl Stats {
            pub fn to_json(&self) -> Value {
                json!({ $(stringify!($name): self.$name.load(Ordering::Relaxed)),* })
            }
        }
    };
}

counters!(
    requests,
    unauthorized,
    throttled,
    max_cost_exceeded,
    access_denied,
    invalid_queries,
    cost_requested,
    cost_actual,
    bulk_started,
    bulk_completed,
    bulk_failed,
    bulk_canceled,
    downloads,
    download_bytes,
    token_on_download,
    injected_faults,
);

pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}
