//! Per-store counters for `/_sim/stats` (checklist §9.8): requests, costs,
//! throttles, bulk jobs, downloads, tokens sent where none is needed, requests
//! per operation and the bucket level over time.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

/// Bucket samples kept for `bucketHistory`; old ones drop off, so memory stays bounded.
const HISTORY: usize = 1024;

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Default)]
        pub struct Stats {
            $(pub $name: AtomicU64,)*
            /// `(simulated ms, points available)` after each GraphQL request.
            history: Mutex<VecDeque<(i64, f64)>>,
            /// GraphQL requests per operation name (`anonymous` when unnamed).
            operations: Mutex<BTreeMap<String, u64>>,
        }
        impl Stats {
            pub fn to_json(&self) -> Value {
                let mut v = json!({ $(stringify!($name): self.$name.load(Ordering::Relaxed)),* });
                if let Value::Object(m) = &mut v {
                    let history: Vec<Value> = lock(&self.history).iter().map(|(t, a)| json!([t, a])).collect();
                    m.insert("bucketHistory".into(), Value::Array(history));
                    m.insert("operations".into(), json!(*lock(&self.operations)));
                }
                v
            }
        }
    };
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Stats {
    pub fn record_bucket(&self, now_ms: f64, available: f64) {
        let mut h = lock(&self.history);
        if h.len() == HISTORY {
            h.pop_front();
        }
        h.push_back((now_ms as i64, available.floor()));
    }

    pub fn record_operation(&self, name: Option<&str>) {
        let mut ops = lock(&self.operations);
        // Bounded: a client sending endless distinct names shares one bucket.
        let key = match name {
            Some(n) if ops.contains_key(n) || ops.len() < 256 => n.to_string(),
            Some(_) => "other".to_string(),
            None => "anonymous".to_string(),
        };
        *ops.entry(key).or_default() += 1;
    }
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
