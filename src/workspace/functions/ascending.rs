//! A parallel proof that a table's VARCHAR key strictly ascends in row
//! order, and so is unique: evidence exported in key order (logs with
//! sequential ids) is then proven unique by one scan on all of DuckDB's
//! threads, instead of a single-threaded `lag()` window.
//!
//! `quarterdeck_ascending(probe UBIGINT, row BIGINT, key VARCHAR) → BOOLEAN`
//! is called with each row's `rowid`. For every vector it is given, it
//! records a [`Run`]: the first and last row and key, and whether inside
//! the vector the rows are consecutive and the keys non-NULL and strictly
//! ascending (bytewise, as DuckDB compares VARCHAR). [`proves_unique`] then
//! checks that the runs tile the table's rows without a gap or overlap,
//! cover all of them, and that each
//! run's last key is below the next run's first. Nothing is assumed about
//! how DuckDB splits or orders its vectors: what is not proven is reported
//! as not proven, and the caller checks another way.

use std::collections::HashMap;
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use duckdb::Connection;
use duckdb::core::{DataChunkHandle, LogicalTypeId};
use duckdb::ffi::duckdb_string_t;
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;

use super::vector::{Column, string_bytes};
use crate::workspace::sql::quote_ident;

/// The function's name in SQL.
pub const ASCENDING_FUNCTION: &str = "quarterdeck_ascending";

/// One vector's rows: where they start and end, their first and last key,
/// and whether they ascend within.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    first_row: i64,
    last_row: i64,
    first_key: Vec<u8>,
    last_key: Vec<u8>,
    ascending: bool,
}

/// The open probes of one workspace's database, by id (state shared with
/// DuckDB, owned by the workspace; ids are never reused).
#[derive(Clone, Default)]
pub struct Probes {
    open: Arc<Mutex<HashMap<u64, Vec<Run>>>>,
    last_id: Arc<AtomicU64>,
}

impl Probes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Vec<Run>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `key` (one VARCHAR column) of `table` strictly ascends in row
/// order: `true` proves every key distinct and non-NULL; `false` proves
/// nothing (the caller checks another way).
pub fn proves_unique(conn: &Connection, probes: &Probes, table: &str, key: &str) -> duckdb::Result<bool> {
    // Starts at 1: probe 0 records nothing.
    let probe = probes.last_id.fetch_add(1, Ordering::Relaxed) + 1;
    probes.lock().insert(probe, Vec::new());
    let counted = conn.query_row(
        &format!(
            "SELECT count(*), count({ASCENDING_FUNCTION}({probe}, rowid, {key})) FROM {table}",
            key = quote_ident(key)
        ),
        [],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    );
    let mut runs = probes.lock().remove(&probe).unwrap_or_default();
    let (rows, _) = counted?;
    runs.sort_by_key(|run| run.first_row);
    // Row ids need not start at 0 (rows not yet committed sit far above).
    let start = runs.first().map_or(0, |run| run.first_row);
    let mut expected_row = start;
    let mut previous: Option<&Run> = None;
    for run in &runs {
        if !run.ascending || run.first_row != expected_row {
            return Ok(false);
        }
        if previous.is_some_and(|p| p.last_key >= run.first_key) {
            return Ok(false);
        }
        expected_row = run.last_row + 1;
        previous = Some(run);
    }
    Ok(expected_row - start == rows)
}

pub(super) struct AscendingFunction;

impl VScalar for AscendingFunction {
    type State = Probes;

    fn invoke(
        probes: &Probes,
        input: &mut DataChunkHandle,
        output: &mut dyn WritableVector,
    ) -> Result<(), Box<dyn Error>> {
        let len = input.len();
        // SAFETY: DuckDB hands us flat vectors of the signature's types
        // (UBIGINT, BIGINT, VARCHAR) with `len` rows, live for this call.
        let (probe_ids, rows, keys) = unsafe {
            (
                Column::<u64>::of(input, 0, len),
                Column::<i64>::of(input, 1, len),
                Column::<duckdb_string_t>::of(input, 2, len),
            )
        };
        let mut out = output.flat_vector();
        // SAFETY: the output vector is BOOLEAN with room for `len` rows.
        unsafe { out.as_mut_slice_with_len::<bool>(len) }.fill(true);
        let (Some(&probe), Some(&first_row), Some(&last_row)) =
            (probe_ids.get(0), rows.get(0), len.checked_sub(1).and_then(|last| rows.get(last)))
        else {
            return Ok(());
        };
        let mut ascending = true;
        let mut previous: Option<&[u8]> = None;
        for i in 0..len {
            let (Some(&id), Some(&row), Some(key)) = (probe_ids.get(i), rows.get(i), keys.get(i).map(string_bytes))
            else {
                ascending = false;
                break;
            };
            if id != probe || row != first_row + i as i64 || previous.is_some_and(|p| p >= key) {
                ascending = false;
                break;
            }
            previous = Some(key);
        }
        let key_at = |i: usize| keys.get(i).map(string_bytes).unwrap_or_default().to_vec();
        let run = Run { first_row, last_row, first_key: key_at(0), last_key: key_at(len - 1), ascending };
        if let Some(runs) = probes.lock().get_mut(&probe) {
            runs.push(run);
        }
        Ok(())
    }

    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![LogicalTypeId::UBigint.into(), LogicalTypeId::Bigint.into(), LogicalTypeId::Varchar.into()],
            LogicalTypeId::Boolean.into(),
        )]
    }

    fn volatile() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(conn: &Connection, name: &str, select: &str) {
        conn.execute_batch(&format!("CREATE TABLE {name} AS {select}")).unwrap();
    }

    #[test]
    fn proves_ascending_keys_and_nothing_else() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("SET threads = 3").unwrap();
        let probes = super::super::register(&conn).unwrap().probes;
        // Zero-padded ids ascend as strings; 300k rows span several row groups.
        table(&conn, "up", "SELECT 'id-' || lpad(i::VARCHAR, 7, '0') AS k FROM range(300000) t(i)");
        assert!(proves_unique(&conn, &probes, "up", "k").unwrap());
        // One duplicate, one step down, a NULL, unpadded ids: not proven.
        table(&conn, "dup", "SELECT 'id-' || lpad(least(i, 299998)::VARCHAR, 7, '0') AS k FROM range(300000) t(i)");
        table(
            &conn,
            "down",
            "SELECT CASE WHEN i = 150000 THEN 'a' ELSE 'id-' || lpad(i::VARCHAR, 7, '0') END AS k FROM range(300000) t(i)",
        );
        table(
            &conn,
            "with_null",
            "SELECT CASE WHEN i = 5 THEN NULL ELSE 'id-' || lpad(i::VARCHAR, 7, '0') END AS k FROM range(300000) t(i)",
        );
        table(&conn, "unpadded", "SELECT 'id-' || i AS k FROM range(300000) t(i)");
        for name in ["dup", "down", "with_null", "unpadded"] {
            assert!(!proves_unique(&conn, &probes, name, "k").unwrap(), "{name}");
        }
        table(&conn, "empty", "SELECT 'x' AS k WHERE false");
        assert!(proves_unique(&conn, &probes, "empty", "k").unwrap());
        // A boundary between vectors: the last key of one equals the next's first.
        table(&conn, "seam", "SELECT 'id-' || lpad((i - (i = 2048)::INT)::VARCHAR, 7, '0') AS k FROM range(5000) t(i)");
        assert!(!proves_unique(&conn, &probes, "seam", "k").unwrap());
    }
}
