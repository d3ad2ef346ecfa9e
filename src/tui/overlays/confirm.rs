//! A yes/no question before a change that cannot be undone.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Outcome;
use crate::tui::messages::Request;

#[derive(Debug)]
pub struct Confirm {
    pub question: String,
    pub request: Request,
}

impl Confirm {
    /// Yes sends the request; no cancels.
    pub fn answer(&self, yes: bool) -> Outcome {
        if yes { Outcome::Send(self.request.clone()) } else { Outcome::Cancel }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, confirm: &Confirm) {
    let rect = super::centered(area, 60, 7);
    frame.render_widget(Clear, rect);
    let text = vec![
        Line::from(confirm.question.clone()),
        Line::from(""),
        Line::from(vec!["y".bold(), " / enter: yes    ".into(), "n".bold(), " / esc: no".into()]),
    ];
    let block = Block::default().borders(Borders::ALL).title(" Confirm ").border_style(Style::new().yellow());
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), rect);
}
