//! The packet's readable files, `index.html` and `README.md`, through
//! minijinja templates (runtime templates, HTML auto-escaping). The
//! templates ship in assets/packet/; a workspace may override either with
//! its own under `templates/packet/`. Every evidence string reaches a
//! template already made visible (no control or bidi character survives),
//! and the HTML escaping makes `<script>` text.

use std::path::Path;

use minijinja::{AutoEscape, Environment, Value};
use serde_json::{Value as Json, json};

use super::PacketError;
use super::dossier::Dossier;
use super::tables::as_of;
use super::workpaper::Workpaper;
use crate::audit::findings;
use crate::audit::sampling::METHOD;
use crate::text::visible_lines;
use crate::workspace::coverage::describe_ranges;
use crate::workspace::frequency::Frequency;

pub const INDEX_TEMPLATE: &str = "index.html.j2";
pub const README_TEMPLATE: &str = "README.md.j2";
/// Where a workspace keeps templates that replace the shipped ones.
pub const OVERRIDE_DIR: &str = "templates/packet";

const SHIPPED: [(&str, &str); 2] = [
    (INDEX_TEMPLATE, include_str!("../../assets/packet/index.html.j2")),
    (README_TEMPLATE, include_str!("../../assets/packet/README.md.j2")),
];

/// The engine, with the workspace's overrides where it has them.
pub fn environment(root: &Path) -> Result<Environment<'static>, PacketError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // Markdown is escaped as HTML too: a markdown viewer renders HTML.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_filter("mark", mark);
    env.add_filter("md", md_cell);
    for (name, shipped) in SHIPPED {
        let path = root.join(OVERRIDE_DIR).join(name);
        let source = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => shipped.to_string(),
            Err(e) => return Err(PacketError::io(&path, e)),
        };
        env.add_template_owned(name, source).map_err(|e| template_error(name, &e))?;
    }
    Ok(env)
}

/// Renders one template over the context.
pub fn render(env: &Environment<'_>, name: &str, context: &Json) -> Result<String, PacketError> {
    let template = env.get_template(name).map_err(|e| template_error(name, &e))?;
    template.render(Value::from(minijinja::value::Serde(context))).map_err(|e| template_error(name, &e))
}

fn template_error(name: &str, e: &minijinja::Error) -> PacketError {
    let line = e.line().map(|l| format!(" line {l}")).unwrap_or_default();
    PacketError::Template { name: format!("{OVERRIDE_DIR}/{name}{line}"), message: e.to_string() }
}

/// An attribute result as a mark: ✓ pass, ✗ exception, ? inconclusive.
fn mark(value: Value) -> String {
    match (value.kind(), value.is_true()) {
        (minijinja::value::ValueKind::Bool, true) => "✓".into(),
        (minijinja::value::ValueKind::Bool, false) => "✗".into(),
        _ => "?".into(),
    }
}

