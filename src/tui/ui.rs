//! The frame: tab bar, the current view, the status line, any overlay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::effect::Tab;
use super::overlays;
use crate::text::fit;

/// Below this the views cannot be laid out usefully.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The gap between tab titles: none on a narrow screen, where all seven
/// titles then still fit in 80 columns.
fn tab_gap(area: Rect) -> u16 {
    if area.width < 90 { 0 } else { 1 }
}

/// Where each tab title sits on the tab bar (x from, x to), for the mouse.
pub fn tab_positions(area: Rect) -> Vec<(u16, u16, Tab)> {
    let mut x = area.x + 1;
    let gap = tab_gap(area);
    Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let width = format!(" {} {} ", i + 1, tab.title()).chars().count() as u16;
            let span = (x, x + width, *tab);
            x += width + gap;
            span
        })
        .collect()
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text =
            format!("Terminal too small: {}×{}; Quarterdeck needs {MIN_WIDTH}×{MIN_HEIGHT}.", area.width, area.height);
        frame.render_widget(
            Paragraph::new(fit(&text, area.width as usize)).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [tabs, body, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(area);
    draw_tabs(frame, tabs, app);
    match &app.overview {
        Some(overview) => app.views.get(app.tab).draw(frame, body, overview),
        None => frame.render_widget(Paragraph::new(" Opening the workspace…"), body),
    }
    draw_status(frame, status, app);
    if let Some(overlay) = &app.overlay {
        overlays::draw(frame, body, overlay, &app.keymap);
    }
    scrub(frame.buffer_mut());
    if app.no_color {
        decolour(frame.buffer_mut());
    }
}

/// NO_COLOR: every colour gone, bold and reverse kept; what a colour said
/// is said by a word or a glyph too, so nothing is lost.
fn decolour(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        cell.set_fg(ratatui::style::Color::Reset);
        cell.set_bg(ratatui::style::Color::Reset);
    }
}

/// The last line of defence, whatever a view forgot to pass through the
/// sanitiser: no cell of a frame carries a control or bidi character.
fn scrub(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        if cell.symbol().chars().any(crate::text::is_unsafe) {
            cell.set_symbol("?");
        }
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let mut spans = vec![Span::raw(" ")];
    let gap = " ".repeat(tab_gap(area) as usize);
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let title = format!(" {} {} ", i + 1, tab.title());
        let style = if *tab == app.tab { Style::new().reversed().bold() } else { Style::new() };
        spans.push(Span::styled(title, style));
        spans.push(Span::raw(gap.clone()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App) {
    let mut right = Vec::new();
    if app.read_only {
        right.push(Span::styled(" READ-ONLY ", Style::new().black().on_yellow().bold()));
        right.push(Span::raw(" "));
    }
    // A narrow screen keeps its status line for the message.
    let wide = area.width >= 120;
    if let Some(o) = app.overview.as_ref().filter(|_| wide) {
        let audit = o.current_audit().map(|a| format!("audit {} {}", a.audit.label, a.audit.status.as_str()));
        right.push(Span::styled(
            crate::text::visible(&format!(
                "{} · period {} ",
                audit.unwrap_or_else(|| "no audit".into()),
                o.period.label
            )),
            Style::new().dark_gray(),
        ));
    }
    let keys = if wide { "? help · : palette · q quit" } else { "? help · : palette" };
    right.push(Span::styled(keys, Style::new().dark_gray()));
    let right_width: usize = right.iter().map(|s| s.content.chars().count()).sum();
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width as u16)]).areas(area);
    let left = if let Some(work) = app.latest_work() {
        // Long work (an ingest, an audit's draws) shows how long it has run.
        let seconds = work.since.elapsed().as_secs();
        let elapsed = match (seconds, app.progress) {
            (0, _) => String::new(),
            (_, Some(percent)) => format!(" {percent:.0}% · {seconds} s · esc cancels"),
            (_, None) => format!(" {seconds} s · esc cancels"),
        };
        Line::from(vec![
            Span::styled(format!("{} ", SPINNER[app.spinner % SPINNER.len()]), Style::new().cyan()),
            Span::raw(fit(&format!("{}…{elapsed}", work.doing), left_area.width.saturating_sub(2) as usize)),
        ])
    } else if let Some(status) = &app.status {
        let style = if status.error { Style::new().red() } else { Style::new().green() };
        Line::styled(fit(&status.text, left_area.width as usize), style)
    } else {
        Line::from("")
    };
    frame.render_widget(Paragraph::new(left), left_area);
    frame.render_widget(Paragraph::new(Line::from(right)), right_area);
}
