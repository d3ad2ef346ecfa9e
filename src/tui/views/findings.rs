//! Findings grouped by status, with severity colour, owner, due (overdue in
//! red), age and regression mark; the selected one's remediation history
//! beside them. `N` files one, `E` edits one (only allowed transitions).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Wrap};

use super::{is_motion, list_table, moved, severity_style, status_order, table_state};
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

#[derive(Debug, Default)]
pub struct State {
    /// Indices of findings, grouped by status.
    pub order: Vec<usize>,
    pub selected: usize,
    pub events: Option<(String, Vec<Event>)>,
}

impl State {
    pub fn refreshed(&mut self, overview: &Overview) {
        let mut order: Vec<usize> = (0..overview.findings.len()).collect();
        order.sort_by_key(|&i| {
            let f = &overview.findings[i];
            (status_order(f.status), std::cmp::Reverse(f.severity), f.id.clone())
        });
        self.order = order;
        self.selected = self.selected.min(self.order.len().saturating_sub(1));
        self.events = None;
    }

    pub fn selected_finding<'a>(&self, overview: &'a Overview) -> Option<&'a Finding> {
        self.order.get(self.selected).and_then(|&i| overview.findings.get(i))
    }

    pub fn select_id(&mut self, id: &str, overview: &Overview) -> Vec<Effect> {
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
                let kind = FormKind::NewFinding { audit: current.audit.label.clone(), control, rows: Vec::new() };
                vec![Effect::Open(Overlay::Form(Form::new(kind, Some(overview))))]
            }
            Action::EditFinding | Action::Select => match self.selected_finding(overview) {
                Some(f) => {
                    let kind = FormKind::EditFinding { id: f.id.clone() };
                    vec![Effect::Open(Overlay::Form(Form::new(kind, Some(overview))))]
                }
                None => Vec::new(),
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
    let mut rows = Vec::new();
    let mut selected_row = 0;
    let mut last_status = None;
    for (n, &i) in state.order.iter().enumerate() {
        let f = &overview.findings[i];
        if last_status != Some(f.status) {
            let count = overview.findings.iter().filter(|g| g.status == f.status).count();
            let style = Style::new().bold().underlined();
            rows.push(Row::new(vec![
                Cell::from(Span::styled(f.status.as_str(), style)),
                Cell::from(Span::styled(format!("({count})"), style)),
            ]));
            last_status = Some(f.status);
        }
        if n == state.selected {
            selected_row = rows.len();
        }
        let overdue = is_overdue(f.status, f.due, overview.today);
        let due = f.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
        let age = (overview.now - f.created_at).num_days();
        rows.push(Row::new(vec![
            Cell::from(f.id.clone()),
            Cell::from(Span::styled(f.severity.as_str(), severity_style(f.severity))),
            Cell::from(visible(&f.title)),
            Cell::from(visible(&f.owner)),
            Cell::from(Span::styled(
                if overdue { format!("{due} overdue") } else { due },
                if overdue { Style::new().red().bold() } else { Style::new() },
            )),
            Cell::from(format!("{age}d")),
            Cell::from(Span::styled(if f.regression { "↺" } else { "" }, Style::new().red())),
        ]));
    }
    let mut table_state = table_state(selected_row, state.order.len(), list);
    let table = list_table(
        rows,
        [
            Constraint::Length(18),
            Constraint::Length(8),
            Constraint::Min(12),
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Length(5),
            Constraint::Length(1),
        ],
        vec!["id", "severity", "title", "owner", "due", "age", ""],
        " Findings — ↺ regression · N new · E edit ",
    );
    frame.render_stateful_widget(table, list, &mut table_state);
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
