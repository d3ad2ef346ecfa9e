//! How far long work has got, told without knowing who listens: the domain
//! (demo generation, ingest, starting an audit) calls a `Progress`, and each
//! edge decides what to show — a bar on a terminal's stderr, nothing in a pipe.

/// Told as long work moves on.
pub trait Progress {
    /// Now doing `what`, with `done` of `total` steps finished.
    fn step(&self, what: &str, done: u64, total: u64);
}

/// Nobody is listening.
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _what: &str, _done: u64, _total: u64) {}
}
