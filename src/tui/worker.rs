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
use crate::warehouse::defer::{Answer, Ask, Deferred, Failed};
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

/// What reaches the worker from the UI: a request, tagged with its id.
pub type Inbound = (u64, Request);

/// The warehouse's answers for a request that waits on them.
struct Answered {
    id: u64,
    answers: Vec<(Ask, Result<Answer, Failed>)>,
}

/// A request served until it asked a warehouse something; it is served
/// again, from its start, when the answers are in its book — the same work
/// each time: at the same instant, a random seed chosen once.
struct Waiting {
    request: Request,
    book: Deferred,
    /// "Now" for every round: the instant of the first.
    clock: Clock,
    /// How many times it has been served.
    rounds: u32,
}

impl Waiting {
    fn new(mut request: Request, clock: &Clock) -> Self {
        if let Request::StartAudit { seed: seed @ None, .. } = &mut request {
            *seed = Some(audits::random_seed());
        }
        Self { request, book: Deferred::default(), clock: Clock::Fixed(clock.now()), rounds: 0 }
    }
}

/// Requests that keep asking after this many rounds fail (a statement
/// whose text changes each time could otherwise be asked forever).
const ROUNDS: u32 = 64;

/// Opens the workspace on a new thread and serves requests until the UI
/// hangs up. `ready` is told whether the workspace opened, with a handle
/// through which the UI can read how far the running query has got. What a
/// request asks of a warehouse runs on `runtime`'s blocking pool, never on
/// this thread (`warehouse/defer.rs`).
pub fn spawn(
    options: Options,
    requests: mpsc::Receiver<Inbound>,
    replies: tokio::sync::mpsc::UnboundedSender<Envelope>,
    ready: tokio::sync::oneshot::Sender<Result<RunningQuery, WorkspaceError>>,
    runtime: tokio::runtime::Handle,
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
        let mut served = Served::new(replies, runtime);
        loop {
            // While a request waits on a warehouse, look for its answers now and then.
            let first = if served.waiting.is_empty() {
                requests.recv().ok()
            } else {
                match requests.recv_timeout(std::time::Duration::from_millis(20)) {
                    Ok(request) => Some(request),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            };
            let mut batch: Vec<Inbound> = first.into_iter().collect();
            batch.extend(requests.try_iter());
            if served.waiting.is_empty() && batch.is_empty() {
                return;
            }
            let answered: Vec<Answered> = served.answers.try_iter().collect();
            for Answered { id, answers } in answered {
                if let Some(waiting) = served.waiting.remove(&id) {
                    waiting.book.answer(answers);
                    if !served.attempt(&mut worker, id, waiting) {
                        return;
                    }
                }
            }
            for (id, request) in latest_only(batch) {
                if !served.take(&mut worker, id, request) {
                    return;
                }
            }
        }
    })
}

/// The worker's loop state: where replies go, what waits on a warehouse,
/// and the writes held behind a write that waits.
struct Served {
    replies: tokio::sync::mpsc::UnboundedSender<Envelope>,
    runtime: tokio::runtime::Handle,
    waiting: HashMap<u64, Waiting>,
    /// Writes that came while a write waits: served after it, in order.
    held: std::collections::VecDeque<Inbound>,
    answers: mpsc::Receiver<Answered>,
    answer: mpsc::Sender<Answered>,
}

impl Served {
    fn new(replies: tokio::sync::mpsc::UnboundedSender<Envelope>, runtime: tokio::runtime::Handle) -> Self {
        let (answer, answers) = mpsc::channel();
        Self { replies, runtime, waiting: HashMap::new(), held: Default::default(), answers, answer }
    }

    fn a_write_waits(&self) -> bool {
        self.waiting.values().any(|w| matches!(w.request.track(), Track::Write(_)))
    }

    /// A new request from the UI. False when the UI has gone.
    fn take(&mut self, worker: &mut Worker, id: u64, request: Request) -> bool {
        match request.track() {
            Track::Write(_) if self.a_write_waits() => {
                self.held.push_back((id, request));
                true
            }
            track => {
                // A read that waits is superseded by this one: its reply would be dropped.
                if let Track::Read(_) = track {
                    self.waiting.retain(|_, w| w.request.track() != track);
                }
                let waiting = Waiting::new(request, &worker.ws.clock);
                self.attempt(worker, id, waiting)
            }
        }
    }

