//! Findings: gaps with severity, owner, due date and a status that moves
//! only along the lifecycle (lifecycle.rs). Every change is a remediation
//! event and an action-log entry, written in one transaction.

use chrono::NaiveDate;
use duckdb::Connection;
use serde_json::{Value as Json, json};

use super::lifecycle::{Acceptance, FindingStatus, Mover, Severity, acceptance_expired, check_transition, finding_id};
use super::population_rows::{PopulationRow, find_population_rows};
use super::sampling::key::{SampleKey, find_sampled_row};
use super::{AuditError, record};
use crate::workspace::action_log;
use crate::workspace::stored::At;
use crate::workspace::{Workspace, actor, optional};

#[derive(Debug, Clone)]
pub struct Finding {
    pub id: String,
    pub audit: String,
    pub control: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub owner: String,
    pub due: Option<NaiveDate>,
    pub status: FindingStatus,
    pub regression: bool,
    pub approver: Option<String>,
    pub accept_reason: Option<String>,
    pub accept_expires: Option<NaiveDate>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub closed_in: Option<String>,
    /// The system it is about (a drift line of the inventory).
    pub system: Option<String>,
    /// The missed expected occurrence it is about (`2026-Q3 | postgres-orders`).
    pub slot: Option<String>,
    /// Linked sample rows: (sample id, key).
    pub rows: Vec<(i64, SampleKey)>,
    /// Linked rows of the population that no sample drew.
    pub population_rows: Vec<PopulationRow>,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub at: String,
    pub actor: String,
    pub from: Option<FindingStatus>,
    pub to: FindingStatus,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewFinding {
    pub audit: String,
    pub control: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub owner: String,
    pub due: Option<NaiveDate>,
    /// Keys of rows of this control in this audit: sampled rows, else rows
    /// of the population a sample was drawn from (a failing row that `test`
    /// found, say).
    pub rows: Vec<String>,
    /// The system it names: an inventory id, or one the evidence shows
    /// that the inventory lacks.
    pub system: Option<String>,
    /// A slot of this control that the audit found missed.
    pub slot: Option<String>,
}

/// Opens a finding in an audit still in fieldwork.
pub fn add(ws: &Workspace, new: &NewFinding) -> Result<Finding, AuditError> {
    ws.ensure_writable("adding a finding")?;
    let audit = record::open_for_change(ws, &new.audit)?;
    if !audit.controls.contains(&new.control) {
        return Err(AuditError::NotInScope { audit: audit.label, control: new.control.clone() });
    }
    let (mut rows, mut population_rows) = (Vec::new(), Vec::new());
    for key in &new.rows {
        // A row named twice is linked once.
        match find_sampled_row(&ws.conn, &new.audit, &new.control, key) {
            Ok(sampled) if !rows.contains(&sampled) => rows.push(sampled),
            Ok(_) => {}
            Err(AuditError::NotSampled { .. }) => {
                for found in find_population_rows(ws, &new.audit, &new.control, key)? {
                    if !population_rows
                        .iter()
                        .any(|r: &PopulationRow| (r.sample_id, &r.key) == (found.sample_id, &found.key))
                    {
                        population_rows.push(found);
                    }
                }
            }
            Err(other) => return Err(other),
        }
    }
    if let Some(system) = &new.system
        && (system.trim().is_empty() || system.chars().any(char::is_control))
    {
        return Err(AuditError::Refused(format!(
            "system `{}`: give a system id, without control characters",
            crate::text::visible(system)
        )));
    }
    let slot = match &new.slot {
        Some(named) => Some(super::occurrences::find_missed(&ws.conn, &new.audit, &new.control, named)?),
        None => None,
    };
    let count: i64 =
        ws.conn.query_row("SELECT count(*) FROM qd.findings WHERE audit = ?", [&new.audit], |r| r.get(0))?;
    let id = finding_id(&new.audit, count as u32 + 1);
    action_log::change(ws, || -> Result<(), AuditError> {
        ws.conn.execute(
            "INSERT INTO qd.findings VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS DATE), 'open', false, NULL, NULL, NULL,
                     CAST(? AS TIMESTAMP), NULL, ?, ?)",
            duckdb::params![
                id,
                new.audit,
                new.control,
                new.title,
                new.description,
                new.severity.as_str(),
                new.owner,
                new.due.map(|d| d.to_string()),
                ws.now_text(),
                new.system,
                slot
            ],
        )?;
        for (sample_id, key) in &rows {
            ws.conn.execute(
                "INSERT INTO qd.finding_rows VALUES (?, ?, ?)",
                duckdb::params![id, sample_id, key.as_str()],
            )?;
        }
        for linked in &population_rows {
            ws.conn.execute(
                "INSERT INTO qd.finding_population_rows VALUES (?, ?, ?, ?, ?)",
                duckdb::params![
                    id,
                    linked.sample_id,
                    linked.spec,
                    linked.key.as_str(),
                    Json::Object(linked.row.clone()).to_string()
                ],
            )?;
        }
        event(ws, &id, None, FindingStatus::Open, Some("opened"))?;
        action_log::append(
            ws,
            "finding.add",
            json!({"id": id, "audit": new.audit, "control": new.control, "title": new.title,
                   "severity": new.severity.as_str(), "owner": new.owner, "due": new.due.map(|d| d.to_string()),
                   "system": new.system, "slot": slot,
                   "rows": rows.iter().map(|(s, k)| json!({"sample_id": s, "key": k})).collect::<Vec<_>>(),
                   "population_rows": population_rows.iter()
                       .map(|r| json!({"sample_id": r.sample_id, "spec": r.spec, "key": r.key}))
                       .collect::<Vec<_>>()}),
        )?;
        Ok(())
    })?;
    load(&ws.conn, &id)?.ok_or_else(|| AuditError::UnknownFinding(id))
}

