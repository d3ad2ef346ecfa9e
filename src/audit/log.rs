//! The action log in the database: every change appends one hash-chained
//! row in the same transaction as the change; `verify` walks the chain.

use duckdb::Connection;
use serde_json::Value;

use super::chain::{ChainBreak, LogEntry, next_entry, verify};
use crate::workspace::{actor, now_text, optional};

/// Appends an entry after the current head. Call inside the change's transaction.
pub fn append(conn: &Connection, action: &str, payload: Value) -> duckdb::Result<LogEntry> {
    let head: Option<(i64, String)> =
        optional(conn.query_row("SELECT seq, hash FROM qd.action_log ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        }))?;
    let entry = next_entry(head.as_ref().map(|(s, h)| (s, h.as_str())), &now_text(), &actor(), action, payload);
    conn.execute(
        "INSERT INTO qd.action_log VALUES (?, ?, ?, ?, ?, ?, ?)",
        duckdb::params![
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.payload.to_string(),
            entry.prev_hash,
            entry.hash
        ],
    )?;
    Ok(entry)
}

/// Every entry in seq order.
pub fn entries(conn: &Connection) -> duckdb::Result<Vec<LogEntry>> {
    let mut stmt =
        conn.prepare("SELECT seq, logged_at, actor, action, payload, prev_hash, hash FROM qd.action_log ORDER BY seq")?;
    stmt.query_map([], |r| {
        let payload: String = r.get(4)?;
        Ok(LogEntry {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
            prev_hash: r.get(5)?,
            hash: r.get(6)?,
        })
    })?
    .collect()
}

/// The number of entries checked, or the first broken link.
pub fn verify_log(conn: &Connection) -> Result<Result<(u64, Option<LogEntry>), ChainBreak>, duckdb::Error> {
    let all = entries(conn)?;
    Ok(verify(all.iter()).map(|n| (n, all.last().cloned())))
}
