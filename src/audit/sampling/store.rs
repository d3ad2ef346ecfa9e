//! Frozen samples: stored whole at draw time (SQL, period, count,
//! fingerprint, seed, method and the selected rows), so re-ingesting
//! evidence later cannot change a drawn sample.

use serde_json::{Map, Value as Json};

use super::key::SampleKey;
use super::{Sample, SampleRow};
use crate::workspace::period::Period;
use crate::workspace::stored::At;
use crate::workspace::{Workspace, actor, optional};

/// Stores a sample. In an audit it becomes the current one for its control
/// and spec; an earlier one (a redraw) is kept but no longer current.
pub fn store(ws: &Workspace, audit: Option<&str>, sample: &Sample, redraw_reason: Option<&str>) -> duckdb::Result<i64> {
    let conn = &ws.conn;
    let id: i64 = conn.query_row("SELECT nextval('qd.sample_seq')", [], |r| r.get(0))?;
    // Only an audit has one current sample per spec; request samples stand alone.
    if let Some(audit) = audit {
        conn.execute(
            "UPDATE qd.samples SET current = false WHERE audit = ? AND control = ? AND spec = ?",
            duckdb::params![audit, sample.control, sample.spec],
        )?;
    }
    conn.execute(
        "INSERT INTO qd.samples VALUES (?, ?, ?, ?, true, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP),
                 ?, ?, ?, CAST(? AS TIMESTAMP), ?, ?)",
        duckdb::params![
            id,
            audit,
            sample.control,
            sample.spec,
            sample.seed,
            sample.method,
            sample.sql,
            serde_json::to_string(&sample.key_columns).unwrap_or_default(),
            sample.period.label,
            sample.period.start.naive_utc().to_string(),
            sample.period.end.naive_utc().to_string(),
            sample.population_count,
            sample.fingerprint,
            sample.size,
            ws.now_text(),
            actor(),
            redraw_reason
        ],
    )?;
    let mut insert = conn.prepare("INSERT INTO qd.sample_rows VALUES (?, ?, ?, ?, ?, ?)")?;
    for (position, row) in sample.rows.iter().enumerate() {
        let tests: Map<String, Json> = row.tests.iter().map(|(n, r)| (n.clone(), Json::from(*r))).collect();
        insert.execute(duckdb::params![
            id,
            position as i64,
            row.key.as_str(),
            row.rank,
            Json::Object(row.row.clone()).to_string(),
            Json::Object(tests).to_string()
        ])?;
    }
    Ok(id)
}

/// The current sample of an audit's control and spec, with its id.
pub fn load_current(ws: &Workspace, audit: &str, control: &str, spec: &str) -> duckdb::Result<Option<(i64, Sample)>> {
    let id: Option<i64> = optional(ws.conn.query_row(
        "SELECT sample_id FROM qd.samples WHERE audit = ? AND control = ? AND spec = ? AND current",
        [audit, control, spec],
        |r| r.get(0),
    ))?;
    match id {
        Some(id) => load(ws, id).map(|s| s.map(|s| (id, s))),
        None => Ok(None),
    }
}

/// A stored sample with its rows and their latest verdicts; its period's
/// local dates in the workspace's zone.
pub fn load(ws: &Workspace, sample_id: i64) -> duckdb::Result<Option<Sample>> {
    let conn = &ws.conn;
    let head = optional(conn.query_row(
        "SELECT control, spec, period_label, CAST(period_start AS VARCHAR), CAST(period_end AS VARCHAR), seed, method,
                sql, key_columns, population_count, fingerprint, size
         FROM qd.samples WHERE sample_id = ?",
        [sample_id],
        |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                (r.get::<_, String>(3)?, r.get::<_, String>(4)?),
                (r.get::<_, String>(5)?, r.get::<_, String>(6)?, r.get::<_, String>(7)?, r.get::<_, String>(8)?),
                (r.get::<_, i64>(9)?, r.get::<_, String>(10)?, r.get::<_, i64>(11)?),
            ))
        },
    ))?;
    let Some(((control, spec, period_label), (start, end), (seed, method, sql, keys), (count, fingerprint, size))) =
        head
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare(
        "SELECT r.key, r.rank, r.row_json, r.tests, v.verdict, v.note, v.decided_by, CAST(v.decided_at AS VARCHAR)
         FROM qd.sample_rows r
         LEFT JOIN (SELECT * FROM qd.verdicts WHERE sample_id = ?
                    QUALIFY row_number() OVER (PARTITION BY key ORDER BY decided_at DESC, rowid DESC) = 1) v USING (key)
         WHERE r.sample_id = ? ORDER BY r.position",
    )?;
    let rows = stmt
        .query_map([sample_id, sample_id], |r| {
            let key: String = r.get(0)?;
            let name = format!("sample {sample_id}, key {key}");
            let at = At { table: "qd.sample_rows", row: &name };
            let tests: Map<String, Json> = at.json(3, "tests", &r.get::<_, String>(3)?)?;
            let verdict = match r.get::<_, Option<String>>(4)? {
                Some(text) => Some(At { table: "qd.verdicts", row: &name }.word(4, "verdict", &text)?),
                None => None,
            };
            Ok(SampleRow {
                rank: r.get(1)?,
                row: at.json(2, "row_json", &r.get::<_, String>(2)?)?,
                tests: tests.into_iter().map(|(k, v)| (k, v.as_bool())).collect(),
                verdict,
                note: r.get(5)?,
                tester: r.get(6)?,
                tested_at: r.get(7)?,
                key: SampleKey::canonical(key),
                attachments: Vec::new(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut attached = crate::audit::attachments::of_sample(conn, sample_id)?;
    let rows: Vec<SampleRow> = rows
        .into_iter()
        .map(|mut row| {
            row.attachments = attached.remove(row.key.as_str()).unwrap_or_default();
            row
        })
        .collect();
    let name = sample_id.to_string();
    let at = At { table: "qd.samples", row: &name };
    Ok(Some(Sample {
        control,
        spec,
        period: Period::of_instants(
            period_label,
            at.utc(3, "period_start", &start)?,
            at.utc(4, "period_end", &end)?,
            ws.config.timezone,
        ),
        seed,
        method,
        sql,
        key_columns: at.json(8, "key_columns", &keys)?,
        population_count: count.max(0) as u64,
        fingerprint,
        size: size.max(0) as u64,
        rows,
    }))
}
