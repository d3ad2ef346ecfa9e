//! The `documents` table: the built-in source, one row per document
//! version, rebuilt from the register and the recorded hashes at each
//! collect (inside its transaction), so that `query`, specs, samples and
//! `population.sql` read documents like any other evidence table.

use std::collections::BTreeMap;

use serde_json::json;

use super::collect::recorded;
use super::{Register, SOURCE};
use crate::workspace::Workspace;
use crate::workspace::sql::quote_ident;

/// The table's columns, in order, with their types.
pub const COLUMNS: &[(&str, &str)] = &[
    ("id", "VARCHAR NOT NULL"),
    ("version", "VARCHAR NOT NULL"),
    ("title", "VARCHAR NOT NULL"),
    ("kind", "VARCHAR NOT NULL"),
    ("effective", "DATE NOT NULL"),
    ("superseded", "DATE"),
    ("covers_from", "DATE"),
    ("covers_to", "DATE"),
    ("owner", "VARCHAR"),
    ("approved_by", "VARCHAR"),
    ("approved_at", "DATE"),
    ("renew", "VARCHAR"),
    ("renew_by", "DATE"),
    ("subject", "VARCHAR"),
    ("controls", "VARCHAR[] NOT NULL"),
    ("files", "VARCHAR[] NOT NULL"),
    ("sha256", "VARCHAR"),
    ("bytes", "BIGINT"),
    ("collected_at", "TIMESTAMP"),
];

/// Replaces the table with the register's documents; returns their count.
pub fn rebuild(ws: &Workspace, register: &Register) -> duckdb::Result<usize> {
    let conn = &ws.conn;
    let columns: Vec<String> = COLUMNS.iter().map(|(name, kind)| format!("{} {kind}", quote_ident(name))).collect();
    conn.execute_batch(&format!("CREATE OR REPLACE TABLE main.{} ({})", quote_ident(SOURCE), columns.join(", ")))?;
    let recorded = recorded(conn)?;
    // A version stays in force until the next version of its document.
    let mut versions: BTreeMap<&str, Vec<chrono::NaiveDate>> = BTreeMap::new();
    for d in &register.documents {
        versions.entry(&d.id).or_default().push(d.effective);
    }
    // One statement for all rows: the documents as one JSON array.
    let mut rows = Vec::with_capacity(register.documents.len());
    for d in &register.documents {
        let superseded = versions.get(d.id.as_str()).and_then(|dates| dates.iter().filter(|e| **e > d.effective).min());
        let files: Vec<&str> = d.files.iter().map(|f| f.value.as_str()).collect();
        let hashes: Vec<&(String, u64, String)> =
            files.iter().filter_map(|f| recorded.get(&(d.id.clone(), d.version.clone(), (*f).to_string()))).collect();
        // One file: its hash. Several: the hash of their `sha256sum` lines.
        let (sha256, bytes, collected_at) = if hashes.len() < files.len() {
            (None, None, None)
        } else if let [(sha, bytes, at)] = hashes.as_slice() {
            (Some(sha.clone()), Some(*bytes), Some(at.clone()))
        } else {
            let lines: String = hashes.iter().zip(&files).map(|(h, f)| format!("{}  {f}\n", h.0)).collect();
            let total: u64 = hashes.iter().map(|h| h.1).sum();
            let latest = hashes.iter().map(|h| h.2.clone()).max();
            (Some(super::blobs::digest(lines.as_bytes())), Some(total), latest)
        };
        let controls: Vec<&str> = d.controls.iter().map(|c| c.value.as_str()).collect();
        rows.push(json!({
            "id": d.id, "version": d.version, "title": d.title, "kind": d.kind.name(),
            "effective": d.effective.to_string(), "superseded": superseded.map(ToString::to_string),
            "covers_from": d.covers.map(|c| c.0.to_string()), "covers_to": d.covers.map(|c| c.1.to_string()),
            "owner": d.owner, "approved_by": d.approved_by, "approved_at": d.approved_at.map(|a| a.to_string()),
            "renew": d.renew.as_ref().map(|r| r.0.clone()), "renew_by": d.renew.as_ref().map(|r| r.1.to_string()),
            "subject": d.subject, "controls": controls, "files": files,
            "sha256": sha256, "bytes": bytes, "collected_at": collected_at,
        }));
    }
    let shape: Vec<String> = COLUMNS
        .iter()
        .map(|(name, kind)| {
            let json_type = match *kind {
                k if k.starts_with("VARCHAR[]") => "[\"VARCHAR\"]",
                k if k.starts_with("BIGINT") => "\"BIGINT\"",
                _ => "\"VARCHAR\"",
            };
            format!("\"{name}\": {json_type}")
        })
        .collect();
    let select: Vec<String> = COLUMNS
        .iter()
        .map(|(name, kind)| {
            let column = format!("d.{}", quote_ident(name));
            match kind.split(' ').next().unwrap_or_default() {
                kind @ ("DATE" | "TIMESTAMP") => format!("CAST({column} AS {kind})"),
                _ => column,
            }
        })
        .collect();
    conn.execute(
        &format!(
            "INSERT INTO main.{} SELECT {} FROM (SELECT unnest(from_json(?, '[{{{}}}]')) AS d)",
            quote_ident(SOURCE),
            select.join(", "),
            shape.join(", ")
        ),
        [serde_json::Value::Array(rows).to_string()],
    )?;
    Ok(register.documents.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migrated_empty_table_has_the_columns_a_collect_writes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("quarterdeck.toml"), "[workspace]\nname = \"t\"\n").unwrap();
        let ws = Workspace::open(dir.path(), crate::workspace::Access::ReadWrite).unwrap();
        let described: Vec<(String, String, String)> = ws
            .conn
            .prepare("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'documents' ORDER BY ordinal_position")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected: Vec<(String, String, String)> = COLUMNS
            .iter()
            .map(|(name, kind)| {
                let nullable = if kind.ends_with("NOT NULL") { "NO" } else { "YES" };
                (name.to_string(), kind.trim_end_matches(" NOT NULL").to_string(), nullable.to_string())
            })
            .collect();
        assert_eq!(described, expected);
    }
}
