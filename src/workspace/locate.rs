//! Which workspace opens: `--workspace DIR`, else `$QUARTERDECK_WORKSPACE`,
//! else the current folder if it holds quarterdeck.toml, else the demo
//! workspace in the user's data folder (created on first use by the caller).

use std::path::{Path, PathBuf};

use super::config::CONFIG_FILE;

/// Where a workspace was found, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    Flag(PathBuf),
    Env(PathBuf),
    CurrentDir(PathBuf),
    /// The per-user demo workspace; it may not exist yet.
    Demo(PathBuf),
}

impl Located {
    pub fn path(&self) -> &Path {
        match self {
            Self::Flag(p) | Self::Env(p) | Self::CurrentDir(p) | Self::Demo(p) => p,
        }
    }
}

pub fn locate(flag: Option<&Path>, env: Option<&str>, cwd: &Path) -> Located {
    if let Some(dir) = flag {
        return Located::Flag(dir.to_path_buf());
    }
    if let Some(dir) = env.filter(|d| !d.trim().is_empty()) {
        return Located::Env(PathBuf::from(dir));
    }
    if cwd.join(CONFIG_FILE).is_file() {
        return Located::CurrentDir(cwd.to_path_buf());
    }
    Located::Demo(demo_dir())
}

/// The demo workspace in the user's data folder (e.g. ~/.local/share/quarterdeck/demo).
pub fn demo_dir() -> PathBuf {
    match directories::ProjectDirs::from("", "", "quarterdeck") {
        Some(dirs) => dirs.data_dir().join("demo"),
        None => std::env::temp_dir().join("quarterdeck-demo"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_current_dir_beats_demo() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "").unwrap();
        let flag = Path::new("/a");
        assert_eq!(locate(Some(flag), Some("/b"), dir.path()), Located::Flag(flag.into()));
        assert_eq!(locate(None, Some("/b"), dir.path()), Located::Env("/b".into()));
        assert_eq!(locate(None, None, dir.path()), Located::CurrentDir(dir.path().into()));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(locate(None, Some(""), empty.path()), Located::Demo(_)));
    }
}
