//! `quarterdeck findings add|list|show|set`

use chrono::NaiveDate;
use serde_json::json;

use super::output::{Format, Listing, print_json, visible};
use super::{BadInput, Context, Outcome};
use crate::audit::AuditError;
use crate::audit::findings::{self, Change, NewFinding};
use crate::audit::lifecycle::{Acceptance, FindingStatus, Severity, is_overdue};

#[derive(Debug, clap::Subcommand)]
pub enum FindingsCommand {
    /// Open a finding in an audit in fieldwork
    Add {
        /// The audit it is found in (in fieldwork)
        #[arg(long)]
        audit: String,
        /// The control it is about
        #[arg(long)]
        control: String,
        /// One line that says what is wrong
        #[arg(long)]
        title: String,
        /// The detail: what was seen, where, since when
        #[arg(long, default_value = "")]
        description: String,
        /// How bad it is
        #[arg(long, value_enum)]
        severity: Severity,
        /// Who remediates it
        #[arg(long)]
        owner: String,
        /// Due date (YYYY-MM-DD)
        #[arg(long)]
        due: Option<NaiveDate>,
        /// Keys of the sampled rows this finding is about (repeatable)
        #[arg(long = "row")]
        rows: Vec<String>,
        /// The system it is about: a drift line of `quarterdeck systems`
        #[arg(long)]
        system: Option<String>,
        /// The missed expected occurrence it is about, as `test` names it (`2026-Q3 | postgres-orders`)
        #[arg(long)]
        slot: Option<String>,
    },
    /// List findings with status, severity, owner, due (overdue marked) and regressions
    List {
        /// Only this status
        #[arg(long, value_enum)]
        status: Option<FindingStatus>,
        /// Only findings opened in this audit
        #[arg(long)]
        audit: Option<String>,
    },
    /// A finding with its linked rows and remediation history (CSV: one record of its fields)
    Show {
        /// The finding's id, e.g. F-2026Q3-001
        id: String,
    },
    /// Change status (along the lifecycle), owner, due date or severity
    Set {
        /// The finding's id, e.g. F-2026Q3-001
        id: String,
        /// The next status along the lifecycle
        #[arg(long, value_enum)]
        status: Option<FindingStatus>,
        /// A new owner
        #[arg(long)]
        owner: Option<String>,
        /// A new due date (YYYY-MM-DD)
        #[arg(long)]
        due: Option<NaiveDate>,
        /// A new severity
        #[arg(long, value_enum)]
        severity: Option<Severity>,
        /// Why (recorded with the remediation event)
        #[arg(long)]
        note: Option<String>,
        /// Risk acceptance: who approved it
        #[arg(long)]
        approver: Option<String>,
        /// Risk acceptance: why the risk is accepted
        #[arg(long)]
        reason: Option<String>,
        /// Risk acceptance: until when (YYYY-MM-DD); afterwards the finding reopens
        #[arg(long)]
        expires: Option<NaiveDate>,
    },
}

