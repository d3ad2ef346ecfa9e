//! A read-only SQL console (the same guard as `quarterdeck query`: one
//! SELECT, classified by DuckDB's parser, never committed) and the auditor
//! question library: pick a question, get its frozen sample, see the request
//! tracked.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use super::evidence_table::{self, EvidenceRow, EvidenceTable};
use super::filter::{ListFilter, Typed};
use super::grid::{self, Grid};
use super::{is_motion, moved};
use crate::audit::auditor_requests::AuditorRequest;
use crate::audit::sampling::Sample;
use crate::text::{cell, fit, visible};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::failure::Failure;
use crate::tui::input::{Edit, Input};
use crate::tui::messages::{QUERY_ROWS, Reply, Request};
use crate::tui::overview::Overview;
use crate::workspace::query::ResultSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Sql,
    Results,
    Library,
}

#[derive(Debug, Default)]
pub struct State {
    pub input: Input,
    pub focus: Pane,
    pub result: Option<ResultSet>,
    pub selected: usize,
    pub question: usize,
    pub answered: Option<Answered>,
    pub problem: Option<String>,
    /// The first flexible column on screen (`h` / `l`); keys stay.
    pub first_column: usize,
    /// `/` in the library: the questions whose text matches, best first.
    pub library_filter: ListFilter,
    /// Indices into the overview's questions, as the filter shows them
    /// (None: every question, in library order).
    pub shown_questions: Option<Vec<usize>>,
}

/// An answered auditor question: the request, its frozen sample, the
/// period column and the columns in the order the question asks for.
#[derive(Debug)]
pub struct Answered {
    pub request: AuditorRequest,
    pub sample: Sample,
    pub period_column: String,
    pub columns: Vec<String>,
}

/// A library question as it is asked, with its size and period filled in.
pub fn question_text(q: &crate::audit::questions::Question) -> String {
    q.text.replace("{n}", &q.size.to_string()).replace("{period}", "last quarter")
}

impl State {
    pub fn editing(&self) -> bool {
        self.focus == Pane::Sql || self.library_filter.typing
    }

    /// The library's questions as shown: filtered, or all.
    fn shown(&self, overview: &Overview) -> Vec<usize> {
        self.shown_questions.clone().unwrap_or_else(|| (0..overview.questions.len()).collect())
    }

    fn filter_library(&mut self, overview: &Overview) {
        let shown = self.library_filter.matching(overview.questions.iter().map(question_text));
        self.shown_questions = self.library_filter.active().then_some(shown);
        self.question = 0;
    }

    pub fn entered(&mut self, _overview: &Overview) -> Vec<Effect> {
        self.focus = Pane::Sql;
        Vec::new()
    }

