//! Benchmarks of the terminal UI's performance targets, against bare DuckDB
//! in the same run where a bare equivalent exists:
//!   - first: the first frame of the release binary on the 50M-row workspace,
//!     in a pseudo-terminal (tmux), and the frame with the workspace's data;
//!     in-process `Workspace::open` + `Worker::serve(Overview)` beside it
//!   - paging: population pages of AC-1 / successful sign-ins over 2026-Q3
//!     (first, 50 pages deep, last, 50 pages back from the end) against the
//!     bare keyset query on the same connection
//!   - paint: `terminal.draw(ui::draw)` on a 200×50 TestBackend, Evidence tab
//!     browsing the whole population, and the whole frame (key, update,
//!     draw, escape bytes) as the event loop does it
//!   - palette: each keystroke's re-filter over 10,000 items
//!   - rss: peak RSS (VmHWM) of a process that pages the population, at
//!     scale 500 and scale 1, beside DuckDB's memory limit
//!
//! Build with `cargo build --release --benches --bins`, then run the binary
//! `target/release/deps/tui-*` (not `.d`). QD_BENCH_DIR is the scratch folder
//! shared with benches/workspace.rs (default `bench-out`), QD_BENCH_SCALE the
//! big workspace's scale (default 500 = 50M auth rows), QD_BENCH_ONLY a
//! comma-separated subset: first, paging, paint, palette, rss.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use duckdb::types::Value;
use quarterdeck::audit::browse::{self, Filter, Page, Position, page, page_sql};
use quarterdeck::tui::action::Action;
use quarterdeck::tui::app::App;
use quarterdeck::tui::effect::Tab;
use quarterdeck::tui::keymap::Keymap;
use quarterdeck::tui::messages::{Envelope, Reply, Request};
use quarterdeck::tui::overlays::palette::{Item, Palette, Target};
use quarterdeck::tui::ui;
use quarterdeck::tui::views::evidence::{Mode, PAGE_ROWS};
use quarterdeck::tui::worker::Worker;
use quarterdeck::workspace::mapping::{Control, EvidenceSpec, Mappings};
use quarterdeck::workspace::period::Period;
use quarterdeck::workspace::population::{Population, resolve};
use quarterdeck::workspace::{Access, Workspace};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
/// The control and spec whose population is the auth log.
const CONTROL: &str = "AC-1";
const SPEC: &str = "successful sign-ins";
/// The last full quarter of the demo (as of 2026-11-26).
const QUARTER: &str = "2026-Q3";
/// The bare equivalent of AC-1's population filter.
const BARE_FILTER: &str = "outcome = 'success'";
const TMUX_SOCKET: &str = "benchsock";
/// Pages walked before timing a page "at depth".
const DEPTH: usize = 50;

