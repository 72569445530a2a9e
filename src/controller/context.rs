//! What every reconcile and sync task shares during one leadership term.

use std::sync::Arc;

use sqlx::PgPool;

use crate::crypto::MasterKey;
use crate::shopify::LimiterRegistry;
use crate::telemetry::metrics::Metrics;

use super::settings::Settings;
use super::status_writer::StatusWriter;
use super::supervisor::Supervisor;

pub struct Context {
    pub client: kube::Client,
    pub pool: PgPool,
    pub master: Arc<MasterKey>,
    /// One limiter per store, shared by every connection to it.
    pub limiters: LimiterRegistry,
    /// One long-lived HTTP client for every store (connection reuse).
    pub http: reqwest::Client,
    pub settings: Settings,
    pub supervisor: Arc<Supervisor>,
    pub status: StatusWriter,
    pub metrics: Arc<Metrics>,
}
