//! The guard against the attack corpus: every class of SQL that writes,
//! reaches files or the process, or never ends, refused by name.
// Test code only: included from its mod.rs under #[cfg(test)].

use super::*;

fn conn() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE TABLE deploys(deploy_id INT, approver VARCHAR, author VARCHAR, tags VARCHAR[], deployed_at TIMESTAMP);
         CREATE SCHEMA qd; CREATE TABLE qd.meta(k INT);",
    )
    .unwrap();
    c
}

/// A fresh guard's verdict, with a catalog read for this call alone.
fn guard_select(c: &Connection, sql: &str) -> Result<(), Refusal> {
    Guard::new(c, &Catalog::default()).select(sql)
}

#[test]
fn accepts_selects_over_workspace_tables_and_ctes() {
    let c = conn();
    for sql in [
        "SELECT * FROM deploys",
        "select count(*) from deploys where approver is null;",
        "WITH x AS (SELECT * FROM deploys) SELECT * FROM x",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t",
        "SELECT * FROM qd.meta",
        "SELECT * FROM range(10)",
        "SELECT * FROM generate_series(1, 3)",
        "FROM deploys",
        "SELECT deploy_id FROM deploys UNION ALL SELECT k FROM qd.meta EXCEPT SELECT 3",
        "SELECT a.deploy_id FROM deploys a JOIN deploys b USING (deploy_id) LEFT JOIN qd.meta m ON m.k = a.deploy_id",
        "SELECT approver IS NOT NULL AND approver <> author AS ok, coalesce(approver, '-') FROM deploys",
        "SELECT CASE WHEN deploy_id BETWEEN 1 AND 3 THEN 'low' ELSE 'high' END FROM deploys",
        "SELECT CAST(deploy_id AS VARCHAR) || '-' || approver, approver::VARCHAR, TRY_CAST(approver AS INT) FROM deploys",
        "SELECT row_number() OVER (PARTITION BY approver ORDER BY deployed_at DESC), lag(deployed_at) OVER w FROM deploys WINDOW w AS (ORDER BY deployed_at)",
        "SELECT approver, count(*), string_agg(author, ',') FROM deploys GROUP BY ALL HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 5",
        "SELECT * FROM deploys QUALIFY row_number() OVER () = 1",
        "SELECT list_transform(tags, lambda x: upper(x)), tags[1], len(tags), unnest(tags) FROM deploys",
        "SELECT date_trunc('day', deployed_at), extract(year FROM deployed_at), deployed_at + INTERVAL 1 DAY, strftime(deployed_at, '%Y') FROM deploys",
        "SELECT * FROM deploys WHERE approver LIKE 'a%' OR approver ILIKE '%b' OR approver SIMILAR TO 'c.*'",
        "SELECT * FROM deploys WHERE deploy_id IN (SELECT k FROM qd.meta) AND EXISTS (SELECT 1 FROM qd.meta)",
        "SELECT {'a': 1}, [1, 2], MAP {'k': 'v'}, approver COLLATE nocase FROM deploys",
        "SELECT * EXCLUDE (tags) FROM deploys",
        "SELECT COLUMNS('a.*') FROM deploys",
        "VALUES (1, 'a'), (2, 'b')",
        "SELECT * FROM (VALUES (1)) v(x)",
        "SELECT sha256(approver), md5(author), regexp_matches(approver, '^a') FROM deploys",
        "SELECT version(), typeof(1)",
        "SELECT * FROM deploys USING SAMPLE 10%",
        "SELECT ? AS bound_later",
    ] {
        assert_eq!(guard_select(&c, sql), Ok(()), "{sql}");
        // The second layer agrees: what the guard lets through only reads.
        if !sql.contains('?') {
            let plan = crate::workspace::query::check_plan(&c, sql);
            assert!(plan.is_ok(), "{sql}: {plan:?}");
        }
    }
}

