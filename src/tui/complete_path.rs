//! Tab completion of a file path typed in a field, the way a shell does
//! it: the longest common continuation of the names in its folder that
//! start with what was typed; a folder completed whole gets its `/`.
//! `~/` is the home folder. Names that are not valid text are skipped.

use std::path::{Path, PathBuf};

/// What Tab makes of `typed`, relative paths taken from `cwd`; `None` when
/// nothing matches. The list is of the candidates when several remain.
pub fn complete(typed: &str, cwd: &Path, home: Option<&Path>) -> Option<(String, Vec<String>)> {
    let (folder_text, stem) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let folder = resolve(folder_text, cwd, home)?;
    let mut names: Vec<(String, bool)> = std::fs::read_dir(folder)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            // Hidden files only when asked for with a leading dot.
            (name.starts_with(stem) && (stem.starts_with('.') || !name.starts_with('.')))
                .then(|| (name, e.path().is_dir()))
        })
        .collect();
    names.sort();
    let (first, _) = names.first()?;
    let common = names.iter().fold(first.clone(), |common, (name, _)| {
        common.chars().zip(name.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect()
    });
    let mut completed = format!("{folder_text}{common}");
    if let [(_, true)] = names.as_slice() {
        completed.push('/');
    }
    let listed = if names.len() > 1 {
        names.into_iter().map(|(n, dir)| if dir { format!("{n}/") } else { n }).collect()
    } else {
        Vec::new()
    };
    Some((completed, listed))
}

/// The typed path as a path: `~/` from home, relative from `cwd`.
pub fn resolve(text: &str, cwd: &Path, home: Option<&Path>) -> Option<PathBuf> {
    if text == "~" || text.starts_with("~/") {
        return Some(home?.join(text.trim_start_matches('~').trim_start_matches('/')));
    }
    let path = Path::new(text);
    Some(if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_like_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("tickets/2026")).unwrap();
        std::fs::write(root.join("tickets/CHG-101.png"), "x").unwrap();
        std::fs::write(root.join("tickets/CHG-102.png"), "x").unwrap();
        std::fs::write(root.join("tickets/.hidden"), "x").unwrap();
        assert_eq!(complete("tick", root, None), Some(("tickets/".into(), vec![])));
        let (text, listed) = complete("tickets/CH", root, None).unwrap();
        assert_eq!(text, "tickets/CHG-10");
        assert_eq!(listed, ["CHG-101.png", "CHG-102.png"]);
        assert_eq!(complete("tickets/2", root, None), Some(("tickets/2026/".into(), vec![])));
        let all = complete("tickets/", root, None).unwrap().1;
        assert!(!all.iter().any(|n| n.starts_with('.')), "{all:?}");
        assert_eq!(complete("nothing-here", root, None), None);
        let absolute = format!("{}/tickets/CHG-101", root.display());
        assert_eq!(complete(&absolute, Path::new("/"), None).unwrap().0, format!("{absolute}.png"));
        assert_eq!(complete("~/tickets/CHG-101", Path::new("/"), Some(root)).unwrap().0, "~/tickets/CHG-101.png");
    }
}