fn main() -> anyhow::Result<()> {
    // The RSS measurement re-runs this binary, so that VmHWM is its own.
    if let Some(dir) = std::env::var_os("QD_BENCH_RSS_CHILD") {
        return rss_child(Path::new(&dir));
    }
    let root = std::env::var_os("QD_BENCH_DIR").map_or_else(|| PathBuf::from("bench-out"), PathBuf::from);
    std::fs::create_dir_all(&root)?;
    let scale: u32 = std::env::var("QD_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(500);
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let only = std::env::var("QD_BENCH_ONLY").unwrap_or_default();

    let wanted = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
    let needs_big = ["first", "paging", "rss"].iter().any(|n| wanted(n));
    let needs_small = ["paint", "paging", "rss"].iter().any(|n| wanted(n));
    let big = if needs_big { Some(common::big_workspace(&root, scale, as_of)?) } else { None };
    let small = if needs_small { Some(small_workspace(&root)?) } else { None };
    println!("| benchmark | quarterdeck p50 / p99 | bare DuckDB p50 / p99 | ratio p50 (p99) | target | met |");
    println!("| --- | --- | --- | --- | --- | --- |");
    if let Some(big) = big.as_deref().filter(|_| wanted("first")) {
        bench_first_frame(big)?;
    }
    if wanted("paging") {
        bench_paging(big.as_deref().expect("big"), small.as_deref().expect("small"))?;
    }
    if let Some(small) = small.as_deref().filter(|_| wanted("paint")) {
        bench_paint(small)?;
    }
    if wanted("palette") {
        bench_palette()?;
    }
    if wanted("rss") {
        bench_rss(big.as_deref().expect("big"), small.as_deref().expect("small"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- workspaces

/// The default demo (scale 1) with a mock audit, which the Evidence tab needs.
fn small_workspace(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("s1");
    let binary = env!("CARGO_BIN_EXE_quarterdeck");
    if !dir.join("workspace.duckdb").exists() {
        let out = Command::new(binary)
            .args(["demo", &dir.to_string_lossy(), "--no-open", "--as-of", "2026-11-26"])
            .output()?;
        anyhow::ensure!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let audits = {
        let ws = Workspace::open(&dir, Access::ReadOnly)?;
        quarterdeck::audit::record::list(&ws)?.len()
    };
    if audits == 0 {
        let out = Command::new(binary)
            .args(["--workspace", &dir.to_string_lossy(), "audit", "start", QUARTER, "--controls", "all"])
            .args(["--seed", "bench-tui"])
            .output()?;
        anyhow::ensure!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(dir)
}

// --------------------------------------------------------------- first frame

fn tmux(args: &[&str]) -> anyhow::Result<std::process::Output> {
    Ok(Command::new("tmux").args(["-L", TMUX_SOCKET]).args(args).output()?)
}

/// Runs `command` in a new 200×50 tmux session and polls the pane every 2 ms:
/// the time until "Dashboard" shows, and until "Sources — " (the dashboard's
/// data) shows.
fn pane_latency(name: &str, command: &str) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    let out = tmux(&["new-session", "-d", "-s", name, "-x", "200", "-y", "50", command])?;
    anyhow::ensure!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
    let mut first = None;
    let mut last_text = String::new();
    let result = loop {
        let out = tmux(&["capture-pane", "-p", "-t", name])?;
        let elapsed = started.elapsed();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if first.is_none() && text.contains("Dashboard") {
            first = Some(elapsed);
        }
        if let Some(first) = first
            && text.contains("Sources — ")
        {
            break Ok((first, elapsed));
        }
        if elapsed > Duration::from_secs(30) {
            break Err(anyhow::anyhow!("no frame within 30 s; the pane shows:\n{last_text}{text}"));
        }
        last_text = text;
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = tmux(&["kill-session", "-t", name]);
    result
}

fn bench_first_frame(big: &Path) -> anyhow::Result<()> {
    const RUNS: usize = 25;
    let binary = env!("CARGO_BIN_EXE_quarterdeck");
    // Own config and data folders: no user keymap, the log out of the way.
    let xdg = std::env::temp_dir().join("qd-bench-tui-xdg");
    std::fs::create_dir_all(&xdg)?;
    // A server kept alive between runs, so that each run pays for a session, not a server start.
    let _ = tmux(&["kill-server"]);
    let out = tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "idle", "-x", "200", "-y", "50", "sleep 3600"])?;
    anyhow::ensure!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    let command = format!(
        "exec env XDG_DATA_HOME='{x}' XDG_CONFIG_HOME='{x}' '{binary}' --workspace '{ws}' --read-only",
        x = xdg.display(),
        ws = big.display()
    );
    // The floor: tmux, the shell and the polling, with a command that prints at once.
    let floor_command = "printf 'Dashboard Sources — 12'; exec sleep 3600";
    let (mut first, mut data, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    let run = (|| -> anyhow::Result<()> {
        pane_latency("warmup", &command)?;
        for i in 0..RUNS {
            let (f, d) = pane_latency(&format!("qd{i}"), &command)?;
            first.push(f);
            data.push(d);
            floor.push(pane_latency(&format!("floor{i}"), floor_command)?.0);
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    })();
    let _ = tmux(&["kill-server"]);
    run?;

    let rows: u64 = {
        let ws = Workspace::open(big, Access::ReadOnly)?;
        ws.conn.query_row("SELECT sum(rows) FROM qd.source_stats", [], |r| r.get(0))?
    };
    let (mut open, mut overview, mut frame) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        // What the binary draws before the worker answers: App::new and one frame.
        let started = Instant::now();
        let app = App::new(Keymap::default(), true);
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
        terminal.draw(|f| ui::draw(f, &app))?;
        frame.push(started.elapsed());

        let started = Instant::now();
        let ws = Workspace::open(big, Access::ReadOnly)?;
        open.push(started.elapsed());
        let mut worker = Worker::new(ws);
        let reply = worker.serve(Request::Overview)?;
        overview.push(started.elapsed());
        anyhow::ensure!(matches!(reply, Reply::Overview(_)), "not an overview");
    }
    let ff = stats(&first);
    let fl = stats(&floor);
    row(
        &format!(
            "first frame of the release binary in tmux 200×50, {rows}-row workspace (spawn → \"Dashboard\" in capture-pane; includes tmux + 2 ms polling)"
        ),
        &first,
        None,
        "≤ 150 ms",
        Some(ff.p99 <= Duration::from_millis(150)),
    );
    row("  tmux floor: same procedure, a command that prints at once", &floor, None, "—", None);
    println!(
        "|   first frame minus the tmux floor (p50) | {} | — | — | ≤ 150 ms | {} |",
        show(ff.p50.saturating_sub(fl.p50)),
        yes(ff.p50.saturating_sub(fl.p50) <= Duration::from_millis(150))
    );
    row("  frame with data (spawn → \"Sources — N\": the worker's Overview reply drawn)", &data, None, "—", None);
    row("  in process: App::new + first draw on TestBackend (before the worker answers)", &frame, None, "—", None);
    row("  in process: Workspace::open (read-only)", &open, None, "—", None);
    row("  in process: Workspace::open + Worker::serve(Overview)", &overview, None, "—", None);
    Ok(())
}

// ------------------------------------------------------------------- paging

/// AC-1's population in the workspace at `dir`, over 2026-Q3.
struct Browse {
    ws: Workspace,
    control: Control,
    population: Population,
    period: Period,
    guarded: std::cell::RefCell<browse::Guarded>,
}

impl Browse {
    fn open(dir: &Path) -> anyhow::Result<Self> {
        let ws = Workspace::open(dir, Access::ReadOnly)?;
        let mappings = Mappings::load(dir);
        let control = mappings.control(CONTROL).ok_or_else(|| anyhow::anyhow!("{CONTROL} missing"))?.clone();
        let spec = control.evidence.iter().find(|s| s.name == SPEC).ok_or_else(|| anyhow::anyhow!("no {SPEC}"))?;
        let population = resolve(&ws, &control, spec)?;
        let period = Period::parse(QUARTER, ws.config.timezone)?;
        Ok(Self { ws, control, population, period, guarded: Default::default() })
    }

    fn spec(&self) -> &EvidenceSpec {
        self.control.evidence.iter().find(|s| s.name == SPEC).expect("spec")
    }

    /// A page as the worker reads it: the guard runs once per distinct SQL
    /// (the worker keeps `guarded` across pages), so it is kept here too.
    fn page(&self, position: &Position) -> anyhow::Result<Page> {
        let what = browse::Browse {
            population: &self.population,
            spec: self.spec(),
            period: &self.period,
            filter: Filter::All,
        };
        Ok(page(&self.ws, &what, position, PAGE_ROWS, &mut self.guarded.borrow_mut())?)
    }
}

/// A bare page: where it starts, by (ts, event_id).
#[derive(Clone)]
enum Bare {
    First,
    After(Value, Value),
    Before(Value, Value),
    Last,
}

/// A bare page's rows (in query order) and the (ts, event_id) of its last row.
struct BarePage {
    keys: Vec<String>,
    edge: Option<(Value, Value)>,
}

/// DEPTH pages from `start`, ours and bare, checked equal; forward (After)
/// or backward (Before). Returns each step's times and where the walk ended.
fn walk(b: &Browse, start: Position, bare_start: Bare, forward: bool) -> anyhow::Result<Walk> {
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    let (mut pos, mut bare_pos) = (start, bare_start);
    for _ in 0..DEPTH {
        let started = Instant::now();
        let p = b.page(&pos)?;
        ours.push(started.elapsed());
        let started = Instant::now();
        let q = bare_page(b, &bare_pos)?;
        bare.push(started.elapsed());
        let mut expected = q.keys.clone();
        if !forward {
            expected.reverse();
        }
        anyhow::ensure!(keys_of(&p) == expected, "walk: different rows");
        let (ts, id) = q.edge.expect("rows");
        (pos, bare_pos) = if forward {
            (Position::After(p.rows.last().expect("rows").cursor.clone()), Bare::After(ts, id))
        } else {
            (Position::Before(p.rows.first().expect("rows").cursor.clone()), Bare::Before(ts, id))
        };
    }
    Ok((ours, bare, pos, bare_pos))
}

type Walk = (Vec<Duration>, Vec<Duration>, Position, Bare);

fn bare_page(b: &Browse, position: &Bare) -> anyhow::Result<BarePage> {
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    let (bound, order, params) = match position {
        Bare::First => ("", "ASC", vec![]),
        Bare::After(ts, id) => (" AND (ts, event_id) > (?, ?)", "ASC", vec![ts.clone(), id.clone()]),
        Bare::Before(ts, id) => (" AND (ts, event_id) < (?, ?)", "DESC", vec![ts.clone(), id.clone()]),
        Bare::Last => ("", "DESC", vec![]),
    };
    let sql = format!(
        "SELECT * FROM idp_auth_log WHERE {BARE_FILTER} AND ts >= TIMESTAMP '{}' AND ts < TIMESTAMP '{}'{bound} \
         ORDER BY ts {order}, event_id {order} LIMIT {}",
        stamp(b.period.start),
        stamp(b.period.end),
        PAGE_ROWS + 1
    );
    let mut stmt = b.ws.conn.prepare(&sql)?;
    let mut rows = stmt.query(duckdb::params_from_iter(params.iter()))?;
    let mut raw: Vec<Vec<Value>> = Vec::new();
    while let Some(row) = rows.next()? {
        let width = row.as_ref().column_count();
        raw.push((0..width).map(|i| row.get(i)).collect::<Result<_, _>>()?);
    }
    drop(rows);
    let names = stmt.column_names();
    let at = |name: &str| names.iter().position(|n| n == name).expect("column");
    let (ts, id) = (at("ts"), at("event_id"));
    raw.truncate(PAGE_ROWS);
    let keys = raw
        .iter()
        .map(|r| match &r[id] {
            Value::Text(s) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    let edge = raw.last().map(|r| (r[ts].clone(), r[id].clone()));
    Ok(BarePage { keys, edge })
}

fn keys_of(page: &Page) -> Vec<String> {
    page.rows.iter().map(|r| r.key.clone()).collect()
}

/// Times ours and bare alternately (order swapped every run); checks both read the same rows.
fn compare(b: &Browse, ours: &Position, bare: &Bare, runs: usize) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut o, mut d) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let time_ours = || -> anyhow::Result<(Duration, Vec<String>)> {
            let started = Instant::now();
            let page = b.page(ours)?;
            Ok((started.elapsed(), keys_of(&page)))
        };
        let time_bare = || -> anyhow::Result<(Duration, Vec<String>)> {
            let started = Instant::now();
            let page = bare_page(b, bare)?;
            Ok((started.elapsed(), page.keys))
        };
        let ((to, ko), (tb, mut kb)) = if run % 2 == 0 {
            let x = time_ours()?;
            (x, time_bare()?)
        } else {
            let y = time_bare()?;
            (time_ours()?, y)
        };
        if matches!(bare, Bare::Before(..) | Bare::Last) {
            kb.reverse();
        }
        anyhow::ensure!(ko == kb, "quarterdeck and bare DuckDB read different rows");
        if run > 0 {
            // Run 0 warms up.
            o.push(to);
            d.push(tb);
        }
    }
    Ok((o, d))
}

fn bench_paging(big: &Path, small: &Path) -> anyhow::Result<()> {
    const RUNS: usize = 15;
    let b = Browse::open(big)?;
    let in_period: u64 =
        b.ws.conn.query_row(&format!("SELECT count(*) FROM ({})", b.population.sql(&b.period)), [], |r| r.get(0))?;
    let label = format!("{CONTROL} / {SPEC}, {QUARTER} ({in_period} rows), {PAGE_ROWS}-row pages");

    let (ours, bare) = compare(&b, &Position::First, &Bare::First, RUNS)?;
    page_row(&format!("page: first ({label})"), &ours, &bare);
    // Of our page's time: the SELECT guard (json_serialize_sql and the relation check).
    let sql = format!(
        "{} LIMIT {}",
        page_sql(&b.population, b.spec(), &b.period, Filter::All, &Position::First),
        PAGE_ROWS + 1
    );
    let mut guard = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        b.ws.guard().select(&sql).map_err(|r| anyhow::anyhow!("{r}"))?;
        guard.push(started.elapsed());
    }
    row("  of which guard_select on the page's SQL", &guard, None, "—", None);

    // Walk forward DEPTH pages, both ways, timing every step.
    let (walk_ours, walk_bare, pos, bare_pos) = walk(&b, Position::First, Bare::First, true)?;
    page_row(&format!("page: walk forward, After(cursor), pages 1–{DEPTH} (each step)"), &walk_ours, &walk_bare);
    let (ours, bare) = compare(&b, &pos, &bare_pos, RUNS)?;
    page_row(&format!("page: After(cursor) at depth {DEPTH} (rows {}–)", DEPTH * PAGE_ROWS + 1), &ours, &bare);

    let (ours, bare) = compare(&b, &Position::Last, &Bare::Last, RUNS)?;
    page_row("page: last (Position::Last)", &ours, &bare);

    let (walk_ours, walk_bare, pos, bare_pos) = walk(&b, Position::Last, Bare::Last, false)?;
    page_row(
        &format!("page: walk back from the end, Before(cursor), {DEPTH} pages (each step)"),
        &walk_ours,
        &walk_bare,
    );
    let (ours, bare) = compare(&b, &pos, &bare_pos, RUNS)?;
    page_row(&format!("page: Before(cursor) at depth {DEPTH} from the end"), &ours, &bare);
    drop(b);

    // The worker's own cost per page (mappings and audit reloaded per request), where an
    // audit exists: the scale-1 demo. (The 50M workspace has none, so the rows above
    // call browse::page directly, as the worker does.)
    let s = Browse::open(small)?;
    let audit = quarterdeck::audit::record::list(&s.ws)?
        .into_iter()
        .find(|a| a.label == QUARTER)
        .ok_or_else(|| anyhow::anyhow!("no {QUARTER} audit in {}", small.display()))?;
    let mut worker = Worker::new(Workspace::open(small, Access::ReadOnly)?);
    let request = |position: Position| Request::Page {
        audit: audit.label.clone(),
        control: CONTROL.into(),
        spec: SPEC.into(),
        filter: Filter::All,
        position,
        limit: PAGE_ROWS,
    };
    let first = s.page(&Position::First)?;
    let after = Position::After(first.rows.last().expect("rows").cursor.clone());
    let (mut via_worker, mut direct) = (Vec::new(), Vec::new());
    for run in 0..=RUNS {
        let started = Instant::now();
        let reply = worker.serve(request(after.clone()))?;
        let w = started.elapsed();
        let started = Instant::now();
        let p = s.page(&after)?;
        let d = started.elapsed();
        let Reply::Page { page: wp, .. } = reply else { anyhow::bail!("not a page") };
        anyhow::ensure!(keys_of(&wp) == keys_of(&p), "worker and browse::page read different rows");
        if run > 0 {
            via_worker.push(w);
            direct.push(d);
        }
    }
    row(
        "  scale 1: Worker::serve(Request::Page) vs browse::page alone, same After page (in the bare column)",
        &via_worker,
        Some(&direct),
        "—",
        None,
    );
    Ok(())
}

fn page_row(what: &str, ours: &[Duration], bare: &[Duration]) {
    let ratio = stats(ours).p50.as_secs_f64() / stats(bare).p50.as_secs_f64();
    row(what, ours, Some(bare), "≤ 2× bare", Some(ratio <= 2.0));
}

// -------------------------------------------------------------------- paint

/// Serves every queued request inline, in order, until none is left.
fn settle(app: &mut App, worker: &mut Worker) -> anyhow::Result<()> {
    loop {
        let requests = std::mem::take(&mut app.outbox);
        if requests.is_empty() {
            return Ok(());
        }
        for (id, request) in requests {
            let track = request.track();
            let result = worker.serve(request);
            app.on_reply(Envelope { id, track, result });
        }
    }
}

/// An App on the Evidence tab browsing AC-1's whole population, its first page loaded.
fn evidence_app(dir: &Path) -> anyhow::Result<(App, Worker)> {
    let mut worker = Worker::new(Workspace::open(dir, Access::ReadOnly)?);
    let mut app = App::new(Keymap::default(), true);
    settle(&mut app, &mut worker)?;
    let overview = app.overview.as_ref().ok_or_else(|| anyhow::anyhow!("no overview"))?;
    // What the Controls tab's enter does (Effect::Drill).
    let effects = app.views.evidence.drill(CONTROL.into(), Some(SPEC.into()), overview);
    app.tab = Tab::Evidence;
    app.apply(effects);
    settle(&mut app, &mut worker)?;
    app.act(Action::WholePopulation);
    settle(&mut app, &mut worker)?;
    anyhow::ensure!(app.views.evidence.mode == Mode::Population(Filter::All), "not in population mode");
    let rows = app.views.evidence.page.as_ref().map_or(0, |p| p.rows.len());
    anyhow::ensure!(rows == PAGE_ROWS, "no page loaded (problem: {:?})", app.views.evidence.problem);
    Ok((app, worker))
}

fn bench_paint(small: &Path) -> anyhow::Result<()> {
    const FRAMES: usize = 2_000;
    let down = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);

    // Paint: terminal.draw(ui::draw) on the TestBackend; every frame follows a `down`
    // (the selection and the record pane change; every 200th flips to the next page).
    let (mut app, mut worker) = evidence_app(small)?;
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    terminal.draw(|f| ui::draw(f, &app))?;
    let (mut paint, mut flips) = (Vec::new(), Vec::new());
    for _ in 0..FRAMES {
        app.on_key(down);
        let flipped = !app.outbox.is_empty();
        settle(&mut app, &mut worker)?;
        let started = Instant::now();
        terminal.draw(|f| ui::draw(f, &app))?;
        let elapsed = started.elapsed();
        paint.push(elapsed);
        if flipped {
            flips.push(elapsed);
        }
    }
    anyhow::ensure!(!flips.is_empty(), "no page flipped");
    let p = stats(&paint);
    row(
        &format!(
            "paint: terminal.draw(ui::draw), TestBackend 200×50, Evidence / whole population ({FRAMES} frames, `down` before each)"
        ),
        &paint,
        None,
        "p99 ≤ 16 ms",
        Some(p.p99 <= Duration::from_millis(16)),
    );
    row(&format!("  of which frames right after a page flip ({})", flips.len()), &flips, None, "—", None);

    // Frame: what the event loop does per key: App::on_key, then the synchronized-update
    // draw through CrosstermBackend, its escape bytes written to memory.
    let (mut app, mut worker) = evidence_app(small)?;
    let options = TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)) };
    let screen = Screen::default();
    let mut terminal = Terminal::with_options(CrosstermBackend::new(screen.clone()), options)?;
    let frame = |app: &mut App, terminal: &mut Terminal<CrosstermBackend<Screen>>| -> anyhow::Result<usize> {
        app.tab_hits =
            ui::tab_positions(Rect::new(0, 0, WIDTH, 1)).into_iter().map(|(x0, x1, tab)| (x0, x1, 0, tab)).collect();
        crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
        terminal.draw(|f| ui::draw(f, app))?;
        crossterm::queue!(terminal.backend_mut(), EndSynchronizedUpdate)?;
        terminal.backend_mut().flush()?;
        Ok(screen.take())
    };
    frame(&mut app, &mut terminal)?;
    let (mut frames, mut bytes) = (Vec::new(), 0usize);
    for _ in 0..FRAMES {
        let started = Instant::now();
        app.on_key(down);
        if !app.outbox.is_empty() {
            // A page flip: the worker's time is not the frame's (it is the paging rows').
            let waiting = started.elapsed();
            settle(&mut app, &mut worker)?;
            let started = Instant::now();
            bytes += frame(&mut app, &mut terminal)?;
            frames.push(waiting + started.elapsed());
            continue;
        }
        bytes += frame(&mut app, &mut terminal)?;
        frames.push(started.elapsed());
    }
    let f = stats(&frames);
    row(
        &format!(
            "frame: key → App::on_key → draw → escape bytes (CrosstermBackend into memory, synchronized update) 200×50, {} bytes/frame on average",
            bytes / FRAMES
        ),
        &frames,
        None,
        "p99 ≤ 2 ms",
        Some(f.p99 <= Duration::from_millis(2)),
    );
    Ok(())
}

