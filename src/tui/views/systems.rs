//! The inventory pane of the Sources tab: the drift of the working period
//! (unknown, retired but active, uncovered, review overdue, owner unknown),
//! highlighted, one line each — `N` files a finding that names the system —
//! and the system × control coverage matrix: rows per system of each spec
//! that applies to systems, `✗ 0` where one applies and has none.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::grid::{self, Grid};
use super::{is_motion, moved};
use crate::text::visible;
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::inventory::InventoryPicture;
use crate::tui::messages::Request;
use crate::tui::overlays::Overlay;
use crate::tui::overlays::form::{About, Form, FormKind};
use crate::tui::overview::Overview;
use crate::workspace::inventory::drift::{Drift, DriftKind, SystemStatus, SystemsReport};

/// Which list of the pane has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    Drift,
    Matrix,
}

#[derive(Debug, Default)]
pub struct State {
    pub focus: Focus,
    /// Into the drift lines.
    pub drift_selected: usize,
    /// Into the matrix's rows (the inventory, then the unknown systems).
    pub matrix_selected: usize,
    /// The first flexible column of the matrix on screen (`h` / `l`).
    pub first_column: usize,
}

/// The matrix's columns before the coverage (system pinned).
const FIXED: [(&str, bool); 8] = [
    ("system", true),
    ("drift", false),
    ("kind", false),
    ("owner", false),
    ("in scope", false),
    ("first seen", false),
    ("last seen", false),
    ("rows", false),
];

impl State {
    /// The picture was read again: keep the selections on screen.
    pub fn refreshed(&mut self, overview: &Overview) {
        if let Some(picture) = &overview.inventory {
            self.drift_selected = self.drift_selected.min(picture.drift().len().saturating_sub(1));
            let rows = picture.report.as_ref().map(matrix_rows).map(|r| r.len()).unwrap_or(0);
            self.matrix_selected = self.matrix_selected.min(rows.saturating_sub(1));
        }
    }

    /// `tab` from the sources list lands on the drift; from the drift, on
    /// the matrix; from the matrix, `false` (back to the sources).
    pub fn next_focus(&mut self) -> bool {
        match self.focus {
            Focus::Drift => {
                self.focus = Focus::Matrix;
                true
            }
            Focus::Matrix => {
                self.focus = Focus::Drift;
                false
            }
        }
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        let Some(picture) = overview.inventory.as_deref() else {
            return vec![Effect::Message("the inventory is still being checked".into())];
        };
        match action {
            a if is_motion(a) => {
                match self.focus {
                    Focus::Drift => self.drift_selected = moved(self.drift_selected, picture.drift().len(), a, 5),
                    Focus::Matrix => {
                        let rows = picture.report.as_ref().map(matrix_rows).map(|r| r.len()).unwrap_or(0);
                        self.matrix_selected = moved(self.matrix_selected, rows, a, 10);
                    }
                }
                Vec::new()
            }
            Action::ScrollLeft | Action::ScrollRight => {
                let columns = FIXED.len() - 1 + picture.report.as_ref().map(|r| r.coverage.len()).unwrap_or(0);
                self.first_column = grid::scrolled(self.first_column, action, columns);
                Vec::new()
            }
            Action::Refresh => vec![Effect::Send(Request::Systems)],
            Action::NewFinding => match self.selected_drift(picture) {
                Some(line) => file_finding(line, overview),
                None => vec![Effect::Message(match self.focus {
                    Focus::Drift => "no drift in the period: nothing to file".into(),
                    Focus::Matrix => "this system has no drift in the period".into(),
                })],
            },
            _ => Vec::new(),
        }
    }

    /// The drift line the keys are on: the selected one, or in the matrix
    /// the selected system's first.
    fn selected_drift<'a>(&self, picture: &'a InventoryPicture) -> Option<&'a Drift> {
        match self.focus {
            Focus::Drift => picture.drift().get(self.drift_selected),
            Focus::Matrix => {
                let rows = matrix_rows(picture.report.as_ref()?);
                let system = rows.get(self.matrix_selected)?;
                picture.drift().iter().find(|d| d.system.as_deref() == Some(system.as_str()))
            }
        }
    }
}

