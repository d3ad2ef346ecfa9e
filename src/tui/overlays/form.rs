//! Forms: file a finding (prefilled from the evidence row), edit one (only
//! the status changes its lifecycle allows are offered), start an audit.

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Outcome;
use crate::audit::audits::Scope;
use crate::audit::findings::{Change, NewFinding};
use crate::audit::lifecycle::{Acceptance, FindingStatus, Mover, Severity, allowed_from};
use crate::text::fit;
use crate::tui::input::{Edit, Input};
use crate::tui::messages::Request;
use crate::tui::overview::Overview;
use crate::workspace::period::Period;

#[derive(Debug, Clone)]
pub enum FormKind {
    /// A finding, prefilled: on rows of a sample, on a drift line of the
    /// inventory (`system`), on a missed expected occurrence (`slot`).
    NewFinding {
        audit: String,
        control: String,
        rows: Vec<String>,
        about: About,
    },
    EditFinding {
        id: String,
    },
    StartAudit,
}

/// What a new finding is about besides rows, and how its text starts.
#[derive(Debug, Clone, Default)]
pub struct About {
    pub system: Option<String>,
    pub slot: Option<String>,
    pub title: String,
    pub description: String,
}

impl FormKind {
    /// A finding on `rows` (none: on the control) of `control` in `audit`.
    pub fn finding(audit: &str, control: &str, rows: Vec<String>) -> Self {
        FormKind::NewFinding { audit: audit.to_string(), control: control.to_string(), rows, about: About::default() }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub input: Input,
    /// A field with fixed choices cycles through them with left/right/space.
    pub choices: Vec<String>,
}

impl Field {
    fn text(label: &'static str, value: &str) -> Self {
        Self { label, input: Input::with(value), choices: Vec::new() }
    }

    fn choice(label: &'static str, choices: Vec<String>, value: &str) -> Self {
        Self { label, input: Input::with(value), choices }
    }

    pub fn value(&self) -> &str {
        self.input.text.trim()
    }
}

#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// A field-level problem found at submit.
    pub problem: Option<String>,
    /// What the status line says when the form is cancelled (the
    /// exception the form follows is already recorded).
    pub on_cancel: Option<String>,
}

/// The fields a form cannot be saved without (`build` refuses them empty).
const REQUIRED: [&str; 4] = ["Control", "Title", "Owner", "Label (e.g. 2026-Q3)"];

const UNCHANGED: &str = "(unchanged)";

fn severities() -> Vec<String> {
    ["low", "medium", "high", "critical"].iter().map(|s| s.to_string()).collect()
}

impl Form {
    pub fn new(kind: FormKind, overview: Option<&Overview>) -> Self {
        let today = overview.map(|o| o.today).unwrap_or_else(|| chrono::Utc::now().date_naive());
        let (title, fields) = match &kind {
            FormKind::NewFinding { audit, control, rows, about } => {
                let owner = overview
                    .and_then(|o| o.controls.iter().find(|c| &c.id == control))
                    .map(|c| c.owner.clone())
                    .unwrap_or_default();
                let due = (today + chrono::Duration::days(30)).to_string();
                let rows = rows.iter().map(|r| crate::text::visible(r)).collect::<Vec<_>>().join(", ");
                let on = match (&about.system, rows.is_empty()) {
                    (_, false) => format!(", row {rows}"),
                    (Some(system), true) => format!(", system {}", crate::text::visible(system)),
                    (None, true) => String::new(),
                };
                (
                    format!(" New finding — {control} in {audit}{on} "),
                    vec![
                        Field::text("Control", control),
                        Field::text("Title", &about.title),
                        Field::choice("Severity", severities(), "medium"),
                        Field::text("Owner", &owner),
                        Field::text("Due (YYYY-MM-DD)", &due),
                        Field::text("System (optional)", about.system.as_deref().unwrap_or("")),
                        Field::text("Missed slot (optional)", about.slot.as_deref().unwrap_or("")),
                        Field::text("Description", &about.description),
                    ],
                )
            }
            FormKind::EditFinding { id } => {
                let finding = overview.and_then(|o| o.findings.iter().find(|f| &f.id == id));
                let mut statuses = vec![UNCHANGED.to_string()];
                if let Some(f) = finding {
                    statuses.extend(allowed_from(f.status, Mover::Operator).iter().map(|s| s.as_str().to_string()));
                }
                let current = finding.map(|f| f.status.as_str()).unwrap_or("?");
                (
                    format!(" Edit {id} — now {current} "),
                    vec![
                        Field::choice("Status", statuses, UNCHANGED),
                        Field::text("Owner", &finding.map(|f| f.owner.clone()).unwrap_or_default()),
                        Field::text(
                            "Due (YYYY-MM-DD)",
                            &finding.and_then(|f| f.due).map(|d| d.to_string()).unwrap_or_default(),
                        ),
                        Field::choice(
                            "Severity",
                            severities(),
                            finding.map(|f| f.severity.as_str()).unwrap_or("medium"),
                        ),
                        Field::text("Note", ""),
                        Field::text("Risk approver", ""),
                        Field::text("Risk reason", ""),
                        Field::text("Risk expires", ""),
                    ],
                )
            }
            FormKind::StartAudit => {
                let label =
                    overview.map(|o| Period::quarter_label(o.period.start_date.min(o.today))).unwrap_or_default();
                let label = suggest_label(overview, &label);
                (
                    " Start a mock audit ".to_string(),
                    vec![
                        Field::text("Label (e.g. 2026-Q3)", &label),
                        Field::text("Controls (all, N or IDs)", "all"),
                        Field::text("Seed (blank: random)", ""),
                    ],
                )
            }
        };
        // The form opens where the typing starts: its first empty required field.
        let focus = fields.iter().position(|f| REQUIRED.contains(&f.label) && f.value().is_empty()).unwrap_or(0);
        Self { kind, title, fields, focus, problem: None, on_cancel: None }
    }

