//! `quarterdeck_draw(tap UBIGINT, seed VARCHAR, key VARCHAR) → UBIGINT`,
//! the sampling draw's inner loop, run by DuckDB on its own worker threads
//! over its own vectors (no key leaves DuckDB):
//!
//! - it returns the leading 64 bits (big-endian) of sha256(seed ":" key),
//!   the prefix of the sample rank, so that DuckDB's parallel top-N can pick
//!   the candidates (the caller settles the exact order on full digests);
//! - when `tap` names an open [`Tap`], it also records sha256(key) of every
//!   row it is called for, which the caller sorts into the population
//!   fingerprint.
//!
//! An empty seed ranks nothing (0 for every row) and only taps: the
//! recount `verify --packet` makes of a frozen population's fingerprint.
//! (Sample seeds are 64 hex digits, never empty.)
//!
//! A NULL key counts as the empty string (the key rule renders NULL as '');
//! a NULL seed gives NULL, and so does a NULL literal anywhere (DuckDB folds
//! it); a NULL tap, 0 or an unknown id only ranks. The function is
//! volatile, so DuckDB neither folds nor reuses its results; the draw still
//! checks that it saw every row once (tapped count = population count).

use std::collections::HashMap;
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use duckdb::core::{DataChunkHandle, LogicalTypeId};
use duckdb::ffi::duckdb_string_t;
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;

use super::prefixed_sha256::{Digest32, Prefix};
use super::vector::{Column, string_bytes};

/// The draw function's name in SQL.
pub const DRAW_FUNCTION: &str = "quarterdeck_draw";

/// A tap's digests, one batch per call (a DuckDB vector's worth of rows).
type Digests = Arc<Mutex<Vec<DigestBatch>>>;

/// Key digests of one call, ordered by their first byte: bucket `b` (those
/// that start with byte `b`) is one slice, so the fingerprint can gather a
/// bucket from every batch without another pass over all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestBatch {
    digests: Vec<Digest32>,
    /// `digests[starts[b]..starts[b + 1]]` is bucket `b`.
    starts: [u32; 257],
}

impl DigestBatch {
    /// Orders `digests` by first byte (a counting sort).
    pub fn new(digests: &[Digest32]) -> Self {
        let mut starts = [0u32; 257];
        for digest in digests {
            starts[usize::from(digest[0]) + 1] += 1;
        }
        for b in 0..256 {
            starts[b + 1] += starts[b];
        }
        let mut next = starts;
        let mut ordered = vec![[0u8; 32]; digests.len()];
        for digest in digests {
            let at = &mut next[usize::from(digest[0])];
            ordered[*at as usize] = *digest;
            *at += 1;
        }
        Self { digests: ordered, starts }
    }

    /// The digests that start with byte `b`.
    pub fn bucket(&self, b: u8) -> &[Digest32] {
        let b = usize::from(b);
        &self.digests[self.starts[b] as usize..self.starts[b + 1] as usize]
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}

/// The open taps of one workspace's database, by id. The workspace owns it
/// and hands a clone to DuckDB with the function, so that concurrent draws
/// (tests open many workspaces in one process) never see each other's rows
/// and nothing lives in process-wide state. Ids are never reused.
#[derive(Clone, Default)]
pub struct Taps {
    open: Arc<Mutex<HashMap<u64, Digests>>>,
    last_id: Arc<AtomicU64>,
}

impl Taps {
    /// A new tap: `quarterdeck_draw` called with its id records into it.
    pub fn open(&self) -> Tap {
        // Starts at 1: id 0 never names a tap.
        let id = self.last_id.fetch_add(1, Ordering::Relaxed) + 1;
        let digests = Digests::default();
        self.lock().insert(id, Arc::clone(&digests));
        Tap { id, digests, taps: self.clone() }
    }

