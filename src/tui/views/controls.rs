//! Controls with their result glyphs, filtered fuzzily with `/`; beside
//! them the mapping of the selected one, with each evidence spec's
//! population in the current period, its full-population test results and
//! its sources' freshness. Enter drills into its evidence.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::grid::{self, Grid};
use super::{freshness_style, is_motion, moved, result_glyph};
use crate::audit::full_population::{SpecOutcome, TestResult};
use crate::audit::occurrences::{Occurrences, SlotState};
use crate::fuzzy::Haystack;
use crate::text::{fit, visible};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::input::{Edit, Input};
use crate::tui::messages::{Reply, Request};
use crate::tui::overview::Overview;
use crate::workspace::mapping::{Control, PopulationDef};

#[derive(Debug, Default)]
pub struct State {
    pub filter: Input,
    pub filtering: bool,
    /// Indices of the controls shown, in order.
    pub shown: Vec<usize>,
    pub selected: usize,
    /// The selected control's full-population results.
    pub detail: Option<(String, Vec<SpecOutcome>)>,
    /// Showing the criteria (with the selected one) instead of the controls.
    pub criteria: Option<usize>,
    /// Only the controls mapped to this criterion.
    pub criterion: Option<String>,
    /// The first flexible column on screen (`h` / `l`); the id stays.
    pub first_column: usize,
}

impl State {
    pub fn refreshed(&mut self, overview: &Overview) {
        self.apply_filter(overview);
        self.detail = None;
    }

    fn apply_filter(&mut self, overview: &Overview) {
        let query = self.filter.text.trim();
        let criterion = self.criterion.as_deref();
        let mapped = |c: &Control| criterion.is_none_or(|id| c.criteria.iter().any(|l| l.value == id));
        if query.is_empty() {
            self.shown = (0..overview.controls.len()).filter(|&i| mapped(&overview.controls[i])).collect();
        } else {
            let controls = &overview.controls;
            let mut haystack = Haystack::new(controls.iter().map(haystack));
            self.shown = haystack.rank(query, (0..controls.len()).filter(|&i| mapped(&controls[i])));
        }
        self.selected = self.selected.min(self.shown.len().saturating_sub(1));
    }

