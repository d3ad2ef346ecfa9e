//! Every DuckDB type renders, faithfully and without a panic, through the
//! query path and every output format; random values of each type too.
// Test code only: included from its mod.rs under #[cfg(test)].

use super::*;
use crate::workspace::query::run_select;

fn conn() -> duckdb::Connection {
    duckdb::Connection::open_in_memory().unwrap()
}

fn one(sql: &str) -> Json {
    let c = conn();
    let sql = readable_sql(&c, sql).unwrap();
    let result = run_select(&c, &sql, None).unwrap();
    result.rows[0][0].clone()
}

#[test]
fn every_type_renders_as_duckdb_prints_it() {
    let cases: &[(&str, Json)] = &[
        ("SELECT NULL", Json::Null),
        ("SELECT NULL::INTEGER", Json::Null),
        ("SELECT true", json!(true)),
        ("SELECT 42::TINYINT", json!(42)),
        ("SELECT 170141183460469231731687303715884105727::HUGEINT", json!("170141183460469231731687303715884105727")),
        ("SELECT 1.5::DOUBLE", json!(1.5)),
        ("SELECT 'nan'::DOUBLE", json!("nan")),
        ("SELECT 'inf'::DOUBLE", json!("inf")),
        ("SELECT '-inf'::FLOAT", json!("-inf")),
        ("SELECT 12.340::DECIMAL(6,3)", json!("12.340")),
        ("SELECT 'a\u{1b}b'", json!("a\u{1b}b")),
        ("SELECT DATE '2026-02-28'", json!("2026-02-28")),
        ("SELECT TIMESTAMP '2026-12-31 23:59:59.5'", json!("2026-12-31 23:59:59.500")),
        ("SELECT TIME '04:05:06.25'", json!("04:05:06.25")),
        ("SELECT INTERVAL '1 year 2 months 3 days 04:05:06'", json!("1 year 2 months 3 days 04:05:06")),
        ("SELECT MAP {'a': 1, 'b': 2}", json!("{a=1, b=2}")),
        ("SELECT union_value(num := 2)::UNION(num INTEGER, str VARCHAR)", json!("2")),
        ("SELECT '0101'::BIT", json!("0101")),
        ("SELECT TIMETZ '12:00:00+01'", json!("12:00:00+01")),
        ("SELECT [1, NULL, 3]", json!([1, null, 3])),
        ("SELECT ['x']::VARCHAR[]", json!(["x"])),
        ("SELECT {'a': INTERVAL 1 DAY}", json!("{'a': 1 day}")),
        ("SELECT 'x'::BLOB", json!("78")),
        ("SELECT 'ok'::ENUM('ok', 'bad')", json!("ok")),
        ("SELECT TIMESTAMPTZ '2026-03-29 01:30:00+00'", Json::String(String::new())),
    ];
    for (sql, expected) in cases {
        let got = one(sql);
        if expected == &Json::String(String::new()) {
            assert!(got.as_str().is_some_and(|s| s.starts_with("2026-03-29")), "{sql}: {got}");
        } else {
            assert_eq!(&got, expected, "{sql}");
        }
    }
}

#[test]
fn intervals_read_natively_print_like_duckdb() {
    assert_eq!(interval_text(14, 3, 4 * 3_600_000_000_000 + 500_000_000), "1 year 2 months 3 days 04:00:00.5");
    assert_eq!(interval_text(0, 0, 0), "00:00:00");
    assert_eq!(interval_text(0, -1, -1_000_000_000), "-1 day -00:00:01");
}

/// A tiny deterministic generator: the property test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn random_values_of_every_type_render_through_every_format() {
    use crate::cli::output::Listing;
    let types = [
        "BOOLEAN",
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL(18,4)",
        "VARCHAR",
        "DATE",
        "TIMESTAMP",
        "TIMESTAMPTZ",
        "TIME",
        "TIMETZ",
        "INTERVAL",
        "BLOB",
        "UUID",
        "BIT",
        "INTEGER[]",
        "VARCHAR[2]",
        "STRUCT(a DOUBLE, b VARCHAR)",
        "MAP(VARCHAR, INTEGER)",
        "UNION(i INTEGER, s VARCHAR)",
        "\"NULL\"",
    ];
    let c = conn();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..40 {
        let columns: Vec<String> = (0..6)
            .map(|i| {
                let kind = rng.pick(&types);
                // DuckDB's own random source, seeded, cast to the type.
                let seed = rng.next() % 1000;
                let expr = match kind {
                    "\"NULL\"" => "NULL".to_string(),
                    "BIT" => format!("'{:b}'::BIT", seed + 1),
                    "UUID" => "'4ac7a9e9-607c-4c8a-84f3-843f0191e3fd'::UUID".to_string(),
                    "INTEGER[]" => format!("[{seed}, NULL, -{seed}]"),
                    "VARCHAR[2]" => format!("['a\u{1b}[31m', '{seed}']::VARCHAR[2]"),
                    "STRUCT(a DOUBLE, b VARCHAR)" => format!("{{'a': {seed} / 7, 'b': 'x\u{202e}'}}"),
                    "MAP(VARCHAR, INTEGER)" => format!("MAP {{'k{seed}': {seed}}}"),
                    "UNION(i INTEGER, s VARCHAR)" => format!("union_value(i := {seed})::UNION(i INTEGER, s VARCHAR)"),
                    "BOOLEAN" => format!("{seed} % 2 = 0"),
                    "DATE" | "TIMESTAMP" | "TIMESTAMPTZ" => {
                        format!("(TIMESTAMP '1970-01-01' + INTERVAL {} DAY)::{kind}", seed * 97)
                    }
                    "TIME" | "TIMETZ" => format!("TIME '00:00:00' + INTERVAL {seed} MINUTE"),
                    "INTERVAL" => format!("INTERVAL {seed} MINUTE + INTERVAL {} MONTH", seed % 13),
                    "BLOB" => format!("'\\x{:02x}'::BLOB", seed % 256),
                    "FLOAT" | "DOUBLE" => {
                        ["'nan'", "'inf'", "'-inf'", "0.1", "-0.0"][(seed % 5) as usize].to_string() + "::" + kind
                    }
                    other if other.starts_with('U') => format!("{}::{other}", seed % 100),
                    other => format!("({} - 50)::{other}", seed % 100),
                };
                let expr =
                    if rng.next().is_multiple_of(5) && kind != "\"NULL\"" { format!("NULL::{kind}") } else { expr };
                format!("{expr} AS c{i}")
            })
            .collect();
        let sql = format!("SELECT {}", columns.join(", "));
        let readable = readable_sql(&c, &sql).unwrap_or_else(|e| panic!("round {round}: {sql}: {e}"));
        let result = run_select(&c, &readable, None).unwrap_or_else(|e| panic!("round {round}: {sql}: {e}"));
        let listing =
            Listing { columns: result.columns, rows: result.rows, identifiers: Vec::new(), optional: Vec::new() };
        let (mut json, mut csv, mut table) = (Vec::new(), Vec::new(), Vec::new());
        listing.write_json(&mut json).unwrap();
        listing.write_csv(&mut csv).unwrap();
        listing.write_table(&mut table).unwrap();
        serde_json::from_slice::<Json>(&json).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let shown = String::from_utf8(table).unwrap();
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{202e}'), "{sql}: {shown:?}");
    }
}
