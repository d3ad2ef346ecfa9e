//! Running an auditor's read-only SELECT: guarded by DuckDB's own parser
//! (`sql::guard_select`), then run inside a transaction that is always
//! rolled back, so that even a read-write workspace cannot be changed.

use serde_json::Value as Json;

use super::sql::{Refusal, guard_select};
use super::values::to_json;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{}", super::population::duckdb_message(.0))]
    Database(#[from] duckdb::Error),
}

/// The rows of a query, as JSON values.
#[derive(Debug, Clone, Default)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Json>>,
    /// More rows existed than were asked for.
    pub truncated: bool,
}

/// Runs a SELECT and collects at most `max_rows` rows (all when None).
pub fn run_select(conn: &duckdb::Connection, sql: &str, max_rows: Option<usize>) -> duckdb::Result<ResultSet> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut data = Vec::new();
    let mut truncated = false;
    while let Some(row) = rows.next()? {
        if max_rows.is_some_and(|max| data.len() >= max) {
            truncated = true;
            break;
        }
        let width = row.as_ref().column_count();
        let values =
            (0..width).map(|i| row.get::<_, duckdb::types::Value>(i).map(to_json)).collect::<Result<_, _>>()?;
        data.push(values);
    }
    drop(rows);
    let columns = stmt.column_names();
    Ok(ResultSet { columns, rows: data, truncated })
}

/// Guards and runs an auditor's SQL; nothing it does is ever committed.
pub fn auditor_query(conn: &duckdb::Connection, sql: &str, max_rows: Option<usize>) -> Result<ResultSet, QueryError> {
    guard_select(conn, sql)?;
    conn.execute_batch("BEGIN TRANSACTION")?;
    let result = run_select(conn, sql, max_rows);
    conn.execute_batch("ROLLBACK")?;
    Ok(result?)
}
