//! Drawing the Evidence tab: header (period, population, fingerprint,
//! seed), the table of rows (key pinned, columns scrolling sideways), the
//! whole record of the selected row, the hint line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use serde_json::Value as Json;

use super::evidence::{Mode, State};
use super::evidence_table::{self, EvidenceRow, EvidenceTable};
use crate::audit::browse::Filter;
use crate::audit::sampling::key::SampleKey;
use crate::audit::verdicts::Verdict;
use crate::text::{cell, fit, visible};
use crate::tui::overview::Overview;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let Some(control) = &state.control else {
        let text = if overview.current_audit().is_some() {
            " Choose a control in the Controls tab (2) and press enter."
        } else {
            " No mock audit yet: start one in the Audits tab (5, then S)."
        };
        frame.render_widget(
            Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(" Evidence ")),
            area,
        );
        return;
    };
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(header_height(area)), Constraint::Min(3), Constraint::Length(1)])
            .areas(area);
    draw_header(frame, header, state, control);
    // A narrow screen gives the table more room; the record wraps.
    let share = if area.width < 120 { 68 } else { 62 };
    let [table, detail] =
        Layout::horizontal([Constraint::Percentage(share), Constraint::Percentage(100 - share)]).areas(body);
    match state.mode {
        Mode::Sample => draw_sample(frame, table, state),
        Mode::Population(filter) => draw_population(frame, table, state, filter),
    }
    draw_detail(frame, detail, state);
    let hint = match (&state.note, state.mode) {
        _ if state.attach.is_some() => {
            let field =
                state.attach.as_ref().map(|a| (a.input.text.as_str(), a.choices.join("  "))).unwrap_or_default();
            Line::from(vec![
                "attach: ".bold(),
                Span::raw(visible(field.0)),
                Span::styled(format!("   {}", visible(&field.1)), Style::new().dark_gray()),
            ])
        }
        (Some(note), _) => Line::from(vec!["note: ".bold(), Span::raw(visible(&note.text))]),
        (None, Mode::Sample) => Line::styled(
            "p pass · x exception → finding · - n/a · n note · A attach · a population · e failing · [ ] spec · h/l columns · / filter",
            Style::new().dark_gray(),
        ),
        (None, Mode::Population(_)) => Line::styled(
            "j/k pgdn/pgup g/G page through the population · s back to the sample · h/l columns · / filter",
            Style::new().dark_gray(),
        ),
    };
    frame.render_widget(Paragraph::new(hint), footer);
    if let Some(field) = &state.attach {
        let x = (footer.x + 8 + field.input.cursor as u16).min(footer.right().saturating_sub(1));
        frame.set_cursor_position((x, footer.y));
    } else if let Some(note) = &state.note {
        let x = (footer.x + 6 + note.cursor as u16).min(footer.right().saturating_sub(1));
        frame.set_cursor_position((x, footer.y));
    }
}

/// A narrow screen gives the header a line more: nothing in it is cut.
fn header_height(area: Rect) -> u16 {
    if area.width < 120 { 5 } else { 4 }
}

/// The header: control, spec, audit, period, population, fingerprint and
/// the whole seed (to copy), on more lines when the screen is narrow.
fn draw_header(frame: &mut Frame, area: Rect, state: &State, control: &str) {
    let spec = visible(state.spec.as_deref().unwrap_or(""));
    let audit = visible(state.audit.as_deref().unwrap_or(""));
    let narrow = header_height(area) > 4;
    let mut lines = Vec::new();
    match &state.sample {
        Some(s) => {
            let period = format!(
                "period {} [{} .. {})",
                s.period.label,
                s.period.start.format("%Y-%m-%d %H:%M"),
                s.period.end.format("%Y-%m-%d %H:%M")
            );
            let counts = format!(
                "population {} row(s) · sample {} · fingerprint {}",
                s.population_count,
                s.size,
                &s.fingerprint[..s.fingerprint.len().min(16)]
            );
            let seed = format!("seed {}", visible(&s.seed));
            let title = format!("{control} / {spec}").bold();
            if narrow {
                lines.push(Line::from(vec![title, Span::raw(format!("  audit {audit}"))]));
                lines.push(Line::from(period));
                lines.push(Line::from(counts));
                lines.push(Line::from(seed));
            } else {
                lines.push(Line::from(vec![title, Span::raw(format!("  audit {audit} · {period}"))]));
                lines.push(Line::from(format!("{counts} · {seed}")));
            }
        }
        None => {
            lines.push(Line::from(vec![format!("{control} / {spec}").bold(), Span::raw(format!("  audit {audit}"))]))
        }
    }
    if let Some(problem) = &state.problem {
        lines.push(Line::styled(fit(problem, area.width as usize), Style::new().red()));
    }
    frame.render_widget(Paragraph::new(lines), area);
    let last = Rect { y: area.bottom().saturating_sub(1), height: 1.min(area.height), ..area };
    if state.filter.typing || state.filter.active() {
        let total = match state.mode {
            Mode::Sample => state.sample.as_ref().map_or(0, |s| s.rows.len()),
            Mode::Population(_) => state.page.as_ref().map_or(0, |p| p.rows.len()),
        };
        state.filter.draw(frame, last, "", state.shown.len(), total);
    }
}

/// The table's columns: the domain's order (`question_order`), then any
/// column of `available` it did not name.
fn chosen(state: &State, available: &[String], key_columns: &[String]) -> Vec<String> {
    let mut columns: Vec<String> = state.columns.iter().filter(|c| available.contains(c)).cloned().collect();
    let named = columns.clone();
    columns.extend(available.iter().filter(|c| !key_columns.contains(c) && !named.contains(c)).cloned());
    columns
}

