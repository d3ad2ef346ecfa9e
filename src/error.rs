//! What kind of failure an error is, so that each edge decides what to do
//! with it (the CLI's exit code, the TUI's status line) without knowing every
//! module's error type. Each module's error says its own kind.

/// The kinds of failure, as a person acting on them sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Input the person can fix; nothing changed.
    BadInput,
    /// The workspace cannot be used as asked: missing, locked, newer,
    /// tampered with, or read-only.
    Unusable,
    /// Work stopped before it finished (a timeout, Esc); nothing changed.
    Stopped,
    /// Anything else: the database, the file system, a bug.
    Internal,
}

/// An error that knows its kind.
pub trait Kind {
    fn kind(&self) -> ErrorKind;
}

impl Kind for duckdb::Error {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

impl Kind for std::io::Error {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

impl Kind for serde_json::Error {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

/// Errors that are all of one kind.
macro_rules! kind {
    ($kind:ident: $($t:ty),+ $(,)?) => {
        $(impl $crate::error::Kind for $t {
            fn kind(&self) -> $crate::error::ErrorKind {
                $crate::error::ErrorKind::$kind
            }
        })+
    };
}
pub(crate) use kind;
