//! One file per tab. Each holds its state, its handler of Actions (which
//! returns Effects for the app) and its draw function, behind [`View`]; the
//! app reaches a tab's view only through [`Views::get`] and
//! [`Views::get_mut`], so a new tab touches the tab list, [`Views`] and
//! its own file.

pub mod audits;
pub mod controls;
pub mod criteria;
pub mod dashboard;
pub mod evidence;
pub mod evidence_attach;
pub mod evidence_draw;
pub mod evidence_table;
pub mod filter;
pub mod findings;
pub mod grid;
pub mod query;
pub mod sources;
pub mod systems;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

use crate::audit::lifecycle::{FindingStatus, Severity};
use crate::audit::verdicts::ControlResult;
use crate::tui::action::Action;
use crate::tui::effect::{Effect, Tab};
use crate::tui::messages::Reply;
use crate::tui::overview::Overview;
use crate::workspace::sources::Freshness;

/// What the app asks of the tab it shows (or of every tab, on a refresh).
pub trait View {
    /// The tab was opened.
    fn on_enter(&mut self, _overview: &Overview) -> Vec<Effect> {
        Vec::new()
    }

    /// A new overview arrived; `shown` says whether this tab is on screen.
    fn on_refresh(&mut self, _overview: &Overview, _shown: bool) -> Vec<Effect> {
        Vec::new()
    }

    /// An action (from a key, the palette or the mouse) on this tab.
    fn on_action(&mut self, _action: Action, _overview: &Overview) -> Vec<Effect> {
        Vec::new()
    }

    /// The worker's reply to a request this view sent (`Reply::view`).
    fn on_reply(&mut self, _reply: Reply) -> Vec<Effect> {
        Vec::new()
    }

    /// Whether a text field of this view has the keyboard.
    fn typing(&self) -> bool {
        false
    }

    /// A key typed into that text field.
    fn on_type(&mut self, _key: &KeyEvent, _overview: Option<&Overview>) -> Vec<Effect> {
        Vec::new()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview);
}

/// Every tab's view.
#[derive(Default)]
pub struct Views {
    pub dashboard: dashboard::State,
    pub controls: controls::State,
    pub evidence: evidence::State,
    pub findings: findings::State,
    pub audits: audits::State,
    pub sources: sources::State,
    pub query: query::State,
}

impl Views {
    /// The tab whose view takes this reply (the overview and a write's
    /// confirmation are the app's).
    pub fn taking(reply: &Reply) -> Option<Tab> {
        match reply {
            Reply::Overview(_) | Reply::Done(_) | Reply::PullJobs(_) | Reply::PullsLoaded(_) | Reply::Systems(_) => {
                None
            }
            Reply::ControlDetail { .. } => Some(Tab::Controls),
            Reply::Sample { .. } | Reply::Page { .. } => Some(Tab::Evidence),
            Reply::FindingEvents { .. } => Some(Tab::Findings),
            Reply::SourceDaily { .. } => Some(Tab::Sources),
            Reply::Query(_) | Reply::Answered { .. } => Some(Tab::Query),
        }
    }

    pub fn get(&self, tab: Tab) -> &dyn View {
        match tab {
            Tab::Dashboard => &self.dashboard,
            Tab::Controls => &self.controls,
            Tab::Evidence => &self.evidence,
            Tab::Findings => &self.findings,
            Tab::Audits => &self.audits,
            Tab::Sources => &self.sources,
            Tab::Query => &self.query,
        }
    }

    pub fn get_mut(&mut self, tab: Tab) -> &mut dyn View {
        match tab {
            Tab::Dashboard => &mut self.dashboard,
            Tab::Controls => &mut self.controls,
            Tab::Evidence => &mut self.evidence,
            Tab::Findings => &mut self.findings,
            Tab::Audits => &mut self.audits,
            Tab::Sources => &mut self.sources,
            Tab::Query => &mut self.query,
        }
    }
}

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

/// A list window: the first row shown so that `selected` is visible.
pub fn window(selected: usize, height: usize) -> usize {
    if height == 0 { 0 } else { selected.saturating_sub(height - 1) }
}
