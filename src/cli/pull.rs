//! `quarterdeck pull [SOURCE…]`: fetch connector sources concurrently (on
//! tokio), then load what succeeded through the ingest path. Meant for
//! cron, systemd timers and CI schedules: exit 6 names the sources that
//! failed. A workspace held by another process still gets its pages
//! fetched and stored; that process loads them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::output::Listing;
use super::{BadInput, Context, Outcome};
use crate::connectors::load::{LoadOutcome, Loaded, connector_sources};
use crate::connectors::{self, Fetched, Job, Tick};
use crate::progress::Silent;
use crate::workspace::config::Config;
use crate::workspace::problems::did_you_mean;
use crate::workspace::{Access, OpenOptions, Workspace, WorkspaceError};

/// Exit code when a source failed to pull or to load.
pub const EXIT_FAILED: i32 = 6;

pub fn run(ctx: &Context, names: &[String], jobs: usize) -> Outcome {
    let dir = ctx.discover()?;
    let config = Config::load(&dir)?;
    for name in names {
        match config.source(name) {
            None => {
                return Err(BadInput(format!(
                    "unknown source `{name}`{}; sources are declared in quarterdeck.toml",
                    did_you_mean(name, config.source_names())
                ))
                .into());
            }
            Some(s) if s.connector.is_none() => {
                return Err(connectors::ConnectorError::NotAConnector(s.name.clone()).into());
            }
            Some(_) => {}
        }
    }
    let sources: Vec<_> = connector_sources(&config.sources, names).into_iter().cloned().collect();
    if sources.is_empty() {
        tell!("no connector sources in {} (format = \"http_json\", \"github_pulls\", …)", config.path.display());
        return Ok(0);
    }
    let options = OpenOptions { threads: ctx.threads, clock: ctx.clock, progress: false };
    let ws = match Workspace::open_with(
        &dir,
        if ctx.read_only { Access::ReadOnly } else { Access::ReadWrite },
        &options,
    ) {
        Ok(ws) => Some(ws),
        Err(WorkspaceError::Locked { holder, pid, .. }) => {
            tell!(
                "the workspace is held by {holder} (PID {pid}); pulled pages are stored for it to load (the open TUI does within a minute)"
            );
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(ws) = &ws {
        ws.ensure_writable("pull")?;
    }
    let mut loaded: Vec<LoadOutcome> = match &ws {
        Some(ws) => connectors::load_pending(ws, names, &Silent)?,
        None => Vec::new(),
    };
    let now = ctx.clock.now();
    let jobs_list: Vec<Job> = sources
        .iter()
        .map(|source| Job {
            root: dir.clone(),
            source: source.clone(),
            newest: connectors::newest(ws.as_ref(), &dir, &source.name),
            now,
        })
        .collect();
    let fetched = fetch_all(jobs_list, jobs.max(1))?;
    for failure in fetched.iter().filter_map(|f| f.as_ref().err()) {
        tell!("error: {failure}");
    }
    if let Some(ws) = &ws {
        loaded.extend(connectors::load_pending(ws, names, &Silent)?);
    }
    let fetched: Vec<Fetched> = fetched.into_iter().filter_map(Result::ok).collect();
    report(ctx, &fetched, &loaded, ws.is_some())
}

/// Every job on a tokio runtime, at most `bound` at once; progress on stderr.
fn fetch_all(jobs: Vec<Job>, bound: usize) -> anyhow::Result<Vec<Result<Fetched, connectors::ConnectorError>>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let last: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let on_tick: connectors::OnTick = Arc::new(move |tick: &Tick| {
        let mut last = last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = match last.iter_mut().find(|(s, _)| *s == tick.source) {
            Some((_, at)) if at.elapsed() < Duration::from_millis(500) => false,
            Some((_, at)) => {
                *at = Instant::now();
                true
            }
            None => {
                last.push((tick.source.clone(), Instant::now()));
                true
            }
        };
        if due {
            tell!("{}: {} request(s), {} row(s)", tick.source, tick.requests, tick.rows);
        }
    });
    Ok(runtime.block_on(async move {
        let gate = Arc::new(tokio::sync::Semaphore::new(bound));
        let tasks: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let (gate, on_tick) = (Arc::clone(&gate), Arc::clone(&on_tick));
                tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await;
                    connectors::fetch(job, on_tick).await
                })
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(
                task.await
                    .unwrap_or_else(|e| Err(connectors::ConnectorError::Client(format!("the pull task ended: {e}")))),
            );
        }
        out
    }))
}

fn report(ctx: &Context, fetched: &[Fetched], loaded: &[LoadOutcome], held: bool) -> Outcome {
    let mut listing =
        Listing::new(&["source", "pull", "status", "requests", "pulled", "loaded", "run_id", "folder", "error"]);
    let mut failed: Vec<String> = Vec::new();
    for outcome in loaded {
        let (status, rows, run_id, error) = match &outcome.result {
            Ok(Loaded::Rows(report)) => ("loaded", Some(report.rows), Some(report.run_id), None),
            Ok(Loaded::Nothing { run_id }) => ("nothing new", Some(0), Some(*run_id), None),
            Ok(Loaded::Failed { run_id, error }) => ("failed", None, Some(*run_id), Some(error.clone())),
            Err(error) => ("load failed", None, None, Some(error.clone())),
        };
        if error.is_some() {
            failed.push(outcome.source.clone());
        }
        let requests =
            fetched.iter().find(|f| f.manifest.pull_id == outcome.pull_id).map(|f| f.manifest.exchanges.len());
        listing.push(vec![
            json!(outcome.source),
            json!(outcome.pull_id),
            json!(status),
            json!(requests),
            json!(outcome.pulled),
            json!(rows),
            json!(run_id),
            json!(outcome.folder),
            json!(error),
        ]);
    }
    if !held {
        for f in fetched {
            let status = if f.manifest.succeeded() { "fetched, waiting to load" } else { "failed" };
            if !f.manifest.succeeded() {
                failed.push(f.source.clone());
            }
            listing.push(vec![
                json!(f.source),
                json!(f.manifest.pull_id),
                json!(status),
                json!(f.manifest.exchanges.len()),
                json!(f.manifest.pulled),
                json!(null),
                json!(null),
                json!(f.dir.display().to_string()),
                json!(f.manifest.error),
            ]);
        }
    }
    listing.print(ctx.format)?;
    failed.sort();
    failed.dedup();
    if failed.is_empty() {
        Ok(0)
    } else {
        tell!("failed: {}", failed.join(", "));
        Ok(EXIT_FAILED)
    }
}
