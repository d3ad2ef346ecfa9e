//! `quarterdeck init DIR`: a new workspace with an example quarterdeck.toml,
//! example controls and a little evidence to ingest, ready for `check`.

use std::path::{Path, PathBuf};

use super::config::CONFIG_FILE;
use super::{Access, Workspace, WorkspaceError};

const EXAMPLE_FILES: &[(&str, &str)] = &[
    (CONFIG_FILE, include_str!("../../assets/example/quarterdeck.toml")),
    ("controls/change.toml", include_str!("../../assets/example/controls/change.toml")),
    ("evidence/deploys.csv", include_str!("../../assets/example/evidence/deploys.csv")),
    ("evidence/pull_requests.csv", include_str!("../../assets/example/evidence/pull_requests.csv")),
];

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} already holds a workspace (quarterdeck.toml); nothing was changed")]
    Exists(PathBuf),
    #[error("{0} exists and is not empty; init needs a new or empty folder")]
    NotEmpty(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

impl crate::error::Kind for InitError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Workspace(e) => e.kind(),
            _ => ErrorKind::BadInput,
        }
    }
}

/// Creates the workspace folder with the example files and its database.
/// On any failure, the files written so far are removed again.
pub fn init(dir: &Path) -> Result<Workspace, InitError> {
    if dir.join(CONFIG_FILE).exists() {
        return Err(InitError::Exists(dir.to_path_buf()));
    }
    let existed = dir.exists();
    if existed && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(InitError::NotEmpty(dir.to_path_buf()));
    }
    let result = write_examples(dir).and_then(|()| Ok(Workspace::open(dir, Access::ReadWrite)?));
    if result.is_err() {
        for (name, _) in EXAMPLE_FILES {
            let _ = std::fs::remove_file(dir.join(name));
        }
        for sub in ["controls", "evidence"] {
            let _ = std::fs::remove_dir(dir.join(sub));
        }
        let _ = std::fs::remove_file(dir.join(super::DB_FILE));
        if !existed {
            let _ = std::fs::remove_dir(dir);
        }
    }
    result
}

fn write_examples(dir: &Path) -> Result<(), InitError> {
    for (name, text) in EXAMPLE_FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| InitError::Write { path: parent.to_path_buf(), source })?;
        }
        std::fs::write(&path, text).map_err(|source| InitError::Write { path: path.clone(), source })?;
    }
    Ok(())
}