    /// A key in the form; Enter submits it (sends, or names the problem).
    pub fn key(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Outcome {
        let field = &mut self.fields[self.focus];
        if !field.choices.is_empty() {
            let at = field.choices.iter().position(|c| c == field.value()).unwrap_or(0);
            let n = field.choices.len();
            let next = match key.code {
                KeyCode::Right | KeyCode::Char(' ') => Some((at + 1) % n),
                KeyCode::Left => Some((at + n - 1) % n),
                _ => None,
            };
            if let Some(next) = next {
                field.input = Input::with(&field.choices[next]);
                return Outcome::Stay;
            }
            if let KeyCode::Char(_) = key.code
                && !key.modifiers.contains(KeyModifiers::CONTROL)
            {
                return Outcome::Stay;
            }
        }
        match field.input.key(key) {
            Edit::Submit => match self.submit(overview) {
                Ok(request) => Outcome::Send(request),
                Err(problem) => Outcome::Invalid(problem),
            },
            Edit::Leave => Outcome::Cancel,
            Edit::Next => {
                self.focus = (self.focus + 1) % self.fields.len();
                Outcome::Stay
            }
            Edit::Previous => {
                self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
                Outcome::Stay
            }
            _ => Outcome::Stay,
        }
    }

    fn field(&self, label: &str) -> &str {
        self.fields.iter().find(|f| f.label == label).map(Field::value).unwrap_or("")
    }

    fn date(&self, label: &str) -> Result<Option<NaiveDate>, String> {
        let text = self.field(label);
        if text.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("{label}: `{text}` is not a date (YYYY-MM-DD)"))
    }

    /// The request the form asks for, or what is wrong with a field.
    pub fn submit(&mut self, overview: Option<&Overview>) -> Result<Request, String> {
        let result = self.build(overview);
        self.problem = result.as_ref().err().cloned();
        result
    }

