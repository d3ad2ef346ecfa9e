//! The current audit's frozen sample of a control's spec: header with the
//! period, population count, fingerprint and seed; the sampled rows with
//! their automatic test results; the whole record of the selected row.
//! `p` `x` `-` record verdicts (`x` also opens the finding form), `n` a
//! note; `a` browses the whole population and `e` its failing rows, paged
//! by keyset so that any depth reads as fast as the first page.

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use serde_json::Value as Json;

use super::evidence_table::{self, EvidenceRow, EvidenceTable};
use super::{is_motion, moved};
use crate::audit::browse::{Filter, Page, Position};
use crate::audit::sampling::Sample;
use crate::audit::sampling::key::SampleKey;
use crate::audit::verdicts::Verdict;
use crate::text::{cell, fit, visible};
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
/// Columns shown in the table besides key, timestamp and tests.
const CHOSEN_COLUMNS: usize = 2;

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
    /// A refused verdict that a note would let through: (key, verdict).
    pub retry: Option<(String, Verdict)>,
    /// Notes written before the row's verdict, by key.
    pub notes: HashMap<String, String>,
    pub problem: Option<String>,
    /// The population's timestamp column, shown first after the key.
    pub period_column: Option<String>,
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
            retry: None,
            notes: HashMap::new(),
            problem: None,
            period_column: None,
        }
    }
}