/// The terminal's end of the pty, in memory: the bytes of each frame.
#[derive(Clone, Default)]
struct Screen(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Screen {
    /// The bytes written since the last call.
    fn take(&self) -> usize {
        let mut bytes = self.0.borrow_mut();
        let n = bytes.len();
        bytes.clear();
        n
    }
}

impl std::io::Write for Screen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ------------------------------------------------------------------ palette

fn palette_items(n: usize) -> Vec<Item> {
    const TITLES: [&str; 16] = [
        "Sign-ins use SSO with MFA",
        "Access is granted only on an approved, ticketed request",
        "Leavers lose access within one day of termination",
        "Quarterly access reviews are completed and signed off",
        "Changes are peer reviewed before merge",
        "Deploys go through the pipeline with passing checks",
        "Alerts are acknowledged within the on-call SLA",
        "Incidents are tracked to a postmortem",
        "Critical vulnerabilities are fixed within 30 days",
        "Backups complete daily and restores are tested",
        "Vendors are reviewed every year",
        "IAM changes are ticketed and approved",
        "Customer data is encrypted at rest",
        "Audit logs are retained for a year",
        "Staff complete security awareness training",
        "Laptops run full-disk encryption",
    ];
    const PREFIXES: [&str; 8] = ["AC", "CM", "OPS", "RES", "VM", "HR", "ENC", "LOG"];
    const KINDS: [&str; 4] = ["control", "finding", "source", "question"];
    (0..n)
        .map(|i| {
            let id = format!("{}-{:03}", PREFIXES[i % PREFIXES.len()], i % 1000);
            let kind = KINDS[i % KINDS.len()];
            let title = TITLES[(i / 7) % TITLES.len()];
            Item {
                kind,
                label: format!("{kind} {id} {title} (owner team {}, item {i})", i % 37),
                target: Target::Control(id),
                keys: String::new(),
            }
        })
        .collect()
}

fn bench_palette() -> anyhow::Result<()> {
    const ITEMS: usize = 10_000;
    const ROUNDS: usize = 30;
    const QUERY: &str = "sso with m";
    let items = palette_items(ITEMS);
    let (mut typed, mut first, mut erased) = (Vec::new(), Vec::new(), Vec::new());
    let mut matched = 0;
    // Per keystroke: its times and how many items match after it.
    let mut by_key: Vec<(Vec<Duration>, usize)> = vec![(Vec::new(), 0); QUERY.len()];
    for _ in 0..ROUNDS {
        let mut palette = Palette::with_items(items.clone());
        for (i, c) in QUERY.chars().enumerate() {
            let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            let started = Instant::now();
            let _ = palette.key(&key);
            let elapsed = started.elapsed();
            typed.push(elapsed);
            by_key[i].0.push(elapsed);
            by_key[i].1 = palette.matches.len();
            if i == 0 {
                first.push(elapsed);
            }
        }
        matched = palette.matches.len();
        // Backspace: the shorter query was ranked a keystroke ago; the palette keeps recent rankings.
        for _ in 0..QUERY.len() {
            let started = Instant::now();
            let _ = palette.key(&KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
            erased.push(started.elapsed());
        }
    }
    let t = stats(&typed);
    row(
        &format!(
            "palette: each keystroke of \"{QUERY}\" over {ITEMS} items ({matched} match the whole query), {ROUNDS} rounds; max {}",
            show(t.max)
        ),
        &typed,
        None,
        "≤ 2 ms p99 per keystroke",
        Some(t.p99 <= Duration::from_millis(2)),
    );
    let steps: Vec<String> = QUERY
        .chars()
        .zip(&by_key)
        .map(|(c, (times, matches))| format!("'{c}' {} → {matches}", show(stats(times).p50)))
        .collect();
    println!("|   p50 per keystroke → items matching after it: {} | — | — | — | — | — |", steps.join(", "));
    let f = stats(&first);
    row(
        &format!("  first keystroke only (scores all {ITEMS}); max {}", show(f.max)),
        &first,
        None,
        "≤ 2 ms p99",
        Some(f.p99 <= Duration::from_millis(2)),
    );
    let e = stats(&erased);
    row(
        &format!(
            "  backspace (the shorter query was ranked a keystroke ago: kept, not re-scored); max {}",
            show(e.max)
        ),
        &erased,
        None,
        "≤ 2 ms p99",
        Some(e.p99 <= Duration::from_millis(2)),
    );
    Ok(())
}

// ---------------------------------------------------------------------- rss

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.trim_start_matches(':').split_whitespace().next()))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// In a process of its own: the Overview the UI loads first, then 200 pages of
/// the population, only the latest kept. Prints one tab-separated line.
/// `Request::Page` needs an audit, which the 50M-row workspace lacks, so the
/// pages are read with browse::page (what the worker calls) on a second
/// connection, opened after the worker's is closed; the Overview is kept.
fn rss_child(dir: &Path) -> anyhow::Result<()> {
    const PAGES: usize = 200;
    let overview = {
        let mut worker = Worker::new(Workspace::open(dir, Access::ReadOnly)?);
        worker.serve(Request::Overview)?
    };
    let b = Browse::open(dir)?;
    let limit: String = b.ws.conn.query_row("SELECT current_setting('memory_limit')", [], |r| r.get(0))?;
    let rows: u64 = b.ws.conn.query_row("SELECT count(*) FROM idp_auth_log", [], |r| r.get(0))?;
    let opened = status_kb("VmHWM");
    let (mut position, mut pages, mut seen) = (Position::First, 0, 0);
    let mut shown: Option<Page> = None;
    for _ in 0..PAGES {
        let p = b.page(&position)?;
        pages += 1;
        seen += p.rows.len();
        let at_end = p.at_end;
        position = Position::After(p.rows.last().expect("rows").cursor.clone());
        shown = Some(p);
        if at_end {
            break;
        }
    }
    drop(shown);
    drop(overview);
    println!("{rows}\t{pages}\t{seen}\t{opened}\t{}\t{}\t{limit}", status_kb("VmHWM"), status_kb("VmRSS"));
    Ok(())
}

