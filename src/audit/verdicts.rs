//! Verdicts on sampled rows (pass / exception / n/a with a note), each
//! control's result in an audit, and its exception rate.

use std::collections::BTreeMap;

use duckdb::Connection;
use serde_json::json;

use super::AuditError;
use super::record::{self, Audit};
use super::sampling::key::find_sampled_row;
use crate::workspace::action_log;
use crate::workspace::{Workspace, actor, optional};

crate::vocabulary::vocabulary! {
    /// The operator's verdict on one sampled row.
    pub enum Verdict {
        Pass = "pass",
        Exception = "exception",
        NotApplicable = "na" | "n/a",
    }
}

/// Records the operator's verdict on one sampled row of a control.
pub fn record(
    ws: &Workspace,
    label: &str,
    control: &str,
    key: &str,
    verdict: Verdict,
    note: Option<&str>,
) -> Result<(), AuditError> {
    ws.ensure_writable("recording a verdict")?;
    let audit = record::open_for_change(ws, label)?;
    if !audit.controls.iter().any(|c| c == control) {
        return Err(AuditError::NotInScope { audit: label.to_string(), control: control.to_string() });
    }
    let (sample_id, key) = find_sampled_row(&ws.conn, label, control, key)?;
    // An automatic test that failed or was inconclusive is never silently
    // overridden: a pass over it needs the operator's reason.
    let tests: String = ws.conn.query_row(
        "SELECT tests FROM qd.sample_rows WHERE sample_id = ? AND key = ?",
        duckdb::params![sample_id, key.as_str()],
        |r| r.get(0),
    )?;
    let not_passing = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&tests)
        .map(|m| m.into_iter().filter(|(_, v)| v.as_bool() != Some(true)).map(|(k, _)| k).collect::<Vec<_>>())
        .unwrap_or_default();
    if verdict == Verdict::Pass && !not_passing.is_empty() && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(AuditError::PassNeedsNote { key: key.shown(), tests: not_passing.join(", ") });
    }
    action_log::change(ws, || -> Result<(), AuditError> {
        ws.conn.execute(
            "INSERT INTO qd.verdicts VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMP), ?)",
            duckdb::params![sample_id, key.as_str(), verdict.as_str(), note, ws.now_text(), actor()],
        )?;
        action_log::append(
            ws,
            "verdict",
            json!({"audit": label, "control": control, "sample_id": sample_id, "key": key,
                   "verdict": verdict.as_str(), "note": note}),
        )?;
        Ok(())
    })
}

crate::vocabulary::vocabulary! {
    /// A control's result in an audit.
    pub enum ControlResult {
        Effective = "effective",
        ExceptionsNoted = "exceptions noted",
        NotTested = "not tested",
    }
}

#[derive(Debug, Clone)]
pub struct ControlOutcome {
    pub control: String,
    pub result: ControlResult,
    pub sampled: u64,
    pub passed: u64,
    pub exceptions: u64,
    pub not_applicable: u64,
    pub undecided: u64,
    /// Expected occurrences whose window closed without a row.
    pub missed: u64,
}

/// Each in-scope control's result: exceptions noted if any verdict is an
/// exception or an expected occurrence was missed; effective when every
/// sampled row has a verdict and one passed; otherwise not tested.
pub fn control_results(conn: &Connection, audit: &Audit) -> duckdb::Result<Vec<ControlOutcome>> {
    let mut stmt = conn.prepare(
        "WITH latest AS (
             SELECT * FROM qd.verdicts QUALIFY row_number() OVER (PARTITION BY sample_id, key ORDER BY decided_at DESC, rowid DESC) = 1)
         SELECT s.control, count(r.key), count(*) FILTER (WHERE v.verdict = 'pass'),
                count(*) FILTER (WHERE v.verdict = 'exception'), count(*) FILTER (WHERE v.verdict = 'na'),
                count(r.key) - count(v.verdict)
         FROM qd.samples s LEFT JOIN qd.sample_rows r USING (sample_id)
              LEFT JOIN latest v ON v.sample_id = r.sample_id AND v.key = r.key
         WHERE s.audit = ? AND s.current GROUP BY s.control",
    )?;
    let counts: BTreeMap<String, [u64; 5]> = stmt
        .query_map([&audit.label], |r| {
            Ok((r.get::<_, String>(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?]))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT control, count(*) FROM qd.occurrences WHERE audit = ? AND state = 'missed' GROUP BY control",
    )?;
    let missed: BTreeMap<String, u64> =
        stmt.query_map([&audit.label], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(audit
        .controls
        .iter()
        .map(|control| {
            let [sampled, passed, exceptions, not_applicable, undecided] =
                counts.get(control).copied().unwrap_or_default();
            let missed = missed.get(control).copied().unwrap_or(0);
            let result = if exceptions > 0 || missed > 0 {
                ControlResult::ExceptionsNoted
            } else if sampled > 0 && undecided == 0 && passed > 0 {
                ControlResult::Effective
            } else {
                ControlResult::NotTested
            };
            ControlOutcome {
                control: control.clone(),
                result,
                sampled,
                passed,
                exceptions,
                not_applicable,
                undecided,
                missed,
            }
        })
        .collect())
}

/// Exceptions per sampled row decided, for comparing audits.
pub fn exception_rate(conn: &Connection, label: &str) -> duckdb::Result<Option<f64>> {
    let counts: Option<(i64, i64)> = optional(conn.query_row(
        "WITH latest AS (
             SELECT * FROM qd.verdicts QUALIFY row_number() OVER (PARTITION BY sample_id, key ORDER BY decided_at DESC, rowid DESC) = 1)
         SELECT count(*) FILTER (WHERE v.verdict = 'exception'), count(*) FILTER (WHERE v.verdict IN ('pass', 'exception'))
         FROM qd.samples s JOIN latest v USING (sample_id) WHERE s.audit = ? AND s.current",
        [label],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?;
    Ok(counts.and_then(|(e, n)| (n > 0).then(|| e as f64 / n as f64)))
}
