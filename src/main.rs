//! The Vestibule server: `vestibule --help` lists every setting.

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use vestibule::config::Config;
use vestibule::startup::{leptos_options, Application};
use vestibule::telemetry;

/// A request allocates many small, short-lived objects; mimalloc serves them with far
/// less contention than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(rounds) = config.measure_challenge {
        let (check, issue) = vestibule::challenge::measure(rounds.max(1));
        println!("challenge check {check:.2} us/join, challenge made {issue:.2} us");
        return ExitCode::SUCCESS;
    }
    if let Some(file) = &config.print_script {
        return match vestibule::store::scripts::sources()
            .into_iter()
            .find(|(name, _)| name == file)
        {
            Some((_, code)) => {
                print!("{code}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("vestibule: no script named {file}");
                ExitCode::FAILURE
            }
        };
    }
    telemetry::init_logs(config.log_format);
    let app = match leptos_options(config.site_addr) {
        Ok(options) => Application::build(config, options).await,
        Err(e) => Err(e),
    };
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("vestibule: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = CancellationToken::new();
    tokio::spawn(cancel_on_signal(stop.clone()));
    match app.run_until_stopped(stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vestibule: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Cancels `stop` on SIGINT or SIGTERM.
async fn cancel_on_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    stop.cancel();
}
