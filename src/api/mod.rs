//! The `ShopifyConnection` API: CRD types, defaults, validation and condition
//! helpers. Nothing here talks to the network.

pub mod admission;
pub mod conditions;
pub mod crd;
pub mod printer;
pub mod scope;
pub mod spec;
pub mod status;

pub use conditions::{Condition, ConditionStatus, ConditionType};
pub use scope::AccessScope;
pub use spec::{Backfill, CustomerData, DeletionPolicy, ShopifyConnection, ShopifyConnectionSpec};
pub use status::ShopifyConnectionStatus;

/// API group of every shopsync resource.
pub const GROUP: &str = "shopify.fostr.io";

/// Annotation that asks for a sync now; its value is echoed into
/// `status.lastHandledSyncRequest` once that sync completes.
pub const SYNC_REQUESTED_AT: &str = "shopify.fostr.io/sync-requested-at";
