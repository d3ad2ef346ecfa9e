//! `quarterdeck check`: every mapping validated against the catalog and the
//! workspace's evidence, each problem at its file:line:col. Fit for a
//! pre-merge check: no evidence is read, only schemas and SQL compiled.

use std::collections::BTreeMap;

use super::Workspace;
use super::catalog::Catalog;
use super::documents;
use super::guard::Refusal;
use super::inventory;
use super::mapping::{Control, EvidenceSpec, Mappings};
use super::population::{self, Population, PopulationError, duckdb_message};
use super::problems::{Problem, did_you_mean};
use super::sql::quote_ident;

/// All problems of all mappings, sorted by file and line.
pub fn check(ws: &Workspace, catalog: &Catalog, mappings: &Mappings) -> Vec<Problem> {
    let mut problems = mappings.problems.clone();
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for control in &mappings.controls {
        if let Some(first) = seen.get(control.id.as_str()) {
            problems.push(Problem::error(
                control.location.clone(),
                format!("duplicate control id `{}` (first defined at {first})", control.id),
            ));
        } else {
            seen.insert(&control.id, control.location.to_string());
        }
        if control.criteria.is_empty() {
            problems.push(Problem::error(
                control.location.clone(),
                format!("control `{}` maps to no criterion", control.id),
            ));
        }
        for criterion in &control.criteria {
            if catalog.criterion(&criterion.value).is_none() {
                problems.push(Problem::error(
                    criterion.location.clone(),
                    format!(
                        "control `{}`: unknown criterion `{}`{}",
                        control.id,
                        criterion.value,
                        did_you_mean(&criterion.value, catalog.ids())
                    ),
                ));
            }
        }
        if control.evidence.is_empty() {
            problems.push(Problem::warning(
                control.location.clone(),
                format!("control `{}` has no evidence spec; it cannot be sampled or tested", control.id),
            ));
        }
        for spec in &control.evidence {
            let population = match population::resolve(ws, control, spec) {
                Ok(p) => p,
                Err(PopulationError::NotLoaded { location, name }) => {
                    problems.push(Problem::warning(
                        location,
                        format!(
                            "control `{}`, evidence `{}`: source `{name}` has never been loaded, so its columns and tests cannot be checked",
                            control.id, spec.name
                        ),
                    ));
                    continue;
                }
                Err(PopulationError::Required { location, field: "period" }) if spec.schedule.is_some() => {
                    let at = spec.schedule.as_ref().map_or(location, |s| s.location.clone());
                    problems.push(Problem::error(
                        at,
                        format!(
                            "control `{}`, evidence `{}`: field `expect` needs a period column: give `period`, the column whose time places a row in a slot",
                            control.id, spec.name
                        ),
                    ));
                    continue;
                }
                Err(e) => {
                    problems.push(problem_of(&control.id, &spec.name, e));
                    continue;
                }
            };
            problems.extend(system_columns(control, spec, &population));
            if population.warehouse.is_some() {
                problems.extend(crate::warehouse::compile::problems(ws, control, spec, &population));
                continue;
            }
            for test in &spec.tests {
                let (population_sql, test_sql) = population.probe_sql(Some(test));
                let sql = format!(
                    "SELECT ({}) AS {} FROM ({population_sql}) AS population",
                    test_sql.unwrap_or_else(|| test.expr.clone()),
                    quote_ident(&test.name),
                );
                let prefix = format!("control `{}`, evidence `{}`, test `{}`", control.id, spec.name, test.name);
                if let Err(refusal) = ws.guard().select(&sql) {
                    let message = match refusal {
                        Refusal::MultiStatement(_) | Refusal::NotSelect(_) => {
                            "the test must be one SQL boolean expression".to_string()
                        }
                        other => other.to_string(),
                    };
                    problems.push(Problem::error(test.location.clone(), format!("{prefix}: {message}")));
                    continue;
                }
                match population::describe(&ws.conn, &sql) {
                    Ok(columns) => {
                        let kind = columns.first().map(|(_, t)| t.as_str()).unwrap_or("nothing");
                        if columns.len() != 1 || kind != "BOOLEAN" {
                            problems.push(Problem::error(
                                test.location.clone(),
                                format!("{prefix}: `{}` is {kind}, not a boolean", test.expr),
                            ));
                        }
                    }
                    Err(e) => problems
                        .push(Problem::error(test.location.clone(), format!("{prefix}: {}", duckdb_message(&e)))),
                }
            }
        }
    }
    let inventory = inventory::Inventory::load(&ws.root);
    problems.extend(inventory::check::check(ws, &inventory, mappings));
    let register = documents::Register::load(&ws.root);
    problems.extend(documents::check(&ws.root, &register, mappings));
    if let Some(stale) = documents::stale_table(&ws.conn, &register) {
        problems.push(stale);
    }
    problems.sort();
    problems
}

/// The columns `system` and `per` name must be columns of the population.
fn system_columns(control: &Control, spec: &EvidenceSpec, population: &Population) -> Vec<Problem> {
    let mut named: Vec<(&str, &str, &crate::workspace::problems::Location)> = Vec::new();
    if let Some(system) = &spec.system {
        named.push(("system", &system.value, &system.location));
    }
    if let Some(schedule) = &spec.schedule {
        named.extend(schedule.per.value.iter().map(|c| ("per", c.as_str(), &schedule.per.location)));
    }
    named
        .into_iter()
        .filter(|(_, column, _)| population.column_type(column).is_none())
        .map(|(field, column, location)| {
            Problem::error(
                location.clone(),
                format!(
                    "control `{}`, evidence `{}`: field `{field}`: no column `{column}` in the population{}",
                    control.id,
                    spec.name,
                    did_you_mean(column, population.columns.iter().map(|(c, _)| c.as_str()))
                ),
            )
        })
        .collect()
}

fn problem_of(control: &str, spec: &str, e: PopulationError) -> Problem {
    use PopulationError as P;
    let prefix = format!("control `{control}`, evidence `{spec}`");
    match e {
        P::UnknownSource { location, name, hint } => {
            Problem::error(location, format!("{prefix}: unknown source `{name}`{hint}"))
        }
        P::NotLoaded { location, name } => {
            Problem::warning(location, format!("{prefix}: source `{name}` has never been loaded"))
        }
        P::Refused { location, refusal } => {
            let message = match refusal {
                Refusal::MultiStatement(_) | Refusal::NotSelect(_) => {
                    format!("the population must be a single SELECT: {refusal}")
                }
                other => other.to_string(),
            };
            Problem::error(location, format!("{prefix}: {message}"))
        }
        P::Compile { location, message } => Problem::error(location, format!("{prefix}: {message}")),
        P::Required { location, field } => {
            Problem::error(location, format!("{prefix}: field `{field}` is required when the population is a SELECT"))
        }
        P::UnknownColumn { location, field, column, hint } => {
            Problem::error(location, format!("{prefix}: field `{field}`: no column `{column}` in the population{hint}"))
        }
        P::PeriodType { location, column, found } => Problem::error(
            location,
            format!("{prefix}: field `period`: column `{column}` is {found}, not a timestamp or date"),
        ),
    }
}
