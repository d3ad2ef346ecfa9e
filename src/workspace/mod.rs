//! The evidence workspace: a folder with quarterdeck.toml, controls/*.toml
//! and workspace.duckdb. One process opens it at a time, read-write or
//! read-only; the domain modules work through an open `Workspace`.

pub mod action_log;
pub mod bounds;
pub mod calendar;
pub mod catalog;
pub mod check;
pub mod clock;
pub mod config;
pub mod connector;
pub mod coverage;
pub mod discovery;
pub mod documents;
pub mod frequency;
pub mod functions;
pub mod guard;
pub mod ingest;
pub mod init;
pub mod inventory;
pub mod limits;
pub mod mapping;
pub mod period;
pub mod population;
pub mod problems;
pub mod query;
mod schema;
pub mod sources;
pub mod sql;
pub mod stored;
pub mod values;
pub mod warehouse_config;

use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Connection};

pub use clock::Clock;
pub use config::{Config, ConfigError};

pub const DB_FILE: &str = "workspace.duckdb";

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("no workspace at {0}: it has no quarterdeck.toml")]
    NotFound(PathBuf),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "workspace {db} is open in another process: {holder} (PID {pid}); close it there, or open it read-only once it has closed. Nothing was written."
    )]
    Locked { db: PathBuf, holder: String, pid: String },
    #[error("{db} has no database yet; a read-write open creates it")]
    NoDatabase { db: PathBuf },
    #[error(
        "workspace was written by a newer Quarterdeck (schema v{found}; this build knows v{known}); upgrade quarterdeck to open it"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("workspace schema v{found} needs migrating to v{known}, which a read-only open cannot do")]
    NeedsMigration { found: i64, known: i64 },
    #[error(
        "{db} cannot be opened as a workspace database: {message}; nothing was written (restore it from a backup, or move it aside and re-ingest)"
    )]
    Unreadable { db: PathBuf, message: String },
    #[error("qd.meta holds an unreadable schema version `{0}`")]
    CorruptSchema(String),
    #[error("the workspace is open read-only: {0} is refused")]
    ReadOnly(String),
    #[error("{file}: {0}; nothing was written", file = action_log::HEAD_FILE)]
    Tampered(action_log::HeadMismatch),
    #[error("database: {0}")]
    Database(#[from] duckdb::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl crate::error::Kind for WorkspaceError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Config(_) => ErrorKind::BadInput,
            Self::Database(e) => e.kind(),
            Self::Io { .. } => ErrorKind::Internal,
            _ => ErrorKind::Unusable,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

/// Options for the one DuckDB instance of this process.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// DuckDB worker threads; None leaves DuckDB's default (one per core).
    pub threads: Option<u32>,
    /// What "now" is for everything this process records.
    pub clock: Clock,
    /// Track query progress (the TUI's status line reads it).
    pub progress: bool,
}

/// An open workspace: its folder, configuration and database connection.
pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
    pub conn: Connection,
    pub access: Access,
    pub clock: Clock,
    /// What Quarterdeck's SQL functions record for their callers (a draw's
    /// tap, an ingest's probe): this database's, no one else's.
    pub functions: functions::Functions,
    /// The guard's reading of this database's function catalog.
    pub catalog: guard::Catalog,
    /// Stops what this workspace's warehouse sessions are running (the
    /// TUI's Esc, beside DuckDB's interrupt).
    pub warehouse_cancel: crate::warehouse::Cancel,
    /// Set where warehouse statements must not be waited on here (the
    /// TUI's database thread): they are answered from this book, run on
    /// tokio (`warehouse/defer.rs`). None: sessions run them at once.
    pub deferred: Option<crate::warehouse::defer::Deferred>,
}

impl Workspace {
    pub fn open(root: &Path, access: Access) -> Result<Self, WorkspaceError> {
        Self::open_with(root, access, &OpenOptions::default())
    }

