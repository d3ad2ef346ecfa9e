//! Full-population tests: every attribute test of every spec over every row
//! of the period, in one scan per spec. NULL is inconclusive, never a pass.

use crate::workspace::Workspace;
use crate::workspace::mapping::{AttributeTest, Control};
use crate::workspace::period::Period;
use crate::workspace::population::{self, Population, PopulationError, duckdb_message};
use crate::workspace::query::{QueryError, bounded};
use crate::workspace::sql::quote_ident;

use super::AuditError;
use super::occurrences::{self, Occurrences};
use crate::workspace::inventory::Inventory;

/// How many keys of failing or inconclusive rows to show.
pub const SHOWN_KEYS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestResult {
    Pass,
    Fail,
    Inconclusive,
}

impl TestResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Inconclusive => "inconclusive",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub name: String,
    pub expr: String,
    pub passed: u64,
    pub failed: u64,
    pub inconclusive: u64,
    pub result: TestResult,
    /// First keys (by period column, then key) where the test is false.
    pub failing_keys: Vec<String>,
    /// First keys where the test is NULL.
    pub inconclusive_keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SpecOutcome {
    pub spec: String,
    pub population: Population,
    pub sql: String,
    pub count: u64,
    pub tests: Vec<TestOutcome>,
    /// The slots of a spec with `expect`, judged now.
    pub occurrences: Option<Occurrences>,
}

/// Runs every test of every spec of `control` over `period`.
pub fn test_control(ws: &Workspace, control: &Control, period: &Period) -> Result<Vec<SpecOutcome>, AuditError> {
    if control.evidence.is_empty() {
        return Err(AuditError::NoEvidence(control.id.clone()));
    }
    let inventory = Inventory::load(&ws.root);
    control
        .evidence
        .iter()
        .map(|spec| {
            let population = population::resolve(ws, control, spec)?;
            let mut outcome = test_population(ws, &population, &spec.tests, period)?;
            outcome.occurrences = occurrences::check(ws, &inventory, control, spec, &population, period, ws.now())?;
            Ok(outcome)
        })
        .collect()
}

fn test_population(
    ws: &Workspace,
    population: &Population,
    tests: &[AttributeTest],
    period: &Period,
) -> Result<SpecOutcome, AuditError> {
    let sql = population.sql(period);
    let bound: Vec<String> = tests.iter().map(|t| population.test_sql(t, period)).collect();
    let engine = match &population.warehouse {
        Some(warehouse) => Engine::Warehouse(Box::new(crate::warehouse::session_in(ws, warehouse)?)),
        None => Engine::Workspace,
    };
    let counts = engine.counts(ws, &sql, tests, &bound)?;
    let count = counts[0];
    let mut outcomes = Vec::new();
    for (i, test) in tests.iter().enumerate() {
        let passed = counts[1 + 2 * i];
        let decided = counts[2 + 2 * i];
        let failed = decided.saturating_sub(passed);
        let inconclusive = count.saturating_sub(decided);
        let result = if failed > 0 {
            TestResult::Fail
        } else if inconclusive > 0 || count == 0 {
            TestResult::Inconclusive
        } else {
            TestResult::Pass
        };
        let failing_keys = if failed > 0 {
            engine.first_keys(ws, population, &sql, &format!("({}) = false", bound[i]))?
        } else {
            Vec::new()
        };
        let inconclusive_keys = if inconclusive > 0 {
            engine.first_keys(ws, population, &sql, &format!("({}) IS NULL", bound[i]))?
        } else {
            Vec::new()
        };
        outcomes.push(TestOutcome {
            name: test.name.clone(),
            expr: test.expr.clone(),
            passed,
            failed,
            inconclusive,
            result,
            failing_keys,
            inconclusive_keys,
        });
    }
    Ok(SpecOutcome {
        spec: population.spec.clone(),
        population: population.clone(),
        sql,
        count,
        tests: outcomes,
        occurrences: None,
    })
}

