//! The IPE sheet of a population (AT-C 205: completeness and accuracy of
//! information produced by the entity): the exact SQL, its bounds, count and
//! fingerprint, the SQL that re-performs the draw in the DuckDB CLI alone,
//! the ingest runs that fed its sources up to the draw, and the days of the
//! period on which the population has no rows.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::PacketError;
use crate::audit::sampling::Sample;
use crate::workspace::Workspace;
use crate::workspace::population::key_sql;
use crate::workspace::sql::{quote_ident, quote_literal};

/// One ingest run that fed a source of the population before the draw.
#[derive(Debug, Clone, Serialize)]
pub struct LineageRun {
    pub run_id: i64,
    pub source: String,
    pub mode: String,
    pub actor: String,
    pub started_at: String,
    pub finished_at: String,
    pub status: String,
    pub rows: i64,
    pub skipped: i64,
    /// The files read, each with its path, sha256 and size, as recorded.
    pub files: serde_json::Value,
    pub error: Option<String>,
    /// For a connector's run, the pull it loaded: its folder, requests,
    /// pages, the total the API reported, and each raw page's sha256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ipe {
    /// The population exactly as drawn: runs as-is in `runs_in`.
    pub population_sql: String,
    /// Where the SQL of this sheet runs as-is.
    pub runs_in: String,
    /// Count and fingerprint by SQL alone (DuckDB's own sha256).
    pub recount_sql: String,
    /// The sample by SQL alone: each row's key and rank, in rank order.
    pub reperform_sql: String,
    pub period_start: String,
    pub period_end: String,
    pub count: u64,
    pub fingerprint: String,
    /// The workspace tables the population reads.
    pub sources: Vec<String>,
    pub lineage: Vec<LineageRun>,
    /// Local days of the period before the packet's day with no row of the
    /// population; None when the mapping no longer says its period column.
    pub empty_days: Option<Vec<NaiveDate>>,
}

/// The population's period column, with its DuckDB type, and where the
/// population lives: (warehouse, source) when its rows stay in one.
pub struct PeriodColumn<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub placed: Option<(&'a str, &'a str)>,
}

/// The sheet of one frozen sample's population.
pub fn sheet(
    ws: &Workspace,
    sample: &Sample,
    period_column: Option<PeriodColumn<'_>>,
    drawn_at: &str,
    today: NaiveDate,
) -> Result<Ipe, PacketError> {
    let sql = &sample.sql;
    let placed = period_column.as_ref().and_then(|c| c.placed);
    let sources: Vec<String> = match (placed, ws.guard().tables_read(sql)) {
        (Some((_, source)), _) => vec![source.to_string()],
        (None, Ok(tables)) => tables.into_iter().collect(),
        // A population whose tables are gone still has its frozen sheet.
        (None, Err(_)) => Vec::new(),
    };
    let (recount, reperform, runs_in) = match placed {
        Some((warehouse, _)) => {
            let dialect = crate::warehouse::dialect_of(&ws.config, warehouse);
            (
                crate::warehouse::reperform::recount_sql(dialect, sql, &sample.key_columns),
                crate::warehouse::reperform::reperform_sql(
                    dialect,
                    sql,
                    &sample.key_columns,
                    &sample.seed,
                    sample.size,
                ),
                format!("{}, against warehouse `{warehouse}` ({})", dialect.client(), dialect.engine()),
            )
        }
        None => (
            recount_sql(sql, &sample.key_columns),
            reperform_sql(sql, &sample.key_columns, &sample.seed, sample.size),
            "the DuckDB CLI, against workspace.duckdb".to_string(),
        ),
    };
    Ok(Ipe {
        population_sql: format!("{sql};"),
        runs_in,
        recount_sql: recount,
        reperform_sql: reperform,
        period_start: sample.period.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        period_end: sample.period.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        count: sample.population_count,
        fingerprint: sample.fingerprint.clone(),
        lineage: lineage(ws, &sources, drawn_at)?,
        empty_days: match period_column {
            Some(column) => Some(empty_days(ws, sample, &column, today)?),
            None => None,
        },
        sources,
    })
}

/// The keys of a population by SQL alone, as the draw renders them.
fn keyed(sql: &str, key_columns: &[String]) -> String {
    format!("WITH population AS (\n{sql}\n),\nkeyed AS (SELECT {} AS qd_key FROM population)", key_sql(key_columns))
}

