//! The refresh of a source whose rows stay in a warehouse: in one read-only
//! snapshot there, the relation's columns and types (`\gdesc`, not run),
//! its row count, and its rows per 15-minute bucket with each bucket's
//! oldest and newest timestamp — aggregates, never rows. The workspace
//! keeps a stand-in view with the columns (every read of it fails, naming
//! the warehouse), the counts for freshness and coverage, and the run.

use super::record::{RunRecord, open_period_rows, record_failure};
use super::{Counts, IngestError, IngestReport, STEPS};
use crate::progress::Progress;
use crate::warehouse::columns::{WarehouseColumn, stand_in_sql};
use crate::warehouse::{Recorded, Step, WarehouseError};
use crate::workspace::Workspace;
use crate::workspace::config::SourceConfig;
use crate::workspace::sql::{quote_ident, quote_literal};

/// One bucket as the engine counted it: (bucket, rows, oldest, newest).
type Bucket = (String, u64, String, String);

pub(super) fn refresh(
    ws: &Workspace,
    source: &SourceConfig,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    let started = ws.now_text();
    let before = open_period_rows(&ws.conn, &source.name).unwrap_or_default();
    let outcome = ask(ws, source, progress).and_then(|(recorded, buckets)| {
        crate::workspace::in_transaction(&ws.conn, || {
            progress.step("recording the counts and the run", STEPS - 1, STEPS);
            keep(ws, source, &recorded, &buckets, &started)?;
            let counts = Counts { inserted: recorded.rows, skipped: 0, total: recorded.rows };
            let run = RunRecord::ok(source, &started, &counts, serde_json::to_value(&recorded).unwrap_or_default());
            Ok((run.write(ws, Some(&before))?, recorded.rows))
        })
    });
    match outcome {
        Ok((run_id, rows)) => {
            crate::workspace::action_log::write_head_file(ws)?;
            Ok(IngestReport {
                run_id,
                source: source.name.clone(),
                mode: source.mode,
                files: Vec::new(),
                rows,
                skipped: 0,
                total_rows: rows,
            })
        }
        // Failing only to be asked again with the warehouse's answers: no run to log.
        Err(err) if crate::warehouse::defer::awaiting(ws) => Err(err),
        Err(err) => {
            record_failure(ws, source, &started, &err, serde_json::json!({}))?;
            Err(err)
        }
    }
}

