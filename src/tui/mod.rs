//! The terminal UI. `app` holds the state and turns keys into Actions and
//! requests; `worker` owns the DuckDB connection on its own thread; `ui`
//! and `views/` draw; the loop below ties them together on tokio, drawing
//! only when something changed, inside synchronized updates.

pub mod action;
pub mod app;
pub mod complete_path;
pub mod effect;
pub mod failure;
pub mod input;
pub mod inventory;
pub mod keymap;
pub mod messages;
pub mod overlays;
pub mod overview;
pub mod terminal;
pub mod ui;
pub mod views;
pub mod worker;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};

use self::app::App;
use self::keymap::Keymap;
use self::terminal::{Guard, Term};
use crate::workspace::{Access, WorkspaceError};

/// The log file of the UI (the screen is never written to): `<data dir>/quarterdeck.log`.
pub fn log_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "quarterdeck").map(|d| d.data_dir().join("quarterdeck.log"))
}

fn log_path_text() -> String {
    log_file().map(|p| p.display().to_string()).unwrap_or_else(|| "the log".into())
}

/// Sends logs to the log file; QUARTERDECK_LOG sets the filter (default info).
fn init_logging() {
    let Some(path) = log_file() else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(&path) else { return };
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUARTERDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// How often the open TUI looks for pulls waiting to be loaded: 30 s, or
/// `QUARTERDECK_PULL_CHECK` seconds (1 to 3600).
fn pulls_check() -> Duration {
    let secs = std::env::var("QUARTERDECK_PULL_CHECK").ok().and_then(|s| s.trim().parse::<u64>().ok());
    Duration::from_secs(secs.filter(|s| (1..=3600).contains(s)).unwrap_or(30))
}

/// What a pull running on tokio tells the event loop.
enum PullEvent {
    Tick(crate::connectors::Tick),
    /// The pull ended, on disk (complete or failed), or could not be written.
    Done(String, Result<String, String>),
}

/// Fetches one source on tokio; its pages go to disk, and the event loop
/// asks the database thread to load them when it ends.
fn start_pull(job: crate::connectors::Job, events: tokio::sync::mpsc::UnboundedSender<PullEvent>) {
    let source = job.source.name.clone();
    let ticks = events.clone();
    let on_tick: crate::connectors::OnTick = std::sync::Arc::new(move |tick: &crate::connectors::Tick| {
        let _ = ticks.send(PullEvent::Tick(tick.clone()));
    });
    tokio::spawn(async move {
        let outcome = crate::connectors::fetch(job, on_tick).await;
        let outcome = outcome.map(|f| f.manifest.status).map_err(|e| e.to_string());
        let _ = events.send(PullEvent::Done(source, outcome));
    });
}

/// Runs the UI on `options.root` until the user quits.
pub fn run(options: worker::Options) -> anyhow::Result<()> {
    let keymap = Keymap::load(Keymap::user_file().as_deref())?;
    init_logging();
    tracing::info!(workspace = %options.root.display(), "terminal UI starting");
    // Two workers: a pull's pages are fetched and parsed off the thread
    // that draws, and never on the database thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start tokio")?;
    runtime.block_on(run_loop(options, keymap))
}

fn draw(terminal: &mut Term, app: &mut App) -> std::io::Result<()> {
    let hits = {
        let size = terminal.size()?;
        ui::tab_positions(ratatui::layout::Rect::new(0, 0, size.width, 1))
    };
    app.tab_hits = hits.into_iter().map(|(x0, x1, tab)| (x0, x1, 0, tab)).collect();
    crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|frame| ui::draw(frame, app))?;
    crossterm::queue!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    terminal.backend_mut().flush()
}

