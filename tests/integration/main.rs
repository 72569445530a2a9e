//! Integration tests, in one binary so the 2-core machine links the crate once.
//! Each module is named for the behaviour it proves.

mod support;

mod aad_tamper;
mod client_queries_are_valid;
mod crash_between_batch_and_checkpoint;
mod crd_generated;
mod customer_data_stays_out;
mod database_unreachable;
mod demo_runs_green;
mod environment_isolation;
mod key_rotation;
mod keys_cli;
mod kube_standin_bad_requests;
mod kube_standin_controller;
mod kube_standin_crd;
mod kube_standin_faults;
mod kube_standin_finalizers;
mod kube_standin_kubectl;
mod kube_standin_lists;
mod kube_standin_objects;
mod kube_standin_patches;
mod kube_standin_raw_watch;
mod kube_standin_status;
mod kube_standin_watch;
mod manifest_validation;
mod no_plaintext_in_dump;
mod purge_crypto_shreds;
mod read_policy;
mod readers_never_migrate;
mod records_cli;
mod simulator_bulk_backfill;
mod simulator_cli;
mod simulator_control;
mod simulator_costs;
mod simulator_graphql;
mod simulator_schema_fidelity;
mod simulator_scopes;
mod simulator_served_fields;
mod simulator_throttling;
mod store_round_trip;
mod sync_matches_ground_truth;
mod sync_resumes_after_kill;
mod sync_survives_faults;
mod test_database;
