//! `quarterdeck init DIR`

use std::path::Path;

use super::{Context, Outcome};
use crate::workspace::WorkspaceError;
use crate::workspace::init::init;

pub fn run(ctx: &Context, dir: &Path) -> Outcome {
    if ctx.read_only {
        return Err(WorkspaceError::ReadOnly("init".into()).into());
    }
    init(dir)?;
    println!("Created workspace {}", dir.display());
    println!("  quarterdeck.toml        name, time zone, sampling defaults, sources");
    println!("  controls/change.toml    two example controls (docs/mapping.md has the format)");
    println!("  evidence/*.csv          a little example evidence");
    println!();
    println!("Next:");
    println!("  cd {} && quarterdeck ingest deploys && quarterdeck ingest pull_requests", dir.display());
    println!("  quarterdeck check && quarterdeck test CHG-1 --period 2026-Q3");
    Ok(0)
}
