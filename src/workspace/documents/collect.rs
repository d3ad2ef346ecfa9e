//! `quarterdeck documents collect`: every declared file hashed (on all
//! cores, each read once), new ones kept in the content-addressed store,
//! their sha256, size and collection time recorded and logged, and the
//! `documents` table rebuilt — in one transaction. A file whose content
//! differs from what was collected is reported, not taken: a new version
//! needs a new register entry, or an explicit `--recollect ID`, logged.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::files::{self, Unusable};
use super::{DocumentError, Register, blobs, table};
use crate::workspace::mapping::Mappings;
use crate::workspace::problems::{Problem, did_you_mean};
use crate::workspace::{Workspace, action_log, actor};

/// What became of one declared file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Collected for the first time.
    New,
    /// As it was collected.
    Unchanged,
    /// Its content differs from what was collected; not taken.
    Changed { recorded: String },
    /// Its changed content taken, as asked (`--recollect`).
    Recollected { previous: String },
}

#[derive(Debug, Clone)]
pub struct CollectedFile {
    pub document: String,
    pub version: String,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub outcome: Outcome,
}

/// A collect's result: each file, and the log entry that recorded it.
#[derive(Debug, Clone)]
pub struct Collection {
    pub files: Vec<CollectedFile>,
    pub documents: usize,
    pub logged_seq: i64,
}

impl Collection {
    pub fn changed(&self) -> impl Iterator<Item = &CollectedFile> {
        self.files.iter().filter(|f| matches!(f.outcome, Outcome::Changed { .. }))
    }
}

/// The current recorded hash of each (document, version, path).
pub type Recorded = BTreeMap<(String, String, String), (String, u64, String)>;

pub fn recorded(conn: &duckdb::Connection) -> duckdb::Result<Recorded> {
    let mut stmt = conn.prepare(
        "SELECT document, version, path, sha256, bytes, strftime(collected_at, '%Y-%m-%d %H:%M:%S')
         FROM qd.document_files WHERE current",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(((r.get(0)?, r.get(1)?, r.get(2)?), (r.get(3)?, r.get::<_, i64>(4)? as u64, r.get(5)?)))
    })?;
    rows.collect()
}

/// Collects every document of the register; `recollect` names documents
/// whose changed files are to be taken as they now are.
pub fn collect(ws: &Workspace, mappings: &Mappings, recollect: &[String]) -> Result<Collection, DocumentError> {
    ws.ensure_writable("documents collect")?;
    let register = Register::load(&ws.root);
    let problems: Vec<Problem> =
        super::check(&ws.root, &register, mappings).into_iter().filter(|p| !p.warning).collect();
    if !problems.is_empty() {
        return Err(DocumentError::Register(problems));
    }
    for id in recollect {
        if !register.documents.iter().any(|d| d.id == *id) {
            let hint = did_you_mean(id, register.documents.iter().map(|d| d.id.as_str()));
            return Err(DocumentError::UnknownDocument(id.clone(), hint));
        }
    }
    let recorded_before = recorded(&ws.conn)?;
    let before = &recorded_before;
    let jobs: Vec<Job> = register
        .documents
        .iter()
        .flat_map(|d| {
            d.files.iter().map(move |f| {
                let recorded = before.get(&(d.id.clone(), d.version.clone(), f.value.clone())).map(|r| r.0.clone());
                let keep = match &recorded {
                    None => true,
                    Some(sha) => recollect.contains(&d.id) || !blobs::holds(&ws.root, sha),
                };
                Job { document: d.id.clone(), version: d.version.clone(), path: f.value.clone(), recorded, keep }
            })
        })
        .collect();
    let hashed = hash_all(&ws.root, &jobs);
    let mut files = Vec::with_capacity(jobs.len());
    let mut unreadable = Vec::new();
    for (job, result) in jobs.into_iter().zip(hashed) {
        match result {
            Ok((sha256, bytes)) => {
                let outcome = match job.recorded {
                    None => Outcome::New,
                    Some(recorded) if recorded == sha256 => Outcome::Unchanged,
                    Some(previous) if recollect.contains(&job.document) => Outcome::Recollected { previous },
                    Some(recorded) => Outcome::Changed { recorded },
                };
                files.push(CollectedFile {
                    document: job.document,
                    version: job.version,
                    path: job.path,
                    sha256,
                    bytes,
                    outcome,
                });
            }
            Err(why) => unreadable.push((job, why)),
        }
    }
    // A file that went between the check and the read: nothing recorded.
    if !unreadable.is_empty() {
        let problems = unreadable
            .into_iter()
            .filter_map(|(job, why)| {
                let document = register.document(&job.document, &job.version)?;
                let file = document.files.iter().find(|f| f.value == job.path)?;
                Some(Problem::error(
                    file.location.clone(),
                    format!("document `{}`: file `{}`: {why}", job.document, job.path),
                ))
            })
            .collect();
        return Err(DocumentError::Register(problems));
    }
    // What the log will say is kept must be on disk first.
    blobs::sync(&ws.root).map_err(|source| DocumentError::Io { path: ws.root.join(blobs::BLOBS_DIR), source })?;
    let logged_seq = action_log::change(ws, || record(ws, &register, &files))?;
    Ok(Collection { documents: register.documents.len(), files, logged_seq })
}

