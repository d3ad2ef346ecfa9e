//! The evidence inventory: rows, newest timestamp, freshness, last run; the
//! selected source's rows per day across the period as a sparkline with the
//! coverage gaps marked; `I` ingests it from its configured path.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline};

use super::{freshness_style, is_motion, list_table, moved, table_state};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::messages::{Reply, Request};
use crate::tui::overlays::Overlay;
use crate::tui::overlays::confirm::Confirm;
use crate::tui::overview::Overview;
use crate::workspace::coverage::describe_ranges;
use crate::workspace::sources::{SourceStatus, describe_age};

#[derive(Debug, Default)]
pub struct State {
    pub selected: usize,
    /// Rows per day of the selected source, and its missing days.
    pub daily: Option<(String, BTreeMap<NaiveDate, u64>, Vec<NaiveDate>)>,
}

impl State {
    pub fn refreshed(&mut self, overview: &Overview) {
        self.selected = self.selected.min(overview.sources.len().saturating_sub(1));
        self.daily = None;
    }

    pub fn entered(&mut self, overview: &Overview) -> Vec<Effect> {
        self.selection_changed(overview)
    }

    pub fn select_name(&mut self, name: &str, overview: &Overview) -> Vec<Effect> {
        if let Some(at) = overview.sources.iter().position(|s| s.name == name) {
            self.selected = at;
        }
        self.selection_changed(overview)
    }

    pub fn selection_changed(&mut self, overview: &Overview) -> Vec<Effect> {
        match overview.sources.get(self.selected) {
            Some(s) if self.daily.as_ref().map(|(n, _, _)| n) != Some(&s.name) => {
                vec![Effect::Send(Request::SourceDaily { source: s.name.clone() })]
            }
            _ => Vec::new(),
        }
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        match action {
            a if is_motion(a) => {
                self.selected = moved(self.selected, overview.sources.len(), a, 10);
                self.selection_changed(overview)
            }
            Action::Ingest => match overview.sources.get(self.selected) {
                Some(s) => vec![Effect::Open(Overlay::Confirm(Confirm {
                    question: format!("Ingest {} from its configured path now?", s.name),
                    request: Request::Ingest { source: s.name.clone() },
                }))],
                None => Vec::new(),
            },
            Action::Refresh => {
                self.daily = None;
                self.selection_changed(overview)
            }
            _ => Vec::new(),
        }
    }
}

fn row(s: &SourceStatus) -> Row<'static> {
    let newest = s.newest.map(|n| n.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "—".into());
    let age = s.age.map(describe_age).unwrap_or_else(|| "—".into());
    let last = match &s.last_run {
        Some(run) => format!("#{} {} {}", run.run_id, run.status, &run.finished_at[..run.finished_at.len().min(16)]),
        None => "never".into(),
    };
    Row::new(vec![
        Cell::from(s.name.clone()),
        Cell::from(s.format),
        Cell::from(s.rows.map(|r| r.to_string()).unwrap_or_else(|| "—".into())),
        Cell::from(newest),
        Cell::from(age),
        Cell::from(Span::styled(s.state.as_str(), freshness_style(s.state))),
        Cell::from(last),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let [table, chart] = Layout::vertical([Constraint::Min(5), Constraint::Length(7)]).areas(area);
    let rows: Vec<Row> = overview.sources.iter().map(row).collect();
    let mut table_state = table_state(state.selected, overview.sources.len(), table);
    let widget = list_table(
        rows,
        [
            Constraint::Min(12),
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Length(17),
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Min(20),
        ],
        vec!["source", "format", "rows", "newest", "age", "state", "last run"],
        " Sources — I ingest ",
    );
    frame.render_stateful_widget(widget, table, &mut table_state);
    draw_daily(frame, chart, state, overview);
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