fn draw_sample(frame: &mut Frame, area: Rect, state: &State) {
    let block = Block::default().borders(Borders::ALL).title(" Sample (frozen) ");
    let Some(sample) = &state.sample else {
        frame.render_widget(Paragraph::new(" loading the sample…").block(block), area);
        return;
    };
    let available: Vec<String> = sample.rows.first().map(|r| r.row.keys().cloned().collect()).unwrap_or_default();
    let columns = chosen(state, &available, &sample.key_columns);
    let tests: Vec<String> =
        sample.rows.first().map(|r| r.tests.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
    let rows = state
        .shown
        .iter()
        .filter_map(|&i| sample.rows.get(i))
        .map(|r| {
            let note = if r.note.is_some() || state.notes.contains_key(r.key.as_str()) { " ✎" } else { "" };
            let style = match r.verdict {
                Some(Verdict::Pass) => Style::new().green(),
                Some(Verdict::Exception) => Style::new().red().bold(),
                _ => Style::new(),
            };
            EvidenceRow {
                key: r.key.shown(),
                values: columns.iter().map(|c| r.row.get(c).map(cell).unwrap_or_default()).collect(),
                tests: r.tests.iter().map(|(_, t)| *t).collect(),
                verdict: Some((format!("{}{note}", r.verdict.map_or("—", Verdict::as_str)), style)),
            }
        })
        .collect();
    let table = EvidenceTable {
        columns: &columns,
        period_column: state.period_column.as_ref(),
        tests: &tests,
        rows,
        verdicts: true,
    };
    evidence_table::draw(frame, area, block, table, state.selected, state.first_column);
}

fn draw_population(frame: &mut Frame, area: Rect, state: &State, filter: Filter) {
    let title = match filter {
        Filter::All => " Whole population ",
        Filter::Failing => " Failing or inconclusive rows ",
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let Some(page) = &state.page else {
        frame.render_widget(Paragraph::new(" reading the population…").block(block), area);
        return;
    };
    let key_columns = state.sample.as_ref().map(|s| s.key_columns.clone()).unwrap_or_default();
    let columns = chosen(state, &page.columns, &key_columns);
    let at: Vec<usize> = columns.iter().filter_map(|c| page.columns.iter().position(|p| p == c)).collect();
    let rows = state
        .shown
        .iter()
        .filter_map(|&i| page.rows.get(i))
        .map(|r| EvidenceRow {
            key: SampleKey::canonical(r.key.clone()).shown(),
            values: at.iter().map(|&i| r.values.get(i).map(cell).unwrap_or_default()).collect(),
            tests: r.tests.clone(),
            verdict: None,
        })
        .collect();
    let edge = match (page.at_start, page.at_end) {
        (true, true) => "all rows",
        (true, false) => "first page",
        (false, true) => "last page",
        (false, false) => "",
    };
    let block = block.title_bottom(format!(" {} row(s) on this page {edge} ", page.rows.len()));
    let table = EvidenceTable {
        columns: &columns,
        period_column: state.period_column.as_ref(),
        tests: &page.tests,
        rows,
        verdicts: false,
    };
    evidence_table::draw(frame, area, block, table, state.selected, state.first_column);
}

/// The whole selected row, every field (one line each, wrapped, nothing
/// cut), in the domain's order: key, tests, period, what the tests read.
fn draw_detail(frame: &mut Frame, area: Rect, state: &State) {
    let block = Block::default().borders(Borders::ALL).title(" Record ");
    let mut lines: Vec<Line> = Vec::new();
    let mut field = |name: &str, value: &Json| {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", visible(name)), Style::new().cyan()),
            Span::raw(cell(value)),
        ]));
    };
    let at = state.selected_row();
    match state.mode {
        Mode::Sample => {
            if let Some(row) = state.sample.as_ref().zip(at).and_then(|(s, i)| s.rows.get(i)) {
                field("key", &Json::String(row.key.shown()));
                for (name, result) in &row.tests {
                    let shown = match result {
                        Some(true) => "✓ pass",
                        Some(false) => "✗ fail",
                        None => "? inconclusive (NULL)",
                    };
                    field(&format!("test {name}"), &Json::String(shown.into()));
                }
                if let Some(note) = &row.note {
                    field("note", &Json::String(note.clone()));
                }
                for a in &row.attachments {
                    let shown =
                        format!("{} · {} bytes · sha256 {}", a.name, a.bytes, &a.sha256[..a.sha256.len().min(16)]);
                    field("attached", &Json::String(shown));
                }
                let available: Vec<String> = row.row.keys().cloned().collect();
                let key_columns = state.sample.as_ref().map(|s| s.key_columns.clone()).unwrap_or_default();
                for name in chosen(state, &available, &key_columns) {
                    if let Some(value) = row.row.get(&name) {
                        field(&name, value);
                    }
                }
                field("rank", &Json::String(row.rank.clone()));
            }
        }
        Mode::Population(_) => {
            if let Some((page, row)) = state.page.as_ref().zip(at).and_then(|(p, i)| p.rows.get(i).map(|r| (p, r))) {
                field("key", &Json::String(SampleKey::canonical(row.key.clone()).shown()));
                for (name, result) in page.tests.iter().zip(&row.tests) {
                    let shown = match result {
                        Some(true) => "✓ pass",
                        Some(false) => "✗ fail",
                        None => "? inconclusive (NULL)",
                    };
                    field(&format!("test {name}"), &Json::String(shown.into()));
                }
                let key_columns = state.sample.as_ref().map(|s| s.key_columns.clone()).unwrap_or_default();
                for name in chosen(state, &page.columns, &key_columns) {
                    if let Some(i) = page.columns.iter().position(|c| *c == name) {
                        field(&name, row.values.get(i).unwrap_or(&Json::Null));
                    }
                }
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}
