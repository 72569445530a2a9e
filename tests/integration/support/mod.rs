//! Shared test support. `mod support;` from an integration test pulls it in;
//! not every test uses every helper.
#![allow(dead_code)]

pub mod helm;
pub mod operator;
pub mod postgres;
pub mod simulator;
pub mod standin;
pub mod store;
pub mod sync_env;

/// The `shopsync` binary under test: cargo's, unless `SHOPSYNC_TEST_BIN`
/// names another build (several worktrees sharing one target directory
/// overwrite each other's `target/debug/shopsync`).
pub fn shopsync_bin() -> std::path::PathBuf {
    std::env::var_os("SHOPSYNC_TEST_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_BIN_EXE_shopsync")))
}
