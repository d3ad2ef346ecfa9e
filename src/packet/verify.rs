//! `verify --packet`: a packet checked on its own (every hash, the
//! manifest, the log slice's hash chain, each sample's ranks re-derived from
//! its keys and seed) and, where the workspace is at hand, against it (each
//! population recounted with its fingerprint, the log slice found in the
//! workspace's log, the packet's head still in it). Every problem is named;
//! nothing stops at the first.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::files::{PacketFiles, is_inside};
use super::manifest::{MANIFEST, Manifest, SUMS, parse_sums, sha256_hex};
use crate::audit::sampling::rank::rank_hex;
use crate::audit::sampling::recount_where_it_lives;
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::workspace::action_log::entries;
use crate::workspace::action_log::hash_chain::LogEntry;

pub const LOG_SLICE: &str = "action-log.jsonl";

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct PacketReport {
    pub audit: Option<String>,
    pub files: usize,
    pub samples: usize,
    pub log_entries: usize,
    /// Whether the workspace's checks ran (it was at hand and is this packet's).
    pub against_workspace: bool,
    pub populations_recounted: usize,
    pub problems: Vec<String>,
}

/// A sample of the packet, as its sample.json says.
struct PacketSample {
    path: String,
    control: String,
    spec: String,
    sql: String,
    key_columns: Vec<String>,
    count: u64,
    fingerprint: String,
}

/// Checks `files`; with `ws`, against the workspace too.
pub fn verify(files: &PacketFiles, ws: Option<&Workspace>, progress: &dyn Progress) -> PacketReport {
    let mut report = PacketReport { files: files.0.len(), ..PacketReport::default() };
    let problems = &mut report.problems;
    let manifest = check_hashes(files, problems);
    report.audit = manifest.as_ref().map(|m| m.audit.clone());
    let log = read_log(files, problems);
    report.log_entries = log.len();
    check_chain(&log, manifest.as_ref(), problems);
    let samples = check_samples(files, &log, problems);
    report.samples = samples.len();
    if let (Some(ws), Some(manifest)) = (ws, &manifest) {
        report.against_workspace = against_workspace(ws, manifest, (files, &log), &samples, &mut report, progress);
    }
    report
}

/// SHA256SUMS and the manifest against every file; the manifest parsed.
fn check_hashes(files: &PacketFiles, problems: &mut Vec<String>) -> Option<Manifest> {
    let manifest: Option<Manifest> = match files.get(MANIFEST) {
        None => {
            problems.push(format!("{MANIFEST}: missing; this is not a packet"));
            None
        }
        Some(bytes) => match serde_json::from_slice(bytes) {
            Ok(m) => {
                let m: Manifest = m;
                if m.seal != m.expected_seal() {
                    problems.push(format!("{MANIFEST}: its seal does not match its content: it was altered"));
                }
                Some(m)
            }
            Err(e) => {
                problems.push(format!("{MANIFEST}: not a manifest ({e})"));
                None
            }
        },
    };
    match files.text(SUMS).map(parse_sums) {
        None => problems.push(format!("{SUMS}: missing or not text")),
        Some(Err(line)) => problems.push(format!("{SUMS}: line {line} is not `SHA256  PATH`")),
        Some(Ok(sums)) => {
            let listed: BTreeSet<&str> = sums.iter().map(|(p, _)| p.as_str()).collect();
            for (path, want) in &sums {
                match files.get(path) {
                    None => problems.push(format!("{SUMS}: lists `{}`, which is missing", shown(path))),
                    Some(bytes) if &sha256_hex(bytes) != want => {
                        problems.push(format!("{}: sha256 differs from {SUMS}", shown(path)))
                    }
                    Some(_) => {}
                }
            }
            for path in
                files.0.keys().filter(|p| ![MANIFEST, SUMS].contains(&p.as_str()) && !listed.contains(p.as_str()))
            {
                problems.push(format!("{}: not listed in {SUMS}", shown(path)));
            }
        }
    }
    let manifest = manifest?;
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for entry in &manifest.files {
        if !is_inside(&entry.path) {
            problems.push(format!("{MANIFEST}: path `{}` points outside the packet", shown(&entry.path)));
            continue;
        }
        match files.get(&entry.path) {
            None => problems.push(format!("{}: listed in the manifest but missing", shown(&entry.path))),
            Some(bytes) => {
                if bytes.len() as u64 != entry.size {
                    problems.push(format!(
                        "{}: {} bytes, the manifest says {}",
                        shown(&entry.path),
                        bytes.len(),
                        entry.size
                    ));
                }
                if sha256_hex(bytes) != entry.sha256 {
                    problems.push(format!("{}: sha256 differs from the manifest", shown(&entry.path)));
                }
            }
        }
    }
    for path in files.0.keys().filter(|p| ![MANIFEST, SUMS].contains(&p.as_str()) && !listed.contains(p.as_str())) {
        problems.push(format!("{}: not listed in the manifest", shown(path)));
    }
    Some(manifest)
}

