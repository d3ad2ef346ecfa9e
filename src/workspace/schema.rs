//! The workspace's own state lives in schema `qd`, versioned. Migrations run
//! in one transaction; a database written by a newer Quarterdeck is refused.

use duckdb::Connection;

use super::{WorkspaceError, optional};

/// Each entry migrates from version i to i + 1.
const MIGRATIONS: &[&str] = &[
    // 1: ingest runs and per-source statistics kept current at ingest, so
    // that opening a workspace never scans evidence tables.
    "CREATE SEQUENCE qd.ingest_run_seq START 1;
     CREATE TABLE qd.ingest_runs (
         run_id      BIGINT PRIMARY KEY DEFAULT nextval('qd.ingest_run_seq'),
         source      VARCHAR NOT NULL,
         mode        VARCHAR NOT NULL,
         actor       VARCHAR NOT NULL,
         started_at  TIMESTAMP NOT NULL,
         finished_at TIMESTAMP NOT NULL,
         status      VARCHAR NOT NULL,
         rows        BIGINT NOT NULL,
         skipped     BIGINT NOT NULL,
         files       VARCHAR NOT NULL,
         error       VARCHAR
     );
     CREATE TABLE qd.source_stats (
         source     VARCHAR NOT NULL,
         rows       BIGINT NOT NULL,
         oldest     TIMESTAMP,
         newest     TIMESTAMP,
         updated_at TIMESTAMP NOT NULL
     );
     CREATE TABLE qd.source_buckets (
         source VARCHAR NOT NULL,
         bucket TIMESTAMP NOT NULL,
         rows   BIGINT NOT NULL
     );",
];

pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The schema version recorded in the database; 0 for a new database.
pub fn version(conn: &Connection) -> Result<i64, WorkspaceError> {
    let has_meta: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'qd' AND table_name = 'meta'",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(0);
    }
    let version: Option<String> =
        optional(conn.query_row("SELECT value FROM qd.meta WHERE key = 'schema_version'", [], |r| r.get(0)))?;
    match version {
        None => Ok(0),
        Some(v) => v.parse().map_err(|_| WorkspaceError::CorruptSchema(v)),
    }
}

/// Brings the schema to the latest version, or explains why it cannot.
pub fn migrate(conn: &Connection, read_only: bool) -> Result<(), WorkspaceError> {
    let current = version(conn)?;
    if current > LATEST {
        return Err(WorkspaceError::NewerSchema { found: current, known: LATEST });
    }
    if current == LATEST {
        return Ok(());
    }
    if read_only {
        return Err(WorkspaceError::NeedsMigration { found: current, known: LATEST });
    }
    conn.execute_batch("BEGIN TRANSACTION")?;
    let applied = (|| -> duckdb::Result<()> {
        conn.execute_batch(
            "CREATE SCHEMA IF NOT EXISTS qd;
             CREATE TABLE IF NOT EXISTS qd.meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL);",
        )?;
        for migration in &MIGRATIONS[current as usize..] {
            conn.execute_batch(migration)?;
        }
        conn.execute("DELETE FROM qd.meta WHERE key = 'schema_version'", [])?;
        conn.execute("INSERT INTO qd.meta VALUES ('schema_version', ?)", [LATEST.to_string()])?;
        Ok(())
    })();
    match applied {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e.into())
        }
    }
}