fn record(ws: &Workspace, register: &Register, files: &[CollectedFile]) -> Result<i64, DocumentError> {
    let conn = &ws.conn;
    let (now, by) = (ws.now_text(), actor());
    let mut retire =
        conn.prepare("UPDATE qd.document_files SET current = false WHERE document = ? AND version = ? AND path = ?")?;
    let entry = |f: &CollectedFile| json!({"document": f.document, "version": f.version, "path": f.path, "sha256": f.sha256, "bytes": f.bytes});
    let (mut collected, mut recollected, mut changed, mut unchanged) = (vec![], vec![], vec![], 0u64);
    let mut taken = Vec::new();
    for f in files {
        match &f.outcome {
            Outcome::Unchanged => unchanged += 1,
            Outcome::Changed { recorded } => {
                changed.push(json!({"document": f.document, "version": f.version, "path": f.path, "recorded": recorded, "found": f.sha256}));
            }
            Outcome::New => {
                collected.push(entry(f));
                taken.push(entry(f));
            }
            Outcome::Recollected { previous } => {
                retire.execute(duckdb::params![f.document, f.version, f.path])?;
                let mut e = entry(f);
                taken.push(e.clone());
                e["previous"] = json!(previous);
                recollected.push(e);
            }
        }
    }
    // Every file taken in one statement, from one JSON array.
    conn.execute(
        "INSERT INTO qd.document_files
         SELECT f.document, f.version, f.path, f.sha256, f.bytes, CAST(? AS TIMESTAMP), ?, true
         FROM (SELECT unnest(from_json(?, '[{\"document\": \"VARCHAR\", \"version\": \"VARCHAR\", \"path\": \"VARCHAR\", \"sha256\": \"VARCHAR\", \"bytes\": \"BIGINT\"}]')) AS f)",
        duckdb::params![now, by, serde_json::Value::Array(taken).to_string()],
    )?;
    let rows = table::rebuild(ws, register)?;
    let payload = json!({
        "register": register.version,
        "documents": rows,
        "collected": collected,
        "recollected": recollected,
        "changed": changed,
        "unchanged": unchanged,
    });
    Ok(action_log::append(ws, "documents.collect", payload)?.seq)
}

/// A file's sha256 and size, or why it could not be read.
pub type Hashed = Result<(String, u64), Unusable>;

struct Job {
    document: String,
    version: String,
    path: String,
    recorded: Option<String>,
    /// Whether the content goes into the store (else it is only hashed).
    keep: bool,
}

/// Hashes every job's file on all cores, in job order.
fn hash_all(root: &Path, jobs: &[Job]) -> Vec<Hashed> {
    let results: Vec<Mutex<Option<Hashed>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut buffer = blobs::buffer();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = hash_one(root, job, &mut buffer);
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten().unwrap_or(Err(Unusable::Unreadable("not read".into()))))
        .collect()
}

fn hash_one(root: &Path, job: &Job, buffer: &mut [u8]) -> Result<(String, u64), Unusable> {
    let (mut file, _) = files::open(root, &job.path)?;
    let result = if job.keep { blobs::store(root, &mut file, buffer) } else { blobs::hash(&mut file, buffer) };
    result.map_err(|e| Unusable::Unreadable(e.to_string()))
}

/// Hashes the given workspace-relative files on all cores (the state
/// listing's check against what was recorded); never stores.
pub fn hash_files(root: &Path, paths: &[String]) -> Vec<Hashed> {
    let jobs: Vec<Job> = paths
        .iter()
        .map(|p| Job { document: String::new(), version: String::new(), path: p.clone(), recorded: None, keep: false })
        .collect();
    hash_all(root, &jobs)
}
