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
    // 2: mock audits: frozen samples, verdicts, findings with their
    // remediation events, auditor requests, and the hash-chained action log.
    "CREATE TABLE qd.audits (
         label           VARCHAR NOT NULL,
         period_label    VARCHAR NOT NULL,
         period_start    TIMESTAMP NOT NULL,
         period_end      TIMESTAMP NOT NULL,
         seed            VARCHAR NOT NULL,
         status          VARCHAR NOT NULL,
         mapping_version VARCHAR NOT NULL,
         controls        VARCHAR NOT NULL,
         created_at      TIMESTAMP NOT NULL,
         created_by      VARCHAR NOT NULL,
         closed_at       TIMESTAMP
     );
     CREATE SEQUENCE qd.sample_seq START 1;
     CREATE TABLE qd.samples (
         sample_id        BIGINT NOT NULL,
         audit            VARCHAR,
         control          VARCHAR NOT NULL,
         spec             VARCHAR NOT NULL,
         current          BOOLEAN NOT NULL,
         seed             VARCHAR NOT NULL,
         method           VARCHAR NOT NULL,
         sql              VARCHAR NOT NULL,
         key_columns      VARCHAR NOT NULL,
         period_label     VARCHAR NOT NULL,
         period_start     TIMESTAMP NOT NULL,
         period_end       TIMESTAMP NOT NULL,
         population_count BIGINT NOT NULL,
         fingerprint      VARCHAR NOT NULL,
         size             BIGINT NOT NULL,
         drawn_at         TIMESTAMP NOT NULL,
         drawn_by         VARCHAR NOT NULL,
         redraw_reason    VARCHAR
     );
     CREATE TABLE qd.sample_rows (
         sample_id BIGINT NOT NULL,
         position  BIGINT NOT NULL,
         key       VARCHAR NOT NULL,
         rank      VARCHAR NOT NULL,
         row_json  VARCHAR NOT NULL,
         tests     VARCHAR NOT NULL
     );
     CREATE TABLE qd.verdicts (
         sample_id  BIGINT NOT NULL,
         key        VARCHAR NOT NULL,
         verdict    VARCHAR NOT NULL,
         note       VARCHAR,
         decided_at TIMESTAMP NOT NULL,
         decided_by VARCHAR NOT NULL
     );
     CREATE TABLE qd.findings (
         id          VARCHAR NOT NULL,
         audit       VARCHAR NOT NULL,
         control     VARCHAR NOT NULL,
         title       VARCHAR NOT NULL,
         description VARCHAR NOT NULL,
         severity    VARCHAR NOT NULL,
         owner       VARCHAR NOT NULL,
         due         DATE,
         status      VARCHAR NOT NULL,
         regression  BOOLEAN NOT NULL,
         approver    VARCHAR,
         accept_reason VARCHAR,
         accept_expires DATE,
         created_at  TIMESTAMP NOT NULL,
         closed_in   VARCHAR
     );
     CREATE TABLE qd.finding_rows (
         finding_id VARCHAR NOT NULL,
         sample_id  BIGINT NOT NULL,
         key        VARCHAR NOT NULL
     );
     CREATE TABLE qd.finding_events (
         finding_id  VARCHAR NOT NULL,
         event_at    TIMESTAMP NOT NULL,
         actor       VARCHAR NOT NULL,
         from_status VARCHAR,
         to_status   VARCHAR NOT NULL,
         note        VARCHAR
     );
     CREATE SEQUENCE qd.request_seq START 1;
     CREATE TABLE qd.requests (
         request_id BIGINT NOT NULL,
         text       VARCHAR NOT NULL,
         asked_at   TIMESTAMP NOT NULL,
         asked_by   VARCHAR NOT NULL,
         due        DATE,
         status     VARCHAR NOT NULL,
         question   VARCHAR,
         control    VARCHAR,
         spec       VARCHAR,
         sample_id  BIGINT
     );
     CREATE TABLE qd.action_log (
         seq       BIGINT NOT NULL,
         logged_at VARCHAR NOT NULL,
         actor     VARCHAR NOT NULL,
         action    VARCHAR NOT NULL,
         payload   VARCHAR NOT NULL,
         prev_hash VARCHAR NOT NULL,
         hash      VARCHAR NOT NULL
     );",
    // 3: rows of an audit's population that a finding names though no
    // sample drew them, kept as they were when the finding named them.
    "CREATE TABLE qd.finding_population_rows (
         finding_id VARCHAR NOT NULL,
         sample_id  BIGINT NOT NULL,
         spec       VARCHAR NOT NULL,
         key        VARCHAR NOT NULL,
         row_json   VARCHAR NOT NULL
     );",
    // 4: reviewers' sign-offs on a control's testing in an audit; a
    // re-review is a new row, and the latest counts.
    "CREATE TABLE qd.reviews (
         audit       VARCHAR NOT NULL,
         control     VARCHAR NOT NULL,
         reviewer    VARCHAR NOT NULL,
         conclusion  VARCHAR NOT NULL,
         reviewed_at TIMESTAMP NOT NULL
     );",
    // 5: a run that loaded a connector's pull names it (each pull loads
    // once) and keeps its summary: requests, pages, totals, raw hashes.
    "ALTER TABLE qd.ingest_runs ADD COLUMN pull_id VARCHAR;
     ALTER TABLE qd.ingest_runs ADD COLUMN pull VARCHAR;",
    // 6: documents' files as collected (a re-collect keeps the old row,
    // no longer current), and files attached to sampled rows; both point
    // into the content-addressed store under evidence/blobs/. The built-in
    // `documents` source exists, empty, until the first collect fills it
    // (its columns are documents::table::COLUMNS).
    "CREATE TABLE qd.document_files (
         document     VARCHAR NOT NULL,
         version      VARCHAR NOT NULL,
         path         VARCHAR NOT NULL,
         sha256       VARCHAR NOT NULL,
         bytes        BIGINT NOT NULL,
         collected_at TIMESTAMP NOT NULL,
         collected_by VARCHAR NOT NULL,
         current      BOOLEAN NOT NULL
     );
     CREATE TABLE qd.attachments (
         audit       VARCHAR NOT NULL,
         control     VARCHAR NOT NULL,
         sample_id   BIGINT NOT NULL,
         key         VARCHAR NOT NULL,
         name        VARCHAR NOT NULL,
         sha256      VARCHAR NOT NULL,
         bytes       BIGINT NOT NULL,
         note        VARCHAR,
         attached_at TIMESTAMP NOT NULL,
         attached_by VARCHAR NOT NULL
     );
     CREATE TABLE IF NOT EXISTS main.documents (
         id VARCHAR NOT NULL, version VARCHAR NOT NULL, title VARCHAR NOT NULL, kind VARCHAR NOT NULL,
         effective DATE NOT NULL, superseded DATE, covers_from DATE, covers_to DATE, owner VARCHAR,
         approved_by VARCHAR, approved_at DATE, renew VARCHAR, renew_by DATE, subject VARCHAR,
         controls VARCHAR[] NOT NULL, files VARCHAR[] NOT NULL, sha256 VARCHAR, bytes BIGINT,
         collected_at TIMESTAMP
     );",
    // 7: an audit's expected occurrences, judged when it started (one row
    // per slot and `per` value), and the system or missed slot a finding
    // names.
    "CREATE TABLE qd.occurrences (
         audit   VARCHAR NOT NULL,
         control VARCHAR NOT NULL,
         spec    VARCHAR NOT NULL,
         slot    VARCHAR NOT NULL,
         starts  DATE NOT NULL,
         ends    DATE NOT NULL,
         per     VARCHAR NOT NULL,
         rows    BIGINT NOT NULL,
         state   VARCHAR NOT NULL,
         closes  TIMESTAMP NOT NULL
     );
     ALTER TABLE qd.findings ADD COLUMN system VARCHAR;
     ALTER TABLE qd.findings ADD COLUMN slot VARCHAR;",
    // 8: the inventory's sightings, kept at ingest (inventory/kept.rs): per
    // set (a source, a column, a `where`), each value of the column per
    // 15-minute bucket of the source's timestamp. Derived from the evidence
    // and rebuilt from it; never evidence itself.
    "CREATE TABLE qd.sighting_sets (
         set_id      BIGINT NOT NULL,
         source      VARCHAR NOT NULL,
         column_name VARCHAR NOT NULL,
         filter      VARCHAR,
         timestamp   VARCHAR NOT NULL,
         built_at    TIMESTAMP NOT NULL
     );
     CREATE TABLE qd.sightings (
         set_id   BIGINT NOT NULL,
         value    VARCHAR NOT NULL,
         bucket   BIGINT NOT NULL,
         first_us BIGINT NOT NULL,
         last_us  BIGINT NOT NULL,
         rows     BIGINT NOT NULL
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
