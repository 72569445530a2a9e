//! Tracing setup, and (with the operator) metrics and health endpoints.

pub mod logging;
