//! The evidence inventory: rows, newest timestamp, freshness, last run; the
//! selected source's rows per day across the period as a sparkline with the
//! coverage gaps marked; `I` ingests it from its configured path. `tab`
//! turns to the inventory pane (`systems`): drift and coverage.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::filter::{ListFilter, ListKey, Typed};
use super::grid::{self, Grid};
use super::{freshness_style, is_motion, moved};
use crate::text::visible;
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::messages::{Reply, Request};
use crate::tui::overlays::Overlay;
use crate::tui::overlays::confirm::Confirm;
use crate::tui::overview::Overview;
use crate::workspace::coverage::describe_ranges;
use crate::workspace::documents::state::Status as DocumentStatus;
use crate::workspace::sources::{SourceStatus, describe_age};

/// What the Sources tab shows: the evidence sources, or the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Sources,
    Systems,
}

#[derive(Debug, Default)]
pub struct State {
    pub pane: Pane,
    /// The inventory pane (drift and coverage).
    pub systems: super::systems::State,
    /// Into `shown`.
    pub selected: usize,
    /// Rows per day of the selected source, and its missing days.
    pub daily: Option<(String, BTreeMap<NaiveDate, u64>, Vec<NaiveDate>)>,
    /// Indices of the sources the filter lets through.
    pub shown: Vec<usize>,
    pub filter: ListFilter,
    /// The first flexible column on screen (`h` / `l`); the name stays.
    pub first_column: usize,
}

/// The columns after the name (state, rows, age, newest, format, last run).
const FLEXIBLE: usize = 6;

impl State {
    pub fn refreshed(&mut self, overview: &Overview) {
        self.apply_filter(overview);
        self.daily = None;
    }

    fn apply_filter(&mut self, overview: &Overview) {
        let labels = overview.sources.iter().map(|s| format!("{} {} {}", s.name, s.format, s.state.as_str()));
        self.shown = self.filter.matching(labels);
        self.selected = self.selected.min(self.shown.len().saturating_sub(1));
    }

    fn selected_source<'a>(&self, overview: &'a Overview) -> Option<&'a SourceStatus> {
        self.shown.get(self.selected).and_then(|&i| overview.sources.get(i))
    }

    pub fn type_key(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Vec<Effect> {
        let typed = self.filter.key(key);
        let Some(overview) = overview else { return Vec::new() };
        if typed != Typed::Nothing {
            self.selected = 0;
            self.apply_filter(overview);
        }
        self.selection_changed(overview)
    }

    pub fn entered(&mut self, overview: &Overview) -> Vec<Effect> {
        self.selection_changed(overview)
    }

    pub fn select_name(&mut self, name: &str, overview: &Overview) -> Vec<Effect> {
        self.filter.clear();
        self.apply_filter(overview);
        if let Some(at) = self.shown.iter().position(|&i| overview.sources[i].name == name) {
            self.selected = at;
        }
        self.selection_changed(overview)
    }

    pub fn selection_changed(&mut self, overview: &Overview) -> Vec<Effect> {
        match self.selected_source(overview) {
            Some(s) if self.daily.as_ref().map(|(n, _, _)| n) != Some(&s.name) => {
                vec![Effect::Send(Request::SourceDaily { source: s.name.clone() })]
            }
            _ => Vec::new(),
        }
    }

    /// Opens the inventory pane on its drift.
    pub fn show_systems(&mut self) {
        self.pane = Pane::Systems;
        self.systems.focus = super::systems::Focus::Drift;
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        if action == Action::NextPane {
            match self.pane {
                Pane::Sources => self.show_systems(),
                Pane::Systems if !self.systems.next_focus() => self.pane = Pane::Sources,
                Pane::Systems => {}
            }
            return Vec::new();
        }
        if self.pane == Pane::Systems {
            return self.systems.act(action, overview);
        }
        match self.filter.list_key(action, &mut self.first_column, FLEXIBLE) {
            Some(ListKey::Scrolled) => return Vec::new(),
            Some(ListKey::FilterStarted) => {
                self.apply_filter(overview);
                return Vec::new();
            }
            Some(ListKey::FilterCleared) => {
                self.apply_filter(overview);
                return self.selection_changed(overview);
            }
            None => {}
        }
        match action {
            a if is_motion(a) => {
                self.selected = moved(self.selected, self.shown.len(), a, 10);
                self.selection_changed(overview)
            }
            Action::Ingest => match self.selected_source(overview) {
                Some(s) => vec![Effect::Open(Overlay::Confirm(Confirm {
                    question: format!("Ingest {} from its configured path now?", s.name),
                    request: Request::Ingest { source: s.name.clone() },
                }))],
                None => vec![Effect::Message("no source selected".into())],
            },
            Action::Pull => match self.selected_source(overview) {
                Some(s) if crate::workspace::connector::Preset::parse(s.format).is_some() => {
                    vec![Effect::Open(Overlay::Confirm(Confirm {
                        question: format!("Pull {} now? It runs in the background; the UI stays usable.", s.name),
                        request: Request::PlanPull { sources: vec![s.name.clone()] },
                    }))]
                }
                Some(s) => vec![Effect::Message(format!("{} reads files ({}); I ingests it", s.name, s.format))],
                None => vec![Effect::Message("no source selected".into())],
            },
            Action::Refresh => {
                self.daily = None;
                self.selection_changed(overview)
            }
            _ => Vec::new(),
        }
    }
}

