//! The one thread that owns the workspace's DuckDB connection. The UI sends
//! it requests tagged with ids; it answers each with a reply event. The UI
//! never waits on it and drops replies that a newer request superseded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use chrono::NaiveDate;
use duckdb::{InterruptHandle, ProgressHandle};

use super::failure::Failure;
use super::inventory::InventoryPicture;
use super::messages::{Envelope, QUERY_ROWS, Reply, Request, Slot, Track};
use super::overview::Overview;
use crate::audit::attachments;
use crate::audit::auditor_requests;
use crate::audit::audits::{self, close};
use crate::audit::browse::{self, Guarded};
use crate::audit::findings;
use crate::audit::full_population::test_control;
use crate::audit::questions::Library;
use crate::audit::sampling::audit_sample::frozen_sample;
use crate::audit::sampling::columns::sample_columns;
use crate::audit::verdicts;
use crate::audit::{AuditError, find_control, find_spec, record};
use crate::connectors;
use crate::error::ErrorKind;
use crate::workspace::documents::state::HashCache;
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;
use crate::workspace::population::{self, Population};
use crate::workspace::query::auditor_query;
use crate::workspace::{Access, Clock, OpenOptions, Workspace, WorkspaceError, coverage};

/// How the UI opens its workspace.
#[derive(Debug, Clone)]
pub struct Options {
    pub root: PathBuf,
    pub access: Access,
    pub threads: Option<u32>,
    /// What "now" is (tests fix it).
    pub clock: Clock,
}

/// What the UI may do to the query the worker is running: read how far it
/// has got, and interrupt it (Esc while "running…").
#[derive(Clone)]
pub struct RunningQuery {
    pub progress: ProgressHandle,
    pub interrupt: Arc<InterruptHandle>,
    /// How far long domain work (an export) has got, step by step.
    pub steps: Arc<Steps>,
    /// Stops a query the worker is waiting on in a warehouse.
    pub warehouse: crate::warehouse::Cancel,
}

/// The latest step of long domain work the worker is doing: what, and
/// how many of how many steps are done. The status line reads it.
#[derive(Debug, Default)]
pub struct Steps(std::sync::Mutex<Option<(String, u64, u64)>>);

