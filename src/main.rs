use std::process::ExitCode;

use clap::Parser;
use quarterdeck::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The terminal UI (no subcommand, or the demo opening it) logs to its own
    // file: a line on stderr would scroll the screen.
    let may_open_ui = matches!(cli.command, None | Some(quarterdeck::cli::Command::Demo(_)));
    if std::env::var_os("QUARTERDECK_LOG").is_some() && !may_open_ui {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("QUARTERDECK_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(failure) => {
            // Errors quote evidence (a duplicate key, a bad cell): only the
            // sanitiser's text reaches the terminal, line by line.
            // A closed stderr loses the message, never the exit code.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {}", quarterdeck::text::visible_lines(&failure.message()));
            ExitCode::from(failure.exit_code() as u8)
        }
    }
}
