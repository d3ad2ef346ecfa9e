//! What both benchmarks need: the generated demo workspaces in QD_BENCH_DIR,
//! kept between runs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use quarterdeck::demo::{DemoOptions, write_demo_files};
use quarterdeck::workspace::ingest::ingest_all;
use quarterdeck::workspace::{Access, Workspace};

/// The demo's files at `scale` in `dir` (generated once).
pub fn generate(dir: &Path, scale: u32, as_of: chrono::NaiveDate) -> anyhow::Result<()> {
    if dir.join("quarterdeck.toml").exists() {
        return Ok(());
    }
    let started = Instant::now();
    write_demo_files(dir, &DemoOptions { scale, seed: 7, as_of })?;
    eprintln!("generated scale {scale} in {:.1?}", started.elapsed());
    Ok(())
}

/// The demo at `scale`, generated and ingested once, in `root/s{scale}`.
pub fn big_workspace(root: &Path, scale: u32, as_of: chrono::NaiveDate) -> anyhow::Result<PathBuf> {
    let dir = root.join(format!("s{scale}"));
    generate(&dir, scale, as_of)?;
    if !dir.join("workspace.duckdb").exists() {
        let started = Instant::now();
        ingest_all(&Workspace::open(&dir, Access::ReadWrite)?)?;
        eprintln!("ingested scale {scale} in {:.1?}", started.elapsed());
    }
    Ok(dir)
}
