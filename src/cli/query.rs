//! `quarterdeck query "SQL"`: one read-only SELECT, for an auditor's
//! question. The workspace opens read-only and locked down; the SQL passes
//! the guard, the plan check and runs in a READ ONLY transaction under the
//! statement timeout. CSV and JSON stream row by row: memory stays flat
//! however many rows the answer has.

use std::io::Write;

use serde_json::{Map, Value};

use super::output::{Format, Listing, csv_line, plain};
use super::{Context, Outcome};
use crate::workspace::query::{RowSink, auditor_query_each};

pub fn run(ctx: &Context, sql: &str) -> Outcome {
    let read_only = Context { read_only: true, workspace: ctx.workspace.clone(), ..*ctx };
    let ws = read_only.open()?;
    if ctx.format == Format::Table {
        let mut listing = Listing::default();
        auditor_query_each(&ws, sql, &mut listing)?;
        listing.print(ctx.format)?;
        return Ok(0);
    }
    let stdout = std::io::stdout();
    let out = std::io::BufWriter::new(stdout.lock());
    let mut stream = Stream { out, format: ctx.format, columns: Vec::new(), written: 0, failed: None };
    auditor_query_each(&ws, sql, &mut stream)?;
    stream.finish()?;
    Ok(0)
}

impl RowSink for Listing {
    fn columns(&mut self, names: &[String]) {
        self.columns = names.to_vec();
        self.identifiers = names.first().cloned().into_iter().collect();
    }

    fn row(&mut self, values: Vec<Value>) -> bool {
        self.push(values);
        true
    }
}

/// CSV or JSON written as rows arrive; a closed pipe stops the query.
struct Stream<W: Write> {
    out: W,
    format: Format,
    columns: Vec<String>,
    written: u64,
    failed: Option<std::io::Error>,
}

impl<W: Write> RowSink for Stream<W> {
    fn columns(&mut self, names: &[String]) {
        self.columns = names.to_vec();
        let result = if self.format == Format::Csv {
            writeln!(self.out, "{}", csv_line(&self.columns))
        } else {
            write!(self.out, "[")
        };
        self.failed = result.err();
    }

    fn row(&mut self, values: Vec<Value>) -> bool {
        if self.failed.is_some() {
            return false;
        }
        let result = match self.format {
            Format::Csv => writeln!(self.out, "{}", csv_line(&values.iter().map(plain).collect::<Vec<_>>())),
            _ => {
                let object: Map<String, Value> = self.columns.iter().cloned().zip(values).collect();
                let sep = if self.written == 0 { "\n" } else { ",\n" };
                write!(self.out, "{sep}  {}", crate::text::json_safe(&Value::Object(object).to_string()))
            }
        };
        self.written += 1;
        self.failed = result.err();
        self.failed.is_none()
    }
}

impl<W: Write> Stream<W> {
    fn finish(mut self) -> std::io::Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.format == Format::Json {
            writeln!(self.out, "{}]", if self.written == 0 { "" } else { "\n" })?;
        }
        self.out.flush()
    }
}
