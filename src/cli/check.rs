//! `quarterdeck check`: every problem as `file:line:col: message`, exit 1 on any.

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
    for problem in &problems {
        eprintln!("{problem}");
    }
    let specs: usize = mappings.controls.iter().map(|c| c.evidence.len()).sum();
    if errors > 0 {
        eprintln!("{errors} problem(s), {warnings} warning(s) in {} control(s)", mappings.controls.len());
        Ok(1)
    } else {
        say!(
            "ok: {} control(s), {specs} evidence spec(s), {} source(s); {warnings} warning(s)",
            mappings.controls.len(),
            ws.config.sources.len()
        );
        Ok(0)
    }
}
