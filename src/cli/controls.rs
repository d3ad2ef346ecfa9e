//! `quarterdeck controls`: controls with criteria, owner, frequency.

use serde_json::json;

use super::criteria::warn_about_problems;
use super::output::Listing;
use super::{Context, Outcome};
use crate::workspace::mapping::{Mappings, PopulationDef};

pub fn run(ctx: &Context) -> Outcome {
    let ws = ctx.open_reading()?;
    let mappings = Mappings::load(&ws.root);
    warn_about_problems(&mappings);
    let mut listing = Listing::new(&["id", "title", "criteria", "owner", "frequency", "evidence", "file"]);
    for control in &mappings.controls {
        let criteria: Vec<_> = control.criteria.iter().map(|c| json!(c.value)).collect();
        let evidence: Vec<_> = control
            .evidence
            .iter()
            .map(|spec| match &spec.population {
                PopulationDef::Source { source, .. } => json!(format!("{} ({})", spec.name, source.value)),
                PopulationDef::Query(_) => json!(format!("{} (query)", spec.name)),
            })
            .collect();
        listing.push(vec![
            json!(control.id),
            json!(control.title),
            json!(criteria),
            json!(control.owner),
            json!(control.frequency.as_str()),
            json!(evidence),
            json!(control.location.to_string()),
        ]);
    }
    listing.print(ctx.format)?;
    Ok(0)
}