fn read_log(files: &PacketFiles, problems: &mut Vec<String>) -> Vec<LogEntry> {
    let Some(text) = files.text(LOG_SLICE) else {
        problems.push(format!("{LOG_SLICE}: missing or not text"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match serde_json::from_str::<Json>(line).ok().and_then(|v| entry_of(&v)) {
            Some(entry) => out.push(entry),
            None => problems.push(format!("{LOG_SLICE}: line {} is not a log entry", i + 1)),
        }
    }
    if !text.is_empty() && !text.ends_with('\n') {
        problems.push(format!("{LOG_SLICE}: the last line is cut short"));
    }
    out
}

fn entry_of(v: &Json) -> Option<LogEntry> {
    let s = |k: &str| v.get(k).and_then(Json::as_str).map(str::to_string);
    Some(LogEntry {
        seq: v.get("seq")?.as_i64()?,
        at: s("at")?,
        actor: s("actor")?,
        action: s("action")?,
        payload: v.get("payload")?.clone(),
        prev_hash: s("prev_hash")?,
        hash: s("hash")?,
    })
}

/// Each entry's hash recomputed; seqs ascending; neighbours chained; none
/// after the head the manifest names.
fn check_chain(log: &[LogEntry], manifest: Option<&Manifest>, problems: &mut Vec<String>) {
    for (i, entry) in log.iter().enumerate() {
        if entry.expected_hash() != entry.hash {
            problems.push(format!("{LOG_SLICE}: entry {} does not hash to its recorded hash", entry.seq));
        }
        if let Some(before) = i.checked_sub(1).map(|j| &log[j]) {
            if entry.seq <= before.seq {
                problems.push(format!("{LOG_SLICE}: entry {} follows entry {}", entry.seq, before.seq));
            } else if entry.seq == before.seq + 1 && entry.prev_hash != before.hash {
                problems.push(format!("{LOG_SLICE}: entry {} does not chain onto entry {}", entry.seq, before.seq));
            }
        }
    }
    if let (Some(m), Some(last)) = (manifest, log.last())
        && last.seq > m.action_log_head.seq
    {
        problems.push(format!("{LOG_SLICE}: entry {} is after the head {} at export", last.seq, m.action_log_head.seq));
    }
    if let Some(m) = manifest
        && log.iter().any(|e| e.seq == m.action_log_head.seq && e.hash != m.action_log_head.hash)
    {
        problems.push(format!("{MANIFEST}: the head's hash differs from entry {} of the slice", m.action_log_head.seq));
    }
}

/// Each sample.json: its ranks re-derived from keys and seed, in order,
/// no more rows than the population, and the draw the log slice records.
fn check_samples(files: &PacketFiles, log: &[LogEntry], problems: &mut Vec<String>) -> Vec<PacketSample> {
    // The latest draw of each (control, spec) in the slice.
    let mut draws: BTreeMap<(String, String), &Json> = BTreeMap::new();
    for e in log.iter().filter(|e| matches!(e.action.as_str(), "sample.draw" | "sample.redraw")) {
        let text = |k: &str| e.payload.get(k).and_then(Json::as_str).unwrap_or_default().to_string();
        draws.insert((text("control"), text("spec")), &e.payload);
    }
    let mut out = Vec::new();
    for (path, bytes) in files.0.iter().filter(|(p, _)| p.starts_with("controls/") && p.ends_with("/sample.json")) {
        let Ok(sample) = serde_json::from_slice::<Json>(bytes) else {
            problems.push(format!("{}: not JSON", shown(path)));
            continue;
        };
        let text = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).unwrap_or_default().to_string();
        let population = sample.get("population").cloned().unwrap_or(Json::Null);
        let parsed = PacketSample {
            path: path.clone(),
            control: text(&sample, "control"),
            spec: text(&sample, "spec"),
            sql: text(&population, "sql"),
            key_columns: population
                .get("key_columns")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            count: population.get("count").and_then(Json::as_u64).unwrap_or(0),
            fingerprint: text(&population, "fingerprint"),
        };
        let seed = text(&sample, "seed");
        let rows = sample.get("rows").and_then(Json::as_array).cloned().unwrap_or_default();
        let mut previous = String::new();
        for (i, row) in rows.iter().enumerate() {
            let key = text(row, "key");
            let rank = text(row, "rank");
            if rank_hex(&seed, &key) != rank {
                problems.push(format!(
                    "{}: row {} (key {}) is not ranked by its seed",
                    shown(path),
                    i + 1,
                    shown(&key)
                ));
            }
            if rank <= previous && i > 0 {
                problems.push(format!("{}: row {} is out of rank order", shown(path), i + 1));
            }
            previous = rank;
        }
        if sample.get("size").and_then(Json::as_u64) != Some(rows.len() as u64) {
            problems.push(format!("{}: size differs from its {} row(s)", shown(path), rows.len()));
        }
        if rows.len() as u64 > parsed.count {
            problems.push(format!("{}: more rows than its population of {}", shown(path), parsed.count));
        }
        match draws.get(&(parsed.control.clone(), parsed.spec.clone())) {
            None => problems.push(format!("{}: no draw of it in {LOG_SLICE}", shown(path))),
            Some(draw) => {
                let logged_count = draw.get("population_count").and_then(Json::as_u64);
                if logged_count != Some(parsed.count) || text(draw, "fingerprint") != parsed.fingerprint {
                    problems.push(format!("{}: count or fingerprint differs from its draw in the log", shown(path)));
                }
                if text(draw, "seed") != seed {
                    problems.push(format!("{}: seed differs from its draw in the log", shown(path)));
                }
            }
        }
        out.push(parsed);
    }
    out
}

/// The workspace's checks; false when it is another workspace's packet.
fn against_workspace(
    ws: &Workspace,
    manifest: &Manifest,
    (files, log): (&PacketFiles, &[LogEntry]),
    samples: &[PacketSample],
    report: &mut PacketReport,
    progress: &dyn Progress,
) -> bool {
    let problems = &mut report.problems;
    let workspace_log = match entries(&ws.conn) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(format!("workspace: the action log cannot be read: {e}"));
            return false;
        }
    };
    if workspace_log.first().map(|e| e.hash.as_str()) != Some(manifest.workspace_id.as_str()) {
        problems.push(
            "workspace: this packet is not of this workspace (its first log entry differs); run verify from the packet's workspace, or without one"
                .to_string(),
        );
        return false;
    }
    let by_seq: BTreeMap<i64, &LogEntry> = workspace_log.iter().map(|e| (e.seq, e)).collect();
    let head = &manifest.action_log_head;
    match by_seq.get(&head.seq) {
        None => problems.push(format!(
            "workspace: the log has no entry {} (the packet's head): it was truncated after export",
            head.seq
        )),
        Some(e) if e.hash != head.hash => problems.push(format!(
            "workspace: log entry {} differs from the packet's head: the log was rewritten after export",
            head.seq
        )),
        Some(_) => {}
    }
    for entry in log {
        match by_seq.get(&entry.seq) {
            None => problems.push(format!("{LOG_SLICE}: entry {} is not in the workspace's log", entry.seq)),
            Some(found) if *found != entry => {
                problems.push(format!("{LOG_SLICE}: entry {} differs from the workspace's log", entry.seq))
            }
            Some(_) => {}
        }
    }
    let total = samples.len() as u64;
    // Where each population lives, from the mappings read once.
    let mappings = crate::workspace::mapping::Mappings::load(&ws.root);
    for (done, sample) in samples.iter().enumerate() {
        progress.step(&format!("recounting {} / {}", sample.control, sample.spec), done as u64, total);
        check_lake(ws, files, sample, problems);
        match recount_where_it_lives(ws, &mappings, (&sample.control, &sample.spec), &sample.sql, &sample.key_columns) {
            Ok((count, fingerprint)) => {
                report.populations_recounted += 1;
                if count != sample.count {
                    problems.push(format!(
                        "{}: the population now has {count} row(s), the packet says {}",
                        shown(&sample.path),
                        sample.count
                    ));
                } else if fingerprint != sample.fingerprint {
                    problems.push(format!(
                        "{}: the population's fingerprint differs now (same count, other rows)",
                        shown(&sample.path)
                    ));
                }
            }
            Err(e) => problems.push(format!("{}: the population cannot be recounted: {e}", shown(&sample.path))),
        }
    }
    progress.step("recounted", total, total);
    true
}

