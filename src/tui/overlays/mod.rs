//! Overlays drawn over the current view: the command palette, the help
//! generated from the live keymap, confirm dialogs and forms.

pub mod confirm;
pub mod form;
pub mod help;
pub mod palette;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::Action;
use super::keymap::Keymap;
use super::messages::Request;
use super::overview::Overview;

#[derive(Debug)]
pub enum Overlay {
    Palette(Box<palette::Palette>),
    /// Help, scrolled by this many lines.
    Help(usize),
    Confirm(confirm::Confirm),
    Form(form::Form),
}

/// What a key or an action in an overlay came to; the app does the rest.
#[derive(Debug)]
pub enum Outcome {
    /// Still open.
    Stay,
    /// Closed; nothing to do.
    Close,
    /// Closed by the person's no (Esc, n): said as "cancelled".
    Cancel,
    /// A palette entry was chosen.
    Chosen(palette::Target),
    /// The form's or the confirmed request, to send.
    Send(Request),
    /// The form has a problem: it stays open and the status says what.
    Invalid(String),
}

impl Overlay {
    /// Whether the overlay has the keyboard (its keys are text, not actions).
    pub fn typing(&self) -> bool {
        matches!(self, Overlay::Palette(_) | Overlay::Form(_))
    }

    /// A key typed into a palette or a form.
    pub fn key(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Outcome {
        match self {
            Overlay::Palette(palette) => palette.key(key),
            Overlay::Form(form) => form.key(key, overview),
            Overlay::Help(_) | Overlay::Confirm(_) => Outcome::Stay,
        }
    }

    /// An action (a key through the keymap) while the overlay is open.
    pub fn act(&mut self, action: Action, keymap: &Keymap) -> Outcome {
        let last = help::lines(keymap).len().saturating_sub(1);
        match (self, action) {
            (_, Action::Back) => Outcome::Close,
            (Overlay::Help(_), Action::Help | Action::Quit) => Outcome::Close,
            (Overlay::Help(scroll), Action::Down) => help::scrolled(scroll, 1, last),
            (Overlay::Help(scroll), Action::Up) => help::scrolled(scroll, -1, last),
            (Overlay::Help(scroll), Action::PageDown) => help::scrolled(scroll, 10, last),
            (Overlay::Help(scroll), Action::PageUp) => help::scrolled(scroll, -10, last),
            (Overlay::Help(scroll), Action::Top) => help::scrolled(scroll, -(last as isize), last),
            (Overlay::Help(scroll), Action::Bottom) => help::scrolled(scroll, last as isize, last),
            (Overlay::Confirm(confirm), Action::Select) => confirm.answer(true),
            (Overlay::Confirm(confirm), Action::Quit) => confirm.answer(false),
            _ => Outcome::Stay,
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, overlay: &Overlay, keymap: &Keymap) {
    match overlay {
        Overlay::Palette(palette) => palette::draw(frame, area, palette),
        Overlay::Help(scroll) => help::draw(frame, area, keymap, *scroll),
        Overlay::Confirm(confirm) => confirm::draw(frame, area, confirm),
        Overlay::Form(form) => form::draw(frame, area, form),
    }
}

/// A centred rectangle of at most `width` × `height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}
