//! The content-addressed store under `evidence/blobs/`: a file kept by its
//! sha256 (`evidence/blobs/ab/abcd…`), read-only, never rewritten — what a
//! verdict or a packet cites is exactly the bytes that were hashed. A file
//! is read once: each chunk goes to the hasher and, when it is to be kept,
//! to a temporary file that is renamed into place once its hash is known.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

pub const BLOBS_DIR: &str = "evidence/blobs";
const INCOMING: &str = ".incoming";
const CHUNK: usize = 1 << 20;

/// Where the blob of this hash lives, relative to the workspace.
pub fn relative_path(sha256: &str) -> String {
    let prefix = sha256.get(..2).unwrap_or("00");
    format!("{BLOBS_DIR}/{prefix}/{sha256}")
}

pub fn path(root: &Path, sha256: &str) -> PathBuf {
    root.join(relative_path(sha256))
}

/// Whether the store holds this hash (by name; `verify` re-hashes).
pub fn holds(root: &Path, sha256: &str) -> bool {
    path(root, sha256).is_file()
}

/// A file's sha256 and size, reading it once.
pub fn hash(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<(String, u64)> {
    digest_into(reader, buffer, &mut std::io::sink())
}

/// Reads `reader` to its end once, each chunk into the hasher and `out`.
fn digest_into(reader: &mut impl Read, buffer: &mut [u8], out: &mut impl Write) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    loop {
        let n = read_some(reader, buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])?;
        bytes += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), bytes))
}

/// Hashes and keeps a file in the store, reading it once; returns its
/// sha256 and size. A blob already held is left as it is. The caller makes
/// the store durable ([`sync`]) before it records what it stored.
pub fn store(root: &Path, reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<(String, u64)> {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let incoming = root.join(BLOBS_DIR).join(INCOMING);
    std::fs::create_dir_all(&incoming)?;
    let temp = incoming.join(format!("{}-{}", std::process::id(), SERIAL.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut out = std::fs::File::create(&temp)?;
        let (sha, bytes) = digest_into(reader, buffer, &mut out)?;
        let target = path(root, &sha);
        if target.is_file() {
            std::fs::remove_file(&temp)?;
        } else {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut permissions = out.metadata()?.permissions();
            permissions.set_readonly(true);
            std::fs::set_permissions(&temp, permissions)?;
            std::fs::rename(&temp, &target)?;
        }
        Ok((sha, bytes))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Flushes the store's file system to disk: one `syncfs` for all the blobs
/// a collect wrote, instead of one `fsync` each.
pub fn sync(root: &Path) -> std::io::Result<()> {
    let dir = root.join(BLOBS_DIR);
    if !dir.is_dir() {
        return Ok(());
    }
    let handle = std::fs::File::open(&dir)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd as _;
        // SAFETY: syncfs only reads the descriptor, which `handle` keeps open.
        if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    handle.sync_all()?;
    Ok(())
}

/// Reads until the buffer is full or the file ends (fewer, larger hasher
/// updates than one `read` each).
fn read_some(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The sha256 of bytes in memory, as hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A buffer for `hash` and `store`.
pub fn buffer() -> Vec<u8> {
    vec![0u8; CHUNK]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_blob_is_named_by_its_hash_and_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = buffer();
        let (sha, bytes) = store(dir.path(), &mut &b"minutes of the board"[..], &mut buf).unwrap();
        assert_eq!(bytes, 20);
        assert_eq!(sha, hash(&mut &b"minutes of the board"[..], &mut buf).unwrap().0);
        assert_eq!(std::fs::read(path(dir.path(), &sha)).unwrap(), b"minutes of the board");
        assert!(std::fs::metadata(path(dir.path(), &sha)).unwrap().permissions().readonly());
        let again = store(dir.path(), &mut &b"minutes of the board"[..], &mut buf).unwrap();
        assert_eq!(again.0, sha);
        let incoming = std::fs::read_dir(dir.path().join(BLOBS_DIR).join(INCOMING)).unwrap().count();
        assert_eq!(incoming, 0, "no temporary file is left behind");
    }
}
