//! Ingest: files → DuckDB's own reader → a staging table → checks → append
//! or replace, all in one transaction. A malformed file leaves the evidence
//! exactly as it was; every run, good or bad, is recorded in qd.ingest_runs.

use std::io::Read;
use std::path::{Path, PathBuf};

use duckdb::Connection;
use sha2::{Digest, Sha256};

use super::config::{IngestMode, SourceConfig, SourceFormat};
use super::problems::did_you_mean;
use super::sql::{quote_ident, quote_literal};
use super::{Workspace, WorkspaceError};
use crate::progress::{Progress, Silent};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("unknown source `{name}`{hint}; sources are declared in quarterdeck.toml")]
    UnknownSource { name: String, hint: String },
    #[error("source `{source_name}`: no files match `{pattern}`")]
    NoFiles { source_name: String, pattern: String },
    #[error(
        "source `{0}` is read in place (mode = \"in_place\"): it reads the files at its `path`, not files named here; nothing was ingested"
    )]
    InPlaceFiles(String),
    #[error(
        "source `{0}` stays in its warehouse: it reads no files; `quarterdeck refresh {0}` counts it there, nothing is copied"
    )]
    InWarehouse(String),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("source `{0}` has no `path` in quarterdeck.toml; name the files to ingest")]
    NoPath(String),
    #[error("{path}: {source}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0}: not a regular file (a pipe, device or folder cannot be hashed and loaded as one); nothing was ingested"
    )]
    NotRegular(PathBuf),
    #[error(
        "{0}: the file changed while it was being ingested (size, time or identity differ); nothing was ingested — ingest it again once it is complete"
    )]
    Changed(PathBuf),
    #[error("{} malformed row(s); nothing was ingested:\n{}", .count, render_rejects(.rejects))]
    Rejected { count: u64, rejects: Vec<Reject> },
    #[error("{file}: {message}; nothing was ingested")]
    Malformed { file: String, message: String },
    #[error(transparent)]
    MissingColumn(Box<MissingColumn>),
    #[error(
        "{files}: field `{column}` holds values that are not timestamps (e.g. `{example}` in row {row}); nothing was ingested"
    )]
    NotATimestamp { files: String, column: String, example: String, row: u64 },
    #[error(
        "{files}: key ({key}) = ({value}) appears {count} times; a key must identify one row; nothing was ingested"
    )]
    DuplicateKey { files: String, key: String, value: String, count: u64 },
    #[error(
        "{files}: the columns differ from table `{source_name}`: {detail}; nothing was ingested (use mode = \"replace\" to change a source's shape)"
    )]
    ShapeChanged { source_name: String, files: String, detail: String },
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("database: {0}")]
    Database(#[from] duckdb::Error),
}

impl crate::error::Kind for IngestError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Workspace(e) => e.kind(),
            Self::Database(e) => e.kind(),
            Self::Warehouse(e) => e.kind(),
            _ => ErrorKind::BadInput,
        }
    }
}

/// A key or timestamp column the files do not have.
#[derive(Debug, thiserror::Error)]
#[error(
    "{files}: field `{column}` missing: source `{source_name}` needs it as {role}{hint} (columns: {available}); nothing was ingested"
)]
pub struct MissingColumn {
    pub source_name: String,
    pub files: String,
    pub column: String,
    pub role: String,
    pub hint: String,
    pub available: String,
}

/// One row DuckDB's CSV reader refused, with where and why.
#[derive(Debug, Clone)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub message: String,
}

