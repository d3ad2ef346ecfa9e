//! `quarterdeck criteria`: the catalog with the controls mapped to each.

use serde_json::{Value, json};

use super::output::Listing;
use super::{Context, Outcome};
use crate::workspace::catalog::Catalog;
use crate::workspace::mapping::Mappings;

pub fn run(ctx: &Context) -> Outcome {
    let ws = ctx.open_reading()?;
    let catalog = Catalog::soc2()?;
    let mappings = Mappings::load(&ws.root);
    warn_about_problems(&mappings);
    let mut listing = Listing::new(&["id", "title", "controls", "mapped"]);
    for criterion in &catalog.criteria {
        let controls: Vec<Value> = mappings
            .controls
            .iter()
            .filter(|c| c.criteria.iter().any(|m| m.value == criterion.id))
            .map(|c| json!(c.id))
            .collect();
        let mapped = !controls.is_empty();
        listing.push(vec![json!(criterion.id), json!(criterion.title), Value::Array(controls), json!(mapped)]);
    }
    listing.print(ctx.format)?;
    if ctx.format == super::output::Format::Table {
        let unmapped = listing.rows.iter().filter(|r| r[3] == json!(false)).count();
        say!("\n{unmapped} of {} criteria have no control mapped (MAPPED = false)", catalog.criteria.len());
    }
    Ok(0)
}

/// Listings go on with what could be read, and say what could not.
pub fn warn_about_problems(mappings: &Mappings) {
    let errors = mappings.problems.iter().filter(|p| !p.warning).count();
    if errors > 0 {
        tell!("warning: {errors} mapping problem(s) left some controls out; run `quarterdeck check`");
    }
}
