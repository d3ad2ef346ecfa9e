//! Starting an audit (its scope, its seed, every sample drawn), closing it
//! (close.rs) and reading it back summarised (summary.rs). The audit as
//! stored is `audit::record`.

pub mod close;
pub mod summary;

use std::collections::BTreeSet;

use duckdb::Connection;
use serde_json::json;

use super::AuditError;
use super::occurrences;
use super::record::{self, Audit, AuditStatus};
use super::sampling::rank::{rank_hex, sample_seed};
use super::sampling::store;
use super::sampling::{default_size, draw};
use crate::progress::{Progress, Silent};
use crate::workspace::action_log;
use crate::workspace::inventory::Inventory;
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;
use crate::workspace::population;
use crate::workspace::{Workspace, actor};

/// Which controls an audit covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// N controls drawn at random (seeded), plus every control with an active finding.
    Random(usize),
    Listed(Vec<String>),
}

impl Scope {
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "all" => Self::All,
            t => match t.parse::<usize>() {
                Ok(n) => Self::Random(n),
                Err(_) => Self::Listed(t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
            },
        }
    }
}

/// What `start` did.
#[derive(Debug, Clone)]
pub struct Started {
    pub audit: Audit,
    pub samples: usize,
    pub carried: Vec<String>,
}

/// Starts an audit: records it and draws every in-scope spec's sample, in one
/// transaction, then moves it to fieldwork.
pub fn start(
    ws: &Workspace,
    mappings: &Mappings,
    label: &str,
    period: &Period,
    scope: &Scope,
    seed: Option<String>,
) -> Result<Started, AuditError> {
    start_with(ws, mappings, label, period, scope, seed, &Silent)
}

/// [`start`], telling `progress` of each sample drawn (a big population
/// takes a while).
pub fn start_with(
    ws: &Workspace,
    mappings: &Mappings,
    label: &str,
    period: &Period,
    scope: &Scope,
    seed: Option<String>,
    progress: &dyn Progress,
) -> Result<Started, AuditError> {
    ws.ensure_writable("starting an audit")?;
    if record::load(ws, label)?.is_some() {
        return Err(AuditError::AuditExists(label.to_string()));
    }
    let seed = seed.unwrap_or_else(random_seed);
    let carried = controls_with_active_findings(&ws.conn)?;
    let mut controls: Vec<String> = match scope {
        Scope::All => mappings.controls.iter().map(|c| c.id.clone()).collect(),
        Scope::Listed(ids) => {
            for id in ids {
                super::find_control(mappings, id)?;
            }
            ids.clone()
        }
        Scope::Random(n) => {
            let mut ranked: Vec<(String, &str)> =
                mappings.controls.iter().map(|c| (rank_hex(&seed, &c.id), c.id.as_str())).collect();
            ranked.sort();
            ranked.into_iter().take(*n).map(|(_, id)| id.to_string()).collect()
        }
    };
    let chosen: BTreeSet<String> = controls.iter().cloned().collect();
    let carried: Vec<String> =
        carried.into_iter().filter(|c| !chosen.contains(c) && mappings.control(c).is_some()).collect();
    controls.extend(carried.iter().cloned());
    let audit = Audit {
        label: label.to_string(),
        period: period.clone(),
        seed: seed.clone(),
        status: AuditStatus::Fieldwork,
        mapping_version: mappings.version.clone(),
        controls: controls.clone(),
        created_at: ws.now_text(),
        closed_at: None,
    };
    let specs: u64 = controls.iter().filter_map(|id| mappings.control(id)).map(|c| c.evidence.len() as u64).sum();
    let mut drawn = Vec::new();
    let mut slots = Vec::new();
    let inventory = Inventory::load(&ws.root);
    // A draw that waits on a warehouse (the TUI's deferred sessions) lets
    // the others go on, so that one attempt asks for every warehouse draw.
    let mut waiting = None;
    for id in &controls {
        let control = super::find_control(mappings, id)?;
        for spec in &control.evidence {
            progress.step(&format!("drawing {} / {}", control.id, spec.name), drawn.len() as u64, specs + 1);
            let n = default_size(ws, control, spec);
            let sample = match draw(ws, control, spec, period, &sample_seed(&seed, &control.id, &spec.name), n) {
                Err(AuditError::Warehouse(pending @ crate::warehouse::WarehouseError::Pending { .. })) => {
                    waiting.get_or_insert(pending);
                    continue;
                }
                drawn => drawn?,
            };
            if spec.schedule.is_some() {
                let population = population::resolve(ws, control, spec)?;
                slots.extend(occurrences::check(ws, &inventory, control, spec, &population, period, ws.now())?);
            }
            drawn.push(sample);
        }
    }
    if let Some(pending) = waiting {
        return Err(pending.into());
    }
    progress.step("storing the samples", specs, specs + 1);
    action_log::change(ws, || -> Result<(), AuditError> {
        ws.conn.execute(
            "INSERT INTO qd.audits VALUES (?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), ?, 'planned', ?, ?,
                     CAST(? AS TIMESTAMP), ?, NULL)",
            duckdb::params![
                audit.label,
                audit.period.label,
                audit.period.start.naive_utc().to_string(),
                audit.period.end.naive_utc().to_string(),
                audit.seed,
                audit.mapping_version,
                serde_json::to_string(&audit.controls).unwrap_or_default(),
                audit.created_at,
                actor()
            ],
        )?;
        action_log::append(
            ws,
            "audit.start",
            json!({"audit": label, "period": period.label, "start": period.start.to_rfc3339(), "end": period.end.to_rfc3339(),
                   "seed": seed, "controls": controls, "carried": carried, "mapping_version": mappings.version}),
        )?;
        for sample in &drawn {
            let id = store::store(ws, Some(label), sample, None)?;
            action_log::append(
                ws,
                "sample.draw",
                json!({"audit": label, "control": sample.control, "spec": sample.spec, "sample_id": id,
                       "population_count": sample.population_count, "fingerprint": sample.fingerprint,
                       "size": sample.size, "seed": sample.seed,
                       "rows_sha256": super::replay::rows_digest(&ws.conn, id)?}),
            )?;
        }
        for spec_slots in &slots {
            occurrences::store(ws, label, spec_slots)?;
        }
        ws.conn.execute("UPDATE qd.audits SET status = 'fieldwork' WHERE label = ?", [label])?;
        action_log::append(ws, "audit.status", json!({"audit": label, "from": "planned", "to": "fieldwork"}))?;
        Ok(())
    })?;
    Ok(Started { audit, samples: drawn.len(), carried })
}

fn controls_with_active_findings(conn: &Connection) -> duckdb::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT control FROM qd.findings WHERE status IN ('open', 'remediating', 'ready-for-retest') ORDER BY 1",
    )?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// 128 bits from the OS, as hex; recorded with the audit.
pub fn random_seed() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_err() {
        let fallback = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        bytes.copy_from_slice(
            &sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), fallback))[..16],
        );
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests;
