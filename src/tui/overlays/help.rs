//! Help, generated from the live keymap: what the user rebound shows here.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;

/// One line per action: its keys and what it does.
pub fn lines(keymap: &Keymap) -> Vec<Line<'static>> {
    Action::ALL
        .iter()
        .map(|action| {
            let keys = keymap.keys_of(*action);
            let keys = if keys.is_empty() { "(unbound)".to_string() } else { keys.join(" ") };
            Line::from(vec![
                Span::styled(format!("{keys:>18}  "), Style::new().cyan().bold()),
                Span::raw(action.describe()),
                Span::styled(format!("  ({})", action.name()), Style::new().dark_gray()),
            ])
        })
        .collect()
}

/// Scrolls the help by `lines` (up when negative); it stays open.
pub fn scrolled(scroll: &mut usize, lines: isize) -> super::Outcome {
    *scroll = scroll.saturating_add_signed(lines);
    super::Outcome::Stay
}

pub fn draw(frame: &mut Frame, area: Rect, keymap: &Keymap, scroll: usize) {
    let rect = super::centered(area, 86, 44);
    frame.render_widget(Clear, rect);
    let mut text = lines(keymap);
    text.push(Line::from(""));
    text.push(Line::from(
        "Keys are changed in keymap.toml in your config folder, e.g. [keys] \"ctrl-p\" = \"palette\".",
    ));
    let scroll = scroll.min(text.len().saturating_sub(1)) as u16;
    let block = Block::default().borders(Borders::ALL).title(" Help — esc closes ");
    frame.render_widget(Paragraph::new(text).scroll((scroll, 0)).block(block), rect);
}
