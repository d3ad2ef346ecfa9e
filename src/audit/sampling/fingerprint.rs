//! The population fingerprint (DESIGN.md, "Sampling"): lowercase hex
//! sha256 of the population's sorted lowercase hex sha256(key) values
//! joined by "\n", no trailing newline; and, from the same sorted digests,
//! the keys that occur more than once.
//!
//! The final sha256 is one sequential stream by definition (65 bytes per
//! row), so everything else is taken off its thread: the digests are split
//! by their first byte (in each batch the draw function taps, or by one
//! in-place pass here), and worker threads gather, sort and render each
//! bucket as hex lines while the calling thread hashes the buckets before
//! it, in order.

use std::sync::mpsc::{Receiver, sync_channel};

use sha2::{Digest, Sha256};

use crate::workspace::functions::DigestBatch;
use crate::workspace::functions::prefixed_sha256::Digest32;

/// How many duplicated key hashes a fingerprint keeps (all are counted).
pub const SHOWN_DUPLICATES: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// hex sha256 over the sorted key hashes.
    pub hex: String,
    /// Rows (digests) seen, duplicates included.
    pub population: u64,
    /// The first [`SHOWN_DUPLICATES`] repeated key hashes, ascending, hex.
    pub duplicate_keys: Vec<String>,
    /// How many distinct key hashes occur more than once.
    pub duplicate_count: u64,
}

/// The fingerprint of `digests` (any order; sorted in place), on up to
/// `threads` threads.
pub fn of_digests(digests: &mut [Digest32], threads: usize) -> Fingerprint {
    of_buckets(partition(digests, 0), threads)
}

/// The fingerprint of the digests of tapped batches: bucket `b` is
/// gathered from every batch by the thread that sorts it, so the digests
/// are never copied all at once.
pub fn of_batches(batches: &[DigestBatch], threads: usize) -> Fingerprint {
    pipeline((0..=255u8).collect(), threads, |b| {
        let mut bucket: Vec<Digest32> = Vec::with_capacity(batches.iter().map(|batch| batch.bucket(b).len()).sum());
        for batch in batches {
            bucket.extend_from_slice(batch.bucket(b));
        }
        render(&mut bucket)
    })
}

/// The fingerprint of digests split into buckets by their first byte, in
/// ascending order (every digest of a bucket below every digest of the
/// next), each in any order.
pub fn of_buckets(buckets: Vec<&mut [Digest32]>, threads: usize) -> Fingerprint {
    pipeline(buckets, threads, render)
}

/// The fingerprint of digests spilled to files, one per leading byte in
/// ascending order, each 32-byte digests back to back in any order: one
/// bucket is in memory per thread at a time, whatever the population.
pub fn of_spilled(files: Vec<std::path::PathBuf>, threads: usize) -> std::io::Result<Fingerprint> {
    let failed = std::sync::Mutex::new(None);
    let print = pipeline(files, threads, |path| {
        let mut bucket: Vec<Digest32> = match std::fs::read(&path) {
            Ok(bytes) if bytes.len() % 32 == 0 => bytes
                .chunks_exact(32)
                .map(|c| {
                    let mut d = [0u8; 32];
                    d.copy_from_slice(c);
                    d
                })
                .collect(),
            Ok(_) => {
                let torn = std::io::Error::other(format!("{}: a torn digest", path.display()));
                failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(torn);
                Vec::new()
            }
            Err(e) => {
                failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(e);
                Vec::new()
            }
        };
        render(&mut bucket)
    });
    match failed.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        Some(e) => Err(e),
        None => Ok(print),
    }
}

