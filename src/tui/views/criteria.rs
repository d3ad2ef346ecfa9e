//! The criteria side of the Controls tab (Tab switches): the 61 SOC 2
//! criteria with the controls mapped to each, unmapped ones flagged; Enter
//! shows the controls of the selected criterion.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::grid::{self, Grid};
use super::result_glyph;
use crate::text::{fit, visible};
use crate::tui::overview::Overview;

/// The ids of the controls mapped to `criterion`.
pub fn controls_of<'a>(overview: &'a Overview, criterion: &str) -> Vec<&'a str> {
    overview
        .controls
        .iter()
        .filter(|c| c.criteria.iter().any(|l| l.value == criterion))
        .map(|c| c.id.as_str())
        .collect()
}

pub fn draw_list(frame: &mut Frame, area: Rect, selected: usize, overview: &Overview) {
    let mut grid = Grid::new(&[("id", true), ("controls", false), ("criterion", false)]);
    // The criterion pane beside it shows the whole title.
    grid.scrolls = false;
    for criterion in &overview.catalog.criteria {
        let controls = controls_of(overview, &criterion.id);
        let mapped = if controls.is_empty() {
            Span::styled("unmapped", Style::new().yellow())
        } else {
            Span::raw(controls.join(","))
        };
        grid.push(vec![Span::raw(criterion.id.clone()), mapped, Span::raw(visible(&criterion.title))]);
    }
    let block = Block::default().borders(Borders::ALL).title(" Criteria — enter: its controls · tab: controls ");
    grid::draw(frame, area, block, grid, Some(selected), 0);
}

pub fn draw_detail(frame: &mut Frame, area: Rect, selected: usize, overview: &Overview) {
    let block = Block::default().borders(Borders::ALL).title(" Criterion ");
    let Some(criterion) = overview.catalog.criteria.get(selected) else {
        frame.render_widget(block, area);
        return;
    };
    let width = area.width.saturating_sub(2) as usize;
    let group = overview.catalog.groups.iter().find(|g| g.id == criterion.group);
    let mut lines = vec![
        Line::from(vec![criterion.id.clone().bold(), Span::raw(format!("  {}", visible(&criterion.title)))]),
        Line::styled(
            group.map(|g| format!("{} — {}", g.category, g.title)).unwrap_or_default(),
            Style::new().dark_gray(),
        ),
        Line::from(""),
        Line::from(visible(&criterion.description)),
        Line::from(""),
    ];
    let current = overview.current_audit();
    let controls = controls_of(overview, &criterion.id);
    if controls.is_empty() {
        lines.push(Line::styled("No control is mapped to this criterion.", Style::new().yellow()));
    }
    for id in controls {
        let result = current.and_then(|a| a.results.iter().find(|r| r.control == id)).map(|r| r.result);
        let (glyph, style) = result_glyph(result);
        let title = overview.controls.iter().find(|c| c.id == id).map(|c| c.title.as_str()).unwrap_or("");
        lines.push(Line::from(vec![
            Span::styled(format!("{glyph} "), style),
            Span::raw(fit(&format!("{id}  {title}"), width.saturating_sub(2))),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}
