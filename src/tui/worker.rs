//! The one thread that owns the workspace's DuckDB connection. The UI sends
//! it requests tagged with ids; it answers each with a reply event. The UI
//! never waits on it and drops replies that a newer request superseded.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use chrono::{DateTime, NaiveDate, Utc};
use duckdb::{InterruptHandle, ProgressHandle};

use crate::audit::browse::{self, Filter, Guarded, Page, Position};
use crate::audit::fieldwork::{SampleRequest, audit_sample};
use crate::audit::findings::{self, Change, Event, Finding, NewFinding};
use crate::audit::full_population::{SpecOutcome, test_control};
use crate::audit::questions::{Library, Question};
use crate::audit::requests::{self, Request as AuditorRequest};
use crate::audit::sampling::Sample;
use crate::audit::verdicts::{self, ControlOutcome, Verdict};
use crate::audit::{AuditError, audits, find_control, find_spec};
use crate::workspace::catalog::Catalog;
use crate::workspace::mapping::{Control, Mappings};
use crate::workspace::period::Period;
use crate::workspace::population::{self, Population};
use crate::workspace::query::{ResultSet, auditor_query};
use crate::workspace::sources::{SourceStatus, source_statuses};
use crate::workspace::{Access, Clock, OpenOptions, Workspace, WorkspaceError, coverage};

/// Rows the query console keeps of a result.
pub const QUERY_ROWS: usize = 1_000;

/// What the UI asks of the workspace.
#[derive(Debug, Clone)]
pub enum Request {
    Overview,
    ControlDetail { control: String },
    Sample { audit: String, control: String, spec: String },
    Page { audit: String, control: String, spec: String, filter: Filter, position: Position, limit: usize },
    FindingEvents { id: String },
    SourceDaily { source: String },
    Query { sql: String },
    Ask { text: String },
    Verdict { audit: String, control: String, key: String, verdict: Verdict, note: Option<String> },
    AddFinding(NewFinding),
    SetFinding { id: String, change: Change },
    StartAudit { label: String, scope: audits::Scope, seed: Option<String> },
    CloseAudit { label: String },
    Ingest { source: String },
}

impl Request {
    /// Requests in the same slot supersede each other: the latest wins.
    pub fn slot(&self) -> Slot {
        match self {
            Request::Overview => Slot::Overview,
            Request::ControlDetail { .. } => Slot::ControlDetail,
            Request::Sample { .. } => Slot::Sample,
            Request::Page { .. } => Slot::Page,
            Request::FindingEvents { .. } => Slot::FindingEvents,
            Request::SourceDaily { .. } => Slot::SourceDaily,
            Request::Query { .. } | Request::Ask { .. } => Slot::Query,
            _ => Slot::Write,
        }
    }