/// The finding form for a drift line, in the current audit (it must be in
/// fieldwork: `findings::add` says so otherwise).
fn file_finding(line: &Drift, overview: &Overview) -> Vec<Effect> {
    let Some(current) = overview.current_audit() else {
        return vec![Effect::Error("findings are opened in an audit: start one in the Audits tab".into())];
    };
    let control = line.suggested_control(&overview.controls).unwrap_or_default();
    let mut description = format!("{} (drift: {}", line.detail, line.kind.as_str());
    if let Some(source) = &line.source {
        description.push_str(&format!(", seen in {source}"));
    }
    description.push(')');
    let about = About { system: line.system.clone(), slot: None, title: sentence(&line.detail), description };
    let kind = FormKind::NewFinding { audit: current.audit.label.clone(), control, rows: Vec::new(), about };
    vec![Effect::Open(Overlay::Form(Form::new(kind, Some(overview))))]
}

/// A drift line as a finding's title: backticks dropped, first letter up.
fn sentence(detail: &str) -> String {
    let plain = detail.replace('`', "");
    let mut chars = plain.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => plain,
    }
}

/// The matrix's rows: every inventory system, then each unknown one.
fn matrix_rows(report: &SystemsReport) -> Vec<String> {
    let mut rows: Vec<String> = report.systems.iter().map(|s| s.id.clone()).collect();
    for d in report.drift.iter().filter(|d| d.kind == DriftKind::Unknown) {
        if let Some(system) = d.system.as_ref().filter(|s| !rows.contains(s)) {
            rows.push(system.clone());
        }
    }
    rows
}

fn focus_block(state: &State, focus: Focus, title: String) -> Block<'static> {
    let block = Block::default().borders(Borders::ALL);
    if state.focus == focus { block.border_style(Style::new().cyan()).title(title) } else { block.title(title) }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let Some(picture) = overview.inventory.as_deref() else {
        frame.render_widget(Paragraph::new(" Checking the inventory against the evidence…"), area);
        return;
    };
    let Some(report) = picture.report.as_ref() else {
        let mut lines = vec![Line::from(if picture.present {
            " The inventory could not be checked:"
        } else {
            " No systems.toml in this workspace: docs/inventory.md shows how to declare the systems."
        })];
        for problem in &picture.problems {
            lines.push(Line::styled(format!(" {}", visible(problem)), Style::new().red()));
        }
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    let drift = picture.drift();
    let drift_height = (drift.len().clamp(1, 8) + 2) as u16;
    let [header, drift_area, matrix_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(drift_height), Constraint::Min(5)]).areas(area);
    let review = match (report.review.reviewed_at, &report.review.reviewer) {
        (Some(at), Some(by)) => format!("inventory reviewed {at} by {}", visible(by)),
        (Some(at), None) => format!("inventory reviewed {at}"),
        _ => "inventory never reviewed".into(),
    };
    let review_style = if report.review.overdue { Style::new().red() } else { Style::new().dark_gray() };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {review}"), review_style),
            Span::styled(" · tab: sources, drift, systems · N files a finding · r re-checks", Style::new().dark_gray()),
        ])),
        header,
    );
    draw_drift(frame, drift_area, state, report);
    draw_matrix(frame, matrix_area, state, report, picture.tz);
}

fn drift_style(kind: DriftKind) -> Style {
    match kind {
        DriftKind::Unknown | DriftKind::RetiredButActive | DriftKind::Uncovered => Style::new().red().bold(),
        DriftKind::ReviewOverdue | DriftKind::OwnerUnknown => Style::new().yellow(),
    }
}