    pub fn type_key(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Vec<Effect> {
        if self.library_filter.typing {
            if self.library_filter.key(key) != Typed::Nothing
                && let Some(overview) = overview
            {
                self.filter_library(overview);
            }
            return Vec::new();
        }
        match self.input.key(key) {
            Edit::Submit => {
                let sql = self.input.text.trim().to_string();
                if sql.is_empty() {
                    return Vec::new();
                }
                self.problem = None;
                vec![Effect::Send(Request::Query { sql })]
            }
            Edit::Leave | Edit::Next => {
                self.focus = Pane::Results;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub fn result_loaded(&mut self, result: ResultSet) -> Vec<Effect> {
        self.result = Some(result);
        self.answered = None;
        self.selected = 0;
        self.first_column = 0;
        Vec::new()
    }

    pub fn answered(&mut self, answered: Answered) -> Vec<Effect> {
        let Answered { request, sample, .. } = &answered;
        let text = format!(
            "request #{} tracked: {} / {}, {} of {} row(s), frozen as sample {}",
            request.id,
            sample.control,
            sample.spec,
            sample.size,
            sample.population_count,
            request.sample_id.map(|s| s.to_string()).unwrap_or_default()
        );
        self.answered = Some(answered);
        self.result = None;
        self.selected = 0;
        self.first_column = 0;
        // The answer has the keyboard: j/k move through it, h/l scroll it.
        self.focus = Pane::Results;
        vec![Effect::Message(text)]
    }

    pub fn failed(&mut self, failure: &Failure) -> Vec<Effect> {
        self.problem = Some(failure.to_string());
        Vec::new()
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        match (self.focus, action) {
            (_, Action::NextPane) => {
                self.focus = match self.focus {
                    Pane::Sql => Pane::Results,
                    Pane::Results => Pane::Library,
                    Pane::Library => Pane::Sql,
                };
                Vec::new()
            }
            (Pane::Library, Action::Filter) => {
                self.library_filter.start();
                self.filter_library(overview);
                Vec::new()
            }
            (Pane::Library, Action::Back) if self.library_filter.active() => {
                self.library_filter.clear();
                self.filter_library(overview);
                Vec::new()
            }
            // Elsewhere `/` goes to the SQL line.
            (_, Action::Filter) => {
                self.focus = Pane::Sql;
                Vec::new()
            }
            (Pane::Library, a) if is_motion(a) => {
                self.question = moved(self.question, self.shown(overview).len(), a, 10);
                Vec::new()
            }
            (Pane::Library, Action::Select) => {
                match self.shown(overview).get(self.question).and_then(|&i| overview.questions.get(i)) {
                    Some(q) => vec![Effect::Send(Request::Ask { text: question_text(q) })],
                    None => vec![Effect::Message("no question matches the filter: esc clears it".into())],
                }
            }
            (Pane::Results, a) if is_motion(a) => {
                let len = match (&self.result, &self.answered) {
                    (Some(r), _) => r.rows.len(),
                    (None, Some(a)) => a.sample.rows.len(),
                    _ => 0,
                };
                self.selected = moved(self.selected, len, a, 10);
                Vec::new()
            }
            (_, Action::ScrollLeft) => {
                self.first_column = self.first_column.saturating_sub(1);
                Vec::new()
            }
            (_, Action::ScrollRight) => {
                let columns = match (&self.result, &self.answered) {
                    (Some(r), _) => r.columns.len(),
                    (None, Some(a)) => a.columns.len() + a.sample.rows.first().map_or(0, |r| r.tests.len()),
                    _ => 0,
                };
                self.first_column = (self.first_column + 1).min(columns.saturating_sub(1));
                Vec::new()
            }
            (Pane::Results, Action::Select) => {
                self.focus = Pane::Sql;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    // A narrow screen stacks the library under the results, which get the whole width.
    let (left, library) = if area.width < 110 {
        let [left, library] = Layout::vertical([Constraint::Min(8), Constraint::Length(6)]).areas(area);
        (left, library)
    } else {
        let [left, library] = Layout::horizontal([Constraint::Percentage(68), Constraint::Percentage(32)]).areas(area);
        (left, library)
    };
    let [sql, results] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(left);
    let focused = |pane| if state.focus == pane { Style::new().cyan() } else { Style::new() };
    let sql_block = Block::default()
        .borders(Borders::ALL)
        .border_style(focused(Pane::Sql))
        .title(format!("{}SQL — one read-only SELECT; enter runs, esc leaves ", mark(state, Pane::Sql)));
    let inner = sql_block.inner(sql);
    let shown = fit(&state.input.text, inner.width as usize);
    frame.render_widget(Paragraph::new(shown).block(sql_block), sql);
    if state.focus == Pane::Sql {
        let x = (inner.x + state.input.cursor as u16).min(inner.right().saturating_sub(1));
        frame.set_cursor_position((x, inner.y));
    }
    draw_results(frame, results, state, focused(Pane::Results));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(focused(Pane::Library))
        .title(library_title(state, overview));
    if let Some(problem) = &overview.questions_problem {
        let text = Line::styled(visible(&format!("cannot be read: {problem}")), Style::new().red());
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), library);
        return;
    }
    let width = library.width.saturating_sub(2) as usize;
    let items: Vec<ListItem> = (state.shown(overview).iter())
        .filter_map(|&i| overview.questions.get(i))
        .map(|q| ListItem::new(fit(&question_text(q), width)))
        .collect();
    let mut list_state = ListState::default().with_selected(if items.is_empty() { None } else { Some(state.question) });
    let list = List::new(items).highlight_style(Style::new().reversed()).block(block);
    frame.render_stateful_widget(list, library, &mut list_state);
}

/// "Auditor questions", with the filter while one is typed or kept.
fn library_title(state: &State, overview: &Overview) -> String {
    let filter = &state.library_filter;
    match filter.typing || filter.active() {
        true => format!(
            "{}Auditor questions /{} — {} of {} · esc clears ",
            mark(state, Pane::Library),
            visible(&filter.input.text),
            state.shown(overview).len(),
            overview.questions.len()
        ),
        false => format!("{}Auditor questions — enter asks, / filters ", mark(state, Pane::Library)),
    }
}

/// The focused pane's title starts with ▶: its colour is not all that says so.
fn mark(state: &State, pane: Pane) -> &'static str {
    if state.focus == pane { "▶ " } else { " " }
}

fn draw_results(frame: &mut Frame, area: Rect, state: &State, border: Style) {
    let block = Block::default().borders(Borders::ALL).border_style(border);
    // Every title of the pane starts where ▶ marks focus.
    let titled = |title: &str| format!("{}{}", mark(state, Pane::Results), title.trim_start());
    if let Some(problem) = &state.problem {
        let text = vec![Line::styled(visible(problem), Style::new().red())];
        frame.render_widget(Paragraph::new(text).block(block.title(titled(" Refused / failed "))), area);
        return;
    }
    match (&state.result, &state.answered) {
        (Some(result), _) => {
            let title = format!(
                " {} row(s){} ",
                result.rows.len(),
                if result.truncated { format!(", first {QUERY_ROWS} shown") } else { String::new() }
            );
            // The first column usually names the row (an id): it stays whole and on screen.
            let headers: Vec<(&str, bool)> =
                result.columns.iter().enumerate().map(|(i, c)| (c.as_str(), i == 0)).collect();
            let mut grid = Grid::new(&headers);
            for row in &result.rows {
                grid.push(row.iter().map(|v| Span::raw(cell(v))).collect());
            }
            grid::draw(frame, area, block.title(titled(&title)), grid, Some(state.selected), state.first_column);
        }
        (None, Some(answer)) => {
            let sample = &answer.sample;
            let title = format!(" Request #{}: “{}” ", answer.request.id, fit(&answer.request.text, 50));
            let tests: Vec<String> =
                sample.rows.first().map(|r| r.tests.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
            let rows = sample
                .rows
                .iter()
                .map(|r| EvidenceRow {
                    key: r.key.shown(),
                    values: answer.columns.iter().map(|c| r.row.get(c).map(cell).unwrap_or_default()).collect(),
                    tests: r.tests.iter().map(|(_, t)| *t).collect(),
                    verdict: None,
                })
                .collect();
            let table = EvidenceTable {
                columns: &answer.columns,
                period_column: Some(&answer.period_column),
                tests: &tests,
                rows,
                verdicts: false,
            };
            evidence_table::draw(frame, area, block.title(titled(&title)), table, state.selected, state.first_column);
        }
        _ => {
            let hint = " Type a SELECT over the workspace's sources, e.g. SELECT count(*) FROM deploys; or pick a question (tab).";
            frame.render_widget(
                Paragraph::new(hint).wrap(Wrap { trim: true }).block(block.title(titled(" Results "))),
                area,
            );
        }
    }
}

impl super::View for State {
    fn on_enter(&mut self, overview: &Overview) -> Vec<Effect> {
        self.entered(overview)
    }

    fn on_action(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        self.act(action, overview)
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        match reply {
            Reply::Query(result) => self.result_loaded(result),
            Reply::Answered { request, sample, period_column, columns } => {
                self.answered(Answered { request, sample: *sample, period_column, columns })
            }
            _ => Vec::new(),
        }
    }

    fn typing(&self) -> bool {
        self.editing()
    }

    fn on_type(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Vec<Effect> {
        self.type_key(key, overview)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}
