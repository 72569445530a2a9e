use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = shopsync::cli::Cli::parse();
    shopsync::telemetry::logging::init();
    // One rustls provider (ring, as kube uses) for every TLS client in the process.
    shopsync::shopify::http::install_crypto_provider();
    match shopsync::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
