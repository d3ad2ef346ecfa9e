//! Audits: a label, a period, a seed, the controls in scope, and a status
//! planned → fieldwork → closed. Starting one draws every in-scope spec's
//! sample; closing one settles its retests. A closed audit refuses changes.

mod close;
mod summary;

pub use close::{Closed, close};
pub use summary::{AuditSummary, PreviousAudit, summaries, summary};

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use duckdb::Connection;
use serde_json::json;

use super::AuditError;
use super::sampling::rank::{rank_hex, sample_seed};
use super::sampling::store;
use super::sampling::{default_size, draw};
use crate::workspace::action_log;
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;
use crate::workspace::stored::At;
use crate::workspace::{Workspace, actor, optional};

crate::vocabulary::vocabulary! {
    /// Where an audit stands: planned, in fieldwork, or closed for good.
    pub enum AuditStatus {
        Planned = "planned",
        Fieldwork = "fieldwork",
        Closed = "closed",
    }
}

/// Which controls an audit covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// N controls drawn at random (seeded), plus every control with an active finding.
    Random(usize),
    Listed(Vec<String>),
}

impl Scope {
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "all" => Self::All,
            t => match t.parse::<usize>() {
                Ok(n) => Self::Random(n),
                Err(_) => Self::Listed(t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub label: String,
    pub period_label: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub seed: String,
    pub status: AuditStatus,
    pub mapping_version: String,
    pub controls: Vec<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
}

impl Audit {
    /// The audit's period, with local dates in the workspace's zone.
    pub fn period(&self, tz: chrono_tz::Tz) -> Period {
        Period {
            label: self.period_label.clone(),
            start: self.period_start,
            end: self.period_end,
            start_date: self.period_start.with_timezone(&tz).date_naive(),
            end_date: self.period_end.with_timezone(&tz).date_naive(),
        }
    }
}

/// What `start` did.
#[derive(Debug, Clone)]
pub struct Started {
    pub audit: Audit,
    pub samples: usize,
    pub carried: Vec<String>,
}

/// Starts an audit: records it and draws every in-scope spec's sample, in one
/// transaction, then moves it to fieldwork.
pub fn start(
    ws: &Workspace,
    mappings: &Mappings,
    label: &str,
    period: &Period,
    scope: &Scope,
    seed: Option<String>,
) -> Result<Started, AuditError> {
    ws.ensure_writable("starting an audit")?;
    if load(&ws.conn, label)?.is_some() {
        return Err(AuditError::AuditExists(label.to_string()));
    }
    let seed = seed.unwrap_or_else(random_seed);
    let carried = controls_with_active_findings(&ws.conn)?;
    let mut controls: Vec<String> = match scope {
        Scope::All => mappings.controls.iter().map(|c| c.id.clone()).collect(),
        Scope::Listed(ids) => {
            for id in ids {
                super::find_control(mappings, id)?;
            }
            ids.clone()
        }
        Scope::Random(n) => {
            let mut ranked: Vec<(String, &str)> =
                mappings.controls.iter().map(|c| (rank_hex(&seed, &c.id), c.id.as_str())).collect();
            ranked.sort();
            ranked.into_iter().take(*n).map(|(_, id)| id.to_string()).collect()
        }
    };
    let chosen: BTreeSet<String> = controls.iter().cloned().collect();
    let carried: Vec<String> =
        carried.into_iter().filter(|c| !chosen.contains(c) && mappings.control(c).is_some()).collect();
    controls.extend(carried.iter().cloned());
    let audit = Audit {
        label: label.to_string(),
        period_label: period.label.clone(),
        period_start: period.start,
        period_end: period.end,
        seed: seed.clone(),
        status: AuditStatus::Fieldwork,
        mapping_version: mappings.version.clone(),
        controls: controls.clone(),
        created_at: ws.now_text(),
        closed_at: None,
    };
    let mut drawn = Vec::new();
    for id in &controls {
        let control = super::find_control(mappings, id)?;
        for spec in &control.evidence {
            let n = default_size(ws, control, spec);
            drawn.push(draw(ws, control, spec, period, &sample_seed(&seed, &control.id, &spec.name), n)?);
        }
    }
    action_log::change(ws, || -> Result<(), AuditError> {
        ws.conn.execute(
            "INSERT INTO qd.audits VALUES (?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), ?, 'planned', ?, ?,
                     CAST(? AS TIMESTAMP), ?, NULL)",
            duckdb::params![
                audit.label,
                audit.period_label,
                audit.period_start.naive_utc().to_string(),
                audit.period_end.naive_utc().to_string(),
                audit.seed,
                audit.mapping_version,
                serde_json::to_string(&audit.controls).unwrap_or_default(),
                audit.created_at,
                actor()
            ],
        )?;
        action_log::append(
            ws,
            "audit.start",
            json!({"audit": label, "period": period.label, "start": period.start.to_rfc3339(), "end": period.end.to_rfc3339(),
                   "seed": seed, "controls": controls, "carried": carried, "mapping_version": mappings.version}),
        )?;
        for sample in &drawn {
            let id = store::store(ws, Some(label), sample, None)?;
            action_log::append(
                ws,
                "sample.draw",
                json!({"audit": label, "control": sample.control, "spec": sample.spec, "sample_id": id,
                       "population_count": sample.population_count, "fingerprint": sample.fingerprint,
                       "size": sample.size, "seed": sample.seed,
                       "rows_sha256": super::replay::rows_digest(&ws.conn, id)?}),
            )?;
        }
        ws.conn.execute("UPDATE qd.audits SET status = 'fieldwork' WHERE label = ?", [label])?;
        action_log::append(ws, "audit.status", json!({"audit": label, "from": "planned", "to": "fieldwork"}))?;
        Ok(())
    })?;
    Ok(Started { audit, samples: drawn.len(), carried })
}

/// An audit that may still change, or the reason it may not.
pub fn open_for_change(conn: &Connection, label: &str) -> Result<Audit, AuditError> {
    let audit = load(conn, label)?.ok_or_else(|| AuditError::UnknownAudit(label.to_string()))?;
    if audit.status == AuditStatus::Closed {
        return Err(AuditError::Closed(label.to_string()));
    }
    Ok(audit)
}

pub fn load(conn: &Connection, label: &str) -> duckdb::Result<Option<Audit>> {
    optional(conn.query_row(&format!("{SELECT_AUDIT} WHERE label = ?"), [label], audit_of_row))
}

pub fn list(conn: &Connection) -> duckdb::Result<Vec<Audit>> {
    let mut stmt = conn.prepare(&format!("{SELECT_AUDIT} ORDER BY period_start, created_at, rowid"))?;
    stmt.query_map([], audit_of_row)?.collect()
}

const SELECT_AUDIT: &str =
    "SELECT label, period_label, CAST(period_start AS VARCHAR), CAST(period_end AS VARCHAR), seed,
        status, mapping_version, controls, CAST(created_at AS VARCHAR), CAST(closed_at AS VARCHAR) FROM qd.audits";

fn audit_of_row(r: &duckdb::Row<'_>) -> duckdb::Result<Audit> {
    let label: String = r.get(0)?;
    let at = At { table: "qd.audits", row: &label };
    Ok(Audit {
        period_label: r.get(1)?,
        period_start: at.utc(2, "period_start", &r.get::<_, String>(2)?)?,
        period_end: at.utc(3, "period_end", &r.get::<_, String>(3)?)?,
        seed: r.get(4)?,
        status: at.word(5, "status", &r.get::<_, String>(5)?)?,
        mapping_version: r.get(6)?,
        controls: at.json(7, "controls", &r.get::<_, String>(7)?)?,
        created_at: r.get(8)?,
        closed_at: r.get(9)?,
        label,
    })
}

fn controls_with_active_findings(conn: &Connection) -> duckdb::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT control FROM qd.findings WHERE status IN ('open', 'remediating', 'ready-for-retest') ORDER BY 1",
    )?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// 128 bits from the OS, as hex; recorded with the audit.
fn random_seed() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_err() {
        let fallback = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        bytes.copy_from_slice(
            &sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), fallback))[..16],
        );
    }
    hex::encode(bytes)
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
        Some(i) => list[i].period(tz),
        None => Period::last_full_quarter(today, tz)?,
    })
}
