//! Shared test support. `mod support;` from an integration test pulls it in;
//! not every test uses every helper.
#![allow(dead_code)]

pub mod postgres;
pub mod simulator;