pub fn run(ctx: &Context, command: &FindingsCommand) -> Outcome {
    // Listing and showing only read: they take no write lock and change nothing.
    let reads = matches!(command, FindingsCommand::List { .. } | FindingsCommand::Show { .. });
    let ws = if reads { ctx.open_reading()? } else { ctx.open()? };
    let today = ws.today();
    match command {
        FindingsCommand::Add { audit, control, title, description, severity: sev, owner, due, rows, system, slot } => {
            let new = NewFinding {
                audit: audit.clone(),
                control: control.clone(),
                title: title.clone(),
                description: description.clone(),
                severity: *sev,
                owner: owner.clone(),
                due: *due,
                rows: rows.clone(),
                system: system.clone(),
                slot: slot.clone(),
            };
            let finding = findings::add(&ws, &new)?;
            say!("{}", finding.id);
            Ok(0)
        }
        FindingsCommand::List { status: only, audit } => {
            let only = *only;
            let mut listing = Listing::new(&[
                "id",
                "audit",
                "control",
                "severity",
                "status",
                "owner",
                "due",
                "overdue",
                "regression",
                "system",
                "slot",
                "title",
            ]);
            for f in findings::list(&ws.conn)? {
                let status = findings::effective_status(&f, today);
                if only.is_some_and(|s| s != status) || audit.as_ref().is_some_and(|a| a != &f.audit) {
                    continue;
                }
                listing.push(vec![
                    json!(f.id),
                    json!(f.audit),
                    json!(f.control),
                    json!(f.severity.as_str()),
                    json!(status.as_str()),
                    json!(f.owner),
                    json!(f.due.map(|d| d.to_string())),
                    json!(is_overdue(f.status, f.due, today)),
                    json!(f.regression),
                    json!(f.system.as_deref().map(visible)),
                    json!(f.slot.as_deref().map(visible)),
                    json!(visible(&f.title)),
                ]);
            }
            listing.print(ctx.format)?;
            Ok(0)
        }
        FindingsCommand::Show { id } => {
            let f = findings::load(&ws.conn, id)?.ok_or_else(|| AuditError::UnknownFinding(id.clone()))?;
            let events = findings::events(&ws.conn, id)?;
            let value = findings::to_json(&f, &events, today);
            match ctx.format {
                Format::Json => {
                    print_json(&value)?;
                    return Ok(0);
                }
                Format::Csv => {
                    // One record: the finding's own fields; its rows joined,
                    // its history counted (the whole history is in JSON).
                    let fields = [
                        "id",
                        "audit",
                        "control",
                        "title",
                        "description",
                        "severity",
                        "owner",
                        "due",
                        "status",
                        "overdue",
                        "regression",
                        "closed_in",
                        "system",
                        "slot",
                    ];
                    let mut listing = Listing::new(&fields);
                    // Free text shown as `findings list` shows it: made visible.
                    let cell = |v: &serde_json::Value| v.as_str().map_or_else(|| v.clone(), |s| json!(visible(s)));
                    let mut row: Vec<_> = fields.iter().map(|f| cell(&value[f])).collect();
                    let acceptance = |field: &str| cell(&value["risk_acceptance"][field]);
                    listing
                        .columns
                        .extend(["accepted_by", "accept_reason", "accept_expires", "rows", "events"].map(String::from));
                    row.extend([acceptance("approver"), acceptance("reason"), acceptance("expires")]);
                    row.push(json!(f.rows.iter().map(|(_, k)| visible(&k.shown())).collect::<Vec<_>>()));
                    row.push(json!(events.len()));
                    listing.push(row);
                    listing.print(Format::Csv)?;
                    return Ok(0);
                }
                Format::Table => {}
            }
            say!("{} — {} [{}]", f.id, visible(&f.title), f.severity.as_str());
            say!("  audit {}, control {}, owner {}", f.audit, f.control, f.owner);
            if let Some(system) = &f.system {
                say!("  system {}", visible(system));
            }
            if let Some(slot) = &f.slot {
                say!("  missed occurrence {}", visible(slot));
            }
            let overdue = if is_overdue(f.status, f.due, today) { " (overdue)" } else { "" };
            say!(
                "  status {}{}; due {}{overdue}",
                f.status.as_str(),
                if f.regression { ", regression" } else { "" },
                f.due.map_or("—".into(), |d| d.to_string())
            );
            if !f.description.is_empty() {
                say!("  {}", visible(&f.description));
            }
            for (sample, key) in &f.rows {
                say!("  row {} (sample {sample})", visible(&key.shown()));
            }
            for r in &f.population_rows {
                say!(
                    "  row {} (population of sample {}, {}; not sampled)",
                    visible(&r.key.shown()),
                    r.sample_id,
                    visible(&r.spec)
                );
            }
            say!("  history:");
            for e in &events {
                say!(
                    "    {}  {:<10} {} → {}  {}",
                    e.at.split('.').next().unwrap_or_default(),
                    e.actor,
                    e.from.map_or("—", FindingStatus::as_str),
                    e.to,
                    visible(e.note.as_deref().unwrap_or(""))
                );
            }
            Ok(0)
        }
        FindingsCommand::Set { id, status: to, owner, due, severity: sev, note, approver, reason, expires } => {
            let acceptance = match (approver, reason, expires) {
                (None, None, None) => None,
                (Some(approver), Some(reason), Some(expires)) => {
                    Some(Acceptance { approver: approver.clone(), reason: reason.clone(), expires: *expires })
                }
                _ => return Err(BadInput("risk acceptance needs --approver, --reason and --expires".into()).into()),
            };
            let change =
                Change { status: *to, owner: owner.clone(), due: *due, severity: *sev, acceptance, note: note.clone() };
            let f = findings::set(&ws, id, &change, today)?;
            say!("{}: {}", f.id, f.status.as_str());
            Ok(0)
        }
    }
}