/// The engine's answers: the columns, the count, the buckets.
fn ask(ws: &Workspace, source: &SourceConfig, progress: &dyn Progress) -> Result<(Recorded, Vec<Bucket>), IngestError> {
    let placed = source.warehouse.as_ref().ok_or_else(|| IngestError::NoPath(source.name.clone()))?;
    let session = crate::warehouse::session_in(ws, &placed.warehouse)?;
    let relation = crate::warehouse::relation_sql(source).unwrap_or_default();
    progress.step(&format!("asking warehouse `{}` about {}", placed.warehouse, source.name), 0, STEPS);
    // The columns come first: the bucket query needs the timestamp's type,
    // so the snapshot of the counts is the second session's.
    let mut columns = Vec::new();
    let dialect = session.dialect();
    session.run(&[Step::Describe(relation.clone())], &mut |_, fields| {
        if let [Some(name), Some(kind)] = fields.as_slice() {
            columns.push(WarehouseColumn::of(dialect, name, kind));
        }
        Ok(())
    })?;
    let failed = |message: String| WarehouseError::Failed { warehouse: placed.warehouse.clone(), message };
    for needed in source.key.iter().chain([&source.timestamp]) {
        if !columns.iter().any(|c| c.name == *needed) {
            let names = columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>();
            return Err(failed(format!(
                "source `{}`: field `{}` missing: its rows there have no column `{needed}`{} (columns: {})",
                source.name,
                if source.key.contains(needed) { "key" } else { "timestamp" },
                crate::workspace::problems::did_you_mean(needed, names.iter().copied()),
                names.join(", ")
            ))
            .into());
        }
    }
    let ts = columns.iter().find(|c| c.name == source.timestamp).map(|c| c.duckdb_type.clone()).unwrap_or_default();
    if !(ts.starts_with("TIMESTAMP") || ts == "DATE") {
        return Err(failed(format!(
            "source `{}`: field `timestamp`: column `{}` is {} there, not a timestamp or date",
            source.name,
            source.timestamp,
            columns.iter().find(|c| c.name == source.timestamp).map_or("", |c| c.engine_type.as_str())
        ))
        .into());
    }
    progress.step(&format!("counting {} there in 15-minute buckets", source.name), 1, STEPS);
    let stamp = format!("CAST({} AS timestamp)", quote_ident(&source.timestamp));
    let count_sql = format!("SELECT count(*) FROM ({relation}) AS counted");
    let buckets_sql = format!(
        "SELECT {}, count(*), CAST(min({stamp}) AS VARCHAR), CAST(max({stamp}) AS VARCHAR) \
         FROM ({relation}) AS counted WHERE {stamp} IS NOT NULL GROUP BY 1 ORDER BY 1",
        session.dialect().bucket(&stamp)
    );
    let mut rows: Option<u64> = None;
    let mut buckets: Vec<Bucket> = Vec::new();
    session.run(&[Step::Rows(count_sql), Step::Rows(buckets_sql)], &mut |result, fields| {
        match (result, fields.as_slice()) {
            (0, [Some(n)]) => rows = n.parse().ok(),
            (1, [Some(bucket), Some(n), Some(oldest), Some(newest)]) => {
                let start = bucket.parse::<i64>().ok().and_then(|b| chrono::DateTime::from_timestamp(b * 900, 0));
                let Some(start) = start else {
                    return Err(failed(format!("a 15-minute bucket came back as `{}`", crate::text::visible(bucket))));
                };
                let start = start.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
                buckets.push((start, n.parse().unwrap_or(0), oldest.clone(), newest.clone()))
            }
            _ => {}
        }
        Ok(())
    })?;
    let rows = rows.ok_or_else(|| failed("the count came back empty".into()))?;
    let kind = ws.config.warehouse(&placed.warehouse).map_or("postgres", |w| w.kind.as_str()).to_string();
    Ok((Recorded { warehouse: placed.warehouse.clone(), kind, relation, columns, rows }, buckets))
}

/// Inside the caller's transaction: the stand-in view and the counts.
fn keep(
    ws: &Workspace,
    source: &SourceConfig,
    recorded: &Recorded,
    buckets: &[Bucket],
    now: &str,
) -> Result<(), IngestError> {
    let conn = &ws.conn;
    let copied: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?",
        [&source.name],
        |r| r.get(0),
    )?;
    if copied {
        return Err(IngestError::Malformed {
            file: format!("warehouse `{}`", recorded.warehouse),
            message: format!(
                "source `{}` holds rows ingested into the workspace; a warehouse source cannot replace them (give it another name)",
                source.name
            ),
        });
    }
    conn.execute_batch(&stand_in_sql(&source.name, &recorded.warehouse, &recorded.columns))?;
    conn.execute("DELETE FROM qd.source_buckets WHERE source = ?", [&source.name])?;
    for chunk in buckets.chunks(500) {
        let values = chunk
            .iter()
            .map(|(bucket, n, _, _)| {
                format!("({}, CAST({} AS TIMESTAMP), {n})", quote_literal(&source.name), quote_literal(bucket))
            })
            .collect::<Vec<_>>()
            .join(", ");
        conn.execute_batch(&format!("INSERT INTO qd.source_buckets VALUES {values}"))?;
    }
    let oldest = buckets.iter().map(|b| b.2.as_str()).min();
    let newest = buckets.iter().map(|b| b.3.as_str()).max();
    conn.execute("DELETE FROM qd.source_stats WHERE source = ?", [&source.name])?;
    conn.execute(
        "INSERT INTO qd.source_stats VALUES (?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP))",
        duckdb::params![source.name, recorded.rows, oldest, newest, now],
    )?;
    Ok(())
}
