//! Evidence left in a warehouse (`[[warehouse]]`, a source with
//! `warehouse = …`): never copied, queried there. A refresh describes the
//! relation and counts it per 15-minute bucket there; a draw computes the
//! count, the per-row key digests and the top n + 1 by rank there, and the
//! drawn rows come back whole to be re-rendered and re-hashed in the
//! workspace's own DuckDB (`draw.rs`). PostgreSQL is reached through
//! `psql` (`psql.rs`). The connection URL is read from the warehouse's env
//! var when a session starts, and appears in no message, log or packet.

pub mod columns;
pub mod compile;
pub mod draw;
pub mod psql;
pub mod reperform;
pub mod scratch;
pub mod spill;

use std::time::Duration;

use crate::workspace::config::{Config, Relation, SourceConfig, WarehouseConfig};
use crate::workspace::sql::quote_ident;
pub use psql::{Postgres, Step};

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse `{warehouse}`: ${env} is not set; it holds the connection URL (postgres://user@host:port/db)")]
    NoUrl { warehouse: String, env: String },
    #[error("warehouse `{warehouse}`: ${env} is not a usable URL: {why}")]
    Url { warehouse: String, env: String, why: String },
    #[error("warehouse `{warehouse}`: {message}")]
    Failed { warehouse: String, message: String },
    #[error(
        "warehouse `{warehouse}`: no answer within {}s (its `timeout`); the session was cancelled",
        after.as_secs()
    )]
    Timeout { warehouse: String, after: Duration },
    #[error("warehouse `{warehouse}`: cannot run psql ({why}); install the PostgreSQL client or set QUARTERDECK_PSQL")]
    NoClient { warehouse: String, why: String },
    #[error("unknown warehouse `{0}`")]
    Unknown(String),
    #[error("warehouse `{warehouse}`: {message}; nothing was drawn")]
    Mismatch { warehouse: String, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    DuckDb(#[from] duckdb::Error),
}

impl crate::error::Kind for WarehouseError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Timeout { .. } => ErrorKind::Stopped,
            Self::Io(_) | Self::DuckDb(_) => ErrorKind::Internal,
            _ => ErrorKind::BadInput,
        }
    }
}

/// A session with the named warehouse, its URL read from its env var now.
pub fn session(config: &Config, name: &str) -> Result<Postgres, WarehouseError> {
    let warehouse = config.warehouse(name).ok_or_else(|| WarehouseError::Unknown(name.to_string()))?;
    session_of(warehouse)
}

pub fn session_of(warehouse: &WarehouseConfig) -> Result<Postgres, WarehouseError> {
    let url = std::env::var(&warehouse.url_env)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| WarehouseError::NoUrl { warehouse: warehouse.name.clone(), env: warehouse.url_env.clone() })?;
    Postgres::from_url(&warehouse.name, &warehouse.url_env, &url, warehouse.timeout)
}

/// The source's rows there, as SQL of that engine: its table, or its query.
pub fn relation_sql(source: &SourceConfig) -> Option<String> {
    let placed = source.warehouse.as_ref()?;
    Some(match &placed.relation {
        Relation::Table(parts) => {
            // Unquoted, the engine folds a name to lowercase: so does this.
            let parts: Vec<String> = parts.iter().map(|p| quote_ident(&p.to_ascii_lowercase())).collect();
            format!("SELECT * FROM {}", parts.join("."))
        }
        Relation::Query(query) => query.clone(),
    })
}

/// What a warehouse source's refresh found there, as its run records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    pub warehouse: String,
    pub kind: String,
    /// The engine's SQL for the source's rows.
    pub relation: String,
    pub columns: Vec<columns::WarehouseColumn>,
    pub rows: u64,
}

/// The source's latest good refresh there (None: never refreshed).
pub fn recorded(ws: &crate::workspace::Workspace, source: &str) -> duckdb::Result<Option<Recorded>> {
    let files: Option<String> = crate::workspace::optional(ws.conn.query_row(
        "SELECT files FROM qd.ingest_runs WHERE source = ? AND status = 'ok' AND mode = 'in_place'
         ORDER BY run_id DESC LIMIT 1",
        [source],
        |r| r.get(0),
    ))?;
    Ok(files.and_then(|text| serde_json::from_str(&text).ok()))
}
