//! Listings as a table for people, JSON (an array of objects keyed by the
//! columns, snake_case) or CSV for scripts.

use std::io::{IsTerminal, Write};

use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Row, Table, Width};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

/// Rows of named columns, rendered in any `Format`.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Columns that say which row it is (a key, an id, a label, a file) even
    /// where their name reads like prose: never cut. By default the first.
    pub identifiers: Vec<String>,
    /// Columns a table too wide for the terminal leaves out, in this order
    /// (a sample's evidence columns after the period one, the last first);
    /// a line under the table names how many, and CSV or JSON has them all.
    pub optional: Vec<String>,
}

/// The columns of free text (titles, notes, owners, messages, lists): the
/// only ones a table narrowed to the terminal cuts with `…`. Every other
/// column — ids, keys, labels, states, dates, numbers, booleans — keeps its
/// width: it says which row it is, or what state the row is in.
/// The narrowest a prose column is cut to (less when its content is shorter).
const PROSE_FLOOR: usize = 12;

const PROSE: &[&str] = &[
    "title",
    "description",
    "note",
    "message",
    "owner",
    "files",
    "file",
    "criteria",
    "controls",
    "evidence",
    "text",
    "question",
    "asked_by",
    "reviewer",
    "spec",
    "error",
];

impl Listing {
    pub fn new(columns: &[&str]) -> Self {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        Self {
            identifiers: columns.first().cloned().into_iter().collect(),
            columns,
            rows: Vec::new(),
            optional: Vec::new(),
        }
    }

