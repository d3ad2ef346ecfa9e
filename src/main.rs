use std::process::ExitCode;

use clap::Parser;
use quarterdeck::cli::{Cli, exit_code, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if std::env::var_os("QUARTERDECK_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("QUARTERDECK_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code(&err) as u8)
        }
    }
}
