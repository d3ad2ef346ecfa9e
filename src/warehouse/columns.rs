//! A warehouse relation's columns: the engine's type of each, the DuckDB
//! type its values are re-rendered as in the workspace, and whether it may
//! be a key column. A key becomes text in both engines (the sample's rank
//! and the population's fingerprint hash that text), so only types whose
//! text is the same in the engine and in DuckDB may be keys.

use serde::{Deserialize, Serialize};

use super::Dialect;

use crate::workspace::sql::{quote_ident, quote_literal};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseColumn {
    pub name: String,
    /// As the engine names it (`\gdesc`): `timestamp without time zone`.
    pub engine_type: String,
    /// What the workspace reads it as: `TIMESTAMP`.
    pub duckdb_type: String,
}

impl WarehouseColumn {
    /// A PostgreSQL column.
    pub fn new(name: &str, engine_type: &str) -> Self {
        Self::of(Dialect::Postgres, name, engine_type)
    }

    /// A column of that engine, as it names its type.
    pub fn of(dialect: Dialect, name: &str, engine_type: &str) -> Self {
        let duckdb_type = match dialect {
            Dialect::Postgres => duckdb_type(engine_type),
            Dialect::Trino => trino_duckdb_type(engine_type),
        };
        Self { name: name.to_string(), engine_type: engine_type.to_string(), duckdb_type }
    }
}

/// Why a column of this type in that engine may not be a key column.
pub fn key_refusal_in(dialect: Dialect, engine_type: &str) -> Option<&'static str> {
    match dialect {
        Dialect::Postgres => key_refusal(engine_type),
        Dialect::Trino => trino_key_refusal(engine_type),
    }
}

/// The `(p)` of `timestamp(p)`, `time(p) …`.
fn precision_of(engine_type: &str) -> Option<u32> {
    engine_type.split_once('(')?.1.split_once(')')?.0.trim().parse().ok()
}

/// The DuckDB type a Trino type's values are read back as (Trino names
/// types like `varchar(20)`, `timestamp(3)`, `decimal(10,2)`, `array(varchar)`).
pub fn trino_duckdb_type(engine_type: &str) -> String {
    let t = engine_type.trim().to_ascii_lowercase();
    let name = t.split(['(', ' ']).next().unwrap_or_default();
    match name {
        "tinyint" => "TINYINT".into(),
        "smallint" => "SMALLINT".into(),
        "integer" | "int" => "INTEGER".into(),
        "bigint" => "BIGINT".into(),
        "boolean" => "BOOLEAN".into(),
        "date" => "DATE".into(),
        "uuid" => "UUID".into(),
        "real" => "FLOAT".into(),
        "double" => "DOUBLE".into(),
        "decimal" => duckdb_type(&t.replacen("decimal", "numeric", 1)),
        "timestamp" if t.contains("with time zone") => "TIMESTAMP WITH TIME ZONE".into(),
        "timestamp" => "TIMESTAMP".into(),
        "time" if !t.contains("with time zone") => "TIME".into(),
        // varchar, char, json, varbinary (base64 in the protocol), arrays,
        // maps, rows, intervals: their text.
        _ => "VARCHAR".into(),
    }
}

/// Why a column of this Trino type may not be a key column (None: it may).
pub fn trino_key_refusal(engine_type: &str) -> Option<&'static str> {
    let t = engine_type.trim().to_ascii_lowercase();
    let name = t.split(['(', ' ']).next().unwrap_or_default();
    match name {
        "varchar" | "tinyint" | "smallint" | "integer" | "int" | "bigint" | "boolean" | "date" | "uuid" => None,
        "timestamp" if t.contains("with time zone") => {
            Some("a timestamp with time zone becomes text with its zone (`… UTC`) in Trino, with an offset in DuckDB")
        }
        "timestamp" if precision_of(&t).unwrap_or(3) > 0 => Some(
            "Trino pads sub-second digits to the type's precision (`12:00:00.000`), DuckDB prints none for a whole second; render it with an explicit expression (format_datetime) in the mapping, or use timestamp(0)",
        ),
        "timestamp" => None,
        "char" => Some("char(n) is padded with spaces to its length"),
        "real" | "double" => Some("a floating-point number becomes text differently (Trino `1.0E2`, DuckDB `100.0`)"),
        "decimal" => Some("a decimal becomes text with each engine's own scale (`100.50` or `100.5`)"),
        "json" => Some("JSON text is not canonical: key order and spacing differ between engines"),
        "varbinary" => {
            Some("varbinary travels as base64 in Trino's protocol and becomes text differently in each engine")
        }
        "time" => Some("Trino pads a time's sub-second digits to its precision"),
        _ => Some("this type has no rendering checked to be the same in Trino and DuckDB"),
    }
}

