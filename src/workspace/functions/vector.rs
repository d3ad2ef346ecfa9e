//! Reading DuckDB's vectors in place from a scalar function: a flat column
//! with its validity mask, and the bytes of a `string_t`. The FFI of every
//! Quarterdeck SQL function goes through here.

use duckdb::core::DataChunkHandle;
use duckdb::ffi::{self, duckdb_string_t};

/// One input column read in place: its values and validity mask, without
/// a call into DuckDB per row.
pub(crate) struct Column<'a, T> {
    values: &'a [T],
    validity: *const u64,
}

impl<'a, T> Column<'a, T> {
    /// # Safety
    /// Column `index` of `chunk` is a flat vector of `T` with at least `len` rows.
    #[inline]
    pub(crate) unsafe fn of(chunk: &'a DataChunkHandle, index: usize, len: usize) -> Self {
        unsafe {
            let vector = ffi::duckdb_data_chunk_get_vector(chunk.get_ptr(), index as u64);
            let values = std::slice::from_raw_parts(ffi::duckdb_vector_get_data(vector).cast::<T>(), len);
            Self { values, validity: ffi::duckdb_vector_get_validity(vector) }
        }
    }

    /// Row `i`'s value, None when NULL.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&'a T> {
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
#[inline]
pub(crate) fn string_bytes(s: &duckdb_string_t) -> &[u8] {
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
