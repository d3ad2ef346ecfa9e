//! The application state and its one update function. Keys become Actions
//! (through the keymap); Actions and worker replies change the state and
//! queue requests for the worker. Nothing here touches the terminal or the
//! database, so the whole UI can be driven headless in tests.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::action::Action;
use super::keymap::{Key, Keymap};
use super::messages::{Envelope, Overview, Reply, Request, Slot, Track, Write};
use super::overlays::Overlay;
use super::overlays::palette::{Palette, Target};
use super::views::{audits, controls, evidence, findings, query, sources};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Dashboard,
    Controls,
    Evidence,
    Findings,
    Audits,
    Sources,
    Query,
}

impl Tab {
    pub const ALL: [Tab; 7] =
        [Tab::Dashboard, Tab::Controls, Tab::Evidence, Tab::Findings, Tab::Audits, Tab::Sources, Tab::Query];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Dashboard => "Dashboard",
            Tab::Controls => "Controls",
            Tab::Evidence => "Evidence",
            Tab::Findings => "Findings",
            Tab::Audits => "Audits",
            Tab::Sources => "Sources",
            Tab::Query => "Query",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// What a view's handler asks the app to do.
#[derive(Debug)]
pub enum Effect {
    Send(Request),
    Open(Overlay),
    Show(Tab),
    /// Open the Evidence tab on a control's spec in the current audit.
    Drill {
        control: String,
        spec: Option<String>,
    },
    Message(String),
    Error(String),
}

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
    pub controls: controls::State,
    pub evidence: evidence::State,
    pub findings: findings::State,
    pub audits: audits::State,
    pub sources: sources::State,
    pub query: query::State,
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
    next_id: u64,
}

impl App {
    pub fn new(keymap: Keymap, read_only: bool) -> Self {
        let mut app = Self {
            keymap,
            tab: Tab::Dashboard,
            overview: None,
            controls: Default::default(),
            evidence: Default::default(),
            findings: Default::default(),
            audits: Default::default(),
            sources: Default::default(),
            query: Default::default(),
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
            next_id: 0,
        };
        app.send(Request::Overview);
        app
    }

    pub fn busy(&self) -> bool {
        !self.reads.is_empty() || !self.writes.is_empty()
    }

    /// The newest work in flight, for the status line.
    pub fn latest_work(&self) -> Option<&InFlight> {
        self.reads.values().chain(self.writes.values()).max_by_key(|w| w.id)
    }

