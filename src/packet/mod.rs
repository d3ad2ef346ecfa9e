//! Audit packets: what the auditor receives at the end of fieldwork, in one
//! step, re-performable and provably unaltered. `export` reads the audit
//! through the read model (`dossier`), renders every file in memory, seals
//! them in a manifest and writes the folder (or zip) whole or not at all;
//! `verify` checks a packet on its own and against the workspace.
//!
//! Knows nothing of the command line or the terminal UI.

pub mod archive;
pub mod dossier;
pub mod evidence_files;
pub mod export;
pub mod files;
pub mod ipe;
pub mod manifest;
pub mod oscal;
pub mod oscal_input;
pub mod render;
pub mod tables;
pub mod verify;
pub mod workpaper;

use crate::audit::AuditError;
use crate::error::{ErrorKind, Kind};
use crate::workspace::WorkspaceError;

pub use export::{Exported, PacketRequest, export, export_with};

#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("database: {0}")]
    Database(#[from] duckdb::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the action log is empty: there is no audit to export")]
    EmptyLog,
    #[error("cannot read {what}")]
    Unreadable { what: String },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("{path}: not a packet: {reason}")]
    NotAPacket { path: String, reason: String },
    #[error("{path} already exists and is not a packet; choose another --out")]
    Occupied { path: String },
}

impl Kind for PacketError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Audit(e) => e.kind(),
            Self::Workspace(e) => e.kind(),
            Self::Warehouse(e) => e.kind(),
            Self::Database(_) | Self::Json(_) | Self::Io { .. } | Self::Unreadable { .. } => ErrorKind::Internal,
            Self::EmptyLog | Self::Template { .. } | Self::NotAPacket { .. } | Self::Occupied { .. } => {
                ErrorKind::BadInput
            }
        }
    }
}

impl PacketError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }
}