    pub fn open_with(root: &Path, access: Access, options: &OpenOptions) -> Result<Self, WorkspaceError> {
        if !root.join(config::CONFIG_FILE).is_file() {
            return Err(WorkspaceError::NotFound(root.to_path_buf()));
        }
        let config = Config::load(root)?;
        let db = root.join(DB_FILE);
        if access == Access::ReadOnly && !db.exists() {
            return Err(WorkspaceError::NoDatabase { db });
        }
        let mode = match access {
            Access::ReadWrite => AccessMode::ReadWrite,
            Access::ReadOnly => AccessMode::ReadOnly,
        };
        // Extensions we need are linked in; never reach for the network.
        let mut settings = duckdb::Config::default()
            .access_mode(mode)?
            .with("autoinstall_known_extensions", "false")?
            .with("autoload_known_extensions", "false")?;
        if let Some(threads) = options.threads {
            settings = settings.threads(i64::from(threads))?;
        }
        // One query must leave room for the OS and cannot fill the disk.
        let limits = &config.limits;
        settings = settings
            .with("memory_limit", &limits.memory_limit)?
            .with("max_temp_directory_size", &limits.max_temp_directory_size)?;
        if let Some(dir) = &limits.temp_directory {
            settings = settings.with("temp_directory", root.join(dir).to_string_lossy())?;
        }
        let conn = Connection::open_with_flags(&db, settings).map_err(|e| lock_error(&db, e))?;
        schema::migrate(&conn, access == Access::ReadOnly)?;
        let functions = functions::register(&conn)?;
        if options.progress {
            conn.set_query_progress_tracking(true)?;
        }
        let catalog = guard::Catalog::default();
        let ws = Self {
            root: root.to_path_buf(),
            config,
            conn,
            access,
            clock: options.clock,
            functions,
            catalog,
            warehouse_cancel: crate::warehouse::Cancel::default(),
            deferred: None,
        };
        // A log whose tail no longer matches the head kept beside it is not
        // written to; a read-only open still lets `verify` say what is wrong.
        if access == Access::ReadWrite {
            match action_log::read_head_file(root) {
                Ok(Some(head)) => {
                    action_log::check_head(&ws.conn, &head, action_log::HEAD_FILE).map_err(WorkspaceError::Tampered)?
                }
                Ok(None) => {}
                Err(unreadable) => return Err(WorkspaceError::Tampered(unreadable)),
            }
        }
        if access == Access::ReadOnly {
            ws.lock_down()?;
        }
        Ok(ws)
    }

    /// The guard every SQL text a person or a mapping writes passes here.
    pub fn guard(&self) -> guard::Guard<'_> {
        guard::Guard::new(&self.conn, &self.catalog)
    }

    /// Now, by this workspace's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Now as DuckDB's TIMESTAMP text (UTC), by this workspace's clock.
    pub fn now_text(&self) -> String {
        self.clock.now_text()
    }

    /// Today in the workspace's time zone, by its clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now().with_timezone(&self.config.timezone).date_naive()
    }

    /// Refuses a write in a read-only workspace, naming what was attempted.
    pub fn ensure_writable(&self, what: &str) -> Result<(), WorkspaceError> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(WorkspaceError::ReadOnly(what.to_string())),
        }
    }

    /// Makes this process's database refuse files, extensions and settings
    /// from here on; a read-only workspace is locked down as it opens.
    /// `enable_external_access = false` alone still lets `COPY … TO` write
    /// the database file itself and its WAL (DuckDB allows its own paths),
    /// so the local file system is switched off too: the open database
    /// keeps its file handle, and nothing else can be opened.
    ///
    /// A workspace with sources read in place must still read their lake
    /// folders: the local file system stays on, and DuckDB's
    /// `allowed_directories` admits those folders alone. (Writing there
    /// would take a `COPY`, which the guard refuses before DuckDB sees it.)
    pub fn lock_down(&self) -> Result<(), WorkspaceError> {
        let lakes = ingest::in_place::lake_folders(&self.root, &self.config.sources);
        if lakes.is_empty() {
            self.conn.execute_batch(
                "SET enable_external_access = false; SET disabled_filesystems = 'LocalFileSystem'; \
                 SET lock_configuration = true;",
            )?;
        } else {
            let list = lakes
                .iter()
                .map(|dir| sql::quote_literal(&format!("{}/", dir.display())))
                .collect::<Vec<_>>()
                .join(", ");
            self.conn.execute_batch(&format!(
                "SET allowed_directories = [{list}]; SET enable_external_access = false; SET lock_configuration = true;"
            ))?;
        }
        Ok(())
    }
}

