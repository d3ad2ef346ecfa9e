//! What DuckDB's catalog says of each function and relation a query names,
//! read once per workspace rather than once per statement:
//! `duckdb_functions()` builds all ~3,200 overloads each time (25–30 ms),
//! and listing the tables and views cost about 3 ms of every guarded
//! statement.
//!
//! The function reading stays true for the workspace's life because nothing
//! after the open adds a function: the guard lets no CREATE through,
//! Quarterdeck defines no macros, and its own functions are registered
//! before the first read. A name the reading does not know (an extension
//! loaded since, a macro created behind the guard's back) makes it read
//! again, so a miss fails closed and never trusts a stale answer.
//!
//! Relations do change while a workspace is open (an ingest adds a table,
//! a refresh replaces a view), so the relation reading is read again for
//! any name it does not know. A name it knows that was dropped since would
//! only make DuckDB's binder fail ("table does not exist"): it never reaches
//! a file, because DuckDB reads a file in place of a missing table only for
//! a name with a file's extension or a path, and the reading is trusted only
//! for plain identifiers (`deploys`, `qd.verdicts`) — any other name is
//! checked against a fresh reading every time.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use duckdb::Connection;

use super::Refusal;

/// One function name as the catalog describes it, over all its overloads
/// and every database that defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// Any overload is marked as changing state or its result run to run.
    pub side_effects: bool,
    /// Every definition is DuckDB's own (none in the workspace or temp).
    pub system: bool,
    /// Some overload is a scalar, aggregate, macro or window function.
    pub callable: bool,
}

type Entries = BTreeMap<String, Entry>;

/// The workspace's tables and views, lowercase, bare and schema-qualified.
pub(super) type Relations = BTreeSet<String>;

/// The workspace's readings of `duckdb_functions()` and of its tables and
/// views, shared by every guard over its connection.
#[derive(Debug, Default)]
pub struct Catalog {
    functions: Mutex<Option<Arc<Entries>>>,
    relations: Mutex<Option<Arc<Relations>>>,
}

impl Catalog {
    /// The catalog's entries, covering each of `names` it defines: the
    /// cached reading when it knows them all, else a fresh one.
    pub(super) fn entries(&self, conn: &Connection, names: &BTreeSet<&str>) -> Result<Arc<Entries>, Refusal> {
        let mut read = self.functions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entries) = read.as_ref().filter(|entries| names.iter().all(|n| entries.contains_key(*n))) {
            return Ok(Arc::clone(entries));
        }
        let entries = Arc::new(read_catalog(conn).map_err(|e| Refusal::Internal(e.to_string()))?);
        *read = Some(Arc::clone(&entries));
        Ok(entries)
    }

    /// The workspace's relations, covering each of `names` that exists:
    /// the cached reading when `plain` (every name is made of plain
    /// identifiers) and it knows them all, else a fresh one.
    pub(super) fn relations(
        &self,
        conn: &Connection,
        names: &BTreeSet<String>,
        plain: bool,
    ) -> Result<Arc<Relations>, Refusal> {
        let mut read = self.relations.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = read.as_ref().filter(|known| plain && names.iter().all(|n| known.contains(n))) {
            return Ok(Arc::clone(known));
        }
        let known = Arc::new(read_relations(conn).map_err(|e| Refusal::Internal(e.to_string()))?);
        *read = Some(Arc::clone(&known));
        Ok(known)
    }
}

/// `deploys`, `qd`, `_staging`: a lowercase identifier, which DuckDB never
/// reads as a file.
pub(super) fn plain_identifier(part: &str) -> bool {
    part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every table and view of the workspace's database, bare and qualified by
/// its schema.
fn read_relations(conn: &Connection) -> duckdb::Result<Relations> {
    let mut stmt = conn.prepare(
        "SELECT lower(schema_name), lower(table_name) FROM duckdb_tables() WHERE database_name = current_database()
         UNION ALL
         SELECT lower(schema_name), lower(view_name) FROM duckdb_views() WHERE database_name = current_database() AND NOT internal",
    )?;
    let mut known = Relations::new();
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (schema, name) = row?;
        known.insert(format!("{schema}.{name}"));
        known.insert(name);
    }
    Ok(known)
}

fn read_catalog(conn: &Connection) -> duckdb::Result<Entries> {
    let mut stmt = conn.prepare(
        "SELECT lower(function_name), coalesce(bool_or(has_side_effects), false), bool_and(database_name = 'system'),
                bool_or(function_type IN ('scalar', 'aggregate', 'macro', 'window'))
         FROM duckdb_functions() GROUP BY 1",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, Entry { side_effects: r.get(1)?, system: r.get(2)?, callable: r.get(3)? }))
    })?;
    rows.collect()
}
