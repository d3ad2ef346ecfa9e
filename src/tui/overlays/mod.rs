//! Overlays drawn over the current view: the command palette, the help
//! generated from the live keymap, confirm dialogs and forms.

pub mod confirm;
pub mod form;
pub mod fuzzy;
pub mod help;
pub mod palette;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::App;

#[derive(Debug)]
pub enum Overlay {
    Palette(Box<palette::Palette>),
    /// Help, scrolled by this many lines.
    Help(usize),
    Confirm(confirm::Confirm),
    Form(form::Form),
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    match &app.overlay {
        Some(Overlay::Palette(palette)) => palette::draw(frame, area, palette),
        Some(Overlay::Help(scroll)) => help::draw(frame, area, &app.keymap, *scroll),
        Some(Overlay::Confirm(confirm)) => confirm::draw(frame, area, confirm),
        Some(Overlay::Form(form)) => form::draw(frame, area, form),
        None => {}
    }
}

/// A centred rectangle of at most `width` × `height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}
