//! One file per tab. Each holds its state, its handler of Actions (which
//! returns Effects for the app) and its draw function.

pub mod audits;
pub mod controls;
pub mod criteria;
pub mod dashboard;
pub mod evidence;
pub mod findings;
pub mod query;
pub mod sources;

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::widgets::{Block, Borders, Row, Table, TableState};

use crate::audit::lifecycle::{FindingStatus, Severity};
use crate::audit::verdicts::ControlResult;
use crate::tui::action::Action;
use crate::workspace::sources::Freshness;

/// Moves a selection in a list of `len` rows; `page` rows per page.
pub fn moved(selected: usize, len: usize, action: Action, page: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let last = len - 1;
    match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (selected + 1).min(last),
        Action::PageUp => selected.saturating_sub(page),
        Action::PageDown => (selected + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => selected.min(last),
    }
}

pub fn is_motion(action: Action) -> bool {
    matches!(action, Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom)
}

pub fn result_glyph(result: Option<ControlResult>) -> (&'static str, Style) {
    match result {
        Some(ControlResult::Effective) => ("✓", Style::new().green()),
        Some(ControlResult::ExceptionsNoted) => ("✗", Style::new().red().bold()),
        Some(ControlResult::NotTested) => ("○", Style::new().yellow()),
        None => ("·", Style::new().dark_gray()),
    }
}

pub fn test_glyph(result: Option<bool>) -> (&'static str, Style) {
    match result {
        Some(true) => ("✓", Style::new().green()),
        Some(false) => ("✗", Style::new().red().bold()),
        None => ("?", Style::new().yellow()),
    }
}

pub fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => Style::new().fg(Color::Magenta).bold(),
        Severity::High => Style::new().red(),
        Severity::Medium => Style::new().yellow(),
        Severity::Low => Style::new().blue(),
    }
}

pub fn freshness_style(state: Freshness) -> Style {
    match state {
        Freshness::Fresh => Style::new().green(),
        Freshness::Stale => Style::new().yellow(),
        Freshness::Abandoned => Style::new().red().bold(),
        Freshness::Empty | Freshness::NeverLoaded => Style::new().dark_gray(),
    }
}

pub fn status_order(status: FindingStatus) -> usize {
    FindingStatus::ALL.iter().position(|s| *s == status).unwrap_or(0)
}

/// A bordered table's state: `selected` (none in an empty list) kept in view
/// of `area`, whose borders and header take three rows.
pub fn table_state(selected: usize, len: usize, area: Rect) -> TableState {
    let height = area.height.saturating_sub(3) as usize;
    TableState::default().with_selected((len > 0).then_some(selected)).with_offset(window(selected, height))
}

/// A bordered list table: bold header, reversed selection, a title.
pub fn list_table<'a>(
    rows: Vec<Row<'a>>,
    widths: impl IntoIterator<Item = Constraint>,
    header: Vec<&'a str>,
    title: &'a str,
) -> Table<'a> {
    Table::new(rows, widths)
        .header(Row::new(header).style(Style::new().bold()))
        .row_highlight_style(Style::new().reversed())
        .block(Block::default().borders(Borders::ALL).title(title))
}

/// A list window: the first row shown so that `selected` is visible.
pub fn window(selected: usize, height: usize) -> usize {
    if height == 0 { 0 } else { selected.saturating_sub(height - 1) }
}