/// `count` and `fingerprint` of the population, in DuckDB alone.
pub fn recount_sql(sql: &str, key_columns: &[String]) -> String {
    format!(
        "{}\nSELECT count(*) AS population,\n       \
         sha256(coalesce(string_agg(digest, chr(10) ORDER BY digest), '')) AS fingerprint\n\
         FROM (SELECT sha256(qd_key) AS digest FROM keyed);",
        keyed(sql, key_columns)
    )
}

/// The sample in DuckDB alone: key and rank of the first `size` rows by rank.
pub fn reperform_sql(sql: &str, key_columns: &[String], seed: &str, size: u64) -> String {
    format!(
        "{}\nSELECT replace(qd_key, chr(31), ' | ') AS key, sha256({} || ':' || qd_key) AS rank\n\
         FROM keyed ORDER BY rank LIMIT {size};",
        keyed(sql, key_columns),
        quote_literal(seed)
    )
}

fn lineage(ws: &Workspace, sources: &[String], drawn_at: &str) -> Result<Vec<LineageRun>, PacketError> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(sources).unwrap_or_default();
    let mut stmt = ws.conn.prepare(
        "SELECT run_id, source, mode, actor, CAST(started_at AS VARCHAR), CAST(finished_at AS VARCHAR), status,
                rows, skipped, files, error, pull
         FROM qd.ingest_runs
         WHERE list_contains(CAST(? AS JSON)::VARCHAR[], lower(source)) AND finished_at <= CAST(? AS TIMESTAMP)
         ORDER BY run_id",
    )?;
    let runs = stmt
        .query_map(duckdb::params![list, drawn_at], |r| {
            let files: String = r.get(9)?;
            Ok(LineageRun {
                run_id: r.get(0)?,
                source: r.get(1)?,
                mode: r.get(2)?,
                actor: r.get(3)?,
                started_at: r.get(4)?,
                finished_at: r.get(5)?,
                status: r.get(6)?,
                rows: r.get(7)?,
                skipped: r.get(8)?,
                files: serde_json::from_str(&files).unwrap_or(serde_json::Value::String(files)),
                error: r.get(10)?,
                pull: r.get::<_, Option<String>>(11)?.and_then(|p| serde_json::from_str(&p).ok()),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(runs)
}

/// The local days of the period (before `today`) on which the population
/// has no row: one pass over the population, in 15-minute UTC buckets so
/// that any zone's days can be cut from them.
fn empty_days(
    ws: &Workspace,
    sample: &Sample,
    column: &PeriodColumn<'_>,
    today: NaiveDate,
) -> Result<Vec<NaiveDate>, PacketError> {
    let quoted = quote_ident(column.name);
    let tz = ws.config.timezone;
    let mut seen: BTreeSet<NaiveDate> = BTreeSet::new();
    if let Some((warehouse, _)) = column.placed {
        let session = crate::warehouse::session_in(ws, warehouse)?;
        let query = match column.kind {
            "DATE" => format!("SELECT DISTINCT CAST({quoted} AS VARCHAR) FROM ({}) AS population", sample.sql),
            _ => format!("SELECT DISTINCT {} FROM ({}) AS population", session.dialect().bucket(&quoted), sample.sql),
        };
        session.run(&[crate::warehouse::Step::Rows(query)], &mut |_, fields| {
            let value = fields.into_iter().next().flatten().unwrap_or_default();
            let day = match column.kind {
                "DATE" => value.parse().ok(),
                _ => value
                    .parse::<i64>()
                    .ok()
                    .and_then(|b| DateTime::<Utc>::from_timestamp(b * 900, 0))
                    .map(|t| t.with_timezone(&tz).date_naive()),
            };
            seen.extend(day);
            Ok(())
        })?;
    } else if column.kind == "DATE" {
        let mut stmt = ws
            .conn
            .prepare(&format!("SELECT DISTINCT CAST({quoted} AS VARCHAR) FROM ({}) AS population", sample.sql))?;
        for day in stmt.query_map([], |r| r.get::<_, Option<String>>(0))? {
            if let Some(day) = day?.and_then(|d| d.parse().ok()) {
                seen.insert(day);
            }
        }
    } else {
        let mut stmt = ws.conn.prepare(&format!(
            "SELECT DISTINCT CAST(floor(epoch({quoted}) / 900) AS BIGINT) FROM ({}) AS population",
            sample.sql
        ))?;
        for bucket in stmt.query_map([], |r| r.get::<_, Option<i64>>(0))? {
            if let Some(instant) = bucket?.and_then(|b| DateTime::<Utc>::from_timestamp(b * 900, 0)) {
                seen.insert(instant.with_timezone(&tz).date_naive());
            }
        }
    }
    Ok(sample.period.days().filter(|d| *d < today && !seen.contains(d)).collect())
}
