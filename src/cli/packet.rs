//! `quarterdeck packet LABEL [--out DIR] [--zip]`: the audit's packet for
//! the auditor, written whole; and `verify --packet DIR|ZIP`, which checks
//! one on its own and, when run in its workspace, against it.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::output::{Format, print_json};
use super::progress::Bar;
use super::{Context, Outcome};
use crate::packet::verify::{PacketReport, verify};
use crate::packet::{PacketRequest, archive, export_with};
use crate::text::visible;

#[derive(Debug, clap::Args)]
pub struct PacketArgs {
    /// The audit's label, e.g. 2026-Q3
    pub label: String,
    /// Write it here instead of packets/LABEL in the workspace (with --zip: a .zip file, or a folder for LABEL.zip)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write one zip (entries sorted, fixed dates) instead of a folder
    #[arg(long)]
    pub zip: bool,
}

pub fn run(ctx: &Context, args: &PacketArgs) -> Outcome {
    let ws = ctx.open_reading()?;
    let bar = Bar::new("packet");
    let request = PacketRequest { label: &args.label, out: args.out.as_deref(), zip: args.zip };
    let exported = export_with(&ws, &request, &bar)?;
    drop(bar);
    let path = exported.path.display().to_string();
    if ctx.format == Format::Json {
        print_json(&json!({
            "path": path, "files": exported.files, "bytes": exported.bytes,
            "manifest_sha256": exported.manifest_sha256,
            "head": format!("{}:{}", exported.head.seq, exported.head.hash),
            "unreviewed": exported.unreviewed,
            "previous": exported.previous.as_ref().map(|p| json!({"audit": p.audit, "manifest_sha256": p.manifest_sha256})),
        }))?;
        return Ok(0);
    }
    say!(
        "packet {} written to {} ({} files, {} bytes)",
        visible(&args.label),
        visible(&path),
        exported.files,
        exported.bytes
    );
    say!("  manifest sha256 {} at log head {}:{}", exported.manifest_sha256, exported.head.seq, exported.head.hash);
    match &exported.previous {
        Some(p) => say!("  follows the packet of {} (manifest {})", visible(&p.audit), p.manifest_sha256),
        None => say!("  first packet of the chain (no packet of the previous audit found)"),
    }
    if !exported.unreviewed.is_empty() {
        say!("  not reviewed: {} (the packet says so on its first page)", exported.unreviewed.join(", "));
    }
    Ok(0)
}

/// `verify --packet PATH`: every problem on stderr (or in JSON), exit 1 on any.
pub fn verify_packet(ctx: &Context, path: &Path) -> Outcome {
    let files = archive::read(path)?;
    // The workspace is at hand when one is found (never the demo); the
    // packet alone is still checked without it.
    let reading = Context { workspace: ctx.workspace.clone(), read_only: true, ..*ctx };
    let ws = ctx.discover().ok().and_then(|dir| reading.open_at(&dir).ok());
    let bar = Bar::new("verify");
    let report = verify(&files, ws.as_ref(), &bar);
    drop(bar);
    let ok = report.problems.is_empty();
    if ctx.format == Format::Json {
        print_json(&json!({"ok": ok, "report": report}))?;
        return Ok(if ok { 0 } else { 1 });
    }
    print_report(path, &report, ws.is_some())?;
    Ok(if ok { 0 } else { 1 })
}

fn print_report(path: &Path, report: &PacketReport, at_hand: bool) -> std::io::Result<()> {
    let name = visible(&path.display().to_string());
    if report.problems.is_empty() {
        say!(
            "packet {name}: {} files, hashes and manifest intact; {} sample(s) re-ranked from their seeds; log slice of {} entries chained",
            report.files,
            report.samples,
            report.log_entries
        );
        if report.against_workspace {
            say!(
                "workspace: {} population(s) recounted with their fingerprints; the log holds the packet's head and slice",
                report.populations_recounted
            );
        } else if !at_hand {
            say!("workspace: not at hand; run from the packet's workspace to recount its populations");
        }
        return Ok(());
    }
    for problem in &report.problems {
        tell!("{}", visible(problem));
    }
    tell!("verify: {} problem(s) in packet {name}", report.problems.len());
    Ok(())
}
