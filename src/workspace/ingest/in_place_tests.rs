//! Parquet read in place, on real files DuckDB writes into a hive-partitioned
//! lake folder: the view, the recorded file set, the same sample as the
//! rows ingested, a rewritten partition caught, and a locked-down open that
//! still reads the lake and nothing else.

use std::path::Path;

use super::{FileChange, LakeFile, changes_since, ensure_unchanged, lake_folders, recorded_files};
use crate::audit::sampling::rank_population;
use crate::workspace::ingest::{IngestError, ingest};
use crate::workspace::mapping::Located;
use crate::workspace::period::Period;
use crate::workspace::population::of_source;
use crate::workspace::problems::Location;
use crate::workspace::{Access, Workspace};

const CONFIG: &str = r#"
[workspace]
name = "Lake test"

[[source]]
name = "signins"
format = "parquet"
mode = "in_place"
path = "lake/signins"
key = ["event_id"]
timestamp = "at"
fresh_within = "1d"

[[source]]
name = "signins_copy"
format = "parquet"
mode = "replace"
path = "lake/signins/**/*.parquet"
key = ["event_id"]
timestamp = "at"
"#;

/// 3000 sign-ins over Q3 2026, one hive partition per month.
fn lake(dir: &Path) -> Workspace {
    std::fs::write(dir.join("quarterdeck.toml"), CONFIG).unwrap();
    std::fs::create_dir_all(dir.join("lake/signins")).unwrap();
    let ws = Workspace::open(dir, Access::ReadWrite).unwrap();
    write_partitions(&ws, dir, 3000, "");
    ws
}

fn write_partitions(ws: &Workspace, dir: &Path, rows: u32, salt: &str) {
    let out = dir.join("lake/signins");
    ws.conn
        .execute_batch(&format!(
            "COPY (SELECT 'evt-' || i || {salt} AS event_id, 'user' || (i % 17) AS actor,
                          TIMESTAMP '2026-07-01' + INTERVAL (i * 2591) SECOND AS at,
                          strftime(TIMESTAMP '2026-07-01' + INTERVAL (i * 2591) SECOND, '%Y-%m') AS month
                   FROM range({rows}) t(i))
             TO {out} (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)",
            salt = crate::workspace::sql::quote_literal(salt),
            out = crate::workspace::sql::quote_literal(&out.to_string_lossy()),
        ))
        .unwrap();
}

fn population(ws: &Workspace, source: &str) -> crate::workspace::population::Population {
    let located = Located { value: source.to_string(), location: Location::new(Path::new("test.toml"), 1, 1) };
    of_source(ws, "test", &located, None).unwrap()
}

