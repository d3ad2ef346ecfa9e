//! Evidence that is not rows: policies, minutes, vendor reports, pentests,
//! postmortems. Declared in a register (register.rs), collected into a
//! content-addressed store with their hashes logged (collect.rs, blobs.rs),
//! and offered to the mappings as the built-in `documents` source, one row
//! per document version (table.rs), so that specs, samples and verdicts
//! treat them like any other population. Their state in a period —
//! current, renewal due, expired, changed, missing — is in state.rs.

pub mod blobs;
pub mod collect;
pub mod files;
pub mod register;
pub mod state;
mod table;

use std::collections::BTreeMap;

pub use register::{Document, Register};

use super::mapping::Mappings;
use super::problems::{Problem, did_you_mean};

/// The built-in source's table, and the name no declared source may take.
pub const SOURCE: &str = "documents";
/// One row per document version.
pub const KEY: [&str; 2] = ["id", "version"];
/// A version is in a period from its effective date…
pub const EFFECTIVE: &str = "effective";
/// …until the next version of the same document takes effect.
pub const SUPERSEDED: &str = "superseded";
pub const REGISTER_FILE: &str = "documents.toml";
pub const DOCUMENTS_DIR: &str = "documents";
/// A renewal falling due within this many days is reported as due.
pub const RENEWAL_NOTICE_DAYS: i64 = 30;

/// What a document is, in the request list's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Policy,
    Minutes,
    RiskAssessment,
    VendorReport,
    Pentest,
    Postmortem,
    Procedure,
    Other,
}

impl Kind {
    pub const NAMES: [&'static str; 8] =
        ["policy", "minutes", "risk-assessment", "vendor-report", "pentest", "postmortem", "procedure", "other"];
    const ALL: [Kind; 8] = [
        Kind::Policy,
        Kind::Minutes,
        Kind::RiskAssessment,
        Kind::VendorReport,
        Kind::Pentest,
        Kind::Postmortem,
        Kind::Procedure,
        Kind::Other,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::NAMES.iter().position(|n| *n == text.trim()).map(|i| Self::ALL[i])
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|k| *k == self).unwrap_or(7)]
    }
}

/// What the register says that needs the rest of the workspace to judge:
/// controls that do not exist, a version declared twice, and the files.
pub fn check(root: &std::path::Path, register: &Register, mappings: &Mappings) -> Vec<Problem> {
    let mut problems = register.problems.clone();
    let ids: Vec<&str> = mappings.controls.iter().map(|c| c.id.as_str()).collect();
    let mut seen: BTreeMap<(&str, &str), String> = BTreeMap::new();
    for document in &register.documents {
        let key = (document.id.as_str(), document.version.as_str());
        match seen.get(&key) {
            Some(first) => problems.push(Problem::error(
                document.location.clone(),
                format!(
                    "document `{}` version `{}` is declared twice (first at {first}); a new version needs its own `version`",
                    document.id, document.version
                ),
            )),
            None => {
                seen.insert(key, document.location.to_string());
            }
        }
        for control in &document.controls {
            if !ids.contains(&control.value.as_str()) {
                problems.push(Problem::error(
                    control.location.clone(),
                    format!(
                        "document `{}`: unknown control `{}`{}",
                        document.id,
                        control.value,
                        did_you_mean(&control.value, ids.iter().copied())
                    ),
                ));
            }
        }
        problems.extend(files::problems(root, document));
    }
    problems.sort();
    problems
}

/// A warning when the register changed since the `documents` table was
/// built from it: the table (and so every spec over it) is as it was.
pub fn stale_table(conn: &duckdb::Connection, register: &Register) -> Option<Problem> {
    let last: Option<String> = conn
        .query_row(
            "SELECT json_extract_string(payload, '$.register') FROM qd.action_log \
             WHERE action = 'documents.collect' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    let file = std::path::Path::new(REGISTER_FILE);
    let location = super::problems::Location::new(file, 1, 1);
    match last {
        Some(version) if version != register.version => Some(Problem::warning(
            location,
            "the register changed since the last `quarterdeck documents collect`; the `documents` table is as it was then",
        )),
        None if !register.documents.is_empty() => Some(Problem::warning(
            location,
            "documents are declared but were never collected; run `quarterdeck documents collect`",
        )),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the document register has problems; nothing was recorded:\n{}", list(.0))]
    Register(Vec<Problem>),
    #[error("no document `{0}` in the register{1}")]
    UnknownDocument(String, String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Workspace(#[from] super::WorkspaceError),
    #[error("database: {0}")]
    Database(#[from] duckdb::Error),
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

impl crate::error::Kind for DocumentError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Register(_) | Self::UnknownDocument(..) => ErrorKind::BadInput,
            Self::Io { .. } => ErrorKind::Internal,
            Self::Workspace(e) => e.kind(),
            Self::Database(e) => e.kind(),
        }
    }
}
