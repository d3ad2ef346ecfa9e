//! The application state and its one update function. Keys become Actions
//! (through the keymap); Actions and worker replies change the state and
//! queue requests for the worker. Nothing here touches the terminal or the
//! database, so the whole UI can be driven headless in tests.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::action::Action;
use super::effect::{Effect, Tab};
use super::keymap::{Key, Keymap};
use super::messages::{Envelope, Reply, Request, Slot, Track, Write};
use super::overlays::palette::{Palette, Target};
use super::overlays::{Outcome, Overlay};
use super::overview::Overview;
use super::views::Views;

/// A request the worker has not answered yet.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub id: u64,
    /// What is being done, for the status line.
    pub doing: String,
    pub since: Instant,
}

/// The status line's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

pub struct App {
    pub keymap: Keymap,
    pub tab: Tab,
    pub overview: Option<Overview>,
    pub views: Views,
    pub overlay: Option<Overlay>,
    pub status: Option<Status>,
    /// Reads in flight, by slot: a newer read in a slot supersedes the last.
    pub reads: HashMap<Slot, InFlight>,
    /// Writes in flight, by id, in the order sent: never superseded.
    pub writes: BTreeMap<u64, InFlight>,
    /// The status line has been seen (a key was pressed since it was set).
    status_seen: bool,
    /// Requests for the worker, drained by the event loop.
    pub outbox: Vec<(u64, Request)>,
    pub read_only: bool,
    pub quit: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
    pub spinner: usize,
    /// How far DuckDB says the running query has got, in percent.
    pub progress: Option<f64>,
    /// Esc was pressed while work ran: the event loop interrupts DuckDB.
    pub cancel_requested: bool,
    /// Where the tab titles were drawn, for mouse clicks.
    pub tab_hits: Vec<(u16, u16, u16, Tab)>,
    /// NO_COLOR is set: frames are drawn without any colour.
    pub no_color: bool,
    /// Pulls the event loop is to start on tokio.
    pub fetches: Vec<crate::connectors::Job>,
    /// Pulls running on tokio, by source: pages and rows so far.
    pub pulling: BTreeMap<String, crate::connectors::Tick>,
    /// The inventory picture is to be read again with the next overview
    /// (evidence or an audit changed; verdicts and findings leave it).
    inventory_stale: bool,
    next_id: u64,
}

impl App {
    pub fn new(keymap: Keymap, read_only: bool) -> Self {
        let mut app = Self {
            keymap,
            tab: Tab::Dashboard,
            overview: None,
            views: Views::default(),
            overlay: None,
            status: None,
            reads: HashMap::new(),
            writes: BTreeMap::new(),
            status_seen: true,
            outbox: Vec::new(),
            read_only,
            quit: false,
            dirty: true,
            spinner: 0,
            progress: None,
            cancel_requested: false,
            tab_hits: Vec::new(),
            fetches: Vec::new(),
            pulling: BTreeMap::new(),
            no_color: false,
            inventory_stale: true,
            next_id: 0,
        };
        app.send(Request::Overview);
        app
    }

    /// A pull's progress on tokio.
    pub fn on_pull_tick(&mut self, tick: crate::connectors::Tick) {
        self.pulling.insert(tick.source.clone(), tick);
        self.message(&format!("pulling {}", self.pulling_text()));
    }

    /// A pull ended (its pages are on disk): load it on the database thread.
    pub fn on_pull_done(&mut self, source: &str, outcome: Result<String, String>) {
        self.pulling.remove(source);
        match outcome {
            Ok(_) => self.send(Request::LoadPulls),
            Err(e) => self.error(&format!("{source}: the pull could not be written down: {e}")),
        }
    }