/// What `findings set` may change.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub status: Option<FindingStatus>,
    pub owner: Option<String>,
    pub due: Option<NaiveDate>,
    pub severity: Option<Severity>,
    pub acceptance: Option<Acceptance>,
    pub note: Option<String>,
}

pub fn set(ws: &Workspace, id: &str, change: &Change, today: NaiveDate) -> Result<Finding, AuditError> {
    ws.ensure_writable("changing a finding")?;
    let finding = load(&ws.conn, id)?.ok_or_else(|| AuditError::UnknownFinding(id.to_string()))?;
    if let Some(to) = change.status {
        check_transition(id, finding.status, to, Mover::Operator, change.acceptance.as_ref(), today)?;
    }
    action_log::change(ws, || -> Result<(), AuditError> {
        if let Some(owner) = &change.owner {
            ws.conn.execute("UPDATE qd.findings SET owner = ? WHERE id = ?", [owner, id])?;
        }
        if let Some(due) = change.due {
            ws.conn
                .execute("UPDATE qd.findings SET due = CAST(? AS DATE) WHERE id = ?", [due.to_string(), id.into()])?;
        }
        if let Some(severity) = change.severity {
            ws.conn.execute("UPDATE qd.findings SET severity = ? WHERE id = ?", [severity.as_str(), id])?;
        }
        if let Some(to) = change.status {
            let (approver, reason, expires) = match (&change.acceptance, to) {
                (Some(a), FindingStatus::RiskAccepted) => {
                    (Some(a.approver.clone()), Some(a.reason.clone()), Some(a.expires.to_string()))
                }
                _ => (None, None, None),
            };
            ws.conn.execute(
                "UPDATE qd.findings SET status = ?, approver = ?, accept_reason = ?, accept_expires = CAST(? AS DATE)
                 WHERE id = ?",
                duckdb::params![to.as_str(), approver, reason, expires, id],
            )?;
            event(ws, id, Some(finding.status), to, change.note.as_deref())?;
        } else if change.note.is_some() {
            event(ws, id, Some(finding.status), finding.status, change.note.as_deref())?;
        }
        action_log::append(
            ws,
            "finding.set",
            json!({"id": id, "from": finding.status.as_str(), "status": change.status.map(|s| s.as_str()),
                   "owner": change.owner, "due": change.due.map(|d| d.to_string()),
                   "severity": change.severity.map(|s| s.as_str()), "note": change.note,
                   "acceptance": change.acceptance.as_ref().map(|a| json!({"approver": a.approver, "reason": a.reason,
                                                                           "expires": a.expires.to_string()}))}),
        )?;
        Ok(())
    })?;
    load(&ws.conn, id)?.ok_or_else(|| AuditError::UnknownFinding(id.to_string()))
}

/// The status a reader sees today: an accepted risk past its expiry reads
/// as open even before a write (`reopen_expired`) records the reopening.
pub fn effective_status(finding: &Finding, today: NaiveDate) -> FindingStatus {
    match acceptance_expired(finding.status, finding.accept_expires, today) {
        true => FindingStatus::Open,
        false => finding.status,
    }
}