/// Text for a markdown table cell: one line, pipes escaped.
fn md_cell(text: String) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Everything the templates may show, made visible.
pub fn context(dossier: &Dossier, workpapers: &[Workpaper], files: &[String]) -> Json {
    let s = &dossier.summary;
    let audit = &s.audit;
    let controls: Vec<Json> = dossier
        .controls
        .iter()
        .map(|c| {
            let mapping = c.control.as_ref();
            let papers: Vec<Json> = workpapers
                .iter()
                .filter(|w| w.control == c.id)
                .map(|w| {
                    let ipe = c.samples.iter().find(|d| d.sample.spec == w.spec).map(|d| &d.ipe);
                    json!({"paper": w, "ipe": ipe.map(|i| json!({
                        "population_sql": i.population_sql, "runs_in": i.runs_in, "recount_sql": i.recount_sql,
                        "reperform_sql": i.reperform_sql, "count": i.count, "fingerprint": i.fingerprint,
                        "period_start": i.period_start, "period_end": i.period_end, "sources": i.sources,
                        "lineage": i.lineage,
                        "empty_days": i.empty_days.as_ref().map(|d| describe_ranges(d)),
                    }))})
                })
                .collect();
            let sources: Vec<&str> = c.samples.iter().flat_map(|d| &d.ipe.sources).map(String::as_str).collect();
            let coverage: Vec<Json> = dossier
                .sources
                .iter()
                .filter(|src| sources.contains(&src.name.as_str()))
                .map(|src| json!({"source": src.name, "gaps": src.missing_days.as_ref().map(|d| describe_ranges(d))}))
                .collect();
            json!({
                "id": c.id,
                "title": mapping.map(|m| m.title.clone()),
                "criteria": c.criteria.iter().map(|k| json!({"id": k.id, "title": k.title})).collect::<Vec<_>>(),
                "owner": mapping.map(|m| m.owner.clone()),
                "frequency": mapping.map(|m| m.frequency.as_str()),
                "practice": mapping.map(|m| m.practice.clone()),
                "result": c.outcome.result.as_str(),
                "sampled": c.outcome.sampled, "passed": c.outcome.passed, "exceptions": c.outcome.exceptions,
                "not_applicable": c.outcome.not_applicable, "undecided": c.outcome.undecided,
                "review": c.review,
                "findings": c.findings,
                "population_tests": c.population_tests.iter().map(|t| json!({
                    "spec": t.spec, "count": t.count,
                    "tests": t.tests.iter().map(|o| json!({"name": o.name, "expr": o.expr, "passed": o.passed,
                        "failed": o.failed, "inconclusive": o.inconclusive, "result": o.result.as_str(),
                        "failing_keys": o.failing_keys, "inconclusive_keys": o.inconclusive_keys})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "population_error": c.population_error,
                "occurrences": occurrence_summaries(c),
                "coverage": coverage,
                "workpapers": papers,
            })
        })
        .collect();
    // Each finding whole, as `findings show --format json` gives it, with
    // its rows' keys as shown.
    let findings: Vec<Json> = dossier
        .findings
        .iter()
        .map(|f| {
            let g = &f.finding;
            let mut value = findings::to_json(g, &f.events, dossier.today);
            let keys: Vec<String> =
                g.rows.iter().map(|(_, k)| k.shown()).chain(g.population_rows.iter().map(|r| r.key.shown())).collect();
            if let Some(map) = value.as_object_mut() {
                map.insert("keys".into(), json!(keys));
            }
            value
        })
        .collect();
    let sources: Vec<Json> = dossier
        .sources
        .iter()
        .map(|src| {
            json!({
                "name": src.name, "format": src.format, "fresh_within": src.fresh_within, "rows": src.rows,
                "oldest": src.oldest.map(|t| t.to_string()), "newest": src.newest.map(|t| t.to_string()),
                "state": src.state.as_str(),
                "last_run": src.last_run.as_ref().map(|r| json!({"run_id": r.run_id, "status": r.status,
                    "finished_at": r.finished_at, "rows": r.rows})),
                "gaps": src.missing_days.as_ref().map(|d| describe_ranges(d)),
            })
        })
        .collect();
    let sizes: Vec<Json> = dossier
        .sample_sizes
        .iter()
        .map(|(f, n, configured)| json!({"frequency": Frequency::as_str(*f), "size": n, "configured": configured}))
        .collect();
    visible_json(json!({
        "audit": {
            "label": audit.label, "status": audit.status.as_str(), "seed": audit.seed,
            "period": {"label": audit.period.label, "start": audit.period.start.to_rfc3339(),
                       "end": audit.period.end.to_rfc3339(), "first_day": audit.period.start_date.to_string(),
                       "last_day": audit.period.end_date.pred_opt().unwrap_or(audit.period.end_date).to_string()},
            "created_at": audit.created_at, "closed_at": audit.closed_at,
            "mapping_version": audit.mapping_version, "controls": audit.controls.len(),
        },
        "mapping_version": dossier.mapping_version,
        "mapping_changed": dossier.mapping_changed,
        "timezone": dossier.timezone,
        "as_of": as_of(dossier),
        "head": {"seq": dossier.head.seq, "hash": dossier.head.hash},
        "tool_version": env!("CARGO_PKG_VERSION"),
        "method": METHOD,
        "sample_sizes": sizes,
        "summary": {"sampled": s.sampled, "decided": s.decided, "exceptions": s.exceptions,
                    "exception_rate": s.exception_rate.map(|r| format!("{:.1}%", r * 100.0)),
                    "previous": s.previous.as_ref().map(|p| json!({"label": p.label,
                        "exception_rate": p.exception_rate.map(|r| format!("{:.1}%", r * 100.0))})),
                    "opened": s.findings_opened, "closed": s.findings_closed, "regressions": s.regressions},
        "unreviewed": dossier.unreviewed,
        "controls": controls,
        "findings": findings,
        "sources": sources,
        "files": files,
    }))
}

/// The value with every string made visible: control characters (line
/// breaks kept) and bidi controls shown as escapes, so nothing in evidence can act on a reader.
fn visible_json(value: Json) -> Json {
    match value {
        Json::String(text) => Json::String(visible_lines(&text)),
        Json::Array(items) => Json::Array(items.into_iter().map(visible_json).collect()),
        Json::Object(map) => Json::Object(map.into_iter().map(|(k, v)| (k, visible_json(v))).collect()),
        other => other,
    }
}

/// Each spec's recorded slots, counted, with the missed ones named.
fn occurrence_summaries(control: &super::dossier::ControlDossier) -> Vec<Json> {
    use crate::audit::occurrences::SlotState;
    let mut specs: Vec<&str> = control.occurrences.iter().map(|s| s.spec.as_str()).collect();
    specs.dedup();
    specs
        .into_iter()
        .map(|spec| {
            let slots: Vec<_> = control.occurrences.iter().filter(|s| s.spec == spec).map(|s| &s.outcome).collect();
            let count = |state: SlotState| slots.iter().filter(|o| o.state == state).count();
            json!({"spec": spec, "slots": slots.len(), "met": count(SlotState::Met),
                   "missed": count(SlotState::Missed), "due": count(SlotState::Due),
                   "missed_slots": slots.iter().filter(|o| o.state == SlotState::Missed).map(|o| o.name()).collect::<Vec<_>>()})
        })
        .collect()
}
