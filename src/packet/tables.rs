//! The packet's machine-readable tables: `findings.csv`, `findings.json`
//! and `action-log.jsonl` (this audit's slice of the log, with hashes).

use serde_json::{Value as Json, json};

use super::dossier::Dossier;
use super::workpaper::csv_text;
use crate::audit::findings;
use crate::audit::occurrences::StoredSlot;
use crate::text::json_safe;

/// Every finding of the packet whole, as `findings show --format json` gives one.
pub fn findings_json(dossier: &Dossier) -> Vec<u8> {
    let today = dossier.today;
    let all: Vec<Json> = dossier.findings.iter().map(|f| findings::to_json(&f.finding, &f.events, today)).collect();
    pretty(&json!({"audit": dossier.summary.audit.label, "as_of": as_of(dossier), "findings": all}))
}

/// One line a finding; its rows and its history counted (whole in JSON).
pub fn findings_csv(dossier: &Dossier) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "id",
        "audit",
        "control",
        "title",
        "severity",
        "owner",
        "due",
        "status",
        "regression",
        "closed_in",
        "system",
        "slot",
        "risk_approver",
        "risk_reason",
        "risk_expires",
        "rows",
        "events",
        "opened_at",
    ])?;
    for f in &dossier.findings {
        let g = &f.finding;
        let keys: Vec<String> =
            g.rows.iter().map(|(_, k)| k.shown()).chain(g.population_rows.iter().map(|r| r.key.shown())).collect();
        out.write_record([
            csv_text(&g.id),
            csv_text(&g.audit),
            csv_text(&g.control),
            csv_text(&g.title),
            g.severity.as_str().to_string(),
            csv_text(&g.owner),
            g.due.map(|d| d.to_string()).unwrap_or_default(),
            f.status.as_str().to_string(),
            g.regression.to_string(),
            csv_text(g.closed_in.as_deref().unwrap_or_default()),
            csv_text(g.system.as_deref().unwrap_or_default()),
            csv_text(g.slot.as_deref().unwrap_or_default()),
            csv_text(g.approver.as_deref().unwrap_or_default()),
            csv_text(g.accept_reason.as_deref().unwrap_or_default()),
            g.accept_expires.map(|d| d.to_string()).unwrap_or_default(),
            csv_text(&keys.join("; ")),
            f.events.len().to_string(),
            g.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// One log entry a line, each with its seq, prev_hash and hash: anyone can
/// recompute every hash (see docs/packet.md) and check it against the log.
pub fn action_log_jsonl(dossier: &Dossier) -> Vec<u8> {
    let mut out = String::new();
    for entry in &dossier.log {
        let line = serde_json::to_string(entry).unwrap_or_default();
        out.push_str(&json_safe(&line));
        out.push('\n');
    }
    out.into_bytes()
}

/// The instant the packet speaks for, RFC 3339 UTC.
pub fn as_of(dossier: &Dossier) -> String {
    dossier.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Pretty JSON with a final newline and bidi controls escaped.
pub fn pretty(value: &Json) -> Vec<u8> {
    let mut text = json_safe(&serde_json::to_string_pretty(value).unwrap_or_default());
    text.push('\n');
    text.into_bytes()
}

/// A spec's expected occurrences as the audit recorded them: one slot (and
/// `per` value) a line.
pub fn occurrences_csv(slots: &[&StoredSlot]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["slot", "per", "starts", "ends", "closes", "rows", "state"])?;
    for s in slots {
        let o = &s.outcome;
        out.write_record([
            csv_text(&o.slot.label),
            csv_text(&o.per.join(" | ")),
            o.slot.start.to_string(),
            o.slot.end.to_string(),
            o.closes.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            o.rows.to_string(),
            o.state.as_str().to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