    /// A few words for the status line while the request is in flight.
    pub fn doing(&self) -> String {
        match self {
            Request::Overview => "loading the workspace".into(),
            Request::ControlDetail { control } => format!("testing {control} over the whole population"),
            Request::Sample { control, .. } => format!("loading the sample of {control}"),
            Request::Page { .. } => "reading the population".into(),
            Request::FindingEvents { id } => format!("loading {id}"),
            Request::SourceDaily { source } => format!("counting {source} by day"),
            Request::Query { .. } => "running the query".into(),
            Request::Ask { .. } => "answering the request".into(),
            Request::Verdict { .. } => "recording the verdict".into(),
            Request::AddFinding(_) => "filing the finding".into(),
            Request::SetFinding { id, .. } => format!("changing {id}"),
            Request::StartAudit { label, .. } => format!("starting {label} and drawing its samples"),
            Request::CloseAudit { label } => format!("closing {label}"),
            Request::Ingest { source } => format!("ingesting {source}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Overview,
    ControlDetail,
    Sample,
    Page,
    FindingEvents,
    SourceDaily,
    Query,
    Write,
}

/// An audit with its results, for the dashboard and the audits tab.
#[derive(Debug, Clone)]
pub struct AuditSummary {
    pub audit: audits::Audit,
    pub results: Vec<ControlOutcome>,
    pub exception_rate: Option<f64>,
    pub exceptions: u64,
    pub sampled: u64,
    pub decided: u64,
    pub findings_opened: usize,
    pub findings_closed: usize,
}

/// Everything light the views show, read in one go.
#[derive(Debug, Clone)]
pub struct Overview {
    pub workspace: PathBuf,
    pub read_only: bool,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub catalog: Catalog,
    pub controls: Vec<Control>,
    pub mapping_problems: usize,
    pub audits: Vec<AuditSummary>,
    /// The audit the views work in: the latest in fieldwork, else the latest.
    pub current: Option<usize>,
    /// The current audit's period, else the last full quarter.
    pub period: Period,
    pub findings: Vec<Finding>,
    pub sources: Vec<SourceStatus>,
    pub questions: Vec<Question>,
}

impl Overview {
    pub fn current_audit(&self) -> Option<&AuditSummary> {
        self.current.and_then(|i| self.audits.get(i))
    }
}

#[derive(Debug, Clone)]
pub enum Reply {
    Overview(Box<Overview>),
    ControlDetail {
        control: String,
        specs: Vec<SpecOutcome>,
    },
    /// A frozen sample, with the population's period (timestamp) column.
    Sample {
        sample: Box<Sample>,
        period_column: String,
    },
    Page {
        filter: Filter,
        page: Page,
    },
    FindingEvents {
        id: String,
        events: Vec<Event>,
    },
    SourceDaily {
        source: String,
        days: BTreeMap<NaiveDate, u64>,
        missing: Vec<NaiveDate>,
    },
    Query(ResultSet),
    Answered {
        request: AuditorRequest,
        sample: Box<Sample>,
    },
    Done(String),
}

/// A reply with the id of the request it answers.
#[derive(Debug)]
pub struct Envelope {
    pub id: u64,
    pub slot: Slot,
    pub result: Result<Reply, String>,
}

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
}

/// The worker's end of the channels.
pub struct Worker {
    ws: Workspace,
    populations: HashMap<(String, String), Population>,
    guarded: Guarded,
    /// The mappings as last read: pages reuse them, everything else rereads.
    mappings: Option<Arc<Mappings>>,
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
        let ws = match open {
            Ok(ws) => {
                let handles =
                    RunningQuery { progress: ws.conn.progress_handle(), interrupt: ws.conn.interrupt_handle() };
                let _ = ready.send(Ok(handles));
                ws
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let mut worker = Worker::new(ws);
        while let Ok(first) = requests.recv() {
            let mut batch = vec![first];
            batch.extend(requests.try_iter());
            for (id, request) in latest_only(batch) {
                let slot = request.slot();
                tracing::debug!(id, ?slot, "request");
                let result = worker.serve(request).map_err(|e| e.to_string());
                if replies.send(Envelope { id, slot, result }).is_err() {
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
        latest.insert(request.slot(), *id);
    }
    batch.into_iter().filter(|(id, request)| request.slot() == Slot::Write || latest[&request.slot()] == *id).collect()
}

impl Worker {
    /// A worker on an already open workspace (for tests that drive it inline).
    pub fn new(ws: Workspace) -> Self {
        Self { ws, populations: HashMap::new(), guarded: Guarded::default(), mappings: None }
    }

    pub fn serve(&mut self, request: Request) -> anyhow::Result<Reply> {
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
                Reply::Overview(Box::new(self.overview(&mappings)?))
            }
            Request::ControlDetail { control } => {
                let period = self.current_period()?;
                let found = find_control(&mappings, &control)?;
                Reply::ControlDetail { control: control.clone(), specs: test_control(&self.ws, found, &period)? }
            }
            Request::Sample { audit, control, spec } => {
                let request =
                    SampleRequest { audit: &audit, control: &control, spec: Some(&spec), ..Default::default() };
                let sample = audit_sample(&self.ws, &mappings, &request)?;
                let period_column = self.population(&mappings, &control, &spec)?.period_column.clone();
                Reply::Sample { sample: Box::new(sample), period_column }
            }
            Request::Page { audit, control, spec, filter, position, limit } => {
                let found = find_control(&mappings, &control)?;
                let spec_def = find_spec(found, Some(&spec))?;
                let audit = audits::load(&self.ws.conn, &audit)?.ok_or(AuditError::UnknownAudit(audit))?;
                let period = audit.period(self.ws.config.timezone);
                let resolved = self.population(&mappings, &control, &spec)?.clone();
                let what = browse::Browse { population: &resolved, spec: spec_def, period: &period, filter };
                let page = browse::page(&self.ws, &what, &position, limit, &mut self.guarded)?;
                Reply::Page { filter, page }
            }
            Request::FindingEvents { id } => Reply::FindingEvents { events: findings::events(&self.ws.conn, &id)?, id },
            Request::SourceDaily { source } => {
                let period = self.current_period()?;
                let config =
                    self.ws.config.source(&source).ok_or_else(|| anyhow::anyhow!("unknown source {source}"))?;
                let days = coverage::daily_rows(&self.ws.conn, &source, &period, self.ws.config.timezone)?;
                let missing = coverage::missing_days(&days, self.today(), config.fresh_within);
                Reply::SourceDaily { source, days, missing }
            }
            Request::Query { sql } => Reply::Query(auditor_query(&self.ws, &sql, Some(QUERY_ROWS))?),
            Request::Ask { text } => {
                let library = Library::load(&self.ws.root)?;
                let period = self.current_period()?;
                let answer = requests::ask(&self.ws, &mappings, &library, &text, None, &period)?;
                Reply::Answered { request: answer.request, sample: Box::new(answer.sample) }
            }
            Request::Verdict { audit, control, key, verdict, note } => {
                verdicts::record(&self.ws, &audit, &control, &key, verdict, note.as_deref())?;
                Reply::Done(format!("{control}: {} recorded", verdict.as_str()))
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
                let closed = verdicts::close(&self.ws, &label)?;
                Reply::Done(format!(
                    "{label} closed; {} finding(s) closed by retest, {} regression(s)",
                    closed.closed_findings.len(),
                    closed.regressions.len()
                ))
            }
            Request::Ingest { source } => {
                let report = crate::workspace::ingest::ingest(&self.ws, &source, &[])?;
                Reply::Done(format!(
                    "{source}: {} row(s) added, {} already present; {} in all",
                    report.rows, report.skipped, report.total_rows
                ))
            }
        })
    }

    /// A spec's population, resolved once per overview (resolving describes the SQL).
    fn population(&mut self, mappings: &Mappings, control: &str, spec: &str) -> anyhow::Result<&Population> {
        let key = (control.to_string(), spec.to_string());
        if !self.populations.contains_key(&key) {
            let found = find_control(mappings, control)?;
            let spec_def = find_spec(found, Some(spec))?;
            let resolved = population::resolve(&self.ws.conn, &self.ws.config, found, spec_def)?;
            self.populations.insert(key.clone(), resolved);
        }
        Ok(&self.populations[&key])
    }

    fn today(&self) -> NaiveDate {
        self.ws.today()
    }

    fn current_period(&self) -> anyhow::Result<Period> {
        let list = audits::list(&self.ws.conn)?;
        let tz = self.ws.config.timezone;
        Ok(match current_index(&list) {
            Some(i) => list[i].period(tz),
            None => last_full_quarter(self.today(), tz)?,
        })
    }

    fn overview(&self, mappings: &Mappings) -> anyhow::Result<Overview> {
        let conn = &self.ws.conn;
        let tz = self.ws.config.timezone;
        let now = self.ws.now();
        let today = self.today();
        if self.ws.access == Access::ReadWrite {
            findings::reopen_expired(&self.ws, today)?;
        }
        let all_findings = findings::list(conn)?;
        let list = audits::list(conn)?;
        let current = current_index(&list);
        let period = match current {
            Some(i) => list[i].period(tz),
            None => last_full_quarter(today, tz)?,
        };
        let mut summaries = Vec::new();
        for audit in list {
            let results = verdicts::control_results(conn, &audit)?;
            let sampled = results.iter().map(|r| r.sampled).sum::<u64>();
            let undecided = results.iter().map(|r| r.undecided).sum::<u64>();
            summaries.push(AuditSummary {
                exception_rate: verdicts::exception_rate(conn, &audit.label)?,
                exceptions: results.iter().map(|r| r.exceptions).sum(),
                sampled,
                decided: sampled - undecided,
                findings_opened: all_findings.iter().filter(|f| f.audit == audit.label).count(),
                findings_closed: all_findings.iter().filter(|f| f.closed_in.as_deref() == Some(&audit.label)).count(),
                results,
                audit,
            });
        }
        let questions = Library::load(&self.ws.root).map(|l| l.questions).unwrap_or_default();
        Ok(Overview {
            workspace: self.ws.root.clone(),
            read_only: self.ws.access == Access::ReadOnly,
            now,
            today,
            catalog: Catalog::soc2()?,
            mapping_problems: mappings.problems.len(),
            controls: mappings.controls.clone(),
            audits: summaries,
            current,
            period,
            findings: all_findings,
            sources: source_statuses(&self.ws, None, now)?,
            questions,
        })
    }
}

/// The latest audit in fieldwork (or planned), else the latest of all.
fn current_index(list: &[audits::Audit]) -> Option<usize> {
    list.iter()
        .rposition(|a| a.status != audits::AuditStatus::Closed)
        .or_else(|| if list.is_empty() { None } else { Some(list.len() - 1) })
}

fn last_full_quarter(today: NaiveDate, tz: chrono_tz::Tz) -> anyhow::Result<Period> {
    let quarter_start = Period::parse(&Period::quarter_label(today), tz)?.start_date;
    Ok(Period::parse(&Period::quarter_label(quarter_start - chrono::Duration::days(1)), tz)?)
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
