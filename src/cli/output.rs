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
        serde_json::to_writer_pretty(&mut *out, &objects)?;
        writeln!(out)
    }

    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","))?;
        for row in &self.rows {
            writeln!(out, "{}", row.iter().map(|v| csv_field(&plain(v))).collect::<Vec<_>>().join(","))?;
        }
        Ok(())
    }

    pub fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        let cells: Vec<Vec<String>> =
            self.rows.iter().map(|r| r.iter().map(|v| visible(&plain(v))).collect()).collect();
        let headers: Vec<String> = self.columns.iter().map(|c| c.to_uppercase()).collect();
        let widths: Vec<usize> = (0..headers.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .chain([headers[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cols: &[String]| {
            cols.iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        writeln!(out, "{}", line(&headers))?;
        for row in &cells {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }
}

/// A value as text: strings bare, null empty, the rest as JSON.
pub fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

/// Evidence is untrusted: control characters never reach the terminal.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{1f}' => out.push_str(" | "),
            c if c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c) => {
                out.push_str(&c.escape_unicode().to_string())
            }
            c => out.push(c),
        }
    }
    out
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
        assert_eq!(visible("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(visible("x\u{202e}y"), "x\\u{202e}y");
    }
}
