//! Mock audits by quarter with their progress; the selected audit's result
//! per control beside the previous audit's (the domain's `AuditSummary`);
//! Enter drills into those results, Enter on a control opens its sample in
//! Evidence. `S` starts one, `C` closes one, `/` filters.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::filter::{ListFilter, ListKey, Typed};
use super::grid::{self, Grid};
use super::{is_motion, moved, result_glyph};
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
    /// Into `shown`.
    pub selected: usize,
    seen: usize,
    /// Indices of the audits the filter lets through.
    pub shown: Vec<usize>,
    pub filter: ListFilter,
    /// Drilled into the selected audit's results: the control selected there.
    pub control: Option<usize>,
    /// The first flexible column of the list on screen (`h` / `l`).
    pub first_column: usize,
}

/// The list's columns after the label (status, decided, exc., findings, period).
const FLEXIBLE: usize = 5;

impl State {
    pub fn refreshed(&mut self, overview: &Overview) {
        self.apply_filter(overview);
        // A new audit (just started) becomes the selected one.
        if overview.audits.len() != self.seen {
            self.seen = overview.audits.len();
            self.filter.clear();
            self.apply_filter(overview);
            self.selected = overview.current.and_then(|c| self.shown.iter().position(|&i| i == c)).unwrap_or(0);
            self.control = None;
        }
    }

    fn apply_filter(&mut self, overview: &Overview) {
        let labels = overview.audits.iter().map(|a| {
            format!(
                "{} {} {} {}",
                a.audit.label,
                a.audit.period.label,
                a.audit.status.as_str(),
                a.audit.controls.join(" ")
            )
        });
        self.shown = self.filter.matching(labels);
        self.selected = self.selected.min(self.shown.len().saturating_sub(1));
    }

