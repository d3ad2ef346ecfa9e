//! `quarterdeck ask "…"` and `quarterdeck requests list`

use serde_json::json;

use super::output::{Format, Listing, visible};
use super::{Context, Outcome, period_or_last_quarter};
use crate::audit::auditor_requests::{ask, list};
use crate::audit::questions::Library;
use crate::workspace::mapping::Mappings;

pub fn run_ask(ctx: &Context, text: &str, due: Option<chrono::NaiveDate>) -> Outcome {
    let ws = ctx.open()?;
    let mappings = Mappings::load(&ws.root);
    let library = Library::load(&ws.root)?;
    let last_quarter = period_or_last_quarter(&ws, None)?;
    let answer = ask(&ws, &mappings, &library, text, due, &last_quarter)?;
    if ctx.format == Format::Table {
        let r = &answer.request;
        say!(
            "request {} — matched “{}” → {} / {}",
            r.id,
            r.question.as_deref().unwrap_or("?"),
            r.control.as_deref().unwrap_or("?"),
            r.spec.as_deref().unwrap_or("?")
        );
    }
    super::sample::print(ctx.format, &answer.sample, &answer.columns)?;
    Ok(0)
}

pub fn run_list(ctx: &Context) -> Outcome {
    let ws = ctx.open_reading()?;
    let mut listing = Listing::new(&[
        "id",
        "text",
        "asked_at",
        "asked_by",
        "due",
        "status",
        "question",
        "control",
        "spec",
        "sample_id",
    ]);
    for r in list(&ws.conn)? {
        listing.push(vec![
            json!(r.id),
            json!(visible(&r.text)),
            json!(r.asked_at.split('.').next().unwrap_or_default()),
            json!(r.asked_by),
            json!(r.due.map(|d| d.to_string())),
            json!(r.status),
            json!(r.question),
            json!(r.control),
            json!(r.spec),
            json!(r.sample_id),
        ]);
    }
    listing.print(ctx.format)?;
    Ok(0)
}
