//! A pull on disk, under `evidence/pulls/<source>/<pull>/`: every raw
//! response as received (`raw/0001.json`, …), the records extracted from
//! them (`records.ndjson`), and `pull.json` — each request with its status,
//! kept headers and sha256, the totals, the outcome. The folder is written
//! as `<pull>.partial` and renamed when the pull ends, so a pull is either
//! whole on disk or not there; only a pull that succeeded is ever loaded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ConnectorError;
use super::client::Page;

pub const PULLS_DIR: &str = "evidence/pulls";
pub const MANIFEST: &str = "pull.json";
pub const RECORDS: &str = "records.ndjson";
const PARTIAL: &str = ".partial";

/// One HTTP exchange of a pull, as its manifest lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    pub n: u32,
    pub url: String,
    pub status: u16,
    pub attempts: u32,
    pub millis: u64,
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    /// Records the page held (None for a request that is not a page of records).
    pub records: Option<u64>,
    pub headers: Vec<(String, String)>,
    /// A secret echoed in the body was replaced by `***` before storing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// `records.ndjson` as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordsFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub rows: u64,
}

/// `pull.json`: what a pull fetched and how it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub pull_id: String,
    pub source: String,
    pub format: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub millis: u64,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub exchanges: Vec<Exchange>,
    pub records: RecordsFile,
    /// Records the API said there were, where it says.
    pub total_reported: Option<u64>,
    /// Records the pages held.
    pub pulled: u64,
    /// The newest value of the source's timestamp among the records.
    pub newest: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

impl Manifest {
    pub fn succeeded(&self) -> bool {
        self.status == "complete"
    }

    /// The run record's summary of the pull (no headers: those stay on disk).
    pub fn summary(&self, folder: &str) -> serde_json::Value {
        serde_json::json!({
            "pull_id": self.pull_id, "folder": folder, "status": self.status, "millis": self.millis,
            "requests": self.exchanges.len(),
            "pages": self.exchanges.iter().filter(|e| e.records.is_some()).count(),
            "pulled": self.pulled, "total_reported": self.total_reported,
            "since": self.since, "until": self.until,
            "first_url": self.exchanges.first().map(|e| e.url.clone()),
            "raw": self.exchanges.iter().map(|e| serde_json::json!({"file": e.file, "sha256": e.sha256, "bytes": e.bytes})).collect::<Vec<_>>(),
        })
    }
}

/// A pull being written.
pub struct PullWriter {
    pub pull_id: String,
    final_dir: PathBuf,
    dir: PathBuf,
    records: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
    pub rows: u64,
    pub exchanges: Vec<Exchange>,
}

impl PullWriter {
    pub fn create(root: &Path, source: &str, pull_id: &str) -> Result<Self, ConnectorError> {
        let parent = root.join(PULLS_DIR).join(source);
        let final_dir = parent.join(pull_id);
        let dir = parent.join(format!("{pull_id}{PARTIAL}"));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ConnectorError::Io { path, source }
        };
        std::fs::create_dir_all(dir.join("raw")).map_err(io(&dir))?;
        let file = File::create(dir.join(RECORDS)).map_err(io(&dir))?;
        Ok(Self {
            pull_id: pull_id.to_string(),
            final_dir,
            dir,
            records: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
            rows: 0,
            exchanges: Vec::new(),
        })
    }

    /// Stores a response as received (less any echoed secret).
    pub fn exchange(
        &mut self,
        page: &Page,
        body: &[u8],
        redacted: bool,
        records: Option<u64>,
    ) -> Result<(), ConnectorError> {
        let n = self.exchanges.len() as u32 + 1;
        let file = format!("raw/{n:04}.json");
        let path = self.dir.join(&file);
        std::fs::write(&path, body).map_err(|source| ConnectorError::Io { path, source })?;
        self.exchanges.push(Exchange {
            n,
            url: page.url.clone(),
            status: page.status,
            attempts: page.attempts,
            millis: page.elapsed.as_millis() as u64,
            file,
            sha256: hex::encode(Sha256::digest(body)),
            bytes: body.len() as u64,
            records,
            headers: page.headers.clone(),
            redacted,
        });
        Ok(())
    }

    /// Appends one row to `records.ndjson`.
    pub fn row(&mut self, row: &serde_json::Value) -> Result<(), ConnectorError> {
        let mut line = serde_json::to_vec(row).map_err(|e| ConnectorError::Client(e.to_string()))?;
        line.push(b'\n');
        self.hasher.update(&line);
        self.bytes += line.len() as u64;
        self.rows += 1;
        let path = self.dir.join(RECORDS);
        self.records.write_all(&line).map_err(|source| ConnectorError::Io { path, source })
    }

    /// Writes the manifest and moves the folder into place.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<(Manifest, PathBuf), ConnectorError> {
        let records_path = self.dir.join(RECORDS);
        self.records.flush().map_err(|source| ConnectorError::Io { path: records_path.clone(), source })?;
        manifest.exchanges = std::mem::take(&mut self.exchanges);
        manifest.records = RecordsFile {
            path: RECORDS.into(),
            sha256: hex::encode(self.hasher.clone().finalize()),
            bytes: self.bytes,
            rows: self.rows,
        };
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| ConnectorError::Client(e.to_string()))?;
        let path = self.dir.join(MANIFEST);
        std::fs::write(&path, text).map_err(|source| ConnectorError::Io { path, source })?;
        drop(self.records);
        std::fs::rename(&self.dir, &self.final_dir)
            .map_err(|source| ConnectorError::Io { path: self.final_dir.clone(), source })?;
        Ok((manifest, self.final_dir))
    }
}

