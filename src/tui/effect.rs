//! The tabs, and the effects a view's handler asks the app for. Views and
//! overlays depend on these, not on the app.

use super::messages::Request;
use super::overlays::Overlay;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Dashboard,
    Controls,
    Evidence,
    Findings,
    Audits,
    Sources,
    Query,
}

impl Tab {
    pub const ALL: [Tab; 7] =
        [Tab::Dashboard, Tab::Controls, Tab::Evidence, Tab::Findings, Tab::Audits, Tab::Sources, Tab::Query];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Dashboard => "Dashboard",
            Tab::Controls => "Controls",
            Tab::Evidence => "Evidence",
            Tab::Findings => "Findings",
            Tab::Audits => "Audits",
            Tab::Sources => "Sources",
            Tab::Query => "Query",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// What a view's handler asks the app to do.
#[derive(Debug)]
pub enum Effect {
    Send(Request),
    Open(Overlay),
    Show(Tab),
    /// The Sources tab on its inventory (drift and coverage) pane.
    ShowSystems,
    /// Open the Evidence tab on a control's spec in an audit (the current
    /// one when none is named).
    Drill {
        control: String,
        spec: Option<String>,
        audit: Option<String>,
    },
    /// Open the Audits tab on this audit, drilled into its results.
    OpenAudit(String),
    Message(String),
    Error(String),
}
