//! The sync engine: what to pull (data-scope rules), when and in which
//! stages (plans), and how far it got (checkpoints through the store). Runs
//! without Kubernetes: the controller and `shopsync sync` drive the same code.

pub mod backfill_plan;
pub mod records;
pub mod scope_rules;
