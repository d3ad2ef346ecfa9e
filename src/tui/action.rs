//! Everything a user can do, as one serde enum shared by the keymap, the
//! command palette, the help overlay and the tests.

use serde::{Deserialize, Serialize};

use super::effect::Tab;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    Help,
    Palette,
    Back,
    ShowDashboard,
    ShowControls,
    ShowEvidence,
    ShowFindings,
    ShowAudits,
    ShowSources,
    ShowQuery,
    NextTab,
    PrevTab,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Select,
    Filter,
    NextPane,
    Refresh,
    Pass,
    Exception,
    NotApplicable,
    Note,
    Attach,
    WholePopulation,
    FailingRows,
    SampleRows,
    NextSpec,
    PrevSpec,
    ScrollLeft,
    ScrollRight,
    NewFinding,
    EditFinding,
    StartAudit,
    CloseAudit,
    ExportPacket,
    Ingest,
    Pull,
}

impl Action {
    pub const ALL: [Action; 42] = [
        Action::Quit,
        Action::Help,
        Action::Palette,
        Action::Back,
        Action::ShowDashboard,
        Action::ShowControls,
        Action::ShowEvidence,
        Action::ShowFindings,
        Action::ShowAudits,
        Action::ShowSources,
        Action::ShowQuery,
        Action::NextTab,
        Action::PrevTab,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Select,
        Action::Filter,
        Action::NextPane,
        Action::Refresh,
        Action::Pass,
        Action::Exception,
        Action::NotApplicable,
        Action::Note,
        Action::Attach,
        Action::WholePopulation,
        Action::FailingRows,
        Action::SampleRows,
        Action::NextSpec,
        Action::PrevSpec,
        Action::ScrollLeft,
        Action::ScrollRight,
        Action::NewFinding,
        Action::EditFinding,
        Action::StartAudit,
        Action::CloseAudit,
        Action::ExportPacket,
        Action::Ingest,
        Action::Pull,
    ];

    /// What the action does, for help and the palette.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "Quit",
            Action::Help => "Show the keys",
            Action::Palette => "Command palette",
            Action::Back => "Leave a field or overlay; back",
            Action::ShowDashboard => "Dashboard: readiness at a glance",
            Action::ShowControls => "Controls and their mappings",
            Action::ShowEvidence => "Evidence: the sample of the chosen control",
            Action::ShowFindings => "Findings and remediation",
            Action::ShowAudits => "Mock audits by quarter",
            Action::ShowSources => "Evidence sources and freshness",
            Action::ShowQuery => "Read-only SQL and auditor questions",
            Action::NextTab => "Next tab",
            Action::PrevTab => "Previous tab",
            Action::Up => "Move up",
            Action::Down => "Move down",
            Action::PageUp => "Page up",
            Action::PageDown => "Page down",
            Action::Top => "Go to the top",
            Action::Bottom => "Go to the bottom",
            Action::Select => "Open / drill in / run",
            Action::Filter => "Filter the list (fuzzy)",
            Action::NextPane => "Switch pane",
            Action::Refresh => "Reload from the workspace",
            Action::Pass => "Verdict: pass",
            Action::Exception => "Verdict: exception, and file a finding",
            Action::NotApplicable => "Verdict: not applicable",
            Action::Note => "Write a note on the row",
            Action::Attach => "Attach a file to the row (Tab completes the path)",
            Action::WholePopulation => "Browse the whole population",
            Action::FailingRows => "Browse the population's failing rows",
            Action::SampleRows => "Back to the frozen sample",
            Action::NextSpec => "Next evidence spec of the control",
            Action::PrevSpec => "Previous evidence spec of the control",
            Action::ScrollLeft => "Scroll the columns left (the key stays)",
            Action::ScrollRight => "Scroll the columns right (the key stays)",
            Action::NewFinding => "New finding",
            Action::EditFinding => "Edit the finding",
            Action::StartAudit => "Start a mock audit",
            Action::CloseAudit => "Close the current audit",
            Action::ExportPacket => "Export the selected audit's packet to packets/LABEL",
            Action::Ingest => "Ingest the source from its configured path",
            Action::Pull => "Pull the connector source now, in the background",
        }
    }

    /// The tab an action belongs to: the palette switches there before
    /// running it. None: it works on any tab (or on the tab shown).
    pub fn home(self) -> Option<Tab> {
        match self {
            Action::Pass
            | Action::Exception
            | Action::NotApplicable
            | Action::Note
            | Action::Attach
            | Action::WholePopulation
            | Action::FailingRows
            | Action::SampleRows
            | Action::NextSpec
            | Action::PrevSpec => Some(Tab::Evidence),
            Action::NewFinding | Action::EditFinding => Some(Tab::Findings),
            Action::StartAudit | Action::CloseAudit | Action::ExportPacket => Some(Tab::Audits),
            Action::Ingest | Action::Pull => Some(Tab::Sources),
            _ => None,
        }
    }

    /// A motion (or the palette itself): a key, not a command to pick from
    /// the palette.
    pub fn is_motion(self) -> bool {
        matches!(
            self,
            Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom
                | Action::ScrollLeft
                | Action::ScrollRight
                | Action::Select
                | Action::NextPane
                | Action::Back
                | Action::Palette
        )
    }

    /// The action's name as the keymap file spells it.
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    /// Changes evidence or findings: refused in a read-only workspace.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::Pass
                | Action::Exception
                | Action::NotApplicable
                | Action::Note
                | Action::Attach
                | Action::NewFinding
                | Action::EditFinding
                | Action::StartAudit
                | Action::CloseAudit
                | Action::Ingest
                | Action::Pull
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_action_once_with_a_name() {
        let mut names: Vec<String> = Action::ALL.iter().map(|a| a.name()).collect();
        assert!(names.iter().all(|n| !n.is_empty()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        let back: Action = serde_json::from_str("\"whole-population\"").unwrap();
        assert_eq!(back, Action::WholePopulation);
    }
}
