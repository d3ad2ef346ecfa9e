//! SQL functions Quarterdeck adds to its DuckDB instance, registered when a
//! workspace opens: `quarterdeck_draw` (here) and `quarterdeck_ascending`
//! (ascending.rs, the ingest's parallel proof of unique keys).
//!
//! `quarterdeck_draw(tap UBIGINT, seed VARCHAR, key VARCHAR) → UBIGINT`
//! is the sampling draw's inner loop, run by DuckDB on its own worker
//! threads over its own vectors (no key leaves DuckDB):
//!
//! - it returns the leading 64 bits (big-endian) of sha256(seed ":" key),
//!   the prefix of the sample rank, so that DuckDB's parallel top-N can pick
//!   the candidates (the caller settles the exact order on full digests);
//! - when `tap` names an open [`Tap`], it also records sha256(key) of every
//!   row it is called for, which the caller sorts into the population
//!   fingerprint.
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

use duckdb::Connection;
use duckdb::core::{DataChunkHandle, LogicalTypeId};
use duckdb::ffi::{self, duckdb_string_t};
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;

use super::prefixed_sha256::{Digest32, Prefix};

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

/// Open taps by id. Ids are never reused, so concurrent draws (tests open
/// many workspaces in one process) never see each other's rows.
static TAPS: LazyLock<Mutex<HashMap<u64, Digests>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// Starts at 1: id 0 never names a tap.
static NEXT_TAP: AtomicU64 = AtomicU64::new(1);

fn taps() -> std::sync::MutexGuard<'static, HashMap<u64, Digests>> {
    // A panic while holding the lock cannot leave the map inconsistent.
    TAPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Collects sha256(key) of every row `quarterdeck_draw` ranks under its id,
/// until taken or dropped.
pub struct Tap {
    id: u64,
    digests: Digests,
}

impl Tap {
    pub fn open() -> Self {
        let id = NEXT_TAP.fetch_add(1, Ordering::Relaxed);
        let digests = Digests::default();
        taps().insert(id, Arc::clone(&digests));
        Self { id, digests }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// Closes the tap and returns the digests it collected, in batches, in
    /// no order.
    pub fn take(self) -> Vec<DigestBatch> {
        taps().remove(&self.id);
        std::mem::take(&mut *self.digests.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        taps().remove(&self.id);
    }
}

/// Registers Quarterdeck's functions on `conn`'s database.
pub fn register(conn: &Connection) -> duckdb::Result<()> {
    conn.register_scalar_function::<DrawFunction>(DRAW_FUNCTION)?;
    super::ascending::register(conn)
}

struct DrawFunction;

impl VScalar for DrawFunction {
    type State = ();

    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> Result<(), Box<dyn Error>> {
        draw_rows(input, output);
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
fn draw_rows(input: &DataChunkHandle, output: &mut dyn WritableVector) {
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
            if seed.as_ref().is_none_or(|(bytes, _)| bytes.as_slice() != seed_bytes) {
                let mut prefix = seed_bytes.to_vec();
                prefix.push(b':');
                seed = Some((seed_bytes.to_vec(), Prefix::new(&prefix)));
            }
            let Some((_, prefix)) = &seed else { continue };
            let key = keys.get(i).map_or(&b""[..], string_bytes);
            let lead = prefix.digest(key);
            *rank = u64::from_be_bytes([lead[0], lead[1], lead[2], lead[3], lead[4], lead[5], lead[6], lead[7]]);

            let id = tap_ids.get(i).copied().unwrap_or(0);
            if tap.as_ref().is_none_or(|(current, _)| *current != id) {
                flush(tap.as_ref(), &mut tapped);
                tap = Some((id, taps().get(&id).cloned()));
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

/// One input column read in place: its values and validity mask, without
/// a call into DuckDB per row.
pub(super) struct Column<'a, T> {
    values: &'a [T],
    validity: *const u64,
}

impl<'a, T> Column<'a, T> {
    /// # Safety
    /// Column `index` of `chunk` is a flat vector of `T` with at least `len` rows.
    pub(super) unsafe fn of(chunk: &'a DataChunkHandle, index: usize, len: usize) -> Self {
        unsafe {
            let vector = ffi::duckdb_data_chunk_get_vector(chunk.get_ptr(), index as u64);
            let values = std::slice::from_raw_parts(ffi::duckdb_vector_get_data(vector).cast::<T>(), len);
            Self { values, validity: ffi::duckdb_vector_get_validity(vector) }
        }
    }

    /// Row `i`'s value, None when NULL.
    pub(super) fn get(&self, i: usize) -> Option<&'a T> {
        let valid = self.validity.is_null() || {
            // SAFETY: a non-null mask has a bit for every row of the vector.
            let word = unsafe { *self.validity.add(i / 64) };
            word >> (i % 64) & 1 == 1
        };
        if valid { self.values.get(i) } else { None }
    }
}

/// The bytes of a DuckDB string: inside the struct up to 12 bytes, behind
/// its pointer beyond (DuckDB's `string_t` layout, as `duckdb_string_t_data`
/// reads it).
pub(super) fn string_bytes(s: &duckdb_string_t) -> &[u8] {
    // SAFETY: both union variants start with the length; the variant in use
    // follows from it, and the data lives as long as the vector holding `s`.
    unsafe {
        let len = s.value.inlined.length as usize;
        if len <= 12 {
            std::slice::from_raw_parts(s.value.inlined.inlined.as_ptr().cast::<u8>(), len)
        } else {
            std::slice::from_raw_parts(s.value.pointer.ptr.cast::<u8>().cast_const(), len)
        }
    }
}

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
    use sha2::{Digest, Sha256};

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn
    }

    fn lead(seed: &str, key: &str) -> u64 {
        let d = Sha256::digest(format!("{seed}:{key}").as_bytes());
        u64::from_be_bytes(d[..8].try_into().unwrap())
    }

    #[test]
    fn ranks_and_taps_every_row_once() {
        let conn = conn();
        let tap = Tap::open();
        let other = Tap::open();
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
        let conn = conn();
        let sql = format!(
            "SELECT {DRAW_FUNCTION}(t, s, k) FROM (VALUES (0::UBIGINT, NULL, 'x', 1), (NULL, 'x', 'y', 2), \
             (987654321, 'x', 'y', 3)) AS v(t, s, k, i) ORDER BY i"
        );
        let leads: Vec<Option<u64>> =
            conn.prepare(&sql).unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(leads, [None, Some(lead("x", "y")), Some(lead("x", "y"))]);
    }
}
