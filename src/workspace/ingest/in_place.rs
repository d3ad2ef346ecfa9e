//! Parquet read in place (`mode = "in_place"`): the source is a view over
//! the very files of a lake folder, never a copy. A refresh lists the file
//! set — each file's path, size, mtime and the sha256 of its Parquet footer
//! (the schema, row groups and statistics; a rewritten file has another) —
//! points the view at exactly those files, counts the rows per 15-minute
//! bucket in one scan, and records all of it as a run. A draw reads only
//! while the files are still the recorded set; `verify` says when they
//! changed since.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::checks::{check_columns, table_columns};
use super::record::{RunRecord, open_period_rows, record_failure};
use super::{Counts, IngestError, IngestReport, STEPS, update_stats};
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::workspace::config::{IngestMode, SourceConfig, SourceFormat};
use crate::workspace::sql::{quote_ident, quote_literal};

/// Parquet's magic, at the start and the end of every file.
const MAGIC: &[u8; 4] = b"PAR1";
/// The largest footer read (a footer of more is not a sane evidence file).
const MAX_FOOTER: u64 = 256 << 20;

/// One file of a source read in place, as a refresh recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeFile {
    pub path: String,
    pub bytes: u64,
    /// Last modification, UTC, RFC 3339 with nanoseconds.
    pub mtime: String,
    /// sha256 of the footer: its metadata, its length and the magic.
    pub footer_sha256: String,
    /// Rows, from the footer (0 until the refresh has counted them).
    #[serde(default)]
    pub rows: u64,
}

/// How a file set differs from the one recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    Added(String),
    Removed(String),
    /// Same path, another footer (or size): the file was rewritten.
    Rewritten(String),
}

impl std::fmt::Display for FileChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Added(p) => write!(f, "{} was added", crate::text::visible(p)),
            Self::Removed(p) => write!(f, "{} is gone", crate::text::visible(p)),
            Self::Rewritten(p) => write!(f, "{} was rewritten (its footer differs)", crate::text::visible(p)),
        }
    }
}

/// The source's files on disk now: a folder means every `*.parquet` under
/// it (hive partitions are folders), anything else is a glob.
pub fn list_files(root: &Path, source: &SourceConfig) -> Result<Vec<LakeFile>, IngestError> {
    let pattern = source.path.as_ref().ok_or_else(|| IngestError::NoPath(source.name.clone()))?;
    let folder = root.join(pattern);
    let glob_text = if folder.is_dir() {
        format!("{}/**/*.parquet", glob::Pattern::escape(&folder.to_string_lossy()))
    } else {
        Path::new(&glob::Pattern::escape(&root.to_string_lossy())).join(pattern).to_string_lossy().into_owned()
    };
    let no_files = || IngestError::NoFiles { source_name: source.name.clone(), pattern: pattern.clone() };
    let mut paths: Vec<PathBuf> =
        glob::glob(&glob_text).map_err(|_| no_files())?.filter_map(Result::ok).filter(|p| p.is_file()).collect();
    paths.sort();
    if paths.is_empty() {
        return Err(no_files());
    }
    paths.iter().map(|p| describe_file(p)).collect()
}

/// A source read in place from Parquet files (not from a warehouse).
pub fn is_lake(source: &SourceConfig) -> bool {
    source.mode == IngestMode::InPlace && source.format == SourceFormat::Parquet
}

/// The folders the in-place sources read: a folder path itself, else the
/// fixed part of a glob before its first wildcard. A locked-down database
/// may read (only) there.
pub fn lake_folders(root: &Path, sources: &[SourceConfig]) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = sources
        .iter()
        .filter(|s| is_lake(s))
        .filter_map(|s| s.path.as_deref())
        .map(|pattern| {
            let fixed: PathBuf = Path::new(pattern)
                .components()
                .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
                .collect();
            let full = root.join(fixed);
            if full.is_dir() { full } else { full.parent().map_or_else(|| root.to_path_buf(), Path::to_path_buf) }
        })
        .collect();
    folders.sort();
    folders.dedup();
    folders
}

