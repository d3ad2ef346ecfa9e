//! Which workspace opens: `--workspace DIR`, else `$QUARTERDECK_WORKSPACE`,
//! else the current folder if it holds quarterdeck.toml, else the demo
//! workspace in the user's data folder (created on first use by the caller).

use std::path::{Path, PathBuf};

use super::config::CONFIG_FILE;

/// Where a workspace was found, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovered {
    Flag(PathBuf),
    Env(PathBuf),
    CurrentDir(PathBuf),
    /// The per-user demo workspace; it may not exist yet.
    Demo(PathBuf),
}

impl Discovered {
    pub fn path(&self) -> &Path {
        match self {
            Self::Flag(p) | Self::Env(p) | Self::CurrentDir(p) | Self::Demo(p) => p,
        }
    }
}

pub fn discover(flag: Option<&Path>, env: Option<&str>, cwd: &Path) -> Discovered {
    if let Some(dir) = flag {
        return Discovered::Flag(dir.to_path_buf());
    }
    if let Some(dir) = env.filter(|d| !d.trim().is_empty()) {
        return Discovered::Env(PathBuf::from(dir));
    }
    if cwd.join(CONFIG_FILE).is_file() {
        return Discovered::CurrentDir(cwd.to_path_buf());
    }
    Discovered::Demo(demo_dir())
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
        assert_eq!(discover(Some(flag), Some("/b"), dir.path()), Discovered::Flag(flag.into()));
        assert_eq!(discover(None, Some("/b"), dir.path()), Discovered::Env("/b".into()));
        assert_eq!(discover(None, None, dir.path()), Discovered::CurrentDir(dir.path().into()));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(discover(None, Some(""), empty.path()), Discovered::Demo(_)));
    }
}
