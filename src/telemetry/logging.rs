//! Structured logs to stderr. `RUST_LOG` filters (default: shopsync at info,
//! everything else at warn); `SHOPSYNC_LOG_FORMAT=json` switches to one JSON
//! object per line for log collectors. No field ever carries a token or
//! customer data: the modules that log take care of that.

use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str = "warn,shopsync=info";

/// Installs the process-wide subscriber; later calls do nothing.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json = std::env::var("SHOPSYNC_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_target(false).try_init()
    };
}
