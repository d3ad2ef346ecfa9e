//! The allowlist itself: which query nodes, table references, expression
//! classes and functions a read-only query may contain. Anything not named
//! here is refused, so a node type DuckDB adds later fails closed.

use std::collections::BTreeSet;

use duckdb::Connection;

use super::Refusal;
use super::catalog::{Catalog, plain_identifier};
use super::tree::{Node, Tree};

/// Query nodes that only read.
const QUERY_NODES: &[&str] = &["SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"];
/// Table references that only read (a base table is checked on its own).
const TABLE_REFS: &[&str] = &["SUBQUERY", "JOIN", "EMPTY", "EXPRESSION_LIST", "PIVOT"];
/// Expression classes of a parsed query; functions are checked by name.
const EXPRESSION_CLASSES: &[&str] = &[
    "AGGREGATE",
    "BETWEEN",
    "CASE",
    "CAST",
    "COLLATE",
    "COLUMN_REF",
    "COMPARISON",
    "CONJUNCTION",
    "CONSTANT",
    "LAMBDA",
    "LAMBDA_REF",
    "OPERATOR",
    "PARAMETER",
    "POSITIONAL_REFERENCE",
    "STAR",
    "SUBQUERY",
    "TYPE",
];
/// Table functions that only compute, and reach neither files nor state.
pub const SAFE_TABLE_FUNCTIONS: &[&str] = &["range", "generate_series", "unnest"];
/// Names the binder handles itself, absent from duckdb_functions().
const BINDER_FUNCTIONS: &[&str] = &["unnest", "unlist", "grouping", "grouping_id"];
/// Built-in functions that reach the process, the session or the clock of
/// the query itself, though DuckDB does not mark them as side-effecting.
const SYSTEM_FUNCTIONS: &[(&str, &str)] = &[
    ("getenv", "it reads the process environment"),
    ("current_setting", "it reads the database configuration"),
    ("pg_sleep", "it only waits"),
    ("sleep_ms", "it only waits"),
    ("json_deserialize_sql", "it builds SQL text"),
];
/// Quarterdeck's own functions serve its draws and ingests, not queries.
const INTERNAL_PREFIX: &str = "quarterdeck_";

pub(super) struct Inspector<'a> {
    tree: &'a Tree,
    internal: &'a [&'a str],
    ctes: BTreeSet<String>,
    functions: BTreeSet<String>,
    tables: BTreeSet<String>,
    /// Every table named is made of plain identifiers (see `catalog`).
    plain_tables: bool,
}

/// What an accepted statement reads and calls, lowercase.
pub struct Inspected {
    /// The workspace tables and views (schema-qualified where the SQL qualifies them).
    pub tables: BTreeSet<String>,
    /// Every function it names.
    pub functions: BTreeSet<String>,
}

