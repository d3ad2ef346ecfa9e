//! What `check` says about `systems.toml` and about the mappings' use of it,
//! where the workspace is needed to judge: the sources and columns an
//! observe rule names, the system ids an `applies_to` lists.

use super::{Inventory, SYSTEMS_FILE};
use crate::workspace::Workspace;
use crate::workspace::mapping::{Located, Mappings};
use crate::workspace::population::{self, PopulationError};
use crate::workspace::problems::{Problem, did_you_mean};

/// Problems of the inventory and of every `applies_to`, each at its place.
pub fn check(ws: &Workspace, inventory: &Inventory, mappings: &Mappings) -> Vec<Problem> {
    let mut problems = inventory.problems.clone();
    for rule in &inventory.observe {
        let label = format!("observe `{}`", rule.name());
        column_problems(ws, &label, &rule.source, rule.filter.as_ref(), &rule.column, &mut problems);
    }
    if let Some(people) = &inventory.people {
        column_problems(ws, "inventory.people", &people.source, people.filter.as_ref(), &people.column, &mut problems);
    }
    let today = ws.today();
    if let Some(review) = inventory.review.as_ref().filter(|r| r.reviewed_at > today) {
        problems.push(Problem::error(
            review.location.clone(),
            format!("inventory: field `reviewed_at`: {} is in the future (today is {today})", review.reviewed_at),
        ));
    }
    let ids: Vec<&str> = inventory.ids().collect();
    for control in &mappings.controls {
        for spec in &control.evidence {
            let Some(applies_to) = &spec.applies_to else { continue };
            let prefix = format!("control `{}`, evidence `{}`", control.id, spec.name);
            if !inventory.present {
                problems.push(Problem::error(
                    applies_to.location.clone(),
                    format!("{prefix}: field `applies_to` needs the system inventory, and there is no {SYSTEMS_FILE}"),
                ));
                continue;
            }
            for id in &applies_to.value.ids {
                if !ids.contains(&id.value.as_str()) {
                    problems.push(Problem::error(
                        id.location.clone(),
                        format!(
                            "{prefix}: field `applies_to.ids`: no system `{}` in {SYSTEMS_FILE}{}",
                            id.value,
                            did_you_mean(&id.value, ids.iter().copied())
                        ),
                    ));
                }
            }
        }
    }
    problems
}

/// A source (with an optional filter) and a column of it: the source must
/// exist, the filter compile, the column be there.
fn column_problems(
    ws: &Workspace,
    label: &str,
    source: &Located<String>,
    filter: Option<&Located<String>>,
    column: &Located<String>,
    problems: &mut Vec<Problem>,
) {
    let population = match population::of_source(ws, label, source, filter) {
        Ok(p) => p,
        Err(PopulationError::NotLoaded { location, name }) => {
            problems.push(Problem::warning(
                location,
                format!("{label}: source `{name}` has never been loaded, so its columns cannot be checked"),
            ));
            return;
        }
        Err(PopulationError::UnknownSource { location, name, hint }) => {
            problems.push(Problem::error(location, format!("{label}: field `source`: unknown source `{name}`{hint}")));
            return;
        }
        Err(e) => {
            let location = filter.map_or(&source.location, |f| &f.location).clone();
            let message = e.to_string();
            // The error already starts with its place; keep only the words.
            let words = message.split_once(": ").map_or(message.as_str(), |(_, rest)| rest);
            problems.push(Problem::error(location, format!("{label}: {words}")));
            return;
        }
    };
    if population.column_type(&column.value).is_none() {
        problems.push(Problem::error(
            column.location.clone(),
            format!(
                "{label}: field `column`: no column `{}` in source `{}`{}",
                column.value,
                source.value,
                did_you_mean(&column.value, population.columns.iter().map(|(c, _)| c.as_str()))
            ),
        ));
    }
}
