//! `quarterdeck query`: a single read-only SELECT; every other class of SQL
//! refused with a clear message, and nothing changes.

use crate::common::{Sandbox, file_hash, scalar};

#[test]
fn a_select_answers_in_every_format() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let sql = "SELECT deploy_id, deployed_at, approver IS NULL AS unapproved FROM deploys WHERE environment = 'production' ORDER BY deploy_id";
    let json = sb.at(&ws, &["--format", "json", "query", sql]).ok().json();
    assert_eq!(json.as_array().unwrap().len(), 4);
    assert_eq!(json[2]["deploy_id"], "d-0004");
    assert_eq!(json[2]["deployed_at"], "2026-08-21 16:30:00");
    assert_eq!(json[2]["unapproved"], true);
    let csv = sb.at(&ws, &["--format", "csv", "query", sql]).ok();
    assert!(
        csv.stdout.starts_with("deploy_id,deployed_at,unapproved\nd-0001,2026-07-02 10:15:00,false\n"),
        "{}",
        csv.stdout
    );
    let table = sb.at(&ws, &["query", "SELECT count(*) AS n FROM deploys"]).ok();
    assert_eq!(table.stdout, "N\n5\n");
}

#[test]
fn every_other_class_of_sql_is_refused_and_changes_nothing() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let db = ws.join("workspace.duckdb");
    let outside = sb.path().join("outside.csv");
    std::fs::write(&outside, "secret\n42\n").unwrap();
    let outside = outside.to_str().unwrap().to_string();
    let before = file_hash(&db);
    let cases: Vec<(String, &str)> = vec![
        ("DELETE FROM deploys".into(), "DELETE statement"),
        ("UPDATE deploys SET approver = 'x'".into(), "UPDATE statement"),
        ("INSERT INTO deploys (deploy_id) VALUES ('x')".into(), "INSERT statement"),
        ("DROP TABLE deploys".into(), "DROP statement"),
        ("CREATE TABLE x AS SELECT 1".into(), "CREATE statement"),
        ("ALTER TABLE deploys ADD COLUMN x INT".into(), "ALTER statement"),
        ("SELECT 1; DELETE FROM deploys".into(), "found 2 statements"),
        (format!("COPY deploys TO '{outside}.out'"), "COPY statement"),
        (format!("ATTACH '{outside}.db' AS other"), "ATTACH statement"),
        ("SET threads = 1".into(), "SET statement"),
        ("PRAGMA database_list".into(), "PRAGMA statement"),
        ("INSTALL httpfs".into(), "INSTALL statement"),
        ("LOAD parquet".into(), "LOAD statement"),
        (format!("SELECT * FROM read_csv('{outside}')"), "table function `read_csv`"),
        (format!("SELECT * FROM read_text('{outside}')"), "table function `read_text`"),
        (format!("SELECT * FROM '{outside}'"), "is not a table or view of this workspace"),
        ("SELECT * FROM glob('/etc/*')".into(), "table function `glob`"),
        ("SELECT getenv('HOME')".into(), "function `getenv` is refused"),
        ("CHECKPOINT".into(), "CHECKPOINT statement"),
        ("VACUUM".into(), "VACUUM statement"),
    ];
    for (sql, needle) in &cases {
        let run = sb.at(&ws, &["query", sql]);
        assert_eq!(run.code, 4, "{sql}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{sql}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{sql} printed {}", run.stdout);
    }
    assert_eq!(file_hash(&db), before);
    assert!(!std::path::Path::new(&format!("{outside}.out")).exists());
    assert!(!std::path::Path::new(&format!("{outside}.db")).exists());
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "5");
}

