//! `quarterdeck query "SQL"`: one read-only SELECT, for an auditor's
//! question. The workspace opens read-only, external access is switched off
//! and the configuration locked before the guard lets the query through.

use super::output::Listing;
use super::{Context, Outcome};
use crate::workspace::query::run_select;
use crate::workspace::sql::guard_select;

pub fn run(ctx: &Context, sql: &str) -> Outcome {
    let read_only =
        Context { read_only: true, workspace: ctx.workspace.clone(), format: ctx.format, threads: ctx.threads };
    let ws = read_only.open()?;
    ws.lock_down()?;
    guard_select(&ws.conn, sql)?;
    let result = run_select(&ws.conn, sql, None)?;
    let listing = Listing { columns: result.columns, rows: result.rows };
    listing.print(ctx.format)?;
    Ok(0)
}