fn render_rejects(rejects: &[Reject]) -> String {
    rejects
        .iter()
        .map(|r| {
            let field = if r.column.is_empty() { String::new() } else { format!(" field `{}`:", r.column) };
            format!("{}:{}:{field} {}", r.file, r.line, r.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A file that was read, with its hash as recorded in the run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestedFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct IngestReport {
    pub run_id: i64,
    pub source: String,
    pub mode: IngestMode,
    pub files: Vec<IngestedFile>,
    /// Rows added to the source.
    pub rows: u64,
    /// Rows whose key was already present (append mode), left as they were.
    pub skipped: u64,
    /// Rows in the source after the run.
    pub total_rows: u64,
}

const STAGING_PREFIX: &str = "qd_staging_";

mod checks;
pub mod in_place;
mod pull;
mod record;
mod warehouse;
use crate::workspace::functions::Probes;
use checks::{
    check_columns, check_rejects, check_same_shape, check_unique_keys, drop_rejects, normalise_timestamp, table_columns,
};
use pull::pulled_reader_sql;
pub use pull::{PullRun, ingest_pull, record_pull};
use record::{RunRecord, open_period_rows};

/// Ingests every declared source from its configured path, in order.
pub fn ingest_all(ws: &Workspace) -> Result<Vec<IngestReport>, IngestError> {
    let names: Vec<String> = ws.config.sources.iter().map(|s| s.name.clone()).collect();
    names.iter().map(|name| ingest(ws, name, &[])).collect()
}

/// Loads `files` (or the source's configured path) into `source_name`.
pub fn ingest(ws: &Workspace, source_name: &str, files: &[PathBuf]) -> Result<IngestReport, IngestError> {
    ingest_with(ws, source_name, files, &Silent)
}

/// The steps of one ingest, as `Progress` is told them.
const STEPS: u64 = 4;

/// [`ingest`], telling `progress` of each step (reading, checking, writing,
/// recording the run).
pub fn ingest_with(
    ws: &Workspace,
    source_name: &str,
    files: &[PathBuf],
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    ingest_run(ws, source_name, files, None, progress)
}

fn ingest_run(
    ws: &Workspace,
    source_name: &str,
    files: &[PathBuf],
    pull: Option<&PullRun>,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    ws.ensure_writable("ingest")?;
    let source = ws.config.source(source_name).ok_or_else(|| IngestError::UnknownSource {
        name: source_name.to_string(),
        hint: did_you_mean(source_name, ws.config.source_names()),
    })?;
    if source.warehouse.is_some() {
        if !files.is_empty() {
            return Err(IngestError::InWarehouse(source.name.clone()));
        }
        return warehouse::refresh(ws, source, progress);
    }
    if source.mode == IngestMode::InPlace {
        if !files.is_empty() {
            return Err(IngestError::InPlaceFiles(source.name.clone()));
        }
        return in_place::refresh(ws, source, progress);
    }
    let files = resolve_files(&ws.root, source, files)?;
    // DuckDB and the hasher each read a file: both must see the same bytes.
    // A file whose size, mtime or inode moves between before and after the
    // load is refused, so the recorded sha256 is of the bytes loaded.
    let stamps = files.iter().map(|f| stamp(f)).collect::<Result<Vec<_>, _>>()?;
    let started = ws.now_text();
    let period_rows_before = open_period_rows(&ws.conn, source_name).unwrap_or_default();
    let (hashed, loaded) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| {
            give_way();
            hash_files(&files)
        });
        let loaded = load(&ws.conn, &ws.functions.probes, source, &files, &started, progress);
        (hashing.join(), loaded)
    });
    let hashed = match hashed {
        Ok(result) => result,
        Err(_) => Err(IngestError::Malformed { file: "(hashing)".into(), message: "file hashing failed".into() }),
    };
    let unchanged = files.iter().zip(&stamps).try_for_each(|(file, before)| match stamp(file) {
        Ok(after) if after == *before => Ok(()),
        _ => Err(IngestError::Changed(file.clone())),
    });
    let outcome = unchanged.and(hashed).and_then(|hashed| loaded.map(|counts| (hashed, counts)));
    progress.step("recording the run", STEPS - 1, STEPS);
    match outcome {
        Ok((hashed, counts)) => {
            let run = RunRecord {
                pull,
                ..RunRecord::ok(source, &started, &counts, serde_json::to_value(&hashed).unwrap_or_default())
            };
            let run_id = run.write(ws, Some(&period_rows_before));
            match run_id.and_then(|id| ws.conn.execute_batch("COMMIT").map(|_| id)) {
                Ok(run_id) => {
                    super::action_log::write_head_file(ws)?;
                    crate::workspace::inventory::kept::keep(ws, &source.name);
                    Ok(IngestReport {
                        run_id,
                        source: source.name.clone(),
                        mode: source.mode,
                        files: hashed,
                        rows: counts.inserted,
                        skipped: counts.skipped,
                        total_rows: counts.total,
                    })
                }
                Err(e) => {
                    let _ = ws.conn.execute_batch("ROLLBACK");
                    Err(e.into())
                }
            }
        }
        Err(err) => {
            let _ = ws.conn.execute_batch("ROLLBACK");
            drop_rejects(&ws.conn);
            // The failed run is recorded on its own, after the rollback.
            let listed: Vec<IngestedFile> = files
                .iter()
                .map(|p| IngestedFile { path: p.display().to_string(), sha256: String::new(), bytes: 0 })
                .collect();
            let counts = Counts::default();
            let _ = ws.conn.execute_batch("BEGIN TRANSACTION");
            let message = err.to_string();
            let run = RunRecord {
                source,
                started: &started,
                status: "failed",
                counts: &counts,
                files: serde_json::to_value(&listed).unwrap_or_default(),
                error: Some(&message),
                pull,
            };
            let recorded = run.write(ws, None);
            match recorded {
                Ok(_) => {
                    ws.conn.execute_batch("COMMIT")?;
                    super::action_log::write_head_file(ws)?;
                }
                Err(_) => ws.conn.execute_batch("ROLLBACK")?,
            }
            Err(err)
        }
    }
}

fn resolve_files(root: &Path, source: &SourceConfig, given: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let pattern = source.path.as_ref().ok_or_else(|| IngestError::NoPath(source.name.clone()))?;
    // The workspace folder's own name is literal, whatever it contains (`ws[1]`).
    let full = Path::new(&glob::Pattern::escape(&root.to_string_lossy())).join(pattern);
    let no_files = || IngestError::NoFiles { source_name: source.name.clone(), pattern: pattern.clone() };
    let mut files: Vec<PathBuf> = glob::glob(&full.to_string_lossy())
        .map_err(|_| no_files())?
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(no_files());
    }
    Ok(files)
}

