//! `quarterdeck query "SQL"`: one read-only SELECT, for an auditor's
//! question. The workspace opens read-only, external access is switched off
//! and the configuration locked before the guard lets the query through.

use super::output::Listing;
use super::{Context, Outcome};
use crate::workspace::sql::guard_select;
use crate::workspace::values::to_json;

pub fn run(ctx: &Context, sql: &str) -> Outcome {
    let read_only =
        Context { read_only: true, workspace: ctx.workspace.clone(), format: ctx.format, threads: ctx.threads };
    let ws = read_only.open()?;
    ws.lock_down()?;
    guard_select(&ws.conn, sql)?;
    let listing = run_select(&ws.conn, sql)?;
    listing.print(ctx.format)?;
    Ok(0)
}

/// Runs a guarded SELECT and collects its rows as JSON values.
pub fn run_select(conn: &duckdb::Connection, sql: &str) -> duckdb::Result<Listing> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut data = Vec::new();
    while let Some(row) = rows.next()? {
        let width = row.as_ref().column_count();
        let values =
            (0..width).map(|i| row.get::<_, duckdb::types::Value>(i).map(to_json)).collect::<Result<_, _>>()?;
        data.push(values);
    }
    drop(rows);
    let columns = stmt.column_names();
    Ok(Listing { columns, rows: data })
}
