//! What the UI and the worker say to each other: requests (tagged with ids
//! and slots), replies, and the envelope a reply travels in.

use std::any::Any;
use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::AuditError;
use crate::audit::auditor_requests::AuditorRequest;
use crate::audit::audits::{self, AuditSummary};
use crate::audit::browse::{Filter, Page, Position};
use crate::audit::findings::{Change, Event, Finding, NewFinding};
use crate::audit::full_population::SpecOutcome;
use crate::audit::questions::Question;
use crate::audit::sampling::Sample;
use crate::audit::verdicts::Verdict;
use crate::error::{ErrorKind, Kind};
use crate::workspace::catalog::Catalog;
use crate::workspace::mapping::Control;
use crate::workspace::period::Period;
use crate::workspace::query::ResultSet;
use crate::workspace::sources::SourceStatus;

/// Rows the query console keeps of a result.
pub const QUERY_ROWS: usize = 1_000;

/// What the UI asks of the workspace.
#[derive(Debug, Clone)]
pub enum Request {
    Overview,
    ControlDetail { control: String },
    Sample { audit: String, control: String, spec: String },
    Page { audit: String, control: String, spec: String, filter: Filter, position: Position, limit: usize },
    FindingEvents { id: String },
    SourceDaily { source: String },
    Query { sql: String },
    Ask { text: String },
    Verdict { audit: String, control: String, key: String, verdict: Verdict, note: Option<String> },
    AddFinding(NewFinding),
    SetFinding { id: String, change: Change },
    StartAudit { label: String, scope: audits::Scope, seed: Option<String> },
    CloseAudit { label: String },
    Ingest { source: String },
}

impl Request {
    /// How the UI tracks the request while it is in flight: a read in its
    /// slot (a newer read there supersedes it), or a write (never
    /// superseded: its reply, and its error, always reach the UI).
    pub fn track(&self) -> Track {
        match self {
            Request::Overview => Track::Read(Slot::Overview),
            Request::ControlDetail { .. } => Track::Read(Slot::ControlDetail),
            Request::Sample { .. } => Track::Read(Slot::Sample),
            Request::Page { .. } => Track::Read(Slot::Page),
            Request::FindingEvents { .. } => Track::Read(Slot::FindingEvents),
            Request::SourceDaily { .. } => Track::Read(Slot::SourceDaily),
            Request::Query { .. } => Track::Read(Slot::Query),
            // Asking records the auditor's request: a write.
            Request::Ask { .. } => Track::Write(Write::Ask),
            Request::Verdict { .. } => Track::Write(Write::Verdict),
            Request::AddFinding(_) | Request::SetFinding { .. } => Track::Write(Write::Finding),
            Request::StartAudit { .. } | Request::CloseAudit { .. } => Track::Write(Write::Audit),
            Request::Ingest { .. } => Track::Write(Write::Ingest),
        }
    }

    /// Whether serving the request changes the workspace.
    pub fn writes(&self) -> bool {
        matches!(self.track(), Track::Write(_))
    }

    /// A few words for the status line while the request is in flight.
    pub fn doing(&self) -> String {
        match self {
            Request::Overview => "loading the workspace".into(),
            Request::ControlDetail { control } => format!("testing {control} over the whole population"),
            Request::Sample { control, .. } => format!("loading the sample of {control}"),
            Request::Page { .. } => "reading the population".into(),
            Request::FindingEvents { id } => format!("loading {id}"),
            Request::SourceDaily { source } => format!("counting {source} by day"),
            Request::Query { .. } => "running the query".into(),
            Request::Ask { .. } => "answering the request".into(),
            Request::Verdict { .. } => "recording the verdict".into(),
            Request::AddFinding(_) => "filing the finding".into(),
            Request::SetFinding { id, .. } => format!("changing {id}"),
            Request::StartAudit { label, .. } => format!("starting {label} and drawing its samples"),
            Request::CloseAudit { label } => format!("closing {label}"),
            Request::Ingest { source } => format!("ingesting {source}"),
        }
    }
}

/// A read's slot: requests in the same slot supersede each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Overview,
    ControlDetail,
    Sample,
    Page,
    FindingEvents,
    SourceDaily,
    Query,
}

/// What a write changes (its reply goes to the view that sent it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Write {
    Ask,
    Verdict,
    Finding,
    Audit,
    Ingest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    Read(Slot),
    Write(Write),
}

/// Everything light the views show, read in one go.
#[derive(Debug, Clone)]
pub struct Overview {
    pub workspace: PathBuf,
    pub read_only: bool,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub catalog: Catalog,
    pub controls: Vec<Control>,
    pub mapping_problems: usize,
    pub audits: Vec<AuditSummary>,
    /// The audit the views work in: the latest in fieldwork, else the latest.
    pub current: Option<usize>,
    /// The current audit's period, else the last full quarter.
    pub period: Period,
    pub findings: Vec<Finding>,
    pub sources: Vec<SourceStatus>,
    pub questions: Vec<Question>,
}

impl Overview {
    pub fn current_audit(&self) -> Option<&AuditSummary> {
        self.current.and_then(|i| self.audits.get(i))
    }
}

#[derive(Debug, Clone)]
pub enum Reply {
    Overview(Box<Overview>),
    ControlDetail {
        control: String,
        specs: Vec<SpecOutcome>,
    },
    /// A frozen sample, with the population's period (timestamp) column.
    Sample {
        sample: Box<Sample>,
        period_column: String,
    },
    Page {
        filter: Filter,
        page: Page,
    },
    FindingEvents {
        id: String,
        events: Vec<Event>,
    },
    SourceDaily {
        source: String,
        days: BTreeMap<NaiveDate, u64>,
        missing: Vec<NaiveDate>,
    },
    Query(ResultSet),
    Answered {
        request: AuditorRequest,
        sample: Box<Sample>,
    },
    Done(String),
}

/// A reply with the id of the request it answers.
#[derive(Debug)]
pub struct Envelope {
    pub id: u64,
    pub track: Track,
    pub result: Result<Reply, Failure>,
}

/// Why the worker could not serve a request: the facts, typed, so that each
/// view can add its own advice (the key to press).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A pass over a row whose tests did not pass needs a note.
    PassNeedsNote {
        key: String,
        tests: String,
    },
    Other {
        kind: ErrorKind,
        message: String,
    },
}

impl<E: Kind + std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(error: E) -> Self {
        if let Some(AuditError::PassNeedsNote { key, tests }) = (&error as &dyn Any).downcast_ref::<AuditError>() {
            return Failure::PassNeedsNote { key: key.clone(), tests: tests.clone() };
        }
        let kind = error.kind();
        Failure::Other { kind, message: format!("{:#}", anyhow::Error::from(error)) }
    }
}

impl Failure {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Failure::PassNeedsNote { .. } => ErrorKind::BadInput,
            Failure::Other { kind, .. } => *kind,
        }
    }
}

impl std::error::Error for Failure {}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::PassNeedsNote { key, tests } => {
                write!(f, "row `{key}`: test(s) {tests} did not pass; a pass over them needs a note (press n)")
            }
            Failure::Other { message, .. } => f.write_str(message),
        }
    }
}
