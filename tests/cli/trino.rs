//! Trino sources, end to end with the real binary against a loopback
//! server speaking Trino's REST protocol (`POST /v1/statement`, a `nextUri`
//! per page, `DELETE` to cancel). No Trino runs here (it needs a JVM and a
//! catalog); the server is a stand-in whose engine is an in-memory DuckDB
//! holding the same rows, with the three Trino functions the generated
//! SQL calls defined as macros (`to_utf8`, `to_hex`, `to_unixtime`; DuckDB's
//! own `sha256` already returns lowercase hex, so `to_hex` only uppercases
//! it as Trino's would). What these tests prove is the client and the
//! method over the protocol: paging, cancel, errors, credentials, and the
//! same sample as the rows ingested.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duckdb::types::{TimeUnit, Value};
use quarterdeck::demo::api_server::{Handler, Reply, Request, Server};
use serde_json::{Value as Json, json};

use crate::common::{Run, Sandbox, scalar};
use crate::warehouse::{
    SECRET, contains_anywhere, controls_without_the_join, find_file, replace_pull_requests_source, samples,
};

const TRINO_SOURCE: &str = r#"[[warehouse]]
name = "trino"
kind = "trino"
url_env = "EVIDENCE_TRINO_URL"
timeout = "20s"

[[source]]
name = "pull_requests"
warehouse = "trino"
table = "public.pull_requests"
key = ["pr_id"]
timestamp = "merged_at"
fresh_within = "30d"
"#;

/// A query the stand-in has run: its columns and pages, or its error.
struct Query {
    columns: Json,
    pages: Vec<Vec<Vec<Json>>>,
    error: Option<String>,
}

struct Engine {
    conn: Mutex<duckdb::Connection>,
    queries: Mutex<HashMap<u64, Query>>,
    next_id: AtomicU64,
    page_rows: usize,
    /// How long each page takes (a slow warehouse).
    delay: Mutex<Duration>,
}

/// The loopback server and its engine.
pub struct StandIn {
    server: Server,
    engine: Arc<Engine>,
}

impl StandIn {
    /// Serves the rows of `table` of the workspace at `ws`, `page_rows` to a page.
    pub fn start(ws: &Path, table: &str, page_rows: usize) -> Self {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let db = ws.join("workspace.duckdb");
        conn.execute_batch(&format!(
            "ATTACH '{}' AS src (READ_ONLY);
             CREATE SCHEMA public;
             CREATE TABLE public.\"{table}\" AS SELECT * FROM src.\"{table}\";
             DETACH src;
             CREATE MACRO to_utf8(s) AS encode(s);
             CREATE MACRO to_hex(h) AS upper(h);
             CREATE MACRO to_unixtime(t) AS epoch(t);
             CREATE MACRO array_join(l, sep) AS array_to_string(l, sep);",
            db.display()
        ))
        .unwrap();
        let engine = Arc::new(Engine {
            conn: Mutex::new(conn),
            queries: Mutex::default(),
            next_id: AtomicU64::new(1),
            page_rows,
            delay: Mutex::new(Duration::ZERO),
        });
        let handling = Arc::clone(&engine);
        let handler: Handler = Arc::new(move |request: &Request| handling.answer(request));
        Self { server: Server::start(0, handler).unwrap(), engine }
    }

    /// `http://ana:SECRET@127.0.0.1:PORT/memory/public`
    pub fn url(&self) -> String {
        format!("http://ana:{SECRET}@{}/memory/public", self.server.addr)
    }

