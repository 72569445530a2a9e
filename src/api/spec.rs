//! The `ShopifyConnection` resource: what a user declares about one store.
//!
//! Validation lives in the schema as CEL rules, so `kubectl apply` rejects a bad
//! manifest before the controller sees it; every rule carries a message that
//! says what to change. The same rules run client-side in [`super::admission`].

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::scope::AccessScope;
use super::status::ShopifyConnectionStatus;

/// The API version new connections are pinned to when the manifest names none.
pub const DEFAULT_API_VERSION: &str = "2026-10";

/// Declares one Shopify store whose orders (and, when enabled, products, refunds
/// and returns) shopsync keeps as encrypted, read-only records in Postgres.
// Each printcolumn repeats `type_`; clippy reads those as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "shopify.fostr.io",
    version = "v1alpha1",
    kind = "ShopifyConnection",
    namespaced,
    status = "ShopifyConnectionStatus",
    shortname = "shopconn",
    category = "fostr",
    selectable = ".spec.store",
    cel,
    printcolumn(
        name = "Store",
        type_ = "string",
        json_path = ".spec.store",
        description = "The store's myshopify.com domain"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the connection is syncing and fresh"
    ),
    printcolumn(
        name = "Lag",
        type_ = "date",
        json_path = ".status.freshness.orders.watermark",
        description = "Age of the newest complete view of orders"
    ),
    printcolumn(
        name = "Last Sync",
        type_ = "date",
        json_path = ".status.lastSyncTime",
        description = "When the last sync finished"
    ),
    printcolumn(
        name = "Backfill",
        type_ = "string",
        json_path = ".status.backfill.phase",
        description = "Progress of the initial historical pull"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = 1,
        description = "Why the connection is or is not ready"
    ),
    printcolumn(
        name = "API",
        type_ = "string",
        json_path = ".status.apiVersion",
        priority = 1,
        description = "Admin API version Shopify actually served"
    ),
    printcolumn(
        name = "Available",
        type_ = "number",
        json_path = ".status.rateLimit.available",
        priority = 1,
        description = "Cost points left in the store's bucket after the last call"
    )
)]
#[x_kube(validation = Rule::new("self.scopes.exists(s, s == 'read_orders' || s == 'read_marketplace_orders')").message("orders always sync: add read_orders to spec.scopes"))]
#[x_kube(validation = Rule::new("!self.resources.products.enabled || 'read_products' in self.scopes").message("resources.products.enabled needs read_products in spec.scopes"))]
#[x_kube(validation = Rule::new("!self.resources.returns.enabled || self.scopes.exists(s, s == 'read_returns' || s == 'read_marketplace_returns')").message("resources.returns.enabled needs read_returns in spec.scopes"))]
#[x_kube(validation = Rule::new("self.customerData != 'Include' || 'read_customers' in self.scopes").message("customerData: Include needs read_customers in spec.scopes"))]
#[serde(rename_all = "camelCase")]
pub struct ShopifyConnectionSpec {
    /// The store's permanent domain, `<name>.myshopify.com` (not a custom
    /// storefront domain). Immutable: to point at another store, create a new
    /// ShopifyConnection.
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9][a-z0-9-]{0,59}\\\\.myshopify\\\\.com$')").message("store must be the shop's permanent domain, <name>.myshopify.com in lower case (find it in the Shopify admin under Settings > Domains)"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("store is immutable; create a new ShopifyConnection for another store"))]
    #[schemars(length(max = 80))]
    pub store: String,

    /// Shopify Admin API version to request, `YYYY-01|04|07|10` or `unstable`.
    /// Shopify serves its oldest supported version instead of one that has
    /// expired; status.apiVersion shows what was actually served.
    #[serde(default = "default_api_version")]
    #[x_kube(validation = Rule::new("self == 'unstable' || self.matches('^20[0-9]{2}-(01|04|07|10)$')").message("apiVersion must be a Shopify release such as 2026-10 (YYYY-01, -04, -07 or -10) or unstable"))]
    #[schemars(length(max = 16))]
    pub api_version: String,

    /// Where the Admin API access token lives.
    pub credentials: Credentials,

    /// The access scopes this connection expects the app to have been granted.
    /// Known read scopes: read_orders, read_all_orders, read_marketplace_orders,
    /// read_products, read_inventory, read_locations, read_returns,
    /// read_marketplace_returns, read_customers and the fulfillment-order scopes.
    /// Recordsets whose scope Shopify did not grant are skipped and reported in
    /// status.missingScopes; the rest keep syncing.
    #[serde(default = "default_scopes")]
    #[x_kube(validation = Rule::new(super::scope::cel_known_scopes_rule()).message(super::scope::UNKNOWN_SCOPE_MESSAGE))]
    #[schemars(length(max = 16))]
    pub scopes: Vec<AccessScope>,

    /// How often to poll Shopify for changes, as a duration such as 15m or
    /// 1h30m; at least 1m and at most 24h.
    #[serde(default = "default_poll_interval")]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('24h')").message("pollInterval must be a duration from 1m to 24h, such as 15m or 1h30m"))]
    #[schemars(length(max = 32))]
    pub poll_interval: String,

    /// The historical pull made once at setup, in stages, before routine
    /// polling takes over. Give exactly one of window or since.
    #[serde(default)]
    pub backfill: Backfill,

    /// Which recordsets to sync and how. Orders always sync.
    #[serde(default)]
    pub resources: Resources,

    /// Whether customer personal data (names, emails, phones, addresses) is
    /// requested from Shopify at all. Exclude (the default) keeps it off the
    /// wire; Include also needs read_customers and Shopify's protected customer
    /// data approval. Payment details are never synced.
    #[serde(default)]
    pub customer_data: CustomerData,

    /// The recordset environment the data belongs to. Encryption keys and reads
    /// are scoped by it: a reader for one environment cannot decrypt another's
    /// records.
    #[serde(default = "default_environment")]
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$')").message("environment must be a lower-case DNS label such as production or staging"))]
    #[schemars(length(max = 63))]
    pub environment: String,

    /// How much of Shopify's rate limit this store's syncs may use.
    #[serde(default)]
    pub rate_limit: RateLimit,

    /// Stops scheduling syncs while true; data already synced stays readable.
    #[serde(default)]
    pub suspend: bool,

    /// What happens to the synced data when this resource is deleted: Retain
    /// keeps it, Purge destroys its encryption keys and then deletes the rows.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// Where the access token is read from.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// A Secret in the same namespace holding the Admin API access token.
    pub secret_ref: SecretKeyRef,
}

