//! `quarterdeck documents [--period P]`: each document version's state;
//! `quarterdeck documents collect [--recollect ID]`: hash, keep and log
//! the register's files.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::output::{Format, Listing};
use super::{Context, Outcome};
use crate::workspace::documents::collect::{Outcome as FileOutcome, collect};
use crate::workspace::documents::{Register, state};
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DocumentsArgs {
    #[command(subcommand)]
    pub command: Option<DocumentsCommand>,
    /// Judge each document against this period: in force, attesting to it,
    /// renewed by its end (2026-Q3, 2026-07, 2026 or FROM..TO; default: today)
    #[arg(long)]
    pub period: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCommand {
    /// Hash every declared file (each read once, on all cores), keep new ones in
    /// evidence/blobs/, record and log them, and rebuild the `documents` table
    Collect {
        /// Take this document's changed files as they now are (logged); repeatable
        #[arg(long, value_name = "ID")]
        recollect: Vec<String>,
    },
}

pub fn run(ctx: &Context, args: &DocumentsArgs) -> Outcome {
    match &args.command {
        Some(DocumentsCommand::Collect { recollect }) => run_collect(ctx, recollect),
        None => run_list(ctx, args.period.as_deref()),
    }
}

fn run_list(ctx: &Context, period: Option<&str>) -> Outcome {
    let ws = ctx.open_reading()?;
    let period = period.map(|p| Period::parse(p, ws.config.timezone)).transpose()?;
    let register = Register::load(&ws.root);
    for problem in &register.problems {
        tell!("{}", super::output::visible(&problem.to_string()));
    }
    let statuses = state::assess(&ws.root, &ws.conn, &register, period.as_ref(), ws.today())?;
    let mut listing = Listing::new(&[
        "id",
        "version",
        "kind",
        "title",
        "effective",
        "covers",
        "renew_by",
        "subject",
        "controls",
        "state",
        "detail",
        "sha256",
        "collected_at",
    ])
    .identified_by(&["id", "version"]);
    let or_null = |v: Option<String>| v.map_or(Value::Null, |v| json!(v));
    for s in &statuses {
        let d = &s.document;
        let controls: Vec<&str> = d.controls.iter().map(|c| c.value.as_str()).collect();
        listing.push(vec![
            json!(d.id),
            json!(d.version),
            json!(d.kind.name()),
            json!(d.title),
            json!(d.effective.to_string()),
            or_null(d.covers.map(|(f, t)| format!("{f}..{t}"))),
            or_null(d.renew.as_ref().map(|r| r.1.to_string())),
            or_null(d.subject.clone()),
            match ctx.format {
                Format::Json => json!(controls),
                _ => json!(controls.join(" ")),
            },
            json!(s.state.name()),
            json!(s.detail),
            or_null(s.sha256.clone()),
            or_null(s.collected_at.clone()),
        ]);
    }
    let listing = listing.optional(&["sha256".into(), "collected_at".into(), "covers".into(), "subject".into()]);
    listing.print(ctx.format)?;
    let problems = statuses.iter().filter(|s| s.needs_attention()).count();
    if ctx.format == Format::Table {
        let on = period.as_ref().map_or_else(|| format!("today ({})", ws.today()), |p| p.label.clone());
        say!("\n{} document(s) judged for {on}; {problems} need attention", statuses.len());
    }
    Ok(if register.problems.is_empty() { 0 } else { 4 })
}

fn run_collect(ctx: &Context, recollect: &[String]) -> Outcome {
    let ws = ctx.open()?;
    let mappings = Mappings::load(&ws.root);
    let progress = super::progress::Bar::new("collecting documents");
    let collection = collect(&ws, &mappings, recollect);
    drop(progress);
    let collection = collection?;
    let count = |want: fn(&FileOutcome) -> bool| collection.files.iter().filter(|f| want(&f.outcome)).count();
    let new = count(|o| matches!(o, FileOutcome::New));
    let unchanged = count(|o| matches!(o, FileOutcome::Unchanged));
    let recollected = count(|o| matches!(o, FileOutcome::Recollected { .. }));
    let bytes: u64 = collection.files.iter().map(|f| f.bytes).sum();
    if ctx.format != Format::Table {
        let mut listing = Listing::new(&["document", "version", "path", "outcome", "sha256", "bytes", "recorded"])
            .identified_by(&["document", "version", "path"]);
        for f in &collection.files {
            let (outcome, recorded) = match &f.outcome {
                FileOutcome::New => ("new", Value::Null),
                FileOutcome::Unchanged => ("unchanged", Value::Null),
                FileOutcome::Changed { recorded } => ("changed", json!(recorded)),
                FileOutcome::Recollected { previous } => ("recollected", json!(previous)),
            };
            listing.push(vec![
                json!(f.document),
                json!(f.version),
                json!(f.path),
                json!(outcome),
                json!(f.sha256),
                json!(f.bytes),
                recorded,
            ]);
        }
        listing.print(ctx.format)?;
    } else {
        for f in collection.changed() {
            tell!(
                "changed since collected: {} ({} | {}): now sha256 {}; a new version needs a new register entry, or `documents collect --recollect {}`",
                super::output::visible(&f.path),
                super::output::visible(&f.document),
                super::output::visible(&f.version),
                f.sha256,
                super::output::visible(&f.document),
            );
        }
        say!(
            "collected {} document(s), {} file(s), {} MB: {new} new, {unchanged} unchanged, {recollected} re-collected, {} changed (logged as #{})",
            collection.documents,
            collection.files.len(),
            bytes / 1_000_000,
            collection.changed().count(),
            collection.logged_seq
        );
    }
    Ok(if collection.changed().next().is_some() { 1 } else { 0 })
}
