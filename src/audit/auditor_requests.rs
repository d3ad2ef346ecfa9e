//! Auditor requests (PBC items): a question in the auditor's words, matched
//! to the question library, answered with a frozen sample, and tracked.

use chrono::NaiveDate;
use duckdb::Connection;
use serde_json::json;

use super::questions::Library;
use super::sampling::columns::sample_columns;
use super::sampling::rank::sample_seed;
use super::sampling::store;
use super::sampling::{Sample, draw};
use super::{AuditError, find_control, find_spec};
use crate::workspace::action_log;
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;
use crate::workspace::population;
use crate::workspace::{Workspace, actor};

#[derive(Debug, Clone)]
pub struct AuditorRequest {
    pub id: i64,
    pub text: String,
    pub asked_at: String,
    pub asked_by: String,
    pub due: Option<NaiveDate>,
    pub status: String,
    pub question: Option<String>,
    pub control: Option<String>,
    pub spec: Option<String>,
    pub sample_id: Option<i64>,
}

/// An answered request, its sample, and the sample's columns in the order
/// the question asks for them (`columns::question_order`).
pub struct Answer {
    pub request: AuditorRequest,
    pub sample: Sample,
    pub period_column: String,
    pub columns: Vec<String>,
}

/// Matches the request to the library, draws and freezes the sample that
/// answers it, and records the request, all in one transaction.
pub fn ask(
    ws: &Workspace,
    mappings: &Mappings,
    library: &Library,
    text: &str,
    due: Option<NaiveDate>,
    default_period: &Period,
) -> Result<Answer, AuditError> {
    ws.ensure_writable("tracking an auditor request")?;
    let today = ws.today();
    let matched = library.match_request(text, today)?;
    let control = find_control(mappings, &matched.question.control)?;
    let spec = find_spec(control, Some(&matched.question.spec))?;
    let period = match &matched.period {
        Some(label) => Period::parse(label, ws.config.timezone).map_err(|e| AuditError::Refused(e.to_string()))?,
        None => default_period.clone(),
    };
    let id: i64 = ws.conn.query_row("SELECT nextval('qd.request_seq')", [], |r| r.get(0))?;
    // The seed is recorded with the sample, so the answer can be re-performed.
    let seed = sample_seed(&format!("request-{id}-{}", ws.now_text()), &control.id, &spec.name);
    let sample = draw(ws, control, spec, &period, &seed, matched.size)?;
    let question = matched.question.id.clone();
    let sample_id = action_log::change(ws, || -> Result<i64, AuditError> {
        let sample_id = store::store(ws, None, &sample, None)?;
        ws.conn.execute(
            "INSERT INTO qd.requests VALUES (?, ?, CAST(? AS TIMESTAMP), ?, CAST(? AS DATE), 'answered', ?, ?, ?, ?)",
            duckdb::params![
                id,
                text,
                ws.now_text(),
                actor(),
                due.map(|d| d.to_string()),
                question,
                control.id,
                spec.name,
                sample_id
            ],
        )?;
        action_log::append(
            ws,
            "request.answer",
            json!({"request_id": id, "text": text, "question": question, "control": control.id, "spec": spec.name,
                   "period": period.label, "sample_id": sample_id, "size": sample.size,
                   "fingerprint": sample.fingerprint, "seed": sample.seed,
                   "rows_sha256": super::replay::rows_digest(&ws.conn, sample_id)?}),
        )?;
        Ok(sample_id)
    })?;
    let request = list(&ws.conn)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| AuditError::Refused(format!("request {id} was not recorded")))?;
    debug_assert_eq!(request.sample_id, Some(sample_id));
    let period_column = population::resolve(ws, control, spec)?.period_column;
    let columns = sample_columns(&sample, &period_column, &spec.tests);
    Ok(Answer { request, sample, period_column, columns })
}

pub fn list(conn: &Connection) -> duckdb::Result<Vec<AuditorRequest>> {
    let mut stmt = conn.prepare(
        "SELECT request_id, text, CAST(asked_at AS VARCHAR), asked_by, CAST(due AS VARCHAR), status, question, control,
                spec, sample_id FROM qd.requests ORDER BY request_id",
    )?;
    stmt.query_map([], |r| {
        let due: Option<String> = r.get(4)?;
        Ok(AuditorRequest {
            id: r.get(0)?,
            text: r.get(1)?,
            asked_at: r.get(2)?,
            asked_by: r.get(3)?,
            due: due.and_then(|d| d.parse().ok()),
            status: r.get(5)?,
            question: r.get(6)?,
            control: r.get(7)?,
            spec: r.get(8)?,
            sample_id: r.get(9)?,
        })
    })?
    .collect()
}
