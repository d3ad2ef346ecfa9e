//! The current audit's frozen sample of a control's spec: header with the
//! period, population count, fingerprint and seed; the sampled rows with
//! their automatic test results; the whole record of the selected row.
//! `p` `x` `-` record verdicts (`x` also opens the finding form), `n` a
//! note; `a` browses the whole population and `e` its failing rows, paged
//! by keyset so that any depth reads as fast as the first page.

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::evidence_attach::{AttachField, Typed as Attaching};
use super::filter::{ListFilter, Typed};
use super::{is_motion, moved};
use crate::audit::browse::{Filter, Page, Position};
use crate::audit::sampling::Sample;
use crate::audit::sampling::key::SampleKey;
use crate::audit::verdicts::Verdict;
use crate::text::{cell, visible};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::failure::Failure;
use crate::tui::input::{Edit, Input};
use crate::tui::messages::{Reply, Request};
use crate::tui::overlays::Overlay;
use crate::tui::overlays::form::{Form, FormKind};
use crate::tui::overview::Overview;

/// Rows per population page.
pub const PAGE_ROWS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sample,
    Population(Filter),
}

/// Where the selection goes when a requested page arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Land {
    First,
    Last,
}

#[derive(Debug)]
pub struct State {
    pub audit: Option<String>,
    pub control: Option<String>,
    pub spec: Option<String>,
    pub sample: Option<Sample>,
    pub mode: Mode,
    pub page: Option<Page>,
    pub selected: usize,
    land: Land,
    /// The note being written on the selected row.
    pub note: Option<Input>,
    /// The path of a file being attached to the selected row (`A`).
    pub attach: Option<AttachField>,
    /// A refused verdict that a note would let through: (key, verdict).
    pub retry: Option<(String, Verdict)>,
    /// Notes written before the row's verdict, by key.
    pub notes: HashMap<String, String>,
    pub problem: Option<String>,
    /// The population's timestamp column, shown first after the key.
    pub period_column: Option<String>,
    /// The sample's columns in the domain's order (`question_order`).
    pub columns: Vec<String>,
    /// The first flexible column on screen (`h` / `l`); the key stays.
    pub first_column: usize,
    /// `/` over the rows shown (sample or page).
    pub filter: ListFilter,
    /// The rows the filter lets through, as indices; `selected` is into it.
    pub shown: Vec<usize>,
    /// The current audit at the last refresh: when it changes, Evidence follows.
    current_seen: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            audit: None,
            control: None,
            spec: None,
            sample: None,
            mode: Mode::Sample,
            page: None,
            selected: 0,
            land: Land::First,
            note: None,
            attach: None,
            retry: None,
            notes: HashMap::new(),
            problem: None,
            period_column: None,
            columns: Vec::new(),
            first_column: 0,
            filter: ListFilter::default(),
            shown: Vec::new(),
            current_seen: None,
        }
    }
}

impl State {
    /// Opens a control's spec (the first when none is named) in the audit
    /// shown (the current one when none is).
    pub fn drill(&mut self, control: String, spec: Option<String>, overview: &Overview) -> Vec<Effect> {
        let audit = self.audit.clone();
        self.drill_in(audit.as_deref(), control, spec, overview)
    }

    /// Opens a control's spec in the audit labelled `audit` (None: the current one).
    pub fn drill_in(
        &mut self,
        audit: Option<&str>,
        control: String,
        spec: Option<String>,
        overview: &Overview,
    ) -> Vec<Effect> {
        let chosen = match audit {
            Some(label) => overview.audits.iter().find(|a| a.audit.label == label),
            None => overview.current_audit(),
        };
        let Some(current) = chosen.or_else(|| overview.current_audit()) else {
            return vec![Effect::Error("no mock audit yet: start one in the Audits tab (5, then S)".into())];
        };
        let spec = spec.or_else(|| {
            overview.controls.iter().find(|c| c.id == control).and_then(|c| c.evidence.first()).map(|s| s.name.clone())
        });
        let Some(spec) = spec else {
            return vec![Effect::Error(format!("{control} has no evidence spec"))];
        };
        if !current.audit.controls.contains(&control) {
            self.problem = Some(format!("{control} is not in the scope of {}", current.audit.label));
        } else {
            self.problem = None;
        }
        self.audit = Some(current.audit.label.clone());
        self.control = Some(control);
        self.spec = Some(spec);
        self.sample = None;
        self.page = None;
        self.mode = Mode::Sample;
        self.selected = 0;
        self.first_column = 0;
        self.filter.clear();
        self.shown.clear();
        self.reload()
    }