impl Steps {
    /// Percent done, while work reports steps.
    pub fn percentage(&self) -> Option<f64> {
        let step = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        step.as_ref().filter(|(_, _, total)| *total > 0).map(|(_, done, total)| *done as f64 * 100.0 / *total as f64)
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

impl crate::progress::Progress for Steps {
    fn step(&self, what: &str, done: u64, total: u64) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((what.to_string(), done, total));
    }
}

/// The worker's end of the channels.
pub struct Worker {
    ws: Workspace,
    populations: HashMap<(String, String), Population>,
    guarded: Guarded,
    /// The mappings as last read: pages reuse them, everything else rereads.
    mappings: Option<Arc<Mappings>>,
    /// Steps of long domain work, shared with the status line.
    steps: Arc<Steps>,
    /// Documents' hashes, taken again only for files that moved.
    document_hashes: HashCache,
}

/// Opens the workspace on a new thread and serves requests until the UI
/// hangs up. `ready` is told whether the workspace opened, with a handle
/// through which the UI can read how far the running query has got.
pub fn spawn(
    options: Options,
    requests: mpsc::Receiver<(u64, Request)>,
    replies: tokio::sync::mpsc::UnboundedSender<Envelope>,
    ready: tokio::sync::oneshot::Sender<Result<RunningQuery, WorkspaceError>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("duckdb".into()).spawn(move || {
        let open_options = OpenOptions { threads: options.threads, clock: options.clock, progress: true };
        let open = Workspace::open_with(&options.root, options.access, &open_options);
        let steps = Arc::new(Steps::default());
        let ws = match open {
            Ok(ws) => {
                let handles = RunningQuery {
                    progress: ws.conn.progress_handle(),
                    interrupt: ws.conn.interrupt_handle(),
                    steps: Arc::clone(&steps),
                    warehouse: ws.warehouse_cancel.clone(),
                };
                let _ = ready.send(Ok(handles));
                ws
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let mut worker = Worker::with_steps(ws, steps);
        while let Ok(first) = requests.recv() {
            let mut batch = vec![first];
            batch.extend(requests.try_iter());
            for (id, request) in latest_only(batch) {
                let track = request.track();
                tracing::debug!(id, ?track, "request");
                let result = worker.serve(request);
                if replies.send(Envelope { id, track, result }).is_err() {
                    return;
                }
            }
        }
    })
}

/// The requests worth serving: a read superseded by a later one in its slot
/// (its reply would be dropped anyway) is skipped; every write is kept.
pub fn latest_only(batch: Vec<(u64, Request)>) -> Vec<(u64, Request)> {
    let mut latest: HashMap<Slot, u64> = HashMap::new();
    for (id, request) in &batch {
        if let Track::Read(slot) = request.track() {
            latest.insert(slot, *id);
        }
    }
    batch
        .into_iter()
        .filter(|(id, request)| match request.track() {
            Track::Read(slot) => latest.get(&slot) == Some(id),
            Track::Write(_) => true,
        })
        .collect()
}

impl Worker {
    /// A worker on an already open workspace (for tests that drive it inline).
    pub fn new(ws: Workspace) -> Self {
        Self::with_steps(ws, Arc::default())
    }

    /// A worker that reports the steps of long work into `steps`.
    pub fn with_steps(ws: Workspace, steps: Arc<Steps>) -> Self {
        Self {
            ws,
            populations: HashMap::new(),
            guarded: Guarded::default(),
            mappings: None,
            steps,
            document_hashes: HashCache::default(),
        }
    }

    /// The workspace the worker owns, for tests that read what a write left.
    #[cfg(test)]
    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    pub fn serve(&mut self, request: Request) -> Result<Reply, Failure> {
        // An Esc meant for the work before this one stops nothing of this.
        self.ws.warehouse_cancel.clear();
        let reuse = matches!(request, Request::Page { .. });
        let mappings = match &self.mappings {
            Some(m) if reuse => Arc::clone(m),
            _ => {
                let m = Arc::new(Mappings::load(&self.ws.root));
                self.mappings = Some(Arc::clone(&m));
                m
            }
        };
        Ok(match request {
            Request::Overview => {
                self.populations.clear();
                self.guarded = Guarded::default();
                Reply::Overview(Box::new(Overview::read(&self.ws, &mappings, &mut self.document_hashes)?))
            }
            Request::ControlDetail { control } => {
                let period = self.current_period()?;
                let found = find_control(&mappings, &control)?;
                Reply::ControlDetail { control: control.clone(), specs: test_control(&self.ws, found, &period)? }
            }
            Request::Sample { audit, control, spec } => {
                // Loading a sample only reads: an audit draws its samples as it starts.
                let sample = frozen_sample(&self.ws, &mappings, &audit, &control, &spec)?;
                let period_column = self.population(&mappings, &control, &spec)?.period_column.clone();
                let tests = find_spec(find_control(&mappings, &control)?, Some(&spec))?.tests.clone();
                let columns = sample_columns(&sample, &period_column, &tests);
                Reply::Sample { sample: Box::new(sample), period_column, columns }
            }
            Request::Page { audit, control, spec, filter, position, limit } => {
                let found = find_control(&mappings, &control)?;
                let spec_def = find_spec(found, Some(&spec))?;
                let audit = record::load(&self.ws, &audit)?.ok_or(AuditError::UnknownAudit(audit))?;
                let period = audit.period.clone();
                let resolved = self.population(&mappings, &control, &spec)?.clone();
                let what = browse::Browse { population: &resolved, spec: spec_def, period: &period, filter };
                let page = browse::page(&self.ws, &what, &position, limit, &mut self.guarded)?;
                Reply::Page { filter, page }
            }
            Request::FindingEvents { id } => Reply::FindingEvents { events: findings::events(&self.ws.conn, &id)?, id },
            Request::SourceDaily { source } => {
                let period = self.current_period()?;
                let config = self.ws.config.source(&source).ok_or_else(|| Failure::Other {
                    kind: ErrorKind::BadInput,
                    message: format!("unknown source `{source}`"),
                })?;
                let days = coverage::daily_rows(&self.ws.conn, &source, &period, self.ws.config.timezone)?;
                let missing = coverage::missing_days(&days, self.today(), config.fresh_within);
                Reply::SourceDaily { source, days, missing }
            }
            Request::Systems => {
                let period = self.current_period()?;
                let audits = record::list(&self.ws)?;
                let current = record::current(&audits).and_then(|i| audits.get(i)).map(|a| a.label.clone());
                Reply::Systems(Box::new(InventoryPicture::read(&self.ws, &mappings, &period, current.as_deref())?))
            }
            Request::Query { sql } => Reply::Query(auditor_query(&self.ws, &sql, Some(QUERY_ROWS))?),
            Request::Ask { text } => {
                let library = Library::load(&self.ws.root)?;
                let period = self.current_period()?;
                let answer = auditor_requests::ask(&self.ws, &mappings, &library, &text, None, &period)?;
                Reply::Answered {
                    request: answer.request,
                    sample: Box::new(answer.sample),
                    period_column: answer.period_column,
                    columns: answer.columns,
                }
            }
            Request::Verdict { audit, control, key, verdict, note } => {
                verdicts::record(&self.ws, &audit, &control, &key, verdict, note.as_deref())?;
                Reply::Done(format!("{control}: {} recorded", verdict.as_str()))
            }
            Request::Attach { audit, control, key, path } => {
                let attached = attachments::attach(&self.ws, &audit, &control, &key, &path, None)?;
                Reply::Done(format!(
                    "{} attached to {key} ({} bytes, sha256 {})",
                    attached.name,
                    attached.bytes,
                    &attached.sha256[..12]
                ))
            }
            Request::AddFinding(new) => {
                let finding = findings::add(&self.ws, &new)?;
                Reply::Done(format!("{} filed: {}", finding.id, finding.title))
            }
            Request::SetFinding { id, change } => {
                let finding = findings::set(&self.ws, &id, &change, self.today())?;
                Reply::Done(format!("{} is {}", finding.id, finding.status.as_str()))
            }
            Request::StartAudit { label, scope, seed } => {
                let period = Period::parse(&label, self.ws.config.timezone)?;
                let started = audits::start(&self.ws, &mappings, &label, &period, &scope, seed)?;
                Reply::Done(format!(
                    "{} started: {} control(s), {} sample(s) drawn",
                    started.audit.label,
                    started.audit.controls.len(),
                    started.samples
                ))
            }
            Request::CloseAudit { label } => {
                let closed = close::close(&self.ws, &label)?;
                Reply::Done(format!(
                    "{label} closed; {} finding(s) closed by retest, {} regression(s)",
                    closed.closed_findings.len(),
                    closed.regressions.len()
                ))
            }
            Request::ExportPacket { label } => {
                let request = crate::packet::PacketRequest { label: &label, out: None, zip: false };
                let exported = crate::packet::export_with(&self.ws, &request, &*self.steps);
                self.steps.clear();
                let exported = exported?;
                let unreviewed = match exported.unreviewed.len() {
                    0 => String::new(),
                    n => format!("; {n} control(s) not reviewed"),
                };
                Reply::Done(format!(
                    "packet of {label} written to {} ({} files){unreviewed}",
                    exported.path.display(),
                    exported.files
                ))
            }
            Request::Ingest { source } => {
                let report = crate::workspace::ingest::ingest(&self.ws, &source, &[])?;
                Reply::Done(format!(
                    "{source}: {} row(s) added, {} already present; {} in all",
                    report.rows, report.skipped, report.total_rows
                ))
            }
            Request::PlanPull { sources } => {
                self.ws.ensure_writable("pull")?;
                let chosen: Vec<_> = connectors::load::connector_sources(&self.ws.config.sources, &sources)
                    .into_iter()
                    .cloned()
                    .collect();
                Reply::PullJobs(connectors::load::jobs(Some(&self.ws), &self.ws.root, &chosen, self.ws.now()))
            }
            Request::LoadPulls => {
                let loaded = connectors::load_pending(&self.ws, &[], &crate::progress::Silent)?;
                Reply::PullsLoaded(loaded.iter().map(connectors::LoadOutcome::describe).collect())
            }
        })
    }

    /// A spec's population, resolved once per overview (resolving describes the SQL).
    fn population(&mut self, mappings: &Mappings, control: &str, spec: &str) -> Result<&Population, Failure> {
        let key = (control.to_string(), spec.to_string());
        if !self.populations.contains_key(&key) {
            let found = find_control(mappings, control)?;
            let spec_def = find_spec(found, Some(spec))?;
            let resolved = population::resolve(&self.ws, found, spec_def)?;
            self.populations.insert(key.clone(), resolved);
        }
        Ok(&self.populations[&key])
    }

    fn today(&self) -> NaiveDate {
        self.ws.today()
    }

    fn current_period(&self) -> Result<Period, Failure> {
        Ok(record::working_period(&record::list(&self.ws)?, self.today(), self.ws.config.timezone)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn superseded_reads_are_skipped_and_writes_kept() {
        let batch = vec![
            (1, Request::ControlDetail { control: "AC-1".into() }),
            (2, Request::CloseAudit { label: "2026-Q2".into() }),
            (3, Request::ControlDetail { control: "AC-2".into() }),
            (4, Request::Overview),
            (5, Request::CloseAudit { label: "2026-Q3".into() }),
        ];
        let kept: Vec<u64> = latest_only(batch).into_iter().map(|(id, _)| id).collect();
        assert_eq!(kept, vec![2, 3, 4, 5]);
    }
}
