//! A packet in memory: every file by its path inside the packet, in path
//! order, so that the folder, the zip and the manifest list them alike.

use std::collections::BTreeMap;

/// Files by relative path (`/`-separated), bytes exactly as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PacketFiles(pub BTreeMap<String, Vec<u8>>);

impl PacketFiles {
    pub fn add(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.0.insert(path.into(), bytes.into());
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.0.get(path).map(Vec::as_slice)
    }

    pub fn text(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// One path component from a name a mapping or a person chose: letters,
/// digits, `.`, `_` and `-` kept; anything else (a slash, a space, a
/// control character) written as `~` and its code point in hex; a leading
/// dot escaped too, so no component is `.`, `..` or hidden.
pub fn component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let plain = c.is_ascii_alphanumeric() || matches!(c, '_' | '-') || (c == '.' && i > 0);
        if plain {
            out.push(c);
        } else {
            out.push_str(&format!("~{:x}", c as u32));
        }
    }
    if out.is_empty() { "~".to_string() } else { out }
}

/// The folder of one sample's workpaper, IPE sheet and sample.
pub fn sample_dir(control: &str, spec: &str) -> String {
    format!("controls/{}/{}", component(control), component(spec))
}

/// Whether a path read back from a packet (a manifest entry, a zip entry)
/// stays inside it: relative, `/`-separated, no empty, `.` or `..` part.
pub fn is_inside(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_mappings_become_safe_distinct_components() {
        assert_eq!(component("CHG-1"), "CHG-1");
        assert_eq!(component("deploys.v2"), "deploys.v2");
        assert_eq!(component("../etc"), "~2e.~2fetc");
        assert_eq!(component(".hidden"), "~2ehidden");
        assert_eq!(component("a b"), "a~20b");
        assert_ne!(component("a/b"), component("a_b"));
        assert_eq!(component(""), "~");
        assert!(!component("\u{1b}[31m").contains('\u{1b}'));
    }

    #[test]
    fn only_relative_paths_inside_the_packet_are_accepted() {
        assert!(is_inside("controls/CHG-1/deploys/sample.json"));
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "./a"] {
            assert!(!is_inside(bad), "{bad}");
        }
    }
}