    pub fn selected_control<'a>(&self, overview: &'a Overview) -> Option<&'a Control> {
        self.shown.get(self.selected).and_then(|&i| overview.controls.get(i))
    }

    pub fn select_id(&mut self, id: &str, overview: &Overview) {
        self.filter = Input::default();
        self.apply_filter(overview);
        if let Some(at) = self.shown.iter().position(|&i| overview.controls[i].id == id) {
            self.selected = at;
        }
    }

    pub fn entered(&mut self, overview: &Overview) -> Vec<Effect> {
        if self.shown.is_empty() && !overview.controls.is_empty() {
            self.apply_filter(overview);
        }
        if self.detail.is_none() { self.selection_changed(overview) } else { Vec::new() }
    }

    pub fn selection_changed(&mut self, overview: &Overview) -> Vec<Effect> {
        match self.selected_control(overview) {
            Some(c) if self.detail.as_ref().map(|(id, _)| id) != Some(&c.id) => {
                self.detail = None;
                vec![Effect::Send(Request::ControlDetail { control: c.id.clone() })]
            }
            _ => Vec::new(),
        }
    }

    pub fn type_key(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Vec<Effect> {
        let edit = self.filter.key(key);
        let Some(overview) = overview else { return Vec::new() };
        match edit {
            Edit::Changed => {
                self.selected = 0;
                self.apply_filter(overview);
                Vec::new()
            }
            Edit::Submit | Edit::Next => {
                self.filtering = false;
                self.selection_changed(overview)
            }
            Edit::Leave => {
                self.filtering = false;
                self.filter = Input::default();
                self.apply_filter(overview);
                self.selection_changed(overview)
            }
            _ => Vec::new(),
        }
    }

    pub fn act(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        if let Some(selected) = self.criteria {
            return self.act_on_criteria(action, selected, overview);
        }
        match action {
            Action::Filter => {
                // A new filter each time, as in lazygit: `/` then type.
                self.filtering = true;
                self.filter = Input::default();
                self.apply_filter(overview);
                Vec::new()
            }
            Action::NextPane => {
                self.criteria = Some(0);
                Vec::new()
            }
            Action::Back if !self.filter.text.is_empty() || self.criterion.is_some() => {
                self.filter = Input::default();
                self.criterion = None;
                self.apply_filter(overview);
                self.selection_changed(overview)
            }
            Action::Refresh => {
                self.detail = None;
                Vec::new()
            }
            Action::ScrollLeft | Action::ScrollRight => {
                // Title and criteria scroll; the glyph, id and flag stay.
                self.first_column = grid::scrolled(self.first_column, action, 2);
                Vec::new()
            }
            a if is_motion(a) => {
                self.selected = moved(self.selected, self.shown.len(), a, 10);
                self.selection_changed(overview)
            }
            Action::Select => match self.selected_control(overview) {
                Some(c) => vec![Effect::Drill { control: c.id.clone(), spec: None, audit: None }],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

impl State {
    fn act_on_criteria(&mut self, action: Action, selected: usize, overview: &Overview) -> Vec<Effect> {
        match action {
            a if is_motion(a) => {
                self.criteria = Some(moved(selected, overview.catalog.criteria.len(), a, 10));
                Vec::new()
            }
            Action::Select => {
                self.criterion = overview.catalog.criteria.get(selected).map(|c| c.id.clone());
                self.criteria = None;
                self.filter = Input::default();
                self.selected = 0;
                self.apply_filter(overview);
                self.selection_changed(overview)
            }
            Action::NextPane | Action::Back => {
                self.criteria = None;
                Vec::new()
            }
            Action::Filter => {
                self.criteria = None;
                self.filtering = true;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

fn haystack(c: &Control) -> String {
    let criteria: Vec<&str> = c.criteria.iter().map(|l| l.value.as_str()).collect();
    format!("{} {} {} {}", c.id, c.title, criteria.join(" "), c.owner)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let [list, detail] = Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
    if let Some(selected) = state.criteria {
        super::criteria::draw_list(frame, list, selected, overview);
        super::criteria::draw_detail(frame, detail, selected, overview);
        return;
    }
    draw_list(frame, list, state, overview);
    draw_detail(frame, detail, state, overview);
}

fn draw_list(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let current = overview.current_audit();
    let mapped: std::collections::BTreeSet<&str> =
        overview.controls.iter().flat_map(|c| c.criteria.iter().map(|l| l.value.as_str())).collect();
    let unmapped = overview.catalog.criteria.iter().filter(|c| !mapped.contains(c.id.as_str())).count();
    let [filter, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let filter_line = if let Some(criterion) = &state.criterion {
        Line::from(vec![
            format!("criterion {criterion}").bold(),
            Span::styled(format!(" /{} · esc shows all", state.filter.text), Style::new().dark_gray()),
        ])
    } else if state.filtering || !state.filter.text.is_empty() {
        Line::from(vec!["/".bold(), Span::raw(state.filter.text.clone())])
    } else {
        Line::styled(
            format!(
                "{} controls · {} of {} criteria mapped, {unmapped} unmapped · / filters · tab: criteria",
                overview.controls.len(),
                mapped.len(),
                overview.catalog.criteria.len()
            ),
            Style::new().dark_gray(),
        )
    };
    frame.render_widget(Paragraph::new(filter_line), filter);
    if state.filtering {
        let x = (filter.x + 1 + state.filter.cursor as u16).min(filter.right().saturating_sub(1));
        frame.set_cursor_position((x, filter.y));
    }
    let mut grid = Grid::new(&[("", true), ("id", true), ("", true), ("title", false), ("criteria", false)]);
    for &i in &state.shown {
        let c = &overview.controls[i];
        let result = current.and_then(|a| a.results.iter().find(|r| r.control == c.id)).map(|r| r.result);
        let (glyph, style) = result_glyph(result);
        let findings = overview.findings.iter().filter(|f| f.control == c.id && f.status.is_active()).count();
        let flag = if findings > 0 { format!("⚑{findings}") } else { String::new() };
        let criteria: Vec<&str> = c.criteria.iter().map(|l| l.value.as_str()).collect();
        grid.push(vec![
            Span::styled(glyph, style),
            Span::raw(c.id.clone()),
            Span::styled(flag, Style::new().red()),
            Span::raw(visible(&c.title)),
            Span::raw(criteria.join(",")),
        ]);
    }
    let block = Block::default().borders(Borders::ALL).title(" Controls ");
    grid::draw(frame, table, block, grid, Some(state.selected), state.first_column);
}

fn draw_detail(frame: &mut Frame, area: Rect, state: &State, overview: &Overview) {
    let block = Block::default().borders(Borders::ALL).title(" Mapping — enter drills into evidence ");
    let Some(control) = state.selected_control(overview) else {
        frame.render_widget(Paragraph::new(" No controls: add controls/*.toml to the workspace.").block(block), area);
        return;
    };
    let width = area.width.saturating_sub(4) as usize;
    let mut lines = vec![
        Line::from(vec![control.id.clone().bold(), Span::raw(format!("  {}", visible(&control.title)))]),
        Line::from(format!(
            "owner {} · {} · period {}",
            control.owner,
            control.frequency.as_str(),
            overview.period.label
        )),
        Line::from(""),
    ];
    for criterion in &control.criteria {
        let title =
            overview.catalog.criterion(&criterion.value).map(|c| c.title.as_str()).unwrap_or("(unknown criterion)");
        lines.push(Line::from(vec![
            Span::styled(format!("{:<7}", criterion.value), Style::new().cyan()),
            Span::raw(fit(title, width.saturating_sub(7))),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled("Practice", Style::new().bold()));
    lines.push(Line::from(visible(&control.practice)));
    let outcomes = state.detail.as_ref().filter(|(id, _)| id == &control.id).map(|(_, specs)| specs);
    for spec in &control.evidence {
        lines.push(Line::from(""));
        let sample = spec.sample.map(|n| format!(" · sample {n}")).unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("Evidence: {}", spec.name), Style::new().bold()),
            Span::raw(sample),
        ]));
        let sources: Vec<&str> = match &spec.population {
            PopulationDef::Source { source, filter } => {
                let filter = filter.as_ref().map(|f| format!(" where {}", f.value)).unwrap_or_default();
                lines.push(Line::from(fit(&format!("from {}{filter}", source.value), width)));
                vec![source.value.as_str()]
            }
            PopulationDef::Query(sql) => {
                lines.push(Line::from(fit(&sql.value.split_whitespace().collect::<Vec<_>>().join(" "), width)));
                overview.sources.iter().map(|s| s.name.as_str()).filter(|name| mentions(&sql.value, name)).collect()
            }
        };
        for name in sources {
            if let Some(s) = overview.sources.iter().find(|s| s.name == name) {
                lines.push(Line::from(vec![
                    Span::raw(format!("  source {name}: ")),
                    Span::styled(s.state.as_str(), freshness_style(s.state)),
                ]));
            }
        }
        match outcomes.and_then(|specs| specs.iter().find(|o| o.spec == spec.name)) {
            Some(outcome) => {
                lines.push(Line::from(format!("  population in {}: {} row(s)", overview.period.label, outcome.count)));
                for test in &outcome.tests {
                    let (glyph, style) = match test.result {
                        TestResult::Pass => ("✓", Style::new().green()),
                        TestResult::Fail => ("✗", Style::new().red().bold()),
                        TestResult::Inconclusive => ("?", Style::new().yellow()),
                    };
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {glyph} "), style),
                        Span::raw(format!(
                            "{}: {} pass, {} fail, {} inconclusive",
                            test.name, test.passed, test.failed, test.inconclusive
                        )),
                    ]));
                }
                if let Some(occ) = &outcome.occurrences {
                    lines.push(occurrence_line(occ));
                }
            }
            None => lines.push(Line::styled("  testing the whole population…", Style::new().dark_gray())),
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

/// A spec's calendar in one line: its slots met, missed (named) and due.
fn occurrence_line(occ: &Occurrences) -> Line<'static> {
    let missed: Vec<String> = occ.missed().map(|s| s.name()).collect();
    let (glyph, style) =
        if missed.is_empty() { ("✓", Style::new().green()) } else { ("✗", Style::new().red().bold()) };
    let mut text = format!(
        "{}: {} slot(s): {} met, {} missed, {} due",
        occ.name(),
        occ.len(),
        occ.count(SlotState::Met),
        missed.len(),
        occ.count(SlotState::Due)
    );
    if !missed.is_empty() {
        text.push_str(&format!(" — missed {}", visible(&missed.join(" · "))));
    }
    Line::from(vec![Span::styled(format!("  {glyph} "), style), Span::raw(text)])
}

/// Whether `sql` names the table `name` as a word.
fn mentions(sql: &str, name: &str) -> bool {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word.eq_ignore_ascii_case(name))
}

impl super::View for State {
    fn on_enter(&mut self, overview: &Overview) -> Vec<Effect> {
        self.entered(overview)
    }

    fn on_refresh(&mut self, overview: &Overview, shown: bool) -> Vec<Effect> {
        self.refreshed(overview);
        if shown && self.detail.is_none() { self.selection_changed(overview) } else { Vec::new() }
    }

    fn on_action(&mut self, action: Action, overview: &Overview) -> Vec<Effect> {
        self.act(action, overview)
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        if let Reply::ControlDetail { control, specs } = reply {
            self.detail = Some((control, specs));
        }
        Vec::new()
    }

    fn typing(&self) -> bool {
        self.filtering
    }

    fn on_type(&mut self, key: &KeyEvent, overview: Option<&Overview>) -> Vec<Effect> {
        self.type_key(key, overview)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, overview: &Overview) {
        draw(frame, area, self, overview);
    }
}