    /// Serves `waiting` once more: it replies, or asks a warehouse and waits.
    fn attempt(&mut self, worker: &mut Worker, id: u64, mut waiting: Waiting) -> bool {
        let track = waiting.request.track();
        tracing::debug!(id, ?track, round = waiting.rounds, "request");
        worker.ws.deferred = Some(waiting.book.clone());
        let clock = std::mem::replace(&mut worker.ws.clock, waiting.clock);
        let result = worker.serve(waiting.request.clone());
        worker.ws.clock = clock;
        worker.ws.deferred = None;
        waiting.rounds += 1;
        let asked = waiting.book.take_asked();
        if asked.is_empty() || waiting.rounds >= ROUNDS {
            let result = match asked.first() {
                // Still asking: a statement whose text changes each time?
                Some(ask) => Err(Failure::from(crate::warehouse::WarehouseError::Failed {
                    warehouse: ask.warehouse().to_string(),
                    message: format!("the work asked it something new in each of {ROUNDS} rounds; stopped"),
                })),
                None => result,
            };
            if self.replies.send(Envelope { id, track, result }).is_err() {
                return false;
            }
            return self.release_held(worker);
        }
        tracing::debug!(id, asks = asked.len(), "waiting on a warehouse");
        let config = worker.ws.config.clone();
        let cancel = worker.ws.warehouse_cancel.clone();
        let answer = self.answer.clone();
        self.runtime.spawn_blocking(move || {
            let answers = asked
                .into_iter()
                .map(|ask| {
                    let answer = crate::warehouse::defer::perform(&config, &cancel, &ask);
                    (ask, answer)
                })
                .collect();
            let _ = answer.send(Answered { id, answers });
        });
        self.waiting.insert(id, waiting);
        true
    }

    /// The writes held behind a write that no longer waits, in order.
    fn release_held(&mut self, worker: &mut Worker) -> bool {
        while !self.a_write_waits() {
            let Some((id, request)) = self.held.pop_front() else { break };
            if !self.take(worker, id, request) {
                return false;
            }
        }
        true
    }
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

    /// A refresh of a warehouse source waits on the warehouse off this
    /// thread: the write after it is held until it has replied, a read is
    /// served meanwhile, and its failure there is logged once, not for the
    /// round that only asked.
    #[test]
    fn a_write_that_waits_on_a_warehouse_holds_the_writes_after_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).expect("mkdir");
        super::super::tests::demo_workspace(&root);
        let config = root.join("quarterdeck.toml");
        let text = std::fs::read_to_string(&config).expect("config");
        let warehouse = "\n[[warehouse]]\nname = \"pg\"\nkind = \"postgres\"\nurl_env = \"QD_TEST_NEVER_SET_URL\"\n\n\
                         [[source]]\nname = \"ledger\"\nwarehouse = \"pg\"\ntable = \"public.ledger\"\n\
                         key = [\"id\"]\ntimestamp = \"at\"\nfresh_within = \"1d\"\n";
        std::fs::write(&config, format!("{text}{warehouse}")).expect("write config");

        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
        let (requests, inbox) = mpsc::channel();
        let (replies, mut replied) = tokio::sync::mpsc::unbounded_channel();
        let (ready, opened) = tokio::sync::oneshot::channel();
        let options = Options { root: root.clone(), access: Access::ReadWrite, threads: Some(2), clock: Clock::System };
        let worker = spawn(options, inbox, replies, ready, runtime.handle().clone()).expect("spawn");
        runtime.block_on(opened).expect("ready").expect("opened");
        requests.send((1, Request::Ingest { source: "ledger".into() })).expect("send");
        requests.send((2, Request::CloseAudit { label: "2019-Q1".into() })).expect("send");
        requests.send((3, Request::Query { sql: "SELECT 42".into() })).expect("send");
        let mut order = Vec::new();
        let mut ingest = None;
        while order.len() < 3 {
            let envelope = runtime.block_on(replied.recv()).expect("a reply");
            if envelope.id == 1 {
                ingest = Some(envelope.result.clone());
            }
            order.push(envelope.id);
        }
        drop(requests);
        worker.join().expect("the worker ends");
        let position = |id| order.iter().position(|o| *o == id);
        assert!(position(1) < position(2), "the held write replied before the one it waited behind: {order:?}");
        let message = ingest.expect("replied").expect_err("no URL").to_string();
        assert!(message.contains("$QD_TEST_NEVER_SET_URL is not set"), "{message}");
        let ws = Workspace::open(&root, Access::ReadOnly).expect("open");
        let failed: i64 = ws
            .conn
            .query_row("SELECT count(*) FROM qd.ingest_runs WHERE source = 'ledger' AND status = 'failed'", [], |r| {
                r.get(0)
            })
            .expect("count");
        assert_eq!(failed, 1, "one failed refresh in the run log");
    }

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
