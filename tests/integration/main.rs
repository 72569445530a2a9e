//! Integration tests, in one binary so the 2-core machine links the crate once.
//! Each module is named for the behaviour it proves.

mod support;

mod crd_generated;
mod manifest_validation;
mod test_database;