    fn build(&self, overview: Option<&Overview>) -> Result<Request, String> {
        match &self.kind {
            FormKind::NewFinding { audit, rows, .. } => {
                let control = self.field("Control");
                if control.is_empty() {
                    return Err("Control: a finding is about a control".into());
                }
                let title = self.field("Title");
                if title.is_empty() {
                    return Err("Title: a finding needs a title".into());
                }
                let owner = self.field("Owner");
                if owner.is_empty() {
                    return Err("Owner: a finding needs an owner".into());
                }
                Ok(Request::AddFinding(NewFinding {
                    audit: audit.clone(),
                    control: control.to_string(),
                    title: title.to_string(),
                    description: self.field("Description").to_string(),
                    severity: Severity::parse(self.field("Severity")).unwrap_or(Severity::Medium),
                    owner: owner.to_string(),
                    due: self.date("Due (YYYY-MM-DD)")?,
                    rows: rows.clone(),
                    system: Some(self.field("System (optional)").to_string()).filter(|s| !s.is_empty()),
                    slot: Some(self.field("Missed slot (optional)").to_string()).filter(|s| !s.is_empty()),
                }))
            }
            FormKind::EditFinding { id } => {
                let finding = overview.and_then(|o| o.findings.iter().find(|f| &f.id == id));
                let status = match self.field("Status") {
                    UNCHANGED => None,
                    s => Some(FindingStatus::parse(s).ok_or_else(|| format!("Status: `{s}` is not a status"))?),
                };
                let owner = Some(self.field("Owner").to_string()).filter(|o| Some(o) != finding.map(|f| &f.owner));
                let due = self.date("Due (YYYY-MM-DD)")?.filter(|d| Some(*d) != finding.and_then(|f| f.due));
                let severity =
                    Severity::parse(self.field("Severity")).filter(|s| Some(*s) != finding.map(|f| f.severity));
                let acceptance = if status == Some(FindingStatus::RiskAccepted) {
                    let expires =
                        self.date("Risk expires")?.ok_or("Risk expires: a risk acceptance needs an expiry date")?;
                    Some(Acceptance {
                        approver: self.field("Risk approver").to_string(),
                        reason: self.field("Risk reason").to_string(),
                        expires,
                    })
                } else {
                    None
                };
                let note = Some(self.field("Note").to_string()).filter(|n| !n.is_empty());
                let change = Change { status, owner, due, severity, acceptance, note };
                if change.status.is_none()
                    && change.owner.is_none()
                    && change.due.is_none()
                    && change.severity.is_none()
                {
                    return Err("nothing to change".into());
                }
                Ok(Request::SetFinding { id: id.clone(), change })
            }
            FormKind::StartAudit => {
                let label = self.field("Label (e.g. 2026-Q3)");
                if label.is_empty() {
                    return Err("Label: an audit needs a label such as 2026-Q3".into());
                }
                let controls = self.field("Controls (all, N or IDs)");
                let seed = Some(self.field("Seed (blank: random)").to_string()).filter(|s| !s.is_empty());
                Ok(Request::StartAudit {
                    label: label.to_string(),
                    scope: Scope::parse(if controls.is_empty() { "all" } else { controls }),
                    seed,
                })
            }
        }
    }
}

/// The first quarter from `label` on without an audit.
fn suggest_label(overview: Option<&Overview>, label: &str) -> String {
    let Some(o) = overview else { return label.to_string() };
    let mut date = Period::parse(label, chrono_tz::UTC).map(|p| p.start_date).unwrap_or(o.today);
    for _ in 0..8 {
        let candidate = Period::quarter_label(date);
        if !o.audits.iter().any(|a| a.audit.label == candidate) {
            return candidate;
        }
        date = Period::parse(&candidate, chrono_tz::UTC).map(|p| p.end_date).unwrap_or(date);
    }
    label.to_string()
}

pub fn draw(frame: &mut Frame, area: Rect, form: &Form) {
    let height = form.fields.len() as u16 + 5;
    let rect = super::centered(area, 76, height);
    frame.render_widget(Clear, rect);
    let block = Block::default().borders(Borders::ALL).title(form.title.clone());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let value_width = inner.width.saturating_sub(26) as usize;
    let mut lines: Vec<Line> = form
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let focused = i == form.focus;
            let label = Span::styled(
                format!("{:>22}: ", field.label),
                if focused { Style::new().bold() } else { Style::new() },
            );
            let value = if field.choices.is_empty() {
                fit(&field.input.text, value_width)
            } else {
                format!("‹ {} ›", field.input.text)
            };
            let style = if focused { Style::new().reversed() } else { Style::new() };
            Line::from(vec![label, Span::styled(value, style)])
        })
        .collect();
    lines.push(Line::from(""));
    match &form.problem {
        Some(problem) => lines.push(Line::styled(problem.clone(), Style::new().red())),
        None => lines
            .push(Line::styled("tab: next field · ‹›: choose · enter: save · esc: cancel", Style::new().dark_gray())),
    }
    frame.render_widget(Paragraph::new(lines), inner);
    let field = &form.fields[form.focus];
    if field.choices.is_empty() && inner.height > form.focus as u16 {
        let x = (inner.x + 24 + field.input.cursor as u16).min(inner.right().saturating_sub(1));
        frame.set_cursor_position((x, inner.y + form.focus as u16));
    }
}
