//! `quarterdeck completions SHELL` and `quarterdeck man [--out DIR]`:
//! generated from the same clap definition as `--help`, so they cannot
//! drift from it. Neither needs a workspace.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory;

use super::{Cli, Outcome};

pub fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "quarterdeck", &mut script);
    write_out(&script)?;
    Ok(0)
}

pub fn man(out: Option<&Path>) -> Outcome {
    match out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            write_out(title_first(&String::from_utf8_lossy(&page)).as_bytes())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
            say!("man pages written to {}", dir.display());
        }
    }
    Ok(0)
}

/// The page with its `.TH` title as the first line, as man pages begin:
/// clap_mangen puts its apostrophe string (`.ds Aq`) before it, which
/// works as well after the title (the title holds no apostrophe).
fn title_first(page: &str) -> String {
    let mut lines: Vec<&str> = page.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.starts_with(".TH ")) {
        let title = lines.remove(at);
        lines.insert(0, title);
    }
    lines.join("\n") + "\n"
}

/// Generated text, ours alone (no evidence in it): written as it is.
fn write_out(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}