/// The type name without its modifiers: `numeric(10,2)` → `numeric`,
/// `timestamp(3) without time zone` → `timestamp without time zone`.
fn base(engine_type: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in engine_type.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The DuckDB type a PostgreSQL type's values are read back as.
pub fn duckdb_type(engine_type: &str) -> String {
    let t = engine_type.trim();
    if t.ends_with("[]") {
        return "VARCHAR".into();
    }
    let precision = || -> Option<(u32, u32)> {
        let inner = t.split_once('(')?.1.split_once(')')?.0;
        let (p, s) = inner.split_once(',').unwrap_or((inner, "0"));
        Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
    };
    match base(t).as_str() {
        "smallint" => "SMALLINT".into(),
        "integer" => "INTEGER".into(),
        "bigint" => "BIGINT".into(),
        "boolean" => "BOOLEAN".into(),
        "date" => "DATE".into(),
        "uuid" => "UUID".into(),
        "real" => "FLOAT".into(),
        "double precision" => "DOUBLE".into(),
        "numeric" => match precision() {
            Some((p, s)) if (1..=38).contains(&p) && s <= p => format!("DECIMAL({p},{s})"),
            _ => "DOUBLE".into(),
        },
        "time without time zone" => "TIME".into(),
        other if other.starts_with("timestamp") && other.ends_with("with time zone") && !other.contains("without") => {
            "TIMESTAMP WITH TIME ZONE".into()
        }
        other if other.starts_with("timestamp") => "TIMESTAMP".into(),
        _ => "VARCHAR".into(),
    }
}

/// Why a column of this type may not be a key column (None: it may).
pub fn key_refusal(engine_type: &str) -> Option<&'static str> {
    let t = engine_type.trim();
    if t.ends_with("[]") {
        return Some("an array becomes text differently in each engine");
    }
    let base = base(t);
    let base = base.as_str();
    match base {
        "text"
        | "character varying"
        | "name"
        | "citext"
        | "smallint"
        | "integer"
        | "bigint"
        | "boolean"
        | "date"
        | "uuid"
        | "time without time zone" => None,
        "character" => Some("character(n) is padded with spaces, which PostgreSQL drops when it renders the key"),
        "real" | "double precision" => {
            Some("a floating-point number becomes text differently (PostgreSQL `100`, DuckDB `100.0`)")
        }
        "numeric" => Some("a decimal becomes text with each engine's own scale (`100.50` or `100.5`)"),
        "json" | "jsonb" => Some("JSON text is not canonical: key order and spacing differ between engines"),
        "bytea" => Some("bytea becomes `\\x…` hex in PostgreSQL and escaped bytes in DuckDB"),
        "interval" => Some("an interval becomes text in each engine's own style"),
        _ if base.starts_with("timestamp") && !base.contains("without") => {
            Some("a TIMESTAMPTZ becomes text in the session's time zone, which each engine sets its own way")
        }
        _ if base.starts_with("timestamp") => None,
        _ => Some("this type has no rendering checked to be the same in PostgreSQL and DuckDB"),
    }
}

