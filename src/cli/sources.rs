//! `quarterdeck sources [--period P]`: the source inventory with freshness,
//! the last run, and for a period the days without rows.

use serde_json::{Value, json};

use super::output::{Format, Listing};
use super::{Context, Outcome};
use crate::workspace::coverage::{describe_ranges, ranges};
use crate::workspace::period::Period;
use crate::workspace::sources::{describe_age, source_statuses};

pub fn run(ctx: &Context, period: Option<&str>) -> Outcome {
    let ws = ctx.open_reading()?;
    let period = period.map(|p| Period::parse(p, ws.config.timezone)).transpose()?;
    let statuses = source_statuses(&ws, period.as_ref(), ws.now())?;
    let mut columns = vec![
        "name",
        "format",
        "rows",
        "oldest",
        "newest",
        "age",
        "age_seconds",
        "state",
        "fresh_within",
        "last_run",
        "last_run_status",
        "last_run_error",
        "failures",
        "failing_since",
    ];
    if period.is_some() {
        columns.extend(["period", "missing_days", "gaps"]);
    }
    let mut listing = Listing::new(&columns);
    for s in &statuses {
        let stamp = |t: Option<chrono::NaiveDateTime>| {
            t.map_or(Value::Null, |t| json!(t.format("%Y-%m-%d %H:%M:%S").to_string()))
        };
        let mut row = vec![
            json!(s.name),
            json!(s.format),
            s.rows.map_or(Value::Null, |n| json!(n)),
            stamp(s.oldest),
            stamp(s.newest),
            s.age.map_or(Value::Null, |a| json!(describe_age(a))),
            s.age.map_or(Value::Null, |a| json!(a.num_seconds())),
            json!(s.state.as_str()),
            json!(s.fresh_within),
            s.last_run.as_ref().map_or(Value::Null, |r| json!(r.finished_at.split('.').next().unwrap_or_default())),
            s.last_run.as_ref().map_or(Value::Null, |r| json!(r.status)),
            s.last_run.as_ref().and_then(|r| r.error.as_ref()).map_or(Value::Null, |e| json!(first_line(e))),
            json!(s.last_run.as_ref().map_or(0, |r| r.failures)),
            s.last_run
                .as_ref()
                .and_then(|r| r.failing_since.as_ref())
                .map_or(Value::Null, |t| json!(t.split('.').next().unwrap_or_default())),
        ];
        if let (Some(period), Some(missing)) = (&period, &s.missing_days) {
            row.push(json!(period.label));
            row.push(json!(missing.len()));
            row.push(match ctx.format {
                Format::Table | Format::Csv => json!(describe_ranges(missing)),
                Format::Json => json!(
                    ranges(missing)
                        .iter()
                        .map(|(a, b)| json!({"from": a.to_string(), "to": b.to_string()}))
                        .collect::<Vec<_>>()
                ),
            });
        }
        listing.push(row);
    }
    if ctx.format == Format::Table {
        // The wide columns are for scripts; people get the essentials.
        let keep = [
            "name",
            "rows",
            "newest",
            "age",
            "state",
            "fresh_within",
            "last_run",
            "last_run_status",
            "failing_since",
            "missing_days",
            "gaps",
        ];
        let indexes: Vec<usize> =
            listing.columns.iter().enumerate().filter(|(_, c)| keep.contains(&c.as_str())).map(|(i, _)| i).collect();
        let narrow = super::output::Listing {
            columns: indexes.iter().map(|&i| listing.columns[i].clone()).collect(),
            rows: listing.rows.iter().map(|r| indexes.iter().map(|&i| r[i].clone()).collect()).collect(),
            identifiers: listing.identifiers.clone(),
            optional: listing.optional.clone(),
        };
        narrow.print(ctx.format)?;
        if let Some(period) = &period {
            say!("\ncoverage for {period}: days (in {}) with no rows", ws.config.timezone);
        }
    } else {
        listing.print(ctx.format)?;
    }
    Ok(0)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