/// The attacks of the trust review: writes and file access hidden inside a
/// CTE, against a read-write and a read-only open. Each is refused by the
/// guard with a message naming what was refused; nothing is written.
#[test]
fn writes_hidden_in_a_cte_are_refused_and_write_nothing() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let db = ws.join("workspace.duckdb");
    let shell = sb.path().join("x.sh");
    let before = file_hash(&db);
    let cases = [
        (
            format!(
                "WITH x AS (COPY (SELECT 'echo pwned' AS l) TO '{}' (HEADER false, QUOTE '')) SELECT 42",
                shell.display()
            ),
            "a COPY inside the query",
        ),
        (
            format!("WITH x AS (COPY (SELECT 1) TO '{}' (USE_TMP_FILE false)) SELECT 42", db.display()),
            "a COPY inside the query",
        ),
        ("WITH x AS (DELETE FROM deploys RETURNING *) SELECT count(*) FROM x".into(), "a DELETE inside the query"),
        ("WITH x AS (UPDATE deploys SET approver = 'x' RETURNING *) SELECT 1".into(), "an UPDATE inside the query"),
        ("WITH x AS (INSERT INTO deploys (deploy_id) VALUES ('x') RETURNING *) SELECT 1".into(), "an INSERT inside"),
        ("SELECT * FROM (SHOW '/etc/passwd')".into(), "SHOW / DESCRIBE"),
        ("SELECT sleep_ms(3600000)".into(), "function `sleep_ms` is refused"),
        ("SELECT pg_sleep(3600)".into(), "function `pg_sleep` is refused"),
        ("SELECT current_setting('temp_directory')".into(), "function `current_setting` is refused"),
        ("EXPORT DATABASE '/tmp/qd-export'".into(), "EXPORT statement"),
        ("CALL pragma_version()".into(), "CALL statement"),
        ("CREATE MACRO m() AS 1".into(), "CREATE statement"),
        ("RESET threads".into(), "RESET statement"),
        ("BEGIN TRANSACTION".into(), "BEGIN statement"),
        ("SELECT * FROM read_blob('/etc/hostname')".into(), "table function `read_blob`"),
        ("SELECT * FROM duckdb_settings()".into(), "table function `duckdb_settings`"),
        ("SELECT * FROM query('SELECT 1')".into(), "table function `query`"),
        ("SELECT * FROM information_schema.tables".into(), "is not a table or view of this workspace"),
        ("SELECT * FROM other.main.deploys".into(), "in another database"),
        ("SELECT random()".into(), "function `random` is refused"),
        ("SELECT write_log('x')".into(), "function `write_log` is refused"),
        ("SELECT quarterdeck_draw(0, 's', 'k')".into(), "internal to Quarterdeck"),
        ("SELECT * FROM (SUMMARIZE deploys)".into(), "SHOW / DESCRIBE"),
        ("SELECT nextval('qd.request_seq')".into(), "function `nextval` is refused"),
    ];
    for read_only in [false, true] {
        for (sql, needle) in &cases {
            let mut args = vec![];
            if read_only {
                args.push("--read-only");
            }
            args.extend(["query", sql.as_str()]);
            let run = sb.at(&ws, &args);
            assert_eq!(run.code, 4, "{sql}: {}", run.stderr);
            assert!(run.stderr.contains(needle), "{sql}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{sql} printed {}", run.stdout);
        }
    }
    assert!(!shell.exists(), "the COPY wrote {}", shell.display());
    assert_eq!(file_hash(&db), before, "the workspace changed");
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "5");
}

#[test]
fn a_query_past_the_statement_timeout_is_stopped() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let config = ws.join("quarterdeck.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[limits]\nstatement_timeout = \"1s\"\n")).unwrap();
    for sql in [
        "SELECT count(*) FROM range(10000000000000)",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
    ] {
        let started = std::time::Instant::now();
        let run = sb.at(&ws, &["query", sql]);
        assert_eq!(run.code, 5, "{sql}: {}", run.stderr);
        assert!(run.stderr.contains("statement timeout (1s)"), "{sql}: {}", run.stderr);
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "{sql} ran {:?}", started.elapsed());
    }
    std::fs::write(&config, format!("{text}\n[limits]\nstatement_timeout = \"soon\"\n")).unwrap();
    let run = sb.at(&ws, &["query", "SELECT 1"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("quarterdeck.toml:") && run.stderr.contains("statement_timeout"), "{}", run.stderr);
}

#[test]
fn any_value_prints_and_hostile_text_stays_text() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    // A NULL-typed column, a 70,000-character cell, a header with an OSC
    // title sequence, bidi controls, every odd type.
    let sql = "SELECT NULL AS n, repeat('x', 70000) AS wide, 1 AS \"t\u{1b}]0;pwned\u{7}\", \
               'a\u{202e}b\u{200f}c\u{61c}' AS bidi, INTERVAL 3 DAY AS i, MAP {'k': 1} AS m, 'nan'::DOUBLE AS f, \
               TIMETZ '12:00:00+01' AS tz, '0101'::BIT AS b";
    for format in ["table", "csv", "json"] {
        let run = sb.at(&ws, &["--format", format, "query", sql]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        if format != "csv" {
            assert!(!run.stdout.chars().any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'), "{format}");
        }
        if format == "json" {
            let rows = run.json();
            assert_eq!(rows[0]["n"], serde_json::Value::Null);
            assert_eq!(rows[0]["i"], "3 days");
            assert_eq!(rows[0]["f"], "nan");
            assert_eq!(rows[0]["wide"].as_str().map(str::len), Some(70000));
        }
        if format == "table" {
            assert!(run.stdout.contains('…') && run.stdout.contains("3 days"), "{}", &run.stdout[..200]);
        }
    }
}

#[test]
fn csv_and_json_stream_every_row() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let csv = sb.at(&ws, &["--format", "csv", "query", "SELECT range AS n FROM range(200000)"]).ok();
    assert_eq!(csv.stdout.lines().count(), 200_001);
    let json = sb.at(&ws, &["--format", "json", "query", "SELECT range AS n FROM range(3)"]).ok().json();
    assert_eq!(json, serde_json::json!([{"n": 0}, {"n": 1}, {"n": 2}]));
    let empty = sb.at(&ws, &["--format", "json", "query", "SELECT 1 AS n WHERE false"]).ok().json();
    assert_eq!(empty, serde_json::json!([]));
}