/// Renders each bucket (sorted, as hex lines) and hashes them in order.
/// One thread hashes; the others render, round robin, a few buckets ahead.
fn pipeline<B: Send>(buckets: Vec<B>, threads: usize, render: impl Fn(B) -> Rendered + Sync) -> Fingerprint {
    let mut scan = Scan::default();
    if threads <= 1 {
        buckets.into_iter().for_each(|bucket| scan.feed(render(bucket)));
        return scan.finish();
    }
    let sorters = threads - 1;
    let total = buckets.len();
    let mut queues: Vec<Vec<B>> = (0..sorters).map(|_| Vec::new()).collect();
    for (i, bucket) in buckets.into_iter().enumerate() {
        queues[i % sorters].push(bucket);
    }
    let render = &render;
    std::thread::scope(|scope| {
        let lanes: Vec<Receiver<Rendered>> = queues
            .into_iter()
            .map(|queue| {
                // A few buckets ahead at most: their text is 65 bytes a row.
                let (tx, rx) = sync_channel(2);
                scope.spawn(move || {
                    for bucket in queue {
                        if tx.send(render(bucket)).is_err() {
                            break;
                        }
                    }
                });
                rx
            })
            .collect();
        for i in 0..total {
            match lanes[i % sorters].recv() {
                Ok(rendered) => scan.feed(rendered),
                // The sorter panicked; leaving the scope re-raises it.
                Err(_) => break,
            }
        }
    });
    scan.finish()
}

/// Lowercase hex of every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let digits = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [digits[i >> 4], digits[i & 15]];
        i += 1;
    }
    table
};

/// One bucket sorted and rendered: its digests as hex lines, each ending
/// in "\n", and its repeats (which never cross buckets).
struct Rendered {
    text: Vec<u8>,
    rows: u64,
    repeats: u64,
    shown: Vec<String>,
}

fn render(bucket: &mut [Digest32]) -> Rendered {
    const LINE: usize = 65;
    radix_sort(bucket, 1);
    let mut text = vec![0u8; bucket.len() * LINE];
    let (mut repeats, mut shown, mut repeating) = (0, Vec::new(), false);
    for (i, (digest, line)) in bucket.iter().zip(text.chunks_exact_mut(LINE)).enumerate() {
        for (pair, byte) in line.chunks_exact_mut(2).zip(digest) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(*byte)]);
        }
        line[64] = b'\n';
        if i > 0 && bucket[i - 1] == *digest {
            if !repeating {
                repeats += 1;
                if shown.len() < SHOWN_DUPLICATES {
                    shown.push(hex::encode(digest));
                }
            }
            repeating = true;
        } else {
            repeating = false;
        }
    }
    Rendered { text, rows: bucket.len() as u64, repeats, shown }
}

/// The sequential part: the buckets' text into one sha256, joined by "\n".
#[derive(Default)]
struct Scan {
    hasher: Sha256,
    rows: u64,
    repeats: u64,
    shown: Vec<String>,
}

impl Scan {
    fn feed(&mut self, rendered: Rendered) {
        let Some((_, lines)) = rendered.text.split_last() else { return };
        if self.rows > 0 {
            self.hasher.update(b"\n");
        }
        self.hasher.update(lines);
        self.rows += rendered.rows;
        self.repeats += rendered.repeats;
        let room = SHOWN_DUPLICATES.saturating_sub(self.shown.len());
        self.shown.extend(rendered.shown.into_iter().take(room));
    }

    fn finish(self) -> Fingerprint {
        Fingerprint {
            hex: hex::encode(self.hasher.finalize()),
            population: self.rows,
            duplicate_keys: self.shown,
            duplicate_count: self.repeats,
        }
    }
}

/// Below this many digests a comparison sort beats another radix pass.
const SMALL: usize = 256;
/// Radix passes on leading bytes before the comparison sort takes over.
const RADIX_BYTES: usize = 2;

fn radix_sort(digests: &mut [Digest32], byte: usize) {
    if digests.len() <= SMALL || byte == RADIX_BYTES {
        return comparison_sort(digests);
    }
    for bucket in partition(digests, byte) {
        radix_sort(bucket, byte + 1);
    }
}