    /// The audit selected (through the filter).
    pub fn selected_audit<'a>(&self, overview: &'a Overview) -> Option<&'a AuditSummary> {
        self.shown.get(self.selected).and_then(|&i| overview.audits.get(i))
    }

    /// Selects the audit labelled `label`, drilled into its results.
    pub fn open_label(&mut self, label: &str, overview: &Overview) {
        self.filter.clear();
        self.apply_filter(overview);
        if let Some(at) = self.shown.iter().position(|&i| overview.audits[i].audit.label == label) {
            self.selected = at;
            self.control = Some(0);
        }
    }

    pub fn type_key(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Vec<Effect> {
        if self.filter.key(key) != Typed::Nothing
            && let Some(overview) = overview
        {
            self.selected = 0;
            self.apply_filter(overview);
        }
        Vec::new()
    }

    fn act_on_results(&mut self, action: Action, at: usize, overview: &Overview) -> Vec<Effect> {
        let Some(summary) = self.selected_audit(overview) else {
            self.control = None;
            return Vec::new();
        };
        match action {
            a if is_motion(a) => {
                self.control = Some(moved(at, summary.results.len(), a, 10));
                Vec::new()
            }
            Action::Select => match summary.results.get(at) {
                Some(r) => vec![Effect::Drill {
                    control: r.control.clone(),
                    spec: None,
                    audit: Some(summary.audit.label.clone()),
                }],
                None => vec![Effect::Message(format!("{} has no controls in its scope", summary.audit.label))],
            },
            Action::Back | Action::NextPane => {
                self.control = None;
                Vec::new()
            }
            _ => self.act_on_audits(action, overview),
        }
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        match self.control {
            Some(at) => self.act_on_results(action, at, overview),
            None => self.act_on_audits(action, overview),
        }
    }

    fn act_on_audits(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        match self.filter.list_key(action, &mut self.first_column, FLEXIBLE) {
            Some(ListKey::Scrolled) => return Vec::new(),
            Some(ListKey::FilterStarted | ListKey::FilterCleared) => {
                self.control = None;
                self.apply_filter(overview);
                return Vec::new();
            }
            None => {}
        }
        match action {
            a if is_motion(a) => {
                self.selected = moved(self.selected, self.shown.len(), a, 5);
                Vec::new()
            }
            Action::Select | Action::NextPane if self.control.is_none() => match self.selected_audit(overview) {
                Some(_) => {
                    self.control = Some(0);
                    Vec::new()
                }
                None => vec![Effect::Message("no audit selected: S starts one".into())],
            },
            Action::StartAudit => vec![Effect::Open(Overlay::Form(Form::new(FormKind::StartAudit, Some(overview))))],
            Action::CloseAudit => match self.selected_audit(overview) {
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
                None => vec![Effect::Message("no audit to close: S starts one".into())],
            },
            Action::ExportPacket => match self.selected_audit(overview) {
                Some(a) => vec![Effect::Send(Request::ExportPacket { label: a.audit.label.clone() })],
                None => vec![Effect::Message("no audit to export: S starts one".into())],
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
    let [filter, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(list);
    state.filter.draw(
        frame,
        filter,
        "enter: results · S start · C close · / filter",
        state.shown.len(),
        overview.audits.len(),
    );
    let mut grid = Grid::new(&[
        ("audit", true),
        ("status", false),
        ("decided", false),
        ("exc.", false),
        ("findings", false),
        ("period", false),
    ]);
    for s in state.shown.iter().filter_map(|&i| overview.audits.get(i)) {
        let status_style = match s.audit.status {
            AuditStatus::Closed => Style::new().dark_gray(),
            _ => Style::new().cyan(),
        };
        let progress = (s.decided * 100).checked_div(s.sampled).unwrap_or(0);
        grid.push(vec![
            Span::raw(s.audit.label.clone()),
            Span::styled(s.audit.status.as_str(), status_style),
            Span::raw(format!("{}/{} ({progress}%)", s.decided, s.sampled)),
            Span::raw(rate(Some(s))),
            Span::raw(format!("+{} −{}", s.findings_opened.len(), s.findings_closed.len())),
            Span::raw(s.audit.period.label.clone()),
        ]);
    }
    let border = if state.control.is_none() { Style::new().cyan() } else { Style::new() };
    let block = Block::default().borders(Borders::ALL).border_style(border).title(" Audits ");
    grid::draw(frame, list, block, grid, Some(state.selected), state.first_column);
    draw_detail(frame, detail, state, overview);
}

fn draw_detail(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let (border, title) = match state.control {
        Some(_) => (Style::new().cyan(), " Result per control — enter: its sample · esc back "),
        None => (Style::new(), " Result per control — enter drills in "),
    };
    let block = Block::default().borders(Borders::ALL).border_style(border).title(title);
    let Some(summary) = state.selected_audit(overview) else {
        frame.render_widget(Paragraph::new(" No audits yet: press S to start the first.").block(block), area);
        return;
    };
    let previous = state.shown.get(state.selected).and_then(|i| i.checked_sub(1)).and_then(|i| overview.audits.get(i));
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
    let mut grid = Grid::new(&[("", true), ("control", true), ("result", false), ("prev", false), ("verdicts", false)]);
    grid.scrolls = false;
    for r in &summary.results {
        let (glyph, style) = result_glyph(Some(r.result));
        let before = previous.and_then(|p| p.results.iter().find(|q| q.control == r.control)).map(|q| q.result);
        let (before_glyph, before_style) = result_glyph(before);
        grid.push(vec![
            Span::styled(glyph, style),
            Span::raw(r.control.clone()),
            Span::raw(r.result.as_str()),
            Span::styled(before_glyph, before_style),
            Span::raw(format!(
                "{} pass · {} exc · {} n/a · {} open",
                r.passed, r.exceptions, r.not_applicable, r.undecided
            )),
        ]);
    }
    // Borderless: the grid's block is the detail pane's own.
    let table = Rect { x: table.x.saturating_sub(1), width: table.width + 2, ..table };
    grid::draw(frame, table, Block::default().borders(Borders::LEFT | Borders::RIGHT), grid, state.control, 0);
}

impl super::View for State {
    fn on_refresh(&mut self, overview: &Overview, _shown: bool) -> Vec<Effect> {
        self.refreshed(overview);
        Vec::new()
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

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}