    fn pulling_text(&self) -> String {
        self.pulling
            .values()
            .map(|t| format!("{}: {} request(s), {} row(s)", t.source, t.requests, t.rows))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn busy(&self) -> bool {
        !self.reads.is_empty() || !self.writes.is_empty()
    }

    /// The newest work in flight, for the status line.
    pub fn latest_work(&self) -> Option<&InFlight> {
        self.reads.values().chain(self.writes.values()).max_by_key(|w| w.id)
    }

    /// Whether a write may go ahead; in a read-only workspace it is refused
    /// here, the one place that knows: for a request that writes (`send`)
    /// and, before any form opens, for an action that leads to one (`act`).
    fn may_write(&mut self) -> bool {
        if self.read_only {
            self.error("read-only workspace: nothing can be changed (opened with --read-only)");
        }
        !self.read_only
    }

    /// Queues a request: a read supersedes the last in its slot; a write is
    /// tracked until its own reply.
    pub fn send(&mut self, request: Request) {
        if request.writes() && !self.may_write() {
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        let work = InFlight { id, doing: request.doing(), since: Instant::now() };
        match request.track() {
            Track::Read(slot) => {
                self.reads.insert(slot, work);
            }
            Track::Write(_) => {
                self.writes.insert(id, work);
            }
        }
        self.outbox.push((id, request));
        self.dirty = true;
    }

    /// Whether a text field has the keyboard (then `q` types a q).
    pub fn typing(&self) -> bool {
        match &self.overlay {
            Some(overlay) => overlay.typing(),
            None => self.views.get(self.tab).typing(),
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        self.dirty = true;
        self.status_seen = true;
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        // Esc stops whatever the database is running (a long query, a draw).
        if key.code == KeyCode::Esc && self.busy() && !matches!(self.overlay, Some(Overlay::Form(_))) {
            self.cancel_requested = true;
            return;
        }
        if self.typing() {
            let effects = self.type_key(&key);
            self.apply(effects);
            return;
        }
        // A confirm dialog answers y or n, whatever those keys are bound to.
        if let Some(Overlay::Confirm(confirm)) = &self.overlay
            && let KeyCode::Char(answer @ ('y' | 'n')) = key.code
        {
            let outcome = confirm.answer(answer == 'y');
            self.overlay_outcome(outcome);
        } else if let Some(action) = Key::from_event(&key).and_then(|k| self.keymap.action(&k)) {
            self.act(action);
        }
    }

    fn type_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let overview = self.overview.as_ref();
        match &mut self.overlay {
            Some(overlay) => {
                let outcome = overlay.key(key, overview);
                self.overlay_outcome(outcome);
                Vec::new()
            }
            None => self.views.get_mut(self.tab).on_type(key, overview),
        }
    }

    /// What an overlay's key or action came to.
    fn overlay_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Stay => {}
            Outcome::Close => self.overlay = None,
            Outcome::Cancel => {
                let said = match self.overlay.take() {
                    Some(Overlay::Form(form)) => form.on_cancel,
                    _ => None,
                };
                match said {
                    Some(text) => self.error(&text),
                    None => self.message("cancelled"),
                }
            }
            Outcome::Chosen(target) => {
                self.overlay = None;
                let effects = self.choose(target);
                self.apply(effects);
            }
            Outcome::Send(request) => {
                self.overlay = None;
                self.send(request);
            }
            Outcome::Invalid(problem) => self.error(&problem),
        }
    }

