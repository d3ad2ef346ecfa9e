//! Every table of the UI laid out one way, so that nothing that identifies a
//! row is ever cut: pinned columns (a key, a finding id, an audit label) get
//! their whole width; the others follow at their natural width (capped), the
//! last one that only partly fits is cut with `…`, and the rest wait off
//! screen. `first` scrolls the flexible columns sideways (`h` / `l`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use super::window;
use crate::text::{fit, visible, width};
use crate::tui::action::Action;

/// A flexible column is never wider than this.
const FLEX_CAP: usize = 32;
/// Nor narrower than this, cut (else it waits off screen).
const FLEX_MIN: usize = 4;

/// A table's text: headers, which columns identify a row, the cells.
#[derive(Debug, Default)]
pub struct Grid<'a> {
    pub headers: Vec<String>,
    pub pinned: Vec<bool>,
    pub rows: Vec<Vec<Span<'a>>>,
    /// A style per row (a group heading), none for most.
    pub row_styles: Vec<Style>,
    /// Whether `h` / `l` scroll this table (else a pane beside it shows
    /// the whole row, and the hint says only how much is off screen).
    pub scrolls: bool,
}

impl<'a> Grid<'a> {
    pub fn new(headers: &[(&str, bool)]) -> Self {
        Self {
            headers: headers.iter().map(|(h, _)| h.to_string()).collect(),
            pinned: headers.iter().map(|(_, p)| *p).collect(),
            rows: Vec::new(),
            row_styles: Vec::new(),
            scrolls: true,
        }
    }

    pub fn push(&mut self, row: Vec<Span<'a>>) {
        self.rows.push(row);
        self.row_styles.push(Style::new());
    }

    pub fn push_styled(&mut self, row: Vec<Span<'a>>, style: Style) {
        self.rows.push(row);
        self.row_styles.push(style);
    }

    /// How many flexible columns there are (what `first` counts).
    pub fn flexible(&self) -> usize {
        self.pinned.iter().filter(|p| !**p).count()
    }
}

/// The first flexible column after `h` (ScrollLeft) or `l` (ScrollRight)
/// among `flexible` columns; other actions leave it.
pub fn scrolled(first: usize, action: Action, flexible: usize) -> usize {
    match action {
        Action::ScrollLeft => first.saturating_sub(1),
        Action::ScrollRight => (first + 1).min(flexible.saturating_sub(1)),
        _ => first,
    }
}

/// Each column's width in `available` cells (None: not shown), the
/// flexible ones starting from the `first`.
pub fn widths(natural: &[usize], pinned: &[bool], available: usize, first: usize) -> Vec<Option<usize>> {
    let mut out = vec![None; natural.len()];
    let mut left = available;
    for (i, w) in natural.iter().enumerate() {
        if pinned.get(i).copied().unwrap_or(false) {
            let w = (*w).min(left);
            out[i] = Some(w);
            left = left.saturating_sub(w + 1);
        }
    }
    let mut flex = 0;
    for (i, w) in natural.iter().enumerate() {
        if pinned.get(i).copied().unwrap_or(false) {
            continue;
        }
        flex += 1;
        if flex <= first {
            continue;
        }
        let want = (*w).min(FLEX_CAP);
        if want <= left {
            out[i] = Some(want);
            left = left.saturating_sub(want + 1);
        } else if left >= FLEX_MIN.min(want) {
            out[i] = Some(left);
            left = 0;
        } else {
            break;
        }
    }
    out
}

/// Draws the grid in `area` inside `block`; `selected` row highlighted and
/// kept in view; the block's bottom says which columns are off screen.
pub fn draw<'a>(frame: &mut Frame, area: Rect, block: Block, grid: Grid<'a>, selected: Option<usize>, first: usize) {
    let columns = grid.headers.len();
    let mut natural: Vec<usize> = grid.headers.iter().map(|h| width(&visible(h))).collect();
    for row in &grid.rows {
        for (i, span) in row.iter().enumerate().take(columns) {
            natural[i] = natural[i].max(width(&visible(&span.content)));
        }
    }
    let available = area.width.saturating_sub(2) as usize;
    let first = first.min(grid.flexible().saturating_sub(1));
    let shown = widths(&natural, &grid.pinned, available, first);
    let hidden = shown.iter().enumerate().filter(|(i, w)| w.is_none() && !grid.pinned[*i]).count();
    let block = if hidden > 0 || first > 0 {
        let how = if grid.scrolls { " · h/l" } else { "" };
        block.title_bottom(Line::from(format!(" {hidden} more column(s){how} ")).right_aligned())
    } else {
        block
    };
    let cells = |row: &[Span<'a>]| -> Vec<Cell<'a>> {
        shown
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.map(|w| (i, w)))
            .map(|(i, w)| {
                let span = row.get(i).cloned().unwrap_or_default();
                Cell::from(Span::styled(fit(&span.content, w), span.style))
            })
            .collect()
    };
    let header_spans: Vec<Span> = grid.headers.iter().map(|h| Span::raw(h.clone())).collect();
    let header = Row::new(cells(&header_spans)).style(Style::new().bold());
    let rows: Vec<Row> = grid.rows.iter().zip(&grid.row_styles).map(|(r, s)| Row::new(cells(r)).style(*s)).collect();
    let constraints: Vec<Constraint> = shown.iter().flatten().map(|w| Constraint::Length(*w as u16)).collect();
    let height = area.height.saturating_sub(3) as usize;
    let len = rows.len();
    let selected = selected.filter(|_| len > 0).map(|s| s.min(len - 1));
    let mut state = TableState::default().with_selected(selected).with_offset(window(selected.unwrap_or(0), height));
    let table = Table::new(rows, constraints).header(header).row_highlight_style(Style::new().reversed()).block(block);
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_columns_keep_their_width_and_the_rest_are_cut_or_wait() {
        // key 11 pinned, then 19, 10, 10 in 40 cells.
        let w = widths(&[11, 19, 10, 10], &[true, false, false, false], 40, 0);
        assert_eq!(w, vec![Some(11), Some(19), Some(8), None]);
        // Scrolled one flexible column to the right: the key stays.
        let w = widths(&[11, 19, 10, 10], &[true, false, false, false], 40, 1);
        assert_eq!(w, vec![Some(11), None, Some(10), Some(10)]);
        // A tiny screen still keeps the key whole where it can.
        let w = widths(&[11, 19], &[true, false], 8, 0);
        assert_eq!(w, vec![Some(8), None]);
    }
}