#[test]
fn a_lake_folder_is_read_through_a_view_and_samples_as_if_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let ws = lake(dir.path());
    let report = ingest(&ws, "signins", &[]).unwrap();
    assert_eq!(report.total_rows, 3000);
    assert_eq!(report.files.len(), 3, "{:?}", report.files);
    assert!(report.files.iter().all(|f| f.path.contains("month=2026-0")), "{:?}", report.files);
    // A view, not a table: nothing copied.
    let kind: String =
        ws.conn.query_row("SELECT 'view' FROM duckdb_views() WHERE view_name = 'signins'", [], |r| r.get(0)).unwrap();
    assert_eq!(kind, "view");
    let tables: i64 = ws
        .conn
        .query_row("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'signins'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0);
    // The run records each file with its footer hash and rows; the
    // partition column arrives from the folder names.
    let recorded = recorded_files_of(&ws, "signins");
    assert_eq!(recorded.iter().map(|f| f.rows).sum::<u64>(), 3000);
    assert!(recorded.iter().all(|f| f.footer_sha256.len() == 64 && !f.mtime.is_empty()));
    let months: i64 = ws.conn.query_row("SELECT count(DISTINCT month) FROM signins", [], |r| r.get(0)).unwrap();
    assert_eq!(months, 3);
    let stats: i64 = ws
        .conn
        .query_row("SELECT sum(rows) FROM qd.source_buckets WHERE source = 'signins'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stats, 3000);

    // The same rows ingested give the same sample and fingerprint.
    ingest(&ws, "signins_copy", &[]).unwrap();
    let period = Period::parse("2026-Q3", chrono_tz::UTC).unwrap();
    let (lake_pop, copy_pop) = (population(&ws, "signins"), population(&ws, "signins_copy"));
    let in_place = rank_population(&ws, &lake_pop, &lake_pop.sql(&period), "seed-1", 25).unwrap();
    let copied = rank_population(&ws, &copy_pop, &copy_pop.sql(&period), "seed-1", 25).unwrap();
    assert_eq!(in_place.population, copied.population);
    assert_eq!(in_place.fingerprint, copied.fingerprint);
    assert_eq!(in_place.selected, copied.selected);
    assert!(ensure_unchanged(&ws, &lake_pop.sql(&period)).is_ok());
}

fn recorded_files_of(ws: &Workspace, source: &str) -> Vec<LakeFile> {
    recorded_files(ws, source, None).unwrap().unwrap()
}

#[test]
fn a_rewritten_partition_refuses_the_draw_until_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let ws = lake(dir.path());
    ingest(&ws, "signins", &[]).unwrap();
    let period = Period::parse("2026-Q3", chrono_tz::UTC).unwrap();
    let sql = population(&ws, "signins").sql(&period);
    // Rewrite every partition with other keys (same paths).
    write_partitions(&ws, dir.path(), 3000, "-x");
    let source = ws.config.source("signins").unwrap().clone();
    let changes = changes_since(&ws, &source, None).unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.iter().all(|c| matches!(c, FileChange::Rewritten(_))), "{changes:?}");
    let refused = ensure_unchanged(&ws, &sql).unwrap_err();
    assert!(refused.contains("quarterdeck refresh signins") && refused.contains("rewritten"), "{refused}");
    // A file added is a change too; after a refresh the draw may read.
    std::fs::create_dir_all(dir.path().join("lake/signins/month=2026-10")).unwrap();
    std::fs::copy(
        &recorded_files_of(&ws, "signins")[0].path,
        dir.path().join("lake/signins/month=2026-10/extra.parquet"),
    )
    .unwrap();
    let changes = changes_since(&ws, &source, None).unwrap();
    assert!(changes.iter().any(|c| matches!(c, FileChange::Added(p) if p.ends_with("extra.parquet"))), "{changes:?}");
    ingest(&ws, "signins", &[]).unwrap();
    assert!(ensure_unchanged(&ws, &sql).is_ok());
}

#[test]
fn a_file_that_is_not_parquet_is_named_and_nothing_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let ws = lake(dir.path());
    std::fs::write(dir.path().join("lake/signins/month=2026-07/notes.parquet"), "not parquet at all").unwrap();
    let err = ingest(&ws, "signins", &[]).unwrap_err().to_string();
    assert!(err.contains("notes.parquet") && err.contains("not a Parquet file"), "{err}");
    assert!(recorded_files(&ws, "signins", None).unwrap().is_none());
    let failed: i64 = ws
        .conn
        .query_row("SELECT count(*) FROM qd.ingest_runs WHERE source = 'signins' AND status = 'failed'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(failed, 1);
    // Files named on the command line are refused for an in-place source.
    let named = ingest(&ws, "signins", &[dir.path().join("x.parquet")]).unwrap_err();
    assert!(matches!(named, IngestError::InPlaceFiles(_)), "{named}");
}

#[test]
fn a_locked_down_workspace_reads_its_lake_and_no_other_file() {
    let dir = tempfile::tempdir().unwrap();
    let ws = lake(dir.path());
    ingest(&ws, "signins", &[]).unwrap();
    std::fs::write(dir.path().join("outside.csv"), "a\n1\n").unwrap();
    drop(ws);
    let ws = Workspace::open(dir.path(), Access::ReadOnly).unwrap();
    let rows: i64 = ws.conn.query_row("SELECT count(*) FROM signins", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 3000);
    let outside = format!("SELECT count(*) FROM read_csv('{}')", dir.path().join("outside.csv").display());
    let refused = ws.conn.query_row(&outside, [], |r| r.get::<_, i64>(0));
    assert!(refused.is_err(), "a file outside the lake was read");
    let settings = ws.conn.execute_batch("SET enable_external_access = true");
    assert!(settings.is_err(), "the configuration is locked");
}

#[test]
fn lake_folders_are_the_fixed_part_of_each_path() {
    let dir = tempfile::tempdir().unwrap();
    let ws = lake(dir.path());
    let folders = lake_folders(&ws.root, &ws.config.sources);
    assert_eq!(folders, vec![dir.path().join("lake/signins")]);
}