/// What identifies a file's content without reading it: size, mtime, inode.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> Result<Stamp, IngestError> {
    let meta = std::fs::metadata(path).map_err(|e| IngestError::ReadFile { path: path.to_path_buf(), source: e })?;
    if !meta.is_file() {
        return Err(IngestError::NotRegular(path.to_path_buf()));
    }
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Ok(Stamp { len: meta.len(), modified: meta.modified().ok(), inode })
}

/// Lowers the calling thread's scheduling priority (on Linux, niceness is
/// per thread): the file hashing then runs mostly while DuckDB leaves a
/// core idle (its single-threaded checks after the read) instead of taking
/// one from its reader.
fn give_way() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread (who = 0) touches no memory.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

fn hash_files(files: &[PathBuf]) -> Result<Vec<IngestedFile>, IngestError> {
    files
        .iter()
        .map(|path| {
            let fail = |e| IngestError::ReadFile { path: path.clone(), source: e };
            let mut file = std::fs::File::open(path).map_err(fail)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut bytes = 0u64;
            loop {
                let n = file.read(&mut buf).map_err(fail)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                bytes += n as u64;
            }
            Ok(IngestedFile { path: path.display().to_string(), sha256: hex::encode(hasher.finalize()), bytes })
        })
        .collect()
}

#[derive(Debug, Default)]
struct Counts {
    inserted: u64,
    skipped: u64,
    total: u64,
}

