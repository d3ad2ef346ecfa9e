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
    say!("Created workspace {}", dir.display());
    say!("  quarterdeck.toml        name, time zone, sampling defaults, sources");
    say!("  controls/change.toml    two example controls (docs/mapping.md has the format)");
    say!("  evidence/*.csv          a little example evidence");
    say!();
    say!("Next:");
    say!("  cd {} && quarterdeck ingest deploys && quarterdeck ingest pull_requests", dir.display());
    say!("  quarterdeck check && quarterdeck test CHG-1 --period 2026-Q3");
    Ok(0)
}