    pub fn on_mouse(&mut self, mouse: MouseEvent) {
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let hit = self
                    .tab_hits
                    .iter()
                    .find(|(x0, x1, y, _)| mouse.row == *y && mouse.column >= *x0 && mouse.column < *x1);
                if let Some((_, _, _, tab)) = hit.copied()
                    && self.overlay.is_none()
                {
                    self.show(tab);
                }
            }
            MouseEventKind::ScrollDown => self.act(Action::Down),
            MouseEventKind::ScrollUp => self.act(Action::Up),
            _ => {}
        }
    }

    /// Performs an action, as a key, the palette or a test would.
    pub fn act(&mut self, action: Action) {
        self.dirty = true;
        if action.writes() && !self.may_write() {
            return;
        }
        if let Some(overlay) = &mut self.overlay {
            let outcome = overlay.act(action, &self.keymap);
            self.overlay_outcome(outcome);
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help(0)),
            Action::Palette => {
                self.overlay = Some(Overlay::Palette(Box::new(Palette::new(self.overview.as_ref(), &self.keymap))))
            }
            Action::ShowDashboard => self.show(Tab::Dashboard),
            Action::ShowControls => self.show(Tab::Controls),
            Action::ShowEvidence => self.show(Tab::Evidence),
            Action::ShowFindings => self.show(Tab::Findings),
            Action::ShowAudits => self.show(Tab::Audits),
            Action::ShowSources => self.show(Tab::Sources),
            Action::ShowQuery => self.show(Tab::Query),
            Action::NextTab => self.show(Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()]),
            Action::PrevTab => self.show(Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]),
            Action::Refresh => {
                self.message("reloading from the workspace");
                self.send(Request::Overview);
                let effects = self.view_action(Action::Refresh);
                self.apply(effects);
            }
            other => {
                let effects = self.view_action(other);
                self.apply(effects);
            }
        }
    }

    /// A command from the palette: on its own tab (switched to first), and
    /// never silent: when it came to nothing, the status line says so.
    pub fn command(&mut self, action: Action) {
        if action.writes() && !self.may_write() {
            return;
        }
        if self.overview.is_none() {
            self.error("the workspace is still opening: try again in a moment");
            return;
        }
        if let Some(tab) = action.home()
            && tab != self.tab
        {
            self.show(tab);
        }
        let before = (self.outbox.len(), self.status.clone(), self.tab, self.typing(), self.quit);
        self.act(action);
        let after = (self.outbox.len(), self.status.clone(), self.tab, self.typing(), self.quit);
        if before == after && self.overlay.is_none() {
            let why = format!("{}: nothing to do on the {} tab now", action.describe(), self.tab.title());
            self.message(&why);
        }
    }

    fn view_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(overview) = self.overview.as_ref() else {
            return Vec::new();
        };
        self.views.get_mut(self.tab).on_action(action, overview)
    }

    pub fn show(&mut self, tab: Tab) {
        self.tab = tab;
        self.dirty = true;
        let Some(overview) = self.overview.as_ref() else {
            return;
        };
        let effects = self.views.get_mut(tab).on_enter(overview);
        self.apply(effects);
    }

    fn choose(&mut self, target: Target) -> Vec<Effect> {
        match target {
            Target::Action(action) => {
                self.command(action);
                Vec::new()
            }
            Target::Control(id) => {
                self.show(Tab::Controls);
                if let Some(overview) = &self.overview {
                    self.views.controls.select_id(&id, overview);
                    return self.views.controls.selection_changed(overview);
                }
                Vec::new()
            }
            Target::Finding(id) => {
                self.show(Tab::Findings);
                if let Some(overview) = &self.overview {
                    return self.views.findings.select_id(&id, overview);
                }
                Vec::new()
            }
            Target::Source(name) => {
                self.show(Tab::Sources);
                if let Some(overview) = &self.overview {
                    return self.views.sources.select_name(&name, overview);
                }
                Vec::new()
            }
            Target::Question(text) => {
                self.show(Tab::Query);
                vec![Effect::Send(Request::Ask { text })]
            }
        }
    }

    pub fn apply(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send(request) => self.send(request),
                Effect::Open(overlay) => self.overlay = Some(overlay),
                Effect::Show(tab) => self.show(tab),
                Effect::ShowSystems => {
                    self.views.sources.show_systems();
                    self.show(Tab::Sources);
                }
                Effect::Drill { control, spec, audit } => {
                    let effects = match &self.overview {
                        Some(overview) => self.views.evidence.drill_in(audit.as_deref(), control, spec, overview),
                        None => Vec::new(),
                    };
                    self.tab = Tab::Evidence;
                    self.apply(effects);
                }
                Effect::OpenAudit(label) => {
                    self.show(Tab::Audits);
                    if let Some(overview) = &self.overview {
                        self.views.audits.open_label(&label, overview);
                    }
                }
                Effect::Message(text) => self.message(&text),
                Effect::Error(text) => self.error(&text),
            }
        }
    }

    pub fn message(&mut self, text: &str) {
        self.notify(text, false);
    }

    pub fn error(&mut self, text: &str) {
        self.notify(text, true);
    }

    /// Sets the status line. An error nobody has seen yet (no key since) is
    /// kept in front of what follows it, so that a refused write is never
    /// hidden by the next write's success.
    fn notify(&mut self, text: &str, error: bool) {
        let text = match &self.status {
            Some(shown) if shown.error && !self.status_seen => format!("{} · then: {text}", shown.text),
            _ => text.to_string(),
        };
        let error = error || self.status.as_ref().is_some_and(|s| s.error && !self.status_seen);
        self.status = Some(Status { text, error });
        self.status_seen = false;
        self.dirty = true;
    }

    /// A worker reply. A read's is dropped when a newer read in its slot is
    /// pending; a write's is always shown, its error included.
    pub fn on_reply(&mut self, envelope: Envelope) {
        let current = match envelope.track {
            Track::Write(_) => self.writes.remove(&envelope.id).is_some(),
            Track::Read(slot) => match self.reads.get(&slot) {
                Some(inflight) if inflight.id == envelope.id => {
                    self.reads.remove(&slot);
                    true
                }
                _ => false,
            },
        };
        if !current {
            tracing::debug!(id = envelope.id, track = ?envelope.track, "stale reply dropped");
            return;
        }
        if !self.busy() {
            self.progress = None;
        }
        self.dirty = true;
        let reply = match envelope.result {
            Ok(reply) => reply,
            Err(failure) => {
                let effects = match envelope.track {
                    Track::Read(Slot::Sample | Slot::Page) => self.views.evidence.failed(&failure),
                    Track::Write(Write::Verdict) => self.views.evidence.verdict_refused(&failure),
                    Track::Read(Slot::Query) | Track::Write(Write::Ask) => self.views.query.failed(&failure),
                    _ => Vec::new(),
                };
                self.apply(effects);
                self.error(&failure.to_string());
                return;
            }
        };
        let effects = match reply {
            Reply::Overview(overview) => self.refreshed(*overview),
            Reply::PullJobs(jobs) => {
                for job in &jobs {
                    let tick = crate::connectors::Tick { source: job.source.name.clone(), requests: 0, rows: 0 };
                    self.pulling.insert(job.source.name.clone(), tick);
                }
                self.message(&format!("pulling {} in the background", self.pulling_text()));
                self.fetches.extend(jobs);
                Vec::new()
            }
            Reply::PullsLoaded(lines) if lines.is_empty() => Vec::new(),
            Reply::PullsLoaded(lines) => {
                self.message(&lines.join("; "));
                self.inventory_stale = true;
                vec![Effect::Send(Request::Overview)]
            }
            Reply::Systems(picture) => {
                if let Some(overview) = self.overview.as_mut() {
                    overview.inventory = Some(Arc::new(*picture));
                    self.views.sources.systems.refreshed(overview);
                }
                Vec::new()
            }
            Reply::Done(text) => {
                self.message(&text);
                if matches!(envelope.track, Track::Write(Write::Ingest | Write::Audit | Write::Pull)) {
                    self.inventory_stale = true;
                }
                // Everything may have changed: reload what is shown.
                let mut effects = vec![Effect::Send(Request::Overview)];
                if self.tab == Tab::Evidence {
                    effects.extend(self.views.evidence.reload());
                }
                effects
            }
            // Every other reply belongs to one view, which takes it.
            reply => match Views::taking(&reply) {
                Some(tab) => self.views.get_mut(tab).on_reply(reply),
                None => Vec::new(),
            },
        };
        self.apply(effects);
    }

    fn refreshed(&mut self, mut overview: Overview) -> Vec<Effect> {
        self.read_only = overview.read_only;
        overview.inventory = self.overview.as_ref().and_then(|o| o.inventory.clone());
        let mut effects = Vec::new();
        if self.inventory_stale || overview.inventory.is_none() {
            self.inventory_stale = false;
            effects.push(Effect::Send(Request::Systems));
        }
        let overview = self.overview.insert(overview);
        for tab in Tab::ALL {
            effects.extend(self.views.get_mut(tab).on_refresh(overview, tab == self.tab));
        }
        effects
    }
}
