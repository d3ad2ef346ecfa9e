//! Compiled only under #[cfg(test)] (see demo/mod.rs).
//! Test helpers: an RFC 4180 reader for the generated files and typed
//! access to their rows.

use std::path::Path;

use chrono::NaiveDateTime;

/// A parsed CSV file: header and rows, empty fields as `None`.
pub struct Table {
    pub cols: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    pub fn load(ws: &Path, source: &str) -> Table {
        let text = std::fs::read_to_string(ws.join(format!("evidence/{source}.csv"))).unwrap();
        let mut records = parse_csv(&text).into_iter();
        let cols = records.next().unwrap().into_iter().map(|c| c.unwrap()).collect::<Vec<_>>();
        let rows: Vec<_> = records.collect();
        assert!(rows.iter().all(|r| r.len() == cols.len()), "{source}: ragged rows");
        Table { cols, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.cols.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Iterate rows as name → value accessors.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |r| Row { t: self, r })
    }
}

#[derive(Clone, Copy)]
pub struct Row<'a> {
    t: &'a Table,
    r: &'a [Option<String>],
}

impl<'a> Row<'a> {
    pub fn s(&self, col: &str) -> Option<&'a str> {
        self.r[self.t.col(col)].as_deref()
    }
    pub fn ts(&self, col: &str) -> Option<i64> {
        self.s(col).map(parse_ts)
    }
    pub fn b(&self, col: &str) -> Option<bool> {
        self.s(col).map(|v| match v {
            "true" => true,
            "false" => false,
            other => panic!("not a boolean: {other}"),
        })
    }
    pub fn n(&self, col: &str) -> Option<f64> {
        self.s(col).map(|v| v.parse::<f64>().unwrap())
    }
    pub fn key(&self, col: &str) -> String {
        self.s(col).unwrap().to_owned()
    }
}

pub fn parse_ts(s: &str) -> i64 {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("bad timestamp {s:?}: {e}"))
        .and_utc()
        .timestamp()
}

/// RFC 4180 reader (the format the writer promises).
pub fn parse_csv(text: &str) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut in_quotes, mut chars) = (false, false, text.chars().peekable());
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                quoted = true;
            }
            ',' | '\n' => {
                let f = std::mem::take(&mut field);
                row.push(if f.is_empty() && !quoted { None } else { Some(f) });
                quoted = false;
                if c == '\n' {
                    out.push(std::mem::take(&mut row));
                }
            }
            _ => field.push(c),
        }
    }
    assert!(row.is_empty() && field.is_empty(), "file must end with a newline");
    out
}
