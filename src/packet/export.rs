//! `export`: one audit's packet, rendered in memory from its dossier, sealed
//! by a manifest, written whole (a folder or a zip). It only reads the
//! workspace, so a read-only workspace and a closed audit export alike.

use std::path::{Path, PathBuf};

use super::PacketError;
use super::archive::{self, write_dir, write_zip};
use super::dossier::{Dossier, gather};
use super::files::{PacketFiles, component};
use super::manifest::{self, FORMAT, LogHead, MANIFEST, Manifest, Previous, SUMS, sha256_hex};
use super::oscal_input;
use super::render::{self, INDEX_TEMPLATE, README_TEMPLATE};
use super::tables::{action_log_jsonl, findings_csv, findings_json, occurrences_csv, pretty};
use super::workpaper::{self, Workpaper};
use crate::progress::{Progress, Silent};
use crate::workspace::Workspace;

/// Where the workspace keeps its packets.
pub const PACKETS_DIR: &str = "packets";

#[derive(Debug, Clone)]
pub struct PacketRequest<'a> {
    pub label: &'a str,
    /// A folder (or, with `zip`, a `.zip` file or a folder to put it in);
    /// default `packets/<LABEL>` (or `packets/<LABEL>.zip`) in the workspace.
    pub out: Option<&'a Path>,
    pub zip: bool,
}

#[derive(Debug, Clone)]
pub struct Exported {
    pub path: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub manifest_sha256: String,
    pub head: LogHead,
    pub unreviewed: Vec<String>,
    pub previous: Option<Previous>,
}

pub fn export(ws: &Workspace, request: &PacketRequest<'_>) -> Result<Exported, PacketError> {
    export_with(ws, request, &Silent)
}

/// Exports the audit's packet; `progress` hears one step per control, then
/// the rendering and the writing.
pub fn export_with(
    ws: &Workspace,
    request: &PacketRequest<'_>,
    progress: &dyn Progress,
) -> Result<Exported, PacketError> {
    let dossier = gather(ws, request.label, progress)?;
    let steps = dossier.controls.len() as u64 + 3;
    progress.step("rendering", steps - 2, steps);
    let mut files = contents(ws, &dossier)?;
    let target = target(ws, request);
    let previous = previous_packet(ws, &dossier, &target);
    let manifest = Manifest {
        format: FORMAT.to_string(),
        audit: dossier.summary.audit.label.clone(),
        generated_at: ws.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        mapping_version: dossier.mapping_version.clone(),
        audit_mapping_version: dossier.summary.audit.mapping_version.clone(),
        workspace_id: dossier.workspace_id.clone(),
        action_log_head: LogHead { seq: dossier.head.seq, hash: dossier.head.hash.clone() },
        previous: previous.clone(),
        files: manifest::entries(&files),
        seal: String::new(),
    }
    .sealed();
    let sums = manifest::sums(&files);
    files.add(SUMS, sums);
    let manifest_bytes = pretty(&serde_json::to_value(&manifest)?);
    let manifest_sha256 = sha256_hex(&manifest_bytes);
    files.add(MANIFEST, manifest_bytes);
    progress.step("writing", steps - 1, steps);
    if request.zip {
        write_zip(&files, &target)?;
    } else {
        write_dir(&files, &target)?;
    }
    progress.step("done", steps, steps);
    Ok(Exported {
        path: target,
        files: files.0.len(),
        bytes: files.0.values().map(|b| b.len() as u64).sum(),
        manifest_sha256,
        head: manifest.action_log_head,
        unreviewed: dossier.unreviewed.clone(),
        previous,
    })
}

