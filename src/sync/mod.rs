//! The sync engine: what to pull (data-scope rules), when and in which
//! stages (plans), and how far it got (checkpoints through the store). Runs
//! without Kubernetes: the controller and `shopsync sync` drive the same code.

pub mod backfill_plan;
pub mod bulk_job;
pub mod engine;
pub mod progress;
pub mod records;
pub mod records_text;
pub mod report;
pub mod scope_rules;
pub mod source;
pub mod state;
pub mod status;
pub mod stop;

pub use engine::{Engine, EngineConfig, SyncError};
pub use progress::{JobProgress, SyncPhase, SyncProgress};
pub use report::SyncReport;
