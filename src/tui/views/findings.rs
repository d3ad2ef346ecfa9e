//! Findings grouped by status, with severity colour, owner, due (overdue in
//! red), age and regression mark; the selected one's remediation history
//! beside them. `N` files one, `E` edits one (only allowed transitions).

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::filter::{ListFilter, ListKey, Typed};
use super::grid::{self, Grid};
use super::{is_motion, moved, severity_style, status_order};
use crate::audit::findings::{Event, Finding};
use crate::audit::lifecycle::FindingStatus;
use crate::audit::lifecycle::is_overdue;
use crate::text::{fit, visible};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::messages::{Reply, Request};
use crate::tui::overlays::Overlay;
use crate::tui::overlays::form::{Form, FormKind};
use crate::tui::overview::Overview;

/// The columns after the id (severity, title, owner, due, age, ↺).
const FLEXIBLE: usize = 6;

#[derive(Debug, Default)]
pub struct State {
    /// Indices of findings, grouped by status (those the filter lets through).
    pub order: Vec<usize>,
    pub selected: usize,
    pub events: Option<(String, Vec<Event>)>,
    /// `/` over id, title, owner, control, severity and status.
    pub filter: ListFilter,
    /// The first flexible column on screen (`h` / `l`); the id stays.
    pub first_column: usize,
}

impl State {
    pub fn refreshed(&mut self, overview: &Overview) {
        self.apply_filter(overview);
        self.events = None;
    }

