//! `/` over any list, as in k9s: type to narrow the rows fuzzily
//! (`crate::fuzzy::Haystack`), Enter keeps the filter, Esc clears it.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::grid::scrolled;
use crate::fuzzy::Haystack;
use crate::text::fit;
use crate::tui::action::Action;
use crate::tui::input::{Edit, Input};

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub input: Input,
    /// The filter field has the keyboard.
    pub typing: bool,
}

/// What a key typed into the filter did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// The query changed: the rows shown change.
    Changed,
    /// Enter: the filter stays, the list has the keyboard again.
    Kept,
    /// Esc: the filter is gone.
    Cleared,
    Nothing,
}

/// What one of the keys every filtered, scrolled list shares did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKey {
    /// `h`/`l`: the flexible columns moved.
    Scrolled,
    /// `/`: a new filter, typing; the rows shown change.
    FilterStarted,
    /// Esc with a filter set: the filter is gone, every row is shown.
    FilterCleared,
}

impl ListFilter {
    /// The keys every list shares — `h`/`l` over `first_column` (of
    /// `flexible` columns), `/`, and Esc while a filter is set; None for any
    /// other key (and for Esc without a filter, which goes back).
    pub fn list_key(&mut self, action: Action, first_column: &mut usize, flexible: usize) -> Option<ListKey> {
        match action {
            Action::ScrollLeft | Action::ScrollRight => {
                *first_column = scrolled(*first_column, action, flexible);
                Some(ListKey::Scrolled)
            }
            Action::Filter => {
                self.start();
                Some(ListKey::FilterStarted)
            }
            Action::Back if self.active() => {
                self.clear();
                Some(ListKey::FilterCleared)
            }
            _ => None,
        }
    }

    /// `/`: a new filter each time.
    pub fn start(&mut self) {
        self.input = Input::default();
        self.typing = true;
    }

    pub fn active(&self) -> bool {
        !self.input.text.trim().is_empty()
    }

    pub fn clear(&mut self) {
        self.input = Input::default();
        self.typing = false;
    }

    pub fn key(&mut self, key: &KeyEvent) -> Typed {
        match self.input.key(key) {
            Edit::Changed => Typed::Changed,
            Edit::Submit | Edit::Next => {
                self.typing = false;
                Typed::Kept
            }
            Edit::Leave => {
                self.clear();
                Typed::Cleared
            }
            _ => Typed::Nothing,
        }
    }

    /// The indices of `labels` the query matches, best first (all, in
    /// order, without a query).
    pub fn matching<S: AsRef<str>>(&self, labels: impl IntoIterator<Item = S>) -> Vec<usize> {
        let labels: Vec<S> = labels.into_iter().collect();
        let query = self.input.text.trim();
        if query.is_empty() {
            return (0..labels.len()).collect();
        }
        let mut haystack = Haystack::new(labels.iter().map(|l| l.as_ref()));
        haystack.rank(query, 0..labels.len())
    }

    /// The filter line: `/query` while typing or kept, else `hint`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, hint: &str, shown: usize, total: usize) {
        let line = if self.typing || self.active() {
            Line::from(vec![
                "/".bold(),
                Span::raw(fit(&self.input.text, area.width.saturating_sub(24) as usize)),
                Span::styled(format!("  {shown} of {total} · esc clears"), Style::new().dark_gray()),
            ])
        } else {
            Line::styled(fit(hint, area.width as usize), Style::new().dark_gray())
        };
        frame.render_widget(Paragraph::new(line), area);
        if self.typing {
            let x = (area.x + 1 + self.input.cursor as u16).min(area.right().saturating_sub(1));
            frame.set_cursor_position((x, area.y));
        }
    }
}