/// Accepted risks past their expiry go back to open; returns their ids.
pub fn reopen_expired(ws: &Workspace, today: NaiveDate) -> Result<Vec<String>, AuditError> {
    let expired: Vec<String> = list(&ws.conn)?
        .into_iter()
        .filter(|f| acceptance_expired(f.status, f.accept_expires, today))
        .map(|f| f.id)
        .collect();
    if expired.is_empty() || ws.ensure_writable("reopening expired acceptances").is_err() {
        return Ok(Vec::new());
    }
    action_log::change(ws, || -> Result<(), AuditError> {
        for id in &expired {
            ws.conn.execute("UPDATE qd.findings SET status = 'open' WHERE id = ?", [id])?;
            event(ws, id, Some(FindingStatus::RiskAccepted), FindingStatus::Open, Some("risk acceptance expired"))?;
            action_log::append(ws, "finding.acceptance_expired", json!({"id": id, "today": today.to_string()}))?;
        }
        Ok(())
    })?;
    Ok(expired)
}

/// Settles a control's retest in audit `label`: findings of earlier audits
/// that were ready for retest close when it passed, and reopen as
/// regressions when it did not. Call inside the audit's closing transaction.
pub fn settle_retest(ws: &Workspace, label: &str, control: &str, passed: bool) -> Result<Vec<String>, AuditError> {
    let conn = &ws.conn;
    let waiting: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT id FROM qd.findings WHERE control = ? AND audit <> ? AND status = 'ready-for-retest' ORDER BY id",
        )?;
        stmt.query_map([control, label], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    for id in &waiting {
        let to = if passed { FindingStatus::Closed } else { FindingStatus::Open };
        check_transition(id, FindingStatus::ReadyForRetest, to, Mover::Retest, None, ws.today())?;
        if passed {
            conn.execute("UPDATE qd.findings SET status = 'closed', closed_in = ? WHERE id = ?", [label, id])?;
        } else {
            conn.execute("UPDATE qd.findings SET status = 'open', regression = true WHERE id = ?", [id])?;
        }
        let note =
            if passed { format!("retest in {label} passed") } else { format!("retest in {label} failed: regression") };
        event(ws, id, Some(FindingStatus::ReadyForRetest), to, Some(&note))?;
        action_log::append(
            ws,
            "finding.retest",
            json!({"id": id, "audit": label, "control": control, "passed": passed}),
        )?;
    }
    Ok(waiting)
}

fn event(
    ws: &Workspace,
    id: &str,
    from: Option<FindingStatus>,
    to: FindingStatus,
    note: Option<&str>,
) -> duckdb::Result<usize> {
    ws.conn.execute(
        "INSERT INTO qd.finding_events VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, ?)",
        duckdb::params![id, ws.now_text(), actor(), from.map(|f| f.as_str()), to.as_str(), note],
    )
}

pub fn load(conn: &Connection, id: &str) -> duckdb::Result<Option<Finding>> {
    let finding = optional(conn.query_row(&format!("{SELECT_FINDING} WHERE id = ?"), [id], finding_of_row))?;
    let mut found: Vec<Finding> = finding.into_iter().collect();
    attach_rows(conn, &mut found, Some(id))?;
    Ok(found.pop())
}

/// Every finding, oldest first, each with its linked rows.
pub fn list(conn: &Connection) -> duckdb::Result<Vec<Finding>> {
    let mut stmt = conn.prepare(&format!("{SELECT_FINDING} ORDER BY created_at, id"))?;
    let mut findings: Vec<Finding> = stmt.query_map([], finding_of_row)?.collect::<Result<_, _>>()?;
    attach_rows(conn, &mut findings, None)?;
    Ok(findings)
}

/// The sampled and population rows the findings link (those of `only`, or
/// of every finding), in two queries whatever the number of findings.
fn attach_rows(conn: &Connection, findings: &mut [Finding], only: Option<&str>) -> duckdb::Result<()> {
    let mut by_id: std::collections::HashMap<String, &mut Finding> =
        findings.iter_mut().map(|f| (f.id.clone(), f)).collect();
    if by_id.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare(
        "SELECT finding_id, sample_id, key FROM qd.finding_rows WHERE ? IS NULL OR finding_id = ?
         ORDER BY finding_id, sample_id, key",
    )?;
    let mut rows = stmt.query(duckdb::params![only, only])?;
    while let Some(r) = rows.next()? {
        if let Some(f) = by_id.get_mut(&r.get::<_, String>(0)?) {
            f.rows.push((r.get(1)?, SampleKey::canonical(r.get::<_, String>(2)?)));
        }
    }
    let mut stmt = conn.prepare(
        "SELECT finding_id, sample_id, spec, key, row_json FROM qd.finding_population_rows
         WHERE ? IS NULL OR finding_id = ? ORDER BY finding_id, sample_id, key",
    )?;
    let mut rows = stmt.query(duckdb::params![only, only])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let Some(f) = by_id.get_mut(&id) else { continue };
        let row = format!("{id} (population row)");
        let at = At { table: "qd.finding_population_rows", row: &row };
        f.population_rows.push(PopulationRow {
            sample_id: r.get(1)?,
            spec: r.get(2)?,
            key: SampleKey::canonical(r.get::<_, String>(3)?),
            row: at.json(4, "row_json", &r.get::<_, String>(4)?)?,
        });
    }
    Ok(())
}

