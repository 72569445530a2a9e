//! shopsync: a Kubernetes operator that keeps an encrypted, read-only copy of
//! Shopify store data in Postgres. See DESIGN.md for the architecture; each
//! module below owns one part of it.

pub mod api;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod controller;
pub mod crypto;
pub mod kube_standin;
pub mod shopify;
pub mod simulator;
pub mod store;
pub mod sync;
pub mod telemetry;
