//! The report's counts, one grouped scan per source and column: every
//! observe rule and every spec's coverage that reads the same column of the
//! same workspace source over its own timestamp is answered by one pass —
//! its `where` in the scan's WHERE when they all share it, else each
//! distinct `where` as a FILTER on its own aggregates. A source read once
//! costs one resolution, one guard and one scan instead of one each per
//! rule and spec.
//!
//! Where the sightings an ask needs were kept at ingest (kept.rs), they
//! answer it and nothing is scanned.
//!
//! Anything a shared scan cannot answer exactly — a warehouse source, a
//! population query, a spec with its own `period`, a `where` the combined
//! statement refuses or cannot bind — is answered alone, through its own
//! population, so its error names its own file and line.

use std::collections::BTreeMap;

use super::observe::{Seen, grouped, seen_rows};
use super::{InventoryError, kept};
use crate::workspace::Workspace;
use crate::workspace::mapping::Located;
use crate::workspace::period::Period;
use crate::workspace::population::{self, Population};
use crate::workspace::query::{QueryError, bounded};
use crate::workspace::sql::quote_ident;

/// One count the report needs: the values of `column` in a population.
pub struct Ask<'a> {
    /// The source and `where` it reads, when its population is exactly
    /// the source's rows (by the source's timestamp) that satisfy it.
    pub shares: Option<(&'a Located<String>, Option<&'a Located<String>>)>,
    pub column: &'a str,
    /// Its population on its own.
    pub alone: Box<dyn Fn() -> Result<Population, InventoryError> + 'a>,
}

/// Each ask's values in `period`, in the asks' order.
pub fn seen(ws: &Workspace, asks: &[Ask], period: &Period) -> Result<Vec<Vec<Seen>>, InventoryError> {
    let mut out: Vec<Option<Vec<Seen>>> = (0..asks.len()).map(|_| None).collect();
    let mut scans: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, ask) in asks.iter().enumerate() {
        let in_workspace = |name: &str| ws.config.source(name).is_some_and(|s| s.warehouse.is_none());
        match ask.shares {
            Some((source, filter)) if in_workspace(&source.value) => {
                let filter = filter.map(|f| f.value.as_str());
                match kept::lookup(ws, &source.value, ask.column, filter, period)? {
                    Some(values) => out[i] = Some(values),
                    None => scans.entry((source.value.as_str(), ask.column)).or_default().push(i),
                }
            }
            _ => out[i] = Some(grouped(ws, &(ask.alone)()?, ask.column, period)?),
        }
    }
    for members in scans.into_values() {
        let answered = match shared(ws, asks, &members, period)? {
            Some(answered) => answered,
            None => {
                let alone = |i: usize| grouped(ws, &(asks[i].alone)()?, asks[i].column, period);
                members.iter().map(|&i| alone(i)).collect::<Result<Vec<_>, _>>()?
            }
        };
        for (i, values) in members.into_iter().zip(answered) {
            out[i] = Some(values);
        }
    }
    Ok(out.into_iter().map(Option::unwrap_or_default).collect())
}

