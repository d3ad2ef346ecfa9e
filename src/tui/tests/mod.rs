//! Step-and-draw tests: keys in, screen text (and colour, where it carries
//! meaning) out, on ratatui's TestBackend, over a real demo workspace and
//! the real worker, served inline so that every step is deterministic.

mod flows;
mod narrow;
mod views;

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::action::Action;
use super::app::App;
use super::keymap::Keymap;
use super::messages::Envelope;
use super::ui;
use super::worker::Worker;
use crate::demo::{DemoOptions, write_demo_files};
use crate::workspace::ingest::ingest_all;
use crate::workspace::{Access, Clock, OpenOptions, Workspace};

pub const AS_OF: (i32, u32, u32) = (2026, 11, 26);

/// Writes the scale-1 demo (as of 2026-11-26) into `dir`, ingests it and
/// collects its documents, as `quarterdeck demo` does.
pub fn demo_workspace(dir: &Path) {
    let as_of = NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).expect("date");
    write_demo_files(dir, &DemoOptions::new(as_of)).expect("demo files");
    let ws = Workspace::open_with(dir, Access::ReadWrite, &test_options()).expect("open");
    ingest_all(&ws).expect("ingest");
    crate::demo::documents::collect_and_plant(&ws).expect("documents");
}

/// The harness's "now": noon on the demo's as-of date, for every write too.
pub fn test_clock() -> Clock {
    Clock::Fixed(Utc.with_ymd_and_hms(AS_OF.0, AS_OF.1, AS_OF.2, 12, 0, 0).single().expect("a valid date"))
}

fn test_options() -> OpenOptions {
    OpenOptions { threads: Some(2), clock: test_clock(), progress: false }
}

/// An App and its worker on a fresh demo workspace.
pub struct Harness {
    pub app: App,
    worker: Worker,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(Access::ReadWrite, |_| {})
    }

    /// A harness whose workspace `prepare` may change before it opens.
    pub fn with(access: Access, prepare: impl FnOnce(&Workspace)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).expect("mkdir");
        demo_workspace(&root);
        {
            let ws = Workspace::open_with(&root, Access::ReadWrite, &test_options()).expect("open");
            prepare(&ws);
        }
        let ws = Workspace::open_with(&root, access, &test_options()).expect("open");
        let app = App::new(Keymap::default(), access == Access::ReadOnly);
        let mut harness = Self { app, worker: Worker::new(ws), _dir: dir };
        harness.settle();
        harness
    }

    /// Serves every queued request, in order, until none is left.
    pub fn settle(&mut self) {
        loop {
            let requests = std::mem::take(&mut self.app.outbox);
            if requests.is_empty() {
                break;
            }
            for (id, request) in requests {
                let track = request.track();
                let result = self.worker.serve(request);
                self.app.on_reply(Envelope { id, track, result });
            }
        }
    }

    /// Types `text` key by key (each char one key press), then settles.
    pub fn keys(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            self.app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        self.settle();
        self
    }

    pub fn key(&mut self, code: KeyCode) -> &mut Self {
        self.app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
        self.settle();
        self
    }

    pub fn ctrl(&mut self, c: char) -> &mut Self {
        self.app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
        self.settle();
        self
    }

    pub fn act(&mut self, action: Action) -> &mut Self {
        self.app.act(action);
        self.settle();
        self
    }

    /// Starts an audit through the Audits tab's form with a fixed seed.
    pub fn start_audit(&mut self, label: &str, controls: &str) -> &mut Self {
        self.keys("5S");
        self.ctrl('u').keys(label).key(KeyCode::Tab);
        self.ctrl('u').keys(controls).key(KeyCode::Tab);
        self.keys("fixed-seed").key(KeyCode::Enter);
        self
    }

    /// The workspace behind the app, as the worker holds it.
    pub fn workspace(&self) -> &Workspace {
        self.worker.workspace()
    }

    pub fn buffer(&mut self, width: u16, height: u16) -> Buffer {
        draw(&mut self.app, width, height)
    }

    pub fn screen(&mut self, width: u16, height: u16) -> String {
        text_of(&self.buffer(width, height))
    }
}

pub fn draw(app: &mut App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| ui::draw(frame, app)).expect("draw");
    terminal.backend().buffer().clone()
}

/// The buffer as lines of text, trailing blanks trimmed.
pub fn text_of(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut lines = Vec::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        lines.push(line.trim_end().to_string());
    }
    lines.join("\n")
}

/// Where `needle` starts on screen (x, y), by cell.
pub fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let area = buffer.area;
    for y in 0..area.height {
        let cells: Vec<&str> = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        for x in 0..cells.len() {
            let mut text = String::new();
            for cell in &cells[x..] {
                text.push_str(cell);
                if text.len() >= needle.len() {
                    break;
                }
            }
            if text.starts_with(needle) {
                return Some((x as u16, y));
            }
        }
    }
    None
}
