//! `quarterdeck audit start|list|show|close`

use serde_json::json;

use super::output::{Format, Listing, print_json};
use super::progress::Bar;
use super::{Context, Outcome};
use crate::audit::audits::close::close;
use crate::audit::audits::summary::{self, AuditSummary};
use crate::audit::audits::{self, Scope};
use crate::audit::{findings, review};
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Start an audit and draw every in-scope control's sample
    Start {
        /// A quarter label such as 2026-Q3 (sets the period), or any name with --period
        label: String,
        /// FROM..TO (end exclusive), 2026-Q3, 2026-07 or 2026; default: the label's quarter
        #[arg(long)]
        period: Option<String>,
        /// all, a number of controls drawn at random (seeded), or ID,ID,…
        #[arg(long, default_value = "all")]
        controls: String,
        /// The audit seed (default: 128 bits from the OS, recorded)
        #[arg(long)]
        seed: Option<String>,
    },
    /// List audits with period, status and progress
    List,
    /// Scope, progress, result per control, findings, exception rate
    Show {
        /// The audit's label
        label: String,
    },
    /// Close an audit: settle retests; afterwards nothing in it can change
    Close {
        /// The audit's label
        label: String,
    },
}

pub fn run(ctx: &Context, command: &AuditCommand) -> Outcome {
    // Listing and showing audits only read.
    let reads = matches!(command, AuditCommand::List | AuditCommand::Show { .. });
    let ws = if reads { ctx.open_reading()? } else { ctx.open()? };
    match command {
        AuditCommand::Start { label, period, controls, seed } => {
            let mappings = Mappings::load(&ws.root);
            let period = Period::parse(period.as_deref().unwrap_or(label), ws.config.timezone)?;
            let bar = Bar::new(&format!("starting audit {label}"));
            let scope = Scope::parse(controls);
            let started = audits::start_with(&ws, &mappings, label, &period, &scope, seed.clone(), &bar)?;
            drop(bar);
            let a = &started.audit;
            say!("audit {} started: period {period}, seed {}", a.label, a.seed);
            say!(
                "  {} control(s) in scope, {} sample(s) drawn; mapping version {}",
                a.controls.len(),
                started.samples,
                a.mapping_version.get(..12).unwrap_or(&a.mapping_version)
            );
            if !started.carried.is_empty() {
                say!("  retesting controls with active findings: {}", started.carried.join(", "));
            }
            Ok(0)
        }
        AuditCommand::List => {
            let mut listing = Listing::new(&["label", "period", "status", "controls", "sampled", "decided", "seed"]);
            for s in summary::summaries(&ws, &findings::list(&ws.conn)?)? {
                let a = &s.audit;
                listing.push(vec![
                    json!(a.label),
                    json!(a.period.label),
                    json!(a.status.as_str()),
                    json!(a.controls.len()),
                    json!(s.sampled),
                    json!(s.decided),
                    json!(a.seed),
                ]);
            }
            listing.print(ctx.format)?;
            Ok(0)
        }
        AuditCommand::Show { label } => show(ctx, &ws, label),
        AuditCommand::Close { label } => {
            let closed = close(&ws, label)?;
            say!("audit {label} closed");
            for r in &closed.results {
                say!("  {:<10} {}", r.control, r.result.as_str());
            }
            for id in &closed.closed_findings {
                say!("  retest passed: {id} closed");
            }
            for id in &closed.regressions {
                say!("  retest failed: {id} reopened (regression)");
            }
            Ok(0)
        }
    }
}

