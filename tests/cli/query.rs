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
