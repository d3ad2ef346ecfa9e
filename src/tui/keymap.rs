//! Keys to actions: defaults in the spirit of k9s and lazygit, changeable in
//! `keymap.toml` in the user's config folder, which also turns mouse
//! capture off (so that a seed or a fingerprint can be selected and copied):
//!
//! ```toml
//! mouse = false
//!
//! [keys]
//! "ctrl-p" = "palette"
//! "x" = "exception"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    /// The message names the file, line and column.
    #[error("{message}")]
    Parse { message: String },
    #[error("{file}: key `{key}`: {message}")]
    Key { file: String, key: String, message: String },
    #[error("cannot read {file}: {source}")]
    Io { file: String, source: std::io::Error },
}

crate::error::kind!(BadInput: KeymapError);

/// A key with its modifiers, as the keymap file names it: `q`, `ctrl-k`,
/// `enter`, `pgdn`, `f1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub ctrl: bool,
    pub alt: bool,
    pub code: KeyName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyName {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

impl Key {
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(c) => KeyName::Char(c),
            KeyCode::Enter => KeyName::Enter,
            KeyCode::Esc => KeyName::Esc,
            KeyCode::Tab => KeyName::Tab,
            KeyCode::BackTab => KeyName::BackTab,
            KeyCode::Up => KeyName::Up,
            KeyCode::Down => KeyName::Down,
            KeyCode::Left => KeyName::Left,
            KeyCode::Right => KeyName::Right,
            KeyCode::PageUp => KeyName::PageUp,
            KeyCode::PageDown => KeyName::PageDown,
            KeyCode::Home => KeyName::Home,
            KeyCode::End => KeyName::End,
            KeyCode::F(n) => KeyName::F(n),
            _ => return None,
        };
        Some(Key {
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
            code,
        })
    }

    pub fn parse(text: &str) -> Option<Key> {
        let mut key = Key { ctrl: false, alt: false, code: KeyName::Esc };
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                key.ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                key.alt = true;
                rest = r;
            } else {
                break;
            }
        }
        key.code = match rest {
            "enter" => KeyName::Enter,
            "esc" => KeyName::Esc,
            "tab" => KeyName::Tab,
            "backtab" | "shift-tab" => KeyName::BackTab,
            "up" => KeyName::Up,
            "down" => KeyName::Down,
            "left" => KeyName::Left,
            "right" => KeyName::Right,
            "pgup" => KeyName::PageUp,
            "pgdn" => KeyName::PageDown,
            "home" => KeyName::Home,
            "end" => KeyName::End,
            "space" => KeyName::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => KeyName::F(f[1..].parse().ok().filter(|n| *n >= 1 && *n <= 12)?),
            c => {
                let mut chars = c.chars();
                let first = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                KeyName::Char(first)
            }
        };
        Some(key)
    }

    pub fn label(&self) -> String {
        let mut out = String::new();
        if self.ctrl {
            out.push_str("ctrl-");
        }
        if self.alt {
            out.push_str("alt-");
        }
        match self.code {
            KeyName::Char(' ') => out.push_str("space"),
            KeyName::Char(c) => out.push(c),
            KeyName::Enter => out.push_str("enter"),
            KeyName::Esc => out.push_str("esc"),
            KeyName::Tab => out.push_str("tab"),
            KeyName::BackTab => out.push_str("shift-tab"),
            KeyName::Up => out.push_str("up"),
            KeyName::Down => out.push_str("down"),
            KeyName::Left => out.push_str("left"),
            KeyName::Right => out.push_str("right"),
            KeyName::PageUp => out.push_str("pgup"),
            KeyName::PageDown => out.push_str("pgdn"),
            KeyName::Home => out.push_str("home"),
            KeyName::End => out.push_str("end"),
            KeyName::F(n) => out.push_str(&format!("f{n}")),
        }
        out
    }
}

const DEFAULTS: &[(&str, Action)] = &[
    ("q", Action::Quit),
    ("?", Action::Help),
    (":", Action::Palette),
    ("ctrl-k", Action::Palette),
    ("esc", Action::Back),
    ("1", Action::ShowDashboard),
    ("2", Action::ShowControls),
    ("3", Action::ShowEvidence),
    ("4", Action::ShowFindings),
    ("5", Action::ShowAudits),
    ("6", Action::ShowSources),
    ("7", Action::ShowQuery),
    ("right", Action::NextTab),
    ("left", Action::PrevTab),
    ("k", Action::Up),
    ("up", Action::Up),
    ("j", Action::Down),
    ("down", Action::Down),
    ("pgup", Action::PageUp),
    ("ctrl-u", Action::PageUp),
    ("pgdn", Action::PageDown),
    ("ctrl-d", Action::PageDown),
    ("g", Action::Top),
    ("home", Action::Top),
    ("G", Action::Bottom),
    ("end", Action::Bottom),
    ("enter", Action::Select),
    ("/", Action::Filter),
    ("tab", Action::NextPane),
    ("r", Action::Refresh),
    ("p", Action::Pass),
    ("x", Action::Exception),
    ("-", Action::NotApplicable),
    ("n", Action::Note),
    ("A", Action::Attach),
    ("a", Action::WholePopulation),
    ("e", Action::FailingRows),
    ("s", Action::SampleRows),
    ("]", Action::NextSpec),
    ("[", Action::PrevSpec),
    ("h", Action::ScrollLeft),
    ("l", Action::ScrollRight),
    ("shift-tab", Action::PrevTab),
    ("N", Action::NewFinding),
    ("E", Action::EditFinding),
    ("S", Action::StartAudit),
    ("C", Action::CloseAudit),
    ("X", Action::ExportPacket),
    ("I", Action::Ingest),
    ("P", Action::Pull),
];

