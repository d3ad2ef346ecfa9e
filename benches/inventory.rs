//! Inventory benchmark (issue #15), on the scale-100 demo (10M sign-ins,
//! 400k deploys), in one process against bare DuckDB in the same run:
//!
//! - `systems --period 2026-Q3` (every observe rule grouped over the period,
//!   the coverage of every spec with `applies_to`, the drift) against the bare
//!   `SELECT DISTINCT` over each observed column for the period. Target ≤ 1.5×.
//! - the expected-occurrence check of a daily-per-system spec over a year
//!   (RES-1's nightly backups, 2026) against the bare `GROUP BY` of the same
//!   rows by system and day. Target ≤ 1.5×.
//! - for scale, `systems` as a process (open, read, answer).
//!
//! The workspace is ingested as the demo's `generate` does, so the sightings
//! the report reads are those kept at ingest (docs/inventory.md); the
//! header says how many sets were kept.
//!
//! Run: `cargo bench --bench inventory` (QD_BENCH_DIR as for `workspace`;
//! QD_BENCH_SCALE, default 100).

mod common;
mod timing;

use std::path::PathBuf;
use std::time::Instant;

use quarterdeck::audit::occurrences;
use quarterdeck::workspace::inventory::Inventory;
use quarterdeck::workspace::inventory::drift::report;
use quarterdeck::workspace::mapping::Mappings;
use quarterdeck::workspace::period::Period;
use quarterdeck::workspace::population::{self, base_sql};
use quarterdeck::workspace::sql::quote_ident;
use quarterdeck::workspace::{Access, Workspace};
use timing::{median, report as row, show};

const RUNS: usize = 11;

fn main() -> anyhow::Result<()> {
    let root = std::env::var_os("QD_BENCH_DIR").map_or_else(|| "bench-out".into(), PathBuf::from);
    let scale: u32 = std::env::var("QD_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).ok_or_else(|| anyhow::anyhow!("date"))?;
    let dir = common::big_workspace(&root, scale, as_of)?;
    let ws = Workspace::open(&dir, Access::ReadOnly)?;
    let mappings = Mappings::load(&dir);
    let inventory = Inventory::load(&dir);
    anyhow::ensure!(inventory.problems.is_empty(), "systems.toml: {:?}", inventory.problems);
    let quarter = Period::parse("2026-Q3", ws.config.timezone)?;
    let rows: u64 = ws.conn.query_row("SELECT sum(rows) FROM qd.source_stats", [], |r| r.get(0))?;
    let (sets, kept): (u64, u64) = ws.conn.query_row(
        "SELECT (SELECT count(*) FROM qd.sighting_sets), (SELECT count(*) FROM qd.sightings)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    println!(
        "scale {scale}: {rows} evidence rows, {} systems, {} observe rules; {sets} sets of sightings kept at ingest \
         ({kept} rows)",
        inventory.systems.len(),
        inventory.observe.len()
    );
    println!("| benchmark | quarterdeck | bare DuckDB | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");

    // The bare answer: each observed column's distinct values in the period.
    let distinct: Vec<String> = inventory
        .observe
        .iter()
        .map(|rule| {
            let source = ws.config.source(&rule.source.value).map_or("ts".to_string(), |s| s.timestamp.clone());
            let filter = rule.filter.as_ref().map_or(String::new(), |f| format!("({}) AND ", f.value));
            let ts = quote_ident(&source);
            format!(
                "SELECT DISTINCT {} FROM {} WHERE {filter}{ts} >= TIMESTAMP '2026-07-01' AND {ts} < TIMESTAMP '2026-10-01'",
                quote_ident(&rule.column.value),
                quote_ident(&rule.source.value)
            )
        })
        .collect();
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    let mut drift = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        for sql in &distinct {
            let mut stmt = ws.conn.prepare(sql)?;
            let n = stmt.query_map([], |_| Ok(()))?.count();
            anyhow::ensure!(n > 0, "{sql}: no rows");
        }
        bare.push(started.elapsed());
        let started = Instant::now();
        let found = report(&ws, &inventory, &mappings, &quarter, ws.today())?;
        ours.push(started.elapsed());
        drift = found.drift.len();
    }
    // Where the time goes: the observe rules' scans, and the coverage scans.
    let (mut seen, mut covered) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        quarterdeck::workspace::inventory::observe::sightings(&ws, &inventory, &quarter)?;
        seen.push(started.elapsed());
        let started = Instant::now();
        quarterdeck::workspace::inventory::drift::coverage(&ws, &inventory, &mappings, &quarter)?;
        covered.push(started.elapsed());
    }
    println!("| of which: observe rules {} · coverage {} | | | | |", show(median(&seen)), show(median(&covered)));
    row(
        &format!(
            "systems --period 2026-Q3 ({} rules; {drift} drift lines) vs SELECT DISTINCT per observed column",
            distinct.len()
        ),
        &ours,
        &bare,
        "≤ 1.5×",
    );

    // A daily-per-system spec over a year.
    let (control, spec) = mappings
        .controls
        .iter()
        .flat_map(|c| c.evidence.iter().map(move |s| (c, s)))
        .find(|(_, s)| {
            s.schedule.as_ref().is_some_and(|sch| sch.expect.as_str() == "daily" && !sch.per.value.is_empty())
        })
        .ok_or_else(|| anyhow::anyhow!("no daily-per-system spec in the demo"))?;
    let year = Period::parse("2026", ws.config.timezone)?;
    let population = population::resolve(&ws, control, spec)?;
    let schedule = spec.schedule.as_ref().ok_or_else(|| anyhow::anyhow!("no schedule"))?;
    let per = schedule.per.value.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let ts = quote_ident(&population.period_column);
    let bare_sql = format!(
        "SELECT {per}, CAST({ts} AS DATE) AS day, count(*) FROM ({}) AS p \
         WHERE {ts} >= TIMESTAMP '2026-01-01' AND {ts} < TIMESTAMP '2027-01-01' GROUP BY ALL",
        base_sql(spec)
    );
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    let (mut slots, mut groups) = (0, 0);
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut stmt = ws.conn.prepare(&bare_sql)?;
        groups = stmt.query_map([], |_| Ok(()))?.count();
        bare.push(started.elapsed());
        let started = Instant::now();
        let found = occurrences::check(&ws, &inventory, control, spec, &population, &year, ws.now())?
            .ok_or_else(|| anyhow::anyhow!("no schedule"))?;
        ours.push(started.elapsed());
        slots = found.len();
    }
    row(
        &format!(
            "{} / {}: expect daily per {per} over 2026 ({slots} slots) vs GROUP BY ({groups} groups)",
            control.id, spec.name
        ),
        &ours,
        &bare,
        "≤ 1.5×",
    );

    let binary = env!("CARGO_BIN_EXE_quarterdeck");
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = std::process::Command::new(binary)
            .args(["--workspace", &dir.to_string_lossy(), "--format", "json", "systems", "--period", "2026-Q3"])
            .output()?;
        times.push(started.elapsed());
        anyhow::ensure!(
            out.status.code() == Some(1) || out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!("| `systems --period 2026-Q3` as a process (wall clock) | {} | — | — | — |", show(median(&times)));
    Ok(())
}