/// Reads the files into staging and merges them. Leaves the transaction
/// open on success (the caller records the run, then commits).
fn load(
    conn: &Connection,
    probes: &Probes,
    source: &SourceConfig,
    files: &[PathBuf],
    now: &str,
    progress: &dyn Progress,
) -> Result<Counts, IngestError> {
    let table = quote_ident(&source.name);
    let staging = quote_ident(&format!("{STAGING_PREFIX}{}", source.name));
    let shown = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
    let existing = table_columns(conn, &source.name)?;
    drop_rejects(conn);
    conn.execute_batch("BEGIN TRANSACTION")?;
    progress.step(&format!("reading {} file(s) into {}", files.len(), source.name), 0, STEPS);
    let reader = match source.format {
        SourceFormat::Connector(_) => pulled_reader_sql(conn, source, files, &existing)
            .map_err(|e| IngestError::Malformed { file: shown.clone(), message: reader_message(&e) })?,
        _ => reader_sql(source, files, &existing),
    };
    if let Err(e) = conn.execute_batch(&format!("CREATE TABLE {staging} AS {reader}")) {
        return Err(IngestError::Malformed { file: shown, message: reader_message(&e) });
    }
    if source.format == SourceFormat::Csv {
        check_rejects(conn)?;
    }
    let mut columns = table_columns(conn, &format!("{STAGING_PREFIX}{}", source.name))?;
    // A field that is null in every record reads as type NULL, which no
    // later row could fill: keep it as text.
    for (column, kind) in columns.iter_mut().filter(|(_, kind)| kind.trim_matches('"') == "NULL") {
        conn.execute_batch(&format!("ALTER TABLE {staging} ALTER COLUMN {} TYPE VARCHAR", quote_ident(column)))?;
        *kind = "VARCHAR".into();
    }
    progress.step("checking columns and keys", 1, STEPS);
    check_columns(source, &shown, &columns)?;
    normalise_timestamp(conn, source, &staging, &shown, &columns)?;
    check_unique_keys(conn, probes, source, &staging, &columns, &shown)?;

    progress.step(&format!("writing into {}", source.name), 2, STEPS);
    let ts = quote_ident(&source.timestamp);
    let staged: u64 = conn.query_row(&format!("SELECT count(*) FROM {staging}"), [], |r| r.get(0))?;
    let replace = source.mode == IngestMode::Replace || existing.is_empty();
    let counts = if replace {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}; ALTER TABLE {staging} RENAME TO {table};"))?;
        update_stats(conn, &source.name, &table, &ts, true, staged, now)?;
        Counts { inserted: staged, skipped: 0, total: staged }
    } else {
        check_same_shape(source, &shown, &existing, &columns)?;
        let matches = source
            .key
            .iter()
            .map(|k| format!("t.{0} IS NOT DISTINCT FROM s.{0}", quote_ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let inserted = conn.execute(
            &format!(
                "INSERT INTO {table} BY NAME SELECT * FROM {staging} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {matches})"
            ),
            [],
        )? as u64;
        let total: u64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        if inserted == staged {
            update_stats(conn, &source.name, &staging, &ts, false, total, now)?;
        } else {
            // Some rows were already present: recount the whole source once.
            update_stats(conn, &source.name, &table, &ts, true, total, now)?;
        }
        conn.execute_batch(&format!("DROP TABLE {staging}"))?;
        Counts { inserted, skipped: staged - inserted, total }
    };
    // The inventory's sightings of this source are kept again once it commits.
    crate::workspace::inventory::kept::forget(conn, &source.name)?;
    drop_rejects(conn);
    Ok(counts)
}

/// Keeps qd.source_stats and the per-15-minute bucket counts current from
/// the rows just added (`delta`), so that listing sources never scans
/// evidence. `restart` recounts from scratch (`delta` is then the whole table).
fn update_stats(
    conn: &Connection,
    source: &str,
    delta: &str,
    ts: &str,
    restart: bool,
    total: u64,
    now: &str,
) -> duckdb::Result<()> {
    if restart {
        conn.execute("DELETE FROM qd.source_buckets WHERE source = ?", [source])?;
    }
    // One scan of the new rows: counts per bucket, with each bucket's
    // exact oldest and newest timestamps for the source's range.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE __qd_delta_buckets AS
         SELECT time_bucket(INTERVAL 15 MINUTE, CAST({ts} AS TIMESTAMP)) AS bucket, count(*) AS rows,
                min(CAST({ts} AS TIMESTAMP)) AS oldest, max(CAST({ts} AS TIMESTAMP)) AS newest
         FROM {delta} WHERE {ts} IS NOT NULL GROUP BY bucket"
    ))?;
    conn.execute("INSERT INTO qd.source_buckets SELECT ?, bucket, rows FROM temp.__qd_delta_buckets", [source])?;
    let (oldest, newest): (Option<String>, Option<String>) = conn.query_row(
        "SELECT CAST(min(o) AS VARCHAR), CAST(max(n) AS VARCHAR) FROM (
             SELECT min(oldest) AS o, max(newest) AS n FROM temp.__qd_delta_buckets
             UNION ALL SELECT oldest, newest FROM qd.source_stats WHERE source = ? AND ?)",
        duckdb::params![source, !restart],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    conn.execute_batch("DROP TABLE temp.__qd_delta_buckets")?;
    conn.execute("DELETE FROM qd.source_stats WHERE source = ?", [source])?;
    conn.execute(
        "INSERT INTO qd.source_stats VALUES (?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP))",
        duckdb::params![source, total, oldest, newest, now],
    )?;
    Ok(())
}