    /// Queues a request: a read supersedes the last in its slot; a write is
    /// tracked until its own reply. Read-only mode is checked here, once.
    pub fn send(&mut self, request: Request) {
        if self.read_only && request.writes() {
            self.error("read-only workspace: nothing can be changed (opened with --read-only)");
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
            Some(Overlay::Palette(_)) | Some(Overlay::Form(_)) => true,
            Some(_) => false,
            None => match self.tab {
                Tab::Controls => self.controls.filtering,
                Tab::Evidence => self.evidence.note.is_some(),
                Tab::Query => self.query.editing(),
                _ => false,
            },
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
        if let Some(Overlay::Confirm(_)) = &self.overlay
            && let KeyCode::Char('y' | 'n') = key.code
        {
            self.answer_confirm(key.code == KeyCode::Char('y'));
        } else if let Some(action) = Key::from_event(&key).and_then(|k| self.keymap.action(&k)) {
            self.act(action);
        }
    }

    fn type_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let overview = self.overview.as_ref();
        match &mut self.overlay {
            Some(Overlay::Palette(palette)) => match palette.key(key) {
                super::overlays::palette::Outcome::Stay => Vec::new(),
                super::overlays::palette::Outcome::Close => {
                    self.overlay = None;
                    Vec::new()
                }
                super::overlays::palette::Outcome::Chosen(target) => {
                    self.overlay = None;
                    self.choose(target)
                }
            },
            Some(Overlay::Form(form)) => match form.key(key) {
                super::overlays::form::Outcome::Stay => Vec::new(),
                super::overlays::form::Outcome::Cancel => {
                    self.overlay = None;
                    vec![Effect::Message("cancelled".into())]
                }
                super::overlays::form::Outcome::Submit => {
                    let result = form.submit(overview);
                    match result {
                        Ok(request) => {
                            self.overlay = None;
                            vec![Effect::Send(request)]
                        }
                        Err(message) => vec![Effect::Error(message)],
                    }
                }
            },
            _ => match self.tab {
                Tab::Controls => self.controls.type_key(key, overview),
                Tab::Evidence => self.evidence.type_key(key),
                Tab::Query => self.query.type_key(key),
                _ => Vec::new(),
            },
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
        if self.read_only && action.writes() {
            self.error("read-only workspace: nothing can be changed (opened with --read-only)");
            return;
        }
        if self.overlay.is_some() {
            self.act_in_overlay(action);
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help(0)),
            Action::Palette => self.overlay = Some(Overlay::Palette(Box::new(Palette::new(self.overview.as_ref())))),
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

    fn view_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(overview) = self.overview.as_ref() else {
            return Vec::new();
        };
        match self.tab {
            Tab::Dashboard => Vec::new(),
            Tab::Controls => self.controls.act(action, overview),
            Tab::Evidence => self.evidence.act(action, overview),
            Tab::Findings => self.findings.act(action, overview),
            Tab::Audits => self.audits.act(action, overview),
            Tab::Sources => self.sources.act(action, overview),
            Tab::Query => self.query.act(action, overview),
        }
    }

    fn act_in_overlay(&mut self, action: Action) {
        match (&mut self.overlay, action) {
            (_, Action::Back) => self.overlay = None,
            (Some(Overlay::Help(_)), Action::Help | Action::Quit) => self.overlay = None,
            (Some(Overlay::Help(scroll)), Action::Down) => *scroll += 1,
            (Some(Overlay::Help(scroll)), Action::Up) => *scroll = scroll.saturating_sub(1),
            (Some(Overlay::Help(scroll)), Action::PageDown) => *scroll += 10,
            (Some(Overlay::Help(scroll)), Action::PageUp) => *scroll = scroll.saturating_sub(10),
            (Some(Overlay::Confirm(_)), Action::Select) => self.answer_confirm(true),
            (Some(Overlay::Confirm(_)), Action::Quit) => self.answer_confirm(false),
            _ => {}
        }
    }

    fn answer_confirm(&mut self, yes: bool) {
        if let Some(Overlay::Confirm(confirm)) = self.overlay.take() {
            if yes {
                self.send(confirm.request);
            } else {
                self.message("cancelled");
            }
        }
    }

    pub fn show(&mut self, tab: Tab) {
        self.tab = tab;
        self.dirty = true;
        let Some(overview) = self.overview.as_ref() else {
            return;
        };
        let effects = match tab {
            Tab::Controls => self.controls.entered(overview),
            Tab::Evidence => self.evidence.entered(overview),
            Tab::Findings => self.findings.entered(overview),
            Tab::Sources => self.sources.entered(overview),
            Tab::Query => self.query.entered(overview),
            Tab::Dashboard | Tab::Audits => Vec::new(),
        };
        self.apply(effects);
    }

    fn choose(&mut self, target: Target) -> Vec<Effect> {
        match target {
            Target::Action(action) => {
                self.act(action);
                Vec::new()
            }
            Target::Control(id) => {
                self.show(Tab::Controls);
                if let Some(overview) = &self.overview {
                    self.controls.select_id(&id, overview);
                    return self.controls.selection_changed(overview);
                }
                Vec::new()
            }
            Target::Finding(id) => {
                self.show(Tab::Findings);
                if let Some(overview) = &self.overview {
                    return self.findings.select_id(&id, overview);
                }
                Vec::new()
            }
            Target::Source(name) => {
                self.show(Tab::Sources);
                if let Some(overview) = &self.overview {
                    return self.sources.select_name(&name, overview);
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
                Effect::Drill { control, spec } => {
                    let effects = match &self.overview {
                        Some(overview) => self.evidence.drill(control, spec, overview),
                        None => Vec::new(),
                    };
                    self.tab = Tab::Evidence;
                    self.apply(effects);
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
                    Track::Read(Slot::Sample | Slot::Page) => self.evidence.failed(&failure),
                    Track::Write(Write::Verdict) => self.evidence.verdict_refused(&failure),
                    Track::Read(Slot::Query) | Track::Write(Write::Ask) => self.query.failed(&failure),
                    _ => Vec::new(),
                };
                self.apply(effects);
                self.error(&failure.to_string());
                return;
            }
        };
        let effects = match reply {
            Reply::Overview(overview) => self.refreshed(*overview),
            Reply::ControlDetail { control, specs } => {
                self.controls.detail = Some((control, specs));
                Vec::new()
            }
            Reply::Sample { sample, period_column } => self.evidence.sample_loaded(*sample, period_column),
            Reply::Page { filter, page } => self.evidence.page_loaded(filter, page),
            Reply::FindingEvents { id, events } => {
                self.findings.events = Some((id, events));
                Vec::new()
            }
            Reply::SourceDaily { source, days, missing } => {
                self.sources.daily = Some((source, days, missing));
                Vec::new()
            }
            Reply::Query(result) => self.query.result_loaded(result),
            Reply::Answered { request, sample } => self.query.answered(request, *sample),
            Reply::Done(text) => {
                self.message(&text);
                // Everything may have changed: reload what is shown.
                let mut effects = vec![Effect::Send(Request::Overview)];
                if self.tab == Tab::Evidence {
                    effects.extend(self.evidence.reload());
                }
                effects
            }
        };
        self.apply(effects);
    }

    fn refreshed(&mut self, overview: Overview) -> Vec<Effect> {
        self.read_only = overview.read_only;
        self.controls.refreshed(&overview);
        self.findings.refreshed(&overview);
        self.sources.refreshed(&overview);
        self.audits.refreshed(&overview);
        self.overview = Some(overview);
        let mut effects = Vec::new();
        // Evidence follows the current audit: a new audit shows its own sample.
        if let (Some(o), Some(shown), Some(control)) =
            (&self.overview, self.evidence.audit.clone(), self.evidence.control.clone())
            && o.current_audit().is_some_and(|a| a.audit.label != shown)
        {
            effects.extend(self.evidence.drill(control, self.evidence.spec.clone(), o));
        }
        // The tab now showing may need its detail.
        let overview = self.overview.as_ref();
        effects.extend(match (self.tab, overview) {
            (Tab::Controls, Some(o)) if self.controls.detail.is_none() => self.controls.selection_changed(o),
            (Tab::Findings, Some(o)) => self.findings.selection_changed(o),
            (Tab::Sources, Some(o)) if self.sources.daily.is_none() => self.sources.selection_changed(o),
            _ => Vec::new(),
        });
        effects
    }
}