/// Size, mtime and footer hash of one Parquet file, reading only its tail.
pub fn describe_file(path: &Path) -> Result<LakeFile, IngestError> {
    let fail = |e| IngestError::ReadFile { path: path.to_path_buf(), source: e };
    let not_parquet = |why: &str| IngestError::Malformed {
        file: path.display().to_string(),
        message: format!("not a Parquet file ({why})"),
    };
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let meta = file.metadata().map_err(fail)?;
    if !meta.is_file() {
        return Err(IngestError::NotRegular(path.to_path_buf()));
    }
    let bytes = meta.len();
    if bytes < 12 {
        return Err(not_parquet("shorter than a header and a footer"));
    }
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::End(-8)).map_err(fail)?;
    file.read_exact(&mut tail).map_err(fail)?;
    if &tail[4..] != MAGIC {
        return Err(not_parquet("it does not end in PAR1"));
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer > MAX_FOOTER || footer + 12 > bytes {
        return Err(not_parquet("its footer length is out of range"));
    }
    let mut metadata = vec![0u8; footer as usize];
    file.seek(SeekFrom::End(-8 - footer as i64)).map_err(fail)?;
    file.read_exact(&mut metadata).map_err(fail)?;
    let footer_sha256 = hex::encode(Sha256::new().chain_update(&metadata).chain_update(tail).finalize());
    let mtime = meta
        .modified()
        .ok()
        .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_default();
    Ok(LakeFile { path: path.display().to_string(), bytes, mtime, footer_sha256, rows: 0 })
}

/// What changed between the `recorded` file set and the one on disk `now`.
pub fn changes(recorded: &[LakeFile], now: &[LakeFile]) -> Vec<FileChange> {
    let mut out = Vec::new();
    for old in recorded {
        match now.iter().find(|f| f.path == old.path) {
            None => out.push(FileChange::Removed(old.path.clone())),
            Some(new) if new.footer_sha256 != old.footer_sha256 || new.bytes != old.bytes => {
                out.push(FileChange::Rewritten(old.path.clone()))
            }
            Some(_) => {}
        }
    }
    out.extend(
        now.iter().filter(|f| !recorded.iter().any(|o| o.path == f.path)).map(|f| FileChange::Added(f.path.clone())),
    );
    out
}

/// The file set of the source's latest good refresh finished by `at` (UTC
/// TIMESTAMP text; None: the latest of all).
pub fn recorded_files(ws: &Workspace, source: &str, at: Option<&str>) -> Result<Option<Vec<LakeFile>>, IngestError> {
    let files: Option<String> = crate::workspace::optional(ws.conn.query_row(
        "SELECT files FROM qd.ingest_runs WHERE source = ? AND status = 'ok' AND mode = 'in_place'
           AND (CAST(? AS TIMESTAMP) IS NULL OR finished_at <= CAST(? AS TIMESTAMP))
         ORDER BY run_id DESC LIMIT 1",
        duckdb::params![source, at, at],
        |r| r.get(0),
    ))?;
    Ok(files.and_then(|text| serde_json::from_str(&text).ok()))
}