/// In-place partition by `digests[..][byte]` (American flag sort): returns
/// the 256 buckets in order.
fn partition(digests: &mut [Digest32], byte: usize) -> Vec<&mut [Digest32]> {
    let mut ends = [0usize; 256];
    for d in digests.iter() {
        ends[usize::from(d[byte])] += 1;
    }
    let mut next = [0usize; 256];
    let mut total = 0;
    for (b, end) in ends.iter_mut().enumerate() {
        next[b] = total;
        total += *end;
        *end = total;
    }
    for b in 0..256 {
        while next[b] < ends[b] {
            // Carry the item at the bucket's frontier to where it belongs,
            // picking up what was there, until one belongs here.
            let mut item = digests[next[b]];
            loop {
                let home = usize::from(item[byte]);
                if home == b {
                    break;
                }
                std::mem::swap(&mut item, &mut digests[next[home]]);
                next[home] += 1;
            }
            digests[next[b]] = item;
            next[b] += 1;
        }
    }
    let mut rest = digests;
    let mut start = 0;
    let mut buckets = Vec::with_capacity(256);
    for end in ends {
        let (bucket, tail) = std::mem::take(&mut rest).split_at_mut(end - start);
        buckets.push(bucket);
        rest = tail;
        start = end;
    }
    buckets
}

/// Sorts by the leading 64 bits first (cheap integer compares), the whole
/// digest only on a tie.
fn comparison_sort(digests: &mut [Digest32]) {
    fn word(d: &Digest32) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&d[..8]);
        u64::from_be_bytes(w)
    }
    digests.sort_unstable_by(|a, b| word(a).cmp(&word(b)).then_with(|| a.cmp(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(digests: &[Digest32]) -> String {
        let mut lines: Vec<String> = digests.iter().map(hex::encode).collect();
        lines.sort();
        hex::encode(Sha256::digest(lines.join("\n").as_bytes()))
    }

    #[test]
    fn sorts_skewed_digests_on_any_thread_count() {
        // Shared leading bytes force the deeper radix passes and big buckets.
        let mut state = 3u64;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            state
        };
        let digests: Vec<Digest32> = (0..300_000)
            .map(|i| {
                let mut d = [0u8; 32];
                for chunk in d.chunks_mut(8) {
                    chunk.copy_from_slice(&next().to_be_bytes());
                }
                match i % 4 {
                    0 => d[..3].copy_from_slice(&[7, 7, 7]),
                    1 => d[0] = 200,
                    2 => d = [9; 32],
                    _ => {}
                }
                d
            })
            .collect();
        let expected = naive(&digests);
        for threads in [1, 2, 3, 8] {
            let print = of_digests(&mut digests.clone(), threads);
            assert_eq!(print.hex, expected, "threads={threads}");
            assert_eq!(print.population, 300_000);
            assert_eq!((print.duplicate_keys, print.duplicate_count), (vec![hex::encode([9u8; 32])], 1));
        }
    }

    #[test]
    fn batches_equal_one_vector() {
        let digests: Vec<Digest32> = (0..5000u32).map(|i| Sha256::digest(i.to_le_bytes()).into()).collect();
        let batches: Vec<DigestBatch> = digests.chunks(777).map(DigestBatch::new).collect();
        assert_eq!(batches.iter().map(DigestBatch::len).sum::<usize>(), 5000);
        for threads in [1, 2, 3] {
            assert_eq!(of_batches(&batches, threads), of_digests(&mut digests.clone(), threads));
        }
        assert_eq!(of_batches(&[], 2).hex, hex::encode(Sha256::digest(b"")));
    }

    #[test]
    fn empty_and_tiny_populations() {
        for threads in [1, 2] {
            assert_eq!(of_digests(&mut [], threads).hex, hex::encode(Sha256::digest(b"")));
            let one = [[0xab; 32]];
            assert_eq!(of_digests(&mut one.clone(), threads).hex, naive(&one));
            let edges = [[0xff; 32], [0; 32], [0xff; 32]];
            let print = of_digests(&mut edges.clone(), threads);
            assert_eq!(print.hex, naive(&edges));
            assert_eq!(print.duplicate_count, 1);
        }
    }
}