impl State {
    /// Opens a control's spec (the first when none is named).
    pub fn drill(&mut self, control: String, spec: Option<String>, overview: &Overview) -> Vec<Effect> {
        let Some(current) = overview.current_audit() else {
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

    pub fn sample_loaded(&mut self, sample: Sample, period_column: String) -> Vec<Effect> {
        self.period_column = Some(period_column);
        if self.mode == Mode::Sample {
            self.selected = self.selected.min(sample.rows.len().saturating_sub(1));
        }
        self.problem = None;
        self.sample = Some(sample);
        Vec::new()
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
        match self.mode {
            Mode::Sample => self.sample.as_ref().map(|s| s.rows.len()).unwrap_or(0),
            Mode::Population(_) => self.page.as_ref().map(|p| p.rows.len()).unwrap_or(0),
        }
    }

    /// The key of the selected row.
    pub fn selected_key(&self) -> Option<String> {
        match self.mode {
            Mode::Sample => self.sample.as_ref()?.rows.get(self.selected).map(|r| r.key.as_str().to_string()),
            Mode::Population(_) => self.page.as_ref()?.rows.get(self.selected).map(|r| r.key.clone()),
        }
    }

    pub fn type_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
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
            return Vec::new();
        };
        let note = note.or_else(|| self.notes.remove(&key));
        vec![Effect::Send(Request::Verdict { audit, control, key, verdict, note })]
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        let sampled = self.mode == Mode::Sample;
        match action {
            Action::Pass | Action::Exception | Action::NotApplicable | Action::Note if !sampled => {
                vec![Effect::Error("verdicts are recorded on sampled rows: press s to go back to the sample".into())]
            }
            Action::Pass => self.verdict_request(Verdict::Pass, None),
            Action::NotApplicable => self.verdict_request(Verdict::NotApplicable, None),
            Action::Exception => {
                let mut effects = self.verdict_request(Verdict::Exception, None);
                if let (Some(audit), Some(control), Some(key)) = (&self.audit, &self.control, self.selected_key()) {
                    let kind = FormKind::NewFinding { audit: audit.clone(), control: control.clone(), rows: vec![key] };
                    effects.push(Effect::Open(Overlay::Form(Form::new(kind, Some(overview)))));
                }
                effects
            }
            Action::Note => {
                // After a refused pass, the note goes on the refused row.
                if let Some((key, _)) = &self.retry
                    && let Some(i) = self.sample.as_ref().and_then(|s| s.rows.iter().position(|r| r.key == **key))
                {
                    self.selected = i;
                }
                let Some(key) = self.selected_key() else { return Vec::new() };
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
                vec![self.page_request(filter, Position::First, Land::First)]
            }
            Action::SampleRows | Action::Back if !sampled => {
                self.mode = Mode::Sample;
                self.page = None;
                self.selected = 0;
                Vec::new()
            }
            Action::Back => vec![Effect::Show(crate::tui::effect::Tab::Controls)],
            Action::NextSpec => {
                let Some(control) = overview.controls.iter().find(|c| Some(&c.id) == self.control.as_ref()) else {
                    return Vec::new();
                };
                let at = control.evidence.iter().position(|s| Some(&s.name) == self.spec.as_ref()).unwrap_or(0);
                let next = control.evidence.get((at + 1) % control.evidence.len().max(1)).map(|s| s.name.clone());
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

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let Some(control) = &state.control else {
        let text = if overview.current_audit().is_some() {
            " Choose a control in the Controls tab (2) and press enter."
        } else {
            " No mock audit yet: start one in the Audits tab (5, then S)."
        };
        frame.render_widget(
            Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(" Evidence ")),
            area,
        );
        return;
    };
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(4), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    draw_header(frame, header, state, control);
    let [table, detail] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(body);
    match state.mode {
        Mode::Sample => draw_sample(frame, table, state),
        Mode::Population(filter) => draw_population(frame, table, state, filter),
    }
    draw_detail(frame, detail, state);
    let hint = match (&state.note, state.mode) {
        (Some(note), _) => Line::from(vec!["note: ".bold(), Span::raw(visible(&note.text))]),
        (None, Mode::Sample) => Line::styled(
            "p pass · x exception → finding · - n/a · n note · a population · e failing rows · ] next spec",
            Style::new().dark_gray(),
        ),
        (None, Mode::Population(_)) => Line::styled(
            "j/k pgdn/pgup g/G page through the population · s back to the sample",
            Style::new().dark_gray(),
        ),
    };
    frame.render_widget(Paragraph::new(hint), footer);
    if let Some(note) = &state.note {
        let x = (footer.x + 6 + note.cursor as u16).min(footer.right().saturating_sub(1));
        frame.set_cursor_position((x, footer.y));
    }
}

fn draw_header(frame: &mut Frame, area: Rect, state: &State, control: &str) {
    let spec = state.spec.as_deref().unwrap_or("");
    let audit = state.audit.as_deref().unwrap_or("");
    let mut lines = Vec::new();
    match &state.sample {
        Some(s) => {
            lines.push(Line::from(vec![
                format!("{control} / {spec}").bold(),
                Span::raw(format!(
                    "  audit {audit} · period {} [{} .. {})",
                    s.period.label,
                    s.period.start.format("%Y-%m-%d %H:%M"),
                    s.period.end.format("%Y-%m-%d %H:%M")
                )),
            ]));
            lines.push(Line::from(format!(
                "population {} row(s) · sample {} · fingerprint {} · seed {}",
                s.population_count,
                s.size,
                &s.fingerprint[..s.fingerprint.len().min(16)],
                fit(&s.seed, 20)
            )));
        }
        None => {
            lines.push(Line::from(vec![format!("{control} / {spec}").bold(), Span::raw(format!("  audit {audit}"))]))
        }
    }
    if let Some(problem) = &state.problem {
        lines.push(Line::styled(fit(problem, area.width as usize), Style::new().red()));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The columns the table shows: the timestamp, then the first few others
/// that are not the key.
fn chosen<'a>(
    columns: impl Iterator<Item = &'a String>,
    key_columns: &[String],
    period: Option<&String>,
) -> Vec<String> {
    let rest = columns.filter(|c| !key_columns.contains(c) && Some(*c) != period).take(CHOSEN_COLUMNS).cloned();
    period.cloned().into_iter().chain(rest).collect()
}

/// The timestamp column fits a whole `YYYY-MM-DD HH:MM:SS`; the others share the rest.
fn draw_sample(frame: &mut Frame, area: Rect, state: &State) {
    let block = Block::default().borders(Borders::ALL).title(" Sample (frozen) ");
    let Some(sample) = &state.sample else {
        frame.render_widget(Paragraph::new(" loading the sample…").block(block), area);
        return;
    };
    let columns = sample
        .rows
        .first()
        .map(|r| chosen(r.row.keys(), &sample.key_columns, state.period_column.as_ref()))
        .unwrap_or_default();
    let tests: Vec<String> =
        sample.rows.first().map(|r| r.tests.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
    let rows = sample
        .rows
        .iter()
        .map(|r| {
            let note = if r.note.is_some() || state.notes.contains_key(r.key.as_str()) { " ✎" } else { "" };
            let style = match r.verdict {
                Some(Verdict::Pass) => Style::new().green(),
                Some(Verdict::Exception) => Style::new().red().bold(),
                _ => Style::new(),
            };
            EvidenceRow {
                key: r.key.shown(),
                values: columns.iter().map(|c| r.row.get(c).map(cell).unwrap_or_default()).collect(),
                tests: r.tests.iter().map(|(_, t)| *t).collect(),
                verdict: Some((format!("{}{note}", r.verdict.map_or("—", Verdict::as_str)), style)),
            }
        })
        .collect();
    let table = EvidenceTable {
        columns: &columns,
        period_column: state.period_column.as_ref(),
        tests: &tests,
        rows,
        verdicts: true,
    };
    evidence_table::draw(frame, area, block, table, state.selected);
}

fn draw_population(frame: &mut Frame, area: Rect, state: &State, filter: Filter) {
    let title = match filter {
        Filter::All => " Whole population ",
        Filter::Failing => " Failing or inconclusive rows ",
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let Some(page) = &state.page else {
        frame.render_widget(Paragraph::new(" reading the population…").block(block), area);
        return;
    };
    let key_columns = state.sample.as_ref().map(|s| s.key_columns.clone()).unwrap_or_default();
    let columns = chosen(page.columns.iter(), &key_columns, state.period_column.as_ref());
    let at: Vec<usize> = columns.iter().filter_map(|c| page.columns.iter().position(|p| p == c)).collect();
    let rows = page
        .rows
        .iter()
        .map(|r| EvidenceRow {
            key: SampleKey::canonical(r.key.clone()).shown(),
            values: at.iter().map(|&i| r.values.get(i).map(cell).unwrap_or_default()).collect(),
            tests: r.tests.clone(),
            verdict: None,
        })
        .collect();
    let edge = match (page.at_start, page.at_end) {
        (true, true) => "all rows",
        (true, false) => "first page",
        (false, true) => "last page",
        (false, false) => "",
    };
    let block = block.title_bottom(format!(" {} row(s) on this page {edge} ", page.rows.len()));
    let table = EvidenceTable {
        columns: &columns,
        period_column: state.period_column.as_ref(),
        tests: &page.tests,
        rows,
        verdicts: false,
    };
    evidence_table::draw(frame, area, block, table, state.selected);
}

fn draw_detail(frame: &mut Frame, area: Rect, state: &State) {
    let block = Block::default().borders(Borders::ALL).title(" Record ");
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut field = |name: &str, value: &Json| {
        lines.push(Line::styled(fit(name, width), Style::new().cyan()));
        lines.push(Line::from(format!("  {}", fit(&cell(value), width.saturating_sub(2)))));
    };
    match state.mode {
        Mode::Sample => {
            if let Some(row) = state.sample.as_ref().and_then(|s| s.rows.get(state.selected)) {
                field("key", &Json::String(row.key.shown()));
                field("rank", &Json::String(row.rank.clone()));
                for (name, result) in &row.tests {
                    let shown = match result {
                        Some(true) => "✓ pass",
                        Some(false) => "✗ fail",
                        None => "? inconclusive (NULL)",
                    };
                    field(&format!("test {name}"), &Json::String(shown.into()));
                }
                if let Some(note) = &row.note {
                    field("note", &Json::String(note.clone()));
                }
                for (name, value) in &row.row {
                    field(name, value);
                }
            }
        }
        Mode::Population(_) => {
            if let Some((page, row)) = state.page.as_ref().and_then(|p| p.rows.get(state.selected).map(|r| (p, r))) {
                field("key", &Json::String(SampleKey::canonical(row.key.clone()).shown()));
                for (name, value) in page.columns.iter().zip(&row.values) {
                    field(name, value);
                }
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

impl super::View for State {
    fn on_enter(&mut self, overview: &Overview) -> Vec<Effect> {
        self.entered(overview)
    }

    /// Evidence follows the current audit: a new audit shows its own sample.
    fn on_refresh(&mut self, overview: &Overview, _shown: bool) -> Vec<Effect> {
        match (&self.audit, &self.control) {
            (Some(shown), Some(control)) if overview.current_audit().is_some_and(|a| a.audit.label != *shown) => {
                let (control, spec) = (control.clone(), self.spec.clone());
                self.drill(control, spec, overview)
            }
            _ => Vec::new(),
        }
    }

    fn on_action(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        self.act(action, overview)
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        match reply {
            Reply::Sample { sample, period_column } => self.sample_loaded(*sample, period_column),
            Reply::Page { filter, page } => self.page_loaded(filter, page),
            _ => Vec::new(),
        }
    }

    fn typing(&self) -> bool {
        self.note.is_some()
    }

    fn on_type(&mut self, key: &KeyEvent, _overview: Option<&Overview>) -> Vec<Effect> {
        self.type_key(key)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}