    /// These columns, not just the first, identify a row.
    pub fn identified_by(mut self, columns: &[&str]) -> Self {
        self.identifiers = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// A column's width: its widest cell or its header.
    fn content_width(&self, i: usize) -> usize {
        let cells =
            self.rows.iter().filter_map(|r| r.get(i)).map(|v| crate::text::width(&fit(&plain(v), MAX_CELL_WIDTH)));
        cells.chain(self.columns.get(i).map(|c| crate::text::width(c))).max().unwrap_or(0)
    }

    /// How narrow a prose column may be cut: [`PROSE_FLOOR`] when the
    /// columns kept whole already overflow `width` (the table cannot fit, so
    /// the prose may as well stay readable), else as much as leaves the
    /// table within `width`.
    fn prose_floor(&self, width: Option<u16>) -> usize {
        let Some(width) = width else { return PROSE_FLOOR };
        let (mut whole, mut prose) = (0, 0);
        for (i, column) in self.columns.iter().enumerate() {
            match self.may_cut(column) {
                true => prose += 1,
                false => whole += self.content_width(i),
            }
        }
        let padding = 2 * self.columns.len().saturating_sub(1);
        match usize::from(width).checked_sub(whole + padding) {
            Some(room) if prose > 0 => (room / prose).min(PROSE_FLOOR),
            _ => PROSE_FLOOR,
        }
    }

    /// These columns may be left out of a table too wide for the terminal,
    /// the first of them first.
    pub fn optional(mut self, columns: &[String]) -> Self {
        self.optional.extend(columns.iter().cloned());
        self
    }

    /// Without the optional columns (in their order) that make the table
    /// wider than `width`; and how many were left out.
    fn fitted(&self, width: Option<u16>) -> (std::borrow::Cow<'_, Self>, usize) {
        let Some(width) = width.map(usize::from) else { return (std::borrow::Cow::Borrowed(self), 0) };
        // Each column's width is measured once; leaving one out drops its width.
        let mut widths: Vec<usize> = (0..self.columns.len()).map(|i| self.content_width(i) + 2).collect();
        if self.optional.is_empty() || widths.iter().sum::<usize>() <= width {
            return (std::borrow::Cow::Borrowed(self), 0);
        }
        let mut fitted = self.clone();
        let mut left_out = 0;
        while widths.iter().sum::<usize>() > width {
            let Some(at) = fitted.optional.iter().find_map(|o| fitted.columns.iter().position(|c| c == o)) else {
                break;
            };
            fitted.columns.remove(at);
            widths.remove(at);
            for row in &mut fitted.rows {
                if at < row.len() {
                    row.remove(at);
                }
            }
            left_out += 1;
        }
        (std::borrow::Cow::Owned(fitted), left_out)
    }

    /// Whether a narrow table may cut this column: prose, not an identifier.
    fn may_cut(&self, column: &str) -> bool {
        PROSE.contains(&column) && !self.identifiers.iter().any(|c| c == column)
    }

    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    /// On stdout; a closed pipe comes back as `BrokenPipe`, which `cli::run`
    /// takes for the reader having read enough.
    pub fn print(&self, format: Format) -> std::io::Result<()> {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match format {
            Format::Table => self.write_table(&mut out),
            Format::Json => self.write_json(&mut out),
            Format::Csv => self.write_csv(&mut out),
        }?;
        out.flush()
    }

    /// The rows as JSON objects, column → value (for a document holding several listings).
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|row| {
                    let map: Map<String, Value> = self.columns.iter().cloned().zip(row.iter().cloned()).collect();
                    Value::Object(map)
                })
                .collect(),
        )
    }

    pub fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        let objects = self.to_json();
        let text = serde_json::to_string_pretty(&objects).map_err(std::io::Error::other)?;
        writeln!(out, "{}", crate::text::json_safe(&text))
    }

    /// CSV with every cell as it is (a script gets the evidence unchanged);
    /// on a terminal, where an escape in a cell would reach the screen, each
    /// cell is made visible first.
    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        self.write_csv_for(out, std::io::stdout().is_terminal())
    }

    pub fn write_csv_for(&self, out: &mut impl Write, terminal: bool) -> std::io::Result<()> {
        let cell = |text: String| if terminal { crate::text::visible(&text) } else { text };
        writeln!(out, "{}", csv_line(&self.columns.iter().cloned().map(cell).collect::<Vec<_>>()))?;
        for row in &self.rows {
            writeln!(out, "{}", csv_line(&row.iter().map(|v| cell(plain(v))).collect::<Vec<_>>()))?;
        }
        Ok(())
    }

    /// The table on stdout as `Terminal::detect` sees it.
    pub fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        self.write_table_for(out, &Terminal::detect())
    }

    /// Plain columns, kubectl-like: upper-case headers, no borders, each
    /// column as wide as its content. When a width is known the table fits
    /// it: prose columns are cut with `…`, no other column is (see `PROSE`). A state
    /// keeps its word; colour is only added, and only when `terminal` says so.
    pub fn write_table_for(&self, out: &mut impl Write, terminal: &Terminal) -> std::io::Result<()> {
        let (fitted, left_out) = self.fitted(terminal.width);
        fitted.write_fitted(out, terminal)?;
        if left_out > 0 {
            writeln!(
                out,
                "({left_out} more column(s) left out to fit the terminal; --format csv or json has them all)"
            )?;
        }
        Ok(())
    }

    fn write_fitted(&self, out: &mut impl Write, terminal: &Terminal) -> std::io::Result<()> {
        let mut table = Table::new();
        table.load_preset(comfy_table::presets::NOTHING).set_truncation_indicator("…");
        match terminal.width {
            Some(width) => {
                table.set_content_arrangement(ContentArrangement::Dynamic).set_width(width);
            }
            None => {
                table.force_no_tty().set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        if terminal.colour {
            table.enforce_styling();
        }
        let mut header = Row::from(self.columns.iter().map(|c| Cell::new(fit(&c.to_uppercase(), MAX_CELL_WIDTH))));
        header.max_height(1);
        table.set_header(header);
        for values in &self.rows {
            let cells = values.iter().zip(&self.columns).map(|(value, column)| {
                let text = fit(&plain(value), MAX_CELL_WIDTH);
                match state_colour(column, &text).filter(|_| terminal.colour) {
                    Some(colour) => Cell::new(text).fg(colour),
                    None => Cell::new(text),
                }
            });
            let mut row = Row::from(cells);
            row.max_height(1);
            table.add_row(row);
        }
        let last = self.columns.len().saturating_sub(1);
        let floor = self.prose_floor(terminal.width);
        for (i, column) in table.column_iter_mut().enumerate() {
            column.set_padding((0, if i == last { 0 } else { 2 }));
            if !self.may_cut(&self.columns[i]) {
                column.set_constraint(ColumnConstraint::ContentWidth);
            } else {
                let floor = self.content_width(i).clamp(1, floor.max(1)) as u16;
                column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(floor)));
            }
        }
        for line in table.lines() {
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Where a table goes: how wide it may be and whether it may be coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// `$COLUMNS` when set, else the terminal's width; `None` in a pipe
    /// (nothing is cut to fit, beyond `MAX_CELL_WIDTH`).
    pub width: Option<u16>,
    /// Stdout is a terminal (or `CLICOLOR_FORCE` is set) and `NO_COLOR` is not.
    pub colour: bool,
}

impl Terminal {
    pub fn detect() -> Self {
        let tty = std::io::stdout().is_terminal();
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<u16>().ok()).filter(|&c| c > 0);
        let width = columns.or_else(|| tty.then(|| Table::new().width()).flatten());
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && (tty || set("CLICOLOR_FORCE"));
        Self { width, colour }
    }
}

