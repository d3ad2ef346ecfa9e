//! `quarterdeck ingest SOURCE [FILE…]`

use std::path::PathBuf;

use serde_json::json;

use super::output::{Format, Listing};
use super::progress::Bar;
use super::{BadInput, Context, Outcome};
use crate::workspace::config::IngestMode;
use crate::workspace::ingest::{IngestReport, ingest_with};

pub fn run(ctx: &Context, source: &str, files: &[PathBuf]) -> Outcome {
    let ws = ctx.open()?;
    let report = ingest_with(&ws, source, files, &Bar::new(&format!("ingesting {source}")))?;
    if report.mode == IngestMode::InPlace {
        return print_refresh(ctx, &ws, &report);
    }
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

/// `quarterdeck refresh SOURCE`: re-reads where a source read in place
/// lies — its file set, footers and counts — without copying a row.
pub fn refresh(ctx: &Context, source: &str) -> Outcome {
    let ws = ctx.open()?;
    match ws.config.source(source) {
        Some(declared) if declared.mode != IngestMode::InPlace => {
            return Err(BadInput(format!(
                "source `{source}` is copied into the workspace (mode = \"{}\"); `refresh` is for sources read in place — use `quarterdeck ingest {source}`",
                declared.mode.as_str()
            ))
            .into());
        }
        _ => {}
    }
    let report = ingest_with(&ws, source, &[], &Bar::new(&format!("refreshing {source}")))?;
    print_refresh(ctx, &ws, &report)
}

fn print_refresh(ctx: &Context, ws: &crate::workspace::Workspace, report: &IngestReport) -> Outcome {
    let warehouse = ws.config.source(&report.source).and_then(|s| s.warehouse.as_ref()).map(|w| w.warehouse.as_str());
    if let (Some(warehouse), Format::Table) = (warehouse, ctx.format) {
        say!(
            "refreshed `{}` in warehouse `{warehouse}`: {} row(s) counted there, columns described, nothing copied (run {})",
            report.source,
            report.total_rows,
            report.run_id
        );
        return Ok(0);
    }
    if ctx.format == Format::Table {
        say!(
            "refreshed `{}` in place: {} file(s), {} row(s), nothing copied (run {})",
            report.source,
            report.files.len(),
            report.total_rows,
            report.run_id
        );
        for file in &report.files {
            say!("  {}  footer sha256:{}  {} bytes", crate::text::visible(&file.path), file.sha256, file.bytes);
        }
        return Ok(0);
    }
    let mut listing = Listing::new(&["run_id", "source", "mode", "files", "total_rows"]);
    listing.push(vec![
        json!(report.run_id),
        json!(report.source),
        json!(report.mode.as_str()),
        json!(
            report
                .files
                .iter()
                .map(|f| json!({"path": f.path, "footer_sha256": f.sha256, "bytes": f.bytes}))
                .collect::<Vec<_>>()
        ),
        json!(report.total_rows),
    ]);
    listing.print(ctx.format)?;
    Ok(0)
}
