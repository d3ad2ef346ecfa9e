//! Files attached to a sampled row (or a finding's population row): the
//! ticket, the screenshot, the approval that lives elsewhere. Kept in the
//! content-addressed store, linked to the row with name, size and sha256,
//! logged; a closed audit takes none.

use std::collections::BTreeMap;
use std::path::Path;

use duckdb::Connection;
use serde::Serialize;
use serde_json::json;

use super::AuditError;
use super::record;
use super::sampling::key::{SampleKey, find_sampled_row};
use crate::workspace::documents::blobs;
use crate::workspace::{Workspace, action_log, actor};

/// One attached file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
    /// Where the store keeps it, relative to the workspace.
    pub stored: String,
    pub note: Option<String>,
    pub attached_by: String,
    pub attached_at: String,
}

/// Attaches `file` to the row `key` of `control` in audit `label`.
pub fn attach(
    ws: &Workspace,
    label: &str,
    control: &str,
    key: &str,
    file: &Path,
    note: Option<&str>,
) -> Result<Attachment, AuditError> {
    ws.ensure_writable("attaching a file")?;
    let audit = record::open_for_change(ws, label)?;
    if !audit.controls.iter().any(|c| c == control) {
        return Err(AuditError::NotInScope { audit: label.to_string(), control: control.to_string() });
    }
    let (sample_id, key) = match find_sampled_row(&ws.conn, label, control, key) {
        Ok(found) => found,
        Err(AuditError::NotSampled { .. }) => finding_row(&ws.conn, label, control, key)?.ok_or_else(|| {
            AuditError::Refused(format!(
                "key `{key}` is neither in audit `{label}`'s sample of control `{control}` nor a population row of one of its findings; nothing was attached"
            ))
        })?,
        Err(e) => return Err(e),
    };
    let name = file_name(file)?;
    let refuse = |why: String| AuditError::Refused(format!("{}: {why}; nothing was attached", file.display()));
    let meta = std::fs::metadata(file).map_err(|e| refuse(e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    if meta.len() == 0 {
        return Err(refuse("the file is empty (0 bytes)".into()));
    }
    let mut reader = std::fs::File::open(file).map_err(|e| refuse(e.to_string()))?;
    // Stored before the transaction: a blob no row names is harmless, a
    // row naming a blob that is not there is not.
    let (sha256, bytes) = blobs::store(&ws.root, &mut reader, &mut blobs::buffer())
        .and_then(|stored| blobs::sync(&ws.root).map(|()| stored))
        .map_err(|e| refuse(e.to_string()))?;
    let attachment = Attachment {
        name,
        bytes,
        stored: blobs::relative_path(&sha256),
        sha256,
        note: note.map(str::trim).filter(|n| !n.is_empty()).map(String::from),
        attached_by: actor(),
        attached_at: ws.now_text(),
    };
    action_log::change(ws, || -> Result<(), AuditError> {
        ws.conn.execute(
            "INSERT INTO qd.attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), ?)",
            duckdb::params![
                label,
                control,
                sample_id,
                key.as_str(),
                attachment.name,
                attachment.sha256,
                attachment.bytes as i64,
                attachment.note,
                attachment.attached_at,
                attachment.attached_by
            ],
        )?;
        action_log::append(
            ws,
            "attachment",
            json!({"audit": label, "control": control, "sample_id": sample_id, "key": key, "name": attachment.name,
                   "sha256": attachment.sha256, "bytes": attachment.bytes, "note": attachment.note}),
        )?;
        Ok(())
    })?;
    Ok(attachment)
}

/// A population row one of the control's findings in this audit names.
fn finding_row(conn: &Connection, label: &str, control: &str, typed: &str) -> duckdb::Result<Option<(i64, SampleKey)>> {
    let mut stmt = conn.prepare(
        "SELECT p.sample_id, p.key FROM qd.finding_population_rows p JOIN qd.findings f ON f.id = p.finding_id
         WHERE f.audit = ? AND f.control = ? AND (p.key = ? OR replace(p.key, chr(31), ' | ') = ?)
         ORDER BY p.key = ? DESC, p.sample_id LIMIT 1",
    )?;
    let mut rows = stmt.query_map(duckdb::params![label, control, typed, typed, typed], |r| {
        Ok((r.get::<_, i64>(0)?, SampleKey::canonical(r.get::<_, String>(1)?)))
    })?;
    rows.next().transpose()
}

/// The name an attachment is shown by: the file's own, without folders.
fn file_name(file: &Path) -> Result<String, AuditError> {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(AuditError::Refused(format!(
            "{}: a file name without control characters is needed; nothing was attached",
            crate::text::visible(&file.display().to_string())
        )));
    }
    Ok(name)
}

/// The attachments of one sample's rows, by canonical key, in order.
pub fn of_sample(conn: &Connection, sample_id: i64) -> duckdb::Result<BTreeMap<String, Vec<Attachment>>> {
    let mut stmt = conn.prepare(
        "SELECT key, name, bytes, sha256, note, attached_by, strftime(attached_at, '%Y-%m-%d %H:%M:%S')
         FROM qd.attachments WHERE sample_id = ? ORDER BY attached_at, rowid",
    )?;
    let mut by_key: BTreeMap<String, Vec<Attachment>> = BTreeMap::new();
    let rows = stmt.query_map([sample_id], |r| {
        let sha256: String = r.get(3)?;
        Ok((
            r.get::<_, String>(0)?,
            Attachment {
                name: r.get(1)?,
                bytes: r.get::<_, i64>(2)?.max(0) as u64,
                stored: blobs::relative_path(&sha256),
                sha256,
                note: r.get(4)?,
                attached_by: r.get(5)?,
                attached_at: r.get(6)?,
            },
        ))
    })?;
    for row in rows {
        let (key, attachment) = row?;
        by_key.entry(key).or_default().push(attachment);
    }
    Ok(by_key)
}
