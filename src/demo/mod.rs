//! `quarterdeck demo`: a deterministic generator of a fictional company's
//! evidence workspace ("Northwind Cloud", emails @northwind.example).
//!
//! Same [`DemoOptions`] ⇒ byte-identical files. Every source draws from its
//! own PRNG stream derived from the seed, rows are streamed to disk (the
//! auth log reaches 50 million rows at `--scale 500`), and a handful of
//! control gaps are planted on purpose ([`DemoSummary::planted`]); apart
//! from them the evidence passes every control test in `controls/*.toml`.
//! See `docs/demo.md`.

pub mod api_server;
mod clock;
mod config;
mod controls;
mod csv;
pub mod documents;
mod people;
mod plan;
mod rng;
pub mod serve;
mod sources;
mod systems;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_rules;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use self::clock::Clock;
use self::config::SourceDef;
use self::csv::CsvOut;
use self::people::Directory;
use self::plan::Plan;
use self::rng::Rng;
use crate::progress::{Progress, Silent};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    /// Multiplies every volume (events, people, systems); 1 = a ~600-person company.
    pub scale: u32,
    /// PRNG seed; the CLI's default is [`DemoOptions::DEFAULT_SEED`].
    pub seed: u64,
    /// Data covers `[as_of - 365 days, as_of)` at 00:00 UTC.
    pub as_of: NaiveDate,
}

impl DemoOptions {
    /// The seed `quarterdeck demo` uses when `--seed` is not given.
    pub const DEFAULT_SEED: u64 = 7;
    /// The largest accepted `scale`.
    pub const MAX_SCALE: u32 = 1_000;

    /// Scale 1 and the default seed.
    pub fn new(as_of: NaiveDate) -> DemoOptions {
        DemoOptions { scale: 1, seed: Self::DEFAULT_SEED, as_of }
    }
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    /// Every file written, relative to the workspace directory, in writing
    /// order, with its row count: data rows for a CSV (header excluded),
    /// `[[source]]` entries for `quarterdeck.toml`, `[[control]]` entries for
    /// a `controls/*.toml` file.
    pub files: Vec<(PathBuf, u64)>,
    /// The gaps planted on purpose: the only exceptions the controls find.
    pub planted: Vec<PlantedGap>,
}

/// One planted gap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlantedGap {
    /// `unapproved-deploy`, `self-approved-pr`, `late-deprovisioning`,
    /// `missing-postmortem`, `stale-source`, `coverage-gap`, the document
    /// gaps, and the inventory's: `unknown-system`, `retired-but-active`,
    /// `missed-access-review`, `missed-scan-week`.
    pub kind: &'static str,
    /// The evidence source (table) it is in.
    pub source: &'static str,
    /// The row's key, or for the missing-data gaps the inclusive day range
    /// `YYYY-MM-DD..YYYY-MM-DD` with no rows.
    pub key: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not empty: the demo writes into a new or empty directory")]
    NotEmpty { path: PathBuf },
    #[error("scale must be between 1 and {max}, got {scale}")]
    InvalidScale { scale: u32, max: u32 },
    #[error("as-of date {as_of} is out of range (years 1971 to 9998)")]
    InvalidAsOf { as_of: NaiveDate },
}

crate::error::kind!(BadInput: DemoError);

/// Shared state for the source writers.
pub(crate) struct Ctx<'a> {
    pub dir: &'a Path,
    pub opts: &'a DemoOptions,
    pub clock: Clock,
    pub people: Directory,
    pub plan: Plan,
    pub progress: &'a dyn Progress,
}

impl Ctx<'_> {
    /// The independent PRNG stream of one source.
    pub fn rng(&self, source: &str) -> Rng {
        Rng::stream(self.opts.seed, source)
    }

    /// `base` events per year at scale 1, times the scale.
    pub fn volume(&self, base: u64) -> u64 {
        base * u64::from(self.opts.scale)
    }

    /// Open `evidence/<source>.csv` with its header written.
    pub fn csv(&self, def: &SourceDef) -> Result<CsvOut<'_>, DemoError> {
        CsvOut::create(self.dir, &def.path(), &self.clock, def.columns)
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io { path: path.to_path_buf(), source }
}

fn write_text(dir: &Path, rel: &str, text: &str) -> Result<PathBuf, DemoError> {
    let path = dir.join(rel);
    std::fs::write(&path, text).map_err(io_err(&path))?;
    Ok(PathBuf::from(rel))
}

/// Writes quarterdeck.toml, controls/*.toml, systems.toml, evidence/*.csv into `dir`
/// (which exists and is empty, or is created).
pub fn write_demo_files(dir: &Path, opts: &DemoOptions) -> Result<DemoSummary, DemoError> {
    write_demo_files_with(dir, opts, &Silent)
}

/// [`write_demo_files`], telling `progress` of each source written.
pub fn write_demo_files_with(
    dir: &Path,
    opts: &DemoOptions,
    progress: &dyn Progress,
) -> Result<DemoSummary, DemoError> {
    if opts.scale == 0 || opts.scale > DemoOptions::MAX_SCALE {
        return Err(DemoError::InvalidScale { scale: opts.scale, max: DemoOptions::MAX_SCALE });
    }
    let clock = Clock::new(opts.as_of).ok_or(DemoError::InvalidAsOf { as_of: opts.as_of })?;
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    if entries.next().is_some() {
        return Err(DemoError::NotEmpty { path: dir.to_path_buf() });
    }
    for sub in ["controls", "evidence"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(io_err(&p))?;
    }

    let mut files = Vec::new();
    let toml = config::quarterdeck_toml(opts);
    files.push((write_text(dir, "quarterdeck.toml", &toml)?, config::SOURCES.len() as u64));
    for (name, text) in controls::FILES {
        let rel = format!("controls/{name}");
        let count = text.matches("[[control]]").count() as u64;
        files.push((write_text(dir, &rel, text)?, count));
    }

    let plan = Plan::new(&clock);
    let (inventory, systems) = systems::systems_toml(opts.scale, &clock, &plan);
    files.push((write_text(dir, crate::workspace::inventory::SYSTEMS_FILE, &inventory)?, systems));
    let ctx = Ctx { dir, opts, people: Directory::new(opts.seed, opts.scale), clock, plan, progress };
    let mut planted = Vec::new();
    sources::write_all(&ctx, &mut files, &mut planted)?;
    planted.extend(ctx.plan.inventory_records(&ctx.clock));
    Ok(DemoSummary { files, planted })
}
