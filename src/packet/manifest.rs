//! `manifest.json` seals a packet: every file's path, size and sha256, the
//! action-log head at export, the tool and mapping versions, and the hash of
//! the previous packet's manifest (the packets of one workspace form a
//! chain). It seals itself: `seal` is the sha256 of its own canonical JSON
//! without the seal, so a change to any byte of it shows. `SHA256SUMS`
//! repeats every other file's hash for `sha256sum -c`. The generation time
//! lives here and nowhere else: every other file of a re-export of an
//! unchanged audit is byte-identical.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::files::PacketFiles;
use crate::workspace::action_log::hash_chain::canonical_json;

pub const MANIFEST: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";
pub const FORMAT: &str = "quarterdeck-packet/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHead {
    pub seq: i64,
    pub hash: String,
}

/// The packet this one follows: the previous audit's, as found beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub audit: String,
    pub manifest_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub audit: String,
    pub generated_at: String,
    pub tool_version: String,
    /// The workspace's mappings at export, and those the audit froze.
    pub mapping_version: String,
    pub audit_mapping_version: String,
    pub workspace_id: String,
    pub action_log_head: LogHead,
    pub previous: Option<Previous>,
    pub files: Vec<FileEntry>,
    /// sha256 of the canonical JSON of this manifest without `seal`.
    #[serde(default)]
    pub seal: String,
}

impl Manifest {
    /// The seal this manifest's content calls for.
    pub fn expected_seal(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("seal");
        }
        sha256_hex(canonical_json(&value).as_bytes())
    }

    /// The manifest with its seal set.
    pub fn sealed(mut self) -> Self {
        self.seal = self.expected_seal();
        self
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file's entry, in path order.
pub fn entries(files: &PacketFiles) -> Vec<FileEntry> {
    files
        .0
        .iter()
        .map(|(path, bytes)| FileEntry { path: path.clone(), size: bytes.len() as u64, sha256: sha256_hex(bytes) })
        .collect()
}

/// `SHA256SUMS`: `hash  path` a line, for every file given (all but the
/// manifest and the sums), in path order.
pub fn sums(files: &PacketFiles) -> Vec<u8> {
    let mut out = String::new();
    for (path, bytes) in &files.0 {
        out.push_str(&format!("{}  {path}\n", sha256_hex(bytes)));
    }
    out.into_bytes()
}

/// Reads `SHA256SUMS` back: (path, hash) a line, or the line that is not one.
pub fn parse_sums(text: &str) -> Result<Vec<(String, String)>, usize> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let (hash, path) = line.split_once("  ").ok_or(i + 1)?;
            let valid = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !valid || path.is_empty() {
                return Err(i + 1);
            }
            Ok((path.to_string(), hash.to_string()))
        })
        .collect()
}
