//! SQL functions Quarterdeck adds to its DuckDB instance, registered when a
//! workspace opens, with the state each shares with its callers:
//!
//! - `quarterdeck_draw` (draw.rs): a sample's rank prefix, and the tap of key
//!   digests for the population fingerprint;
//! - `quarterdeck_ascending` (ascending.rs): the ingest's parallel proof that
//!   a key ascends, hence is unique.
//!
//! Their state (open taps, open probes) belongs to the [`Workspace`]'s
//! [`Functions`] and reaches DuckDB as the functions' extra info
//! (`register_scalar_function_with_state`), never as process-wide statics.
//!
//! [`Workspace`]: crate::workspace::Workspace

pub mod ascending;
pub mod draw;
pub mod prefixed_sha256;
mod vector;

use duckdb::Connection;

pub use ascending::{ASCENDING_FUNCTION, Probes};
pub use draw::{DRAW_FUNCTION, DigestBatch, Tap, Taps};

/// The state Quarterdeck's SQL functions share with this process's code,
/// owned by the open workspace.
#[derive(Clone, Default)]
pub struct Functions {
    pub taps: Taps,
    pub probes: Probes,
}

/// Registers Quarterdeck's functions on `conn`'s database; the state they
/// record into is returned for the workspace to own.
pub fn register(conn: &Connection) -> duckdb::Result<Functions> {
    let functions = Functions::default();
    conn.register_scalar_function_with_state::<draw::DrawFunction>(DRAW_FUNCTION, &functions.taps)?;
    conn.register_scalar_function_with_state::<ascending::AscendingFunction>(ASCENDING_FUNCTION, &functions.probes)?;
    Ok(functions)
}