/// One scan answering every ask in `members` (same source and column), in
/// their order; `None` where the combined statement is refused or does not
/// bind. A scan stopped by the statement timeout is an error, not retried.
fn shared(
    ws: &Workspace,
    asks: &[Ask],
    members: &[usize],
    period: &Period,
) -> Result<Option<Vec<Vec<Seen>>>, InventoryError> {
    let Some(first) = members.first().map(|&i| &asks[i]) else { return Ok(Some(Vec::new())) };
    let Some((source, _)) = first.shares else { return Ok(None) };
    let owner = format!("inventory scan {}.{}", source.value, first.column);
    let population = population::of_source(ws, &owner, source, None)?;
    // Each distinct `where`, once; which one each ask reads.
    let mut filters: Vec<Option<&str>> = Vec::new();
    let reads: Vec<usize> = members
        .iter()
        .map(|&i| {
            let filter = asks[i].shares.and_then(|(_, f)| f).map(|f| f.value.as_str());
            filters.iter().position(|f| *f == filter).unwrap_or_else(|| {
                filters.push(filter);
                filters.len() - 1
            })
        })
        .collect();
    let instant = population.instant_sql();
    let column = quote_ident(first.column);
    // A `--` comment in a `where` ends at its line.
    let (common, filtered): (String, Vec<Option<&str>>) = match filters.as_slice() {
        [Some(only)] => (format!(" AND ({only}\n)"), vec![None]),
        _ => (String::new(), filters.clone()),
    };
    let aggregates: Vec<String> = filtered
        .iter()
        .map(|filter| {
            let when = filter.map_or(String::new(), |f| format!(" FILTER (WHERE ({f}\n))"));
            format!("epoch_us(min({instant}){when}), epoch_us(max({instant}){when}), count(*){when}")
        })
        .collect();
    let query = format!(
        "SELECT CAST({column} AS VARCHAR), {}\nFROM ({}) AS {}\nWHERE {} AND {column} IS NOT NULL{common}\nGROUP BY 1 ORDER BY 1",
        aggregates.join(", "),
        population.base_in(period),
        quote_ident(&source.value),
        population.in_period(period),
    );
    let reads_warehouse = |tables: &std::collections::BTreeSet<String>| {
        ws.config.sources.iter().any(|s| s.warehouse.is_some() && tables.contains(&s.name))
    };
    match ws.guard().tables_read(&query) {
        Ok(tables) if !reads_warehouse(&tables) => {}
        _ => return Ok(None),
    }
    let width = 1 + 3 * filtered.len();
    let rows = match bounded(ws, || {
        let mut stmt = ws.conn.prepare(&query)?;
        let mut rows = Vec::new();
        let mut result = stmt.query([])?;
        if result.as_ref().map(|s| s.column_count()) != Some(width) {
            return Ok(None);
        }
        while let Some(row) = result.next()? {
            let value: String = row.get(0)?;
            let counts = (0..filtered.len())
                .map(|k| {
                    Ok((
                        row.get::<_, Option<i64>>(1 + 3 * k)?,
                        row.get::<_, Option<i64>>(2 + 3 * k)?,
                        row.get::<_, u64>(3 + 3 * k)?,
                    ))
                })
                .collect::<duckdb::Result<Vec<_>>>()?;
            rows.push((value, counts));
        }
        Ok(Some(rows))
    }) {
        Ok(Some(rows)) => rows,
        // A statement that does not bind (a `where` that only works on its
        // own): each ask alone says which one, and where.
        Ok(None) | Err(QueryError::Database(_)) => return Ok(None),
        Err(stopped) => return Err(stopped.into()),
    };
    // Per distinct `where`: the values it saw.
    let per_filter: Vec<Vec<Seen>> = (0..filtered.len())
        .map(|k| {
            let mine = rows.iter().filter_map(|(value, counts)| match counts[k] {
                (Some(first), Some(last), n) if n > 0 => Some((value.clone(), first, last, n)),
                _ => None,
            });
            seen_rows(ws, &population, mine.collect())
        })
        .collect();
    let pick = |read: usize| if filtered.len() == 1 { 0 } else { read };
    Ok(Some(reads.into_iter().map(|read| per_filter[pick(read)].clone()).collect()))
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;

    use super::*;
    use crate::workspace::problems::Location;
    use crate::workspace::{Access, Workspace};

    const CONFIG: &str = r#"
[workspace]
name = "Scan test"
timezone = "America/New_York"

[[source]]
name = "deploys"
format = "csv"
path = "evidence/deploys.csv"
key = ["deploy_id"]
timestamp = "deployed_at"
"#;

    fn at(value: &str, line: usize) -> Located<String> {
        Located { value: value.to_string(), location: Location::new(Path::new("systems.toml"), line, 1) }
    }

    /// 900 deploys over Q3 2026 and beyond, of five services in three
    /// environments, some with no service.
    fn workspace(dir: &Path) -> Workspace {
        workspace_with(dir, "")
    }

    /// [`workspace`], with `systems` as its systems.toml when it is ingested.
    pub(in crate::workspace::inventory) fn workspace_with(dir: &Path, systems: &str) -> Workspace {
        std::fs::write(dir.join("quarterdeck.toml"), CONFIG).unwrap();
        std::fs::write(dir.join("systems.toml"), systems).unwrap();
        std::fs::create_dir_all(dir.join("evidence")).unwrap();
        let mut csv = String::from("deploy_id,deployed_at,environment,service\n");
        for i in 0..900u32 {
            let service = if i % 11 == 0 { String::new() } else { format!("svc-{}", i % 5) };
            let environment = ["production", "staging", "dev"][(i % 3) as usize];
            let at = chrono::NaiveDate::from_ymd_opt(2026, 6, 20).unwrap().and_hms_opt(0, 0, 0).unwrap()
                + chrono::Duration::minutes(i64::from(i) * 157);
            csv.push_str(&format!("d-{i},{},{environment},{service}\n", at.format("%Y-%m-%d %H:%M:%S")));
        }
        std::fs::write(dir.join("evidence/deploys.csv"), csv).unwrap();
        let ws = Workspace::open(dir, Access::ReadWrite).unwrap();
        crate::workspace::ingest::ingest_all(&ws).unwrap();
        ws
    }

    /// One ask per filter: the `service` values of `source`'s rows that pass it.
    fn services<'a>(
        ws: &'a Workspace,
        source: &'a Located<String>,
        filters: impl Iterator<Item = &'a Option<Located<String>>>,
    ) -> Vec<Ask<'a>> {
        filters
            .map(|filter| Ask {
                shares: Some((source, filter.as_ref())),
                column: "service",
                alone: Box::new(move || Ok(population::of_source(ws, "test", source, filter.as_ref())?)),
            })
            .collect()
    }

    #[test]
    fn a_shared_scan_answers_each_ask_as_its_own_population_would() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let period = Period::parse("2026-Q3", ws.config.timezone).unwrap();
        let source = at("deploys", 1);
        let filters = [
            None,
            Some(at("environment = 'production'", 2)),
            Some(at("environment = 'production'", 3)),
            // Qualified by the source's name.
            Some(at("deploys.environment <> 'dev'", 4)),
            Some(at("service IN ('svc-1', 'svc-2') AND environment = 'staging'", 5)),
        ];
        let asks = services(&ws, &source, filters.iter());
        // One scan answered them all (none fell back to its own).
        let all: Vec<usize> = (0..asks.len()).collect();
        assert!(super::shared(&ws, &asks, &all, &period).unwrap().is_some());
        let shared = seen(&ws, &asks, &period).unwrap();
        for (ask, answer) in asks.iter().zip(&shared) {
            let alone = grouped(&ws, &(ask.alone)().unwrap(), ask.column, &period).unwrap();
            assert!(!alone.is_empty());
            assert_eq!(*answer, alone, "{:?}", ask.shares.and_then(|(_, f)| f).map(|f| &f.value));
        }
        // Every filter alike: in the scan's WHERE, still each ask's answer.
        let same = [Some(at("environment = 'dev'", 6)), Some(at("environment = 'dev'", 7))];
        let asks = services(&ws, &source, same.iter());
        let shared = seen(&ws, &asks, &period).unwrap();
        let alone = grouped(&ws, &(asks[0].alone)().unwrap(), "service", &period).unwrap();
        assert_eq!(shared, [alone.clone(), alone]);
    }

    #[test]
    fn a_where_the_shared_scan_refuses_is_refused_at_its_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let period = Period::parse("2026-Q3", ws.config.timezone).unwrap();
        let source = at("deploys", 1);
        let filters = [
            Some(at("environment = 'production'", 2)),
            // Would close the FILTER and add a column of its own.
            Some(at("TRUE)), count(*) FILTER (WHERE (TRUE", 9)),
            Some(at("getenv('HOME') IS NOT NULL", 12)),
        ];
        for bad in &filters[1..] {
            let asks = services(&ws, &source, [&filters[0], bad].into_iter());
            assert!(super::shared(&ws, &asks, &[0, 1], &period).unwrap().is_none());
            let error = seen(&ws, &asks, &period).expect_err("refused").to_string();
            let line = bad.as_ref().unwrap().location.line;
            assert!(error.contains(&format!("systems.toml:{line}:")), "{error}");
        }
    }
}
