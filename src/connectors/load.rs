//! The database side of connectors: the newest timestamp a pull starts
//! from, and loading finished pulls — in order, each once — through the
//! ingest path. Whoever holds the workspace runs this: `quarterdeck pull`
//! after fetching, or the open TUI, which picks up pages another process
//! fetched while it held the workspace.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::ConnectorError;
use super::pull::Job;
use super::store::{self, Pulled};
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::workspace::config::{SourceConfig, SourceFormat};
use crate::workspace::ingest::{self, IngestReport, PullRun};

/// What became of one pull found on disk.
#[derive(Debug)]
pub struct LoadOutcome {
    pub source: String,
    pub pull_id: String,
    pub folder: String,
    /// The pull's own outcome (failed pulls are recorded, not loaded).
    pub fetched: bool,
    pub pulled: u64,
    pub result: Result<Loaded, String>,
}

#[derive(Debug)]
pub enum Loaded {
    /// Records loaded by this run.
    Rows(IngestReport),
    /// A pull that held no new records, recorded as run `run_id`.
    Nothing { run_id: i64 },
    /// A failed pull, recorded as run `run_id` with its error.
    Failed { run_id: i64, error: String },
}

impl LoadOutcome {
    /// One line for a person: what the pull fetched and what became of it.
    pub fn describe(&self) -> String {
        match &self.result {
            Ok(Loaded::Rows(report)) => format!(
                "{}: pull {} loaded, {} row(s) added, {} already present (run {})",
                self.source, self.pull_id, report.rows, report.skipped, report.run_id
            ),
            Ok(Loaded::Nothing { run_id }) => {
                format!("{}: pull {} found nothing new (run {run_id})", self.source, self.pull_id)
            }
            Ok(Loaded::Failed { run_id, error }) => {
                format!("{}: pull {} failed (run {run_id}): {error}", self.source, self.pull_id)
            }
            Err(error) => format!("{}: pull {} did not load: {error}", self.source, self.pull_id),
        }
    }

    pub fn failed(&self) -> bool {
        !matches!(self.result, Ok(Loaded::Rows(_)) | Ok(Loaded::Nothing { .. }))
    }
}

/// A pull job per source, each starting from that source's newest
/// timestamp (loaded, or fetched and waiting).
pub fn jobs(ws: Option<&Workspace>, root: &Path, sources: &[SourceConfig], now: DateTime<Utc>) -> Vec<Job> {
    sources
        .iter()
        .map(|source| Job {
            root: root.to_path_buf(),
            source: source.clone(),
            newest: newest(ws, root, &source.name),
            now,
        })
        .collect()
}

/// The connector sources of the workspace (all, or those named).
pub fn connector_sources<'a>(ws_sources: &'a [SourceConfig], only: &[String]) -> Vec<&'a SourceConfig> {
    ws_sources
        .iter()
        .filter(|s| matches!(s.format, SourceFormat::Connector(_)))
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .collect()
}

/// The newest timestamp of `source` loaded in the workspace (when open)
/// or fetched and waiting to be loaded.
pub fn newest(ws: Option<&Workspace>, root: &Path, source: &str) -> Option<DateTime<Utc>> {
    let loaded = ws.and_then(|ws| {
        crate::workspace::optional(ws.conn.query_row(
            "SELECT CAST(newest AS VARCHAR) FROM qd.source_stats WHERE source = ?",
            [source],
            |r| r.get::<_, Option<String>>(0),
        ))
        .ok()
        .flatten()
        .flatten()
        .and_then(|t| crate::workspace::sources::parse_timestamp(&t))
        .map(|t| t.and_utc())
    });
    let waiting = store::waiting_newest(root, source);
    loaded.max(waiting)
}

/// Loads every finished pull not yet recorded, oldest first; each is
/// checked against its manifest before it loads.
pub fn load_pending(
    ws: &Workspace,
    only: &[String],
    progress: &dyn Progress,
) -> Result<Vec<LoadOutcome>, ConnectorError> {
    let recorded = recorded_pulls(ws)?;
    let mut outcomes = Vec::new();
    let sources: Vec<SourceConfig> = connector_sources(&ws.config.sources, only).into_iter().cloned().collect();
    for source in &sources {
        for pulled in store::pulls(&ws.root, &source.name, |id| !recorded.contains(id))? {
            outcomes.push(load_one(ws, source, &pulled, progress));
        }
    }
    Ok(outcomes)
}

fn recorded_pulls(ws: &Workspace) -> Result<HashSet<String>, ConnectorError> {
    let mut stmt = ws.conn.prepare("SELECT pull_id FROM qd.ingest_runs WHERE pull_id IS NOT NULL")?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

fn load_one(ws: &Workspace, source: &SourceConfig, pulled: &Pulled, progress: &dyn Progress) -> LoadOutcome {
    let manifest = &pulled.manifest;
    let folder = pulled.folder(&ws.root);
    let run = PullRun { pull_id: manifest.pull_id.clone(), summary: manifest.summary(&folder) };
    let outcome = |result| LoadOutcome {
        source: source.name.clone(),
        pull_id: manifest.pull_id.clone(),
        folder: folder.clone(),
        fetched: manifest.succeeded(),
        pulled: manifest.pulled,
        result,
    };
    let record = |error: Option<&str>| ingest::record_pull(ws, &source.name, &run, error).map_err(|e| e.to_string());
    if !manifest.succeeded() {
        let error = manifest.error.clone().unwrap_or_else(|| "the pull failed".into());
        return outcome(record(Some(&error)).map(|run_id| Loaded::Failed { run_id, error }));
    }
    let records = pulled.records_path();
    let unchanged = store::sha256_file(&records).and_then(|found| {
        if found == manifest.records.sha256 {
            Ok(())
        } else {
            Err(ConnectorError::Changed { path: records.clone(), found, recorded: manifest.records.sha256.clone() })
        }
    });
    if let Err(e) = unchanged {
        let error = e.to_string();
        store::forget_waiting(&ws.root, &source.name);
        return outcome(record(Some(&error)).map(|run_id| Loaded::Failed { run_id, error }));
    }
    if manifest.records.rows == 0 {
        return outcome(record(None).map(|run_id| Loaded::Nothing { run_id }));
    }
    match ingest::ingest_pull(ws, &source.name, &records, &run, progress) {
        Ok(report) => outcome(Ok(Loaded::Rows(report))),
        Err(e) => {
            // The run is recorded as failed by ingest; the next pull starts
            // from what is loaded, not from these records.
            store::forget_waiting(&ws.root, &source.name);
            outcome(Err(e.to_string()))
        }
    }
}
