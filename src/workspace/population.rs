//! From an evidence spec to the exact SQL of its population in a period:
//! period bounds written in as literals, so the text runs as-is in the DuckDB
//! CLI against workspace.duckdb and returns exactly the population.

use duckdb::Connection;

use super::Workspace;
use super::bounds::PeriodText;
use super::config::SourceConfig;
use super::documents;
use super::guard::Refusal;
use super::mapping::{AttributeTest, Control, EvidenceSpec, Located, PopulationDef};
use super::period::Period;
use super::problems::{Location, did_you_mean};
use super::sql::{quote_ident, quote_literal};

#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    #[error("{location}: unknown source `{name}`{hint}")]
    UnknownSource { location: Location, name: String, hint: String },
    #[error("{location}: source `{name}` has never been loaded (ingest it first)")]
    NotLoaded { location: Location, name: String },
    #[error("{location}: {refusal}")]
    Refused { location: Location, refusal: Refusal },
    #[error("{location}: {message}")]
    Compile { location: Location, message: String },
    #[error("{location}: field `{field}` is required when the population is a SELECT")]
    Required { location: Location, field: &'static str },
    #[error("{location}: field `{field}`: no column `{column}` in the population{hint}")]
    UnknownColumn { location: Location, field: &'static str, column: String, hint: String },
    #[error("{location}: field `period`: column `{column}` is {found}, not a timestamp or date")]
    PeriodType { location: Location, column: String, found: String },
}

crate::error::kind!(BadInput: PopulationError);

/// A spec's population, resolved against the workspace.
#[derive(Debug, Clone)]
pub struct Population {
    pub control: String,
    pub spec: String,
    /// The spec's rows without the period bound, as written (any
    /// `period_start`/`period_end` in it not yet bound).
    pub base_sql: String,
    base: PeriodText,
    /// Each test's expression, by test name, to be bound to a period.
    tests: Vec<(String, PeriodText)>,
    /// A row is in the period when this column is inside it — or, with
    /// `period_until`, when `[period_column, period_until)` overlaps it.
    pub period_column: String,
    /// The column where a row stops being in force (NULL: still in force).
    pub period_until: Option<String>,
    pub key: Vec<String>,
    /// Column names and DuckDB types, in order.
    pub columns: Vec<(String, String)>,
    /// The warehouse the rows stay in (None: they are in the workspace);
    /// then `base_sql` and the tests are that engine's SQL.
    pub warehouse: Option<String>,
    /// The source a `source = …` spec reads (None for a population query).
    pub source_name: Option<String>,
}

impl Population {
    /// The population of the period, as SQL text with literal bounds.
    pub fn sql(&self, period: &Period) -> String {
        let (start, end) = self.period_literals(period);
        self.sql_between(&start, &end)
    }

    fn sql_between(&self, start: &str, end: &str) -> String {
        format!(
            "SELECT * FROM ({}) AS population\nWHERE {}",
            self.base.bind(start, end),
            self.in_period_between(start, end)
        )
    }

    /// Whether the spec's rows (before the period bound) depend on the
    /// period: its SQL names `period_start` or `period_end`.
    pub fn base_names_the_period(&self) -> bool {
        self.base.names_the_period()
    }

    /// The spec's rows without the period bound, bounds bound to `period`.
    pub fn base_in(&self, period: &Period) -> String {
        let (start, end) = self.period_literals(period);
        self.base.bind(&start, &end)
    }

    /// The condition that puts a row in `period` (over the population's columns).
    pub fn in_period(&self, period: &Period) -> String {
        let (start, end) = self.period_literals(period);
        self.in_period_between(&start, &end)
    }

    fn in_period_between(&self, start: &str, end: &str) -> String {
        let column = quote_ident(&self.period_column);
        match &self.period_until {
            None => format!("{column} >= {start} AND {column} < {end}"),
            Some(until) => {
                let until = quote_ident(until);
                format!("{column} < {end} AND ({until} IS NULL OR {until} > {start})")
            }
        }
    }

    /// The rows whose period column falls in `window` — points in time, even
    /// for a source in force over an interval — with `period_start` and
    /// `period_end` bound to `period`: the rows that can fill a slot.
    pub fn events_sql(&self, period: &Period, window: &Period) -> String {
        let (start, end) = self.period_literals(period);
        let (from, to) = self.period_literals(window);
        let column = quote_ident(&self.period_column);
        format!(
            "SELECT * FROM ({}) AS population\nWHERE {column} >= {from} AND {column} < {to}",
            self.base.bind(&start, &end)
        )
    }

    /// The period column as an instant: a DATE is its local midnight's
    /// date (a TIMESTAMP at 00:00), the rest as they are.
    pub fn instant_sql(&self) -> String {
        let column = quote_ident(&self.period_column);
        match self.column_type(&self.period_column) {
            Some("DATE") => format!("CAST({column} AS TIMESTAMP)"),
            _ => column,
        }
    }

    /// A test's expression for the period: its `period_start` and
    /// `period_end` written in as the period's literals.
    pub fn test_sql(&self, test: &AttributeTest, period: &Period) -> String {
        let (start, end) = self.period_literals(period);
        self.test_between(test, &start, &end)
    }

    fn test_between(&self, test: &AttributeTest, start: &str, end: &str) -> String {
        self.tests
            .iter()
            .find(|(name, _)| *name == test.name)
            .map_or_else(|| test.expr.clone(), |(_, text)| text.bind(start, end))
    }

    /// The population and a test over it as SQL that compiles without a
    /// period (for `check`): the bounds are placeholders of their type.
    pub fn probe_sql(&self, test: Option<&AttributeTest>) -> (String, Option<String>) {
        let (start, end) = probe_literals();
        (self.sql_between(&start, &end), test.map(|t| self.test_between(t, &start, &end)))
    }

    fn period_literals(&self, period: &Period) -> (String, String) {
        let kind = self.column_type(&self.period_column).unwrap_or("TIMESTAMP");
        let stamp = |t: chrono::DateTime<chrono::Utc>| t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
        match kind {
            "DATE" => (
                format!("DATE {}", quote_literal(&period.start_date.to_string())),
                format!("DATE {}", quote_literal(&period.end_date.to_string())),
            ),
            "TIMESTAMP WITH TIME ZONE" => (
                format!("TIMESTAMPTZ {}", quote_literal(&format!("{}+00", stamp(period.start)))),
                format!("TIMESTAMPTZ {}", quote_literal(&format!("{}+00", stamp(period.end)))),
            ),
            _ => (
                format!("TIMESTAMP {}", quote_literal(&stamp(period.start))),
                format!("TIMESTAMP {}", quote_literal(&stamp(period.end))),
            ),
        }
    }

    pub fn column_type(&self, name: &str) -> Option<&str> {
        self.columns.iter().find(|(c, _)| c == name).map(|(_, t)| t.as_str())
    }

    /// The canonical key of a row: each key column as VARCHAR, NULL as '',
    /// joined with U+001F (the unit separator).
    pub fn key_sql(&self) -> String {
        key_sql(&self.key)
    }
}

/// The canonical key of a row over these key columns (see [`Population::key_sql`]).
pub fn key_sql(columns: &[String]) -> String {
    columns
        .iter()
        .map(|k| format!("coalesce(CAST({} AS VARCHAR), '')", quote_ident(k)))
        .collect::<Vec<_>>()
        .join(" || chr(31) || ")
}

/// What a spec over a source takes from it unless it says otherwise.
struct SourceDefaults {
    name: String,
    key: Vec<String>,
    timestamp: String,
    until: Option<String>,
}

impl SourceDefaults {
    fn of(source: &SourceConfig) -> Self {
        Self { name: source.name.clone(), key: source.key.clone(), timestamp: source.timestamp.clone(), until: None }
    }

    /// The document register's table: a version is in a period while it is
    /// in force, from its effective date until the next version's.
    fn documents() -> Self {
        Self {
            name: documents::SOURCE.into(),
            key: documents::KEY.iter().map(|k| k.to_string()).collect(),
            timestamp: documents::EFFECTIVE.into(),
            until: Some(documents::SUPERSEDED.into()),
        }
    }
}

/// Stand-ins for the period's bounds where SQL is compiled, not run.
fn probe_literals() -> (String, String) {
    ("TIMESTAMP '2000-01-01 00:00:00'".into(), "TIMESTAMP '2000-04-01 00:00:00'".into())
}

/// The spec's rows as SQL, before the period bound.
pub fn base_sql(spec: &EvidenceSpec) -> String {
    match &spec.population {
        PopulationDef::Source { source, filter: None } => format!("SELECT * FROM {}", quote_ident(&source.value)),
        PopulationDef::Source { source, filter: Some(filter) } => {
            format!("SELECT * FROM {} WHERE ({})", quote_ident(&source.value), filter.value)
        }
        PopulationDef::Query(query) => query.value.trim().trim_end_matches(';').trim().to_string(),
    }
}

/// Where to point when the population SQL itself is wrong.
pub fn population_location(spec: &EvidenceSpec) -> &Location {
    match &spec.population {
        PopulationDef::Source { filter: Some(filter), .. } => &filter.location,
        PopulationDef::Source { source, .. } => &source.location,
        PopulationDef::Query(query) => &query.location,
    }
}

/// Resolves a spec: its source, SQL, columns, period column and key.
pub fn resolve(ws: &Workspace, control: &Control, spec: &EvidenceSpec) -> Result<Population, PopulationError> {
    resolve_for(ws, &control.id, spec)
}

/// A source's rows, optionally filtered, as a population of its own: how the
/// inventory's `observe` rules read the evidence. `owner` names the rule.
pub fn of_source(
    ws: &Workspace,
    owner: &str,
    source: &Located<String>,
    filter: Option<&Located<String>>,
) -> Result<Population, PopulationError> {
    let spec = EvidenceSpec {
        name: owner.to_string(),
        population: PopulationDef::Source { source: source.clone(), filter: filter.cloned() },
        period: None,
        key: None,
        sample: None,
        tests: Vec::new(),
        applies_to: None,
        system: None,
        schedule: None,
        location: source.location.clone(),
    };
    resolve_for(ws, owner, &spec)
}

fn resolve_for(ws: &Workspace, control: &str, spec: &EvidenceSpec) -> Result<Population, PopulationError> {
    let (conn, config) = (&ws.conn, &ws.config);
    let placed = match &spec.population {
        PopulationDef::Source { source, .. } => config.source(&source.value).filter(|s| s.warehouse.is_some()),
        PopulationDef::Query(_) => None,
    };
    let source = match &spec.population {
        PopulationDef::Source { source, .. } => {
            let defaults = if source.value == documents::SOURCE {
                SourceDefaults::documents()
            } else {
                let declared = config.source(&source.value).ok_or_else(|| PopulationError::UnknownSource {
                    location: source.location.clone(),
                    name: source.value.clone(),
                    hint: did_you_mean(&source.value, config.source_names().chain([documents::SOURCE])),
                })?;
                SourceDefaults::of(declared)
            };
            let loaded = ws.guard().has_relation(&defaults.name).map_err(|refusal| PopulationError::Compile {
                location: source.location.clone(),
                message: refusal.to_string(),
            })?;
            if !loaded {
                return Err(PopulationError::NotLoaded { location: source.location.clone(), name: defaults.name });
            }
            Some(defaults)
        }
        PopulationDef::Query(_) => None,
    };
    let location = population_location(spec);
    let (base, columns) = match placed {
        // The engine's SQL: its relation, the filter as written for it; the
        // columns are the workspace's stand-in's.
        Some(declared) => {
            let relation = crate::warehouse::relation_sql(declared).unwrap_or_default();
            let mut base = format!("SELECT * FROM ({relation}) AS {}", quote_ident(&declared.name));
            if let PopulationDef::Source { filter: Some(filter), .. } = &spec.population {
                base.push_str(&format!(" WHERE ({})", filter.value));
            }
            let columns = describe(conn, &format!("SELECT * FROM {}", quote_ident(&declared.name)))
                .map_err(|e| compile_error(location, &e))?;
            (base, Some(columns))
        }
        None => (base_sql(spec), None),
    };
    if placed.is_none() {
        ws.guard().select(&base).map_err(|refusal| match refusal {
            Refusal::UnknownTable(name) if config.source(&name).is_some() || name == documents::SOURCE => {
                PopulationError::NotLoaded { location: location.clone(), name }
            }
            refusal => PopulationError::Refused { location: location.clone(), refusal },
        })?;
        refuse_warehouse_reads(ws, &base, location)?;
    }
    let base_text = PeriodText::statement(conn, &base);
    let (start, end) = probe_literals();
    let columns = match columns {
        Some(columns) => columns,
        None => describe(conn, &base_text.bind(&start, &end)).map_err(|e| compile_error(location, &e))?,
    };
    let names = || columns.iter().map(|(c, _)| c.as_str());

    let (period_column, period_location, period_until) = match (&spec.period, &source) {
        (Some(p), _) => (p.value.clone(), p.location.clone(), None),
        (None, Some(s)) => (s.timestamp.clone(), spec.location.clone(), s.until.clone()),
        (None, None) => return Err(PopulationError::Required { location: spec.location.clone(), field: "period" }),
    };
    match columns.iter().find(|(c, _)| *c == period_column) {
        None => {
            return Err(PopulationError::UnknownColumn {
                location: period_location,
                field: "period",
                hint: did_you_mean(&period_column, names()),
                column: period_column,
            });
        }
        Some((_, kind)) if !(kind.starts_with("TIMESTAMP") || kind == "DATE") => {
            return Err(PopulationError::PeriodType {
                location: period_location,
                column: period_column,
                found: kind.clone(),
            });
        }
        Some(_) => {}
    }
    let (key, key_location) = match (&spec.key, &source) {
        (Some(k), _) => (k.value.clone(), k.location.clone()),
        (None, Some(s)) => (s.key.clone(), spec.location.clone()),
        (None, None) => return Err(PopulationError::Required { location: spec.location.clone(), field: "key" }),
    };
    if key.is_empty() {
        return Err(PopulationError::Required { location: key_location, field: "key" });
    }
    for column in &key {
        if !names().any(|c| c == column) {
            return Err(PopulationError::UnknownColumn {
                location: key_location,
                field: "key",
                column: column.clone(),
                hint: did_you_mean(column, names()),
            });
        }
    }
    if let Some(declared) = placed {
        refuse_key_types(ws, declared, &key, &key_location)?;
    }
    let tests = spec.tests.iter().map(|t| (t.name.clone(), PeriodText::expression(conn, &t.expr))).collect();
    Ok(Population {
        control: control.to_string(),
        spec: spec.name.clone(),
        base_sql: base,
        base: base_text,
        tests,
        period_column,
        period_until,
        key,
        columns,
        warehouse: placed.and_then(|s| s.warehouse.as_ref()).map(|w| w.warehouse.clone()),
        source_name: match &spec.population {
            PopulationDef::Source { source, .. } => Some(source.value.clone()),
            PopulationDef::Query(_) => None,
        },
    })
}

/// A key column of a type that does not render alike in the engine and in
/// DuckDB is refused (columns/types as of the source's last refresh).
fn refuse_key_types(
    ws: &Workspace,
    declared: &SourceConfig,
    key: &[String],
    location: &Location,
) -> Result<(), PopulationError> {
    let recorded = crate::warehouse::recorded(ws, &declared.name).map_err(|e| compile_error(location, &e))?;
    let Some(recorded) = recorded else { return Ok(()) };
    let dialect = crate::warehouse::Dialect::named(&recorded.kind);
    for column in key {
        let Some(found) = recorded.columns.iter().find(|c| c.name == *column) else { continue };
        if let Some(reason) = crate::warehouse::columns::key_refusal_in(dialect, &found.engine_type) {
            return Err(PopulationError::Compile {
                location: location.clone(),
                message: format!(
                    "field `key`: column `{column}` of warehouse source `{}` is {} there, which cannot be a key: {reason}; render it as text in the source's `query` (e.g. `{} AS {column}_text`) and key on that",
                    declared.name,
                    found.engine_type,
                    match dialect {
                        crate::warehouse::Dialect::Trino => "format_datetime(…)",
                        crate::warehouse::Dialect::Postgres => "to_char(…)",
                    }
                ),
            });
        }
    }
    Ok(())
}

/// A population query runs in the workspace, so it cannot read a source
/// whose rows stay in a warehouse (its stand-in would fail at run time).
fn refuse_warehouse_reads(ws: &Workspace, sql: &str, location: &Location) -> Result<(), PopulationError> {
    if ws.config.warehouses.is_empty() {
        return Ok(());
    }
    let Ok(tables) = ws.guard().tables_read(sql) else { return Ok(()) };
    match ws.config.sources.iter().find(|s| s.warehouse.is_some() && tables.contains(&s.name)) {
        Some(source) => Err(PopulationError::Compile {
            location: location.clone(),
            message: format!(
                "this query reads `{}`, whose rows stay in warehouse `{}`; a population over it is `source = \"{}\"` (with a `filter` in that engine's SQL), or a `query` on the source in quarterdeck.toml",
                source.name,
                source.warehouse.as_ref().map_or("", |w| w.warehouse.as_str()),
                source.name
            ),
        }),
        None => Ok(()),
    }
}

/// Column names and types of a query, without running it.
pub fn describe(conn: &Connection, sql: &str) -> duckdb::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(&format!("DESCRIBE {sql}"))?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
}

fn compile_error(location: &Location, e: &duckdb::Error) -> PopulationError {
    PopulationError::Compile { location: location.clone(), message: duckdb_message(e) }
}

/// DuckDB's message on one line: the error and its hint, without the caret art.
pub fn duckdb_message(e: &duckdb::Error) -> String {
    let text = e.to_string();
    let mut lines =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("LINE ") && !l.starts_with('^'));
    lines.next().unwrap_or_default().to_string()
}