/// Where a population's tests run: in the workspace's DuckDB, or pushed
/// down to the warehouse its rows stay in (the tests are its SQL then).
enum Engine {
    Workspace,
    Warehouse(Box<crate::warehouse::Session>),
}

impl Engine {
    /// One scan: the row count, then per test the rows where it holds and
    /// the rows where it is not NULL (failed = decided - passed,
    /// inconclusive = rows - decided).
    fn counts(
        &self,
        ws: &Workspace,
        sql: &str,
        tests: &[AttributeTest],
        bound: &[String],
    ) -> Result<Vec<u64>, AuditError> {
        let mut aggregates = vec!["count(*)".to_string()];
        for expr in bound {
            aggregates.push(match self {
                // count_if and count evaluate the test once; FILTER clauses
                // cost half again as much in DuckDB.
                Self::Workspace => format!("coalesce(count_if(({expr})), 0)"),
                Self::Warehouse(_) => format!("count(*) FILTER (WHERE ({expr}))"),
            });
            aggregates.push(format!("count(({expr}))"));
        }
        let query = format!("SELECT {} FROM ({sql}) AS population", aggregates.join(", "));
        match self {
            Self::Workspace => {
                // Test expressions are mapping text: the whole query must still be one
                // read-only SELECT (duckdb-rs would run statements before the last one).
                ws.guard().select(&query).map_err(|refusal| refused(tests, refusal))?;
                // A mapping's test is bounded like any SQL a person wrote.
                bounded(ws, || {
                    ws.conn.query_row(&query, [], |row| (0..aggregates.len()).map(|i| row.get::<_, u64>(i)).collect())
                })
                .map_err(|e| match e {
                    QueryError::Database(e) => compile_error(tests, &e),
                    other => AuditError::Query(other),
                })
            }
            Self::Warehouse(session) => {
                let mut counts = Vec::new();
                session.run(&[crate::warehouse::Step::Rows(query)], &mut |_, fields| {
                    counts = fields.iter().map(|f| f.as_deref().and_then(|n| n.parse().ok()).unwrap_or(0)).collect();
                    Ok(())
                })?;
                if counts.len() != aggregates.len() {
                    return Err(AuditError::Refused(format!(
                        "warehouse `{}` returned {} count(s) of {}",
                        session.warehouse(),
                        counts.len(),
                        aggregates.len()
                    )));
                }
                Ok(counts)
            }
        }
    }

    fn first_keys(
        &self,
        ws: &Workspace,
        population: &Population,
        sql: &str,
        condition: &str,
    ) -> Result<Vec<String>, AuditError> {
        let order = std::iter::once(quote_ident(&population.period_column))
            .chain(population.key.iter().map(|k| quote_ident(k)))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!(
            "SELECT {} FROM ({sql}) AS population WHERE {condition} ORDER BY {order} LIMIT {SHOWN_KEYS}",
            population.key_sql()
        );
        match self {
            Self::Workspace => {
                ws.guard().select(&query).map_err(|refusal| AuditError::Refused(refusal.to_string()))?;
                let keys = bounded(ws, || {
                    let mut stmt = ws.conn.prepare(&query)?;
                    stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()
                })?;
                Ok(keys)
            }
            Self::Warehouse(session) => {
                let mut keys = Vec::new();
                session.run(&[crate::warehouse::Step::Rows(query)], &mut |_, fields| {
                    keys.push(fields.into_iter().next().flatten().unwrap_or_default());
                    Ok(())
                })?;
                Ok(keys)
            }
        }
    }
}

fn refused(tests: &[AttributeTest], refusal: crate::workspace::guard::Refusal) -> AuditError {
    let location = tests.first().map_or_else(|| "controls".to_string(), |t| t.location.to_string());
    AuditError::Refused(format!("{location}: {refusal}"))
}

fn compile_error(tests: &[AttributeTest], e: &duckdb::Error) -> AuditError {
    let location = tests
        .first()
        .map(|t| t.location.clone())
        .unwrap_or_else(|| crate::workspace::problems::Location::new(std::path::Path::new("controls"), 1, 1));
    AuditError::Population(PopulationError::Compile { location, message: duckdb_message(e) })
}
