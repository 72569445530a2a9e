//! What the controller reports about a connection: conditions, freshness,
//! rate-limit figures and backfill progress.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::conditions::Condition;

/// Observed state of a ShopifyConnection.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ShopifyConnectionStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Ready, CredentialsValid, ScopesGranted, BackfillComplete, Synced,
    /// Throttled, Reconciling and Stalled, one entry per type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// Scopes Shopify reports as granted to the app (write scopes expanded to
    /// the read scopes they imply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub granted_scopes: Vec<String>,

    /// Scopes the spec expects or an enabled recordset needs that Shopify has
    /// not granted. The recordsets that need them are skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_scopes: Vec<String>,

    /// The Admin API version Shopify actually served (differs from
    /// spec.apiVersion when the requested version has expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,

    /// resourceVersion of the credentials Secret last checked against Shopify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_version: Option<String>,

    /// When the last sync finished, successful or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,

    /// When the last sync that completed without error finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_sync_time: Option<Time>,

    /// When the next routine sync is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_time: Option<Time>,

    /// The last value of the shopify.fostr.io/sync-requested-at annotation
    /// whose sync has completed; wait for it to equal the value you set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_sync_request: Option<String>,

    /// How fresh each synced recordset is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,

    /// The store's Shopify rate-limit bucket as of the last response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitStatus>,

    /// Progress of the staged historical pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<BackfillStatus>,
}

/// Freshness of every recordset that syncs.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// Orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<RecordsetFreshness>,
    /// Products (when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<RecordsetFreshness>,
    /// Refunds (when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunds: Option<RecordsetFreshness>,
    /// Returns (when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<RecordsetFreshness>,
}

impl Freshness {
    /// The entry of one recordset, if status has one.
    pub fn get(&self, recordset: crate::store::RecordSet) -> Option<&RecordsetFreshness> {
        use crate::store::RecordSet;
        match recordset {
            RecordSet::Orders => self.orders.as_ref(),
            RecordSet::Products => self.products.as_ref(),
            RecordSet::Refunds => self.refunds.as_ref(),
            RecordSet::Returns => self.returns.as_ref(),
        }
    }
}

/// How complete one recordset is.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecordsetFreshness {
    /// Every change Shopify made before this time is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Time>,
    /// Seconds between the watermark and the end of the last sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<i64>,
    /// Records stored for this recordset (tombstones excluded).
    #[serde(default)]
    pub records: i64,
}

/// Shopify's cost bucket for the store, mirrored from throttleStatus.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitStatus {
    /// Bucket size in cost points (maximumAvailable).
    pub bucket_size: f64,
    /// Points available after the last response (currentlyAvailable).
    pub available: f64,
    /// Points restored per second (restoreRate).
    pub restore_rate: f64,
    /// Percentage of the bucket shopsync allows itself for this store.
    pub max_bucket_share: u8,
    /// Actual cost points spent by the last sync.
    #[serde(default)]
    pub cost_last_sync: f64,
    /// THROTTLED responses received during the last sync.
    #[serde(default)]
    pub throttled_last_sync: u32,
}

/// Progress of the initial historical pull.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackfillStatus {
    /// Pending, Running, Complete or Failed.
    pub phase: BackfillPhase,
    /// Start of the window being pulled (after clipping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Time>,
    /// End of the window being pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Time>,
    /// Stages whose records are committed.
    #[serde(default)]
    pub completed_stages: u32,
    /// Stages in the plan.
    #[serde(default)]
    pub total_stages: u32,
    /// Records committed by the backfill so far.
    #[serde(default)]
    pub records: i64,
    /// Set when the requested window reached further back than the granted
    /// scopes allow (60 days without read_all_orders): the start actually used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clipped_from: Option<Time>,
}

/// Where the backfill stands.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackfillPhase {
    /// Planned, not started.
    #[default]
    Pending,
    /// Stages are running.
    Running,
    /// Every stage is committed.
    Complete,
    /// A stage failed in a way retries cannot fix; see the conditions.
    Failed,
}
