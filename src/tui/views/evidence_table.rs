//! The one table of evidence rows the Evidence tab draws, for a frozen
//! sample and for a page of the population alike: the key (pinned), the
//! period column, a glyph per attribute test, the other columns in the
//! order the domain gives them (they scroll sideways), and, for a sample,
//! the verdict (pinned).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::Block;

use super::grid::{self, Grid};
use super::test_glyph;
use crate::text::fit;

/// The widest a test's column gets (its name cut with `…`).
const TEST_WIDTH: usize = 6;

/// One evidence row as shown: its key, its column values, its tests and,
/// for a sampled row, its verdict cell.
pub struct EvidenceRow {
    pub key: String,
    pub values: Vec<String>,
    pub tests: Vec<Option<bool>>,
    pub verdict: Option<(String, Style)>,
}

/// What the table shows: the column names, the test names, the rows.
pub struct EvidenceTable<'a> {
    pub columns: &'a [String],
    /// The period (timestamp) column, drawn first after the key.
    pub period_column: Option<&'a String>,
    pub tests: &'a [String],
    pub rows: Vec<EvidenceRow>,
    /// Whether a verdict column follows the tests.
    pub verdicts: bool,
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block, table: EvidenceTable, selected: usize, first: usize) {
    // Column order on screen: key, period, tests, the rest, verdict.
    let period_at = table.columns.iter().position(|c| Some(c) == table.period_column);
    let rest: Vec<usize> = (0..table.columns.len()).filter(|i| Some(*i) != period_at).collect();
    let mut headers: Vec<(&str, bool)> = vec![("key", true)];
    if let Some(p) = period_at {
        headers.push((table.columns[p].as_str(), false));
    }
    // A test's column holds one glyph: its name is cut before a value is.
    let tests: Vec<String> = table.tests.iter().map(|t| fit(t, TEST_WIDTH)).collect();
    headers.extend(tests.iter().map(|t| (t.as_str(), false)));
    headers.extend(rest.iter().map(|&i| (table.columns[i].as_str(), false)));
    if table.verdicts {
        headers.push(("verdict", true));
    }
    let mut grid = Grid::new(&headers);
    for r in table.rows {
        let mut cells = vec![Span::raw(r.key)];
        if let Some(p) = period_at {
            cells.push(Span::raw(r.values.get(p).cloned().unwrap_or_default()));
        }
        cells.extend(r.tests.iter().map(|t| {
            let (glyph, style) = test_glyph(*t);
            Span::styled(glyph, style)
        }));
        cells.extend(rest.iter().map(|&i| Span::raw(r.values.get(i).cloned().unwrap_or_default())));
        if table.verdicts {
            let (text, style) = r.verdict.unwrap_or_default();
            cells.push(Span::styled(text, style));
        }
        grid.push(cells);
    }
    grid::draw(frame, area, block, grid, Some(selected), first);
}