fn show(ctx: &Context, ws: &crate::workspace::Workspace, label: &str) -> Outcome {
    let summary = summary::summary(ws, label)?;
    let AuditSummary { audit, results, previous, .. } = &summary;
    let current = Mappings::load(&ws.root).version;
    let previous_rate = previous.as_ref().and_then(|p| p.exception_rate);
    let reviews = review::list(&ws.conn, label)?;
    let latest = review::latest_by_control(&reviews);
    if ctx.format == Format::Json {
        let shown = json!({
            "label": audit.label,
            "period": {"label": audit.period.label, "start": audit.period.start.to_rfc3339(), "end": audit.period.end.to_rfc3339()},
            "status": audit.status.as_str(),
            "seed": audit.seed,
            "mapping_version": audit.mapping_version,
            "mapping_changed": current != audit.mapping_version,
            "controls": results.iter().map(|r| json!({"control": r.control, "result": r.result.as_str(), "sampled": r.sampled,
                "passed": r.passed, "exceptions": r.exceptions, "na": r.not_applicable, "undecided": r.undecided,
                "missed_slots": r.missed, "reviewer": latest.get(&r.control).map(|v| &v.reviewer)})).collect::<Vec<_>>(),
            "reviews": reviews,
            "unreviewed": review::unreviewed(&audit.controls, &reviews),
            "findings_opened": summary.findings_opened,
            "findings_closed": summary.findings_closed,
            "regressions": summary.regressions,
            "exception_rate": summary.exception_rate,
            "previous_audit": previous.as_ref().map(|p| p.label.clone()),
            "previous_exception_rate": previous_rate,
        });
        print_json(&shown)?;
        return Ok(0);
    }
    let mut listing = Listing::new(&[
        "control",
        "result",
        "sampled",
        "passed",
        "exceptions",
        "na",
        "undecided",
        "missed_slots",
        "reviewer",
    ]);
    for r in results {
        listing.push(vec![
            json!(r.control),
            json!(r.result.as_str()),
            json!(r.sampled),
            json!(r.passed),
            json!(r.exceptions),
            json!(r.not_applicable),
            json!(r.undecided),
            json!(r.missed),
            json!(latest.get(&r.control).map(|v| &v.reviewer)),
        ]);
    }
    if ctx.format == Format::Csv {
        // One record per control, each naming its audit, for a spreadsheet.
        listing.columns.insert(0, "audit".into());
        listing.rows.iter_mut().for_each(|row| row.insert(0, json!(audit.label)));
        listing.print(Format::Csv)?;
        return Ok(0);
    }
    say!("audit {} — {} — {}", audit.label, audit.period.label, audit.status.as_str());
    say!("  seed {}  mapping {}", audit.seed, audit.mapping_version.get(..12).unwrap_or(&audit.mapping_version));
    if current != audit.mapping_version {
        say!(
            "  note: controls/*.toml changed since this audit started (now {})",
            current.get(..12).unwrap_or(&current)
        );
    }
    say!("  progress: {} of {} sampled row(s) decided", summary.decided, summary.sampled);
    let show_rate = |r: Option<f64>| r.map_or("—".to_string(), |r| format!("{:.1}%", r * 100.0));
    say!(
        "  exception rate: {} (previous audit {}: {})",
        show_rate(summary.exception_rate),
        previous.as_ref().map_or("none", |p| p.label.as_str()),
        show_rate(previous_rate)
    );
    listing.print(Format::Table)?;
    let lines = [
        ("findings opened", &summary.findings_opened),
        ("findings closed by retest", &summary.findings_closed),
        ("regressions", &summary.regressions),
    ];
    for (name, ids) in lines {
        say!("  {name}: {}", if ids.is_empty() { "none".into() } else { ids.join(", ") });
    }
    // The sign-off that counts for each control, with its conclusion.
    for v in latest.values() {
        let reviewer = crate::text::visible(&v.reviewer);
        say!("  reviewed: {} by {reviewer} at {}: {}", v.control, v.reviewed_at, crate::text::visible(&v.conclusion));
    }
    let unreviewed = review::unreviewed(&audit.controls, &reviews);
    say!("  not reviewed: {}", if unreviewed.is_empty() { "none".into() } else { unreviewed.join(", ") });
    Ok(0)
}
