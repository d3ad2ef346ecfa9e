//! Connectors: evidence that collects itself from the systems it lives in.
//! A connector only fetches — pages stream to files under
//! `evidence/pulls/` (store.rs), hashed — on tokio, never on the database
//! thread; the records then load through the same ingest path as files,
//! and only when the whole pull succeeded (load.rs). One generic
//! paginated-JSON connector (client.rs, paginate.rs, records.rs) with the
//! vendors' presets as plans over it (plan.rs).
//!
//! Secrets (secret.rs) are read when a pull starts, sent in sensitive
//! headers, and scrubbed from everything a pull writes down.

pub mod client;
pub mod load;
pub mod paginate;
pub mod plan;
pub mod pull;
pub mod records;
pub mod secret;
pub mod store;

use std::path::PathBuf;

use crate::error::{ErrorKind, Kind};
use crate::workspace::ingest::IngestError;

pub use load::{LoadOutcome, load_pending, newest};
pub use pull::{Fetched, Job, OnTick, Tick, fetch};

/// Why a pull failed. No variant ever holds a secret's value: URLs and
/// bodies in them are scrubbed first.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("source `{source_name}`: {why}")]
    Secret { source_name: String, why: String },
    #[error("`{0}` is not a connector source (its format reads files; use `quarterdeck ingest`)")]
    NotAConnector(String),
    #[error("source `{source_name}`: {detail}")]
    Plan { source_name: String, detail: String },
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("{url}: 401 Unauthorized — the token was refused (expired, revoked or for another site): {detail}")]
    Unauthorized { url: String, detail: String },
    #[error("{url}: HTTP {status}: {detail}")]
    Status { url: String, status: u16, detail: String },
    #[error("{url}: HTTP {status}, rate limited for {wait_secs}s more: {detail}")]
    RateLimited { url: String, status: u16, wait_secs: u64, detail: String },
    #[error("{url}: no response within the timeout ({attempts} attempt(s))")]
    Timeout { url: String, attempts: u32 },
    #[error("{url}: {detail}")]
    Truncated { url: String, detail: String },
    #[error("{url}: {detail} ({attempts} attempt(s))")]
    Network { url: String, attempts: u32, detail: String },
    #[error("{url}: {detail}")]
    NotJson { url: String, detail: String },
    #[error("{url}: {detail}")]
    Shape { url: String, detail: String },
    #[error("{url}: {detail}")]
    Pagination { url: String, detail: String },
    #[error("the API reported {reported} record(s) but the pages held {pulled}; the pull is incomplete")]
    TotalMismatch { reported: u64, pulled: u64 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a pull manifest: {detail}")]
    BadManifest { path: PathBuf, detail: String },
    #[error(
        "{path}: the pulled records changed on disk since they were fetched (sha256 {found}, the pull recorded {recorded}); not loaded"
    )]
    Changed { path: PathBuf, found: String, recorded: String },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database: {0}")]
    Database(#[from] duckdb::Error),
}

impl Kind for ConnectorError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Ingest(e) => e.kind(),
            Self::Database(_) | Self::Io { .. } | Self::Client(_) => ErrorKind::Internal,
            Self::Secret { .. } | Self::NotAConnector(_) | Self::Plan { .. } | Self::BadManifest { .. } => {
                ErrorKind::BadInput
            }
            _ => ErrorKind::Internal,
        }
    }
}