/// A pull found on disk.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Pulled {
    pub fn records_path(&self) -> PathBuf {
        self.dir.join(RECORDS)
    }

    /// The folder relative to the workspace, for records and messages.
    pub fn folder(&self, root: &Path) -> String {
        self.dir.strip_prefix(root).unwrap_or(&self.dir).display().to_string()
    }
}

/// Every finished pull of `source` on disk whose id `wanted` accepts, oldest
/// first. A folder whose manifest does not read is reported, not skipped.
pub fn pulls(root: &Path, source: &str, wanted: impl Fn(&str) -> bool) -> Result<Vec<Pulled>, ConnectorError> {
    let parent = root.join(PULLS_DIR).join(source);
    let entries = match std::fs::read_dir(&parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ConnectorError::Io { path: parent, source }),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ConnectorError::Io { path: parent.clone(), source })?;
        let dir = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(PARTIAL) || !dir.is_dir() || !wanted(&name) {
            continue;
        }
        let path = dir.join(MANIFEST);
        let text = std::fs::read(&path).map_err(|source| ConnectorError::Io { path: path.clone(), source })?;
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| ConnectorError::BadManifest { path: path.clone(), detail: e.to_string() })?;
        if manifest.pull_id != name || manifest.source != source {
            return Err(ConnectorError::BadManifest {
                path,
                detail: format!("it names pull `{}` of `{}`, not its folder", manifest.pull_id, manifest.source),
            });
        }
        found.push(Pulled { dir, manifest });
    }
    found.sort_by(|a, b| a.manifest.pull_id.cmp(&b.manifest.pull_id));
    Ok(found)
}

/// The sha256 of a file, for checking a pull before it loads.
pub fn sha256_file(path: &Path) -> Result<String, ConnectorError> {
    let mut file = File::open(path).map_err(|source| ConnectorError::Io { path: path.to_path_buf(), source })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| ConnectorError::Io { path: path.to_path_buf(), source })?;
    Ok(hex::encode(hasher.finalize()))
}

/// A new pull's id: its start time, sortable, and a random suffix.
pub fn new_pull_id(now: DateTime<Utc>) -> String {
    use rand::TryRngCore;
    let mut suffix = [0u8; 4];
    rand::rngs::OsRng.try_fill_bytes(&mut suffix).unwrap_or_default();
    format!("{}-{}", now.format("%Y%m%dT%H%M%S%.3fZ").to_string().replace('.', ""), hex::encode(suffix))
}

const WAITING: &str = "waiting.json";

/// Notes the newest timestamp a finished pull fetched, so the next pull
/// starts there even before this one is loaded (another process may hold
/// the workspace for hours).
pub fn remember_waiting(root: &Path, source: &str, newest: DateTime<Utc>) -> Result<(), ConnectorError> {
    let dir = root.join(PULLS_DIR).join(source);
    let newest = waiting_newest(root, source).map_or(newest, |n| n.max(newest));
    let path = dir.join(WAITING);
    let tmp = dir.join(format!("{WAITING}.tmp"));
    let text = serde_json::json!({ "newest": newest }).to_string();
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| ConnectorError::Io { path, source })
}

/// The newest timestamp fetched and noted by [`remember_waiting`].
pub fn waiting_newest(root: &Path, source: &str) -> Option<DateTime<Utc>> {
    let text = std::fs::read(root.join(PULLS_DIR).join(source).join(WAITING)).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    value.get("newest")?.as_str()?.parse().ok()
}

/// Forgets the note: a pull that did not load must not move the next
/// pull's start past its records.
pub fn forget_waiting(root: &Path, source: &str) {
    let _ = std::fs::remove_file(root.join(PULLS_DIR).join(source).join(WAITING));
}