async fn run_loop(options: worker::Options, keymap: Keymap) -> anyhow::Result<()> {
    let read_only = options.access == Access::ReadOnly;
    let (requests, worker_requests) = std::sync::mpsc::channel();
    let (worker_replies, mut replies) = tokio::sync::mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<worker::RunningQuery, WorkspaceError>>();
    let mut running: Option<worker::RunningQuery> = None;
    let mut guard = Guard::enter(keymap.mouse).context("cannot set up the terminal")?;
    let mut app = App::new(keymap, read_only);
    // https://no-color.org: set and not empty, no colours at all.
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    draw(&mut guard.terminal, &mut app)?;
    // Fault injection for the end-to-end test that the terminal is restored
    // after a panic; only in debug builds.
    #[cfg(debug_assertions)]
    if std::env::var_os("QUARTERDECK_DEBUG_PANIC").is_some() {
        panic!("QUARTERDECK_DEBUG_PANIC: a deliberate panic after the first frame");
    }
    let worker = worker::spawn(options, worker_requests, worker_replies, ready_tx, tokio::runtime::Handle::current())
        .context("cannot start the database thread")?;
    let mut ready = ready_rx;
    let mut opened = false;
    let mut events = EventStream::new();
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(Duration::from_millis(80));
    // Pulls fetched by another process while this one holds the workspace
    // are loaded within this long (and at start).
    let mut waiting_pulls = tokio::time::interval(pulls_check());
    let (pull_events, mut pulls) = tokio::sync::mpsc::unbounded_channel::<PullEvent>();
    loop {
        for request in app.outbox.drain(..) {
            // The worker ended only if the workspace failed to open, which `ready` reports.
            let _ = requests.send(request);
        }
        for job in app.fetches.drain(..) {
            start_pull(job, pull_events.clone());
        }
        if app.quit {
            break;
        }
        if app.dirty {
            app.dirty = false;
            draw(&mut guard.terminal, &mut app)?;
        }
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    app.on_key(key);
                    if std::mem::take(&mut app.cancel_requested) && let Some(running) = &running {
                        running.interrupt.interrupt();
                        running.warehouse.request();
                    }
                }
                Some(Ok(Event::Mouse(mouse))) => app.on_mouse(mouse),
                Some(Ok(Event::Resize(..))) => app.dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!("terminal input failed: {e}");
                    break;
                }
                None => break,
            },
            envelope = replies.recv() => match envelope {
                Some(envelope) => app.on_reply(envelope),
                None => {
                    // The worker is gone: it could not open the workspace
                    // (then `ready` says why), or it panicked.
                    drop(guard);
                    if !opened && let Ok(Err(e)) = (&mut ready).await {
                        return Err(e.into());
                    }
                    anyhow::bail!("the database thread stopped unexpectedly; see {}", log_path_text());
                }
            },
            result = &mut ready, if !opened => {
                opened = true;
                match result {
                    Ok(Ok(handles)) => running = Some(handles),
                    Ok(Err(e)) => {
                        drop(guard);
                        return Err(e.into());
                    }
                    Err(_) => {
                        drop(guard);
                        anyhow::bail!("the database thread ended before opening the workspace");
                    }
                }
            }
            event = pulls.recv() => match event {
                Some(PullEvent::Tick(tick)) => app.on_pull_tick(tick),
                Some(PullEvent::Done(source, outcome)) => app.on_pull_done(&source, outcome),
                None => {}
            },
            _ = waiting_pulls.tick(), if opened && !read_only => app.send(messages::Request::LoadPulls),
            _ = terminate.recv() => { tracing::info!("SIGTERM"); break; }
            _ = hangup.recv() => { tracing::info!("SIGHUP"); break; }
            _ = interrupt.recv() => { tracing::info!("SIGINT"); break; }
            _ = tick.tick(), if app.busy() => {
                app.spinner += 1;
                // Steps of domain work (an export) first, else DuckDB's own progress.
                app.progress = running
                    .as_ref()
                    .and_then(|r| r.steps.percentage().or_else(|| r.progress.query_progress().percentage()));
                app.dirty = true;
            }
        }
    }
    drop(guard);
    drop(requests);
    // Let a request in flight finish (a write commits or rolls back whole);
    // a long read does not hold the exit up for more than a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !worker.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    tracing::info!("terminal UI stopped");
    Ok(())
}