    pub fn slow(&self, delay: Duration) {
        *self.engine.delay.lock().unwrap() = delay;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// Runs SQL of Trino's dialect in the stand-in's engine (what an auditor
    /// does with the Trino CLI); each row's fields joined by `|`.
    pub fn run_sql(&self, sql: &str) -> String {
        let conn = self.engine.conn.lock().unwrap();
        let (_, rows) = execute(&conn, sql.trim().trim_end_matches(';')).unwrap();
        rows.iter()
            .map(|row| {
                row.iter()
                    .map(|v| match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Engine {
    fn answer(&self, request: &Request) -> Reply {
        let host = request.header("host").unwrap_or("127.0.0.1").to_string();
        let user = request.header("x-trino-user").unwrap_or_default();
        if user.is_empty() {
            return Reply::raw(401, "text/plain", "User must be set");
        }
        let parts: Vec<&str> = request.path.trim_matches('/').split('/').collect();
        match (request.method.as_str(), parts.as_slice()) {
            ("POST", ["v1", "statement"]) => {
                let sql = String::from_utf8_lossy(&request.body).to_string();
                let id = self.next_id.fetch_add(1, Ordering::SeqCst);
                let query = {
                    let conn = self.conn.lock().unwrap();
                    match execute(&conn, &sql) {
                        Ok((columns, rows)) => Query {
                            columns,
                            pages: rows.chunks(self.page_rows).map(<[Vec<Json>]>::to_vec).collect(),
                            error: None,
                        },
                        Err(e) => Query { columns: Json::Null, pages: Vec::new(), error: Some(e) },
                    }
                };
                self.queries.lock().unwrap().insert(id, query);
                Reply::json(
                    200,
                    &json!({
                        "id": id.to_string(),
                        "infoUri": format!("http://{host}/ui/query.html?{id}"),
                        "nextUri": format!("http://{host}/v1/statement/queued/{id}/y1/0"),
                        "stats": {"state": "QUEUED"},
                    }),
                )
            }
            ("GET", ["v1", "statement", phase @ ("queued" | "executing"), id, _, token]) => {
                let (Ok(id), Ok(token)) = (id.parse::<u64>(), token.parse::<usize>()) else {
                    return Reply::raw(404, "text/plain", "no such query");
                };
                let page = if *phase == "queued" { 0 } else { token };
                let queries = self.queries.lock().unwrap();
                let Some(query) = queries.get(&id) else { return Reply::raw(404, "text/plain", "no such query") };
                let delay = *self.delay.lock().unwrap();
                let mut body = json!({"id": id.to_string(), "stats": {"state": "RUNNING"}});
                if let Some(message) = &query.error {
                    body["error"] = json!({
                        "message": message, "errorCode": 1, "errorName": "SYNTAX_ERROR", "errorType": "USER_ERROR",
                        "errorLocation": {"lineNumber": 1, "columnNumber": 1},
                    });
                    body["stats"]["state"] = json!("FAILED");
                } else {
                    body["columns"] = query.columns.clone();
                    if let Some(rows) = query.pages.get(page) {
                        body["data"] = Json::Array(rows.iter().cloned().map(Json::Array).collect());
                    }
                    if page + 1 < query.pages.len() {
                        body["nextUri"] = json!(format!("http://{host}/v1/statement/executing/{id}/y1/{}", page + 1));
                    } else {
                        body["stats"]["state"] = json!("FINISHED");
                    }
                }
                let mut reply = Reply::json(200, &body);
                reply.delay = delay;
                reply
            }
            ("DELETE", ["v1", "statement", _, id, ..]) => {
                if let Ok(id) = id.parse::<u64>() {
                    self.queries.lock().unwrap().remove(&id);
                }
                Reply::raw(204, "text/plain", "")
            }
            _ => Reply::raw(404, "text/plain", "not found"),
        }
    }
}

/// Columns (Trino's names and types) and rows (Trino's JSON values) of `sql`.
fn execute(conn: &duckdb::Connection, sql: &str) -> Result<(Json, Vec<Vec<Json>>), String> {
    let sql = sql.trim();
    if let Some(statement) = sql.strip_prefix("EXPLAIN (TYPE VALIDATE) ") {
        conn.prepare(&format!("EXPLAIN {statement}"))
            .and_then(|mut s| s.query([]).map(|_| ()))
            .map_err(|e| e.to_string())?;
        return Ok((json!([{"name": "Valid", "type": "boolean"}]), vec![vec![json!(true)]]));
    }
    let mut described = conn.prepare(&format!("DESCRIBE {sql}")).map_err(|e| e.to_string())?;
    let columns: Vec<(String, String)> = described
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let mut result = stmt.query([]).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    while let Some(row) = result.next().map_err(|e| e.to_string())? {
        rows.push(
            (0..columns.len())
                .map(|i| row.get::<_, Value>(i).map(trino_value))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?,
        );
    }
    let columns = columns.iter().map(|(name, kind)| json!({"name": name, "type": trino_type(kind)})).collect();
    Ok((Json::Array(columns), rows))
}

fn trino_type(duckdb: &str) -> String {
    match duckdb {
        "VARCHAR" => "varchar".into(),
        "BIGINT" => "bigint".into(),
        "INTEGER" => "integer".into(),
        "BOOLEAN" => "boolean".into(),
        "DATE" => "date".into(),
        "TIMESTAMP" => "timestamp(6)".into(),
        "DOUBLE" => "double".into(),
        other if other.starts_with("DECIMAL") => other.to_lowercase(),
        _ => "varchar".into(),
    }
}

/// A value as Trino's protocol sends it: timestamps as text padded to
/// their precision (six digits here), dates as ISO text.
fn trino_value(value: Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => json!(b),
        Value::TinyInt(n) => json!(n),
        Value::SmallInt(n) => json!(n),
        Value::Int(n) => json!(n),
        Value::BigInt(n) => json!(n),
        Value::HugeInt(n) => json!(n.to_string()),
        Value::Float(n) => json!(n),
        Value::Double(n) => json!(n),
        Value::Text(s) => json!(s),
        Value::Timestamp(unit, v) => {
            let micros = match unit {
                TimeUnit::Second => v * 1_000_000,
                TimeUnit::Millisecond => v * 1000,
                TimeUnit::Microsecond => v,
                TimeUnit::Nanosecond => v / 1000,
            };
            let at = chrono::DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
            json!(at.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        }
        Value::Date32(days) => {
            json!(
                (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days.into()))
                    .to_string()
            )
        }
        other => json!(format!("{other:?}")),
    }
}

/// A workspace whose pull requests stay in the stand-in (deploys ingested).
fn trino_workspace(sb: &Sandbox, source: &str) -> std::path::PathBuf {
    let ws = sb.path().join("trino-ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    controls_without_the_join(&ws);
    replace_pull_requests_source(&ws, source);
    sb.at(&ws, &["ingest", "deploys"]).ok();
    ws
}

fn run_with(sb: &Sandbox, ws: &Path, url: &str, args: &[&str]) -> Run {
    let mut all = vec!["--workspace", ws.to_str().unwrap()];
    all.extend_from_slice(args);
    Run::from(sb.command(&all).env("EVIDENCE_TRINO_URL", url).output().unwrap())
}

#[test]
fn a_trino_source_samples_like_the_same_rows_ingested_and_the_packet_verifies() {
    let sb = Sandbox::new();
    let copied = sb.example_workspace();
    controls_without_the_join(&copied);
    sb.at(&copied, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    // Two rows a page: the keys and the drawn rows span many pages.
    let trino = StandIn::start(&copied, "pull_requests", 2);
    let ws = trino_workspace(&sb, TRINO_SOURCE);
    let env = |args: &[&str]| run_with(&sb, &ws, &trino.url(), args);

    let refreshed = env(&["refresh", "pull_requests"]).ok();
    assert!(refreshed.stdout.contains("warehouse `trino`"), "{}", refreshed.stdout);
    assert_eq!(
        scalar(&ws, "SELECT rows FROM qd.source_stats WHERE source = 'pull_requests'"),
        scalar(&copied, "SELECT count(*) FROM pull_requests")
    );
    assert_eq!(
        scalar(&ws, "SELECT sum(rows) FROM qd.source_buckets WHERE source = 'pull_requests'"),
        scalar(&copied, "SELECT count(merged_at) FROM pull_requests"),
        "the 15-minute buckets counted there hold every timestamped row"
    );
    env(&["check"]).ok();
    env(&["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    assert!(!samples(&ws).is_empty());
    assert_eq!(samples(&ws), samples(&copied), "Trino and the copy drew other samples");

    // The whole population's tests run there; the packet verifies by recounting there.
    let tested = env(&["--format", "json", "test", "CHG-3", "--period", "2026-Q3"]);
    assert!(tested.stdout.contains("independent"), "{}{}", tested.stdout, tested.stderr);
    env(&["packet", "2026-Q3"]).ok();
    let packet = ws.join("packets/2026-Q3");
    env(&["verify", "--packet", packet.to_str().unwrap()]).ok();
    // The IPE sheet's SQL is Trino's, and re-performs the draw there alone.
    let reperform = find_file(&packet, "reperform.sql", "CHG-3").expect("CHG-3's reperform.sql");
    let sql = std::fs::read_to_string(&reperform).unwrap();
    assert!(sql.contains("to_utf8") && !sql.contains("convert_to"), "{sql}");
    let frozen = scalar(
        &ws,
        "SELECT string_agg(replace(r.key, chr(31), ' | ') || '|' || r.rank, chr(10) ORDER BY r.rank)
         FROM qd.samples s JOIN qd.sample_rows r USING (sample_id) WHERE s.control = 'CHG-3'",
    );
    assert_eq!(trino.run_sql(&sql), frozen);
    let recount = trino.run_sql(&std::fs::read_to_string(reperform.with_file_name("recount.sql")).unwrap());
    let stored = scalar(&ws, "SELECT population_count || '|' || fingerprint FROM qd.samples WHERE control = 'CHG-3'");
    assert_eq!(recount, stored);

    // The protocol as Trino's clients speak it.
    let requests = trino.requests();
    let posts: Vec<&Request> = requests.iter().filter(|r| r.method == "POST").collect();
    assert!(!posts.is_empty());
    for post in &posts {
        assert_eq!(post.header("x-trino-user"), Some("ana"));
        assert_eq!(post.header("x-trino-catalog"), Some("memory"));
        assert_eq!(post.header("x-trino-schema"), Some("public"));
        assert_eq!(post.header("x-trino-time-zone"), Some("UTC"));
        assert!(post.header("authorization").is_some_and(|a| a.starts_with("Basic ")));
    }
    let paths: Vec<String> = requests.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(
        requests.iter().any(|r| r.method == "GET" && r.path.contains("/executing/")),
        "no page after the first: {paths:?}"
    );
    assert!(
        contains_anywhere(&ws, SECRET).is_empty(),
        "the password was written: {:?}",
        contains_anywhere(&ws, SECRET)
    );
}

#[test]
fn a_trino_server_slow_down_or_refusing_fails_the_draw_and_freezes_nothing() {
    let sb = Sandbox::new();
    let seed_ws = sb.example_workspace();
    let trino = StandIn::start(&seed_ws, "pull_requests", 7);
    let ws = trino_workspace(&sb, &TRINO_SOURCE.replace("timeout = \"20s\"", "timeout = \"1s\""));
    run_with(&sb, &ws, &trino.url(), &["refresh", "pull_requests"]).ok();
    let no_audit = || {
        scalar(&ws, "SELECT count(*) FROM qd.audits") == "0" && scalar(&ws, "SELECT count(*) FROM qd.samples") == "0"
    };

    // Slow: every page takes longer than the timeout; the query is cancelled there.
    trino.slow(Duration::from_millis(1500));
    let slow = run_with(&sb, &ws, &trino.url(), &["audit", "start", "2026-Q3", "--seed", "s"]);
    assert_ne!(slow.code, 0);
    assert!(slow.stderr.contains("no answer within 1s"), "{}", slow.stderr);
    assert!(no_audit(), "a timed-out draw froze something");
    let deleted = || trino.requests().iter().any(|r| r.method == "DELETE" && r.path.starts_with("/v1/statement/"));
    let waited = std::time::Instant::now();
    while !deleted() && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(deleted(), "the timed-out query was not cancelled with DELETE");
    trino.slow(Duration::ZERO);

    // Down: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = format!("http://ana:{SECRET}@127.0.0.1:{port}/memory/public");
    let failed = run_with(&sb, &ws, &down, &["audit", "start", "2026-Q3", "--seed", "s"]);
    assert_ne!(failed.code, 0);
    assert!(failed.stderr.contains("warehouse `trino`") && failed.stderr.contains("cannot reach"), "{}", failed.stderr);
    assert!(!failed.stderr.contains(SECRET), "{}", failed.stderr);
    assert!(no_audit());

    // Refused SQL: check compiles each test there, at the mapping's file:line:col.
    let controls = ws.join("controls/change.toml");
    let text = std::fs::read_to_string(&controls).unwrap();
    std::fs::write(&controls, text.replace("approver <> author", "approver <> no_such_column")).unwrap();
    let checked = run_with(&sb, &ws, &trino.url(), &["check"]);
    assert_ne!(checked.code, 0);
    let said = format!("{}{}", checked.stdout, checked.stderr);
    assert!(
        said.contains("controls/change.toml:") && said.contains("independent") && said.contains("no_such_column"),
        "{said}"
    );
    std::fs::write(&controls, &text).unwrap();

    // A key of a type Trino renders otherwise is refused by check, naming why.
    let config = ws.join("quarterdeck.toml");
    let keyed = std::fs::read_to_string(&config).unwrap().replace(
        "table = \"public.pull_requests\"\nkey = [\"pr_id\"]",
        "table = \"public.pull_requests\"\nkey = [\"merged_at\"]",
    );
    std::fs::write(&config, keyed).unwrap();
    let checked = run_with(&sb, &ws, &trino.url(), &["check"]);
    assert_ne!(checked.code, 0);
    let said = format!("{}{}", checked.stdout, checked.stderr);
    assert!(said.contains("merged_at") && said.contains("pads sub-second digits"), "{said}");
}

#[test]
fn a_cancelled_session_cancels_its_trino_query_with_delete() {
    use quarterdeck::warehouse::{Cancel, Session, Step, Trino, WarehouseError};
    let sb = Sandbox::new();
    let seed_ws = sb.example_workspace();
    // One row a page, each page slow: the query is still running when cancelled.
    let trino = StandIn::start(&seed_ws, "pull_requests", 1);
    trino.slow(Duration::from_millis(300));
    let mut session = Trino::from_url("trino", "EVIDENCE_TRINO_URL", &trino.url(), Duration::from_secs(60)).unwrap();
    let cancel = Cancel::default();
    session.cancel = cancel.clone();
    let session = Session::Trino(session);
    let asking = std::thread::spawn({
        let cancel = cancel.clone();
        move || {
            std::thread::sleep(Duration::from_millis(700));
            cancel.request();
        }
    });
    let started = std::time::Instant::now();
    let mut rows = 0;
    let ran = session.run(&[Step::Rows("SELECT * FROM public.pull_requests".into())], &mut |_, _| {
        rows += 1;
        Ok(())
    });
    asking.join().unwrap();
    assert!(matches!(ran, Err(WarehouseError::Cancelled { .. })), "{ran:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(rows < 5, "{rows} rows came before the cancel took");
    let deleted = trino.requests().iter().any(|r| r.method == "DELETE" && r.path.starts_with("/v1/statement/"));
    assert!(deleted, "the cancelled query was not cancelled there with DELETE");
}
