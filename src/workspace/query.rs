//! Running SQL a person typed (the query console, `quarterdeck query`).
//! Three layers, each enough alone to keep the query
//! from writing: the guard over DuckDB's parse tree; a check of the physical
//! plan DuckDB will run, which refuses any operator that writes a file or a
//! table whatever the parse tree looked like; and a READ ONLY transaction
//! that is always rolled back. In `--read-only` the instance itself is also
//! locked down (see `Workspace::lock_down`). Every run is bounded in time.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value as Json;

use super::Workspace;
use super::guard::Refusal;
use super::guard::tree::{Node, Tree};
use super::values::{readable_sql, to_json};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the query plan contains `{0}`, which writes or reaches outside the workspace; refused and nothing run")]
    PlanRefused(String),
    #[error("the query ran longer than the statement timeout ({}s) and was stopped; nothing changed ([limits] statement_timeout in quarterdeck.toml)", .0.as_secs())]
    TimedOut(Duration),
    #[error("the query was cancelled; nothing changed")]
    Cancelled,
    #[error("{}", super::population::duckdb_message(.0))]
    Database(#[from] duckdb::Error),
}

impl crate::error::Kind for QueryError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Refused(_) | Self::PlanRefused(_) => ErrorKind::BadInput,
            Self::TimedOut(_) | Self::Cancelled => ErrorKind::Stopped,
            Self::Database(e) => e.kind(),
        }
    }
}

/// The rows of a query, as JSON values.
#[derive(Debug, Clone, Default)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Json>>,
    /// More rows existed than were asked for.
    pub truncated: bool,
}

/// Where a query's rows go as DuckDB produces them.
pub trait RowSink {
    /// The column names, before any row (also when there is none).
    fn columns(&mut self, names: &[String]);
    /// One row; answers whether to go on.
    fn row(&mut self, values: Vec<Json>) -> bool;
}

/// Collects at most `max` rows (all when None).
struct Collect {
    result: ResultSet,
    max: Option<usize>,
}

impl RowSink for Collect {
    fn columns(&mut self, names: &[String]) {
        self.result.columns = names.to_vec();
    }

    fn row(&mut self, values: Vec<Json>) -> bool {
        if self.max.is_some_and(|max| self.result.rows.len() >= max) {
            self.result.truncated = true;
            return false;
        }
        self.result.rows.push(values);
        true
    }
}

/// Runs a SELECT and collects at most `max_rows` rows (all when None).
pub fn run_select(conn: &duckdb::Connection, sql: &str, max_rows: Option<usize>) -> duckdb::Result<ResultSet> {
    let mut sink = Collect { result: ResultSet::default(), max: max_rows };
    for_each_row(conn, sql, &mut sink)?;
    Ok(sink.result)
}

/// Streams a SELECT's rows into `sink`.
pub fn for_each_row(conn: &duckdb::Connection, sql: &str, sink: &mut impl RowSink) -> duckdb::Result<()> {
    let sql = readable_sql(conn, sql)?;
    let mut stmt = conn.prepare(&sql)?;
    // Executed as a stream (duckdb-rs's `query` materialises the whole
    // result first): chunks are fetched as the rows are read.
    drop(stmt.stream_arrow([])?);
    let mut rows = stmt.raw_query();
    let names = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
    sink.columns(&names);
    while let Some(r) = rows.next()? {
        let width = r.as_ref().column_count();
        let values = (0..width).map(|i| r.get::<_, duckdb::types::Value>(i).map(to_json)).collect::<Result<_, _>>()?;
        if !sink.row(values) {
            break;
        }
    }
    Ok(())
}

/// Guards and runs an auditor's SQL; nothing it does is ever committed.
pub fn auditor_query(ws: &Workspace, sql: &str, max_rows: Option<usize>) -> Result<ResultSet, QueryError> {
    let mut sink = Collect { result: ResultSet::default(), max: max_rows };
    auditor_query_each(ws, sql, &mut sink)?;
    Ok(sink.result)
}

