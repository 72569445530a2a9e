//! Postgres: schema and migrations, encrypted records, checkpoints and run
//! history. Knows nothing about Shopify.

pub mod local_postgres;
pub mod migrate;
