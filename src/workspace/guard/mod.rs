//! The guard every SQL text a person or a mapping writes passes before it
//! runs: DuckDB's own parser serialises the statement, and an allowlist
//! walks the whole tree. Only SELECT, set operations and (recursive) CTEs,
//! over the workspace's own tables, with functions that neither change
//! state nor reach the file system or the process, get through.

mod catalog;
mod policy;
pub mod tree;

use std::collections::BTreeSet;

use duckdb::Connection;

pub use catalog::Catalog;
use policy::{Inspected, Inspector};
use tree::Tree;

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
    #[error("function `{0}` is refused in read-only queries: {1}")]
    Function(String, &'static str),
    #[error("{0} is refused: queries may only read (SELECT, UNION/EXCEPT/INTERSECT, WITH); nothing was run")]
    Construct(String),
    #[error("cannot classify the query: {0}")]
    Internal(String),
}

crate::error::kind!(BadInput: Refusal);

/// The guard over one workspace's connection, with the readings of its
/// catalog that every statement it checks shares.
#[derive(Clone, Copy)]
pub struct Guard<'a> {
    conn: &'a Connection,
    catalog: &'a Catalog,
}

impl<'a> Guard<'a> {
    pub fn new(conn: &'a Connection, catalog: &'a Catalog) -> Self {
        Self { conn, catalog }
    }

    /// Accepts exactly one SELECT that reads only this workspace's tables.
    pub fn select(&self, sql: &str) -> Result<(), Refusal> {
        self.select_allowing(sql, &[])
    }

    /// [`Guard::select`] for SQL that Quarterdeck wraps around a person's
    /// text, which may call the named internal functions (the draw's ranking).
    pub fn select_allowing(&self, sql: &str, internal: &[&str]) -> Result<(), Refusal> {
        self.inspect(sql, internal).map(|_| ())
    }

    /// The workspace tables and views (lowercase, schema-qualified where the
    /// SQL qualifies them) that a SELECT the guard accepts reads.
    pub fn tables_read(&self, sql: &str) -> Result<BTreeSet<String>, Refusal> {
        Ok(self.inspect(sql, &[])?.tables)
    }

    /// The functions (lowercase) that a SELECT the guard accepts calls.
    pub fn functions_called(&self, sql: &str) -> Result<BTreeSet<String>, Refusal> {
        Ok(self.inspect(sql, &[])?.functions)
    }

    /// Whether `main.<name>` is a table or view of the workspace (a loaded
    /// source), from the shared reading (read again if it lacks the name).
    pub fn has_relation(&self, name: &str) -> Result<bool, Refusal> {
        let qualified = format!("main.{}", name.to_lowercase());
        let plain = catalog::plain_identifier(&name.to_lowercase());
        let known = self.catalog.relations(self.conn, &BTreeSet::from([qualified.clone()]), plain)?;
        Ok(known.contains(&qualified))
    }

    fn inspect(&self, sql: &str, internal: &[&str]) -> Result<Inspected, Refusal> {
        let conn = self.conn;
        if sql.trim().trim_end_matches(';').trim().is_empty() {
            return Err(Refusal::Empty);
        }
        let serialized: String = conn
            .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0))
            .map_err(|e| Refusal::Internal(e.to_string()))?;
        let tree = Tree::parse(&serialized).map_err(|e| Refusal::Internal(e.to_string()))?;
        let root = tree.root();
        if matches!(tree.node(tree.get(root, "error").unwrap_or(root)), tree::Node::Bool(true)) {
            let kind = tree.str_at(root, "error_type").unwrap_or_default();
            let message = tree.str_at(root, "error_message").unwrap_or_default().to_string();
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
        let statements = tree.get(root, "statements").map_or(0, |s| tree.children(s).len());
        match statements {
            0 => return Err(Refusal::Empty),
            1 => {}
            n => return Err(Refusal::MultiStatement(n)),
        }
        Inspector::new(&tree, internal).inspect(conn, self.catalog)
    }
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
    let (mut parts, mut start) = (Vec::new(), 0);
    crate::workspace::sql::each_unquoted(sql, |i| {
        if sql.as_bytes()[i] == b';' {
            parts.push(&sql[start..i]);
            start = i + 1;
        }
        true
    });
    parts.push(&sql[start.min(sql.len())..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn first_word(sql: &str) -> Option<String> {
    let trimmed = sql.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let word: String = trimmed.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    (!word.is_empty()).then(|| word.to_uppercase())
}

#[cfg(test)]
mod tests;
