//! `quarterdeck test CONTROL [--period P]`: attribute tests over the whole
//! population; exit 1 when any test fails or is inconclusive.

use serde_json::json;

use super::output::{Format, Listing, Terminal, paint, visible};
use super::{Context, Outcome, period_or_last_quarter};
use crate::audit::find_control;
use crate::audit::full_population::{TestResult, test_control};
use crate::workspace::mapping::Mappings;

pub fn run(ctx: &Context, control_id: &str, period: Option<&str>) -> Outcome {
    let ws = ctx.open_reading()?;
    let mappings = Mappings::load(&ws.root);
    let control = find_control(&mappings, control_id)?;
    let period = period_or_last_quarter(&ws, period)?;
    let outcomes = test_control(&ws, control, &period)?;
    let mut listing = Listing::new(&[
        "control",
        "spec",
        "test",
        "result",
        "population",
        "passed",
        "failed",
        "inconclusive",
        "failing_keys",
        "inconclusive_keys",
    ]);
    let mut all_pass = true;
    for spec in &outcomes {
        for t in &spec.tests {
            all_pass &= t.result == TestResult::Pass;
            // Keys as `sample` shows them and `verdict` takes them.
            let keys = |keys: &[String]| {
                keys.iter()
                    .map(|k| crate::audit::sampling::key::SampleKey::canonical(k.clone()).shown())
                    .collect::<Vec<_>>()
            };
            listing.push(vec![
                json!(control.id),
                json!(spec.spec),
                json!(t.name),
                json!(t.result.as_str()),
                json!(spec.count),
                json!(t.passed),
                json!(t.failed),
                json!(t.inconclusive),
                json!(keys(&t.failing_keys)),
                json!(keys(&t.inconclusive_keys)),
            ]);
        }
        if spec.tests.is_empty() {
            listing.push(vec![
                json!(control.id),
                json!(spec.spec),
                json!(null),
                json!("no tests"),
                json!(spec.count),
                json!(null),
                json!(null),
                json!(null),
                json!([]),
                json!([]),
            ]);
        }
    }
    if ctx.format == Format::Table {
        let terminal = Terminal::detect();
        say!("{} {} — period {period}", control.id, visible(&control.title));
        for spec in &outcomes {
            say!("  {}: {} row(s) in the population", spec.spec, spec.count);
            for t in &spec.tests {
                // Every part made visible before the result's word is coloured.
                let result = format!("{:<13}", t.result.as_str().to_uppercase());
                let mut line = format!(
                    "    {} {:<24} {} passed, {} failed, {} inconclusive",
                    paint(&result, t.result.as_str(), &terminal),
                    visible(&t.name),
                    t.passed,
                    t.failed,
                    t.inconclusive
                );
                if !t.failing_keys.is_empty() {
                    line.push_str(&format!("; first failing: {}", visible(&t.failing_keys.join(" ; "))));
                }
                if !t.inconclusive_keys.is_empty() {
                    line.push_str(&format!("; first inconclusive: {}", visible(&t.inconclusive_keys.join(" ; "))));
                }
                super::output::say(&line)?;
            }
        }
    } else {
        listing.print(ctx.format)?;
    }
    Ok(if all_pass { 0 } else { 1 })
}