fn bench_rss(big: &Path, small: &Path) -> anyhow::Result<()> {
    let me = std::env::current_exe()?;
    let mut peaks = Vec::new();
    for dir in [small, big] {
        let out = Command::new(&me).env("QD_BENCH_RSS_CHILD", dir).output()?;
        anyhow::ensure!(out.status.success(), "rss child: {}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let f: Vec<&str> = line.split('\t').collect();
        anyhow::ensure!(f.len() == 7, "rss child printed {line:?}");
        let kb = |s: &str| s.parse::<u64>().unwrap_or(0);
        let (rows, pages, seen, opened, hwm, rss) = (f[0], f[1], f[2], kb(f[3]), kb(f[4]), kb(f[5]));
        let limit = f[6];
        peaks.push(hwm);
        println!(
            "| peak RSS (VmHWM) browsing, {rows}-row auth log: Overview + {pages} pages ({seen} rows) of {CONTROL} {QUARTER} | {} | — | — | ≤ 200 MB + memory limit ({limit}) | {} |",
            mb(hwm),
            yes(hwm <= 200 * 1024 + parse_size_kb(limit).unwrap_or(0)),
        );
        println!(
            "|   after open + Overview (VmHWM), and VmRSS at the end | {} / {} | — | — | — | — |",
            mb(opened),
            mb(rss)
        );
    }
    let (s, b) = (peaks[0] as f64, peaks[1] as f64);
    println!(
        "| peak RSS growth from the {} to the {} workspace | {:+.1} MB ({:.2}×) | — | — | flat | — |",
        small.display(),
        big.display(),
        (b - s) / 1024.0,
        b / s
    );
    Ok(())
}

/// DuckDB's size text ("18.6 GiB", "512.0 MiB") in KiB.
fn parse_size_kb(text: &str) -> Option<u64> {
    let mut parts = text.split_whitespace();
    let n: f64 = parts.next()?.parse().ok()?;
    let unit = match parts.next()? {
        "KiB" | "KB" | "kB" => 1.0,
        "MiB" | "MB" => 1024.0,
        "GiB" | "GB" => 1024.0 * 1024.0,
        "TiB" | "TB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((n * unit) as u64)
}

// ------------------------------------------------------------------- report

struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(times: &[Duration]) -> Stats {
    let mut sorted = times.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    Stats { p50: at(0.5), p99: at(0.99), max: sorted[sorted.len() - 1] }
}

fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.01 {
        format!("{:.1} ms", s * 1e3)
    } else if s >= 0.001 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

fn yes(met: bool) -> &'static str {
    if met { "yes" } else { "no" }
}

fn row(what: &str, ours: &[Duration], bare: Option<&[Duration]>, target: &str, met: Option<bool>) {
    let o = stats(ours);
    let (bare_text, ratio) = match bare {
        Some(bare) => {
            let b = stats(bare);
            (
                format!("{} / {}", show(b.p50), show(b.p99)),
                format!(
                    "{:.2}× ({:.2}×)",
                    o.p50.as_secs_f64() / b.p50.as_secs_f64(),
                    o.p99.as_secs_f64() / b.p99.as_secs_f64()
                ),
            )
        }
        None => ("—".into(), "—".into()),
    };
    println!(
        "| {what} (n={}) | {} / {} | {bare_text} | {ratio} | {target} | {} |",
        ours.len(),
        show(o.p50),
        show(o.p99),
        met.map_or("—", yes)
    );
    let _ = std::io::stdout().flush();
}
