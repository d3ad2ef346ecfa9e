//! The files behind a sample in the packet: each sampled row's attachments
//! (`attachments/<sha256 prefix>-<name>`) and, for a sample of the
//! `documents` source, each sampled document's files as they were collected
//! (`documents/<path as declared>`). Bytes come from the content-addressed
//! store and are re-hashed on the way: a stored file that no longer matches
//! its hash stops the export rather than reach the auditor. The manifest
//! then hashes them like every other file.

use super::PacketError;
use super::dossier::{ControlDossier, SampleDossier};
use super::files::{PacketFiles, component};
use crate::audit::attachments::Attachment;
use crate::workspace::Workspace;
use crate::workspace::documents::{self, blobs};
use crate::workspace::mapping::PopulationDef;

/// Adds the sample's files under `dir`.
pub fn add(
    ws: &Workspace,
    control: &ControlDossier,
    drawn: &SampleDossier,
    dir: &str,
    files: &mut PacketFiles,
) -> Result<(), PacketError> {
    for row in &drawn.sample.rows {
        for a in &row.attachments {
            files.add(format!("{dir}/{}", attachment_path(a)), blob(ws, &a.sha256)?);
        }
    }
    if !over_documents(control, &drawn.sample.spec) {
        return Ok(());
    }
    let mut stmt = ws.conn.prepare(
        "SELECT path, sha256 FROM qd.document_files WHERE document = ? AND version = ? AND current ORDER BY path",
    )?;
    for row in &drawn.sample.rows {
        let mut parts = row.key.parts();
        let (Some(id), Some(version)) = (parts.next(), parts.next()) else { continue };
        let stored: Vec<(String, String)> =
            stmt.query_map([id, version], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        for (path, sha256) in stored {
            let shown: Vec<String> = path.split('/').map(component).collect();
            files.add(format!("{dir}/{}", shown.join("/")), blob(ws, &sha256)?);
        }
    }
    Ok(())
}

/// Where the packet keeps an attachment, relative to its sample's folder:
/// its hash's first 12 digits keep two files of one name apart.
pub fn attachment_path(a: &Attachment) -> String {
    format!("attachments/{}-{}", a.sha256.get(..12).unwrap_or(&a.sha256), component(&a.name))
}

/// Whether the spec's population is the document register.
fn over_documents(control: &ControlDossier, spec: &str) -> bool {
    control.control.as_ref().and_then(|c| c.evidence.iter().find(|s| s.name == spec)).is_some_and(
        |s| matches!(&s.population, PopulationDef::Source { source, .. } if source.value == documents::SOURCE),
    )
}

fn blob(ws: &Workspace, sha256: &str) -> Result<Vec<u8>, PacketError> {
    let path = blobs::relative_path(sha256);
    let bytes = std::fs::read(ws.root.join(&path)).map_err(|source| PacketError::Io { path: path.clone(), source })?;
    if blobs::digest(&bytes) != sha256 {
        return Err(PacketError::Unreadable {
            what: format!("{path}: its content no longer matches its sha256 (run `quarterdeck verify`)"),
        });
    }
    Ok(bytes)
}
