//! `quarterdeck test CONTROL [--period P]`: attribute tests over the whole
//! population; exit 1 when any test fails or is inconclusive.

use serde_json::json;

use super::output::{Format, Listing, Terminal, paint, visible};
use super::{Context, Outcome, period_or_last_quarter};
use crate::audit::find_control;
use crate::audit::full_population::{TestResult, test_control};
use crate::audit::occurrences::{Occurrences, SlotState};
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
        if let Some(occ) = &spec.occurrences {
            let missed = occ.count(SlotState::Missed);
            all_pass &= missed == 0;
            let names =
                |state: SlotState| occ.slots().filter(|s| s.state == state).map(|s| s.name()).collect::<Vec<_>>();
            listing.push(vec![
                json!(control.id),
                json!(spec.spec),
                json!(occ.name()),
                json!(if missed > 0 { "fail" } else { "pass" }),
                json!(occ.len()),
                json!(occ.count(SlotState::Met)),
                json!(missed),
                json!(occ.count(SlotState::Due)),
                json!(names(SlotState::Missed)),
                json!(names(SlotState::Due)),
            ]);
        }
        if spec.tests.is_empty() && spec.occurrences.is_none() {
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
            if let Some(occ) = &spec.occurrences {
                super::output::say(&occurrence_line(occ, &terminal))?;
            }
        }
    } else {
        listing.print(ctx.format)?;
    }
    Ok(if all_pass { 0 } else { 1 })
}

/// The slots in one line: how many were met, missed and due, and the missed ones.
fn occurrence_line(occ: &Occurrences, terminal: &Terminal) -> String {
    let missed = occ.count(SlotState::Missed);
    let word = if missed > 0 { "fail" } else { "pass" };
    let mut line = format!(
        "    {} {:<24} {} slot(s): {} met, {missed} missed, {} due",
        paint(&format!("{:<13}", word.to_uppercase()), word, terminal),
        visible(&occ.name()),
        occ.len(),
        occ.count(SlotState::Met),
        occ.count(SlotState::Due),
    );
    if !occ.grace.is_zero() {
        line.push_str(&format!(" (grace {})", occ.grace.text()));
    }
    let names: Vec<String> = occ.missed().map(|s| s.name()).collect();
    if !names.is_empty() {
        let shown = names.iter().take(SHOWN_SLOTS).cloned().collect::<Vec<_>>().join(" ; ");
        let more = names.len().saturating_sub(SHOWN_SLOTS);
        line.push_str(&format!("; missed: {}", visible(&shown)));
        if more > 0 {
            line.push_str(&format!(" and {more} more (--format json lists all)"));
        }
    }
    line
}

/// Missed slots named on the table's line; JSON and CSV list every one.
const SHOWN_SLOTS: usize = 8;
