//! Browsing a whole population page by page, for the drill-down beside a
//! sample: keyset pagination on (period column, key columns), so that a page
//! deep in a 50M-row population costs what the first one does — no OFFSET.

use std::collections::HashSet;

use duckdb::types::Value;
use serde_json::Value as Json;

use super::AuditError;
use crate::workspace::Workspace;
use crate::workspace::mapping::EvidenceSpec;
use crate::workspace::period::Period;
use crate::workspace::population::Population;
use crate::workspace::sql::quote_ident;
use crate::workspace::values::to_json;

/// Which rows of the population to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    /// Rows where some attribute test is false or NULL (never a pass).
    Failing,
}

/// The ordering values of one row: its period column, then its key columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor(Vec<Value>);

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    First,
    After(Cursor),
    Before(Cursor),
    Last,
}

#[derive(Debug, Clone)]
pub struct PageRow {
    pub key: String,
    pub values: Vec<Json>,
    pub tests: Vec<Option<bool>>,
    pub cursor: Cursor,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub columns: Vec<String>,
    pub tests: Vec<String>,
    pub rows: Vec<PageRow>,
    /// No rows before the first one of this page.
    pub at_start: bool,
    /// No rows after the last one of this page.
    pub at_end: bool,
}

/// The SQL of one page: the population with its tests as columns, bounded
/// by the cursor and ordered by (period column, key columns).
pub fn page_sql(
    population: &Population,
    spec: &EvidenceSpec,
    period: &Period,
    filter: Filter,
    position: &Position,
) -> String {
    let order: Vec<String> =
        std::iter::once(&population.period_column).chain(&population.key).map(|c| quote_ident(c)).collect();
    let tuple = format!("({})", order.join(", "));
    let params = format!("({})", vec!["?"; order.len()].join(", "));
    let tests: String = spec
        .tests
        .iter()
        .map(|t| format!(", ({}) AS {}", population.test_sql(t, period), test_column(&t.name)))
        .collect();
    let mut conditions = Vec::new();
    if filter == Filter::Failing && !spec.tests.is_empty() {
        let failing: Vec<String> =
            spec.tests.iter().map(|t| format!("NOT coalesce(({}), false)", population.test_sql(t, period))).collect();
        conditions.push(format!("({})", failing.join(" OR ")));
    }
    let (direction, bound) = match position {
        Position::First => ("ASC", None),
        Position::After(_) => ("ASC", Some(format!("{tuple} > {params}"))),
        Position::Before(_) => ("DESC", Some(format!("{tuple} < {params}"))),
        Position::Last => ("DESC", None),
    };
    conditions.extend(bound);
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let order_by: Vec<String> = order.iter().map(|c| format!("{c} {direction}")).collect();
    format!(
        "SELECT {key} AS __qd_key{tests}, population.* FROM ({sql}) AS population {filter} ORDER BY {order_by}",
        key = population.key_sql(),
        sql = population.sql(period),
        order_by = order_by.join(", "),
    )
}

fn test_column(name: &str) -> String {
    quote_ident(&format!("__qd_test_{name}"))
}

/// Page SQL already through the single-SELECT guard. The SQL of a page
/// depends on its direction, not on its cursor (bound as parameters), so a
/// walk through a population is guarded once, not once per page.
#[derive(Debug, Default)]
pub struct Guarded(HashSet<String>);

impl Guarded {
    fn check(&mut self, ws: &Workspace, sql: &str) -> Result<(), AuditError> {
        if !self.0.contains(sql) {
            ws.guard().select(sql).map_err(|r| AuditError::Refused(r.to_string()))?;
            self.0.insert(sql.to_string());
        }
        Ok(())
    }
}

/// What to read: a spec's population in a period, filtered.
pub struct Browse<'a> {
    pub population: &'a Population,
    pub spec: &'a EvidenceSpec,
    pub period: &'a Period,
    pub filter: Filter,
}

/// One page of at most `limit` rows (one more is read to know whether the
/// page is the last in its direction).
pub fn page(
    ws: &Workspace,
    browse: &Browse,
    position: &Position,
    limit: usize,
    guarded: &mut Guarded,
) -> Result<Page, AuditError> {
    let Browse { population, spec, period, filter } = *browse;
    let sql = format!("{} LIMIT {}", page_sql(population, spec, period, filter, position), limit + 1);
    guarded.check(ws, &sql)?;
    let bound: Vec<Value> = match position {
        Position::After(Cursor(values)) | Position::Before(Cursor(values)) => values.clone(),
        Position::First | Position::Last => Vec::new(),
    };
    let mut stmt = ws.conn.prepare(&sql)?;
    let mut result = stmt.query(duckdb::params_from_iter(bound.iter()))?;
    let mut raw: Vec<Vec<Value>> = Vec::new();
    while let Some(row) = result.next()? {
        let width = row.as_ref().column_count();
        raw.push((0..width).map(|i| row.get(i)).collect::<Result<_, _>>()?);
    }
    drop(result);
    let names = stmt.column_names();
    let first_value = 1 + spec.tests.len();
    let columns: Vec<String> = names.iter().skip(first_value).cloned().collect();
    let order_at: Vec<usize> = std::iter::once(&population.period_column)
        .chain(&population.key)
        .filter_map(|c| columns.iter().position(|n| n == c))
        .collect();
    let more = raw.len() > limit;
    raw.truncate(limit);
    let mut rows: Vec<PageRow> = raw
        .into_iter()
        .map(|values| {
            let cursor = Cursor(order_at.iter().map(|&i| values[first_value + i].clone()).collect());
            let mut values = values.into_iter();
            let key = match values.next().map(to_json) {
                Some(Json::String(k)) => k,
                _ => String::new(),
            };
            let tests = (0..spec.tests.len())
                .map(|_| match values.next() {
                    Some(Value::Boolean(b)) => Some(b),
                    _ => None,
                })
                .collect();
            PageRow { key, values: values.map(to_json).collect(), tests, cursor }
        })
        .collect();
    let backwards = matches!(position, Position::Before(_) | Position::Last);
    if backwards {
        rows.reverse();
    }
    let (at_start, at_end) = match position {
        Position::First => (true, !more),
        Position::After(_) => (false, !more),
        Position::Before(_) => (!more, false),
        Position::Last => (!more, true),
    };
    Ok(Page { columns, tests: spec.tests.iter().map(|t| t.name.clone()).collect(), rows, at_start, at_end })
}
