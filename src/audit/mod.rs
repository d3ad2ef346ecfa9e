//! Audit work over an open workspace: full-population attribute tests now;
//! sampling, verdicts, findings and the action log build on it.

pub mod full_population;

use crate::workspace::location::did_you_mean;
use crate::workspace::mapping::Mappings;
use crate::workspace::population::PopulationError;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("unknown control `{id}`{hint}")]
    UnknownControl { id: String, hint: String },
    #[error("control `{0}` has no evidence spec to test")]
    NoEvidence(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Population(#[from] PopulationError),
    #[error("database: {0}")]
    Database(#[from] duckdb::Error),
}

/// The control with this id, or an error suggesting the closest one.
pub fn find_control<'a>(
    mappings: &'a Mappings,
    id: &str,
) -> Result<&'a crate::workspace::mapping::Control, AuditError> {
    mappings.control(id).ok_or_else(|| AuditError::UnknownControl {
        id: id.to_string(),
        hint: did_you_mean(id, mappings.controls.iter().map(|c| c.id.as_str())),
    })
}
