//! Why the worker could not serve a request: the domain's facts, typed,
//! so that each view adds its own advice (the key to press).

use std::any::Any;

use crate::audit::AuditError;
use crate::error::{ErrorKind, Kind};

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
