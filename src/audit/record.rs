//! An audit as stored: its label, period, seed, scope, mapping version and
//! status, read back whole. Everything that works on audits (starting,
//! sampling, verdicts, findings, closing, the summary) reads them here.

use duckdb::Connection;

use super::AuditError;
use crate::workspace::period::Period;
use crate::workspace::stored::At;
use crate::workspace::{Workspace, optional};

crate::vocabulary::vocabulary! {
    /// Where an audit stands: planned, in fieldwork, or closed for good.
    pub enum AuditStatus {
        Planned = "planned",
        Fieldwork = "fieldwork",
        Closed = "closed",
    }
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub label: String,
    /// The audit's period, its local dates in the workspace's zone.
    pub period: Period,
    pub seed: String,
    pub status: AuditStatus,
    pub mapping_version: String,
    pub controls: Vec<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
}

/// An audit that may still change, or the reason it may not.
pub fn open_for_change(ws: &Workspace, label: &str) -> Result<Audit, AuditError> {
    let audit = load(ws, label)?.ok_or_else(|| AuditError::UnknownAudit(label.to_string()))?;
    if audit.status == AuditStatus::Closed {
        return Err(AuditError::Closed(label.to_string()));
    }
    Ok(audit)
}

/// The audit with this label, its period in the workspace's zone.
pub fn load(ws: &Workspace, label: &str) -> duckdb::Result<Option<Audit>> {
    let tz = ws.config.timezone;
    optional(ws.conn.query_row(&format!("{SELECT_AUDIT} WHERE label = ?"), [label], |r| audit_of_row(r, tz)))
}

/// Every audit, by period start (then creation).
pub fn list(ws: &Workspace) -> duckdb::Result<Vec<Audit>> {
    let tz = ws.config.timezone;
    let mut stmt = ws.conn.prepare(&format!("{SELECT_AUDIT} ORDER BY period_start, created_at, rowid"))?;
    stmt.query_map([], |r| audit_of_row(r, tz))?.collect()
}

const SELECT_AUDIT: &str =
    "SELECT label, period_label, CAST(period_start AS VARCHAR), CAST(period_end AS VARCHAR), seed,
        status, mapping_version, controls, CAST(created_at AS VARCHAR), CAST(closed_at AS VARCHAR) FROM qd.audits";

fn audit_of_row(r: &duckdb::Row<'_>, tz: chrono_tz::Tz) -> duckdb::Result<Audit> {
    let label: String = r.get(0)?;
    let at = At { table: "qd.audits", row: &label };
    let start = at.utc(2, "period_start", &r.get::<_, String>(2)?)?;
    let end = at.utc(3, "period_end", &r.get::<_, String>(3)?)?;
    Ok(Audit {
        period: Period::of_instants(r.get(1)?, start, end, tz),
        seed: r.get(4)?,
        status: at.word(5, "status", &r.get::<_, String>(5)?)?,
        mapping_version: r.get(6)?,
        controls: at.json(7, "controls", &r.get::<_, String>(7)?)?,
        created_at: r.get(8)?,
        closed_at: r.get(9)?,
        label,
    })
}

/// The current samples of an audit: (sample id, control, spec).
pub fn sample_ids(conn: &Connection, label: &str) -> duckdb::Result<Vec<(i64, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT sample_id, control, spec FROM qd.samples WHERE audit = ? AND current ORDER BY control, spec",
    )?;
    stmt.query_map([label], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
}

/// The audit the work is in: the latest not yet closed, else the latest of
/// all (an index into `list`, which is in the order `list` returns).
pub fn current(list: &[Audit]) -> Option<usize> {
    list.iter().rposition(|a| a.status != AuditStatus::Closed).or_else(|| list.len().checked_sub(1))
}

/// The period the work is in: the current audit's, else the last full
/// quarter before `today`.
pub fn working_period(list: &[Audit], today: chrono::NaiveDate, tz: chrono_tz::Tz) -> Result<Period, AuditError> {
    Ok(match current(list) {
        Some(i) => list[i].period.clone(),
        None => Period::last_full_quarter(today, tz)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_audit_that_does_not_parse_is_an_error_naming_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let ws = crate::workspace::init::init(&dir.path().join("ws")).unwrap();
        let insert = |label: &str, status: &str, controls: &str| {
            ws.conn
                .execute(
                    "INSERT INTO qd.audits VALUES (?, 'Q', TIMESTAMP '2026-07-01', TIMESTAMP '2026-10-01', 's', ?, 'v', ?,
                     TIMESTAMP '2026-07-02', 'me', NULL)",
                    duckdb::params![label, status, controls],
                )
                .unwrap();
        };
        insert("good", "fieldwork", "[\"AC-1\"]");
        assert_eq!(list(&ws).unwrap()[0].status, AuditStatus::Fieldwork);
        insert("bad-status", "finished", "[]");
        let err = load(&ws, "bad-status").unwrap_err().to_string();
        assert!(
            err.contains(
                "qd.audits row `bad-status`: status `finished` cannot be read: expected planned, fieldwork or closed"
            ),
            "{err}"
        );
        insert("bad-scope", "planned", "AC-1");
        let err = load(&ws, "bad-scope").unwrap_err().to_string();
        assert!(err.contains("qd.audits row `bad-scope`: controls `AC-1` cannot be read"), "{err}");
        // A listing that meets one is refused whole, never shortened.
        assert!(list(&ws).is_err());
    }
}
