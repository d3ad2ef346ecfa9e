//! SQL text helpers: quoting of validated identifiers and literals, and the
//! guard that lets only a single read-only SELECT through to an auditor's
//! question. Classification uses DuckDB's own parser (json_serialize_sql).

use std::collections::BTreeSet;

use duckdb::Connection;
use serde_json::Value as Json;

/// `"name"`, with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with embedded quotes doubled.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Why a query was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("only a single read-only SELECT is allowed; this is {0}, which is refused and changes nothing")]
    NotSelect(String),
    #[error("only a single SELECT is allowed; found {0} statements, refused and nothing run")]
    MultiStatement(usize),
    #[error("the query is empty")]
    Empty,
    #[error("SQL does not parse: {0}")]
    Syntax(String),
    #[error(
        "table function `{0}` is refused: queries may read the workspace's tables only, never files or other databases"
    )]
    TableFunction(String),
    #[error(
        "`{0}` is not a table or view of this workspace; queries may read the workspace's tables only, never files"
    )]
    UnknownTable(String),
    #[error("table `{0}` is in another database; queries may read this workspace only")]
    OtherCatalog(String),
    #[error("function `{0}` is refused in read-only queries")]
    Function(String),
    #[error("cannot classify the query: {0}")]
    Internal(String),
}

/// Table functions that only compute, and reach neither files nor state.
const SAFE_TABLE_FUNCTIONS: &[&str] = &["range", "generate_series", "unnest"];
/// Scalar functions that change state or read the environment.
const REFUSED_FUNCTIONS: &[&str] = &["nextval", "setval", "getenv", "current_setting"];

/// Accepts exactly one SELECT that reads only this workspace's tables.
pub fn guard_select(conn: &Connection, sql: &str) -> Result<(), Refusal> {
    if sql.trim().trim_end_matches(';').trim().is_empty() {
        return Err(Refusal::Empty);
    }
    let serialized: String = conn
        .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0))
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    let tree: Json = serde_json::from_str(&serialized).map_err(|e| Refusal::Internal(e.to_string()))?;
    if tree["error"].as_bool() == Some(true) {
        let kind = tree["error_type"].as_str().unwrap_or_default();
        let message = tree["error_message"].as_str().unwrap_or_default().to_string();
        // DuckDB refused; the split below only chooses the message.
        let statements = split_statements(sql);
        return Err(if kind == "parser" || message.contains("syntax error") {
            Refusal::Syntax(message)
        } else if statements.len() > 1 {
            Refusal::MultiStatement(statements.len())
        } else {
            Refusal::NotSelect(statement_kind(sql))
        });
    }
    let statements = tree["statements"].as_array().map_or(0, Vec::len);
    match statements {
        0 => return Err(Refusal::Empty),
        1 => {}
        n => return Err(Refusal::MultiStatement(n)),
    }
    let known = known_relations(conn).map_err(|e| Refusal::Internal(e.to_string()))?;
    let mut ctes = BTreeSet::new();
    collect_ctes(&tree, &mut ctes);
    check_node(&tree, &known, &ctes)
}

/// Names the statement for the refusal message. DuckDB's parser already
/// decided it is not a SELECT; the first word only makes the message readable.
fn statement_kind(sql: &str) -> String {
    match first_word(sql) {
        Some(word) => format!("a {word} statement"),
        None => "not a SELECT".to_string(),
    }
}

