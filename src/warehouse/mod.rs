//! Evidence left in a warehouse (`[[warehouse]]`, a source with
//! `warehouse = …`): never copied, queried there. A refresh describes the
//! relation and counts it per 15-minute bucket there; a draw computes the
//! count, the per-row key digests and the top n + 1 by rank there, and the
//! drawn rows come back whole to be re-rendered and re-hashed in the
//! workspace's own DuckDB (`draw.rs`). PostgreSQL is reached through
//! `psql` (`psql.rs`), Trino through its REST protocol (`trino.rs`); where
//! their SQL differs, `dialect.rs` says how. The connection URL is read from the warehouse's env
//! var when a session starts, and appears in no message, log or packet.

pub mod columns;
pub mod compile;
pub mod defer;
pub mod dialect;
pub mod draw;
pub mod psql;
pub mod psql_text;
pub mod reperform;
pub mod scratch;
pub mod spill;
pub mod trino;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::workspace::config::{Config, Relation, SourceConfig, WarehouseConfig, WarehouseKind};
use crate::workspace::sql::quote_ident;
pub use dialect::Dialect;
pub use psql::{Postgres, Step};
pub use trino::Trino;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse `{warehouse}`: ${env} is not set; it holds the connection URL ({shape})")]
    NoUrl { warehouse: String, env: String, shape: &'static str },
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
    #[error("warehouse `{warehouse}`: the query was cancelled there; nothing changed")]
    Cancelled { warehouse: String },
    /// A deferred session's statement has no answer yet (see `defer.rs`):
    /// the work is served again once it has one.
    #[error("warehouse `{warehouse}`: waiting for its answer")]
    Pending { warehouse: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    DuckDb(#[from] duckdb::Error),
}

impl crate::error::Kind for WarehouseError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Timeout { .. } | Self::Cancelled { .. } | Self::Pending { .. } => ErrorKind::Stopped,
            Self::Io(_) | Self::DuckDb(_) => ErrorKind::Internal,
            _ => ErrorKind::BadInput,
        }
    }
}

/// A request to stop what a workspace's warehouse sessions are running
/// (the TUI's Esc): psql is killed, a Trino query is cancelled with
/// `DELETE`, and the caller gets [`WarehouseError::Cancelled`]. Every
/// session a workspace opens shares its requests, and watches only those
/// made after it opened: an Esc meant for earlier work stops nothing later.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    requests: Arc<AtomicU64>,
    /// The requests made before this watch began.
    seen: u64,
}

impl Cancel {
    /// Stops every session now watching.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    /// A watch over requests made from now on.
    pub fn watch(&self) -> Self {
        Self { requests: Arc::clone(&self.requests), seen: self.requests.load(Ordering::SeqCst) }
    }

    /// Whether a stop was requested since this watch began.
    pub fn requested(&self) -> bool {
        self.requests.load(Ordering::SeqCst) != self.seen
    }
}

/// A session with one warehouse: the engine's client and its dialect, or
/// (on the TUI's database thread) answers from a book, run on tokio.
#[derive(Debug, Clone)]
pub enum Session {
    Postgres(Postgres),
    Trino(Trino),
    Deferred(defer::DeferredSession),
}

impl Session {
    /// The warehouse's name in quarterdeck.toml.
    pub fn warehouse(&self) -> &str {
        match self {
            Self::Postgres(pg) => &pg.warehouse,
            Self::Trino(trino) => &trino.warehouse,
            Self::Deferred(deferred) => &deferred.warehouse,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Postgres(_) => Dialect::Postgres,
            Self::Trino(_) => Dialect::Trino,
            Self::Deferred(deferred) => deferred.dialect,
        }
    }

    /// Runs `steps` (in one read-only snapshot where the engine has one);
    /// `each(result, fields)` is called for every row of step `i` in order.
    pub fn run(
        &self,
        steps: &[Step],
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
    ) -> Result<(), WarehouseError> {
        self.run_marked(steps, each, &mut |_| {})
    }

    /// [`Session::run`], calling `ended(i)` as soon as step `i`'s last row is in.
    pub fn run_marked(
        &self,
        steps: &[Step],
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
        ended: &mut dyn FnMut(usize),
    ) -> Result<(), WarehouseError> {
        match self {
            Self::Postgres(pg) => pg.run_marked(steps, each, ended),
            Self::Trino(trino) => trino.run_marked(steps, each, ended),
            Self::Deferred(deferred) => deferred.run_marked(steps, each, ended),
        }
    }