/// [`auditor_query`], streaming: rows reach `sink` as DuckDB produces them.
pub fn auditor_query_each(ws: &Workspace, sql: &str, sink: &mut impl RowSink) -> Result<(), QueryError> {
    ws.guard().select(sql)?;
    check_plan(&ws.conn, sql)?;
    ws.conn.execute_batch("BEGIN TRANSACTION READ ONLY")?;
    let ran = bounded(ws, || for_each_row(&ws.conn, sql, sink));
    let rolled_back = ws.conn.execute_batch("ROLLBACK");
    ran?;
    Ok(rolled_back?)
}

/// Physical operators that only read: relational work over the workspace's
/// own tables and the computing table functions. Anything else, including
/// operators DuckDB adds later, is refused.
const READING_OPERATORS: &[&str] = &[
    "ORDER_BY",
    "LIMIT",
    "STREAMING_LIMIT",
    "LIMIT_PERCENT",
    "TOP_N",
    "WINDOW",
    "STREAMING_WINDOW",
    "UNNEST",
    "UNGROUPED_AGGREGATE",
    "HASH_GROUP_BY",
    "PERFECT_HASH_GROUP_BY",
    "PARTITIONED_AGGREGATE",
    "LIMITED_DISTINCT",
    "FILTER",
    "PROJECTION",
    "RESERVOIR_SAMPLE",
    "STREAMING_SAMPLE",
    "PIVOT",
    "DUMMY_SCAN",
    "COLUMN_DATA_SCAN",
    "CHUNK_SCAN",
    "REC_CTE_SCAN",
    "REC_REC_CTE_SCAN",
    "CTE_SCAN",
    "DELIM_SCAN",
    "EXPRESSION_SCAN",
    "POSITIONAL_SCAN",
    "BLOCKWISE_NL_JOIN",
    "NESTED_LOOP_JOIN",
    "HASH_JOIN",
    "CROSS_PRODUCT",
    "PIECEWISE_MERGE_JOIN",
    "IE_JOIN",
    "LEFT_DELIM_JOIN",
    "RIGHT_DELIM_JOIN",
    "POSITIONAL_JOIN",
    "ASOF_JOIN",
    "UNION",
    "REC_CTE",
    "REC_KEY_CTE",
    "RECURSIVE_KEY_JOIN",
    "CTE",
    "EMPTY_RESULT",
    // Scans are named by their table function.
    "SEQ_SCAN",
    "RANGE",
    "GENERATE_SERIES",
];

/// Asks DuckDB for the physical plan of `sql` (planning runs nothing) and
/// refuses it unless every operator only reads.
pub fn check_plan(conn: &duckdb::Connection, sql: &str) -> Result<(), QueryError> {
    let mut stmt = conn.prepare(&format!("EXPLAIN (FORMAT JSON) {sql}"))?;
    let plans: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(1))?.collect::<Result<_, _>>()?;
    for plan in plans {
        let tree = Tree::parse(&plan).map_err(|e| QueryError::PlanRefused(format!("an unreadable plan ({e})")))?;
        for id in 0..tree.len() {
            if !matches!(tree.node(id), Node::Object(_)) || !tree.has(id, "children") {
                continue;
            }
            let name = tree.str_at(id, "name").unwrap_or_default();
            let operator = name.split_whitespace().next().unwrap_or_default();
            if !READING_OPERATORS.contains(&operator) {
                return Err(QueryError::PlanRefused(name.to_string()));
            }
        }
    }
    Ok(())
}

/// Runs `work` under the workspace's statement timeout: past it, DuckDB is
/// interrupted and the error says so.
pub fn bounded<T>(ws: &Workspace, work: impl FnOnce() -> duckdb::Result<T>) -> Result<T, QueryError> {
    let timeout = ws.config.limits.statement_timeout;
    let handle = ws.conn.interrupt_handle();
    let (done, wait) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || match wait.recv_timeout(timeout) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            handle.interrupt();
            true
        }
        _ => false,
    });
    let result = work();
    drop(done);
    let timed_out = watchdog.join().unwrap_or(false);
    match result {
        Ok(value) => Ok(value),
        Err(_) if timed_out => Err(QueryError::TimedOut(timeout)),
        Err(e) if is_interrupt(&e) => Err(QueryError::Cancelled),
        Err(e) => Err(e.into()),
    }
}

