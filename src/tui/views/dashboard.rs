//! Readiness at a glance: controls by result, findings by severity and
//! status (overdue highlighted), sources by freshness, the current audit's
//! progress, the inventory's drift with missed and due occurrences, and
//! exceptions and findings opened/closed per past audit.
//! Tab or j/k selects a panel (marked ▶), Enter opens the list it sums up.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Gauge, Paragraph};

use super::{freshness_style, result_glyph, severity_style};
use crate::audit::lifecycle::{FindingStatus, Severity, is_overdue};
use crate::audit::occurrences::{describe_group, grouped};
use crate::audit::verdicts::ControlResult;
use crate::tui::action::Action;
use crate::tui::effect::{Effect, Tab};
use crate::tui::overview::Overview;
use crate::workspace::sources::Freshness;

/// The dashboard's panels, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Panel {
    #[default]
    Controls,
    Findings,
    Sources,
    Audit,
    Schedule,
    History,
}

impl Panel {
    const ALL: [Panel; 6] =
        [Panel::Controls, Panel::Findings, Panel::Sources, Panel::Audit, Panel::Schedule, Panel::History];

    fn step(self, by: isize) -> Panel {
        let at = Panel::ALL.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Panel::ALL[(at + by).rem_euclid(Panel::ALL.len() as isize) as usize]
    }
}

/// The dashboard: the selected panel; everything else from the overview.
#[derive(Debug, Default)]
pub struct State {
    pub panel: Panel,
}

