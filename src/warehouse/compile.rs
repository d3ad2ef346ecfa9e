//! `check` for a population that stays in a warehouse: its SQL (the
//! relation, the filter) and each attribute test are that engine's, so they
//! are compiled there (`EXPLAIN`, nothing run), each on its own, and every
//! error is a problem at the mapping's `file:line:col`.

use crate::workspace::Workspace;
use crate::workspace::mapping::{Control, EvidenceSpec};
use crate::workspace::population::{Population, population_location};
use crate::workspace::problems::Problem;

pub fn problems(ws: &Workspace, control: &Control, spec: &EvidenceSpec, population: &Population) -> Vec<Problem> {
    let prefix = format!("control `{}`, evidence `{}`", control.id, spec.name);
    let warehouse = population.warehouse.clone().unwrap_or_default();
    let session = match super::session(&ws.config, &warehouse) {
        Ok(session) => session,
        Err(e @ super::WarehouseError::NoUrl { .. }) => {
            return vec![Problem::warning(
                population_location(spec).clone(),
                format!("{prefix}: its SQL and tests were not compiled in warehouse `{warehouse}`: {e}"),
            )];
        }
        Err(e) => return vec![Problem::error(population_location(spec).clone(), format!("{prefix}: {e}"))],
    };
    let (population_sql, _) = population.probe_sql(None);
    let mut statements = vec![format!("SELECT 1 FROM ({population_sql}) AS population")];
    for test in &spec.tests {
        let (_, test_sql) = population.probe_sql(Some(test));
        // WHERE takes a boolean only: a test of another type is an error there.
        statements.push(format!(
            "SELECT 1 FROM ({population_sql}) AS population WHERE ({})",
            test_sql.unwrap_or_else(|| test.expr.clone())
        ));
    }
    match session.compile(&statements) {
        Ok(errors) => {
            let mut out = Vec::new();
            let mut errors = errors.into_iter();
            if let Some(Some(message)) = errors.next() {
                // The tests cannot compile over a population that does not.
                return vec![Problem::error(
                    population_location(spec).clone(),
                    format!("{prefix}: in warehouse `{warehouse}`: {message}"),
                )];
            }
            for (test, error) in spec.tests.iter().zip(errors) {
                if let Some(message) = error {
                    out.push(Problem::error(
                        test.location.clone(),
                        format!("{prefix}, test `{}`: in warehouse `{warehouse}`: {message}", test.name),
                    ));
                }
            }
            out
        }
        Err(e) => vec![Problem::error(population_location(spec).clone(), format!("{prefix}: {e}"))],
    }
}
