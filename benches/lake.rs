//! Parquet read in place (issue #16), against bare DuckDB in the same run:
//!
//! - `refresh` of a hive-partitioned folder (one partition per day of a
//!   quarter) against DuckDB's own `count(*)` plus the 15-minute bucket
//!   `GROUP BY` over the same files. Target ≤ 1.5×.
//! - a draw (rank, select, fingerprint: `rank_population`, n = 25) over the
//!   in-place source against the same draw over the same rows ingested into
//!   the workspace. Target ≤ 1.2×.
//!
//! Run: `cargo bench --bench lake` (QD_BENCH_DIR, default `bench-out`;
//! QD_BENCH_ROWS, default 50000000).

mod timing;

use std::path::{Path, PathBuf};
use std::time::Instant;

use quarterdeck::audit::sampling::rank_population;
use quarterdeck::workspace::ingest::in_place::ensure_unchanged;
use quarterdeck::workspace::ingest::ingest;
use quarterdeck::workspace::mapping::Located;
use quarterdeck::workspace::period::Period;
use quarterdeck::workspace::population::of_source;
use quarterdeck::workspace::problems::Location;
use quarterdeck::workspace::sql::quote_literal;
use quarterdeck::workspace::{Access, Workspace};
use timing::report;

const RUNS: usize = 3;

const CONFIG: &str = r#"
[workspace]
name = "Lake benchmark"

[[source]]
name = "signins"
format = "parquet"
mode = "in_place"
path = "lake/signins"
key = ["event_id"]
timestamp = "at"

[[source]]
name = "signins_copy"
format = "parquet"
mode = "replace"
path = "lake/signins/**/*.parquet"
key = ["event_id"]
timestamp = "at"
"#;

/// The lake: `rows` sign-ins over 2026-Q3, one folder per day.
fn lake(root: &Path, rows: u64) -> anyhow::Result<PathBuf> {
    let dir = root.join(format!("lake-{rows}"));
    let folder = dir.join("lake/signins");
    if !folder.is_dir() {
        std::fs::create_dir_all(dir.join("lake"))?;
        let conn = duckdb::Connection::open_in_memory()?;
        conn.execute_batch(&format!(
            "COPY (SELECT 'evt-' || lpad(CAST(i AS VARCHAR), 10, '0') AS event_id,
                          'user' || (i % 50000) AS actor, (i % 3 = 0) AS mfa,
                          TIMESTAMP '2026-07-01' + to_microseconds(CAST(i * (7948800000000 // {rows}) AS BIGINT)) AS at,
                          CAST(CAST(TIMESTAMP '2026-07-01' + to_microseconds(CAST(i * (7948800000000 // {rows}) AS BIGINT)) AS DATE) AS VARCHAR) AS day
                   FROM range({rows}) t(i))
             TO {} (FORMAT parquet, PARTITION_BY (day))",
            quote_literal(&folder.to_string_lossy())
        ))?;
    }
    std::fs::write(dir.join("quarterdeck.toml"), CONFIG)?;
    Ok(dir)
}

fn main() -> anyhow::Result<()> {
    let root = std::env::var_os("QD_BENCH_DIR").map_or_else(|| "bench-out".into(), PathBuf::from);
    let rows: u64 = std::env::var("QD_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(50_000_000);
    let dir = lake(&root, rows)?;
    let ws = Workspace::open(&dir, Access::ReadWrite)?;
    let glob = quote_literal(&format!("{}/**/*.parquet", dir.join("lake/signins").display()));
    println!("{rows} rows in {} day partitions", std::fs::read_dir(dir.join("lake/signins"))?.count());
    println!("| benchmark | quarterdeck | bare DuckDB | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");

    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        let count: u64 = ws.conn.query_row(
            &format!("SELECT count(*) FROM read_parquet({glob}, hive_partitioning = true)"),
            [],
            |r| r.get(0),
        )?;
        let buckets: u64 = ws.conn.query_row(
            &format!(
                "SELECT count(*) FROM (SELECT time_bucket(INTERVAL 15 MINUTE, \"at\"), count(*), min(\"at\"), max(\"at\")
                 FROM read_parquet({glob}, hive_partitioning = true) GROUP BY 1)"
            ),
            [],
            |r| r.get(0),
        )?;
        bare.push(started.elapsed());
        anyhow::ensure!(count == rows && buckets > 0, "bare: {count} rows");
        let started = Instant::now();
        let refreshed = ingest(&ws, "signins", &[])?;
        ours.push(started.elapsed());
        anyhow::ensure!(refreshed.total_rows == rows, "refresh saw {} rows", refreshed.total_rows);
    }
    report("refresh (file set, footers, view, 15-minute buckets)", &ours, &bare, "≤ 1.5×");

    let copied: u64 =
        ws.conn
            .query_row("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'signins_copy'", [], |r| r.get(0))?;
    if copied == 0 {
        ingest(&ws, "signins_copy", &[])?;
    }
    let period = Period::parse("2026-Q3", ws.config.timezone)?;
    let located = |name: &str| Located { value: name.to_string(), location: Location::new(Path::new("bench"), 1, 1) };
    let in_place = of_source(&ws, "bench", &located("signins"), None)?;
    let ingested = of_source(&ws, "bench", &located("signins_copy"), None)?;
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let seed = format!("seed-{run}");
        let started = Instant::now();
        let b = rank_population(&ws, &ingested, &ingested.sql(&period), &seed, 25)?;
        bare.push(started.elapsed());
        let started = Instant::now();
        // What a draw over an in-place source adds: the file set checked.
        ensure_unchanged(&ws, &in_place.sql(&period)).map_err(anyhow::Error::msg)?;
        let o = rank_population(&ws, &in_place, &in_place.sql(&period), &seed, 25)?;
        ours.push(started.elapsed());
        anyhow::ensure!(o.fingerprint == b.fingerprint && o.selected == b.selected, "the draws differ");
    }
    report("draw, n = 25 (in place vs the same rows ingested)", &ours, &bare, "≤ 1.2×");
    Ok(())
}