/// A finding whole, as `findings show --format json` and the packet give
/// it: its fields, its status as of `today`, linked rows and history.
pub fn to_json(f: &Finding, events: &[Event], today: NaiveDate) -> Json {
    json!({
        "id": f.id, "audit": f.audit, "control": f.control, "title": f.title, "description": f.description,
        "severity": f.severity.as_str(), "owner": f.owner, "due": f.due.map(|d| d.to_string()),
        "status": effective_status(f, today).as_str(),
        "overdue": super::lifecycle::is_overdue(f.status, f.due, today), "regression": f.regression,
        "risk_acceptance": f.approver.as_ref().map(|a| json!({"approver": a, "reason": f.accept_reason,
            "expires": f.accept_expires.map(|d| d.to_string())})),
        "closed_in": f.closed_in,
        "system": f.system,
        "slot": f.slot,
        "rows": f.rows.iter().map(|(s, k)| json!({"sample_id": s, "key": k})).collect::<Vec<_>>(),
        "population_rows": f.population_rows.iter()
            .map(|r| json!({"sample_id": r.sample_id, "spec": r.spec, "key": r.key, "row": r.row}))
            .collect::<Vec<_>>(),
        "events": events.iter()
            .map(|e| json!({"at": e.at, "actor": e.actor, "from": e.from, "to": e.to, "note": e.note}))
            .collect::<Vec<_>>(),
    })
}

pub fn events(conn: &Connection, id: &str) -> duckdb::Result<Vec<Event>> {
    let mut stmt = conn.prepare(
        "SELECT CAST(event_at AS VARCHAR), actor, from_status, to_status, note FROM qd.finding_events
         WHERE finding_id = ? ORDER BY event_at, rowid",
    )?;
    stmt.query_map([id], |r| {
        let at: String = r.get(0)?;
        let row = format!("{id} at {at}");
        let stored = At { table: "qd.finding_events", row: &row };
        let from = match r.get::<_, Option<String>>(2)? {
            Some(text) => Some(stored.word(2, "from_status", &text)?),
            None => None,
        };
        let to = stored.word(3, "to_status", &r.get::<_, String>(3)?)?;
        Ok(Event { actor: r.get(1)?, from, to, note: r.get(4)?, at })
    })?
    .collect()
}

const SELECT_FINDING: &str = "SELECT id, audit, control, title, description, severity, owner, CAST(due AS VARCHAR),
        status, regression, approver, accept_reason, CAST(accept_expires AS VARCHAR), CAST(created_at AS VARCHAR),
        closed_in, system, slot FROM qd.findings";

fn finding_of_row(r: &duckdb::Row<'_>) -> duckdb::Result<Finding> {
    let id: String = r.get(0)?;
    let at = At { table: "qd.findings", row: &id };
    let date = |index: usize, field: &'static str| -> duckdb::Result<Option<NaiveDate>> {
        match r.get::<_, Option<String>>(index)? {
            Some(text) => Ok(Some(at.date(index, field, &text)?)),
            None => Ok(None),
        }
    };
    Ok(Finding {
        id: id.clone(),
        audit: r.get(1)?,
        control: r.get(2)?,
        title: r.get(3)?,
        description: r.get(4)?,
        severity: at.word(5, "severity", &r.get::<_, String>(5)?)?,
        owner: r.get(6)?,
        due: date(7, "due")?,
        status: at.word(8, "status", &r.get::<_, String>(8)?)?,
        regression: r.get(9)?,
        approver: r.get(10)?,
        accept_reason: r.get(11)?,
        accept_expires: date(12, "accept_expires")?,
        created_at: at.utc(13, "created_at", &r.get::<_, String>(13)?)?,
        closed_in: r.get(14)?,
        system: r.get(15)?,
        slot: r.get(16)?,
        rows: Vec::new(),
        population_rows: Vec::new(),
    })
}