    fn get(&self, id: u64) -> Option<Digests> {
        self.lock().get(&id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Digests>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Collects sha256(key) of every row `quarterdeck_draw` ranks under its id,
/// until taken or dropped.
pub struct Tap {
    id: u64,
    digests: Digests,
    taps: Taps,
}

impl Tap {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Closes the tap and returns the digests it collected, in batches, in
    /// no order.
    pub fn take(self) -> Vec<DigestBatch> {
        self.taps.lock().remove(&self.id);
        std::mem::take(&mut *self.digests.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.taps.lock().remove(&self.id);
    }
}

pub(super) struct DrawFunction;

impl VScalar for DrawFunction {
    type State = Taps;

    fn invoke(taps: &Taps, input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> Result<(), Box<dyn Error>> {
        draw_rows(taps, input, output);
        Ok(())
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![LogicalTypeId::UBigint.into(), LogicalTypeId::Varchar.into(), LogicalTypeId::Varchar.into()],
            LogicalTypeId::UBigint.into(),
        )]
    }

    fn volatile() -> bool {
        true
    }
}

/// Ranks (and taps) one chunk of rows.
fn draw_rows(taps: &Taps, input: &DataChunkHandle, output: &mut dyn WritableVector) {
    let len = input.len();
    // SAFETY: DuckDB hands us a chunk of three flat vectors of the
    // signature's types (UBIGINT, VARCHAR, VARCHAR) with `len` rows,
    // live for this call; we read only rows below `len`.
    let (tap_ids, seeds, keys) = unsafe {
        (
            Column::<u64>::of(input, 0, len),
            Column::<duckdb_string_t>::of(input, 1, len),
            Column::<duckdb_string_t>::of(input, 2, len),
        )
    };
    let mut out = output.flat_vector();
    let mut nulls = Vec::new();
    let mut tapped: Vec<Digest32> = Vec::new();
    let mut tap: Option<(u64, Option<Digests>)> = None;
    let mut seed: Option<(Vec<u8>, Prefix)> = None;
    {
        // SAFETY: the output vector is UBIGINT with room for `len` rows.
        let ranks = unsafe { out.as_mut_slice_with_len::<u64>(len) };
        for (i, rank) in ranks.iter_mut().enumerate() {
            let Some(seed_bytes) = seeds.get(i).map(string_bytes) else {
                nulls.push(i);
                continue;
            };
            let key = keys.get(i).map_or(&b""[..], string_bytes);
            if seed_bytes.is_empty() {
                // No seed: nothing to rank, only the tap (a recount).
                *rank = 0;
            } else {
                if seed.as_ref().is_none_or(|(bytes, _)| bytes.as_slice() != seed_bytes) {
                    let mut prefix = seed_bytes.to_vec();
                    prefix.push(b':');
                    seed = Some((seed_bytes.to_vec(), Prefix::new(&prefix)));
                }
                let Some((_, prefix)) = &seed else { continue };
                let lead = prefix.digest(key);
                *rank = u64::from_be_bytes([lead[0], lead[1], lead[2], lead[3], lead[4], lead[5], lead[6], lead[7]]);
            }

            let id = tap_ids.get(i).copied().unwrap_or(0);
            if tap.as_ref().is_none_or(|(current, _)| *current != id) {
                flush(tap.as_ref(), &mut tapped);
                tap = Some((id, taps.get(id)));
            }
            if let Some((_, Some(_))) = &tap {
                tapped.push(KEY_HASH.digest(key));
            }
        }
    }
    flush(tap.as_ref(), &mut tapped);
    for i in nulls {
        out.set_null(i);
    }
}

/// sha256 with no prefix, for the key digests.
static KEY_HASH: LazyLock<Prefix> = LazyLock::new(|| Prefix::new(b""));

/// Hands the digests gathered for the current tap to it (one lock per run
/// of rows with the same tap, normally once per vector).
fn flush(tap: Option<&(u64, Option<Digests>)>, tapped: &mut Vec<Digest32>) {
    if let Some((_, Some(digests))) = tap
        && !tapped.is_empty()
    {
        let batch = DigestBatch::new(tapped);
        digests.lock().unwrap_or_else(PoisonError::into_inner).push(batch);
    }
    tapped.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use duckdb::Connection;
    use sha2::{Digest, Sha256};

    fn conn() -> (Connection, Taps) {
        let conn = Connection::open_in_memory().unwrap();
        let functions = super::super::register(&conn).unwrap();
        (conn, functions.taps)
    }

    fn lead(seed: &str, key: &str) -> u64 {
        let d = Sha256::digest(format!("{seed}:{key}").as_bytes());
        u64::from_be_bytes(d[..8].try_into().unwrap())
    }

    #[test]
    fn ranks_and_taps_every_row_once() {
        let (conn, taps) = conn();
        let tap = taps.open();
        let other = taps.open();
        let sql = format!(
            "SELECT k, {DRAW_FUNCTION}({}, 's', k) FROM (SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE 'k' || i END AS k \
             FROM range(10000) t(i)) ORDER BY k NULLS FIRST",
            tap.id()
        );
        let rows: Vec<(Option<String>, u64)> = conn
            .prepare(&sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 10000);
        for (key, rank) in &rows {
            assert_eq!(*rank, lead("s", key.as_deref().unwrap_or("")));
        }
        let batches = tap.take();
        for batch in &batches {
            for b in 0..=255u8 {
                assert!(batch.bucket(b).iter().all(|d| d[0] == b));
            }
        }
        let mut tapped: Vec<Digest32> =
            batches.iter().flat_map(|batch| (0..=255u8).flat_map(|b| batch.bucket(b).to_vec())).collect();
        let mut expected: Vec<Digest32> =
            rows.iter().map(|(k, _)| Sha256::digest(k.as_deref().unwrap_or("").as_bytes()).into()).collect();
        tapped.sort_unstable();
        expected.sort_unstable();
        assert_eq!(tapped, expected);
        assert!(other.take().is_empty(), "a tap sees only its own draw");
    }

    #[test]
    fn null_seed_is_null_and_unknown_tap_is_ignored() {
        let (conn, _taps) = conn();
        let sql = format!(
            "SELECT {DRAW_FUNCTION}(t, s, k) FROM (VALUES (0::UBIGINT, NULL, 'x', 1), (NULL, 'x', 'y', 2), \
             (987654321, 'x', 'y', 3)) AS v(t, s, k, i) ORDER BY i"
        );
        let leads: Vec<Option<u64>> =
            conn.prepare(&sql).unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(leads, [None, Some(lead("x", "y")), Some(lead("x", "y"))]);
    }

    #[test]
    fn each_database_has_its_own_taps() {
        let (a, taps_a) = conn();
        let (b, taps_b) = conn();
        let (tap_a, tap_b) = (taps_a.open(), taps_b.open());
        // Both databases number their taps from 1: the same id, two taps.
        assert_eq!(tap_a.id(), tap_b.id());
        let sql = format!("SELECT count({DRAW_FUNCTION}({}, 's', 'k' || i)) FROM range(5000) t(i)", tap_a.id());
        let counted: u64 = a.query_row(&sql, [], |r| r.get(0)).unwrap();
        assert_eq!(counted, 5000);
        assert_eq!(tap_a.take().iter().map(DigestBatch::len).sum::<usize>(), 5000);
        assert!(tap_b.take().is_empty(), "a draw in one database taps nothing in another");
        drop(b);
    }
}
