//! Sample selection by hash rank (DESIGN.md, "Sampling"), exactly as an
//! auditor re-performs it with any tool:
//!
//! - sample seed = hex(sha256(audit_seed ":" control_id ":" spec_name));
//! - rank of a key = hex(sha256(seed ":" key)); rows ascending by rank, the
//!   first *n* are the sample (all rows when there are fewer than *n*);
//! - population fingerprint = hex(sha256 of the sorted hex(sha256(key)) of
//!   every row, joined by "\n", no trailing newline).
//!
//! All hex is lowercase. Ordering raw digests equals ordering their hex, so
//! the hot path compares `[u8; 32]` and only renders hex at the end.

use std::collections::BinaryHeap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

/// How many duplicated key hashes a [`Ranking`] keeps.
pub const SHOWN_DUPLICATES: usize = 5;

type Digest32 = [u8; 32];

/// The seed of one spec's sample within an audit.
pub fn sample_seed(audit_seed: &str, control_id: &str, spec_name: &str) -> String {
    let digest = Sha256::new()
        .chain_update(audit_seed)
        .chain_update(":")
        .chain_update(control_id)
        .chain_update(":")
        .chain_update(spec_name)
        .finalize();
    hex::encode(digest)
}

/// The rank of `key` under the sample seed `seed`.
pub fn rank_hex(seed: &str, key: &str) -> String {
    hex::encode(rank_digest(&seed_prefix(seed), key))
}

/// The per-key hash that goes into the population fingerprint.
pub fn key_hash_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key))
}

/// The hash state after `seed ":"`, cloned for every key.
fn seed_prefix(seed: &str) -> Sha256 {
    Sha256::new().chain_update(seed).chain_update(":")
}

fn rank_digest(prefix: &Sha256, key: &str) -> Digest32 {
    prefix.clone().chain_update(key).finalize().into()
}

/// One selected key with its rank, in ascending rank order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub key: String,
    pub rank: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking {
    /// The sample: the `n` lowest-ranked keys, ascending by rank.
    pub selected: Vec<Ranked>,
    /// Rows seen (duplicates included).
    pub population: u64,
    /// hex sha256 over the sorted key hashes, see the module docs.
    pub fingerprint: String,
    /// The first [`SHOWN_DUPLICATES`] duplicated keys, ascending, given as
    /// their key hash (`key_hash_hex`, = DuckDB `sha256(key)`): the key
    /// strings themselves are not kept for the whole population.
    pub duplicate_keys: Vec<String>,
    /// How many distinct keys occur more than once (0 = keys are unique).
    pub duplicate_count: u64,
}

/// Accumulates keys: a bounded max-heap of the `n` smallest ranks plus the
/// key digest of every row for the fingerprint.
pub struct Ranker {
    prefix: Sha256,
    n: usize,
    /// Max-heap on (rank, key): the root is the worst of the kept ranks.
    heap: BinaryHeap<(Digest32, String)>,
    digests: Vec<Digest32>,
}

impl Ranker {
    pub fn new(seed: &str, n: usize) -> Self {
        Self { prefix: seed_prefix(seed), n, heap: BinaryHeap::with_capacity(n.min(1 << 16)), digests: Vec::new() }
    }

    /// Adds one row. Allocates only when the key enters the heap (and when
    /// the digest vector grows).
    pub fn push(&mut self, key: &str) {
        let rank = rank_digest(&self.prefix, key);
        self.digests.push(Sha256::digest(key).into());
        self.offer(rank, || key.to_owned());
    }

    pub fn push_batch(&mut self, keys: &[String]) {
        self.digests.reserve(keys.len());
        for key in keys {
            self.push(key);
        }
    }