/// `shown` (text of ours around a state's word, never evidence) in the
/// colour tables give `state`, when `terminal` allows colour; else as it is.
pub fn paint(shown: &str, state: &str, terminal: &Terminal) -> String {
    // The 256-colour codes comfy-table writes for the same colours.
    let code = match state_colour("", &state.to_lowercase()).filter(|_| terminal.colour) {
        Some(Color::Red) => 9,
        Some(Color::Green) => 10,
        Some(Color::Yellow) => 11,
        Some(Color::Magenta) => 13,
        _ => return shown.to_string(),
    };
    format!("\u{1b}[38;5;{code}m{shown}\u{1b}[39m")
}

/// The colour a state's word is shown in, when it is one worth seeing at a
/// glance: red for what needs action, yellow for what waits, green for done.
fn state_colour(column: &str, text: &str) -> Option<Color> {
    match (column, text) {
        ("overdue" | "regression", "true") | ("mapped", "false") => Some(Color::Red),
        (_, "fail" | "failed" | "exception" | "exceptions noted" | "stale" | "abandoned" | "open" | "critical") => {
            Some(Color::Red)
        }
        (_, "inconclusive" | "empty" | "never loaded" | "not tested" | "remediating" | "ready-for-retest" | "high") => {
            Some(Color::Yellow)
        }
        (_, "risk-accepted") => Some(Color::Magenta),
        (_, "pass" | "ok" | "fresh" | "effective") => Some(Color::Green),
        _ => None,
    }
}

/// A table cell longer than this is cut with `…` (CSV and JSON keep it whole).
pub const MAX_CELL_WIDTH: usize = 120;

/// A value as text: strings bare, null empty, the rest as JSON.
pub fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

pub use crate::text::visible;

/// One line of text on stdout (already sanitised by `say!`); a closed pipe
/// is returned, never a panic.
pub fn say(line: &str) -> std::io::Result<()> {
    writeln!(std::io::stdout().lock(), "{line}")
}

/// A JSON document on stdout, pretty, with bidi controls escaped.
pub fn print_json(value: &Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    say(&crate::text::json_safe(&text))
}
use crate::text::fit;

/// One CSV record (RFC 4180 quoting), without its line end.
pub fn csv_line(fields: &[String]) -> String {
    fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::width;
    use serde_json::json;

    #[test]
    fn csv_keeps_cells_for_scripts_and_shows_them_on_a_terminal() {
        let mut l = Listing::new(&["name"]);
        l.push(vec![json!("a\u{1b}[2Jb, c")]);
        let mut piped = Vec::new();
        l.write_csv_for(&mut piped, false).unwrap();
        assert_eq!(String::from_utf8(piped).unwrap(), "name\n\"a\u{1b}[2Jb, c\"\n");
        let mut shown = Vec::new();
        l.write_csv_for(&mut shown, true).unwrap();
        assert_eq!(String::from_utf8(shown).unwrap(), "name\n\"a\\e[2Jb, c\"\n");
    }

    fn listing() -> Listing {
        let mut l = Listing::new(&["name", "rows"]);
        l.push(vec![json!("deploys"), json!(12)]);
        l.push(vec![json!("a,\"b\""), Value::Null]);
        l
    }

    #[test]
    fn renders_json_csv_and_table() {
        let l = listing();
        let mut json = Vec::new();
        l.write_json(&mut json).unwrap();
        let parsed: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed[0]["name"], "deploys");
        assert_eq!(parsed[0]["rows"], 12);
        let mut csv = Vec::new();
        l.write_csv(&mut csv).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "name,rows\ndeploys,12\n\"a,\"\"b\"\"\",\n");
        let mut table = Vec::new();
        l.write_table(&mut table).unwrap();
        assert!(String::from_utf8(table).unwrap().starts_with("NAME     ROWS\ndeploys  12\n"));
    }

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(visible("a\u{1b}[31mb"), "a\\e[31mb");
        assert_eq!(visible("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(visible("x\u{200f}\u{61c}y"), "x\\u{200f}\\u{61c}y");
    }

    #[test]
    fn a_huge_cell_or_hostile_header_is_cut_and_shown_as_text() {
        let mut l = Listing::new(&["n\u{1b}]0;title\u{7}"]);
        l.push(vec![json!("x".repeat(70_000))]);
        let mut table = Vec::new();
        l.write_table(&mut table).unwrap();
        let text = String::from_utf8(table).unwrap();
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
        assert!(text.lines().all(|line| width(line) <= MAX_CELL_WIDTH), "{}", text.len());
        assert!(text.contains('…'));
    }
}
