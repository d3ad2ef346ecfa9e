//! Tests of sampling.rs, compiled only under #[cfg(test)] (see its `mod tests`):
//! the draw inside DuckDB against the streamed ranking in Rust, on the demo
//! workspace.

use std::path::Path;

use chrono::NaiveDate;

use super::*;
use crate::demo::{DemoOptions, write_demo_files};
use crate::workspace::ingest::ingest_all;
use crate::workspace::mapping::Mappings;
use crate::workspace::{Access, OpenOptions};

/// A spec whose population repeats keys (the staging deploys twice) and
/// whose key has a NULL part, beside the demo's own controls.
const EXTRA: &str = r#"
[[control]]
id = "ZZ-1"
title = "Repeated keys"
criteria = ["CC8.1"]
owner = "test@example.com"
frequency = "per-event"

[[control.evidence]]
name = "doubled staging"
population = """
SELECT deploy_id, environment, CAST(NULL AS VARCHAR) AS nothing, deployed_at FROM deploys
UNION ALL
SELECT deploy_id, environment, NULL, deployed_at FROM deploys WHERE environment <> 'production'
"""
period = "deployed_at"
key = ["deploy_id", "nothing", "environment"]
"#;

fn workspace(dir: &Path) {
    write_demo_files(dir, &DemoOptions::new(NaiveDate::from_ymd_opt(2026, 11, 26).expect("date"))).expect("demo");
    std::fs::write(dir.join("controls").join("zz_repeated.toml"), EXTRA).expect("extra control");
    let ws = Workspace::open_with(dir, Access::ReadWrite, &OpenOptions { threads: Some(2), ..Default::default() })
        .expect("open");
    ingest_all(&ws).expect("ingest");
}

#[test]
fn the_draw_in_duckdb_equals_the_streamed_ranking() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path());
    let mappings = Mappings::load(dir.path());
    let specs = [("AC-1", 0), ("CHG-1", 0), ("ZZ-1", 0)];
    let mut first: Vec<Ranking> = Vec::new();
    for threads in [1, 3] {
        let ws = Workspace::open_with(
            dir.path(),
            Access::ReadOnly,
            &OpenOptions { threads: Some(threads), ..Default::default() },
        )
        .unwrap();
        let mut rankings = Vec::new();
        for (id, spec) in specs {
            let control = mappings.control(id).unwrap();
            let spec = &control.evidence[spec];
            let population = population::resolve(&ws, control, spec).unwrap();
            for (period, n) in [("2026-Q3", 25), ("2026-Q3", 0), ("2026-Q3", 100_000), ("2026-Q1", 7)] {
                let period = Period::parse(period, ws.config.timezone).unwrap();
                let sql = population.sql(&period);
                let seed = format!("seed-{id}-{n}");
                // The fast road is the one taken: the tap saw every row once
                // and the candidates settle the sample.
                let tap = ws.functions.taps.open();
                let picked = candidates(&ws, &population, &sql, &seed, n, Some(&tap)).unwrap();
                let tapped = tap.take().iter().map(DigestBatch::len).sum::<usize>() as u64;
                let count: u64 = ws.conn.query_row(&format!("SELECT count(*) FROM ({sql})"), [], |r| r.get(0)).unwrap();
                assert_eq!(tapped, count, "{id} {}", period.label);
                assert!(select_candidates(&seed, n, picked).is_some());

                let fast = rank_population(&ws, &population, &sql, &seed, n).unwrap();
                let slow = rank_streamed(&ws, &population, &sql, &seed, n).unwrap();
                assert_eq!(fast, slow, "{id} {} n={n} threads={threads}", period.label);
                assert_eq!(select(&ws, &population, &sql, &seed, n).unwrap(), fast.selected);
                rankings.push(fast);
            }
        }
        if first.is_empty() {
            first = rankings;
        } else {
            assert_eq!(first, rankings, "the same with 1 and 3 DuckDB threads");
        }
    }
    // The repeated keys were seen, and refuse a draw.
    let repeated = &first[8];
    assert!(repeated.population > 0 && repeated.duplicate_count > 0, "{repeated:?}");
    let ws = Workspace::open(dir.path(), Access::ReadOnly).unwrap();
    let control = mappings.control("ZZ-1").unwrap();
    let period = Period::parse("2026-Q3", ws.config.timezone).unwrap();
    let err = draw(&ws, control, &control.evidence[0], &period, "s", 5).unwrap_err();
    assert!(matches!(err, AuditError::DuplicateKeys { count, .. } if count == repeated.duplicate_count), "{err}");
}
