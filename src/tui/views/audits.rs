//! Mock audits by quarter with their progress; the selected audit's result
//! per control beside the previous audit's; `S` starts one, `C` closes one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::{is_motion, list_table, moved, result_glyph, table_state};
use crate::audit::audits::summary::AuditSummary;
use crate::audit::record::AuditStatus;
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::messages::Request;
use crate::tui::overlays::Overlay;
use crate::tui::overlays::confirm::Confirm;
use crate::tui::overlays::form::{Form, FormKind};
use crate::tui::overview::Overview;

#[derive(Debug, Default)]
pub struct State {
    pub selected: usize,
    seen: usize,
}

impl State {
    pub fn refreshed(&mut self, overview: &Overview) {
        // A new audit (just started) becomes the selected one.
        if overview.audits.len() != self.seen {
            self.selected = overview.current.unwrap_or(0);
            self.seen = overview.audits.len();
        }
        self.selected = self.selected.min(overview.audits.len().saturating_sub(1));
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        match action {
            a if is_motion(a) => {
                self.selected = moved(self.selected, overview.audits.len(), a, 5);
                Vec::new()
            }
            Action::StartAudit => vec![Effect::Open(Overlay::Form(Form::new(FormKind::StartAudit, Some(overview))))],
            Action::CloseAudit => match overview.audits.get(self.selected) {
                Some(a) if a.audit.status != AuditStatus::Closed => {
                    let undecided = a.sampled - a.decided;
                    let question = format!(
                        "Close {}? Retests settle and nothing in it can change afterwards.{}",
                        a.audit.label,
                        if undecided > 0 {
                            format!(" {undecided} sampled row(s) have no verdict.")
                        } else {
                            String::new()
                        }
                    );
                    vec![Effect::Open(Overlay::Confirm(Confirm {
                        question,
                        request: Request::CloseAudit { label: a.audit.label.clone() },
                    }))]
                }
                Some(a) => vec![Effect::Error(format!("{} is already closed", a.audit.label))],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

fn rate(summary: Option<&AuditSummary>) -> String {
    match summary.and_then(|s| s.exception_rate) {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".into(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let [list, detail] = Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)]).areas(area);
    let rows: Vec<Row> = overview
        .audits
        .iter()
        .map(|s| {
            let status_style = match s.audit.status {
                AuditStatus::Closed => Style::new().dark_gray(),
                _ => Style::new().cyan(),
            };
            let progress = (s.decided * 100).checked_div(s.sampled).unwrap_or(0);
            Row::new(vec![
                Cell::from(s.audit.label.clone()),
                Cell::from(s.audit.period.label.clone()),
                Cell::from(Span::styled(s.audit.status.as_str(), status_style)),
                Cell::from(format!("{}/{} ({progress}%)", s.decided, s.sampled)),
                Cell::from(rate(Some(s))),
                Cell::from(format!("+{} −{}", s.findings_opened.len(), s.findings_closed.len())),
            ])
        })
        .collect();
    let mut table_state = table_state(state.selected, overview.audits.len(), list);
    let table = list_table(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(16),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
        vec!["audit", "period", "status", "decided", "exc.", "findings"],
        " Audits — S start · C close ",
    );
    frame.render_stateful_widget(table, list, &mut table_state);
    draw_detail(frame, detail, state, overview);
}

fn draw_detail(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let block = Block::default().borders(Borders::ALL).title(" Result per control ");
    let Some(summary) = overview.audits.get(state.selected) else {
        frame.render_widget(Paragraph::new(" No audits yet: press S to start the first.").block(block), area);
        return;
    };
    let previous = state.selected.checked_sub(1).and_then(|i| overview.audits.get(i));
    let [head, table] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(block.inner(area));
    frame.render_widget(block, area);
    let compare = match previous {
        Some(p) => format!("exception rate {} (previous {} in {})", rate(Some(summary)), rate(Some(p)), p.audit.label),
        None => format!("exception rate {} (no previous audit)", rate(Some(summary))),
    };
    let head_lines = vec![
        Line::from(vec![
            summary.audit.label.clone().bold(),
            Span::raw(format!(
                " · seed {} · mapping {}",
                summary.audit.seed,
                &summary.audit.mapping_version[..summary.audit.mapping_version.len().min(12)]
            )),
        ]),
        Line::from(compare),
        Line::from(format!(
            "findings opened {} · closed by retest {}",
            summary.findings_opened.len(),
            summary.findings_closed.len()
        )),
    ];
    frame.render_widget(Paragraph::new(head_lines), head);
    let rows: Vec<Row> = summary
        .results
        .iter()
        .map(|r| {
            let (glyph, style) = result_glyph(Some(r.result));
            let before = previous.and_then(|p| p.results.iter().find(|q| q.control == r.control)).map(|q| q.result);
            let (before_glyph, before_style) = result_glyph(before);
            Row::new(vec![
                Cell::from(Span::styled(glyph, style)),
                Cell::from(r.control.clone()),
                Cell::from(r.result.as_str()),
                Cell::from(format!(
                    "{} pass · {} exc · {} n/a · {} open",
                    r.passed, r.exceptions, r.not_applicable, r.undecided
                )),
                Cell::from(Span::styled(before_glyph, before_style)),
            ])
        })
        .collect();
    let widget = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(8),
            Constraint::Length(17),
            Constraint::Min(10),
            Constraint::Length(5),
        ],
    )
    .header(Row::new(vec!["", "control", "result", "verdicts", "prev"]).style(Style::new().bold()));
    frame.render_widget(widget, table);
}

impl super::View for State {
    fn on_refresh(&mut self, overview: &Overview, _shown: bool) -> Vec<Effect> {
        self.refreshed(overview);
        Vec::new()
    }

    fn on_action(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        self.act(action, overview)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}