impl<'a> Inspector<'a> {
    pub fn new(tree: &'a Tree, internal: &'a [&'a str]) -> Self {
        Self {
            tree,
            internal,
            ctes: BTreeSet::new(),
            functions: BTreeSet::new(),
            tables: BTreeSet::new(),
            plain_tables: true,
        }
    }

    /// Walks every node (iteratively), then checks the relations and the
    /// functions it met; what the statement reads and calls.
    pub fn inspect(mut self, conn: &Connection, catalog: &Catalog) -> Result<Inspected, Refusal> {
        self.collect_ctes();
        let mut stack = vec![self.tree.root()];
        while let Some(id) = stack.pop() {
            if matches!(self.tree.node(id), Node::Object(_)) {
                self.check_object(id)?;
            }
            stack.extend(self.tree.children(id));
        }
        if !self.tables.is_empty() {
            let known = catalog.relations(conn, &self.tables, self.plain_tables)?;
            if let Some(unknown) = self.tables.iter().find(|t| !known.contains(*t)) {
                return Err(Refusal::UnknownTable(unknown.clone()));
            }
        }
        self.check_functions(conn, catalog)?;
        Ok(Inspected { tables: self.tables, functions: self.functions })
    }

    fn collect_ctes(&mut self) {
        let tree = self.tree;
        for id in 0..tree.len() {
            let Some(map) = tree.get(id, "cte_map").and_then(|m| tree.get(m, "map")) else { continue };
            for entry in tree.children(map) {
                if let Some(name) = tree.str_at(entry, "key") {
                    self.ctes.insert(name.to_lowercase());
                }
            }
        }
    }

    fn check_object(&mut self, id: usize) -> Result<(), Refusal> {
        let tree = self.tree;
        if let Some(class) = tree.str_at(id, "class") {
            return self.check_expression(id, class);
        }
        let Some(kind) = tree.str_at(id, "type") else { return Ok(()) };
        if kind.ends_with("_NODE") || (tree.has(id, "cte_map") && tree.has(id, "modifiers")) {
            return match QUERY_NODES.contains(&kind) {
                true => Ok(()),
                false => Err(Refusal::Construct(describe_node(kind))),
            };
        }
        if kind.ends_with("_MODIFIER") {
            return Ok(());
        }
        if tree.has(id, "query_location") && tree.has(id, "alias") {
            return self.check_table_ref(id, kind);
        }
        Ok(())
    }

    fn check_expression(&mut self, id: usize, class: &str) -> Result<(), Refusal> {
        match class {
            "FUNCTION" | "WINDOW" => {
                let tree = self.tree;
                let name = tree.str_at(id, "function_name").unwrap_or_default().to_lowercase();
                let catalog = tree.str_at(id, "catalog").unwrap_or_default();
                let schema = tree.str_at(id, "schema").unwrap_or_default().to_lowercase();
                if !catalog.is_empty() || !matches!(schema.as_str(), "" | "main" | "pg_catalog") {
                    return Err(Refusal::Function(name, "only built-in functions may be called"));
                }
                self.functions.insert(name);
                Ok(())
            }
            class if EXPRESSION_CLASSES.contains(&class) => Ok(()),
            other => Err(Refusal::Construct(format!("a {} expression", other.to_lowercase()))),
        }
    }

    fn check_table_ref(&mut self, id: usize, kind: &str) -> Result<(), Refusal> {
        let tree = self.tree;
        match kind {
            "BASE_TABLE" => {
                let table = tree.str_at(id, "table_name").unwrap_or_default().to_lowercase();
                let schema = tree.str_at(id, "schema_name").unwrap_or_default().to_lowercase();
                let catalog = tree.str_at(id, "catalog_name").unwrap_or_default();
                if !catalog.is_empty() {
                    return Err(Refusal::OtherCatalog(format!("{catalog}.{schema}.{table}")));
                }
                if !tree.is_null_at(id, "at_clause") {
                    return Err(Refusal::Construct("a time-travel AT clause".into()));
                }
                let qualified = if schema.is_empty() { table.clone() } else { format!("{schema}.{table}") };
                let is_cte = schema.is_empty() && self.ctes.contains(&table);
                if !is_cte {
                    self.plain_tables &= plain_identifier(&table) && (schema.is_empty() || plain_identifier(&schema));
                    self.tables.insert(qualified);
                }
                Ok(())
            }
            "TABLE_FUNCTION" => {
                let function = tree.get(id, "function");
                let name = function.and_then(|f| tree.str_at(f, "function_name")).unwrap_or("?").to_lowercase();
                match SAFE_TABLE_FUNCTIONS.contains(&name.as_str()) {
                    true => Ok(()),
                    false => Err(Refusal::TableFunction(name)),
                }
            }
            "SHOW_REF" => Err(Refusal::Construct("SHOW / DESCRIBE / SUMMARIZE".into())),
            kind if TABLE_REFS.contains(&kind) => Ok(()),
            other => Err(Refusal::Construct(format!("a {} table reference", other.to_lowercase()))),
        }
    }

    /// Every function named must be a built-in without side effects that
    /// reaches neither the process nor the configuration.
    fn check_functions(&self, conn: &Connection, catalog: &Catalog) -> Result<(), Refusal> {
        let mut named = Vec::new();
        for name in &self.functions {
            if self.internal.contains(&name.as_str()) {
                continue;
            }
            if name.starts_with(INTERNAL_PREFIX) {
                return Err(Refusal::Function(name.clone(), "it is internal to Quarterdeck's draws"));
            }
            if let Some((_, why)) = SYSTEM_FUNCTIONS.iter().find(|(n, _)| n == name) {
                return Err(Refusal::Function(name.clone(), why));
            }
            named.push(name.as_str());
        }
        if named.is_empty() {
            return Ok(());
        }
        // The binder's own names are absent from the catalog unless something
        // shadows them; their absence alone must not force a fresh reading.
        let listed = named.iter().copied().filter(|n| !BINDER_FUNCTIONS.contains(n)).collect();
        let entries = catalog.entries(conn, &listed)?;
        for name in named {
            let Some(entry) = entries.get(name) else {
                if BINDER_FUNCTIONS.contains(&name) {
                    continue;
                }
                return Err(Refusal::Function(name.to_string(), "no such built-in function"));
            };
            if entry.side_effects {
                return Err(Refusal::Function(
                    name.to_string(),
                    "it has side effects (its result changes from run to run, or it changes state)",
                ));
            }
            if !entry.system {
                return Err(Refusal::Function(name.to_string(), "only built-in functions may be called"));
            }
            if !entry.callable && !SAFE_TABLE_FUNCTIONS.contains(&name) {
                return Err(Refusal::Function(name.to_string(), "it is not a scalar, aggregate or window function"));
            }
        }
        Ok(())
    }
}

fn describe_node(kind: &str) -> String {
    match kind {
        "COPY_QUERY_NODE" => "a COPY inside the query".into(),
        "INSERT_QUERY_NODE" => "an INSERT inside the query".into(),
        "UPDATE_QUERY_NODE" => "an UPDATE inside the query".into(),
        "DELETE_QUERY_NODE" => "a DELETE inside the query".into(),
        "MERGE_QUERY_NODE" => "a MERGE inside the query".into(),
        other => format!("a {} query node", other.trim_end_matches("_NODE").to_lowercase().replace('_', " ")),
    }
}
