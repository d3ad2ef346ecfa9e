//! Help, generated from the live keymap (what the user rebound shows here),
//! grouped by the tab a key works on; it scrolls (j/k, PgUp/PgDn) and names
//! the file the keymap and the mouse setting are read from.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::text::visible;
use crate::tui::action::Action;
use crate::tui::effect::Tab;
use crate::tui::keymap::Keymap;

/// What the keys that work everywhere mean on each tab.
fn tab_notes(tab: Tab) -> &'static [&'static str] {
    match tab {
        Tab::Dashboard => &["tab or j/k selects a panel (▶), enter opens the list it sums up"],
        Tab::Controls => &["/ filters controls; tab shows the criteria; enter drills into the evidence"],
        Tab::Evidence => &["h/l scroll the columns (the key stays); / filters the rows; esc clears, then goes back"],
        Tab::Findings => &["/ filters findings; enter edits the selected one"],
        Tab::Audits => &[
            "enter shows the audit's result per control; enter on a control opens its sample",
            "/ filters audits; esc goes back to the list",
        ],
        Tab::Sources => &["/ filters sources"],
        Tab::Query => &["tab moves between the SQL line, the results and the questions; h/l scroll the results"],
    }
}

fn action_line(keymap: &Keymap, action: Action) -> Line<'static> {
    let keys = keymap.keys_of(action);
    let keys = if keys.is_empty() { "(unbound)".to_string() } else { keys.join(" ") };
    Line::from(vec![
        Span::styled(format!("{keys:>18}  "), Style::new().cyan().bold()),
        Span::raw(action.describe()),
        Span::styled(format!("  ({})", action.name()), Style::new().dark_gray()),
    ])
}

/// The help text: the keys that work everywhere, then tab by tab.
pub fn lines(keymap: &Keymap) -> Vec<Line<'static>> {
    let mut text = vec![Line::styled("Everywhere", Style::new().bold().underlined())];
    text.extend(Action::ALL.iter().filter(|a| a.home().is_none()).map(|a| action_line(keymap, *a)));
    for tab in Tab::ALL {
        text.push(Line::from(""));
        text.push(Line::styled(format!("{} {}", tab.index() + 1, tab.title()), Style::new().bold().underlined()));
        text.extend(Action::ALL.iter().filter(|a| a.home() == Some(tab)).map(|a| action_line(keymap, *a)));
        text.extend(tab_notes(tab).iter().map(|note| Line::from(format!("{:>20}{note}", ""))));
    }
    text.push(Line::from(""));
    let file = match &keymap.file {
        Some(file) => visible(&file.display().to_string()),
        None => "(no config folder found)".to_string(),
    };
    text.push(Line::from(vec!["Keys and mouse are set in ".into(), file.bold()]));
    text.push(Line::from("  [keys] \"ctrl-p\" = \"palette\" rebinds · \"q\" = \"none\" unbinds"));
    text.push(Line::from("  mouse = false lets the terminal select text (a seed, a fingerprint) to copy"));
    text.push(Line::from("  NO_COLOR=1 draws without colour; every state also has a word or a glyph"));
    text
}

/// Scrolls the help by `lines` (up when negative), never past `last`; it stays open.
pub fn scrolled(scroll: &mut usize, lines: isize, last: usize) -> super::Outcome {
    *scroll = scroll.saturating_add_signed(lines).min(last);
    super::Outcome::Stay
}

pub fn draw(frame: &mut Frame, area: Rect, keymap: &Keymap, scroll: usize) {
    let rect = super::centered(area, 100, 44);
    frame.render_widget(Clear, rect);
    let text = lines(keymap);
    let height = rect.height.saturating_sub(2) as usize;
    let scroll = scroll.min(text.len().saturating_sub(height));
    let shown = format!(
        " Help — lines {}-{} of {} · j/k pgup/pgdn scroll · esc closes ",
        scroll + 1,
        (scroll + height).min(text.len()),
        text.len()
    );
    let block = Block::default().borders(Borders::ALL).title(shown);
    frame.render_widget(Paragraph::new(text).scroll((scroll as u16, 0)).block(block), rect);
}