    /// `steps`, and the first column of each row of `keys` handed to
    /// `key_of` (NULL as ''; then `key_of(None)`) from the same rows: in
    /// PostgreSQL by a second session on the first one's snapshot, at the
    /// same time; in Trino, between the first step and the rest.
    pub fn run_beside(
        &self,
        steps: &[Step],
        keys: &str,
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
        key_of: &mut (dyn FnMut(Option<&str>) -> Result<(), WarehouseError> + Send),
    ) -> Result<(), WarehouseError> {
        match self {
            Self::Postgres(pg) => pg.run_beside(steps, keys, each, key_of),
            Self::Trino(trino) => {
                let mut all = steps.to_vec();
                all.insert(1.min(all.len()), Step::Rows(keys.to_string()));
                let keys_at = 1.min(steps.len());
                let mut each_of = |i: usize, fields: Vec<Option<String>>| match i.cmp(&keys_at) {
                    std::cmp::Ordering::Equal => key_of(Some(fields.first().and_then(Option::as_deref).unwrap_or(""))),
                    std::cmp::Ordering::Less => each(i, fields),
                    std::cmp::Ordering::Greater => each(i - 1, fields),
                };
                trino.run_marked(&all, &mut each_of, &mut |_| {})?;
                key_of(None)
            }
            // Its keys were streamed where the statement ran (`draw::hashing_keys`).
            Self::Deferred(deferred) => Err(WarehouseError::Failed {
                warehouse: deferred.warehouse.clone(),
                message: "a deferred session streams no keys".into(),
            }),
        }
    }

    /// Compiles each statement there without running it: the error of
    /// each, None where it compiled.
    pub fn compile(&self, statements: &[String]) -> Result<Vec<Option<String>>, WarehouseError> {
        match self {
            Self::Postgres(pg) => pg.compile(statements),
            Self::Trino(trino) => trino.compile(statements),
            Self::Deferred(deferred) => deferred.compile(statements),
        }
    }
}

/// A session with the named warehouse that the workspace's [`Cancel`]
/// stops: live, its URL read from its env var now — or, where the
/// workspace defers its warehouse work (the TUI), answered from its book.
pub fn session_in(ws: &crate::workspace::Workspace, name: &str) -> Result<Session, WarehouseError> {
    if let Some(book) = &ws.deferred {
        let warehouse = ws.config.warehouse(name).ok_or_else(|| WarehouseError::Unknown(name.to_string()))?;
        return Ok(Session::Deferred(defer::DeferredSession {
            warehouse: warehouse.name.clone(),
            dialect: Dialect::of(warehouse.kind),
            book: book.clone(),
        }));
    }
    let mut session = session(&ws.config, name)?;
    match &mut session {
        Session::Postgres(pg) => pg.cancel = ws.warehouse_cancel.watch(),
        Session::Trino(trino) => trino.cancel = ws.warehouse_cancel.watch(),
        Session::Deferred(_) => {}
    }
    Ok(session)
}

/// A session with the named warehouse, its URL read from its env var now.
pub fn session(config: &Config, name: &str) -> Result<Session, WarehouseError> {
    let warehouse = config.warehouse(name).ok_or_else(|| WarehouseError::Unknown(name.to_string()))?;
    session_of(warehouse)
}

pub fn session_of(warehouse: &WarehouseConfig) -> Result<Session, WarehouseError> {
    let url = std::env::var(&warehouse.url_env).ok().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
        WarehouseError::NoUrl {
            warehouse: warehouse.name.clone(),
            env: warehouse.url_env.clone(),
            shape: warehouse.kind.url_shape(),
        }
    })?;
    let (name, env, timeout) = (&warehouse.name, &warehouse.url_env, warehouse.timeout);
    Ok(match warehouse.kind {
        WarehouseKind::Postgres => Session::Postgres(Postgres::from_url(name, env, &url, timeout)?),
        WarehouseKind::Trino => Session::Trino(Trino::from_url(name, env, &url, timeout)?),
    })
}

/// The dialect of the named warehouse (PostgreSQL's where it is unknown).
pub fn dialect_of(config: &Config, name: &str) -> Dialect {
    config.warehouse(name).map_or(Dialect::Postgres, |w| Dialect::of(w.kind))
}

/// rustls's ring provider, once per process.
fn install_crypto() {
    crate::connectors::client::install_crypto();
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