/// Statement texts split at top-level semicolons (outside quotes and
/// comments), for messages only: DuckDB's parser does the classifying.
fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let (mut parts, mut start, mut i) = (Vec::new(), 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                parts.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&sql[start.min(sql.len())..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn first_word(sql: &str) -> Option<String> {
    let trimmed = sql.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let word: String = trimmed.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    (!word.is_empty()).then(|| word.to_uppercase())
}

fn known_relations(conn: &Connection) -> duckdb::Result<BTreeSet<String>> {
    let mut stmt = conn.prepare(
        "SELECT lower(table_name) FROM duckdb_tables() WHERE database_name = current_database()
         UNION SELECT lower(view_name) FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
         UNION SELECT lower(schema_name || '.' || table_name) FROM duckdb_tables() WHERE database_name = current_database()
         UNION SELECT lower(schema_name || '.' || view_name) FROM duckdb_views() WHERE database_name = current_database() AND NOT internal",
    )?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    Ok(names)
}

fn collect_ctes(node: &Json, into: &mut BTreeSet<String>) {
    match node {
        Json::Object(map) => {
            if let Some(entries) = map.get("cte_map").and_then(|m| m["map"].as_array()) {
                for entry in entries {
                    if let Some(name) = entry["key"].as_str() {
                        into.insert(name.to_lowercase());
                    }
                }
            }
            map.values().for_each(|v| collect_ctes(v, into));
        }
        Json::Array(items) => items.iter().for_each(|v| collect_ctes(v, into)),
        _ => {}
    }
}

fn check_node(node: &Json, known: &BTreeSet<String>, ctes: &BTreeSet<String>) -> Result<(), Refusal> {
    match node {
        Json::Object(map) => {
            match map.get("type").and_then(Json::as_str) {
                Some("TABLE_FUNCTION") => {
                    let name = map["function"]["function_name"].as_str().unwrap_or("?").to_lowercase();
                    if !SAFE_TABLE_FUNCTIONS.contains(&name.as_str()) {
                        return Err(Refusal::TableFunction(name));
                    }
                }
                Some("BASE_TABLE") => {
                    let table = map["table_name"].as_str().unwrap_or_default().to_lowercase();
                    let schema = map["schema_name"].as_str().unwrap_or_default().to_lowercase();
                    let catalog = map["catalog_name"].as_str().unwrap_or_default();
                    if !catalog.is_empty() {
                        return Err(Refusal::OtherCatalog(format!("{catalog}.{schema}.{table}")));
                    }
                    let qualified = if schema.is_empty() { table.clone() } else { format!("{schema}.{table}") };
                    let is_cte = schema.is_empty() && ctes.contains(&table);
                    if !is_cte && !known.contains(&qualified) {
                        return Err(Refusal::UnknownTable(qualified));
                    }
                }
                Some("FUNCTION") => {
                    let name = map["function_name"].as_str().unwrap_or_default().to_lowercase();
                    if REFUSED_FUNCTIONS.contains(&name.as_str()) {
                        return Err(Refusal::Function(name));
                    }
                }
                _ => {}
            }
            map.values().try_for_each(|v| check_node(v, known, ctes))
        }
        Json::Array(items) => items.iter().try_for_each(|v| check_node(v, known, ctes)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE deploys(deploy_id INT, approver VARCHAR); CREATE SCHEMA qd; CREATE TABLE qd.meta(k INT);",
        )
        .unwrap();
        c
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("o'brien"), "'o''brien'");
    }

    #[test]
    fn accepts_selects_over_workspace_tables_and_ctes() {
        let c = conn();
        for sql in [
            "SELECT * FROM deploys",
            "select count(*) from deploys where approver is null;",
            "WITH x AS (SELECT * FROM deploys) SELECT * FROM x",
            "SELECT * FROM qd.meta",
            "SELECT * FROM range(10)",
            "FROM deploys",
        ] {
            assert_eq!(guard_select(&c, sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        let c = conn();
        let cases = [
            ("DELETE FROM deploys", "DELETE"),
            ("DROP TABLE deploys", "DROP"),
            ("INSERT INTO deploys VALUES (1, 'a')", "INSERT"),
            ("UPDATE deploys SET approver = 'x'", "UPDATE"),
            ("CREATE TABLE x AS SELECT 1", "CREATE"),
            ("SELECT 1; DELETE FROM deploys", "statements"),
            ("SELECT 1; SELECT 2", "statements"),
            ("COPY deploys TO '/tmp/x.csv'", "COPY"),
            ("ATTACH '/tmp/other.duckdb' AS o", "ATTACH"),
            ("SET threads = 1", "SET"),
            ("PRAGMA version", "PRAGMA"),
            ("INSTALL httpfs", "INSTALL"),
            ("LOAD httpfs", "LOAD"),
            ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
            ("SELECT * FROM read_text('/etc/passwd')", "read_text"),
            ("SELECT * FROM (SELECT * FROM read_parquet('x.parquet'))", "read_parquet"),
            ("SELECT * FROM '/etc/passwd'", "/etc/passwd"),
            ("SELECT * FROM 'evidence/deploys.csv'", "deploys.csv"),
            ("SELECT getenv('HOME')", "getenv"),
            ("SELECT nextval('s')", "nextval"),
            ("SELEC 1", "parse"),
            ("", "empty"),
        ];
        for (sql, needle) in cases {
            let refusal = guard_select(&c, sql).expect_err(sql).to_string();
            assert!(refusal.contains(needle), "{sql}: {refusal}");
        }
    }
}
