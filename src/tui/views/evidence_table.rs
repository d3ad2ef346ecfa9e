//! The one table of evidence rows the Evidence tab draws, for a frozen
//! sample and for a page of the population alike: the key, the chosen
//! columns, a glyph per attribute test and, for a sample, the verdict.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use super::{test_glyph, window};
use crate::text::{fit, visible, width};

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
    /// The period (timestamp) column, drawn at its full width.
    pub period_column: Option<&'a String>,
    pub tests: &'a [String],
    pub rows: Vec<EvidenceRow>,
    /// Whether a verdict column follows the tests.
    pub verdicts: bool,
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block, table: EvidenceTable, selected: usize) {
    let mut header = vec!["key".to_string()];
    header.extend(table.columns.iter().cloned());
    header.extend(table.tests.iter().cloned());
    if table.verdicts {
        header.push("verdict".into());
    }
    let key_width = table.rows.iter().map(|r| width(&visible(&r.key))).max().unwrap_or(3).clamp(3, 24);
    let mut widths = vec![Constraint::Length(key_width as u16)];
    widths.extend(
        table
            .columns
            .iter()
            .map(|c| if Some(c) == table.period_column { Constraint::Length(19) } else { Constraint::Min(8) }),
    );
    widths.extend(table.tests.iter().map(|t| Constraint::Length(t.chars().count().clamp(3, 10) as u16)));
    if table.verdicts {
        widths.push(Constraint::Length(11));
    }
    let rows: Vec<Row> = table
        .rows
        .into_iter()
        .map(|r| {
            let mut cells = vec![Cell::from(fit(&r.key, 24))];
            cells.extend(r.values.iter().map(|v| Cell::from(fit(v, 22))));
            cells.extend(r.tests.iter().map(|t| {
                let (glyph, style) = test_glyph(*t);
                Cell::from(Span::styled(glyph, style))
            }));
            if let Some((text, style)) = r.verdict {
                cells.push(Cell::from(Span::styled(text, style)));
            }
            Row::new(cells)
        })
        .collect();
    let height = area.height.saturating_sub(3) as usize;
    let mut state = TableState::default().with_selected(Some(selected)).with_offset(window(selected, height));
    let widget = Table::new(rows, widths)
        .header(Row::new(header.into_iter().map(|h| Cell::from(fit(&h, 22)))).style(Style::new().bold()))
        .row_highlight_style(Style::new().reversed())
        .block(block);
    frame.render_stateful_widget(widget, area, &mut state);
}
