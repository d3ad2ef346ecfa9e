//! Connector pulls through ingest: a pull's records load by the same path
//! as files, and a pull that loads nothing is still recorded.

use std::path::{Path, PathBuf};

use duckdb::Connection;

use super::record::RunRecord;
use super::{Counts, IngestError, IngestReport, ingest_run};
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::workspace::config::SourceConfig;
use crate::workspace::problems::did_you_mean;
use crate::workspace::sql::quote_literal;

/// A connector's pull that a run loads (or records as failed).
#[derive(Debug, Clone)]
pub struct PullRun {
    pub pull_id: String,
    /// The manifest's summary: requests, pages, totals, raw files' hashes.
    pub summary: serde_json::Value,
}

/// Loads a connector's pulled records through the same path as files; the
/// run names the pull.
pub fn ingest_pull(
    ws: &Workspace,
    source_name: &str,
    records: &Path,
    pull: &PullRun,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    ingest_run(ws, source_name, &[records.to_path_buf()], Some(pull), progress)
}

/// Records a pull that loads nothing: one that failed (`error`), or one
/// that found no new records. The evidence is not touched.
pub fn record_pull(ws: &Workspace, source_name: &str, pull: &PullRun, error: Option<&str>) -> Result<i64, IngestError> {
    ws.ensure_writable("record a pull")?;
    let source = ws.config.source(source_name).ok_or_else(|| IngestError::UnknownSource {
        name: source_name.to_string(),
        hint: did_you_mean(source_name, ws.config.source_names()),
    })?;
    let started = ws.now_text();
    let status = if error.is_some() { "failed" } else { "ok" };
    let total: u64 = crate::workspace::optional(ws.conn.query_row(
        "SELECT rows FROM qd.source_stats WHERE source = ?",
        [source_name],
        |r| r.get(0),
    ))?
    .unwrap_or(0);
    let counts = Counts { inserted: 0, skipped: 0, total };
    ws.conn.execute_batch("BEGIN TRANSACTION")?;
    let run = RunRecord {
        source,
        started: &started,
        status,
        counts: &counts,
        files: serde_json::json!([]),
        error,
        pull: Some(pull),
    };
    let recorded = run.write(ws, None);
    match recorded {
        Ok(id) => {
            ws.conn.execute_batch("COMMIT")?;
            crate::workspace::action_log::write_head_file(ws)?;
            Ok(id)
        }
        Err(e) => {
            let _ = ws.conn.execute_batch("ROLLBACK");
            Err(e.into())
        }
    }
}

/// The SELECT over a connector's pulled records. An API's records vary
/// from pull to pull (a nested object with other keys, a field null this
/// time), so the shape is fixed here: nested values as JSON, the types of
/// the table when it exists, the timestamp as text for the check that
/// makes it UTC.
pub(super) fn pulled_reader_sql(
    conn: &Connection,
    source: &SourceConfig,
    files: &[PathBuf],
    existing: &[(String, String)],
) -> duckdb::Result<String> {
    let list =
        format!("[{}]", files.iter().map(|f| quote_literal(&f.to_string_lossy())).collect::<Vec<_>>().join(", "));
    let sniff = format!(
        "SELECT * FROM read_json({list}, format = 'newline_delimited', union_by_name = true, maximum_depth = 2)"
    );
    let columns = crate::workspace::population::describe(conn, &sniff)?
        .into_iter()
        .map(|(column, sniffed)| {
            let kind = if column == source.timestamp {
                "VARCHAR".to_string()
            } else if let Some((_, kind)) = existing.iter().find(|(c, _)| *c == column) {
                kind.clone()
            } else if sniffed.trim_matches('"') == "NULL" {
                "VARCHAR".to_string()
            } else if sniffed.starts_with("STRUCT") || sniffed.starts_with("MAP") || sniffed.ends_with(']') {
                "JSON".to_string()
            } else {
                sniffed
            };
            format!("{}: {}", quote_literal(&column), quote_literal(&kind))
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!("SELECT * FROM read_json({list}, format = 'newline_delimited', columns = {{{columns}}})"))
}