/// A key of a Secret in the resource's own namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret (same namespace as the ShopifyConnection).
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$')").message("secretRef.name must be a Secret name in this namespace (lower-case DNS subdomain)"))]
    #[schemars(length(max = 253))]
    pub name: String,
    /// Key within the Secret whose value is the access token.
    #[serde(default = "default_secret_key")]
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// The historical pull made at setup. Exactly one of window and since.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("has(self.window) != has(self.since)").message("backfill needs exactly one of window (such as 90d) or since (an RFC 3339 time); remove the other"))]
#[serde(rename_all = "camelCase")]
pub struct Backfill {
    /// How far back to pull, in days, such as 90d. 0d pulls no history and
    /// syncs only changes from now on. Without read_all_orders Shopify only
    /// exposes the last 60 days of orders; the backfill is clipped and says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^(0|[1-9][0-9]{0,4})d$')").message("backfill.window must be a whole number of days such as 90d"))]
    #[schemars(length(max = 8))]
    pub window: Option<String>,

    /// Pull everything updated at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
}

impl Default for Backfill {
    fn default() -> Self {
        Backfill {
            window: Some("90d".to_owned()),
            since: None,
        }
    }
}

/// Per-recordset options.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Orders: identifiers, statuses, customer reference, line items,
    /// timestamps, fulfillment state and shop metadata. Always synced.
    #[serde(default)]
    pub orders: OrderOptions,
    /// Products with variants, SKUs, prices and inventory. Needs read_products.
    #[serde(default)]
    pub products: ProductOptions,
    /// Refunds of synced orders. Needs read_orders.
    #[serde(default)]
    pub refunds: Toggle,
    /// Returns of synced orders. Needs read_returns.
    #[serde(default)]
    pub returns: Toggle,
}

/// Which orders to keep.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OrderOptions {
    /// Also keep cancelled orders. When false, an order cancelled after it was
    /// synced is tombstoned.
    #[serde(default)]
    pub include_cancelled: bool,
    /// Also keep closed (archived) orders. When false, an order closed after it
    /// was synced is tombstoned.
    #[serde(default)]
    pub include_archived: bool,
}

/// Whether products sync, and with what.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProductOptions {
    /// Sync products, variants, SKUs and prices.
    #[serde(default)]
    pub enabled: bool,
    /// Also sync inventory quantities per location (needs read_inventory;
    /// reported as a missing scope and skipped when not granted).
    #[serde(default)]
    pub inventory: bool,
}

/// An opt-in recordset.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Toggle {
    /// Sync this recordset.
    #[serde(default)]
    pub enabled: bool,
}

/// Whether customer personal data is requested from Shopify.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum CustomerData {
    /// Orders carry the customer's id only; no personal field is requested.
    #[default]
    Exclude,
    /// Names, emails, phones and addresses are requested (and encrypted at rest).
    Include,
}

/// How hard this connection may push Shopify's rate limit.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Percentage (1-100) of the store's cost bucket shopsync may use. Every
    /// connection to the same store shares one limiter, capped by the lowest
    /// share among them. Leave headroom for the store's other apps.
    #[serde(default = "default_max_bucket_share")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 100").message("rateLimit.maxBucketShare is a percentage from 1 to 100"))]
    #[schemars(range(min = 1, max = 100))]
    pub max_bucket_share: u8,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            max_bucket_share: default_max_bucket_share(),
        }
    }
}

/// What deleting the resource does to its data.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum DeletionPolicy {
    /// Stop syncing and keep the records and their keys.
    #[default]
    Retain,
    /// Destroy the connection's data keys (records become unreadable at once),
    /// then delete the rows.
    Purge,
}

fn default_api_version() -> String {
    DEFAULT_API_VERSION.to_owned()
}

fn default_scopes() -> Vec<AccessScope> {
    vec![AccessScope::ReadOrders]
}

fn default_poll_interval() -> String {
    "15m".to_owned()
}

fn default_environment() -> String {
    "production".to_owned()
}

fn default_secret_key() -> String {
    "accessToken".to_owned()
}

fn default_max_bucket_share() -> u8 {
    50
}

/// A spec value that passed the schema but still cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("spec.{field} {value:?} is invalid: {reason}")]
pub struct SpecError {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl ShopifyConnectionSpec {
    /// `pollInterval` as a duration.
    pub fn poll_every(&self) -> Result<std::time::Duration, SpecError> {
        let parsed: kube::core::Duration =
            self.poll_interval
                .parse()
                .map_err(|e: kube::core::duration::ParseError| SpecError {
                    field: "pollInterval",
                    value: self.poll_interval.clone(),
                    reason: e.to_string(),
                })?;
        if parsed.is_negative() {
            return Err(SpecError {
                field: "pollInterval",
                value: self.poll_interval.clone(),
                reason: "a poll interval cannot be negative".into(),
            });
        }
        Ok(std::time::Duration::from(parsed))
    }
}
