//! A command's failure: the error, its kind (which sets the exit code) and
//! the command line's own advice — the flag or command that helps. Domain
//! errors state facts; naming `--note` or `quarterdeck verify` is this
//! edge's business.

use std::any::Any;

use crate::audit::AuditError;
use crate::audit::questions::QuestionError;
use crate::error::{ErrorKind, Kind};
use crate::workspace::WorkspaceError;

#[derive(Debug)]
pub struct Failure {
    pub kind: ErrorKind,
    pub error: anyhow::Error,
    /// What to type next, when the command line knows.
    pub advice: Option<String>,
}

impl<E: Kind + std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(error: E) -> Self {
        Self { kind: error.kind(), advice: advice(&error), error: error.into() }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self { kind: ErrorKind::Internal, error, advice: None }
    }
}

impl Failure {
    /// The exit code documented in `--help` (EXIT_CODES).
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Internal => 1,
            ErrorKind::Unusable => 3,
            ErrorKind::BadInput => 4,
            ErrorKind::Stopped => 5,
        }
    }

    /// The reader of stdout went away (`| head`): not a failure at all.
    pub fn is_closed_pipe(&self) -> bool {
        self.error
            .chain()
            .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
    }

    /// The message for stderr: the error's chain, then the advice.
    pub fn message(&self) -> String {
        match &self.advice {
            Some(advice) => format!("{:#}; {advice}", self.error),
            None => format!("{:#}", self.error),
        }
    }
}

/// `context` that keeps the error's kind (anyhow's would make it internal).
pub trait Within<T> {
    fn within<D: std::fmt::Display + Send + Sync + 'static>(self, what: impl FnOnce() -> D) -> Result<T, Failure>;
}

impl<T, E: Into<Failure>> Within<T> for Result<T, E> {
    fn within<D: std::fmt::Display + Send + Sync + 'static>(self, what: impl FnOnce() -> D) -> Result<T, Failure> {
        self.map_err(|e| {
            let failure: Failure = e.into();
            Failure { error: failure.error.context(what()), ..failure }
        })
    }
}

/// The command line's advice for an error it knows.
fn advice(error: &(dyn Any + 'static)) -> Option<String> {
    let workspace = |e: &WorkspaceError| match e {
        WorkspaceError::NotFound(dir) => Some(format!("create one with `quarterdeck init {}`", dir.display())),
        WorkspaceError::NoDatabase { .. } | WorkspaceError::NeedsMigration { .. } => {
            Some("open it once without --read-only".into())
        }
        WorkspaceError::ReadOnly(_) => Some("it was opened with --read-only".into()),
        WorkspaceError::Tampered(_) => Some("run `quarterdeck verify` to see every divergence".into()),
        _ => None,
    };
    if let Some(e) = error.downcast_ref::<WorkspaceError>() {
        return workspace(e);
    }
    if let Some(e) = error.downcast_ref::<crate::workspace::ingest::IngestError>() {
        return match e {
            crate::workspace::ingest::IngestError::Workspace(e) => workspace(e),
            _ => None,
        };
    }
    if let Some(e) = error.downcast_ref::<AuditError>() {
        return match e {
            AuditError::SpecNeeded(_) => Some("name one with --spec".into()),
            AuditError::UnknownAudit(_) => Some("`quarterdeck audit list` shows the audits".into()),
            AuditError::PassNeedsNote { .. } => Some("give it with --note".into()),
            AuditError::RedrawNeedsReason => Some("give it with --reason".into()),
            AuditError::ConclusionNeeded => Some("give it with --conclusion".into()),
            AuditError::TestingUnfinished { audit, control, .. } => {
                Some(format!("`quarterdeck sample {control} --audit {audit}` shows the rows"))
            }
            AuditError::ReviewerTested { .. } => {
                Some("someone who recorded none of its verdicts signs off ($QUARTERDECK_ACTOR names who acts)".into())
            }
            AuditError::Question(QuestionError::NoMatch(_)) => Some("`quarterdeck ask --list` shows them".into()),
            AuditError::Workspace(e) => workspace(e),
            _ => None,
        };
    }
    if let Some(QuestionError::NoMatch(_)) = error.downcast_ref::<QuestionError>() {
        return Some("`quarterdeck ask --list` shows them".into());
    }
    None
}
