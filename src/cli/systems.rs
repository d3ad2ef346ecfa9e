//! `quarterdeck systems [--period P] [--drift]`: the inventory against the
//! period's evidence — each system with owner, scope, first and last seen,
//! the controls covering it — and the drift. Exit 1 when there is drift, so
//! it can gate CI; 4 when systems.toml cannot be read.

use serde_json::{Value, json};

use super::output::{Format, Listing, print_json, visible};
use super::{Context, Outcome, period_or_last_quarter};
use crate::workspace::inventory::drift::{Drift, SystemsReport, report};
use crate::workspace::inventory::{Inventory, SYSTEMS_FILE};
use crate::workspace::mapping::Mappings;

pub fn run(ctx: &Context, period: Option<&str>, drift_only: bool) -> Outcome {
    let ws = ctx.open_reading()?;
    let period = period_or_last_quarter(&ws, period)?;
    let inventory = Inventory::load(&ws.root);
    if !inventory.present {
        tell!("no {SYSTEMS_FILE} in this workspace: there is no inventory to check (docs/inventory.md)");
        return Ok(4);
    }
    if let Some(problems) = Some(&inventory.problems).filter(|p| p.iter().any(|p| !p.warning)) {
        for problem in problems {
            tell!("{}", visible(&problem.to_string()));
        }
        return Ok(4);
    }
    let mappings = Mappings::load(&ws.root);
    let found = report(&ws, &inventory, &mappings, &period, ws.today())?;
    let tz = ws.config.timezone;
    let day = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or(Value::Null, |t| json!(t.with_timezone(&tz).date_naive().to_string()))
    };
    let drift_listing = drift_listing(&found.drift, &day);
    if drift_only {
        drift_listing.print(ctx.format)?;
    } else {
        let systems = systems_listing(&found, ctx.format, &day);
        match ctx.format {
            Format::Json => print_json(&json!({
                "period": {"label": found.period.label, "start": found.period.start_date.to_string(),
                           "end": found.period.end_date.to_string()},
                "review": found.review,
                "systems": systems.to_json(),
                "drift": drift_listing.to_json(),
                "coverage": found.coverage,
            }))?,
            Format::Csv => systems.print(Format::Csv)?,
            Format::Table => {
                say!("Inventory — {} system(s) — period {}", found.systems.len(), found.period);
                say!("{}", review_line(&found));
                systems.print(Format::Table)?;
                if found.drift.is_empty() {
                    say!(
                        "\nno drift: every system seen is in the inventory and every control applying to one has evidence"
                    );
                } else {
                    say!("\n{} drift line(s):", found.drift.len());
                    for d in &found.drift {
                        say!("  {:<19} {}", d.kind.as_str(), visible(&d.detail));
                    }
                }
            }
        }
    }
    Ok(if found.drift.is_empty() { 0 } else { 1 })
}

fn review_line(found: &SystemsReport) -> String {
    let r = &found.review;
    match (&r.reviewed_at, &r.reviewer, &r.valid_until) {
        (Some(at), Some(by), Some(until)) => format!(
            "last reviewed {at} by {}; counts until {until}{} (judged as of {})",
            visible(by),
            if r.overdue { " — OVERDUE" } else { "" },
            r.as_of
        ),
        _ => format!("never reviewed — OVERDUE (judged as of {})", r.as_of),
    }
}

fn systems_listing(
    found: &SystemsReport,
    format: Format,
    day: &dyn Fn(Option<chrono::DateTime<chrono::Utc>>) -> Value,
) -> Listing {
    let mut listing = Listing::new(&[
        "id",
        "kind",
        "owner",
        "in_scope",
        "environment",
        "added",
        "retired",
        "first_seen",
        "last_seen",
        "rows",
        "covered_by",
        "uncovered_by",
        "drift",
    ])
    .identified_by(&["id"]);
    let list = |items: &[String]| match format {
        Format::Json => json!(items),
        _ => json!(items.join(" ")),
    };
    for s in &found.systems {
        let drift: Vec<String> = found
            .drift
            .iter()
            .filter(|d| d.system.as_deref() == Some(s.id.as_str()))
            .map(|d| d.kind.as_str().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        listing.push(vec![
            json!(s.id),
            json!(s.kind.as_str()),
            s.owner.as_ref().map_or(Value::Null, |o| json!(o)),
            json!(s.in_scope),
            s.environment.as_ref().map_or(Value::Null, |e| json!(e)),
            s.added.map_or(Value::Null, |d| json!(d.to_string())),
            s.retired.map_or(Value::Null, |d| json!(d.to_string())),
            day(s.first_seen),
            day(s.last_seen),
            json!(s.rows),
            list(&s.covered_by),
            list(&s.uncovered_by),
            list(&drift),
        ]);
    }
    listing
}

fn drift_listing(drift: &[Drift], day: &dyn Fn(Option<chrono::DateTime<chrono::Utc>>) -> Value) -> Listing {
    let mut listing =
        Listing::new(&["kind", "system", "source", "control", "spec", "first_seen", "last_seen", "rows", "detail"]);
    let or_null = |v: &Option<String>| v.as_ref().map_or(Value::Null, |v| json!(v));
    for d in drift {
        listing.push(vec![
            json!(d.kind.as_str()),
            or_null(&d.system),
            or_null(&d.source),
            or_null(&d.control),
            or_null(&d.spec),
            day(d.first_seen),
            day(d.last_seen),
            json!(d.rows),
            json!(d.detail),
        ]);
    }
    listing
}