/// The live keymap, and the settings read from the same file.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<Key, Action>,
    /// Whether the UI captures the mouse (`mouse = false` lets the
    /// terminal select text instead).
    pub mouse: bool,
    /// The file the keymap is read from (whether or not it exists).
    pub file: Option<PathBuf>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS.iter().filter_map(|(k, a)| Key::parse(k).map(|k| (k, *a))).collect();
        Self { bindings, mouse: true, file: None }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    mouse: Option<bool>,
    #[serde(default)]
    keys: BTreeMap<String, String>,
}

impl Keymap {
    /// The user's keymap file: `<config dir>/keymap.toml`.
    pub fn user_file() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "quarterdeck").map(|d| d.config_dir().join("keymap.toml"))
    }

    /// The defaults with the user's file laid over them (when it exists).
    pub fn load(file: Option<&Path>) -> Result<Self, KeymapError> {
        let mut keymap = Self { file: file.map(Path::to_path_buf), ..Self::default() };
        let Some(file) = file.filter(|f| f.exists()) else {
            return Ok(keymap);
        };
        let shown = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|source| KeymapError::Io { file: shown.clone(), source })?;
        keymap.overlay(&shown, &text)?;
        Ok(keymap)
    }

    /// Lays `text` (keymap TOML) over the bindings; `"none"` unbinds a key.
    pub fn overlay(&mut self, file: &str, text: &str) -> Result<(), KeymapError> {
        let parsed: KeymapFile = toml::from_str(text).map_err(|e| KeymapError::Parse {
            message: crate::workspace::problems::toml_problem(Path::new(file), text, &e).to_string(),
        })?;
        if let Some(mouse) = parsed.mouse {
            self.mouse = mouse;
        }
        for (key_text, action_text) in parsed.keys {
            let key = Key::parse(&key_text).ok_or_else(|| KeymapError::Key {
                file: file.to_string(),
                key: key_text.clone(),
                message: "not a key name (examples: q, ctrl-k, enter, pgdn, f1)".into(),
            })?;
            if action_text == "none" {
                self.bindings.remove(&key);
                continue;
            }
            let action: Action =
                serde_json::from_value(serde_json::Value::String(action_text.clone())).map_err(|_| {
                    let names: Vec<String> = Action::ALL.iter().map(|a| a.name()).collect();
                    KeymapError::Key {
                        file: file.to_string(),
                        key: key_text.clone(),
                        message: format!(
                            "unknown action `{action_text}`{}",
                            crate::workspace::problems::did_you_mean(&action_text, names.iter().map(String::as_str))
                        ),
                    }
                })?;
            self.bindings.insert(key, action);
        }
        Ok(())
    }

    pub fn action(&self, key: &Key) -> Option<Action> {
        self.bindings.get(key).copied()
    }

    /// The keys bound to `action`, as labels.
    pub fn keys_of(&self, action: Action) -> Vec<String> {
        self.bindings.iter().filter(|(_, a)| **a == action).map(|(k, _)| k.label()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_file_rebinds_and_unbinds() {
        let mut keymap = Keymap::default();
        keymap.overlay("keymap.toml", "[keys]\n\"ctrl-p\" = \"palette\"\n\"q\" = \"none\"\n").unwrap();
        assert_eq!(keymap.action(&Key::parse("ctrl-p").unwrap()), Some(Action::Palette));
        assert_eq!(keymap.action(&Key::parse("q").unwrap()), None);
        assert_eq!(keymap.keys_of(Action::Palette), vec![":", "ctrl-k", "ctrl-p"]);
    }

    #[test]
    fn mouse_capture_is_turned_off_in_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keymap.toml");
        assert!(Keymap::load(Some(&file)).unwrap().mouse, "on by default, with no file");
        std::fs::write(&file, "mouse = false\n[keys]\n\"P\" = \"pass\"\n").unwrap();
        let keymap = Keymap::load(Some(&file)).unwrap();
        assert!(!keymap.mouse);
        assert_eq!(keymap.action(&Key::parse("P").unwrap()), Some(Action::Pass));
        assert_eq!(keymap.file.as_deref(), Some(file.as_path()));
        let err = Keymap::default().overlay("k.toml", "mouse = \"no\"\n").unwrap_err().to_string();
        assert!(err.starts_with("k.toml:1:"), "{err}");
    }

    #[test]
    fn a_bad_file_names_the_key_and_suggests() {
        let mut keymap = Keymap::default();
        let err = keymap.overlay("k.toml", "[keys]\n\"x\" = \"exeption\"\n").unwrap_err().to_string();
        assert!(err.contains("k.toml: key `x`: unknown action `exeption`"), "{err}");
        assert!(err.contains("exception"), "{err}");
        let err = keymap.overlay("k.toml", "[keys]\n\"hyper-x\" = \"quit\"\n").unwrap_err().to_string();
        assert!(err.contains("key `hyper-x`: not a key name"), "{err}");
        let err = keymap.overlay("k.toml", "[keys\n").unwrap_err().to_string();
        assert!(err.starts_with("k.toml:1:"), "{err}");
    }
}
