//! The few places where the SQL Quarterdeck writes for a warehouse differs
//! by engine. The method is the same everywhere (DESIGN.md): the rank is
//! the lowercase hex sha256 of the UTF-8 bytes of `seed ':' key`, every
//! sort on it is binary, every instant is read in UTC. What differs is how
//! each engine spells those.

use crate::workspace::config::WarehouseKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Trino,
}

impl Dialect {
    pub fn of(kind: WarehouseKind) -> Self {
        match kind {
            WarehouseKind::Postgres => Self::Postgres,
            WarehouseKind::Trino => Self::Trino,
        }
    }

    /// The dialect of a warehouse kind as a refresh records it (`postgres`, `trino`).
    pub fn named(kind: &str) -> Self {
        match kind {
            "trino" => Self::Trino,
            _ => Self::Postgres,
        }
    }

    /// Whether a statement beside the others reads the very rows they read
    /// (PostgreSQL: a second session imports the first one's snapshot;
    /// Trino has no snapshot across statements for most connectors).
    pub fn one_snapshot(self) -> bool {
        matches!(self, Self::Postgres)
    }

    /// The engine's name, for an IPE sheet and for messages.
    pub fn engine(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Trino => "Trino",
        }
    }

    /// Its own client, which re-performs the packet's SQL as-is.
    pub fn client(self) -> &'static str {
        match self {
            Self::Postgres => "psql",
            Self::Trino => "the Trino CLI (trino --execute)",
        }
    }

    /// The lowercase hex sha256 of the UTF-8 bytes of `text`, sorting
    /// byte-wise.
    pub fn sha256_hex(self, text: &str) -> String {
        match self {
            Self::Postgres => format!("{} COLLATE \"C\"", self.sortable_hex(&self.sha256_sortable(text))),
            // Trino compares varchar by code point: byte-wise for hex.
            Self::Trino => format!("lower(to_hex(sha256(to_utf8({text}))))"),
        }
    }

    /// A rank the engine sorts in the order of [`Self::sha256_hex`], as
    /// cheaply as it can: PostgreSQL sorts the 32 bytes themselves (bytea
    /// compares byte-wise, which is the order of their lowercase hex)
    /// instead of encoding and collating 64 characters per row.
    pub fn sha256_sortable(self, text: &str) -> String {
        match self {
            Self::Postgres => format!("sha256(convert_to({text}, 'UTF8'))"),
            Self::Trino => self.sha256_hex(text),
        }
    }

    /// The lowercase hex of a [`Self::sha256_sortable`] rank.
    pub fn sortable_hex(self, rank: &str) -> String {
        match self {
            Self::Postgres => format!("encode({rank}, 'hex')"),
            Self::Trino => rank.to_string(),
        }
    }

    /// Seconds since the epoch of an instant (a timestamp read as UTC), as
    /// a number that may have a fraction.
    pub fn epoch_seconds(self, instant: &str) -> String {
        match self {
            Self::Postgres => format!("extract(epoch FROM {instant})"),
            Self::Trino => format!("to_unixtime({instant})"),
        }
    }

    /// The 15-minute bucket of an instant: seconds since the epoch / 900.
    pub fn bucket(self, instant: &str) -> String {
        format!("CAST(floor({} / 900) AS BIGINT)", self.epoch_seconds(instant))
    }

    /// Text that sorts byte-wise.
    pub fn binary(self, text: &str) -> String {
        match self {
            Self::Postgres => format!("{text} COLLATE \"C\""),
            Self::Trino => text.to_string(),
        }
    }

    /// The lines of `digest`, sorted, joined by newlines (no trailing one):
    /// what the fingerprint hashes.
    pub fn joined_sorted(self, digest: &str) -> String {
        match self {
            Self::Postgres => format!("coalesce(string_agg({digest}, chr(10) ORDER BY {digest}), '')"),
            Self::Trino => format!("coalesce(array_join(array_agg({digest} ORDER BY {digest}), chr(10)), '')"),
        }
    }

    /// A statement compiled there, not run: it fails where the SQL does.
    pub fn explain(self, statement: &str) -> String {
        match self {
            Self::Postgres => format!("EXPLAIN {statement}"),
            Self::Trino => format!("EXPLAIN (TYPE VALIDATE) {statement}"),
        }
    }
}
