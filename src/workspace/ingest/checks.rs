//! Checks on staged evidence before it is merged: DuckDB's CSV rejects,
//! the key and timestamp columns, timestamps, unique keys and, for appends,
//! the same columns as the table.

use duckdb::Connection;

use super::{IngestError, MissingColumn, Reject};
use crate::workspace::config::SourceConfig;
use crate::workspace::functions::ascending;
use crate::workspace::optional;
use crate::workspace::problems::did_you_mean;
use crate::workspace::sql::quote_ident;

pub(super) fn check_rejects(conn: &Connection) -> Result<(), IngestError> {
    let count: u64 = conn.query_row("SELECT count(*) FROM reject_errors", [], |r| r.get(0))?;
    if count == 0 {
        return Ok(());
    }
    let mut stmt = conn.prepare(
        "SELECT s.file_path, e.line, coalesce(e.column_name, ''), e.error_type, e.error_message
         FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)
         ORDER BY s.file_path, e.line LIMIT 20",
    )?;
    let rejects = stmt
        .query_map([], |r| {
            let kind: String = r.get(3)?;
            let message: String = r.get(4)?;
            Ok(Reject {
                file: r.get(0)?,
                line: r.get(1)?,
                column: r.get(2)?,
                message: format!("{} ({kind})", first_line(&message)),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Err(IngestError::Rejected { count, rejects })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text).trim()
}

pub(super) fn drop_rejects(conn: &Connection) {
    let _ = conn.execute_batch("DROP TABLE IF EXISTS temp.reject_errors; DROP TABLE IF EXISTS temp.reject_scans;");
}

pub(super) fn table_columns(conn: &Connection, table: &str) -> duckdb::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT column_name, data_type FROM duckdb_columns()
         WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?
         ORDER BY column_index",
    )?;
    stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
}

pub(super) fn check_columns(
    source: &SourceConfig,
    files: &str,
    columns: &[(String, String)],
) -> Result<(), IngestError> {
    let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
    let roles = source.key.iter().map(|k| (k, "key")).chain(std::iter::once((&source.timestamp, "timestamp")));
    for (column, role) in roles {
        if !names.contains(&column.as_str()) {
            return Err(IngestError::MissingColumn(Box::new(MissingColumn {
                source_name: source.name.clone(),
                files: files.to_string(),
                column: column.clone(),
                role: format!("its {role}"),
                hint: did_you_mean(column, names.iter().copied()),
                available: names.join(", "),
            })));
        }
    }
    Ok(())
}