fn draw_drift(frame: &mut Frame, area: Rect, state: &State, report: &SystemsReport) {
    let title = format!(" Drift in {} — {} line(s) ", report.period.label, report.drift.len());
    let block = focus_block(state, Focus::Drift, title);
    if report.drift.is_empty() {
        let line = Line::styled(" none: the inventory matches the evidence", Style::new().green());
        frame.render_widget(Paragraph::new(line).block(block), area);
        return;
    }
    let height = usize::from(area.height.saturating_sub(2)).max(1);
    let first = super::window(state.drift_selected, height);
    let lines: Vec<Line> = report
        .drift
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, d)| {
            let line = Line::from(vec![
                Span::styled(format!(" {:<19}", d.kind.as_str()), drift_style(d.kind)),
                Span::raw(format!("{:<16} ", visible(d.system.as_deref().unwrap_or("—")))),
                Span::raw(visible(&d.detail)),
            ]);
            if state.focus == Focus::Drift && i == state.drift_selected { line.reversed() } else { line }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// A spec's column title: its control, with the spec where a control has
/// more than one spec that applies to systems.
fn coverage_titles(report: &SystemsReport) -> Vec<String> {
    report
        .coverage
        .iter()
        .map(|c| match report.coverage.iter().filter(|o| o.control == c.control).count() {
            1 => c.control.clone(),
            _ => format!("{} {}", c.control, c.spec),
        })
        .collect()
}

fn draw_matrix(frame: &mut Frame, area: Rect, state: &State, report: &SystemsReport, tz: chrono_tz::Tz) {
    let titles = coverage_titles(report);
    let mut headers: Vec<(&str, bool)> = FIXED.to_vec();
    headers.extend(titles.iter().map(|t| (t.as_str(), false)));
    let mut grid = Grid::new(&headers);
    let date = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string()).unwrap_or_else(|| "—".into())
    };
    // Looked up once per frame, not once per row: an inventory has 1000s.
    let mut drift_of: HashMap<&str, Vec<&Drift>> = HashMap::new();
    for d in &report.drift {
        if let Some(system) = &d.system {
            drift_of.entry(system.as_str()).or_default().push(d);
        }
    }
    let listed: HashMap<&str, &SystemStatus> = report.systems.iter().map(|s| (s.id.as_str(), s)).collect();
    for id in matrix_rows(report) {
        let lines = drift_of.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let flag = lines.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>().join(", ");
        let flag_style = lines.first().map(|d| drift_style(d.kind)).unwrap_or_default();
        let mut row = match listed.get(id.as_str()) {
            Some(s) => vec![
                Span::raw(visible(&s.id)),
                Span::styled(flag, flag_style),
                Span::raw(s.kind.as_str()),
                Span::raw(visible(s.owner.as_deref().unwrap_or("—"))),
                Span::raw(if s.in_scope { "yes" } else { "no" }),
                Span::raw(date(s.first_seen)),
                Span::raw(date(s.last_seen)),
                Span::raw(s.rows.to_string()),
            ],
            None => {
                let seen = lines.first();
                vec![
                    Span::styled(visible(&id), Style::new().red().bold()),
                    Span::styled(flag, flag_style),
                    Span::styled("not in the inventory", Style::new().red()),
                    Span::raw("—"),
                    Span::raw("—"),
                    Span::raw(date(seen.and_then(|d| d.first_seen))),
                    Span::raw(date(seen.and_then(|d| d.last_seen))),
                    Span::raw(seen.map(|d| d.rows.to_string()).unwrap_or_default()),
                ]
            }
        };
        for spec in &report.coverage {
            row.push(match spec.cell(&id) {
                Some(0) => Span::styled("✗ 0", Style::new().red().bold()),
                Some(n) => Span::styled(format!("✓ {n}"), Style::new().green()),
                None => match spec.rows.get(&id) {
                    Some(n) => Span::styled(format!("({n})"), Style::new().dark_gray()),
                    None => Span::styled("·", Style::new().dark_gray()),
                },
            });
        }
        grid.push(row);
    }
    let title = format!(
        " Systems × controls in {} — ✓ rows · ✗ 0 applies, no evidence · (n) rows where it does not apply ",
        report.period.label
    );
    let block = focus_block(state, Focus::Matrix, title);
    let selected = (state.focus == Focus::Matrix).then_some(state.matrix_selected);
    grid::draw(frame, area, block, grid, selected, state.first_column);
}