/// The changes to an in-place source's files since its refresh in force at
/// `at` (None: now): an empty list when the files are as recorded.
pub fn changes_since(ws: &Workspace, source: &SourceConfig, at: Option<&str>) -> Result<Vec<FileChange>, IngestError> {
    let recorded = recorded_files(ws, &source.name, at)?.unwrap_or_default();
    let now = match list_files(&ws.root, source) {
        Ok(files) => files,
        Err(IngestError::NoFiles { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(changes(&recorded, &now))
}

/// Refuses to read a population whose in-place sources' files are no
/// longer the set their last refresh recorded: what a draw would read
/// must be what the run log says it read.
pub fn ensure_unchanged(ws: &Workspace, sql: &str) -> Result<(), String> {
    if !ws.config.sources.iter().any(|s| s.mode == IngestMode::InPlace) {
        return Ok(());
    }
    let Ok(tables) = ws.guard().tables_read(sql) else { return Ok(()) };
    for source in ws.config.sources.iter().filter(|s| is_lake(s) && tables.contains(&s.name)) {
        let changed = changes_since(ws, source, None).map_err(|e| e.to_string())?;
        if !changed.is_empty() {
            let shown = changed.iter().take(3).map(ToString::to_string).collect::<Vec<_>>().join("; ");
            let more = if changed.len() > 3 { format!(" (and {} more)", changed.len() - 3) } else { String::new() };
            return Err(format!(
                "source `{name}` is read in place and its files changed since its last refresh: {shown}{more}; run `quarterdeck refresh {name}` first; nothing was drawn",
                name = source.name
            ));
        }
    }
    Ok(())
}

/// The view's SELECT over exactly these files; hive partition folders
/// (`day=2026-07-01/`) become columns. A timestamp stored with a zone is
/// kept as UTC, as ingest keeps it.
fn view_sql(files: &[LakeFile], timestamp: Option<(&str, &str)>) -> String {
    let list = files.iter().map(|f| quote_literal(&f.path)).collect::<Vec<_>>().join(", ");
    let replace = match timestamp {
        Some((column, "TIMESTAMP WITH TIME ZONE")) => {
            let ts = quote_ident(column);
            format!(" REPLACE (make_timestamp(epoch_us({ts})) AS {ts})")
        }
        _ => String::new(),
    };
    format!("SELECT *{replace} FROM read_parquet([{list}], hive_partitioning = true, union_by_name = true)")
}

/// Refreshes an in-place source: the file set, the view, the counts, the run.
pub(super) fn refresh(
    ws: &Workspace,
    source: &SourceConfig,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    let started = ws.now_text();
    let before = open_period_rows(&ws.conn, &source.name).unwrap_or_default();
    progress.step(&format!("listing the files of {}", source.name), 0, STEPS);
    let outcome = list_files(&ws.root, source).and_then(|files| {
        crate::workspace::in_transaction(&ws.conn, || {
            let (files, counts) = point_view(ws, source, files, &started, progress)?;
            progress.step("recording the run", STEPS - 1, STEPS);
            let run = RunRecord::ok(source, &started, &counts, serde_json::to_value(&files).unwrap_or_default());
            let run_id = run.write(ws, Some(&before))?;
            Ok((run_id, files, counts))
        })
    });
    match outcome {
        Ok((run_id, files, counts)) => {
            crate::workspace::action_log::write_head_file(ws)?;
            Ok(IngestReport {
                run_id,
                source: source.name.clone(),
                mode: source.mode,
                files: files
                    .into_iter()
                    .map(|f| super::IngestedFile { path: f.path, sha256: f.footer_sha256, bytes: f.bytes })
                    .collect(),
                rows: counts.inserted,
                skipped: 0,
                total_rows: counts.total,
            })
        }
        Err(err) => {
            record_failure(ws, source, &started, &err, serde_json::json!([]))?;
            Err(err)
        }
    }
}

/// Inside the caller's transaction: the view over `files`, checked, counted.
fn point_view(
    ws: &Workspace,
    source: &SourceConfig,
    mut files: Vec<LakeFile>,
    now: &str,
    progress: &dyn Progress,
) -> Result<(Vec<LakeFile>, Counts), IngestError> {
    let conn = &ws.conn;
    let view = quote_ident(&source.name);
    let shown = source.path.clone().unwrap_or_default();
    let copied: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?",
        [&source.name],
        |r| r.get(0),
    )?;
    if copied {
        return Err(IngestError::Malformed {
            file: shown,
            message: format!(
                "source `{}` holds rows ingested into the workspace; an in-place source cannot replace them (give the lake source another name)",
                source.name
            ),
        });
    }
    let malformed =
        |e: duckdb::Error| IngestError::Malformed { file: shown.clone(), message: super::reader_message(&e) };
    progress.step(&format!("reading the footers of {} file(s)", files.len()), 1, STEPS);
    conn.execute_batch(&format!("CREATE OR REPLACE VIEW {view} AS {}", view_sql(&files, None))).map_err(malformed)?;
    let columns = table_columns(conn, &source.name)?;
    check_columns(source, &shown, &columns)?;
    let ts_type = columns.iter().find(|(c, _)| *c == source.timestamp).map(|(_, t)| t.clone()).unwrap_or_default();
    if !(ts_type.starts_with("TIMESTAMP") || ts_type == "DATE") {
        return Err(IngestError::Malformed {
            file: shown,
            message: format!(
                "field `{}`: the files store it as {ts_type}; an in-place source needs a Parquet timestamp or date there (it is read as it lies, never converted)",
                source.timestamp
            ),
        });
    }
    conn.execute_batch(&format!(
        "CREATE OR REPLACE VIEW {view} AS {}",
        view_sql(&files, Some((&source.timestamp, &ts_type)))
    ))
    .map_err(malformed)?;
    let list = files.iter().map(|f| quote_literal(&f.path)).collect::<Vec<_>>().join(", ");
    let mut stmt = conn.prepare(&format!("SELECT file_name, num_rows FROM parquet_file_metadata([{list}])"))?;
    let rows: Vec<(String, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>().map_err(malformed)?;
    for file in &mut files {
        file.rows = rows.iter().find(|(p, _)| *p == file.path).map_or(0, |(_, n)| (*n).max(0) as u64);
    }
    let total: u64 = files.iter().map(|f| f.rows).sum();
    progress.step(&format!("counting {total} row(s) of {} in 15-minute buckets", source.name), 2, STEPS);
    update_stats(conn, &source.name, &view, &quote_ident(&source.timestamp), true, total, now)?;
    // The files must not have moved while they were read.
    let again = list_files(&ws.root, source)?;
    if let Some(change) = changes(&files, &again).into_iter().next() {
        return Err(IngestError::Malformed {
            file: shown,
            message: format!("the file set changed while it was read: {change}; nothing was recorded, refresh again"),
        });
    }
    Ok((files, Counts { inserted: total, skipped: 0, total }))
}

#[cfg(test)]
#[path = "in_place_tests.rs"]
mod tests;