fn row(s: &SourceStatus) -> Vec<Span<'static>> {
    let newest = s.newest.map(|n| n.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "—".into());
    let age = s.age.map(describe_age).unwrap_or_else(|| "—".into());
    let last = match &s.last_run {
        Some(run) => format!("#{} {} {}", run.run_id, run.status, &run.finished_at[..run.finished_at.len().min(16)]),
        None => "never".into(),
    };
    vec![
        Span::raw(s.name.clone()),
        Span::styled(s.state.as_str(), freshness_style(s.state)),
        Span::raw(s.rows.map(|r| r.to_string()).unwrap_or_else(|| "—".into())),
        Span::raw(age),
        Span::raw(newest),
        Span::raw(s.format),
        Span::raw(last),
    ]
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    if state.pane == Pane::Systems {
        super::systems::draw(frame, area, &state.systems, overview);
        return;
    }
    let attention: Vec<_> = overview.documents.iter().filter(|d| d.needs_attention()).collect();
    // A short screen keeps the sources and gives documents one line.
    let documents_height = match overview.documents.len() {
        0 => 0,
        _ if area.height < 30 => 1,
        _ => 2 + attention.len().clamp(1, 6) as u16,
    };
    let [filter, table, documents, chart] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(documents_height),
        Constraint::Length(7),
    ])
    .areas(area);
    state.filter.draw(frame, filter, "I ingest · / filters · tab: systems", state.shown.len(), overview.sources.len());
    let mut grid = Grid::new(&[
        ("source", true),
        ("state", false),
        ("rows", false),
        ("age", false),
        ("newest", false),
        ("format", false),
        ("last run", false),
    ]);
    for s in state.shown.iter().filter_map(|&i| overview.sources.get(i)) {
        grid.push(row(s));
    }
    let block = Block::default().borders(Borders::ALL).title(" Sources ");
    grid::draw(frame, table, block, grid, Some(state.selected), state.first_column);
    if documents_height > 0 {
        draw_documents(frame, documents, overview, &attention);
    }
    draw_daily(frame, chart, state, overview);
}

/// The documents that need attention in the working period, beside the
/// sources' freshness (`quarterdeck documents` lists them all).
fn draw_documents(frame: &mut Frame, area: Rect, overview: &Overview, attention: &[&DocumentStatus]) {
    let title = format!(
        " Documents — {} in the register, {} need attention in {} ",
        overview.documents.len(),
        attention.len(),
        overview.period.label
    );
    if area.height < 3 {
        let style = if attention.is_empty() { Style::new().green() } else { Style::new().red() };
        frame.render_widget(Paragraph::new(Line::styled(title.trim().to_string(), style)), area);
        return;
    }
    let block = Block::default().borders(Borders::ALL).title(title);
    let lines: Vec<Line> = if attention.is_empty() {
        vec![Line::styled(" every document is current", Style::new().green())]
    } else {
        let room = usize::from(area.height.saturating_sub(2)).max(1);
        let shown = if attention.len() > room { room - 1 } else { attention.len() };
        let mut lines: Vec<Line> = attention[..shown]
            .iter()
            .map(|d| {
                Line::from(vec![
                    Span::raw(format!(" {}  ", visible(&d.document.key()))),
                    Span::styled(d.state.name(), Style::new().red()),
                    Span::styled(format!("  {}", visible(&d.detail)), Style::new().dark_gray()),
                ])
            })
            .collect();
        if shown < attention.len() {
            let more = format!(
                " … and {} more: quarterdeck documents --period {}",
                attention.len() - shown,
                overview.period.label
            );
            lines.push(Line::styled(more, Style::new().dark_gray()));
        }
        lines
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_daily(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let title = format!(" Rows per day in {} ", overview.period.label);
    let block = Block::default().borders(Borders::ALL).title(title);
    let Some((name, days, missing)) = &state.daily else {
        frame.render_widget(Paragraph::new(" counting…").block(block), area);
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [spark, marks, text] =
        Layout::vertical([Constraint::Length(2), Constraint::Length(1), Constraint::Length(2)]).areas(inner);
    // One column per day, most recent days kept when the period is wider.
    let width = spark.width as usize;
    let values: Vec<(NaiveDate, u64)> = days.iter().map(|(d, n)| (*d, *n)).collect();
    let shown = &values[values.len().saturating_sub(width)..];
    let data: Vec<u64> = shown.iter().map(|(_, n)| *n).collect();
    frame.render_widget(Sparkline::default().data(&data).style(Style::new().cyan()), spark);
    let gap_marks: String = shown.iter().map(|(d, _)| if missing.contains(d) { '▲' } else { ' ' }).collect();
    frame.render_widget(Paragraph::new(Line::styled(gap_marks, Style::new().red())), marks);
    let summary = if missing.is_empty() {
        Line::from(format!("{name}: no coverage gaps in {}", overview.period.label))
    } else {
        Line::from(vec![
            Span::styled(format!("{name}: {} day(s) without rows ▲ ", missing.len()), Style::new().red()),
            Span::raw(describe_ranges(missing)),
        ])
    };
    frame.render_widget(Paragraph::new(summary), text);
}

impl super::View for State {
    fn on_enter(&mut self, overview: &Overview) -> Vec<Effect> {
        self.entered(overview)
    }

    fn on_refresh(&mut self, overview: &Overview, shown: bool) -> Vec<Effect> {
        self.refreshed(overview);
        if shown && self.daily.is_none() { self.selection_changed(overview) } else { Vec::new() }
    }

    fn on_action(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        self.act(action, overview)
    }

    fn typing(&self) -> bool {
        self.filter.typing
    }

    fn on_type(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Vec<Effect> {
        self.type_key(key, overview)
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        if let Reply::SourceDaily { source, days, missing } = reply {
            self.daily = Some((source, days, missing));
        }
        Vec::new()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}
