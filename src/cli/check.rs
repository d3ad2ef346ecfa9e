//! `quarterdeck check`: every problem as `file:line:col: message` on stderr,
//! or for a CI check `--format json|csv` on stdout (one record a problem:
//! file, line, col, message, warning); exit 1 on any error either way.

use serde_json::json;

use super::output::{Format, Listing, visible};
use super::{Context, Outcome};
use crate::workspace::catalog::Catalog;
use crate::workspace::check::check;
use crate::workspace::mapping::Mappings;

pub fn run(ctx: &Context) -> Outcome {
    let ws = ctx.open()?;
    let catalog = Catalog::soc2()?;
    let mappings = Mappings::load(&ws.root);
    let problems = check(&ws, &catalog, &mappings);
    let errors = problems.iter().filter(|p| !p.warning).count();
    let warnings = problems.len() - errors;
    let code = if errors > 0 { 1 } else { 0 };
    if ctx.format != Format::Table {
        let mut listing =
            Listing::new(&["file", "line", "col", "message", "warning"]).identified_by(&["file", "line", "col"]);
        for p in &problems {
            listing.push(vec![
                json!(p.location.file.display().to_string()),
                json!(p.location.line),
                json!(p.location.col),
                json!(p.message),
                json!(p.warning),
            ]);
        }
        listing.print(ctx.format)?;
        return Ok(code);
    }
    for problem in &problems {
        tell!("{}", visible(&problem.to_string()));
    }
    let specs: usize = mappings.controls.iter().map(|c| c.evidence.len()).sum();
    if errors > 0 {
        tell!("{errors} problem(s), {warnings} warning(s) in {} control(s)", mappings.controls.len());
    } else {
        say!(
            "ok: {} control(s), {specs} evidence spec(s), {} source(s); {warnings} warning(s)",
            mappings.controls.len(),
            ws.config.sources.len()
        );
    }
    Ok(code)
}
