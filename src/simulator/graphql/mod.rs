//! GraphQL for the simulator: a real parser (graphql-parser), validation
//! against the served schema, and an executor over resolvers.

pub mod connection;
pub mod errors;
pub mod execute;
pub mod output;
pub mod plan;
mod select;
pub mod values;