/// Whether DuckDB stopped because it was interrupted.
pub fn is_interrupt(e: &duckdb::Error) -> bool {
    e.to_string().contains("INTERRUPT")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{Access, Workspace};

    const COPY_IN_A_CTE: &str = "WITH x AS (COPY (SELECT 'echo pwned' AS l) TO '{path}' (HEADER false)) SELECT 42";

    fn workspace() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let ws = crate::workspace::init::init(&root).unwrap();
        crate::workspace::ingest::ingest(&ws, "deploys", &[]).unwrap();
        (dir, root)
    }

    fn digest(path: &std::path::Path) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
    }

    #[test]
    fn a_locked_down_instance_alone_stops_a_copy_in_a_cte() {
        let (dir, root) = workspace();
        let db = root.join(crate::workspace::DB_FILE);
        let before = digest(&db);
        let ws = Workspace::open(&root, Access::ReadOnly).unwrap();
        let shell = dir.path().join("x.sh");
        // Straight to DuckDB, past the guard and the plan check.
        for path in [shell.clone(), db.clone(), root.join("workspace.duckdb.wal")] {
            let sql = COPY_IN_A_CTE.replace("{path}", &path.to_string_lossy());
            let err = ws.conn.execute_batch(&sql).expect_err("the locked-down instance writes no file");
            assert!(err.to_string().contains("disabled"), "{err}");
            let raw = format!("WITH x AS (COPY (SELECT 1) TO '{}' (USE_TMP_FILE false)) SELECT 42", path.display());
            assert!(ws.conn.execute_batch(&raw).is_err());
        }
        assert!(!shell.exists());
        drop(ws);
        assert_eq!(digest(&db), before);
    }

    #[test]
    fn the_plan_check_alone_stops_writes_in_a_read_write_workspace() {
        let (dir, root) = workspace();
        let ws = Workspace::open(&root, Access::ReadWrite).unwrap();
        let shell = dir.path().join("x.sh");
        let copy = COPY_IN_A_CTE.replace("{path}", &shell.to_string_lossy());
        for (sql, operator) in [
            (copy.as_str(), "COPY_TO_FILE"),
            ("WITH x AS (DELETE FROM deploys RETURNING *) SELECT count(*) FROM x", "DELETE"),
            ("WITH x AS (INSERT INTO deploys (deploy_id) VALUES ('z') RETURNING *) SELECT 1", "INSERT"),
            ("SELECT * FROM read_text('/etc/hostname')", "READ_TEXT"),
        ] {
            match check_plan(&ws.conn, sql) {
                Err(QueryError::PlanRefused(found)) => assert!(found.contains(operator), "{sql}: {found}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
        assert!(!shell.exists(), "planning ran the COPY");
        assert!(check_plan(&ws.conn, "SELECT d.*, r.range FROM deploys d, range(3) r ORDER BY 1 LIMIT 2").is_ok());
    }

    #[test]
    fn the_read_only_transaction_alone_stops_writes_to_tables() {
        let (_dir, root) = workspace();
        let ws = Workspace::open(&root, Access::ReadWrite).unwrap();
        let count = || ws.conn.query_row("SELECT count(*) FROM deploys", [], |r| r.get::<_, i64>(0)).unwrap();
        let before = count();
        ws.conn.execute_batch("BEGIN TRANSACTION READ ONLY").unwrap();
        let err = ws.conn.execute_batch("WITH x AS (DELETE FROM deploys RETURNING *) SELECT count(*) FROM x");
        ws.conn.execute_batch("ROLLBACK").unwrap();
        assert!(err.expect_err("read-only transaction").to_string().contains("read-only"));
        assert_eq!(count(), before);
    }

    #[test]
    fn a_statement_past_its_timeout_is_interrupted() {
        let (_dir, root) = workspace();
        let mut ws = Workspace::open(&root, Access::ReadWrite).unwrap();
        ws.config.limits.statement_timeout = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let result = auditor_query(&ws, "SELECT count(*) FROM range(10000000000000)", None);
        assert!(matches!(result, Err(QueryError::TimedOut(_))), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(20));
        // The connection is usable afterwards.
        assert_eq!(auditor_query(&ws, "SELECT 1 AS one", None).unwrap().rows, vec![vec![Json::from(1)]]);
    }
}