impl super::View for State {
    fn on_action(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        match action {
            Action::NextPane | Action::Down | Action::ScrollRight => {
                self.panel = self.panel.step(1);
                Vec::new()
            }
            Action::Up | Action::ScrollLeft => {
                self.panel = self.panel.step(-1);
                Vec::new()
            }
            Action::Select => match self.panel {
                Panel::Controls => vec![Effect::Show(Tab::Controls)],
                Panel::Findings => vec![Effect::Show(Tab::Findings)],
                Panel::Sources => vec![Effect::Show(Tab::Sources)],
                Panel::Audit => match overview.current_audit() {
                    Some(a) => vec![Effect::OpenAudit(a.audit.label.clone())],
                    None => vec![Effect::Show(Tab::Audits), Effect::Message("no mock audit yet: S starts one".into())],
                },
                Panel::Schedule => vec![Effect::ShowSystems],
                Panel::History => vec![Effect::Show(Tab::Audits)],
            },
            _ => Vec::new(),
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}

/// A panel's block: the selected one marked ▶ and drawn in cyan.
fn panel_block(state: &State, panel: Panel, title: String) -> Block<'static> {
    let block = Block::default().borders(Borders::ALL);
    if state.panel == panel {
        block.border_style(Style::new().cyan()).title(format!("▶{} — enter opens ", title.trim_end()))
    } else {
        block.title(title)
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let schedule_lines = schedule_lines(overview);
    // A short screen keeps the history's rows and gives the schedule what is left.
    let room = area.height.saturating_sub(9 + 3 + 7).max(3);
    let [top, gauge, schedule, chart] = Layout::vertical([
        Constraint::Length(9),
        Constraint::Length(3),
        Constraint::Length((schedule_lines.len() as u16 + 2).min(room)),
        Constraint::Min(0),
    ])
    .areas(area);
    let [controls, findings, sources] =
        Layout::horizontal([Constraint::Ratio(1, 3), Constraint::Ratio(1, 3), Constraint::Ratio(1, 3)]).areas(top);
    draw_controls(frame, controls, state, overview);
    draw_findings(frame, findings, state, overview);
    draw_sources(frame, sources, state, overview);
    draw_progress(frame, gauge, state, overview);
    let block = panel_block(state, Panel::Schedule, " Inventory and schedule ".into());
    frame.render_widget(Paragraph::new(schedule_lines).block(block), schedule);
    draw_history(frame, chart, state, overview);
}

fn count_line(glyph: &'static str, style: Style, label: &str, n: usize) -> Line<'static> {
    Line::from(vec![Span::styled(format!(" {glyph} "), style), Span::raw(format!("{n:>4}  {label}"))])
}

fn draw_controls(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let current = overview.current_audit();
    let result_of = |id: &str| current.and_then(|a| a.results.iter().find(|r| r.control == id)).map(|r| r.result);
    let count = |r: Option<ControlResult>| overview.controls.iter().filter(|c| result_of(&c.id) == r).count();
    let mut lines = Vec::new();
    for (result, label) in [
        (Some(ControlResult::Effective), "effective"),
        (Some(ControlResult::ExceptionsNoted), "exceptions noted"),
        (Some(ControlResult::NotTested), "not tested yet"),
        (None, "not in the audit's scope"),
    ] {
        let (glyph, style) = result_glyph(result);
        lines.push(count_line(glyph, style, label, count(result)));
    }
    lines.push(Line::from(""));
    if overview.mapping_problems > 0 {
        lines.push(Line::styled(
            format!(" {} mapping problem(s): run `quarterdeck check`", overview.mapping_problems),
            Style::new().red(),
        ));
    }
    let title = match current {
        Some(a) => format!(" Controls — {} ", a.audit.label),
        None => " Controls — no audit yet ".to_string(),
    };
    frame.render_widget(Paragraph::new(lines).block(panel_block(state, Panel::Controls, title)), area);
}

fn draw_findings(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let active: Vec<_> = overview.findings.iter().filter(|f| f.status.is_active()).collect();
    let mut lines = Vec::new();
    for severity in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low] {
        let n = active.iter().filter(|f| f.severity == severity).count();
        lines.push(count_line("■", severity_style(severity), severity.as_str(), n));
    }
    let overdue = active.iter().filter(|f| is_overdue(f.status, f.due, overview.today)).count();
    let style = if overdue > 0 { Style::new().red().bold() } else { Style::new().dark_gray() };
    lines.push(Line::styled(format!(" {overdue:>6}  overdue"), style));
    let by_status: Vec<String> = FindingStatus::ALL
        .iter()
        .map(|s| (s, overview.findings.iter().filter(|f| f.status == *s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    lines.push(Line::styled(format!(" {}", by_status.join(" · ")), Style::new().dark_gray()));
    let regressions = overview.findings.iter().filter(|f| f.regression && f.status.is_active()).count();
    if regressions > 0 {
        lines.push(Line::styled(format!(" {regressions} regression(s)"), Style::new().red()));
    }
    let title = format!(" Findings — {} active ", active.len());
    frame.render_widget(Paragraph::new(lines).block(panel_block(state, Panel::Findings, title)), area);
}

fn draw_sources(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let mut lines = Vec::new();
    for fresh in [Freshness::Fresh, Freshness::Stale, Freshness::Abandoned, Freshness::Empty, Freshness::NeverLoaded] {
        let n = overview.sources.iter().filter(|s| s.state == fresh).count();
        lines.push(count_line("●", freshness_style(fresh), fresh.as_str(), n));
    }
    if !overview.documents.is_empty() {
        let attention = overview.documents.iter().filter(|d| d.needs_attention()).count();
        let style = if attention > 0 { Style::new().red() } else { Style::new().green() };
        lines.push(Line::from(vec![
            Span::styled(" ◆ ", style),
            Span::raw(format!("{attention:>4}  of {} documents need attention", overview.documents.len())),
        ]));
    }
    let title = format!(" Sources — {} ", overview.sources.len());
    frame.render_widget(Paragraph::new(lines).block(panel_block(state, Panel::Sources, title)), area);
}

fn draw_progress(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let block = panel_block(state, Panel::Audit, " Current audit ".into());
    match overview.current_audit() {
        Some(a) => {
            let ratio = if a.sampled == 0 { 0.0 } else { a.decided as f64 / a.sampled as f64 };
            let label = format!(
                "{} {} — {} of {} sampled rows decided, {} exception(s)",
                a.audit.label,
                a.audit.status.as_str(),
                a.decided,
                a.sampled,
                a.exceptions
            );
            let gauge = Gauge::default()
                .block(block)
                .gauge_style(Style::new().cyan())
                .ratio(ratio.clamp(0.0, 1.0))
                .label(label);
            frame.render_widget(gauge, area);
        }
        None => {
            frame.render_widget(Paragraph::new(" No mock audit yet: press 5, then S, to start one.").block(block), area)
        }
    }
}

/// How many open slots the schedule panel names.
const DUE_SHOWN: usize = 3;

/// The inventory's drift in the working period, the current audit's missed
/// occurrences, this quarter's missed ones and the soonest due.
fn schedule_lines(overview: &Overview) -> Vec<Line<'static>> {
    let Some(picture) = overview.inventory.as_deref() else {
        return vec![Line::styled(" checking the inventory and the calendar…", Style::new().dark_gray())];
    };
    let mut lines = Vec::new();
    let red = Style::new().red().bold();
    match &picture.report {
        Some(report) => {
            let drift = &report.drift;
            let mut kinds: Vec<(&str, usize)> = Vec::new();
            for d in drift {
                match kinds.iter_mut().find(|(k, _)| *k == d.kind.as_str()) {
                    Some((_, n)) => *n += 1,
                    None => kinds.push((d.kind.as_str(), 1)),
                }
            }
            let summary: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let (glyph, style) = if drift.is_empty() { ("✓", Style::new().green()) } else { ("▲", red) };
            let text = match drift.len() {
                0 => format!("   0  drift in {}: the inventory matches the evidence", report.period.label),
                n => format!("{n:>4}  drift in {}: {}", report.period.label, summary.join(" · ")),
            };
            lines.push(Line::from(vec![Span::styled(format!(" {glyph} "), style), Span::raw(text)]));
        }
        None if picture.present => lines.push(Line::styled(" the inventory could not be checked", red)),
        None => lines.push(Line::styled(" no systems.toml: no inventory to check", Style::new().dark_gray())),
    }
    for problem in &picture.problems {
        lines.push(Line::styled(format!(" {}", crate::text::visible(problem)), Style::new().red()));
    }
    let names = |slots: &mut dyn Iterator<Item = String>| slots.collect::<Vec<_>>().join(" · ");
    if let Some((label, slots)) = picture.audit_missed.as_ref().filter(|(_, s)| !s.is_empty()) {
        let named = names(&mut slots.iter().map(|s| format!("{} {}", s.control, s.outcome.name())));
        lines.push(Line::from(vec![
            Span::styled(" ✗ ", red),
            Span::raw(format!("{:>4}  expected occurrence(s) missed in {label}: ", slots.len())),
            Span::raw(crate::text::visible(&named)),
        ]));
    }
    if !picture.missed.is_empty() {
        // Per spec: how many, and the latest (a stopped feed misses every day).
        let mut per_spec: Vec<(String, usize, String)> = Vec::new();
        for d in &picture.missed {
            let spec = format!("{} {}", d.control, d.spec);
            match per_spec.iter_mut().find(|(s, _, _)| *s == spec) {
                Some((_, n, last)) => {
                    *n += 1;
                    last.clone_from(&d.outcome.slot.label);
                }
                None => per_spec.push((spec, 1, d.outcome.slot.label.clone())),
            }
        }
        let named = names(&mut per_spec.into_iter().map(|(spec, n, last)| match n {
            1 => format!("{spec} in {last}"),
            n => format!("{spec}: {n} slots, the latest {last}"),
        }));
        lines.push(Line::from(vec![
            Span::styled(" ✗ ", red),
            Span::raw(format!("{:>4}  missed so far this quarter: ", picture.missed.len())),
            Span::raw(crate::text::visible(&named)),
        ]));
    }
    let due = grouped(&picture.due);
    for group in due.iter().take(DUE_SHOWN) {
        lines.push(Line::from(vec![
            Span::styled(" ◷ ", Style::new().yellow()),
            Span::raw(crate::text::visible(&describe_group(group, overview.now))),
        ]));
    }
    if due.len() > DUE_SHOWN {
        let later: usize = due[DUE_SHOWN..].iter().map(|g| g.len()).sum();
        lines.push(Line::styled(
            format!("       … and {later} later open slot(s) this quarter"),
            Style::new().dark_gray(),
        ));
    }
    lines
}

fn draw_history(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    // Each bar is labelled (e x · o y · c z): its colour is never all it says.
    let block = panel_block(
        state,
        Panel::History,
        " Per audit: e exceptions (red) · o findings opened (yellow) · c closed (green) ".into(),
    );
    if overview.audits.is_empty() {
        frame.render_widget(Paragraph::new(" No audits yet.").block(block), area);
        return;
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table, chart_area] = Layout::horizontal([Constraint::Length(52), Constraint::Min(0)]).areas(inner);
    let label_width = overview.audits.iter().map(|s| s.audit.label.chars().count()).max().unwrap_or(5).max(5);
    let mut lines = vec![Line::styled(
        format!("{:<label_width$} {:>10} {:>9} {:>7} {:>7}", "audit", "exceptions", "rate", "opened", "closed"),
        Style::new().bold(),
    )];
    for s in overview.audits.iter().rev().take(table.height.saturating_sub(1) as usize).rev() {
        let rate = s.exception_rate.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into());
        lines.push(Line::from(format!(
            "{:<label_width$} {:>10} {:>9} {:>7} {:>7}",
            crate::text::visible(&s.audit.label),
            s.exceptions,
            rate,
            s.findings_opened.len(),
            s.findings_closed.len()
        )));
    }
    frame.render_widget(Paragraph::new(lines), table);
    let chart_area = Layout::vertical([Constraint::Max(12), Constraint::Min(0)]).split(chart_area)[0];
    let mut chart = BarChart::default().bar_width(3).bar_gap(1).group_gap(3);
    for summary in &overview.audits {
        let bars = [
            Bar::default()
                .value(summary.exceptions)
                .text_value(format!("e{}", summary.exceptions))
                .style(Style::new().red()),
            Bar::default()
                .value(summary.findings_opened.len() as u64)
                .text_value(format!("o{}", summary.findings_opened.len()))
                .style(Style::new().yellow()),
            Bar::default()
                .value(summary.findings_closed.len() as u64)
                .text_value(format!("c{}", summary.findings_closed.len()))
                .style(Style::new().green()),
        ];
        chart = chart.data(BarGroup::default().label(Line::from(summary.audit.label.clone())).bars(&bars));
    }
    frame.render_widget(chart, chart_area);
}
