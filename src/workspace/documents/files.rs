//! A document's files on disk: present, a regular non-empty file, and — a
//! symlink followed — still inside the workspace. `check` asks without
//! reading them; `collect` and the state listing open them through here.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::Document;
use crate::workspace::problems::Problem;

/// Why a declared file cannot be read as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Missing,
    NotAFile,
    Empty,
    OutsideWorkspace(PathBuf),
    Unreadable(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => write!(f, "no such file"),
            Self::NotAFile => write!(f, "not a regular file"),
            Self::Empty => write!(f, "the file is empty (0 bytes): an empty file proves nothing"),
            Self::OutsideWorkspace(to) => {
                write!(f, "a symlink out of the workspace (to {}); copy the file into `documents/`", to.display())
            }
            Self::Unreadable(why) => write!(f, "cannot be read: {why}"),
        }
    }
}

/// The file opened for reading, with its size, or why it cannot be.
pub fn open(root: &Path, relative: &str) -> Result<(File, u64), Unusable> {
    let path = root.join(relative);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(Unusable::Unreadable(e.to_string())),
    };
    let real = if meta.file_type().is_symlink() || has_linked_parent(root, relative) {
        let real = std::fs::canonicalize(&path).map_err(|_| Unusable::Missing)?;
        let home = std::fs::canonicalize(root).map_err(|e| Unusable::Unreadable(e.to_string()))?;
        if !real.starts_with(&home) {
            return Err(Unusable::OutsideWorkspace(real));
        }
        real
    } else {
        path
    };
    let file = File::open(&real).map_err(|e| Unusable::Unreadable(e.to_string()))?;
    // What was opened is what is judged: the handle's own metadata.
    let meta = file.metadata().map_err(|e| Unusable::Unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(Unusable::NotAFile);
    }
    if meta.len() == 0 {
        return Err(Unusable::Empty);
    }
    Ok((file, meta.len()))
}

/// Whether a folder on the way to the file is a symlink.
fn has_linked_parent(root: &Path, relative: &str) -> bool {
    let mut at = root.to_path_buf();
    let parts: Vec<_> = Path::new(relative).components().collect();
    parts[..parts.len().saturating_sub(1)].iter().any(|part| {
        at.push(part);
        std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink())
    })
}

/// Each declared file that cannot be used, at its place in the register.
pub fn problems(root: &Path, document: &Document) -> Vec<Problem> {
    document
        .files
        .iter()
        .filter_map(|file| {
            open(root, &file.value).err().map(|why| {
                Problem::error(
                    file.location.clone(),
                    format!("document `{}`: file `{}`: {why}", document.id, file.value),
                )
            })
        })
        .collect()
}
