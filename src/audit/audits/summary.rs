//! The audit read model: progress, each control's result, findings opened
//! and closed, and the exception rate against the previous audit. The CLI
//! (`audit list`, `audit show`), the TUI and the packet read audits through
//! it, so each number has one definition.

use duckdb::Connection;

use crate::audit::findings::Finding;
use crate::audit::record::{Audit, list};
use crate::audit::verdicts::{ControlOutcome, control_results, exception_rate};
use crate::audit::{AuditError, findings};
use crate::workspace::Workspace;

/// The audit before another: the latest whose period starts earlier.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousAudit {
    pub label: String,
    pub exception_rate: Option<f64>,
}

/// An audit with its results.
#[derive(Debug, Clone)]
pub struct AuditSummary {
    pub audit: Audit,
    pub results: Vec<ControlOutcome>,
    /// Sampled rows, and those with a verdict.
    pub sampled: u64,
    pub decided: u64,
    pub exceptions: u64,
    /// Exceptions per row decided pass or exception; None before any.
    pub exception_rate: Option<f64>,
    pub previous: Option<PreviousAudit>,
    /// Ids of the findings filed in this audit.
    pub findings_opened: Vec<String>,
    /// Ids of the findings this audit's retests closed.
    pub findings_closed: Vec<String>,
    /// Ids of regressed findings on this audit's controls.
    pub regressions: Vec<String>,
}

/// Every audit, oldest first, each summarised against the findings given
/// (read them once with `findings::list`).
pub fn summaries(ws: &Workspace, all_findings: &[Finding]) -> Result<Vec<AuditSummary>, AuditError> {
    let conn = &ws.conn;
    let audits = list(ws)?;
    let mut rates = Vec::with_capacity(audits.len());
    for audit in &audits {
        rates.push(exception_rate(conn, &audit.label)?);
    }
    let mut out = Vec::with_capacity(audits.len());
    for (i, audit) in audits.iter().enumerate() {
        let previous =
            previous_of(&audits, i).map(|j| PreviousAudit { label: audits[j].label.clone(), exception_rate: rates[j] });
        out.push(summarize(conn, audit.clone(), rates[i], previous, all_findings)?);
    }
    Ok(out)
}

/// One audit's summary; only it and the audit before it are read.
pub fn summary(ws: &Workspace, label: &str) -> Result<AuditSummary, AuditError> {
    let conn = &ws.conn;
    let audits = list(ws)?;
    let i = audits.iter().position(|a| a.label == label).ok_or_else(|| AuditError::UnknownAudit(label.to_string()))?;
    let previous = match previous_of(&audits, i) {
        Some(j) => Some(PreviousAudit {
            label: audits[j].label.clone(),
            exception_rate: exception_rate(conn, &audits[j].label)?,
        }),
        None => None,
    };
    let all_findings = findings::list(conn)?;
    summarize(conn, audits[i].clone(), exception_rate(conn, label)?, previous, &all_findings)
}

/// The audit before `audits[i]`: the latest whose period starts earlier.
fn previous_of(audits: &[Audit], i: usize) -> Option<usize> {
    audits.iter().rposition(|a| a.period.start < audits[i].period.start)
}

fn summarize(
    conn: &Connection,
    audit: Audit,
    exception_rate: Option<f64>,
    previous: Option<PreviousAudit>,
    all_findings: &[Finding],
) -> Result<AuditSummary, AuditError> {
    let results = control_results(conn, &audit)?;
    let sampled = results.iter().map(|r| r.sampled).sum::<u64>();
    let undecided = results.iter().map(|r| r.undecided).sum::<u64>();
    let ids = |keep: &dyn Fn(&Finding) -> bool| all_findings.iter().filter(|f| keep(f)).map(|f| f.id.clone()).collect();
    Ok(AuditSummary {
        sampled,
        decided: sampled - undecided,
        exceptions: results.iter().map(|r| r.exceptions).sum(),
        exception_rate,
        previous,
        findings_opened: ids(&|f| f.audit == audit.label),
        findings_closed: ids(&|f| f.closed_in.as_deref() == Some(audit.label.as_str())),
        regressions: ids(&|f| f.regression && audit.controls.contains(&f.control)),
        results,
        audit,
    })
}
