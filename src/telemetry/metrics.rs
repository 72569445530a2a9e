//! The operator's Prometheus metrics. Labels stay low-cardinality (store,
//! recordset, outcome), except freshness lag, which is per connection by
//! design: it is the number people alert on (as kube-state-metrics does for
//! per-object readiness).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecordsetLabel {
    pub recordset: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabel {
    pub store: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectionLabel {
    pub namespace: String,
    pub name: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;
type FloatCounter = Counter<f64, AtomicU64>;
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric the operator exports.
pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<ResultLabel, Counter>,
    pub reconcile_duration: Histogram,
    pub syncs: Family<OutcomeLabel, Counter>,
    pub sync_duration: Histograms<OutcomeLabel>,
    pub syncs_running: Gauge,
    pub syncs_waiting: Gauge,
    pub request_start_latency: Histogram,
    pub budget_wait: Histogram,
    pub start_delay: Histogram,
    pub records_written: Family<RecordsetLabel, Counter>,
    pub api_cost: Family<StoreLabel, FloatCounter>,
    pub throttled: Family<StoreLabel, Counter>,
    pub bucket_available: Family<StoreLabel, FloatGauge>,
    pub bucket_size: Family<StoreLabel, FloatGauge>,
    pub freshness_lag: Family<ConnectionLabel, Gauge>,
    pub status_writes: Family<ResultLabel, Counter>,
    pub leader: Gauge,
}

fn sync_buckets() -> Histogram {
    // 50 ms … about 14 h: incremental polls to whole backfills.
    Histogram::new(exponential_buckets(0.05, 2.0, 21))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("shopsync");
        let m = Metrics {
            reconciles: Family::default(),
            reconcile_duration: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            syncs: Family::default(),
            sync_duration: Family::new_with_constructor(sync_buckets as fn() -> Histogram),
            syncs_running: Gauge::default(),
            syncs_waiting: Gauge::default(),
            request_start_latency: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            budget_wait: sync_buckets(),
            start_delay: sync_buckets(),
            records_written: Family::default(),
            api_cost: Family::default(),
            throttled: Family::default(),
            bucket_available: Family::default(),
            bucket_size: Family::default(),
            freshness_lag: Family::default(),
            status_writes: Family::default(),
            leader: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("reconciles", "Reconciles by result", m.reconciles.clone());
        registry.register(
            "reconcile_duration_seconds",
            "Time one reconcile took (syncs run outside it)",
            m.reconcile_duration.clone(),
        );
        registry.register("syncs", "Sync runs by outcome", m.syncs.clone());
        registry.register(
            "sync_duration_seconds",
            "Duration of sync runs by outcome",
            m.sync_duration.clone(),
        );
        registry.register(
            "syncs_running",
            "Sync runs in progress",
            m.syncs_running.clone(),
        );
        registry.register(
            "syncs_waiting",
            "Sync runs waiting for a slot (--max-concurrent-syncs)",
            m.syncs_waiting.clone(),
        );
        registry.register(
            "sync_request_start_seconds",
            "From the sync-requested-at timestamp to the start of its sync",
            m.request_start_latency.clone(),
        );
        registry.register(
            "sync_start_delay_seconds",
            "From when a routine poll fell due to the start of its sync (queueing for a slot, reconcile latency)",
            m.start_delay.clone(),
        );
        registry.register(
            "sync_budget_wait_seconds",
            "Time one sync run waited for its store's cost bucket (the share it may use)",
            m.budget_wait.clone(),
        );
        registry.register(
            "records_written",
            "Records committed, by recordset",
            m.records_written.clone(),
        );
        registry.register(
            "shopify_cost_points",
            "Shopify query cost points spent, by store",
            m.api_cost.clone(),
        );
        registry.register(
            "shopify_throttled",
            "THROTTLED responses from Shopify, by store",
            m.throttled.clone(),
        );
        registry.register(
            "shopify_bucket_available_points",
            "Points available in the store's cost bucket at the last response",
            m.bucket_available.clone(),
        );
        registry.register(
            "shopify_bucket_size_points",
            "Size of the store's cost bucket",
            m.bucket_size.clone(),
        );
        registry.register(
            "freshness_lag_seconds",
            "Seconds between a connection's orders watermark and the end of its last sync",
            m.freshness_lag.clone(),
        );
        registry.register(
            "status_writes",
            "Status applies by result",
            m.status_writes.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the lease",
            m.leader.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_carry_the_prefix_and_labels() {
        let m = Metrics::new();
        m.api_cost
            .get_or_create(&StoreLabel {
                store: "acme.myshopify.com".into(),
            })
            .inc_by(12.5);
        m.reconciles
            .get_or_create(&ResultLabel { result: "ok" })
            .inc();
        m.sync_duration
            .get_or_create(&OutcomeLabel {
                outcome: "succeeded",
            })
            .observe(0.2);
        let text = m.encode();
        assert!(
            text.contains("shopsync_shopify_cost_points_total{store=\"acme.myshopify.com\"} 12.5"),
            "{text}"
        );
        assert!(
            text.contains("shopsync_reconciles_total{result=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("shopsync_sync_duration_seconds_count{outcome=\"succeeded\"} 1"),
            "{text}"
        );
    }
}