/// The files an in-place population was drawn from — its IPE lineage's
/// latest refresh of each source read in place — against the disk now: a
/// partition rewritten, removed or added under the frozen sample is named.
fn check_lake(ws: &Workspace, files: &PacketFiles, sample: &PacketSample, problems: &mut Vec<String>) {
    use crate::workspace::ingest::in_place::{LakeFile, changes, describe_file, list_files};
    let ipe_path = format!("{}ipe.json", sample.path.trim_end_matches("sample.json"));
    let Some(ipe) = files.0.get(&ipe_path).and_then(|b| serde_json::from_slice::<Json>(b).ok()) else { return };
    let runs = ipe.get("lineage").and_then(Json::as_array).cloned().unwrap_or_default();
    let mut latest: BTreeMap<String, Vec<LakeFile>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.get("mode").and_then(Json::as_str) == Some("in_place")) {
        let ok = run.get("status").and_then(Json::as_str) == Some("ok");
        let source = run.get("source").and_then(Json::as_str).unwrap_or_default().to_string();
        if let (true, Some(set)) = (ok, run.get("files").and_then(|f| serde_json::from_value(f.clone()).ok())) {
            latest.insert(source, set);
        }
    }
    for (source, recorded) in latest {
        let now: Vec<LakeFile> = match ws.config.source(&source) {
            Some(declared) => list_files(&ws.root, declared).unwrap_or_default(),
            None => recorded.iter().filter_map(|f| describe_file(std::path::Path::new(&f.path)).ok()).collect(),
        };
        for change in changes(&recorded, &now) {
            problems.push(format!(
                "{}: source `{}` read in place: {change} since the draw",
                shown(&ipe_path),
                shown(&source)
            ));
        }
    }
}

fn shown(text: &str) -> String {
    crate::text::visible(text)
}
