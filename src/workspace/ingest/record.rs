//! A run as it is recorded: one row in qd.ingest_runs and one action-log
//! entry, with how it moved each open audit's population.

use duckdb::Connection;

use super::{Counts, PullRun};
use crate::workspace::config::SourceConfig;
use crate::workspace::{Workspace, actor};

/// One run of a source, good or bad, as it is written down.
pub(super) struct RunRecord<'a> {
    pub source: &'a SourceConfig,
    pub started: &'a str,
    pub status: &'a str,
    pub counts: &'a Counts,
    /// The files read, as recorded: a JSON array.
    pub files: serde_json::Value,
    pub error: Option<&'a str>,
    pub pull: Option<&'a PullRun>,
}

/// Records a run that failed with `error` (best effort: the error is what
/// the caller returns either way) and moves the head file with it.
pub(super) fn record_failure(
    ws: &Workspace,
    source: &SourceConfig,
    started: &str,
    error: &super::IngestError,
    files: serde_json::Value,
) -> Result<(), super::IngestError> {
    let message = error.to_string();
    let counts = Counts::default();
    let recorded = crate::workspace::in_transaction(&ws.conn, || {
        RunRecord { source, started, status: "failed", counts: &counts, files, error: Some(&message), pull: None }
            .write(ws, None)
    });
    if recorded.is_ok() {
        crate::workspace::action_log::write_head_file(ws)?;
    }
    Ok(())
}

impl<'a> RunRecord<'a> {
    /// A good run that read `files` (a connector's run adds its pull).
    pub fn ok(source: &'a SourceConfig, started: &'a str, counts: &'a Counts, files: serde_json::Value) -> Self {
        Self { source, started, status: "ok", counts, files, error: None, pull: None }
    }

    /// Inserts the run and logs it, inside the caller's transaction.
    /// `before` is each open audit's population before the load; `None`
    /// when the run did not touch the evidence.
    pub fn write(&self, ws: &Workspace, before: Option<&[(String, u64)]>) -> duckdb::Result<i64> {
        let run_id = self.insert(ws)?;
        let after = open_period_rows(&ws.conn, &self.source.name)?;
        self.log(ws, run_id, before.unwrap_or(&after), &after)?;
        Ok(run_id)
    }

    fn insert(&self, ws: &Workspace) -> duckdb::Result<i64> {
        let files_json = self.files.to_string();
        let pull_id = self.pull.map(|p| p.pull_id.as_str());
        let pull_json = self.pull.map(|p| p.summary.to_string());
        ws.conn.query_row(
            "INSERT INTO qd.ingest_runs (source, mode, actor, started_at, finished_at, status, rows, skipped, files, error, pull_id, pull)
             VALUES (?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), ?, ?, ?, ?, ?, ?, ?) RETURNING run_id",
            duckdb::params![
                self.source.name,
                self.source.mode.as_str(),
                actor(),
                self.started,
                ws.now_text(),
                self.status,
                self.counts.inserted,
                self.counts.skipped,
                files_json,
                self.error,
                pull_id,
                pull_json
            ],
            |r| r.get(0),
        )
    }

    /// The run as an action-log entry: what was loaded (each file's
    /// sha256), and how it moved the population of every open audit's
    /// period.
    fn log(
        &self,
        ws: &Workspace,
        run_id: i64,
        before: &[(String, u64)],
        after: &[(String, u64)],
    ) -> duckdb::Result<()> {
        let periods: Vec<serde_json::Value> = after
            .iter()
            .map(|(label, rows)| {
                let was = before.iter().find(|(l, _)| l == label).map_or(0, |(_, n)| *n);
                serde_json::json!({"audit": label, "rows_before": was, "rows_after": rows})
            })
            .collect();
        let mut entry = serde_json::json!({
            "run_id": run_id, "source": self.source.name, "mode": self.source.mode.as_str(),
            "status": self.status, "files": self.files, "rows": self.counts.inserted,
            "skipped": self.counts.skipped, "total_rows": self.counts.total, "error": self.error,
            "open_audits": periods,
        });
        if let (Some(pull), Some(map)) = (self.pull, entry.as_object_mut()) {
            map.insert("pull".into(), pull.summary.clone());
        }
        crate::workspace::action_log::append(ws, "ingest.run", entry)?;
        Ok(())
    }
}

/// Rows of `source` inside the period of each audit not yet closed, from
/// the bucket counts (no scan of the evidence).
pub(super) fn open_period_rows(conn: &Connection, source: &str) -> duckdb::Result<Vec<(String, u64)>> {
    let mut stmt = conn.prepare(
        "SELECT a.label, coalesce(sum(b.rows), 0)::UBIGINT FROM qd.audits a
         LEFT JOIN qd.source_buckets b ON b.source = ? AND b.bucket >= a.period_start AND b.bucket < a.period_end
         WHERE a.status <> 'closed' GROUP BY a.label ORDER BY a.label",
    )?;
    stmt.query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
}
