//! `quarterdeck ingest SOURCE [FILE…]`

use std::path::PathBuf;

use serde_json::json;

use super::output::{Format, Listing};
use super::progress::Bar;
use super::{Context, Outcome};
use crate::workspace::ingest::ingest_with;

pub fn run(ctx: &Context, source: &str, files: &[PathBuf]) -> Outcome {
    let ws = ctx.open()?;
    let report = ingest_with(&ws, source, files, &Bar::new(&format!("ingesting {source}")))?;
    if ctx.format == Format::Table {
        say!(
            "ingested {} row(s) into `{}` ({}, run {}); {} already present; {} row(s) in all",
            report.rows,
            report.source,
            report.mode.as_str(),
            report.run_id,
            report.skipped,
            report.total_rows
        );
        for file in &report.files {
            say!("  {}  sha256:{}  {} bytes", file.path, file.sha256, file.bytes);
        }
    } else {
        let mut listing = Listing::new(&["run_id", "source", "mode", "rows", "skipped", "total_rows", "files"]);
        listing.push(vec![
            json!(report.run_id),
            json!(report.source),
            json!(report.mode.as_str()),
            json!(report.rows),
            json!(report.skipped),
            json!(report.total_rows),
            json!(report.files),
        ]);
        listing.print(ctx.format)?;
    }
    Ok(0)
}