/// The timestamp column drives periods and freshness: make it a TIMESTAMP
/// (UTC), or refuse the file naming a value that is not one.
pub(super) fn normalise_timestamp(
    conn: &Connection,
    source: &SourceConfig,
    staging: &str,
    files: &str,
    columns: &[(String, String)],
) -> Result<(), IngestError> {
    let ts_type = columns.iter().find(|(c, _)| c == &source.timestamp).map(|(_, t)| t.as_str()).unwrap_or("");
    let ts = quote_ident(&source.timestamp);
    match ts_type {
        "TIMESTAMP" | "TIMESTAMP_S" | "TIMESTAMP_MS" | "TIMESTAMP_NS" | "DATE" => return Ok(()),
        "TIMESTAMP WITH TIME ZONE" => {
            conn.execute_batch(&format!(
                "ALTER TABLE {staging} ALTER {ts} TYPE TIMESTAMP USING CAST({ts} AS TIMESTAMP)"
            ))?;
            return Ok(());
        }
        _ => {}
    }
    // Text (or anything else): every value must read as a timestamp, with
    // its UTC offset honoured.
    let as_instant = format!("TRY_CAST(CAST({ts} AS VARCHAR) AS TIMESTAMPTZ)");
    let bad: Option<(String, u64)> = optional(conn.query_row(
        &format!(
            "SELECT CAST({ts} AS VARCHAR), n FROM (SELECT {ts}, row_number() OVER () AS n FROM {staging})
                 WHERE {ts} IS NOT NULL AND {as_instant} IS NULL ORDER BY n LIMIT 1"
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?;
    if let Some((example, row)) = bad {
        return Err(IngestError::NotATimestamp {
            files: files.to_string(),
            column: source.timestamp.clone(),
            example,
            row,
        });
    }
    conn.execute_batch(&format!(
        "ALTER TABLE {staging} ALTER {ts} TYPE TIMESTAMP USING make_timestamp(epoch_us(CAST(CAST({ts} AS VARCHAR) AS TIMESTAMPTZ)))"
    ))?;
    Ok(())
}

pub(super) fn check_unique_keys(
    conn: &Connection,
    probes: &ascending::Probes,
    source: &SourceConfig,
    staging: &str,
    columns: &[(String, String)],
    files: &str,
) -> Result<(), IngestError> {
    let keys = source.key.iter().map(|k| quote_ident(k)).collect::<Vec<_>>().join(", ");
    let rendered = source
        .key
        .iter()
        .map(|k| format!("coalesce(CAST({} AS VARCHAR), '')", quote_ident(k)))
        .collect::<Vec<_>>()
        .join(" || ', ' || ");
    // Fastest path, for evidence exported in key order (logs with sequential
    // ids): keys strictly increasing in the order the table is read are all
    // distinct, whatever that order is. No NULL may hide in a key.
    let tuple = if source.key.len() == 1 { keys.clone() } else { format!("({keys})") };
    let any_null = source.key.iter().map(|k| format!("{} IS NULL", quote_ident(k))).collect::<Vec<_>>().join(" OR ");
    // The first rows tell cheaply whether the whole scan is worth it (keys
    // such as UUIDs are not in order, and skip it).
    let increasing = |limit: &str| -> duckdb::Result<Option<bool>> {
        conn.query_row(
            &format!(
                "SELECT bool_and(k > p) AND NOT bool_or(has_null) FROM
                     (SELECT k, lag(k) OVER () AS p, has_null FROM
                         (SELECT {tuple} AS k, {any_null} AS has_null FROM {staging} {limit}))"
            ),
            [],
            |r| r.get(0),
        )
    };
    if increasing("LIMIT 10000")? == Some(true) {
        // One VARCHAR key is proven on all threads; others (or anything
        // that proof leaves open) by one window pass.
        let varchar_key = match source.key.as_slice() {
            [key] => columns.iter().any(|(c, t)| c == key && t == "VARCHAR").then_some(key),
            _ => None,
        };
        let parallel = match varchar_key {
            Some(key) => ascending::proves_unique(conn, probes, staging, key)?,
            None => false,
        };
        if parallel || increasing("")? == Some(true) {
            return Ok(());
        }
    }
    // Otherwise: distinct 64-bit hashes of the keys. Only when they collide
    // (a duplicate, or rarely a hash collision) look for the duplicate itself.
    let (rows, distinct): (u64, u64) =
        conn.query_row(&format!("SELECT count(*), count(DISTINCT hash({keys})) FROM {staging}"), [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    if rows == distinct {
        return Ok(());
    }
    let duplicate: Option<(String, u64)> = optional(conn.query_row(
            &format!(
                "SELECT {rendered}, n FROM (SELECT {keys}, count(*) AS n FROM {staging} GROUP BY ALL HAVING count(*) > 1) LIMIT 1"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
    match duplicate {
        None => Ok(()),
        Some((value, count)) => {
            Err(IngestError::DuplicateKey { files: files.to_string(), key: source.key.join(", "), value, count })
        }
    }
}

pub(super) fn check_same_shape(
    source: &SourceConfig,
    files: &str,
    existing: &[(String, String)],
    staged: &[(String, String)],
) -> Result<(), IngestError> {
    let has = |cols: &[(String, String)], name: &str| cols.iter().any(|(c, _)| c == name);
    let extra: Vec<&str> = staged.iter().map(|(c, _)| c.as_str()).filter(|c| !has(existing, c)).collect();
    let missing: Vec<&str> = existing.iter().map(|(c, _)| c.as_str()).filter(|c| !has(staged, c)).collect();
    if extra.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let mut detail = Vec::new();
    if !extra.is_empty() {
        detail.push(format!("new field(s) {}", extra.join(", ")));
    }
    if !missing.is_empty() {
        detail.push(format!("missing field(s) {}", missing.join(", ")));
    }
    Err(IngestError::ShapeChanged {
        source_name: source.name.clone(),
        files: files.to_string(),
        detail: detail.join("; "),
    })
}
