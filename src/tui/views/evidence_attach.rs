//! The Evidence view's `A`: a path field that attaches a file to the
//! selected sampled row, Tab completing the path from the folder the
//! terminal UI was started in (or `~/`).

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};

use crate::tui::complete_path::{complete, resolve};
use crate::tui::input::{Edit, Input};

/// The path being typed, and the names a Tab left to choose from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachField {
    pub input: Input,
    pub choices: Vec<String>,
}

/// What a key did to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// Enter on a path: attach this file.
    Attach(PathBuf),
    Leave,
    Editing,
}

impl AttachField {
    pub fn key(&mut self, key: &KeyEvent) -> Typed {
        let cwd = std::env::current_dir().unwrap_or_default();
        let home = std::env::var_os("HOME").map(PathBuf::from);
        if key.code == KeyCode::Tab {
            match complete(&self.input.text, &cwd, home.as_deref()) {
                Some((text, choices)) => {
                    self.input = Input::with(&text);
                    self.choices = choices;
                }
                None => self.choices = vec!["(no match)".into()],
            }
            return Typed::Editing;
        }
        match self.input.key(key) {
            Edit::Submit => match resolve(self.input.text.trim(), &cwd, home.as_deref()) {
                Some(path) if !self.input.text.trim().is_empty() => Typed::Attach(path),
                _ => Typed::Editing,
            },
            Edit::Leave => Typed::Leave,
            _ => {
                self.choices.clear();
                Typed::Editing
            }
        }
    }
}
