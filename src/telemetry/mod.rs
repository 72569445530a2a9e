//! Tracing setup, Prometheus metrics and the health endpoints.

pub mod health;
pub mod logging;
pub mod metrics;