    pub fn entered(&mut self, overview: &Overview) -> Vec<Effect> {
        if self.control.is_some() {
            return Vec::new();
        }
        // Nothing chosen yet: the first control in the current audit's scope.
        let first = overview.current_audit().and_then(|a| a.audit.controls.first().cloned());
        match first {
            Some(control) => self.drill(control, None, overview),
            None => Vec::new(),
        }
    }

    /// Asks again for what is shown.
    pub fn reload(&mut self) -> Vec<Effect> {
        let (Some(audit), Some(control), Some(spec)) = (&self.audit, &self.control, &self.spec) else {
            return Vec::new();
        };
        if self.problem.is_some() && self.sample.is_none() {
            return Vec::new();
        }
        let mut effects =
            vec![Effect::Send(Request::Sample { audit: audit.clone(), control: control.clone(), spec: spec.clone() })];
        if let Mode::Population(filter) = self.mode {
            effects.push(self.page_request(filter, Position::First, Land::First));
        }
        effects
    }

    fn page_request(&mut self, filter: Filter, position: Position, land: Land) -> Effect {
        self.land = land;
        Effect::Send(Request::Page {
            audit: self.audit.clone().unwrap_or_default(),
            control: self.control.clone().unwrap_or_default(),
            spec: self.spec.clone().unwrap_or_default(),
            filter,
            position,
            limit: PAGE_ROWS,
        })
    }

    pub fn sample_loaded(&mut self, sample: Sample, period_column: String, columns: Vec<String>) -> Vec<Effect> {
        self.period_column = Some(period_column);
        self.columns = columns;
        self.problem = None;
        self.sample = Some(sample);
        if self.mode == Mode::Sample {
            self.refilter();
        }
        Vec::new()
    }

    /// The rows' text the filter matches against: key and values.
    fn labels(&self) -> Vec<String> {
        match self.mode {
            Mode::Sample => self.sample.as_ref().map_or_else(Vec::new, |s| {
                s.rows
                    .iter()
                    .map(|r| {
                        let values: Vec<String> = r.row.values().map(cell).collect();
                        format!("{} {}", r.key.shown(), values.join(" "))
                    })
                    .collect()
            }),
            Mode::Population(_) => self.page.as_ref().map_or_else(Vec::new, |p| {
                p.rows
                    .iter()
                    .map(|r| {
                        let values: Vec<String> = r.values.iter().map(cell).collect();
                        format!("{} {}", SampleKey::canonical(r.key.clone()).shown(), values.join(" "))
                    })
                    .collect()
            }),
        }
    }

    /// Recomputes the rows shown after the rows or the filter changed.
    fn refilter(&mut self) {
        self.shown = self.filter.matching(self.labels());
        self.selected = self.selected.min(self.shown.len().saturating_sub(1));
    }

    /// The index (into the sample's or the page's rows) of the selected row.
    pub fn selected_row(&self) -> Option<usize> {
        self.shown.get(self.selected).copied()
    }

    pub fn page_loaded(&mut self, filter: Filter, page: Page) -> Vec<Effect> {
        if self.mode != Mode::Population(filter) {
            return Vec::new();
        }
        self.selected = match self.land {
            Land::First => 0,
            Land::Last => page.rows.len().saturating_sub(1),
        };
        self.page = Some(page);
        self.refilter();
        Vec::new()
    }

    pub fn failed(&mut self, failure: &Failure) -> Vec<Effect> {
        self.problem = Some(failure.to_string());
        Vec::new()
    }

    /// A verdict the workspace refused. A pass over failing tests needs a
    /// note: `n` then opens the note on that row, and Enter records the pass.
    pub fn verdict_refused(&mut self, failure: &Failure) -> Vec<Effect> {
        if let Failure::PassNeedsNote { key, .. } = failure {
            self.retry = Some((key.clone(), Verdict::Pass));
        }
        Vec::new()
    }

    fn len(&self) -> usize {
        self.shown.len()
    }

    /// The key of the selected row.
    pub fn selected_key(&self) -> Option<String> {
        match self.mode {
            Mode::Sample => self.sample.as_ref()?.rows.get(self.selected_row()?).map(|r| r.key.as_str().to_string()),
            Mode::Population(_) => self.page.as_ref()?.rows.get(self.selected_row()?).map(|r| r.key.clone()),
        }
    }

