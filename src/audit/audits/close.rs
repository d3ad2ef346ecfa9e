//! Closing an audit: retests settle findings, then nothing in it can change.

use serde_json::json;

use crate::audit::record::{AuditStatus, open_for_change};
use crate::audit::verdicts::{ControlOutcome, ControlResult, control_results};
use crate::audit::{AuditError, findings};
use crate::workspace::Workspace;
use crate::workspace::action_log;

/// What closing an audit settled.
#[derive(Debug, Clone)]
pub struct Closed {
    pub results: Vec<ControlOutcome>,
    pub closed_findings: Vec<String>,
    pub regressions: Vec<String>,
}

/// Closes an audit: retests settle, then nothing in it can change.
pub fn close(ws: &Workspace, label: &str) -> Result<Closed, AuditError> {
    ws.ensure_writable("closing an audit")?;
    let audit = open_for_change(ws, label)?;
    let results = control_results(&ws.conn, &audit)?;
    action_log::change(ws, || -> Result<Closed, AuditError> {
        let mut closed = Closed { results: results.clone(), closed_findings: Vec::new(), regressions: Vec::new() };
        for outcome in &results {
            match outcome.result {
                ControlResult::Effective => {
                    closed.closed_findings.extend(findings::settle_retest(ws, label, &outcome.control, true)?)
                }
                ControlResult::ExceptionsNoted => {
                    closed.regressions.extend(findings::settle_retest(ws, label, &outcome.control, false)?)
                }
                ControlResult::NotTested => {}
            }
        }
        ws.conn.execute(
            "UPDATE qd.audits SET status = 'closed', closed_at = CAST(? AS TIMESTAMP) WHERE label = ?",
            [ws.now_text(), label.to_string()],
        )?;
        action_log::append(
            ws,
            "audit.close",
            json!({"audit": label, "from": AuditStatus::Fieldwork.as_str(), "to": AuditStatus::Closed.as_str(),
                   "results": results.iter().map(|r| json!({"control": r.control, "result": r.result.as_str()})).collect::<Vec<_>>(),
                   "closed_findings": closed.closed_findings, "regressions": closed.regressions}),
        )?;
        Ok(closed)
    })
}
