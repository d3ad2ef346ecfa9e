//! Where the evidence shows systems: each `[[observe]]` rule read over the
//! period in one grouped scan of its source — every value of the column with
//! its first and last time seen and its row count.

use chrono::{DateTime, Utc};

use super::{Inventory, InventoryError, ObserveRule, scan};
use crate::workspace::Workspace;
use crate::workspace::calendar::local_midnight;
use crate::workspace::period::Period;
use crate::workspace::population::{self, Population};
use crate::workspace::query::bounded;
use crate::workspace::sql::quote_ident;

/// One value an observe rule saw in the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sighting {
    /// `deploys.service`: the rule that saw it.
    pub rule: String,
    pub source: String,
    /// The value as the evidence spells it.
    pub value: String,
    /// The system id it names (the value, or the rule's `map` of it).
    pub system: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub rows: u64,
}

/// Every value every rule saw in the period, by rule then value.
pub fn sightings(ws: &Workspace, inventory: &Inventory, period: &Period) -> Result<Vec<Sighting>, InventoryError> {
    let asks = asks(ws, inventory);
    Ok(sightings_of(inventory, scan::seen(ws, &asks, period)?))
}

/// What each rule asks of the evidence, in the rules' order.
pub(super) fn asks<'a>(ws: &'a Workspace, inventory: &'a Inventory) -> Vec<scan::Ask<'a>> {
    inventory
        .observe
        .iter()
        .map(|rule| scan::Ask {
            shares: Some((&rule.source, rule.filter.as_ref())),
            column: &rule.column.value,
            alone: Box::new(move || rule_population(ws, rule)),
        })
        .collect()
}

/// The rules' sightings from what their asks saw (in the rules' order).
pub(super) fn sightings_of(inventory: &Inventory, seen: Vec<Vec<Seen>>) -> Vec<Sighting> {
    let mut all = Vec::new();
    for (rule, values) in inventory.observe.iter().zip(seen) {
        all.extend(values.into_iter().map(|seen| Sighting {
            rule: rule.name(),
            source: rule.source.value.clone(),
            system: inventory.resolve(rule, &seen.value).to_string(),
            value: seen.value,
            first_seen: seen.first,
            last_seen: seen.last,
            rows: seen.rows,
        }));
    }
    all
}

/// A rule's rows as a population (its source, its `where`), resolved and
/// guarded like a mapping's.
pub fn rule_population(ws: &Workspace, rule: &ObserveRule) -> Result<Population, InventoryError> {
    let owner = format!("observe {}", rule.name());
    Ok(population::of_source(ws, &owner, &rule.source, rule.filter.as_ref())?)
}

/// One value of a column in a period: when first and last seen, how often.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub value: String,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub rows: u64,
}

/// Each non-NULL value of `column` in the population's period rows: first
/// and last instant, row count. One scan, grouped by the value.
pub fn grouped(
    ws: &Workspace,
    population: &Population,
    column: &str,
    period: &Period,
) -> Result<Vec<Seen>, InventoryError> {
    let instant = population.instant_sql();
    let column = quote_ident(column);
    let rows = match &population.warehouse {
        // There, in its SQL: epochs in microseconds, sorted byte-wise like DuckDB.
        Some(warehouse) => {
            let session = crate::warehouse::session_in(ws, warehouse)?;
            let dialect = session.dialect();
            let epoch =
                |f: &str| format!("CAST({} * 1000000 AS BIGINT)", dialect.epoch_seconds(&format!("{f}({instant})")));
            let query = format!(
                "SELECT CAST({column} AS VARCHAR), {}, {}, count(*) FROM ({}) AS population \
                 WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY {}",
                epoch("min"),
                epoch("max"),
                population.sql(period),
                dialect.binary(&format!("CAST({column} AS VARCHAR)"))
            );
            let mut rows = Vec::new();
            session.run(&[crate::warehouse::Step::Rows(query)], &mut |_, fields| {
                let number =
                    |f: Option<&Option<String>>| f.cloned().flatten().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
                let value = fields.first().cloned().flatten().unwrap_or_default();
                rows.push((value, number(fields.get(1)), number(fields.get(2)), number(fields.get(3)).max(0) as u64));
                Ok(())
            })?;
            rows
        }
        None => {
            let query = format!(
                "SELECT CAST({column} AS VARCHAR), epoch_us(min({instant})), epoch_us(max({instant})), count(*)\n\
                 FROM ({}) AS population WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY 1",
                population.sql(period)
            );
            ws.guard().select(&query).map_err(|refusal| InventoryError::Refused(refusal.to_string()))?;
            bounded(ws, || {
                let mut stmt = ws.conn.prepare(&query)?;
                stmt.query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, u64>(3)?))
                })?
                .collect::<Result<Vec<_>, _>>()
            })?
        }
    };
    Ok(seen_rows(ws, population, rows))
}

/// Grouped rows (value, first and last instant in UTC microseconds, rows)
/// as sightings; a DATE is a local date, its instant its local midnight.
pub(super) fn seen_rows(ws: &Workspace, population: &Population, rows: Vec<(String, i64, i64, u64)>) -> Vec<Seen> {
    let is_date = population.column_type(&population.period_column) == Some("DATE");
    let tz = ws.config.timezone;
    let instant_of = |micros: i64| {
        let t = DateTime::from_timestamp_micros(micros).unwrap_or_default();
        if is_date { local_midnight(t.date_naive(), tz) } else { t }
    };
    rows.into_iter()
        .map(|(value, first, last, rows)| Seen { value, first: instant_of(first), last: instant_of(last), rows })
        .collect()
}
