//! Per-row key digests streamed out of a warehouse, spilled to 256 files
//! by their leading byte as they arrive, so that the fingerprint of a
//! population of any size is computed with one bucket in memory at a time.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::audit::sampling::fingerprint::{self, Fingerprint};
use crate::workspace::functions::prefixed_sha256::Digest32;

pub struct Spill {
    dir: PathBuf,
    files: Vec<BufWriter<File>>,
    pub rows: u64,
}

impl Spill {
    /// A fresh folder under the system's temp dir, removed on drop.
    pub fn new() -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("quarterdeck-digests-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let files = (0..256)
            .map(|b| File::create(dir.join(format!("{b:02x}"))).map(|f| BufWriter::with_capacity(1 << 15, f)))
            .collect::<Result<_, _>>();
        match files {
            Ok(files) => Ok(Self { dir, files, rows: 0 }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// One digest.
    pub fn push(&mut self, digest: &[u8; 32]) -> std::io::Result<()> {
        self.files[usize::from(digest[0])].write_all(digest)?;
        self.rows += 1;
        Ok(())
    }

    /// One digest as lowercase hex (64 characters); false when it is not.
    pub fn push_hex(&mut self, hex: &str) -> std::io::Result<bool> {
        let mut digest = [0u8; 32];
        if hex.len() != 64
            || hex.bytes().any(|b| b.is_ascii_uppercase())
            || hex::decode_to_slice(hex, &mut digest).is_err()
        {
            return Ok(false);
        }
        self.files[usize::from(digest[0])].write_all(&digest)?;
        self.rows += 1;
        Ok(true)
    }

    /// The fingerprint of every digest pushed (they stay, for [`Spill::absent`]).
    pub fn fingerprint(&mut self, threads: usize) -> std::io::Result<Fingerprint> {
        for file in &mut self.files {
            file.flush()?;
        }
        let paths = (0..=255).map(|b| self.bucket(b)).collect();
        fingerprint::of_spilled(paths, threads)
    }

    /// Those of `digests` that were never pushed (after
    /// [`Spill::fingerprint`]): each bucket one of them falls in is read
    /// once, whatever their number.
    pub fn absent(&mut self, digests: &[Digest32]) -> std::io::Result<Vec<Digest32>> {
        for file in &mut self.files {
            file.flush()?;
        }
        let mut wanted: Vec<Digest32> = digests.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut absent = Vec::new();
        for group in wanted.chunk_by(|a, b| a[0] == b[0]) {
            let bytes = std::fs::read(self.bucket(group[0][0]))?;
            let spilled: std::collections::HashSet<&[u8]> = bytes.chunks_exact(32).collect();
            absent.extend(group.iter().filter(|d| !spilled.contains(d.as_slice())));
        }
        Ok(absent)
    }

    fn bucket(&self, leading: u8) -> PathBuf {
        self.dir.join(format!("{leading:02x}"))
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::sampling::rank::key_hash_hex;

    #[test]
    fn spilled_digests_fingerprint_like_the_digests_in_memory() {
        let keys: Vec<String> = (0..5000).map(|i| format!("key-{i}")).chain(["key-7".to_string()]).collect();
        let mut spill = Spill::new().unwrap();
        for key in &keys {
            assert!(spill.push_hex(&key_hash_hex(key)).unwrap());
        }
        assert!(!spill.push_hex("ABCD").unwrap());
        let dir = spill.dir.clone();
        let spilled = spill.fingerprint(2).unwrap();
        let of = |key: &str| {
            let mut d = [0u8; 32];
            hex::decode_to_slice(key_hash_hex(key), &mut d).unwrap();
            d
        };
        let stray = of("not-a-key");
        assert_eq!(spill.absent(&[of("key-0"), stray, of("key-4999"), stray]).unwrap(), [stray]);
        assert_eq!(spill.absent(&[]).unwrap(), Vec::<Digest32>::new());
        drop(spill);
        let mut digests: Vec<[u8; 32]> = keys
            .iter()
            .map(|k| {
                let mut d = [0u8; 32];
                hex::decode_to_slice(key_hash_hex(k), &mut d).unwrap();
                d
            })
            .collect();
        assert_eq!(spilled, fingerprint::of_digests(&mut digests, 2));
        assert_eq!(spilled.duplicate_count, 1);
        assert!(!dir.exists(), "the spill folder is removed");
    }
}