    /// Offers a rank to the heap; `key` is only called when it is kept.
    fn offer(&mut self, rank: Digest32, key: impl FnOnce() -> String) {
        if self.heap.len() < self.n {
            self.heap.push((rank, key()));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && rank < worst.0
        {
            *worst = (rank, key());
        }
    }

    /// Folds in a ranker built with the same seed and `n` over other rows.
    pub fn merge(&mut self, mut other: Ranker) {
        for (rank, key) in std::mem::take(&mut other.heap) {
            self.offer(rank, || key);
        }
        if other.digests.len() > self.digests.len() {
            std::mem::swap(&mut self.digests, &mut other.digests);
        }
        self.digests.extend_from_slice(&other.digests);
    }

    pub fn finish(self) -> Ranking {
        self.finish_on(1)
    }

    /// [`Ranker::finish`], sorting the key digests on up to `threads` threads.
    fn finish_on(mut self, threads: usize) -> Ranking {
        sort_digests(&mut self.digests, threads);
        let (fingerprint, duplicate_keys, duplicate_count) = scan_sorted(&self.digests);
        let selected = self
            .heap
            .into_sorted_vec()
            .into_iter()
            .map(|(rank, key)| Ranked { key, rank: hex::encode(rank) })
            .collect();
        Ranking { selected, population: self.digests.len() as u64, fingerprint, duplicate_keys, duplicate_count }
    }
}

/// Below this many digests a comparison sort beats another radix pass.
const SMALL: usize = 256;
/// Radix passes on leading bytes before the comparison sort takes over.
const RADIX_BYTES: usize = 2;

/// Sorts the digests ascending, in place: an MSD radix sort on the leading
/// bytes (digests are uniform, so buckets are even), the buckets of the
/// first pass shared out among `threads` threads.
fn sort_digests(digests: &mut [Digest32], threads: usize) {
    if threads <= 1 || digests.len() <= SMALL {
        return radix_sort(digests, 0);
    }
    let mut buckets = partition(digests, 0);
    let per_thread = buckets.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for group in buckets.chunks_mut(per_thread) {
            scope.spawn(move || group.iter_mut().for_each(|b| radix_sort(b, 1)));
        }
    });
}

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

/// One pass over the sorted digests: the fingerprint (sha256 of their hex
/// joined by "\n", streamed in chunks), the first few duplicated digests as
/// hex, and how many distinct digests repeat.
fn scan_sorted(sorted: &[Digest32]) -> (String, Vec<String>, u64) {
    const LINE: usize = 65;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; LINE * 1024];
    let mut len = 0;
    let mut shown = Vec::new();
    let mut count = 0u64;
    let mut prev: Option<&Digest32> = None;
    let mut repeating = false;
    for digest in sorted {
        if len + LINE > buf.len() {
            hasher.update(&buf[..len]);
            len = 0;
        }
        if let Some(prev) = prev {
            buf[len] = b'\n';
            len += 1;
            if prev == digest {
                if !repeating {
                    count += 1;
                    if shown.len() < SHOWN_DUPLICATES {
                        shown.push(hex::encode(digest));
                    }
                }
                repeating = true;
            } else {
                repeating = false;
            }
        }
        // 32 bytes always fit the 64-byte target; cannot fail.
        let _ = hex::encode_to_slice(digest, &mut buf[len..len + 64]);
        len += 64;
        prev = Some(digest);
    }
    hasher.update(&buf[..len]);
    (hex::encode(hasher.finalize()), shown, count)
}

/// Ranks batches of keys from a producer on `threads` worker threads (at
/// least one). The calling thread drives `batches` (which need not be
/// `Send`) into a bounded channel; each worker owns a [`Ranker`]; the
/// rankers are merged and their digests sorted in parallel. The result is
/// identical for any thread count and batching.
pub fn rank_parallel<B, I>(batches: I, seed: &str, n: usize, threads: usize) -> Ranking
where
    B: KeyBatch,
    I: Iterator<Item = B>,
{
    let threads = threads.max(1);
    let (tx, rx) = sync_channel::<B>(threads * 2);
    // Shared by the workers only: if they all die, the receiver goes with
    // them and `send` fails instead of blocking forever.
    let rx = Arc::new(Mutex::new(rx));
    let rankers = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&rx);
                scope.spawn(move || worker(&rx, seed, n))
            })
            .collect();
        drop(rx);
        for batch in batches {
            if tx.send(batch).is_err() {
                break; // every worker panicked; the joins below re-raise it
            }
        }
        drop(tx);
        workers.into_iter().map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect::<Vec<_>>()
    });
    let mut merged = Ranker::new(seed, n);
    for ranker in rankers {
        merged.merge(ranker);
    }
    merged.finish_on(threads)
}

/// A batch of canonical keys that a ranking thread can consume: plain
/// strings, or a column of keys straight from the database.
pub trait KeyBatch: Send {
    fn push_into(&self, ranker: &mut Ranker);
}

impl KeyBatch for Vec<String> {
    fn push_into(&self, ranker: &mut Ranker) {
        ranker.push_batch(self);
    }
}

fn worker<B: KeyBatch>(rx: &Mutex<Receiver<B>>, seed: &str, n: usize) -> Ranker {
    let mut ranker = Ranker::new(seed, n);
    loop {
        // A poisoned lock only means another worker panicked while holding
        // it; the receiver itself is still sound.
        let batch = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match batch {
            Ok(batch) => batch.push_into(&mut ranker),
            Err(_) => return ranker,
        }
    }
}

#[cfg(test)]
#[path = "rank_tests.rs"]
mod tests;
