//! Rows of an audit's population that a finding names though no sample drew
//! them. A full-population test finds exactly the rows an auditor asks about,
//! and they are rarely the sampled ones. A key is checked against the
//! population each current sample of the control was drawn from — its frozen
//! SQL and key columns, so the period and the mapping are the audit's — and
//! the row is kept as it was found.

use serde_json::{Map, Value as Json};

use super::sampling::key::{SHOWN_SEPARATOR, SampleKey};
use super::sampling::store;
use super::{AuditError, record};
use crate::workspace::Workspace;
use crate::workspace::population::key_sql;
use crate::workspace::query::bounded;
use crate::workspace::sql::quote_literal;
use crate::workspace::values::{readable_sql, to_json};

/// A population row a finding names.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationRow {
    /// The sample whose population holds the row.
    pub sample_id: i64,
    pub spec: String,
    pub key: SampleKey,
    /// The row's columns as they were when the finding named it.
    pub row: Map<String, Json>,
}

/// The name the key column takes while a row is looked up.
const KEY_COLUMN: &str = "__quarterdeck_key";

/// The rows of the audit's population of `control` whose key is `typed`
/// (its canonical or its display form), searched in every spec's
/// population. A canonical key names its row in each spec whose population
/// holds it (two specs over one source share rows); a display form that
/// names two different keys is refused rather than guessed.
pub fn find_population_rows(
    ws: &Workspace,
    audit: &str,
    control: &str,
    typed: &str,
) -> Result<Vec<PopulationRow>, AuditError> {
    let mut found: Vec<PopulationRow> = Vec::new();
    for (sample_id, _, spec) in record::sample_ids(&ws.conn, audit)?.into_iter().filter(|(_, c, _)| c == control) {
        let Some(sample) = store::load(ws, sample_id)? else { continue };
        found.extend(rows_with_key(ws, sample_id, &spec, &sample.sql, &sample.key_columns, typed)?);
    }
    // An exact canonical match wins over display-form matches.
    if found.iter().any(|r| r.key == *typed) {
        found.retain(|r| r.key == *typed);
        return Ok(found);
    }
    let mut keys: Vec<&SampleKey> = found.iter().map(|r| &r.key).collect();
    keys.sort();
    keys.dedup();
    match keys.as_slice() {
        [] => Err(AuditError::NotInPopulation {
            audit: audit.to_string(),
            control: control.to_string(),
            key: typed.to_string(),
        }),
        [_] => Ok(found),
        [first, second, ..] => Err(AuditError::AmbiguousKey {
            typed: typed.to_string(),
            first: (*first).clone(),
            second: (*second).clone(),
        }),
    }
}

/// At most two rows of one spec's population whose key reads as `typed`
/// (a key identifies one row: the draw refuses duplicate keys).
fn rows_with_key(
    ws: &Workspace,
    sample_id: i64,
    spec: &str,
    sql: &str,
    columns: &[String],
    typed: &str,
) -> Result<Vec<PopulationRow>, AuditError> {
    let select = format!("SELECT {} AS {KEY_COLUMN}, * FROM ({sql}) AS population", key_sql(columns));
    // The population is mapping text frozen with the sample: still one read-only SELECT.
    ws.guard().select(&select).map_err(|refusal| AuditError::Refused(refusal.to_string()))?;
    let readable = readable_sql(&ws.conn, &select)?;
    let shown = quote_literal(SHOWN_SEPARATOR);
    let query = format!(
        "SELECT * FROM ({readable}) AS found
         WHERE {KEY_COLUMN} = ? OR replace({KEY_COLUMN}, chr(31), {shown}) = ?
         ORDER BY {KEY_COLUMN} = ? DESC, {KEY_COLUMN} LIMIT 2"
    );
    let rows = bounded(ws, || {
        let mut stmt = ws.conn.prepare(&query)?;
        let mut result = stmt.query(duckdb::params![typed, typed, typed])?;
        let mut values = Vec::new();
        while let Some(row) = result.next()? {
            let width = row.as_ref().column_count();
            values.push((0..width).map(|i| row.get::<_, duckdb::types::Value>(i)).collect::<Result<Vec<_>, _>>()?);
        }
        drop(result);
        Ok((stmt.column_names(), values))
    })?;
    let (names, values) = rows;
    Ok(values
        .into_iter()
        .filter_map(|row| {
            let mut row = row.into_iter();
            let Some(Json::String(key)) = row.next().map(to_json) else { return None };
            let columns = names.iter().skip(1).cloned().zip(row.map(to_json)).collect();
            Some(PopulationRow { sample_id, spec: spec.to_string(), key: SampleKey::canonical(key), row: columns })
        })
        .collect())
}
