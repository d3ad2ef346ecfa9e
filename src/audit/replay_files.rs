//! `verify` over the files the workspace keeps: collected documents and
//! attachments replayed against the log, and every blob they name present
//! in the store with the content its name promises.

use std::collections::BTreeMap;

use super::replay::{Divergence, compare_counts};
use crate::text::visible;
use crate::workspace::Workspace;
use crate::workspace::action_log::hash_chain::LogEntry;
use crate::workspace::documents::blobs;

type Row = Vec<String>;

fn field(value: &serde_json::Value, key: &str) -> String {
    match value.get(key) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn rows(ws: &Workspace, sql: &str, width: usize) -> duckdb::Result<BTreeMap<Row, i64>> {
    let mut stmt = ws.conn.prepare(sql)?;
    let mut found = BTreeMap::new();
    for row in stmt.query_map([], |r| (0..width).map(|i| r.get::<_, String>(i)).collect::<Result<Row, _>>())? {
        *found.entry(row?).or_default() += 1;
    }
    Ok(found)
}

/// Collected document files and attachments against the log, and the blobs.
pub fn replay(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    let mut expected: BTreeMap<Row, i64> = BTreeMap::new();
    for e in log.iter().filter(|e| e.action == "documents.collect") {
        for list in ["collected", "recollected"] {
            for f in e.payload.get(list).and_then(|v| v.as_array()).into_iter().flatten() {
                let row = ["document", "version", "path", "sha256", "bytes"].iter().map(|k| field(f, k)).collect();
                *expected.entry(row).or_default() += 1;
            }
        }
    }
    let found = rows(ws, "SELECT document, version, path, sha256, bytes::VARCHAR FROM qd.document_files", 5)?;
    let shown = |r: &Row| format!("{} ({} | {}) sha256 {}", visible(&r[2]), visible(&r[0]), visible(&r[1]), r[3]);
    compare_counts("qd.document_files", &expected, &found, shown, out);

    let mut expected: BTreeMap<Row, i64> = BTreeMap::new();
    for e in log.iter().filter(|e| e.action == "attachment") {
        let row = ["audit", "control", "sample_id", "key", "name", "sha256", "bytes"]
            .iter()
            .map(|k| field(&e.payload, k))
            .collect();
        *expected.entry(row).or_default() += 1;
    }
    let found = rows(
        ws,
        "SELECT audit, control, sample_id::VARCHAR, key, name, sha256, bytes::VARCHAR FROM qd.attachments",
        7,
    )?;
    let shown = |r: &Row| {
        format!(
            "{} on {} in {} {}",
            visible(&r[4]),
            visible(&r[3].replace('\u{1f}', " | ")),
            visible(&r[0]),
            visible(&r[1])
        )
    };
    compare_counts("qd.attachments", &expected, &found, shown, out);

    let mut stmt = ws.conn.prepare(
        "SELECT DISTINCT sha256 FROM (SELECT sha256 FROM qd.document_files UNION ALL SELECT sha256 FROM qd.attachments)
         ORDER BY sha256",
    )?;
    let named: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut buffer = blobs::buffer();
    for sha in named {
        let path = blobs::path(&ws.root, &sha);
        let what = match std::fs::File::open(&path) {
            Err(e) => Some(format!("{} is named by a record but cannot be read: {e}", blobs::relative_path(&sha))),
            Ok(mut file) => match blobs::hash(&mut file, &mut buffer) {
                Ok((found, _)) if found == sha => None,
                Ok((found, _)) => Some(format!("{} holds content with sha256 {found}", blobs::relative_path(&sha))),
                Err(e) => Some(format!("{}: {e}", blobs::relative_path(&sha))),
            },
        };
        if let Some(what) = what {
            out.push(Divergence { table: "evidence/blobs", what });
        }
    }
    Ok(())
}
