//! Audit work over an open workspace: full-population tests, mock audits
//! with frozen samples, verdicts, findings across quarters, auditor requests
//! and the hash-chained action log. Knows nothing of the command line.

pub mod attachments;
pub mod auditor_requests;
pub mod audits;
pub mod browse;
pub mod findings;
pub mod full_population;
pub mod lifecycle;
pub mod occurrences;
pub mod population_rows;
pub mod questions;
pub mod record;
pub mod replay;
pub mod replay_files;
pub mod review;
pub mod sampling;
pub mod verdicts;

use crate::workspace::WorkspaceError;
use crate::workspace::mapping::{Control, EvidenceSpec, Mappings};
use crate::workspace::population::PopulationError;
use crate::workspace::problems::did_you_mean;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("unknown control `{id}`{hint}")]
    UnknownControl { id: String, hint: String },
    #[error("control `{control}` has no evidence spec `{spec}`{hint}")]
    UnknownSpec { control: String, spec: String, hint: String },
    #[error("control `{0}` has several evidence specs")]
    SpecNeeded(String),
    #[error("control `{0}` has no evidence spec to test")]
    NoEvidence(String),
    #[error("unknown audit `{0}`")]
    UnknownAudit(String),
    #[error("audit `{0}` already exists")]
    AuditExists(String),
    #[error("audit `{0}` is closed; nothing in a closed audit can change")]
    Closed(String),
    #[error("control `{control}` is not in the scope of audit `{audit}`")]
    NotInScope { audit: String, control: String },
    #[error("audit `{audit}` has no sample of control `{control}`, evidence `{spec}`: it was never drawn")]
    NotDrawn { audit: String, control: String, spec: String },
    #[error("`{typed}` names two rows, `{first}` and `{second}`; give the key with its columns separated by U+001F")]
    AmbiguousKey { typed: String, first: sampling::key::SampleKey, second: sampling::key::SampleKey },
    #[error("key `{key}` is not in audit `{audit}`'s sample of control `{control}`")]
    NotSampled { audit: String, control: String, key: String },
    #[error(
        "key `{key}` is neither sampled nor in the population of control `{control}` in audit `{audit}` (its period, its evidence)"
    )]
    NotInPopulation { audit: String, control: String, key: String },
    #[error("row `{key}`: test(s) {tests} did not pass; a pass over them needs a note with the reason")]
    PassNeedsNote { key: String, tests: String },
    #[error("unknown finding `{0}`")]
    UnknownFinding(String),
    #[error(
        "control `{control}`, evidence `{spec}`: {count} key(s) appear more than once in the population; a key must identify one row"
    )]
    DuplicateKeys { control: String, spec: String, count: u64 },
    #[error("a redraw needs a reason, which is logged")]
    RedrawNeedsReason,
    #[error("a review needs a conclusion, which is logged")]
    ConclusionNeeded,
    #[error("control `{control}` has no sampled rows in audit `{audit}`: there is no testing to review")]
    NothingToReview { audit: String, control: String },
    #[error(
        "control `{control}` in audit `{audit}`: {undecided} of {sampled} sampled row(s) have no verdict yet; only finished testing can be reviewed"
    )]
    TestingUnfinished { audit: String, control: String, undecided: u64, sampled: u64 },
    #[error(
        "`{reviewer}` recorded verdicts on control `{control}` in audit `{audit}`: a tester cannot review their own work"
    )]
    ReviewerTested { reviewer: String, audit: String, control: String },
    #[error("audit `{audit}` recorded no missed slot `{slot}` of control `{control}`{hint}")]
    NotMissed { audit: String, control: String, slot: String, hint: String },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Transition(#[from] lifecycle::TransitionError),
    #[error(transparent)]
    Question(#[from] questions::QuestionError),
    #[error(transparent)]
    Population(#[from] PopulationError),
    #[error(transparent)]
    Period(#[from] crate::workspace::period::PeriodError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Query(#[from] crate::workspace::query::QueryError),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("database: {0}")]
    Database(#[from] duckdb::Error),
}

impl crate::error::Kind for AuditError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Workspace(e) => e.kind(),
            Self::Query(e) => e.kind(),
            Self::Database(e) => e.kind(),
            Self::Warehouse(e) => e.kind(),
            _ => ErrorKind::BadInput,
        }
    }
}

/// The control with this id, or an error suggesting the closest one.
pub fn find_control<'a>(mappings: &'a Mappings, id: &str) -> Result<&'a Control, AuditError> {
    mappings.control(id).ok_or_else(|| AuditError::UnknownControl {
        id: id.to_string(),
        hint: did_you_mean(id, mappings.controls.iter().map(|c| c.id.as_str())),
    })
}

/// The named spec of a control, or its only one.
pub fn find_spec<'a>(control: &'a Control, name: Option<&str>) -> Result<&'a EvidenceSpec, AuditError> {
    match name {
        Some(name) => control.evidence.iter().find(|s| s.name == name).ok_or_else(|| AuditError::UnknownSpec {
            control: control.id.clone(),
            spec: name.to_string(),
            hint: did_you_mean(name, control.evidence.iter().map(|s| s.name.as_str())),
        }),
        None => match control.evidence.as_slice() {
            [] => Err(AuditError::NoEvidence(control.id.clone())),
            [only] => Ok(only),
            _ => Err(AuditError::SpecNeeded(control.id.clone())),
        },
    }
}