/// Every file but the manifest and the sums: the same bytes for the same
/// audit and log head.
pub fn contents(ws: &Workspace, dossier: &Dossier) -> Result<PacketFiles, PacketError> {
    let mut files = PacketFiles::default();
    let mut papers: Vec<Workpaper> = Vec::new();
    for control in &dossier.controls {
        for drawn in &control.samples {
            let paper = workpaper::workpaper(dossier, control, drawn);
            let dir = &paper.dir;
            let csv = workpaper::to_csv(&paper).map_err(|e| csv_error(dir, &e))?;
            files.add(format!("{dir}/workpaper.csv"), csv);
            files.add(format!("{dir}/sample.json"), pretty(&drawn.sample.to_json()));
            files.add(format!("{dir}/population.sql"), format!("{}\n", drawn.ipe.population_sql));
            files.add(format!("{dir}/recount.sql"), format!("{}\n", drawn.ipe.recount_sql));
            files.add(format!("{dir}/reperform.sql"), format!("{}\n", drawn.ipe.reperform_sql));
            files.add(format!("{dir}/ipe.json"), pretty(&serde_json::to_value(&drawn.ipe)?));
            let slots: Vec<_> = control.occurrences.iter().filter(|s| s.spec == drawn.sample.spec).collect();
            if !slots.is_empty() {
                let path = format!("{dir}/occurrences.csv");
                files.add(path.clone(), occurrences_csv(&slots).map_err(|e| csv_error(&path, &e))?);
            }
            super::evidence_files::add(ws, control, drawn, dir, &mut files)?;
            papers.push(paper);
        }
    }
    files.add("findings.json", findings_json(dossier));
    files.add("findings.csv", findings_csv(dossier).map_err(|e| csv_error("findings.csv", &e))?);
    files.add("action-log.jsonl", action_log_jsonl(dossier));
    let input = oscal_input::input(dossier, &papers, &files);
    files.add("oscal/assessment-results.json", pretty(&super::oscal::assessment_results(&input)));
    files.add("oscal/poam.json", pretty(&super::oscal::poam(&input)));
    let env = render::environment(&ws.root)?;
    let mut listed: Vec<String> = files.0.keys().cloned().collect();
    listed.extend(["README.md", "index.html", MANIFEST, SUMS].map(String::from));
    listed.sort();
    let context = render::context(dossier, &papers, &listed);
    files.add("README.md", render::render(&env, README_TEMPLATE, &context)?);
    files.add("index.html", render::render(&env, INDEX_TEMPLATE, &context)?);
    Ok(files)
}

fn csv_error(path: &str, e: &csv::Error) -> PacketError {
    PacketError::Unreadable { what: format!("{path} being written: {e}") }
}

/// Where the packet goes: `--out`, else `packets/<LABEL>` in the workspace.
fn target(ws: &Workspace, request: &PacketRequest<'_>) -> PathBuf {
    let name = component(request.label);
    match (request.out, request.zip) {
        (Some(out), false) => out.to_path_buf(),
        (Some(out), true) if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) => out.to_path_buf(),
        (Some(out), true) => out.join(format!("{name}.zip")),
        (None, false) => ws.root.join(PACKETS_DIR).join(name),
        (None, true) => ws.root.join(PACKETS_DIR).join(format!("{name}.zip")),
    }
}

/// The previous audit's packet, where the workspace keeps packets (a folder
/// or a zip), or beside this one: its manifest's hash links the chain.
fn previous_packet(ws: &Workspace, dossier: &Dossier, target: &Path) -> Option<Previous> {
    let previous = dossier.summary.previous.as_ref()?;
    let name = component(&previous.label);
    let beside = target.parent().map(Path::to_path_buf).unwrap_or_default();
    let places = [ws.root.join(PACKETS_DIR), beside];
    for place in &places {
        for candidate in [place.join(&name), place.join(format!("{name}.zip"))] {
            let Ok(files) = archive::read(&candidate) else { continue };
            if let Some(bytes) = files.get(MANIFEST) {
                let parsed: Option<Manifest> = serde_json::from_slice(bytes).ok();
                if parsed.is_some_and(|m| m.audit == previous.label && m.workspace_id == dossier.workspace_id) {
                    return Some(Previous { audit: previous.label.clone(), manifest_sha256: sha256_hex(bytes) });
                }
            }
        }
    }
    None
}
