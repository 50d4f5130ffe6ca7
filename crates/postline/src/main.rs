//! `postline`: a self-hosted, Resend-compatible email platform.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = postline::cli::Cli::parse();
    postline::cli::init_logging(cli.log_level.as_deref());
    match postline::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