    fn apply_filter(&mut self, overview: &Overview) {
        let labels = overview.findings.iter().map(|f| {
            format!("{} {} {} {} {} {}", f.id, f.title, f.owner, f.control, f.severity.as_str(), f.status.as_str())
        });
        let mut order = self.filter.matching(labels);
        order.sort_by_key(|&i| {
            let f = &overview.findings[i];
            (status_order(f.status), std::cmp::Reverse(f.severity), f.id.clone())
        });
        self.order = order;
        self.selected = self.selected.min(self.order.len().saturating_sub(1));
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

    pub fn selected_finding<'a>(&self, overview: &'a Overview) -> Option<&'a Finding> {
        self.order.get(self.selected).and_then(|&i| overview.findings.get(i))
    }

    pub fn select_id(&mut self, id: &str, overview: &Overview) -> Vec<Effect> {
        self.filter.clear();
        self.apply_filter(overview);
        if let Some(at) = self.order.iter().position(|&i| overview.findings[i].id == id) {
            self.selected = at;
        }
        self.selection_changed(overview)
    }

    pub fn entered(&mut self, overview: &Overview) -> Vec<Effect> {
        self.selection_changed(overview)
    }

    pub fn selection_changed(&mut self, overview: &Overview) -> Vec<Effect> {
        match self.selected_finding(overview) {
            Some(f) if self.events.as_ref().map(|(id, _)| id) != Some(&f.id) => {
                vec![Effect::Send(Request::FindingEvents { id: f.id.clone() })]
            }
            _ => Vec::new(),
        }
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
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
                self.selected = moved(self.selected, self.order.len(), a, 10);
                self.selection_changed(overview)
            }
            Action::NewFinding => {
                let Some(current) = overview.current_audit() else {
                    return vec![Effect::Error("findings are opened in an audit: start one in the Audits tab".into())];
                };
                let control = self
                    .selected_finding(overview)
                    .map(|f| f.control.clone())
                    .or_else(|| current.audit.controls.first().cloned())
                    .unwrap_or_default();
                let kind = FormKind::finding(&current.audit.label, &control, Vec::new());
                vec![Effect::Open(Overlay::Form(Form::new(kind, Some(overview))))]
            }
            Action::EditFinding | Action::Select => match self.selected_finding(overview) {
                Some(f) => {
                    let kind = FormKind::EditFinding { id: f.id.clone() };
                    vec![Effect::Open(Overlay::Form(Form::new(kind, Some(overview))))]
                }
                None => vec![Effect::Message("no finding selected: N files one".into())],
            },
            Action::Refresh => {
                self.events = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let [list, detail] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(area);
    let [filter, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(list);
    let hint = "/ filters · N new · E edit · ↺ regression";
    state.filter.draw(frame, filter, hint, state.order.len(), overview.findings.len());
    let mut grid = Grid::new(&[
        ("id", true),
        ("severity", false),
        ("title", false),
        ("owner", false),
        ("due", false),
        ("age", false),
        ("", false),
    ]);
    let mut selected_row = 0;
    let mut last_status = None;
    for (n, &i) in state.order.iter().enumerate() {
        let f = &overview.findings[i];
        if last_status != Some(f.status) {
            let count = state.order.iter().filter(|&&g| overview.findings[g].status == f.status).count();
            grid.push_styled(
                vec![Span::raw(f.status.as_str()), Span::raw(format!("({count})"))],
                Style::new().bold().underlined(),
            );
            last_status = Some(f.status);
        }
        if n == state.selected {
            selected_row = grid.rows.len();
        }
        let overdue = is_overdue(f.status, f.due, overview.today);
        let due = f.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
        let age = (overview.now - f.created_at).num_days();
        grid.push(vec![
            Span::raw(f.id.clone()),
            Span::styled(f.severity.as_str(), severity_style(f.severity)),
            Span::raw(visible(&f.title)),
            Span::raw(visible(&f.owner)),
            Span::styled(
                if overdue { format!("{due} overdue") } else { due },
                if overdue { Style::new().red().bold() } else { Style::new() },
            ),
            Span::raw(format!("{age}d")),
            Span::styled(if f.regression { "↺" } else { "" }, Style::new().red()),
        ]);
    }
    let block = Block::default().borders(Borders::ALL).title(" Findings ");
    let selected = (!state.order.is_empty()).then_some(selected_row);
    grid::draw(frame, list, block, grid, selected, state.first_column);
    draw_detail(frame, detail, state, overview);
}

fn draw_detail(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let block = Block::default().borders(Borders::ALL).title(" Remediation ");
    let Some(f) = state.selected_finding(overview) else {
        frame.render_widget(
            Paragraph::new(" No findings. An exception (x) in the Evidence tab files one.").block(block),
            area,
        );
        return;
    };
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = vec![
        Line::from(vec![f.id.clone().bold(), Span::raw(format!("  {}", visible(&f.title)))]),
        Line::from(format!("{} · audit {} · control {}", f.status.as_str(), f.audit, f.control)),
        Line::from(format!(
            "owner {} · due {}",
            visible(&f.owner),
            f.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
        )),
    ];
    if !f.description.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(visible(&f.description)));
    }
    if let (Some(approver), Some(expires)) = (&f.approver, f.accept_expires) {
        lines.push(Line::from(format!(
            "risk accepted by {} until {expires}: {}",
            visible(approver),
            visible(f.accept_reason.as_deref().unwrap_or(""))
        )));
    }
    if f.regression {
        lines.push(Line::styled("↺ regression: a retest failed after remediation", Style::new().red()));
    }
    if !f.rows.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled("Sampled rows", Style::new().bold()));
        for (sample, key) in &f.rows {
            lines.push(Line::from(fit(&format!("  sample {sample}: {key}"), width)));
        }
    }
    if !f.population_rows.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled("Population rows (not sampled)", Style::new().bold()));
        for r in &f.population_rows {
            lines.push(Line::from(fit(&format!("  {}: {}", r.spec, r.key), width)));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::styled("History", Style::new().bold()));
    match &state.events {
        Some((id, events)) if id == &f.id => {
            for e in events {
                let from = e.from.map_or("—", FindingStatus::as_str);
                let note = e.note.as_deref().map(|n| format!(": {}", visible(n))).unwrap_or_default();
                lines.push(Line::from(fit(
                    &format!("  {} {} {from} → {}{note}", &e.at[..e.at.len().min(16)], e.actor, e.to),
                    width,
                )));
            }
        }
        _ => lines.push(Line::styled("  loading…", Style::new().dark_gray())),
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

impl super::View for State {
    fn on_enter(&mut self, overview: &Overview) -> Vec<Effect> {
        self.entered(overview)
    }

    fn on_refresh(&mut self, overview: &Overview, shown: bool) -> Vec<Effect> {
        self.refreshed(overview);
        if shown { self.selection_changed(overview) } else { Vec::new() }
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
        if let Reply::FindingEvents { id, events } = reply {
            self.events = Some((id, events));
        }
        Vec::new()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}
