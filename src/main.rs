use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = shopsync::cli::Cli::parse();
    shopsync::telemetry::logging::init();
    match shopsync::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
