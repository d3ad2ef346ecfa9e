//! What DuckDB's catalog says of each function a query names, read from
//! `duckdb_functions()` once per workspace rather than once per statement:
//! that table function builds all ~3,200 overloads each time (25–30 ms),
//! which dominated every guarded statement.
//!
//! The reading stays true for the workspace's life because nothing after
//! the open adds a function: the guard lets no CREATE through, Quarterdeck
//! defines no macros, and its own functions are registered before the
//! first read. A name the reading does not know (an extension loaded
//! since, a macro created behind the guard's back) makes it read again, so
//! a miss fails closed and never trusts a stale answer.

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

/// The workspace's reading of `duckdb_functions()`, shared by every guard
/// over its connection.
#[derive(Debug, Default)]
pub struct FunctionCatalog {
    read: Mutex<Option<Arc<Entries>>>,
}

impl FunctionCatalog {
    /// The catalog's entries, covering each of `names` it defines: the
    /// cached reading when it knows them all, else a fresh one.
    pub(super) fn entries(&self, conn: &Connection, names: &BTreeSet<&str>) -> Result<Arc<Entries>, Refusal> {
        let mut read = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entries) = read.as_ref().filter(|entries| names.iter().all(|n| entries.contains_key(*n))) {
            return Ok(Arc::clone(entries));
        }
        let entries = Arc::new(read_catalog(conn).map_err(|e| Refusal::Internal(e.to_string()))?);
        *read = Some(Arc::clone(&entries));
        Ok(entries)
    }
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