/// Who is acting: $QUARTERDECK_ACTOR, else the OS account this process
/// runs as. `$USER` is not asked: it can be unset (cron, containers, sudo)
/// or say someone else, and the action log must name who really acted.
pub fn actor() -> String {
    match std::env::var("QUARTERDECK_ACTOR") {
        Ok(name) if !name.trim().is_empty() => name,
        _ => os_account(),
    }
}

/// The name of the effective user in the OS's account database; an
/// account without a name (a container's bare uid) is `uid:N`.
#[cfg(unix)]
fn os_account() -> String {
    // SAFETY: geteuid cannot fail. getpwuid_r writes only into `entry` and
    // `buffer`, whose sizes it is told; `found` is non-null only when
    // `entry` was filled, and its `pw_name` then points into `buffer`,
    // which outlives the read below.
    let uid = unsafe { libc::geteuid() };
    let mut size = 1024;
    while size <= 1 << 20 {
        let mut buffer = vec![0 as libc::c_char; size];
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let code = unsafe { libc::getpwuid_r(uid, &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found) };
        if code == libc::ERANGE {
            size *= 4;
            continue;
        }
        if code == 0 && !found.is_null() && !entry.pw_name.is_null() {
            let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) }.to_string_lossy().into_owned();
            if !name.is_empty() {
                return name;
            }
        }
        break;
    }
    format!("uid:{uid}")
}

#[cfg(not(unix))]
fn os_account() -> String {
    std::env::var("USERNAME").ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "unknown".to_string())
}

/// DuckDB's lock message names the holder and its PID; surface them.
fn lock_error(db: &Path, err: duckdb::Error) -> WorkspaceError {
    let text = err.to_string();
    if !text.contains("Could not set lock") && !text.contains("Conflicting lock") {
        return WorkspaceError::Unreadable { db: db.to_path_buf(), message: text };
    }
    let holder = text
        .split("Conflicting lock is held in ")
        .nth(1)
        .and_then(|rest| rest.split(" (PID ").next())
        .unwrap_or("another process")
        .to_string();
    let pid = text
        .split("(PID ")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    WorkspaceError::Locked { db: db.to_path_buf(), holder, pid }
}

/// A query that may return no row: `Ok(None)` instead of an error.
pub(crate) fn optional<T>(result: duckdb::Result<T>) -> duckdb::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(duckdb::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs `change` in one transaction: committed if it succeeds, rolled back
/// (nothing written) if it fails.
pub fn in_transaction<T, E: From<duckdb::Error>>(
    conn: &Connection,
    change: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    conn.execute_batch("BEGIN TRANSACTION")?;
    match change() {
        Ok(value) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_message_names_holder_and_pid() {
        let err = duckdb::Error::DuckDBFailure(
            duckdb::ffi::Error::new(1),
            Some("IO Error: Could not set lock on file \"/w/workspace.duckdb\": Conflicting lock is held in /usr/bin/quarterdeck (PID 4242) by user root. See also https://duckdb.org/docs/stable/connect/concurrency".into()),
        );
        match lock_error(Path::new("/w/workspace.duckdb"), err) {
            WorkspaceError::Locked { holder, pid, .. } => {
                assert_eq!(holder, "/usr/bin/quarterdeck");
                assert_eq!(pid, "4242");
            }
            other => panic!("{other:?}"),
        }
    }
}
