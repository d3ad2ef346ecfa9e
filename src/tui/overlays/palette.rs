//! The command palette (`:` or Ctrl-K): one fuzzy list over actions,
//! controls, findings, sources and auditor questions.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph};

use super::Outcome;
use crate::fuzzy::Haystack;
use crate::text::fit;
use crate::tui::action::Action;
use crate::tui::input::{Edit, Input};
use crate::tui::keymap::Keymap;
use crate::tui::overview::Overview;

/// What choosing an item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Action(Action),
    Control(String),
    Finding(String),
    Source(String),
    Question(String),
}

#[derive(Debug, Clone)]
pub struct Item {
    pub kind: &'static str,
    pub label: String,
    pub target: Target,
    /// The keys bound to a command (from the live keymap), shown beside it.
    pub keys: String,
}

pub struct Palette {
    pub input: Input,
    pub items: Vec<Item>,
    /// Indices into `items`, best match first.
    pub matches: Vec<usize>,
    pub selected: usize,
    haystack: Haystack,
    /// The last queries' rankings, so that erasing a character costs nothing.
    recent: Vec<(String, Vec<usize>)>,
    /// The query `matches` answers: a longer query only narrows it.
    matched_for: String,
}

/// How many recent queries keep their ranking.
const RECENT: usize = 32;

impl std::fmt::Debug for Palette {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Palette").field("input", &self.input).field("matches", &self.matches.len()).finish()
    }
}

impl Palette {
    /// Every command (motions are keys, not commands) with its keys, then
    /// the controls, findings, sources and questions.
    pub fn new(overview: Option<&Overview>, keymap: &Keymap) -> Self {
        let mut items: Vec<Item> = Action::ALL
            .iter()
            .filter(|a| !a.is_motion())
            .map(|a| Item {
                kind: "command",
                label: match a.home() {
                    Some(tab) => format!("{}: {}", tab.title(), a.describe()),
                    None => a.describe().to_string(),
                },
                target: Target::Action(*a),
                keys: keymap.keys_of(*a).join(" "),
            })
            .collect();
        let item = |kind, label: String, target| Item { kind, label, target, keys: String::new() };
        if let Some(o) = overview {
            items.extend(
                o.controls
                    .iter()
                    .map(|c| item("control", format!("{} {}", c.id, c.title), Target::Control(c.id.clone()))),
            );
            items.extend(
                o.findings
                    .iter()
                    .map(|f| item("finding", format!("{} {}", f.id, f.title), Target::Finding(f.id.clone()))),
            );
            items.extend(o.sources.iter().map(|s| item("source", s.name.clone(), Target::Source(s.name.clone()))));
            items.extend(o.questions.iter().map(|q| {
                let text = q.text.replace("{n}", &q.size.to_string()).replace("{period}", "last quarter");
                item("question", text.clone(), Target::Question(text))
            }));
        }
        Self::with_items(items)
    }

    pub fn with_items(items: Vec<Item>) -> Self {
        let matches = (0..items.len()).collect();
        let haystack = Haystack::new(items.iter().map(|i| &i.label));
        Self {
            input: Input::default(),
            items,
            matches,
            selected: 0,
            haystack,
            recent: Vec::new(),
            matched_for: String::new(),
        }
    }

    /// Re-ranks after the query changed. A query that extends the last one
    /// only looks at the last matches (each word of a query is matched on its own, so a
    /// match of the longer query is a match of the shorter); see `fuzzy` for how a keystroke stays cheap.
    pub fn refilter(&mut self) {
        let query = self.input.text.trim().to_string();
        if let Some((_, matches)) = self.recent.iter().find(|(q, _)| *q == query) {
            // Backspace: the shorter query was ranked a keystroke ago.
            self.matches = matches.clone();
        } else {
            let candidates: Vec<usize> = if !self.matched_for.is_empty() && query.starts_with(&self.matched_for) {
                std::mem::take(&mut self.matches)
            } else {
                (0..self.items.len()).collect()
            };
            self.matches = if query.is_empty() {
                (0..self.items.len()).collect()
            } else {
                self.haystack.rank(&query, candidates.into_iter())
            };
            if self.recent.len() == RECENT {
                self.recent.remove(0);
            }
            self.recent.push((query.clone(), self.matches.clone()));
        }
        self.matched_for = query;
        self.selected = 0;
    }

    pub fn key(&mut self, key: &KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.matches.len().saturating_sub(1));
                return Outcome::Stay;
            }
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                return Outcome::Stay;
            }
            _ => {}
        }
        match self.input.key(key) {
            Edit::Changed => {
                self.refilter();
                Outcome::Stay
            }
            Edit::Submit => match self.matches.get(self.selected) {
                Some(&i) => Outcome::Chosen(self.items[i].target.clone()),
                None => Outcome::Stay,
            },
            Edit::Leave => Outcome::Close,
            _ => Outcome::Stay,
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, palette: &Palette) {
    let rect = super::centered(area, 80, 20);
    frame.render_widget(Clear, rect);
    let block = Block::default().borders(Borders::ALL).title(format!(
        " Palette — {} of {} ",
        palette.matches.len(),
        palette.items.len()
    ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [input, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(Line::from(vec![":".bold(), Span::raw(palette.input.text.clone())])), input);
    let keys_width = 12;
    let width = list.width.saturating_sub(12 + keys_width) as usize;
    let shown = list.height as usize;
    let first = palette.selected.saturating_sub(shown.saturating_sub(1));
    let items: Vec<ListItem> = palette
        .matches
        .iter()
        .skip(first)
        .take(shown)
        .map(|&i| {
            let item = &palette.items[i];
            let label = fit(&item.label, width);
            let pad = width.saturating_sub(crate::text::width(&label));
            ListItem::new(Line::from(vec![
                Span::styled(format!("{:<9} ", item.kind), Style::new().dark_gray()),
                Span::raw(label),
                Span::raw(" ".repeat(pad + 1)),
                Span::styled(fit(&item.keys, keys_width as usize), Style::new().cyan().bold()),
            ]))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(palette.selected - first));
    frame.render_stateful_widget(List::new(items).highlight_style(Style::new().reversed()), list, &mut state);
    if inner.width > 1 {
        frame.set_cursor_position((input.x + 1 + palette.input.cursor as u16, input.y));
    }
}
