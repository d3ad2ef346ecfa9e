//! What the UI and the worker say to each other: requests (tagged with ids
//! and slots), replies, and the envelope a reply travels in.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::failure::Failure;
use super::inventory::InventoryPicture;
use super::overview::Overview;
use crate::audit::auditor_requests::AuditorRequest;
use crate::audit::audits;
use crate::audit::browse::{Filter, Page, Position};
use crate::audit::findings::{Change, Event, NewFinding};
use crate::audit::full_population::SpecOutcome;
use crate::audit::sampling::Sample;
use crate::audit::verdicts::Verdict;
use crate::workspace::query::ResultSet;

/// Rows the query console keeps of a result.
pub const QUERY_ROWS: usize = 1_000;

/// What the UI asks of the workspace.
#[derive(Debug, Clone)]
pub enum Request {
    Overview,
    ControlDetail {
        control: String,
    },
    Sample {
        audit: String,
        control: String,
        spec: String,
    },
    Page {
        audit: String,
        control: String,
        spec: String,
        filter: Filter,
        position: Position,
        limit: usize,
    },
    FindingEvents {
        id: String,
    },
    SourceDaily {
        source: String,
    },
    /// The inventory against the evidence of the working period, and the
    /// calendar's due and missed slots.
    Systems,
    Query {
        sql: String,
    },
    Ask {
        text: String,
    },
    Verdict {
        audit: String,
        control: String,
        key: String,
        verdict: Verdict,
        note: Option<String>,
    },
    Attach {
        audit: String,
        control: String,
        key: String,
        path: std::path::PathBuf,
    },
    AddFinding(NewFinding),
    SetFinding {
        id: String,
        change: Change,
    },
    StartAudit {
        label: String,
        scope: audits::Scope,
        seed: Option<String>,
    },
    CloseAudit {
        label: String,
    },
    ExportPacket {
        label: String,
    },
    Ingest {
        source: String,
    },
    /// The jobs of a pull: the newest timestamps come from the database;
    /// the fetching itself runs on tokio, off this thread.
    PlanPull {
        sources: Vec<String>,
    },
    /// Loads finished pulls (fetched here, or by another process while
    /// this one held the workspace).
    LoadPulls,
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
            Request::Systems => Track::Read(Slot::Systems),
            Request::Query { .. } => Track::Read(Slot::Query),
            // Asking records the auditor's request: a write.
            Request::Ask { .. } => Track::Write(Write::Ask),
            Request::Verdict { .. } => Track::Write(Write::Verdict),
            Request::Attach { .. } => Track::Write(Write::Attachment),
            Request::AddFinding(_) | Request::SetFinding { .. } => Track::Write(Write::Finding),
            Request::StartAudit { .. } | Request::CloseAudit { .. } => Track::Write(Write::Audit),
            Request::ExportPacket { .. } => Track::Write(Write::Packet),
            Request::Ingest { .. } => Track::Write(Write::Ingest),
            Request::PlanPull { .. } | Request::LoadPulls => Track::Write(Write::Pull),
        }
    }

    /// Whether serving the request changes the workspace. An export is
    /// tracked like a write (its reply always shows) but only reads the
    /// database, so a read-only workspace exports too.
    pub fn writes(&self) -> bool {
        matches!(self.track(), Track::Write(w) if w != Write::Packet)
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
            Request::Systems => "checking the inventory against the evidence".into(),
            Request::Query { .. } => "running the query".into(),
            Request::Ask { .. } => "answering the request".into(),
            Request::Verdict { .. } => "recording the verdict".into(),
            Request::Attach { path, .. } => format!("attaching {}", path.display()),
            Request::AddFinding(_) => "filing the finding".into(),
            Request::SetFinding { id, .. } => format!("changing {id}"),
            Request::StartAudit { label, .. } => format!("starting {label} and drawing its samples"),
            Request::CloseAudit { label } => format!("closing {label}"),
            Request::ExportPacket { label } => format!("exporting the packet of {label}"),
            Request::Ingest { source } => format!("ingesting {source}"),
            Request::PlanPull { sources } => format!("planning the pull of {}", sources.join(", ")),
            Request::LoadPulls => "loading pulled pages".into(),
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
    Systems,
    Query,
}

/// What a write changes (its reply goes to the view that sent it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Write {
    Ask,
    Verdict,
    Attachment,
    Finding,
    Audit,
    Packet,
    Ingest,
    Pull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    Read(Slot),
    Write(Write),
}

#[derive(Debug, Clone)]
pub enum Reply {
    Overview(Box<Overview>),
    ControlDetail {
        control: String,
        specs: Vec<SpecOutcome>,
    },
    /// A frozen sample, with the population's period (timestamp) column
    /// and its columns in the order the domain shows them.
    Sample {
        sample: Box<Sample>,
        period_column: String,
        columns: Vec<String>,
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
    Systems(Box<InventoryPicture>),
    Query(ResultSet),
    Answered {
        request: AuditorRequest,
        sample: Box<Sample>,
        period_column: String,
        columns: Vec<String>,
    },
    Done(String),
    /// Jobs for the event loop to fetch on tokio.
    PullJobs(Vec<crate::connectors::Job>),
    /// What loading finished pulls did, a line each (empty: nothing waited).
    PullsLoaded(Vec<String>),
}

/// A reply with the id of the request it answers.
#[derive(Debug)]
pub struct Envelope {
    pub id: u64,
    pub track: Track,
    pub result: Result<Reply, Failure>,
}