/// The workspace's stand-in for a warehouse source: a view with its
/// columns and DuckDB types (so mappings resolve and `check` knows the
/// columns) whose every read fails with a message saying where the rows
/// are. It is never a silent empty table.
pub fn stand_in_sql(source: &str, warehouse: &str, columns: &[WarehouseColumn]) -> String {
    let list = columns
        .iter()
        .map(|c| format!("CAST(NULL AS {}) AS {}", c.duckdb_type, quote_ident(&c.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "source `{source}` stays in warehouse `{warehouse}`: Quarterdeck samples, tests and counts it there; \
         query it with the engine's own client"
    );
    format!(
        "CREATE OR REPLACE VIEW {} AS SELECT {list} FROM (SELECT 1) AS stand_in WHERE error({}) IS NULL",
        quote_ident(source),
        quote_literal(&message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_and_keys_are_refused_with_a_reason() {
        assert_eq!(duckdb_type("timestamp(3) without time zone"), "TIMESTAMP");
        assert!(key_refusal("timestamp(3) without time zone").is_none());
        assert!(key_refusal("timestamp(3) with time zone").is_some());
        assert_eq!(duckdb_type("timestamp with time zone"), "TIMESTAMP WITH TIME ZONE");
        assert_eq!(duckdb_type("numeric(10,2)"), "DECIMAL(10,2)");
        assert_eq!(duckdb_type("numeric"), "DOUBLE");
        assert_eq!(duckdb_type("character varying(20)"), "VARCHAR");
        assert_eq!(duckdb_type("text[]"), "VARCHAR");
        assert!(key_refusal("text").is_none() && key_refusal("timestamp without time zone").is_none());
        assert!(key_refusal("double precision").unwrap().contains("100.0"));
        assert!(key_refusal("timestamp with time zone").unwrap().contains("time zone"));
        assert!(key_refusal("numeric(10,2)").is_some() && key_refusal("jsonb").is_some());
        assert!(key_refusal("integer[]").is_some() && key_refusal("tsvector").is_some());
    }

    #[test]
    fn trino_types_map_and_keys_are_refused_with_a_reason() {
        let of = |t: &str| WarehouseColumn::of(Dialect::Trino, "c", t).duckdb_type;
        assert_eq!(of("varchar(20)"), "VARCHAR");
        assert_eq!(of("timestamp(3)"), "TIMESTAMP");
        assert_eq!(of("timestamp(6) with time zone"), "TIMESTAMP WITH TIME ZONE");
        assert_eq!(of("decimal(10,2)"), "DECIMAL(10,2)");
        assert_eq!(of("array(varchar)"), "VARCHAR");
        assert_eq!(of("bigint"), "BIGINT");
        for ok in ["varchar", "varchar(7)", "bigint", "integer", "date", "boolean", "uuid", "timestamp(0)"] {
            assert!(key_refusal_in(Dialect::Trino, ok).is_none(), "{ok}");
        }
        assert!(key_refusal_in(Dialect::Trino, "timestamp(3)").unwrap().contains("pads"));
        assert!(key_refusal_in(Dialect::Trino, "timestamp(3) with time zone").unwrap().contains("zone"));
        for refused in ["double", "real", "decimal(10,2)", "char(3)", "json", "varbinary", "map(varchar, bigint)"] {
            assert!(key_refusal_in(Dialect::Trino, refused).is_some(), "{refused}");
        }
        // PostgreSQL's rules are unchanged under their own name.
        assert_eq!(key_refusal_in(Dialect::Postgres, "text"), None);
    }

    #[test]
    fn the_stand_in_describes_but_never_reads() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let columns =
            [WarehouseColumn::new("commit", "text"), WarehouseColumn::new("at", "timestamp without time zone")];
        conn.execute_batch(&stand_in_sql("commits", "pg", &columns)).unwrap();
        let described = crate::workspace::population::describe(&conn, "SELECT * FROM commits").unwrap();
        assert_eq!(described, vec![("commit".into(), "VARCHAR".into()), ("at".into(), "TIMESTAMP".into())]);
        let err = conn.query_row("SELECT count(*) FROM commits", [], |r| r.get::<_, i64>(0)).unwrap_err();
        assert!(err.to_string().contains("stays in warehouse `pg`"), "{err}");
    }
}
