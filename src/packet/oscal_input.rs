//! The dossier as the OSCAL writer's plain input: times in RFC 3339, each
//! sampled row with the workpaper that holds it and that file's hash.

use super::dossier::Dossier;
use super::files::PacketFiles;
use super::manifest::sha256_hex;
use super::oscal::{OscalAcceptance, OscalControl, OscalEvent, OscalFinding, OscalInput, OscalReview, OscalRow};
use super::tables::as_of;
use super::workpaper::Workpaper;
use crate::audit::sampling::METHOD;
use crate::workspace::sources::parse_timestamp;

/// A stored time (DuckDB's TIMESTAMP text, UTC) as RFC 3339.
fn rfc3339(stored: &str) -> String {
    parse_timestamp(stored)
        .map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| stored.to_string())
}

pub fn input(dossier: &Dossier, papers: &[Workpaper], files: &PacketFiles) -> OscalInput {
    let audit = &dossier.summary.audit;
    let controls = dossier
        .controls
        .iter()
        .map(|c| {
            let rows = papers
                .iter()
                .filter(|p| p.control == c.id)
                .flat_map(|p| {
                    let path = format!("{}/workpaper.csv", p.dir);
                    let sha = files.get(&path).map(sha256_hex).unwrap_or_default();
                    p.rows.iter().map(move |r| OscalRow {
                        spec: p.spec.clone(),
                        key: r.key.clone(),
                        verdict: (!r.verdict.is_empty()).then(|| r.verdict.clone()),
                        note: (!r.note.is_empty()).then(|| r.note.clone()),
                        tester: (!r.tester.is_empty()).then(|| r.tester.clone()),
                        tested_at: (!r.tested_at.is_empty()).then(|| rfc3339(&r.tested_at)),
                        workpaper: path.clone(),
                        workpaper_sha256: sha.clone(),
                    })
                })
                .collect();
            let mapping = c.control.as_ref();
            OscalControl {
                id: c.id.clone(),
                title: mapping.map(|m| m.title.clone()).unwrap_or_default(),
                criteria: c.criteria.iter().map(|k| k.id.clone()).collect(),
                owner: mapping.map(|m| m.owner.clone()).unwrap_or_default(),
                practice: mapping.map(|m| m.practice.clone()).unwrap_or_default(),
                result: c.outcome.result.as_str().to_string(),
                rows,
            }
        })
        .collect();
    let findings = dossier
        .findings
        .iter()
        .map(|f| {
            let g = &f.finding;
            let criteria = dossier
                .controls
                .iter()
                .find(|c| c.id == g.control)
                .map(|c| c.criteria.iter().map(|k| k.id.clone()).collect())
                .unwrap_or_default();
            let spec_of = |sample_id: i64| {
                dossier
                    .controls
                    .iter()
                    .flat_map(|c| &c.samples)
                    .find(|s| s.sample_id == sample_id)
                    .map(|s| s.sample.spec.clone())
                    .unwrap_or_default()
            };
            OscalFinding {
                id: g.id.clone(),
                control: g.control.clone(),
                criteria,
                title: g.title.clone(),
                description: g.description.clone(),
                severity: g.severity.as_str().to_string(),
                owner: g.owner.clone(),
                due: g.due.map(|d| d.to_string()),
                status: f.status.as_str().to_string(),
                opened_at: g.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                rows: g
                    .rows
                    .iter()
                    .map(|(id, key)| (spec_of(*id), key.shown()))
                    .chain(g.population_rows.iter().map(|r| (r.spec.clone(), r.key.shown())))
                    .collect(),
                events: f
                    .events
                    .iter()
                    .map(|e| OscalEvent {
                        at: rfc3339(&e.at),
                        actor: e.actor.clone(),
                        from: e.from.map(|s| s.as_str().to_string()),
                        to: e.to.as_str().to_string(),
                        note: e.note.clone(),
                    })
                    .collect(),
                acceptance: g.approver.as_ref().map(|approver| OscalAcceptance {
                    approver: approver.clone(),
                    reason: g.accept_reason.clone().unwrap_or_default(),
                    expires: g.accept_expires.map(|d| d.to_string()),
                }),
            }
        })
        .collect();
    OscalInput {
        workspace_id: dossier.workspace_id.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        audit_label: audit.label.clone(),
        audit_status: audit.status.as_str().to_string(),
        period_start: audit.period.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        period_end: audit.period.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        as_of: as_of(dossier),
        method: METHOD.to_string(),
        controls,
        findings,
        reviewers: dossier
            .reviews
            .iter()
            .map(|r| OscalReview {
                control: r.control.clone(),
                reviewer: r.reviewer.clone(),
                conclusion: r.conclusion.clone(),
                reviewed_at: rfc3339(&r.reviewed_at),
            })
            .collect(),
    }
}
