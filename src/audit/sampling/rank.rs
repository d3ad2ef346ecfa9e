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

use super::fingerprint::{self, Fingerprint};
use crate::workspace::functions::DigestBatch;
use crate::workspace::functions::prefixed_sha256::{Digest32, Prefix};

pub use super::fingerprint::SHOWN_DUPLICATES;

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

/// The hash state after `seed ":"`, for every key.
fn seed_prefix(seed: &str) -> Prefix {
    Prefix::new(format!("{seed}:").as_bytes())
}

fn rank_digest(prefix: &Prefix, key: &str) -> Digest32 {
    prefix.digest(key.as_bytes())
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
    prefix: Prefix,
    /// sha256 with nothing before the key.
    plain: Prefix,
    n: usize,
    /// Max-heap on (rank, key): the root is the worst of the kept ranks.
    heap: BinaryHeap<(Digest32, String)>,
    digests: Vec<Digest32>,
}

impl Ranker {
    pub fn new(seed: &str, n: usize) -> Self {
        Self {
            prefix: seed_prefix(seed),
            plain: Prefix::new(b""),
            n,
            heap: BinaryHeap::with_capacity(n.min(1 << 16)),
            digests: Vec::new(),
        }
    }

    /// Adds one row. Allocates only when the key enters the heap (and when
    /// the digest vector grows).
    pub fn push(&mut self, key: &str) {
        let rank = rank_digest(&self.prefix, key);
        self.digests.push(self.plain.digest(key.as_bytes()));
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
    fn finish_on(self, threads: usize) -> Ranking {
        let selected = self
            .heap
            .into_sorted_vec()
            .into_iter()
            .map(|(rank, key)| Ranked { key, rank: hex::encode(rank) })
            .collect();
        Ranking::from_parts(selected, self.digests, threads)
    }
}

impl Ranking {
    /// The ranking of a population whose sample is already `selected` (in
    /// ascending rank) and whose key digests (sha256(key) of every row, in
    /// any order) are `digests`.
    pub fn from_parts(selected: Vec<Ranked>, mut digests: Vec<Digest32>, threads: usize) -> Ranking {
        Self::with(selected, fingerprint::of_digests(&mut digests, threads))
    }

    /// [`Ranking::from_parts`] with the digests in tapped batches.
    pub fn from_batches(selected: Vec<Ranked>, batches: &[DigestBatch], threads: usize) -> Ranking {
        Self::with(selected, fingerprint::of_batches(batches, threads))
    }

    fn with(selected: Vec<Ranked>, print: Fingerprint) -> Ranking {
        Ranking {
            selected,
            population: print.population,
            fingerprint: print.hex,
            duplicate_keys: print.duplicate_keys,
            duplicate_count: print.duplicate_count,
        }
    }
}

/// Settles the sample from the candidates a database picked by the leading
/// 64 bits of the rank: `candidates` are the `n + 1` (or, for a smaller
/// population, all) rows with the smallest leads, as (key, lead).
///
/// Ordering by the full rank refines ordering by its lead, so the `n`
/// smallest leads are the `n` smallest ranks unless the `n`-th and the
/// `n + 1`-th lead are equal; then rows beyond the candidates may tie at
/// the cut and `None` says so (the caller ranks every key instead).
pub fn select_candidates(seed: &str, n: usize, mut candidates: Vec<(String, u64)>) -> Option<Vec<Ranked>> {
    candidates.sort_unstable_by_key(|(_, lead)| *lead);
    if candidates.len() > n {
        if n > 0 && candidates[n - 1].1 == candidates[n].1 {
            return None;
        }
        candidates.truncate(n);
    }
    let prefix = seed_prefix(seed);
    let mut ranked: Vec<(Digest32, String)> =
        candidates.into_iter().map(|(key, _)| (rank_digest(&prefix, &key), key)).collect();
    ranked.sort_unstable();
    Some(ranked.into_iter().map(|(rank, key)| Ranked { key, rank: hex::encode(rank) }).collect())
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