/// The SELECT that reads the files with DuckDB's own reader.
fn reader_sql(source: &SourceConfig, files: &[PathBuf], existing: &[(String, String)]) -> String {
    let list =
        format!("[{}]", files.iter().map(|f| quote_literal(&f.to_string_lossy())).collect::<Vec<_>>().join(", "));
    match source.format {
        SourceFormat::Csv => {
            // Known column types steer DuckDB's sniffer, so a row that does not
            // fit becomes a reject with its line instead of a silent VARCHAR.
            // The timestamp is read with its UTC offset, then kept as UTC.
            // (Not CAST(… AS TIMESTAMP): DuckDB 2.0 pushes that cast into the
            // CSV scan of a CREATE TABLE AS, which then drops the offset.)
            // The dialect is RFC 4180: a sniffer guessing "no quoting" would
            // silently accept a broken quote.
            let mut types: Vec<(String, String)> =
                existing.iter().filter(|(c, _)| c != &source.timestamp).cloned().collect();
            types.push((source.timestamp.clone(), "TIMESTAMPTZ".into()));
            let types = types
                .iter()
                .map(|(c, t)| format!("{}: {}", quote_literal(c), quote_literal(t)))
                .collect::<Vec<_>>()
                .join(", ");
            let ts = quote_ident(&source.timestamp);
            format!(
                "SELECT * REPLACE (make_timestamp(epoch_us({ts})) AS {ts}) FROM read_csv({list}, header = true, \
                 delim = ',', quote = '\"', escape = '\"', store_rejects = true, types = {{{types}}})"
            )
        }
        SourceFormat::Json => format!("SELECT * FROM read_json({list}, format = 'auto', union_by_name = true)"),
        SourceFormat::Ndjson => {
            format!("SELECT * FROM read_json({list}, format = 'newline_delimited', union_by_name = true)")
        }
        SourceFormat::Parquet => format!("SELECT * FROM read_parquet({list}, union_by_name = true)"),
        SourceFormat::Connector(_) => {
            format!("SELECT * FROM read_json({list}, format = 'newline_delimited', union_by_name = true)")
        }
        // Refused before any file is read (`IngestError::InWarehouse`).
        SourceFormat::Warehouse => "SELECT 'a warehouse source reads no files' AS refused WHERE false".to_string(),
    }
}

/// DuckDB's reader message, less its error-class prefix.
fn reader_message(e: &duckdb::Error) -> String {
    let text = e.to_string();
    let cut = ["\nThe search space", "\nPossible fixes", "\n\nPossible Solution", "\nLINE "]
        .iter()
        .filter_map(|marker| text.find(marker))
        .min()
        .unwrap_or(text.len());
    text[..cut].split_whitespace().collect::<Vec<_>>().join(" ")
}