    pub fn type_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        if self.filter.typing {
            if self.filter.key(key) != Typed::Nothing {
                self.selected = 0;
                self.refilter();
            }
            return Vec::new();
        }
        if let Some(field) = self.attach.as_mut() {
            return match field.key(key) {
                Attaching::Attach(path) => {
                    self.attach = None;
                    match (self.audit.clone(), self.control.clone(), self.selected_key()) {
                        (Some(audit), Some(control), Some(key)) => {
                            vec![Effect::Send(Request::Attach { audit, control, key, path })]
                        }
                        _ => vec![no_row()],
                    }
                }
                Attaching::Leave => {
                    self.attach = None;
                    Vec::new()
                }
                Attaching::Editing => Vec::new(),
            };
        }
        let Some(input) = self.note.as_mut() else { return Vec::new() };
        match input.key(key) {
            Edit::Submit => {
                let note = input.text.trim().to_string();
                self.note = None;
                let Some(key) = self.selected_key() else { return Vec::new() };
                let retried = self.retry.take().filter(|(k, _)| *k == key).map(|(_, v)| v);
                let verdict = retried.or_else(|| {
                    self.sample.as_ref().and_then(|s| s.rows.iter().find(|r| r.key == *key)).and_then(|r| r.verdict)
                });
                match verdict {
                    Some(verdict) => self.verdict_request(verdict, Some(note)),
                    None => {
                        self.notes.insert(key, note);
                        vec![Effect::Message("note kept: p, x or - records it with the verdict".into())]
                    }
                }
            }
            Edit::Leave => {
                self.note = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn verdict_request(&mut self, verdict: Verdict, note: Option<String>) -> Vec<Effect> {
        let (Some(audit), Some(control), Some(key)) = (self.audit.clone(), self.control.clone(), self.selected_key())
        else {
            return vec![no_row()];
        };
        let note = note.or_else(|| self.notes.remove(&key));
        vec![Effect::Send(Request::Verdict { audit, control, key, verdict, note })]
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        let sampled = self.mode == Mode::Sample;
        match action {
            Action::Pass | Action::Exception | Action::NotApplicable | Action::Note | Action::Attach if !sampled => {
                vec![Effect::Error(
                    "verdicts are recorded on sampled rows: N files a finding on this row, s goes back to the sample"
                        .into(),
                )]
            }
            // A finding on the selected row: sampled, or a population row (a
            // failing one, say) that the finding links though no sample drew it.
            Action::NewFinding => {
                let (Some(audit), Some(control), Some(key)) = (&self.audit, &self.control, self.selected_key()) else {
                    return vec![no_row()];
                };
                let kind = FormKind::finding(audit, control, vec![key]);
                vec![Effect::Open(Overlay::Form(Form::new(kind, Some(overview))))]
            }
            Action::Pass => self.verdict_request(Verdict::Pass, None),
            Action::NotApplicable => self.verdict_request(Verdict::NotApplicable, None),
            Action::Exception => {
                let mut effects = self.verdict_request(Verdict::Exception, None);
                if let (Some(audit), Some(control), Some(key)) = (&self.audit, &self.control, self.selected_key()) {
                    let kind = FormKind::finding(audit, control, vec![key.clone()]);
                    let mut form = Form::new(kind, Some(overview));
                    // The exception is recorded before the form opens: cancelling it leaves no finding.
                    form.on_cancel = Some(format!(
                        "exception recorded without a finding (row {}): N in Findings files one later",
                        visible(&key)
                    ));
                    effects.push(Effect::Open(Overlay::Form(form)));
                }
                effects
            }
            Action::Attach => {
                if self.selected_key().is_none() {
                    return vec![no_row()];
                }
                self.attach = Some(AttachField::default());
                Vec::new()
            }
            Action::Note => {
                // After a refused pass, the note goes on the refused row.
                if let Some((key, _)) = &self.retry
                    && let Some(i) = self.sample.as_ref().and_then(|s| s.rows.iter().position(|r| r.key == **key))
                {
                    if !self.shown.contains(&i) {
                        self.filter.clear();
                        self.refilter();
                    }
                    self.selected = self.shown.iter().position(|&s| s == i).unwrap_or(0);
                }
                let Some(key) = self.selected_key() else { return vec![no_row()] };
                let existing = self
                    .sample
                    .as_ref()
                    .and_then(|s| s.rows.iter().find(|r| r.key == *key))
                    .and_then(|r| r.note.clone())
                    .or_else(|| self.notes.get(&key).cloned())
                    .unwrap_or_default();
                self.note = Some(Input::with(&existing));
                Vec::new()
            }
            Action::WholePopulation | Action::FailingRows => {
                let filter = if action == Action::WholePopulation { Filter::All } else { Filter::Failing };
                if self.control.is_none() || self.sample.is_none() {
                    return vec![Effect::Error("choose a control first (Controls tab, enter)".into())];
                }
                self.mode = Mode::Population(filter);
                self.page = None;
                self.selected = 0;
                self.shown.clear();
                vec![self.page_request(filter, Position::First, Land::First)]
            }
            Action::Back if self.filter.active() => {
                self.filter.clear();
                self.refilter();
                Vec::new()
            }
            Action::SampleRows | Action::Back if !sampled => {
                self.mode = Mode::Sample;
                self.page = None;
                self.selected = 0;
                self.refilter();
                vec![Effect::Message("back to the frozen sample".into())]
            }
            Action::SampleRows => vec![Effect::Message("the frozen sample is shown".into())],
            Action::Back => vec![Effect::Show(crate::tui::effect::Tab::Controls)],
            Action::Filter => {
                self.filter.start();
                self.refilter();
                Vec::new()
            }
            Action::ScrollLeft => {
                self.first_column = self.first_column.saturating_sub(1);
                Vec::new()
            }
            Action::ScrollRight => {
                let tests = self.sample.as_ref().and_then(|s| s.rows.first()).map_or(0, |r| r.tests.len());
                self.first_column = (self.first_column + 1).min((self.columns.len() + tests).saturating_sub(1));
                Vec::new()
            }
            Action::NextSpec | Action::PrevSpec => {
                let Some(control) = overview.controls.iter().find(|c| Some(&c.id) == self.control.as_ref()) else {
                    return vec![Effect::Error("choose a control first (Controls tab, enter)".into())];
                };
                let n = control.evidence.len().max(1);
                if n == 1 {
                    return vec![Effect::Message(format!("{} has one evidence spec", control.id))];
                }
                let at = control.evidence.iter().position(|s| Some(&s.name) == self.spec.as_ref()).unwrap_or(0);
                let to = if action == Action::NextSpec { (at + 1) % n } else { (at + n - 1) % n };
                let next = control.evidence.get(to).map(|s| s.name.clone());
                self.drill(control.id.clone(), next, overview)
            }
            Action::Refresh => self.reload(),
            a if is_motion(a) => self.motion(a),
            _ => Vec::new(),
        }
    }

    fn motion(&mut self, action: Action) -> Vec<Effect> {
        let len = self.len();
        let Mode::Population(filter) = self.mode else {
            self.selected = moved(self.selected, len, action, 10);
            return Vec::new();
        };
        let Some(page) = &self.page else { return Vec::new() };
        let first = page.rows.first().map(|r| r.cursor.clone());
        let last = page.rows.last().map(|r| r.cursor.clone());
        let (at_start, at_end) = (page.at_start, page.at_end);
        let step = 20;
        match action {
            Action::Top => vec![self.page_request(filter, Position::First, Land::First)],
            Action::Bottom => vec![self.page_request(filter, Position::Last, Land::Last)],
            Action::Down | Action::PageDown
                if self.selected + 1 >= len || (action == Action::PageDown && self.selected + step >= len) =>
            {
                match (at_end, last) {
                    (false, Some(last)) => vec![self.page_request(filter, Position::After(last), Land::First)],
                    _ => {
                        self.selected = len.saturating_sub(1);
                        Vec::new()
                    }
                }
            }
            Action::Up | Action::PageUp if self.selected == 0 || (action == Action::PageUp && self.selected < step) => {
                match (at_start, first) {
                    (false, Some(first)) => vec![self.page_request(filter, Position::Before(first), Land::Last)],
                    _ => {
                        self.selected = 0;
                        Vec::new()
                    }
                }
            }
            a => {
                self.selected = moved(self.selected, len, a, step);
                Vec::new()
            }
        }
    }
}

/// Why a verdict or a note did nothing.
fn no_row() -> Effect {
    Effect::Error("no sampled row selected: choose a control in Controls (2) and press enter".into())
}

impl super::View for State {
    fn on_enter(&mut self, overview: &Overview) -> Vec<Effect> {
        self.entered(overview)
    }

    /// Evidence follows the current audit: a new audit shows its own sample
    /// (an older audit opened from the Audits tab stays until then).
    fn on_refresh(&mut self, overview: &Overview, _shown: bool) -> Vec<Effect> {
        let current = overview.current_audit().map(|a| a.audit.label.clone());
        if current == self.current_seen {
            return Vec::new();
        }
        self.current_seen = current.clone();
        match (&self.audit, &self.control, current) {
            (Some(shown), Some(control), Some(current)) if *shown != current => {
                let (control, spec) = (control.clone(), self.spec.clone());
                self.drill_in(Some(&current), control, spec, overview)
            }
            _ => Vec::new(),
        }
    }

    fn on_action(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        self.act(action, overview)
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        match reply {
            Reply::Sample { sample, period_column, columns } => self.sample_loaded(*sample, period_column, columns),
            Reply::Page { filter, page } => self.page_loaded(filter, page),
            _ => Vec::new(),
        }
    }

    fn typing(&self) -> bool {
        self.note.is_some() || self.attach.is_some() || self.filter.typing
    }

    fn on_type(&mut self, key: &KeyEvent, _overview: Option<&Overview>) -> Vec<Effect> {
        self.type_key(key)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        super::evidence_draw::draw(frame, area, self, overview);
    }
}
