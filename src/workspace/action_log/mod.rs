//! The action log in the database: every change appends one hash-chained
//! row in the same transaction as the change; `verify` walks the chain.

use duckdb::Connection;
use serde_json::Value;

pub mod hash_chain;

use super::{Workspace, actor, optional};
use hash_chain::{ChainBreak, LogEntry, next_entry, verify};

/// Appends an entry after the current head. Call inside the change's transaction.
pub fn append(ws: &Workspace, action: &str, payload: Value) -> duckdb::Result<LogEntry> {
    let conn = &ws.conn;
    let head = head(conn)?;
    let entry = next_entry(head.as_ref().map(|h| (&h.seq, h.hash.as_str())), &ws.now_text(), &actor(), action, payload);
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

/// The file beside quarterdeck.toml that holds the log's head outside the
/// database (`SEQ:HASH`): small text, meant to be committed to git with the
/// mappings, so that a truncated or rewritten log tail is caught.
pub const HEAD_FILE: &str = "quarterdeck.head";

/// The newest entry of the log, by its seq and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// `SEQ:HASH`, as written in the head file and given to `--expect-head`.
    pub fn parse(text: &str) -> Option<Self> {
        let (seq, hash) = text.trim().split_once(':')?;
        let seq = seq.trim().parse().ok().filter(|s: &i64| *s >= 0)?;
        let hash = hash.trim();
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self { seq, hash: hash.to_ascii_lowercase() })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// How the log stands against a head held outside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadMismatch {
    #[error(
        "the action log ends at seq {found} but {anchor} records seq {expected}: entries after {found} were removed"
    )]
    Truncated { anchor: String, expected: i64, found: i64 },
    #[error("the action log's entry {seq} has hash {found} but {anchor} records {expected}: the log was rewritten")]
    Rewritten { anchor: String, seq: i64, expected: String, found: String },
    #[error("{0} cannot be read as SEQ:HASH")]
    Unreadable(String),
}

crate::error::kind!(Unusable: HeadMismatch);

/// The log's head in the database.
pub fn head(conn: &Connection) -> duckdb::Result<Option<Head>> {
    optional(conn.query_row("SELECT seq, hash FROM qd.action_log ORDER BY seq DESC LIMIT 1", [], |r| {
        Ok(Head { seq: r.get(0)?, hash: r.get(1)? })
    }))
}

/// Checks that the log still holds `expected` (it may have grown since).
pub fn check_head(conn: &Connection, expected: &Head, anchor: &str) -> Result<(), HeadMismatch> {
    let found: Option<String> =
        conn.query_row("SELECT hash FROM qd.action_log WHERE seq = ?", [expected.seq], |r| r.get(0)).ok();
    match found {
        Some(hash) if hash == expected.hash => Ok(()),
        Some(hash) => Err(HeadMismatch::Rewritten {
            anchor: anchor.to_string(),
            seq: expected.seq,
            expected: expected.hash.clone(),
            found: hash,
        }),
        None => {
            let newest = head(conn).ok().flatten().map_or(0, |h| h.seq);
            Err(HeadMismatch::Truncated { anchor: anchor.to_string(), expected: expected.seq, found: newest })
        }
    }
}

/// The head recorded in the workspace's head file, if it has one.
pub fn read_head_file(root: &std::path::Path) -> Result<Option<Head>, HeadMismatch> {
    let path = root.join(HEAD_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Head::parse(&text).map(Some).ok_or_else(|| HeadMismatch::Unreadable(path.display().to_string())),
        Err(_) => Ok(None),
    }
}

/// Writes the database's head to the head file (atomically: a temporary
/// file renamed over it). Called after every commit that appended.
pub fn write_head_file(ws: &Workspace) -> Result<(), super::WorkspaceError> {
    let Some(head) = head(&ws.conn)? else { return Ok(()) };
    let path = ws.root.join(HEAD_FILE);
    if std::fs::read_to_string(&path).ok().and_then(|t| Head::parse(&t)).as_ref() == Some(&head) {
        return Ok(());
    }
    let tmp = ws.root.join(format!(".{HEAD_FILE}.{}", std::process::id()));
    let io = |source| super::WorkspaceError::Io { path: path.clone(), source };
    std::fs::write(&tmp, format!("{head}\n")).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

/// Runs a change in one transaction and, once it is committed, records the
/// log's new head in the head file.
pub fn change<T, E: From<duckdb::Error> + From<super::WorkspaceError>>(
    ws: &Workspace,
    work: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let value = super::in_transaction(&ws.conn, work)?;
    write_head_file(ws)?;
    Ok(value)
}
