//! The terminal, restored whatever happens: on a normal return, on every
//! error, on panic (a hook restores before the message prints), and on
//! SIGTERM or SIGHUP (a killed tmux pane), after which the process exits
//! instead of spinning on a dead tty.

use std::io::{Stdout, Write, stdout};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back as the shell expects it. Safe to call twice.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = stdout();
    let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
    let _ = out.flush();
}

/// The terminal in raw mode on the alternate screen; restored on drop.
pub struct Guard {
    pub terminal: Term,
}

impl Guard {
    /// `mouse`: capture the mouse (off, the terminal selects and copies text).
    pub fn enter(mouse: bool) -> std::io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut out = stdout();
        let entered = execute!(out, EnterAlternateScreen)
            .and_then(|()| if mouse { execute!(out, EnableMouseCapture) } else { Ok(()) });
        if let Err(e) = entered {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(Self { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
