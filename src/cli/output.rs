//! Listings as a table for people, JSON (an array of objects keyed by the
//! columns, snake_case) or CSV for scripts.

use std::io::Write;

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
}

impl Listing {
    pub fn new(columns: &[&str]) -> Self {
        Self { columns: columns.iter().map(|c| c.to_string()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    pub fn print(&self, format: Format) -> std::io::Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match format {
            Format::Table => self.write_table(&mut out),
            Format::Json => self.write_json(&mut out),
            Format::Csv => self.write_csv(&mut out),
        }
    }

    pub fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        let objects: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let map: Map<String, Value> = self.columns.iter().cloned().zip(row.iter().cloned()).collect();
                Value::Object(map)
            })
            .collect();
        let text = serde_json::to_string_pretty(&objects).map_err(std::io::Error::other)?;
        writeln!(out, "{}", crate::text::json_safe(&text))
    }

    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{}", csv_line(&self.columns))?;
        for row in &self.rows {
            writeln!(out, "{}", csv_line(&row.iter().map(plain).collect::<Vec<_>>()))?;
        }
        Ok(())
    }

    pub fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        let cells: Vec<Vec<String>> =
            self.rows.iter().map(|r| r.iter().map(|v| fit(&plain(v), MAX_CELL_WIDTH)).collect()).collect();
        let headers: Vec<String> = self.columns.iter().map(|c| fit(&c.to_uppercase(), MAX_CELL_WIDTH)).collect();
        let widths: Vec<usize> = (0..headers.len())
            .map(|i| {
                cells.iter().map(|r| r.get(i).map_or(0, |c| width(c))).chain([width(&headers[i])]).max().unwrap_or(0)
            })
            .collect();
        let line = |cols: &[String]| {
            let mut text = String::new();
            for (i, c) in cols.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(c);
                text.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(width(c))));
            }
            text.trim_end().to_string()
        };
        writeln!(out, "{}", line(&headers))?;
        for row in &cells {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
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
use crate::text::{fit, width};

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
    use serde_json::json;

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