#[test]
fn refuses_every_other_class_of_sql() {
    let c = conn();
    let cases = [
        ("DELETE FROM deploys", "DELETE"),
        ("DROP TABLE deploys", "DROP"),
        ("INSERT INTO deploys VALUES (1, 'a', 'b', [], NULL)", "INSERT"),
        ("UPDATE deploys SET approver = 'x'", "UPDATE"),
        ("CREATE TABLE x AS SELECT 1", "CREATE"),
        ("CREATE MACRO m() AS 1", "CREATE"),
        ("ALTER TABLE deploys ADD COLUMN x INT", "ALTER"),
        ("SELECT 1; DELETE FROM deploys", "statements"),
        ("SELECT 1; SELECT 2", "statements"),
        ("COPY deploys TO '/tmp/x.csv'", "COPY"),
        ("EXPORT DATABASE '/tmp/x'", "EXPORT"),
        ("ATTACH '/tmp/other.duckdb' AS o", "ATTACH"),
        ("DETACH o", "DETACH"),
        ("SET threads = 1", "SET"),
        ("RESET threads", "RESET"),
        ("PRAGMA version", "PRAGMA"),
        ("INSTALL httpfs", "INSTALL"),
        ("LOAD httpfs", "LOAD"),
        ("CHECKPOINT", "CHECKPOINT"),
        ("VACUUM", "VACUUM"),
        ("BEGIN TRANSACTION", "BEGIN"),
        ("CALL pragma_version()", "CALL"),
        ("CREATE SECRET s (TYPE s3)", "CREATE"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM read_text('/etc/passwd')", "read_text"),
        ("SELECT * FROM read_blob('/etc/passwd')", "read_blob"),
        ("SELECT * FROM (SELECT * FROM read_parquet('x.parquet'))", "read_parquet"),
        ("SELECT * FROM glob('/etc/*')", "glob"),
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("SELECT * FROM query('SELECT 1')", "query"),
        ("SELECT * FROM '/etc/passwd'", "/etc/passwd"),
        ("SELECT * FROM 'evidence/deploys.csv'", "deploys.csv"),
        ("SELECT * FROM information_schema.tables", "information_schema.tables"),
        ("SELECT * FROM other.main.deploys", "another database"),
        ("SELECT * FROM (SHOW '/etc/passwd')", "SHOW"),
        ("SELECT * FROM (DESCRIBE deploys)", "SHOW"),
        ("SELECT * FROM (SUMMARIZE deploys)", "SHOW"),
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT current_setting('threads')", "current_setting"),
        ("SELECT nextval('s')", "nextval"),
        ("SELECT setval('s', 1)", "setval"),
        ("SELECT sleep_ms(3600000)", "sleep_ms"),
        ("SELECT pg_sleep(3600)", "pg_sleep"),
        ("SELECT random()", "random"),
        ("SELECT write_log('x')", "write_log"),
        ("SELECT quarterdeck_draw(0, 's', 'k')", "internal"),
        ("SELECT main.my_macro(1)", "no such built-in"),
        ("SELECT other.main.f(1)", "built-in"),
        ("WITH x AS (COPY (SELECT 'echo pwned' AS l) TO '/tmp/x.sh' (HEADER false, QUOTE '')) SELECT 42", "COPY"),
        ("WITH x AS (DELETE FROM deploys RETURNING *) SELECT count(*) FROM x", "DELETE"),
        ("WITH x AS (UPDATE deploys SET approver = 'x' RETURNING *) SELECT 1", "UPDATE"),
        ("WITH x AS (INSERT INTO qd.meta VALUES (1) RETURNING *) SELECT * FROM x", "INSERT"),
        ("SELECT * FROM (WITH x AS (DELETE FROM deploys RETURNING *) SELECT * FROM x)", "DELETE"),
        ("SELECT (WITH x AS (COPY (SELECT 1) TO '/tmp/y') SELECT 1)", "COPY"),
        ("SELECT 1 UNION ALL (WITH x AS (DELETE FROM deploys RETURNING *) SELECT 1)", "DELETE"),
        (
            "SELECT * FROM deploys WHERE deploy_id IN (WITH x AS (DELETE FROM deploys RETURNING deploy_id) SELECT * FROM x)",
            "DELETE",
        ),
        ("SELEC 1", "parse"),
        ("", "empty"),
        ("  ;  ", "empty"),
    ];
    for (sql, needle) in cases {
        let refusal = guard_select(&c, sql).expect_err(sql).to_string();
        assert!(refusal.contains(needle), "{sql}: {refusal}");
    }
}

#[test]
fn deep_expressions_are_classified_not_refused() {
    let c = conn();
    let long = format!("SELECT {} FROM deploys", vec!["approver"; 400].join(" || "));
    assert_eq!(guard_select(&c, &long), Ok(()));
    let nested = format!("SELECT {}1{} FROM deploys", "(".repeat(300), ")".repeat(300));
    assert_eq!(guard_select(&c, &nested), Ok(()));
    let hidden = format!(
        "SELECT {} (WITH x AS (DELETE FROM deploys RETURNING 1) SELECT 1) FROM deploys",
        vec!["approver ||"; 200].join(" ")
    );
    assert!(guard_select(&c, &hidden).expect_err("hidden delete").to_string().contains("DELETE"));
}

#[test]
fn internal_functions_pass_only_where_quarterdeck_wraps_the_sql() {
    let c = conn();
    c.execute_batch("CREATE MACRO quarterdeck_draw(a, b, c) AS 1").unwrap();
    let sql = "SELECT quarterdeck_draw(0, 's', deploy_id) FROM deploys";
    assert!(guard_select(&c, sql).is_err());
    assert_eq!(Guard::new(&c, &Catalog::default()).select_allowing(sql, &["quarterdeck_draw"]), Ok(()));
}

#[test]
fn a_macro_shadowing_a_built_in_is_refused() {
    let c = conn();
    c.execute_batch("CREATE MACRO lower(x) AS x; CREATE TEMP MACRO upper(x) AS x").unwrap();
    for sql in ["SELECT lower(approver) FROM deploys", "SELECT upper(approver) FROM deploys"] {
        let refusal = guard_select(&c, sql).expect_err(sql).to_string();
        assert!(refusal.contains("only built-in functions"), "{sql}: {refusal}");
    }
}

#[test]
fn a_cached_reading_is_read_again_for_a_name_it_does_not_know() {
    let c = conn();
    let catalog = Catalog::default();
    let guard = Guard::new(&c, &catalog);
    assert_eq!(guard.select("SELECT lower(approver) FROM deploys"), Ok(()));
    // Created behind the guard's back after the catalog was read: the new
    // name is unknown to the reading, so it is read again, and refused.
    c.execute_batch("CREATE MACRO leak(x) AS x").unwrap();
    let refusal = guard.select("SELECT leak(approver) FROM deploys").expect_err("macro").to_string();
    assert!(refusal.contains("only built-in functions"), "{refusal}");
    // The shared reading still answers for the built-ins, and still refuses.
    assert_eq!(guard.select("SELECT lower(approver), count(*) FROM deploys GROUP BY 1"), Ok(()));
    assert!(guard.select("SELECT random()").is_err());
    assert!(guard.select("SELECT no_such_function(1)").expect_err("unknown").to_string().contains("no such"));
}

#[test]
fn a_table_created_after_the_reading_is_seen_and_one_dropped_is_never_read_from_a_file() {
    let c = conn();
    let catalog = Catalog::default();
    let guard = Guard::new(&c, &catalog);
    assert_eq!(guard.select("SELECT * FROM deploys"), Ok(()));
    // Unknown to the cached reading: read again, and accepted.
    c.execute_batch("CREATE TABLE later (x INT)").unwrap();
    assert_eq!(guard.select("SELECT * FROM later JOIN deploys ON true"), Ok(()));
    assert_eq!(guard.select("SELECT * FROM main.later"), Ok(()));
    // A name that is not a plain identifier is checked against a fresh
    // reading every time, so a table of that name dropped since is refused.
    c.execute_batch(r#"CREATE TABLE "x.csv" (x INT)"#).unwrap();
    assert_eq!(guard.select(r#"SELECT * FROM "x.csv""#), Ok(()));
    c.execute_batch(r#"DROP TABLE "x.csv""#).unwrap();
    let refusal = guard.select(r#"SELECT * FROM "x.csv""#).expect_err("dropped");
    assert_eq!(refusal, Refusal::UnknownTable("x.csv".into()));
    assert!(guard.select("SELECT * FROM no_such_table").is_err());
}
