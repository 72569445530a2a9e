//! Integration tests, in one binary so the 2-core machine links the crate once.
//! Each module is named for the behaviour it proves.

mod support;

mod crd_generated;
mod manifest_validation;
mod simulator_bulk_backfill;
mod simulator_cli;
mod simulator_control;
mod simulator_costs;
mod simulator_graphql;
mod simulator_schema_fidelity;
mod simulator_scopes;
mod simulator_served_fields;
mod simulator_throttling;
mod test_database;
